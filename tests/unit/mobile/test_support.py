"""A device for the app's state tests: the real ``EngineBackend`` over a real local store
(no server: rows arrive as a pull would bring them), plus checks of that backend itself.

The other ``test_mobile_*`` modules import ``device``, ``pull`` and the row makers."""

from __future__ import annotations

import io
from collections.abc import Iterator
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from PIL import Image

from mobile.services.engine_backend import EngineBackend
from shared.enums import Role
from shared.ids import new_id
from shared.timeutil import utcnow
from sync.client import rows
from sync.client.store import SignedIn
from sync.client.timefmt import to_iso

STATION, AREA, ACCOUNT, METER = new_id(), new_id(), new_id(), new_id()
CREW = SignedIn(new_id(), Role.CREW, username="crew1", display_name="Crew One",
                station_id=STATION)
TECH = SignedIn(new_id(), Role.METER_TECH, username="tech1", display_name="Tech One",
                station_id=STATION)
CUSTOMER = SignedIn(new_id(), Role.CUSTOMER, username="customer1",
                    display_name="Customer One", account_ids=(ACCOUNT,))
SERVER = "http://127.0.0.1:9"


def order_row(who: SignedIn = CREW, **kw: Any) -> dict[str, Any]:
    now = utcnow()
    row: dict[str, Any] = {
        "id": new_id(), "code": "WO26112700001", "kind": "fault_repair",
        "status": "dispatched", "priority": "normal", "channel": "hotline",
        "station_id": STATION, "area_id": AREA, "area_class": "town", "account_id": ACCOUNT,
        "meter_id": METER, "assignee_id": who.user_id if who.role != Role.CUSTOMER else None,
        "description": "No power in the house", "address": "1 River Road", "lat": 27.8,
        "lon": 112.9, "reported_at": to_iso(now - timedelta(minutes=10)),
        "arrive_by": to_iso(now + timedelta(minutes=35)),
        "complete_by": to_iso(now + timedelta(hours=2, minutes=50)), "arrived_at": None,
        "resolved_at": None, "last_activity_at": to_iso(now - timedelta(minutes=10)),
        "help_requested": False, "version": 2, "assignee_name": "Crew One",
        "assignee_phone": "13800000000", "account_no": "7700000000",
        "meter_no": "MTR-0001"}
    row.update(kw)
    return row


def base_rows(*, last_reading_centi: int = 100_000,
              last_reading_at: datetime | None = None) -> list[tuple[str, dict[str, Any]]]:
    at = last_reading_at or utcnow() - timedelta(days=1)
    return [
        ("transformer_area", {"id": AREA, "station_id": STATION, "area_class": "town"}),
        ("account", {"id": ACCOUNT, "account_no": "7700000000", "name": "Mrs Li",
                     "address": "1 River Road", "phone": "13900000000", "lat": 27.8,
                     "lon": 112.9, "area_id": AREA, "station_id": STATION,
                     "balance_fen": 1250, "care_flag": True, "care_reason": "elderly"}),
        ("meter", {"id": METER, "meter_no": "MTR-0001", "status": "installed",
                   "account_id": ACCOUNT, "station_id": STATION,
                   "last_reading_centi": last_reading_centi,
                   "last_reading_at": to_iso(at), "balance_fen": 1250}),
        ("meter", {"id": new_id(), "meter_no": "NEW-0001", "status": "in_stock",
                   "account_id": None, "station_id": STATION}),
        ("meter", {"id": new_id(), "meter_no": "OLD-0009", "status": "removed",
                   "account_id": None, "station_id": STATION}),
    ]


def pull(backend: EngineBackend, items: list[tuple[str, dict[str, Any]]]) -> None:
    with backend.store.write() as conn:
        rows.apply_changes(conn, [{"entity": e, "id": r["id"], "version": r.get("version", 1),
                                   "row": r} for e, r in items])


