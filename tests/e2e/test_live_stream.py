"""``GET /a/<id>/events`` over real HTTP: who may listen, what arrives, in what order, and how it resumes.

A real server (the app in a thread) streams to a plain socket client, so
buffering, chunking, cookies and timeouts are the real ones. Heartbeats are
set to a fraction of a second: a heartbeat after a batch of events means
"nothing else is pending", which is how these tests prove that nothing
extra (a duplicate, another alliance's event) was sent.
"""

from __future__ import annotations

import http.client
import time
from collections.abc import Iterator
from urllib.parse import urlsplit

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from ledger.models import Alliance, Membership, User
from ledger.services import alliances
from tests.browser.conftest import LiveServer
from tests.builders import PASSWORD, Case, record
from tests.e2e.api_support import make_tokens
from tests.live_client import EventStream, StreamClosed, login, post_entry, post_form
from tests.servers import ServerProcess, running

HEARTBEAT = 0.25


@pytest.fixture
def server(app, case) -> Iterator[LiveServer]:
    app.config["LIVE_HEARTBEAT_SECONDS"] = HEARTBEAT
    with LiveServer(app) as live:
        yield live


def current_seq(session: Session, alliance_id: int) -> int:
    session.rollback()
    return session.scalar(select(Alliance.event_seq).where(Alliance.id == alliance_id))


def cost(session: Session, case: Case, amount: str, who: str = "alpha", partner: str = "Alpha"):
    entry = record(session, case, who, partner=partner, kind="cost", category="production", amount=amount,
                   description=f"cost of {amount}")
    session.commit()
    return entry


def events_path(alliance_id: int, after: int | None = None) -> str:
    return f"/a/{alliance_id}/events" + (f"?after={after}" if after is not None else "")


def test_anonymous_is_sent_to_log_in_and_outsider_gets_404(server, case):
    a = case.alliance.id
    with EventStream(server.url, events_path(a)) as anonymous:
        assert anonymous.status == 302
        assert "/login" in anonymous.headers["Location"]
        assert "text/event-stream" not in anonymous.headers.get("Content-Type", "")
    outsider = login(server.url, "outsider")
    with EventStream(server.url, events_path(a), outsider) as refused:
        assert refused.status == 404
        assert "text/event-stream" not in refused.headers.get("Content-Type", "")
    with EventStream(server.url, events_path(case.other.id), outsider) as own:
        assert own.status == 200  # the outsider does belong to the other alliance
        assert own.headers["Content-Type"].startswith("text/event-stream")


def test_member_receives_events_in_order_then_live(server, session, case):
    a = case.alliance.id
    start = current_seq(session, a)
    recorded = [cost(session, case, amount) for amount in ("1.00", "2.50", "1243.57")]
    with EventStream(server.url, events_path(a, after=start), login(server.url, "beta")) as stream:
        assert stream.status == 200
        assert stream.headers["Cache-Control"] == "no-store"
        first = stream.read_message()
        assert first.retry == 1000  # the browser's reconnect delay comes first
        got = stream.until_heartbeat()
        assert [m.seq for m in got] == [start + 1, start + 2, start + 3]
        assert {m.event for m in got} == {"activity"}
        data = [m.json for m in got]
        assert [d["seq"] for d in data] == [m.seq for m in got]
        assert [d["entry"]["id"] for d in data] == [e.id for e in recorded]
        assert [d["entry"]["amount"] for d in data] == [100, 250, 124357]
        assert data[2]["entry"]["partner"] == "Alpha"
        assert data[2]["entry"]["kind"] == "cost"
        assert data[2]["actor"] == "Alpha User"
        assert "1,243.57" in data[2]["summary"]

        live = cost(session, case, "7.00")  # recorded while the stream is open
        (event,) = stream.settle(1)
        assert event.seq == start + 4
        assert event.json["entry"]["id"] == live.id


def test_resume_with_last_event_id_or_after_is_exact(server, session, case):
    a = case.alliance.id
    start = current_seq(session, a)
    for n in range(5):
        cost(session, case, f"{n + 1}.00")
    beta = login(server.url, "beta")
    # A reconnect (Last-Event-ID) wins over the page's ?after=, and gets exactly what followed.
    with EventStream(server.url, events_path(a, after=0), beta, last_event_id=start + 2) as resumed:
        assert [m.seq for m in resumed.until_heartbeat()] == [start + 3, start + 4, start + 5]
    with EventStream(server.url, events_path(a, after=start + 4), beta) as after:
        assert [m.seq for m in after.until_heartbeat()] == [start + 5]
    # No starting point at all: from now on, nothing old.
    with EventStream(server.url, events_path(a), beta) as fresh:
        assert fresh.until_heartbeat() == []
        cost(session, case, "9.00")
        assert [m.seq for m in fresh.settle(1)] == [start + 6]
    # A starting point beyond the last event is treated as "now", never as a promise to skip future events.
    with EventStream(server.url, events_path(a), beta, last_event_id=start + 100) as ahead:
        assert ahead.until_heartbeat() == []
        cost(session, case, "10.00")
        assert [m.seq for m in ahead.settle(1)] == [start + 7]


