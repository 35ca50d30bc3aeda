"""Operations over HTTP (issue 14): request ids, security headers and CORS from settings,
Prometheus metrics (latency by route template, sync push ops and pull rows, queue
depths), the metrics token, liveness and readiness."""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

from fastapi.testclient import TestClient
from prometheus_client.parser import text_string_to_metric_families
from sqlmodel import Session, select

from server.app import create_app
from server.config import Settings
from server.notifications.models import OutboxMessage
from shared.ids import new_id
from shared.timeutil import utcnow
from tests.conftest import sqlite_settings, svc_act, svc_report
from tests.factories import World


def samples(text: str) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    """Every sample of a Prometheus text answer: (name, sorted labels) -> value."""
    out = {}
    for family in text_string_to_metric_families(text):
        for s in family.samples:
            out[(s.name, tuple(sorted(s.labels.items())))] = s.value
    return out


def value(text: str, name: str, **labels: str) -> float:
    return samples(text).get((name, tuple(sorted(labels.items()))), 0.0)


def test_request_ids_are_taken_or_made_and_sent_back(client: TestClient) -> None:
    r = client.get("/api/v1/health", headers={"X-Request-ID": "lb-7f3a.42"})
    assert r.headers["X-Request-ID"] == "lb-7f3a.42"
    made = {client.get("/api/v1/health").headers["X-Request-ID"] for _ in range(3)}
    assert len(made) == 3 and all(re.fullmatch(r"[0-9a-f]{32}", m) for m in made)
    # something that could break a log line is replaced, not echoed
    r = client.get("/api/v1/health", headers={"X-Request-ID": "bad id\twith tab"})
    assert re.fullmatch(r"[0-9a-f]{32}", r.headers["X-Request-ID"])
    # errors carry it too
    r = client.get("/api/v1/nowhere", headers={"X-Request-ID": "abc"})
    assert r.status_code == 404 and r.headers["X-Request-ID"] == "abc"


def test_security_headers_on_every_answer(client: TestClient) -> None:
    for url in ("/api/v1/health", "/api/v1/me", "/api/v1/nowhere"):
        h = client.get(url).headers
        assert h["X-Content-Type-Options"] == "nosniff"
        assert h["X-Frame-Options"] == "DENY"
        assert h["Referrer-Policy"] == "no-referrer"
        assert h["Content-Security-Policy"] == "default-src 'none'; frame-ancestors 'none'"
        assert "Strict-Transport-Security" not in h  # not unless told: it may be plain HTTP
    docs = client.get("/docs")
    assert docs.status_code == 200 and "Content-Security-Policy" not in docs.headers


def test_an_answer_keeps_its_own_headers_and_gets_each_one_once() -> None:
    """The security headers are defaults (an answer that sets one keeps its value); the
    request id is the middleware's, whatever the app wrote; nothing appears twice."""
    from starlette.applications import Starlette
    from starlette.responses import PlainTextResponse
    from starlette.routing import Route

    from server.ops.metrics import Metrics
    from server.ops.middleware import RequestMiddleware, SecurityHeadersMiddleware

    def page(request: Any) -> PlainTextResponse:
        return PlainTextResponse("ok", headers={"X-Frame-Options": "SAMEORIGIN",
                                                "X-Request-ID": "made-by-the-app"})

    app: Any = Starlette(routes=[Route("/framed", page), Route("/docs/framed", page)])
    app = RequestMiddleware(SecurityHeadersMiddleware(app, hsts_seconds=60),
                            metrics=Metrics())
    with TestClient(app) as http:
        for path, csp in (("/framed", True), ("/docs/framed", False)):
            r = http.get(path, headers={"X-Request-ID": "from-the-caller"})
            names = [k.lower() for k, _ in r.headers.raw]
            assert len(names) == len(set(names)), names
            assert r.headers["X-Frame-Options"] == "SAMEORIGIN"
            assert r.headers["X-Request-ID"] == "from-the-caller"
            assert r.headers["X-Content-Type-Options"] == "nosniff"
            assert r.headers["Strict-Transport-Security"] == "max-age=60"
            assert ("Content-Security-Policy" in r.headers) is csp


