"""Live events: a per-alliance event sequence on activity, its entry, and members' alert thresholds

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-22
"""
from alembic import op
import sqlalchemy as sa


revision = '0002'
down_revision = '0001'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column('alliances', sa.Column('event_seq', sa.BigInteger(), server_default='0', nullable=False))
    op.add_column('memberships', sa.Column('notify_above', sa.BigInteger(), nullable=True))
    with op.batch_alter_table('activity') as batch_op:
        batch_op.add_column(sa.Column('seq', sa.BigInteger(), nullable=True))
        batch_op.add_column(sa.Column('entry_id', sa.Integer(), nullable=True))
    # Number the activity already recorded 1, 2, 3 ... per alliance, in the order it happened.
    op.execute("UPDATE activity SET seq = (SELECT COUNT(*) FROM activity AS earlier "
               "WHERE earlier.alliance_id = activity.alliance_id AND earlier.id <= activity.id)")
    op.execute("UPDATE alliances SET event_seq = COALESCE("
               "(SELECT MAX(seq) FROM activity WHERE activity.alliance_id = alliances.id), 0)")
    with op.batch_alter_table('activity') as batch_op:
        batch_op.alter_column('seq', existing_type=sa.BigInteger(), nullable=False)
        batch_op.create_foreign_key(batch_op.f('fk_activity_entry_id_entries'), 'entries', ['entry_id'], ['id'])
        batch_op.drop_index('ix_activity_alliance')
        batch_op.create_unique_constraint(batch_op.f('uq_activity_alliance_id'), ['alliance_id', 'seq'])


def downgrade() -> None:
    with op.batch_alter_table('activity') as batch_op:
        batch_op.drop_constraint(batch_op.f('uq_activity_alliance_id'), type_='unique')
        batch_op.create_index('ix_activity_alliance', ['alliance_id', 'id'], unique=False)
        batch_op.drop_constraint(batch_op.f('fk_activity_entry_id_entries'), type_='foreignkey')
        batch_op.drop_column('entry_id')
        batch_op.drop_column('seq')
    op.drop_column('memberships', 'notify_above')
    op.drop_column('alliances', 'event_seq')
