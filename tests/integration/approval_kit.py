"""Helpers of API tests that need money or counts corrected: through four eyes, as the
product does it (one person records the change, another approves it)."""

from __future__ import annotations

from typing import Any

from shared.ids import new_id

B = "/api/v1/billing"
A = "/api/v1/supervision/approvals"


def approved_correction(as_user: Any, account_id: str, amount_fen: int, reason: str, *,
                        by: str = "agent1", approver: str = "admin") -> dict[str, Any]:
    """A balance correction recorded by ``by`` and approved by ``approver``; returns the
    approved request (its ``result_id`` is the ledger entry)."""
    r = as_user(by).post(f"{B}/accounts/{account_id}/corrections", json={
        "id": new_id(), "amount_fen": amount_fen, "reason": reason})
    assert r.status_code == 202, r.text
    done = as_user(approver).post(f"{A}/{r.json()['id']}/approve", json={})
    assert done.status_code == 200 and done.json()["status"] == "approved", done.text
    return done.json()  # type: ignore[no-any-return]


def approve(as_user: Any, request_id: str, approver: str = "manager1") -> dict[str, Any]:
    r = as_user(approver).post(f"{A}/{request_id}/approve", json={})
    assert r.status_code == 200, r.text
    return r.json()  # type: ignore[no-any-return]
