"""The per-process engine and the per-request session, plus log-in and CSRF set-up."""

from __future__ import annotations

from flask import Flask, current_app, g
from flask_login import LoginManager
from flask_wtf import CSRFProtect
from sqlalchemy.orm import Session

from ledger.db import make_engine, make_session_factory, pool_options

login_manager = LoginManager()
csrf = CSRFProtect()


def init_database(app: Flask) -> None:
    engine = make_engine(app.config["DATABASE_URL"], **pool_options(app.config))
    app.extensions["ledger.engine"] = engine
    app.extensions["ledger.sessions"] = make_session_factory(engine)
    app.teardown_appcontext(_close_session)


def get_session() -> Session:
    """The request's session; created on first use, rolled back and closed at teardown."""
    if "db_session" not in g:
        g.db_session = current_app.extensions["ledger.sessions"]()
    return g.db_session


def _close_session(_exc: BaseException | None) -> None:
    session = g.pop("db_session", None)
    if session is not None:
        session.rollback()  # anything not committed by the view is discarded, never half-kept
        session.close()
