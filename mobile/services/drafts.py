"""Form drafts on the device: one JSON file per form, replaced atomically on every change
(written to a temporary file, flushed to disk, renamed), so a crash at any moment leaves
either the previous draft or the new one, never half of one."""

from __future__ import annotations

import json
import os
import re
from pathlib import Path
from typing import Any

_KEY_RE = re.compile(r"^[A-Za-z0-9_.-]{1,100}\Z")


class FileDrafts:
    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.folder.mkdir(parents=True, exist_ok=True)

    def _path(self, key: str) -> Path:
        if not _KEY_RE.match(key):
            raise ValueError(f"bad draft key {key!r}")
        return self.folder / f"{key}.json"

    def load(self, key: str) -> dict[str, Any] | None:
        path = self._path(key)
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
        except FileNotFoundError:
            return None
        except (ValueError, OSError):
            return None  # unreadable: start again rather than crash the form
        return data if isinstance(data, dict) else None

    def save(self, key: str, data: dict[str, Any]) -> None:
        path = self._path(key)
        tmp = path.with_suffix(".json.tmp")
        with open(tmp, "w", encoding="utf-8") as f:
            json.dump(data, f, ensure_ascii=False)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)

    def delete(self, key: str) -> None:
        self._path(key).unlink(missing_ok=True)


class MemoryDrafts:
    """For tests: the same interface, in memory."""

    def __init__(self) -> None:
        self.data: dict[str, dict[str, Any]] = {}

    def load(self, key: str) -> dict[str, Any] | None:
        got = self.data.get(key)
        return json.loads(json.dumps(got)) if got is not None else None

    def save(self, key: str, data: dict[str, Any]) -> None:
        self.data[key] = json.loads(json.dumps(data))

    def delete(self, key: str) -> None:
        self.data.pop(key, None)
