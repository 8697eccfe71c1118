"""Waking the streams of this process when their alliance has a new event.

The broker keeps only the highest event number seen per alliance: a stream
that has shown event ``n`` waits until the broker knows of one above ``n``,
then reads the events themselves from the database.
"""

from __future__ import annotations

import threading


class Broker:
    def __init__(self) -> None:
        self._changed = threading.Condition()
        self._latest: dict[int, int] = {}
        self._generation = 0

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

    def wait(self, alliance_id: int, after: int, timeout: float) -> bool:
        """Block until an event above ``after`` is known or a resync happens; False on timeout."""
        with self._changed:
            generation = self._generation
            return self._changed.wait_for(
                lambda: self._latest.get(alliance_id, 0) > after or self._generation != generation, timeout)
