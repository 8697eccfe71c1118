"""One clock, in the alliance's time zone: the pages, the API, the services and the command line agree on today.

The instant is 2021-03-31 22:30 UTC, inside the case's term: still 31 March in UTC, already 1 April in Rome
(summer time, UTC+2). Before the one clock the pages took the server's local day, the API the UTC day and
the services ``date.today()``, so near midnight a page and the API disagreed on what today was, and whether
an ended alliance's books were still open depended on which door the entry came in by.
"""

from __future__ import annotations

import re
from datetime import UTC, date, datetime

import pytest
from sqlalchemy import select

from ledger.clock import FixedClock, utcnow
from ledger.models import Alliance, Checkpoint, Entry, Membership, User
from ledger.services.checkpoints import schedule_checkpoint
from tests.builders import record, stop_clock
from tests.e2e.api_support import Api, error_fields, make_tokens, row_counts
from tests.e2e.test_web_entries import entry_form, error_at

NEAR_MIDNIGHT = datetime(2021, 3, 31, 22, 30, tzinfo=UTC)
IN_UTC, IN_ROME = date(2021, 3, 31), date(2021, 4, 1)
ZONES = [pytest.param("Europe/Rome", IN_ROME, id="rome"), pytest.param("UTC", IN_UTC, id="utc")]


@pytest.fixture
def api(app, client, session, case) -> Api:
    stop_clock(app, NEAR_MIDNIGHT)
    return Api(app, client, make_tokens(session, case))


def set_alliance(session, alliance_id: int, **values) -> None:
    row = session.get(Alliance, alliance_id)
    for name, value in values.items():
        setattr(row, name, value)
    session.commit()


def date_field(page: str) -> str:
    return re.search(r'<input[^>]*name="date"[^>]*value="([^"]*)"', page).group(1)


@pytest.mark.parametrize(("zone", "day"), ZONES)
def test_the_page_and_the_api_agree_on_today_in_the_alliances_time_zone(api, auth, client, session, case, zone,
                                                                           day):
    a = case.alliance.id
    set_alliance(session, a, timezone=zone)
    auth.login("alpha")
    settings = client.get(f"/a/{a}/settings").get_data(as_text=True)
    assert f'<dd id="alliance-today">{day.isoformat()}</dd>' in settings
    assert f'<dd id="alliance-timezone">{zone}</dd>' in settings
    assert date_field(client.get(f"/a/{a}/entries/new").get_data(as_text=True)) == day.isoformat()

    assert api.get(f"/alliances/{a}", "alpha").get_json()["today"] == day.isoformat()
    # A write the API dates itself (a reversal without a date) takes the same day.
    entry = record(session, case, "alpha", partner="Alpha", kind="cost", category="production", amount="10")
    session.commit()
    reversal = api.post(f"/alliances/{a}/entries/{entry.id}/reversal", "alpha", json={})
    assert reversal.status_code == 201, reversal.get_json()
    assert reversal.get_json()["date"] == day.isoformat()


@pytest.mark.parametrize(("zone", "read_only"), [("Europe/Rome", True), ("UTC", False)])
def test_an_alliance_that_ended_yesterday_there_refuses_entries_by_page_and_api_alike(api, auth, client, session,
                                                                                     case, zone, read_only):
    """Terminated with 31 March as its last day: in Rome the books are already read-only, in UTC not yet."""
    a = case.alliance.id
    set_alliance(session, a, timezone=zone, ended_on=IN_UTC)
    before = row_counts(session)
    auth.login("alpha")
    page = client.post(f"/a/{a}/entries/new", data=entry_form(case, date=IN_UTC.isoformat()))
    by_api = api.post(f"/alliances/{a}/entries", "alpha", json={
        "date": IN_UTC.isoformat(), "partner_id": case.pid("Alpha"), "kind": "cost",
        "category_id": case.cid("production"), "amount": "5.00", "description": "Last day's blades"})
    state = api.get(f"/alliances/{a}", "alpha").get_json()["state"]
    if read_only:
        assert page.status_code == 422  # the page says why the books are closed instead of offering a form
        assert "read-only" in page.get_data(as_text=True)
        assert 'name="amount"' not in page.get_data(as_text=True)
        assert by_api.status_code == 422
        assert "read-only" in error_fields(by_api)["date"]
        assert state == "ended"
        assert row_counts(session) == before
    else:
        assert page.status_code == 302
        assert by_api.status_code == 201, by_api.get_json()
        assert state == "ending"
        session.rollback()
        assert session.scalar(select(Entry.id).where(Entry.description == "Last day's blades")) is not None


