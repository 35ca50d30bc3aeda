"""Logging: one line per request and per event, as JSON in production, each carrying the
request id (``X-Request-ID``) of the request it belongs to.

``log_config(settings)`` is a ``logging.config.dictConfig`` dictionary; ``gridone serve``
hands it to uvicorn, which applies it in every worker.
"""

from __future__ import annotations

import logging
from contextvars import ContextVar
from typing import Any

from server.config import Settings

#: The id of the request being handled (set by ``RequestMiddleware``; threads that run a
#: sync endpoint get a copy of the context, so their log lines carry it too).
REQUEST_ID: ContextVar[str | None] = ContextVar("gridone_request_id", default=None)


class RequestIdFilter(logging.Filter):
    """Adds ``request_id`` to every record (None outside a request)."""

    def filter(self, record: logging.LogRecord) -> bool:
        if not hasattr(record, "request_id"):
            record.request_id = REQUEST_ID.get()
        record.__dict__.pop("color_message", None)  # uvicorn's copy with terminal colours
        return True


JSON_FIELDS = "%(levelname)s %(name)s %(process)d %(message)s %(request_id)s"
TEXT_FORMAT = "%(asctime)s %(levelname)-7s %(name)s [%(request_id)s] %(message)s"


def log_config(settings: Settings) -> dict[str, Any]:
    formatter: dict[str, Any]
    if settings.log_format == "json":
        formatter = {"()": "pythonjsonlogger.json.JsonFormatter", "fmt": JSON_FIELDS,
                     "timestamp": "time",  # ISO 8601, UTC
                     "rename_fields": {"levelname": "level", "name": "logger"},
                     "json_ensure_ascii": False}
    else:
        formatter = {"format": TEXT_FORMAT}
    level = settings.log_level.upper()
    return {
        "version": 1,
        "disable_existing_loggers": False,
        "filters": {"request_id": {"()": "server.ops.logs.RequestIdFilter"}},
        "formatters": {"main": formatter},
        "handlers": {"stderr": {"class": "logging.StreamHandler", "formatter": "main",
                                "filters": ["request_id"], "stream": "ext://sys.stderr"}},
        "root": {"handlers": ["stderr"], "level": level},
        "loggers": {
            # uvicorn's own lines go through the root handler; its access log is replaced
            # by ours (gridone.access: route, status, duration, request id).
            "uvicorn": {"handlers": [], "level": level, "propagate": True},
            "uvicorn.error": {"handlers": [], "level": level, "propagate": True},
            "uvicorn.access": {"handlers": [], "level": "WARNING", "propagate": False},
            "apscheduler": {"handlers": [], "level": "WARNING", "propagate": True},
            "alembic": {"handlers": [], "level": "WARNING", "propagate": True},
        },
    }
