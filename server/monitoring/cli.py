"""``gridone ami …``: the AMI simulator, the interval import and the monitoring run.

    gridone ami setup                    register every area's master meter
    gridone ami simulate --out DIR       write the period's daily deliveries and truth.json
    gridone ami ingest FILE…             import delivery files (CSV, or .csv.gz)
    gridone ami analyse                  compute the changed days, detect, raise jobs
    gridone ami run                      all of it, day by day, as the daily job would
    gridone ami score --truth FILE       the detector's precision and recall
"""

from __future__ import annotations

import gzip
import json
from datetime import date, timedelta
from pathlib import Path
from typing import Annotated, Any

import typer

ami_app = typer.Typer(help="AMI simulator, interval import and grid-monitoring run.",
                      no_args_is_help=True, add_completion=False)

DataDir = Annotated[Path | None, typer.Option(help="Data folder (default: ./data)")]
Seed = Annotated[int, typer.Option("--seed", help="Simulator seed")]
DEFAULT_SEED = 20261201


def _db(data_dir: Path | None) -> Any:
    from server.config import Settings
    from server.db import make_database
    from server.migrate import upgrade

    settings = Settings(data_dir=data_dir) if data_dir else Settings()
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    upgrade(settings.resolved_database_url)
    return make_database(settings.resolved_database_url)


def _yesterday() -> date:
    from shared.timeutil import LOCAL_TZ, utcnow

    return utcnow().astimezone(LOCAL_TZ).date() - timedelta(days=1)


@ami_app.command()
def setup(data_dir: DataDir = None, seed: Seed = DEFAULT_SEED) -> None:
    """Register a master (supply) meter for every transformer area (M<area code>)."""
    db = _db(data_dir)
    try:
        from server.monitoring.simulator import register_masters

        typer.echo(f"{register_masters(db, seed=seed)} master meters registered")
    finally:
        db.dispose()


@ami_app.command()
def simulate(out: Annotated[Path, typer.Option(help="Folder for the delivery files")],
             data_dir: DataDir = None, seed: Seed = DEFAULT_SEED,
             days: Annotated[int, typer.Option(help="Days to simulate")] = 30,
             end: Annotated[str | None, typer.Option(help="Last day (default yesterday)")]
             = None,
             gz: Annotated[bool, typer.Option(help="gzip the files")] = True) -> None:
    """Write one delivery file per day (what the head-end sends that day, back-fills
    included) and the ground truth (truth.json, for scoring only)."""
    from sqlmodel import Session

    from server.monitoring.simulator import period, prepare, write_delivery, write_truth

    out.mkdir(parents=True, exist_ok=True)
    db = _db(data_dir)
    try:
        window = period(date.fromisoformat(end) if end else _yesterday(), days)
        with Session(db.reader) as session:
            _, truth, stream = prepare(session, seed=seed, days=window)
            for delivery in stream:
                path = write_delivery(out, delivery, compress=gz)
                typer.echo(f"{path}: {len(delivery.rows)} rows")
        write_truth(out / "truth.json", truth)
        typer.echo(f"{out / 'truth.json'}: ground truth (never read by the detector)")
    finally:
        db.dispose()


def _open(path: Path) -> Any:
    if path.suffix == ".gz":
        return gzip.open(path, "rt", encoding="utf-8", newline="")
    return path.open(encoding="utf-8", newline="")


@ami_app.command()
def ingest(files: Annotated[list[Path], typer.Argument(exists=True, dir_okay=False)],
           data_dir: DataDir = None,
           lang: Annotated[str, typer.Option(help="Language of the reasons")] = "zh") -> None:
    """Import interval files (header meter_no,interval_start,energy_kwh,source).

    Exit code 0 all imported, 1 some rows rejected, 2 a file is not usable."""
    from server.monitoring.ingest import csv_rows, ingest_stream
    from shared.errors import DomainError
    from shared.messages import translate

    db = _db(data_dir)
    rejected = 0
    try:
        for path in files:
            try:
                with _open(path) as stream:
                    report = ingest_stream(db, csv_rows(stream), lang=lang)
            except (DomainError, UnicodeDecodeError, OSError) as exc:
                reason = (translate(exc.code, lang, **exc.details)
                          if isinstance(exc, DomainError) else str(exc))
                typer.echo(f"{path}: {reason}", err=True)
                raise typer.Exit(2) from None
            typer.echo(f"{path}: " + ", ".join(f"{k} {v}" for k, v in report.summary().items()))
            for row in report.rejected:
                typer.echo(f"  line {row.line} [{row.meter_no}] {row.code}: {row.message}",
                           err=True)
            rejected += report.counts["rejected"]
    finally:
        db.dispose()
    if rejected:
        raise typer.Exit(1)


@ami_app.command()
def analyse(data_dir: DataDir = None,
            day: Annotated[list[str] | None, typer.Option(
                help="Day to (re)compute, YYYY-MM-DD (repeat); default: the changed days")]
            = None) -> None:
    """Compute the changed days, detect as of the newest one, raise the jobs."""
    from server.monitoring.service import analyse as run_analysis

    db = _db(data_dir)
    try:
        days = [date.fromisoformat(d) for d in day] if day else None
        typer.echo(run_analysis(db, days=days).describe())
    finally:
        db.dispose()


@ami_app.command()
def run(data_dir: DataDir = None, seed: Seed = DEFAULT_SEED,
        days: Annotated[int, typer.Option(help="Days to simulate")] = 30,
        end: Annotated[str | None, typer.Option(help="Last day (default yesterday)")] = None,
        truth: Annotated[Path | None, typer.Option(help="Where to write truth.json")] = None,
        ) -> None:
    """Set up, then day by day: simulate the delivery, import it, analyse (the daily job);
    finally score the detector against the truth."""
    from sqlmodel import Session

    from server.monitoring.ingest import ingest_stream
    from server.monitoring.scoring import score
    from server.monitoring.service import analyse as run_analysis
    from server.monitoring.simulator import period, prepare, register_masters, write_truth

    db = _db(data_dir)
    try:
        register_masters(db, seed=seed)
        window = period(date.fromisoformat(end) if end else _yesterday(), days)
        with Session(db.reader) as session:
            _, plan, stream = prepare(session, seed=seed, days=window)
        for delivery in stream:
            report = ingest_stream(db, ((i, r) for i, r in enumerate(delivery.rows, 1)))
            result = run_analysis(db)
            loop = result.loop
            typer.echo(f"{delivery.day}: {report.counts['imported']} imported, "
                       f"{report.counts['corrected']} corrected, "
                       f"{report.counts['rejected']} rejected; "
                       f"{len(result.days)} day(s) computed; jobs "
                       f"{' '.join(loop.jobs) if loop and loop.jobs else '-'}")
        truth_json = json.loads(json.dumps(plan.to_json()))
        if truth:
            write_truth(truth, plan)
        with Session(db.reader) as session:
            for s in score(session, truth_json):
                typer.echo(s.line())
    finally:
        db.dispose()


@ami_app.command("score")
def score_cmd(truth: Annotated[Path, typer.Option(exists=True, dir_okay=False)],
              data_dir: DataDir = None) -> None:
    """Precision and recall of the detector against the simulator's ground truth."""
    from sqlmodel import Session

    from server.monitoring.scoring import score

    db = _db(data_dir)
    try:
        with Session(db.reader) as session:
            for s in score(session, json.loads(truth.read_text(encoding="utf-8"))):
                typer.echo(s.line())
    finally:
        db.dispose()
