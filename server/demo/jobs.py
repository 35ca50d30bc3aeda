"""Work orders of the demo data set: planned in memory, then played through the services.

Planning draws everything (kinds, accounts, people, times, texts) from the world's seeded
random generator, so it is deterministic. Playing calls ``server.work_orders.service``
(``report`` and ``act``) and ``server.meters.service.record_swap`` with the planned device
times, so every timeline, deadline, audit entry and change-log entry is the real thing.
"""

from __future__ import annotations

import hashlib
import itertools
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from server.db import Database
from server.demo import data
from server.demo.world import Acct, Area, Stn, SwapPlan, World
from server.meters import service as meters
from server.meters.models import Meter
from server.uow import UnitOfWork
from server.work_orders import service as work_orders
from shared.enums import (
    AreaClass,
    Priority,
    ReportChannel,
    Role,
    WorkOrderKind,
    WorkOrderStatus,
)
from shared.ids import new_id
from shared.meter_rules import centi_to_kwh
from shared.timeutil import LOCAL_TZ
from shared.workorders.state_machine import ASSIGNEE_ROLES, CUSTOMER_REPORTABLE, Action, Actor

K = WorkOrderKind
S = WorkOrderStatus

#: Jobs per final status at the default size (3000 accounts); scaled with the size.
PER_STATUS: dict[WorkOrderStatus, int] = {
    S.REPORTED: 24, S.DISPATCHED: 30, S.ACCEPTED: 20, S.EN_ROUTE: 18, S.ON_SITE: 20,
    S.RESOLVED: 26, S.CONFIRMED: 30, S.CLOSED: 90, S.CANCELLED: 20,
}
KIND_WEIGHTS: dict[WorkOrderKind, float] = {
    K.FAULT_REPAIR: 0.58, K.METER_SWAP: 0.12, K.NEW_CONNECTION: 0.07, K.CAPACITY_CHANGE: 0.05,
    K.ACCOUNT_CHANGE: 0.06, K.USAGE_INSPECTION: 0.06, K.CARE_VISIT: 0.06,
}
#: Minutes from accepting a fault job to arriving, by area class (commitments: 45/90/120).
_TRAVEL = {AreaClass.TOWN: (8, 32), AreaClass.RURAL: (15, 65), AreaClass.REMOTE: (25, 95)}
_OPEN_WORKING = (S.ACCEPTED, S.EN_ROUTE, S.ON_SITE)


@dataclass
class Step:
    offset: float  # minutes after the report
    user: str  # username of who acts
    action: Action  # Action.REPORT: raise the job
    data: dict[str, Any] = field(default_factory=dict)
    at: datetime | None = None


@dataclass
class Job:
    no: int
    kind: WorkOrderKind
    status: WorkOrderStatus
    stn: Stn
    area: Area
    acct: Acct | None
    reported_at: datetime
    steps: list[Step] = field(default_factory=list)
    swap: SwapPlan | None = None


