"""Fuzzing the whole OpenAPI document with schemathesis (issue 14), as a dispatcher, a crew
and a customer: for every operation a bounded number of generated requests with a fixed
seed -- valid ones (with the ids of real objects mixed in for path parameters and id
fields) and invalid ones -- and for every answer: no server error, a documented status,
the documented content type, and a body that matches its schema (errors included:
``{"code", "message", "details"}``).

Each generated request is sent as each of the three (generating costs far more than sending).
``GRIDONE_FUZZ_EXAMPLES`` (default 6) sets the examples per operation and mode;
``GRIDONE_FUZZ_EXAMPLES=200 pytest tests/integration/test_fuzz_api.py -s`` is the larger
run and prints its figures.
"""

from __future__ import annotations

import os
import time
from collections import Counter
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
import schemathesis
from hypothesis import HealthCheck, Phase, given, seed, settings
from hypothesis import strategies as st
from hypothesis.errors import Unsatisfiable
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)
from sqlmodel import Session, select

from server.app import create_app
from server.auth.security import make_token
from server.customers.models import Account
from server.meters.models import Meter
from server.stations.models import Station
from server.work_orders.models import WorkOrder
from tests.conftest import SECRET, sqlite_settings, svc_act, svc_report
from tests.factories import build_world

EXAMPLES = int(os.environ.get("GRIDONE_FUZZ_EXAMPLES", "6"))
SEED = 20261201
CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance,
          response_schema_conformance]


ROLES = ("dispatcher1", "crew1", "customer1")


@dataclass
class Run:
    requests: int = 0
    statuses: Counter[int] = field(default_factory=Counter)
    failures: dict[str, str] = field(default_factory=dict)


def real_ids(app: Any) -> dict[str, list[str]]:
    with Session(app.state.db.reader) as s:
        return {"order_id": list(s.exec(select(WorkOrder.id)).all()),
                "account_id": list(s.exec(select(Account.id)).all()),
                "meter_id": list(s.exec(select(Meter.id)).all()),
                "station_id": list(s.exec(select(Station.id)).all())}


def fuzz(app: Any, tokens: dict[str, str], ids: dict[str, list[str]], mode: GenerationMode,
         examples: int, runs: dict[str, Run]) -> None:
    """Every operation, ``examples`` generated cases in ``mode``; each case is sent as
    every role in ``tokens`` (generating a case costs far more than sending it, and with
    the fixed seed each role was given the same cases anyway) and its answers checked."""
    schema = schemathesis.openapi.from_asgi("/openapi.json", app)
    headers = {role: {"Authorization": f"Bearer {token}", "Accept-Language": "en"}
               for role, token in tokens.items()}
    for result in schema.get_all_operations():
        operation = result.ok()
        failed = fuzz_operation(operation, headers, ids, mode, examples, runs)
        for role, text in failed.items():
            for name in (tokens if role == "(all)" else (role,)):
                runs[name].failures[f"{operation.label} ({mode.value})"] = text


def fuzz_operation(operation: Any, headers: dict[str, dict[str, str]],
                   ids: dict[str, list[str]], mode: GenerationMode, examples: int,
                   runs: dict[str, Run]) -> dict[str, str]:
    """One operation's cases, each sent as every role: the first failure of each role
    (``"(all)"``: one that stopped the run for all)."""
    failed: dict[str, str] = {}

    @settings(max_examples=examples, deadline=None, database=None,
              phases=[Phase.explicit, Phase.generate],
              suppress_health_check=list(HealthCheck))
    @seed(SEED)
    @given(case=operation.as_strategy(mode), data=st.data())
    def check(case: Any, data: Any) -> None:
        for where in (case.path_parameters, case.body):
            if isinstance(where, dict):
                for name in list(where):
                    if ids.get(name) and data.draw(st.booleans()):
                        where[name] = data.draw(st.sampled_from(ids[name]))
        query = case.query if isinstance(case.query, dict) else {}
        if isinstance(query.get("wait"), int | float) and not isinstance(
                query["wait"], bool) and query["wait"] > 1:
            query["wait"] = 1  # long polls: checked elsewhere; here only the answer's shape
        for role in headers:
            if role in failed:
                continue  # its first failure for this operation is the one reported
            response = case.call(headers=headers[role])
            runs[role].requests += 1
            runs[role].statuses[response.status_code] += 1
            try:
                case.validate_response(response, checks=CHECKS)
            except Exception as exc:
                failed[role] = str(exc)[:3000]

    try:
        check()
    except Unsatisfiable:  # nothing invalid can be made for it (no parameters)
        pass
    except BaseException as exc:
        failed.setdefault("(all)", str(exc)[:3000])
    return failed


