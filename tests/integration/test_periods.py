"""Closing periods, the refusal of writes dated inside one, statements and sign-offs, on both engines."""

from __future__ import annotations

import threading
import time
from datetime import date

import pytest
from sqlalchemy import func, select

from ledger.chain import head_of, verify_alliance
from ledger.domain.errors import InvalidInput, NotAllowed
from ledger.models import Activity, Alliance, Entry, Membership, Period, User
from ledger.queries import balance_sheet
from ledger.services import agreements, entries
from ledger.services.periods import check_open, close_period, closed_through, open_day, sign_off
from ledger.statements import signoff_grid, statement
from tests.builders import TODAY, fifty_fifty_pools, record


def who(session, case, key: str) -> tuple[User, Membership]:
    return session.get(User, case.users[key].id), session.get(Membership, case.memberships[key].id)


def close(session, case, end: str, key: str = "accountant", today: date = TODAY) -> Period:
    user, membership = who(session, case, key)
    return close_period(session, user, membership, {"end_date": end}, today=today)


def test_closing_a_month_then_the_next_period_follows_without_a_gap(session, case):
    first = close(session, case, "2020-04-30")
    session.commit()
    assert (first.start_date, first.end_date) == (date(2020, 4, 1), date(2020, 4, 30))
    second = close(session, case, "2020-05-17", key="coordinator")
    session.commit()
    assert (second.start_date, second.end_date) == (date(2020, 5, 1), date(2020, 5, 17))
    assert closed_through(session, case.alliance) == date(2020, 5, 17)
    actions = session.scalars(select(Activity.action).where(Activity.alliance_id == case.alliance.id)).all()
    assert actions.count("period.closed") == 2


@pytest.mark.parametrize(("end", "message"), [
    ("2020-04-15", "already closed through 2020-04-30"),
    ("2019-12-31", "within the alliance's term"),
    ("2022-04-01", "within the alliance's term"),
    ("2020-06-30", "before today"),
    ("30/05/2020", "YYYY-MM-DD"),
    ("", "Enter a date"),
])
def test_close_validation(session, case, end, message):
    close(session, case, "2020-04-30")
    session.commit()
    with pytest.raises(InvalidInput) as refused:
        close(session, case, end)
    assert message in refused.value.errors["end_date"]


def test_only_the_coordinator_or_an_accountant_closes(session, case):
    for key in ("alpha", "steering"):
        with pytest.raises(NotAllowed):
            close(session, case, "2020-04-30", key=key)


def test_writes_dated_inside_a_closed_period_are_refused_at_their_date_field(session, case):
    entry = record(session, case, "alpha", partner="Alpha", kind="cost", category="production", amount="100",
                   date="2020-04-10")
    close(session, case, "2020-04-30")
    session.commit()
    with pytest.raises(InvalidInput) as refused:
        record(session, case, "alpha", partner="Alpha", kind="cost", category="production", amount="5",
               date="2020-04-30")
    assert "closed through 2020-04-30" in refused.value.errors["date"]
    session.rollback()
    alpha, alpha_m = who(session, case, "alpha")
    with pytest.raises(InvalidInput) as refused:
        entries.reverse_entry(session, alpha, alpha_m, session.get(Entry, entry.id), {"date": "2020-04-20"}, TODAY)
    assert "closed period" in refused.value.errors["date"]
    session.rollback()
    coord, coord_m = who(session, case, "coordinator")
    fingerprint = entries.transfers_fingerprint(balance_sheet(session, case.alliance).transfers)
    with pytest.raises(InvalidInput) as refused:
        entries.record_settle_up(session, coord, coord_m, {"date": "2020-04-01", "expected": fingerprint}, TODAY)
    assert "closed period" in refused.value.errors["date"]
    session.rollback()
    with pytest.raises(InvalidInput) as refused:
        agreements.create_version(session, coord, coord_m, {
            "effective_from": "2020-04-15", "note": "late", "pools": fifty_fifty_pools(case.partners)})
    assert "closed period" in refused.value.errors["effective_from"]
    session.rollback()
    # A correction goes into an open period: the reversal defaults to an open day.
    reversal = entries.reverse_entry(session, alpha, alpha_m, session.get(Entry, entry.id), {}, date(2020, 4, 20))
    assert reversal.entry_date == date(2020, 5, 1)
    assert open_day(session, case.alliance, date(2020, 6, 3)) == date(2020, 6, 3)


