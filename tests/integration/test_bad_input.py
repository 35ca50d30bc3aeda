"""Bad input over HTTP: negative or absurd readings, unknown meters / accounts / people,
malformed JSON, oversized fields and bodies, wrong types, unknown fields, bad UUIDs and
bad query parameters. Each one gets a clear 4xx with ``{code, message, details}``, a
message in Chinese and in English (no unfilled placeholders), and the database is left
exactly as it was (a full SQL dump compared before and after)."""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest

from shared.ids import new_id
from tests.conftest import SharedApp, db_snapshot, svc_act, svc_report

WO = "/api/v1/work-orders"
CJK = re.compile(r"[\u4e00-\u9fff]")
PLACEHOLDER = re.compile(r"\{[a-z_]+\}")
GOOD_UUID = "0190f5a4-7b1c-7d2e-8f30-123456789abc"


@dataclass(frozen=True)
class Bad:
    user: str | None
    method: str
    path: str  # {fault}: crew1's on-site fault job; {swap}: tech1's on-site swap job
    body: Any  # dict: JSON; str / bytes: raw JSON text; callable: a streamed body
    status: int
    code: str
    params: Any = None


def swap(**changes: Any) -> dict[str, Any]:
    body = {"id": GOOD_UUID, "old_meter_no": "MTR-M1-0001", "old_final_kwh": "1100.00",
            "old_remaining_fen": 3456, "new_meter_no": "NEW-STOCK1", "new_start_kwh": "0.00",
            "new_card_no": "6200123456789", "seal_numbers": ["SEAL-0001"],
            "old_face_photo": "a" * 64, "new_face_photo": "b" * 64}
    body.update(changes)
    return {k: v for k, v in body.items() if v is not ...}


def report(**changes: Any) -> dict[str, Any]:
    body = {"account_id": "{acc1}", "description": "no power"}
    body.update(changes)
    return body


