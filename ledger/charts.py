"""Small charts drawn on the server as SVG: no JavaScript, no dependencies, readable in print.

A steering member should read a chart at a glance and a screen-reader user
should get the same facts, so every chart is an ``<svg role="img">`` with a
``<title>`` and a ``<desc>`` that sums it up, and every point or bar carries its
own ``<title>`` with the exact figure. The page shows the table of numbers
beside the chart; the chart never is the only place a number appears.

Series are told apart by colour (the Okabe-Ito palette, which survives the
common kinds of colour blindness and greyscale printing reasonably well) AND
by a dash pattern and marker for lines, a hatch for bars. Charts are sized by
``viewBox`` only, so they scale to their container.

Values are ints, Decimals or decimal strings (never floats in our data; a float
is accepted but read through ``str``); ``None`` is a gap. With
``money_currency`` the values are integer minor units and the axis is
labelled with the same money helper as the tables.
"""

from __future__ import annotations

import hashlib
import math
from collections.abc import Iterable, Sequence
from decimal import ROUND_CEILING, ROUND_FLOOR, ROUND_HALF_EVEN, Decimal, InvalidOperation

from markupsafe import Markup, escape

from ledger.domain.money import minor_digits, to_display_string

Number = int | Decimal | str | float | None

#: Okabe-Ito colours, darkest first, yellow left out (too pale on white paper).
PALETTE = ("#0072B2", "#D55E00", "#009E73", "#CC79A7", "#E69F00", "#56B4E9", "#000000")
#: Stroke dash patterns, one per series (empty = solid).
DASHES = ("", "7 4", "2 3", "9 3 2 3", "4 4", "12 4", "1 2")
#: Marker shapes, one per series.
MARKERS = ("circle", "square", "triangle", "diamond", "cross", "triangle-down", "plus")
REFERENCE_COLOUR = "#333333"

WIDTH = 640
HEIGHT = 300
FONT = 12
_CHAR = 6.6  # approximate width of a character at FONT, for laying out labels


# ---------------------------------------------------------------- numbers and labels

def to_decimal(value: Number) -> Decimal | None:
    """Read a value as an exact Decimal; None (a gap) stays None, garbage becomes a gap too."""
    if value is None or isinstance(value, bool):
        return None
    if isinstance(value, Decimal):
        return value if value.is_finite() else None
    if isinstance(value, float):
        if not math.isfinite(value):
            return None
        value = str(value)
    try:
        result = Decimal(value)
    except (InvalidOperation, TypeError, ValueError):
        return None
    return result if result.is_finite() else None


def nice_step(span: Decimal, count: int = 5) -> Decimal:
    """The 1, 2 or 5 x 10^n step that cuts ``span`` into about ``count`` intervals."""
    if span <= 0:
        return Decimal(1)
    raw = span / count
    exponent = raw.adjusted()
    base = Decimal(1).scaleb(exponent)
    for factor in (1, 2, 5, 10):
        step = base * factor
        if step >= raw:
            return step
    return base * 10  # pragma: no cover - the loop always returns


def nice_ticks(low: Decimal, high: Decimal, count: int = 5) -> list[Decimal]:
    """Ticks on round numbers covering [low, high] and always zero, so bars and balances have a baseline."""
    low, high = min(low, Decimal(0)), max(high, Decimal(0))
    if low == high:
        high = low + 1
    step = nice_step(high - low, count)
    start = (low / step).to_integral_value(rounding=ROUND_FLOOR) * step
    stop = (high / step).to_integral_value(rounding=ROUND_CEILING) * step
    ticks = []
    tick = start
    while tick <= stop:
        ticks.append(tick)
        tick += step
    return ticks


def plain_number(value: Decimal) -> str:
    """1234.5 -> "1,234.5"; no exponent notation, no trailing zeros."""
    if value == 0:
        return "0"
    return format(value.normalize(), ",f")


