"""A fresh PostgreSQL database per test on the server the test command made sure of.

Never skips: if PostgreSQL is unreachable the test fails and says what is needed.
"""

from __future__ import annotations

import os
import secrets
from collections.abc import Iterator
from contextlib import contextmanager

import psycopg
from sqlalchemy.engine import make_url

DEFAULT_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/test"


def base_url() -> str:
    return os.environ.get("GRIDONE_TEST_PG_URL", DEFAULT_URL)


@contextmanager
def fresh_database() -> Iterator[str]:
    """Create ``gridone_t_<random>``, yield its SQLAlchemy URL, drop it afterwards."""
    url = make_url(base_url())
    name = f"gridone_t_{secrets.token_hex(6)}"
    conninfo = (f"host={url.host or '127.0.0.1'} port={url.port or 5432} "
                f"user={url.username or 'postgres'} dbname={url.database or 'postgres'}")
    if url.password:
        conninfo += f" password={url.password}"
    try:
        admin = psycopg.connect(conninfo, autocommit=True, connect_timeout=5)
    except psycopg.OperationalError as exc:
        raise AssertionError(
            f"PostgreSQL is needed at {url.render_as_string(hide_password=True)} "
            "(run the tests with `python3 run.py test`, which starts or installs it): "
            f"{exc}") from exc
    with admin:
        admin.execute(f'CREATE DATABASE "{name}"')
    try:
        yield url.set(database=name).render_as_string(hide_password=False)
    finally:
        with psycopg.connect(conninfo, autocommit=True) as admin:
            admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
