"""The activity record every write leaves behind."""

from __future__ import annotations

from sqlalchemy.orm import Session

from ledger.models import Activity, Alliance, User


def log(session: Session, alliance: Alliance, actor: User | None, action: str, summary: str) -> Activity:
    record = Activity(alliance_id=alliance.id, actor_id=actor.id if actor else None,
                      action=action, summary=summary[:600])
    session.add(record)
    return record