class _Format:
    """How values of one chart are written on the axis and in the tooltips."""

    def __init__(self, unit: str = "", money_currency: str | None = None, percent: bool = False) -> None:
        self.unit = unit
        self.currency = money_currency
        self.percent = percent
        self.digits = minor_digits(money_currency) if money_currency else 0

    def scale(self, value: Decimal) -> Decimal:
        """The value on the axis: minor units become major units so ticks fall on round amounts."""
        return value.scaleb(-self.digits) if self.currency else value

    def axis(self, tick: Decimal) -> str:
        if self.currency:
            return _money(int(tick.scaleb(self.digits)), self.currency, compact=True)
        if self.percent:
            return plain_number(tick * 100) + "%"
        return plain_number(tick) + (f" {self.unit}" if self.unit else "")

    def exact(self, value: Decimal | None) -> str:
        if value is None:
            return "no value"
        if self.currency:
            return _money(int(value), self.currency)
        if self.percent:
            return plain_number((value * 100).quantize(Decimal("0.01"), ROUND_HALF_EVEN)) + "%"
        return plain_number(value) + (f" {self.unit}" if self.unit else "")


def _money(cents: int, currency: str, compact: bool = False) -> str:
    """The project's money display (Babel, configured locale) when in a request, a plain fallback otherwise."""
    try:
        from flask import has_app_context

        if has_app_context():
            from ledger.web.formatting import money

            text = money(cents, currency)
        else:
            text = to_display_string(cents, currency)
    except Exception:  # pragma: no cover - formatting must never break a page
        text = to_display_string(cents, currency)
    if compact and cents % (10 ** minor_digits(currency)) == 0 and minor_digits(currency):
        # Axis ticks are round amounts: "€10,000" reads faster than "€10,000.00".
        for sep in (".", ","):
            zeros = sep + "0" * minor_digits(currency)
            if zeros in text:
                head, _, tail = text.rpartition(zeros)
                if not any(ch.isdigit() for ch in tail):
                    return head + tail
    return text


# ---------------------------------------------------------------- SVG pieces

def _num(value: float) -> str:
    """A coordinate with at most 1 decimal, so the SVG stays small and stable."""
    text = f"{value:.1f}"
    return text[:-2] if text.endswith(".0") else text


def _chart_id(kind: str, *parts: object) -> str:
    digest = hashlib.sha256(repr((kind, parts)).encode()).hexdigest()[:10]
    return f"chart-{kind}-{digest}"


def _open(chart_id: str, title: str, desc: str, width: int, height: int, css_class: str) -> list[str]:
    return [
        f'<svg xmlns="http://www.w3.org/2000/svg" class="chart {css_class}" role="img" '
        f'viewBox="0 0 {width} {height}" preserveAspectRatio="xMidYMid meet" '
        f'aria-labelledby="{chart_id}-title {chart_id}-desc" font-family="system-ui, sans-serif" '
        f'font-size="{FONT}">',
        f'<title id="{chart_id}-title">{escape(title)}</title>',
        f'<desc id="{chart_id}-desc">{escape(desc)}</desc>',
        f'<rect x="0" y="0" width="{width}" height="{height}" fill="#ffffff"/>',
    ]


def _marker(shape: str, x: float, y: float, colour: str, size: float = 4.0) -> str:
    cx, cy, s = _num(x), _num(y), size
    if shape == "circle":
        return f'<circle cx="{cx}" cy="{cy}" r="{_num(s)}" fill="{colour}"/>'
    if shape == "square":
        side = _num(2 * s)
        return f'<rect x="{_num(x - s)}" y="{_num(y - s)}" width="{side}" height="{side}" fill="{colour}"/>'
    polygons = {
        "triangle": ((0, -1.2), (1.1, 0.8), (-1.1, 0.8)),
        "triangle-down": ((0, 1.2), (1.1, -0.8), (-1.1, -0.8)),
        "diamond": ((0, -1.3), (1.3, 0), (0, 1.3), (-1.3, 0)),
    }
    if shape in polygons:
        pts = " ".join(f"{_num(x + dx * s)},{_num(y + dy * s)}" for dx, dy in polygons[shape])
        return f'<polygon points="{pts}" fill="{colour}"/>'
    if shape == "cross":
        return (f'<path d="M{_num(x - s)} {_num(y - s)}L{_num(x + s)} {_num(y + s)}M{_num(x - s)} {_num(y + s)}'
                f'L{_num(x + s)} {_num(y - s)}" stroke="{colour}" stroke-width="2.2" fill="none"/>')
    return (f'<path d="M{_num(x - s)} {cy}H{_num(x + s)}M{cx} {_num(y - s)}V{_num(y + s)}" '
            f'stroke="{colour}" stroke-width="2.2" fill="none"/>')


