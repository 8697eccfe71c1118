"""Migration 0002 numbers the activity recorded before it, so old history resumes like new events.

Runs on a database of its own (a temporary SQLite file, or a PostgreSQL
database named after the test database with ``_mig`` appended, created and
dropped here) because it has to stop at revision 0001, which the shared
fixtures never do.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, date, datetime

import psycopg
import pytest
from sqlalchemy import MetaData, Table, insert, text
from sqlalchemy.engine import make_url

from ledger.db import make_engine
from ledger.migrate import upgrade
from tests.conftest import ENGINES, worker_postgres_url


def _admin_dsn(url: str) -> tuple[str, str, str]:
    """(a libpq DSN of the maintenance database, this test's own database URL, its name)."""
    parsed = make_url(url)
    name = f"{parsed.database}_mig"
    admin = parsed.set(drivername="postgresql", database="postgres").render_as_string(hide_password=False)
    return admin, parsed.set(database=name).render_as_string(hide_password=False), name


@pytest.fixture(params=ENGINES)
def fresh_url(request, tmp_path) -> Iterator[str]:
    """An empty database nobody else uses."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'mig.db'}"
        return
    admin, url, name = _admin_dsn(worker_postgres_url())
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{name}"')
    yield url
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def test_upgrade_numbers_existing_activity_per_alliance(fresh_url):
    upgrade(fresh_url, "0001")
    engine = make_engine(fresh_url)
    now = datetime(2020, 5, 1, tzinfo=UTC).replace(tzinfo=None)
    try:
        with engine.begin() as conn:
            alliances, activity = (Table(t, MetaData(), autoload_with=conn) for t in ("alliances", "activity"))
            ids = []
            for name in ("First", "Second", "Empty"):
                ids.append(conn.execute(insert(alliances).values(
                    name=name, cause="", currency="EUR", start_date=date(2020, 4, 1), term_end=date(2022, 3, 31),
                    created_at=now).returning(alliances.c.id)).scalar_one())
            first, second, empty = ids
            # Interleaved, as real history is: 5 events in the first alliance, 3 in the second.
            for alliance_id in (first, second, first, first, second, first, second, first):
                conn.execute(insert(activity).values(alliance_id=alliance_id, actor_id=None, action="test",
                                                     summary=f"event of {alliance_id}", created_at=now))
        upgrade(fresh_url)
        with engine.connect() as conn:
            rows = conn.execute(text("SELECT alliance_id, seq FROM activity ORDER BY id")).all()
            event_seq = dict(conn.execute(text("SELECT id, event_seq FROM alliances")).all())
            version = conn.scalar(text("SELECT version_num FROM alembic_version"))
    finally:
        engine.dispose()
    by_alliance: dict[int, list[int]] = {}
    for alliance_id, seq in rows:
        by_alliance.setdefault(alliance_id, []).append(seq)
    assert by_alliance == {first: [1, 2, 3, 4, 5], second: [1, 2, 3]}
    assert event_seq == {first: 5, second: 3, empty: 0}
    assert version >= "0002"

