"""Alembic environment: the models' metadata, batch mode for SQLite, URL from the caller or env."""

from __future__ import annotations

import os
from logging.config import fileConfig

from alembic import context
from sqlalchemy import event

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


def _sqlite_migration_mode(engine) -> None:
    """Make a migration on SQLite all or nothing, and let batch mode rebuild referenced tables.

    Python's sqlite3 runs DDL outside any transaction, so a failed migration would leave half a
    schema; taking over BEGIN makes the DDL transactional (SQLAlchemy's documented recipe). Batch
    mode rebuilds a table by copy, drop and rename, and dropping a table other rows reference
    (entries) fails while foreign keys are enforced, so they are off for the migration and the
    whole database is checked before it commits.
    """

    @event.listens_for(engine, "connect")
    def _connect(dbapi_connection, _record) -> None:
        dbapi_connection.execute("PRAGMA foreign_keys=OFF")  # only effective outside a transaction
        dbapi_connection.isolation_level = None

    @event.listens_for(engine, "begin")
    def _begin(connection) -> None:
        connection.exec_driver_sql("BEGIN")


def run_migrations_online() -> None:
    engine = make_engine(url)
    sqlite = engine.dialect.name == "sqlite"
    if sqlite:
        _sqlite_migration_mode(engine)
    with engine.connect() as connection:
        context.configure(connection=connection, target_metadata=Base.metadata,
                          render_as_batch=sqlite, compare_type=True)
        with context.begin_transaction():
            context.run_migrations()
            if sqlite:
                broken = connection.exec_driver_sql("PRAGMA foreign_key_check").fetchall()
                if broken:
                    raise RuntimeError(f"migration left rows whose foreign keys point nowhere: {broken[:5]}")
    engine.dispose()


if context.is_offline_mode():
    run_migrations_offline()
else:
    run_migrations_online()
