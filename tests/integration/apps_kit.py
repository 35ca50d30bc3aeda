"""Helpers for the business-application tests: document photos, a valid application,
pushes of application ops, and walking an application through its steps."""

from __future__ import annotations

import hashlib
import io
from typing import Any

from PIL import Image

from shared.ids import new_id
from shared.timeutil import utcnow
from sync.protocol import PROTOCOL_VERSION

ID_CARD = "11010519491231002X"  # a valid check digit
OTHER_ID_CARD = "430102199001011234"


def jpeg(seed: int) -> bytes:
    out = io.BytesIO()
    img = Image.new("RGB", (64, 48), (seed % 256, 90, 30))
    img.putpixel((seed % 60, 3), (0, 255, 0))
    img.save(out, format="JPEG", quality=90)
    return out.getvalue()


def sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def upload(api: Any, data: bytes) -> str:
    digest = sha(data)
    r = api.client.put(f"/api/v1/photos/{digest}", params={"offset": 0}, content=data,
                       headers={**api.headers, "Content-Type": "application/octet-stream",
                                "X-Photo-Size": str(len(data)), "X-Photo-Type": "image/jpeg"})
    assert r.status_code == 200, r.text
    assert r.json()["status"] == "complete", r.text
    return digest


def body(world: Any, *, kind: str = "new_residential", docs: dict[str, str] | None = None,
         **over: Any) -> dict[str, Any]:
    data: dict[str, Any] = {
        "id": new_id(), "kind": kind, "applicant_name": "Li Hua", "contact_phone": "13912345678",
        "address": "8 Orchard Lane, Hilltop village", "id_card_no": ID_CARD,
        "capacity_kw": 8, "station_id": world.stations["s1"].id,
        "location": {"lat": 27.81, "lon": 112.91, "accuracy_m": 12.0},
        "documents": docs if docs is not None else {"id_card": sha(jpeg(1)),
                                                    "property_cert": sha(jpeg(2))}}
    data.update(over)
    return data


def submit_op(data: dict[str, Any], *, seq: int = 1, device: str = "device-cust1-0001"
              ) -> dict[str, Any]:
    payload = {k: v for k, v in data.items() if k != "id"}
    return {"op_id": new_id(), "device_id": device, "device_seq": seq,
            "lane": f"application:{data['id']}", "lane_prev": None,
            "type": "application.submit@1", "entity_id": data["id"], "payload": payload,
            "photos": sorted(set(payload.get("documents", {}).values())),
            "created_at": utcnow().isoformat()}


def op(type_: str, entity_id: str, payload: dict[str, Any], *, lane: str, seq: int,
       device: str, lane_prev: str | None = None) -> dict[str, Any]:
    return {"op_id": new_id(), "device_id": device, "device_seq": seq, "lane": lane,
            "lane_prev": lane_prev, "type": type_, "entity_id": entity_id, "payload": payload,
            "photos": [], "created_at": utcnow().isoformat()}


def push(api: Any, ops: list[dict[str, Any]], device: str) -> list[dict[str, Any]]:
    r = api.post("/api/v1/sync/push", json={"protocol": PROTOCOL_VERSION, "device_id": device,
                                            "sent_at": utcnow().isoformat(), "ops": ops})
    assert r.status_code == 200, r.text
    return r.json()["results"]


def pull_all(api: Any) -> dict[tuple[str, str], dict[str, Any]]:
    rows: dict[tuple[str, str], dict[str, Any]] = {}
    cursor = None
    while True:
        params = {"limit": 500, **({"cursor": cursor} if cursor else {})}
        r = api.get("/api/v1/sync/pull", params=params)
        assert r.status_code == 200, r.text
        page = r.json()
        for c in page["changes"]:
            if c["deleted"]:
                rows.pop((c["entity"], c["id"]), None)
            else:
                rows[(c["entity"], c["id"])] = c["row"]
        cursor = page["next_cursor"]
        if not page["has_more"]:
            return rows


def walk_job(api: Any, order_id: str, resolution: str) -> None:
    for action, payload in (("accept", {}), ("arrive", {"gps": None}),
                            ("resolve", {"resolution": resolution})):
        r = api.post(f"/api/v1/work-orders/{order_id}/{action}", json=payload)
        assert r.status_code == 200, (action, r.text)
