"""Loading the alliance a URL names, for the logged-in user only.

Every alliance page goes through :func:`membership_or_404`: a user who is not
a member gets the same 404 as for an alliance that does not exist, so ids of
other alliances reveal nothing.
"""

from __future__ import annotations

from flask import abort
from flask_login import current_user

from ledger.extensions import get_session
from ledger.models import Entry, Membership
from ledger.queries import entry_in, membership_in


def membership_or_404(alliance_id: int) -> Membership:
    membership = membership_in(get_session(), current_user, alliance_id)
    if membership is None:
        abort(404)
    return membership


def entry_or_404(membership: Membership, entry_id: int) -> Entry:
    entry = entry_in(get_session(), membership.alliance, entry_id)
    if entry is None:
        abort(404)
    return entry
