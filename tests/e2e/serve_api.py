"""Run the GridOne API for the browser tests: ``python -m tests.e2e.serve_api DIR PORT``.

On first start the SQLite database in DIR is migrated and filled with the small known
world of ``tests.factories``; later starts (the test restarts the server to bring it
"back online") reuse it as it is.
"""

from __future__ import annotations

import sys
from datetime import datetime, time, timedelta
from pathlib import Path

import uvicorn
from sqlmodel import Session

from server.app import create_app
from server.config import Settings
from server.customers.models import Account
from server.db import Database, make_database
from server.meters.models import Meter, MeterReading
from server.migrate import upgrade
from shared.enums import MeterStatus, ReadingSource
from shared.timeutil import LOCAL_TZ, utcnow
from tests.factories import PEPPER, World, build_world

SECRET = "e2e-secret-" + "s" * 40


def add_usage_and_care(db: Database, world: World) -> None:
    """30 days of daily readings for the customers' meters (the usage chart), and
    customer1's account on the care list."""
    today = utcnow().astimezone(LOCAL_TZ).date()
    with Session(db.writer) as s:
        for key, acc in (("m1", "acc1"), ("m2", "acc2"), ("m3", "acc3")):
            meter, account = world.meters[key], world.accounts[acc]
            value = 100_000 - 31 * 900
            for back in range(31, 0, -1):
                day = today - timedelta(days=back)
                value += 400 + (back * 37) % 900  # 4-13 kWh a day
                s.add(MeterReading(meter_id=meter.id, account_id=account.id, read_date=day,
                                   read_at=datetime.combine(day, time(23, 0), LOCAL_TZ),
                                   value_centi=value, source=ReadingSource.ACTUAL))
        care = s.get(Account, world.accounts["acc1"].id)
        assert care is not None
        care.care_flag = True
        care.care_reason = "elderly living alone"
        s.add(care)
        s.commit()


#: A walk-in customer the counter clerk finds by ID card (issue 10): station 1, town area.
ZHANG_WEI_ID = "430624198503120018"


def add_zhang_wei(db: Database, world: World) -> None:
    from server.customers.service import document_digest, mask_document

    town = world.areas["town"]
    today = utcnow().astimezone(LOCAL_TZ).date()
    with Session(db.writer) as s:
        account = Account(account_no="7700000100", name="张伟", phone="13807300001",
                          address="城关镇解放路 18 号", lat=27.8, lon=112.9,
                          station_id=town.station_id, area_id=town.id,
                          id_card_digest=document_digest(ZHANG_WEI_ID, pepper=PEPPER),
                          id_card_masked=mask_document(ZHANG_WEI_ID), balance_fen=8650)
        meter = Meter(meter_no="MTR-ZW-0001", model="DDZY-1", status=MeterStatus.INSTALLED,
                      account_id=account.id, area_id=town.id, station_id=town.station_id,
                      purchase_count=3, balance_fen=8650, last_reading_centi=52_000,
                      installed_at=utcnow() - timedelta(days=200))
        s.add_all([account, meter])
        s.flush()
        value = 52_000 - 20 * 650
        for back in range(20, 0, -1):
            day = today - timedelta(days=back)
            value += 500 + (back * 53) % 400
            s.add(MeterReading(meter_id=meter.id, account_id=account.id, read_date=day,
                               read_at=datetime.combine(day, time(23, 0), LOCAL_TZ),
                               value_centi=value, source=ReadingSource.ACTUAL))
        s.commit()


def main(data_dir: Path, port: int) -> None:
    data_dir.mkdir(parents=True, exist_ok=True)
    db_path = data_dir / "gridone.db"
    url = f"sqlite:///{db_path}"
    fresh = not db_path.exists()
    upgrade(url)
    if fresh:
        db = make_database(url)
        try:
            world = build_world(db)
            add_usage_and_care(db, world)
            add_zhang_wei(db, world)
        finally:
            db.dispose()
    settings = Settings(env="test", data_dir=data_dir, database_url=url, secret_key=SECRET,
                        lookup_pepper=PEPPER)
    app = create_app(settings, migrate=False)
    # a long poll still open at shutdown is cut after 2 s (the phones poll again)
    uvicorn.run(app, host="127.0.0.1", port=port, log_level="warning", timeout_graceful_shutdown=2)


if __name__ == "__main__":
    main(Path(sys.argv[1]), int(sys.argv[2]))
