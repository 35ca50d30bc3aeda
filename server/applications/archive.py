"""The archive of a completed application: one immutable record of its documents (content
hashes, who sent them, when) and its decisions (every step: who, when, what), with the
SHA-256 of the record. The table is append-only (the database refuses changes)."""

from __future__ import annotations

import hashlib
import json
from datetime import datetime
from typing import Any

from sqlmodel import select

from server.applications.models import Application, ApplicationArchive
from server.photos.models import Photo, PhotoLink
from server.uow import UnitOfWork
from shared.workorders.state_machine import Actor


def record_of(uow: UnitOfWork, app: Application, *, at: datetime) -> dict[str, Any]:
    session = uow.session
    hashes = [d["sha256"] for d in app.documents]
    photos = {p.sha256: p for p in session.exec(select(Photo).where(
        Photo.sha256.in_(hashes))).all()} if hashes else {}  # type: ignore[attr-defined]
    documents = []
    for d in app.documents:
        p = photos.get(d["sha256"])
        documents.append({**d, "received": bool(p and p.status == "complete"),
                          "stored_sha256": p.stored_sha256 if p else None,
                          "size": p.size if p else None})
    job_ids = [i for i in (app.survey_order_id, app.install_order_id) if i]
    job_photos = [{"work_order_id": link.work_order_id, "sha256": link.sha256,
                   "purpose": link.purpose, "added_by": link.added_by,
                   "added_at": link.added_at.isoformat()}
                  for link in session.exec(select(PhotoLink).where(
                      PhotoLink.work_order_id.in_(job_ids))).all()  # type: ignore[union-attr]
                  ] if job_ids else []
    return {
        "application": {"id": app.id, "code": app.code, "kind": app.kind,
                        "channel": app.channel, "station_id": app.station_id,
                        "area_id": app.area_id, "account_id": app.account_id,
                        "applicant_name": app.applicant_name,
                        "id_card_masked": app.id_card_masked,
                        "id_card_digest": app.id_card_digest,
                        "contact_phone": app.contact_phone, "address": app.address,
                        "capacity_kw": app.capacity_kw, "opening_fen": app.opening_fen,
                        "meter_id": app.meter_id, "findings": app.findings,
                        "submitted_by": app.submitted_by,
                        "submitted_at": app.submitted_at.isoformat()},
        "documents": documents,
        "decisions": list(app.steps),
        "job_photos": job_photos,
        "completed_at": at.isoformat(),
    }


def canonical_hash(record: dict[str, Any]) -> str:
    raw = json.dumps(record, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(raw.encode()).hexdigest()


def archive(uow: UnitOfWork, app: Application, *, actor: Actor, at: datetime
            ) -> ApplicationArchive:
    record = record_of(uow, app, at=at)
    row = ApplicationArchive(application_id=app.id, station_id=app.station_id, record=record,
                             record_sha256=canonical_hash(record), archived_by=actor.user_id,
                             archived_at=at)
    uow.session.add(row)
    uow.audit(action="application.archive", entity="application", entity_id=app.id,
              after={"record_sha256": row.record_sha256, "documents": len(app.documents)})
    return row