def test_events_never_cross_alliances(server, session, case):
    a, other = case.alliance.id, case.other.id
    a_start, other_start = current_seq(session, a), current_seq(session, other)
    with EventStream(server.url, events_path(a, after=a_start), login(server.url, "alpha")) as mine, \
            EventStream(server.url, events_path(other, after=other_start), login(server.url, "outsider")) as theirs:
        assert mine.until_heartbeat() == []
        assert theirs.until_heartbeat() == []
        outsider = session.get(User, case.users["outsider"].id)
        coordinator = session.scalars(select(Membership).where(
            Membership.alliance_id == other, Membership.user_id == outsider.id)).one()
        alliances.add_partner(session, outsider, coordinator, {"name": "Delta", "role": "secondary",
                                                               "type": "supplier"})
        session.commit()
        cost(session, case, "3.00")
        mine_got, theirs_got = mine.settle(1), theirs.settle(1)
    assert [m.seq for m in mine_got] == [a_start + 1]
    assert mine_got[0].json["entry"]["amount"] == 300
    assert [m.seq for m in theirs_got] == [other_start + 1]
    assert theirs_got[0].json["entry"] is None
    assert "Delta" in theirs_got[0].json["summary"]


def test_removed_member_stream_ends_with_revoked(server, session, case):
    a = case.alliance.id
    with EventStream(server.url, events_path(a), login(server.url, "gamma")) as stream:
        assert stream.until_heartbeat() == []
        coordinator = session.get(User, case.users["coordinator"].id)
        alliances.remove_member(session, coordinator, session.get(Membership, case.memberships["coordinator"].id),
                                session.get(Membership, case.memberships["gamma"].id))
        session.commit()
        (message,) = stream.events(1)
        assert message.event == "revoked"
        assert message.id is None  # not an event of the alliance: nothing to resume from
        with pytest.raises(StreamClosed):
            stream.read_message()
    with EventStream(server.url, events_path(a), login(server.url, "gamma")) as again:
        assert again.status == 404


def test_entry_posted_through_the_api_arrives_and_idle_streams_get_heartbeats(server, session, case):
    a = case.alliance.id
    token = make_tokens(session, case)["beta"]
    with EventStream(server.url, events_path(a), login(server.url, "alpha")) as stream:
        beats = 0
        for _ in range(3):  # idle: only heartbeats, about every HEARTBEAT seconds
            message = stream.read_message(timeout=HEARTBEAT * 4)
            if message.comment is not None:
                beats += 1
                assert message.comment == "keep-alive"
            else:
                assert message.event is None
        assert beats >= 2
        created = post_entry(server.url, token, a, {
            "date": "2020-05-04", "partner_id": case.pid("Beta"), "kind": "revenue", "amount": "512.30",
            "category_id": case.cid("production"), "description": "Masks sold"})
        (event,) = stream.settle(1)
    assert event.json["entry"]["id"] == created["id"]
    assert event.json["entry"]["amount"] == 51230
    assert event.json["actor"] == "Beta User"


# ---- the log-in session ends: log-out, a new password --------------------------------------------------

#: The streams' own periodic check is this far away: ending on time is the wake-up of the session's end.
SLOW_HEARTBEAT = 30.0
IN_SECONDS = 3.0


@pytest.fixture
def slow_server(app, case) -> Iterator[LiveServer]:
    app.config["LIVE_HEARTBEAT_SECONDS"] = SLOW_HEARTBEAT
    with LiveServer(app) as live:
        yield live


def assert_ends_as(stream: EventStream, reason: str) -> None:
    started = time.monotonic()
    (message,) = stream.events(1, timeout=IN_SECONDS)
    assert time.monotonic() - started < IN_SECONDS
    assert (message.event, message.json) == ("revoked", {"reason": reason})
    with pytest.raises(StreamClosed):
        stream.read_message()


def test_a_logged_out_sessions_stream_ends_within_seconds(slow_server, case):
    a = case.alliance.id
    cookie, elsewhere = login(slow_server.url, "beta"), login(slow_server.url, "beta")
    with EventStream(slow_server.url, events_path(a), cookie) as stream, \
            EventStream(slow_server.url, events_path(a), elsewhere) as other:
        assert stream.read_message().retry is not None
        assert other.read_message().retry is not None
        assert post_form(slow_server.url, "/logout", cookie) == 302
        assert_ends_as(stream, "logged-out")
        with pytest.raises(TimeoutError):
            other.read_message(timeout=1.0)  # the same person's other session streams on
    with EventStream(slow_server.url, events_path(a), cookie) as again:
        assert again.status == 302  # the copied cookie opens nothing any more