@pytest.fixture(scope="module")
def fuzz_app(tmp_path_factory: pytest.TempPathFactory) -> Any:
    from server.migrate import upgrade

    folder: Path = tmp_path_factory.mktemp("fuzz")
    upgrade(f"sqlite:///{folder / 'gridone.db'}")
    app = create_app(sqlite_settings(folder, folder / "gridone.db"), migrate=False)
    world = build_world(app.state.db)
    for account in ("acc1", "acc2"):  # jobs in several states to act on
        for step in range(3):
            order = svc_report(app.state.db, world, "dispatcher1",
                               account_id=world.accounts[account].id)
            if step:
                svc_act(app.state.db, world, "dispatcher1", order, "dispatch",
                        assignee_id=world.user("crew1").id)
            if step == 2:
                svc_act(app.state.db, world, "crew1", order, "accept")
    yield app, world
    app.state.db.dispose()


def test_fuzz_the_whole_api(fuzz_app: Any) -> None:
    """As a dispatcher, a crew member and a customer, every generated request."""
    app, world = fuzz_app
    tokens = {role: make_token(secret=SECRET, sub=world.user(role).id, kind="access",
                               ttl=timedelta(hours=2))[0] for role in ROLES}
    started = time.monotonic()
    ids = real_ids(app)
    runs = {role: Run() for role in ROLES}
    fuzz(app, tokens, ids, GenerationMode.POSITIVE, EXAMPLES, runs)
    fuzz(app, tokens, ids, GenerationMode.NEGATIVE, max(2, EXAMPLES // 2), runs)
    seconds = time.monotonic() - started
    problems = []
    for role, run in runs.items():
        print(f"\nfuzz as {role}: {run.requests} requests, {EXAMPLES} examples per "
              f"operation, statuses {dict(sorted(run.statuses.items()))}, "
              f"{len(run.failures)} failing operations")
        if run.requests <= 200:
            problems.append(f"as {role}: the fuzzer hardly ran ({run.requests} requests)")
        problems += [f"== as {role}: {k}\n{v}" for k, v in run.failures.items()]
        problems += [f"as {role}: {n} answers with status {status}"
                     for status, n in run.statuses.items() if status >= 500]
    print(f"fuzz: {sum(r.requests for r in runs.values())} requests in {seconds:.0f} s")
    assert not problems, "\n\n".join(problems)


# -- what the fuzzer found, kept as plain regression tests ------------------------------
def test_a_cursor_with_non_ascii_characters_restarts_the_download(
        as_user: Any, world: Any) -> None:
    """Found by the 100-example run: comparing the cursor's signature with a str holding
    non-ASCII characters raised TypeError (500). Now it is an unusable cursor: reset."""
    crew = as_user("crew1")
    for cursor in ("é.é", "eyJ9.ü" + "0" * 23, "\u4e2d\u6587"):
        r = crew.get("/api/v1/sync/pull", params={"cursor": cursor, "limit": 10})
        assert r.status_code == 200, r.text
        assert r.json()["reset"] is True


def test_a_signature_header_with_non_ascii_characters_is_refused(
        as_user: Any, world: Any) -> None:
    """The same comparison on the payment provider's and the head-end's signatures."""
    # 64 characters past ASCII as the server reads them (latin-1): "Ã©" * 32
    header = b"t=1700000000,v1=" + "é".encode() * 32
    anon = as_user(None)
    for url in ("/api/v1/payments/callback", "/api/v1/meter-commands/acks"):
        r = anon.post(url, content=b"{}", headers={
            "X-Signature": header,
            "Content-Type": "application/json"})
        assert r.status_code == 400, (url, r.status_code, r.text)
        assert r.json()["code"].endswith("_SIGNATURE_INVALID")
