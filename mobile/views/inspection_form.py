"""An inspection job's finding form, and the finding as the job's detail shows it."""

from __future__ import annotations

from typing import Any

import flet as ft

from mobile import theme
from mobile.components.camera import CameraPanel
from mobile.components.common import error_text, kv, section
from mobile.components.photos import thumb
from mobile.context import AppContext
from mobile.i18n import t
from mobile.state.app import AppState
from mobile.state.inspection_form import OUTCOMES, InspectionFormState, outcome_label
from shared.enums import WorkOrderKind
from shared.meter_rules import centi_to_kwh
from shared.monitoring.findings import MAX_PHOTOS


@ft.component
def InspectionFormView(app: AppState, ctx: AppContext, order_id: str) -> ft.Control:
    def make() -> InspectionFormState:
        s = InspectionFormState(ctx.backend, ctx.drafts, order_id, on_change=ctx.kick_sync)
        s.load(app.lang)
        return s

    form, _ = ft.use_state(make)
    camera_open, set_camera_open = ft.use_state(False)
    lang = app.lang
    row = form.job_row()
    v = form.values

    def text_field(name: str, label: str, *, number: bool = False, multiline: bool = False,
                   helper: str | None = None) -> ft.Control:
        def on_change(e: ft.Event[ft.TextField]) -> None:
            form.set(name, e.control.value or "", lang)

        return ft.TextField(label=label, value=getattr(v, name), on_change=on_change,
                            keyboard_type=ft.KeyboardType.NUMBER if number else None,
                            multiline=multiline, min_lines=3 if multiline else 1,
                            max_lines=6 if multiline else 1, helper=helper,
                            error=form.errors.get(name) or None, error_max_lines=3)

    def outcome_changed(e: ft.Event[ft.RadioGroup]) -> None:
        form.set_outcome(e.control.value or "", lang)

    outcomes = ft.RadioGroup(value=v.outcome or None, on_change=outcome_changed,
                             content=ft.Column([ft.Radio(value=o, label=outcome_label(o, lang))
                                                for o in OUTCOMES], spacing=0))

    async def pick(_: Any) -> None:
        for data in await ctx.hardware.pick_photos():
            await form.add_photo(data, lang)

    async def took(data: bytes) -> None:
        await form.add_photo(data, lang)

    def area_changed(e: ft.Event[ft.Dropdown]) -> None:
        form.set_area(e.control.value or "", lang)

    mapping: list[ft.Control] = []
    if v.outcome == "wiring_or_mapping":
        mapping.append(ft.Dropdown(
            label=t("correct_area", lang), value=v.correct_area_id or None,
            options=[ft.DropdownOption(key=i, text=name) for i, name in form.areas()],
            on_select=area_changed, helper_text=t("correct_area_hint", lang),
            error_text=form.errors.get("correct_area_id") or None, expand=True))

    def submit(_: Any) -> None:
        if form.submit(lang):
            app.notify_user(t("done_offline", lang))
            app.back()
        else:
            app.notify_user(t("fix_errors", lang))

    photos = ft.Row([thumb(form.thumbs.get(sha), uploaded=False, lang=lang, size=96)
                     for sha in v.photos], wrap=True, spacing=8)
    return ft.Column([
        section(None,
                ft.Text(f"{row.get('code') or '…'} · {row.get('meter_no') or ''}", size=14,
                        color=theme.MUTED),
                ft.Text(row.get("description") or "", size=14)),
        section(t("outcome", lang), outcomes, error_text(form.errors.get("outcome")),
                *mapping),
        section(None,
                text_field("register_kwh", t("register_kwh", lang), number=True),
                text_field("measured_load_kw", t("measured_load_kw", lang), number=True),
                text_field("note", t("finding_note", lang), multiline=True,
                           helper=t("finding_note_hint", lang) if form.note_required()
                           else None)),
        section(t("finding_photos", lang, n=MAX_PHOTOS),
                *([ft.Text(t("tampering_photo_hint", lang), color=theme.WARNING, size=14)]
                  if form.photo_required() else []),
                photos,
                ft.Row([ft.OutlinedButton(t("take_photo", lang), icon=ft.Icons.PHOTO_CAMERA,
                                          on_click=lambda _: set_camera_open(not camera_open)),
                        ft.OutlinedButton(t("pick_photo", lang), icon=ft.Icons.PHOTO_LIBRARY,
                                          on_click=pick)], wrap=True),
                *([CameraPanel(lang, took, lambda: set_camera_open(False))]
                  if camera_open else []),
                error_text(form.errors.get("photos"))),
        section(None,
                error_text(form.errors.get("form")),
                ft.Text(t("draft_saved", lang, time=form.saved_at), color=theme.MUTED,
                        size=13, visible=bool(form.saved_at)),
                ft.FilledButton(t("save_finding", lang), icon=ft.Icons.FACT_CHECK,
                                on_click=submit, height=52)),
    ], scroll=ft.ScrollMode.AUTO, expand=True, spacing=2,
                     horizontal_alignment=ft.CrossAxisAlignment.STRETCH)


def records_finding(row: dict[str, Any], action: str) -> bool:
    """On an inspection job the crew resolves by recording its finding (this form)."""
    return action == "resolve" and row.get("kind") == WorkOrderKind.USAGE_INSPECTION.value


def finding_section(finding: dict[str, Any], lang: str) -> ft.Control:
    """The job's finding (pulled, or waiting in the outbox) on its detail screen."""
    register = finding.get("register_kwh")
    if register is None and finding.get("register_centi") is not None:
        register = str(centi_to_kwh(int(finding["register_centi"])))
    load = finding.get("measured_load_kw")
    if load is None and finding.get("measured_load_w") is not None:
        load = f"{int(finding['measured_load_w']) / 1000:.2f}"
    lines = [kv(t("outcome", lang), outcome_label(str(finding.get("outcome")), lang))]
    if register:
        lines.append(kv(t("register_kwh", lang), str(register)))
    if load:
        lines.append(kv(t("measured_load_kw", lang), str(load)))
    if finding.get("note"):
        lines.append(kv(t("finding_note", lang), str(finding["note"])))
    if finding.get("pending"):
        lines.append(ft.Text(t("finding_waiting", lang), color=theme.WARNING, size=14))
    return section(t("finding_recorded", lang), *lines)
