"""The phone's pushes travel gzip-encoded when that pays: a crew's day of notes costs a
fraction of its JSON on a metered, slow link, and the server applies every op as before."""

from __future__ import annotations

import gzip
import json
from collections.abc import Callable

import httpx

from tests.contract.conftest import Device, LiveServer, Office
from tests.factories import World


def test_a_push_of_many_notes_goes_gzip_and_every_op_applies(
        device: Callable[..., Device], live: LiveServer, office: Office,
        world: World) -> None:
    sent: list[tuple[str, int, int]] = []  # (content-encoding, wire bytes, JSON bytes)

    def on_request(request: httpx.Request) -> None:
        if request.url.path.endswith("/sync/push"):
            request.read()
            body = request.content
            encoding = request.headers.get("content-encoding", "")
            decoded = gzip.decompress(body) if encoding == "gzip" else body
            assert json.loads(decoded)["ops"]  # the same protocol body underneath
            sent.append((encoding, len(body), len(decoded)))

    crew = device("crew1", client=httpx.Client(base_url=live.url, timeout=10,
                                               event_hooks={"request": [on_request]}))
    order = office.report(world.accounts["acc1"].id)
    office.dispatch(order["id"], world.user("crew1").id)
    crew.sync()
    crew.actions.accept(order["id"])
    for i in range(30):
        crew.actions.add_note(order["id"], f"第 {i} 次巡视：表箱门锁已更换，接线端子紧固 {i}")
    crew.sync()
    assert crew.engine.status().waiting == 0
    big = [s for s in sent if s[2] >= 512]
    assert big and all(enc == "gzip" for enc, _, _ in big), sent
    wire, raw = sum(s[1] for s in big), sum(s[2] for s in big)
    assert wire * 3 < raw, (wire, raw)  # notes of one job compress well
    job = office.job(order["id"])
    assert job["status"] == "accepted"
    assert len([e for e in job["timeline"] if e["action"] == "add_note"]) == 30
