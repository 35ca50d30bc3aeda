"""Shared fixtures: a real SQLite file per test (copied from a migrated template), the real
app, and clients signed in as any user of the test world."""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from server.app import create_app
from server.auth.security import make_token
from server.config import Settings
from server.db import Database, make_database
from server.migrate import upgrade
from tests.factories import PEPPER, World, build_world

SECRET = "test-secret-" + "s" * 40


@pytest.fixture(scope="session")
def template_db(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A migrated empty database, made once; each test gets its own copy."""
    path = tmp_path_factory.mktemp("template") / "template.db"
    upgrade(f"sqlite:///{path}")
    return path


def sqlite_settings(data_dir: Path, db_path: Path) -> Settings:
    return Settings(env="test", data_dir=data_dir, database_url=f"sqlite:///{db_path}",
                    secret_key=SECRET, lookup_pepper=PEPPER)


@pytest.fixture
def db_path(tmp_path: Path, template_db: Path) -> Path:
    path = tmp_path / "gridone.db"
    shutil.copy(template_db, path)
    return path


@pytest.fixture
def settings(tmp_path: Path, db_path: Path) -> Settings:
    return sqlite_settings(tmp_path, db_path)


@pytest.fixture
def app(settings: Settings) -> Iterator[FastAPI]:
    application = create_app(settings, migrate=False)
    yield application
    application.state.db.dispose()


@pytest.fixture
def db(app: FastAPI) -> Database:
    return app.state.db  # type: ignore[no-any-return]


@pytest.fixture
def world(db: Database) -> World:
    return build_world(db)


class Api:
    """A TestClient signed in as one user (or anonymous), defaulting to English messages."""

    def __init__(self, client: TestClient, token: str | None, lang: str = "en") -> None:
        self.client = client
        self.headers = {"Accept-Language": lang}
        if token:
            self.headers["Authorization"] = f"Bearer {token}"

    def get(self, url: str, **kw: Any) -> Any:
        return self.client.get(url, headers={**self.headers, **kw.pop("headers", {})}, **kw)

    def post(self, url: str, **kw: Any) -> Any:
        return self.client.post(url, headers={**self.headers, **kw.pop("headers", {})}, **kw)


@pytest.fixture
def client(app: FastAPI) -> Iterator[TestClient]:
    with TestClient(app, raise_server_exceptions=False) as c:
        yield c


@pytest.fixture
def as_user(client: TestClient, world: World) -> Any:
    """``as_user("crew1")`` -> an Api signed in as that user; ``as_user(None)``: anonymous."""
    from datetime import timedelta

    def make(name: str | None, lang: str = "en") -> Api:
        if name is None:
            return Api(client, None, lang)
        token, _ = make_token(secret=SECRET, sub=world.user(name).id, kind="access",
                              ttl=timedelta(minutes=15))
        return Api(client, token, lang)

    return make


def pg_url() -> str:
    return os.environ.get("GRIDONE_TEST_PG_URL",
                          "postgresql+psycopg://postgres@127.0.0.1:5432/test")


def sqlite_db(path: Path) -> Database:
    return make_database(f"sqlite:///{path}")
