"""Upgrading a database that already holds books: nothing lost, on both engines.

The other migration tests start from empty databases; SQLite's batch mode
rebuilds tables by copy, drop and rename, which only fails once rows
reference the table being rebuilt, so this test upgrades a populated one.
"""

from __future__ import annotations

from alembic.script import ScriptDirectory
from sqlalchemy import text

from ledger.db import make_engine
from ledger.migrate import alembic_config, upgrade
from ledger.models import Base

ROWS = [
    "INSERT INTO users (id, email, name, password_hash, created_at) VALUES (1, 'a@x.org', 'A', 'h', '2020-04-01')",
    "INSERT INTO alliances (id, name, cause, currency, start_date, term_end, created_at, event_seq) "
    "VALUES (1, 'Masks', '', 'EUR', '2020-04-01', '2022-03-31', '2020-04-01', 2)",
    "INSERT INTO partners (id, alliance_id, name, role, type) VALUES (1, 1, 'Alpha', 'protagonist', 'supplier')",
    "INSERT INTO categories (id, alliance_id, name) VALUES (1, 1, 'waste')",
    "INSERT INTO agreement_versions (id, alliance_id, number, effective_from, note, created_at) "
    "VALUES (1, 1, 1, '2020-04-01', '', '2020-04-01')",
    "INSERT INTO pools (id, version_id, position, name, side, all_categories) VALUES (1, 1, 0, 'Costs', 'costs', true)",
    "INSERT INTO entries (id, alliance_id, entry_date, partner_id, kind, category_id, amount, description, reference,"
    " version_id, pool_id, recorded_by_id, recorded_at) "
    "VALUES (1, 1, '2020-05-01', 1, 'cost', 1, 12345, 'fabric', '', 1, 1, 1, '2020-05-01')",
    "INSERT INTO entries (id, alliance_id, entry_date, partner_id, kind, category_id, amount, description, reference,"
    " version_id, pool_id, reverses_id, recorded_by_id, recorded_at) "
    "VALUES (2, 1, '2020-05-02', 1, 'cost', 1, -12345, 'Reversal of #1', '', 1, 1, 1, 1, '2020-05-02')",
    "INSERT INTO activity (id, alliance_id, seq, actor_id, action, summary, entry_id, created_at) "
    "VALUES (1, 1, 1, 1, 'entry.recorded', 'recorded #1', 1, '2020-05-01')",
    "INSERT INTO activity (id, alliance_id, seq, actor_id, action, summary, entry_id, created_at) "
    "VALUES (2, 1, 2, 1, 'entry.reversed', 'reversed #1', 2, '2020-05-02')",
]


def test_upgrading_a_populated_database_keeps_every_row(database_url):
    engine = make_engine(database_url)
    try:
        with engine.begin() as conn:  # back to revision 0002 with rows that reference entries
            # Every table the models know (later migrations' too), children first.
            names = "alembic_version, " + ", ".join(t.name for t in reversed(Base.metadata.sorted_tables))
            for name in names.split(", "):
                conn.execute(text(f"DROP TABLE IF EXISTS {name}" + (" CASCADE" if conn.dialect.name != "sqlite"
                                                                     else "")))
        upgrade(database_url, "0002")
        with engine.begin() as conn:
            for row in ROWS:
                conn.execute(text(row))
        upgrade(database_url)
        with engine.connect() as conn:
            assert conn.execute(text("SELECT id, amount, reverses_id FROM entries ORDER BY id")).all() == [
                (1, 12345, None), (2, -12345, 1)]
            assert conn.execute(text("SELECT entry_id FROM activity ORDER BY seq")).scalars().all() == [1, 2]
            assert conn.execute(text("SELECT import_batch_id FROM entries")).scalars().all() == [None, None]
            head = ScriptDirectory.from_config(alembic_config(database_url)).get_current_head()
            assert conn.execute(text("SELECT version_num FROM alembic_version")).scalar_one() == head
            # Each alliance's charter starts from what its row held.
            charter = conn.execute(text("SELECT a.id, c.number, c.effective_from = a.start_date, "
                                        "c.term_end = a.term_end, c.cause = a.cause FROM alliances a "
                                        "JOIN charter_versions c ON c.alliance_id = a.id")).all()
            assert charter
            assert all(row[1] == 1 and row[2] and row[3] and row[4] for row in charter)
    finally:
        engine.dispose()


def test_upgrading_links_the_existing_records_into_a_chain_that_verifies(database_url):
    """Migration 0005 backfills the hash chain: the rows above (two entries, the charter version 0004 made)."""
    from ledger.chain import links_of, verify_alliance

    test_upgrading_a_populated_database_keeps_every_row(database_url)
    engine = make_engine(database_url)
    try:
        with engine.connect() as conn:
            links = links_of(conn, 1)
            assert [(link.position, link.record_type) for link in links] == [
                (1, "charter_version"), (2, "agreement_version"), (3, "entry"), (4, "entry")]
            assert verify_alliance(conn, 1).intact
    finally:
        engine.dispose()


NEW_ENTRY = ("INSERT INTO entries (id, alliance_id, entry_date, partner_id, kind, category_id, amount, description,"
             " reference, version_id, pool_id, recorded_by_id, recorded_at) "
             "VALUES ({id}, 1, '2020-06-01', 1, 'cost', 1, 500, 'thread', '', 1, 1, 1, '2020-06-01')")


def _summed(conn) -> list[tuple]:
    return conn.execute(text("SELECT kind, partner_id, pool_id, category_id, entries, amount FROM entry_totals "
                             "WHERE grain = 's' ORDER BY kind")).all()


def test_upgrading_adds_the_all_time_rows_without_categories_and_downgrading_takes_them_away(database_url):
    """Migration 0009 backfills grain 's' from the all-time rows, and its triggers keep it from then on."""
    from alembic import command

    test_upgrading_a_populated_database_keeps_every_row(database_url)
    engine = make_engine(database_url)
    try:
        with engine.connect() as conn:  # entries 1 and 2 (12345 and its reversal), category 1 summed away
            assert _summed(conn) == [("cost", 1, 1, 0, 2, 0)]
        with engine.begin() as conn:
            conn.execute(text(NEW_ENTRY.format(id=3)))
        with engine.connect() as conn:
            assert _summed(conn) == [("cost", 1, 1, 0, 3, 500)]
        command.downgrade(alembic_config(database_url), "0008")
        with engine.begin() as conn:
            assert _summed(conn) == []
            conn.execute(text(NEW_ENTRY.format(id=4)))
            assert _summed(conn) == []  # the three-grain triggers are back
            assert conn.execute(text("SELECT entries, amount FROM entry_totals WHERE grain = 'a'")).all() == [
                (4, 1000)]
        upgrade(database_url)
        with engine.connect() as conn:
            assert _summed(conn) == [("cost", 1, 1, 0, 4, 1000)]
    finally:
        engine.dispose()
