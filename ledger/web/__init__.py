"""The HTML side: one blueprint per feature, all server-rendered."""

from __future__ import annotations

from flask import Flask

from ledger.web import auth, errors, formatting


def init_app(app: Flask) -> None:
    formatting.init_app(app)
    errors.init_app(app)
    auth.init_app(app)
    from ledger.web import home

    app.register_blueprint(home.bp)
