"""issue 9, push: the timeline's index by actor holds arrivals only.

``ix_work_order_event_actor_id`` took an entry for every event, and only the roster's
last known positions read it (a person's arrivals, newest first). The partial index
``(actor_id, occurred_at) WHERE action = 'arrive'`` answers that query in its order, and
a pushed note, accept or resolve writes no entry in it (~1 µs a note of SQLite's time).

Revision ID: 0020_arrivalix
Revises: 0019_eventix
Create Date: 2026-12-04 21:10:00
"""
import sqlalchemy as sa
from alembic import op

revision = '0020_arrivalix'
down_revision = '0019_eventix'
branch_labels = None
depends_on = None

ARRIVALS = "action = 'arrive'"


def upgrade() -> None:
    with op.batch_alter_table('work_order_event', schema=None) as batch_op:
        batch_op.drop_index('ix_work_order_event_actor_id')
        batch_op.create_index('ix_work_order_event_arrivals', ['actor_id', 'occurred_at'],
                              unique=False, sqlite_where=sa.text(ARRIVALS),
                              postgresql_where=sa.text(ARRIVALS))


def downgrade() -> None:
    with op.batch_alter_table('work_order_event', schema=None) as batch_op:
        batch_op.drop_index('ix_work_order_event_arrivals')
        batch_op.create_index('ix_work_order_event_actor_id', ['actor_id'], unique=False)
