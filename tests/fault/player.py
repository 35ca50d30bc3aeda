"""A simulated user of a phone: random actions (seeded) on the jobs the phone shows, made
through the real ``sync.client.actions`` (same rules and local transaction as the app).

Crews and meter technicians work their jobs (accept, set off, arrive with or without a GPS
fix, notes, photos, help requests, meter swaps with face photos, resolve; rarely decline),
and now and then deal with a refused op the way a user would (discard it). Customers
report faults on their account, add notes, confirm resolved jobs with a rating and cancel
fresh reports. A few ops are "poison" (an empty note slipped past the phone's checks, as
from an older release): the server refuses them.
"""

from __future__ import annotations

import io
import random
from collections.abc import Callable
from dataclasses import dataclass, field
from decimal import Decimal

from PIL import Image

from shared.enums import OPEN_STATUSES, Role, WorkOrderKind, WorkOrderStatus
from shared.errors import DomainError
from shared.meter_rules import SwapDraft, centi_to_kwh
from sync.client import outbox, rows
from sync.client.actions import Actions
from sync.client.engine import SyncEngine
from sync.client.outbox import OutboxEntry
from sync.client.readmodel import JobView, Mark
from sync.client.store import Store
from sync.protocol import OpType

S = WorkOrderStatus
GPS = {"lat": 27.81, "lon": 112.91, "accuracy_m": 8.0}


def small_image(rng: random.Random, side: int = 24) -> bytes:
    """A small PNG that no other call makes (random pixels)."""
    img = Image.frombytes("RGB", (side, side), rng.randbytes(side * side * 3))
    buf = io.BytesIO()
    img.save(buf, format="PNG")
    return buf.getvalue()


