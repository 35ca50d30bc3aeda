"""issue 9, push: the change log keeps no index by station, account or user.

Every change-log entry took an entry in three indexes (``station_id``, ``account_id``,
``user_id``). The log's two readers read the entries after a position by ``seq`` (the
primary key) and filter that range by these keys: a pull (``EXPLAIN QUERY PLAN``:
``SEARCH change_log USING INTEGER PRIMARY KEY (rowid>? AND rowid<?)`` for every role,
with or without the indexes) and the desk's change feed, which used the station's index
for its range; its range is the few entries since its last long poll, and its
``since=-1`` no longer reads the log at all (``server.dispatch.service.changes_since``).
A pushed note writes two change-log entries' worth of index entries less (its event's,
and its share of its job's): 546,586 -> 524,778 instructions a note
(``bench/profile_push.py --http --instructions``).

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
