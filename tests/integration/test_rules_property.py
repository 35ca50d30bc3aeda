"""One rule, two callers: random sequences of work-order actions (valid and invalid, by the
assignee, another field worker, the owning customer and the office) go through the
phone's overlay (``sync.client.overlay``, on the pulled row) and through the server's
services (``server.work_orders.service.act`` / the meter swap, on a real SQLite
database). After every step both must have refused with the same code or both applied,
and the rows must agree field by field.

``GRIDONE_RULES_EXAMPLES`` sets the number of sequences (default 25).
"""

from __future__ import annotations

import os
import shutil
import tempfile
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlmodel import Session

from server.db import Database, make_database
from server.meters import service as meters
from server.meters.models import Meter
from server.meters.schemas import SwapIn
from server.sync import serialize
from server.uow import UnitOfWork
from server.users.models import User
from server.work_orders import service
from shared.enums import MeterStatus, Role
from shared.errors import DomainError
from shared.ids import new_id
from shared.workorders.state_machine import Action, Actor
from sync.client import overlay
from sync.client.outbox import OpState, OutboxEntry
from sync.protocol import OP_TYPE_OF
from tests.conftest import actor_for
from tests.factories import World, build_world

EXAMPLES = int(os.environ.get("GRIDONE_RULES_EXAMPLES", "25"))
T0 = datetime(2026, 11, 27, 1, 0, tzinfo=UTC)
A = Action
#: Row fields the rules change, compared after every step.
FIELDS = ("status", "dispatched_at", "accepted_at", "arrived_at", "resolved_at",
          "confirmed_at", "closed_at", "cancelled_at", "last_activity_at", "assignee_id",
          "priority", "help_requested", "resolution", "cause", "rating", "rating_comment",
          "cancel_reason", "reopen_count")
TIMES = {f for f in FIELDS if f.endswith("_at")}
#: Who acts: 0/1 the two field workers of the job's kind, 2 the owner, 3 the office.
FIELD_STAFF = {"fault_repair": ("crew1", "crew1b"), "meter_swap": ("tech1", "tech1b")}
OWNER, OFFICE = "customer1", "dispatcher1"

_reason = st.sampled_from(["storm damage", "", "   ", "x" * 501, " needs a ladder "])
_text = st.sampled_from(["fuse replaced", "", "x" * 2001])
_gps = st.sampled_from([None, {"lat": 27.8, "lon": 112.9, "accuracy_m": 12},
                        {"lat": 27.8, "lon": 112.9, "accuracy_m": 400.5},
                        {"lat": 91, "lon": 0, "accuracy_m": 5},
                        {"lat": 27.8, "lon": 112.9, "accuracy_m": 5001}])


def _data(draw: Any, action: Action) -> dict[str, Any]:
    """The action's fields: mostly valid, sometimes not."""
    if action == A.DISPATCH:
        return {"assignee_id": draw(st.integers(0, 1)),
                "priority": draw(st.sampled_from([None, "urgent", "low"]))}
    if action == A.REASSIGN:
        return {"assignee_id": draw(st.integers(0, 1)), "reason": draw(_reason)}
    if action in (A.DECLINE, A.REQUEST_HELP, A.CANCEL, A.REOPEN):
        return {"reason": draw(_reason)}
    if action == A.ARRIVE:
        return {"gps": draw(_gps)}
    if action == A.ADD_NOTE:
        return {"text": draw(_text)}
    if action == A.ADD_PHOTO:
        return {"sha256": draw(st.sampled_from(["a" * 64, "b" * 64, "not-a-hash"])),
                "caption": draw(st.sampled_from([None, "pole", "x" * 201]))}
    if action == A.RESOLVE:
        return {"resolution": draw(_text),
                "cause": draw(st.sampled_from([None, "", "tree", "x" * 201]))}
    if action == A.CONFIRM:
        return {"rating": draw(st.sampled_from([None, 0, 1, 3, 5, 6])),
                "comment": draw(st.sampled_from([None, "quick", "x" * 501]))}
    return {}  # accept, start_travel, close; a swap's fields are made by the run


