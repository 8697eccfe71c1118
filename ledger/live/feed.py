"""Each alliance's recent events, read from the database once per process and shared by its streams.

Fifty open pages on one alliance should not mean fifty identical queries per
event. When the broker announces an event the first stream to ask reads the
new rows (one query, under the alliance's lock) and formats them; the other
streams take the same messages from memory. A stream that is further behind
than the cache reaches (a page that slept for a long time) reads its own
backlog from the database, then joins the shared window.
"""

from __future__ import annotations

import threading
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session, joinedload

from ledger.live.broker import Broker
from ledger.models import Activity, Entry

BATCH = 200


@dataclass(frozen=True, slots=True)
class Event:
    seq: int
    action: str
    message: str


class Feed:
    def __init__(self, sessions: Callable[[], Session], broker: Broker, format_: Callable[[Activity], str],
                 keep: int = 1000) -> None:
        self._sessions, self._broker, self._format, self._keep = sessions, broker, format_, keep
        self._guard = threading.Lock()
        self._locks: dict[int, threading.Lock] = {}
        self._events: dict[int, deque[Event]] = {}
        #: Per alliance: the cache holds every event after ``_low`` up to ``_high``.
        self._low: dict[int, int] = {}
        self._high: dict[int, int] = {}

    def since(self, alliance_id: int, after: int, *, recheck: bool = False) -> list[Event]:
        """Events after ``after`` (at most BATCH); ``recheck`` also looks for ones nobody announced."""
        with self._lock(alliance_id):
            if alliance_id not in self._high:
                self._low[alliance_id] = self._high[alliance_id] = after
                self._events[alliance_id] = deque(maxlen=self._keep)
                recheck = True
            if recheck or self._broker.latest(alliance_id) > self._high[alliance_id]:
                self._refresh(alliance_id)
            if after >= self._low[alliance_id]:
                return self._cached(alliance_id, after)
        return self._read(alliance_id, after)  # behind the shared window: its own backlog

    def _lock(self, alliance_id: int) -> threading.Lock:
        with self._guard:
            return self._locks.setdefault(alliance_id, threading.Lock())

    def _cached(self, alliance_id: int, after: int) -> list[Event]:
        newer: list[Event] = []
        for event in reversed(self._events[alliance_id]):
            if event.seq <= after:
                break
            newer.append(event)
        newer.reverse()
        return newer[:BATCH]

    def _refresh(self, alliance_id: int) -> None:
        events = self._events[alliance_id]
        while True:
            rows = self._read(alliance_id, self._high[alliance_id])
            for event in rows:
                if len(events) == events.maxlen:
                    self._low[alliance_id] = events[0].seq
                events.append(event)
                self._high[alliance_id] = event.seq
            if len(rows) < BATCH:
                return

    def _read(self, alliance_id: int, after: int) -> list[Event]:
        with self._sessions() as session:
            rows = session.scalars(
                select(Activity).where(Activity.alliance_id == alliance_id, Activity.seq > after)
                .order_by(Activity.seq).limit(BATCH)
                .options(joinedload(Activity.actor), joinedload(Activity.entry).joinedload(Entry.partner),
                         joinedload(Activity.entry).joinedload(Entry.category)))
            return [Event(row.seq, row.action, self._format(row)) for row in rows]
