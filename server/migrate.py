"""Alembic, driven from code: ``upgrade(url)`` brings any database to the newest schema."""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config

MIGRATIONS = Path(__file__).parent / "migrations"


def alembic_config(url: str) -> Config:
    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    cfg.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    return cfg


def upgrade(url: str, revision: str = "head") -> None:
    """Migrate ``url`` to ``revision``. A SQLite file is left in WAL mode, as the server
    runs it: its worker processes then never race to switch it (``server.db``)."""
    command.upgrade(alembic_config(url), revision)
    if url.startswith("sqlite") and ":memory:" not in url and url.rstrip("/") != "sqlite:":
        from server.db import make_database

        make_database(url).dispose()  # it switches the file to WAL before returning


def current(url: str) -> str | None:
    from alembic.runtime.migration import MigrationContext
    from sqlalchemy import create_engine

    engine = create_engine(url)
    try:
        with engine.connect() as conn:
            return MigrationContext.configure(conn).get_current_revision()
    finally:
        engine.dispose()


def head() -> str | None:
    """The newest revision of the migrations shipped with this code."""
    from alembic.script import ScriptDirectory

    return ScriptDirectory.from_config(alembic_config("sqlite://")).get_current_head()


def table_names(url: str) -> list[str]:
    """The tables the database at ``url`` holds (empty: a fresh database)."""
    from sqlalchemy import create_engine, inspect

    engine = create_engine(url)
    try:
        with engine.connect() as conn:
            return sorted(inspect(conn).get_table_names())
    finally:
        engine.dispose()


def wipe(url: str) -> None:
    """Drop every table of the database at ``url`` (the demo's fresh start)."""
    from sqlalchemy import MetaData, create_engine

    engine = create_engine(url)
    try:
        meta = MetaData()
        meta.reflect(engine)
        meta.drop_all(engine)
    finally:
        engine.dispose()
