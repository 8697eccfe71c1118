"""The per-process feed: one database read per new event for all of an alliance's streams, none lost."""

from __future__ import annotations

from sqlalchemy import event

from ledger.live.feed import Feed
from ledger.live.stream import _message
from ledger.models import Alliance
from tests.builders import record


def _seq(session, case) -> int:
    session.expire_all()
    return session.get(Alliance, case.alliance.id).event_seq


def _record(session, case, n: int) -> None:
    for i in range(n):
        record(session, case, "alpha", partner="Alpha", kind="cost", category="waste", amount=f"{i + 1}.00")
        session.commit()


class Queries:
    """Counts the statements an engine runs (to prove the streams share one read)."""

    def __init__(self, engine) -> None:
        self.count = 0
        event.listen(engine, "before_cursor_execute", self._seen)
        self.engine = engine

    def _seen(self, *args) -> None:
        self.count += 1

    def close(self) -> None:
        event.remove(self.engine, "before_cursor_execute", self._seen)


def test_many_streams_share_one_read_per_new_event(app, session, case):
    feed: Feed = app.extensions["ledger.feed"]
    start = _seq(session, case)
    assert feed.since(case.alliance.id, start) == []
    _record(session, case, 1)  # the commit announces the event to this process's broker
    queries = Queries(app.extensions["ledger.engine"])
    try:
        seen = [feed.since(case.alliance.id, start) for _ in range(50)]
    finally:
        queries.close()
    assert all(len(events) == 1 and events[0].seq == start + 1 for events in seen)
    assert "waste cost of EUR 1.00" in seen[0][0].message
    assert queries.count == 1


def test_a_stream_behind_the_window_gets_its_exact_backlog(app, session, case):
    feed = Feed(app.extensions["ledger.sessions"], app.extensions["ledger.broker"], _message, keep=3)
    app.extensions["ledger.feed"] = feed
    first = _seq(session, case)
    _record(session, case, 2)
    assert [e.seq for e in feed.since(case.alliance.id, first + 1)] == [first + 2]
    # A page that has seen less than the window holds reads its own backlog, in order, once.
    assert [e.seq for e in feed.since(case.alliance.id, 0)] == list(range(1, first + 3))
    _record(session, case, 5)  # more than the window keeps: the oldest cached events are dropped
    latest = _seq(session, case)
    assert [e.seq for e in feed.since(case.alliance.id, first + 2)] == list(range(first + 3, latest + 1))
    assert [e.seq for e in feed.since(case.alliance.id, latest - 2)] == [latest - 1, latest]


def test_recheck_finds_events_nobody_announced(app, session, case):
    """A write the broker never heard of (another process on SQLite) still arrives, a heartbeat late."""
    feed: Feed = app.extensions["ledger.feed"]
    start = _seq(session, case)
    feed.since(case.alliance.id, start)
    other = app.extensions["ledger.sessions"].kw["bind"]  # the same database, outside the app's sessions
    from sqlalchemy.orm import Session

    with Session(other) as outside:
        record(outside, case, "alpha", partner="Alpha", kind="cost", category="waste", amount="9.00")
        outside.commit()
    assert feed.since(case.alliance.id, start) == []  # not announced: no read
    assert [e.seq for e in feed.since(case.alliance.id, start, recheck=True)] == [start + 1]
