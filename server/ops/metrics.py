"""Prometheus metrics (``prometheus_client``) and ``GET /metrics``.

Each app has its own registry. With several workers (``gridone serve --workers N``) the
counters are kept in files under ``metrics_multiproc_dir`` (prometheus' multiprocess
mode, switched on by ``PROMETHEUS_MULTIPROC_DIR``, which ``gridone serve`` sets for the
workers) and ``/metrics`` adds up every worker's. Queue depths are counted in the
database when scraped, so every worker reports the same numbers.
"""

from __future__ import annotations

import hmac
from collections import Counter as Tally
from collections.abc import Iterable, Iterator
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import Response
from prometheus_client import (
    CONTENT_TYPE_LATEST,
    CollectorRegistry,
    Counter,
    Histogram,
    generate_latest,
    multiprocess,
)
from prometheus_client.core import GaugeMetricFamily, Metric
from prometheus_client.registry import Collector
from sqlalchemy import func, select
from sqlmodel import col

from server.db import Database
from server.meter_commands.models import MeterCommand
from server.notifications.models import OutboxMessage
from server.payments.models import PaymentOrder
from server.photos.models import Photo
from shared.errors import DomainError, ErrorCode

LATENCY_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.2, 0.35, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0)


class Metrics:
    """The app's counters and histograms."""

    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        self._children: dict[tuple[int, tuple[str, ...]], Any] = {}
        r = self.registry
        self.request_seconds = Histogram(
            "gridone_http_request_duration_seconds", "Request latency by route template",
            ["method", "route"], buckets=LATENCY_BUCKETS, registry=r)
        self.requests = Counter(
            "gridone_http_requests", "Requests by route template and status",
            ["method", "route", "status"], registry=r)
        self.push_ops = Counter(
            "gridone_sync_push_ops", "Ops received by sync push, by result", ["result"],
            registry=r)
        self.pull_rows = Counter(
            "gridone_sync_pull_rows", "Rows and tombstones sent by sync pull", registry=r)
        self.pull_pages = Counter(
            "gridone_sync_pull_pages", "Pages served by sync pull", ["kind"], registry=r)
        self.scheduler_runs = Counter(
            "gridone_scheduler_runs", "Scheduler ticks, by job and outcome (skipped: "
            "another worker ran the tick)", ["job", "outcome"], registry=r)
        self.scheduler_seconds = Histogram(
            "gridone_scheduler_run_duration_seconds", "Duration of scheduled job runs",
            ["job"], buckets=LATENCY_BUCKETS, registry=r)

    # -- the thin helpers the routers and the scheduler call --------------------------
    def child(self, metric: Any, *values: str) -> Any:
        """``metric.labels(*values)``, kept: prometheus_client checks the values and takes
        a lock on every ``labels`` call, and every request makes two (a few % of a
        no-change pull). The label sets are bounded (routes, methods, statuses)."""
        key = (id(metric), values)
        found = self._children.get(key)
        if found is None:
            found = self._children[key] = metric.labels(*values)
        return found

    def pushed(self, results: Iterable[Any]) -> None:
        counts = Tally(getattr(result, "status", "unknown") for result in results)
        for status, n in counts.items():
            self.child(self.push_ops, str(status)).inc(n)

    def pulled(self, rows: int, *, reset: bool = False) -> None:
        self.pull_rows.inc(rows)
        self.child(self.pull_pages, "reset" if reset else "page").inc()

    def job_tick(self, job: str, outcome: str, seconds: float) -> None:
        self.scheduler_runs.labels(job, outcome).inc()
        if outcome != "skipped":
            self.scheduler_seconds.labels(job).observe(seconds)


def metrics_of(request: Request) -> Metrics:
    return request.app.state.metrics  # type: ignore[no-any-return]


# -- queue depths, counted when scraped ------------------------------------------------
QUEUES: dict[str, Any] = {
    "messages_unsent": select(func.count()).select_from(OutboxMessage).where(
        col(OutboxMessage.status) == "queued"),
    "meter_commands_unacknowledged": select(func.count()).select_from(MeterCommand).where(
        col(MeterCommand.state).in_(("queued", "sent"))),
    "payments_to_credit": select(func.count()).select_from(PaymentOrder).where(
        col(PaymentOrder.status) == "paid"),
    "photos_incomplete": select(func.count()).select_from(Photo).where(
        col(Photo.status) != "complete"),
}


class QueueDepths(Collector):
    def __init__(self, db: Database) -> None:
        self.db = db

    def collect(self) -> Iterator[Metric]:
        family = GaugeMetricFamily("gridone_queue_depth", "Items waiting, by queue",
                                   labels=["queue"])
        with self.db.reader.connect() as conn:
            for name, stmt in QUEUES.items():
                family.add_metric([name], float(conn.execute(stmt).scalar() or 0))
        yield family


# -- the endpoint ------------------------------------------------------------------------
router = APIRouter()


def _authorised(request: Request) -> None:
    """Production: only with ``metrics_token`` set, and only to its bearer. Elsewhere:
    open unless a token is set."""
    settings = request.app.state.settings
    token = settings.metrics_token
    if token is None:
        if settings.env == "production":
            raise DomainError(ErrorCode.NOT_FOUND)
        return
    given = request.headers.get("authorization", "")
    if not hmac.compare_digest(given.encode(), f"Bearer {token}".encode()):
        raise DomainError(ErrorCode.AUTH_REQUIRED)


@router.get("/metrics", include_in_schema=False)
def metrics(request: Request) -> Response:
    _authorised(request)
    settings = request.app.state.settings
    if settings.metrics_multiproc_dir is not None:
        registry = CollectorRegistry()
        multiprocess.MultiProcessCollector(registry, path=str(settings.metrics_multiproc_dir))
        body = generate_latest(registry)
    else:
        body = generate_latest(metrics_of(request).registry)
    queues = CollectorRegistry()
    queues.register(QueueDepths(request.app.state.db))
    return Response(body + generate_latest(queues), media_type=CONTENT_TYPE_LATEST)