def _legend(items: Sequence[tuple[str, str]], y: float, left: float, width: float) -> tuple[list[str], float]:
    """Legend entries (name, sample SVG drawn at the origin) laid out in rows; returns the parts and its height."""
    parts: list[str] = []
    x, row = left, 0
    for name, sample in items:
        label = name if len(name) <= 40 else name[:39] + "\u2026"
        entry_width = 34 + len(label) * _CHAR + 16
        if x > left and x + entry_width > left + width:
            x, row = left, row + 1
        ty = y + row * 18
        parts.append(f'<g transform="translate({_num(x)} {_num(ty)})">{sample}'
                     f'<text x="32" y="4" fill="#1d2330">{escape(label)}</text></g>')
        x += entry_width
    return parts, (row + 1) * 18 if items else 0


def _line_sample(colour: str, dash: str, marker: str | None) -> str:
    dash_attr = f' stroke-dasharray="{dash}"' if dash else ""
    mark = _marker(marker, 13, 0, colour, 3.5) if marker else ""
    return f'<path d="M0 0H26" stroke="{colour}" stroke-width="2.5"{dash_attr} fill="none"/>{mark}'


def _hatch_defs(chart_id: str, count: int) -> list[str]:
    """One fill per series: plain colour for the first, then colour with a white hatch, so greyscale still tells."""
    hatches = ("", '<path d="M0 8L8 0" stroke="#fff" stroke-width="1.6"/>',
               '<circle cx="4" cy="4" r="1.5" fill="#fff"/>',
               '<path d="M0 4H8" stroke="#fff" stroke-width="1.6"/>',
               '<path d="M0 0L8 8M0 8L8 0" stroke="#fff" stroke-width="1.2"/>',
               '<path d="M4 0V8" stroke="#fff" stroke-width="1.6"/>',
               '<path d="M0 0L8 8" stroke="#fff" stroke-width="1.6"/>')
    parts = ["<defs>"]
    for index in range(count):
        colour = PALETTE[index % len(PALETTE)]
        hatch = hatches[index % len(hatches)]
        parts.append(f'<pattern id="{chart_id}-fill{index}" width="8" height="8" patternUnits="userSpaceOnUse">'
                     f'<rect width="8" height="8" fill="{colour}"/>{hatch}</pattern>')
    parts.append("</defs>")
    return parts


class _Scale:
    """Maps axis values to y pixels."""

    def __init__(self, ticks: list[Decimal], top: float, bottom: float) -> None:
        self.low, self.high = ticks[0], ticks[-1]
        self.top, self.bottom = top, bottom

    def y(self, value: Decimal) -> float:
        span = self.high - self.low
        if span == 0:  # pragma: no cover - nice_ticks never gives a zero span
            return self.bottom
        return self.bottom - float((value - self.low) / span) * (self.bottom - self.top)


def _axis(ticks: list[Decimal], scale: _Scale, fmt: _Format, left: float, right: float) -> list[str]:
    parts = []
    for tick in ticks:
        y = _num(scale.y(tick))
        strong = tick == 0
        parts.append(f'<path d="M{_num(left)} {y}H{_num(right)}" stroke="{"#5d6675" if strong else "#d9dde4"}" '
                     f'stroke-width="{1.4 if strong else 1}"/>')
        parts.append(f'<text x="{_num(left - 6)}" y="{y}" dy="0.32em" text-anchor="end" fill="#5d6675">'
                     f'{escape(fmt.axis(tick))}</text>')
    return parts


def _x_labels(labels: Sequence[str], xs: Sequence[float], y: float) -> list[str]:
    """Category labels under the plot, thinned so they never overlap."""
    if not labels:
        return []
    longest = max(len(label) for label in labels) * _CHAR + 8
    spacing = (xs[1] - xs[0]) if len(xs) > 1 else longest
    every = max(1, math.ceil(longest / spacing)) if spacing > 0 else 1
    last = len(labels) - 1
    shown = list(range(0, len(labels), every))
    if shown[-1] != last:  # the last label matters most (the latest month): show it, dropping a crowded neighbour
        if last - shown[-1] < every and len(shown) > 1:
            shown.pop()
        shown.append(last)
    parts = []
    for index in shown:
        label, x = labels[index], xs[index]
        half = len(label) * _CHAR / 2
        if x + half > WIDTH - 2:  # a long last label ("January 2021") would run off the right edge
            x, anchor = WIDTH - 2, "end"
        elif x - half < 2:
            x, anchor = 2, "start"
        else:
            anchor = "middle"
        parts.append(f'<text x="{_num(x)}" y="{_num(y)}" text-anchor="{anchor}" fill="#5d6675">{escape(label)}</text>')
    return parts


