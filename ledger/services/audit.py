"""The audit trail beyond writes: who took the books away, and who tried to get in.

Every write already leaves its activity record (:func:`ledger.services.activity.log`).
Reading is recorded too where it matters for trust: a download of the ledger
or a review pack puts the alliance's figures outside the product, so the
other partners can see who took which period and when. The record goes to the
same activity feed (members read it there, live), which nobody can edit or
delete through the product.

A failed log-in belongs to no alliance: it is kept with the account it was
aimed at, whose owner sees the attempts on the Account page.
"""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from ledger.models import Activity, Alliance, LoginFailure, User
from ledger.services.activity import log


def record_download(session: Session, alliance: Alliance, actor: User, what: str, via: str) -> Activity:
    """Record that ``actor`` downloaded ``what`` ("the xlsx export of 2020-05-01 to 2020-05-31") ``via`` the
    page or the API. Called once the file is built, so a refused or failed export records nothing."""
    return log(session, alliance, actor, "export.downloaded", f"{actor.name} downloaded {what} ({via})")


def record_failed_login(session: Session, email: str, remote_addr: str | None, via: str) -> LoginFailure:
    """Keep a failed attempt; ``email`` is what was typed (empty for an API token nobody issued)."""
    typed = (email or "").strip().lower()[:254]
    user_id = session.scalar(select(User.id).where(User.email == typed)) if typed else None
    row = LoginFailure(email=typed, user_id=user_id, remote_addr=(remote_addr or "")[:45], via=via)
    session.add(row)
    session.flush()
    return row


def failed_logins_of(session: Session, user: User, limit: int = 20) -> list[LoginFailure]:
    """The newest failed attempts on this account, for its owner."""
    return list(session.scalars(select(LoginFailure).where(LoginFailure.user_id == user.id)
                                .order_by(LoginFailure.id.desc()).limit(limit)))
