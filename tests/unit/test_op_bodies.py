"""Op bodies: ``server.sync.handlers.fields_of`` gives an op body's fields as ``model_dump()``
gives them, for every body an action op carries (plain ones copied, one holding a GPS fix
dumped); a NUL anywhere in a body is refused (``Strict``), and only a NUL."""

from __future__ import annotations

from typing import Any

import pytest
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from server.sync.handlers import fields_of
from server.work_orders.schemas import ACTION_BODY, ArriveIn, NoteIn, Strict

SAMPLES = {
    "dispatch": {"assignee_id": "0" * 8 + "-0000-0000-0000-" + "0" * 12},
    "decline": {"reason": "out of area"}, "cancel": {"reason": "duplicate"},
    "request_help": {"reason": "ladder"}, "reopen": {"reason": "again"},
    "reassign": {"assignee_id": "0" * 8 + "-0000-0000-0000-" + "0" * 12, "reason": "x"},
    "arrive": {"gps": {"lat": 28.1, "lon": 112.9, "accuracy_m": 8}},
    "add_note": {"text": " A\r\nnote ", "expected_version": 3},
    "add_photo": {"sha256": "ab" * 32, "caption": "meter box"},
    "resolve": {"resolution": "Fixed", "cause": "storm"},
    "confirm": {"rating": 5, "comment": "quick"},
}


@pytest.mark.parametrize("action", sorted(ACTION_BODY, key=str))
def test_the_fields_are_what_model_dump_gives(action):
    model = ACTION_BODY[action]
    checked = 0
    for payload in ({}, SAMPLES.get(action.value, {}), {"event_id": None}):
        try:
            body = model.model_validate(payload)
        except ValueError:
            continue  # a body this payload does not fit (a reason required, ...)
        got = fields_of(body)
        assert got == body.model_dump()
        assert got is not body.__dict__  # a copy: the caller may add to it
        checked += 1
    assert checked


def test_a_nested_model_is_dumped_not_copied():
    body = ArriveIn.model_validate(SAMPLES["arrive"])
    assert fields_of(body)["gps"] == {"lat": 28.1, "lon": 112.9, "accuracy_m": 8.0}
    assert fields_of(ArriveIn.model_validate({}))["gps"] is None
    assert fields_of(NoteIn.model_validate({"text": "x"}))["text"] == "x"


def test_a_model_that_keeps_unknown_fields_is_dumped():
    class Loose(BaseModel):
        model_config = ConfigDict(extra="allow")
        a: int = 1

    body = Loose.model_validate({"a": 2, "b": 3})
    assert fields_of(body) == {"a": 2, "b": 3}


class _Probe(Strict):
    """A body with text no other rule cleans: only the NUL check stands in the way."""

    note: str = ""
    tags: list[str] = Field(default_factory=list)
    more: dict[str, Any] = Field(default_factory=dict)


@pytest.mark.parametrize("body", [
    {"note": "a\x00b"}, {"tags": ["ok", "x\x00"]}, {"more": {"k\x00": 1}},
    {"more": {"deep": [{"v": "\x00"}]}},
    {"more": {"big": 2**70, "v": "\x00"}},  # not plain JSON for orjson: looked at value by value
])
def test_a_nul_anywhere_in_a_body_is_refused(body):
    with pytest.raises(ValidationError, match="NUL"):
        _Probe.model_validate(body)


@pytest.mark.parametrize("body", [
    {"note": "C:\\u0000 is how JSON writes it"}, {"tags": ["\\u0000"]}, {"more": {"big": 2**70}},
    {"note": "换表, no NUL"},
])
def test_text_that_only_looks_like_an_escaped_nul_is_kept(body):
    assert _Probe.model_validate(body).model_dump(exclude_defaults=True) == body


def test_a_model_that_dumps_other_than_its_fields_is_dumped():
    from pydantic import computed_field, field_serializer

    class Computed(BaseModel):
        a: int = 1

        @computed_field  # type: ignore[prop-decorator]
        @property
        def b(self) -> int:
            return self.a + 1

    class Hidden(BaseModel):
        a: int = 1
        secret: str = Field(default="s", exclude=True)

    class Serialized(BaseModel):
        a: int = 1

        @field_serializer("a")
        def _a(self, value: int) -> str:
            return str(value)

    for body, dumped in ((Computed(), {"a": 1, "b": 2}), (Hidden(), {"a": 1}),
                         (Serialized(), {"a": "1"})):
        assert fields_of(body) == body.model_dump() == dumped
