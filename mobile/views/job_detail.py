"""One job: facts, map link, photos, the actions allowed now, and the full timeline.

Used by field workers (their job) and customers (following their report)."""

from __future__ import annotations

from typing import Any

import flet as ft

from mobile import theme
from mobile.components.camera import CameraPanel
from mobile.components.common import error_text, kv, section, sync_chip
from mobile.components.job_map import job_map
from mobile.components.photos import full_photo, photo_strip
from mobile.context import AppContext
from mobile.i18n import fmt_time, label, stars, t
from mobile.state.app import AppState
from mobile.state.job_detail import JobDetailState
from mobile.state.jobs import sync_text
from mobile.views.applications import install_hook
from mobile.views.inspection_form import finding_section, records_finding
from shared.enums import Role
from shared.workorders.fields import RATING_MAX, RATING_MIN
from sync.client.readmodel import TimelineItem

ICONS = {"accept": ft.Icons.CHECK_CIRCLE, "decline": ft.Icons.UNDO,
         "start_travel": ft.Icons.DIRECTIONS_CAR, "arrive": ft.Icons.MY_LOCATION,
         "record_swap": ft.Icons.SPEED, "resolve": ft.Icons.TASK_ALT,
         "add_photo": ft.Icons.ADD_A_PHOTO, "add_note": ft.Icons.NOTE_ADD,
         "request_help": ft.Icons.SUPPORT, "take_photo": ft.Icons.PHOTO_CAMERA,
         "confirm": ft.Icons.STAR, "cancel": ft.Icons.CANCEL, "reopen": ft.Icons.REPLAY}
SUBMIT_LABELS = {"add_note": "submit_note", "resolve": "submit_resolve",
                 "request_help": "submit_help", "decline": "submit_decline",
                 "cancel": "submit_cancel", "confirm": "submit_rating",
                 "reopen": "submit_reopen"}
PRIMARY_ACTIONS = ("accept", "start_travel", "arrive", "record_swap", "resolve", "confirm")


def _field(state: JobDetailState, name: str, label_text: str, *, multiline: bool = True,
           lang: str) -> ft.Control:
    def on_change(e: ft.Event[ft.TextField]) -> None:
        setattr(state, name, e.control.value or "")

    return ft.TextField(label=label_text, value=getattr(state, name), on_change=on_change,
                        multiline=multiline, min_lines=2 if multiline else 1, max_lines=5,
                        error=state.errors.get(name) or None, error_max_lines=3)


def _timeline_row(item: TimelineItem, state: JobDetailState, app: AppState) -> ft.Control:
    lang = app.lang
    title = label(item.action, lang)
    title = title[:1].upper() + title[1:]
    if item.to_status and item.from_status != item.to_status:
        title += f" » {label(item.to_status, lang)}"
    extra = JobDetailState.describe_event(item, lang, customer=app.role == Role.CUSTOMER)
    who = state.who(item, lang)
    lines: list[ft.Control] = [
        ft.Row([ft.Text(fmt_time(item.occurred_at, lang), size=13, color=theme.MUTED,
                        width=92),
                ft.Text(title, size=15, weight=ft.FontWeight.W_600, expand=True),
                *([ft.Text(who, size=13, color=theme.MUTED)] if who else [])]),
    ]
    if extra:
        lines.append(ft.Text(extra, size=14))
    if item.sync != "synced":
        lines.append(sync_chip(item.sync, t("sync_pending", lang) if item.sync == "pending"
                               else t("sync_rejected", lang)))
        if item.reason:
            lines.append(ft.Text(item.reason, size=13, color=theme.DANGER))
    return ft.Container(padding=ft.Padding.only(left=8, top=4, bottom=4),
                        border=ft.Border.only(left=ft.BorderSide(3, theme.PRIMARY)),
                        content=ft.Column(lines, spacing=2))


