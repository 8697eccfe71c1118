"""Bearer-token authentication for every API route but the OpenAPI document.

The API never looks at the log-in cookie: a browser that is logged in to the
pages cannot be tricked into calling it (that is why it can skip CSRF), and a
script needs nothing but its token.
"""

from __future__ import annotations

from flask import Response, g, request

from ledger.api.blueprint import bp
from ledger.api.errors import Unauthorized
from ledger.domain.errors import NotFound
from ledger.extensions import get_session
from ledger.models import Membership, User
from ledger.queries import membership_in
from ledger.services.audit import record_failed_login
from ledger.services.users import access_for_token

#: Endpoints anyone may read: the API's own description.
PUBLIC_ENDPOINTS = {"api.openapi"}


def bearer_token() -> str | None:
    header = request.headers.get("Authorization", "")
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        return None
    return token.strip()


@bp.before_request
def authenticate() -> None:
    if request.endpoint in PUBLIC_ENDPOINTS:
        return
    token = bearer_token()
    if token is None:
        raise Unauthorized("Send an API token as 'Authorization: Bearer <token>'.", error=None)
    alliance_id = (request.view_args or {}).get("alliance_id")
    access = access_for_token(get_session(), token, alliance_id)
    if access is None:
        session = get_session()
        session.rollback()
        record_failed_login(session, "", request.remote_addr, "api")
        session.commit()
        raise Unauthorized("The API token is not valid or has been revoked.", error="invalid_token")
    g.api_user = access.user
    if alliance_id is not None:
        g.api_membership = (alliance_id, access.membership)


@bp.after_request
def commit(response: Response) -> Response:
    """Keep what a successful request did (a write, or the token's last-used time); errors keep nothing."""
    if response.status_code < 400 and "db_session" in g:
        get_session().commit()
    return response


def current_user() -> User:
    return g.api_user


def membership_or_404(alliance_id: int) -> Membership:
    """The caller's membership; an alliance they are not in looks exactly like one that does not exist."""
    known = g.get("api_membership")
    if known is not None and known[0] == alliance_id:
        membership = known[1]  # loaded with the token (the route's own alliance)
    else:
        membership = membership_in(get_session(), current_user(), alliance_id)
    if membership is None:
        raise NotFound("There is no alliance with that id among yours.")
    return membership