def stream(total: int) -> Any:
    def chunks() -> Iterator[bytes]:
        yield b'{"account_id": "x", "description": "'
        for _ in range(total // 65536):
            yield b"a" * 65536
        yield b'"}'
    return chunks


SWAP, NOTE = f"{WO}/{{swap}}/meter-swap", f"{WO}/{{fault}}/add-note"
CASES: dict[str, Bad] = {
    # -- readings: negative, beyond the register, absurd, below the last one
    "negative final reading": Bad("tech1", "POST", SWAP, swap(old_final_kwh="-5.00"), 422,
                                  "READING_NEGATIVE"),
    "reading beyond the register": Bad("tech1", "POST", SWAP,
                                       swap(old_final_kwh="1000000.00"), 422,
                                       "READING_TOO_LARGE"),
    "absurd jump in one day": Bad("tech1", "POST", SWAP, swap(old_final_kwh="90000.00"), 422,
                                  "READING_IMPLAUSIBLE_JUMP"),
    "reading below the last": Bad("tech1", "POST", SWAP, swap(old_final_kwh="999.00"), 422,
                                  "READING_BELOW_LAST"),
    "negative start reading": Bad("tech1", "POST", SWAP, swap(new_start_kwh="-0.50"), 422,
                                  "SWAP_NEW_START_TOO_HIGH"),
    "reading as words": Bad("tech1", "POST", SWAP, swap(old_final_kwh="lots"), 422,
                            "VALIDATION_ERROR"),
    "reading with 4 decimals": Bad("tech1", "POST", SWAP, swap(old_final_kwh=1100.1234), 422,
                                   "VALIDATION_ERROR"),
    "reading NaN": Bad("tech1", "POST", SWAP,
                       '{"id": "' + GOOD_UUID + '", "old_meter_no": "MTR-M1-0001", '
                       '"old_final_kwh": NaN, "old_remaining_fen": 1, '
                       '"new_meter_no": "NEW-STOCK1", "new_start_kwh": "0", '
                       '"new_card_no": "6200123456789"}',
                       422, "VALIDATION_ERROR"),
    "balance beyond any meter": Bad("tech1", "POST", SWAP, swap(old_remaining_fen=10**12),
                                    422, "VALIDATION_ERROR"),
    # -- unknown things
    "unknown new meter": Bad("tech1", "POST", SWAP, swap(new_meter_no="NOPE-0000"), 422,
                             "SWAP_NEW_METER_UNKNOWN"),
    "unknown account": Bad("customer1", "POST", WO, report(account_id=new_id()), 404,
                           "ACCOUNT_NOT_FOUND"),
    "unknown account (staff)": Bad("dispatcher1", "GET", f"/api/v1/accounts/{new_id()}",
                                   None, 404, "ACCOUNT_NOT_FOUND"),
    "unknown area": Bad("dispatcher1", "POST", WO, {"kind": "new_connection",
                                                    "area_id": new_id(),
                                                    "description": "x"}, 404, "NOT_FOUND"),
    "unknown assignee": Bad("dispatcher1", "POST", f"{WO}/{{reported}}/dispatch",
                            {"assignee_id": new_id()}, 422, "WO_ASSIGNEE_INVALID"),
    "unknown work order": Bad("crew1", "POST", f"{WO}/{new_id()}/accept", {}, 404,
                              "WORK_ORDER_NOT_FOUND"),
    "unknown station": Bad("admin", "GET", f"/api/v1/stations/{new_id()}/staff", None, 404,
                           "STATION_NOT_FOUND"),
    "work order id not a uuid": Bad("admin", "GET", f"{WO}/not-a-uuid", None, 404,
                                    "WORK_ORDER_NOT_FOUND"),
    # -- malformed JSON
    "truncated JSON": Bad("customer1", "POST", WO, '{"description": "no power",', 400,
                          "MALFORMED_JSON"),
    "not JSON at all": Bad("customer1", "POST", WO, "description=no power", 400,
                           "MALFORMED_JSON"),
    "single-quoted JSON": Bad("customer1", "POST", WO, "{'description': 'x'}", 400,
                              "MALFORMED_JSON"),
    "trailing comma": Bad("crew1", "POST", NOTE, '{"text": "x",}', 400, "MALFORMED_JSON"),
    "invalid UTF-8": Bad("crew1", "POST", NOTE, b'{"text": "\xff\xfe"}', 400,
                         "MALFORMED_JSON"),
    "nested 50,000 deep": Bad("crew1", "POST", NOTE, "[" * 50_000 + "]" * 50_000, 400,
                              "MALFORMED_JSON"),
    "number with 5,000 digits": Bad("tech1", "POST", SWAP,
                                    '{"old_remaining_fen": %s}' % ("9" * 5000), 400,
                                    "MALFORMED_JSON"),
    "empty body": Bad("customer1", "POST", WO, "", 422, "VALIDATION_ERROR"),
    "JSON array instead of object": Bad("customer1", "POST", WO, "[]", 422,
                                        "VALIDATION_ERROR"),
    "JSON null": Bad("crew1", "POST", NOTE, "null", 422, "VALIDATION_ERROR"),
    # -- oversized fields and bodies
    "description over 2000 chars": Bad("customer1", "POST", WO,
                                       report(description="停" * 2001), 422,
                                       "VALIDATION_ERROR"),
    "contact name over 64": Bad("dispatcher1", "POST", WO, report(contact_name="x" * 65), 422,
                                "VALIDATION_ERROR"),
    "address over 200": Bad("dispatcher1", "POST", WO, report(address="x" * 201), 422,
                            "VALIDATION_ERROR"),
    "11 photos": Bad("customer1", "POST", WO, report(photos=["c" * 64] * 11), 422,
                     "VALIDATION_ERROR"),
    "note over 2000 chars": Bad("crew1", "POST", NOTE, {"text": "x" * 2001}, 422,
                                "VALIDATION_ERROR"),
    "reason over 500 chars": Bad("crew1", "POST", f"{WO}/{{fault}}/request-help",
                                 {"reason": "x" * 501}, 422, "VALIDATION_ERROR"),
    "rating comment over 500": Bad("customer1", "POST", f"{WO}/{{fault}}/confirm",
                                   {"rating": 5, "comment": "x" * 501}, 422,
                                   "VALIDATION_ERROR"),
    "meter number over 24": Bad("tech1", "POST", SWAP, swap(new_meter_no="N" * 25), 422,
                                "VALIDATION_ERROR"),
    "11 seals": Bad("tech1", "POST", SWAP, swap(seal_numbers=["SEAL-0001"] * 11), 422,
                    "VALIDATION_ERROR"),
    "refresh token over 2000": Bad(None, "POST", "/api/v1/auth/refresh",
                                   {"refresh_token": "x" * 2001}, 422, "VALIDATION_ERROR"),
    "body over 1 MB": Bad("customer1", "POST", WO, report(description="x" * 1_100_000), 413,
                          "PAYLOAD_TOO_LARGE"),
    "streamed body over 1 MB": Bad("customer1", "POST", WO, stream(2_000_000), 413,
                                   "PAYLOAD_TOO_LARGE"),
    # -- wrong types
    "description a number": Bad("customer1", "POST", WO, report(description=123), 422,
                                "VALIDATION_ERROR"),
    "rating a word": Bad("customer1", "POST", f"{WO}/{{fault}}/confirm", {"rating": "five"},
                         422, "VALIDATION_ERROR"),
    "rating a fraction": Bad("customer1", "POST", f"{WO}/{{fault}}/confirm", {"rating": 4.5},
                             422, "VALIDATION_ERROR"),
    "rating out of range": Bad("customer1", "POST", f"{WO}/{{fault}}/confirm", {"rating": 0},
                               422, "VALIDATION_ERROR"),
    "location a string": Bad("customer1", "POST", WO, report(location="at home"), 422,
                             "VALIDATION_ERROR"),
    "photos a string": Bad("customer1", "POST", WO, report(photos="c" * 64), 422,
                           "VALIDATION_ERROR"),
    "note text a number": Bad("crew1", "POST", NOTE, {"text": 5}, 422, "VALIDATION_ERROR"),
    "latitude a word": Bad("customer1", "POST", WO, report(location={
        "lat": "north", "lon": 112, "accuracy_m": 5}), 422, "VALIDATION_ERROR"),
    "GPS off the globe": Bad("customer1", "POST", WO, report(location={
        "lat": 91, "lon": 0, "accuracy_m": 5}), 422, "VALIDATION_ERROR"),
    "GPS accuracy 9 km": Bad("customer1", "POST", WO, report(location={
        "lat": 27, "lon": 112, "accuracy_m": 9000}), 422, "VALIDATION_ERROR"),
    "balance a word": Bad("tech1", "POST", SWAP, swap(old_remaining_fen="lots"), 422,
                          "VALIDATION_ERROR"),
    "version a word": Bad("crew1", "POST", NOTE, {"text": "x", "expected_version": "one"},
                          422, "VALIDATION_ERROR"),
    "version zero": Bad("crew1", "POST", NOTE, {"text": "x", "expected_version": 0}, 422,
                        "VALIDATION_ERROR"),
    "unknown kind": Bad("customer1", "POST", WO, report(kind="teleport"), 422,
                        "VALIDATION_ERROR"),
    "unknown priority": Bad("dispatcher1", "POST", WO, report(priority="asap"), 422,
                            "VALIDATION_ERROR"),
    "form instead of JSON": Bad("customer1", "POST", WO, {"__form__": {"description": "x"}},
                                422, "VALIDATION_ERROR"),
    "NUL character in text": Bad("crew1", "POST", NOTE, {"text": "a\u0000b"}, 422,
                                 "VALIDATION_ERROR"),
    "NUL character in a query": Bad("admin", "GET", "/api/v1/accounts", None, 422,
                                    "VALIDATION_ERROR", {"q": "77\u0000"}),
    "NUL character in the path": Bad("admin", "GET", f"{WO}/a%00b", None, 422,
                                     "VALIDATION_ERROR"),
    # the sync routes read their query themselves: refused before them all the same
    "NUL character in a sync cursor": Bad("crew1", "GET", "/api/v1/sync/pull", None, 422,
                                          "VALIDATION_ERROR", {"cursor": "a\u0000b"}),
    "NUL character in the path of no route": Bad("crew1", "GET", "/api/v1/nowhere%00", None,
                                                 422, "VALIDATION_ERROR"),
    "NUL character in a user name": Bad(None, "POST", "/api/v1/auth/token",
                                        {"__form__": {"username": "crew1\u0000",
                                                      "password": "x"}},
                                        401, "AUTH_INVALID_CREDENTIALS"),
    # -- unknown fields
    "report sets its own status": Bad("customer1", "POST", WO, report(status="closed"), 422,
                                      "VALIDATION_ERROR"),
    "report names its reporter": Bad("customer1", "POST", WO, report(reporter_id=GOOD_UUID),
                                     422, "VALIDATION_ERROR"),
    "accept names an assignee": Bad("crew1", "POST", f"{WO}/{{dispatched}}/accept",
                                    {"assignee_id": GOOD_UUID}, 422, "VALIDATION_ERROR"),
    "swap sets the balance": Bad("tech1", "POST", SWAP, swap(balance_fen=10**6), 422,
                                 "VALIDATION_ERROR"),
    "GPS with altitude": Bad("customer1", "POST", WO, report(location={
        "lat": 27, "lon": 112, "accuracy_m": 5, "alt": 80}), 422, "VALIDATION_ERROR"),
    # -- bad UUIDs
    "account id not a uuid": Bad("customer1", "POST", WO, report(account_id="123"), 422,
                                 "VALIDATION_ERROR"),
    "account id upper case": Bad("customer1", "POST", WO,
                                 report(account_id=GOOD_UUID.upper()), 422,
                                 "VALIDATION_ERROR"),
    "assignee a user name": Bad("dispatcher1", "POST", f"{WO}/{{reported}}/dispatch",
                                {"assignee_id": "crew1"}, 422, "VALIDATION_ERROR"),
    "event id not a uuid": Bad("crew1", "POST", NOTE, {"text": "x", "event_id": "retry-1"},
                               422, "VALIDATION_ERROR"),
    "client report id not a uuid": Bad("customer1", "POST", WO, report(id="my-report"), 422,
                                       "VALIDATION_ERROR"),
    "swap id not a uuid": Bad("tech1", "POST", SWAP, swap(id="swap-1"), 422,
                              "VALIDATION_ERROR"),
    # -- bad query parameters
    "unknown status filter": Bad("admin", "GET", WO, None, 422, "VALIDATION_ERROR",
                                 {"status": "lost"}),
    "unknown kind filter": Bad("admin", "GET", WO, None, 422, "VALIDATION_ERROR",
                               {"kind": "teleport"}),
    "limit zero": Bad("admin", "GET", WO, None, 422, "VALIDATION_ERROR", {"limit": 0}),
    "limit too big": Bad("admin", "GET", WO, None, 422, "VALIDATION_ERROR", {"limit": 501}),
    "limit a word": Bad("admin", "GET", WO, None, 422, "VALIDATION_ERROR", {"limit": "all"}),
    "offset negative": Bad("admin", "GET", WO, None, 422, "VALIDATION_ERROR", {"offset": -1}),
    "offset astronomically big": Bad("admin", "GET", WO, None, 422, "VALIDATION_ERROR",
                                     {"offset": 10**20}),
    "accounts offset too big": Bad("admin", "GET", "/api/v1/accounts", None, 422,
                                   "VALIDATION_ERROR", {"offset": 10**20}),
    "meters offset too big": Bad("admin", "GET", "/api/v1/meters", None, 422,
                                 "VALIDATION_ERROR", {"offset": 10**20}),
    "overdue neither yes nor no": Bad("admin", "GET", WO, None, 422, "VALIDATION_ERROR",
                                      {"overdue": "maybe"}),
    "station filter too long": Bad("admin", "GET", WO, None, 422, "VALIDATION_ERROR",
                                   {"station_id": "x" * 37}),
    "id card too short": Bad("admin", "GET", "/api/v1/accounts/lookup", None, 422,
                             "VALIDATION_ERROR", {"id_card": "123"}),
    "readings for zero days": Bad("customer1", "GET", "/api/v1/accounts/{acc1}/readings",
                                  None, 422, "VALIDATION_ERROR", {"days": 0}),
    "unknown meter status": Bad("admin", "GET", "/api/v1/meters", None, 422,
                                "VALIDATION_ERROR", {"status": "lost"}),
    # -- wrong method, wrong path
    "DELETE a work order list": Bad("admin", "DELETE", WO, None, 405, "METHOD_NOT_ALLOWED"),
    "no such endpoint": Bad("admin", "GET", "/api/v1/nowhere", None, 404, "NOT_FOUND"),
}


def make_jobs(world: Any, db: Any) -> dict[str, str]:
    """Work orders in the states the cases need, and the world's ids."""
    acc1 = world.accounts["acc1"].id
    reported = svc_report(db, world, "customer1", account_id=acc1)
    dispatched = svc_report(db, world, "customer1", account_id=acc1)
    svc_act(db, world, "dispatcher1", dispatched, "dispatch", assignee_id=world.user("crew1").id)
    fault = svc_report(db, world, "customer1", account_id=acc1)
    svc_act(db, world, "dispatcher1", fault, "dispatch", assignee_id=world.user("crew1").id)
    svc_act(db, world, "crew1", fault, "accept")
    svc_act(db, world, "crew1", fault, "arrive")
    swap_job = svc_report(db, world, "dispatcher1", kind="meter_swap", account_id=acc1)
    svc_act(db, world, "dispatcher1", swap_job, "dispatch", assignee_id=world.user("tech1").id)
    svc_act(db, world, "tech1", swap_job, "accept")
    svc_act(db, world, "tech1", swap_job, "arrive")
    return {"reported": reported, "dispatched": dispatched, "fault": fault, "swap": swap_job,
            "acc1": acc1}


@pytest.fixture(scope="module")
def shared(template_db: Any, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    """One database for all the refused requests: each case asserts it changed nothing."""
    env = SharedApp(template_db, tmp_path_factory.mktemp("bad_input"))
    env.jobs = make_jobs(env.world, env.db)
    yield env
    env.close()


@pytest.fixture
def jobs(world: Any, db: Any) -> dict[str, str]:
    return make_jobs(world, db)


def fill(value: Any, ids: dict[str, str]) -> Any:
    if isinstance(value, str):
        return value.format(**ids) if "{" in value and "}" in value and '"' not in value \
            else value
    if isinstance(value, dict):
        return {k: fill(v, ids) for k, v in value.items()}
    if isinstance(value, list):
        return [fill(v, ids) for v in value]
    return value


def send(api: Any, bad: Bad, ids: dict[str, str]) -> Any:
    url = bad.path.format(**ids)
    kw: dict[str, Any] = {"params": bad.params}
    body = bad.body
    if isinstance(body, dict) and "__form__" in body:
        kw["data"] = body["__form__"]
    elif isinstance(body, dict):
        kw["json"] = fill(body, ids)
    elif callable(body):
        kw["content"] = body()
        kw["headers"] = {"Content-Type": "application/json"}
    elif body is not None:
        kw["content"] = body
        kw["headers"] = {"Content-Type": "application/json"}
    return api.client.request(bad.method, url, headers={**api.headers, **kw.pop(
        "headers", {})}, **kw)


@pytest.mark.parametrize("name", list(CASES))
def test_bad_input_is_refused_clearly_and_changes_nothing(name, shared):
    bad = CASES[name]
    # A failed sign-in counts against the user name's and the address's limits (the
    # rate-limit counters are about requests, not stored data).
    before = db_snapshot(shared.db, exclude=("rate_limit",))
    answers = {}
    for lang in ("zh", "en"):
        r = send(shared.api(bad.user, lang=lang), bad, shared.jobs)
        assert (r.status_code, r.json().get("code")) == (bad.status, bad.code), r.text[:500]
        body = r.json()
        assert set(body) == {"code", "message", "details"}, body
        assert isinstance(body["details"], dict)
        assert not PLACEHOLDER.search(body["message"]), body["message"]
        answers[lang] = body["message"]
    assert CJK.search(answers["zh"]), answers["zh"]
    assert not CJK.search(answers["en"]) or bad.code == "VALIDATION_ERROR", answers["en"]
    assert answers["zh"] != answers["en"]
    assert db_snapshot(shared.db, exclude=("rate_limit",)) == before, \
        f"{name}: the database changed"


def test_validation_errors_say_which_field(as_user, jobs):
    r = as_user("customer1").post(WO, json={"account_id": jobs["acc1"],
                                            "description": "x" * 2001, "photos": "p"})
    body = r.json()
    assert r.status_code == 422 and body["code"] == "VALIDATION_ERROR"
    fields = {".".join(f["loc"][1:]) for f in body["details"]["fields"]}
    assert fields == {"description", "photos"}
    assert "description" in body["message"] and "photos" in body["message"]
    zh = as_user("customer1", lang="zh").post(WO, json={"account_id": jobs["acc1"],
                                                        "description": ""}).json()
    assert zh["message"].startswith("提交的数据有误：") and "description" in zh["message"]


def test_every_case_above_can_succeed_when_corrected(as_user, jobs, world, db):
    """The baselines of the cases are valid: the refusals are due to the one bad part."""
    assert as_user("customer1").post(WO, json=fill(report(), jobs)).status_code == 201
    assert as_user("crew1").post(NOTE.format(**jobs), json={"text": "ok"}).status_code == 200
    r = as_user("tech1").post(SWAP.format(**jobs), json=swap())
    assert r.status_code == 201, r.text
    assert as_user("admin").get(WO, params={"limit": 500, "offset": 10**9}).status_code == 200
