"""Pull cursors (``sync.cursor``): signed, bound to one scope, refused when touched."""

from __future__ import annotations

import base64
import json

import pytest

from sync import cursor

SECRET = "s" * 40


def test_a_cursor_round_trips_for_its_own_scope_only() -> None:
    token = cursor.encode({"m": "inc", "s": 42}, secret=SECRET, fingerprint="u1:crew:st1")
    assert cursor.decode(token, secret=SECRET, fingerprint="u1:crew:st1")["s"] == 42
    with pytest.raises(cursor.CursorError, match="scope"):
        cursor.decode(token, secret=SECRET, fingerprint="u1:crew:st2")  # moved station
    with pytest.raises(cursor.CursorError, match="signature"):
        cursor.decode(token, secret="other" * 8, fingerprint="u1:crew:st1")


def test_a_tampered_or_garbled_cursor_is_refused() -> None:
    token = cursor.encode({"m": "inc", "s": 42}, secret=SECRET, fingerprint="f")
    sig = token.partition(".")[2]
    forged = base64.urlsafe_b64encode(json.dumps({"m": "inc", "s": 0, "f": "f"}).encode())
    with pytest.raises(cursor.CursorError, match="signature"):
        cursor.decode(f"{forged.decode()}.{sig}", secret=SECRET, fingerprint="f")
    with pytest.raises(cursor.CursorError):
        cursor.decode("not a cursor", secret=SECRET, fingerprint="f")
