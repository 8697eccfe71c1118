"""Settings from the environment.

Everything is read from variables prefixed ``LEDGER_`` (``LEDGER_SECRET_KEY``,
``LEDGER_ENV``, ``LEDGER_PAGE_SIZE`` ...) plus the conventional
``DATABASE_URL``. Development gets a generated secret key kept in the
instance folder, so log-ins survive a restart; production refuses to start
without one rather than run with a guessable key.
"""

from __future__ import annotations

import os
import secrets
from pathlib import Path

from flask import Flask


class ConfigError(RuntimeError):
    """The app cannot start with this configuration."""


DEFAULTS = {
    "ENV": "development",
    "PAGE_SIZE": 50,
    # Alliances per page of the home page (a user may be in hundreds).
    "HOME_PAGE_SIZE": 50,
    "MAX_CONTENT_LENGTH": 2 * 1024 * 1024,
    "SESSION_COOKIE_HTTPONLY": True,
    "SESSION_COOKIE_SAMESITE": "Lax",
    # "Keep me logged in" cookie: the same flags as the session cookie (Secure too, in production).
    "REMEMBER_COOKIE_HTTPONLY": True,
    "REMEMBER_COOKIE_SAMESITE": "Lax",
    "WTF_CSRF_TIME_LIMIT": None,
    "LOCALE": "en",
    # Live views: heartbeat comment interval, stream recycling, and the browser's reconnect delay.
    "LIVE_HEARTBEAT_SECONDS": 15.0,
    "LIVE_STREAM_SECONDS": 300.0,
    "LIVE_RETRY_MS": 1000,
    # Open event streams per user and per client address in each server process: each holds a worker
    # thread, so both stay well below the threads of a process (LEDGER_THREADS, 32 in deploy/), and past
    # them the oldest stream gives way. The address cap is higher: one office may share an address.
    "LIVE_STREAMS_PER_USER": 6,
    "LIVE_STREAMS_PER_ADDRESS": 12,
    # Rate limits (ledger/ratelimit.py, Flask-Limiter syntax): failed log-ins per client address and per
    # email, API requests with an unknown or revoked token per address. memory:// counts per process;
    # redis://host:6379 shares the counts between processes. RATELIMIT_ENABLED=false turns them off.
    "RATELIMIT_ENABLED": True,
    "RATELIMIT_STORAGE_URI": "memory://",
    "LOGIN_RATE_LIMIT": "10 per minute",
    "API_TOKEN_RATE_LIMIT": "20 per minute",
    # How many proxies in front of the app set X-Forwarded-For/-Proto (0: none, trust no such header).
    "PROXY_COUNT": 0,
    # The connection pool of each server process (PostgreSQL; SQLite ignores them), SQLAlchemy's defaults:
    # up to DB_POOL_SIZE connections kept open, DB_MAX_OVERFLOW more opened under load and closed after
    # use, DB_POOL_TIMEOUT seconds to wait for a free one before the request fails, DB_POOL_RECYCLE
    # seconds after which a connection is replaced (-1: never), DB_POOL_PRE_PING to test a connection
    # before each use (a restarted database or a dropped idle connection costs no request).
    "DB_POOL_SIZE": 5,
    "DB_MAX_OVERFLOW": 10,
    "DB_POOL_TIMEOUT": 30,
    "DB_POOL_RECYCLE": -1,
    "DB_POOL_PRE_PING": True,
}


def load_config(app: Flask, overrides: dict | None = None) -> None:
    app.config.update(DEFAULTS)
    app.config.from_prefixed_env("LEDGER")
    if "DATABASE_URL" in os.environ:
        app.config["DATABASE_URL"] = os.environ["DATABASE_URL"]
    if overrides:
        app.config.update(overrides)
    app.config.setdefault(
        "DATABASE_URL", "sqlite:///" + str(Path(app.instance_path) / "ledger.db"))
    production = app.config["ENV"] == "production"
    if production:
        app.config["SESSION_COOKIE_SECURE"] = True
        app.config["REMEMBER_COOKIE_SECURE"] = True
    if not app.config.get("SECRET_KEY"):
        if production:
            raise ConfigError(
                "LEDGER_SECRET_KEY is not set. In production the secret key must come from the "
                "environment, e.g. LEDGER_SECRET_KEY=$(python -c 'import secrets; "
                "print(secrets.token_hex(32))')."
            )
        app.config["SECRET_KEY"] = _development_secret(Path(app.instance_path))
    _check_pool(app.config)
    _check_stream_caps(app.config)


def _check_stream_caps(config) -> None:
    """The caps on live streams are whole numbers of at least 1, or the app does not start."""
    for key in ("LIVE_STREAMS_PER_USER", "LIVE_STREAMS_PER_ADDRESS"):
        value = config[key]
        if isinstance(value, bool) or not isinstance(value, int) or value < 1:
            raise ConfigError(f"LEDGER_{key} is {value!r}; it must be a whole number of streams, at least 1.")


def _check_pool(config) -> None:
    """Pool settings are numbers in range (and pre-ping a boolean), or the app does not start."""
    rules = {
        "DB_POOL_SIZE": (int, 1, "a whole number of connections, at least 1"),
        "DB_MAX_OVERFLOW": (int, 0, "a whole number of connections, 0 or more"),
        "DB_POOL_TIMEOUT": ((int, float), 0.001, "a number of seconds above 0"),
        "DB_POOL_RECYCLE": (int, -1, "a whole number of seconds, or -1 for never"),
    }
    for key, (kind, low, what) in rules.items():
        value = config[key]
        if isinstance(value, bool) or not isinstance(value, kind) or value < low:
            raise ConfigError(f"LEDGER_{key} is {value!r}; it must be {what}.")
    if not isinstance(config["DB_POOL_PRE_PING"], bool):
        raise ConfigError(f"LEDGER_DB_POOL_PRE_PING is {config['DB_POOL_PRE_PING']!r}; it must be true or false.")


def _development_secret(instance: Path) -> str:
    """A random key generated once per checkout and kept in ``instance/secret_key``."""
    instance.mkdir(parents=True, exist_ok=True)
    path = instance / "secret_key"
    if not path.exists():
        path.write_text(secrets.token_hex(32))
        path.chmod(0o600)
    return path.read_text().strip()
