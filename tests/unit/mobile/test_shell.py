"""The shell: language, role-aware tabs, navigation, sign-in outcomes; the i18n table;
drafts and the device identity."""

from __future__ import annotations

import asyncio
import re
import string
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from mobile import i18n
from mobile.services import device
from mobile.services.backend import SessionInfo
from mobile.services.drafts import FileDrafts, MemoryDrafts
from mobile.state.app import AppState
from mobile.state.login import LoginState
from shared.enums import Role
from sync.client.errors import PermanentError, TransientError


class Backend:
    def __init__(self, result: Any = None) -> None:
        self.result = result
        self.langs: list[str] = []
        self.signed_out = 0

    def set_language(self, lang: str) -> None:
        self.langs.append(lang)

    def sign_in(self, url: str, username: str, password: str) -> SessionInfo:
        if isinstance(self.result, Exception):
            raise self.result
        return self.result  # type: ignore[no-any-return]

    def sign_out(self) -> None:
        self.signed_out += 1


def session(role: Role) -> SessionInfo:
    return SessionInfo("u1", role, "user", "User One", "http://server")


# -- app state ------------------------------------------------------------------------
def test_the_language_follows_the_device_unless_chosen() -> None:
    backend = Backend()
    app = AppState(backend, device_locale="en-GB")  # type: ignore[arg-type]
    assert app.lang == "en" and app.tr("sign_in") == "Sign in"
    app.device_locale = "zh-Hans-CN"
    assert app.lang == "zh" and app.tr("sign_in") == "登录"
    app.set_lang_pref("en")
    assert app.lang == "en" and backend.langs == ["en"]
    app.device_locale = None
    app.set_lang_pref("auto")
    assert app.lang == "zh"  # no device locale: Chinese, the county's language
    with pytest.raises(ValueError):
        app.set_lang_pref("fr")


@pytest.mark.parametrize(("role", "tabs"), [
    (Role.CREW, ("jobs", "sync", "settings")),
    (Role.METER_TECH, ("jobs", "sync", "settings")),
    (Role.AGENT, ("cash", "jobs", "sync", "settings")),
    (Role.CUSTOMER, ("accounts", "inbox", "faults", "apps", "sync", "settings")),
])
def test_each_role_gets_its_home(role: Role, tabs: tuple[str, ...]) -> None:
    app = AppState(Backend())  # type: ignore[arg-type]
    app.signed_in(session(role))
    assert app.tabs == tabs and app.tab == tabs[0] and app.screen.name == tabs[0]


def test_screens_stack_over_tabs_and_sign_out_clears_them() -> None:
    app = AppState(Backend())  # type: ignore[arg-type]
    app.signed_in(session(Role.CREW))
    app.open("job", order_id="j1")
    app.open("swap", order_id="j1")
    assert app.screen.name == "swap"
    app.back()
    assert (app.screen.name, app.screen.params) == ("job", {"order_id": "j1"})
    app.select_tab("sync")
    assert app.screen.name == "sync" and not app.stack
    app.back()  # nothing to go back to
    with pytest.raises(ValueError):
        app.select_tab("accounts")  # not a crew tab
    seq = app.message_seq
    app.notify_user("hello")
    assert (app.message, app.message_seq) == ("hello", seq + 1)
    app.signed_out()
    assert app.session is None and app.tabs == ()


# -- login ----------------------------------------------------------------------------
def login(result: Any, **fields: str) -> tuple[LoginState, Any]:
    state = LoginState(Backend(result), server_url="http://s", username="crew1",  # type: ignore[arg-type]
                       password="pw")
    for k, v in fields.items():
        setattr(state, k, v)
    return state, asyncio.run(state.submit("en"))


def test_sign_in_needs_every_field() -> None:
    state, got = login(session(Role.CREW), password="")
    assert got is None and state.error == "Enter the server URL, user name and password."


