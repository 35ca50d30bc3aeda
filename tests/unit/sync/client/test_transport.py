"""Transport pieces that need no network: error classes and the clock estimate."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import httpx
import pytest

from sync.client.errors import (
    AuthRequired,
    ClientTooOld,
    PermanentError,
    TransientError,
)
from sync.client.transport import classify


def resp(status: int, body: object = None, headers: dict[str, str] | None = None
         ) -> httpx.Response:
    return httpx.Response(status, json=body, headers=headers,
                          request=httpx.Request("POST", "http://x/api/v1/sync/push"))


def test_success_is_not_an_error() -> None:
    classify(resp(200, {}))


@pytest.mark.parametrize("status", [408, 429, 500, 502, 503, 504])
def test_server_trouble_and_throttling_are_transient(status: int) -> None:
    with pytest.raises(TransientError) as err:
        classify(resp(status, {"code": "SYNC_TRANSIENT", "message": "busy", "details": {}},
                      headers={"Retry-After": "7"}))
    assert err.value.retry_after == 7.0 and err.value.status == status


def test_retry_after_as_an_http_date() -> None:
    when = (datetime.now(UTC) + timedelta(seconds=30)).strftime("%a, %d %b %Y %H:%M:%S GMT")
    with pytest.raises(TransientError) as err:
        classify(resp(503, None, headers={"Retry-After": when}))
    assert err.value.retry_after is not None and 20 < err.value.retry_after <= 31
    assert err.value.code == "HTTP_503"


def test_refusals_keep_the_servers_code_and_message() -> None:
    with pytest.raises(PermanentError) as err:
        classify(resp(422, {"code": "VALIDATION_ERROR", "message": "bad", "details": {"a": 1}}))
    assert (err.value.code, err.value.message, err.value.details) == (
        "VALIDATION_ERROR", "bad", {"a": 1})
    assert not isinstance(err.value, TransientError)


def test_426_means_update_and_401_means_sign_in() -> None:
    with pytest.raises(ClientTooOld):
        classify(resp(426, {"code": "SYNC_CLIENT_TOO_OLD", "message": "update"}))
    with pytest.raises(AuthRequired):
        classify(resp(401, {"code": "AUTH_TOKEN_EXPIRED", "message": "expired"}))


class _Tokens:
    def __init__(self) -> None:
        self.pair: tuple[str | None, str | None] = ("access-1", "refresh-1")

    def tokens(self) -> tuple[str | None, str | None]:
        return self.pair

    def save_tokens(self, access: str, refresh: str) -> None:
        self.pair = (access, refresh)


def test_every_request_names_the_device_once_it_is_known() -> None:
    """The server counts sync budgets per device: the transport sends X-Device-ID, from
    its construction (a restarted app) or from the sign-in (a new one)."""
    from sync.client.transport import Transport

    seen: list[str | None] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request.headers.get("X-Device-ID"))
        if request.url.path == "/api/v1/auth/token":
            return httpx.Response(200, json={"access_token": "a", "refresh_token": "r",
                                             "expires_in": 900, "user_id": "u", "role": "crew"})
        return httpx.Response(200, json={"protocol": 1, "server_time": "2026-01-01T00:00:00Z",
                                         "changes": [], "next_cursor": "c", "has_more": False,
                                         "reset": False})

    def client() -> httpx.Client:
        return httpx.Client(base_url="http://api", transport=httpx.MockTransport(handler))

    fresh = Transport("http://api", _Tokens(), client=client())
    fresh.pull(None, 10)
    fresh.login("crew1", "pw", "device-abc-123")
    fresh.pull("c", 10)
    restarted = Transport("http://api", _Tokens(), client=client(), device_id="device-xyz-9")
    restarted.pull("c", 10)
    assert seen == [None, "device-abc-123", "device-abc-123", "device-xyz-9"]


def test_a_push_says_when_its_request_has_left_before_its_answer_is_read() -> None:
    """``on_sent`` fires once the body is written to the socket, while the server still
    holds the answer (a real HTTP server on loopback: the hook is httpcore's trace). The
    server here answers only after hearing of it, so a hook that fired on the answer
    instead would make the server give up and answer late."""
    import gzip
    import http.server
    import json
    import threading

    from sync.client.transport import Transport

    left = threading.Event()
    heard: list[object] = []

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_POST(self) -> None:  # the stdlib handler's name for a POST
            body = self.rfile.read(int(self.headers["Content-Length"]))
            ops = json.loads(gzip.decompress(body))["ops"]
            heard.append((len(ops), left.wait(5)))
            answer = json.dumps({"protocol": 1, "server_time": "2026-01-01T00:00:00Z",
                                 "results": [{"op_id": o["op_id"], "status": "applied"}
                                             for o in ops]}).encode()
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(answer)))
            self.end_headers()
            self.wfile.write(answer)

        def log_message(self, *args: object) -> None:
            pass

    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    calls: list[bool] = []
    try:
        transport = Transport(f"http://127.0.0.1:{httpd.server_address[1]}", _Tokens())

        def sent() -> None:
            calls.append(left.is_set())
            left.set()

        ops = [{"op_id": f"op-{i}", "payload": {"text": "x" * 200}} for i in range(50)]
        answer = transport.push({"protocol": 1, "device_id": "d", "ops": ops}, on_sent=sent)
        transport.close()
    finally:
        httpd.shutdown()
        httpd.server_close()
    assert heard == [(50, True)]  # the server heard of the hook before it answered
    assert calls == [False]  # once
    assert [r.op_id for r in answer.results] == [f"op-{i}" for i in range(50)]
