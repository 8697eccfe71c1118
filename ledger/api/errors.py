"""Every API error is one JSON shape: ``{"error": {"status", "message", "fields"?}}``.

The handlers sit on the blueprint, so they win over the HTML error pages for
anything raised while serving an API route; ``fields`` names the request
field at fault (a body field for 422, a query parameter for 400).
"""

from __future__ import annotations

from collections.abc import Mapping

from flask import Response, jsonify
from werkzeug.exceptions import HTTPException

from ledger.api.blueprint import bp
from ledger.domain.errors import Conflict, InvalidInput, NotAllowed, NotFound

REALM = "Alliance Ledger API"


class Unauthorized(Exception):
    """No usable bearer token (401). ``error`` is the RFC 6750 code, None when no token was sent at all."""

    def __init__(self, message: str, error: str | None) -> None:
        super().__init__(message)
        self.error = error


class BadRequest(Exception):
    """The request itself is unusable (400): malformed JSON, a bad query parameter."""

    def __init__(self, message: str, fields: Mapping[str, str] | None = None) -> None:
        super().__init__(message)
        self.fields = dict(fields or {})


def error_response(status: int, message: str, fields: Mapping[str, str] | None = None,
                   beside: Mapping[str, object] | None = None) -> tuple[Response, int]:
    """The error shape; ``beside`` adds keys next to ``error`` (a settle-up's 409 carries the current suggestion)."""
    body: dict = {"status": status, "message": message}
    if fields:
        body["fields"] = dict(fields)
    return jsonify({"error": body, **(beside or {})}), status


@bp.errorhandler(Unauthorized)
def unauthorized(exc: Unauthorized):
    response, status = error_response(401, str(exc))
    challenge = f'Bearer realm="{REALM}"'
    if exc.error:
        challenge += f', error="{exc.error}"'
    response.headers["WWW-Authenticate"] = challenge
    return response, status


@bp.errorhandler(BadRequest)
def bad_request(exc: BadRequest):
    return error_response(400, str(exc), exc.fields)


@bp.errorhandler(InvalidInput)
def invalid_input(exc: InvalidInput):
    return error_response(422, "Some fields are not valid; nothing was saved.", exc.errors)


@bp.errorhandler(NotAllowed)
def not_allowed(exc: NotAllowed):
    return error_response(403, str(exc) or "Your role in this alliance does not allow this.")


@bp.errorhandler(NotFound)
def not_found(exc: NotFound):
    return error_response(404, str(exc) or "There is nothing here.")


@bp.errorhandler(Conflict)
def conflict(exc: Conflict):
    return error_response(409, str(exc))


@bp.errorhandler(HTTPException)
def http_error(exc: HTTPException):
    return error_response(exc.code or 500, exc.description or exc.name)
