"""The desk's applications page: the station's applications (what waits at which step,
and for how long), one application's file (documents, steps, the archive) with the
decision its step needs (accept — area and surveyor —, return with a reason, approve the
scheme — opening balance and installer —, reject), and the counter clerk's walk-in
application with the customer looked up by ID number. Everything goes through the same
API the phone uses (``/api/v1/applications``)."""

from __future__ import annotations

import hashlib
import io
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import flet as ft
from PIL import Image

from mobile.office.client import OfficeClient, OfficeError
from mobile.office.context import OfficeContext
from mobile.office.i18n import t
from mobile.state.common import parse_dt
from shared.applications.kinds import ApplicationKind, Step, spec_of
from shared.applications.rules import check_submission
from shared.errors import DomainError, FieldErrors
from shared.ids import new_id
from shared.messages import translate
from shared.timeutil import utcnow

FILTERS = ("open", "returned", "completed", "all")
PHOTO_LONG_SIDE = 2000


# -- the API calls (the office client's generic request, plus the photo bytes) -----------
def list_apps(client: OfficeClient, status: str) -> dict[str, Any]:
    params: dict[str, Any] = {"limit": 100}
    if status != "all":
        params["status"] = status
    return client.get("/api/v1/applications", **params)  # type: ignore[no-any-return]


def document_bytes(client: OfficeClient, app_id: str, sha: str) -> bytes | None:
    try:
        resp = client._t.call("GET", f"/api/v1/applications/{app_id}/documents/{sha}")
    except Exception:
        return None
    return resp.content if resp.status_code == 200 else None


def downscale(data: bytes) -> bytes:
    """As the phone does on capture: about 2000 px on the long side, JPEG."""
    with Image.open(io.BytesIO(data)) as img:
        img = img.convert("RGB")
        img.thumbnail((PHOTO_LONG_SIDE, PHOTO_LONG_SIDE))
        out = io.BytesIO()
        img.save(out, format="JPEG", quality=85)
    return out.getvalue()


def upload_photo(client: OfficeClient, data: bytes) -> str:
    """Upload a document photo in one verified chunk (the server checks the hash)."""
    sha = hashlib.sha256(data).hexdigest()
    resp = client._t.call("PUT", f"/api/v1/photos/{sha}", params={"offset": 0},
                          content=data, headers={"Content-Type": "application/octet-stream",
                                                 "X-Photo-Size": str(len(data)),
                                                 "X-Photo-Type": "image/jpeg"})
    if resp.status_code != 200:
        raise OfficeError(resp.text[:200], code="PHOTO", status=resp.status_code)
    return sha