#: The next step a job usually takes from each status (who does it: "assignee",
#: "owner" or "office"), so that sequences reach every status, not only the first ones.
PROGRESS: dict[str, list[tuple[str, Action]]] = {
    "reported": [("office", A.DISPATCH), ("owner", A.CANCEL)],
    "dispatched": [("assignee", A.ACCEPT), ("assignee", A.DECLINE), ("office", A.REASSIGN)],
    "accepted": [("assignee", A.START_TRAVEL), ("assignee", A.ARRIVE),
                 ("assignee", A.REQUEST_HELP)],
    "en_route": [("assignee", A.ARRIVE), ("assignee", A.ADD_NOTE)],
    "on_site": [("assignee", A.RECORD_SWAP), ("assignee", A.RESOLVE),
                ("assignee", A.ADD_PHOTO), ("office", A.REASSIGN)],
    "resolved": [("owner", A.CONFIRM), ("owner", A.REOPEN), ("office", A.CLOSE)],
    "confirmed": [("office", A.CLOSE)],
}
VALID: dict[Action, dict[str, Any]] = {
    A.DISPATCH: {"assignee_id": 0, "priority": None}, A.CANCEL: {"reason": "no longer needed"},
    A.REASSIGN: {"assignee_id": 1, "reason": "closer crew"}, A.DECLINE: {"reason": "ill"},
    A.ARRIVE: {"gps": {"lat": 27.8, "lon": 112.9, "accuracy_m": 30}},
    A.REQUEST_HELP: {"reason": "need a ladder"}, A.ADD_NOTE: {"text": "on the way"},
    A.RESOLVE: {"resolution": "fuse replaced", "cause": "storm"},
    A.ADD_PHOTO: {"sha256": "e" * 64, "caption": None},
    A.CONFIRM: {"rating": 4, "comment": None}, A.REOPEN: {"reason": "dark again"},
}


def next_step(draw: Any, status: str, people: list[str], assignee: str | None
              ) -> tuple[int, Action, dict[str, Any]]:
    """A step: often the job's next usual step (mostly with valid fields), else any
    action by anyone with any fields."""
    options = PROGRESS.get(status)
    if options and draw(st.integers(0, 9)) < 7:
        role, action = draw(st.sampled_from(options))
        who = {"owner": 2, "office": 3}.get(role)
        if who is None:
            who = people.index(assignee) if assignee in people else draw(st.integers(0, 1))
        valid = draw(st.integers(0, 4)) > 0
        return who, action, dict(VALID.get(action, {})) if valid else _data(draw, action)
    action = draw(st.sampled_from([a for a in Action if a != A.REPORT]))
    return draw(st.integers(0, 3)), action, _data(draw, action)


