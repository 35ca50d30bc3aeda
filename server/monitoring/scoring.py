"""Scoring the detector against the simulator's ground truth.

Precision and recall per injected case kind: a theft is found when its meter was made a
``loss_suspect``, a stopped meter when it was a ``meter_stopped`` anomaly, a mis-mapped
customer when it was a ``mapping_suspect``; an overloaded transformer when its area had an
``overload`` anomaly. Every anomaly of the period counts, open or closed (each is one
case, kept once). Only this module and the tests read the truth file.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlmodel import Session, col, select

from server.meters.models import Meter
from server.monitoring.models import Anomaly
from server.stations.models import TransformerArea

#: truth key -> (anomaly kind, what identifies a case)
CASES = {"theft": ("loss_suspect", "meter_no"), "stopped": ("meter_stopped", "meter_no"),
         "mis_mapped": ("mapping_suspect", "meter_no"), "overload": ("overload", "area")}


@dataclass(frozen=True)
class Score:
    case: str
    injected: int
    flagged: int
    found: int

    @property
    def precision(self) -> float | None:
        return self.found / self.flagged if self.flagged else None

    @property
    def recall(self) -> float | None:
        return self.found / self.injected if self.injected else None

    def line(self) -> str:
        def pct(v: float | None) -> str:
            return "—" if v is None else f"{v:.0%}"

        return (f"{self.case:<11} injected {self.injected:>3}  flagged {self.flagged:>3}  "
                f"found {self.found:>3}  precision {pct(self.precision):>5}  "
                f"recall {pct(self.recall):>5}")


def flagged(session: Session) -> dict[str, set[str]]:
    """Meter numbers (area codes for overload) the detector flagged, by anomaly kind."""
    out: dict[str, set[str]] = {kind: set() for kind, _ in CASES.values()}
    rows = session.exec(select(col(Anomaly.kind), col(Meter.meter_no), col(TransformerArea.code))
                        .join(TransformerArea, col(TransformerArea.id) == col(Anomaly.area_id))
                        .outerjoin(Meter, col(Meter.id) == col(Anomaly.meter_id))
                        .where(col(Anomaly.kind).in_(list(out)))).all()
    for kind, meter_no, area_code in rows:
        out[kind].add(area_code if kind == "overload" else meter_no)
    return out


def score(session: Session, truth: dict[str, Any]) -> list[Score]:
    seen = flagged(session)
    out = []
    for case, (kind, key) in CASES.items():
        injected = {t[key] for t in truth.get(case, [])
                    if case != "overload" or t.get("days")}
        hits = seen[kind]
        out.append(Score(case, len(injected), len(hits), len(hits & injected)))
    return out
