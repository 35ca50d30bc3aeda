"""Serve a pull: a fresh download in pages, then incremental changes after a cursor.

The cursor is opaque to clients: signed JSON naming the mode and position.

* ``snap``: a fresh download. ``h`` is the change-log high-water mark read *before* the
  first page; ``e``/``k`` the entity and last id sent. Every change committed after ``h``
  is picked up by the incremental pulls that follow, so rows that change during the
  download are sent again, never missed. Rows hanging off work orders (timeline events,
  swaps, photo links) go job by job, in (work order id, id) order, ``w`` being the job of
  the last one sent: a page then reads only the jobs from ``w`` on, instead of sorting
  every such row in scope again for each page.
* ``inc``: changes with ``seq > s``. Sequence numbers are taken under a row lock at
  commit (``server.db.bump_counter``): a number is visible only once every smaller one
  is, so a slow transaction's change is never skipped.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
from dataclasses import dataclass
from typing import Any

from sqlalchemy import and_, or_, select
from sqlmodel import Session

from server.changes.models import ChangeLog, Counter
from shared.workorders.state_machine import Actor
from sync.protocol import ENTITIES, Change
from sync.server import serialize
from sync.server.scope import Scope, build_scope, fingerprint

_HANGER_ENTITIES = ("work_order_event", "meter_swap", "photo_link")


class CursorError(Exception):
    """The cursor is not usable (tampered, another user's, too old): start afresh."""


@dataclass
class Page:
    changes: list[dict[str, Any]]
    next_cursor: str
    has_more: bool
    reset: bool


def encode_cursor(data: dict[str, Any], *, secret: str) -> str:
    raw = base64.urlsafe_b64encode(json.dumps(data, separators=(",", ":")).encode()).decode()
    sig = hmac.new(secret.encode(), raw.encode(), hashlib.sha256).hexdigest()[:24]
    return f"{raw}.{sig}"


def decode_cursor(cursor: str, *, secret: str, actor: Actor) -> dict[str, Any]:
    raw, _, sig = cursor.partition(".")
    good = hmac.new(secret.encode(), raw.encode(), hashlib.sha256).hexdigest()[:24]
    # (bytes: compare_digest refuses str with non-ASCII characters, which a client may send)
    if not hmac.compare_digest(sig.encode(), good.encode()):
        raise CursorError("signature")
    try:
        data = json.loads(base64.urlsafe_b64decode(raw.encode()))
    except ValueError as exc:
        raise CursorError("format") from exc
    if data.get("f") != fingerprint(actor):
        raise CursorError("scope")
    return data  # type: ignore[no-any-return]


def high_water(session: Session) -> int:
    value = session.execute(select(Counter.value).where(Counter.name == "change_seq")).scalar()
    return int(value or 0)


def pull(session: Session, *, actor: Actor, cursor: str | None, limit: int, secret: str
         ) -> Page:
    reset = False
    state: dict[str, Any] | None = None
    if cursor:
        try:
            state = decode_cursor(cursor, secret=secret, actor=actor)
        except CursorError:
            reset = True
    if state is None:
        state = {"m": "snap", "h": high_water(session), "e": 0, "k": "", "w": ""}
    scope = build_scope(session, actor)
    if state["m"] == "snap":
        changes, state, more = _snapshot_page(session, scope, state, limit)
    else:
        changes, state, more = _incremental_page(session, scope, state, limit)
    state["f"] = fingerprint(actor)
    return Page(changes, encode_cursor(state, secret=secret), more, reset)


def _snapshot_page(session: Session, scope: Scope, state: dict[str, Any], limit: int
                   ) -> tuple[list[dict[str, Any]], dict[str, Any], bool]:
    out: list[dict[str, Any]] = []
    e, k, w = int(state["e"]), str(state["k"]), str(state.get("w", ""))
    if "w" not in state and e < len(ENTITIES) and ENTITIES[e] in _HANGER_ENTITIES:
        k = ""  # a cursor from before job-by-job order: this entity again (rows may repeat)
    while e < len(ENTITIES) and len(out) < limit:
        entity, want = ENTITIES[e], limit - len(out)
        pk = serialize.primary_key(entity)
        if entity in _HANGER_ENTITIES:
            job = serialize.table(entity).c.work_order_id
            stmt = (serialize.select_rows(entity)
                    .where(scope.hangers_from(entity, w), or_(job > w, and_(job == w, pk > k)))
                    .order_by(job, pk))
        else:
            stmt = serialize.select_rows(entity).where(scope.where(entity), pk > k).order_by(pk)
        rows = session.execute(stmt.limit(want)).all()
        out.extend(_change(entity, d) for d in serialize.to_dicts(session, entity, rows))
        if len(rows) < want:
            e, k, w = e + 1, "", ""  # this entity is done
        else:
            k = rows[-1].id
            w = rows[-1].work_order_id if entity in _HANGER_ENTITIES else ""
    if e >= len(ENTITIES):
        return out, {"m": "inc", "s": state["h"]}, True  # go on with what changed meanwhile
    return out, {"m": "snap", "h": state["h"], "e": e, "k": k, "w": w}, True


def _change(entity: str, row: dict[str, Any] | None, *, id_: str | None = None,
            version: int | None = None) -> dict[str, Any]:
    if row is None:
        return Change(entity=entity, id=str(id_), version=int(version or 0),
                      deleted=True).model_dump()
    return {"entity": entity, "id": row["id"], "version": int(row.get("version") or 1),
            "deleted": False, "row": row}


def _incremental_page(session: Session, scope: Scope, state: dict[str, Any], limit: int
                      ) -> tuple[list[dict[str, Any]], dict[str, Any], bool]:
    since = int(state["s"])
    entries = session.execute(
        select(ChangeLog.seq, ChangeLog.entity, ChangeLog.entity_id, ChangeLog.version,
               ChangeLog.deleted)
        .where(ChangeLog.seq > since, scope.changes_clause())  # type: ignore[arg-type]
        .order_by(ChangeLog.seq).limit(limit + 1)).all()
    more = len(entries) > limit
    entries = entries[:limit]
    last = entries[-1].seq if entries else since
    if entries:
        scope.load_sets(session)
    wanted: dict[str, set[str]] = {}
    moves: list[str] = []
    for entry in entries:
        if entry.entity == "scope":
            moves.append(entry.entity_id)
        else:
            wanted.setdefault(entry.entity, set()).add(entry.entity_id)
    for order_id in moves:  # a job entered or left this user's scope: (re)send all of it
        _expand_order(session, order_id, wanted)
    out: list[dict[str, Any]] = []
    for entity in ENTITIES:
        ids = wanted.get(entity)
        if not ids:
            continue
        rows = serialize.load(session, entity, ids)
        for id_ in sorted(ids):
            row = rows.get(id_)
            if row is not None and scope.contains(entity, row):
                out.append(_change(entity, row))
            else:
                out.append(_change(entity, None, id_=id_,
                                   version=row.get("version") if row else 0))
    return out, {"m": "inc", "s": last}, more


def _expand_order(session: Session, order_id: str, wanted: dict[str, set[str]]) -> None:
    from server.meters.models import Meter
    from server.work_orders.models import WorkOrder

    wanted.setdefault("work_order", set()).add(order_id)
    for entity in _HANGER_ENTITIES:
        model = serialize.MODELS[entity]
        ids = session.execute(select(model.id).where(model.work_order_id == order_id)).scalars()
        wanted.setdefault(entity, set()).update(ids)
    account_id = session.execute(select(WorkOrder.account_id).where(
        WorkOrder.id == order_id)).scalar()
    if account_id:
        wanted.setdefault("account", set()).add(account_id)
        meters = session.execute(select(Meter.id).where(Meter.account_id == account_id))
        wanted.setdefault("meter", set()).update(meters.scalars())
