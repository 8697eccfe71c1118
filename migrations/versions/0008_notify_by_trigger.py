"""PostgreSQL announces every activity event itself: NOTIFY by a trigger on activity, not by the app

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-01

Every write leaves an activity row, and every activity row is a live event that the other processes must
hear of (``ledger.live``). The app used to send ``SELECT pg_notify(...)`` after each insert: one more round
trip, while the writer holds the alliance lock. The trigger sends the same notification from the same
transaction (delivered at commit, dropped on rollback) with no round trip, and for any writer at all.
SQLite has one process and no NOTIFY: nothing to do there.
"""
from alembic import op


revision = '0008'
down_revision = '0007'
branch_labels = None
depends_on = None

FUNCTION = """
CREATE OR REPLACE FUNCTION activity_notify() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM pg_notify('ledger_events', NEW.alliance_id || ':' || NEW.seq);
    RETURN NULL;
END
$$
"""
TRIGGER = ("CREATE TRIGGER activity_announces AFTER INSERT ON activity FOR EACH ROW "
           "EXECUTE FUNCTION activity_notify()")


def upgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute(FUNCTION)
        op.execute(TRIGGER)


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP TRIGGER IF EXISTS activity_announces ON activity")
        op.execute("DROP FUNCTION IF EXISTS activity_notify()")
