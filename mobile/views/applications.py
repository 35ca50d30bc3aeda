"""Business applications on the phone: the customer's list and form, an application's
progress with every step's date and holder (and rating at the end), and the
technician's installation of a new connection's meter."""

from __future__ import annotations

from typing import Any

import flet as ft

from mobile import theme
from mobile.components.common import chip, error_text, kv, section, sync_chip
from mobile.components.photos import thumb
from mobile.context import AppContext
from mobile.i18n import fmt_time, t
from mobile.state.app import AppState
from mobile.state.applications import (
    AppDetailState,
    ApplyState,
    AppsState,
    InstallState,
    StepLine,
    doc_label,
    kind_label,
)
from mobile.state.common import parse_dt
from shared.enums import Role, WorkOrderKind, WorkOrderStatus

STATUS_COLORS = {"open": theme.PRIMARY, "returned": theme.WARNING, "completed": theme.OK,
                 "rejected": theme.DANGER, "cancelled": theme.MUTED}
STEP_ICONS = {"done": ft.Icons.CHECK_CIRCLE, "active": ft.Icons.PENDING,
              "returned": ft.Icons.UNDO, "rejected": ft.Icons.CANCEL,
              "cancelled": ft.Icons.CANCEL}


@ft.component
def AppsView(app: AppState, ctx: AppContext) -> ft.Control:
    def make() -> AppsState:
        s = AppsState(ctx.backend, lang=app.lang)
        s.reload()
        return ctx.track(s)

    state, _ = ft.use_state(make)
    lang = app.lang
    cards: list[ft.Control] = []
    for c in state.cards:
        lines: list[ft.Control] = [
            ft.Row([ft.Text(c.title, size=16, weight=ft.FontWeight.BOLD, expand=True),
                    chip(c.status, STATUS_COLORS.get(c.status_key, theme.MUTED))]),
            kv(t("app_step_now", lang), c.step),
            kv(t("app_holder", lang), c.holder)]
        if c.due:
            lines.append(kv(t("app_due", lang), c.due,
                            value_color=theme.DANGER if c.overdue else None))
        if c.rejected:
            lines.append(ft.Text(c.rejected, color=theme.DANGER, size=14))
        lines.append(sync_chip("pending" if c.pending else "synced",
                               t("sync_pending" if c.pending else "sync_synced", lang)))
        cards.append(ft.Card(content=ft.Container(
            padding=ft.Padding.all(14), content=ft.Column(lines, spacing=6),
            on_click=lambda _, i=c.id: app.open("application", app_id=i))))
    if not cards:
        cards.append(section(None, ft.Text(t("no_apps", lang), color=theme.MUTED)))
    return ft.Column([
        ft.Container(padding=ft.Padding.all(8), content=ft.FilledButton(
            t("apply_new", lang), icon=ft.Icons.NOTE_ADD, height=52,
            on_click=lambda _: app.open("apply"))),
        *cards,
    ], scroll=ft.ScrollMode.AUTO, expand=True, spacing=2,
                     horizontal_alignment=ft.CrossAxisAlignment.STRETCH)


def _doc_row(doc: str, sha: str | None, thumbs: dict[str, bytes], lang: str,
             on_pick: Any, error: str | None) -> ft.Control:
    name = doc_label(doc, lang)
    return ft.Column([
        ft.Row([thumb(thumbs.get(sha or ""), uploaded=False, lang=lang, size=72) if sha
                else ft.Icon(ft.Icons.BADGE, size=40, color=theme.MUTED),
                ft.OutlinedButton(t("doc_take", lang, doc=name), icon=ft.Icons.PHOTO_CAMERA,
                                  on_click=on_pick, expand=True)], spacing=10),
        error_text(error)], spacing=2)


