"""Requests that race for an alliance's lock: the one harness every race test shares.

A race run without a hold is no race: one request may commit before the other
starts, and a test of "two at once" would pass on code that checks outside the
lock. The test holds the lock itself until every contender is waiting for it.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable

from sqlalchemy.orm import Session

from ledger.models import Alliance
from ledger.services.periods import lock_alliance


def race_for_the_lock(sessions: Callable[[], Session], alliance_id: int, contenders: list[Callable[[], None]]) -> None:
    """Start every contender while holding the alliance's lock, check each is waiting for it, then let go."""
    holder = sessions()
    try:
        lock_alliance(holder, holder.get(Alliance, alliance_id))
        threads = [threading.Thread(target=contender) for contender in contenders]
        for thread in threads:
            thread.start()
        time.sleep(1.0)
        assert all(thread.is_alive() for thread in threads), "every contender should wait for the alliance lock"
        holder.commit()
        for thread in threads:
            thread.join(timeout=60)
    finally:
        holder.close()
