"""The batched import against the row-by-row import it replaced: same errors, same entries, same balances.

``row_by_row`` below is the import as it was (every row through ``record_entry`` / ``reverse_entry``, then
rolled back): the reference. The batched path must report the same errors in the same words and order for
every row, create the same entries (so the same balances), chain them so the chain verifies, write one
activity event, and write nothing at all when any row is wrong.
"""

from __future__ import annotations

import re
from contextlib import nullcontext
from datetime import date, datetime, time

import pytest
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st
from sqlalchemy import func, select, text

from ledger import chain
from ledger.chain import content_of, contents_of, verify_alliance
from ledger.domain.errors import Conflict, InvalidInput, NotAllowed
from ledger.imports import checks
from ledger.imports.reading import Sheet, dump_sheet, load_sheet, read_upload
from ledger.imports.rows import parse_row
from ledger.models import Activity, Alliance, Category, ChainLink, Entry, ImportBatch, Partner, Period
from ledger.queries import balance_sheet
from ledger.services import agreements
from ledger.services import imports as service
from ledger.services.entries import record_entry, reverse_entry
from tests.builders import acting
from tests.import_files import csv_bytes

HEADER = ["Date", "Partner", "Kind", "Category", "Amount", "Description", "Reference", "Paid to", "Entry id",
          "Reverses entry"]
MAPPING = {"date": "Date", "partner": "Partner", "kind": "Kind", "category": "Category", "amount": "Amount",
           "description": "Description", "reference": "Reference", "counterparty": "Paid to",
           "entry_id": "Entry id", "reverses": "Reverses entry"}
COLUMNS = {key: HEADER.index(name) for key, name in MAPPING.items()}


def sheet_of(rows: list[list[object]]) -> Sheet:
    return read_upload("rows.csv", csv_bytes(rows, header=HEADER))


def row_by_row(session, actor, membership, sheet: Sheet) -> tuple[list[tuple[int, list[str]]], list[Entry]]:
    """The reference: the import before it was batched, every row through the services (caller rolls back)."""
    alliance = membership.alliance
    partners = {p.name.casefold(): (p.id, p.name)
                for p in session.scalars(select(Partner).where(Partner.alliance_id == alliance.id))}
    categories = {c.name.casefold(): (c.id, c.name)
                  for c in session.scalars(select(Category).where(Category.alliance_id == alliance.id))}
    parsed = [parse_row(n, cells, COLUMNS, alliance.currency, partners, categories) for n, cells in sheet.rows]
    seen: dict[int, int] = {}
    for row in parsed:
        if row.source_id is not None:
            if row.source_id in seen:
                row.errors.setdefault("entry_id", f"Entry id {row.source_id} is also on row {seen[row.source_id]}.")
            seen.setdefault(row.source_id, row.number)
    found: dict[int, list[str]] = {}
    originals: dict[int, Entry] = {}
    created: list[Entry] = []
    for row in [r for r in parsed if r.reverses is None] + [r for r in parsed if r.reverses is not None]:
        errors = dict(row.errors)
        entry = None
        try:
            if row.reverses is None:
                entry = record_entry(session, actor, membership, row.raw)
            elif not errors:
                entry = _reverse(session, actor, membership, row, originals)
        except InvalidInput as exc:
            for key, message in exc.errors.items():
                errors.setdefault(key, message)
        except (Conflict, NotAllowed) as exc:
            errors.setdefault("amount", str(exc))
        if errors:
            found[row.number] = [service._plain(key, message, sheet, COLUMNS) for key, message in errors.items()]
            continue
        created.append(entry)
        if row.source_id is not None and row.reverses is None:
            originals[row.source_id] = entry
    return [(n, found.get(n, [])) for n, _ in sheet.rows], created


