"""Alembic environment: the URL comes from the config ``server.migrate`` builds."""

from __future__ import annotations

from alembic import context
from sqlalchemy import create_engine, event

import server.tables  # noqa: F401  (fills the metadata)
from server.tables import metadata

config = context.config


def run_migrations_offline() -> None:
    context.configure(url=config.get_main_option("sqlalchemy.url"), target_metadata=metadata,
                      literal_binds=True, render_as_batch=True)
    with context.begin_transaction():
        context.run_migrations()


def run_migrations_online() -> None:
    engine = create_engine(config.get_main_option("sqlalchemy.url") or "")
    if engine.dialect.name == "sqlite":  # a new file's first table is made here
        from server.db import set_page_size

        event.listen(engine, "connect", lambda dbapi_conn, _record: set_page_size(dbapi_conn))
    with engine.connect() as connection:
        context.configure(connection=connection, target_metadata=metadata,
                          render_as_batch=connection.dialect.name == "sqlite")
        with context.begin_transaction():
            context.run_migrations()
    engine.dispose()


if context.is_offline_mode():
    run_migrations_offline()
else:
    run_migrations_online()