@ft.component
def ApplyView(app: AppState, ctx: AppContext) -> ft.Control:
    def make() -> ApplyState:
        s = ApplyState(ctx.backend, on_change=ctx.kick_sync)
        s.start()
        return s

    form, _ = ft.use_state(make)
    lang = app.lang
    spec = form.spec

    def field(name: str, label: str, **kw: Any) -> ft.TextField:
        def changed(e: ft.Event[ft.TextField]) -> None:
            setattr(form, name, e.control.value or "")
        return ft.TextField(label=label, value=getattr(form, name), on_change=changed,
                            error=form.errors.get(name) or None, **kw)

    def picker(doc: str):  # type: ignore[no-untyped-def]
        async def pick(_: Any) -> None:
            for data in (await ctx.hardware.pick_photos())[:1]:
                await form.add_document(doc, data)
        return pick

    async def locate(_: Any) -> None:
        fix, _why = await ctx.hardware.gps_fix()
        form.set_location(fix)

    def submit(_: Any) -> None:
        app_id = form.submit(lang)
        if app_id:
            app.notify_user(t("app_saved", lang))
            app.back()
            app.open("application", app_id=app_id)

    where: ft.Control
    if spec.new_account:
        where = ft.Dropdown(label=t("station", lang), value=form.station_id or None,
                            options=[ft.DropdownOption(key=i, text=n)
                                     for i, n in form.stations()],
                            on_select=lambda e: setattr(form, "station_id", e.control.value),
                            error_text=form.errors.get("station_id") or None)
    else:
        where = ft.Dropdown(label=t("app_account", lang), value=form.account_id or None,
                            options=[ft.DropdownOption(key=i, text=n)
                                     for i, n in form.accounts()],
                            on_select=lambda e: setattr(form, "account_id", e.control.value),
                            error_text=form.errors.get("account_id") or None)
    loc = form.location
    return ft.Column([
        section(None,
                ft.Dropdown(label=t("app_kind", lang), value=form.kind,
                            options=[ft.DropdownOption(key=k, text=kind_label(k, lang))
                                     for k in form.kinds()],
                            on_select=lambda e: form.set_kind(e.control.value)),
                where,
                field("applicant_name", t("applicant_name", lang)),
                field("id_card_no", t("id_card_no", lang)),
                field("contact_phone", t("contact_phone", lang),
                      keyboard_type=ft.KeyboardType.PHONE),
                field("address", t("app_address", lang)),
                *([field("capacity_kw", t("capacity_kw", lang),
                         keyboard_type=ft.KeyboardType.NUMBER)] if spec.capacity else []),
                field("note", t("app_note", lang), multiline=True, min_lines=1, max_lines=3)),
        section(t("documents", lang),
                *[_doc_row(d, form.documents.get(d), form.thumbs, lang, picker(d),
                           form.errors.get(f"doc_{d}")) for d in form.required_docs()]),
        section(None,
                ft.OutlinedButton(t("use_location", lang), icon=ft.Icons.MY_LOCATION,
                                  on_click=locate),
                ft.Text(t("location_added", lang, lat=f"{loc.lat:.5f}", lon=f"{loc.lon:.5f}",
                          acc=f"{loc.accuracy_m:.0f}") if loc else "", size=14,
                        color=theme.MUTED, visible=loc is not None),
                error_text(form.errors.get("form") or form.errors.get("location")),
                ft.FilledButton(t("submit_application", lang), icon=ft.Icons.SEND, height=52,
                                on_click=submit)),
    ], scroll=ft.ScrollMode.AUTO, expand=True, spacing=2,
                     horizontal_alignment=ft.CrossAxisAlignment.STRETCH)


def _step(line: StepLine, lang: str) -> ft.Control:
    color = {"done": theme.OK, "active": theme.PRIMARY}.get(line.state, theme.DANGER)
    when = [kv(t("app_started", lang), line.started)]
    if line.ended:
        when.append(kv(t("app_ended", lang), line.ended))
    elif line.due:
        when.append(kv(t("app_due", lang), line.due))
    return ft.Container(
        padding=ft.Padding.only(left=8, top=4, bottom=4),
        border=ft.Border.only(left=ft.BorderSide(3, color)),
        content=ft.Column([
            ft.Row([ft.Icon(STEP_ICONS.get(line.state, ft.Icons.PENDING), color=color,
                            size=20),
                    ft.Text(line.step, size=16, weight=ft.FontWeight.W_600, expand=True),
                    ft.Text(line.holder, size=14, color=theme.MUTED)]),
            *when,
            *([ft.Text(line.note, size=14, color=theme.MUTED)] if line.note else []),
        ], spacing=2))


@ft.component
def AppDetailView(app: AppState, ctx: AppContext, app_id: str) -> ft.Control:
    def make() -> AppDetailState:
        s = AppDetailState(ctx.backend, app_id)
        s.reload()
        return ctx.track(s)

    state, _ = ft.use_state(make)
    lang = app.lang
    row = state.row
    if not row:
        return section(None, ft.Text(t("not_found", lang), size=16))
    status = row["status"]
    head: list[ft.Control] = [
        ft.Text(kind_label(row["kind"], lang), size=14, color=theme.MUTED),
        ft.Text(row.get("code") or t("app_not_sent", lang), size=20,
                weight=ft.FontWeight.BOLD),
        ft.Row([chip(_status(status, lang), STATUS_COLORS.get(status, theme.MUTED)),
                *([sync_chip("pending", t("sync_pending", lang))]
                  if state.view and (state.view.pending or state.view.local) else [])],
               wrap=True, spacing=6),
        kv(t("app_address", lang), str(row.get("address") or "")),
    ]
    if row.get("capacity_kw"):
        head.append(kv(t("capacity_kw", lang), str(row["capacity_kw"])))
    head.extend(ft.Text(line, size=16, weight=ft.FontWeight.W_600, color=theme.OK)
                for line in state.new_account_text(lang))
    if status == "completed":
        head.append(chip(t("app_archived", lang), theme.OK, icon=ft.Icons.INVENTORY_2))
    if row.get("outcome_reason"):
        head.append(ft.Text(t("app_outcome", lang, reason=row["outcome_reason"]),
                            color=theme.DANGER))
    sections: list[ft.Control] = [section(None, *head)]
    if status == "returned":
        sections.append(_returned(state, app, ctx))
    if status == "completed":
        sections.append(_rating(state, app))
    sections.append(section(t("app_detail_title", lang),
                            *[_step(s, lang) for s in state.steps(lang)]))
    docs = row.get("documents") or []
    sections.append(section(t("documents", lang), *[
        kv(doc_label(d["doc"], lang), fmt_time(parse_dt(d.get("added_at")), lang))
        for d in docs]))
    return ft.Column(sections, scroll=ft.ScrollMode.AUTO, expand=True, spacing=2,
                     horizontal_alignment=ft.CrossAxisAlignment.STRETCH)


