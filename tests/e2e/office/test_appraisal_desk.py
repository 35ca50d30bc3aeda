"""Performance appraisal in the browser (issue 13): a manager opens a crew's scorecard on
the desk and drills down to the job that arrived late; the crew member sees the same month
in their own work summary on the phone. Last month's jobs are written into the browser
tests' API database through the domain services, with the phones' (back-dated) times."""

from __future__ import annotations

import re
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlmodel import Session, select

from server.customers.models import Account
from server.db import make_database
from server.users.models import User
from shared.appraisal.figures import month_of, previous_months
from shared.timeutil import LOCAL_TZ, utcnow
from tests.conftest import svc_act, svc_report
from tests.e2e.conftest import ApiServer
from tests.e2e.office.board_kit import TABLET, Office, desk_app, python_errors  # noqa: F401
from tests.e2e.phone import Phone
from tests.factories import PASSWORD


@pytest.fixture(scope="module")
def last_month(api: ApiServer) -> dict[str, Any]:
    """Two repairs crew1b did last month: one on time, one that arrived 40 min late."""
    month = previous_months(month_of(utcnow()), 2)[0]
    year, mon = (int(p) for p in month.split("-"))
    db = make_database(f"sqlite:///{api.data_dir / 'gridone.db'}")
    try:
        with Session(db.reader) as s:
            users = {u.username: u for u in s.exec(select(User))}
            acc = s.exec(select(Account).where(Account.name == "Customer acc1")).one()
        codes = {}
        for key, day, late in (("on_time", 8, 0), ("late", 12, 40)):
            at = datetime(year, mon, day, 9, 0, tzinfo=LOCAL_TZ)
            oid = svc_report(db, None, users["customer1"], account_id=acc.id,  # type: ignore[arg-type]
                             description=f"appraisal {key}", at=at)
            steps = [("dispatcher1", "dispatch", 5, {"assignee_id": users["crew1b"].id}),
                     ("crew1b", "accept", 8, {}), ("crew1b", "arrive", 40 + late, {}),
                     ("crew1b", "resolve", 90 + late, {"resolution": "fuse replaced"}),
                     ("dispatcher1", "close", 120 + late, {})]
            for who, action, minutes, data in steps:
                svc_act(db, None, users[who], oid, action,  # type: ignore[arg-type]
                        at=at + timedelta(minutes=minutes), **data)
            with Session(db.reader) as s:
                from server.work_orders.models import WorkOrder
                codes[key] = s.get(WorkOrder, oid).code  # type: ignore[union-attr]
    finally:
        db.dispose()
    return {"month": month, **codes}


def test_a_manager_drills_from_a_crews_scorecard_to_the_late_job(
        api: ApiServer, desk_app: str, browser: Any, last_month: dict[str, Any],  # noqa: F811
        e2e_dir: Path) -> None:
    office = Office(browser, desk_app, "appraisal-manager1")
    try:
        office.open()
        office.sign_in_office("manager1", PASSWORD)
        office.rail("Appraisal")
        office.see("Within commitment (%)")
        office.tap("Previous month", settle=1.0)
        office.see(last_month["month"])
        office.shot("ranking")
        office.page.get_by_role("cell", name=re.compile("^Crew1B$")).first.click()
        office.see("Arrived on time (%)")
        office.see("50.0 %")  # one of two arrived within the 45 minutes
        office.see(re.compile("Of the jobs with an arrival commitment"))
        office.shot("scorecard")
        # the arrival figure's drill-down lists the late job, and only it
        office.page.get_by_role("button", name="Show 1 job").first.click()
        office.see(last_month["late"])
        assert last_month["on_time"] not in office.snapshot()
        office.shot("drill-down")
        office.page.set_viewport_size(TABLET)
        office.shot("tablet")
        assert office.errors == []
    finally:
        office.close()


def test_the_crew_member_sees_the_month_in_their_work_summary(
        api: ApiServer, desk_app: str, browser: Any, last_month: dict[str, Any],  # noqa: F811
        e2e_dir: Path) -> None:
    for locale, labels, words in (
            ("en-US", ("User name", "Password", "Sign in"),
             ("Settings", "Open my work summary", "Previous month", "Jobs resolved: 2",
              "Arrived on time (%)", "55 min")),
            ("zh-CN", ("用户名", "密码", "登录"),
             ("设置", "查看我的工作小结", "上个月", "完成工单 2 单", "按时到场率（%）",
              "55 分钟"))):
        phone = Phone(browser, desk_app, f"appraisal-crew1b-{locale}", locale=locale)
        try:
            phone.open()
            phone.sign_in("crew1b", PASSWORD, labels=labels)
            phone.tab(words[0])
            phone.tap(words[1], settle=1.0)
            phone.tap(words[2], settle=1.5)
            phone.see(last_month["month"])
            phone.see(words[3])
            phone.see(words[4])
            phone.see("50.0 %")
            phone.see(words[5])
            phone.shot("summary")
        finally:
            phone.close()
    assert python_errors(e2e_dir / "desk-app.log") == []
