"""supervision (issue 10 part 2): four-eyes approval requests, job reviews and the review
sample rules (seeded: every resolved job, 100 %), the device an audit entry came from.

Revision ID: 0011_super
Revises: 0006_iops
Create Date: 2026-12-01 17:45:00
"""
from datetime import UTC, datetime

from alembic import op
import sqlalchemy as sa
import sqlmodel
import server.db
from uuid6 import uuid7


revision = '0011_super'
down_revision = '0006_iops'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('approval_request',
    sa.Column('id', sqlmodel.sql.sqltypes.AutoString(length=36), nullable=False),
    sa.Column('kind', sqlmodel.sql.sqltypes.AutoString(length=24), nullable=False),
    sa.Column('status', sqlmodel.sql.sqltypes.AutoString(length=12), nullable=False),
    sa.Column('station_id', sqlmodel.sql.sqltypes.AutoString(length=36), nullable=False),
    sa.Column('account_id', sqlmodel.sql.sqltypes.AutoString(length=36), nullable=True),
    sa.Column('meter_id', sqlmodel.sql.sqltypes.AutoString(length=36), nullable=True),
    sa.Column('discrepancy_id', sqlmodel.sql.sqltypes.AutoString(length=36), nullable=True),
    sa.Column('amount_fen', sa.Integer(), nullable=True),
    sa.Column('old_count', sa.Integer(), nullable=True),
    sa.Column('new_count', sa.Integer(), nullable=True),
    sa.Column('reason', sqlmodel.sql.sqltypes.AutoString(length=500), nullable=False),
    sa.Column('requested_by', sqlmodel.sql.sqltypes.AutoString(length=36), nullable=False),
    sa.Column('requested_role', sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
    sa.Column('requested_at', server.db.AwareDateTime(timezone=True), nullable=False),
    sa.Column('decided_by', sqlmodel.sql.sqltypes.AutoString(length=36), nullable=True),
    sa.Column('decided_at', server.db.AwareDateTime(timezone=True), nullable=True),
    sa.Column('decision_reason', sqlmodel.sql.sqltypes.AutoString(length=500), nullable=True),
    sa.Column('result_id', sqlmodel.sql.sqltypes.AutoString(length=36), nullable=True),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['account_id'], ['account.id'], ),
    sa.ForeignKeyConstraint(['decided_by'], ['user.id'], ),
    sa.ForeignKeyConstraint(['discrepancy_id'], ['balance_discrepancy.id'], ),
    sa.ForeignKeyConstraint(['meter_id'], ['meter.id'], ),
    sa.ForeignKeyConstraint(['requested_by'], ['user.id'], ),
    sa.ForeignKeyConstraint(['station_id'], ['station.id'], ),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('approval_request', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_approval_request_account_id'), ['account_id'], unique=False)
        batch_op.create_index('ix_approval_request_station_status', ['station_id', 'status'], unique=False)

    op.create_table('job_review',
    sa.Column('id', sqlmodel.sql.sqltypes.AutoString(length=36), nullable=False),
    sa.Column('work_order_id', sqlmodel.sql.sqltypes.AutoString(length=36), nullable=False),
    sa.Column('station_id', sqlmodel.sql.sqltypes.AutoString(length=36), nullable=False),
    sa.Column('resolved_at', server.db.AwareDateTime(timezone=True), nullable=False),
    sa.Column('outcome', sqlmodel.sql.sqltypes.AutoString(length=12), nullable=False),
    sa.Column('reason', sqlmodel.sql.sqltypes.AutoString(length=500), nullable=True),
    sa.Column('reviewer_id', sqlmodel.sql.sqltypes.AutoString(length=36), nullable=False),
    sa.Column('reviewed_at', server.db.AwareDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['reviewer_id'], ['user.id'], ),
    sa.ForeignKeyConstraint(['station_id'], ['station.id'], ),
    sa.ForeignKeyConstraint(['work_order_id'], ['work_order.id'], ),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('job_review', schema=None) as batch_op:
        batch_op.create_index('ix_job_review_order_resolved', ['work_order_id', 'resolved_at'], unique=True)

    rules = op.create_table('review_rule',
    sa.Column('id', sqlmodel.sql.sqltypes.AutoString(length=36), nullable=False),
    sa.Column('kind', sqlmodel.sql.sqltypes.AutoString(length=20), nullable=False),
    sa.Column('percent', sa.Integer(), nullable=False),
    sa.Column('updated_by', sqlmodel.sql.sqltypes.AutoString(length=36), nullable=True),
    sa.Column('updated_at', server.db.AwareDateTime(timezone=True), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['updated_by'], ['user.id'], ),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('kind')
    )
    op.bulk_insert(rules, [{"id": str(uuid7()), "kind": "*", "percent": 100,
                            "updated_by": None, "updated_at": datetime.now(UTC),
                            "version": 1}])

    with op.batch_alter_table('audit_log', schema=None) as batch_op:
        batch_op.add_column(sa.Column('device_id', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=True))
    with op.batch_alter_table('work_order', schema=None) as batch_op:
        batch_op.create_index('ix_work_order_status_resolved', ['status', 'resolved_at'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('work_order', schema=None) as batch_op:
        batch_op.drop_index('ix_work_order_status_resolved')
    with op.batch_alter_table('audit_log', schema=None) as batch_op:
        batch_op.drop_column('device_id')
    op.drop_table('review_rule')
    with op.batch_alter_table('job_review', schema=None) as batch_op:
        batch_op.drop_index('ix_job_review_order_resolved')
    op.drop_table('job_review')
    with op.batch_alter_table('approval_request', schema=None) as batch_op:
        batch_op.drop_index('ix_approval_request_station_status')
        batch_op.drop_index(batch_op.f('ix_approval_request_account_id'))
    op.drop_table('approval_request')
