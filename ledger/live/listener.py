"""One thread per server process that LISTENs on PostgreSQL and wakes this process's streams.

It starts with the first stream (never in the CLI or in tests that do not
stream) and reconnects with a back-off when the database goes away. After a
reconnect it asks every stream to re-read the database, because
notifications sent while it was away are lost; the events themselves are not.
"""

from __future__ import annotations

import logging
import threading

import psycopg
from sqlalchemy.engine import Engine

from ledger.db import MAX_ID, MAX_SEQ
from ledger.domain.text import whole_number
from ledger.live.broker import Broker
from ledger.live.publish import CHANNEL, SESSION_PREFIX

log = logging.getLogger(__name__)


class Listener:
    def __init__(self, engine: Engine, broker: Broker) -> None:
        self._dsn = engine.url.set(drivername="postgresql").render_as_string(hide_password=False)
        self._broker = broker
        self._started = False
        self._lock = threading.Lock()
        self._stop = threading.Event()

    def ensure_started(self) -> None:
        with self._lock:
            if not self._started:
                self._started = True
                threading.Thread(target=self._run, name="ledger-listen", daemon=True).start()

    def stop(self) -> None:
        self._stop.set()

    def _run(self) -> None:
        delay = 0.2
        while not self._stop.is_set():
            try:
                with psycopg.connect(self._dsn, autocommit=True) as conn:
                    conn.execute(f"LISTEN {CHANNEL}")
                    self._broker.resync()
                    delay = 0.2
                    while not self._stop.is_set():
                        for note in conn.notifies(timeout=1.0):
                            self._deliver(note.payload)
            except psycopg.Error as exc:
                log.warning("live events: lost the PostgreSQL listener (%s); retrying in %.1f s", exc, delay)
                self._stop.wait(delay)
                delay = min(delay * 2, 5.0)

    def _deliver(self, payload: str) -> None:
        if payload.startswith(SESSION_PREFIX):
            ended = whole_number(payload.removeprefix(SESSION_PREFIX), MAX_ID)
            if ended is not None:
                self._broker.end_sessions([ended])
            return
        alliance, _, seq = payload.partition(":")
        alliance_id, number = whole_number(alliance, MAX_ID), whole_number(seq, MAX_SEQ, smallest=0)
        if alliance_id is not None and number is not None:
            self._broker.publish(alliance_id, number)