@pytest.mark.parametrize(("zone", "state"), [("Europe/Rome", "expired"), ("UTC", "active")])
def test_on_the_terms_last_evening_the_page_and_the_api_agree_whether_it_ran_out(api, app, auth, client, session,
                                                                                case, zone, state):
    """22:30 UTC on the term's last day (2022-03-31): the next day in Rome, so its term has run out there."""
    a = case.alliance.id
    set_alliance(session, a, timezone=zone)
    stop_clock(app, datetime(2022, 3, 31, 22, 30, tzinfo=UTC))
    assert api.get(f"/alliances/{a}", "alpha").get_json()["state"] == state
    auth.login("alpha")
    page = client.get(f"/a/{a}/").get_data(as_text=True)
    assert ("The term ended on 2022-03-31" in page) is (state == "expired")


def test_timestamps_come_from_the_same_clock(api, session, case):
    response = api.post(f"/alliances/{case.alliance.id}/entries", "alpha", json={
        "date": "2021-03-01", "partner_id": case.pid("Alpha"), "kind": "cost",
        "category_id": case.cid("production"), "amount": "5.00", "description": "Stamped"})
    assert response.status_code == 201
    assert response.get_json()["recorded_at"].startswith("2021-03-31T22:30")
    session.rollback()
    assert session.get(Entry, response.get_json()["id"]).recorded_at == NEAR_MIDNIGHT


def test_the_app_holds_its_clock_and_outside_an_app_the_system_clock_answers(app):
    with app.app_context():
        assert utcnow() != NEAR_MIDNIGHT
        stop_clock(app, NEAR_MIDNIGHT)
        assert utcnow() == NEAR_MIDNIGHT
    assert abs((utcnow() - datetime.now(UTC)).total_seconds()) < 60
    with pytest.raises(ValueError, match="aware"):
        FixedClock(datetime(2021, 3, 31, 22, 30))  # noqa: DTZ001 - the naive instant a fixed clock refuses


def test_a_clock_given_in_the_settings_is_the_apps(database_url):
    from ledger import create_app
    from ledger.clock import EXTENSION

    app = create_app({"TESTING": True, "DATABASE_URL": database_url, "SECRET_KEY": "tests",
                      "CLOCK": FixedClock(NEAR_MIDNIGHT)})
    try:
        assert app.extensions[EXTENSION].now() == NEAR_MIDNIGHT
        with app.app_context():
            assert utcnow() == NEAR_MIDNIGHT
    finally:
        app.extensions["ledger.engine"].dispose()


def test_the_command_line_opens_each_alliances_checkpoints_on_its_own_day(app, session, case):
    """Both alliances have a review due on 1 April: only Rome's day has come."""
    set_alliance(session, case.alliance.id, timezone="Europe/Rome")
    for coordinator in ("coordinator", "outsider"):
        user = session.get(User, case.users[coordinator].id)
        membership = session.scalars(select(Membership).where(Membership.user_id == user.id)).one()
        schedule_checkpoint(session, user, membership, {"due_date": IN_ROME.isoformat(), "label": "Spring review"},
                            today=date(2021, 3, 1))
    session.commit()
    stop_clock(app, NEAR_MIDNIGHT)
    result = app.test_cli_runner().invoke(args=["ledger", "open-checkpoints"])
    assert result.exit_code == 0, result.output
    assert "1 checkpoint opened." in result.output
    session.rollback()
    opened = {c.alliance_id: c.opened_at for c in session.scalars(select(Checkpoint))}
    assert opened[case.alliance.id] == NEAR_MIDNIGHT
    assert opened[case.other.id] is None


# ---- the setting ---------------------------------------------------------------------------------------

