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