def _left_margin(ticks: list[Decimal], fmt: _Format) -> float:
    return max(len(fmt.axis(tick)) for tick in ticks) * _CHAR + 14


def _summary(kind: str, labels: Sequence[str], series: Sequence[tuple[str, list[Decimal | None]]],
             fmt: _Format) -> str:
    if not labels or not series:
        return f"{kind} with no data."
    span = labels[0] if len(labels) == 1 else f"{labels[0]} to {labels[-1]}"
    points = "1 point" if len(labels) == 1 else f"{len(labels)} points"
    parts = [f"{kind} of {len(series)} series over {points}, {span}."]
    for name, values in series:
        known = [v for v in values if v is not None]
        if not known:
            parts.append(f"{name}: no values.")
            continue
        first, last = known[0], known[-1]
        lowest, highest = min(known), max(known)
        parts.append(f"{name}: first {fmt.exact(first)}, last {fmt.exact(last)}, "
                     f"lowest {fmt.exact(lowest)}, highest {fmt.exact(highest)}.")
    return " ".join(parts)


def _read_series(series: Iterable[tuple[str, Sequence[Number]]], length: int) -> list[tuple[str, list[Decimal | None]]]:
    """Names as text; values as Decimals padded or cut to the number of labels."""
    out = []
    for name, values in series:
        read = [to_decimal(v) for v in list(values)[:length]]
        read += [None] * (length - len(read))
        out.append((str(name), read))
    return out


# ---------------------------------------------------------------- charts

def line_chart(title: str, labels: Sequence[str], series: Iterable[tuple[str, Sequence[Number]]], unit: str = "",
               money_currency: str | None = None, reference: object = None) -> Markup:
    """Lines over categories (months, periods); ``None`` values leave a gap.

    ``reference`` is an extra series drawn dashed in dark grey, e.g. a target:
    ``(name, values)`` or just the values (named "Reference").
    """
    labels = [str(label) for label in labels]
    fmt = _Format(unit, money_currency)
    lines = _read_series(series, len(labels))
    ref: tuple[str, list[Decimal | None]] | None = None
    if reference is not None:
        if isinstance(reference, tuple) and len(reference) == 2 and isinstance(reference[0], str):
            ref = _read_series([reference], len(labels))[0]
        else:
            ref = _read_series([("Reference", reference)], len(labels))[0]  # type: ignore[list-item]
    everything = [v for _, values in lines + ([ref] if ref else []) for v in values if v is not None]
    scaled = [fmt.scale(v) for v in everything]
    ticks = nice_ticks(min(scaled, default=Decimal(0)), max(scaled, default=Decimal(0)))

    chart_id = _chart_id("line", title, labels, lines, ref)
    legend_items = [(name, _line_sample(PALETTE[i % len(PALETTE)], DASHES[i % len(DASHES)], MARKERS[i % len(MARKERS)]))
                    for i, (name, _) in enumerate(lines)]
    if ref:
        legend_items.append((ref[0], _line_sample(REFERENCE_COLOUR, "6 4", None)))
    left = _left_margin(ticks, fmt)
    right = WIDTH - 16
    legend, legend_height = _legend(legend_items, 14, left, right - left)
    top = 14 + legend_height + 8
    bottom = HEIGHT - 30
    scale = _Scale(ticks, top, bottom)
    count = len(labels)
    pad = 18.0
    if count <= 1:
        xs = [(left + right) / 2] * count
    else:
        xs = [left + pad + (right - left - 2 * pad) * i / (count - 1) for i in range(count)]

    desc = _summary("Line chart", labels, lines + ([ref] if ref else []), fmt)
    parts = _open(chart_id, title, desc, WIDTH, HEIGHT, "line-chart")
    parts += legend
    parts += _axis(ticks, scale, fmt, left, right)
    parts += _x_labels(labels, xs, bottom + 18)
    with_markers = count <= 36
    drawn = [(name, values, PALETTE[i % len(PALETTE)], DASHES[i % len(DASHES)], MARKERS[i % len(MARKERS)])
             for i, (name, values) in enumerate(lines)]
    if ref:
        drawn.insert(0, (ref[0], ref[1], REFERENCE_COLOUR, "6 4", None))
    for name, values, colour, dash, marker in drawn:
        parts.append(f'<g class="series" aria-label="{escape(name)}">')
        path, pen_down = [], False
        for x, value in zip(xs, values, strict=True):
            if value is None:
                pen_down = False
                continue
            y = scale.y(fmt.scale(value))
            path.append(f"{'L' if pen_down else 'M'}{_num(x)} {_num(y)}")
            pen_down = True
        if path:
            dash_attr = f' stroke-dasharray="{dash}"' if dash else ""
            parts.append(f'<path d="{"".join(path)}" fill="none" stroke="{colour}" stroke-width="2.5" '
                         f'stroke-linejoin="round"{dash_attr}/>')
        for index, (x, value) in enumerate(zip(xs, values, strict=True)):
            if value is None:
                continue
            isolated = (index == 0 or values[index - 1] is None) and (index == count - 1 or values[index + 1] is None)
            shape = marker or ("circle" if isolated else None)
            point_title = f"{name}, {labels[index]}: {fmt.exact(value)}"
            y = scale.y(fmt.scale(value))
            if shape and (with_markers or isolated):
                parts.append(f"<g>{_marker(shape, x, y, colour)}<title>{escape(point_title)}</title></g>")
            else:
                parts.append(f'<circle cx="{_num(x)}" cy="{_num(y)}" r="6" fill="transparent">'
                             f"<title>{escape(point_title)}</title></circle>")
        parts.append("</g>")
    parts.append("</svg>")
    return Markup("".join(parts))  # noqa: S704 - every text in parts went through escape()


