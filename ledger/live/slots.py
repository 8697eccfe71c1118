"""How many event streams one user and one client address may hold open in this process.

A stream holds one of the server's worker threads for as long as it is open (gunicorn's gthread workers
run the app in a fixed pool of threads). Without a cap one member opening forty pages, or one address
opening streams in a loop, takes every thread and the log-in page stops answering. Past a cap the
*oldest* stream of that user (or address) gives way: it is told so (``event: superseded``) and ends, and
the page that held it stops instead of reconnecting, so the newest page is the one that stays live and two
pages never take the slot from each other in turn.

The counts are per process, which is what protects a process's threads: with N processes one user holds
at most N times the cap in all, never more than the cap of any one process's threads.
"""

from __future__ import annotations

import threading

from ledger.live.broker import Broker


class Slot:
    """One open stream, counted under each of its keys (``user:<id>``, ``addr:<address>``)."""

    __slots__ = ("given_up", "keys")

    def __init__(self, keys: tuple[str, ...]) -> None:
        self.keys = keys
        self.given_up = False


class Slots:
    def __init__(self, broker: Broker) -> None:
        self._broker = broker
        self._lock = threading.Lock()
        self._open: dict[str, list[Slot]] = {}

    def take(self, caps: dict[str, int]) -> Slot:
        """A slot under every key of ``caps``; the oldest streams of a key that is full give way."""
        slot = Slot(tuple(caps))
        gave_way = False
        with self._lock:
            for key, cap in caps.items():
                held = self._open.setdefault(key, [])
                while held and len(held) >= cap:
                    oldest = held[0]
                    oldest.given_up = gave_way = True
                    self._forget(oldest)
                self._open.setdefault(key, []).append(slot)
        if gave_way:
            self._broker.kick()  # the oldest streams are waiting for events: wake them to stop
        return slot

    def release(self, slot: Slot) -> None:
        with self._lock:
            self._forget(slot)

    def count(self, key: str) -> int:
        with self._lock:
            return len(self._open.get(key, ()))

    def _forget(self, slot: Slot) -> None:
        for key in slot.keys:
            held = self._open.get(key)
            if held is not None and slot in held:
                held.remove(slot)
                if not held:
                    del self._open[key]
