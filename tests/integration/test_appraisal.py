"""Performance appraisal (issue 13): scorecards checked against hand-computed figures on
a fixed data set, jobs that synced late counted when they were done, drill-down to the
jobs behind a figure, rankings, trends, exports, and who may see which scorecard.

The data set (station s1, town area: arrive within 45 min of the report, finish within
3 h), local time (UTC+8), October 2026:

    job  crew   reported     dispatch accept arrive  resolve  rating  afterwards
    A    crew1  10-10 09:00  +5       +8     +45     +100     5
    B    crew1  10-20 10:00  +10      +20    +80     +130     -       customer reopens (day 2)
    C    crew1  10-31 22:00  +5       +10    +45     +90      -       manager returns (11-01)
    F    crew1  10-25 15:00  +5       +7     +35     +65      2
    D    crew1b 10-15 14:00  +5       +15    +30     +60      4
    E    crew1  11-02 09:00  +5       +6     +20     +50      5       (November)

C is resolved at 23:30 local on 31 October = 15:30 UTC: it is an October job, though the
phone's op reached the server later (as all of these did: they are applied today).

crew1, October, by hand: handled 4; accept median(3, 10, 5, 2) = 4 min; arrive
median(40, 70, 40, 30) = 40 min; on time: A (09:45 ≤ 09:45) yes, B (11:20 > 10:45) no,
C (22:45 ≤ 22:45) yes, F yes → 75 %; finish median(95, 120, 85, 60) = 90 min = 1.5 h;
conformity (B late) 75 %; first-time fix (B reopened, C returned) 50 %;
satisfaction (5 + 2) / 2 = 3.5 from 2 ratings, response 50 %; returned 1.
"""

from __future__ import annotations

import csv
import io
from datetime import datetime, timedelta
from typing import Any

import pytest
from openpyxl import load_workbook

from shared.timeutil import LOCAL_TZ
from tests.conftest import svc_act, svc_report

A = "/api/v1/appraisal"


def local(month: int, day: int, hour: int, minute: int = 0) -> datetime:
    return datetime(2026, month, day, hour, minute, tzinfo=LOCAL_TZ)


def job(db: Any, world: Any, crew: str, reported: datetime, steps: tuple[int, int, int, int],
        rating: int | None = None) -> str:
    dispatch, accept, arrive, resolve = (reported + timedelta(minutes=m) for m in steps)
    oid = svc_report(db, world, "customer1", account_id=world.accounts["acc1"].id,
                     description="no power", at=reported)
    svc_act(db, world, "dispatcher1", oid, "dispatch", assignee_id=world.user(crew).id,
            at=dispatch)
    svc_act(db, world, crew, oid, "accept", at=accept)
    svc_act(db, world, crew, oid, "arrive", at=arrive)
    svc_act(db, world, crew, oid, "resolve", resolution="fuse replaced", at=resolve)
    if rating is not None:
        svc_act(db, world, "customer1", oid, "confirm", rating=rating,
                at=resolve + timedelta(hours=1))
    return oid


@pytest.fixture
def jobs(db: Any, world: Any) -> dict[str, str]:
    ids = {
        "A": job(db, world, "crew1", local(10, 10, 9), (5, 8, 45, 100), rating=5),
        "B": job(db, world, "crew1", local(10, 20, 10), (10, 20, 80, 130)),
        "C": job(db, world, "crew1", local(10, 31, 22), (5, 10, 45, 90)),
        "F": job(db, world, "crew1", local(10, 25, 15), (5, 7, 35, 65), rating=2),
        "D": job(db, world, "crew1b", local(10, 15, 14), (5, 15, 30, 60), rating=4),
        "E": job(db, world, "crew1", local(11, 2, 9), (5, 6, 20, 50), rating=5),
    }
    svc_act(db, world, "customer1", ids["B"], "reopen", reason="still no power",
            at=local(10, 21, 8))
    svc_act(db, world, "manager1", ids["C"], "reopen", reason="photo of the fuse missing",
            at=local(11, 1, 10))
    return ids


def figures(card: dict[str, Any]) -> dict[str, Any]:
    return {f["key"]: f["value"] for f in card["figures"]}


