"""issue 9, fresh pull: the timeline index by (work_order_id, id) instead of work_order_id
alone. A download sends events job by job in that order; with the old index SQLite
sorted each page's events by id in a temporary B-tree (~7 % of a pulled row's work).
Pushed events still maintain one index.

Revision ID: 0019_eventix
Revises: 0018_pushix
Create Date: 2026-12-04 04:15:00
"""
from alembic import op


revision = '0019_eventix'
down_revision = '0018_pushix'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('work_order_event', schema=None) as batch_op:
        batch_op.drop_index('ix_work_order_event_work_order_id')
        batch_op.create_index('ix_work_order_event_work_order_id_id',
                              ['work_order_id', 'id'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('work_order_event', schema=None) as batch_op:
        batch_op.drop_index('ix_work_order_event_work_order_id_id')
        batch_op.create_index('ix_work_order_event_work_order_id', ['work_order_id'],
                              unique=False)
