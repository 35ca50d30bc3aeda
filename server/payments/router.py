"""``/api/v1/payments``: online recharge orders, receipts, and the provider's callback;
``/sandbox/pay``: the sandbox provider's own pages (not part of the API, not in prod)."""

from __future__ import annotations

import html
from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Header, Query, Request, Response
from fastapi.responses import HTMLResponse, JSONResponse
from pydantic import BaseModel
from sqlmodel import col, select
from starlette.concurrency import run_in_threadpool

from server.billing.models import LedgerEntry
from server.customers.models import Account
from server.deps import CurrentUser, DatabaseDep, SessionDep
from server.meters.models import Meter
from server.payments import service
from server.payments.models import PaymentOrder
from server.payments.sandbox import SandboxProvider
from server.payments.schemas import OrderIn
from shared.errors import DomainError, ErrorCode
from shared.money import fen_to_yuan

router = APIRouter(prefix="/api/v1/payments", tags=["payments"])
sandbox_router = APIRouter(prefix="/sandbox/pay", tags=["sandbox"], include_in_schema=False)


class OrderOut(BaseModel):
    id: str
    account_id: str
    amount_fen: int
    status: str
    provider: str
    provider_txn_id: str | None
    pay_url: str | None
    receipt_no: str | None
    created_at: datetime
    paid_at: datetime | None
    credited_at: datetime | None
    declined_at: datetime | None
    version: int


class ReceiptOut(BaseModel):
    receipt_no: str
    order_id: str
    account_id: str
    account_no: str
    account_name: str
    amount_fen: int
    balance_after_fen: int
    meter_no: str | None
    purchase_count: int | None
    provider: str
    provider_txn_id: str | None
    paid_at: datetime | None
    credited_at: datetime


class CallbackOut(BaseModel):
    result: str
    order_id: str | None
    status: str | None


def order_out(o: PaymentOrder) -> OrderOut:
    return OrderOut(**o.model_dump(warnings=False))


def _provider(request: Request) -> Any:
    return request.app.state.payment_provider


@router.post("/orders", response_model=OrderOut, status_code=201,
             summary="Start an online recharge (customers, their own accounts)",
             responses={200: {"description": "This idempotency key's order (no new order)"}})
def create_order(body: OrderIn, request: Request, user: CurrentUser, db: DatabaseDep,
                 response: Response) -> OrderOut:
    """Returns the order with ``pay_url``, the provider's page to pay on. The account is
    credited when the provider's signed notification says it is paid: watch ``status``
    go pending -> paid -> credited (``GET /orders/{id}``)."""
    order, created = service.create_order(db, actor=user.actor, account_id=body.account_id,
                                          amount_fen=body.amount_fen,
                                          idempotency_key=body.idempotency_key,
                                          provider=_provider(request))
    if not created:
        response.status_code = 200
    return order_out(order)


@router.get("/orders", response_model=list[OrderOut], summary="Payment orders I may see")
def list_orders(user: CurrentUser, session: SessionDep,
                account_id: Annotated[str | None, Query(max_length=36)] = None,
                limit: Annotated[int, Query(ge=1, le=200)] = 50,
                offset: Annotated[int, Query(ge=0, le=10**9)] = 0) -> list[OrderOut]:
    stmt = select(PaymentOrder).where(service.visible_orders(session, user.actor))
    if account_id:
        stmt = stmt.where(PaymentOrder.account_id == account_id)
    rows = session.exec(stmt.order_by(col(PaymentOrder.created_at).desc())
                        .limit(limit).offset(offset)).all()
    return [order_out(o) for o in rows]


@router.get("/orders/{order_id}", response_model=OrderOut, summary="One payment order")
def get_order(order_id: str, user: CurrentUser, session: SessionDep) -> OrderOut:
    return order_out(service.get_order(session, actor=user.actor, order_id=order_id))


@router.get("/orders/{order_id}/receipt", response_model=ReceiptOut,
            summary="The receipt of a credited order")
def receipt(order_id: str, user: CurrentUser, session: SessionDep) -> ReceiptOut:
    order = service.get_order(session, actor=user.actor, order_id=order_id)
    if order.status != service.CREDITED or order.credited_at is None:
        raise DomainError(ErrorCode.PAYMENT_ORDER_CLOSED, status=order.status)
    account = session.get(Account, order.account_id)
    entry = session.get(LedgerEntry, order.ledger_entry_id)
    assert account is not None and entry is not None and order.receipt_no
    meter = session.exec(select(Meter).where(Meter.account_id == account.id,
                                             Meter.status == "installed")).first()
    return ReceiptOut(receipt_no=order.receipt_no, order_id=order.id, account_id=account.id,
                      account_no=account.account_no, account_name=account.name,
                      amount_fen=order.amount_fen, balance_after_fen=entry.balance_after_fen,
                      meter_no=meter.meter_no if meter else None,
                      purchase_count=meter.purchase_count if meter else None,
                      provider=order.provider, provider_txn_id=order.provider_txn_id,
                      paid_at=order.paid_at, credited_at=order.credited_at)


@router.post("/callback", response_model=CallbackOut,
             summary="The payment provider's signed notification (no user sign-in)",
             openapi_extra={"requestBody": {"content": {"application/json": {"schema": {
                 "type": "object"}}}, "required": True}})
