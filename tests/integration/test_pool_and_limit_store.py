"""Running several processes: the connection pool comes from LEDGER_DB_* and the rate-limit store degrades safely.

The pool settings are read from the environment like every other setting, reach the engine of a
PostgreSQL app, are ignored on SQLite (one process, no pool to size) and refuse nonsense at start-up.
A shared rate-limit store that cannot be reached never turns a log-in into a 500: the limits go on
counting in the process's memory. Production with per-process counting says so in its log.
"""

from __future__ import annotations

import logging
import time

import pytest
from sqlalchemy import exc, text

from ledger import create_app
from ledger.config import ConfigError
from tests.servers import free_port

#: No server here: an engine connects lazily, so a PostgreSQL app can be built and inspected without one.
NOWHERE = "postgresql://nobody@127.0.0.1:9/nothing"
WRONG = "not the password at all"


def _dispose(app) -> None:
    app.extensions["ledger.engine"].dispose()


@pytest.fixture
def env(monkeypatch, tmp_path):
    monkeypatch.setenv("LEDGER_INSTANCE_PATH", str(tmp_path))
    monkeypatch.setenv("LEDGER_SECRET_KEY", "x" * 64)
    for name in ("POOL_SIZE", "MAX_OVERFLOW", "POOL_TIMEOUT", "POOL_RECYCLE", "POOL_PRE_PING"):
        monkeypatch.delenv(f"LEDGER_DB_{name}", raising=False)
    monkeypatch.delenv("LEDGER_RATELIMIT_STORAGE_URI", raising=False)
    monkeypatch.delenv("LEDGER_ENV", raising=False)
    return monkeypatch


def test_pool_settings_come_from_the_environment(env):
    env.setenv("DATABASE_URL", NOWHERE)
    env.setenv("LEDGER_DB_POOL_SIZE", "3")
    env.setenv("LEDGER_DB_MAX_OVERFLOW", "2")
    env.setenv("LEDGER_DB_POOL_TIMEOUT", "7.5")
    env.setenv("LEDGER_DB_POOL_RECYCLE", "600")
    env.setenv("LEDGER_DB_POOL_PRE_PING", "false")
    app = create_app()
    pool = app.extensions["ledger.engine"].pool
    assert (pool.size(), pool._max_overflow, pool._timeout, pool._recycle, pool._pre_ping) == (3, 2, 7.5, 600, False)
    _dispose(app)


def test_pool_defaults_are_sqlalchemys_with_pre_ping(env):
    env.setenv("DATABASE_URL", NOWHERE)
    app = create_app()
    pool = app.extensions["ledger.engine"].pool
    assert (pool.size(), pool._max_overflow, pool._timeout, pool._recycle, pool._pre_ping) == (5, 10, 30, -1, True)
    _dispose(app)


@pytest.mark.parametrize("url", ["sqlite://", "sqlite:///{tmp}/x.db"])
def test_sqlite_ignores_the_pool_settings(env, tmp_path, url):
    env.setenv("DATABASE_URL", url.format(tmp=tmp_path))
    env.setenv("LEDGER_DB_POOL_SIZE", "1")
    env.setenv("LEDGER_DB_MAX_OVERFLOW", "0")
    env.setenv("LEDGER_DB_POOL_TIMEOUT", "1")
    app = create_app()
    engine = app.extensions["ledger.engine"]
    with engine.connect() as first, engine.connect() as second:  # one process; the pool is not sized down
        assert first.scalar(text("SELECT 1")) == second.scalar(text("SELECT 1")) == 1
    _dispose(app)


@pytest.mark.parametrize(("name", "value", "message"), [
    ("DB_POOL_SIZE", "0", "at least 1"),
    ("DB_POOL_SIZE", "ten", "at least 1"),
    ("DB_POOL_SIZE", "2.5", "at least 1"),
    ("DB_MAX_OVERFLOW", "-1", "0 or more"),
    ("DB_POOL_TIMEOUT", "0", "above 0"),
    ("DB_POOL_RECYCLE", "-2", "-1 for never"),
    ("DB_POOL_PRE_PING", "yes", "true or false"),
])
def test_nonsense_pool_settings_stop_the_start(env, name, value, message):
    env.setenv("DATABASE_URL", NOWHERE)
    env.setenv(f"LEDGER_{name}", value)
    with pytest.raises(ConfigError, match=f"LEDGER_{name} is .*{message}"):
        create_app()


def test_a_full_pool_waits_its_timeout_then_the_request_fails(pg_url):
    app = create_app({"TESTING": True, "DATABASE_URL": pg_url, "SECRET_KEY": "tests",
                      "DB_POOL_SIZE": 1, "DB_MAX_OVERFLOW": 0, "DB_POOL_TIMEOUT": 0.3})
    engine = app.extensions["ledger.engine"]
    try:
        with engine.connect() as held:
            held.execute(text("SELECT 1"))
            started = time.monotonic()
            with pytest.raises(exc.TimeoutError):
                engine.connect()
            assert 0.25 <= time.monotonic() - started < 3
        with engine.connect() as again:  # given back: the next request gets it at once
            assert again.scalar(text("SELECT 1")) == 1
    finally:
        _dispose(app)


# ---- the rate-limit store ---------------------------------------------------------------------------------

MEMORY_WARNING = "Rate limits count in this process's memory"


def test_production_counting_per_process_warns_at_start(env, caplog):
    env.setenv("DATABASE_URL", "sqlite://")
    env.setenv("LEDGER_ENV", "production")
    with caplog.at_level(logging.WARNING):
        _dispose(create_app())
    assert MEMORY_WARNING in caplog.text
    assert "LEDGER_RATELIMIT_STORAGE_URI=redis://" in caplog.text


@pytest.mark.parametrize(("environment", "storage"), [
    ("production", "redis://127.0.0.1:6379/0"),  # shared: nothing to warn about (and nothing connects yet)
    ("development", "memory://"),  # one process on a laptop
])
def test_no_warning_when_counts_are_shared_or_not_in_production(env, caplog, environment, storage):
    env.setenv("DATABASE_URL", "sqlite://")
    env.setenv("LEDGER_ENV", environment)
    env.setenv("LEDGER_RATELIMIT_STORAGE_URI", storage)
    with caplog.at_level(logging.WARNING):
        _dispose(create_app())
    assert MEMORY_WARNING not in caplog.text


def test_an_unreachable_store_never_fails_a_log_in_and_limits_go_on_in_memory(database_url, case, caplog):
    app = create_app({"TESTING": True, "DATABASE_URL": database_url, "SECRET_KEY": "tests",
                      "WTF_CSRF_ENABLED": False, "LOGIN_RATE_LIMIT": "2 per minute",
                      "RATELIMIT_STORAGE_URI": f"redis://127.0.0.1:{free_port()}/0"})  # nothing listens there
    try:
        client = app.test_client()

        def attempt(password: str = WRONG):
            return client.post("/login", data={"email": "alpha@example.org", "password": password})

        started = time.monotonic()
        with caplog.at_level(logging.WARNING):
            statuses = [attempt().status_code for _ in range(2)]
            limited = attempt("correct horse battery")
        assert statuses == [200, 200]  # wrong passwords, answered: no 500
        assert limited.status_code == 429  # the budget is still kept, in this process's memory
        assert 1 <= int(limited.headers["Retry-After"]) <= 60
        assert "falling back to in-memory storage" in caplog.text
        assert time.monotonic() - started < 5  # a refused connection costs no waiting
    finally:
        _dispose(app)
