"""The ``gridone`` command: serve, demo, seed, migrate."""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Annotated

import typer

from server.config import Settings

app = typer.Typer(help="GridOne server commands.", no_args_is_help=True, add_completion=False)

HostOpt = Annotated[str, typer.Option(help="Address to listen on")]
PortOpt = Annotated[int, typer.Option(help="API port")]


def _settings(data_dir: Path | None) -> Settings:
    return Settings(data_dir=data_dir) if data_dir else Settings()


def _serve(settings: Settings, host: str, port: int) -> None:
    import uvicorn

    from server.app import create_app

    api = create_app(settings)
    uvicorn.run(api, host=host, port=port, log_level="info")


@app.command()
def migrate(data_dir: Annotated[Path | None, typer.Option()] = None) -> None:
    """Upgrade the database to the newest schema (keeps all data)."""
    from server.migrate import current, upgrade

    settings = _settings(data_dir)
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    url = settings.resolved_database_url
    before = current(url)
    upgrade(url)
    typer.echo(f"database {url}: {before or 'empty'} -> {current(url)}")


@app.command()
def seed(
    data_dir: Annotated[Path | None, typer.Option()] = None,
    accounts: Annotated[int, typer.Option(help="Number of customer accounts")] = 3000,
    days: Annotated[int, typer.Option(help="Days of daily readings")] = 90,
    seed_value: Annotated[int, typer.Option("--seed", help="Random seed")] = 20261127,
) -> None:
    """Load the deterministic demo data set into the (migrated, empty) database."""
    from server.db import make_database
    from server.demo.generator import generate
    from server.migrate import upgrade

    settings = _settings(data_dir)
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    upgrade(settings.resolved_database_url)
    db = make_database(settings.resolved_database_url)
    try:
        summary = generate(db, seed=seed_value, accounts=accounts, days=days,
                           pepper=settings.resolved_secret("lookup_pepper"))
    finally:
        db.dispose()
    typer.echo(summary.describe())


@app.command()
def serve(host: HostOpt = "127.0.0.1", port: PortOpt = 8000,
          data_dir: Annotated[Path | None, typer.Option()] = None) -> None:
    """Start the API server on the configured database."""
    settings = _settings(data_dir)
    typer.echo(f"GridOne API:   http://{host}:{port}/api/v1/health")
    typer.echo(f"API docs:      http://{host}:{port}/docs")
    _serve(settings, host, port)


@app.command()
def demo(host: HostOpt = "127.0.0.1", port: PortOpt = 8000,
         data_dir: Annotated[Path, typer.Option(help="Demo data folder (wiped)")] = Path(
             "data/demo"),
         accounts: Annotated[int, typer.Option()] = 3000,
         days: Annotated[int, typer.Option()] = 90) -> None:
    """Build a fresh demo database, then serve it and print the URLs and demo logins."""
    from server.demo.generator import DEMO_PASSWORD

    if data_dir.exists():
        shutil.rmtree(data_dir)
    seed(data_dir=data_dir, accounts=accounts, days=days, seed_value=20261127)
    from server.demo.generator import demo_logins

    typer.echo("")
    typer.echo(f"Demo logins (password for all: {DEMO_PASSWORD}):")
    for role, username, note in demo_logins():
        typer.echo(f"  {role:<11} {username:<14} {note}")
    typer.echo("")
    settings = Settings(data_dir=data_dir)
    typer.echo(f"GridOne API:   http://{host}:{port}/api/v1/health")
    typer.echo(f"API docs:      http://{host}:{port}/docs")
    _serve(settings, host, port)


if __name__ == "__main__":
    app()
