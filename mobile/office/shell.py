"""The office frame: a navigation rail, the page, and a side panel area (the staff inbox);
a banner says when the server cannot be reached.

Shown by ``mobile.views.shell.App`` instead of the phone's tabs when the signed-in role is
office staff (or an agent who opened the app at ``/office``). Laid out for a desktop
browser, usable on a 1024 px tablet.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from typing import Any

import flet as ft

from mobile import theme
from mobile.context import AppContext
from mobile.office.client import OfficeError
from mobile.office.context import OfficeContext
from mobile.office.i18n import label, t
from mobile.office.pages import pages_for
from mobile.office.state.board import BoardState
from mobile.office.state.live import ChangeFeed
from mobile.office.state.shell import OfficeShellState
from mobile.state.app import AppState

log = logging.getLogger(__name__)
INBOX_EVERY_S = 30.0


def _banner(octx: OfficeContext, lang: str, on_retry: Any) -> ft.Control:
    shell = octx.shell
    return ft.Container(
        visible=shell.online is False, bgcolor=ft.Colors.RED_50,
        padding=ft.Padding.symmetric(horizontal=16, vertical=8),
        border=ft.Border.only(bottom=ft.BorderSide(1, theme.DANGER)),
        content=ft.Row([
            ft.Icon(ft.Icons.CLOUD_OFF, color=theme.DANGER),
            ft.Text(t("conn_lost", lang), color=theme.DANGER, size=15,
                    weight=ft.FontWeight.W_600, expand=True),
            ft.TextButton(t("retry", lang), icon=ft.Icons.REFRESH, on_click=on_retry),
        ]))


def _inbox_panel(octx: OfficeContext, lang: str, on_read: Any) -> ft.Control:
    shell = octx.shell
    items: list[ft.Control] = [
        ft.Row([ft.Text(t("inbox", lang), size=18, weight=ft.FontWeight.BOLD, expand=True),
                ft.IconButton(ft.Icons.CLOSE, tooltip=t("close", lang),
                              on_click=lambda _: shell.toggle_inbox())])]
    if not shell.inbox:
        items.append(ft.Text(t("inbox_empty", lang), color=theme.MUTED))
    for note in shell.inbox:
        unread = not note.get("read_at")
        items.append(ft.Container(
            padding=ft.Padding.all(10), border_radius=8,
            bgcolor=ft.Colors.AMBER_50 if unread else None,
            content=ft.Column([
                ft.Text(note.get("title") or "", weight=ft.FontWeight.BOLD, size=14),
                ft.Text(note.get("body") or "", size=13),
                ft.Row([ft.TextButton(t("mark_read", lang),
                                      on_click=lambda _, n=note: on_read(n["id"]))]
                       if unread else []),
            ], spacing=2)))
    return ft.Container(width=340, padding=ft.Padding.all(12), bgcolor=ft.Colors.WHITE,
                        border=ft.Border.only(left=ft.BorderSide(1, ft.Colors.OUTLINE_VARIANT)),
                        content=ft.Column(items, scroll=ft.ScrollMode.AUTO, spacing=8))


def _open_landing(octx: OfficeContext) -> BoardState | None:
    """While the frame is first drawn: when it opens on the board, ask for the board's first
    page and counts at once, so that the rows are on their way while the frame and the
    board's skeleton are drawn (the board's screen takes this state over)."""
    if octx.shell.page != "board":
        return None
    board = BoardState(octx)
    board.load_first()
    octx.hand_over("board", board)
    return board


@ft.component
def OfficeShell(app: AppState, ctx: AppContext) -> ft.Control:
    try:
        return _office_shell(app, ctx)
    except Exception:
        log.exception("the office frame failed to render")  # flet drops it silently
        raise


def _office_shell(app: AppState, ctx: AppContext) -> ft.Control:
    assert app.session is not None and ctx.make_office is not None

    def make() -> tuple[OfficeContext, ChangeFeed, BoardState | None]:
        session = app.session
        assert session is not None
        pages = pages_for(session.role)
        shell = OfficeShellState(role=session.role, page=pages[0].name if pages else "")
        octx = OfficeContext(client=ctx.make_office(session), shell=shell)

        def signed_out() -> None:
            if app.session is not session:
                return  # said once: several calls may find this session gone at once
            app.notify_user(app.tr("session_expired"))
            app.signed_out()

        octx.on_signed_out = signed_out
        return octx, ChangeFeed(octx), _open_landing(octx)

    (octx, feed, landing), _ = ft.use_state(make)
    shell, _ = ft.use_state(lambda: octx.shell)  # re-render on its changes
    alive = ft.use_ref(True)
    lang = app.lang
    octx.client.lang = lang
    pages = pages_for(shell.role)

    async def load_settings() -> None:
        with contextlib.suppress(OfficeError):
            shell.settings = await octx.call(octx.client.desk_settings)

    async def load_inbox() -> None:
        with contextlib.suppress(OfficeError):
            shell.set_inbox(await octx.call(octx.client.inbox))

    async def start() -> None:
        if landing is not None:
            # the board's first rows go first: the filters' lists and the inbox can wait;
            # the feed goes on from the position those rows were read at
            await landing.first_load()
            feed.start_at(landing.seq)
        await asyncio.gather(load_settings(), load_inbox())
        feed_task = asyncio.get_running_loop().create_task(feed.run())
        try:
            while alive.current:
                await asyncio.sleep(INBOX_EVERY_S)
                await load_inbox()
        finally:
            feed.stop()
            feed_task.cancel()

    def stop() -> None:
        alive.current = False
        feed.stop()

    ft.on_mounted(start)
    ft.on_unmounted(stop)

    async def retry(_: Any = None) -> None:
        await load_settings()
        await load_inbox()

    async def mark_read(note_id: str) -> None:
        with contextlib.suppress(OfficeError):
            await octx.call(octx.client.mark_read, note_id)
        await load_inbox()

    def sign_out(_: Any) -> None:
        feed.stop()
        app.backend.sign_out()
        app.signed_out()

    current = next((p for p in pages if p.name == shell.page), pages[0] if pages else None)
    rail = ft.NavigationRail(
        selected_index=pages.index(current) if current else None,
        label_type=ft.NavigationRailLabelType.ALL, min_width=92,
        bgcolor=ft.Colors.WHITE,
        scrollable=True,  # a manager has 14 pages: on a tablet they do not all fit
        leading=ft.Container(padding=ft.Padding.only(top=8, bottom=8),
                             content=ft.Image(src="icons/icon-192.png", width=40, height=40)),
        destinations=[ft.NavigationRailDestination(icon=p.icon, label=t(p.label_key, lang))
                      for p in pages],
        on_change=lambda e: shell.select(pages[int(e.control.selected_index)].name),
    )
    session = app.session
    who = t("signed_in_as", lang, name=session.display_name, role=label(session.role, lang))
    inbox_button = ft.IconButton(
        ft.Icons.NOTIFICATIONS_ACTIVE if shell.unread else ft.Icons.NOTIFICATIONS_NONE,
        icon_color=ft.Colors.WHITE, on_click=lambda _: shell.toggle_inbox(),
        tooltip=f"{t('inbox', lang)} · {t('unread_n', lang, n=shell.unread)}",
        badge=str(shell.unread) if shell.unread else None)
    top = ft.Container(
        bgcolor=theme.PRIMARY, padding=ft.Padding.symmetric(horizontal=16, vertical=6),
        content=ft.Row([
            ft.Text(t("office_title", lang), size=19, weight=ft.FontWeight.W_600,
                    color=ft.Colors.WHITE),
            ft.Text(t(current.label_key, lang) if current else "", size=16,
                    color=ft.Colors.WHITE, expand=True),
            ft.Icon(ft.Icons.CIRCLE, size=10,
                    color=ft.Colors.LIGHT_GREEN_200 if shell.online is not False
                    else ft.Colors.RED_200),
            ft.Text(t("live_on", lang) if shell.online is not False
                    else app.tr("offline"), color=ft.Colors.WHITE, size=13),
            inbox_button,
            ft.SegmentedButton(
                selected=[lang], allow_empty_selection=False, allow_multiple_selection=False,
                segments=[ft.Segment(value="zh", label=ft.Text("中文")),
                          ft.Segment(value="en", label=ft.Text("EN"))],
                on_change=lambda e: app.set_lang_pref(next(iter(e.control.selected)))),
            ft.Text(who, color=ft.Colors.WHITE, size=14),
            ft.IconButton(ft.Icons.LOGOUT, icon_color=ft.Colors.WHITE,
                          tooltip=t("sign_out", lang), on_click=sign_out),
        ], spacing=12, vertical_alignment=ft.CrossAxisAlignment.CENTER))
    if current is None:
        body: ft.Control = ft.Text(t("not_allowed_here", lang))
    else:
        body = current.view(app, octx, key=f"page-{current.name}")
    row: list[ft.Control] = [rail, ft.VerticalDivider(width=1),
                             ft.Container(content=body, expand=True)]
    if shell.inbox_open:
        row.append(_inbox_panel(octx, lang, mark_read))
    return ft.Column([
        top, _banner(octx, lang, retry),
        ft.Row(row, expand=True, spacing=0, vertical_alignment=ft.CrossAxisAlignment.STRETCH),
    ], expand=True, spacing=0)
