"""Running totals of the entries (entry_totals) kept by a trigger, and one index per ledger filter

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-01

Balances and the ledger's totals read ``entry_totals`` (all time, by month, by day) instead of aggregating
every entry, so they cost the same at a million entries as at a thousand. The table is written only by a
trigger on ``entries``: on PostgreSQL a statement-level trigger with transition tables (one aggregate per
statement, so a bulk import adds 100,000 rows in one upsert), on SQLite a row trigger (SQLite has no other
kind). Entries are only inserted, except that a new agreement version re-assigns the entries from its date
to its pools: the UPDATE trigger moves their sums from the old pool's rows to the new one's. Existing
entries are added by the backfill below.

The two indexes that served the old aggregates (``ix_entries_balance``, ``ix_entries_grouping``) go; in
their place each ledger filter gets its keyset index, so a filtered page reads its rows off one index.
"""
from alembic import op
import sqlalchemy as sa


revision = '0007'
down_revision = '0006'
branch_labels = None
depends_on = None

KEY = "alliance_id, grain, period_start, kind, partner_id, counterparty_id, pool_id, category_id"

COLUMNS = "alliance_id, entry_date, kind, partner_id, counterparty_id, pool_id, category_id"


def _postgresql_function(name: str, changes: str) -> str:
    """A statement-level trigger function adding ``changes`` (rows of COLUMNS, n, amount) to the totals."""
    return f"""
CREATE OR REPLACE FUNCTION {name}() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO entry_totals AS t ({KEY}, entries, amount)
    SELECT c.alliance_id, g.grain,
           CASE g.grain WHEN 'a' THEN DATE '0001-01-01'
                        WHEN 'm' THEN date_trunc('month', c.entry_date)::date
                        ELSE c.entry_date END,
           c.kind, c.partner_id, coalesce(c.counterparty_id, 0), coalesce(c.pool_id, 0),
           coalesce(c.category_id, 0), sum(c.n), sum(c.amount)
    FROM ({changes}) AS c CROSS JOIN (VALUES ('a'), ('m'), ('d')) AS g(grain)
    GROUP BY 1, 2, 3, 4, 5, 6, 7, 8
    ORDER BY 1, 2, 3, 4, 5, 6, 7, 8
    ON CONFLICT ({KEY})
    DO UPDATE SET entries = t.entries + EXCLUDED.entries, amount = t.amount + EXCLUDED.amount;
    RETURN NULL;
END
$$
"""


POSTGRESQL = [
    _postgresql_function("entry_totals_add", f"SELECT {COLUMNS}, 1 AS n, amount FROM new_entries"),
    _postgresql_function("entry_totals_move", f"SELECT {COLUMNS}, 1 AS n, amount FROM new_entries UNION ALL "
                                              f"SELECT {COLUMNS}, -1 AS n, -amount FROM old_entries"),
    "CREATE TRIGGER entries_add_to_totals AFTER INSERT ON entries REFERENCING NEW TABLE AS new_entries "
    "FOR EACH STATEMENT EXECUTE FUNCTION entry_totals_add()",
    "CREATE TRIGGER entries_move_in_totals AFTER UPDATE ON entries "
    "REFERENCING OLD TABLE AS old_entries NEW TABLE AS new_entries "
    "FOR EACH STATEMENT EXECUTE FUNCTION entry_totals_move()",
]


def _sqlite_rows(row: str, n: str, amount: str) -> list[str]:
    starts = ("'0001-01-01'", f"substr({row}.entry_date, 1, 8) || '01'", f"{row}.entry_date")
    return [f"({row}.alliance_id, '{grain}', {start}, {row}.kind, {row}.partner_id, "
            f"coalesce({row}.counterparty_id, 0), coalesce({row}.pool_id, 0), coalesce({row}.category_id, 0), "
            f"{n}, {amount})" for grain, start in zip("amd", starts)]


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


SQLITE = [
    _sqlite_trigger("entries_add_to_totals", "INSERT", _sqlite_rows("NEW", "1", "NEW.amount")),
    # A new agreement version re-assigns entries to its pools (UPDATE of pool_id and version_id).
    _sqlite_trigger("entries_move_in_totals",
                    "UPDATE OF alliance_id, entry_date, kind, partner_id, counterparty_id, pool_id, category_id, "
                    "amount", _sqlite_rows("OLD", "-1", "-OLD.amount") + _sqlite_rows("NEW", "1", "NEW.amount")),
]


