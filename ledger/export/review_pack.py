"""A checkpoint's review pack as a workbook: the frozen figures, the assessments, the votes and the decision.

Every figure comes from the checkpoint's stored snapshot, never from today's
ledger, so the pack shows exactly what the steering group decided on, however
often it is downloaded. Money is written as numbers with the currency's format
(so an accountant can add them up), all text through :class:`ledger.export.cells.SafeSheet`, so a
comment such as ``=HYPERLINK(...)`` stays the literal text a partner typed.
"""

from __future__ import annotations

import re
import tempfile
from collections.abc import Iterator
from datetime import UTC, date, datetime
from typing import IO, BinaryIO

from openpyxl import Workbook
from openpyxl.utils import get_column_letter
from openpyxl.worksheet._write_only import WriteOnlyWorksheet
from sqlalchemy.orm import Session

from ledger.domain.errors import Conflict
from ledger.domain.money import minor_digits
from ledger.domain.vocabulary import ASSESSMENT_SCORES, Decision
from ledger.export.cells import SafeSheet
from ledger.export.files import MIMETYPES, SPOOL_BYTES, ExportFile
from ledger.export.workbook import Money
from ledger.models import Alliance, Checkpoint
from ledger.reviews import Review, challenges_of, review_of

FIGURES = (("borne", "Borne"), ("cost_share", "Cost share"), ("received", "Received"),
           ("return_share", "Return share"), ("net", "Net"))
DATE_FORMAT = "yyyy-mm-dd"
DATETIME_FORMAT = "yyyy-mm-dd hh:mm"
#: What the decision's date means, by decision.
DECISION_DATE = {Decision.RENEW: "New end of the term", Decision.RENEGOTIATE: "New versions effective from",
                 Decision.TERMINATE: "Last day of the alliance"}


def slug(text: str, limit: int = 40) -> str:
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")[:limit].strip("-")


def pack_name(alliance: Alliance, checkpoint: Checkpoint) -> str:
    """``ppe-masks-2020-3-month-review-review-pack.xlsx``: which alliance and which review."""
    return (f"{slug(alliance.name) or 'alliance'}-{slug(checkpoint.label) or checkpoint.due_date.isoformat()}"
            f"-review-pack.xlsx")


class _Sheet(SafeSheet):
    """Appends rows to one write-only sheet: text always text (:class:`SafeSheet`), money as numbers, dates
    as dates."""

    def __init__(self, sheet: WriteOnlyWorksheet, money: Money) -> None:
        super().__init__(sheet)
        self.money = money

    def amount(self, cents: int | None, bold: bool = False):
        if cents is None:
            return None
        return self.cell(self.money.major(cents), self.money.number_format, bold)

    def day(self, value: date | None):
        return None if value is None else self.cell(value, DATE_FORMAT)

    def moment(self, value: datetime | None):
        if value is None:
            return None
        plain = value.astimezone(UTC).replace(tzinfo=None) if value.tzinfo else value
        return self.cell(plain, DATETIME_FORMAT)

    def widths(self, *widths: int) -> None:
        for i, width in enumerate(widths, 1):
            self.sheet.column_dimensions[get_column_letter(i)].width = width


def _iso(text: str | None) -> date | None:
    return date.fromisoformat(text) if text else None


def write_review_pack(session: Session, alliance: Alliance, checkpoint: Checkpoint, target: str | BinaryIO) -> None:
    """Write the review pack of an open (or decided) checkpoint to ``target`` (a path or a binary file)."""
    review = review_of(session, alliance, checkpoint)
    if review.snapshot is None:
        raise Conflict(f"\u201c{checkpoint.label}\u201d opens on {checkpoint.due_date.isoformat()}; its review "
                       "pack exists from then.")
    snapshot = review.snapshot
    currency = snapshot.get("alliance", {}).get("currency", alliance.currency)
    money = Money(currency, minor_digits(currency))
    book = Workbook(write_only=True)
    sheets = {name: _Sheet(book.create_sheet(name), money) for name in
              ("Summary", "Balance", "Settle-up", "Targets", "Indicators", "Assessments", "Votes")}
    _summary(sheets["Summary"], alliance, review)
    _balance(sheets["Balance"], snapshot)
    _settle_up(sheets["Settle-up"], snapshot)
    _targets(sheets["Targets"], snapshot)
    _indicators(sheets["Indicators"], snapshot)
    _assessments(sheets["Assessments"], review)
    _votes(sheets["Votes"], review)
    book.save(target)


def review_pack_file(session: Session, alliance: Alliance, checkpoint: Checkpoint) -> ExportFile:
    """The pack as a temporary file for a download (the web page and the API send the same bytes)."""
    content: IO[bytes] = tempfile.SpooledTemporaryFile(max_size=SPOOL_BYTES)  # noqa: SIM115 - closed by send_file
    try:
        write_review_pack(session, alliance, checkpoint, content)
    except BaseException:
        content.close()
        raise
    content.seek(0)
    return ExportFile(pack_name(alliance, checkpoint), MIMETYPES["xlsx"], content)


# ---- the sheets -----------------------------------------------------------------------------------------

