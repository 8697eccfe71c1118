"""Fixtures: every database test runs on SQLite and, when TEST_DATABASE_URL is set, on PostgreSQL.

Each engine is migrated to head once per run with the real Alembic
migrations; each test then starts from empty tables (a copied SQLite file, a
truncated PostgreSQL schema), so tests are isolated and still fast.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from datetime import UTC, datetime, time

import psycopg
import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import Engine, make_url, text
from sqlalchemy.orm import Session

from ledger import create_app
from ledger.db import make_engine, normalise_url
from ledger.migrate import upgrade
from ledger.models import Base
from tests.builders import PASSWORD, Case, build_case

ENGINES = ["sqlite"] + (["postgresql"] if os.environ.get("TEST_DATABASE_URL") else [])


@pytest.fixture(scope="session", autouse=True)
def cheap_password_hashing() -> Iterator[None]:
    """Real hashing, at a test-only cost: scrypt's ~0.1 s per user made every case build take ~1 s."""
    from functools import partial

    from werkzeug.security import generate_password_hash

    from ledger.services import users

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(users, "generate_password_hash", partial(generate_password_hash, method="pbkdf2:sha256:1"))
        yield


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory) -> str:
    path = tmp_path_factory.mktemp("template") / "ledger.db"
    upgrade(f"sqlite:///{path}")
    return str(path)


def worker_postgres_url() -> str:
    """TEST_DATABASE_URL; under pytest-xdist, a database of this worker's own beside it (``test_gw0`` ...).

    Workers share the server, never a database: each one empties its own between tests.
    """
    url = make_url(normalise_url(os.environ["TEST_DATABASE_URL"]))
    worker = os.environ.get("PYTEST_XDIST_WORKER")
    if not worker:
        return url.render_as_string(hide_password=False)
    own = url.set(database=f"{url.database}_{worker}")
    with psycopg.connect(url.set(drivername="postgresql").render_as_string(hide_password=False),
                         autocommit=True) as conn:
        if conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", (own.database,)).fetchone() is None:
            conn.execute(f'CREATE DATABASE "{own.database}"')
    return own.render_as_string(hide_password=False)


@pytest.fixture(scope="session")
def postgres_engine() -> Iterator[Engine]:
    """A PostgreSQL database migrated to head once per run, and an engine to empty it between tests."""
    url = worker_postgres_url()
    engine = make_engine(url)
    with engine.begin() as conn:
        conn.execute(text("DROP SCHEMA IF EXISTS public CASCADE"))
        conn.execute(text("CREATE SCHEMA public"))
    upgrade(url)
    yield engine
    engine.dispose()


def _empty_postgres(engine: Engine) -> None:
    """Delete every row and restart the ids: about 6x faster than TRUNCATE on tables this small."""
    with engine.begin() as conn:
        for table in reversed(Base.metadata.sorted_tables):
            conn.execute(table.delete())
        sequences = conn.scalars(text("SELECT sequence_name FROM information_schema.sequences "
                                      "WHERE sequence_schema = 'public'")).all()
        for name in sequences:
            conn.execute(text(f'ALTER SEQUENCE "{name}" RESTART'))


@pytest.fixture(params=ENGINES)
def database_url(request, tmp_path) -> str:
    """An empty, migrated database on one engine."""
    if request.param == "sqlite":
        template = request.getfixturevalue("sqlite_template")
        target = tmp_path / "ledger.db"
        shutil.copy(template, target)
        return f"sqlite:///{target}"
    engine = request.getfixturevalue("postgres_engine")
    _empty_postgres(engine)
    return engine.url.render_as_string(hide_password=False)


@pytest.fixture
def app(database_url, tmp_path) -> Iterator[Flask]:
    app = create_app({
        "TESTING": True,
        "DATABASE_URL": database_url,
        "SECRET_KEY": "tests",
        "WTF_CSRF_ENABLED": False,
    })
    yield app
    listener = app.extensions.get("ledger.listener")
    if listener is not None:
        listener.stop()  # a live stream started this app's LISTEN thread: let its connection go
    app.extensions["ledger.engine"].dispose()


@pytest.fixture
def session(app) -> Iterator[Session]:
    """A session of its own (not the request's), for arranging data and checking results."""
    s = app.extensions["ledger.sessions"]()
    yield s
    s.close()


@pytest.fixture
def client(app) -> FlaskClient:
    return app.test_client()


@pytest.fixture
def case(session) -> Case:
    built = build_case(session)
    session.commit()
    return built


class Auth:
    """Logs a test client in as one of the case's users (``auth.login("alpha")``)."""

    def __init__(self, client: FlaskClient) -> None:
        self.client = client

    def login(self, who: str, password: str = PASSWORD):
        return self.client.post("/login", data={"email": f"{who}@example.org", "password": password})

    def logout(self):
        return self.client.post("/logout")


@pytest.fixture
def auth(client) -> Auth:
    return Auth(client)


@pytest.fixture
def pg_url(database_url) -> str:
    """The PostgreSQL database of a test that needs several server processes on one database."""
    if not database_url.startswith("postgresql"):
        pytest.skip("several server processes share one database only on PostgreSQL")
    return database_url


@pytest.fixture
def case_day(app) -> None:
    """Every page's, API route's and service's calendar day is the case's TODAY (2020-06-30), inside its term.

    The app's clock stops at noon UTC that day: the same calendar day in the case's alliance (UTC) and in
    any time zone within eleven hours of it.
    """
    from tests.builders import TODAY, stop_clock

    stop_clock(app, datetime.combine(TODAY, time(12), tzinfo=UTC))
