"""``gridone serve``: migrate once, then run uvicorn's worker processes on the app factory.

Everything a worker needs comes from the environment through ``Settings`` (the factory
is ``server.app:create_app_from_env``); what the workers must share is made here first:
the schema, the dev-mode secrets (each worker would otherwise make its own) and the
folder where prometheus' multiprocess mode keeps the counters.
"""

from __future__ import annotations

import os
import shutil

from server.config import Settings
from server.ops.logs import log_config

FACTORY = "server.app:create_app_from_env"


class RefusedToStart(Exception):
    """The configuration is not fit to serve (the message says why)."""


def refuse_demo_logins(settings: Settings) -> None:
    """Production must not run with the demo data's well-known password on the admin."""
    from sqlmodel import Session, select

    from server.auth.security import verify_password
    from server.db import make_database
    from server.demo.generator import DEMO_PASSWORD
    from server.users.models import User

    db = make_database(settings.resolved_database_url)
    try:
        with Session(db.reader) as session:
            admins = session.exec(select(User).where(User.role == "admin")).all()
    finally:
        db.dispose()
    for user in admins:
        if verify_password(user.password_hash, DEMO_PASSWORD):
            raise RefusedToStart(
                f"user {user.username!r} still has the demo password: this is demo data or "
                "the password was never changed; production refuses to start")


def prepare(settings: Settings, *, workers: int) -> dict[str, str]:
    """Migrate, make shared secrets and the metrics folder; the environment the workers
    need on top of the current one."""
    from server.migrate import upgrade

    settings.data_dir.mkdir(parents=True, exist_ok=True)
    upgrade(settings.resolved_database_url)
    if settings.env == "production":
        refuse_demo_logins(settings)
    settings.resolved_secret("secret_key")
    settings.resolved_secret("lookup_pepper")
    env = {"GRIDONE_DATA_DIR": str(settings.data_dir.resolve())}
    if workers > 1:
        folder = (settings.metrics_multiproc_dir or settings.data_dir / "metrics").resolve()
        shutil.rmtree(folder, ignore_errors=True)  # counters of a previous run
        folder.mkdir(parents=True)
        env.update(PROMETHEUS_MULTIPROC_DIR=str(folder), GRIDONE_METRICS_MULTIPROC_DIR=str(folder))
    return env


def run(settings: Settings, *, host: str, port: int, workers: int) -> None:
    import uvicorn

    os.environ.update(prepare(settings, workers=workers))
    uvicorn.run(FACTORY, factory=True, host=host, port=port, workers=workers,
                log_config=log_config(settings), access_log=False,
                proxy_headers=bool(settings.trusted_proxies),
                forwarded_allow_ips=settings.trusted_proxies or None,
                timeout_graceful_shutdown=20)
