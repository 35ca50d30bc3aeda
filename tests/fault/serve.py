"""The real GridOne app under uvicorn, in its own process, on an existing SQLite file:
``python -m tests.fault.serve DB_PATH PORT``. Fault tests stop it (SIGTERM), kill it
(SIGKILL) and start it again on the same file."""

from __future__ import annotations

import sys
from pathlib import Path

import uvicorn

from server.app import create_app
from server.config import Settings
from tests.conftest import SECRET
from tests.factories import PEPPER


def main(db_path: Path, port: int) -> None:
    settings = Settings(env="test", data_dir=db_path.parent, database_url=f"sqlite:///{db_path}",
                        secret_key=SECRET, lookup_pepper=PEPPER)
    app = create_app(settings, migrate=False)
    uvicorn.run(app, host="127.0.0.1", port=port, log_level="warning", access_log=False,
                lifespan="on", timeout_graceful_shutdown=10)


if __name__ == "__main__":
    main(Path(sys.argv[1]), int(sys.argv[2]))
