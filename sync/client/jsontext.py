"""JSON text on the device: the rows it stores and the bodies it sends and reads.

orjson where it is installed (the phone app and the desktop: a pulled page of 1,000 rows
parses ~4x and its rows are written back as text ~8x faster than with the ``json``
module, which was most of the device's work in a download); the standard library where it
is not (Python in the browser has no orjson wheel in our build). Both write compact JSON
that the other reads back to equal values; orjson keeps non-ASCII text as UTF-8
(``ensure_ascii=False``).
"""

from __future__ import annotations

import json
from typing import Any

try:
    import orjson
except ImportError:  # pragma: no cover - Python in the browser
    orjson = None  # type: ignore[assignment]


def dumps(value: Any) -> str:
    """Compact JSON text (no spaces, non-ASCII kept as is)."""
    if orjson is not None:
        return orjson.dumps(value).decode()
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"))


def dump_bytes(value: Any) -> bytes:
    """``dumps`` as UTF-8 bytes (a request body)."""
    return orjson.dumps(value) if orjson is not None else dumps(value).encode("utf-8")


def loads(text: str | bytes) -> Any:
    """A JSON value, read with orjson where it can; what only the ``json`` module reads
    (``NaN``, an escaped lone surrogate: it writes both, e.g. an op's payload in the
    outbox) with the ``json`` module. Text that is not JSON fails either way."""
    if orjson is None:
        return json.loads(text)
    try:
        return orjson.loads(text)
    except orjson.JSONDecodeError:
        return json.loads(text)
