"""Exactly once, never stuck: a push whose answer is lost is sent again and counted once
(the meter swap's balance carry-over is the sharp test), a poison op is refused alone,
and an expired access token is refreshed and the new pair kept."""

from __future__ import annotations

import io
import json
from collections.abc import Callable
from decimal import Decimal
from typing import Any

import httpx
import pytest
from PIL import Image
from sqlmodel import Session, func, select

from server.audit.models import AuditLog
from server.db import Database
from server.discrepancies.models import BalanceDiscrepancy
from server.meters.models import Meter, MeterSwap
from server.sync.models import AppliedOp
from shared.meter_rules import SwapDraft
from sync.client import outbox
from sync.client.errors import AuthRequired, TransientError
from sync.client.readmodel import Mark
from sync.client.store import Key
from sync.protocol import OpType
from tests.contract.conftest import Device, LiveServer, Office
from tests.factories import PASSWORD, World


class LoseAnswers:
    """Client-side event hook: the server handles the request, its answer never arrives
    (as when the signal drops right after the upload)."""

    def __init__(self, path: str, times: int = 1) -> None:
        self.path, self.left = path, times
        self.answers: list[dict[str, Any]] = []

    def __call__(self, response: httpx.Response) -> None:
        if response.request.url.path != self.path:
            return
        response.read()
        if self.left > 0:
            self.left -= 1
            raise httpx.ReadError("connection lost", request=response.request)
        if response.status_code == 200:
            self.answers.append(json.loads(response.content))


def _face(seed: int) -> bytes:
    buf = io.BytesIO()
    Image.new("RGB", (120, 90), (seed, 100, 200 - seed)).save(buf, format="PNG")
    return buf.getvalue()


def test_a_meter_swap_pushed_twice_after_a_lost_answer_carries_the_balance_once(
        device: Callable[..., Device], new_job: Callable[..., dict[str, Any]],
        live: LiveServer, world: World, db: Database, office: Office) -> None:
    job = new_job("tech1", kind="meter_swap")
    lose = LoseAnswers("/api/v1/sync/push")
    tech = device("tech1", client=httpx.Client(base_url=live.url, timeout=10,
                                                event_hooks={"response": [lose]}))
    lose.left = 0  # the sign-in and first pull get through
    tech.sync()
    a = tech.actions
    a.accept(job["id"])
    a.start_travel(job["id"])
    a.arrive(job["id"], None)
    old_face, new_face = a.take_photo(_face(1)), a.take_photo(_face(2))
    a.record_swap(job["id"], SwapDraft(
        old_meter_no=world.meters["m1"].meter_no, old_final_kwh=Decimal("1012.50"),
        old_remaining_fen=2345, new_meter_no=world.meters["stock1"].meter_no,
        new_start_kwh=Decimal("0.50"), new_card_no="6200123456789", seal_numbers=("S-0001",),
        old_face_photo=old_face, new_face_photo=new_face))
    a.resolve(job["id"], "Meter replaced")

    lose.left = 1
    with pytest.raises(TransientError):
        tech.sync()
    assert tech.engine.status().waiting == 5  # unacknowledged: still queued
    tech.sync()
    (again,) = lose.answers
    assert [r["status"] for r in again["results"]] == ["duplicate"] * 5

    with Session(db.reader) as s:
        new = s.exec(select(Meter).where(Meter.meter_no == "NEW-STOCK1")).one()
        old = s.exec(select(Meter).where(Meter.id == world.meters["m1"].id)).one()
        # the ledger's 5000 is carried; the 2345 read off the meter is a discrepancy
        assert (new.status, new.balance_fen, new.purchase_count) == ("installed", 5000, 0)
        assert s.exec(select(BalanceDiscrepancy.difference_fen)).all() == [2345 - 5000]
        assert (old.status, old.balance_fen) == ("removed", 0)
        assert s.exec(select(func.count()).select_from(MeterSwap)).one() == 1
        assert s.exec(select(func.count()).select_from(AuditLog).where(
            AuditLog.action == "meter_swap.balance_carry_over")).one() == 1
        assert s.exec(select(func.count()).select_from(AppliedOp).where(
            AppliedOp.status == "applied")).one() == 5
    server = office.job(job["id"])
    assert server["status"] == "resolved"
    assert [e["action"] for e in server["timeline"]].count("record_swap") == 1
    detail = tech.read.job(job["id"])
    assert detail is not None and detail.job.sync.mark == Mark.SYNCED
    assert detail.swap is not None and detail.swap.get("carried_fen") == 5000
    assert tech.engine.status().photos_waiting == 0  # the two face photos went up too


