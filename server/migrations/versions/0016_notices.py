"""issue 15: why a planned outage was cancelled; a cash hand-over's recorded figures beside
the counted ones (confirmed with a discrepancy when they differ)

Revision ID: 0016_notices
Revises: 0015_acctfx
Create Date: 2026-12-02 10:00:00
"""
from alembic import op
import sqlalchemy as sa
import sqlmodel


revision = '0016_notices'
down_revision = '0015_acctfx'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('outage', schema=None) as batch_op:
        batch_op.add_column(sa.Column('cancel_reason',
                                      sqlmodel.sql.sqltypes.AutoString(length=300),
                                      nullable=True))
    with op.batch_alter_table('cash_handover', schema=None) as batch_op:
        batch_op.add_column(sa.Column('recorded_count', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('recorded_fen', sa.Integer(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('cash_handover', schema=None) as batch_op:
        batch_op.drop_column('recorded_fen')
        batch_op.drop_column('recorded_count')
    with op.batch_alter_table('outage', schema=None) as batch_op:
        batch_op.drop_column('cancel_reason')