def _backfill(dialect: str) -> str:
    month = ("date_trunc('month', entry_date)::date" if dialect == "postgresql"
             else "substr(entry_date, 1, 8) || '01'")
    all_time = "DATE '0001-01-01'" if dialect == "postgresql" else "'0001-01-01'"
    parts = []
    for grain, start in (("a", all_time), ("m", month), ("d", "entry_date")):
        parts.append(
            f"INSERT INTO entry_totals ({KEY}, entries, amount) "
            f"SELECT alliance_id, '{grain}', {start}, kind, partner_id, coalesce(counterparty_id, 0), "
            f"coalesce(pool_id, 0), coalesce(category_id, 0), count(*), sum(amount) FROM entries "
            f"GROUP BY 1, 2, 3, 4, 5, 6, 7, 8")
    return parts


def upgrade() -> None:
    op.create_table('entry_totals',
    sa.Column('alliance_id', sa.Integer(), nullable=False),
    sa.Column('grain', sa.String(length=1), nullable=False),
    sa.Column('period_start', sa.Date(), nullable=False),
    sa.Column('kind', sa.Enum('cost', 'contribution', 'service_fee', 'revenue', 'settlement', name='entry_kind', native_enum=False, create_constraint=True, length=32), nullable=False),
    sa.Column('partner_id', sa.Integer(), nullable=False),
    sa.Column('counterparty_id', sa.Integer(), nullable=False),
    sa.Column('pool_id', sa.Integer(), nullable=False),
    sa.Column('category_id', sa.Integer(), nullable=False),
    sa.Column('entries', sa.BigInteger(), nullable=False),
    sa.Column('amount', sa.BigInteger(), nullable=False),
    sa.ForeignKeyConstraint(['alliance_id'], ['alliances.id'], name=op.f('fk_entry_totals_alliance_id_alliances')),
    sa.PrimaryKeyConstraint('alliance_id', 'grain', 'period_start', 'kind', 'partner_id', 'counterparty_id', 'pool_id', 'category_id', name=op.f('pk_entry_totals'))
    )
    with op.batch_alter_table('entries', schema=None) as batch_op:
        batch_op.drop_index('ix_entries_balance')
        batch_op.drop_index('ix_entries_grouping')
        batch_op.create_index('ix_entries_ledger_category', ['alliance_id', 'category_id', 'entry_date', 'id'], unique=False)
        batch_op.create_index('ix_entries_ledger_counterparty', ['alliance_id', 'counterparty_id', 'entry_date', 'id'], unique=False)
        batch_op.create_index('ix_entries_ledger_kind', ['alliance_id', 'kind', 'entry_date', 'id'], unique=False)
        batch_op.create_index('ix_entries_ledger_partner', ['alliance_id', 'partner_id', 'entry_date', 'id'], unique=False)

    dialect = op.get_bind().dialect.name
    for statement in _backfill(dialect):
        op.execute(statement)
    for statement in POSTGRESQL if dialect == "postgresql" else SQLITE:
        op.execute(statement)


def downgrade() -> None:
    with op.batch_alter_table('entries', schema=None) as batch_op:
        batch_op.drop_index('ix_entries_ledger_partner')
        batch_op.drop_index('ix_entries_ledger_kind')
        batch_op.drop_index('ix_entries_ledger_counterparty')
        batch_op.drop_index('ix_entries_ledger_category')
        batch_op.create_index('ix_entries_grouping', ['alliance_id', 'kind', 'partner_id', 'counterparty_id', 'pool_id', 'entry_date', 'amount'], unique=False)
        batch_op.create_index('ix_entries_balance', ['alliance_id', 'entry_date', 'kind', 'partner_id', 'counterparty_id', 'pool_id', 'amount'], unique=False)
    postgresql = op.get_bind().dialect.name == "postgresql"
    for trigger in ("entries_add_to_totals", "entries_move_in_totals"):
        op.execute(f"DROP TRIGGER IF EXISTS {trigger}" + (" ON entries" if postgresql else ""))
    if postgresql:
        op.execute("DROP FUNCTION IF EXISTS entry_totals_add()")
        op.execute("DROP FUNCTION IF EXISTS entry_totals_move()")
    op.drop_table('entry_totals')
