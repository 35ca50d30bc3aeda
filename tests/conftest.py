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
from server.db import Database
from server.migrate import upgrade
from tests.factories import PEPPER, World, build_world

SECRET = "test-secret-" + "s" * 40

#: With several test workers (``python3 run.py test`` runs the whole suite on two, pytest-xdist
#: ``--dist loadgroup``), the browser tests run one after another on one worker (one Chromium
#: and one e2e world at a time; the installed-app tests share one build) and the fault tests,
#: whose timings are the point, one after another on one worker; the rest is shared out.
#: Keyed by the folder under ``tests/``. (The installed-app tests as a third group, beside
#: the other browser tests, made a clean-clone run slower: 26.6 min against 22.8 min, every
#: browser and fault test slowed by two Chromiums on two cores.)
SERIAL_GROUPS = {"e2e": "browser", "fault": "fault"}


#: Browser tests that leave the shared e2e world changed for the others (a new account for
#: customer2, whose fault report then starts on it): they run after the rest.
RUN_LAST = ("tests/e2e/test_applications.py",)


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    items.sort(key=lambda item: item.nodeid.split("::")[0] in RUN_LAST)  # stable: the rest
    # keeps its order


def serial_group(nodeid: str) -> str | None:
    """The serial group of a test by its node id (``tests/<folder>/…``), if any."""
    parts = nodeid.split("/", 2)
    return SERIAL_GROUPS.get(parts[1]) if len(parts) == 3 and parts[0] == "tests" else None


@pytest.hookimpl(optionalhook=True)  # a run with -p no:xdist has no such hook
def pytest_xdist_make_scheduler(config: pytest.Config, log: Any) -> Any:
    """``--dist loadgroup`` with the groups taken from the tests' folders, in the controller.
    xdist's own loadgroup reads ``xdist_group`` marks on the workers and passes them on by
    appending ``@group`` to each node id, which pytest 9.2's node ids no longer take: every
    group was silently split, and the browser tests ran on both workers at once
    (pytest-dev/pytest-xdist#1386)."""
    if config.getvalue("dist") != "loadgroup":
        return None
    from xdist.scheduler import LoadScopeScheduling

    class FolderGroups(LoadScopeScheduling):
        def _split_scope(self, nodeid: str) -> str:
            return serial_group(nodeid) or nodeid

    return FolderGroups(config, log)


@pytest.fixture(scope="session")
def template_db(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A migrated empty database, made once; each test gets its own copy."""
    path = tmp_path_factory.mktemp("template") / "template.db"
    upgrade(f"sqlite:///{path}")
    return path


def sqlite_settings(data_dir: Path, db_path: Path) -> Settings:
    # no start-up warm-up of the sync download (~0.2 s an app): its own test turns it on
    return Settings(env="test", data_dir=data_dir, database_url=f"sqlite:///{db_path}",
                    secret_key=SECRET, lookup_pepper=PEPPER, warm_up=False)


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


# -- helpers for API tests: service-layer set-up and whole-database snapshots -------------
def actor_for(db: Database, name_or_user: Any, world: World | None = None) -> Any:
    """The ``Actor`` of a user of the world (customers with their current accounts)."""
    from sqlmodel import Session

    from server.deps import load_auth_user
    from server.users.models import User

    user_id = (world.user(name_or_user).id if isinstance(name_or_user, str) and world
               else getattr(name_or_user, "id", name_or_user))
    with Session(db.reader) as session:
        user = session.get(User, user_id)
        assert user is not None, name_or_user
        return load_auth_user(session, user).actor


def svc_report(db: Database, world: World, name: str, *, at: Any = None, **data: Any) -> str:
    """Raise a work order through the service layer (``at``: a back-dated report time)."""
    from server.uow import UnitOfWork
    from server.work_orders import service

    actor = actor_for(db, name, world)
    data.setdefault("kind", "fault_repair")
    data.setdefault("description", "set-up job")
    with UnitOfWork(db, actor) as uow:
        order, _ = service.report(uow, actor=actor, data=data, at=at)
        uow.commit()
        return order.id


def svc_act(db: Database, world: World, name: str, order_id: str, action: str, *,
            at: Any = None, **data: Any) -> None:
    """Take a state-machine action through the service layer (``at``: device time)."""
    from server.uow import UnitOfWork
    from server.work_orders import service
    from shared.workorders.state_machine import Action

    actor = actor_for(db, name, world)
    with UnitOfWork(db, actor) as uow:
        service.act(uow, actor=actor, order_id=order_id, action=Action(action), data=data,
                    at=at)
        uow.commit()


def db_snapshot(db: Database, *, exclude: tuple[str, ...] = ()) -> Any:
    """Everything in the database, for before/after equality (SQLite: a full SQL dump),
    but the rows of the ``exclude`` tables."""
    from sqlalchemy import inspect, text

    if db.is_sqlite:
        skip = tuple(f'INSERT INTO "{t}" ' for t in exclude)
        with db.reader.connect() as conn:
            raw = conn.connection.driver_connection
            assert raw is not None
            return [line for line in raw.iterdump() if not skip or not line.startswith(skip)]
    out = {}
    with db.reader.connect() as conn:
        for table in sorted(set(inspect(conn).get_table_names()) - set(exclude)):
            rows = conn.execute(text(f'SELECT * FROM "{table}"')).all()
            out[table] = sorted(repr(tuple(r)) for r in rows)
    return out


def table_rows(db: Database, table: str, **where: Any) -> list[dict[str, Any]]:
    """Rows of one table as dicts (``where``: column equality filters)."""
    from sqlalchemy import text

    cond = " AND ".join(f'"{k}" = :{k}' for k in where) or "1=1"
    with db.reader.connect() as conn:
        return [dict(r._mapping) for r in conn.execute(
            text(f'SELECT * FROM "{table}" WHERE {cond}'), where)]


class SharedApp:
    """An app, its database and a signed-in client factory shared by a whole module (for
    tests that only read, or that assert the database did not change)."""

    def __init__(self, template_db: Path, data_dir: Path) -> None:
        shutil.copy(template_db, data_dir / "gridone.db")
        self.app = create_app(sqlite_settings(data_dir, data_dir / "gridone.db"),
                              migrate=False)
        self.db: Database = self.app.state.db
        self.world = build_world(self.db)
        self.client = TestClient(self.app, raise_server_exceptions=False)
        self.client.__enter__()

    def api(self, name: str | None, lang: str = "en") -> Api:
        from datetime import timedelta

        if name is None:
            return Api(self.client, None, lang)
        token, _ = make_token(secret=SECRET, sub=self.world.user(name).id, kind="access",
                              ttl=timedelta(hours=1))
        return Api(self.client, token, lang)

    def close(self) -> None:
        self.client.__exit__(None, None, None)
        self.db.dispose()