@ft.component
def JobDetailView(app: AppState, ctx: AppContext, order_id: str) -> ft.Control:
    def make() -> JobDetailState:
        s = JobDetailState(ctx.backend, order_id, on_change=ctx.kick_sync)
        s.reload()
        return ctx.track(s)

    state, _ = ft.use_state(make)
    camera_open, set_camera_open = ft.use_state(False)
    map_open, set_map_open = ft.use_state(False)
    ft.on_mounted(state.load_remote_thumbs)  # other phones' photos of this job
    lang = app.lang
    if state.detail is None:
        return section(None, ft.Text(t("not_found", lang), size=16))
    row = state.row
    job = state.detail.job
    is_customer = app.role == Role.CUSTOMER

    async def pick_photo(_: Any = None) -> None:
        for data in await ctx.hardware.pick_photos():
            await state.add_photo(data, lang)
            app.notify_user(t("photo_added", lang))

    async def arrive(_: Any) -> None:
        state.gps_started()
        fix, why = await ctx.hardware.gps_fix()
        state.gps_result(fix, why)
        if fix is not None:
            state.arrive(lang)
            app.notify_user(t("done_offline", lang))

    def run(action: str):  # type: ignore[no-untyped-def]
        async def handler(e: Any) -> None:
            if action == "arrive":
                await arrive(e)
            elif action == "add_photo":
                await pick_photo()
            elif action == "take_photo":
                set_camera_open(not camera_open)
            elif action == "record_swap":
                app.open("swap", order_id=order_id)
            elif records_finding(row, action):  # an inspection job resolves by its finding
                app.open("inspection", order_id=order_id)
            elif action in ("accept", "start_travel"):
                if getattr(state, action)(lang):
                    app.notify_user(t("done_offline", lang))
            else:
                state.open_form(None if state.form == action else action)
        return handler

    # -- header -------------------------------------------------------------------------
    deadline, overdue = state.deadline_text(lang)
    header: list[ft.Control] = [
        ft.Text(f"{label(row['kind'], lang)} · {row.get('code') or '…'}", size=14,
                color=theme.MUTED),
        ft.Row([ft.Text(label(row["status"], lang), size=20, weight=ft.FontWeight.BOLD,
                        color=theme.PRIMARY, expand=True),
                *([sync_chip(job.sync.mark.value, sync_text(job.sync.mark, job.sync.unsynced,
                                                            lang))]
                  if job.sync.mark.value != "synced" else [])]),
    ]
    if job.sync.reason:
        header.append(ft.Text(job.sync.reason, color=theme.DANGER, size=14))
    if deadline:
        header.append(ft.Row([ft.Icon(ft.Icons.TIMER,
                                      color=theme.DANGER if overdue else theme.PRIMARY),
                              ft.Text(deadline, size=16, weight=ft.FontWeight.W_600,
                                      color=theme.DANGER if overdue else theme.PRIMARY)]))
    header.append(kv(t("priority", lang), label(row.get("priority") or "normal", lang)))
    if row.get("help_requested"):
        header.append(ft.Text(t("help_requested", lang), color=theme.WARNING))

    # -- facts --------------------------------------------------------------------------
    account = ctx.backend.row("account", row["account_id"]) if row.get("account_id") else None
    facts: list[ft.Control] = []
    if not is_customer:
        facts.append(kv(t("customer", lang), (account or {}).get("name")
                        or row.get("contact_name") or "—"))
        phone = row.get("contact_phone") or (account or {}).get("phone")
        if phone:
            facts.append(ft.Row([
                ft.Text(t("contact_phone", lang), size=14, color=theme.MUTED, width=110),
                ft.TextButton(str(phone), icon=ft.Icons.PHONE, url=f"tel:{phone}",
                              tooltip=t("call", lang, phone=phone))]))
    facts.append(kv(t("account", lang), row.get("account_no") or (account or {}).get(
        "account_no") or "—"))
    facts.append(kv(t("meter", lang), row.get("meter_no") or "—"))
    facts.append(kv(t("address", lang), row.get("address") or (account or {}).get(
        "address") or "—"))
    url = state.map_url()
    if url:  # the in-app map, besides the link to a navigation app
        facts.append(ft.Row([
            ft.OutlinedButton(t("map_hide" if map_open else "in_app_map", lang),
                              icon=ft.Icons.MAP, on_click=lambda _: set_map_open(not map_open)),
            ft.TextButton(t("navigate", lang), icon=ft.Icons.NAVIGATION, url=url)],
            wrap=True, spacing=8))
        if map_open:
            facts.append(job_map(float(row["lat"]), float(row["lon"]), ctx.map_tiles, lang))
    facts.append(kv(t("description", lang), row.get("description") or ""))
    if is_customer:
        facts.append(kv(t("assigned_crew", lang),
                        " · ".join(x for x in (row.get("assignee_name"),
                                               row.get("assignee_phone")) if x)
                        or t("not_assigned", lang)))
        if state.expected_arrival_shown():
            facts.append(kv(t("expected_arrival", lang), state.expected_arrival(lang)))
        if row.get("rating"):
            facts.append(kv(t("rating_label", lang), " · ".join(
                x for x in (stars(int(row["rating"]), lang), row.get("rating_comment"))
                if x)))

    # -- actions ------------------------------------------------------------------------
    buttons = state.buttons()
    action_controls: list[ft.Control] = []
    btn_row: list[ft.Control] = []
    shown = [*buttons]
    if "add_photo" in buttons:
        shown.insert(shown.index("add_photo"), "take_photo")
    for a in shown:
        text = t("take_photo", lang) if a == "take_photo" else JobDetailState.action_label(
            a, lang)
        if records_finding(row, a):
            text = t("inspection_form", lang)
        if a in PRIMARY_ACTIONS:
            btn_row.append(ft.FilledButton(text, icon=ICONS.get(a), on_click=run(a),
                                           height=48))
        else:
            btn_row.append(ft.OutlinedButton(text, icon=ICONS.get(a), on_click=run(a),
                                             height=48))
    if btn_row:
        action_controls.append(ft.Row(btn_row, wrap=True, spacing=8, run_spacing=8))
    if camera_open and "add_photo" in buttons:  # under the buttons: the shutter on screen
        async def took(data: bytes) -> None:
            await state.add_photo(data, lang)
            app.notify_user(t("photo_added", lang))

        action_controls.append(CameraPanel(lang, took, lambda: set_camera_open(False)))
    if state.gps_status:
        action_controls.append(ft.Text(state.gps_text(lang), size=14,
                                       color=theme.DANGER if state.gps_status == "unavailable"
                                       else theme.MUTED))
    if state.gps_status == "unavailable" and "arrive" in buttons:
        action_controls.append(ft.FilledButton(t("arrive_manual", lang),
                                               icon=ft.Icons.TOUCH_APP, height=48,
                                               on_click=lambda _: state.arrive(lang,
                                                                               manual=True)))
    action_controls.extend(_form(state, app))

    # -- photos and timeline --------------------------------------------------------------
    customer_photos = state.photos(("report",))
    job_photos = state.photos(("job", "old_face", "new_face"))
    sections: list[ft.Control] = [section(None, *header), section(None, *facts)]
    if action_controls:
        sections.append(section(None, *action_controls))
    if customer_photos:
        sections.append(section(t("customer_photos", lang),
                                photo_strip(customer_photos, state.thumbs, lang,
                                            state.open_photo)))
    if job_photos or "add_photo" in buttons:
        sections.append(section(t("photos", lang),
                                photo_strip(job_photos, state.thumbs, lang, state.open_photo)))
    if state.full_photo or state.photo_status:
        sections.append(section(t("full_photo", lang), *full_photo(
            state.full_photo, state.photo_status, lang, state.close_photo)))
    if state.detail.finding:
        sections.append(finding_section(state.detail.finding, lang))
    if state.detail.swap:
        sw = state.detail.swap
        sections.append(section(t("swap_recorded", lang),
                                kv(t("new_meter_no", lang), state.swap_new_meter_no() or "—"),
                                kv(t("new_card_no", lang), str(sw.get("new_card_no") or ""))))
    sections.extend(install_hook(app, ctx, row))  # a new connection's meter (issue 13)
    sections.append(section(t("timeline", lang),
                            *[_timeline_row(i, state, app) for i in reversed(state.timeline())]))
    return ft.Column(sections, scroll=ft.ScrollMode.AUTO, expand=True, spacing=2,
                     horizontal_alignment=ft.CrossAxisAlignment.STRETCH)


