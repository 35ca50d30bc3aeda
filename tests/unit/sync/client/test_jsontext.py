"""The device's JSON text: orjson where installed, the ``json`` module where not (Python in
the browser). A row stored by either is read back equal by either, compact, with
Chinese text kept as UTF-8."""

from __future__ import annotations

import json

import pytest

from sync.client import jsontext

ROW = {"id": "0192f3a4-0000-7000-8000-000000000001", "description": "变压器跳闸，台区停电",
       "version": 3, "amount_fen": -1250, "ratio": 0.125, "help_requested": False,
       "resolved_at": None, "data": {"gps": [25.03, 102.71], "photos": []},
       "line": "a\u2028b \"quoted\" \\ tab\t"}


@pytest.fixture(params=["orjson", "json"])
def flavour(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> str:
    if request.param == "json":
        monkeypatch.setattr(jsontext, "orjson", None)
    else:
        assert jsontext.orjson is not None  # installed with the project
    return str(request.param)


def test_text_is_compact_utf8_and_reads_back_equal(flavour: str) -> None:
    text = jsontext.dumps(ROW)
    assert "变压器跳闸" in text  # not \u-escaped: the stored row stays small
    assert jsontext.dumps({"a": 1, "b": [1, None]}) == '{"a":1,"b":[1,null]}'
    assert jsontext.loads(text) == ROW
    assert json.loads(text) == ROW  # any JSON reader (SQLite's json_extract too) reads it
    assert jsontext.dump_bytes(ROW) == text.encode("utf-8")
    assert jsontext.loads(text.encode("utf-8")) == ROW


def test_either_reads_what_the_other_wrote(monkeypatch: pytest.MonkeyPatch) -> None:
    fast = jsontext.dumps(ROW)
    monkeypatch.setattr(jsontext, "orjson", None)
    plain = jsontext.dumps(ROW)
    assert jsontext.loads(fast) == jsontext.loads(plain) == ROW


def test_what_only_the_json_module_writes_is_read_back(flavour: str) -> None:
    """The json module writes NaN and escaped lone surrogates (an op's payload in the
    outbox is written so); orjson refuses both, so they are read with the json module;
    text that is not JSON still fails."""
    import math

    text = json.dumps({"v": float("nan"), "t": "x\ud800"})
    back = jsontext.loads(text)
    assert math.isnan(back["v"]) and back["t"] == "x\ud800"
    with pytest.raises(ValueError):
        jsontext.loads("{not json")