def test_the_coordinator_sets_the_time_zone_through_the_api_and_a_bad_one_is_refused_at_the_field(api, session,
                                                                                                 case):
    a = case.alliance.id
    assert api.get(f"/alliances/{a}", "alpha").get_json()["timezone"] == "UTC"
    before = row_counts(session)
    for bad in ("Mars/Olympus_Mons", "localtime", "../../etc/passwd", 7, "Europe/" + "x" * 200):
        response = api.call("PATCH", f"/alliances/{a}", "coordinator", json={"timezone": bad})
        assert response.status_code == 422, bad
        assert "time zone" in error_fields(response)["timezone"]
    assert api.call("PATCH", f"/alliances/{a}", "alpha", json={"timezone": "Europe/Rome"}).status_code == 403
    assert row_counts(session) == before

    response = api.call("PATCH", f"/alliances/{a}", "coordinator", json={"timezone": "europe/rome"})
    assert response.status_code == 200, response.get_json()
    assert (response.get_json()["timezone"], response.get_json()["today"]) == ("Europe/Rome", IN_ROME.isoformat())
    again = api.call("PATCH", f"/alliances/{a}", "coordinator", json={"timezone": "Europe/Rome"})
    assert again.status_code == 422
    assert "Nothing changed" in error_fields(again)["timezone"]


def test_an_alliance_is_created_in_a_time_zone_and_utc_without_one(api, case):
    body = {"name": "Spring alliance", "currency": "EUR", "start_date": "2021-01-01", "term_end": "2021-12-31"}
    created = api.post("/alliances", "outsider", json={**body, "timezone": "Europe/Rome"})
    assert created.status_code == 201, created.get_json()
    assert (created.get_json()["timezone"], created.get_json()["today"]) == ("Europe/Rome", IN_ROME.isoformat())
    assert api.post("/alliances", "outsider", json=body).get_json()["timezone"] == "UTC"
    refused = api.post("/alliances", "outsider", json={**body, "timezone": "Rome"})
    assert refused.status_code == 422
    assert "Rome" in error_fields(refused)["timezone"]
    # A list of alliances has no single today: each one is judged by its own.
    listed = {(a["timezone"], a["today"]) for a in api.get("/alliances", "outsider").get_json()["alliances"]}
    assert listed == {("UTC", IN_UTC.isoformat()), ("Europe/Rome", IN_ROME.isoformat())}


def test_the_settings_page_changes_the_time_zone_and_shows_an_unknown_one_at_its_field(app, auth, client, session,
                                                                                      case):
    stop_clock(app, NEAR_MIDNIGHT)
    a = case.alliance.id
    auth.login("coordinator")
    refused = client.post(f"/a/{a}/settings", data={"timezone": "Europe/Atlantis"})
    assert refused.status_code == 422
    assert "not a time zone" in error_at(refused.get_data(as_text=True), "timezone")
    session.rollback()
    assert session.get(Alliance, a).timezone == "UTC"

    saved = client.post(f"/a/{a}/settings", data={"timezone": "Europe/Rome"}, follow_redirects=True)
    assert saved.status_code == 200
    page = saved.get_data(as_text=True)
    assert '<dd id="alliance-timezone">Europe/Rome</dd>' in page
    assert f'<dd id="alliance-today">{IN_ROME.isoformat()}</dd>' in page
    auth.logout()
    auth.login("alpha")
    assert client.post(f"/a/{a}/settings", data={"timezone": "UTC"}).status_code == 403


def test_the_new_alliance_form_takes_a_time_zone(auth, client, session, case):
    auth.login("outsider")
    form = {"name": "Form alliance", "currency": "EUR", "start_date": "2021-01-01", "term_end": "2021-12-31"}
    refused = client.post("/alliances/new", data={**form, "timezone": "Nowhere/Land"})
    assert refused.status_code == 422
    assert "not a time zone" in error_at(refused.get_data(as_text=True), "timezone")
    assert client.post("/alliances/new", data={**form, "timezone": "Europe/Rome"}).status_code == 302
    session.rollback()
    assert session.scalar(select(Alliance.timezone).where(Alliance.name == "Form alliance")) == "Europe/Rome"