async def callback(request: Request, db: DatabaseDep,
                   x_signature: Annotated[str | None, Header()] = None) -> CallbackOut:
    """``X-Signature: t=<unix>,v1=<HMAC-SHA256 hex of "<t>." + body>``. Forged, altered,
    replayed (too old) or mismatched notifications are refused and recorded; repeated and
    out-of-order ones are answered 200 and change nothing."""
    body = await request.body()
    key = request.app.state.payment_key
    result = await run_in_threadpool(service.handle_callback, db, key=key, body=body,
                                     signature=x_signature)
    return CallbackOut(result=result.verdict, order_id=result.order_id, status=result.status)


# -- the sandbox provider's own pages --------------------------------------------------------
def _sandbox(request: Request) -> SandboxProvider:
    provider = request.app.state.payment_provider
    if not isinstance(provider, SandboxProvider):
        raise DomainError(ErrorCode.NOT_FOUND)
    return provider


def deliver_in_process(request: Request) -> Any:
    """The sandbox's way of calling the merchant's callback endpoint, in process."""
    db, key = request.app.state.db, request.app.state.payment_key

    def send(body: bytes, signature: str) -> bool:
        try:
            service.handle_callback(db, key=key, body=body, signature=signature)
        except DomainError:
            return False
        return True
    return send


_PAGE = """<!doctype html><html lang="zh"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>沙箱支付 Sandbox payment</title><style>
body{{font-family:sans-serif;max-width:28em;margin:0 auto;padding:1em;box-sizing:border-box}}
h1{{font-size:1.4em}} code{{word-break:break-all}}
form{{display:block;margin:.6em 0}} button{{width:100%;min-height:3em;font-size:1.1em}}
</style></head><body><h1>沙箱支付 Sandbox Pay</h1>
<p>商户订单 Merchant order: <code>{order}</code><br>交易号 Transaction: <code>{txn}</code></p>
<p style="font-size:2em">¥{amount}</p><p>状态 Status: <b id="status">{status}</b></p>{form}
</body></html>"""
_PAGE_CSP = "default-src 'none'; style-src 'unsafe-inline'; frame-ancestors 'none'"
_FORM = """<form method="post" action="{base}/approve">
<button id="approve" type="submit">确认支付 Approve</button></form>
<form method="post" action="{base}/decline">
<button id="decline" type="submit">拒绝 Decline</button></form>"""


@sandbox_router.get("/{txn_id}", response_class=HTMLResponse)
def sandbox_page(txn_id: str, request: Request) -> HTMLResponse:
    pay = _sandbox(request).get(txn_id)
    if pay is None:
        raise DomainError(ErrorCode.NOT_FOUND)
    base = f"/sandbox/pay/{html.escape(pay.txn_id)}"
    form = _FORM.format(base=base) if pay.status == "created" else ""
    # its own style sheet (inline) is all it loads: the API's "default-src 'none'" would
    # leave the page unstyled, too small on a phone
    return HTMLResponse(_PAGE.format(order=html.escape(pay.merchant_order_id),
                                     txn=html.escape(pay.txn_id),
                                     amount=fen_to_yuan(pay.amount_fen), status=pay.status,
                                     form=form), headers={"Content-Security-Policy": _PAGE_CSP})


def _decide(txn_id: str, request: Request, approve: bool, deliver: bool) -> Response:
    provider = _sandbox(request)
    pay = provider.decide(txn_id, approve=approve)
    if pay is None:
        raise DomainError(ErrorCode.NOT_FOUND)
    if deliver:  # the first notification goes out at once; repeats follow later
        provider.deliver(deliver_in_process(request), txn_id=txn_id)
    if "text/html" in request.headers.get("accept", ""):
        return sandbox_page(txn_id, request)
    return JSONResponse({"txn_id": pay.txn_id, "status": pay.status,
                         "merchant_order_id": pay.merchant_order_id})


@sandbox_router.post("/{txn_id}/approve")
def sandbox_approve(txn_id: str, request: Request, deliver: bool = True) -> Response:
    return _decide(txn_id, request, True, deliver)


@sandbox_router.post("/{txn_id}/decline")
def sandbox_decline(txn_id: str, request: Request, deliver: bool = True) -> Response:
    return _decide(txn_id, request, False, deliver)


@sandbox_router.get("/{txn_id}/events")
def sandbox_events(txn_id: str, request: Request) -> list[dict[str, Any]]:
    """The notifications of a payment, freshly signed, as the provider would send them
    (for tests and demos that deliver them by hand, in any order, any number of times)."""
    provider = _sandbox(request)
    out = []
    for event in provider.events(txn_id):
        body, signature = provider.signed(event)
        out.append({"id": event.id, "seq": event.seq, "body": body.decode(),
                    "signature": signature, "delivered": event.delivered,
                    "deliveries_left": event.deliveries_left})
    return out


@sandbox_router.post("/deliver")
def sandbox_deliver(request: Request) -> dict[str, int]:
    """Deliver every notification that is due now (repeats, late ones)."""
    return {"delivered": _sandbox(request).deliver(deliver_in_process(request))}
