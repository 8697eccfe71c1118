"""Configuration comes from LEDGER_* variables and DATABASE_URL; production refuses a missing secret."""

from __future__ import annotations

import pytest

from ledger import create_app
from ledger.config import ConfigError


def test_settings_come_from_prefixed_environment(monkeypatch, tmp_path):
    monkeypatch.setenv("LEDGER_INSTANCE_PATH", str(tmp_path))
    monkeypatch.setenv("LEDGER_PAGE_SIZE", "25")
    monkeypatch.setenv("DATABASE_URL", f"sqlite:///{tmp_path / 'x.db'}")
    app = create_app()
    assert app.config["PAGE_SIZE"] == 25
    assert app.config["DATABASE_URL"] == f"sqlite:///{tmp_path / 'x.db'}"
    app.extensions["ledger.engine"].dispose()


def test_development_generates_and_keeps_a_secret_key(monkeypatch, tmp_path):
    monkeypatch.setenv("LEDGER_INSTANCE_PATH", str(tmp_path))
    monkeypatch.delenv("LEDGER_SECRET_KEY", raising=False)
    first = create_app({"DATABASE_URL": "sqlite://"}).config["SECRET_KEY"]
    second = create_app({"DATABASE_URL": "sqlite://"}).config["SECRET_KEY"]
    assert len(first) >= 32
    assert first == second  # log-ins survive a restart
    assert (tmp_path / "secret_key").stat().st_mode & 0o077 == 0


def test_production_without_secret_key_is_a_clear_error(monkeypatch, tmp_path):
    monkeypatch.setenv("LEDGER_INSTANCE_PATH", str(tmp_path))
    monkeypatch.setenv("LEDGER_ENV", "production")
    monkeypatch.delenv("LEDGER_SECRET_KEY", raising=False)
    with pytest.raises(ConfigError, match="LEDGER_SECRET_KEY is not set"):
        create_app({"DATABASE_URL": "sqlite://"})


def test_production_with_secret_key_sets_secure_cookies(monkeypatch, tmp_path):
    monkeypatch.setenv("LEDGER_INSTANCE_PATH", str(tmp_path))
    monkeypatch.setenv("LEDGER_ENV", "production")
    monkeypatch.setenv("LEDGER_SECRET_KEY", "x" * 64)
    app = create_app({"DATABASE_URL": "sqlite://"})
    assert app.config["SESSION_COOKIE_SECURE"] is True
    assert app.config["SECRET_KEY"] == "x" * 64


@pytest.mark.parametrize(("given", "expected"), [
    ("postgres://u@h/db", "postgresql+psycopg://u@h/db"),
    ("postgresql://u@h/db", "postgresql+psycopg://u@h/db"),
    ("postgresql+psycopg://u@h/db", "postgresql+psycopg://u@h/db"),
    ("sqlite:///x.db", "sqlite:///x.db"),
])
def test_database_url_spellings(given, expected):
    from ledger.db import normalise_url

    assert normalise_url(given) == expected


@pytest.mark.parametrize("value", ["0", "-3", "2.5", "\"many\"", "true"])
def test_a_live_stream_cap_that_is_not_a_whole_number_of_at_least_one_is_refused(monkeypatch, tmp_path, value):
    monkeypatch.setenv("LEDGER_INSTANCE_PATH", str(tmp_path))
    monkeypatch.setenv("LEDGER_LIVE_STREAMS_PER_ADDRESS", value)
    with pytest.raises(ConfigError, match=r"LEDGER_LIVE_STREAMS_PER_ADDRESS is .*at least 1"):
        create_app({"DATABASE_URL": "sqlite://"})
