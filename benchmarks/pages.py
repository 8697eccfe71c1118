"""How fast are the read pages with one alliance of N entries? (Issue 7: dashboard and balance under 150 ms,
any ledger page, filtered or deep, under 100 ms, at 1,000,000 entries, on SQLite and PostgreSQL.)

The books come from :mod:`benchmarks.dataset` (the demo alliance through the services, then bulk rows up
to ``--entries``; kept between runs). Every measure is a real WSGI request through the Flask test client,
with the coordinator's logged-in browser session (or a bearer token for the API), timed ``--repeat``
times after ``--warmup`` untimed ones; the table gives the median and the p95 of each.

The deep pages are reached the way a reader reaches them, by the keyset cursor (``before=date.id``, or the
API's ``cursor``): the cursor of page k is the (date, id) of the last entry of page k - 1, read here straight
from SQL with the page's own filter (``LedgerFilter.conditions``), and checked once against the cursors the
app itself hands out by following its "Older" links for the first pages. Each timed request is then the
single request for that deep page, and its response is checked to list exactly the entries SQL says it
should.

    .venv/bin/python -m benchmarks.pages                          # both engines, 100,000 entries
    .venv/bin/python -m benchmarks.pages --entries 1000000 --repeat 30
    .venv/bin/python -m benchmarks.pages --no-pg --entries 20000 --repeat 5 --json /tmp/pages.json
"""

from __future__ import annotations

import argparse
import re
import sys
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

if __package__ in (None, ""):  # run as a file: make ``ledger`` importable from the checkout
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from sqlalchemy import func, select

from benchmarks.dataset import (
    Books,
    Timing,
    add_dataset_arguments,
    logged_in,
    one_alliance_app,
    run_engines,
    timed,
)
from benchmarks.run_all import make_row
from ledger.api.inputs import DEFAULT_LIMIT, encode_cursor
from ledger.domain.vocabulary import EntryKind
from ledger.models import Alliance, Category, Entry, Partner
from ledger.queries import LedgerFilter
from ledger.services import users

BENCHMARK = "pages"
BALANCE_MS = 150.0  # dashboard and balance (issue 7)
LEDGER_MS = 100.0  # any ledger page, the entries API included (issue 7)
DEEP_PAGE = 1_000  # "page 1,000 of the unfiltered list"
#: The filters' values (the demo alliance's term is 2020-04-01 to 2022-03-31, bulk rows spread over it).
MONTH = ("2021-03-01", "2021-03-31")
QUARTER = ("2021-01-01", "2021-03-31")
HALF_YEAR = ("2021-01-01", "2021-06-30")
ENTRY_ID = re.compile(r'data-entry-id="(\d+)"')


@dataclass
class Case:
    """One page to time: its URL, how it is reached, and what it must list."""

    name: str
    url: str
    target_ms: float | None
    api: bool = False
    #: The ids the page must list, in order (checked once, before the timing), when it is a ledger page.
    expect_ids: list[int] | None = None
    note: str = ""
    timing: Timing = field(default_factory=Timing)


