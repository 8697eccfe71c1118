"""Each alliance keeps its books in a time zone of its own (IANA name, 'UTC' unless set)

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-07

"Today" (inside the term? the books read-only? a checkpoint due?) is the calendar day where the alliance
is, the same for its pages, its API and the command line. Existing alliances get UTC, the day the API
already used; a coordinator sets the alliance's zone on its settings.
"""
from alembic import op
import sqlalchemy as sa


revision = '0011'
down_revision = '0010'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('alliances', schema=None) as batch_op:
        batch_op.add_column(sa.Column('timezone', sa.String(length=64), server_default='UTC', nullable=False))


def downgrade() -> None:
    with op.batch_alter_table('alliances', schema=None) as batch_op:
        batch_op.drop_column('timezone')