def test_a_nul_in_the_url_is_refused_with_every_header(client: TestClient) -> None:
    r = client.get("/api/v1/sync/pull", params={"cursor": "x\u0000"},
                   headers={"X-Request-ID": "nul-1", "Accept-Language": "en"})
    assert (r.status_code, r.json()["code"]) == (422, "VALIDATION_ERROR")
    assert "NUL" in r.json()["message"]
    assert r.headers["X-Request-ID"] == "nul-1"
    assert r.headers["X-Frame-Options"] == "DENY"
    # the text "%00" (sent as %2500) is no NUL
    assert client.get("/api/v1/health", params={"q": "%00"}).status_code == 200


def test_the_pull_is_documented_though_it_reads_its_request_itself(client: TestClient
                                                                    ) -> None:
    """``/sync/pull`` is a ``RawRoute`` (FastAPI solves nothing for it): its query, header,
    answer and security are in the OpenAPI document all the same."""
    op = client.get("/openapi.json").json()["paths"]["/api/v1/sync/pull"]["get"]
    params = {(p["in"], p["name"]) for p in op["parameters"]}
    assert {("query", "cursor"), ("query", "limit"), ("query", "wait"),
            ("header", "X-Device-ID")} <= params
    assert op["security"] == [{"OAuth2PasswordBearer": []}]
    assert "PullResponse" in str(op["responses"]["200"])


def make_client(tmp_path: Path, db_path: Path, **changes: Any) -> TestClient:
    settings = sqlite_settings(tmp_path, db_path).model_copy(update=changes)
    return TestClient(create_app(settings, migrate=False), raise_server_exceptions=False)


def test_cors_and_hsts_follow_the_settings(tmp_path: Path, db_path: Path) -> None:
    with make_client(tmp_path, db_path, cors_origins=["https://office.example.cn"],
                     hsts_seconds=31536000) as c:
        pre = c.options("/api/v1/work-orders", headers={
            "Origin": "https://office.example.cn", "Access-Control-Request-Method": "POST",
            "Access-Control-Request-Headers": "authorization,content-type"})
        assert pre.status_code == 200
        assert pre.headers["Access-Control-Allow-Origin"] == "https://office.example.cn"
        assert "POST" in pre.headers["Access-Control-Allow-Methods"]
        other = c.options("/api/v1/work-orders", headers={
            "Origin": "https://evil.example.com", "Access-Control-Request-Method": "POST"})
        assert "Access-Control-Allow-Origin" not in other.headers
        got = c.get("/api/v1/health", headers={"Origin": "https://office.example.cn"})
        assert got.headers["Access-Control-Allow-Origin"] == "https://office.example.cn"
        assert "X-Request-ID" in got.headers["Access-Control-Expose-Headers"]
        assert got.headers["Strict-Transport-Security"] == "max-age=31536000"
    with make_client(tmp_path, db_path) as c:  # no origins configured: no CORS at all
        r = c.get("/api/v1/health", headers={"Origin": "https://office.example.cn"})
        assert "Access-Control-Allow-Origin" not in r.headers


def test_metrics_count_requests_by_route_sync_ops_pull_rows_and_queues(
        client: TestClient, world: World, as_user: Callable[..., Any], app: Any) -> None:
    db = app.state.db
    order_id = svc_report(db, world, "customer1", account_id=world.accounts["acc1"].id)
    svc_act(db, world, "dispatcher1", order_id, "dispatch",
            assignee_id=world.user("crew1").id)
    crew = as_user("crew1")
    for _ in range(2):
        assert crew.get(f"/api/v1/work-orders/{order_id}").status_code == 200
    assert crew.get(f"/api/v1/work-orders/{new_id()}").status_code == 404
    pulled = crew.get("/api/v1/sync/pull", params={"limit": 1000}).json()
    op = {"op_id": new_id(), "device_id": "device-0001", "device_seq": 1,
          "lane": f"work_order:{order_id}", "lane_prev": None, "type": "work_order.accept@1",
          "entity_id": order_id, "payload": {}, "photos": [],
          "created_at": utcnow().isoformat()}
    pushed = crew.post("/api/v1/sync/push", json={
        "protocol": 1, "device_id": "device-0001", "sent_at": utcnow().isoformat(),
        "ops": [op, op | {"op_id": new_id(), "device_seq": 2, "entity_id": new_id()}]}).json()
    with Session(db.writer) as s:
        queued = lambda: len(s.exec(select(OutboxMessage).where(  # noqa: E731
            OutboxMessage.status == "queued")).all())
        before = queued()  # the customer's notices of the accept, if any
        s.add(OutboxMessage(recipient="13800000000", body="x"))
        s.commit()
        assert queued() == before + 1

    text = client.get("/metrics").text
    route = "/api/v1/work-orders/{order_id}"
    assert value(text, "gridone_http_request_duration_seconds_count", method="GET",
                 route=route) == 3
    assert value(text, "gridone_http_requests_total", method="GET", route=route,
                 status="200") == 2
    assert value(text, "gridone_http_requests_total", method="GET", route=route,
                 status="404") == 1
    assert value(text, "gridone_sync_pull_rows_total") == len(pulled["changes"]) > 0
    assert value(text, "gridone_sync_pull_pages_total", kind="page") == 1
    statuses = [r["status"] for r in pushed["results"]]
    for status in set(statuses):
        assert value(text, "gridone_sync_push_ops_total", result=status) == \
            statuses.count(status)
    assert value(text, "gridone_queue_depth", queue="messages_unsent") == before + 1
    assert value(text, "gridone_queue_depth", queue="meter_commands_unacknowledged") == 0
    # an unknown path is one series, not one per URL
    client.get("/api/v1/x/1")
    client.get("/api/v1/x/2")
    text = client.get("/metrics").text
    assert value(text, "gridone_http_requests_total", method="GET", route="<unmatched>",
                 status="404") == 2
    assert "/api/v1/x/1" not in text