def test_sign_in_forgets_the_password_once_signed_in() -> None:
    state, got = login(session(Role.CREW))
    assert got == session(Role.CREW) and state.password == "" and not state.busy


def test_sign_in_without_a_signal_says_so() -> None:
    state, got = login(TransientError("connect failed", code="SYNC_OFFLINE"))
    assert got is None
    assert state.error == "Cannot reach the server. The first sign-in needs a connection."


def test_a_refused_sign_in_says_why_in_the_users_language() -> None:
    state, got = login(PermanentError("x", code="AUTH_INVALID_CREDENTIALS", status=401))
    assert got is None and state.error == "Wrong user name or password."


@pytest.mark.parametrize("role", [Role.DISPATCHER, Role.MANAGER, Role.ADMIN])
def test_office_staff_sign_in_to_the_office_frame(role: Role) -> None:
    state, got = login(session(role))
    assert got == session(role) and state.error == ""
    assert state.backend.signed_out == 0  # type: ignore[attr-defined]
    app = AppState(Backend())  # type: ignore[arg-type]
    app.signed_in(session(role))
    assert app.office and app.tabs == ()


def test_a_counter_clerk_gets_the_office_frame_only_at_the_desk_url() -> None:
    phone = AppState(Backend())  # type: ignore[arg-type]
    phone.signed_in(session(Role.AGENT))
    assert not phone.office and phone.tabs == ("cash", "jobs", "sync", "settings")
    desk = AppState(Backend(), office_route=True)  # type: ignore[arg-type]
    desk.signed_in(session(Role.AGENT))
    assert desk.office
    crew = AppState(Backend(), office_route=True)  # type: ignore[arg-type]
    crew.signed_in(session(Role.CREW))
    assert not crew.office  # field crews keep their phone app wherever they open it


# -- i18n -----------------------------------------------------------------------------
def test_every_string_exists_in_both_languages_with_the_same_placeholders() -> None:
    fmt = string.Formatter()
    for key, (zh, en) in i18n.STRINGS.items():
        assert zh and en, key
        names = [{n for _, n, _, _ in fmt.parse(text) if n} for text in (zh, en)]
        assert names[0] == names[1], key
        if key not in ("lang_en", "signed_in_as", "event_by", "op_summary"):
            assert re.search(r"[\u4e00-\u9fff]", zh), key


def test_a_count_of_one_reads_in_the_singular() -> None:
    from mobile.office import i18n as office_i18n

    assert office_i18n.t("ap_drill", "en", n=1) == "Show 1 job"
    assert office_i18n.t("ap_drill", "en", n=3) == "Show 3 jobs"
    assert office_i18n.t("ap_drill", "zh", n=1) == "查看 1 单"
    assert office_i18n.t("open_jobs_n", "en", n=1) == "1 open job"
    assert office_i18n.t("summary_from_n", "en", n=1) == "from 1 job"  # an app string
    assert i18n.t("summary_from_n", "en", n=0) == "from 0 jobs"
    assert i18n.t("app_rated", "en", n=1) == "Your rating: 1 star"
    # each singular belongs to a counted string
    for strings in (i18n.STRINGS, office_i18n.STRINGS):
        for key in strings:
            if key.endswith("_1") and key[:-2] in strings:
                assert "{n}" in strings[key[:-2]][1], key


def test_times_and_durations() -> None:
    now = datetime(2026, 11, 27, 2, 0, tzinfo=UTC)
    assert i18n.countdown(now + timedelta(minutes=44, seconds=59), now, "en") == (
        "due in 44 min", False)
    assert i18n.countdown(now - timedelta(hours=3, minutes=2), now, "zh") == (
        "已超时 3 小时 2 分", True)
    assert i18n.countdown(now + timedelta(days=3, hours=5), now, "en",
                          key_ahead="arrive_in") == ("arrive in 3 d 5 h", False)
    assert i18n.ago(now - timedelta(seconds=20), now, "en") == "just now"
    assert i18n.ago(None, now, "zh") == "从未"
    assert i18n.fmt_time(now, "en") == "11-27 10:00"  # China Standard Time
    assert i18n.fmt_bytes(512) == "512 B" and i18n.fmt_bytes(2_500_000) == "2.4 MB"
    assert i18n.lang_from_locale("en_US") == "en" and i18n.lang_from_locale("zh_CN") == "zh"
    assert i18n.t("no_such_key", "en") == "no_such_key"


