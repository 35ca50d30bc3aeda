"""Meter readings and the meter-swap form: each rule alone, several at once, properties."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from shared.enums import MeterStatus
from shared.errors import DomainError, ErrorCode, FieldErrors
from shared.messages import translate
from shared.meter_rules import (
    SwapContext,
    SwapDraft,
    centi_to_kwh,
    kwh_to_centi,
    swap_problems,
    validate_reading,
    validate_swap,
)

E = ErrorCode
D = Decimal
T0 = datetime(2024, 7, 1, 8, 0, tzinfo=UTC)
NOW = datetime(2024, 7, 11, 8, 0, tzinfo=UTC)
HASH_A = "a" * 64
HASH_B = "0123456789abcdef" * 4
FAST = settings(database=None, max_examples=200, deadline=None)


def reading_error(value: Decimal, **kw: object) -> ErrorCode | None:
    try:
        validate_reading(value, **kw)  # type: ignore[arg-type]
    except DomainError as exc:
        for lang in ("zh", "en"):
            assert "{" not in translate(exc.code, lang, **exc.details)
        return exc.code
    return None


# -- validate_reading --------------------------------------------------------------------
@pytest.mark.parametrize(
    ("value", "code"),
    [
        (D("-0.01"), E.READING_NEGATIVE),
        (D("-1000"), E.READING_NEGATIVE),
        (D("0"), None),
        (D("999999.99"), None),
        (D("1000000.00"), E.READING_TOO_LARGE),
        (D("999999.991"), E.READING_TOO_LARGE),
    ],
)
def test_reading_range(value: Decimal, code: ErrorCode | None) -> None:
    assert reading_error(value) == code


def test_reading_below_last() -> None:
    with pytest.raises(DomainError) as info:
        validate_reading(D("100.00"), last=D("100.01"))
    assert info.value.code == E.READING_BELOW_LAST
    assert info.value.details == {"value": "100.00", "last": "100.01"}


def test_reading_equal_to_last_or_above_is_fine() -> None:
    assert reading_error(D("100.01"), last=D("100.01")) is None
    assert reading_error(D("150"), last=D("100.01"), last_at=T0, at=T0 + timedelta(days=1),
                         now=T0 + timedelta(days=1)) is None


def test_negative_beats_below_last() -> None:
    assert reading_error(D("-1"), last=D("5")) == E.READING_NEGATIVE


@pytest.mark.parametrize(
    ("elapsed", "delta", "code"),
    [
        (timedelta(days=1), D("2000"), None),
        (timedelta(days=1), D("2000.01"), E.READING_IMPLAUSIBLE_JUMP),
        (timedelta(days=10), D("20000"), None),
        (timedelta(days=10), D("20000.01"), E.READING_IMPLAUSIBLE_JUMP),
        # less than a day counts as a whole day: 2000 kWh in an hour is not flagged
        (timedelta(hours=1), D("2000"), None),
        (timedelta(hours=1), D("2000.01"), E.READING_IMPLAUSIBLE_JUMP),
        (timedelta(0), D("2500"), E.READING_IMPLAUSIBLE_JUMP),
    ],
)
def test_implausible_jump_per_day(elapsed: timedelta, delta: Decimal,
                                  code: ErrorCode | None) -> None:
    last = D("1000")
    got = reading_error(last + delta, last=last, last_at=T0, at=T0 + elapsed, now=NOW)
    assert got == code


def test_jump_details_and_custom_limit() -> None:
    with pytest.raises(DomainError) as info:
        validate_reading(D("3000"), last=D("0"), last_at=T0, at=T0 + timedelta(days=1))
    assert info.value.details == {"delta": "3000", "per_day": "3000.0"}
    assert reading_error(D("3000"), last=D("0"), last_at=T0, at=T0 + timedelta(days=1),
                         max_daily=D("5000")) is None


def test_jump_not_judged_without_both_times() -> None:
    assert reading_error(D("900000"), last=D("0")) is None
    assert reading_error(D("900000"), last=D("0"), last_at=T0) is None
    assert reading_error(D("900000"), last=D("0"), at=T0) is None


@pytest.mark.parametrize(
    ("ahead", "code"),
    [
        (timedelta(0), None),
        (timedelta(minutes=10), None),  # phone clocks drift: 10 minutes of slack
        (timedelta(minutes=10, seconds=1), E.READING_IN_FUTURE),
        (timedelta(hours=8), E.READING_IN_FUTURE),
        (-timedelta(days=3), None),
    ],
)
def test_reading_time_in_future(ahead: timedelta, code: ErrorCode | None) -> None:
    assert reading_error(D("10"), at=NOW + ahead, now=NOW) == code


def test_reading_future_check_needs_now() -> None:
    assert reading_error(D("10"), at=NOW + timedelta(days=1)) is None


def test_reading_naive_times_refused() -> None:
    with pytest.raises(ValueError):
        validate_reading(D("10"), at=datetime(2024, 7, 1), now=NOW)


@given(last=st.decimals(min_value=D("0.01"), max_value=D("999999.99"), places=2),
       drop=st.decimals(min_value=D("0.01"), max_value=D("999999.99"), places=2))
@FAST
def test_property_any_reading_below_last_fails(last: Decimal, drop: Decimal) -> None:
    value = last - drop
    if value < 0:
        value = D("0")
        if value >= last:
            return
    assert reading_error(value, last=last) == E.READING_BELOW_LAST


@given(last=st.decimals(min_value=D("0"), max_value=D("900000"), places=2),
       rise=st.decimals(min_value=D("0"), max_value=D("2000"), places=2),
       hours=st.integers(min_value=0, max_value=24 * 365))
@FAST
def test_property_plausible_readings_pass(last: Decimal, rise: Decimal, hours: int) -> None:
    at = T0 + timedelta(hours=hours)
    assert reading_error(last + rise, last=last, last_at=T0, at=at, now=at) is None


# -- kWh storage -------------------------------------------------------------------------
@pytest.mark.parametrize(("kwh", "centi"),
                         [(D("0"), 0), (D("0.01"), 1), (D("12.34"), 1234),
                          (D("999999.99"), 99999999)])
def test_kwh_centi(kwh: Decimal, centi: int) -> None:
    assert kwh_to_centi(kwh) == centi
    assert centi_to_kwh(centi) == kwh
    assert str(centi_to_kwh(centi)).count(".") == 1
    assert len(str(centi_to_kwh(centi)).split(".")[1]) == 2


@given(st.integers(min_value=0, max_value=99_999_999))
@FAST
def test_property_centi_round_trip(centi: int) -> None:
    assert kwh_to_centi(centi_to_kwh(centi)) == centi


@given(st.decimals(min_value=D("0"), max_value=D("999999.99"), places=2))
@FAST
def test_property_kwh_round_trip(kwh: Decimal) -> None:
    assert centi_to_kwh(kwh_to_centi(kwh)) == kwh


# -- the swap form ------------------------------------------------------------------------
GOOD = SwapDraft(
    old_meter_no="M-OLD-001",
    old_final_kwh=D("1234.56"),
    old_remaining_fen=4_250,
    new_meter_no="M-NEW-777",
    new_start_kwh=D("0.02"),
    new_card_no="6222000011112222",
    seal_numbers=("SEAL-0001", "SEAL-0002"),
    old_face_photo=HASH_A,
    new_face_photo=HASH_B,
    recorded_at=NOW - timedelta(minutes=5),
)
CTX = SwapContext(
    job_meter_no="M-OLD-001",
    last_reading_kwh=D("1200.00"),
    last_reading_at=NOW - timedelta(days=5),
    new_meter_status=MeterStatus.IN_STOCK,
    now=NOW,
)


def codes(draft: SwapDraft = GOOD, ctx: SwapContext = CTX) -> dict[str, ErrorCode]:
    return {f: e.code for f, e in swap_problems(draft, ctx).items()}


def test_good_draft_has_no_problems() -> None:
    assert swap_problems(GOOD, CTX) == {}
    validate_swap(GOOD, CTX)  # does not raise


def test_good_draft_variants_pass() -> None:
    ok = [
        replace(GOOD, old_final_kwh=D("1200.00")),  # equal to the last reading
        replace(GOOD, old_meter_no="  M-OLD-001 "),  # typed with spaces
        replace(GOOD, new_start_kwh=D("0")),
        replace(GOOD, new_start_kwh=D("10.00")),
        replace(GOOD, old_remaining_fen=-100_000),  # overdraft of 1,000 yuan
        replace(GOOD, old_remaining_fen=10_000_000),  # 100,000 yuan
        replace(GOOD, old_remaining_fen=0),
        replace(GOOD, new_card_no="12345678"),
        replace(GOOD, new_card_no="1" * 20),
        replace(GOOD, seal_numbers=()),
        replace(GOOD, seal_numbers=tuple(f"S-{i:04d}" for i in range(6))),
        replace(GOOD, seal_numbers=("abcd", "A" * 24)),
        replace(GOOD, recorded_at=None),
    ]
    for draft in ok:
        assert codes(draft) == {}, draft
    assert codes(GOOD, replace(CTX, last_reading_kwh=None, last_reading_at=None)) == {}
    assert codes(GOOD, replace(CTX, now=None)) == {}


@pytest.mark.parametrize(
    ("change", "ctx_change", "field", "code"),
    [
        ({"old_meter_no": "M-OLD-002"}, {}, "old_meter_no", E.SWAP_OLD_METER_MISMATCH),
        ({"old_final_kwh": D("1199.99")}, {}, "old_final_kwh", E.READING_BELOW_LAST),
        ({"old_final_kwh": D("-1")}, {"last_reading_kwh": None}, "old_final_kwh",
         E.READING_NEGATIVE),
        ({"old_final_kwh": D("1000000")}, {}, "old_final_kwh", E.READING_TOO_LARGE),
        ({"old_final_kwh": D("20000")}, {}, "old_final_kwh", E.READING_IMPLAUSIBLE_JUMP),
        ({"recorded_at": NOW + timedelta(hours=1)}, {}, "old_final_kwh",
         E.READING_IN_FUTURE),
        ({}, {"new_meter_status": None}, "new_meter_no", E.SWAP_NEW_METER_UNKNOWN),
        ({}, {"new_meter_status": MeterStatus.INSTALLED}, "new_meter_no",
         E.SWAP_NEW_METER_NOT_IN_STOCK),
        ({}, {"new_meter_status": MeterStatus.REMOVED}, "new_meter_no",
         E.SWAP_NEW_METER_NOT_IN_STOCK),
        ({}, {"new_meter_status": MeterStatus.INSTALLED, "register_complete": False},
         "new_meter_no", E.SWAP_NEW_METER_NOT_IN_STOCK),
        ({"new_meter_no": "M-OLD-001"}, {}, "new_meter_no", E.SWAP_NEW_METER_SAME),
        ({"new_meter_no": " M-OLD-001  "}, {}, "new_meter_no", E.SWAP_NEW_METER_SAME),
        ({"new_start_kwh": D("-0.01")}, {}, "new_start_kwh", E.SWAP_NEW_START_TOO_HIGH),
        ({"new_start_kwh": D("10.01")}, {}, "new_start_kwh", E.SWAP_NEW_START_TOO_HIGH),
        ({"new_start_kwh": D("500")}, {}, "new_start_kwh", E.SWAP_NEW_START_TOO_HIGH),
        ({"old_remaining_fen": -100_001}, {}, "old_remaining_fen", E.SWAP_BALANCE_ABSURD),
        ({"old_remaining_fen": 10_000_001}, {}, "old_remaining_fen", E.SWAP_BALANCE_ABSURD),
        ({"new_card_no": "1234567"}, {}, "new_card_no", E.SWAP_CARD_INVALID),
        ({"new_card_no": "1" * 21}, {}, "new_card_no", E.SWAP_CARD_INVALID),
        ({"new_card_no": ""}, {}, "new_card_no", E.SWAP_CARD_INVALID),
        ({"new_card_no": "1234 5678"}, {}, "new_card_no", E.SWAP_CARD_INVALID),
        ({"new_card_no": "12345678A"}, {}, "new_card_no", E.SWAP_CARD_INVALID),
        ({"new_card_no": "12345678\n"}, {}, "new_card_no", E.SWAP_CARD_INVALID),
        # full-width digits from a Chinese input method are not card digits
        ({"new_card_no": "１２３４５６７８"}, {}, "new_card_no", E.SWAP_CARD_INVALID),
        ({"seal_numbers": ("ABC",)}, {}, "seal_numbers", E.SWAP_SEAL_INVALID),
        ({"seal_numbers": ("A" * 25,)}, {}, "seal_numbers", E.SWAP_SEAL_INVALID),
        ({"seal_numbers": ("SEAL_0001",)}, {}, "seal_numbers", E.SWAP_SEAL_INVALID),
        ({"seal_numbers": ("SEAL 0001",)}, {}, "seal_numbers", E.SWAP_SEAL_INVALID),
        ({"seal_numbers": ("SEAL-0001\n",)}, {}, "seal_numbers", E.SWAP_SEAL_INVALID),
        ({"seal_numbers": tuple(f"S-{i:04d}" for i in range(7))}, {}, "seal_numbers",
         E.SWAP_SEAL_INVALID),
        ({"old_face_photo": None}, {}, "photos", E.SWAP_PHOTOS_REQUIRED),
        ({"new_face_photo": None}, {}, "photos", E.SWAP_PHOTOS_REQUIRED),
        ({"new_face_photo": ""}, {}, "photos", E.SWAP_PHOTOS_REQUIRED),
        ({"old_face_photo": "A" * 64}, {}, "photos", E.SWAP_PHOTOS_REQUIRED),
        ({"old_face_photo": "a" * 63}, {}, "photos", E.SWAP_PHOTOS_REQUIRED),
        ({"old_face_photo": "g" * 64}, {}, "photos", E.SWAP_PHOTOS_REQUIRED),
        ({"old_face_photo": HASH_A + "\n"}, {}, "photos", E.SWAP_PHOTOS_REQUIRED),
    ],
)
def test_each_rule_alone(change: dict[str, object], ctx_change: dict[str, object],
                         field: str, code: ErrorCode) -> None:
    draft = replace(GOOD, **change)  # type: ignore[arg-type]
    ctx = replace(CTX, **ctx_change)  # type: ignore[arg-type]
    assert codes(draft, ctx) == {field: code}
    with pytest.raises(FieldErrors) as info:
        validate_swap(draft, ctx)
    err = info.value
    assert err.code == code
    assert set(err.errors) == {field}
    assert err.details["fields"][field]["code"] == code.value
    for lang in ("zh", "en"):
        msg = translate(err.code, lang, **err.errors[field].details)
        assert msg and "{" not in msg


def test_unknown_new_meter_is_left_to_the_server_when_typed_on_the_phone() -> None:
    ctx = replace(CTX, new_meter_status=None, register_complete=False)
    assert codes(GOOD, ctx) == {}
    validate_swap(GOOD, ctx)


def test_mismatch_details_name_both_meters() -> None:
    err = swap_problems(replace(GOOD, old_meter_no="M-X"), CTX)["old_meter_no"]
    assert err.details == {"given": "M-X", "expected": "M-OLD-001"}


def test_new_meter_equal_to_the_jobs_meter_when_old_number_mistyped() -> None:
    draft = replace(GOOD, old_meter_no="M-TYPO", new_meter_no="M-OLD-001")
    assert codes(draft) == {"old_meter_no": E.SWAP_OLD_METER_MISMATCH,
                            "new_meter_no": E.SWAP_NEW_METER_SAME}


def test_seal_details_name_the_bad_ones() -> None:
    draft = replace(GOOD, seal_numbers=("GOOD-1", "x", "bad seal"))
    err = swap_problems(draft, CTX)["seal_numbers"]
    assert "x" in err.details["seal"] and "bad seal" in err.details["seal"]
    assert "GOOD-1" not in err.details["seal"]


def test_not_in_stock_details_carry_the_status() -> None:
    err = swap_problems(GOOD, replace(CTX, new_meter_status=MeterStatus.INSTALLED))
    assert err["new_meter_no"].details == {"meter": "M-NEW-777", "status": "installed"}


def test_several_problems_reported_together() -> None:
    draft = replace(GOOD, old_meter_no="M-WRONG", old_final_kwh=D("1"), new_card_no="12",
                    old_face_photo=None, old_remaining_fen=-10_000_000)
    ctx = replace(CTX, new_meter_status=MeterStatus.REMOVED)
    expected = {
        "old_meter_no": E.SWAP_OLD_METER_MISMATCH,
        "old_final_kwh": E.READING_BELOW_LAST,
        "old_remaining_fen": E.SWAP_BALANCE_ABSURD,
        "new_meter_no": E.SWAP_NEW_METER_NOT_IN_STOCK,
        "new_card_no": E.SWAP_CARD_INVALID,
        "photos": E.SWAP_PHOTOS_REQUIRED,
    }
    assert codes(draft, ctx) == expected
    with pytest.raises(FieldErrors) as info:
        validate_swap(draft, ctx)
    err = info.value
    assert isinstance(err, DomainError)
    assert {f: e.code for f, e in err.errors.items()} == expected
    fields = err.details["fields"]
    assert {f: v["code"] for f, v in fields.items()} == {f: c.value for f, c in expected.items()}
    assert fields["old_meter_no"]["given"] == "M-WRONG"
    assert fields["new_card_no"] == {"code": "SWAP_CARD_INVALID", "min_len": 8, "max_len": 20}
    # the error as a whole reads as its first problem
    assert err.code == E.SWAP_OLD_METER_MISMATCH
    assert err.details["expected"] == "M-OLD-001"


def test_everything_wrong() -> None:
    draft = SwapDraft(old_meter_no="?", old_final_kwh=D("-5"), old_remaining_fen=10**12,
                      new_meter_no="?", new_start_kwh=D("99"), new_card_no="abc",
                      seal_numbers=("!",), old_face_photo=None, new_face_photo=None,
                      recorded_at=NOW + timedelta(days=1))
    assert set(codes(draft)) == {"old_meter_no", "old_final_kwh", "old_remaining_fen",
                                 "new_meter_no", "new_start_kwh", "new_card_no",
                                 "seal_numbers", "photos"}


# -- property: any valid draft passes ------------------------------------------------------
_seal = st.text(alphabet="ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz0123456789-",
                min_size=4, max_size=24)
_hash = st.text(alphabet="0123456789abcdef", min_size=64, max_size=64)


@st.composite
def valid_swaps(draw: st.DrawFn) -> tuple[SwapDraft, SwapContext]:
    last = draw(st.none() | st.decimals(min_value=D("0"), max_value=D("900000"), places=2))
    days = draw(st.integers(min_value=1, max_value=3650))
    rise = draw(st.decimals(min_value=D("0"), max_value=D("2000") * days, places=2))
    final = (last or D("0")) + rise
    if final > D("999999.99"):
        final = last if last is not None else D("0")
    old_no = draw(st.from_regex(r"[A-Z0-9]{6,12}", fullmatch=True))
    new_no = draw(st.from_regex(r"[A-Z0-9]{6,12}", fullmatch=True).filter(lambda n: n != old_no))
    now = NOW
    draft = SwapDraft(
        old_meter_no=old_no,
        old_final_kwh=final,
        old_remaining_fen=draw(st.integers(min_value=-100_000, max_value=10_000_000)),
        new_meter_no=new_no,
        new_start_kwh=draw(st.decimals(min_value=D("0"), max_value=D("10"), places=2)),
        new_card_no=draw(st.from_regex(r"[0-9]{8,20}", fullmatch=True)),
        seal_numbers=tuple(draw(st.lists(_seal, max_size=6))),
        old_face_photo=draw(_hash),
        new_face_photo=draw(_hash),
        recorded_at=now - timedelta(minutes=draw(st.integers(min_value=-10, max_value=600))),
    )
    ctx = SwapContext(
        job_meter_no=old_no,
        last_reading_kwh=last,
        last_reading_at=(draft.recorded_at - timedelta(days=days)
                         if last is not None and draft.recorded_at else None),
        new_meter_status=draw(st.sampled_from([MeterStatus.IN_STOCK, None])),
        register_complete=False,
        now=now,
    )
    if ctx.new_meter_status is None:
        return draft, ctx
    return draft, replace(ctx, register_complete=draw(st.booleans()))


@given(valid_swaps())
@FAST
def test_property_any_valid_draft_passes(case: tuple[SwapDraft, SwapContext]) -> None:
    draft, ctx = case
    assert swap_problems(draft, ctx) == {}
    validate_swap(draft, ctx)


@given(valid_swaps(), st.integers(min_value=1, max_value=10_000))
@FAST
def test_property_final_below_last_always_caught(case: tuple[SwapDraft, SwapContext],
                                                 centi_below: int) -> None:
    draft, ctx = case
    if ctx.last_reading_kwh is None or ctx.last_reading_kwh == 0:
        ctx = replace(ctx, last_reading_kwh=D("100.00"), last_reading_at=None)
    below = max(ctx.last_reading_kwh - centi_to_kwh(centi_below), D("0"))  # type: ignore[operator]
    problems = codes(replace(draft, old_final_kwh=below), ctx)
    assert problems == {"old_final_kwh": E.READING_BELOW_LAST}
