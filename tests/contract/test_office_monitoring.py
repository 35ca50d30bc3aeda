"""The monitoring desk's state against the real server over HTTP (the office client a
manager's screen uses): overview and flagged areas, drill-down into an area with its load
curve and loss trend against the norm, the heat map, the anomalies with their jobs, the
CSV and Excel exports, and a reload when a shown job changes."""

from __future__ import annotations

import asyncio
import io
from datetime import timedelta
from typing import Any

import pytest
from openpyxl import load_workbook

from mobile.office.client import OfficeClient
from mobile.office.context import OfficeContext
from mobile.office.state.live import Change
from mobile.office.state.monitoring import (
    MonitoringState,
    area_flags,
    cell,
    heat_level,
    load_points,
    loss_trend,
)
from mobile.office.state.shell import OfficeShellState
from server.auth.security import make_token
from server.db import Database
from server.monitoring.service import analyse
from shared.enums import Role
from tests.conftest import SECRET
from tests.contract.conftest import LiveServer
from tests.factories import World
from tests.integration.monitoring_kit import add_monitoring, fixed_days, fixed_rows, ingest


class Tokens:
    """The office session's token pair (on a device: the store)."""

    def __init__(self, access: str) -> None:
        self.access, self.refresh = access, None

    def tokens(self) -> tuple[str | None, str | None]:
        return self.access, self.refresh

    def save_tokens(self, access: str, refresh: str) -> None:
        self.access, self.refresh = access, refresh


@pytest.fixture
def desk(live: LiveServer, db: Database, world: World) -> Any:
    add_monitoring(db, world)
    ingest(db, fixed_rows())
    analyse(db)
    token, _ = make_token(secret=SECRET, sub=world.user("manager1").id, kind="access",
                          ttl=timedelta(minutes=10))
    client = OfficeClient(live.url, Tokens(token), lang="en")
    octx = OfficeContext(client=client, shell=OfficeShellState(role=Role.MANAGER,
                                                               page="monitoring"))
    yield MonitoringState(octx)
    client.close()


def test_the_desk_shows_the_flagged_area_and_drills_into_it(desk: MonitoringState,
                                                            world: World) -> None:
    mon = desk
    asyncio.run(mon.load_tab())
    assert mon.error == "" and mon.day == fixed_days()[2]
    areas = {r["area_code"]: r for r in mon.areas["table"]["rows"]}  # type: ignore[index]
    assert set(areas) == {"TA-town", "TA-rural"}  # the manager's station only
    assert [k for k, _ in area_flags(areas["TA-town"])] == ["flag_loss_high", "flag_jump"]
    assert ("flag_loss_negative", "bad") in area_flags(areas["TA-rural"])
    assert cell("loss_rate", areas["TA-town"]["loss_rate"], "en") == "16.0%"
    assert cell("area_class", areas["TA-rural"]["area_class"], "zh") == "农村"

    asyncio.run(mon.open_area(world.areas["town"].id))
    assert mon.area is not None and mon.area["area"]["area_code"] == "TA-town"
    meters = [m["meter_no"] for m in mon.area["meters"]["rows"]]
    assert meters[0] == "MTR-T3"  # the one whose usage fell: most suspect first
    points = load_points(mon.load)  # type: ignore[arg-type]
    assert len(points) == 96 and points[0][1] == pytest.approx(1.39)  # 5 kW/0.9/400 kVA
    trend = loss_trend(mon.loss)  # type: ignore[arg-type]
    assert [p[1] for p in trend.points] == [4.0, 0.0, 16.0]
    assert [p[2] for p in trend.points] == [True, False, True]  # day 2 unreliable
    assert (trend.norm_low, trend.norm_high) == (0.0, 10.0)
    name, data = asyncio.run(mon.export("meters", "csv"))  # type: ignore[misc]
    assert name.endswith(".csv") and data.startswith(b"\xef\xbb\xbf")
    assert "MTR-T3" in data.decode("utf-8-sig") and "Suspect score" in data.decode("utf-8-sig")
    asyncio.run(mon.close_area())
    assert mon.area is None and mon.overview is not None


def test_heat_map_anomalies_and_exports(desk: MonitoringState) -> None:
    mon = desk
    asyncio.run(mon.set_tab("collection"))
    heat = mon.heatmap
    assert heat is not None
    town = [a["code"] for a in heat["areas"]].index("TA-town")
    tail = heat["rates"][town][-3:]
    assert [heat_level(r, heat["target"]) for r in tail] == ["ok", "bad", "ok"]  # 2 of 3
    asyncio.run(mon.set_tab("anomalies"))
    rows = mon.anomalies["table"]["rows"]  # type: ignore[index]
    kinds = {r["kind"] for r in rows}
    assert {"loss_high", "loss_negative"} <= kinds
    assert cell("kind", "loss_suspect", "zh") == "高损可疑户"
    name, data = asyncio.run(mon.export("anomalies", "xlsx"))  # type: ignore[misc]
    sheet = load_workbook(io.BytesIO(data)).active
    assert name.endswith(".xlsx") and sheet is not None
    assert sheet["A1"].value == "Kind" and sheet.max_row == len(rows) + 1
    with pytest.raises(ValueError):
        asyncio.run(mon.export("everything", "csv"))


def test_a_change_of_a_shown_job_reloads_the_anomalies(desk: MonitoringState) -> None:
    mon = desk
    asyncio.run(mon.set_tab("anomalies"))
    before = mon.anomalies
    asyncio.run(mon.on_changes(Change(order_ids=frozenset({"another-job"}))))
    assert mon.anomalies is before  # nothing shown changed: no request
    asyncio.run(mon.on_changes(Change(everything=True)))
    assert mon.anomalies is not before and mon.anomalies == before
