"""``/api/v1/health`` (the process is alive) and ``/api/v1/ready`` (it can serve: the
database answers at the newest schema and the photo store takes a write)."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field
from sqlalchemy import text

from server.db import Database
from server.errors import error_response
from shared.errors import ErrorCode

API_VERSION = "1"
router = APIRouter(prefix="/api/v1", tags=["meta"])


class HealthOut(BaseModel):
    status: str
    database: str = Field(description="The configured database's kind (not checked here)")
    version: str


class ReadyOut(BaseModel):
    status: str
    checks: dict[str, str] = Field(description="database, photos: ok (or what failed)")


@router.get("/health", response_model=HealthOut, summary="Liveness: the process answers")
def health(request: Request) -> HealthOut:
    db: Database = request.app.state.db
    return HealthOut(status="ok", database=db.writer.dialect.name, version=API_VERSION)


def check_database(db: Database, head: str | None) -> str:
    try:
        with db.reader.connect() as conn:
            revision = conn.execute(text("SELECT version_num FROM alembic_version")).scalar()
    except Exception as exc:
        return f"unreachable: {type(exc).__name__}"
    if head is not None and revision != head:
        return f"schema {revision} is not the newest ({head}): run gridone migrate"
    return "ok"


@router.get("/ready", response_model=ReadyOut, summary="Readiness: database and photo storage",
            responses={503: {"description": "NOT_READY: details.checks says what failed"}})
def ready(request: Request) -> JSONResponse | ReadyOut:
    state = request.app.state
    checks = {"database": check_database(state.db, state.schema_head),
              "photos": state.blobs.check()}
    failed = [name for name, result in checks.items() if result != "ok"]
    if failed:
        return error_response(request, ErrorCode.NOT_READY,
                              {"failed": ", ".join(failed), "checks": checks,
                               "retry_after": 5})
    return ReadyOut(status="ready", checks=checks)