@dataclass
class Ledger:
    """What the ledger cases need to know about the alliance, read once from SQL."""

    alliance: Alliance
    page_size: int
    session: object

    def ordered(self, filters: LedgerFilter):
        return (select(Entry.entry_date, Entry.id).where(*filters.conditions(self.alliance))
                .order_by(Entry.entry_date.desc(), Entry.id.desc()))

    def count(self, filters: LedgerFilter) -> int:
        return self.session.scalar(select(func.count()).select_from(Entry)
                                   .where(*filters.conditions(self.alliance)))

    def cursor_of_page(self, filters: LedgerFilter, page: int, size: int) -> tuple[date, int] | None:
        """The ``before`` cursor of ``page`` (1-based): the last entry of the page before it."""
        if page <= 1:
            return None
        row = self.session.execute(self.ordered(filters).offset((page - 1) * size - 1).limit(1)).first()
        return (row[0], row[1]) if row else None

    def ids_of_page(self, filters: LedgerFilter, page: int, size: int) -> list[int]:
        return [r[1] for r in self.session.execute(self.ordered(filters).offset((page - 1) * size).limit(size))]

    def last_page(self, filters: LedgerFilter, size: int) -> int:
        return max(1, -(-self.count(filters) // size))


def web_cursor(cursor: tuple[date, int]) -> str:
    return f"{cursor[0].isoformat()}.{cursor[1]}"


def query(**params: object) -> str:
    kept = {k: v for k, v in params.items() if v not in (None, "")}
    return ("?" + "&".join(f"{k}={v}" for k, v in kept.items())) if kept else ""


def cases_for(session, alliance_id: int, page_size: int) -> list[Case]:
    alliance = session.get(Alliance, alliance_id)
    ledger = Ledger(alliance, page_size, session)
    alpha = session.scalar(select(Partner.id).where(Partner.alliance_id == alliance_id, Partner.name == "Alpha"))
    category = session.scalar(select(Category.id).where(Category.alliance_id == alliance_id,
                                                        Category.name == "certification"))
    base, api = f"/a/{alliance_id}", f"/api/v1/alliances/{alliance_id}"
    month = {"date_from": date.fromisoformat(MONTH[0]), "date_to": date.fromisoformat(MONTH[1])}
    quarter = {"date_from": date.fromisoformat(QUARTER[0]), "date_to": date.fromisoformat(QUARTER[1])}
    cases = [
        Case("home page", "/", None),
        Case("dashboard", f"{base}/", BALANCE_MS),
        Case("balance API", f"{api}/balance", BALANCE_MS, api=True),
        Case("balance page, half a year", f"{base}/balance" + query(**{"from": HALF_YEAR[0], "to": HALF_YEAR[1]}),
             BALANCE_MS),
        Case("balance API, half a year", f"{api}/balance" + query(**{"from": HALF_YEAR[0], "to": HALF_YEAR[1]}),
             BALANCE_MS, api=True),
        Case("activity page", f"{base}/activity", None),
    ]

    def ledger_case(name: str, filters: LedgerFilter, params: dict, page: int | str = 1) -> Case | None:
        last = ledger.last_page(filters, page_size)
        if page == "last":
            name, page = f"{name}, last page", last
        elif page != 1:
            if page > last:
                return None  # fewer pages than that: the last page is timed anyway
            name = f"{name}, page {page:,}"
        cursor = ledger.cursor_of_page(filters, page, page_size)
        url = f"{base}/ledger" + query(**params, before=web_cursor(cursor) if cursor else None)
        return Case(name, url, LEDGER_MS, expect_ids=ledger.ids_of_page(filters, page, page_size),
                    note=f"page {page:,} of {last:,}")

    everything = LedgerFilter()
    by_partner = LedgerFilter(partner_id=alpha)
    settlements = LedgerFilter(kind=EntryKind.SETTLEMENT)
    combined = LedgerFilter(partner_id=alpha, kind=EntryKind.COST, category_id=category, **quarter)
    cases += [
        ledger_case("ledger", everything, {}),
        ledger_case("ledger, partner", by_partner, {"partner": alpha}),
        ledger_case("ledger, kind revenue", LedgerFilter(kind=EntryKind.REVENUE), {"kind": "revenue"}),
        ledger_case("ledger, kind settlement", settlements, {"kind": "settlement"}),
        ledger_case("ledger, category", LedgerFilter(category_id=category), {"category": category}),
        ledger_case("ledger, one month", LedgerFilter(**month), {"from": MONTH[0], "to": MONTH[1]}),
        ledger_case("ledger, all filters", combined, {"partner": alpha, "kind": "cost", "category": category,
                                                      "from": QUARTER[0], "to": QUARTER[1]}),
        ledger_case("ledger", everything, {}, page=DEEP_PAGE),
        ledger_case("ledger", everything, {}, page="last"),
        ledger_case("ledger, partner", by_partner, {"partner": alpha}, page="last"),
        ledger_case("ledger, kind settlement", settlements, {"kind": "settlement"}, page="last"),
    ]
    cases += [
        Case("entries API", f"{api}/entries", LEDGER_MS, api=True,
             expect_ids=ledger.ids_of_page(everything, 1, DEFAULT_LIMIT)),
        Case("entries API, kind settlement", f"{api}/entries?kind=settlement", LEDGER_MS, api=True,
             expect_ids=ledger.ids_of_page(settlements, 1, DEFAULT_LIMIT)),
    ]
    if ledger.last_page(everything, DEFAULT_LIMIT) >= DEEP_PAGE:
        cursor = ledger.cursor_of_page(everything, DEEP_PAGE, DEFAULT_LIMIT)
        cases.append(Case(f"entries API, page {DEEP_PAGE:,}", f"{api}/entries" + query(cursor=encode_cursor(cursor)),
                          LEDGER_MS, api=True, expect_ids=ledger.ids_of_page(everything, DEEP_PAGE, DEFAULT_LIMIT)))
    return [c for c in cases if c is not None]


def check_walk(browser, alliance_id: int, want: list[int], pages: int = 3) -> None:
    """Follow the ledger's own "Older" links to page ``pages``: it lists ``want``, the ids SQL gives that page."""
    url = f"/a/{alliance_id}/ledger"
    for _ in range(pages - 1):
        found = re.search(r'<a href="([^"]+)" rel="next">', browser.get(url).get_data(as_text=True))
        if not found:
            return  # fewer pages than that: nothing deeper to compare
        url = found[1].replace("&amp;", "&")
    ids = [int(i) for i in ENTRY_ID.findall(browser.get(url).get_data(as_text=True))]
    if ids != want:
        raise PageError(f"following the ledger's Older links to page {pages} did not give the entries SQL "
                        f"puts there ({url})")


class PageError(Exception):
    """A page answered something other than what it must (its case is left out, and the run fails)."""


def listed_ids(response, api: bool) -> list[int]:
    if api:
        return [e["id"] for e in response.get_json()["entries"]]
    return [int(i) for i in ENTRY_ID.findall(response.get_data(as_text=True))]


def measure(app, books: Books, repeat: int, warmup: int, only: str | None = None,
            log: Callable[[str], None] = print, errors: list[str] | None = None) -> list[Case]:
    """Time every case; a page that fails is logged, added to ``errors`` and left without a timing."""
    errors = [] if errors is None else errors
    alliance_id = books.alliance_ids[0]
    browser = logged_in(app, books.coordinator, books.password)
    api = app.test_client()
    with app.extensions["ledger.sessions"]() as session:
        _, token = users.create_token(session, users.user_by_email(session, books.coordinator), "benchmark")
        session.commit()
        page_size = int(app.config.get("PAGE_SIZE", 50))
        cases = cases_for(session, alliance_id, page_size)
        page_3 = Ledger(session.get(Alliance, alliance_id), page_size, session).ids_of_page(LedgerFilter(), 3,
                                                                                            page_size)
    headers = {"Authorization": f"Bearer {token}"}
    try:
        check_walk(browser, alliance_id, page_3)
    except PageError as exc:
        errors.append(str(exc))
        log(f"  ERROR: {exc}")
    if only:
        cases = [c for c in cases if re.search(only, c.name)]
    for case in cases:
        client, kwargs = (api, {"headers": headers}) if case.api else (browser, {})

        def call(client=client, kwargs=kwargs, url=case.url) -> None:
            answer = client.get(url, **kwargs)
            if answer.status_code != 200:
                raise PageError(f"GET {url}: HTTP {answer.status_code}")

        try:
            response = client.get(case.url, **kwargs)
            if response.status_code != 200:
                raise PageError(f"GET {case.url}: HTTP {response.status_code}")
            if case.expect_ids is not None and listed_ids(response, case.api) != case.expect_ids:
                raise PageError(f"GET {case.url} did not list the entries SQL says are on that page")
            case.timing = timed(call, repeat, warmup)
        except PageError as exc:
            errors.append(f"{case.name}: {exc}")
            log(f"  {case.name:<38} ERROR: {exc}")
            continue
        verdict = "" if case.target_ms is None else ("  ok" if case.timing.p95 < case.target_ms else "  SLOW")
        log(f"  {case.name:<38} median {case.timing.median:8.1f} ms   p95 {case.timing.p95:8.1f} ms{verdict}"
            + (f"   ({case.note})" if case.note else ""))
    return cases


def rows_of(books: Books, cases: list[Case]) -> list[dict]:
    rows = []
    for case in cases:
        if not case.timing.samples_ms:
            continue  # it failed: no figure
        target = "" if case.target_ms is None else f"< {case.target_ms:g} ms"
        rows.append(make_row(BENCHMARK, books.engine, books.entries, f"{case.name}: median", case.timing.median,
                             "ms", target))
        rows.append(make_row(BENCHMARK, books.engine, books.entries, f"{case.name}: p95", case.timing.p95, "ms",
                             target))
    return rows


def run(engine: str, args: argparse.Namespace, errors: list[str]) -> list[dict]:
    with one_alliance_app(engine, args) as (books, app):
        print(f"  timing {args.repeat} requests each after {args.warmup} warm-ups ...")
        cases = measure(app, books, args.repeat, args.warmup, args.only, errors=errors)
    return rows_of(books, cases)


def report(rows: list[dict]) -> bool:
    """Median / p95 per page and engine, side by side; True if every p95 meets its target."""
    engines = [e for e in ("sqlite", "postgresql") if any(r["engine"] == e for r in rows)]
    names = list(dict.fromkeys(r["measure"].rsplit(": ", 1)[0] for r in rows if ": " in r["measure"]))
    value = {(r["engine"], r["measure"]): r for r in rows}
    print("\n| page | target | " + " | ".join(f"{e} median / p95 ms" for e in engines) + " |")
    print("|---|---:|" + "---:|" * len(engines))
    ok = True
    for name in names:
        cells = []
        for e in engines:
            med, p95 = value.get((e, f"{name}: median")), value.get((e, f"{name}: p95"))
            if med is None:
                cells.append("n/a")
                continue
            slow = p95["target"] and p95["value"] >= float(p95["target"].split()[1])
            ok &= not slow
            cells.append(f"{med['value']:.1f} / {p95['value']:.1f}" + (" **slow**" if slow else ""))
        target = next((value[(e, f"{name}: p95")]["target"] for e in engines if (e, f"{name}: p95") in value), "")
        print(f"| {name} | {target or '-'} | " + " | ".join(cells) + " |")
    print(f"\nTargets (p95): {'met' if ok else 'MISSED'}.")
    return ok


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--entries", type=int, default=100_000, help="entries in the alliance (default 100000)")
    parser.add_argument("--repeat", type=int, default=20, help="timed requests per page (default 20)")
    parser.add_argument("--warmup", type=int, default=3, help="untimed requests first (default 3)")
    parser.add_argument("--only", metavar="REGEX", help="time only the pages whose name matches")
    add_dataset_arguments(parser)
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    return run_engines(args, run, report)


if __name__ == "__main__":
    sys.exit(main())
