"""issue 10: indexes for the station overview (today's jobs and those resolved today of one
station, at 100,000 jobs)

Revision ID: 0017_overview
Revises: 0016_notices
Create Date: 2026-12-02 02:30:00
"""
from alembic import op


revision = '0017_overview'
down_revision = '0016_notices'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index('ix_work_order_station_reported', 'work_order',
                    ['station_id', 'reported_at'], unique=False)
    op.create_index('ix_work_order_station_status_resolved', 'work_order',
                    ['station_id', 'status', 'resolved_at'], unique=False)


def downgrade() -> None:
    op.drop_index('ix_work_order_station_status_resolved', table_name='work_order')
    op.drop_index('ix_work_order_station_reported', table_name='work_order')
