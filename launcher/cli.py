"""The ``gridone`` command: the server's commands (``server.cli``: serve, seed, migrate,
billing jobs …) and ``demo``, which builds a demo database and runs the server *and* the
app, and stops both."""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Annotated

import typer
from sqlalchemy.engine import make_url

from launcher import processes
from server import cli as server_cli
from server.config import Settings

app = typer.Typer(help="GridOne: server commands, and the demo (server and app).",
                  no_args_is_help=True, add_completion=False)
app.add_typer(server_cli.app)


@app.command()
def demo(host: server_cli.HostOpt = "127.0.0.1", port: server_cli.PortOpt = 8000,
         data_dir: Annotated[Path, typer.Option(help="Demo data folder (wiped)")] = Path(
             "data/demo"),
         accounts: Annotated[int, typer.Option()] = 3000,
         days: Annotated[int, typer.Option()] = 90,
         app_port: Annotated[int, typer.Option(help="App (web/PWA) port; 0: no app")] = 8550,
         database_url: server_cli.DatabaseUrlOpt = None,
         replace: Annotated[bool, typer.Option(
             help="With --database-url: drop what that database holds first")] = False,
         phone_app: Annotated[bool, typer.Option(
             help="Build (when stale) and serve the installable offline app at /app/")] = True,
         ) -> None:
    """Build a fresh demo database, then serve the API and the app and print the URLs and
    demo logins. SIGTERM or Ctrl-C stops both.

    By default the demo lives in a SQLite file in the (wiped) data folder; with
    ``--database-url`` (e.g. PostgreSQL) it is built in that database, which must be empty
    unless ``--replace`` is given."""
    from server.demo.generator import DEMO_PASSWORD, demo_logins
    from server.migrate import table_names, wipe

    processes.on_stop_signals()
    if database_url:
        safe_url = make_url(database_url).render_as_string(hide_password=True)
        if table_names(database_url):
            if not replace:
                typer.echo(f"{safe_url} already holds tables: give --replace to drop them "
                           "and build the demo there", err=True)
                raise typer.Exit(2)
            typer.echo(f"dropping every table of {safe_url} (--replace)")
            wipe(database_url)
    if data_dir.exists():
        shutil.rmtree(data_dir)
    server_cli.seed(data_dir=data_dir, accounts=accounts, days=days, seed_value=20261127,
                    database_url=database_url)
    typer.echo("")
    typer.echo(f"Demo logins (password for all: {DEMO_PASSWORD}):")
    for role, username, note in demo_logins():
        typer.echo(f"  {role:<11} {username:<14} {note}")
    typer.echo("")
    webapp = _phone_app() if phone_app else None
    app_proc = None
    office_url = f"http://{host}:{app_port}/office" if app_port else None
    try:
        if app_port:
            app_proc = processes.app_child(api_url=f"http://{host}:{port}", host=host,
                                           port=app_port, data_dir=data_dir / "mobile")
            typer.echo(f"GridOne app:   http://{host}:{app_port}/   (open it in a browser; "
                       "each browser is its own phone)")
            typer.echo(f"GridOne office: {office_url}   (dispatchers, managers, admin; "
                       f"http://{host}:{port}/office leads there too)")
        if webapp is not None:
            typer.echo(f"GridOne phone app: http://{host}:{port}/app/   (install it on a "
                       "phone: it runs with no signal)")
        typer.echo(f"GridOne API:   http://{host}:{port}/api/v1/health")
        typer.echo(f"API docs:      http://{host}:{port}/docs")
        settings = Settings(data_dir=data_dir, office_url=office_url,
                            **({"database_url": database_url} if database_url else {}),
                            **({"webapp_dir": webapp} if webapp is not None else {}))
        server_cli.run_api(settings, host, port)
    finally:
        if app_proc is not None:
            processes.stop(app_proc)


def _phone_app() -> Path | None:
    """The installable app's build, made now if missing or stale (``None``, with how to
    make it, when it cannot be)."""
    from mobile.web import build

    try:
        return build.ensure()
    except Exception as exc:  # e.g. no registry to fetch the wheels from
        typer.echo(f"The phone app (/app/) could not be built ({exc}); run "
                   f"`python -m mobile.web.build` once a package registry is reachable.")
        return None


if __name__ == "__main__":
    app()
