"""A member's own in-page alert threshold: "tell me when another partner records at least this much".

The case's worry was partners recording things that lower their own
liability; the alert lets each member watch for large entries by the others
without reading every line. The threshold is a private preference, so
setting it logs no activity: the other members have no business knowing it,
and an event would wake every open page for nothing.
"""

from __future__ import annotations

from collections.abc import Mapping

from sqlalchemy.orm import Session

from ledger.domain.errors import InvalidInput, NotAllowed
from ledger.domain.money import parse_amount
from ledger.models import Membership, User

FIELD = "notify_above"


def parse_threshold(raw: object, currency: str) -> int | None:
    """Blank means "off"; otherwise a positive amount in the alliance's currency, as typed."""
    if raw is None or (isinstance(raw, str) and not raw.strip()):
        return None
    return parse_amount(raw, currency, field=FIELD)


def set_threshold(session: Session, actor: User, membership: Membership, raw: Mapping[str, object]) -> int | None:
    """Store the member's own threshold in cents (None = no alerts); flush, never commit."""
    if membership.user_id != actor.id:
        raise NotAllowed("You can only set your own notifications.")
    if not isinstance(raw, Mapping):
        raise InvalidInput.at(FIELD, "Send an object with the amount.")
    cents = parse_threshold(raw.get(FIELD), membership.alliance.currency)
    membership.notify_above = cents
    session.flush()
    return cents