def test_a_crews_month_matches_the_hand_computed_figures(as_user, world, jobs) -> None:
    manager = as_user("manager1")
    r = manager.get(f"{A}/scorecard", params={"subject": f"user:{world.user('crew1').id}",
                                                "month": "2026-10"})
    assert r.status_code == 200, r.text
    card = r.json()
    assert (card["handled"], card["by_kind"]) == (4, {"fault_repair": 4})
    assert figures(card) == {
        "handled": 4.0, "accept_min": 4.0, "arrive_min": 40.0, "arrive_on_time": 75.0,
        "finish_h": 1.5, "conformity": 75.0, "first_fix": 50.0, "satisfaction": 3.5,
        "response_rate": 50.0, "returned": 1.0, "app_steps_on_time": None}
    how = {f["key"]: f["how"] for f in card["figures"]}
    assert "7 days" in how["first_fix"] and "dispatch" in how["accept_min"]
    # the job resolved at 23:30 on 31 October (local) is not a November job
    nov = manager.get(f"{A}/scorecard", params={"subject": f"user:{world.user('crew1').id}",
                                                  "month": "2026-11"}).json()
    assert (nov["handled"], figures(nov)["accept_min"], figures(nov)["first_fix"]) == (
        1, 1.0, 100.0)


def test_drill_down_lists_the_jobs_behind_a_figure(as_user, world, jobs) -> None:
    manager = as_user("manager1")
    subject = f"user:{world.user('crew1').id}"

    def drill(figure: str) -> list[str]:
        r = manager.get(f"{A}/jobs", params={"subject": subject, "month": "2026-10",
                                              "figure": figure})
        assert r.status_code == 200, r.text
        return sorted(j["id"] for j in r.json())

    assert drill("handled") == sorted([jobs["A"], jobs["B"], jobs["C"], jobs["F"]])
    assert drill("arrive_on_time") == [jobs["B"]]       # the late arrival
    assert drill("first_fix") == sorted([jobs["B"], jobs["C"]])
    assert drill("returned") == [jobs["C"]]
    assert drill("satisfaction") == [jobs["F"]]         # rated 3 stars or fewer
    bad = manager.get(f"{A}/jobs", params={"subject": subject, "figure": "nonsense"})
    assert (bad.status_code, bad.json()["code"]) == (422, "VALIDATION_ERROR")


def test_ranking_station_and_county(as_user, world, jobs) -> None:
    manager = as_user("manager1")
    r = manager.get(f"{A}/ranking", params={"month": "2026-10", "by": "conformity"})
    assert r.status_code == 200, r.text
    rows = [(row["rank"], row["card"]["name"], row["card"]["handled"]) for row in r.json()["rows"]]
    # crew1b (1 job, conforming) ranks above crew1 (66.7 %); people without jobs come last
    assert rows[:2] == [(1, "Crew1B", 1), (2, "Crew1", 4)]
    assert {name for _, name, _ in rows} == {"Crew1", "Crew1B", "Tech1", "Agent1"}
    assert all(handled == 0 for _, _, handled in rows[2:])
    stations = manager.get(f"{A}/ranking", params={"month": "2026-10",
                                                     "level": "stations"}).json()["rows"]
    assert [(s["card"]["name"], s["card"]["handled"]) for s in stations] == [
        ("Station ST01", 5)]  # a station manager sees only their station
    county = as_user("admin").get(f"{A}/scorecard", params={"subject": "county",
                                                              "month": "2026-10"}).json()
    assert county["handled"] == 5 and figures(county)["satisfaction"] == 3.67


def test_trend_month_by_month(as_user, world, jobs) -> None:
    r = as_user("manager1").get(f"{A}/trend", params={
        "subject": f"station:{world.stations['s1'].id}", "month": "2026-11", "months": 3})
    assert r.status_code == 200, r.text
    months = [(m["period"], m["handled"]) for m in r.json()["months"]]
    assert months == [("2026-09", 0), ("2026-10", 5), ("2026-11", 1)]


