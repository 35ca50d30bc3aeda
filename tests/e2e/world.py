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


def account(api: ApiServer, name: str = "Customer acc1", dispatcher: str = "dispatcher1"
            ) -> dict[str, Any]:
    with api.client(dispatcher) as c:
        items = c.get("/api/v1/accounts", params={"limit": 100}).json()["items"]
    return next(a for a in items if a["name"] == name)


def dispatched_job(api: ApiServer, *, kind: str, assignee: str, description: str,
                   priority: str = "normal", account_name: str = "Customer acc1",
                   dispatcher: str = "dispatcher1") -> dict[str, Any]:
    """A job reported on the hotline (by ``dispatcher``, of the account's station) and
    dispatched to ``assignee``."""
    acc = account(api, account_name, dispatcher)
    with api.client(dispatcher) as c:
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


def act_while_down(api: ApiServer, username: str, order_id: str, action: str,
                   **data: Any) -> None:
    """What the office does while the phone has no signal, written straight into the
    stopped server's database through the service layer (the API is down)."""
    from server.db import make_database
    from server.uow import UnitOfWork
    from server.work_orders import service
    from shared.workorders.state_machine import Action
    from tests.conftest import actor_for

    assert api.proc.proc is None or api.proc.proc.poll() is not None, "the API must be down"
    db = make_database(f"sqlite:///{api.data_dir / 'gridone.db'}")
    try:
        actor = actor_for(db, user_id_in(db, username))
        with UnitOfWork(db, actor) as uow:
            service.act(uow, actor=actor, order_id=order_id, action=Action(action), data=data)
            uow.commit()
    finally:
        db.dispose()


def user_id_in(db: Any, username: str) -> str:
    from sqlmodel import Session, select

    from server.users.models import User

    with Session(db.reader) as s:
        return str(s.exec(select(User.id).where(User.username == username)).one())