@ft.observable
@dataclass
class DeskAppsState:
    octx: OfficeContext = field(compare=False, repr=False)
    filter: str = "open"
    items: list[dict[str, Any]] = field(default_factory=list)
    selected: dict[str, Any] | None = None
    doc_images: dict[str, bytes] = field(default_factory=dict)
    archive: dict[str, Any] | None = None
    areas: list[dict[str, Any]] = field(default_factory=list)
    staff: list[dict[str, Any]] = field(default_factory=list)
    # the decision form
    area_id: str = ""
    assignee_id: str = ""
    reason: str = ""
    return_docs: list[str] = field(default_factory=list)
    opening_yuan: str = ""
    errors: dict[str, str] = field(default_factory=dict)
    busy: bool = False
    message: str = ""
    mode: str = "list"  # list | walk_in

    @property
    def lang(self) -> str:
        return self.octx.client.lang

    @property
    def client(self) -> OfficeClient:
        return self.octx.client

    async def load(self) -> None:
        try:
            got = await self.octx.call(list_apps, self.client, self.filter)
        except OfficeError as exc:
            self.errors = {"list": exc.message}
            return
        self.items = got["items"]
        if self.selected is not None:
            fresh = next((a for a in self.items if a["id"] == self.selected["id"]), None)
            if fresh is not None:
                self.selected = fresh

    async def set_filter(self, name: str) -> None:
        self.filter = name
        await self.load()

    async def open(self, app: dict[str, Any]) -> None:
        self.selected, self.archive, self.doc_images = app, None, {}
        self.errors, self.message, self.reason, self.return_docs = {}, "", "", []
        self.area_id = app.get("area_id") or ""
        self.assignee_id, self.opening_yuan = "", ""
        c = self.client
        station = app["station_id"]
        try:
            self.areas = await self.octx.call(c.get, f"/api/v1/stations/{station}/areas")
        except OfficeError:
            self.areas = []
        try:
            self.staff = await self.octx.call(c.get, f"/api/v1/applications/{app['id']}/workers")
        except OfficeError:
            self.staff = []
        for d in app.get("documents") or []:
            data = await self.octx.call(document_bytes, c, app["id"], d["sha256"])
            if data:
                self.doc_images[d["sha256"]] = data
        if app["status"] == "completed":
            try:
                self.archive = await self.octx.call(
                    c.get, f"/api/v1/applications/{app['id']}/archive")
            except OfficeError:
                self.archive = None

    def workers(self, step: str) -> list[dict[str, Any]]:
        roles = {r.value for r in spec_of(self.selected["kind"]).spec(Step(step)).roles} \
            if self.selected else set()
        return [s for s in self.staff if s.get("role") in roles]

    def next_job_step(self) -> str | None:
        """The job step the current decision leads to (whose worker the desk names)."""
        if not self.selected:
            return None
        spec = spec_of(self.selected["kind"])
        nxt = spec.next_step(Step(self.selected["step"]))
        return nxt.value if nxt and spec.spec(nxt).mode.value == "job" else None

    def actions(self) -> list[str]:
        app = self.selected
        if not app or app["status"] != "open":
            return []
        step = app["step"]
        if step == Step.ACCEPTANCE:
            return ["accept", "return", "reject"]
        if spec_of(app["kind"]).spec(Step(step)).mode.value == "decision":
            return ["approve", "reject"]
        return []

    def body(self, action: str) -> dict[str, Any] | None:
        errors: dict[str, str] = {}
        body: dict[str, Any] = {}
        if action == "accept":
            if self.area_id:
                body["area_id"] = self.area_id
            elif spec_of(self.selected["kind"]).new_account:  # type: ignore[index]
                errors["area_id"] = translate("APP_AREA_REQUIRED", self.lang)
        if action in ("accept", "approve") and self.assignee_id:
            body["assignee_id"] = self.assignee_id
        if action in ("return", "reject"):
            if not self.reason.strip():
                errors["reason"] = translate("APP_REASON_REQUIRED", self.lang)
            body["reason"] = self.reason.strip()
        if action == "return":
            body["documents"] = list(self.return_docs)
        if action == "approve" and self.opening_yuan.strip():
            try:
                fen = round(float(self.opening_yuan) * 100)
            except ValueError:
                fen = -1
            if not 0 <= fen <= 500_000:
                errors["opening_yuan"] = t("opening_invalid", self.lang)
            body["opening_fen"] = fen
        self.errors = errors
        return None if errors else body

    async def decide(self, action: str) -> bool:
        assert self.selected is not None
        body = self.body(action)
        if body is None:
            return False
        self.busy = True
        try:
            app = await self.octx.call(
                self.client.post, f"/api/v1/applications/{self.selected['id']}/{action}", body)
        except OfficeError as exc:
            self.errors = {"form": exc.message}
            return False
        finally:
            self.busy = False
        self.message = t(f"desk_done_{action}", self.lang, code=app["code"])
        await self.load()
        await self.open(app)
        self.message = t(f"desk_done_{action}", self.lang, code=app["code"])
        return True

    def overdue(self, app: dict[str, Any], now: datetime | None = None) -> bool:
        steps = app.get("steps") or []
        last = steps[-1] if steps else {}
        due = parse_dt(last.get("due_at"))
        return bool(app["status"] == "open" and not last.get("ended_at") and due
                    and due < (now or utcnow()))