def test_scheduler_runs_are_counted(app: Any, client: TestClient) -> None:
    sched = app.state.scheduler
    sched.ensure_rows()
    sched.tick("rate-limit-sweep")
    text = client.get("/metrics").text
    assert value(text, "gridone_scheduler_runs_total", job="rate-limit-sweep",
                 outcome="ok") == 1
    assert value(text, "gridone_scheduler_run_duration_seconds_count",
                 job="rate-limit-sweep") == 1


def test_metrics_token(tmp_path: Path, db_path: Path) -> None:
    token = "m-" + new_id().replace("-", "") + new_id().replace("-", "")
    with make_client(tmp_path, db_path, metrics_token=token) as c:
        assert c.get("/metrics").status_code == 401
        assert c.get("/metrics", headers={"Authorization": "Bearer nope"}).status_code == 401
        r = c.get("/metrics", headers={"Authorization": f"Bearer {token}"})
        assert r.status_code == 200 and "gridone_http_requests_total" in r.text
    # production without a token: no /metrics at all
    prod = Settings(env="production", data_dir=tmp_path, database_url=f"sqlite:///{db_path}",
                    secret_key=new_id() + new_id(), lookup_pepper=new_id() + new_id())
    with TestClient(create_app(prod, migrate=False), raise_server_exceptions=False) as c:
        assert c.get("/metrics").status_code == 404
        assert "/metrics" not in c.get("/openapi.json").text


def test_liveness_and_readiness(client: TestClient, tmp_path: Path, db_path: Path) -> None:
    assert client.get("/api/v1/health").json() == {"status": "ok", "database": "sqlite",
                                                    "version": "1"}
    r = client.get("/api/v1/ready")
    assert r.status_code == 200
    assert r.json() == {"status": "ready", "checks": {"database": "ok", "photos": "ok"}}
    blocked = tmp_path / "not-a-folder"
    blocked.write_text("a file where the photo folder should be")
    with make_client(tmp_path, db_path, photo_dir=blocked) as c:
        r = c.get("/api/v1/ready", headers={"Accept-Language": "en"})
        assert r.status_code == 503 and r.headers["Retry-After"] == "5"
        body = r.json()
        assert body["code"] == "NOT_READY" and body["details"]["failed"] == "photos"
        assert body["details"]["checks"]["database"] == "ok"
        assert c.get("/api/v1/health").status_code == 200  # alive, just not ready


def test_readiness_fails_on_an_old_schema(tmp_path: Path) -> None:
    from server.migrate import upgrade

    db_file = tmp_path / "old.db"
    upgrade(f"sqlite:///{db_file}", "0003")
    with make_client(tmp_path, db_file) as c:
        body = c.get("/api/v1/ready", headers={"Accept-Language": "zh"}).json()
        assert body["code"] == "NOT_READY" and body["details"]["failed"] == "database"
        assert "gridone migrate" in body["details"]["checks"]["database"]
        assert "服务暂不可用" in body["message"]