class Planner:
    def __init__(self, world: World) -> None:
        self.w = world
        self.rng = world.rng
        self.jobs: list[Job] = []
        self.used: set[int] = set()
        self.photos = 0
        self.cards = 0
        self.stock_next: dict[str, int] = {s.spec.key: 0 for s in world.stations}
        self.horizon_min = max(3, min(world.days, 60)) * 1440.0
        accts = world.accounts
        self.owned = [a for a in accts if a.owner and not a.demo]
        self.unowned = [a for a in accts if not a.owner]
        self.care = [a for a in accts if a.row["care_flag"] and not a.demo]

    # -- helpers --------------------------------------------------------------------------
    def uid(self, username: str) -> str:
        return str(self.w.users[username]["id"])

    def take(self, pool: list[Acct], stn: Stn | None = None) -> Acct | None:
        """An account of ``pool`` (of ``stn``) that no other job uses yet."""
        free = [a for a in pool if a.idx not in self.used and (stn is None or a.area.stn is stn)]
        if not free:
            return None
        acct = self.rng.choice(free)
        self.used.add(acct.idx)
        return acct

    def sha(self) -> str:
        self.photos += 1
        return hashlib.sha256(f"gridone-demo-photo-{self.w.seed}-{self.photos}".encode()
                              ).hexdigest()

    def office(self, stn: Stn) -> str:
        return "dispatcher" if self.rng.random() < 0.15 else f"dispatcher.{stn.spec.key}"

    def assignees(self, kind: WorkOrderKind, stn: Stn) -> list[str]:
        return [u for role in sorted(ASSIGNEE_ROLES[kind]) for u in self.w.staff(stn, role)]

    def gps(self, lat: float, lon: float) -> dict[str, Any]:
        rng = self.rng
        if rng.random() < 0.06:
            return {}  # entered by hand
        acc = rng.uniform(120, 400) if rng.random() < 0.1 else rng.uniform(4, 40)
        return {"gps": {"lat": round(lat + rng.uniform(-3e-4, 3e-4), 6),
                        "lon": round(lon + rng.uniform(-3e-4, 3e-4), 6),
                        "accuracy_m": round(acc, 1)}}

    def age(self, kind: WorkOrderKind, status: WorkOrderStatus) -> float:
        """Minutes between the report and now, by final status."""
        rng, h = self.rng, self.horizon_min
        day = 1440.0

        def span(lo: float, hi: float) -> float:
            hi = min(hi, h)
            return rng.uniform(min(lo, hi / 2), hi)

        if kind == K.FAULT_REPAIR:
            if status in (S.REPORTED, S.DISPATCHED, *_OPEN_WORKING):
                return span(5, 55) if rng.random() < 0.5 else span(60, 600)
            return {S.RESOLVED: lambda: span(180, 4 * day), S.CONFIRMED: lambda: span(day, h),
                    S.CLOSED: lambda: span(2 * day, h),
                    S.CANCELLED: lambda: span(60, h)}[status]()
        return {S.REPORTED: lambda: span(60, 3 * day), S.DISPATCHED: lambda: span(120, 4 * day),
                S.ACCEPTED: lambda: span(day, 6 * day), S.EN_ROUTE: lambda: span(day, 6 * day),
                S.ON_SITE: lambda: span(day, 6 * day), S.RESOLVED: lambda: span(day, 6 * day),
                S.CONFIRMED: lambda: span(3 * day, h), S.CLOSED: lambda: span(5 * day, h),
                S.CANCELLED: lambda: span(day, h)}[status]()

    # -- one job --------------------------------------------------------------------------
    def job(self, kind: WorkOrderKind, status: WorkOrderStatus, *, acct: Acct | None,
            area: Area | None = None, reporter: str, channel: ReportChannel,
            description: str, age_min: float, assignee: str | None = None,
            extras: bool = True, priority: Priority = Priority.NORMAL,
            rating: tuple[int, str | None] | None = None) -> Job:
        rng, w = self.rng, self.w
        area = acct.area if acct else area
        assert area is not None
        stn = area.stn
        reported_at = (w.now - timedelta(minutes=age_min)).replace(microsecond=0)
        if channel == ReportChannel.COUNTER:
            reported_at = self._office_hours(reported_at)
        job = Job(len(self.jobs), kind, status, stn, area, acct, reported_at)
        self.jobs.append(job)
        fault = kind == K.FAULT_REPAIR
        lat, lon = (acct.row["lat"], acct.row["lon"]) if acct else (area.lat, area.lon)
        report: dict[str, Any] = {"kind": kind.value, "description": description,
                                  "priority": priority.value, "channel": channel.value}
        if acct:
            report["account_id"] = acct.row["id"]
        else:
            report["area_id"] = area.id
            if channel != ReportChannel.MONITORING:
                person = w.users[reporter]
                if person["role"] == Role.CUSTOMER.value:
                    name, phone = person["display_name"], person["phone"]
                else:
                    name = data.SURNAMES[rng.randrange(len(data.SURNAMES))][0] + rng.choice(
                        data.GIVEN_MALE + data.GIVEN_FEMALE)
                    phone = rng.choice(data.PHONE_PREFIXES) + f"{rng.randrange(10**8):08d}"
                report.update(contact_name=name, contact_phone=phone,
                              address=f"{data.COUNTY}{stn.spec.town}{area.place}")
            report["location"] = {"lat": round(lat, 6), "lon": round(lon, 6),
                                  "accuracy_m": 30.0}
        customer_reporter = w.users[reporter]["role"] == Role.CUSTOMER.value
        if customer_reporter and fault and rng.random() < 0.3:
            report["photos"] = [self.sha()]
        steps = [Step(0.0, reporter, Action.REPORT, report)]
        t = 0.0

        def add(gap: float, user: str, action: Action, **payload: Any) -> None:
            nonlocal t
            t += gap
            steps.append(Step(t, user, action, payload))

        def minutes(lo: float, hi: float) -> float:
            return rng.uniform(lo, hi)

        owner = acct.owner if acct else None
        office = self.office(stn)
        candidates = self.assignees(kind, stn)
        who = assignee or rng.choice(candidates)
        others = [c for c in candidates if c != who]
        dispatch_gap = (minutes(2, 12) if rng.random() < 0.92 else minutes(20, 60)) if fault \
            else minutes(20, 240)
        if status == S.CANCELLED:
            stage = rng.random()
            if stage < 0.5:
                if owner is not None and owner == reporter and rng.random() < 0.6:
                    add(dispatch_gap, reporter, Action.CANCEL,
                        reason=rng.choice(data.CUSTOMER_CANCEL))
                else:
                    add(dispatch_gap, office, Action.CANCEL, reason=rng.choice(data.CANCEL_REASONS))
            else:
                add(dispatch_gap, office, Action.DISPATCH, assignee_id=self.uid(who))
                if stage > 0.8:
                    add(minutes(2, 30), who, Action.ACCEPT)
                add(minutes(5, 120), office, Action.CANCEL, reason=rng.choice(data.CANCEL_REASONS))
            return self._finish(job, steps, t)
        if status == S.REPORTED:
            return self._finish(job, steps, t)
        urgent = {"priority": Priority.URGENT.value} if (
            acct and acct.row["care_flag"] and fault) else {}
        if extras and others and rng.random() < 0.05:
            first = rng.choice(others)
            add(dispatch_gap, office, Action.DISPATCH, assignee_id=self.uid(first), **urgent)
            add(minutes(3, 15), first, Action.DECLINE, reason=rng.choice(data.DECLINE_REASONS))
            add(minutes(2, 10), office, Action.DISPATCH, assignee_id=self.uid(who))
        else:
            add(dispatch_gap, office, Action.DISPATCH, assignee_id=self.uid(who), **urgent)
        if extras and others and status != S.DISPATCHED and rng.random() < 0.04:
            who = rng.choice(others)
            add(minutes(3, 30), office, Action.REASSIGN, assignee_id=self.uid(who),
                reason=rng.choice(data.REASSIGN_REASONS))
        if status == S.DISPATCHED:
            return self._finish(job, steps, t)
        if fault:
            add(minutes(1, 8) if rng.random() < 0.9 else minutes(15, 40), who, Action.ACCEPT)
        else:
            add(minutes(10, 240), who, Action.ACCEPT)
        if status == S.ACCEPTED:
            self._working_extras(add, who, office, owner, extras)
            return self._finish(job, steps, t)
        if status == S.EN_ROUTE or rng.random() < 0.75:
            add(minutes(1, 5) if fault else minutes(60, 1440), who, Action.START_TRAVEL)
        if status == S.EN_ROUTE:
            self._working_extras(add, who, office, owner, extras)
            return self._finish(job, steps, t)
        lo, hi = _TRAVEL[area.cls]
        add(minutes(lo, hi) if fault else minutes(15, 60), who, Action.ARRIVE,
            **self.gps(lat, lon))
        if extras and rng.random() < 0.3:
            add(minutes(5, 20), who, Action.ADD_PHOTO, sha256=self.sha(),
                caption=rng.choice(data.PHOTO_CAPTIONS))
        if status == S.ON_SITE:
            self._working_extras(add, who, office, owner, extras)
            return self._finish(job, steps, t)
        if kind == K.METER_SWAP:
            add(minutes(10, 30), who, Action.RECORD_SWAP)
        add(minutes(20, 120) if fault else minutes(10, 90), who, Action.RESOLVE,
            **self._resolution(kind))
        if status == S.RESOLVED:
            return self._finish(job, steps, t)
        if extras and fault and rng.random() < 0.06:
            add(minutes(120, 1440), owner or office, Action.REOPEN,
                reason=rng.choice(data.REOPEN_REASONS))
            add(minutes(5, 30), who, Action.ACCEPT)
            add(minutes(lo, hi), who, Action.ARRIVE, **self.gps(lat, lon))
            add(minutes(20, 120), who, Action.RESOLVE, **self._resolution(kind))
        if status == S.CONFIRMED or rng.random() < 0.7:
            gap = minutes(30, 1440) if fault else minutes(120, 2880)
            if owner:
                stars, comment = rating or self._rating()
                add(gap, owner, Action.CONFIRM, rating=stars, comment=comment)
            elif rng.random() < 0.5:
                add(gap, f"dispatcher.{stn.spec.key}", Action.CONFIRM,
                    rating=rng.choice((4, 5, 5, 5)), comment="电话回访")
            else:
                add(gap, f"dispatcher.{stn.spec.key}", Action.CONFIRM)
        if status == S.CLOSED:
            closer = f"{'manager' if rng.random() < 0.5 else 'dispatcher'}.{stn.spec.key}"
            add(minutes(60, 2880), closer, Action.CLOSE)
        return self._finish(job, steps, t)

    def _office_hours(self, at: datetime) -> datetime:
        """The service counter is open 08:00-18:00: move a counter report into those hours."""
        local = at.astimezone(LOCAL_TZ)
        if 8 <= local.hour < 18:
            return at
        moved = local.replace(hour=8 + local.hour % 10)
        if moved > self.w.now - timedelta(minutes=5):
            moved -= timedelta(days=1)
        return moved.astimezone(UTC)

    def _working_extras(self, add: Any, who: str, office: str, owner: str | None,
                        extras: bool) -> None:
        rng = self.rng
        if not extras:
            return
        r = rng.random()
        if r < 0.12:
            add(rng.uniform(5, 30), who, Action.REQUEST_HELP, reason=rng.choice(data.HELP_REASONS))
        elif r < 0.35:
            add(rng.uniform(2, 20), who, Action.ADD_NOTE, text=rng.choice(data.NOTES_ASSIGNEE))
        elif r < 0.45:
            add(rng.uniform(10, 60), office, Action.ADD_NOTE, text=rng.choice(data.NOTES_OFFICE))
        elif r < 0.5 and owner:
            add(rng.uniform(10, 40), owner, Action.ADD_NOTE, text="师傅请尽快，家里有老人")

    def _resolution(self, kind: WorkOrderKind) -> dict[str, Any]:
        rng = self.rng
        if kind == K.FAULT_REPAIR:
            cause, text = rng.choice(data.FAULT_CAUSES)
            return {"resolution": text, "cause": cause}
        if kind == K.METER_SWAP:
            return {"resolution": rng.choice(data.SWAP_RESOLUTIONS), "cause": "电表故障"}
        return {"resolution": rng.choice(data.BUSINESS_RESOLUTIONS)}

    def _rating(self) -> tuple[int, str | None]:
        rng = self.rng
        stars = rng.choices((5, 4, 3, 2, 1), (55, 25, 10, 6, 4))[0]
        if stars <= 2:
            return stars, rng.choice(data.COMMENTS_BAD)
        return stars, rng.choice(data.COMMENTS_GOOD) if stars == 5 and rng.random() < 0.5 \
            else None

    def _finish(self, job: Job, steps: list[Step], total: float) -> Job:
        """Fit the steps before now (squeezing them if needed) and plan the swap."""
        limit = (self.w.now - job.reported_at).total_seconds() / 60 - 2
        scale = min(1.0, limit / total) if total > 0 else 1.0
        for step in steps:
            step.at = (job.reported_at + timedelta(minutes=step.offset * scale)).replace(
                microsecond=0)
            if step.action == Action.RECORD_SWAP:
                assert job.acct is not None
                key = job.stn.spec.key
                stock = self.w.stock[key]
                new = stock[self.stock_next[key]]
                self.stock_next[key] += 1
                self.cards += 1
                # The first swap's technician reads 5 yuan more off the old meter than
                # the ledger holds: the office has one balance discrepancy to review.
                job.swap = SwapPlan(step.at, new, self.rng.randint(0, 150),
                                    misread_fen=0 if self.w.swaps else 500)
                self.w.swaps[job.acct.idx] = job.swap
        job.steps = steps
        return job

    # -- the whole plan -------------------------------------------------------------------
    def demo_jobs(self) -> None:
        """The jobs the demo logins are promised (see ``demo_logins``)."""
        w = self.w
        z = w.holdings["customer.zhang"][0]
        li_home, li_care = w.holdings["customer.li"]
        wang = w.holdings["customer.wang"][0]
        for a in (z, li_home, li_care, wang):
            self.used.add(a.idx)
        app = ReportChannel.APP
        self.job(K.FAULT_REPAIR, S.CLOSED, acct=z, reporter="customer.zhang", channel=app,
                 description="家里突然停电了，邻居家有电", age_min=min(12 * 1440, self.horizon_min),
                 assignee="crew.s1b", extras=False, rating=(5, "师傅来得很快，服务很好"))
        self.job(K.FAULT_REPAIR, S.RESOLVED, acct=z, reporter="customer.zhang", channel=app,
                 description="空调一开就跳闸", age_min=300, assignee="crew.s1b", extras=False)
        self.job(K.FAULT_REPAIR, S.EN_ROUTE, acct=z, reporter="customer.zhang", channel=app,
                 description="表箱冒烟，有焦糊味", age_min=35, assignee="crew.s1a", extras=False)
        self.job(K.FAULT_REPAIR, S.ON_SITE, acct=li_care, reporter="customer.li", channel=app,
                 description="母亲家停电，老人用制氧机，请尽快", age_min=50, assignee="crew.s2a",
                 extras=False)
        self.job(K.CAPACITY_CHANGE, S.RESOLVED, acct=li_home, reporter="customer.li",
                 channel=app, description="家庭用电增加，申请由4kW增容至8kW", age_min=2 * 1440,
                 assignee="tech.s1b", extras=False)
        self.job(K.ACCOUNT_CHANGE, S.REPORTED, acct=li_home, reporter="customer.li",
                 channel=app, description="申请变更联系电话", age_min=180)
        self.job(K.METER_SWAP, S.RESOLVED, acct=wang, reporter="agent.s3a",
                 channel=ReportChannel.COUNTER, description="电表液晶屏黑屏，无法读数",
                 age_min=min(36 * 60, self.horizon_min), assignee="tech.s3a", extras=False)
        self.job(K.FAULT_REPAIR, S.ACCEPTED, acct=wang, reporter="customer.wang", channel=app,
                 description="雷雨后家里没电", age_min=30, assignee="crew.s3b", extras=False)
        # Jobs waiting for the demo field logins to accept.
        s1, s3 = w.station("s1"), w.station("s3")
        hotline = ReportChannel.HOTLINE
        for age in (15, 25):
            acct = self.take(self.unowned, s1)
            self.job(K.FAULT_REPAIR, S.DISPATCHED, acct=acct, reporter="dispatcher.s1",
                     channel=hotline, description=self.rng.choice(data.FAULT_REPORTS),
                     age_min=age, assignee="crew.s1a", extras=False)
        self.job(K.FAULT_REPAIR, S.DISPATCHED, acct=self.take(self.unowned, s3),
                 reporter="dispatcher.s3", channel=hotline, description="电线杆歪了，线路很低",
                 age_min=20, assignee="crew.s3a", extras=False)
        self.job(K.USAGE_INSPECTION, S.DISPATCHED, acct=None, area=w.areas[-1],
                 reporter="manager.s3", channel=ReportChannel.MONITORING,
                 description="台区线损异常，开展用电检查", age_min=300, assignee="crew.s3a",
                 extras=False)
        self.job(K.METER_SWAP, S.DISPATCHED, acct=self.take(self.unowned, s1),
                 reporter="agent.s1b", channel=ReportChannel.COUNTER,
                 description="电表连续三天采集失败，疑似故障", age_min=180, assignee="tech.s1a",
                 extras=False)
        town = next(a for a in w.areas if a.stn is s1)
        self.job(K.NEW_CONNECTION, S.DISPATCHED, acct=None, area=town, reporter="agent.s1b",
                 channel=ReportChannel.COUNTER, description="新建住房申请低压居民新装用电",
                 age_min=360, assignee="tech.s1a", extras=False)
        self.job(K.ACCOUNT_CHANGE, S.DISPATCHED, acct=self.take(self.unowned, s1),
                 reporter="agent.s1b", channel=ReportChannel.COUNTER,
                 description="房屋过户，申请更名", age_min=120, assignee="agent.s1a", extras=False)
        care = self.take(self.care, s1) or self.take(self.unowned, s1)
        self.job(K.CARE_VISIT, S.DISPATCHED, acct=care, reporter="manager.s1",
                 channel=ReportChannel.COUNTER, description="用电关怀走访：检查室内线路安全",
                 age_min=1440, assignee="agent.s1a", extras=False)

    def random_jobs(self) -> None:
        rng = self.rng
        scale = min(1.5, len(self.w.accounts) / 3000)
        slots = [st for st, n in PER_STATUS.items() for _ in range(max(3, round(n * scale)))]
        rng.shuffle(slots)
        kinds = list(KIND_WEIGHTS)
        for i, status in enumerate(slots):
            kind = kinds[i] if i < len(kinds) else rng.choices(kinds, list(
                KIND_WEIGHTS.values()))[0]
            self.random_job(kind, status)

    def random_job(self, kind: WorkOrderKind, status: WorkOrderStatus) -> None:
        rng, w = self.rng, self.w
        acct: Acct | None = None
        area: Area | None = None
        channel = ReportChannel.HOTLINE
        if kind == K.FAULT_REPAIR:
            r = rng.random()
            if r < 0.1:
                area, channel = rng.choice(w.areas), ReportChannel.MONITORING
                description = rng.choice(data.FAULT_MONITORING)
            else:
                acct = (self.take(self.owned) if r < 0.45 else None) or self.take(self.unowned)
                description = rng.choice(data.FAULT_REPORTS)
        elif kind == K.METER_SWAP:
            acct = self.take(self.unowned) or self.take(self.owned)
            description = rng.choice(data.SWAP_REPORTS)
            channel = ReportChannel.MONITORING if "采集" in description else ReportChannel.COUNTER
        elif kind == K.NEW_CONNECTION:
            area, channel = rng.choice(w.areas), ReportChannel.COUNTER
            description = rng.choice(data.NEW_CONNECTION)
        elif kind in (K.CAPACITY_CHANGE, K.ACCOUNT_CHANGE):
            acct = (self.take(self.owned) if rng.random() < 0.5 else None) or self.take(
                self.unowned)
            channel = ReportChannel.COUNTER
            description = rng.choice(data.CAPACITY_CHANGE if kind == K.CAPACITY_CHANGE
                                     else data.ACCOUNT_CHANGE)
        elif kind == K.USAGE_INSPECTION:
            if rng.random() < 0.5:
                area = rng.choice(w.areas)
            else:
                acct = self.take(self.unowned)
            channel = ReportChannel.MONITORING
            description = rng.choice(data.INSPECTIONS)
        else:
            acct = self.take(self.care) or self.take(self.unowned)
            channel = ReportChannel.COUNTER
            description = rng.choice(data.CARE_VISITS)
        if acct is None and area is None:  # every account is taken: raise it on an area
            area = rng.choice(w.areas)
            if kind == K.METER_SWAP:
                kind, description = K.USAGE_INSPECTION, rng.choice(data.INSPECTIONS)
        stn = (acct.area if acct else area).stn  # type: ignore[union-attr]
        key = stn.spec.key
        if acct and acct.owner and kind in CUSTOMER_REPORTABLE and rng.random() < 0.8:
            reporter, channel = acct.owner, ReportChannel.APP
        elif kind == K.FAULT_REPAIR:
            reporter = "dispatcher" if channel == ReportChannel.MONITORING else self.office(stn)
        elif kind in (K.USAGE_INSPECTION, K.CARE_VISIT):
            reporter = f"manager.{key}"
        elif kind == K.METER_SWAP and channel == ReportChannel.MONITORING:
            reporter = f"dispatcher.{key}"
        else:
            reporter = rng.choice(w.staff(stn, Role.AGENT))
        if kind == K.NEW_CONNECTION and rng.random() < 0.4 and self.owned:
            reporter, channel = rng.choice(self.owned).owner or reporter, ReportChannel.APP
            if w.users[reporter]["role"] != Role.CUSTOMER.value:
                channel = ReportChannel.COUNTER
        priority = Priority.NORMAL
        if w.users[reporter]["role"] != Role.CUSTOMER.value:
            r = rng.random()
            priority = (Priority.HIGH if r < 0.2 else Priority.URGENT if r < 0.25
                        else Priority.NORMAL) if kind == K.FAULT_REPAIR else (
                Priority.LOW if r < 0.15 else Priority.NORMAL)
        self.job(kind, status, acct=acct, area=area, reporter=reporter, channel=channel,
                 description=description, age_min=self.age(kind, status), priority=priority)


