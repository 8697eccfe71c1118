"""Rate limits on guessing: failed log-ins and API requests without a valid token (Flask-Limiter).

Two budgets, both configurable (``LEDGER_LOGIN_RATE_LIMIT``, ``LEDGER_API_TOKEN_RATE_LIMIT``):

- ``POST /login`` per client address **and** per submitted email, so neither one address trying many
  accounts nor many addresses trying one account gets far;
- ``/api/v1`` per client address, for requests whose bearer token is unknown or revoked (a request
  with no token at all guesses nothing and is not counted).

Only failures are counted: a log-in that works and a request with a valid token cost nothing, so an
office behind one address is not locked out by its own people. Once a budget is spent, *every* such
request is refused with 429 until the window moves on, the right password or token included: answering
a right guess normally would tell the attacker which guess was right.

One Limiter per app, not a module global: each app (each test creates its own) has its own counters
(``memory://``, per process) unless ``LEDGER_RATELIMIT_STORAGE_URI`` names a shared store such as
``redis://host:6379`` for several processes. Limits are read from the config on every request, so a
test can lower them for itself alone.

Several processes with ``memory://`` each count for themselves, so N processes allow N times the
budget: in production that is logged as a warning at start-up, not refused, because one process is
a legitimate deployment and a weaker limit is not an open door.

When the shared store cannot be reached, log-ins go on: the limiter falls back to counting in this
process's memory (``RATELIMIT_IN_MEMORY_FALLBACK_ENABLED``) and checks the store again with a back-off
(1, 2, 4 ... 32 s), so an outage weakens the limits to per-process ones for its duration rather than
lifting them (``swallow_errors`` alone would) or refusing every log-in with a 500 (neither option).
``RATELIMIT_SWALLOW_ERRORS`` covers the steps the fallback does not (counting a failure after the view
ran, the rate-limit headers): such an error is logged and the request answered. Short Redis time-outs
and a single immediate retry keep an unreachable store from holding a request for more than about
two seconds (the client's own defaults can retry with back-offs of several seconds).
"""

from __future__ import annotations

import logging
import math
import time

from flask import Flask, Response, current_app, make_response, render_template, request
from flask_limiter import Limiter, RateLimitExceeded
from flask_limiter.util import get_remote_address
from werkzeug.middleware.proxy_fix import ProxyFix

from ledger.api.auth import PUBLIC_ENDPOINTS as API_PUBLIC_ENDPOINTS
from ledger.api.blueprint import bp as api_bp
from ledger.api.errors import error_response
from ledger.web.auth import LoginForm
from ledger.web.auth import bp as auth_bp

log = logging.getLogger(__name__)

#: Storage URIs served by the redis client, whose connection options _configure_storage sets.
REDIS_SCHEMES = ("redis://", "rediss://", "redis+unix://")
#: Seconds to connect to and to wait for the shared store before a request counts in memory instead.
REDIS_TIMEOUT = 1.0
LOGIN_SCOPE = "login"
API_TOKEN_SCOPE = "api-token"  # noqa: S105 - a counter's name, not a secret


def _login_email() -> str:
    """The email a log-in tries, normalised as log-in compares it, so case or spaces make no new budget."""
    return "email:" + (request.form.get("email") or "").strip().lower()[:254]


def _not_login() -> bool:
    return request.endpoint != "auth.login"  # the auth blueprint also has log-out, which is not limited


def _public_api() -> bool:
    return request.endpoint in API_PUBLIC_ENDPOINTS  # the OpenAPI document needs no token: nothing to guess


def _login_failed(response: Response) -> bool:
    return response.status_code != 302  # a log-in that works redirects; anything else did not log in


def _bad_token(response: Response) -> bool:
    """A 401 that names the token invalid (RFC 6750's ``error="invalid_token"``, see ledger.api.auth)."""
    return response.status_code == 401 and 'error="invalid_token"' in response.headers.get("WWW-Authenticate", "")


def _setting(name: str):
    return lambda: current_app.config[name]


