"""Live events are numbered per alliance, in commit order, and announced only for committed work.

A page resumes with "everything after event n", so the guarantees tested
here are what makes that exact: numbers 1, 2, 3 ... with no gap, per
alliance; a later number never becomes visible before an earlier one; and a
rolled-back write leaves no event and wakes nobody, in this process or in
another one listening on PostgreSQL.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator

import psycopg
import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from ledger.live.broker import Broker
from ledger.live.publish import CHANNEL
from ledger.models import Activity, Alliance
from tests.builders import Case, record


def seqs_of(session: Session, alliance_id: int) -> list[int]:
    return list(session.scalars(select(Activity.seq).where(Activity.alliance_id == alliance_id)
                                .order_by(Activity.id)))


def event_seq(session: Session, alliance_id: int) -> int:
    return session.scalar(select(Alliance.event_seq).where(Alliance.id == alliance_id))


def cost(session: Session, case: Case, who: str = "alpha", amount: str = "10.00", partner: str = "Alpha"):
    return record(session, case, who, partner=partner, kind="cost", category="production", amount=amount)


@pytest.fixture
def listening(database_url) -> Iterator[psycopg.Connection]:
    """A raw PostgreSQL connection LISTENing on the live channel, as another server process would."""
    if not database_url.startswith("postgresql"):
        pytest.skip("LISTEN/NOTIFY is PostgreSQL only")
    dsn = database_url.replace("postgresql+psycopg://", "postgresql://", 1)
    with psycopg.connect(dsn, autocommit=True) as conn:
        conn.execute(f"LISTEN {CHANNEL}")
        yield conn


def drain(conn: psycopg.Connection, timeout: float) -> list[str]:
    return [note.payload for note in conn.notifies(timeout=timeout)]


def test_seqs_count_one_two_three_per_alliance(session, case):
    a, other = case.alliance.id, case.other.id
    setup_a, setup_other = seqs_of(session, a), seqs_of(session, other)
    # Building the case already logged activity in both alliances, each numbered from 1.
    assert setup_a == list(range(1, len(setup_a) + 1))
    assert len(setup_a) > 5
    assert setup_other == list(range(1, len(setup_other) + 1))
    assert setup_other
    for _ in range(3):
        cost(session, case)
        session.commit()
    assert seqs_of(session, a) == list(range(1, len(setup_a) + 4))
    assert seqs_of(session, other) == setup_other  # another alliance's writes do not move this one
    assert event_seq(session, a) == len(setup_a) + 3
    assert event_seq(session, other) == len(setup_other)
    entry_events = session.scalars(select(Activity).where(Activity.alliance_id == a, Activity.entry_id.is_not(None))
                                   .order_by(Activity.seq)).all()
    assert [e.seq for e in entry_events] == list(range(len(setup_a) + 1, len(setup_a) + 4))


def test_a_rolled_back_write_leaves_no_event_and_wakes_nobody(app, session, case):
    broker: Broker = app.extensions["ledger.broker"]
    a = case.alliance.id
    before = event_seq(session, a)
    assert not broker.wait(a, before, timeout=0.05)  # the case's own events are all at or below `before`

    cost(session, case)
    session.flush()
    assert event_seq(session, a) == before + 1  # handed out inside the transaction ...
    session.rollback()
    assert event_seq(session, a) == before  # ... and given back with it
    assert seqs_of(session, a)[-1] == before
    assert not broker.wait(a, before, timeout=0.2)

    cost(session, case)
    session.commit()
    assert seqs_of(session, a)[-1] == before + 1  # the rolled-back number is reused: no gap
    assert broker.wait(a, before, timeout=0.2)


def test_postgres_notifies_only_after_commit(session, case, listening):
    a = case.alliance.id
    drain(listening, 0.2)  # whatever building the case announced
    before = event_seq(session, a)

    cost(session, case)
    session.flush()
    assert drain(listening, 0.3) == []  # not before the commit ...
    session.rollback()
    assert drain(listening, 0.5) == []  # ... and never for a rollback

    cost(session, case)
    session.commit()
    assert [n.payload for n in listening.notifies(timeout=2.0, stop_after=1)] == [f"{a}:{before + 1}"]
    assert drain(listening, 0.2) == []


@pytest.mark.slow
def test_concurrent_writers_get_gapless_seqs_in_commit_order(app, database_url, case, listening):
    """8 writers x 25 entries on one alliance: no reader ever sees a gap that is filled later."""
    writers, per_writer = 8, 25
    factory = app.extensions["ledger.sessions"]
    a = case.alliance.id
    with factory() as s:
        start = event_seq(s, a)
    drain(listening, 0.2)
    total = writers * per_writer
    errors: list[BaseException] = []
    done = threading.Event()

    def write(who: str) -> None:
        try:
            with factory() as s:
                for _ in range(per_writer):
                    cost(s, case, who=who, partner=who.title())
                    s.commit()
        except BaseException as exc:  # reported by the main thread
            errors.append(exc)

    def read(seen: list[int]) -> None:
        """Poll `seq > n` like a stream does; every batch must continue exactly where the last ended."""
        last = start
        try:
            with factory() as s:
                while last < start + total and not errors:
                    finished = done.is_set()  # read before the poll: a last poll after it sees every commit
                    batch = list(s.scalars(select(Activity.seq).where(Activity.alliance_id == a, Activity.seq > last)
                                           .order_by(Activity.seq)))
                    s.rollback()  # a fresh snapshot for the next poll
                    assert batch == list(range(last + 1, last + 1 + len(batch))), f"gap after {last}: {batch[:5]}"
                    seen.extend(batch)
                    if batch:
                        last = batch[-1]
                    elif finished:
                        break
        except BaseException as exc:
            errors.append(exc)

    who = ["alpha", "beta", "gamma", "omega"]
    seen_by: list[list[int]] = [[], []]
    readers = [threading.Thread(target=read, args=(seen,)) for seen in seen_by]
    threads = [threading.Thread(target=write, args=(who[i % 4],)) for i in range(writers)]
    for t in readers + threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    done.set()
    for t in readers:
        t.join(timeout=30)
    assert not errors, errors[0]
    expected = list(range(start + 1, start + total + 1))
    assert seen_by == [expected, expected]
    with factory() as s:
        assert seqs_of(s, a)[-total:] == expected
        assert event_seq(s, a) == start + total
    # PostgreSQL delivers notifications in commit order: it must be the numbers' order.
    payloads: list[str] = []
    deadline = time.monotonic() + 5
    while len(payloads) < total and time.monotonic() < deadline:
        payloads += drain(listening, 0.5)
    assert payloads == [f"{a}:{n}" for n in expected]
