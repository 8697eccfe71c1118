"""Users, passwords and API tokens."""

from __future__ import annotations

import hashlib
import re
import secrets
from dataclasses import dataclass

from sqlalchemy import bindparam, func, select, update
from sqlalchemy.orm import Session, joinedload
from werkzeug.security import check_password_hash, generate_password_hash

from ledger.db import MAX_ID, utcnow
from ledger.domain.errors import FieldErrors, InvalidInput, NotFound
from ledger.domain.passwords import MIN_LENGTH, password_problem
from ledger.domain.text import clean_text
from ledger.models import EMAIL_MAX, NAME_MAX, ApiToken, Membership, User
from ledger.services.sessions import end_others_and_revoke_tokens

MIN_PASSWORD = MIN_LENGTH
TOKEN_PREFIX = "al_"  # noqa: S105 - a public marker, not a secret
_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
#: Compared against when the email is unknown, so a failed log-in takes the same time either way.
_DUMMY_HASH = generate_password_hash("not-a-real-password")


def parse_email(value: object, field: str = "email") -> str:
    email = clean_text(value, field, max_len=EMAIL_MAX, label="email address").lower()
    if not _EMAIL.match(email):
        raise InvalidInput.at(field, f"\u201c{email[:60]}\u201d is not an email address.")
    return email


def parse_password(value: object, field: str = "password", email: str | None = None) -> str:
    """A new password that meets the policy (``ledger.domain.passwords``); ``email`` is the account's own."""
    if not isinstance(value, str):
        raise InvalidInput.at(field, f"A password needs at least {MIN_PASSWORD} characters.")
    problem = password_problem(value, email)
    if problem:
        raise InvalidInput.at(field, problem)
    return value


def user_by_email(session: Session, email: str) -> User | None:
    return session.scalar(select(User).where(func.lower(User.email) == email.strip().lower()))


def create_user(session: Session, email: object, name: object, password: object) -> User:
    errors = FieldErrors()
    email_ = errors.check("email", parse_email, email)
    name_ = errors.check("name", clean_text, name, "name", max_len=NAME_MAX)
    password_ = errors.check("password", parse_password, password, email=email_ or str(email or ""))
    if email_ and user_by_email(session, email_):
        errors.add("email", f"There is already a user with the email {email_}.")
    errors.raise_if_any()
    user = User(email=email_, name=name_, password_hash=generate_password_hash(password_))
    session.add(user)
    session.flush()
    return user


def authenticate(session: Session, email: str, password: str) -> User | None:
    user = user_by_email(session, email or "")
    if user is None:
        check_password_hash(_DUMMY_HASH, password or "")
        return None
    return user if check_password_hash(user.password_hash, password or "") else None


def change_password(session: Session, user: User, current: object, new: object) -> None:
    """A new password; the user's other log-in sessions end and every API token is revoked with it."""
    errors = FieldErrors()
    if not isinstance(current, str) or not check_password_hash(user.password_hash, current):
        errors.add("current_password", "That is not your current password.")
    new_ = errors.check("new_password", parse_password, new, "new_password", email=user.email)
    errors.raise_if_any()
    user.password_hash = generate_password_hash(new_)
    end_others_and_revoke_tokens(session, user)


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def create_token(session: Session, user: User, name: object) -> tuple[ApiToken, str]:
    """A new bearer token; the plain token is returned once and never stored."""
    label = clean_text(name, "name", max_len=NAME_MAX, label="token name")
    plain = TOKEN_PREFIX + secrets.token_urlsafe(32)
    token = ApiToken(user_id=user.id, name=label, token_hash=_digest(plain), prefix=plain[:10])
    session.add(token)
    session.flush()
    return token, plain


def revoke_token(session: Session, user: User, token_id: int) -> ApiToken:
    token = session.get(ApiToken, token_id)
    if token is None or token.user_id != user.id:
        raise NotFound("No such token.")
    if token.revoked_at is None:
        token.revoked_at = utcnow()
    return token


#: Built once: every API request runs one of them. The token is read as plain columns, not as an ORM object
#: (callgrind: a seventh fewer instructions for the lookup), since the request needs only its verdict and,
#: once a minute, a write.
_TOKEN_BY_HASH = (select(ApiToken.id, ApiToken.revoked_at, ApiToken.last_used_at, User)
                  .join(User, User.id == ApiToken.user_id)
                  .where(ApiToken.token_hash == bindparam("digest")))
_TOKEN_AND_MEMBERSHIP = (
    _TOKEN_BY_HASH.add_columns(Membership)
    .outerjoin(Membership, (Membership.user_id == ApiToken.user_id)
               & (Membership.alliance_id == bindparam("of_alliance")))
    .options(joinedload(Membership.alliance), joinedload(Membership.partner)))
_NOTE_USE = (update(ApiToken).where(ApiToken.id == bindparam("token_id")).values(last_used_at=bindparam("now"))
             .execution_options(synchronize_session=False))


@dataclass(frozen=True)
class TokenAccess:
    """Who a valid API token speaks for, and their membership of the alliance the request names."""

    user: User
    #: None: the request names no alliance, or one the user is not a member of.
    membership: Membership | None = None


def access_for_token(session: Session, plain: str, alliance_id: int | None = None) -> TokenAccess | None:
    """The token's user (None: unknown or revoked token) and, with ``alliance_id``, their membership.

    One query for both: every request to an alliance needs them, and a write holds nothing yet, but
    each round trip is CPU on both sides (the membership loads as ``ledger.queries.membership_in`` does).
    The token's use is noted at most once a minute: a read should not mean a write each time.
    """
    if not plain or not plain.startswith(TOKEN_PREFIX) or len(plain) > 100:
        return None
    if alliance_id is None or not 0 < alliance_id <= MAX_ID:
        row, membership = session.execute(_TOKEN_BY_HASH, {"digest": _digest(plain)}).first(), None
    else:
        row = session.execute(_TOKEN_AND_MEMBERSHIP, {"digest": _digest(plain), "of_alliance": alliance_id}).first()
        membership = row[4] if row else None
    if row is None:
        return None
    token_id, revoked_at, last_used_at, user = row[:4]
    if revoked_at is not None:
        return None
    now = utcnow()
    if last_used_at is None or (now - last_used_at).total_seconds() > 60:
        session.execute(_NOTE_USE, {"token_id": token_id, "now": now})
    return TokenAccess(user, membership)


def tokens_of(session: Session, user: User) -> list[ApiToken]:
    return list(session.scalars(
        select(ApiToken).where(ApiToken.user_id == user.id).order_by(ApiToken.created_at.desc())))