def test_staff_see_their_own_scorecard_only(as_user, world, jobs) -> None:
    crew, other = as_user("crew1"), as_user("dispatcher2")
    me = crew.get(f"{A}/me", params={"month": "2026-10"})
    assert (me.status_code, me.json()["handled"]) == (200, 4)
    assert me.json()["subject"] == f"user:{world.user('crew1').id}"
    for subject in (f"user:{world.user('crew1b').id}", f"station:{world.stations['s1'].id}",
                    "county"):
        r = crew.get(f"{A}/scorecard", params={"subject": subject})
        assert (r.status_code, r.json()["code"]) == (404, "NOT_FOUND"), subject
    assert crew.get(f"{A}/ranking").json()["code"] == "FORBIDDEN"
    assert as_user("customer1").get(f"{A}/ranking").status_code == 403
    assert other.get(f"{A}/ranking", params={
        "station_id": world.stations["s1"].id}).json()["code"] == "NOT_FOUND"
    # another station's dispatcher sees neither this station's people nor the county
    for subject in (f"user:{world.user('crew1').id}", f"station:{world.stations['s1'].id}",
                    "county"):
        assert other.get(f"{A}/scorecard", params={"subject": subject}).status_code == 404
    assert as_user(None).get(f"{A}/me").status_code == 401


@pytest.mark.parametrize("params", [{"month": "2026-13"}, {"month": "26-10"},
                                    {"by": "salary"}, {"level": "county"}])
def test_bad_parameters_get_a_coded_error(as_user, params: dict[str, str]) -> None:
    r = as_user("manager1").get(f"{A}/ranking", params=params)
    assert r.status_code == 422 and r.json()["code"] == "VALIDATION_ERROR", r.text


def test_exports_hold_the_ranking(as_user, world, jobs) -> None:
    manager = as_user("manager1", lang="zh")
    r = manager.get(f"{A}/export", params={"month": "2026-10", "format": "csv"})
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/csv")
    rows = list(csv.reader(io.StringIO(r.content.decode("utf-8-sig"))))
    assert rows[0][:4] == ["排名", "姓名/站所", "角色", "完成工单"]
    assert rows[1][1:4] == ["Crew1B", "crew", "1"] and rows[2][1:4] == ["Crew1", "crew", "4"]
    x = manager.get(f"{A}/export", params={"month": "2026-10", "format": "xlsx"})
    sheet = load_workbook(io.BytesIO(x.content)).active
    values = [[c.value for c in row] for row in sheet.iter_rows()]
    assert values[2][1] == "Crew1" and values[2][3] == 4
    heads = values[0]
    assert values[2][heads.index("承诺达标率（%）")] == 75.0


def test_an_agents_accepted_application_counts_in_their_month(as_user, world) -> None:
    """The counter clerk who accepts an application within its deadlines has its steps
    (acceptance; a contact change is then archived at once) on time this month."""
    from tests.integration.apps_kit import body, jpeg, sha, upload

    cust = as_user("customer1")
    data = body(world, kind="contact_change", capacity_kw=None, station_id=None,
                account_id=world.accounts["acc1"].id, contact_phone="13700001111",
                docs={"id_card": sha(jpeg(7))})
    assert cust.post("/api/v1/applications", json=data).status_code == 201
    upload(cust, jpeg(7))
    agent = as_user("agent1")
    done = agent.post(f"/api/v1/applications/{data['id']}/accept", json={})
    assert done.status_code == 200, done.text
    ended = [s for s in done.json()["steps"]
             if s["ended_at"] and s.get("ended_by") == world.user("agent1").id and s["due_at"]]
    assert [s["step"] for s in ended] == ["acceptance", "archive"]
    card = agent.get(f"{A}/me").json()
    fig = next(f for f in card["figures"] if f["key"] == "app_steps_on_time")
    assert (fig["value"], fig["n"]) == (100.0, 2)
    # the station's card counts it too; another agent's does not
    station = as_user("manager1").get(f"{A}/scorecard", params={
        "subject": f"station:{world.stations['s1'].id}"}).json()
    assert figures(station)["app_steps_on_time"] == 100.0
    assert figures(as_user("agent2").get(f"{A}/me").json())["app_steps_on_time"] is None
