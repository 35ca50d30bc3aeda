"""Serve a pull: a fresh download in pages, then incremental changes after a cursor.

The cursor is opaque to clients: JSON naming the mode and position, signed and bound to
the user's scope (``sync.cursor``).

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

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, and_, or_, select
from sqlmodel import Session, col

from server.changes.models import TIMELINE, ChangeLog, Counter, timeline_of
from server.db import Database, HotRead
from server.sync import serialize
from server.sync.scope import DeviceScope, build_scope, fingerprint
from server.work_orders.models import WorkOrderEvent
from shared.enums import OFFICE_ROLES, Role
from shared.workorders.state_machine import Actor
from sync import cursor as cursors
from sync.protocol import DEFAULT_PULL_LIMIT, ENTITIES, Change

_HANGER_ENTITIES = ("work_order_event", "meter_swap", "photo_link", "inspection_finding")


@dataclass
class Page:
    changes: list[dict[str, Any]]
    next_cursor: str
    has_more: bool
    reset: bool


#: Read on every pull (a no-change pull is little else): plain SQL, no statement to build.
_HIGH_WATER = HotRead(select(col(Counter.value)).where(col(Counter.name) == "change_seq"))


def high_water(session: Session | Connection) -> int:
    conn = session.connection() if isinstance(session, Session) else session
    row = _HIGH_WATER.one_or_none(conn)
    return int(row.value if row is not None else 0)


def nothing_new(conn: Connection, *, actor: Actor, cursor: str, secret: str) -> bool:
    """Whether ``cursor`` is an incremental cursor of this user's scope at the high-water
    mark: then the answer is an empty page with the same cursor (``pull`` says so too;
    this is the no-change pull's short way, one primary-key read on a plain connection)."""
    try:
        state = cursors.decode(cursor, secret=secret, fingerprint=fingerprint(actor))
    except cursors.CursorError:
        return False
    return state["m"] == "inc" and int(state["s"]) >= high_water(conn)


def pull(session: Session, *, actor: Actor, cursor: str | None, limit: int, secret: str
         ) -> Page:
    reset = False
    state: dict[str, Any] | None = None
    scope_key = fingerprint(actor)
    if cursor:
        try:
            state = cursors.decode(cursor, secret=secret, fingerprint=scope_key)
        except cursors.CursorError:
            reset = True
    if state is None:
        state = {"m": "snap", "h": high_water(session), "e": 0, "k": "", "w": ""}
    scope = build_scope(session, actor)
    if state["m"] == "snap":
        changes, state, more = _snapshot_page(session, scope, state, limit)
    else:
        top = high_water(session)
        if int(state["s"]) >= top and cursor:  # nothing committed since: the same cursor
            return Page([], cursor, False, reset)
        changes, state, more = _incremental_page(session, scope, state, limit, top)
    return Page(changes, cursors.encode(state, secret=secret, fingerprint=scope_key), more,
                reset)


def _snapshot_page(session: Session, scope: DeviceScope, state: dict[str, Any], limit: int
                   ) -> tuple[list[dict[str, Any]], dict[str, Any], bool]:
    out: list[dict[str, Any]] = []
    e, k, w = int(state["e"]), str(state["k"]), str(state.get("w", ""))
    if "w" not in state and e < len(ENTITIES) and ENTITIES[e] in _HANGER_ENTITIES:
        k = ""  # a cursor from before job-by-job order: this entity again (rows may repeat)
    raw = serialize.raw_rows(session)
    while e < len(ENTITIES):
        entity, want = ENTITIES[e], limit - len(out)
        pk = serialize.primary_key(entity)
        if entity in _HANGER_ENTITIES:
            job = serialize.table(entity).c.work_order_id
            stmt = (serialize.select_rows(entity, raw=raw)
                    .where(scope.hangers_from(entity, w), or_(job > w, and_(job == w, pk > k)))
                    .order_by(job, pk))
        else:
            stmt = (serialize.select_rows(entity, raw=raw).where(scope.where(entity), pk > k)
                    .order_by(pk))
        # One row more than fits: is there more? (A full page still looks at the entities
        # after it, so the last page of a download says ``has_more: false`` -- item 12.)
        rows = session.connection().execute(stmt.limit(want + 1)).all()  # Core: no ORM rows
        fits = len(rows) <= want
        rows = rows[:want]
        out.extend(_change(entity, d)
                   for d in serialize.to_dicts(session, entity, rows, raw=raw))
        if fits:
            e, k, w = e + 1, "", ""  # this entity is done
            continue
        if rows:
            k = rows[-1].id
            w = rows[-1].work_order_id if entity in _HANGER_ENTITIES else ""
        break
    if e < len(ENTITIES):
        return out, {"m": "snap", "h": state["h"], "e": e, "k": k, "w": w}, True
    # The download is complete: go on with what changed meanwhile, in this page if it has
    # room, so a scope that fits in one page says ``has_more: false`` at once (item 12).
    changes, after, more = _incremental_page(session, scope, {"m": "inc", "s": state["h"]},
                                             limit - len(out), high_water(session))
    return out + changes, after, more


def _change(entity: str, row: dict[str, Any] | None, *, id_: str | None = None,
            version: int | None = None) -> dict[str, Any]:
    if row is None:
        return Change(entity=entity, id=str(id_), version=int(version or 0),
                      deleted=True).model_dump()
    return {"entity": entity, "id": row["id"], "version": int(row.get("version") or 1),
            "deleted": False, "row": row}


def _incremental_page(session: Session, scope: DeviceScope, state: dict[str, Any], limit: int,
                      top: int) -> tuple[list[dict[str, Any]], dict[str, Any], bool]:
    """Changes in scope after the cursor, up to ``top`` (the high-water mark read before:
    every change up to it is committed). Without more, the next cursor is ``top`` itself,
    so changes outside the scope are not looked at again."""
    since = int(state["s"])
    if limit <= 0:  # no room left in the page: only whether anything waits
        waiting = session.execute(select(col(ChangeLog.seq)).where(
            col(ChangeLog.seq) > since, col(ChangeLog.seq) <= top,
            scope.changes_clause()).limit(1)).first()
        return [], {"m": "inc", "s": since}, waiting is not None
    entries = session.execute(
        select(ChangeLog.seq, ChangeLog.entity, ChangeLog.entity_id, ChangeLog.version,
               ChangeLog.deleted)
        .where(ChangeLog.seq > since, ChangeLog.seq <= top,  # type: ignore[arg-type]
               scope.changes_clause())
        .order_by(ChangeLog.seq).limit(limit + 1)).all()
    kept = _within(entries, limit)
    more = len(kept) < len(entries)
    entries = kept
    last = entries[-1].seq if more else max(top, since)
    if entries:
        scope.load_sets(session)
    wanted: dict[str, set[str]] = {}
    moves: list[str] = []
    timelines: list[tuple[str, datetime]] = []
    for entry in entries:
        if entry.entity == "scope":
            moves.append(entry.entity_id)
        elif entry.entity == TIMELINE:
            timelines.append(timeline_of(entry.entity_id))
        else:
            wanted.setdefault(entry.entity, set()).add(entry.entity_id)
    if timelines:
        wanted.setdefault("work_order_event", set()).update(_timeline_events(session, timelines))
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


def _within(entries: list[Any], limit: int) -> list[Any]:
    """The first ``entries`` whose rows fit in a page of ``limit``: a timeline entry
    stands for as many rows as it counts (its ``version``), any other for one. The first
    entry is always kept (a timeline longer than a page goes whole: at most a push's
    ops), so a pull always moves on."""
    rows = 0
    for i, entry in enumerate(entries):
        rows += entry.version if entry.entity == TIMELINE else 1
        if rows > limit and i > 0:
            return entries[:i]
    return entries  # all fit (the read asks for limit + 1: then the last does not)


def _timeline_events(session: Session, timelines: list[tuple[str, datetime]]) -> set[str]:
    """The ids of the events the timeline entries stand for: each job's events recorded
    at the entry's time. One statement per time (a page's entries come from a few
    pushes' chunks), its jobs found by the events' index and the time matched in SQL, so
    only the ids wanted come back."""
    event = WorkOrderEvent.__table__.c  # type: ignore[attr-defined]
    jobs_at: dict[datetime, set[str]] = {}
    for order_id, at in timelines:
        jobs_at.setdefault(at, set()).add(order_id)
    ids: set[str] = set()
    for at, jobs in jobs_at.items():
        ids.update(session.execute(select(event.id).where(
            event.recorded_at == at, event.work_order_id.in_(sorted(jobs)))).scalars())
    return ids


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


#: The ids a start-up warm-up pulls with: no user, station or account has them.
_NOBODY = "00000000-0000-0000-0000-000000000000"


def warm_up(db: Database) -> int:
    """A fresh download for every shape a user's scope can take (each role; the office
    roles with a station and county-wide), on an empty scope, at start-up: the reader
    engine compiles and caches the download's statements then, not while the first phone
    waits (that first download paid ~25-35 ms for them, a quarter of a 10,606-row
    download's server time). Returns how many downloads it ran."""
    ran = 0
    for role in Role:
        for station in ((None, _NOBODY) if role in OFFICE_ROLES else (_NOBODY,)):
            accounts = frozenset({_NOBODY}) if role == Role.CUSTOMER else frozenset()
            actor = Actor(_NOBODY, role, station, accounts)
            cursor = None
            with Session(db.reader) as session:
                while True:  # an empty scope: one page
                    page = pull(session, actor=actor, cursor=cursor,
                                limit=DEFAULT_PULL_LIMIT, secret="warm-up")
                    cursor = page.next_cursor
                    if not page.has_more:
                        break
            ran += 1
    return ran
