"""The server's commands: serve, seed, migrate, the billing jobs and the operations
commands (``server.ops.commands``: backup, restore, check-audit). The ``gridone`` command
(``launcher.cli``) offers these plus ``demo``, which also starts the app."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer

from server.config import Settings
from server.monitoring.cli import ami_app
from server.ops.commands import app as ops_commands

app = typer.Typer(help="GridOne server commands.", no_args_is_help=True, add_completion=False)
app.add_typer(ops_commands)

HostOpt = Annotated[str, typer.Option(help="Address to listen on")]
PortOpt = Annotated[int, typer.Option(help="API port")]


DatabaseUrlOpt = Annotated[str | None, typer.Option(
    help="SQLAlchemy URL (e.g. postgresql+psycopg://user@host/db); default: "
    "GRIDONE_DATABASE_URL, else a SQLite file in the data folder")]


def _settings(data_dir: Path | None, database_url: str | None = None) -> Settings:
    given: dict[str, Any] = {}
    if data_dir:
        given["data_dir"] = data_dir
    if database_url:
        given["database_url"] = database_url
    return Settings(**given)


def run_api(settings: Settings, host: str, port: int) -> None:
    """Serve the API in the foreground until stopped."""
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
    database_url: DatabaseUrlOpt = None,
) -> None:
    """Load the deterministic demo data set into the (migrated, empty) database."""
    from server.db import make_database
    from server.demo.generator import generate
    from server.migrate import upgrade

    settings = _settings(data_dir, database_url)
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
          data_dir: Annotated[Path | None, typer.Option()] = None,
          workers: Annotated[int, typer.Option(
              min=1, help="API worker processes (uvicorn's process model)")] = 1) -> None:
    """Migrate the configured database, then serve the API with N worker processes."""
    from pydantic import ValidationError

    from server.ops.serving import RefusedToStart, run

    try:
        settings = _settings(data_dir)
    except ValidationError as exc:
        for err in exc.errors():
            typer.echo(f"refusing to start: {err['msg'].removeprefix('Value error, ')}",
                       err=True)
        raise typer.Exit(2) from None
    typer.echo(f"GridOne API:   http://{host}:{port}/api/v1/health ({workers} worker(s))")
    typer.echo(f"API docs:      http://{host}:{port}/docs")
    try:
        run(settings, host=host, port=port, workers=workers)
    except RefusedToStart as exc:
        typer.echo(f"refusing to start: {exc}", err=True)
        raise typer.Exit(2) from None



# -- prepaid billing (issue 5) --------------------------------------------------------------
def _billing_db(data_dir: Path | None) -> tuple[Settings, Any]:
    from server.db import make_database
    from server.migrate import upgrade

    settings = _settings(data_dir)
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    upgrade(settings.resolved_database_url)
    return settings, make_database(settings.resolved_database_url)


@app.command("import-readings")
def import_readings(
    file: Annotated[Path, typer.Argument(help="CSV: meter_no,read_at,value_kwh,source",
                                         exists=True, dir_okay=False, readable=True)],
    data_dir: Annotated[Path | None, typer.Option()] = None,
    lang: Annotated[str, typer.Option(help="Language of the reasons: zh or en")] = "zh",
) -> None:
    """Import meter readings from a metering-system CSV export.

    Every row is checked on its own; rejected rows are listed with the reason and the
    rest is imported (in one transaction), re-rating months already charged. Exit code:
    0 all imported, 1 some rows rejected, 2 the file is not usable. Times without a UTC
    offset are local time (UTC+8).
    """
    from server.billing.readings import import_rows, parse_csv
    from server.uow import UnitOfWork
    from shared.errors import DomainError
    from shared.messages import translate

    _, db = _billing_db(data_dir)
    try:
        try:
            rows = parse_csv(file.read_text(encoding="utf-8"))
        except (DomainError, UnicodeDecodeError) as exc:
            reason = (translate(exc.code, lang, **exc.details) if isinstance(exc, DomainError)
                      else "not UTF-8 text")
            typer.echo(f"{file}: {reason}", err=True)
            raise typer.Exit(2) from None
        with UnitOfWork(db) as uow:
            report = import_rows(uow, rows=rows, actor=None, lang=lang)
            uow.commit()
    finally:
        db.dispose()
    summary = report.summary()
    typer.echo(", ".join(f"{k}: {v}" for k, v in summary.items())
               + f"; re-rated accounts: {report.rerated_accounts}"
               + f" ({report.adjusted_fen} fen)")
    for row in report.rejected:
        typer.echo(f"line {row.line} [{row.meter_no}] {row.code}: {row.message}", err=True)
    if report.rejected:
        raise typer.Exit(1)


@app.command("charge-daily")
def charge_daily(  # the scheduler runs this every night (server.scheduler.jobs)
    day: Annotated[str | None, typer.Option(help="YYYY-MM-DD (default: yesterday)")] = None,
    catch_up: Annotated[int, typer.Option(help="Also (re)run this many days before")] = 2,
    data_dir: Annotated[Path | None, typer.Option()] = None,
) -> None:
    """Charge every account for a day from its readings (idempotent: run it again freely)."""
    from datetime import date, timedelta

    from server.billing.charging import charge_day, yesterday

    target = date.fromisoformat(day) if day else yesterday()
    _, db = _billing_db(data_dir)
    try:
        for back in range(max(0, catch_up), -1, -1):
            report = charge_day(db, day=target - timedelta(days=back))
            typer.echo(f"{report.day}: {report.accounts} accounts, {report.charged} charged, "
                       f"{report.total_fen} fen, {len(report.errors)} errors")
            for err in report.errors:
                typer.echo(f"  {err}", err=True)
    finally:
        db.dispose()


@app.command("check-ledger")
def check_ledger(
    data_dir: Annotated[Path | None, typer.Option()] = None,
    open_missing: Annotated[bool, typer.Option(
        help="First give accounts loaded with a balance but no ledger (bulk imports, "
             "seeds) their opening entry")] = False,
) -> None:
    """Verify that every account's balance is the sum of its ledger (exit 1 if not)."""
    from sqlmodel import Session

    from server.billing.ledger import check, open_accounts
    from server.uow import UnitOfWork

    _, db = _billing_db(data_dir)
    try:
        if open_missing:
            with UnitOfWork(db) as uow:
                opened = open_accounts(uow)
                uow.commit()
            typer.echo(f"opened {opened} account(s)")
        with Session(db.reader) as session:
            mismatches = check(session)
    finally:
        db.dispose()
    for m in mismatches:
        typer.echo(f"{m.account_no} ({m.account_id}): balance {m.balance_fen} fen, ledger "
                   f"{m.ledger_sum_fen} fen over {m.entries} entries: {m.problem}", err=True)
    typer.echo("ledger OK" if not mismatches else f"{len(mismatches)} account(s) do not add up")
    if mismatches:
        raise typer.Exit(1)


@app.command("billing-tick")
def billing_tick(data_dir: Annotated[Path | None, typer.Option()] = None) -> None:
    """Deliver messages, (re)send meter commands (simulated head-end), deliver
    acknowledgements and sandbox payment notifications, credit paid orders. The server's
    scheduler runs this every minute; this command runs one tick by hand."""
    from server.billing.setup import Services, tick

    settings, db = _billing_db(data_dir)
    try:
        report = tick(Services.build(db, settings.resolved_secret("secret_key")))
    finally:
        db.dispose()
    typer.echo(str(report))


app.add_typer(ami_app, name="ami")  # grid monitoring (issue 12)

if __name__ == "__main__":
    app()