@dataclass
class Player:
    store: Store
    actions: Actions
    engine: SyncEngine
    rng: random.Random
    photo_rate: float = 0.05
    poison_rate: float = 0.01
    discard_rate: float = 0.3
    made: Callable[[OutboxEntry], None] = lambda e: None
    counts: dict[str, int] = field(default_factory=dict)

    @property
    def role(self) -> Role:
        who = self.store.signed_in()
        assert who is not None
        return who.role

    def step(self) -> OutboxEntry | None:
        """One user action (None: nothing done, or the phone refused it)."""
        try:
            if self._tidy():
                return None
            entry = self._customer() if self.role == Role.CUSTOMER else self._field()
        except DomainError as exc:  # the phone's own check refused: nothing queued
            self._count(f"refused:{exc.code.value}")
            return None
        if entry is not None:
            self._count(entry.type)
            self.made(entry)
        return entry

    def _count(self, key: str) -> None:
        self.counts[key] = self.counts.get(key, 0) + 1

    # -- what users do about refused ops --------------------------------------------
    def _tidy(self) -> bool:
        if self.rng.random() > self.discard_rate:
            return False
        with self.store.read() as conn:
            rejected = outbox.select(conn, "state = 'rejected'")
        if not rejected:
            return False
        op = self.rng.choice(rejected)
        self.engine.discard(op.op_id, with_dependents=self.rng.random() < 0.5)
        self._count("discarded")
        return True

    # -- field staff ----------------------------------------------------------------
    def _jobs(self, statuses: frozenset[S] | set[S]) -> list[JobView]:
        return [v for v in self.actions.read.my_jobs(include_done=True)
                if v.status in statuses and v.sync.mark not in (Mark.HELD,)]

    def _field(self) -> OutboxEntry | None:
        jobs = self._jobs(set(OPEN_STATUSES) | {S.RESOLVED})
        if not jobs:
            return None
        view = self.rng.choice(jobs)
        a, oid, rng = self.actions, view.id, self.rng
        allowed = set(view.allowed_actions)
        swap_job = view.row["kind"] == WorkOrderKind.METER_SWAP.value
        if rng.random() < self.poison_rate:
            return self.store.enqueue(OpType.WO_ADD_NOTE.value, oid, {"text": ""})
        choices: list[tuple[float, Callable[[], OutboxEntry | None]]] = []
        if "accept" in allowed:
            choices += [(6, lambda: a.accept(oid)), (0.2, lambda: a.decline(oid, "too far"))]
        if "start_travel" in allowed:
            choices.append((5, lambda: a.start_travel(oid)))
        if "arrive" in allowed:
            choices.append((5, lambda: a.arrive(oid, GPS if rng.random() < 0.7 else None)))
        if "add_note" in allowed:
            choices.append((3, lambda: a.add_note(oid, f"note {rng.randint(0, 10**6)}")))
        if "add_photo" in allowed and rng.random() < self.photo_rate * 10:
            choices.append((1, lambda: a.add_photo(oid, small_image(rng), caption="pole")))
        if "request_help" in allowed:
            choices.append((0.3, lambda: a.request_help(oid, "need a ladder")))
        if "record_swap" in allowed and swap_job and not self._has_swap(oid):
            choices.append((8, lambda: self._swap(view)))
        if "resolve" in allowed and (not swap_job or self._has_swap(oid)):
            choices.append((1.5, lambda: a.resolve(oid, "fixed", cause="wear")))
        if not choices:
            return None
        weights = [w for w, _ in choices]
        return rng.choices([f for _, f in choices], weights)[0]()

    def _has_swap(self, order_id: str) -> bool:
        detail = self.actions.read.job(order_id)
        return detail is not None and detail.swap is not None

    def _swap(self, view: JobView) -> OutboxEntry | None:
        rng = self.rng
        with self.store.read() as conn:
            meter = rows.get(conn, "meter", view.row.get("meter_id") or "")
            stock = [m for _, m in rows.all_of(
                conn, "meter", "json_extract(data, '$.status') = 'in_stock'")]
            taken = {e.payload.get("new_meter_no") for e in outbox.select(
                conn, "type = ? AND state != 'discarded'", (OpType.METER_SWAP_RECORD.value,))}
        if meter is None or not stock:
            return None
        old = meter[1]
        free = [m for m in stock if m["meter_no"] not in taken] or stock
        new = rng.choice(sorted(free, key=lambda m: m["meter_no"]))
        last = centi_to_kwh(int(old.get("last_reading_centi") or 0))
        draft = SwapDraft(
            old_meter_no=old["meter_no"], old_final_kwh=last + Decimal(rng.randint(0, 900)) / 100,
            old_remaining_fen=rng.randint(0, 80_000), new_meter_no=new["meter_no"],
            new_start_kwh=Decimal(rng.randint(0, 500)) / 100,
            new_card_no=str(rng.randint(10**11, 10**12 - 1)),
            seal_numbers=(f"S-{rng.randint(1000, 9999)}",),
            old_face_photo=self.actions.take_photo(small_image(rng)),
            new_face_photo=self.actions.take_photo(small_image(rng)))
        return self.actions.record_swap(view.id, draft)

    # -- customers ------------------------------------------------------------------
    def _customer(self) -> OutboxEntry | None:
        who = self.store.signed_in()
        assert who is not None and who.account_ids
        a, rng = self.actions, self.rng
        views = self._jobs(set(OPEN_STATUSES) | {S.RESOLVED})
        reported = [v for v in views if v.status == S.REPORTED]
        resolved = [v for v in views if v.status == S.RESOLVED]
        choices: list[tuple[float, Callable[[], OutboxEntry | None]]] = []
        if len(reported) < 3:
            choices.append((2, lambda: self._report(who.account_ids[0])))
        if resolved:
            v = rng.choice(resolved)
            choices.append((4, lambda: a.confirm(v.id, rng.randint(1, 5), "thanks")))
        if reported:
            v2 = rng.choice(reported)
            choices.append((0.3, lambda: a.cancel(v2.id, "power is back")))
        if views:
            v3 = rng.choice(views)
            if rng.random() < self.poison_rate:
                return self.store.enqueue(OpType.WO_ADD_NOTE.value, v3.id, {"text": ""})
            choices.append((4, lambda: a.add_note(v3.id, f"customer note {rng.randint(0, 999)}")))
        if not choices:
            return None
        return rng.choices([f for _, f in choices], [w for w, _ in choices])[0]()

    def _report(self, account_id: str) -> OutboxEntry | None:
        self.actions.report(kind=WorkOrderKind.FAULT_REPAIR, description="no power",
                            account_id=account_id, location=GPS)
        with self.store.read() as conn:
            (last,) = outbox.select(conn, "device_seq = (SELECT max(device_seq) FROM outbox)")
        return last


def unsent(store: Store) -> int:
    with store.read() as conn:
        n = conn.exec_driver_sql("SELECT count(*) FROM outbox WHERE state IN "
                                 "('pending', 'sending')").scalar()
        return int(n or 0)


def photos_waiting(store: Store) -> int:
    with store.read() as conn:
        n = conn.exec_driver_sql("SELECT count(*) FROM photo WHERE state IN "
                                 "('queued', 'uploading')").scalar()
        return int(n or 0)