def test_a_statement_shows_the_balance_of_the_period_and_the_partners_entries(session, case):
    record(session, case, "alpha", partner="Alpha", kind="cost", category="production", amount="100.01",
           date="2020-04-10")
    record(session, case, "beta", partner="Beta", kind="revenue", category="production", amount="40",
           date="2020-04-12")
    record(session, case, "beta", partner="Beta", kind="settlement", counterparty="Alpha", amount="10",
           date="2020-04-13")
    record(session, case, "alpha", partner="Alpha", kind="cost", category="production", amount="7",
           date="2020-05-02")
    period = close(session, case, "2020-04-30")
    session.commit()
    for name in ("Alpha", "Beta", "Gamma"):
        st = statement(session, case.alliance, period, case.partners[name])
        sheet = balance_sheet(session, case.alliance, date(2020, 4, 1), date(2020, 4, 30))
        assert st.figures == sheet.row(case.pid(name))
    alpha = statement(session, case.alliance, period, case.partners["Alpha"])
    assert [e.description for e in alpha.entries.entries] == ["test entry", "test entry"]  # its cost, Beta's payment
    assert alpha.entries.count == 2
    assert {e.kind.value for e in alpha.entries.entries} == {"cost", "settlement"}


def test_signing_disputing_and_re_signing(session, case):
    period = close(session, case, "2020-04-30")
    session.commit()
    alpha, alpha_m = who(session, case, "alpha")
    first = sign_off(session, alpha, alpha_m, period, {"status": "signed"})
    with pytest.raises(InvalidInput) as refused:
        sign_off(session, alpha, alpha_m, period, {"status": "disputed", "comment": "  "})
    assert "needs a comment" in refused.value.errors["comment"]
    with pytest.raises(InvalidInput) as refused:
        sign_off(session, alpha, alpha_m, period, {"status": "maybe"})
    assert "status" in refused.value.errors
    sign_off(session, alpha, alpha_m, period, {"status": "disputed", "comment": "Invoice 7 is missing"})
    session.commit()
    grid = signoff_grid(session, case.alliance)
    assert grid.status(period, case.partners["Alpha"]) == "disputed"
    assert grid.status(period, case.partners["Beta"]) == "pending"
    sign_off(session, alpha, alpha_m, period, {"status": "signed", "comment": "Found it"})
    session.commit()
    st = statement(session, case.alliance, period, case.partners["Alpha"])
    assert st.status == "signed"
    assert [s.status.value for s in st.history] == ["signed", "disputed", "signed"]
    assert st.history[-1].id == first.id
    assert session.scalar(select(func.count()).select_from(Activity).where(
        Activity.action.in_(["period.signed", "period.disputed"]))) == 3


@pytest.mark.parametrize("key", ["beta", "coordinator", "accountant", "steering"])
def test_only_the_partners_own_members_sign_for_it(session, case, key):
    period = close(session, case, "2020-04-30")
    session.commit()
    user, membership = who(session, case, key)
    with pytest.raises(NotAllowed):
        sign_off(session, user, membership, period, {"partner_id": case.pid("Alpha"), "status": "signed"})