def jpeg_bytes(size: tuple[int, int] = (2400, 1800), color: tuple[int, int, int] = (200, 90, 30)
               ) -> bytes:
    buf = io.BytesIO()
    Image.new("RGB", size, color).save(buf, format="JPEG", quality=85)
    return buf.getvalue()


def make_device(folder: Path, who: SignedIn | None = CREW) -> EngineBackend:
    """A device with ``who`` signed in (tokens on the device) and the base rows pulled."""
    backend = EngineBackend(folder, lang="en")
    if who is not None:
        backend.store.sign_in(who, access="access-token", refresh="refresh-token")
        backend._save_settings(server_url=SERVER)
        pull(backend, base_rows())
    return backend


@pytest.fixture
def device(tmp_path: Path) -> Iterator[EngineBackend]:
    backend = make_device(tmp_path / "device")
    yield backend
    backend.close()


# -- the backend itself ---------------------------------------------------------------
def test_the_session_survives_a_restart_without_a_signal(tmp_path: Path) -> None:
    first = make_device(tmp_path / "d")
    first.close()
    again = EngineBackend(tmp_path / "d")
    try:
        session = again.session()
        assert session is not None
        assert (session.username, session.role, session.server_url) == ("crew1", Role.CREW,
                                                                          SERVER)
        assert again.my_jobs() == []
    finally:
        again.close()


def test_a_restart_shows_the_device_before_it_makes_its_connection(tmp_path: Path) -> None:
    """The app's first screen (session, jobs, sync status) comes from the device alone; the
    transport (httpx in its imports: ~0.25 s of the browser app's start) is made by the
    first sync pass, once, for the server the device was signed in to."""
    make_device(tmp_path / "d").close()
    made: list[str] = []

    def transport(base_url: str, tokens: Any, **kw: Any) -> Any:
        from sync.client.transport import Transport

        made.append(base_url)
        return Transport(base_url, tokens, **kw)

    again = EngineBackend(tmp_path / "d", transport=transport)
    try:
        assert again.session() is not None and again.my_jobs() == []
        assert again.status().waiting == 0 and again.status().online is None
        assert made == []
        again.sync_once()  # nothing listens on port 9: recorded as offline, not raised
        again.sync_once()
        assert made == [SERVER]
        status = again.status()
        assert status.online is False and status.last_error is not None
        assert status.last_error.code == "SYNC_OFFLINE"
    finally:
        again.close()


def test_signing_out_forgets_the_tokens_and_keeps_unsent_work(device: EngineBackend) -> None:
    job = order_row()
    pull(device, [("work_order", job)])
    device.act(job["id"], "accept", {})
    device.sign_out()  # the server cannot be reached: the outbox stays
    assert device.session() is None
    assert device.status().waiting == 1


def test_status_counts_pending_ops_and_photo_bytes(device: EngineBackend) -> None:
    job = order_row(status="on_site", arrived_at=to_iso(utcnow()))
    pull(device, [("work_order", job)])
    sha = device.add_photo(job["id"], jpeg_bytes())
    status = device.status()
    assert status.waiting == 1
    assert status.by_state["pending"] == 1
    assert status.photos_waiting == 1
    assert 0 < status.photo_bytes_left == status.photo_bytes_total
    assert status.oldest_waiting_at is not None
    assert [o.action for o in status.ops] == ["add_photo"]
    assert device.thumbnail(sha) is not None
    with Image.open(io.BytesIO(device.thumbnail(sha) or b"")) as thumb:
        assert max(thumb.size) <= 240


def test_photos_are_downscaled_on_the_device(device: EngineBackend) -> None:
    from sync.client import photos

    sha = device.store_photo(jpeg_bytes((4000, 3000)))
    with Image.open(photos.path_for(device.photo_dir, sha)) as img:
        assert max(img.size) == photos.MAX_SIDE == 1600


def test_an_unknown_action_is_refused(device: EngineBackend) -> None:
    with pytest.raises(ValueError):
        device.act(new_id(), "teleport", {})
