"""A meter swap whose answer is lost on the way (and whose request is duplicated) reaches
the server more than once and carries the balance over exactly once; and while the phone
waits for the pull that brings the swap back, it still knows the swap is recorded."""

from __future__ import annotations

import contextlib
import io
import random
from decimal import Decimal
from typing import Any

import pytest
from PIL import Image
from sqlalchemy import text

from shared.errors import DomainError
from shared.meter_rules import SwapDraft
from sync.client.errors import TransientError
from sync.client.outbox import OutboxEntry
from tests.contract.conftest import Device
from tests.fault.checks import assert_clean, assert_same_rows, audit_device, audit_domain, settle
from tests.fault.conftest import FaultEnv
from tests.fault.proxy import Fault, Request

GPS = {"lat": 27.81, "lon": 112.91, "accuracy_m": 8.0}


def _face(seed: int) -> bytes:
    rnd = random.Random(seed)
    img = Image.frombytes("RGB", (40, 30), rnd.randbytes(40 * 30 * 3))
    buf = io.BytesIO()
    img.save(buf, format="PNG")
    return buf.getvalue()


def _draft(env: FaultEnv, dev: Device, stock: str, remaining: int) -> SwapDraft:
    w = env.world
    return SwapDraft(
        old_meter_no=w.meters["sw0"].meter_no, old_final_kwh=Decimal("2003.40"),
        old_remaining_fen=remaining, new_meter_no=w.meters[stock].meter_no,
        new_start_kwh=Decimal("0.30"), new_card_no="6200123456789",
        seal_numbers=("S-0001", "S-0002"), old_face_photo=dev.actions.take_photo(_face(1)),
        new_face_photo=dev.actions.take_photo(_face(2)))


def _on_site(env: FaultEnv) -> tuple[Device, dict[str, Any]]:
    job = env.office.new_job(env.world.accounts["sw0"].id, env.user_id("tech1"),
                             kind="meter_swap")
    tech = env.phone("tech1")
    tech.sync()
    tech.actions.accept(job["id"])
    tech.actions.start_travel(job["id"])
    tech.actions.arrive(job["id"], GPS)
    return tech, job


def _carried(env: FaultEnv, job_id: str) -> dict[str, Any]:
    with env.db.reader.connect() as conn:
        q = lambda sql, **p: list(conn.execute(text(sql), p).all())  # noqa: E731
        swaps = q("SELECT id, new_meter_id, carried_fen FROM meter_swap WHERE "
                  "work_order_id = :j", j=job_id)
        (swap,) = swaps
        (new,) = q("SELECT status, balance_fen, purchase_count FROM meter WHERE id = :i",
                   i=swap.new_meter_id)
        (old,) = q("SELECT status, balance_fen FROM meter WHERE meter_no = 'MTR-SW0-0001'")
        audits = q("SELECT id FROM audit_log WHERE action = 'meter_swap.balance_carry_over'")
        ledger = q("SELECT amount_fen FROM ledger_entry WHERE source_id = :i", i=swap.id)
        records = q("SELECT status FROM applied_op WHERE type = 'meter_swap.record@1'")
        gaps = q("SELECT difference_fen FROM balance_discrepancy WHERE swap_id = :i",
                 i=swap.id)
    return {"swaps": len(swaps), "carried": swap.carried_fen, "new": tuple(new),
            "old": tuple(old), "audits": len(audits),
            "ledger": sorted(r.amount_fen for r in ledger),
            "records": [r.status for r in records],
            "discrepancies": [r.difference_fen for r in gaps]}


def test_a_swap_pushed_again_after_lost_answers_carries_the_balance_once(
        env: FaultEnv) -> None:
    tech, job = _on_site(env)
    swap = tech.actions.record_swap(job["id"], _draft(env, tech, "stock_x0", 34_567))
    tech.actions.resolve(job["id"], "meter replaced")
    # Every push carrying the swap: first the answer is lost after the server committed,
    # then the server's answer is replaced by a 500, then it reaches the server twice at
    # once; only then does an answer get through.
    plan = iter([Fault.DROP_RESPONSE, Fault.ERROR_AFTER, Fault.RESET_RESPONSE,
                 Fault.DUPLICATE])

    def rule(req: Request) -> Fault | None:
        if req.path == "/api/v1/sync/push" and swap.op_id.encode() in req.decoded():
            return next(plan, Fault.PASS)
        return Fault.PASS

    env.proxy.rule = rule
    env.proxy.error_status = 500
    for _ in range(8):
        with contextlib.suppress(TransientError):
            tech.sync()
    env.proxy.clean()
    settle([tech])
    assert next(plan, None) is None, "every planned fault was used"
    assert env.proxy.push_statuses()["duplicate"] >= 1
    got = _carried(env, job["id"])
    # the ledger's 10,000 is carried once; the 34,567 read off the meter is one discrepancy
    assert got == {"swaps": 1, "carried": 10_000, "new": ("installed", 10_000, 0),
                   "old": ("removed", 0), "audits": 1, "ledger": [0],
                   "records": ["applied"], "discrepancies": [34_567 - 10_000]}
    assert env.office.job(job["id"])["status"] == "resolved"
    detail = tech.read.job(job["id"])
    assert detail is not None and detail.swap is not None
    assert detail.swap["carried_fen"] == 10_000
    assert tech.engine.status().photos_waiting == 0
    assert_clean(audit_device(env.db, tech.store))
    audit_domain(env.db, {env.user_id("tech1")})
    assert_same_rows(tech, env.server.url, "tech1", env.root / "fresh")


def test_a_swap_acknowledged_but_not_yet_pulled_is_still_known_on_the_phone(
        env: FaultEnv) -> None:
    """The push answer arrives, the pull that would bring the swap back is cut: the
    phone must not let the technician record a second swap for the job."""
    tech, job = _on_site(env)
    first: OutboxEntry = tech.actions.record_swap(
        job["id"], _draft(env, tech, "stock_x1", 1_000))
    env.proxy.rule = lambda req: (Fault.DROP_RESPONSE if req.path == "/api/v1/sync/pull"
                                  else Fault.PASS)
    with pytest.raises(TransientError):
        tech.sync()
    with tech.store.read() as conn:
        state = conn.exec_driver_sql("SELECT state FROM outbox WHERE op_id = ?",
                                     (first.op_id,)).scalar()
    assert state == "applied"  # acknowledged, not yet reflected by a pull
    detail = tech.read.job(job["id"])
    assert detail is not None and detail.swap is not None
    with pytest.raises(DomainError) as refused:
        tech.actions.record_swap(job["id"], _draft(env, tech, "stock_x2", 1_000))
    assert refused.value.code.value == "SWAP_ALREADY_RECORDED"
    env.proxy.clean()
    settle([tech])
    assert _carried(env, job["id"])["swaps"] == 1
    assert_clean(audit_device(env.db, tech.store))
