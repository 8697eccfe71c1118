"""The JSON API at ``/api/v1``: the same use cases as the pages, for scripts and other tools.

Requests are authenticated by bearer token only (no session cookie, so no
CSRF); views parse the request, call the same services and queries as the
HTML side, and serialise the result, so both edges enforce identical rules.
"""

from __future__ import annotations

from flask import Flask

from ledger.api.blueprint import bp
from ledger.extensions import csrf


def init_app(app: Flask) -> None:
    from ledger.api import (  # noqa: F401 - attach to bp
        alliances,
        auth,
        balances,
        chain,
        charter,
        checkpoints,
        entries,
        errors,
        exports,
        indicators,
        meta,
        periods,
    )

    csrf.exempt(bp)
    app.register_blueprint(bp)
