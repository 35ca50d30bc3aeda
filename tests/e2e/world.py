"""Set-up and checks through the API, as the office would do them."""

from __future__ import annotations

import io
from pathlib import Path
from typing import Any

from PIL import Image, ImageDraw

from tests.e2e.conftest import ApiServer


def user_id(api: ApiServer, username: str) -> str:
    with api.client(username) as c:
        return str(c.get("/api/v1/me").json()["id"])


def account(api: ApiServer, name: str = "Customer acc1") -> dict[str, Any]:
    with api.client("dispatcher1") as c:
        items = c.get("/api/v1/accounts", params={"limit": 100}).json()["items"]
    return next(a for a in items if a["name"] == name)


def dispatched_job(api: ApiServer, *, kind: str, assignee: str, description: str,
                   priority: str = "normal", account_name: str = "Customer acc1"
                   ) -> dict[str, Any]:
    """A job reported on the hotline and dispatched to ``assignee``."""
    acc = account(api, account_name)
    with api.client("dispatcher1") as c:
        r = c.post("/api/v1/work-orders", json={
            "kind": kind, "account_id": acc["id"], "description": description,
            "priority": priority})
        r.raise_for_status()
        job = r.json()
        r = c.post(f"/api/v1/work-orders/{job['id']}/dispatch",
                   json={"assignee_id": user_id(api, assignee)})
        r.raise_for_status()
        return r.json()  # type: ignore[no-any-return]


def get_job(api: ApiServer, order_id: str, as_user: str = "dispatcher1") -> dict[str, Any]:
    with api.client(as_user) as c:
        r = c.get(f"/api/v1/work-orders/{order_id}")
        r.raise_for_status()
        return r.json()  # type: ignore[no-any-return]


def jpeg(path: Path, *, color: tuple[int, int, int] = (200, 120, 40),
         size: tuple[int, int] = (2600, 1700), text: str = "") -> Path:
    """A camera-sized JPEG (larger than the app keeps: it downscales on the phone)."""
    img = Image.new("RGB", size, color)
    d = ImageDraw.Draw(img)
    w, h = size
    d.ellipse([w // 3, h // 4, 2 * w // 3, 3 * h // 4], fill=(30, 90, 160))
    if text:
        d.text((40, 40), text, fill=(255, 255, 255))
    buf = io.BytesIO()
    img.save(buf, format="JPEG", quality=90)
    path.write_bytes(buf.getvalue())
    return path