@ft.observable
@dataclass
class WalkInState:
    """A walk-in application at the counter: look the customer up by ID number (their
    accounts and earlier applications), fill in the form, add the document photos (taken
    or scanned at the counter), submit — the same checks as the phone."""

    octx: OfficeContext = field(compare=False, repr=False)
    id_card_no: str = ""
    found_accounts: list[dict[str, Any]] = field(default_factory=list)
    found_apps: list[dict[str, Any]] = field(default_factory=list)
    looked_up: bool = False
    kind: str = ApplicationKind.NEW_RESIDENTIAL.value
    applicant_name: str = ""
    contact_phone: str = ""
    address: str = ""
    capacity_kw: str = ""
    account_id: str = ""
    documents: dict[str, str] = field(default_factory=dict)
    thumbs: dict[str, bytes] = field(default_factory=dict)
    errors: dict[str, str] = field(default_factory=dict)
    created: dict[str, Any] | None = None
    app_id: str = field(default_factory=new_id)
    busy: bool = False
    station_id: str = ""  # the clerk's (from /me)

    @property
    def lang(self) -> str:
        return self.octx.client.lang

    async def lookup(self) -> None:
        c = self.octx.client
        q = self.id_card_no.strip()
        if len(q) < 6:
            self.errors = {"id_card_no": t("search_needed", self.lang)}
            return
        try:
            accounts = await self.octx.call(c.get, "/api/v1/accounts/lookup", id_card=q)
            apps = await self.octx.call(c.get, "/api/v1/applications", id_card=q)
        except OfficeError as exc:
            self.errors = {"id_card_no": exc.message}
            return
        self.found_accounts, self.found_apps = accounts["items"], apps["items"]
        self.looked_up, self.errors = True, {}
        if self.found_accounts:
            a = self.found_accounts[0]
            self.applicant_name = self.applicant_name or a.get("name") or ""
            self.contact_phone = self.contact_phone or a.get("phone") or ""

    def pick_account(self, account: dict[str, Any]) -> None:
        self.account_id = account["id"]
        self.address = account.get("address") or self.address

    def required_docs(self) -> list[str]:
        return [d.value for d in spec_of(self.kind).documents]

    def set_kind(self, kind: str) -> None:
        self.kind = ApplicationKind(kind).value
        self.documents = {d: s for d, s in self.documents.items() if d in self.required_docs()}

    async def add_document(self, doc: str, raw: bytes) -> None:
        data = downscale(raw)
        try:
            sha = await self.octx.call(upload_photo, self.octx.client, data)
        except OfficeError as exc:
            self.errors = {f"doc_{doc}": exc.message}
            return
        self.documents[doc], self.thumbs[sha] = sha, data
        self.errors.pop(f"doc_{doc}", None)

    def body(self) -> dict[str, Any]:
        spec = spec_of(self.kind)
        text = self.capacity_kw.strip()
        body: dict[str, Any] = {
            "id": self.app_id, "kind": self.kind, "applicant_name": self.applicant_name,
            "contact_phone": self.contact_phone.strip(), "address": self.address,
            "id_card_no": self.id_card_no, "documents": dict(self.documents),
            "capacity_kw": (int(text) if text.isdigit() else text or None)
            if spec.capacity else None,
            "station_id": self.station_id if spec.new_account else None,
            "account_id": None if spec.new_account else (self.account_id or None)}
        return {k: v for k, v in body.items() if v is not None}

    async def submit(self) -> dict[str, Any] | None:
        if not self.station_id:
            try:
                me = await self.octx.call(self.octx.client.me)
            except OfficeError as exc:
                self.errors = {"form": exc.message}
                return None
            self.station_id = me.get("station_id") or ""
        body = self.body()
        try:
            check_submission(body)
        except FieldErrors as exc:
            self.errors = {n: translate(e.code, self.lang, **e.details)
                           for n, e in exc.errors.items()}
            return None
        except DomainError as exc:
            self.errors = {"form": translate(exc.code, self.lang, **exc.details)}
            return None
        self.busy = True
        try:
            self.created = await self.octx.call(self.octx.client.post, "/api/v1/applications",
                                                body)
        except OfficeError as exc:
            self.errors = {"form": exc.message}
            return None
        finally:
            self.busy = False
        self.errors = {}
        return self.created

    def reset(self) -> None:
        self.__init__(self.octx)  # type: ignore[misc]
