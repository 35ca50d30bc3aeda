"""issue 9, set-wise push: drop ``ix_applied_op_device_id``. ``ix_applied_op_device_seq``
(device_id, device_seq) serves every lookup by device, and each index costs every pushed
op one more B-tree insert.

Revision ID: 0018_pushix
Revises: 0017_overview
Create Date: 2026-12-04 00:15:00
"""
from alembic import op


revision = '0018_pushix'
down_revision = '0017_overview'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('applied_op', schema=None) as batch_op:
        batch_op.drop_index('ix_applied_op_device_id')


def downgrade() -> None:
    with op.batch_alter_table('applied_op', schema=None) as batch_op:
        batch_op.create_index('ix_applied_op_device_id', ['device_id'], unique=False)