def retry_after(limiter: Limiter) -> int:
    """Whole seconds until the spent budget has room again (at least 1; 60 when the store cannot tell)."""
    limit = limiter.current_limit
    if limit is None:
        return 60
    try:
        reset_at = limit.reset_at  # asks the store, which may have gone away since the check
    except Exception:
        log.warning("rate limits: could not read the window from the store; answering Retry-After: 60",
                    exc_info=True)
        return 60
    return max(1, min(limit.limit.get_expiry(), math.ceil(reset_at - time.time())))


def _wait(seconds: int) -> str:
    return f"{seconds} second{'s' if seconds != 1 else ''}" if seconds < 120 else f"{math.ceil(seconds / 60)} minutes"


def _configure_storage(app: Flask) -> None:
    """Fallback and time-outs for a shared store; a warning when production counts per process."""
    uri = str(app.config.get("RATELIMIT_STORAGE_URI") or "memory://")
    app.config.setdefault("RATELIMIT_IN_MEMORY_FALLBACK_ENABLED", True)
    app.config.setdefault("RATELIMIT_SWALLOW_ERRORS", True)
    if uri.startswith(REDIS_SCHEMES):
        from redis.backoff import NoBackoff
        from redis.retry import Retry

        options = {"socket_connect_timeout": REDIS_TIMEOUT, "socket_timeout": REDIS_TIMEOUT,
                   "retry": Retry(NoBackoff(), 1)}
        app.config["RATELIMIT_STORAGE_OPTIONS"] = {**options, **app.config.get("RATELIMIT_STORAGE_OPTIONS", {})}
    if (app.config["ENV"] == "production" and app.config.get("RATELIMIT_ENABLED", True)
            and uri.startswith("memory://")):
        app.logger.warning(
            "Rate limits count in this process's memory (LEDGER_RATELIMIT_STORAGE_URI=memory://): with several "
            "processes or hosts each one counts for itself, so failed log-ins and bad API tokens are allowed "
            "that many times over. Set LEDGER_RATELIMIT_STORAGE_URI=redis://HOST:6379 to share the counts.")


def init_app(app: Flask) -> Limiter:
    if app.config.get("PROXY_COUNT"):
        hops = int(app.config["PROXY_COUNT"])  # the client address then comes from X-Forwarded-For
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=hops, x_proto=hops)  # type: ignore[method-assign]
    app.config.setdefault("RATELIMIT_STRATEGY", "moving-window")  # no burst of twice the limit at a boundary
    _configure_storage(app)
    limiter = Limiter(get_remote_address, app=app)
    login_limit = _setting("LOGIN_RATE_LIMIT")
    for key in (get_remote_address, _login_email):
        limiter.shared_limit(login_limit, LOGIN_SCOPE, key_func=key, methods=["POST"], exempt_when=_not_login,
                             deduct_when=_login_failed)(auth_bp)
    limiter.shared_limit(_setting("API_TOKEN_RATE_LIMIT"), API_TOKEN_SCOPE, key_func=get_remote_address,
                         exempt_when=_public_api, deduct_when=_bad_token)(api_bp)
    app.extensions["ledger.limiter"] = limiter

    @app.errorhandler(RateLimitExceeded)
    def too_many(exc: RateLimitExceeded):
        seconds = retry_after(limiter)
        if request.blueprint == api_bp.name:
            response, _ = error_response(
                429, f"Too many requests without a valid API token from your address; try again in "
                     f"{_wait(seconds)}.")
        elif request.endpoint == "auth.login":
            form = LoginForm()
            form.password.errors = [f"Too many failed log-ins from your address or for this email. Wait "
                                    f"{_wait(seconds)}, then try again."]
            response = make_response(render_template("auth/login.html", form=form))
        else:
            response = make_response(render_template(
                "error.html", status=429, title="Too many attempts",
                message=f"Too many attempts; wait {_wait(seconds)}, then try again."))
        response.status_code = 429
        response.headers["Retry-After"] = str(seconds)
        return response

    return limiter