def _reverse(session, actor, membership, row, originals):
    original = originals.get(row.reverses)
    if original is None:
        raise InvalidInput.at("description", f"This reverses entry #{row.reverses}, which is not an importable "
                                             f"row of this file (missing, or it has errors itself).")
    same = (original.partner_id == row.raw.get("partner_id") and original.kind.value == row.raw.get("kind")
            and (original.category_id or None) == (row.raw.get("category_id") or None)
            and original.amount == -row.cents)
    if not same:
        raise InvalidInput.at("amount", f"A reversal must repeat entry #{row.reverses}'s partner, kind, category "
                                        f"and amount with a minus sign.")
    reason = "" if row.reason == original.description else row.reason
    return reverse_entry(session, actor, membership, original, {"date": row.raw.get("date"), "reason": reason},
                         today=date.today())  # noqa: DTZ011


def batched_errors(result: service.ImportResult) -> list[tuple[int, list[str]]]:
    return [(r.number, r.errors) for r in result.rows]


def snapshot(entries: list[Entry]) -> list[tuple]:
    """The entries as the books see them, ids replaced by their place among the new ones."""
    place = {e.id: i for i, e in enumerate(entries)}

    def renumber(text: str) -> str:
        return re.sub(r"#(\d+)", lambda m: f"#@{place.get(int(m[1]), m[1])}", text)

    return [(e.entry_date, e.partner_id, e.kind, e.category_id, e.amount, renumber(e.description), e.reference,
             e.counterparty_id, e.version_id, e.pool_id, place.get(e.reverses_id), e.recorded_by_id)
            for e in entries]


def balances(session, alliance_id: int) -> dict:
    sheet = balance_sheet(session, session.get(Alliance, alliance_id))
    return {r.partner_id: (r.borne, r.cost_share, r.received, r.return_share, r.net) for r in sheet.rows}


@pytest.fixture
def books_case(session, case):
    """The case plus what makes rows fail in every way: April closed, and from 2021 a version whose cost pool
    covers production only."""
    user, membership = acting(session, case, "coordinator")
    shares = [{"partner_id": case.pid("Alpha"), "weight": "1"}, {"partner_id": case.pid("Beta"), "weight": "1"}]
    agreements.create_version(session, user, membership, {
        "effective_from": "2021-01-01", "note": "Production only",
        "pools": [{"name": "Production", "side": "costs", "kinds": ["cost", "contribution", "service_fee"],
                   "categories": [case.cid("production")], "shares": shares},
                  {"name": "Returns", "side": "returns", "kinds": ["revenue"], "categories": "all",
                   "shares": shares}]})
    session.add(Period(alliance_id=case.alliance.id, start_date=date(2020, 4, 1), end_date=date(2020, 4, 30),
                       closed_by_id=case.users["coordinator"].id))
    session.commit()
    return case


VALID = [
    ["2020-05-04", "Alpha", "cost", "production", "1.234,56", "Blades", "INV-1", "", "1", ""],
    ["2020-05-05", "Beta", "revenue", "sales", "2000", "First masks sold", "", "", "2", ""],
    ["2020-05-06", "Gamma", "service fee", "raw materials", "300.10", "Fabric rolls", "", "", "3", ""],
    ["2020-05-07", "Alpha", "settlement", "", "50", "Transfer", "BANK-1", "Beta", "4", ""],
    ["2020-05-08", "Omega", "contribution", "certification", "0.05", "=stamp", "", "", "5", ""],
    ["2020-05-04", "Alpha", "cost", "production", "-1234.56", "Reversal of #1: typo", "INV-1", "", "6", "1"],
    ["2020-05-09", "Beta", "revenue", "sales", "-2000", "Reversal of #2", "", "", "7", ""],
    ["", "Alpha", "settlement", "", "-50", "Transfer", "BANK-1", "Beta", "8", "4"],
    ["2021-02-01", "Beta", "cost", "production", "99.99", "After the renegotiation", "", "", "9", ""],
    ["2021-02-02", "Alpha", "revenue", "distribution", "10", "Late sale", "", "", "", ""],
]

