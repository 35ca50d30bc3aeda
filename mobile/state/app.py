"""The shell's state: who is signed in, the language, which screen is shown.

Screens are a stack over the role's home tabs: ``open(...)`` pushes a detail screen,
``back()`` pops it. Each screen's own state object is made by ``open`` and kept on
``screen_state`` so the view is a function of it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import flet as ft

from mobile.i18n import lang_from_locale, t
from mobile.services.backend import Backend, SessionInfo
from mobile.state.common import Now, default_clock
from shared.enums import OFFICE_ROLES, Role

#: The phone's home tabs of each role (office staff get the office frame instead).
TABS: dict[Role, tuple[str, ...]] = {
    Role.CREW: ("jobs", "sync", "settings"),
    Role.METER_TECH: ("jobs", "sync", "settings"),
    Role.AGENT: ("cash", "jobs", "sync", "settings"),
    Role.CUSTOMER: ("accounts", "inbox", "faults", "apps", "sync", "settings"),
}
LANG_PREFS = ("auto", "zh", "en")


@ft.observable
@dataclass
class Screen:
    name: str
    params: dict[str, Any] = field(default_factory=dict)


@ft.observable
@dataclass
class AppState:
    backend: Backend
    device_locale: str | None = None
    lang_pref: str = "auto"  # auto | zh | en
    session: SessionInfo | None = None
    tab: str = ""
    stack: list[Screen] = field(default_factory=list)
    message: str = ""  # one-line notice (snack bar)
    message_seq: int = 0
    device_key: str = ""
    server_url: str = ""
    #: served by its own GridOne server (the installed web app): it syncs with where it
    #: came from, and no "Server URL" field shows
    server_fixed: bool = False
    #: the installed web build's version (Settings shows it)
    app_version: str = ""
    #: the app was opened at ``/office`` (the desk URL): agents get the office frame too
    office_route: bool = False
    clock: Now = default_clock

    # -- language -----------------------------------------------------------------------
    @property
    def lang(self) -> str:
        if self.lang_pref in ("zh", "en"):
            return self.lang_pref
        return lang_from_locale(self.device_locale)

    def set_lang_pref(self, pref: str) -> None:
        if pref not in LANG_PREFS:
            raise ValueError(pref)
        self.lang_pref = pref
        self.backend.set_language(self.lang)

    def tr(self, key: str, **params: Any) -> str:
        return t(key, self.lang, **params)

    # -- session ------------------------------------------------------------------------
    @property
    def role(self) -> Role | None:
        return self.session.role if self.session else None

    @property
    def office(self) -> bool:
        """Show the office frame: office staff always; counter clerks (agents) when they
        opened the desk URL (on their phone they keep the field app)."""
        role = self.role
        return role is not None and (
            role in OFFICE_ROLES or (role == Role.AGENT and self.office_route))

    @property
    def tabs(self) -> tuple[str, ...]:
        return TABS.get(self.session.role, ()) if self.session else ()

    def signed_in(self, session: SessionInfo) -> None:
        self.session = session
        self.server_url = session.server_url
        self.stack = []
        self.tab = self.tabs[0] if self.tabs else "settings"

    def signed_out(self) -> None:
        self.session = None
        self.stack = []
        self.tab = ""

    # -- navigation ---------------------------------------------------------------------
    @property
    def screen(self) -> Screen:
        """The screen on top: a pushed detail screen, else the current tab."""
        return self.stack[-1] if self.stack else Screen(self.tab)

    def select_tab(self, name: str) -> None:
        if name not in self.tabs:
            raise ValueError(name)
        self.stack = []
        self.tab = name

    def open(self, name: str, **params: Any) -> None:
        self.stack.append(Screen(name, params))

    def back(self) -> None:
        if self.stack:
            self.stack.pop()

    def notify_user(self, text: str) -> None:
        self.message = text
        self.message_seq += 1