def _form(state: JobDetailState, app: AppState) -> list[ft.Control]:
    lang = app.lang
    form = state.form
    if form is None:
        return []

    def submit(action: str):  # type: ignore[no-untyped-def]
        def handler(_: Any) -> None:
            if getattr(state, action)(lang):
                app.notify_user(t("done_offline", lang))
        return handler

    cancel = ft.TextButton(t("keep_report" if form == "cancel" else "cancel", lang),
                           on_click=lambda _: state.open_form(None))
    if form == "add_note":
        fields = [_field(state, "note", t("note", lang), lang=lang)]
    elif form == "resolve":
        fields = [_field(state, "resolution", t("resolution", lang), lang=lang),
                  _field(state, "cause", t("cause", lang), multiline=False, lang=lang)]
    elif form == "request_help":
        fields = [_field(state, "help_reason", t("help_reason", lang), lang=lang)]
    elif form == "decline":
        fields = [_field(state, "decline_reason", t("decline_reason", lang), lang=lang)]
    elif form == "cancel":
        fields = [_field(state, "cancel_reason", t("cancel_reason", lang), lang=lang)]
    elif form == "reopen":
        fields = [_field(state, "reopen_reason", t("reopen_reason", lang), lang=lang)]
    elif form == "confirm":
        star_row = ft.Row([ft.IconButton(
            ft.Icon(ft.Icons.STAR if n <= state.rating else ft.Icons.STAR_BORDER,
                    color=theme.ACCENT, size=36, semantics_label=stars(n, lang)),
            tooltip=stars(n, lang), on_click=lambda _, n=n: state.set_rating(n))
            for n in range(RATING_MIN, RATING_MAX + 1)])
        fields = [star_row, error_text(state.errors.get("rating")),
                  _field(state, "rating_comment", t("rating_comment", lang), lang=lang)]
    else:
        return []
    title = t("submit_cancel_report" if form == "cancel" and app.role == Role.CUSTOMER
              else SUBMIT_LABELS[form], lang)
    return [ft.Divider(), *fields,
            ft.Row([ft.FilledButton(title, icon=ICONS.get(form), on_click=submit(form),
                                    height=48), cancel], spacing=8)]
