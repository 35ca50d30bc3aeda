"""The one rule for typed text (``shared.text``) and for readings and money
(``shared.numbers``), as the server's schemas and the phone both apply them."""

from __future__ import annotations

import unicodedata
from decimal import Decimal
from typing import Annotated

import pytest
from hypothesis import given
from hypothesis import strategies as st
from pydantic import BaseModel, StringConstraints, ValidationError

from shared.numbers import (
    Fen,
    NumberError,
    ReadingText,
    parse_count,
    parse_decimal,
    parse_reading,
    reading_text,
)
from shared.text import OneLine, Paragraphs, TextError, clean_line, clean_paragraphs

RLO, LRI, PDI, ZWSP, ZWJ, BOM = "\u202e", "\u2066", "\u2069", "\u200b", "\u200d", "\ufeff"


# -- text -----------------------------------------------------------------------------------
@pytest.mark.parametrize(("raw", "clean"), [
    (f"张{RLO}伟", "张伟"),  # a right-to-left override would show the name backwards
    (f"{LRI}Zhang{PDI} Wei", "Zhang Wei"),
    (f"ad{ZWSP}min", "admin"),  # zero-width space: two names that look the same
    (f"{BOM}王建军", "王建军"),
    ("e\u0301", "\u00e9"),  # NFC: the same letter is one string whatever the device sent
    ("  文星镇\u3000", "文星镇"),
    ("line one\r\nline two", "line one line two"),
    ("tab\there", "tab here"),
])
def test_a_line_loses_invisible_and_direction_characters(raw: str, clean: str) -> None:
    assert clean_line(raw) == clean


def test_paragraphs_keep_ordinary_line_breaks_in_one_form() -> None:
    text = "停电了\r\n表箱冒烟\rnext\u2028last\u2029end\n"
    assert clean_paragraphs(text) == "停电了\n表箱冒烟\nnext\nlast\nend"
    assert clean_paragraphs(f"a{RLO}b\n\nc{ZWJ}d") == "ab\n\ncd"


@pytest.mark.parametrize("bad", ["a\x00b", "bell\x07", "esc\x1b[31m", "del\x7f", "c1\x9b",
                                 "lone\ud800surrogate"])
def test_control_characters_are_refused_not_stripped(bad: str) -> None:
    with pytest.raises(TextError):
        clean_line(bad)
    with pytest.raises(TextError):
        clean_paragraphs(bad)


@given(st.text(max_size=60))
def test_property_clean_text_has_no_format_or_control_characters(raw: str) -> None:
    for clean, allowed in ((clean_line, ""), (clean_paragraphs, "\n")):
        try:
            out = clean(raw)
        except TextError:
            continue
        assert not any(unicodedata.category(c) in ("Cf", "Cs")
                       or (unicodedata.category(c) == "Cc" and c not in allowed) for c in out)
        assert unicodedata.is_normalized("NFC", out)
        assert clean(out) == out  # cleaning twice changes nothing


class _Form(BaseModel):
    name: Annotated[str, StringConstraints(min_length=1, max_length=5), OneLine]
    text: Annotated[str, StringConstraints(max_length=50), Paragraphs] = ""


def test_schema_types_clean_before_checking_length() -> None:
    assert _Form(name=f"  {RLO}{ZWSP}abcde ").name == "abcde"
    with pytest.raises(ValidationError):
        _Form(name=f"{ZWSP}{RLO}")  # nothing left: too short
    with pytest.raises(ValidationError):
        _Form(name="ok", text="x\x00")
    assert _Form(name="a", text="1\r\n2").text == "1\n2"


# -- numbers --------------------------------------------------------------------------------
def test_full_width_digits_are_normalised_on_purpose_other_scripts_refused() -> None:
    assert parse_reading("４１０２７．６９") == Decimal("41027.69")
    assert parse_reading(" 41027.6 ") == Decimal("41027.6")
    for bad in ("٤١٠٢٧.٦٩", "४१०२७", "1e3", "NaN", "Infinity", "+5", "1,000.00", "12.345",
                "", "4 711"):
        with pytest.raises(NumberError):
            parse_reading(bad)
    with pytest.raises(NumberError):
        parse_decimal(12, max_places=2)  # type: ignore[arg-type]


def test_reading_text_has_two_places_and_never_rounds() -> None:
    assert reading_text(Decimal("4711")) == "4711.00"
    assert reading_text(Decimal("4711.5")) == "4711.50"
    with pytest.raises(NumberError):
        reading_text(Decimal("4711.505"))


