"""The running totals the database keeps by trigger: every read from them equals the entries themselves.

Random books (seeded) are recorded through the services, re-assigned by a second agreement version (the
UPDATE trigger moves their sums) and partly reversed; then balances over random periods, the ledger's
filtered counts and totals, and its keyset pages are checked against the entries, on both engines.
"""

from __future__ import annotations

import random
from datetime import date, timedelta

import pytest
from sqlalchemy import delete, func, select, update

from ledger import queries, totals
from ledger.domain.vocabulary import EntryKind
from ledger.models import Activity, Entry, EntryTotal
from tests.integration.test_balance_sql import START, _record_random, _reference, _reverse_some, _version_two


@pytest.fixture
def books(session, case):
    rnd = random.Random(11)
    _record_random(session, case, rnd, 40)
    _reverse_some(session, case, rnd, 0.2)
    _version_two(session, case)
    _record_random(session, case, rnd, 40)
    _reverse_some(session, case, rnd, 0.2)
    session.commit()
    session.expire_all()
    return case


def _random_period(rnd: random.Random) -> tuple[date | None, date | None]:
    def day() -> date:
        return START + timedelta(days=rnd.randrange(-20, 420))
    first, last = sorted([day(), day()])
    return rnd.choice([first, None]), rnd.choice([last, None])


def test_balances_over_any_period_equal_the_entries(session, books):
    rnd = random.Random(5)
    periods = [_random_period(rnd) for _ in range(12)] + [(date(2020, 5, 1), date(2020, 5, 31)),
                                                         (date(2020, 9, 30), date(2020, 10, 1))]
    for date_from, date_to in periods:
        sheet = queries.balance_sheet(session, books.alliance, date_from, date_to)
        assert sheet.rows == _reference(session, books, date_from, date_to), (date_from, date_to)
        where = queries._period([Entry.alliance_id == books.alliance.id], date_from, date_to)
        assert sheet.entry_count == session.scalar(select(func.count()).select_from(Entry).where(*where))


def _kept_rows(session) -> set[tuple]:
    """Every totals row that holds something (a re-assignment leaves its old pool's rows at zero)."""
    return set(session.execute(select(EntryTotal.__table__).where(
        (EntryTotal.entries != 0) | (EntryTotal.amount != 0))).all())


def test_what_the_triggers_wrote_is_what_a_rebuild_computes(session, books):
    written = _kept_rows(session)
    assert written, "the triggers wrote nothing"
    totals.rebuild(session)
    session.commit()
    assert _kept_rows(session) == written
    assert totals.mismatches(session, books.alliance.id) == []


def test_ledger_counts_totals_and_pages_equal_the_entries(session, books):
    beta, machinery = books.pid("Beta"), books.cid("machinery")
    for name, filters in {
        "none": queries.LedgerFilter(),
        "partner": queries.LedgerFilter(partner_id=beta),
        "kind": queries.LedgerFilter(kind=EntryKind.COST),
        "settlements": queries.LedgerFilter(kind=EntryKind.SETTLEMENT),
        "partner's settlements": queries.LedgerFilter(partner_id=beta, kind=EntryKind.SETTLEMENT),
        "partner's machinery": queries.LedgerFilter(partner_id=beta, category_id=machinery),
        "category": queries.LedgerFilter(category_id=machinery),
        "period": queries.LedgerFilter(date_from=date(2020, 6, 17), date_to=date(2021, 1, 9)),
        "all": queries.LedgerFilter(partner_id=beta, kind=EntryKind.COST, date_from=date(2020, 5, 2),
                                    date_to=date(2021, 2, 27)),
    }.items():
        _check_ledger(session, books.alliance, filters, name)


def _check_ledger(session, alliance, filters, name):
    expected = list(session.execute(
        select(Entry.id, Entry.kind, Entry.amount).where(*filters.conditions(alliance))
        .order_by(Entry.entry_date.desc(), Entry.id.desc())))
    assert expected, f"the filter {name} should find something in these books"

    first = queries.ledger_page(session, alliance, filters, limit=7)
    assert first.count == len(expected)
    want_totals: dict[EntryKind, int] = {}
    for _, kind, amount in expected:
        want_totals[kind] = want_totals.get(kind, 0) + amount
    assert first.totals == want_totals

    seen, page = [], first
    while True:
        seen += [e.id for e in page.entries]
        if page.next_cursor is None:
            break
        page = queries.ledger_page(session, alliance, filters, before=page.next_cursor, limit=7, with_totals=False)
    assert seen == [row.id for row in expected]


def test_verify_names_totals_that_no_longer_match_and_rebuild_mends_them(app, session, books):
    reversed_ids = select(Entry.reverses_id).where(Entry.reverses_id.is_not(None))
    victim = session.scalar(select(Entry).where(
        Entry.alliance_id == books.alliance.id, Entry.kind == EntryKind.REVENUE, Entry.reverses_id.is_(None),
        Entry.id.not_in(reversed_ids)).order_by(Entry.id).limit(1))
    session.execute(update(Activity).where(Activity.entry_id == victim.id).values(entry_id=None))
    session.execute(delete(Entry).where(Entry.id == victim.id))  # by hand in SQL: no trigger subtracts it
    session.commit()
    off = totals.mismatches(session, books.alliance.id)
    assert [gap.kind for gap in off] == ["revenue"]  # named once, by its category, not again in the sum
    assert (off[0].held_entries - off[0].entries, off[0].held_amount - off[0].amount) == (1, victim.amount)

    runner = app.test_cli_runner()
    result = runner.invoke(args=["ledger", "verify", str(books.alliance.id)])
    assert result.exit_code == 1
    assert f"totals: {off[0].partner}'s revenue entries" in result.output

    result = runner.invoke(args=["ledger", "rebuild-totals", str(books.alliance.id)])
    assert result.exit_code == 0, result.output
    session.expire_all()
    assert totals.mismatches(session, books.alliance.id) == []
    assert queries.balance_sheet(session, books.alliance).rows == _reference(session, books)


def test_the_all_time_rows_without_categories_are_checked_and_rebuilt_too(app, session, books):
    """Balances read the rows with the categories summed away: a drift there alone is found and mended."""
    session.execute(update(EntryTotal).where(
        EntryTotal.alliance_id == books.alliance.id, EntryTotal.grain == "s", EntryTotal.kind == EntryKind.COST)
        .values(amount=EntryTotal.amount + 1))
    session.commit()
    off = totals.mismatches(session, books.alliance.id)
    assert off
    assert all(gap.all_categories and "all categories together" in gap.message for gap in off)
    assert queries.balance_sheet(session, books.alliance).rows != _reference(session, books)

    result = app.test_cli_runner().invoke(args=["ledger", "rebuild-totals", str(books.alliance.id)])
    assert result.exit_code == 0, result.output
    session.expire_all()
    assert totals.mismatches(session, books.alliance.id) == []
    assert queries.balance_sheet(session, books.alliance).rows == _reference(session, books)


def test_a_category_filter_reads_the_rows_kept_per_category(session, books):
    """The whole term filtered on a category cannot come from the summed rows; its totals still match."""
    machinery = books.cid("machinery")
    page = queries.ledger_page(session, books.alliance, queries.LedgerFilter(category_id=machinery), limit=1)
    expected = session.scalar(select(func.count()).select_from(Entry).where(
        Entry.alliance_id == books.alliance.id, Entry.category_id == machinery))
    assert expected
    assert page.count == expected
