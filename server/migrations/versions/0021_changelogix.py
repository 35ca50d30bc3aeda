"""issue 9, push: the change log keeps no index by station, account or user.

Every change-log entry took an entry in three indexes (``station_id``, ``account_id``,
``user_id``), and nothing reads them: a pull reads the entries after its cursor by
``seq`` (the primary key, ``EXPLAIN QUERY PLAN``: ``SEARCH change_log USING INTEGER
PRIMARY KEY (rowid>? AND rowid<?)`` for every role) and filters that range by the
scope's keys. Those indexes cover the whole history, so they would not serve that read
better as the log grows. A pushed note writes two change-log entries' worth of index
entries less (its event's, and its share of its job's): 546,586 -> 524,778 instructions
a note (``bench/profile_push.py --http --instructions``).

Revision ID: 0021_changelogix
Revises: 0020_arrivalix
Create Date: 2026-12-04 23:10:00
"""
from alembic import op

revision = '0021_changelogix'
down_revision = '0020_arrivalix'
branch_labels = None
depends_on = None

_KEYS = ('station_id', 'account_id', 'user_id')


def upgrade() -> None:
    with op.batch_alter_table('change_log', schema=None) as batch_op:
        for key in _KEYS:
            batch_op.drop_index(f'ix_change_log_{key}')


def downgrade() -> None:
    with op.batch_alter_table('change_log', schema=None) as batch_op:
        for key in _KEYS:
            batch_op.create_index(f'ix_change_log_{key}', [key], unique=False)
