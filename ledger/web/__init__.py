"""The HTML side: one blueprint per feature, all server-rendered."""

from __future__ import annotations

from flask import Flask

from ledger.web import auth, errors, formatting


def init_app(app: Flask) -> None:
    formatting.init_app(app)
    errors.init_app(app)
    auth.init_app(app)
    from ledger.web import (
        account,
        activity,
        agreement,
        alliances,
        balance,
        dashboard,
        entries,
        home,
        ledger_page,
        members,
        partners,
    )

    for module in (home, alliances, dashboard, balance, activity, ledger_page, entries, agreement, partners, members,
                   account):
        app.register_blueprint(module.bp)
    from ledger.web import periods

    app.register_blueprint(periods.bp)
    from ledger.web import imports

    app.register_blueprint(imports.bp)
    from ledger.web import exports

    app.register_blueprint(exports.bp)
    from ledger.web import charter, checkpoints, indicators, state, targets  # the value lifecycle (issue 5)

    for module in (charter, targets, indicators, checkpoints, state):
        app.register_blueprint(module.bp)
    from ledger.web import verify  # tamper evidence (issue 6)

    app.register_blueprint(verify.bp)