BAD = [
    *VALID[:5],
    ["2020-05-07", "Alpha", "settlement", "", "50", "No payee", "", "", "", ""],
    ["2020-05-07", "Alpha", "settlement", "sales", "50", "With a category", "", "Beta", "", ""],
    ["2020-05-07", "Alpha", "settlement", "", "50", "To itself", "", "Alpha", "", ""],
    ["2020-05-07", "Alpha", "cost", "production", "50", "Paid to on a cost", "", "Beta", "", ""],
    ["2020-05-07", "Nobody", "cost", "toys", "0", "", "", "", "20", ""],
    ["2020-05-07", "Alpha", "cost", "production", "12.345", "Too precise", "", "", "", ""],
    ["2020-05-07", "Alpha", "cost", "production", "10", "x" * 501, "r" * 301, "", "", ""],
    ["2019-01-01", "Alpha", "cost", "production", "10", "Before the term", "", "", "", ""],
    ["31/12/2020", "Alpha", "gift", "production", "10", "Not a date, not a kind", "", "", "", ""],
    ["2020-04-15", "Alpha", "cost", "production", "10", "In the closed April", "", "", "", ""],
    ["2021-03-01", "Alpha", "cost", "waste", "10", "No pool for waste in 2021", "", "", "", ""],
    ["2020-05-07", "Alpha", "cost", "production", "-5", "A negative amount", "", "", "", ""],
    ["2020-05-02", "Alpha", "cost", "production", "-1234.56", "Reversal of #1: early", "INV-1", "", "", "1"],
    ["2020-05-10", "Alpha", "cost", "production", "-1234.56", "Reversal of #1: typo", "INV-1", "", "", "1"],
    ["2020-05-11", "Alpha", "cost", "production", "-1234.56", "Reversal of #1: twice", "INV-1", "", "", "1"],
    ["2020-05-11", "Beta", "revenue", "sales", "-20", "Reversal of #2: wrong amount", "", "", "", "2"],
    ["2020-05-11", "Beta", "revenue", "sales", "-20", "Reversal of #99", "", "", "", ""],
    ["2020-05-11", "Nobody", "cost", "toys", "-0.01", "Reversal of #20", "", "", "", ""],
    ["2020-05-12", "Alpha", "cost", "production", "10", "Duplicate id", "", "", "1", ""],
    ["2020-05-12", "Alpha", "cost", "production", "10", "Odd id", "", "", "abc", ""],
    ["2020-04-20", "Gamma", "service fee", "raw materials", "-300.10", "Reversal of #3", "", "", "", "3"],
    ["2020-05-12", "Omega", "contribution", "certification", "-0.05", "Reversal of #5: bad\x01", "", "", "", ""],
    ["", "Alpha", "settlement", "", "-50", "Transfer", "BANK-1", "Beta", "", "4"],
]


@pytest.mark.parametrize("who", ["coordinator", "alpha"])
def test_every_row_gets_the_same_errors_as_row_by_row(session, books_case, who):
    case = books_case
    actor, membership = acting(session, case, who)
    sheet = sheet_of(BAD)
    batched = service.dry_run(session, actor, membership, sheet, COLUMNS)  # first: it uses no entry ids
    session.rollback()
    expected, _ = row_by_row(session, actor, membership, sheet)
    session.rollback()
    assert batched_errors(batched) == expected
    assert sum(1 for _, errors in expected if errors) >= 20
    assert batched.created == sum(1 for _, errors in expected if not errors)
    messages = " ".join(m for _, errors in expected for m in errors)
    reached = ["not an importable row", "closed period", "No pool of agreement", "is also on row",
               "not an entry number", "cannot be dated before the entry it reverses"]
    reached += (["already reversed by entry #", "cannot settle with itself", "needs the partner who received",
                 "control characters"]
                if who == "coordinator" else ["You can record entries only for Alpha"])
    assert [words for words in reached if words not in messages] == []


