"""The Sync screen: everything not yet on the server, and what the user can do about it."""

from __future__ import annotations

import flet as ft

from mobile import theme
from mobile.components.common import kv, section
from mobile.i18n import fmt_time, label, t
from mobile.state.app import AppState
from mobile.state.sync import SyncState
from sync.client.status import OpInfo


def _op_row(op: OpInfo, sync: SyncState, app: AppState) -> ft.Control:
    lang = app.lang
    what = label(op.action, lang)
    title = f"{what} · {op.label}" if op.label else what
    buttons: list[ft.Control] = []
    if op.can_retry:
        buttons.append(ft.OutlinedButton(t("retry", lang), icon=ft.Icons.REPLAY,
                                         on_click=lambda _: sync.retry(op.op_id)))
    if op.can_discard:
        buttons.append(ft.TextButton(t("discard", lang), icon=ft.Icons.DELETE_OUTLINE,
                                     style=ft.ButtonStyle(color=theme.DANGER),
                                     on_click=lambda _: sync.discard(op.op_id)))
    return ft.Container(
        padding=ft.Padding.all(10), border=ft.Border.all(1, theme.DANGER), border_radius=10,
        content=ft.Column([
            ft.Row([ft.Icon(ft.Icons.ERROR, color=theme.DANGER),
                    ft.Text(title, weight=ft.FontWeight.W_600, size=15, expand=True),
                    ft.Text(fmt_time(op.created_at, lang), color=theme.MUTED, size=13)]),
            ft.Text(t(f"state_{op.state}", lang), color=theme.DANGER, size=13),
            ft.Text(SyncState.reason(op, lang), size=15),
            ft.Row(buttons, spacing=8),
        ], spacing=4))


@ft.component
def SyncView(app: AppState, sync: SyncState) -> ft.Control:
    lang = app.lang
    s = sync.status

    async def sync_now(_: ft.Event[ft.FilledButton]) -> None:
        await sync.sync_now()

    counts = sync.counts()
    online_text = (t("offline", lang) if s.online is False else
                   t("online", lang) if s.online else "—")
    rejected = sync.rejected()
    fraction = sync.upload_fraction()
    controls: list[ft.Control] = [
        section(None,
                ft.Row([ft.Icon(ft.Icons.CLOUD_OFF if s.online is False else ft.Icons.CLOUD_DONE,
                                color=theme.WARNING if s.online is False else theme.OK, size=28),
                        ft.Text(sync.indicator(lang), size=18, weight=ft.FontWeight.BOLD)]),
                kv(t("status", lang), online_text),
                kv(t("last_success", lang), f"{sync.last_success(lang)} "
                   f"({fmt_time(s.last_success_at, lang)})" if s.last_success_at
                   else t("never", lang)),
                kv(t("oldest_pending", lang), sync.oldest_pending(lang)),
                kv(t("photo_bytes_left", lang), sync.photo_left(lang)),
                ft.ProgressBar(value=fraction, visible=fraction is not None,
                               color=theme.PRIMARY),
                ft.FilledButton(t("sync_now", lang), icon=ft.Icons.SYNC, on_click=sync_now,
                                disabled=sync.busy, height=48)),
        section(t("ops_by_state", lang),
                *([kv(t(f"state_{name}", lang), str(n)) for name, n in counts]
                  or [ft.Text(t("nothing_pending", lang), color=theme.MUTED)])),
    ]
    if rejected:
        controls.append(section(t("rejected_title", lang),
                                ft.Text(t("rejected_help", lang), size=14, color=theme.MUTED),
                                *[_op_row(op, sync, app) for op in rejected]))
    if s.current_error is not None:
        from sync.client.messages import describe

        controls.append(section(t("last_error", lang),
                                ft.Text(describe(s.current_error.code, lang), size=14)))
    return ft.Column(controls, scroll=ft.ScrollMode.AUTO, expand=True, spacing=4,
                     horizontal_alignment=ft.CrossAxisAlignment.STRETCH)
