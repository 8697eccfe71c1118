"""Waking the streams of this process when their alliance has a new event.

The broker keeps only the highest event number seen per alliance: a stream
that has shown event ``n`` waits until the broker knows of one above ``n``,
then reads the events themselves from the database.

It also wakes every stream when a stream must stop for a reason of its own:
its log-in session ended (log-out, a new password) or a newer stream took its
place (``ledger.live.slots``). Each woken stream then checks its own case.
"""

from __future__ import annotations

import threading
from collections import OrderedDict

#: Ended log-in sessions remembered for their streams; older ones are still caught by the periodic check.
ENDED_KEEP = 10_000


class Broker:
    def __init__(self) -> None:
        self._changed = threading.Condition()
        self._latest: dict[int, int] = {}
        self._generation = 0
        self._kicks = 0
        self._ended: OrderedDict[int, None] = OrderedDict()

    def publish(self, alliance_id: int, seq: int) -> None:
        with self._changed:
            if seq > self._latest.get(alliance_id, 0):
                self._latest[alliance_id] = seq
            self._changed.notify_all()

    def latest(self, alliance_id: int) -> int:
        """The highest event number announced for the alliance in this process (0: none yet)."""
        with self._changed:
            return self._latest.get(alliance_id, 0)

    def resync(self) -> None:
        """Wake every stream to re-read the database (after the listener lost notifications)."""
        with self._changed:
            self._generation += 1
            self._changed.notify_all()

    def end_sessions(self, login_session_ids: list[int]) -> None:
        """These log-in sessions have ended: wake the streams so that theirs stop."""
        with self._changed:
            for login_session_id in login_session_ids:
                self._ended[login_session_id] = None
                self._ended.move_to_end(login_session_id)
            while len(self._ended) > ENDED_KEEP:
                self._ended.popitem(last=False)
        self.kick()

    def session_ended(self, login_session_id: int | None) -> bool:
        with self._changed:
            return login_session_id in self._ended

    def kick(self) -> None:
        """Wake every stream to check whether it must stop (its session ended, its slot was taken)."""
        with self._changed:
            self._kicks += 1
            self._changed.notify_all()

    def wait(self, alliance_id: int, after: int, timeout: float) -> bool:
        """Block until an event above ``after`` is known, a resync or a kick happens; False on timeout."""
        with self._changed:
            generation, kicks = self._generation, self._kicks
            return self._changed.wait_for(
                lambda: self._latest.get(alliance_id, 0) > after or self._generation != generation
                or self._kicks != kicks, timeout)