def test_an_ended_alliance_refuses_every_row_alike(session, books_case):
    case = books_case
    session.get(Alliance, case.alliance.id).ended_on = date(2021, 12, 31)
    session.commit()
    actor, membership = acting(session, case, "coordinator")
    sheet = sheet_of(VALID)
    batched = service.dry_run(session, actor, membership, sheet, COLUMNS)
    session.rollback()
    expected, _ = row_by_row(session, actor, membership, sheet)
    session.rollback()
    assert batched_errors(batched) == expected
    assert "read-only" in expected[0][1][0]


def test_same_entries_balances_and_chain_as_row_by_row(session, books_case):
    case = books_case
    actor, membership = acting(session, case, "coordinator")
    sheet = sheet_of(VALID)
    before = balances(session, case.alliance.id)
    errors, created = row_by_row(session, actor, membership, sheet)
    assert not any(e for _, e in errors)
    expected, expected_balances = snapshot(created), balances(session, case.alliance.id)
    assert expected_balances != before
    session.rollback()

    activity_before = session.scalar(select(func.count()).select_from(Activity))
    result = service.import_sheet(session, actor, membership, sheet, COLUMNS, "f" * 64, "valid.csv")
    session.commit()
    new = session.scalars(select(Entry).where(Entry.import_batch_id == result.batch.id).order_by(Entry.id)).all()
    assert result.created == len(new) == len(VALID)
    assert snapshot(new) == expected
    assert balances(session, case.alliance.id) == expected_balances
    reversal = next(e for e in new if e.reverses_id == new[0].id)
    assert reversal.description == f"Reversal of #{new[0].id}: typo"
    assert verify_alliance(session, case.alliance.id).intact
    # one event for the import, worded as the row-by-row import's summary line
    events = session.scalars(select(Activity).where(Activity.alliance_id == case.alliance.id)
                             .order_by(Activity.seq.desc())).all()
    assert session.scalar(select(func.count()).select_from(Activity)) == activity_before + 1
    assert (events[0].action, events[0].summary, events[0].entry_id) == (
        "entries.imported", f"{actor.name} imported {len(VALID)} entries from valid.csv", None)
    assert events[0].seq == events[1].seq + 1


def big_rows(count: int) -> list[list[object]]:
    """``count`` valid rows of every kind; every tenth row reverses the row nine above it, on that row's day."""
    kinds = [("Alpha", "cost", "production"), ("Beta", "revenue", "sales"), ("Gamma", "service fee", "machinery"),
             ("Omega", "contribution", "certification"), ("Beta", "settlement", "")]
    rows: list[list[object]] = []
    for n in range(1, count + 1):
        original = n - 9 if n % 10 == 0 else n
        day = date(2020, 5, 1 + original % 28).isoformat()
        partner, kind, category = kinds[original % len(kinds)]
        paid_to = "Alpha" if kind == "settlement" else ""
        if original != n:
            rows.append([day, partner, kind, category, f"-{original}.25", f"Reversal of #{original}: wrong", "",
                         paid_to, str(n), ""])
        else:
            rows.append([day, partner, kind, category, f"{n}.25", f"Row {n}", f"REF-{n}", paid_to, str(n), ""])
    return rows


def test_a_big_import_chains_every_entry_and_verifies(session, case):
    actor, membership = acting(session, case, "coordinator")
    sheet = sheet_of(big_rows(2_000))
    links_before = session.scalar(select(func.count()).where(ChainLink.alliance_id == case.alliance.id))
    result = service.import_sheet(session, actor, membership, sheet, COLUMNS, "a" * 64, "big.csv")
    session.commit()
    assert not result.errors
    assert result.created == 2_000
    assert session.scalar(select(func.count()).where(Entry.reverses_id.is_not(None))) == 200
    verdict = verify_alliance(session, case.alliance.id)
    assert verdict.intact, verdict.summary()
    assert verdict.count == verdict.head.position == links_before + 2_000
    last = session.scalar(select(func.max(Entry.id)))
    assert (verdict.head.record_type, verdict.head.record_id) == ("entry", last)  # the reversals come last
    assert session.scalar(select(ImportBatch.row_count)) == 2_000