def bar_chart(title: str, labels: Sequence[str], series: Iterable[tuple[str, Sequence[Number]]], unit: str = "",
              money_currency: str | None = None, percent: bool = False) -> Markup:
    """Grouped bars, one group per label and one bar per series; negatives hang below the zero line."""
    labels = [str(label) for label in labels]
    fmt = _Format(unit, money_currency, percent)
    bars = _read_series(series, len(labels))
    scaled = [fmt.scale(v) for _, values in bars for v in values if v is not None]
    ticks = nice_ticks(min(scaled, default=Decimal(0)), max(scaled, default=Decimal(0)))
    chart_id = _chart_id("bar", title, labels, bars, percent)

    left = _left_margin(ticks, fmt)
    right = WIDTH - 16
    legend_items = [(name, f'<rect x="2" y="-6" width="22" height="12" fill="url(#{chart_id}-fill{i})" '
                           f'stroke="{PALETTE[i % len(PALETTE)]}"/>')
                    for i, (name, _) in enumerate(bars)] if len(bars) > 1 else []
    legend, legend_height = _legend(legend_items, 14, left, right - left)
    top = 14 + legend_height + 8 if legend_items else 16
    bottom = HEIGHT - 30
    scale = _Scale(ticks, top, bottom)
    count = len(labels)
    group_width = (right - left) / count if count else 0
    inner = group_width * 0.75
    bar_width = inner / len(bars) if bars else 0
    xs = [left + group_width * (i + 0.5) for i in range(count)]
    zero = scale.y(Decimal(0))

    desc = _summary("Bar chart", labels, bars, fmt)
    parts = _open(chart_id, title, desc, WIDTH, HEIGHT, "bar-chart")
    parts += _hatch_defs(chart_id, len(bars))
    parts += legend
    parts += _axis(ticks, scale, fmt, left, right)
    parts += _x_labels(labels, xs, bottom + 18)
    show_values = count * len(bars) <= 10
    for s, (name, values) in enumerate(bars):
        colour = PALETTE[s % len(PALETTE)]
        parts.append(f'<g class="series" aria-label="{escape(name)}">')
        for index, value in enumerate(values):
            if value is None:
                continue
            x = xs[index] - inner / 2 + s * bar_width
            y = scale.y(fmt.scale(value))
            y0, y1 = min(y, zero), max(y, zero)
            height = max(y1 - y0, 0.8 if value != 0 else 0)
            label = f"{name}, {labels[index]}: {fmt.exact(value)}" if len(bars) > 1 else \
                f"{labels[index]}: {fmt.exact(value)}"
            parts.append(f'<rect x="{_num(x + 1)}" y="{_num(y0)}" width="{_num(max(bar_width - 2, 1))}" '
                         f'height="{_num(height)}" fill="url(#{chart_id}-fill{s})" stroke="{colour}">'
                         f"<title>{escape(label)}</title></rect>")
            if show_values:
                ty = y0 - 4 if value >= 0 else y1 + FONT
                parts.append(f'<text x="{_num(x + bar_width / 2)}" y="{_num(ty)}" text-anchor="middle" '
                             f'fill="#1d2330" font-size="{FONT - 1}">{escape(fmt.exact(value))}</text>')
        parts.append("</g>")
    parts.append("</svg>")
    return Markup("".join(parts))  # noqa: S704 - every text in parts went through escape()


