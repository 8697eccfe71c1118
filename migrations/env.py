"""Alembic environment: the models' metadata, batch mode for SQLite, URL from the caller or env."""

from __future__ import annotations

import os
from logging.config import fileConfig

from alembic import context

from ledger import PROJECT_ROOT
from ledger.db import make_engine, normalise_url
from ledger.models import Base

config = context.config
if config.config_file_name and not config.attributes.get("database_url"):
    fileConfig(config.config_file_name, disable_existing_loggers=False)

url = config.attributes.get("database_url") or normalise_url(
    os.environ.get("DATABASE_URL", f"sqlite:///{PROJECT_ROOT / 'instance' / 'ledger.db'}"))


def run_migrations_offline() -> None:
    context.configure(url=url, target_metadata=Base.metadata, literal_binds=True,
                      render_as_batch=url.startswith("sqlite"), compare_type=True)
    with context.begin_transaction():
        context.run_migrations()


def run_migrations_online() -> None:
    engine = make_engine(url)
    with engine.connect() as connection:
        context.configure(connection=connection, target_metadata=Base.metadata,
                          render_as_batch=connection.dialect.name == "sqlite", compare_type=True)
        with context.begin_transaction():
            context.run_migrations()
    engine.dispose()


if context.is_offline_mode():
    run_migrations_offline()
else:
    run_migrations_online()
