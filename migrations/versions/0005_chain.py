"""Tamper evidence: the hash chain of each alliance's records (chain_links), backfilled for existing records

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-01

The backfill links every record already in the database, alliance by alliance, in the order the records
happened (their timestamps; ties by type, then id), so an upgraded database verifies intact and its chain
continues with the next write. It reads the records with the application's own loaders
(``ledger.chain.records``), so the backfilled hashes are computed from exactly the values the verifier will
read. Those loaders select named columns only; should a later revision rename or drop one of them, copy the
loaders of this revision here.
"""
from alembic import op
import sqlalchemy as sa


revision = '0005'
down_revision = '0004'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('chain_links',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('alliance_id', sa.Integer(), nullable=False),
    sa.Column('position', sa.BigInteger(), nullable=False),
    sa.Column('record_type', sa.String(length=32), nullable=False),
    sa.Column('record_id', sa.Integer(), nullable=False),
    sa.Column('hash', sa.String(length=64), nullable=False),
    sa.Column('previous_hash', sa.String(length=64), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.ForeignKeyConstraint(['alliance_id'], ['alliances.id'], name=op.f('fk_chain_links_alliance_id_alliances')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_chain_links')),
    sa.UniqueConstraint('alliance_id', 'position', name=op.f('uq_chain_links_alliance_id'))
    )
    with op.batch_alter_table('chain_links', schema=None) as batch_op:
        batch_op.create_index('ix_chain_links_record', ['record_type', 'record_id'], unique=False)

    _backfill(op.get_bind())


def _backfill(connection) -> None:
    from ledger.chain import backfill_order, records
    from ledger.db import utcnow
    from ledger.domain.chain import build_chain

    links = sa.table('chain_links', sa.column('alliance_id', sa.Integer()), sa.column('position', sa.BigInteger()),
                     sa.column('record_type', sa.String()), sa.column('record_id', sa.Integer()),
                     sa.column('hash', sa.String()), sa.column('previous_hash', sa.String()),
                     sa.column('created_at', sa.DateTime()))
    now = utcnow().replace(tzinfo=None)  # stored naive UTC, as ledger.db.UTCDateTime does
    for alliance_id in connection.execute(sa.text('SELECT id FROM alliances ORDER BY id')).scalars().all():
        ordered = backfill_order(records(connection, alliance_id))
        chain = build_chain(alliance_id, [(t, i, fields) for t, i, _, fields in ordered])
        if chain:
            connection.execute(links.insert(), [
                {'alliance_id': alliance_id, 'position': link.position, 'record_type': link.record_type,
                 'record_id': link.record_id, 'hash': link.hash, 'previous_hash': link.previous_hash,
                 'created_at': now} for link in chain])


def downgrade() -> None:
    with op.batch_alter_table('chain_links', schema=None) as batch_op:
        batch_op.drop_index('ix_chain_links_record')

    op.drop_table('chain_links')
