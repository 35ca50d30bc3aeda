"""Money and readings are exact on every path (issue 8, item 7): every input field of
the API and of every op payload that holds money (``*_fen``) takes only a JSON integer,
every reading (``*_kwh``) only text; a JSON number with a fraction is refused with a
code -- in a synced op, online, and in the reading import -- and nothing changes."""

from __future__ import annotations

from typing import Annotated, Any

import pytest
from pydantic import BaseModel, TypeAdapter, ValidationError

from server.sync.handlers import HANDLERS
from shared.ids import new_id
from tests.conftest import db_snapshot, table_rows
from tests.integration.sync_kit import push

FLOATS = (3456.0, 3456.5, True, "3456")
#: Fields taken as they come and checked row by row by their service (a bad value is that
#: row's refusal, not the whole import's): the reading import.
ROW_CHECKED = {("ReadingRowIn", "value_kwh")}


def _input_models(app: Any) -> set[type[BaseModel]]:
    """The request-body models of every route, and every op payload model."""
    found: set[type[BaseModel]] = {spec.model for spec in HANDLERS.values()}
    for route in app.routes:
        field = getattr(route, "body_field", None)
        kind = getattr(field, "type_", None) if field is not None else None
        if isinstance(kind, type) and issubclass(kind, BaseModel):
            found.add(kind)
    todo = list(found)
    while todo:  # nested models (lists of rows)
        for info in todo.pop().model_fields.values():
            for arg in (info.annotation, *getattr(info.annotation, "__args__", ())):
                if isinstance(arg, type) and issubclass(arg, BaseModel) and arg not in found:
                    found.add(arg)
                    todo.append(arg)
    return found


def _adapter(info: Any) -> TypeAdapter[Any]:
    return TypeAdapter(Annotated[info.annotation, *info.metadata]) if info.metadata else (
        TypeAdapter(info.annotation))


def test_item7_every_money_field_takes_only_integers_every_reading_only_text(app) -> None:
    money, readings = [], []
    for model in _input_models(app):
        for name, info in model.model_fields.items():
            if (model.__name__, name) in ROW_CHECKED:
                continue
            if name.endswith("_fen"):
                money.append((model.__name__, name, _adapter(info)))
            elif name.endswith("_kwh"):
                readings.append((model.__name__, name, _adapter(info)))
    assert {n for _, n, _ in money} >= {"amount_fen", "old_remaining_fen"}
    assert {n for _, n, _ in readings} >= {"old_final_kwh", "new_start_kwh"}
    for model_name, name, adapter in money:
        assert adapter.validate_python(3456) == 3456
        for bad in FLOATS:
            with pytest.raises(ValidationError):
                adapter.validate_python(bad)
                pytest.fail(f"{model_name}.{name} took {bad!r}")
    for model_name, name, adapter in readings:
        for bad in (1234.56, 1234.5, float("nan")):
            with pytest.raises(ValidationError):
                adapter.validate_python(bad)
                pytest.fail(f"{model_name}.{name} took {bad!r}")


@pytest.mark.parametrize("amount", FLOATS)
def test_item7_a_cash_recharge_with_a_non_integer_amount_is_refused_online_and_synced(
        as_user, world, db, amount: Any) -> None:
    agent = as_user("agent1")
    account = world.accounts["acc1"].id
    before = db_snapshot(db, exclude=("rate_limit",))
    r = agent.post("/api/v1/billing/cash-recharges", json={
        "id": new_id(), "account_id": account, "amount_fen": amount, "receipt_no": "R-000123"})
    assert (r.status_code, r.json()["code"]) == (422, "VALIDATION_ERROR"), r.text
    rid = new_id()
    (result,) = push(agent, [{
        "op_id": new_id(), "device_id": "device-agent1-01", "device_seq": 1,
        "lane": f"cash:{rid}", "lane_prev": None, "type": "recharge.cash@1", "entity_id": rid,
        "payload": {"account_id": account, "amount_fen": amount, "receipt_no": "R-000123"},
        "photos": [], "created_at": "2026-12-01T10:00:00+08:00"}], device="device-agent1-01")
    assert (result["status"], result["code"]) == ("rejected", "SYNC_BAD_PAYLOAD"), result
    assert table_rows(db, "ledger_entry", kind="recharge_cash") == []
    assert db_snapshot(db, exclude=("rate_limit", "applied_op", "device")) == before


def test_item7_the_reading_import_refuses_a_json_number(as_user, world, db) -> None:
    """The import checks row by row: a reading sent as a JSON number is that row's
    refusal (READING_FIELD_INVALID), the row beside it in text is imported."""
    meter = world.meters["m1"].meter_no
    r = as_user("manager1").post("/api/v1/billing/readings/import", json={"rows": [
        {"meter_no": meter, "read_at": "2026-11-30T23:50:00+08:00", "value_kwh": 1010.25},
        {"meter_no": meter, "read_at": "2026-11-30T23:55:00+08:00", "value_kwh": "1010.50"}]})
    assert r.status_code == 200, r.text
    body = r.json()
    assert [p["code"] for p in body["rejected"]] == ["READING_FIELD_INVALID"], body
    assert body["rejected"][0]["line"] == 1
    assert "text" in body["rejected"][0]["message"], body
    values = [row["value_centi"] for row in table_rows(db, "meter_reading",
                                                         meter_id=world.meters["m1"].id)]
    assert 101025 not in values and 101050 in values