def test_a_poison_op_is_refused_alone_and_other_lanes_go_through(
        device: Callable[..., Device], new_job: Callable[..., dict[str, Any]],
        office: Office) -> None:
    bad_job, good_job = new_job("crew1"), new_job("crew1")
    crew = device("crew1")
    crew.sync()
    # An op no current release would make (empty note), slipped past the phone's checks.
    poison = crew.store.enqueue(OpType.WO_ADD_NOTE, bad_job["id"], {"text": ""})
    behind = crew.actions.accept(bad_job["id"])
    fine = crew.actions.accept(good_job["id"])
    crew.sync()
    with crew.store.read() as conn:
        got = {e.op_id: e for e in outbox.select(conn)}
    assert got[poison.op_id].state == "rejected"
    assert got[poison.op_id].result_code == "SYNC_BAD_PAYLOAD"
    assert got[behind.op_id].state == "held"
    assert fine.op_id not in got  # applied and compacted
    assert office.job(good_job["id"])["status"] == "accepted"
    assert office.job(bad_job["id"])["status"] == "dispatched"
    # Discarding only the poison releases the accept behind it.
    crew.engine.discard(poison.op_id, with_dependents=False)
    crew.sync()
    assert office.job(bad_job["id"])["status"] == "accepted"


def test_an_expired_access_token_is_refreshed_and_the_new_pair_kept(
        device: Callable[..., Device], new_job: Callable[..., dict[str, Any]],
        live: LiveServer) -> None:
    new_job("crew1")
    crew = device("crew1")
    _, first_refresh = crew.store.tokens()
    with crew.store.write() as conn:
        crew.store.put(conn, Key.ACCESS_TOKEN, "expired.or.garbage")
    crew.sync()
    access, refresh = crew.store.tokens()
    assert access != "expired.or.garbage" and refresh != first_refresh
    assert len(crew.read.my_jobs()) == 1
    # Once the device has moved on to yet another pair, the old refresh token is spent:
    # presenting it is a replay, refused (a repeat right after a lost answer would not be).
    with crew.store.write() as conn:
        crew.store.put(conn, Key.ACCESS_TOKEN, "expired.or.garbage")
    crew.sync()
    assert crew.store.tokens()[1] not in (refresh, first_refresh)
    r = httpx.post(f"{live.url}/api/v1/auth/refresh", json={"refresh_token": first_refresh})
    assert r.status_code == 401 and r.json()["code"] == "AUTH_REFRESH_REUSED"
    # Reuse revoked that login everywhere: the device is asked to sign in, nothing is lost.
    crew.store.enqueue(OpType.WO_ADD_NOTE, crew.read.my_jobs()[0].id, {"text": "kept"})
    with crew.store.write() as conn:
        crew.store.put(conn, Key.ACCESS_TOKEN, "expired.again")
    with pytest.raises(AuthRequired):
        crew.sync()
    status = crew.engine.status()
    assert not status.signed_in and status.waiting == 1
    crew.engine.login("crew1", PASSWORD)
    crew.sync()
    assert crew.engine.status().waiting == 0


def test_signing_out_revokes_the_login_and_keeps_unsent_work(
        device: Callable[..., Device], new_job: Callable[..., dict[str, Any]],
        live: LiveServer) -> None:
    job = new_job("crew1")
    crew = device("crew1")
    crew.sync()
    _, refresh = crew.store.tokens()
    crew.actions.accept(job["id"])
    assert crew.engine.logout() is True
    assert crew.store.tokens() == (None, None)
    r = httpx.post(f"{live.url}/api/v1/auth/refresh", json={"refresh_token": refresh})
    assert r.status_code == 401
    assert crew.engine.status().waiting == 1
    crew.engine.login("crew1", PASSWORD)
    crew.sync()
    assert crew.engine.status().waiting == 0
