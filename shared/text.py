"""Text people type: one rule for every path (online API, sync op payloads, the phone).

``clean_line`` (names, addresses, captions, causes) and ``clean_paragraphs`` (descriptions,
notes, resolutions, reasons, comments) make typed text safe to store and show:

1. **Control characters are refused** (``TextError``): C0 and C1 controls (NUL, ESC,
   BEL, DEL …) and lone surrogates never come from a keyboard; they are a sign of broken
   or hostile input. Tab, and line breaks (CR LF, CR, LF, VT, FF, NEL, U+2028, U+2029)
   are the exceptions, handled in step 2.
2. **Line breaks**: in paragraphs every kind of line break becomes ``\\n``; in a line each
   becomes one space. A tab becomes a space.
3. **Format characters are removed** (Unicode category Cf): bidi embeddings, overrides and
   isolates (U+202A–U+202E, U+2066–U+2069), direction marks, zero-width space, joiners and
   non-joiners, word joiner, BOM, soft hyphen, tag characters … They are invisible, so
   removing them loses nothing a reader can see, and they can make a name read backwards
   (``U+202E``) or make two different strings look the same. (Emoji joined with U+200D
   fall apart into their parts; nothing else in Chinese or English text uses them.)
4. **NFC**: composed characters are stored in one canonical form, so the same text
   typed on two devices is the same string.
5. Leading and trailing white space is dropped (each line keeps its inner spaces).

The phone runs the same functions before it queues an op (``sync.client.actions``), so
the server never changes what the phone showed the user.
"""

from __future__ import annotations

import functools
import re
import unicodedata
from typing import Any

from pydantic import BeforeValidator

#: Every line break Unicode knows (CR LF first, so it counts as one).
_BREAKS = re.compile("\r\n|[\r\n\x0b\x0c\x85\u2028\u2029]")


class TextError(ValueError):
    """Text that cannot be accepted (a control character)."""


#: Category Cc (C0, DEL, C1) except the line feed, and Cs (lone surrogates): refused.
_CONTROL = re.compile("[\x00-\x09\x0b-\x1f\x7f-\x9f\ud800-\udfff]")
#: Where Unicode has format characters (Cf): the first two planes and tag characters.
#: Python's Unicode database (tests check the rule against every code point) has none
#: elsewhere; scanning only these keeps the one-time cost at ~20 ms, not ~0.2 s.
_CF_SPANS = ((0, 0x20000), (0xE0000, 0xE1000))


@functools.cache
def _format_chars() -> dict[int, None]:
    """Every format character (Cf), as a ``str.translate`` table that removes them (built
    on first use)."""
    return {c: None for lo, hi in _CF_SPANS for c in range(lo, hi)
            if unicodedata.category(chr(c)) == "Cf"}


def _check_and_break(value: str, newline: str) -> str:
    value = _BREAKS.sub(newline, value).replace("\t", " ")
    bad = _CONTROL.search(value)
    if bad is not None:
        raise TextError(f"control character U+{ord(bad.group()):04X} is not allowed in text")
    return value


def _finish(value: str) -> str:
    # A regular expression and a translation table, not a Python loop over the
    # characters: a pushed note is checked on the server for every op (issue 9: it was a
    # tenth of a push's CPU). ASCII has no format characters and is NFC already.
    if not value.isascii():
        value = unicodedata.normalize("NFC", value.translate(_format_chars()))
    return value.strip()


#: Texts cleaned lately, each with its answer: the same text is cleaned twice on every
#: path (a body's validation, then the rules that decide on it, a few calls apart), and
#: the second time it is already clean (a pushed note: ~1 -> 0.07 µs the second time).
#: Refusals are not kept. Only texts up to ``_KEPT_CHARS`` are kept (text is cleaned
#: before its length is checked: a refused megabyte must not stay in memory), so the
#: cache holds at most ~2 MB.
_RECENT = 64
_KEPT_CHARS = 4096


def clean_line(value: str) -> str:
    """One line of text: names, addresses, captions. Raises ``TextError``."""
    # Printable ASCII only (U+0020-U+007E): no control character, line break, tab or
    # format character, and already NFC; cleaning it only strips its ends. Two C calls
    # instead of three regular-expression passes and the cache of texts cleaned lately
    # (a pushed note, cleaned on the server for every op: 1.3 -> 0.2 µs the first time).
    if value.isascii() and value.isprintable():
        return value.strip()
    return _line(value) if len(value) <= _KEPT_CHARS else _clean_line(value)


def clean_paragraphs(value: str) -> str:
    """Longer text that may keep its line breaks (as ``\\n``). Raises ``TextError``."""
    if value.isascii() and value.isprintable():  # as in ``clean_line``
        return value.strip()
    return (_paragraphs(value) if len(value) <= _KEPT_CHARS
            else _clean_paragraphs(value))


def _clean_line(value: str) -> str:
    return _finish(_check_and_break(value, " "))


def _clean_paragraphs(value: str) -> str:
    return _finish(_check_and_break(value, "\n"))


_line = functools.lru_cache(maxsize=_RECENT)(_clean_line)
_paragraphs = functools.lru_cache(maxsize=_RECENT)(_clean_paragraphs)


def _pass_non_str(fn: Any) -> Any:
    def run(value: Any) -> Any:
        return fn(value) if isinstance(value, str) else value  # the str check reports it
    return run


#: Put last in an ``Annotated[str, StringConstraints(...), OneLine]``: the text is cleaned
#: before its length (and any pattern) is checked.
OneLine = BeforeValidator(_pass_non_str(clean_line))
#: As ``OneLine``, keeping line breaks.
Paragraphs = BeforeValidator(_pass_non_str(clean_paragraphs))


def escape_like(value: str) -> str:
    """``value`` for a SQL LIKE pattern with ``escape="\\\\"``: its ``%`` and ``_`` match
    themselves."""
    return value.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