def test_a_new_password_ends_the_streams_of_the_other_sessions(slow_server, case):
    a = case.alliance.id
    here, elsewhere = login(slow_server.url, "beta"), login(slow_server.url, "beta")
    with EventStream(slow_server.url, events_path(a), elsewhere) as theirs, \
            EventStream(slow_server.url, events_path(a), here) as mine:
        assert theirs.read_message().retry is not None
        assert mine.read_message().retry is not None
        new = "a brand new passphrase"
        assert post_form(slow_server.url, "/account", here, {
            "action": "password", "current_password": PASSWORD, "new_password": new, "confirm": new}) == 302
        assert_ends_as(theirs, "logged-out")
        with pytest.raises(TimeoutError):
            mine.read_message(timeout=1.0)


# ---- caps on open streams ----------------------------------------------------------------------------


@pytest.fixture
def capped_server(app, case) -> Iterator[LiveServer]:
    app.config.update(LIVE_HEARTBEAT_SECONDS=SLOW_HEARTBEAT, LIVE_STREAMS_PER_USER=2, LIVE_STREAMS_PER_ADDRESS=3)
    with LiveServer(app) as live:
        yield live


def opened(base_url: str, path: str, cookie: str) -> EventStream:
    stream = EventStream(base_url, path, cookie)
    assert stream.status == 200
    assert stream.read_message().retry is not None  # the view has run: the stream holds its slot
    return stream


def assert_gave_way(stream: EventStream) -> None:
    (message,) = stream.events(1, timeout=IN_SECONDS)
    assert (message.event, message.json) == ("superseded", {"reason": "too-many-streams"})
    with pytest.raises(StreamClosed):
        stream.read_message()


def assert_streaming(session: Session, case: Case, *streams: EventStream) -> None:
    """Each stream is still open: an entry recorded now reaches every one of them."""
    cost(session, case, "1.00")
    for stream in streams:
        assert [m.event for m in stream.events(1, timeout=IN_SECONDS)] == ["activity"]


def test_past_the_cap_per_user_the_oldest_stream_gives_way(capped_server, session, case):
    path, cookie = events_path(case.alliance.id), login(capped_server.url, "alpha")
    first, second = opened(capped_server.url, path, cookie), opened(capped_server.url, path, cookie)
    third = opened(capped_server.url, path, login(capped_server.url, "alpha"))  # another session, same person
    beta = gamma = None
    try:
        assert_gave_way(first)
        assert_streaming(session, case, second, third)
        # Past the cap per address (three, all from 127.0.0.1 here) the oldest stream of the address gives way,
        # whoever holds it.
        beta = opened(capped_server.url, path, login(capped_server.url, "beta"))
        gamma = opened(capped_server.url, path, login(capped_server.url, "gamma"))
        assert_gave_way(second)
        assert_streaming(session, case, third, beta, gamma)
    finally:
        for stream in (first, second, third, beta, gamma):
            if stream is not None:
                stream.close()


STREAMS = 40
#: Generous on a busy machine: without the caps the log-in page never answers at all.
ANSWERS_WITHIN = 10.0


def test_forty_streams_of_one_member_leave_the_log_in_page_answering(pg_url, case, tmp_path):
    """Two gunicorn workers of 32 threads, as tested for deployment, with the default caps: each stream holds
    a thread, so without a cap forty of them take a worker's every thread and requests queue behind them."""
    server = ServerProcess(pg_url, tmp_path, workers=2, threads=32, env={"LEDGER_LIVE_HEARTBEAT_SECONDS": "30"})
    with running([server]):
        cookie, path = login(server.url, "alpha"), events_path(case.alliance.id)
        streams = []
        try:
            for _ in range(STREAMS):
                streams.append(EventStream(server.url, path, cookie, timeout=ANSWERS_WITHIN))
            for _ in range(6):  # a new connection each time: either worker may take it
                conn = http.client.HTTPConnection(urlsplit(server.url).hostname, server.port, timeout=ANSWERS_WITHIN)
                try:
                    conn.request("GET", "/login")
                    response = conn.getresponse()
                    assert response.status == 200
                    assert b'name="password"' in response.read()
                finally:
                    conn.close()
            assert streams[-1].status == 200
            assert streams[-1].read_message().retry is not None  # the newest stream is the one kept
        finally:
            for stream in streams:
                stream.close()
