"""The online-only calls of the transport (payment orders, receipts, purchase-count
corrections): the right requests, the server's refusals as PermanentError, no server as
TransientError."""

from __future__ import annotations

import json
from typing import Any

import httpx
import pytest

from sync.client.errors import PermanentError, TransientError
from sync.client.transport import Transport


class Tokens:
    def tokens(self) -> tuple[str | None, str | None]:
        return "access", "refresh"

    def save_tokens(self, access: str, refresh: str) -> None:
        raise AssertionError("no refresh expected")


def transport(handler: Any) -> Transport:
    client = httpx.Client(base_url="http://api", transport=httpx.MockTransport(handler))
    return Transport("http://api", Tokens(), client=client)


def test_payment_order_receipt_and_count_calls() -> None:
    seen: list[tuple[str, str, Any]] = []

    def handler(req: httpx.Request) -> httpx.Response:
        body = json.loads(req.content) if req.content else None
        seen.append((req.method, req.url.path, body))
        assert req.headers["Authorization"] == "Bearer access"
        return httpx.Response(200, json={"id": "o1", "status": "pending"})

    t = transport(handler)
    assert t.create_payment_order(account_id="a", amount_fen=10000,
                                  idempotency_key="app-key-1")["id"] == "o1"
    t.payment_order("o1")
    t.payment_receipt("o1")
    t.correct_purchase_count("m1", correction_id="c1", new_count=8, expected_count=7,
                             reason="card reissued")
    assert seen == [
        ("POST", "/api/v1/payments/orders", {"account_id": "a", "amount_fen": 10000,
                                             "idempotency_key": "app-key-1"}),
        ("GET", "/api/v1/payments/orders/o1", None),
        ("GET", "/api/v1/payments/orders/o1/receipt", None),
        ("POST", "/api/v1/billing/meters/m1/purchase-count",
         {"id": "c1", "new_count": 8, "expected_count": 7, "reason": "card reissued"})]


def test_refusals_and_no_server() -> None:
    t = transport(lambda req: httpx.Response(422, json={
        "code": "BILLING_AMOUNT_INVALID", "message": "bad amount", "details": {}}))
    with pytest.raises(PermanentError) as err:
        t.create_payment_order(account_id="a", amount_fen=1, idempotency_key="app-key-1")
    assert err.value.code == "BILLING_AMOUNT_INVALID"

    def down(req: httpx.Request) -> httpx.Response:
        raise httpx.ConnectError("refused", request=req)

    with pytest.raises(TransientError):
        transport(down).payment_order("o1")


def test_a_purchase_count_correction_comes_back_as_a_request_waiting_for_approval() -> None:
    """202: recorded for another person's approval; 200 with ``duplicate``: the same id was
    recorded before; 409 APPROVAL_DUPLICATE: another one waits for this meter."""
    answers = iter([
        httpx.Response(202, json={"id": "c1", "status": "pending", "old_count": 7,
                                  "new_count": 8, "duplicate": False}),
        httpx.Response(200, json={"id": "c1", "status": "pending", "old_count": 7,
                                  "new_count": 8, "duplicate": True}),
        httpx.Response(409, json={"code": "APPROVAL_DUPLICATE", "details": {},
                                  "message": "A request for this is already waiting"}),
    ])
    t = transport(lambda req: next(answers))
    kw = {"correction_id": "c1", "new_count": 8, "expected_count": 7, "reason": "card"}
    first = t.correct_purchase_count("m1", **kw)  # type: ignore[arg-type]
    assert (first["status"], first["duplicate"]) == ("pending", False)
    assert t.correct_purchase_count("m1", **kw)["duplicate"] is True  # type: ignore[arg-type]
    with pytest.raises(PermanentError) as err:
        t.correct_purchase_count("m1", **{**kw, "correction_id": "c2"})  # type: ignore[arg-type]
    assert err.value.code == "APPROVAL_DUPLICATE"
