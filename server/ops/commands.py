"""The operations commands of ``gridone``: backup, restore, check-audit."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from server.config import Settings

app = typer.Typer(add_completion=False)

DataDirOpt = Annotated[Path | None, typer.Option(help="Data folder (default: GRIDONE_DATA_DIR "
                                                  "or ./data)")]


def _settings(data_dir: Path | None) -> Settings:
    return Settings(data_dir=data_dir) if data_dir else Settings()


@app.command()
def backup(dest: Annotated[Path, typer.Argument(help="New folder to write the backup to")],
           data_dir: DataDirOpt = None) -> None:
    """Back up the database and the photos into a new folder (while the server runs).

    SQLite: the online backup API; PostgreSQL: pg_dump. A manifest records the SHA-256 of
    every file, checked again on restore."""
    from server.ops.backup import BackupError
    from server.ops.backup import backup as make_backup

    try:
        manifest = make_backup(_settings(data_dir), dest)
    except BackupError as exc:
        typer.echo(f"backup failed: {exc}", err=True)
        raise typer.Exit(1) from None
    typer.echo(f"backup of the {manifest.database} database (schema {manifest.schema}) "
               f"written to {dest}")


@app.command()
def restore(src: Annotated[Path, typer.Argument(help="A folder made by gridone backup",
                                                exists=True, file_okay=False)],
            data_dir: DataDirOpt = None,
            replace: Annotated[bool, typer.Option(
                help="Overwrite a database that holds data (and the photo folder)")] = False,
            ) -> None:
    """Restore a backup into the configured database and photo folder (stop the server
    first), then migrate it to this release's schema."""
    from server.ops.backup import BackupError
    from server.ops.backup import restore as load_backup

    try:
        manifest = load_backup(_settings(data_dir), src, replace=replace)
    except BackupError as exc:
        typer.echo(f"restore failed: {exc}", err=True)
        raise typer.Exit(1) from None
    typer.echo(f"restored the {manifest.database} backup of {manifest.created_at} "
               f"(schema {manifest.schema})")


@app.command("check-audit")
def check_audit(data_dir: DataDirOpt = None) -> None:
    """Verify the audit log's hash chain (exit 1 if an entry was changed, removed or
    inserted behind the application's back). Keep the printed head hash elsewhere: a
    later check's chain must still contain it."""
    from server.audit.chain import verify
    from server.db import make_database

    db = make_database(_settings(data_dir).resolved_database_url)
    try:
        with db.reader.connect() as conn:
            report = verify(conn)
    finally:
        db.dispose()
    for problem in report.problems:
        typer.echo(problem, err=True)
    typer.echo(f"audit log: {report.entries} entries, head {report.head_seq} "
               f"{report.head_hash}: " + ("OK" if report.ok else
                                          f"{len(report.problems)} problem(s)"))
    if not report.ok:
        raise typer.Exit(1)