def _status(status: str, lang: str) -> str:
    from shared.applications.notices import STATUS_LABELS, pick
    return pick(STATUS_LABELS, status, lang)


def _returned(state: AppDetailState, app: AppState, ctx: AppContext) -> ft.Control:
    lang = app.lang
    row = state.row
    wanted = row.get("returned_documents") or []

    def picker(doc: str):  # type: ignore[no-untyped-def]
        async def pick(_: Any) -> None:
            for data in (await ctx.hardware.pick_photos())[:1]:
                await state.add_redo(doc, data)
        return pick

    def send(_: Any) -> None:
        if state.send_again(lang):
            app.notify_user(t("app_resent", lang))

    return section(t("app_step_returned", lang),
                   ft.Text(t("app_returned_reason", lang, reason=row.get("return_reason")),
                           color=theme.WARNING, size=15),
                   *[_doc_row(d, state.redo.get(d), state.thumbs, lang, picker(d), None)
                     for d in wanted],
                   error_text(state.error),
                   ft.FilledButton(t("app_send_again", lang), icon=ft.Icons.SEND, height=48,
                                   on_click=send))


def _rating(state: AppDetailState, app: AppState) -> ft.Control:
    lang = app.lang
    rated = state.row.get("rating") or state.rating
    if rated:
        return section(t("app_rate", lang), ft.Text(t("app_rated", lang, n=rated), size=16))
    stars = ft.Row([ft.IconButton(ft.Icon(ft.Icons.STAR_BORDER, color=theme.ACCENT, size=36,
                                          semantics_label=t("stars", lang, n=n)),
                                  tooltip=t("stars", lang, n=n),
                                  on_click=lambda _, n=n: state.rate(n, lang))
                    for n in range(1, 6)])
    return section(t("app_rate", lang), stars, error_text(state.error))


@ft.component
def InstallView(app: AppState, ctx: AppContext, order_id: str) -> ft.Control:
    form, _ = ft.use_state(lambda: InstallState(ctx.backend, order_id))
    lang = app.lang

    def field(name: str, label: str, **kw: Any) -> ft.TextField:
        def changed(e: ft.Event[ft.TextField]) -> None:
            setattr(form, name, e.control.value or "")
        return ft.TextField(label=label, value=getattr(form, name), on_change=changed,
                            error=form.errors.get(name) or None, **kw)

    def submit(_: Any) -> None:
        if form.submit(lang):
            ctx.kick_sync()
            app.notify_user(t("install_recorded", lang))
            app.back()

    stock = form.stock()
    return ft.Column([section(
        None,
        field("meter_no", t("meter_from_stock", lang)),
        ft.Text(", ".join(stock[:6]), size=13, color=theme.MUTED, visible=bool(stock)),
        field("start_kwh", t("start_kwh", lang), keyboard_type=ft.KeyboardType.NUMBER),
        field("card_no", t("card_no", lang), keyboard_type=ft.KeyboardType.NUMBER),
        error_text(form.errors.get("form")),
        ft.FilledButton(t("record_install", lang), icon=ft.Icons.ELECTRIC_METER, height=52,
                        on_click=submit))],
        scroll=ft.ScrollMode.AUTO, expand=True, horizontal_alignment=ft.CrossAxisAlignment.STRETCH)


def install_hook(app: AppState, ctx: AppContext, row: dict[str, Any]) -> list[ft.Control]:
    """On a new-connection job on site, the technician records the installation first
    (shown on the job's screen, ``mobile.views.job_detail``)."""
    if (app.role != Role.METER_TECH or row.get("kind") != WorkOrderKind.NEW_CONNECTION.value
            or row.get("status") != WorkOrderStatus.ON_SITE.value):
        return []
    lang = app.lang
    if ctx.backend.installation_recorded(row["id"]) or row.get("meter_id"):
        return [section(None, chip(t("install_recorded", lang), theme.OK,
                                   icon=ft.Icons.ELECTRIC_METER))]
    return [section(None, ft.Text(t("install_needed", lang), size=14, color=theme.WARNING),
                    ft.FilledButton(t("record_install", lang), icon=ft.Icons.ELECTRIC_METER,
                                    height=48,
                                    on_click=lambda _: app.open("install", order_id=row["id"])))]
