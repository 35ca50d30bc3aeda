"""A small, known world for API tests: two stations, one user of every role per station,
customers with accounts and meters, and meters in stock."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import timedelta

from sqlmodel import Session

from server.auth.security import hash_password
from server.customers.models import Account
from server.customers.service import document_digest, mask_document
from server.db import Database
from server.meters.models import Meter
from server.stations.models import Station, TransformerArea
from server.users.models import User
from shared.enums import AreaClass, MeterStatus, Role
from shared.timeutil import utcnow

PASSWORD = "Test-pass-123"
PEPPER = "test-pepper-" + "p" * 32
_HASH: list[str] = []


@dataclass
class World:
    stations: dict[str, Station] = field(default_factory=dict)
    areas: dict[str, TransformerArea] = field(default_factory=dict)
    users: dict[str, User] = field(default_factory=dict)
    accounts: dict[str, Account] = field(default_factory=dict)
    meters: dict[str, Meter] = field(default_factory=dict)

    def user(self, name: str) -> User:
        return self.users[name]


def build_world(db: Database) -> World:
    if not _HASH:
        _HASH.append(hash_password(PASSWORD))
    w = World()
    now = utcnow()
    with Session(db.writer, expire_on_commit=False) as s:
        for key, code in (("s1", "ST01"), ("s2", "ST02")):
            w.stations[key] = Station(code=code, name=f"Station {code}", county="Test County")
        s.add_all(w.stations.values())
        s.flush()
        for key, st, cls in (("town", "s1", AreaClass.TOWN), ("rural", "s1", AreaClass.RURAL),
                             ("remote", "s2", AreaClass.REMOTE)):
            w.areas[key] = TransformerArea(code=f"TA-{key}", name=f"Area {key}",
                                           station_id=w.stations[st].id, rated_kva=400,
                                           area_class=cls)
        s.add_all(w.areas.values())
        s.flush()
        specs = [
            ("admin", Role.ADMIN, None), ("dispatcher1", Role.DISPATCHER, "s1"),
            ("dispatcher2", Role.DISPATCHER, "s2"), ("manager1", Role.MANAGER, "s1"),
            ("crew1", Role.CREW, "s1"), ("crew1b", Role.CREW, "s1"), ("crew2", Role.CREW, "s2"),
            ("tech1", Role.METER_TECH, "s1"), ("tech2", Role.METER_TECH, "s2"),
            ("agent1", Role.AGENT, "s1"), ("agent2", Role.AGENT, "s2"),
            ("customer1", Role.CUSTOMER, None), ("customer2", Role.CUSTOMER, None),
            ("customer3", Role.CUSTOMER, None),
        ]
        for name, role, st in specs:
            w.users[name] = User(username=name, password_hash=_HASH[0], role=role,
                                 display_name=name.title(), phone="13800000000",
                                 station_id=w.stations[st].id if st else None)
        s.add_all(w.users.values())
        s.flush()
        for key, owner, area, idc in (("acc1", "customer1", "town", "430102199001011234"),
                                      ("acc2", "customer2", "rural", "430102199202022345"),
                                      ("acc3", "customer3", "remote", "430102199303033456")):
            a = w.areas[area]
            w.accounts[key] = Account(
                account_no=f"77{len(w.accounts):08d}", name=f"Customer {key}",
                phone="13900000000", address=f"{key} Road 1", lat=27.8, lon=112.9,
                station_id=a.station_id, area_id=a.id, owner_user_id=w.users[owner].id,
                id_card_digest=document_digest(idc, pepper=PEPPER),
                id_card_masked=mask_document(idc), balance_fen=5000)
        s.add_all(w.accounts.values())
        s.flush()
        for key, acc in (("m1", "acc1"), ("m2", "acc2"), ("m3", "acc3")):
            account = w.accounts[acc]
            w.meters[key] = Meter(
                meter_no=f"MTR-{key.upper()}-0001", model="DDZY-1", status=MeterStatus.INSTALLED,
                account_id=account.id, area_id=account.area_id, station_id=account.station_id,
                purchase_count=7, balance_fen=5000, card_no="1234567890",
                last_reading_centi=100_000, last_reading_at=now - timedelta(days=1),
                installed_at=now - timedelta(days=400))
        for key, st in (("stock1", "s1"), ("stock2", "s1"), ("stock3", "s2")):
            w.meters[key] = Meter(meter_no=f"NEW-{key.upper()}", model="DDZY-2",
                                  status=MeterStatus.IN_STOCK, station_id=w.stations[st].id)
        w.meters["removed"] = Meter(meter_no="OLD-REMOVED-1", model="DDZY-0",
                                    status=MeterStatus.REMOVED,
                                    station_id=w.stations["s1"].id)
        s.add_all(w.meters.values())
        s.commit()
    return w
