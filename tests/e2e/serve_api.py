"""Run the GridOne API for the browser tests: ``python -m tests.e2e.serve_api DIR PORT``.

On first start the SQLite database in DIR is migrated and filled with the small known
world of ``tests.factories``; later starts (the test restarts the server to bring it
"back online") reuse it as it is.
"""

from __future__ import annotations

import sys
from pathlib import Path

import uvicorn

from server.app import create_app
from server.config import Settings
from server.db import make_database
from server.migrate import upgrade
from tests.factories import PEPPER, build_world

SECRET = "e2e-secret-" + "s" * 40


def main(data_dir: Path, port: int) -> None:
    data_dir.mkdir(parents=True, exist_ok=True)
    db_path = data_dir / "gridone.db"
    url = f"sqlite:///{db_path}"
    fresh = not db_path.exists()
    upgrade(url)
    if fresh:
        db = make_database(url)
        try:
            build_world(db)
        finally:
            db.dispose()
    settings = Settings(env="test", data_dir=data_dir, database_url=url, secret_key=SECRET,
                        lookup_pepper=PEPPER)
    app = create_app(settings, migrate=False)
    uvicorn.run(app, host="127.0.0.1", port=port, log_level="warning")


if __name__ == "__main__":
    main(Path(sys.argv[1]), int(sys.argv[2]))