def test_one_bad_row_among_many_writes_nothing_and_is_named(session, case):
    actor, membership = acting(session, case, "coordinator")
    rows = big_rows(1_500)
    rows[1_234][3] = "toys"  # an Alpha cost on sheet row 1,236 (the header is row 1)
    sheet = sheet_of(rows)
    counts = [session.scalar(select(func.count()).select_from(model)) for model in (Entry, ChainLink, Activity)]
    preview = service.dry_run(session, actor, membership, sheet, COLUMNS)
    session.rollback()
    assert [r.number for r in preview.errors] == [1_236]
    assert len(preview.errors[0].errors) == 1
    assert preview.errors[0].errors[0].startswith(
        "Category (column \u201cCategory\u201d): No category named \u201ctoys\u201d in this alliance (known: ")
    assert preview.created == 1_499
    with pytest.raises(service.ImportRefused) as refused:
        service.import_sheet(session, actor, membership, sheet, COLUMNS, "b" * 64, "one-bad.csv")
    session.rollback()
    assert [r.number for r in refused.value.result.errors] == [1_236]
    assert [session.scalar(select(func.count()).select_from(model))
            for model in (Entry, ChainLink, Activity)] == counts
    assert session.scalar(select(func.count()).select_from(ImportBatch)) == 0


def test_a_close_that_lands_between_the_check_and_the_write_is_honoured(session, case, monkeypatch):
    """The rows are checked without the lock; the tables are read again under it, and checked again if changed."""
    actor, membership = acting(session, case, "coordinator")
    real = service.load_books
    calls = []

    def closing_meanwhile(s, m):
        calls.append(1)
        if len(calls) == 2:  # the read under the lock: someone closed May in between
            s.add(Period(alliance_id=case.alliance.id, start_date=date(2020, 4, 1), end_date=date(2020, 5, 31),
                         closed_by_id=case.users["coordinator"].id))
            s.flush()
        return real(s, m)

    monkeypatch.setattr(service, "load_books", closing_meanwhile)
    with pytest.raises(service.ImportRefused) as refused:
        service.import_sheet(session, actor, membership, sheet_of(VALID[:3]), COLUMNS, "c" * 64, "late.csv")
    session.rollback()
    assert len(calls) == 2
    assert all("closed period" in r.errors[0] for r in refused.value.result.rows)
    assert session.scalar(select(func.count()).select_from(Entry)) == 0


@pytest.mark.parametrize("run", [3, 1_000])  # consecutive ids read as ranges, or all as IN lists
def test_contents_of_is_content_of_for_many(session, case, monkeypatch, run):
    monkeypatch.setattr(chain, "CONTENTS_RUN", run)
    actor, membership = acting(session, case, "coordinator")
    service.import_sheet(session, actor, membership, sheet_of(VALID), COLUMNS, "d" * 64, "valid.csv")
    session.commit()
    ids = list(session.scalars(select(Entry.id).order_by(Entry.id)))
    ids = [*ids[:2], *ids[3:]]  # a gap: a range, a scattered id and another range
    many = contents_of(session, case.alliance.id, "entry", ids)
    assert many == {i: content_of(session, case.alliance.id, "entry", i) for i in ids}
    with pytest.raises(LookupError):
        contents_of(session, case.alliance.id, "entry", [*ids, 10_000_000])


