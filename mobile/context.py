"""What the screens of one app session share besides their state: the backend, the
device's hardware and drafts, and how to ask for a sync."""

from __future__ import annotations

import weakref
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from mobile.services.backend import Backend
from mobile.services.hardware import Hardware

if TYPE_CHECKING:  # (the swap form's module is imported when the form is first opened)
    from mobile.state.swap_form import DraftStore


@dataclass(eq=False)
class AppContext:
    backend: Backend
    drafts: DraftStore
    hardware: Hardware
    sync: Any = None  # mobile.state.sync.SyncState (held here so the frame does not
    #                   re-render on every sync status change)
    kick_sync: Callable[[], Any] = lambda: None
    #: the office's HTTP client for a signed-in session (``mobile.office.client``)
    make_office: Callable[[Any], Any] | None = None
    device_key: str = ""
    #: XYZ tile template for the in-app job map ("": a plain background)
    map_tiles: str = ""
    _live: weakref.WeakValueDictionary[int, Any] = field(
        default_factory=weakref.WeakValueDictionary)

    def track(self, state: Any) -> Any:
        """Reload ``state`` whenever sync brings new data (while a screen holds it)."""
        self._live[id(state)] = state
        return state

    def reload_all(self) -> None:
        for state in list(self._live.values()):
            state.reload()
