"""Helpers of the dispatch desk's API tests: answers, refusals, set-up through services."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlmodel import Session

from server.auth.security import hash_password
from server.db import Database
from server.users.models import User
from shared.enums import Role

D = "/api/v1/dispatch"
WO = "/api/v1/work-orders"


def ok(response: Any, status: int = 200) -> Any:
    assert response.status_code == status, response.text
    return response.json()


def refused(response: Any, status: int, code: str) -> dict[str, Any]:
    assert response.status_code == status, response.text
    body = response.json()
    assert body["code"] == code, body
    assert body["message"]
    return body  # type: ignore[no-any-return]


def put(api: Any, url: str, body: Any) -> Any:
    return api.client.put(url, headers=api.headers, json=body)


def ids(page: dict[str, Any]) -> list[str]:
    return [row["id"] for row in page["items"]]


def add_user(db: Database, username: str, role: Role, station_id: str | None = None,
             active: bool = True) -> str:
    """A user the shared test world lacks (a county dispatcher, a second manager)."""
    with Session(db.writer) as s:
        user = User(username=username, password_hash=hash_password("x" * 12), role=role,
                    display_name=username.title(), station_id=station_id, active=active)
        s.add(user)
        s.commit()
        return user.id


def ts(value: str) -> datetime:
    return datetime.fromisoformat(value)