def test_an_entry_racing_a_close_never_lands_inside_the_closed_period(app, session, case):
    """The close holds the alliance lock; the entry's check waits for it and then sees the new close."""
    sessions = app.extensions["ledger.sessions"]
    closer = sessions()
    outcome: dict = {}

    def post() -> None:
        s = sessions()
        try:
            record(s, case, "alpha", partner="Alpha", kind="cost", category="production", amount="1",
                   date="2020-04-20")
            s.commit()
            outcome["result"] = "recorded"
        except InvalidInput as exc:
            s.rollback()
            outcome["result"] = exc.errors
        finally:
            s.close()

    try:
        close(closer, case, "2020-04-30")
        thread = threading.Thread(target=post)
        thread.start()
        time.sleep(0.5)
        assert thread.is_alive(), "the entry should wait for the close's lock"
        closer.commit()
        thread.join(timeout=30)
    finally:
        closer.close()
    assert "closed through 2020-04-30" in outcome["result"]["date"]
    session.rollback()
    assert session.scalar(select(func.count()).select_from(Entry)) == 0


def test_a_close_racing_an_entry_waits_and_then_covers_it(app, session, case):
    sessions = app.extensions["ledger.sessions"]
    poster = sessions()
    outcome: dict = {}

    def close_it() -> None:
        s = sessions()
        try:
            outcome["period"] = close(s, case, "2020-04-30").end_date
            s.commit()
        finally:
            s.close()

    try:
        record(poster, case, "alpha", partner="Alpha", kind="cost", category="production", amount="1",
               date="2020-04-20")
        thread = threading.Thread(target=close_it)
        thread.start()
        time.sleep(0.5)
        assert thread.is_alive(), "the close should wait for the entry's lock"
        poster.commit()
        thread.join(timeout=30)
    finally:
        poster.close()
    assert outcome["period"] == date(2020, 4, 30)
    session.rollback()
    with pytest.raises(InvalidInput):
        check_open(session, case.alliance, date(2020, 4, 20))


def test_a_closed_date_is_named_with_the_other_errors(session, case):
    """A date in a closed period is found under the lock when all else is valid, and up front otherwise."""
    close(session, case, "2020-04-30")
    session.commit()
    with pytest.raises(InvalidInput) as refused:
        record(session, case, "alpha", partner="Alpha", kind="cost", category="production", amount="12.3x",
               date="2020-04-20")
    assert set(refused.value.errors) == {"date", "amount"}
    assert "closed through 2020-04-30" in refused.value.errors["date"]


def test_an_entry_refused_under_the_lock_leaves_nothing_behind(session, case):
    """The INSERT that finds the date closed writes nothing and gives its event number back, so a caller
    that goes on in the same transaction (an import's reference check) commits no trace of it."""
    close(session, case, "2020-04-30")
    last_id = record(session, case, "alpha", partner="Alpha", kind="cost", category="production", amount="1",
                     date="2020-05-01").id
    session.commit()
    seq = session.get(Alliance, case.alliance.id).event_seq
    before = (session.scalar(select(func.count()).select_from(Entry)), seq, head_of(session, case.alliance.id))
    with pytest.raises(InvalidInput) as refused:
        record(session, case, "alpha", partner="Alpha", kind="cost", category="production", amount="5",
               date="2020-04-30")
    assert set(refused.value.errors) == {"date"}
    assert "closed through 2020-04-30" in refused.value.errors["date"]
    entry = record(session, case, "alpha", partner="Alpha", kind="cost", category="production", amount="5",
                   date="2020-05-01")
    session.commit()
    session.expire_all()
    assert entry.id == last_id + 1, "the refused entry used no id up: entry numbers stay gapless"
    assert session.scalar(select(func.count()).select_from(Entry)) == before[0] + 1
    assert session.get(Alliance, case.alliance.id).event_seq == before[1] + 1
    assert session.scalar(select(Activity.seq).where(Activity.entry_id == entry.id)) == before[1] + 1
    assert head_of(session, case.alliance.id).position == before[2].position + 1
    assert verify_alliance(session, case.alliance.id).intact
