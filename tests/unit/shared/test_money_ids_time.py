"""Money in integer fen, device-made UUIDv7 ids, timezone-aware timestamps."""

from __future__ import annotations

import itertools
import time
import uuid
from datetime import UTC, datetime, timedelta, timezone, tzinfo
from decimal import Decimal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from shared.ids import is_uuid, new_id, uuid_version
from shared.money import fen_to_yuan, format_fen, yuan_to_fen
from shared.timeutil import LOCAL_TZ, as_utc, ensure_aware, utcnow

FAST = settings(database=None, max_examples=200, deadline=None)


# -- money ------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("value", "fen"),
    [
        ("12.3", 1230),
        ("12.30", 1230),
        ("12.34", 1234),
        ("12.300", 1230),  # trailing zeros are not extra precision
        ("0.01", 1),
        ("0", 0),
        (" 7.5 ", 750),
        ("-1.50", -150),
        ("-0.01", -1),
        (12, 1200),
        (0, 0),
        (-3, -300),
        (Decimal("12.3"), 1230),
        (Decimal("0.10"), 10),
        ("100000", 10_000_000),
        ("１２.３０", 1230),  # full-width digits (a Chinese input method): normalised
        ("123456789012.34", 12345678901234),
    ],
)
def test_yuan_to_fen_exact(value: str | int | Decimal, fen: int) -> None:
    got = yuan_to_fen(value)
    assert got == fen
    assert type(got) is int


@pytest.mark.parametrize("value", [0.1, 12.3, 1.0, 0.0, float("nan"), float("inf")])
def test_yuan_to_fen_refuses_floats(value: float) -> None:
    with pytest.raises(ValueError):
        yuan_to_fen(value)  # type: ignore[arg-type]


@pytest.mark.parametrize("value", ["1.234", "0.001", "12.345", Decimal("0.005"), "1e-3"])
def test_yuan_to_fen_refuses_more_than_two_decimals(value: str | Decimal) -> None:
    with pytest.raises(ValueError):
        yuan_to_fen(value)


@pytest.mark.parametrize("value", ["", "abc", "12,30", "¥12", "1.2.3", "NaN", "Infinity",
                                   "-inf", Decimal("NaN"), True, "1e2", "+5", "١٢",
                                   "1 000"])
def test_yuan_to_fen_refuses_non_amounts(value: object) -> None:
    with pytest.raises(ValueError):
        yuan_to_fen(value)  # type: ignore[arg-type]


@given(st.integers(min_value=-10**12, max_value=10**12))
@FAST
def test_property_fen_yuan_round_trip(fen: int) -> None:
    yuan = fen_to_yuan(fen)
    assert yuan.as_tuple().exponent == -2
    assert yuan_to_fen(yuan) == fen
    assert yuan_to_fen(str(yuan)) == fen


@pytest.mark.parametrize(
    ("fen", "text"),
    [
        (0, "¥0.00"),
        (1, "¥0.01"),
        (10, "¥0.10"),
        (1230, "¥12.30"),
        (100_000, "¥1,000.00"),
        (123_456_789, "¥1,234,567.89"),
        (-150, "-¥1.50"),
        (-1, "-¥0.01"),
        (-123_456_789, "-¥1,234,567.89"),
    ],
)
def test_format_fen(fen: int, text: str) -> None:
    assert format_fen(fen) == text


def test_format_fen_symbol() -> None:
    assert format_fen(4250, symbol="") == "42.50"
    assert format_fen(-4250, symbol="CNY ") == "-CNY 42.50"


# -- ids --------------------------------------------------------------------------------------
def test_new_id_is_a_lowercase_uuid7() -> None:
    value = new_id()
    assert isinstance(value, str)
    assert len(value) == 36
    assert value == value.lower()
    assert is_uuid(value)
    parsed = uuid.UUID(value)
    assert parsed.version == 7
    assert parsed.variant == uuid.RFC_4122
    assert uuid_version(value) == 7
    assert str(parsed) == value


