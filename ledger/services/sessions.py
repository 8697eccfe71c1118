"""Log-in sessions kept on the server, so that log-out and a password change really end them.

Flask's session is a signed cookie: whoever copied it could use it until it expires, log-out or not. The
cookie (and the remember-me cookie) therefore carries only the key of a ``LoginSession`` row, and every
request checks that the row has not ended. Only the key's SHA-256 is stored, as for API tokens: a copy of
the database opens no session.
"""

from __future__ import annotations

import hashlib
import secrets
from datetime import timedelta

from sqlalchemy import bindparam, select, update
from sqlalchemy.orm import Session

from ledger.db import utcnow
from ledger.live.publish import announce_session_end
from ledger.models import ApiToken, LoginSession, User

#: ``last_seen_at`` is written at most this often: a page view should not mean a write each time.
SEEN_EVERY = timedelta(minutes=5)
KEY_MAX = 100

_SESSION_BY_KEY = (select(LoginSession.id, LoginSession.ended_at, LoginSession.last_seen_at, User)
                   .join(User, User.id == LoginSession.user_id)
                   .where(LoginSession.key_hash == bindparam("digest")))


def _digest(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()


def start(session: Session, user: User) -> str:
    """A new log-in session for ``user``; its key is set on the user object for flask-login's cookies."""
    key = secrets.token_urlsafe(32)
    row = LoginSession(user_id=user.id, key_hash=_digest(key))
    session.add(row)
    session.flush()
    user.login_key, user.login_session_id = key, row.id
    return key


def user_for(session: Session, key: str) -> User | None:
    """The user of the open log-in session with this key (None: unknown or ended); notes it was seen."""
    if not key or len(key) > KEY_MAX:
        return None
    row = session.execute(_SESSION_BY_KEY, {"digest": _digest(key)}).first()
    if row is None or row.ended_at is not None:
        return None
    now = utcnow()
    if now - row.last_seen_at > SEEN_EVERY:
        session.execute(update(LoginSession).where(LoginSession.id == row.id).values(last_seen_at=now))
        session.commit()  # the first thing a request does: nothing else is in this transaction yet
    user = row.User
    user.login_key, user.login_session_id = key, row.id
    return user


def end(session: Session, user: User) -> None:
    """Log-out: the session the user is logged in with ends (its cookies and live streams stop working)."""
    if user.login_session_id is not None:
        _end(session, LoginSession.id == user.login_session_id)


def end_others_and_revoke_tokens(session: Session, user: User) -> None:
    """After a password change: every other session of the user ends and every API token is revoked.

    Whoever knew the old password may have logged in or created a token with it; the person who changed it
    keeps only the session they did it from, and creates new tokens for their scripts.
    """
    _end(session, (LoginSession.user_id == user.id) & (LoginSession.id != (user.login_session_id or 0)))
    session.execute(update(ApiToken).where(ApiToken.user_id == user.id, ApiToken.revoked_at.is_(None))
                    .values(revoked_at=utcnow()).execution_options(synchronize_session=False))


def _end(session: Session, which) -> None:
    ended = session.scalars(update(LoginSession).where(which, LoginSession.ended_at.is_(None))
                            .values(ended_at=utcnow()).returning(LoginSession.id)
                            .execution_options(synchronize_session=False)).all()
    announce_session_end(session, ended)
