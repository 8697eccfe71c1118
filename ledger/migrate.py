"""Running the Alembic migrations from code (the CLI, ``make run`` and the tests use this)."""

from __future__ import annotations

from alembic import command
from alembic.config import Config

from ledger import PROJECT_ROOT
from ledger.db import normalise_url


def alembic_config(url: str) -> Config:
    config = Config(str(PROJECT_ROOT / "alembic.ini"))
    config.set_main_option("script_location", str(PROJECT_ROOT / "migrations"))
    config.attributes["database_url"] = normalise_url(url)
    return config


def upgrade(url: str, revision: str = "head") -> None:
    command.upgrade(alembic_config(url), revision)