def test_the_parsed_sheet_is_kept_exactly():
    sheet = Sheet(["Date", "Amount", "When"], [
        (2, [date(2020, 5, 4), 1234.56, datetime(2020, 5, 4, 10, 30)]),  # noqa: DTZ001 - as openpyxl gives it
        (3, ["2020-05-05", 12, time(8, 15)]),
        (5, [None, -0.1, "\u00e8 \u201cquoted\u201d"])], ["a note"], "Ledger")
    again = load_sheet(dump_sheet(sheet))
    assert again == sheet
    assert [type(c) for _, cells in again.rows for c in cells] == [type(c) for _, cells in sheet.rows for c in cells]
    assert load_sheet(b"not json") is None
    assert load_sheet(b'{"format": 0}') is None


# --- Row by row, generated: check_entry agrees with record_entry ----------------------------------------------

TEXT = st.text(st.characters(codec="utf-8", exclude_categories=("Cs",)), max_size=12)
#: Before the term, in the closed April, under either agreement version, after the term.
DAYS = st.dates(date(2020, 3, 1), date(2022, 5, 1))
PARTNERS = st.sampled_from(["Alpha", "Beta", "Gamma", "Omega"])
#: What a field may hold instead of a sensible value (names are replaced by ids of the case below).
ODD = {
    "kind": st.sampled_from(["cost", "revenue", "settlement", "gift", "", None]),
    "date": st.one_of(DAYS.map(date.isoformat), st.sampled_from(["2020-13-01", "1.5.2020", "", None])),
    "partner_id": st.sampled_from(["outsider", None, "", "x", "999999", 0, "Beta"]),
    "category_id": st.sampled_from(["waste", "sales", None, "", "outsider", "12abc"]),
    "counterparty_id": st.sampled_from([None, "", "Alpha", "Beta", "outsider"]),
    "amount": st.sampled_from(["0", "-1", "1.234", "1,5", "1.234,56", "abc", "", None, "1000000000.01"]),
    "description": st.one_of(TEXT, st.sampled_from(["", "x" * 501, "ok\x02"])),
    "reference": st.one_of(TEXT, st.just("r" * 301)),
}


@st.composite
def raws(draw) -> dict:
    """A sensible entry of any kind on any day, with up to two fields replaced by odd values."""
    kind = draw(st.sampled_from(["cost", "contribution", "service_fee", "revenue", "settlement"]))
    settlement = kind == "settlement"
    raw = {"kind": kind, "date": draw(DAYS), "partner_id": draw(PARTNERS),
           "category_id": None if settlement else draw(st.sampled_from(["production", "waste", "sales"])),
           "counterparty_id": draw(PARTNERS) if settlement else None,
           "amount": str(draw(st.decimals(min_value="0.01", max_value=10_000, places=2))),
           "description": draw(TEXT.filter(str.strip)), "reference": draw(TEXT)}
    for key in draw(st.lists(st.sampled_from(sorted(ODD)), max_size=2, unique=True)):
        raw[key] = draw(ODD[key])
    return raw


@pytest.mark.parametrize("who", ["coordinator", "beta"])
@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(raw=raws())
def test_check_entry_agrees_with_record_entry(session, books_case, who, raw):
    case = books_case
    other = session.scalar(select(Partner.id).where(Partner.alliance_id != case.alliance.id).limit(1))
    other_category = session.scalar(select(Category.id).where(Category.alliance_id == case.other.id).limit(1))
    names = {"outsider": other} | {name: case.pid(name) for name in ("Alpha", "Beta", "Gamma", "Omega")}
    categories = {"outsider": other_category} | {name: case.cid(name) for name in ("production", "waste", "sales")}
    raw = dict(raw, partner_id=names.get(raw["partner_id"], raw["partner_id"]),
               counterparty_id=names.get(raw["counterparty_id"], raw["counterparty_id"]),
               category_id=categories.get(raw["category_id"], raw["category_id"]))
    actor, membership = acting(session, case, who)
    books = service.load_books(session, membership)
    try:
        planned = checks.check_entry(books, raw, date.today())  # noqa: DTZ011
        batched = ("ok", planned.entry_date, planned.partner_id, planned.kind, planned.category_id, planned.amount,
                   planned.description, planned.reference, planned.counterparty_id, planned.version_id,
                   planned.pool_id)
    except InvalidInput as exc:
        batched = ("refused", list(exc.errors.items()))
    savepoint = session.begin_nested()
    try:
        entry = record_entry(session, actor, membership, raw)
        expected = ("ok", entry.entry_date, entry.partner_id, entry.kind, entry.category_id, entry.amount,
                    entry.description, entry.reference, entry.counterparty_id, entry.version_id, entry.pool_id)
    except InvalidInput as exc:
        expected = ("refused", list(exc.errors.items()))
    finally:
        savepoint.rollback()
    event(expected[0] if expected[0] == "ok" else f"refused at {', '.join(k for k, _ in expected[1])}")
    assert batched == expected