def _two_places(value: Decimal) -> str:
    return f"{value.quantize(Decimal('0.01'), ROUND_HALF_EVEN):f}"


def meter(title: str, value: Number, maximum: Number = 1, threshold: Number = None) -> Markup:
    """A horizontal bar from 0 to ``maximum`` filled up to ``value``, with a marker at ``threshold``.

    Above the threshold the bar is drawn in the warning colour with a hatch,
    so the flag shows in greyscale too; the words next to it say the same.
    """
    read = to_decimal(value)
    top_value = to_decimal(maximum) or Decimal(1)
    if top_value <= 0:
        top_value = Decimal(1)
    limit = to_decimal(threshold)
    width, height = 480, 64
    left, right = 8, width - 8
    bar_top, bar_height = 24, 18
    chart_id = _chart_id("meter", title, read, top_value, limit)

    def x_of(v: Decimal) -> float:
        clamped = min(max(v, Decimal(0)), top_value)
        return left + float(clamped / top_value) * (right - left)

    flagged = read is not None and limit is not None and read > limit
    colour = PALETTE[1] if flagged else PALETTE[0]
    shown = _two_places(read) if read is not None else "no value"
    desc = f"{shown} on a scale from 0 to {plain_number(top_value)}"
    if limit is not None:
        shown_limit = _two_places(limit)
        desc += f"; threshold {shown_limit}, " + ("above it." if flagged else "not above it.")
    else:
        desc += "."
    parts = _open(chart_id, title, desc, width, height, "meter")
    hatch = '<path d="M0 8L8 0" stroke="#fff" stroke-width="1.6"/>' if flagged else ""
    parts.append(f'<defs><pattern id="{chart_id}-hatch" width="8" height="8" patternUnits="userSpaceOnUse">'
                 f'<rect width="8" height="8" fill="{colour}"/>{hatch}</pattern></defs>')
    parts.append(f'<rect x="{left}" y="{bar_top}" width="{right - left}" height="{bar_height}" fill="#eef0f3" '
                 f'stroke="#5d6675"/>')
    if read is not None:
        fill_width = x_of(read) - left
        parts.append(f'<rect x="{left}" y="{bar_top}" width="{_num(fill_width)}" height="{bar_height}" '
                     f'fill="url(#{chart_id}-hatch)" stroke="{colour}"><title>{escape(desc)}</title></rect>')
    parts.append(f'<text x="{left}" y="{bar_top + bar_height + 14}" fill="#5d6675">0</text>')
    parts.append(f'<text x="{right}" y="{bar_top + bar_height + 14}" text-anchor="end" fill="#5d6675">'
                 f"{escape(plain_number(top_value))}</text>")
    value_x = x_of(read) if read is not None else left
    anchor = "end" if value_x > (left + right) / 2 else "start"
    parts.append(f'<text x="{_num(value_x + (-4 if anchor == "end" else 4))}" y="{bar_top - 6}" '
                 f'text-anchor="{anchor}" font-weight="700" fill="#1d2330">{escape(shown)}</text>')
    if limit is not None:
        lx = x_of(limit)
        parts.append(f'<path d="M{_num(lx)} {bar_top - 4}V{bar_top + bar_height + 4}" stroke="#1d2330" '
                     f'stroke-width="2.5" stroke-dasharray="3 2"/>')
        anchor = "end" if lx > (left + right) / 2 else "start"
        parts.append(f'<text x="{_num(lx + (-4 if anchor == "end" else 4))}" y="{bar_top + bar_height + 14}" '
                     f'text-anchor="{anchor}" fill="#1d2330">threshold '
                     f"{escape(_two_places(limit))}</text>")
    parts.append("</svg>")
    return Markup("".join(parts))  # noqa: S704 - every text in parts went through escape()
