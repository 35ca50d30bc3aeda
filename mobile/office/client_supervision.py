"""The supervision screens' calls (reviews, four-eyes approvals, audit, overview, the desk's
customer lookup) on top of ``OfficeClient``, so the two files never change together."""

from __future__ import annotations

from typing import Any

from mobile.office.client import OfficeClient, OfficeError, Offline, SignedOut
from sync.client.errors import AuthRequired, PermanentError, TransientError

S = "/api/v1/supervision"


class SupervisionClient:
    def __init__(self, client: OfficeClient) -> None:
        self.c = client

    # -- reviews ------------------------------------------------------------------------
    def reviews(self, **query: Any) -> dict[str, Any]:
        return self.c.get(f"{S}/reviews", **query)  # type: ignore[no-any-return]

    def review(self, order_id: str, outcome: str, reason: str | None = None
               ) -> dict[str, Any]:
        body: dict[str, Any] = {"outcome": outcome}
        if reason:
            body["reason"] = reason
        return self.c.post(f"{S}/reviews/{order_id}", body)  # type: ignore[no-any-return]

    def set_review_rule(self, kind: str, percent: int) -> dict[str, Any]:
        return self.c.put(f"{S}/review-rules/{kind}",  # type: ignore[no-any-return]
                          {"percent": percent})

    # -- four eyes ----------------------------------------------------------------------
    def approvals(self, **query: Any) -> dict[str, Any]:
        return self.c.get(f"{S}/approvals", **query)  # type: ignore[no-any-return]

    def request_approval(self, body: dict[str, Any]) -> dict[str, Any]:
        return self.c.post(f"{S}/approvals", body)  # type: ignore[no-any-return]

    def decide(self, request_id: str, approve: bool, reason: str | None = None
               ) -> dict[str, Any]:
        verb = "approve" if approve else "reject"
        return self.c.post(f"{S}/approvals/{request_id}/{verb}",  # type: ignore[no-any-return]
                           {"reason": reason} if reason else {})

    # -- audit, overview ----------------------------------------------------------------
    def audit(self, **query: Any) -> dict[str, Any]:
        return self.c.get(f"{S}/audit", **query)  # type: ignore[no-any-return]

    def audit_csv(self, **query: Any) -> bytes:
        """The CSV export's bytes (the same refusals as any call)."""
        params = {k: v for k, v in query.items() if v not in (None, "")}
        try:
            resp = self.c._t.call("GET", f"{S}/audit.csv", params=params)
        except AuthRequired as exc:
            raise SignedOut(exc.message, code=exc.code, status=exc.status) from exc
        except TransientError as exc:
            raise Offline(exc.message, code=exc.code, status=exc.status) from exc
        except PermanentError as exc:
            raise OfficeError(exc.message, code=exc.code, status=exc.status) from exc
        return resp.content

    def overview(self, **query: Any) -> dict[str, Any]:
        return self.c.get(f"{S}/overview", **query)  # type: ignore[no-any-return]

    # -- customers ----------------------------------------------------------------------
    def search(self, q: str, limit: int = 20, offset: int = 0) -> dict[str, Any]:
        return self.c.get("/api/v1/customers/search", q=q,  # type: ignore[no-any-return]
                          limit=limit, offset=offset)

    def account_view(self, account_id: str) -> dict[str, Any]:
        return self.c.get(f"/api/v1/customers/{account_id}")  # type: ignore[no-any-return]
