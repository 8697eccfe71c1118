"""Alliance Ledger: the joint books of a cause-based alliance.

``create_app`` wires configuration, the database, log-in, CSRF, the
blueprints and the command line; nothing happens at import time.
"""

from __future__ import annotations

import os
from pathlib import Path

from flask import Flask

PROJECT_ROOT = Path(__file__).resolve().parent.parent


def create_app(test_config: dict | None = None) -> Flask:
    app = Flask(
        __name__,
        template_folder=str(PROJECT_ROOT / "templates"),
        static_folder=str(PROJECT_ROOT / "ledger" / "static"),
        instance_path=os.environ.get("LEDGER_INSTANCE_PATH") or str(PROJECT_ROOT / "instance"),
    )
    from ledger.config import load_config

    load_config(app, test_config)
    from ledger import clock

    clock.init_app(app)

    from ledger.extensions import csrf, init_database, login_manager

    init_database(app)
    csrf.init_app(app)
    login_manager.init_app(app)

    from ledger import api, cli, web
    from ledger.routing import IdConverter

    app.url_map.converters["id"] = IdConverter

    web.init_app(app)
    api.init_app(app)
    cli.init_app(app)
    from ledger.live import stream

    stream.init_app(app)
    from ledger import ratelimit
    from ledger.web import security

    ratelimit.init_app(app)
    security.init_app(app)
    return app
