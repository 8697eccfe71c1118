"""The running totals keep the all-time rows once more with the categories summed together (grain 's')

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-02

Balances and the home page read an alliance's all-time totals per (kind, partner, counterparty, pool); the
all-time rows are also keyed by category, so they read several times the rows they need (seven times in
the benchmark books: a home page of fifty alliances read 7,800 rows to use 1,000). The triggers now write
a fourth row per entry, grain ``'s'``, with category 0, and ``ledger.totals`` reads it whenever no
category is asked for. The rows are backfilled from the all-time rows, so the upgrade costs the same at
any number of entries. Both trigger definitions are rewritten whole, as migration 0007 wrote them, with
the grains as a parameter, so that the downgrade can put back the three-grain version.
"""
from alembic import op


revision = '0009'
down_revision = '0008'
branch_labels = None
depends_on = None

KEY = "alliance_id, grain, period_start, kind, partner_id, counterparty_id, pool_id, category_id"

COLUMNS = "alliance_id, entry_date, kind, partner_id, counterparty_id, pool_id, category_id"

WITH_SUMMED = "amds"
WITHOUT_SUMMED = "amd"


def _postgresql_function(name: str, changes: str, grains: str) -> str:
    """A statement-level trigger function adding ``changes`` (rows of COLUMNS, n, amount) to the totals."""
    values = ", ".join(f"('{grain}')" for grain in grains)
    return f"""
CREATE OR REPLACE FUNCTION {name}() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO entry_totals AS t ({KEY}, entries, amount)
    SELECT c.alliance_id, g.grain,
           CASE g.grain WHEN 'm' THEN date_trunc('month', c.entry_date)::date
                        WHEN 'd' THEN c.entry_date
                        ELSE DATE '0001-01-01' END,
           c.kind, c.partner_id, coalesce(c.counterparty_id, 0), coalesce(c.pool_id, 0),
           CASE g.grain WHEN 's' THEN 0 ELSE coalesce(c.category_id, 0) END, sum(c.n), sum(c.amount)
    FROM ({changes}) AS c CROSS JOIN (VALUES {values}) AS g(grain)
    GROUP BY 1, 2, 3, 4, 5, 6, 7, 8
    ORDER BY 1, 2, 3, 4, 5, 6, 7, 8
    ON CONFLICT ({KEY})
    DO UPDATE SET entries = t.entries + EXCLUDED.entries, amount = t.amount + EXCLUDED.amount;
    RETURN NULL;
END
$$
"""


def _postgresql(grains: str) -> list[str]:
    """The two functions; the triggers that call them (migration 0007) stay as they are."""
    return [
        _postgresql_function("entry_totals_add", f"SELECT {COLUMNS}, 1 AS n, amount FROM new_entries", grains),
        _postgresql_function("entry_totals_move", f"SELECT {COLUMNS}, 1 AS n, amount FROM new_entries UNION ALL "
                                                  f"SELECT {COLUMNS}, -1 AS n, -amount FROM old_entries", grains),
    ]


def _sqlite_rows(row: str, n: str, amount: str, grains: str) -> list[str]:
    starts = {"a": "'0001-01-01'", "m": f"substr({row}.entry_date, 1, 8) || '01'", "d": f"{row}.entry_date",
              "s": "'0001-01-01'"}
    return [f"({row}.alliance_id, '{grain}', {starts[grain]}, {row}.kind, {row}.partner_id, "
            f"coalesce({row}.counterparty_id, 0), coalesce({row}.pool_id, 0), "
            f"{'0' if grain == 's' else f'coalesce({row}.category_id, 0)'}, {n}, {amount})" for grain in grains]


def _sqlite_trigger(name: str, event: str, rows: list[str]) -> str:
    values = ",\n        ".join(rows)
    return f"""
CREATE TRIGGER {name} AFTER {event} ON entries FOR EACH ROW BEGIN
    INSERT INTO entry_totals ({KEY}, entries, amount) VALUES
        {values}
    ON CONFLICT ({KEY})
    DO UPDATE SET entries = entries + excluded.entries, amount = amount + excluded.amount;
END
"""


def _sqlite(grains: str) -> list[str]:
    return [
        "DROP TRIGGER IF EXISTS entries_add_to_totals",
        "DROP TRIGGER IF EXISTS entries_move_in_totals",
        _sqlite_trigger("entries_add_to_totals", "INSERT", _sqlite_rows("NEW", "1", "NEW.amount", grains)),
        # A new agreement version re-assigns entries to its pools (UPDATE of pool_id and version_id).
        _sqlite_trigger("entries_move_in_totals",
                        "UPDATE OF alliance_id, entry_date, kind, partner_id, counterparty_id, pool_id, category_id, "
                        "amount", _sqlite_rows("OLD", "-1", "-OLD.amount", grains)
                        + _sqlite_rows("NEW", "1", "NEW.amount", grains)),
    ]


def _triggers(grains: str) -> list[str]:
    return _postgresql(grains) if op.get_bind().dialect.name == "postgresql" else _sqlite(grains)


BACKFILL = (f"INSERT INTO entry_totals ({KEY}, entries, amount) "
            "SELECT alliance_id, 's', period_start, kind, partner_id, counterparty_id, pool_id, 0, "
            "sum(entries), sum(amount) FROM entry_totals WHERE grain = 'a' "
            "GROUP BY alliance_id, period_start, kind, partner_id, counterparty_id, pool_id")


def upgrade() -> None:
    # No entry may be written between the new triggers and the backfill (it would be added twice), so on
    # PostgreSQL the entries are locked against writes until the migration commits; SQLite has one writer.
    if op.get_bind().dialect.name == "postgresql":
        op.execute("LOCK TABLE entries IN SHARE MODE")
    for statement in _triggers(WITH_SUMMED):
        op.execute(statement)
    op.execute(BACKFILL)


def downgrade() -> None:
    for statement in _triggers(WITHOUT_SUMMED):
        op.execute(statement)
    op.execute("DELETE FROM entry_totals WHERE grain = 's'")