class Run:
    """A fresh database with the test world, one job, and the phone's copy of its row."""

    def __init__(self, template: Path, kind: str) -> None:
        self.dir = Path(tempfile.mkdtemp())
        shutil.copy(template, self.dir / "g.db")
        self.db: Database = make_database(f"sqlite:///{self.dir / 'g.db'}")
        self.world: World = build_world(self.db)
        with Session(self.db.writer) as s:  # a second technician at station 1
            tech1 = self.world.user("tech1")
            s.add(User(username="tech1b", password_hash=tech1.password_hash,
                       role=Role.METER_TECH, display_name="Tech1B",
                       station_id=tech1.station_id))
            s.commit()
        self.kind = kind
        staff = [self.user_id(n) for n in FIELD_STAFF[kind]]
        self.people = [*staff, self.user_id(OWNER), self.user_id(OFFICE)]
        self.actors = [actor_for(self.db, uid) for uid in self.people]
        office = self.actors[3]
        with UnitOfWork(self.db, office) as uow:
            order, _ = service.report(uow, actor=office, at=T0, data={
                "kind": kind, "description": "property job",
                "account_id": self.world.accounts["acc1"].id})
            uow.commit()
            self.order_id = order.id
        self.phone: dict[str, Any] = self.server_row()  # as pulled
        self.phone_has_swap = False
        self.swaps = 0

    def user_id(self, name: str) -> str:
        if name in self.world.users:
            return self.world.user(name).id
        with Session(self.db.reader) as s:
            from sqlmodel import select

            return s.exec(select(User.id).where(User.username == name)).one()

    def close(self) -> None:
        self.db.dispose()
        shutil.rmtree(self.dir, ignore_errors=True)

    def server_row(self) -> dict[str, Any]:
        with Session(self.db.reader) as s:
            return serialize.load(s, "work_order", [self.order_id])[self.order_id]

    def swap_data(self) -> dict[str, Any]:
        """A valid swap onto a fresh meter in stock (refused by the rules or not)."""
        self.swaps += 1
        with Session(self.db.writer, expire_on_commit=False) as s:
            order = service.get_visible(s, actor=self.actors[3], order_id=self.order_id)
            old = s.get(Meter, order.meter_id)
            assert old is not None
            new = Meter(meter_no=f"NEW-P{self.swaps:04d}", model="DDZY-2",
                        status=MeterStatus.IN_STOCK, station_id=old.station_id)
            s.add(new)
            s.commit()
        return {"id": new_id(), "old_meter_no": old.meter_no,
                "old_final_kwh": f"{(old.last_reading_centi or 0) / 100 + 12:.2f}",
                "old_remaining_fen": 2345, "new_meter_no": new.meter_no,
                "new_start_kwh": "0.50", "new_card_no": "1234567890",
                "seal_numbers": ["SEAL-001"], "old_face_photo": "c" * 64,
                "new_face_photo": "d" * 64}

    # -- the two callers --------------------------------------------------------------
    def on_server(self, actor: Actor, action: Action, data: dict[str, Any], at: datetime
                  ) -> str | None:
        try:
            with UnitOfWork(self.db, actor) as uow:
                if action == A.RECORD_SWAP:
                    body = SwapIn.model_validate(data).model_dump(mode="python")
                    meters.record_swap(uow, actor=actor, order_id=self.order_id, data=body,
                                       at=at)
                else:
                    service.act(uow, actor=actor, order_id=self.order_id, action=action,
                                data=data, at=at)
                uow.commit()
        except DomainError as exc:
            return exc.code.value
        return None

    def on_phone(self, actor: Actor, action: Action, data: dict[str, Any], at: datetime
                 ) -> str | None:
        """An op a device queues is laid over the row; an office action (no op type: a
        phone learns it by a pull) is decided on the row the same way."""
        op_type = OP_TYPE_OF.get(action)
        if op_type is None:
            row = dict(self.phone)
            try:
                overlay.step(row, action, data, actor, at, has_swap=self.phone_has_swap)
            except DomainError as exc:
                return exc.code.value
            self.phone = row
            return None
        op = OutboxEntry(device_seq=1, op_id=new_id(), user_id=actor.user_id,
                         lane=f"work_order:{self.order_id}", type=op_type.value,
                         entity_id=self.order_id, base_version=None, payload=data, photos=[],
                         created_at=at, state=OpState.PENDING)
        shown, (effect,) = overlay.lay_over(self.phone, [op], actor,
                                            has_swap=self.phone_has_swap)
        if not effect.laid:
            assert effect.problem is not None
            return effect.problem.code.value
        assert shown is not None
        self.phone = shown
        self.phone_has_swap = self.phone_has_swap or action == A.RECORD_SWAP
        return None


def _same(field: str, phone: Any, server: Any) -> bool:
    if field in TIMES and phone is not None and server is not None:
        return bool(datetime.fromisoformat(phone) == datetime.fromisoformat(server))
    return bool(phone == server)


@settings(max_examples=EXAMPLES, deadline=None, database=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(kind=st.sampled_from(sorted(FIELD_STAFF)), length=st.integers(1, 30), draw=st.data())
def test_the_phone_and_the_server_decide_alike(template_db: Path, kind: str, length: int,
                                               draw: st.DataObject) -> None:
    run = Run(template_db, kind)
    try:
        for n in range(length):
            server = run.server_row()
            who, action, data = next_step(draw.draw, server["status"], run.people,
                                          server.get("assignee_id"))
            actor = run.actors[who]
            if "assignee_id" in data:
                data["assignee_id"] = run.people[data["assignee_id"]]
            if action == A.RECORD_SWAP:
                data = run.swap_data()
            # device times, not always in order
            at = T0 + timedelta(minutes=draw.draw(st.integers(-30, 600)))
            on_phone = run.on_phone(actor, action, data, at)
            on_server = run.on_server(actor, action, data, at)
            where = f"step {n}: {actor.role.value} {action.value} {data}"
            assert on_phone == on_server, where
            server = run.server_row()
            diff = {f: (run.phone.get(f), server.get(f)) for f in FIELDS
                    if not _same(f, run.phone.get(f), server.get(f))}
            assert not diff, f"{where}: {diff}"
    finally:
        run.close()
