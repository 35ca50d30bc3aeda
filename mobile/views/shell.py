"""The app's frame: app bar with the sync indicator, the current screen, the role's tabs."""

from __future__ import annotations

import flet as ft

from mobile import theme
from mobile.components.sync_badge import SyncBadge
from mobile.context import AppContext
from mobile.state.app import AppState
from mobile.state.sync import SyncState
from mobile.views.accounts import AccountsView
from mobile.views.agent_cash import CashView, CountFixView
from mobile.views.applications import AppDetailView, ApplyView, AppsView, InstallView
from mobile.views.balance import HistoryView, InboxView
from mobile.views.bill import BillView
from mobile.views.fault_report import FaultReportView
from mobile.views.faults import FaultsView
from mobile.views.inspection_form import InspectionFormView
from mobile.views.job_detail import JobDetailView
from mobile.views.jobs import JobsView
from mobile.views.login import LoginView
from mobile.views.my_summary import MySummaryView
from mobile.views.recharge import RechargeView
from mobile.views.settings import SettingsView
from mobile.views.swap_form import SwapFormView
from mobile.views.sync import SyncView

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


def _body(app: AppState, ctx: AppContext) -> ft.Control:
    sync = ctx.sync
    screen = app.screen
    p = screen.params
    if screen.name == "jobs":
        return JobsView(app, ctx, key="jobs")
    if screen.name == "job":
        return JobDetailView(app, ctx, p["order_id"], key=f"job-{p['order_id']}")
    if screen.name == "swap":
        return SwapFormView(app, ctx, p["order_id"], key=f"swap-{p['order_id']}")
    if screen.name == "inspection":
        return InspectionFormView(app, ctx, p["order_id"], key=f"finding-{p['order_id']}")
    if screen.name == "accounts":
        return AccountsView(app, ctx, sync, key="accounts")
    if screen.name == "faults":
        return FaultsView(app, ctx, key="faults")
    if screen.name == "report":
        return FaultReportView(app, ctx, key="report")
    if screen.name == "inbox":
        return InboxView(app, ctx, key="inbox")
    if screen.name == "recharge":
        return RechargeView(app, ctx, sync, p["account_id"], key=f"recharge-{p['account_id']}")
    if screen.name == "bill":
        return BillView(app, ctx, p["account_id"], key=f"bill-{p['account_id']}")
    if screen.name == "history":
        return HistoryView(app, ctx, p["account_id"], key=f"history-{p['account_id']}")
    if screen.name == "cash":
        return CashView(app, ctx, sync, key="cash")
    if screen.name == "count_fix":
        return CountFixView(app, ctx, sync, key="count_fix")
    if screen.name == "apps":
        return AppsView(app, ctx, key="apps")
    if screen.name == "apply":
        return ApplyView(app, ctx, key="apply")
    if screen.name == "application":
        return AppDetailView(app, ctx, p["app_id"], key=f"app-{p['app_id']}")
    if screen.name == "install":
        return InstallView(app, ctx, p["order_id"], key=f"install-{p['order_id']}")
    if screen.name == "sync":
        return SyncView(app, sync, key="sync")
    if screen.name == "summary":
        return MySummaryView(app, ctx, key="summary")
    return SettingsView(app, ctx, sync, key="settings")


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
                        padding=0, controls=[LoginView(app, ctx, key="login")])]
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
            label=app.tr(f"tab_{name}" if name != "faults" else "tab_faults"))
            for name in tabs],
        on_change=lambda e: app.select_tab(tabs[int(e.control.selected_index)]),
    )
    return [ft.View(route="/", appbar=appbar, navigation_bar=nav, bgcolor=theme.SURFACE,
                    padding=0, controls=[_body(app, ctx)])]
