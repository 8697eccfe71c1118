"""``Idempotency-Key``: a client that lost the answer to a POST can send it again without recording twice.

A client on a bad line cannot tell whether its POST was recorded; without a
key, retrying may create the entry twice. With one, the first request's
answer is stored in the same transaction as what it created, and any retry
with the same key (same user, same request) gets that answer again, marked
``Idempotent-Replayed: true``. The same key with a different request is
refused at the header, because replaying would silently answer another
question.

Two retries racing each other both miss the stored answer and both run; the
second one's insert of the key fails on the unique ``(user_id, key)``, its
transaction (and its entry) rolls back, and it replays the first one's answer.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from contextlib import suppress

from flask import Response, request
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from ledger.domain.errors import InvalidInput
from ledger.models import IDEMPOTENCY_KEY_MAX, Alliance, IdempotencyKey, User

HEADER = "Idempotency-Key"


def requested_key() -> str | None:
    """The header's key, or None; a key that is empty, too long or not printable ASCII is a field error."""
    raw = request.headers.get(HEADER)
    if raw is None:
        return None
    key = raw.strip()
    if not key or len(key) > IDEMPOTENCY_KEY_MAX or not key.isascii() or not key.isprintable():
        raise InvalidInput.at(HEADER, f"An idempotency key is 1 to {IDEMPOTENCY_KEY_MAX} printable ASCII "
                                      "characters, e.g. a UUID.")
    return key


def _digest() -> str:
    body = request.get_data(cache=True)
    with suppress(ValueError):  # the same JSON with other spacing or key order is the same request
        body = json.dumps(json.loads(body), sort_keys=True, separators=(",", ":")).encode()
    return hashlib.sha256(request.method.encode() + b" " + request.path.encode() + b"\n" + body).hexdigest()


def _stored(session: Session, user: User, key: str) -> IdempotencyKey | None:
    return session.scalar(select(IdempotencyKey).where(IdempotencyKey.user_id == user.id,
                                                       IdempotencyKey.key == key))


def _replay(row: IdempotencyKey, digest: str) -> Response:
    if row.request_digest != digest:
        raise InvalidInput.at(HEADER, "This idempotency key was already used for a different request; "
                                      "use a new key for a new request.")
    response = Response(row.body, status=row.status, mimetype="application/json")
    if row.location:
        response.headers["Location"] = row.location
    response.headers["Idempotent-Replayed"] = "true"
    return response


def once(session: Session, user: User, alliance: Alliance, handle: Callable[[], Response]) -> Response:
    """Run ``handle`` (which writes and builds the response, without committing) at most once per key.

    Without a key it simply runs. The caller commits after this returns a fresh response; a replayed one
    wrote nothing (committing it is harmless).
    """
    key = requested_key()
    if key is None:
        return handle()
    digest = _digest()
    stored = _stored(session, user, key)
    if stored is not None:
        return _replay(stored, digest)
    response = handle()
    if response.status_code >= 400:  # a refusal wrote nothing: the client may fix the request and retry
        return response
    session.add(IdempotencyKey(user_id=user.id, alliance_id=alliance.id, key=key, request_digest=digest,
                               status=response.status_code, body=response.get_data(as_text=True),
                               location=response.headers.get("Location", "")))
    try:
        session.flush()
    except IntegrityError:  # a concurrent retry with the same key committed first
        session.rollback()
        stored = _stored(session, user, key)
        if stored is None:
            raise
        return _replay(stored, digest)
    return response
