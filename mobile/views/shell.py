"""The app's frame: app bar with the sync indicator, the current screen, the role's tabs."""

from __future__ import annotations

import importlib
from typing import Any, NamedTuple

import flet as ft

from mobile import theme
from mobile.components.sync_badge import SyncBadge
from mobile.context import AppContext
from mobile.i18n import STRINGS
from mobile.state.app import AppState
from mobile.state.sync import SyncState

TAB_ICONS = {
    "jobs": (ft.Icons.ASSIGNMENT_OUTLINED, ft.Icons.ASSIGNMENT),
    "accounts": (ft.Icons.ACCOUNT_BALANCE_WALLET_OUTLINED, ft.Icons.ACCOUNT_BALANCE_WALLET),
    "faults": (ft.Icons.REPORT_PROBLEM_OUTLINED, ft.Icons.REPORT_PROBLEM),
    "inbox": (ft.Icons.MAIL_OUTLINE, ft.Icons.MAIL),
    "cash": (ft.Icons.PAYMENTS_OUTLINED, ft.Icons.PAYMENTS),
    "apps": (ft.Icons.ASSIGNMENT_IND_OUTLINED, ft.Icons.ASSIGNMENT_IND),
    "sync": (ft.Icons.SYNC, ft.Icons.SYNC),
    "settings": (ft.Icons.SETTINGS_OUTLINED, ft.Icons.SETTINGS),
}
TITLES = {"jobs": "tab_jobs", "accounts": "tab_accounts", "faults": "my_faults",
          "sync": "sync_title", "settings": "tab_settings", "job": "timeline",
          "swap": "swap_title", "report": "report_fault", "inbox": "tab_inbox",
          "cash": "tab_cash", "recharge": "recharge_title", "history": "history_title",
          "count_fix": "count_fix_title", "summary": "my_summary", "bill": "bill",
          "apps": "apps_title", "apply": "apply_title", "application": "app_detail_title",
          "install": "install_title", "inspection": "inspection_form"}


class ScreenView(NamedTuple):
    """How a screen's view is made: its module under ``mobile.views`` and component, the
    screen parameter it takes (``None``: none), whether it takes the app's context and the
    sync state, and its key's prefix (default: the screen's name)."""

    module: str
    component: str
    param: str | None = None
    sync: bool = False
    key: str | None = None
    ctx: bool = True


# Each screen's view is imported when the screen is first shown: the app's start (in the
# browser, Python compiles and runs every module it imports) pays only for what it opens.
SCREENS = {
    "login": ScreenView("login", "LoginView"),
    "jobs": ScreenView("jobs", "JobsView"),
    "job": ScreenView("job_detail", "JobDetailView", "order_id"),
    "swap": ScreenView("swap_form", "SwapFormView", "order_id"),
    "inspection": ScreenView("inspection_form", "InspectionFormView", "order_id", key="finding"),
    "install": ScreenView("applications", "InstallView", "order_id"),
    "accounts": ScreenView("accounts", "AccountsView", sync=True),
    "recharge": ScreenView("recharge", "RechargeView", "account_id", sync=True),
    "bill": ScreenView("bill", "BillView", "account_id"),
    "history": ScreenView("balance", "HistoryView", "account_id"),
    "inbox": ScreenView("balance", "InboxView"),
    "faults": ScreenView("faults", "FaultsView"),
    "report": ScreenView("fault_report", "FaultReportView"),
    "cash": ScreenView("agent_cash", "CashView", sync=True),
    "count_fix": ScreenView("agent_cash", "CountFixView", sync=True),
    "apps": ScreenView("applications", "AppsView"),
    "apply": ScreenView("applications", "ApplyView"),
    "application": ScreenView("applications", "AppDetailView", "app_id", key="app"),
    "summary": ScreenView("my_summary", "MySummaryView"),
    "settings": ScreenView("settings", "SettingsView", sync=True),
    "sync": ScreenView("sync", "SyncView", sync=True, ctx=False),
}


def view(name: str) -> Any:
    """The view component of screen ``name`` (``SCREENS``), its module imported now."""
    screen = SCREENS[name]
    return getattr(importlib.import_module(f"mobile.views.{screen.module}"), screen.component)


def _body(app: AppState, ctx: AppContext) -> ft.Control:
    name = app.screen.name if app.screen.name in SCREENS else "settings"
    screen = SCREENS[name]
    args: list[Any] = [app, ctx] if screen.ctx else [app]
    if screen.sync:
        args.append(ctx.sync)
    key = screen.key or name
    if screen.param:
        value = app.screen.params[screen.param]
        args.append(value)
        key = f"{key}-{value}"
    return view(name)(*args, key=key)


def _title(app: AppState) -> str:
    screen = app.screen
    if screen.name == "job" and screen.params.get("title"):
        return str(screen.params["title"])
    return app.tr(TITLES.get(screen.name, "app_name"))


@ft.component
def App(app: AppState, ctx: AppContext) -> list[ft.View]:
    """The frame re-renders on navigation only; sync status changes re-render just the
    components that show them (they take ``ctx.sync`` as an argument)."""
    sync: SyncState = ctx.sync
    lang = app.lang
    page = ft.context.page

    def show_message() -> None:
        if app.message:
            page.show_dialog(ft.SnackBar(ft.Text(app.message, size=15), duration=4000))

    ft.on_updated(show_message, [app.message_seq])

    if app.session is None:
        return [ft.View(route="/office" if app.office_route else "/", bgcolor=theme.SURFACE,
                        padding=0, controls=[view("login")(app, ctx, key="login")])]
    if app.office:
        try:
            from mobile.office.shell import OfficeShell
        except ImportError:  # the installed phone app carries no office desk
            def leave(_: object) -> None:
                ctx.backend.sign_out()
                app.signed_out()

            return [ft.View(route="/", bgcolor=theme.SURFACE, padding=24, controls=[
                ft.Text(app.tr("office_not_here"), size=17),
                ft.OutlinedButton(app.tr("sign_out"), icon=ft.Icons.LOGOUT, on_click=leave)])]

        return [ft.View(route="/office", bgcolor=theme.SURFACE, padding=0,
                        controls=[OfficeShell(app, ctx, key=f"office-{app.session.user_id}")])]

    tabs = list(app.tabs)
    current = app.tab if app.tab in tabs else (tabs[0] if tabs else "")
    appbar = ft.AppBar(
        title=ft.Text(_title(app), size=19, weight=ft.FontWeight.W_600, color=ft.Colors.WHITE),
        bgcolor=theme.PRIMARY,
        leading=ft.IconButton(ft.Icons.ARROW_BACK, icon_color=ft.Colors.WHITE,
                              tooltip=app.tr("back"), on_click=lambda _: app.back())
        if app.stack else None,
        automatically_imply_leading=False,
        actions=[SyncBadge(sync, lang, lambda: app.select_tab("sync"))],
    )
    nav = ft.NavigationBar(
        selected_index=tabs.index(current) if current in tabs else 0,
        destinations=[ft.NavigationBarDestination(
            icon=TAB_ICONS[name][0], selected_icon=TAB_ICONS[name][1],
            label=app.tr(f"nav_{name}" if f"nav_{name}" in STRINGS else f"tab_{name}"))
            for name in tabs],
        on_change=lambda e: app.select_tab(tabs[int(e.control.selected_index)]),
    )
    return [ft.View(route="/", appbar=appbar, navigation_bar=nav, bgcolor=theme.SURFACE,
                    padding=0, controls=[_body(app, ctx)])]