def test_the_preview_takes_no_lock(app, session, case, pg_url):
    """A writer holding the alliance row (an entry, a close, another import) does not hold up a preview."""
    engine = app.extensions["ledger.engine"]
    actor, membership = acting(session, case, "coordinator")
    with engine.connect() as other:
        other.execute(select(Alliance.id).where(Alliance.id == case.alliance.id).with_for_update())
        session.execute(text("SET LOCAL lock_timeout = '2s'"))
        result = service.dry_run(session, actor, membership, sheet_of(VALID), COLUMNS)
        session.rollback()
        other.rollback()
    assert result.created == len(VALID)


def counting_checks(monkeypatch) -> list[int]:
    calls: list[int] = []
    real = service.check_rows

    def counted(*args, **kwargs):
        calls.append(1)
        return real(*args, **kwargs)

    monkeypatch.setattr(service, "check_rows", counted)
    return calls


def test_the_import_uses_the_previews_verdict_when_nothing_changed(session, books_case, monkeypatch):
    case = books_case
    actor, membership = acting(session, case, "coordinator")
    sheet = sheet_of(VALID)
    _, created = row_by_row(session, actor, membership, sheet)
    expected = snapshot(created)
    session.rollback()
    calls = counting_checks(monkeypatch)
    preview = service.dry_run(session, actor, membership, sheet, COLUMNS, "e" * 64)
    session.rollback()
    assert preview.verdict is not None
    assert len(calls) == 1
    result = service.import_sheet(session, actor, membership, sheet, COLUMNS, "e" * 64, "valid.csv",
                                  preview.verdict)
    session.commit()
    assert len(calls) == 1  # not checked again
    assert result.created == len(VALID)
    assert snapshot(session.scalars(select(Entry).order_by(Entry.id)).all()) == expected
    assert verify_alliance(session, case.alliance.id).intact


@pytest.mark.parametrize("change", ["close", "member", "mapping", "file", "garbage"])
def test_a_verdict_for_other_inputs_is_not_used(session, case, monkeypatch, change):
    calls = counting_checks(monkeypatch)
    actor, membership = acting(session, case, "coordinator")
    sheet = sheet_of(VALID[:3])
    verdict = service.dry_run(session, actor, membership, sheet, COLUMNS, "e" * 64).verdict
    session.rollback()
    sha, columns = "e" * 64, COLUMNS
    if change == "close":  # the books changed since the preview
        session.add(Period(alliance_id=case.alliance.id, start_date=date(2020, 4, 1), end_date=date(2020, 5, 31),
                           closed_by_id=case.users["coordinator"].id))
        session.commit()
    elif change == "member":
        actor, membership = acting(session, case, "alpha")
    elif change == "mapping":
        columns = {**COLUMNS, "reference": COLUMNS["description"], "description": COLUMNS["reference"]}
    elif change == "file":
        sha = "0" * 64
    else:
        verdict = b'{"key": "x", "plan": [[1]]}'
    with pytest.raises(service.ImportRefused) if change in ("close", "member", "mapping") else nullcontext():
        service.import_sheet(session, actor, membership, sheet, columns, sha, "valid.csv", verdict)
    session.rollback()
    assert len(calls) == 2  # checked again