def plan(world: World) -> list[Job]:
    planner = Planner(world)
    planner.demo_jobs()
    planner.random_jobs()
    return planner.jobs


# -- playing ------------------------------------------------------------------------------
def _actor(world: World, username: str) -> Actor:
    row = world.users[username]
    accounts = frozenset(a.row["id"] for a in world.holdings.get(username, ()))
    return Actor(row["id"], Role(row["role"]), row["station_id"], accounts)


def _swap_data(job: Job, planner_seed: int) -> dict[str, Any]:
    assert job.acct is not None and job.swap is not None
    swap = job.swap
    digest = hashlib.sha256(f"{planner_seed}-{job.no}".encode()).hexdigest()
    return {
        "id": new_id(), "old_meter_no": job.acct.meter["meter_no"],
        "old_final_kwh": centi_to_kwh(swap.old_final_centi),
        "old_remaining_fen": swap.ledger_fen + swap.misread_fen,
        "new_meter_no": swap.new_meter["meter_no"],
        "new_start_kwh": centi_to_kwh(swap.new_start_centi),
        "new_card_no": f"88{int(digest[:12], 16) % 10**14:014d}",
        "seal_numbers": [f"XY{int(digest[12:20], 16) % 10**6:06d}",
                         f"XY{int(digest[20:28], 16) % 10**6:06d}"],
        "old_face_photo": hashlib.sha256(f"{digest}-old".encode()).hexdigest(),
        "new_face_photo": hashlib.sha256(f"{digest}-new".encode()).hexdigest(),
    }


