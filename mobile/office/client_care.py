"""The care-list page's calls (``/api/v1/care``) on top of ``OfficeClient``, so the two
files never change together."""

from __future__ import annotations

from typing import Any

from mobile.office.client import OfficeClient

C = "/api/v1/care"


class CareClient:
    def __init__(self, client: OfficeClient) -> None:
        self.c = client

    def entries(self) -> list[dict[str, Any]]:
        """The station's accounts on the care list (soonest review first)."""
        return self.c.get(f"{C}/entries")  # type: ignore[no-any-return]

    def requests(self, status: str | None = None) -> list[dict[str, Any]]:
        """Requested changes, newest first (``status``: pending / approved / refused)."""
        return self.c.get(f"{C}/requests", status=status)  # type: ignore[no-any-return]

    def request_change(self, body: dict[str, Any]) -> dict[str, Any]:
        """Ask to add (category, reason, review date) or remove (reason) an account."""
        return self.c.post(f"{C}/requests", body)  # type: ignore[no-any-return]

    def decide(self, request_id: str, approve: bool, note: str | None = None
               ) -> dict[str, Any]:
        body: dict[str, Any] = {"approve": approve}
        if note:
            body["note"] = note
        return self.c.post(f"{C}/requests/{request_id}/decision",  # type: ignore[no-any-return]
                           body)

    def find_account(self, account_no: str) -> dict[str, Any] | None:
        """The account with exactly this number (the desk's customer search), or None."""
        page = self.c.get("/api/v1/customers/search", q=account_no, limit=5)
        return next((a for a in page["items"] if a["account_no"] == account_no), None)
