"""``docs/sync-protocol.md`` and ``sync/protocol.py`` say the same (issue 8, item 13):
every error code in the protocol module is in the document's §7 and every code the
document names exists; every domain code an op's path can raise is listed as one a push
result can carry; every code has a Chinese and an English message; every envelope limit
is documented by name."""

from __future__ import annotations

import ast
import re
from pathlib import Path

from shared.errors import ErrorCode
from shared.messages import translate
from sync import protocol
from sync.protocol import OP_REFUSAL_CODES, REQUEST_ERROR_CODES, SyncErrorCode

ROOT = Path(__file__).resolve().parents[3]
DOC = (ROOT / "docs" / "sync-protocol.md").read_text(encoding="utf-8")
CODE = re.compile(r"`([A-Z][A-Z0-9]*(?:_[A-Z0-9]+)+)`")
#: In a table's code column a code may be one word (``FORBIDDEN``).
CELL_CODE = re.compile(r"`([A-Z][A-Z0-9]*(?:_[A-Z0-9]+)*)`")
#: The modules an op's path runs (``server.sync.handlers`` and what it calls).
OP_PATH = ("shared/workorders/state_machine.py", "shared/workorders/rules.py",
           "shared/workorders/fields.py", "shared/meter_rules.py", "shared/billing/ledger.py",
           "server/work_orders/service.py", "server/meters/service.py",
           "server/billing/recharges.py", "server/billing/ledger.py",
           "server/notifications/service.py", "server/sync/handlers.py",
           "server/sync/push.py")
#: Raised in those modules, but only on paths no op takes (office corrections, the
#: purchase-count form).
NOT_FROM_OPS = {"BILLING_CORRECTION_INVALID", "PURCHASE_COUNT_INVALID"}


def section(number: str) -> str:
    start = DOC.index(f"### {number} ")
    end = DOC.find("\n### ", start + 1)
    end2 = DOC.find("\n## ", start + 1)
    ends = [e for e in (end, end2) if e != -1]
    return DOC[start:min(ends)] if ends else DOC[start:]


def table_codes(text: str) -> set[str]:
    """Codes named in the first column(s) of the table rows of ``text``."""
    found: set[str] = set()
    for line in text.splitlines():
        if line.startswith("| ") and not line.startswith("|---"):
            cells = line.split(" | ")
            found |= set(CELL_CODE.findall(" | ".join(cells[:2])))
    return found


def test_every_sync_code_is_documented_and_every_documented_one_exists() -> None:
    documented = table_codes(section("7.1"))
    assert documented == {c.value for c in SyncErrorCode}
    named_anywhere = {c for c in CODE.findall(DOC) if c.startswith("SYNC_")}
    assert named_anywhere <= {c.value for c in SyncErrorCode}, named_anywhere


def test_every_domain_code_a_push_result_carries_is_documented_and_vice_versa() -> None:
    documented = table_codes(section("7.2"))
    assert documented == set(OP_REFUSAL_CODES)
    assert documented <= {c.value for c in ErrorCode}


def test_every_whole_request_code_is_documented_and_vice_versa() -> None:
    documented = table_codes(section("7.3"))
    assert documented == set(REQUEST_ERROR_CODES)
    assert documented <= {c.value for c in ErrorCode}


def test_every_code_the_document_names_exists() -> None:
    known = {c.value for c in ErrorCode} | {c.value for c in SyncErrorCode}
    named = {n for n in CODE.findall(DOC) if not n.startswith("GRIDONE_")}  # (settings)
    constants = {n for n in named if hasattr(protocol, n)}  # limits named by constant
    assert named - constants - known == set()


def raised_codes(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    out = set()
    for node in ast.walk(tree):
        if (isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name)
                and node.value.id in ("ErrorCode", "E") and node.attr.isupper()):
            out.add(node.attr)
    return out


def test_every_code_an_ops_path_can_raise_is_listed_for_push_results() -> None:
    raised = set().union(*(raised_codes(ROOT / p) for p in OP_PATH)) - NOT_FROM_OPS
    assert raised <= set(OP_REFUSAL_CODES), raised - set(OP_REFUSAL_CODES)


def test_every_code_has_a_chinese_and_an_english_message() -> None:
    for code in {*OP_REFUSAL_CODES, *REQUEST_ERROR_CODES, *(c.value for c in SyncErrorCode)}:
        en, zh = translate(code, "en"), translate(code, "zh")
        assert en != code and zh != code and en != zh, code


def test_every_envelope_limit_is_documented_by_name_and_value() -> None:
    for name in ("MAX_PUSH_OPS", "MAX_PUSH_BYTES", "MAX_LANE_CHARS", "MAX_OP_PHOTOS",
                 "MAX_TYPE_CHARS", "DEVICE_ID_CHARS", "MAX_DEVICE_SEQ", "MAX_INT32",
                 "MIN_PROTOCOL_VERSION", "PROTOCOL_VERSION", "MAX_PULL_LIMIT"):
        assert name in DOC, name
    for value in (f"{protocol.MAX_PUSH_OPS} ops", f"{protocol.MAX_LANE_CHARS} chars",
                  f"at most {protocol.MAX_OP_PHOTOS}", "2^63 − 1", "2^31 − 1",
                  f"1..{protocol.MAX_PULL_LIMIT}"):
        assert value in DOC, value
