"""Engine, sessions and column types shared by every table.

The app keeps one engine per process and one session per request (on
``flask.g``); services never commit, the request does, so a use case is one
transaction that either lands whole or not at all.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import BigInteger, DateTime, MetaData, create_engine, event
from sqlalchemy.engine import Engine
from sqlalchemy.orm import DeclarativeBase, Session, sessionmaker
from sqlalchemy.types import TypeDecorator

from ledger import clock

#: Constraint names that Alembic can find again on both engines.
NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


#: The largest value of an INTEGER primary key on PostgreSQL; anything above is no row of ours.
MAX_ID = 2**31 - 1

#: The largest event number (``seq``, a BIGINT): a Last-Event-ID or cursor above it is no event of ours.
MAX_SEQ = 2**63 - 1


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)


class UTCDateTime(TypeDecorator[datetime]):
    """Timestamps stored as naive UTC and read back aware, identically on SQLite and PostgreSQL."""

    impl = DateTime
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetimes are ambiguous; pass an aware UTC datetime")
        return value.astimezone(UTC).replace(tzinfo=None)

    def process_result_value(self, value: datetime | None, dialect) -> datetime | None:
        return None if value is None else value.replace(tzinfo=UTC)


class Weight(TypeDecorator[Decimal]):
    """A split weight kept exactly as an integer count of ten-thousandths.

    SQLite has no exact decimal type (NUMERIC there is a float), so weights
    such as 33.3333 are stored as 333333 and come back as the same Decimal.
    """

    impl = BigInteger
    cache_ok = True
    SCALE = 10_000

    def process_bind_param(self, value: Decimal | None, dialect) -> int | None:
        if value is None:
            return None
        scaled = Decimal(value) * self.SCALE
        if scaled != scaled.to_integral_value():
            raise ValueError(f"weight {value} has more than 4 decimals")
        return int(scaled)

    def process_result_value(self, value: int | None, dialect) -> Decimal | None:
        if value is None:
            return None
        weight = Decimal(value) / self.SCALE
        return weight.quantize(Decimal(1)) if weight == weight.to_integral_value() else weight.normalize()


class Quantity(Weight):
    """A target value or measurement (masks, euros, euros per mask) kept exactly to 4 decimals, like a weight."""

    cache_ok = True


def utcnow() -> datetime:
    """Now, from the app's one clock (:mod:`ledger.clock`): timestamps and "today" never disagree."""
    return clock.utcnow()


def normalise_url(url: str) -> str:
    """Accept the ``postgres://`` and ``postgresql://`` spellings hosting platforms hand out."""
    for prefix in ("postgres://", "postgresql://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url[len(prefix):]
    return url


#: The app's pool settings (``LEDGER_DB_*``, see ledger.config) and the create_engine arguments they become.
POOL_SETTINGS = {
    "DB_POOL_SIZE": "pool_size",
    "DB_MAX_OVERFLOW": "max_overflow",
    "DB_POOL_TIMEOUT": "pool_timeout",
    "DB_POOL_RECYCLE": "pool_recycle",
    "DB_POOL_PRE_PING": "pool_pre_ping",
}


def pool_options(config: Mapping[str, Any]) -> dict[str, Any]:
    """The create_engine arguments for the pool settings present in ``config`` (an app's config)."""
    return {argument: config[key] for key, argument in POOL_SETTINGS.items() if key in config}


def make_engine(url: str, **kwargs) -> Engine:
    """An engine for ``url``; pool arguments (``pool_options``) size a PostgreSQL pool and are ignored on SQLite.

    SQLite is the one-process development database: its file locking, not a pool, orders the writers,
    and its in-memory form has a pool that takes none of these arguments.
    """
    url = normalise_url(url)
    if url.startswith("sqlite"):
        for argument in POOL_SETTINGS.values():
            kwargs.pop(argument, None)
        kwargs.setdefault("connect_args", {"check_same_thread": False, "timeout": 30})
    else:
        kwargs.setdefault("pool_pre_ping", True)
    engine = create_engine(url, **kwargs)
    if engine.dialect.name == "sqlite":
        event.listen(engine, "connect", _sqlite_pragmas)
    return engine


def _sqlite_pragmas(dbapi_connection, _record) -> None:
    """Foreign keys on (SQLite ignores them otherwise) and WAL so readers don't block the writer."""
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.close()


def make_session_factory(engine: Engine) -> sessionmaker[Session]:
    return sessionmaker(engine, expire_on_commit=False)