def play(db: Database, world: World, jobs: list[Job]) -> None:
    """Run every planned step through the domain services, oldest job first.

    Consecutive steps of one job by the same person share a unit of work (as a phone
    pushing a batch would); the audit trail names the right actor either way.
    """
    actors: dict[str, Actor] = {}
    for job in sorted(jobs, key=lambda j: (j.reported_at, j.no)):
        order_id = ""
        for username, group in itertools.groupby(job.steps, key=lambda s: s.user):
            actor = actors.get(username) or actors.setdefault(username, _actor(world, username))
            with UnitOfWork(db, actor) as uow:
                for step in group:
                    if step.action == Action.REPORT:
                        order, _ = work_orders.report(uow, actor=actor, data=step.data,
                                                      at=step.at)
                        order_id = order.id
                    elif step.action == Action.RECORD_SWAP:
                        meters.record_swap(uow, actor=actor, order_id=order_id,
                                           data=_swap_data(job, world.seed), at=step.at)
                    else:
                        work_orders.act(uow, actor=actor, order_id=order_id,
                                        action=step.action, data=step.data, at=step.at)
                uow.commit()
    # New meters kept reading after their swap: give them their last daily reading.
    with UnitOfWork(db) as uow:
        for swap in world.swaps.values():
            if swap.last_after is None:
                continue
            meter = uow.session.get(Meter, swap.new_meter["id"])
            assert meter is not None
            meter.last_reading_centi, meter.last_reading_at = swap.last_after
            meter.version += 1
            meter.updated_at = world.now
            uow.changed(meter)
        uow.commit()