def _summary(s: _Sheet, alliance: Alliance, review: Review) -> None:
    c = review.checkpoint
    snap = review.snapshot or {}
    frozen = snap.get("alliance", {})
    s.widths(34, 60)
    rows: list[tuple[str, object]] = [
        ("Alliance", frozen.get("name", alliance.name)),
        ("Currency", frozen.get("currency", alliance.currency)),
        ("Term (as frozen)", f"{frozen.get('start_date', '')} to {frozen.get('term_end', '')}"),
        ("Checkpoint", c.label),
        ("Due date", s.day(c.due_date)),
        ("Figures as of", s.day(_iso(snap.get("as_of")))),
        ("Snapshot taken (UTC)", snap.get("taken_at", "")),
        ("Snapshot SHA-256", c.snapshot_sha256 or ""),
        ("Snapshot intact", "yes" if review.snapshot_intact else "NO: the stored figures changed since"),
        ("Charter version", snap.get("charter_version")),
        ("Split agreement version", snap.get("agreement_version")),
        ("Entries counted", snap.get("balance", {}).get("entry_count")),
        ("State", review.state),
        ("Quorum rule", alliance.quorum.label),
        ("Quorum met", "yes" if review.quorum.met else "no: missing " + ", ".join(review.quorum.missing)),
    ]
    for name in ASSESSMENT_SCORES:
        rows.append((f"Average {name} (1-5)", review.averages.get(name)))
    rows += [(f"Votes: {d.value}", n) for d, n in review.tally.items()]
    rows += [
        ("Decision", c.decision.value if c.decision else "not decided yet"),
        (DECISION_DATE[c.decision] if c.decision else "Decision date", s.day(c.decision_date)),
        ("Rationale", c.rationale or ""),
        ("Decided by", c.decided_by.name if c.decided_by else ""),
        ("Decided at (UTC)", s.moment(c.decided_at)),
    ]
    s.header(["Review pack", ""])
    for label, value in rows:
        s.append([s.cell(label, bold=True), value])


def _balance(s: _Sheet, snapshot: dict) -> None:
    balance = snapshot.get("balance", {})
    s.widths(28, *[16] * len(FIGURES))
    s.header(["Partner", *[label for _, label in FIGURES]])
    for row in balance.get("rows", []):
        s.append([s.cell(row["name"]), *[s.amount(row.get(key)) for key, _ in FIGURES]])
    totals = balance.get("totals", {})
    s.append([s.cell("Total", bold=True), *[s.amount(totals.get(key), bold=True) for key, _ in FIGURES]])


def _settle_up(s: _Sheet, snapshot: dict) -> None:
    s.widths(28, 28, 16)
    s.header(["Payer", "Payee", "Amount"])
    for t in snapshot.get("settle_up", []):
        s.append([s.cell(t["payer"]), s.cell(t["payee"]), s.amount(t["amount"])])
    if not snapshot.get("settle_up"):
        s.append(["Every balance was zero: nobody owed anybody."])


def _targets(s: _Sheet, snapshot: dict) -> None:
    s.widths(32, 12, 14, 12, 18, 14, 14, 8)
    s.header(["Target", "Unit", "Direction", "Period", "Period start", "Target value", "Actual", "Met"])
    for target in snapshot.get("targets", []):
        periods = target.get("periods") or [{}]
        for p in periods:
            met = p.get("met")
            s.append([
                s.cell(str(target.get("name", ""))), s.cell(str(target.get("unit", ""))),
                s.cell(str(target.get("direction", ""))), s.cell(str(p.get("label", target.get("period", "")))),
                s.day(_iso(p.get("start"))), _number(p.get("target", target.get("target"))),
                _number(p.get("actual")), "" if met is None else ("yes" if met else "no")])


def _number(value):
    """Decimals are stored as plain strings in a snapshot; a cell wants a number (text if it is not one)."""
    if value is None or isinstance(value, int | float):
        return value
    try:
        number = float(str(value))
    except ValueError:
        return str(value)
    return int(number) if number.is_integer() and "." not in str(value) else number


def _flatten(value, prefix: str = "") -> Iterator[tuple[str, object]]:
    """The indicators as (name, value) rows: nested objects become dotted names, lists get indexes."""
    if isinstance(value, dict):
        for key in value:
            yield from _flatten(value[key], f"{prefix}.{key}" if prefix else str(key))
    elif isinstance(value, list):
        if not value:
            yield prefix, ""
        for i, item in enumerate(value):
            yield from _flatten(item, f"{prefix}[{i}]")
    else:
        yield prefix, value


def _indicators(s: _Sheet, snapshot: dict) -> None:
    s.widths(48, 30)
    s.header(["Indicator", "Value"])
    for name, value in _flatten(snapshot.get("indicators", {})):
        if isinstance(value, bool):
            value = "yes" if value else "no"
        s.append([s.cell(name), value])


def _assessments(s: _Sheet, review: Review) -> None:
    s.widths(24, 10, *[12] * len(ASSESSMENT_SCORES), 48, 60, 22, 18)
    s.header(["Partner", "Current", *[n.title() for n in ASSESSMENT_SCORES], "Challenges", "Comments",
              "Assessed by", "At (UTC)"])
    current = {a.id for a in review.assessments.values()}
    names = {p.id: p.name for p in review.partners}
    for a in sorted(review.assessment_history, key=lambda r: (names.get(r.partner_id, ""), -r.id)):
        s.append([
            s.cell(names.get(a.partner_id, "")), "yes" if a.id in current else "superseded",
            *[getattr(a, n) for n in ASSESSMENT_SCORES],
            s.cell(", ".join(c.label for c in challenges_of(a))), s.cell(a.comments or ""), s.cell(a.user.name),
            s.moment(a.created_at)])


def _votes(s: _Sheet, review: Review) -> None:
    s.widths(26, 20, 10, 14, 60, 18)
    s.header(["Steering member", "Sits for", "Current", "Vote", "Reason", "At (UTC)"])
    current = {v.id for v in review.votes}
    names = {p.id: p.name for p in review.partners}
    for v in sorted(review.vote_history, key=lambda r: (r.user.name, -r.id)):
        s.append([
            s.cell(v.user.name), s.cell(names.get(v.partner_id, "") if v.partner_id else ""),
            "yes" if v.id in current else "superseded", v.choice.value, s.cell(v.reason or ""),
            s.moment(v.created_at)])
