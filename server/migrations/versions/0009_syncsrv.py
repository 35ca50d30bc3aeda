"""issue 8, sync protocol (server side): device numbers as 64-bit integers and looked up
per device (items 5 and 24), the device's clock session (item 11).

Revision ID: 0009_syncsrv
Revises: 0013_apps (relinked after merging main)
Create Date: 2026-12-01 17:45:00
"""
from alembic import op
import sqlalchemy as sa
import server.db


revision = '0009_syncsrv'
down_revision = '0013_apps'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('applied_op', schema=None) as batch_op:
        batch_op.alter_column('device_seq', existing_type=sa.Integer(),
                              type_=sa.BigInteger(), existing_nullable=False)
        batch_op.create_index('ix_applied_op_device_seq', ['device_id', 'device_seq'],
                              unique=False)
    with op.batch_alter_table('held_op', schema=None) as batch_op:
        batch_op.alter_column('device_seq', existing_type=sa.Integer(),
                              type_=sa.BigInteger(), existing_nullable=False)
    with op.batch_alter_table('device', schema=None) as batch_op:
        batch_op.add_column(sa.Column('clock_session_offset_s', sa.Float(), nullable=True))
        batch_op.add_column(sa.Column('clock_session_at',
                                      server.db.AwareDateTime(timezone=True), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('device', schema=None) as batch_op:
        batch_op.drop_column('clock_session_at')
        batch_op.drop_column('clock_session_offset_s')
    with op.batch_alter_table('held_op', schema=None) as batch_op:
        batch_op.alter_column('device_seq', existing_type=sa.BigInteger(),
                              type_=sa.Integer(), existing_nullable=False)
    with op.batch_alter_table('applied_op', schema=None) as batch_op:
        batch_op.drop_index('ix_applied_op_device_seq')
        batch_op.alter_column('device_seq', existing_type=sa.BigInteger(),
                              type_=sa.Integer(), existing_nullable=False)
