"""Planned outage notices on the customer's phone (synced ``outage`` rows): those still to
come or under way for an account's area, and the one a fault report should mention."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from mobile.i18n import fmt_time, t
from mobile.services.backend import Backend
from mobile.state.common import parse_dt
from shared.outages import covers, upcoming


@dataclass(frozen=True)
class OutageLine:
    id: str
    starts_at: datetime
    ends_at: datetime
    reason: str
    areas: str

    def text(self, lang: str) -> str:
        return t("outage_line", lang, start=fmt_time(self.starts_at, lang),
                 end=fmt_time(self.ends_at, lang), reason=self.reason)

    def warning(self, lang: str) -> str:
        return t("outage_report_warning", lang, start=fmt_time(self.starts_at, lang),
                 end=fmt_time(self.ends_at, lang), reason=self.reason)


def _area_of(backend: Backend, account_id: str) -> str | None:
    account = backend.row("account", account_id) if account_id else None
    return (account or {}).get("area_id")


def _lines(backend: Backend, area_id: str | None, now: datetime, *, covering: bool
           ) -> list[OutageLine]:
    out = []
    for o in backend.rows("outage"):
        starts, ends = parse_dt(o.get("starts_at")), parse_dt(o.get("ends_at"))
        status, areas = str(o.get("status") or ""), list(o.get("area_ids") or [])
        if area_id not in areas or starts is None or ends is None:
            continue
        keep = (covers(area_ids=areas, starts_at=starts, ends_at=ends, status=status,
                       area_id=area_id, at=now) if covering
                else upcoming(ends_at=ends, status=status, at=now))
        if keep:
            names = "、".join(str(a.get("name")) for a in o.get("areas") or [])
            out.append(OutageLine(str(o["id"]), starts, ends, str(o.get("reason") or ""),
                                  names))
    return sorted(out, key=lambda line: line.starts_at)


def account_outages(backend: Backend, account_id: str, now: datetime) -> list[OutageLine]:
    """Published notices for the account's area that are not over yet, soonest first."""
    return _lines(backend, _area_of(backend, account_id), now, covering=False)


def covering_outage(backend: Backend, account_id: str, now: datetime) -> OutageLine | None:
    """The notice under way (or starting within two hours) for the account's area."""
    lines = _lines(backend, _area_of(backend, account_id), now, covering=True)
    return lines[0] if lines else None
