"""The FastAPI application factory."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from fastapi import FastAPI
from fastapi.middleware.cors import CORSMiddleware
from starlette.concurrency import run_in_threadpool
from starlette.middleware.gzip import DEFAULT_EXCLUDED_CONTENT_TYPES, GZipMiddleware

from server.applications.router import router as applications_router
from server.appraisal.router import router as appraisal_router
from server.auth.router import router as auth_router
from server.billing.setup import install as install_billing
from server.care.router import router as care_router
from server.changes.notify import PgListener, SqliteWatcher, conninfo_of
from server.config import Settings
from server.counters import Counters
from server.customers.router import router as customers_router
from server.db import WalCheckpointer, make_database
from server.devices.router import router as devices_router
from server.discrepancies.router import router as discrepancies_router
from server.dispatch.router import router as dispatch_router
from server.errors import install_error_handlers
from server.meters.router import router as meters_router
from server.middleware import BodyLimitMiddleware, GunzipMiddleware, RefuseNulInUrl
from server.migrate import head, upgrade
from server.monitoring.router import router as monitoring_router
from server.ops.health import API_VERSION
from server.ops.health import router as health_router
from server.ops.metrics import Metrics
from server.ops.metrics import router as metrics_router
from server.ops.middleware import RequestMiddleware, SecurityHeadersMiddleware
from server.ops.openapi import install as install_openapi
from server.outages.router import router as outages_router
from server.photos.router import router as photos_router
from server.ratelimit.service import MemoryBudgets
from server.scheduler.jobs import DEFAULT_JOBS
from server.scheduler.router import router as scheduler_router
from server.scheduler.service import Scheduler
from server.stations.router import router as stations_router
from server.storage.store import make_blob_store
from server.supervision.router import desk_router as customer_desk_router
from server.supervision.router import discrepancy_router
from server.supervision.router import router as supervision_router
from server.sync import bulk
from server.sync.pull import warm_up
from server.sync.router import router as sync_router
from server.webapp import router as webapp_router
from server.work_orders.router import router as work_orders_router
from shared.heap import SERVER_YOUNG, settle
from sync.protocol import MAX_PUSH_BYTES

__all__ = ["API_VERSION", "create_app", "create_app_from_env"]
#: Answers smaller than this go out as they are (gzip's header would eat the gain).
GZIP_MIN_BYTES = 300


log = logging.getLogger("gridone.app")


def create_app(settings: Settings | None = None, *, migrate: bool = True) -> FastAPI:
    """Build the app. Engines are made here, never at import time."""
    settings = settings or Settings()
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    db = make_database(settings.resolved_database_url)
    if migrate:
        upgrade(settings.resolved_database_url)
    metrics = Metrics()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        scheduler: Scheduler = app.state.scheduler
        checkpointer = None
        listener: PgListener | SqliteWatcher
        if not db.is_sqlite:  # other workers' commits wake this one's long polls
            listener = PgListener(conninfo_of(db.url), db.notifier)
        else:  # the WAL copied into the database beside the requests, not in a commit
            checkpointer = WalCheckpointer(db.reader)
            checkpointer.start()
            listener = SqliteWatcher(db.reader, db.notifier)  # other workers' commits
        listener.start()
        if settings.warm_up:  # the first phone's download does not compile them
            try:
                await run_in_threadpool(warm_up, db)
            except Exception:  # never a reason not to serve
                log.warning("the sync download's warm-up failed", exc_info=True)
        if settings.warm_up and settings.sync_push_path == "bulk":  # nor its push
            try:
                await run_in_threadpool(bulk.warm_up, db)
            except Exception:  # never a reason not to serve
                log.warning("the sync push's warm-up failed", exc_info=True)
        if settings.runs_scheduler:  # after the warm-ups: none of its jobs waits on them
            scheduler.start()
        # What start-up made (routes, schemas, mappers, metadata) lives as long as the
        # process: out of the collector's sight, a full collection during a request walks
        # only what requests made (the station overview's p95 at 100,000 jobs).
        settle(young=SERVER_YOUNG)
        try:
            yield
        finally:
            scheduler.shutdown()
            listener.stop()
            if checkpointer is not None:
                checkpointer.stop()
            db.dispose()

    app = FastAPI(
        title="GridOne API",
        version=API_VERSION,
        description=(
            "One-stop service platform of a county power-supply company. Errors are "
            '`{"code", "message", "details"}`; messages follow `Accept-Language` '
            "(zh default, en)."
        ),
        lifespan=lifespan,
        # Our metrics are Prometheus (``server.ops.metrics``) and the access log; FastAPI's
        # own OpenTelemetry hooks, with no provider configured, only looked the providers
        # up again on every request (~3 % of a no-change pull's instructions).
        telemetry={"tracing": False, "metrics": False, "logs": False,
                   "operation_spans": False},
    )
    app.state.settings = settings
    app.state.db = db
    app.state.blobs = make_blob_store(settings)
    app.state.metrics = metrics
    app.state.schema_head = head()
    app.state.secret_key = settings.resolved_secret("secret_key")
    app.state.lookup_pepper = settings.resolved_secret("lookup_pepper")
    app.state.counters = Counters()
    #: Pull budgets, counted in this process's memory (a pull is a read; see MemoryBudgets).
    app.state.pull_budgets = MemoryBudgets()
    install_error_handlers(app)
    limits: dict[str, Any] = {"limit": settings.max_body_bytes, "large_limit": MAX_PUSH_BYTES,
                              "large_prefixes": ("/api/v1/photos", "/api/v1/sync/push")}
    app.add_middleware(RefuseNulInUrl)  # before any route (was an app-wide dependency)
    app.add_middleware(GunzipMiddleware, **limits)  # the decoded body, bounded alike
    app.add_middleware(BodyLimitMiddleware, **limits)  # the bytes on the wire
    # Answers gzip-encoded when the client accepts it (pull pages shrink ~11x); photo
    # bytes are compressed already. Level 3: a page of 1,000 timeline rows compresses in
    # 2.5 ms to 44 bytes a row, against 6.6 ms and 39 bytes at level 6 (measured
    # 2026-12-02; zlib's fast levels 1-3 cost the same here).
    app.add_middleware(GZipMiddleware, minimum_size=GZIP_MIN_BYTES, compresslevel=3,
                       exclude_content_types=(*DEFAULT_EXCLUDED_CONTENT_TYPES,
                                              "application/octet-stream"))
    if settings.cors_origins:
        app.add_middleware(CORSMiddleware, allow_origins=settings.cors_origins,
                           allow_credentials=settings.cors_allow_credentials,
                           allow_methods=["GET", "POST", "PUT", "DELETE", "OPTIONS"],
                           allow_headers=["Authorization", "Content-Type", "Accept-Language",
                                          "X-Request-ID", "X-Device-ID", "X-Photo-Size",
                                          "X-Photo-Type"],
                           expose_headers=["X-Request-ID", "Retry-After"])
    if settings.security_headers:
        app.add_middleware(SecurityHeadersMiddleware, hsts_seconds=settings.hsts_seconds)
    app.add_middleware(RequestMiddleware, metrics=metrics)  # outermost: sees every answer

    # Routes are matched in order, one by one: the phones' sync routes, the most frequent
    # requests by far, come first.
    for router in (sync_router, health_router, metrics_router, auth_router, stations_router,
                   customers_router, meters_router, work_orders_router, photos_router,
                   discrepancies_router, devices_router, scheduler_router):
        app.include_router(router)
    install_billing(app, settings)  # billing, payments, notifications, meter commands
    app.include_router(dispatch_router)  # the dispatch desk, and /office (issue 10)
    app.include_router(monitoring_router)  # grid monitoring (issue 12)
    app.include_router(appraisal_router)  # performance appraisal (issue 13)
    app.include_router(supervision_router)  # reviews, four eyes, audit, overview (issue 10)
    app.include_router(customer_desk_router)  # the desk's customer lookup (issue 10)
    app.include_router(discrepancy_router)  # settle / dismiss: four eyes (issue 10)
    app.include_router(outages_router)  # planned outage notices (issue 15)
    app.include_router(applications_router)  # business applications (issue 13)
    app.include_router(care_router)  # the care list (issue 13)
    app.include_router(webapp_router)  # the installable device app at /app/ (issue 11)
    install_openapi(app)  # every 4xx documented as {"code", "message", "details"}
    app.state.scheduler = Scheduler(db, settings, services={"billing": app.state.billing},
                                    observer=metrics, jobs=DEFAULT_JOBS)
    return app


def create_app_from_env() -> FastAPI:
    """The factory uvicorn's workers call (``gridone serve``): settings from the
    environment; the command has migrated the database before starting them."""
    return create_app(Settings(), migrate=False)
