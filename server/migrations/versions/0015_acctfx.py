"""issue 13, applications that change the account: its contracted capacity, and its
status (active | closed) with when it closed

Revision ID: 0015_acctfx
Revises: 0009_syncsrv
Create Date: 2026-12-01 22:00:00
"""
from alembic import op
import sqlalchemy as sa
import sqlmodel
import server.db


revision = '0015_acctfx'
down_revision = '0009_syncsrv'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('account', schema=None) as batch_op:
        batch_op.add_column(sa.Column('capacity_kw', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('status', sqlmodel.sql.sqltypes.AutoString(length=12),
                                      nullable=False, server_default='active'))
        batch_op.add_column(sa.Column('closed_at', server.db.AwareDateTime(timezone=True),
                                      nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('account', schema=None) as batch_op:
        batch_op.drop_column('closed_at')
        batch_op.drop_column('status')
        batch_op.drop_column('capacity_kw')