# -- drafts and device ----------------------------------------------------------------
def test_file_drafts_are_replaced_whole_and_survive_a_bad_file(tmp_path: Path) -> None:
    drafts = FileDrafts(tmp_path / "drafts")
    assert drafts.load("swap-1") is None
    drafts.save("swap-1", {"old_meter_no": "MTR-1", "note": "旧表"})
    assert FileDrafts(tmp_path / "drafts").load("swap-1") == {"old_meter_no": "MTR-1",
                                                              "note": "旧表"}
    assert not list((tmp_path / "drafts").glob("*.tmp"))
    (tmp_path / "drafts" / "swap-2.json").write_text("{half a dra")
    assert drafts.load("swap-2") is None
    drafts.delete("swap-1")
    drafts.delete("swap-1")
    assert drafts.load("swap-1") is None
    with pytest.raises(ValueError):
        drafts.save("../escape", {})
    memory = MemoryDrafts()
    memory.save("k", {"a": [1]})
    loaded = memory.load("k")
    assert loaded == {"a": [1]}
    assert loaded is not None
    loaded["a"].append(2)
    assert memory.load("k") == {"a": [1]}


class Prefs:
    def __init__(self, **values: Any) -> None:
        self.values = dict(values)

    async def get(self, key: str) -> Any:
        return self.values.get(key)

    async def set(self, key: str, value: Any) -> bool:
        self.values[key] = value
        return True


def test_each_browser_gets_its_own_device_key_and_folder(tmp_path: Path) -> None:
    a, b = Prefs(), Prefs()
    key_a = asyncio.run(device.device_key(a))
    assert asyncio.run(device.device_key(a)) == key_a  # kept
    key_b = asyncio.run(device.device_key(b))
    assert key_a != key_b and device.valid_device_key(key_a)
    assert device.device_dir(tmp_path, key_a) != device.device_dir(tmp_path, key_b)
    tampered = Prefs(**{device.DEVICE_KEY_PREF: "../../etc"})
    assert asyncio.run(device.device_key(tampered)) != "../../etc"
    with pytest.raises(ValueError):
        device.device_dir(tmp_path, "../x")
    assert device.data_root(tmp_path) == tmp_path


# -- screens ----------------------------------------------------------------------------
def test_every_tab_and_opened_screen_has_a_view_imported_only_when_shown() -> None:
    """Each screen's view module is imported when the screen is first shown (the start in
    the browser compiles every module it imports): every name a tab or an ``app.open``
    uses resolves to a view, and starting the app imports none of the screens'."""
    import subprocess
    import sys

    from mobile.state.app import TABS
    from mobile.views.shell import SCREENS, TITLES, view

    views = Path(__file__).parents[3] / "mobile" / "views"
    opened = {m for f in views.glob("*.py")
              for m in re.findall(r"app\.open\(\"(\w+)\"", f.read_text(encoding="utf-8"))}
    shown = opened | {tab for tabs in TABS.values() for tab in tabs} | {"login"}
    assert shown <= set(SCREENS), shown - set(SCREENS)
    assert set(TITLES) <= set(SCREENS)
    for name in SCREENS:
        assert callable(view(name)), name
    started = subprocess.run(
        [sys.executable, "-c", "import sys, mobile.main; print(sorted(m for m in sys.modules"
         " if m.startswith('mobile.views.') and m != 'mobile.views.shell'))"],
        capture_output=True, text=True, check=True, cwd=Path(__file__).parents[3])
    assert started.stdout.strip() == "[]", started.stdout