def test_new_id_carries_the_current_time() -> None:
    before = time.time_ns() // 1_000_000
    value = new_id()
    after = time.time_ns() // 1_000_000
    ms = uuid.UUID(value).int >> 80
    # uuid6 bumps the millisecond to stay monotonic, so allow a little ahead
    assert before <= ms <= after + 1000


def test_new_ids_are_unique_and_time_ordered() -> None:
    ids = [new_id() for _ in range(5000)]
    assert len(set(ids)) == len(ids)
    assert ids == sorted(ids)  # string order is creation order
    assert all(a < b for a, b in itertools.pairwise(ids))
    assert [uuid.UUID(i).int for i in ids] == sorted(uuid.UUID(i).int for i in ids)


@pytest.mark.parametrize(
    ("value", "ok", "version"),
    [
        ("0190a1b2-c3d4-7e5f-8a6b-7c8d9e0f1a2b", True, 7),
        (str(uuid.UUID(int=0x1234, version=4)), True, 4),
        ("0190A1B2-C3D4-7E5F-8A6B-7C8D9E0F1A2B", False, None),  # not lowercase
        ("{0190a1b2-c3d4-7e5f-8a6b-7c8d9e0f1a2b}", False, None),
        ("0190a1b2c3d47e5f8a6b7c8d9e0f1a2b", False, None),  # no hyphens
        ("0190a1b2-c3d4-7e5f-8a6b-7c8d9e0f1a2", False, None),  # short
        ("0190a1b2-c3d4-7e5f-8a6b-7c8d9e0f1a2b\n", False, None),  # trailing newline
        (" 0190a1b2-c3d4-7e5f-8a6b-7c8d9e0f1a2b", False, None),
        ("", False, None),
        ("not-a-uuid", False, None),
    ],
)
def test_is_uuid_and_version(value: str, ok: bool, version: int | None) -> None:
    assert is_uuid(value) is ok
    assert uuid_version(value) == version


# -- time -------------------------------------------------------------------------------------
def test_ensure_aware_refuses_naive() -> None:
    with pytest.raises(ValueError):
        ensure_aware(datetime(2024, 7, 1, 8, 0))


class _NoOffset(tzinfo):
    def utcoffset(self, dt: datetime | None) -> None:
        return None

    def dst(self, dt: datetime | None) -> None:
        return None

    def tzname(self, dt: datetime | None) -> str:
        return "?"


def test_ensure_aware_refuses_a_tzinfo_without_offset() -> None:
    with pytest.raises(ValueError):
        ensure_aware(datetime(2024, 7, 1, 8, 0, tzinfo=_NoOffset()))


@pytest.mark.parametrize(
    "value",
    [
        datetime(2024, 7, 1, 16, 0, tzinfo=LOCAL_TZ),
        datetime(2024, 7, 1, 8, 0, tzinfo=UTC),
        datetime(2024, 7, 1, 3, 0, tzinfo=timezone(timedelta(hours=-5))),
    ],
)
def test_ensure_aware_converts_to_utc_keeping_the_instant(value: datetime) -> None:
    got = ensure_aware(value)
    assert got == datetime(2024, 7, 1, 8, 0, tzinfo=UTC)
    assert got.utcoffset() == timedelta(0)
    assert got.hour == 8


def test_local_tz_is_china_standard_time() -> None:
    assert LOCAL_TZ.utcoffset(None) == timedelta(hours=8)


def test_as_utc_treats_naive_as_utc() -> None:
    assert as_utc(datetime(2024, 7, 1, 8, 0)) == datetime(2024, 7, 1, 8, 0, tzinfo=UTC)
    assert as_utc(datetime(2024, 7, 1, 16, 0, tzinfo=LOCAL_TZ)).hour == 8


def test_utcnow_is_aware_utc_and_current() -> None:
    now = utcnow()
    assert now.utcoffset() == timedelta(0)
    assert abs(now.timestamp() - time.time()) < 5