class _Payload(BaseModel):
    kwh: ReadingText
    fen: Fen = 0


@pytest.mark.parametrize("value", [41027.69, 41027, "41027.6", "41027.695", "41027",
                                   "٤١٠٢٧.٦٩", "41027.69x", True, None])
def test_a_reading_field_takes_only_a_two_place_decimal_string(value: object) -> None:
    with pytest.raises(ValidationError):
        _Payload(kwh=value)  # type: ignore[arg-type]


def test_a_reading_field_normalises_full_width_digits() -> None:
    assert _Payload(kwh="４１０２７.６９").kwh == "41027.69"
    assert _Payload.model_json_schema()["properties"]["kwh"]["type"] == "string"


@pytest.mark.parametrize("value", [12.0, 12.5, "12", True, 10**13])
def test_money_is_integer_fen_only(value: object) -> None:
    with pytest.raises(ValidationError):
        _Payload(kwh="1.00", fen=value)  # type: ignore[arg-type]
    assert _Payload(kwh="1.00", fen=-1234).fen == -1234


def test_a_typed_count_follows_the_same_digit_rule() -> None:
    assert parse_count(" １２ ") == 12 and parse_count("7") == 7
    for bad in ("١٢", "12.0", "1e2", "-", ""):
        with pytest.raises(NumberError):
            parse_count(bad)


def test_the_text_rule_agrees_with_unicode_on_every_code_point() -> None:
    """The regular expressions of ``shared.text`` against Python's Unicode database: a
    control or surrogate is refused, a format character removed, nothing else touched."""
    from shared import text

    removed = text._format_chars()
    for code in range(0x110000):
        ch = chr(code)
        category = unicodedata.category(ch)
        refused = (category == "Cc" and ch != "\n") or category == "Cs"
        assert bool(text._CONTROL.fullmatch(ch)) == refused, hex(code)
        assert (code in removed) == (category == "Cf"), hex(code)


def test_cleaned_text_is_kept_for_a_second_cleaning_but_never_a_long_one():
    """The same text is cleaned twice on every path (validation, then the rules): short
    texts keep their answer; a long one (text is cleaned before its length is checked) is
    cleaned each time and never kept, so a refused megabyte does not stay in memory."""
    from shared import text as t

    t._paragraphs.cache_clear()  # (earlier tests may have filled it: nothing could grow)
    short = "Replaced the fuse\r\nat 10:05 " + "x" * 100
    assert t.clean_paragraphs(short) == t.clean_paragraphs(short) == t._clean_paragraphs(short)
    hits = t._paragraphs.cache_info().hits
    t.clean_paragraphs(short)
    assert t._paragraphs.cache_info().hits == hits + 1
    long = "换表" * 100_000
    kept = t._paragraphs.cache_info().currsize
    assert t.clean_paragraphs(long) == long and t.clean_line(long) == long
    assert t._paragraphs.cache_info().currsize == kept


def _full_rule(value: str, newline: str) -> str:
    """The three steps every text went through before the printable-ASCII shortcut."""
    from shared import text as t

    return t._finish(t._check_and_break(value, newline))


@given(st.text(alphabet=st.characters(max_codepoint=0x7F), max_size=40))
def test_the_printable_ascii_shortcut_gives_what_the_full_rule_gives(raw: str) -> None:
    """Text of printable ASCII is only stripped (``shared.text.clean_line``); any other ASCII
    (a tab, a line break, a control character) still takes every step: the same text, or
    the same refusal, either way."""
    from shared import text as t

    for clean, full, newline in ((t.clean_line, _full_rule, " "),
                                 (t.clean_paragraphs, _full_rule, "\n")):
        try:
            expected: str | type[TextError] = full(raw, newline)
        except TextError:
            expected = TextError
        try:
            got: str | type[TextError] = clean(raw)
        except TextError:
            got = TextError
        assert got == expected, (raw, newline)


def test_every_ascii_character_alone_is_cleaned_as_the_full_rule_cleans_it() -> None:
    from shared import text as t

    for code in range(0x80):
        raw = f" a{chr(code)}b "
        for clean, newline in ((t.clean_line, " "), (t.clean_paragraphs, "\n")):
            try:
                expected = _full_rule(raw, newline)
            except TextError:
                with pytest.raises(TextError):
                    clean(raw)
                assert code < 0x20 or code == 0x7F  # a control character: refused
            else:
                assert clean(raw) == expected, hex(code)
