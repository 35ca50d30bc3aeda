"""The desk's applications page: the list on the left, the chosen application's file
and its step's decision on the right; or the walk-in form for a counter clerk."""

from __future__ import annotations

from typing import Any

import flet as ft

from mobile import theme
from mobile.components.common import chip, kv
from mobile.i18n import fmt_time
from mobile.office.context import OfficeContext
from mobile.office.i18n import t
from mobile.office.state.applications import FILTERS, DeskAppsState, WalkInState
from mobile.office.views.common import use_runner
from mobile.state.app import AppState
from mobile.state.applications import doc_label, kind_label
from mobile.state.common import parse_dt
from shared.applications.kinds import ApplicationKind
from shared.applications.notices import STATUS_LABELS, STEP_LABELS, pick

STATUS_COLORS = {"open": theme.PRIMARY, "returned": theme.WARNING, "completed": theme.OK,
                 "rejected": theme.DANGER, "cancelled": theme.MUTED}


def _row(a: dict[str, Any], st: DeskAppsState, lang: str, run: Any) -> ft.Control:
    chosen = st.selected is not None and st.selected["id"] == a["id"]
    overdue = st.overdue(a)
    return ft.Container(
        border_radius=8, padding=ft.Padding.all(10),
        bgcolor=ft.Colors.with_opacity(0.12, theme.PRIMARY) if chosen else ft.Colors.WHITE,
        border=ft.Border.all(1, theme.PRIMARY if chosen else ft.Colors.OUTLINE_VARIANT),
        on_click=lambda _: run(st.open(a)),
        content=ft.Column([
            ft.Row([ft.Text(f"{a['code']}  {a['applicant_name']}", weight=ft.FontWeight.BOLD,
                            size=15, expand=True),
                    chip(pick(STATUS_LABELS, a["status"], lang),
                         STATUS_COLORS.get(a["status"], theme.MUTED))]),
            ft.Text(f"{kind_label(a['kind'], lang)} · {pick(STEP_LABELS, a['step'], lang)}",
                    size=13),
            *([chip(t("desk_overdue", lang), theme.DANGER, icon=ft.Icons.TIMER)]
              if overdue else []),
        ], spacing=3))


def _steps(app: dict[str, Any], lang: str) -> list[ft.Control]:
    out: list[ft.Control] = []
    for e in app.get("steps") or []:
        ended = parse_dt(e.get("ended_at"))
        who = e.get("ended_by_name") if ended else e.get("holder_name")
        when = (f"{fmt_time(parse_dt(e.get('started_at')), lang)} ~ "
                + (fmt_time(ended, lang) if ended else
                   f"{t('app_due', lang)} {fmt_time(parse_dt(e.get('due_at')), lang)}"))
        outcome = e.get("outcome")
        color = theme.OK if ended and outcome == "done" else (
            theme.PRIMARY if not ended else theme.DANGER)
        out.append(ft.Container(
            padding=ft.Padding.only(left=8, top=2, bottom=2),
            border=ft.Border.only(left=ft.BorderSide(3, color)),
            content=ft.Column([
                ft.Row([ft.Text(pick(STEP_LABELS, e["step"], lang), weight=ft.FontWeight.W_600,
                                size=14, expand=True),
                        ft.Text(str(who or "—"), size=13, color=theme.MUTED)]),
                ft.Text(when, size=12, color=theme.MUTED),
                *([ft.Text(str(e["note"]), size=12)] if e.get("note") else []),
            ], spacing=1)))
    return out


def _documents(app: dict[str, Any], st: DeskAppsState, lang: str) -> ft.Control:
    tiles: list[ft.Control] = []
    for d in app.get("documents") or []:
        data = st.doc_images.get(d["sha256"])
        image: ft.Control = (
            ft.Image(src=data, width=160, height=110, fit=ft.BoxFit.CONTAIN, border_radius=6)
            if data else ft.Container(width=160, height=110, bgcolor=ft.Colors.GREY_200,
                                      border_radius=6, alignment=ft.Alignment.CENTER,
                                      content=ft.Text(t("desk_doc_missing", lang), size=12)))
        tiles.append(ft.Column([image, ft.Text(doc_label(d["doc"], lang), size=12),
                                ft.Text(d["sha256"][:12] + "…", size=10, color=theme.MUTED)],
                               spacing=2))
    return ft.Row(tiles, wrap=True, spacing=10)


def _choice(title: str, value: str, options: list[tuple[str, str]], on_pick: Any,
            error: str | None) -> ft.Control:
    """One of a few (a station's areas, its crews): every option a button to press."""
    if not options:
        return ft.Text(f"{title}: —", color=theme.MUTED, size=13)
    return ft.Column([
        ft.Text(title, color=theme.DANGER if error else theme.MUTED, size=13),
        ft.SegmentedButton(
            selected=[value] if value else [], allow_empty_selection=True,
            allow_multiple_selection=False,
            segments=[ft.Segment(value=k, label=ft.Text(text)) for k, text in options],
            on_change=lambda e: on_pick(next(iter(e.control.selected), ""))),
        ft.Text(error or "", color=theme.DANGER, size=12, visible=bool(error)),
    ], spacing=4)


def _decision(st: DeskAppsState, lang: str, run: Any) -> list[ft.Control]:
    actions = st.actions()
    if not actions:
        return []
    app = st.selected
    assert app is not None
    controls: list[ft.Control] = [ft.Divider()]
    job_step = st.next_job_step()
    if "accept" in actions:
        controls.append(_choice(t("desk_area", lang), st.area_id,
                                [(a["id"], f"{a['code']} {a['name']}") for a in st.areas],
                                lambda v: setattr(st, "area_id", v),
                                st.errors.get("area_id")))
    if job_step:
        controls.append(_choice(t(f"desk_worker_{job_step}", lang), st.assignee_id,
                                [(w["id"], w["display_name"]) for w in st.workers(job_step)],
                                lambda v: setattr(st, "assignee_id", v), None))
    if "approve" in actions and app["kind"].startswith("new"):
        controls.append(ft.TextField(label=t("desk_opening_yuan", lang), value=st.opening_yuan,
                                     on_change=lambda e: setattr(st, "opening_yuan",
                                                                 e.control.value or ""),
                                     error=st.errors.get("opening_yuan") or None))
    controls.append(ft.TextField(label=t("desk_reason", lang), value=st.reason,
                                 on_change=lambda e: setattr(st, "reason", e.control.value or ""),
                                 error=st.errors.get("reason") or None))
    if "return" in actions:
        docs = [d["doc"] for d in app.get("documents") or []]

        def toggle(doc: str, on: bool) -> None:
            st.return_docs = [d for d in st.return_docs if d != doc] + ([doc] if on else [])

        controls.append(ft.Row([ft.Text(t("desk_return_docs", lang), color=theme.MUTED)] + [
            ft.Checkbox(label=doc_label(d, lang), value=d in st.return_docs,
                        on_change=lambda e, d=d: toggle(d, bool(e.control.value)))
            for d in dict.fromkeys(docs)], wrap=True))
    icons = {"accept": ft.Icons.CHECK, "approve": ft.Icons.VERIFIED, "return": ft.Icons.UNDO,
             "reject": ft.Icons.BLOCK}
    buttons = [ft.FilledButton(t(f"desk_{a}", lang), icon=icons[a], disabled=st.busy,
                               on_click=lambda _, a=a: run(st.decide(a)))
               if a in ("accept", "approve") else
               ft.OutlinedButton(t(f"desk_{a}", lang), icon=icons[a], disabled=st.busy,
                                 on_click=lambda _, a=a: run(st.decide(a)))
               for a in actions]
    controls += [ft.Text(st.errors.get("form", ""), color=theme.DANGER,
                         visible=bool(st.errors.get("form"))),
                 ft.Row(buttons, wrap=True, spacing=8)]
    return controls


def _detail(st: DeskAppsState, lang: str, run: Any) -> list[ft.Control]:
    app = st.selected
    if app is None:
        return [ft.Text(t("desk_pick_app", lang), color=theme.MUTED, size=16)]
    head: list[ft.Control] = [
        ft.Row([ft.Text(f"{app['code']} · {kind_label(app['kind'], lang)}", size=20,
                        weight=ft.FontWeight.BOLD, expand=True),
                chip(pick(STATUS_LABELS, app["status"], lang),
                     STATUS_COLORS.get(app["status"], theme.MUTED))]),
        *([ft.Container(bgcolor=ft.Colors.GREEN_50, border_radius=8, padding=ft.Padding.all(10),
                        content=ft.Text(st.message, color=theme.OK, weight=ft.FontWeight.BOLD))]
          if st.message else []),
        ft.Row([
            ft.Column([kv(t("desk_applicant", lang), app["applicant_name"]),
                       kv(t("desk_id_masked", lang), app["id_card_masked"]),
                       kv(t("contact_phone", lang), app["contact_phone"]),
                       kv(t("app_address", lang), app["address"])], expand=True, spacing=4),
            ft.Column([kv(t("capacity_kw", lang), str(app.get("capacity_kw") or "—")),
                       kv(t("desk_channel", lang), t(f"channel_{app['channel']}", lang)),
                       kv(t("desk_submitted", lang),
                          fmt_time(parse_dt(app["submitted_at"]), lang)),
                       kv(t("app_account", lang), app.get("account_no") or "—")],
                      expand=True, spacing=4)], vertical_alignment=ft.CrossAxisAlignment.START),
    ]
    if app.get("findings"):
        head.append(kv(t("desk_findings", lang), app["findings"]))
    if app.get("return_reason") and app["status"] == "returned":
        head.append(ft.Text(t("app_returned_reason", lang, reason=app["return_reason"]),
                            color=theme.WARNING))
    body: list[ft.Control] = [*head, ft.Text(t("documents", lang), weight=ft.FontWeight.BOLD),
                              _documents(app, st, lang), *_decision(st, lang, run),
                              ft.Text(t("app_detail_title", lang), weight=ft.FontWeight.BOLD),
                              *_steps(app, lang)]
    if st.archive:
        rec = st.archive
        body += [ft.Text(t("archive_record", lang), weight=ft.FontWeight.BOLD),
                 kv(t("archive_hash", lang), rec["record_sha256"]),
                 chip(t("archive_verified" if rec["verified"] else "archive_broken", lang),
                      theme.OK if rec["verified"] else theme.DANGER, icon=ft.Icons.VERIFIED),
                 ft.Text(t("archive_decisions", lang, n=len(rec["record"]["decisions"]),
                           d=len(rec["record"]["documents"])), size=13)]
    return body


@ft.component
def ApplicationsView(app: AppState, octx: OfficeContext) -> ft.Control:
    st, _ = ft.use_state(lambda: DeskAppsState(octx))
    walk, _ = ft.use_state(lambda: WalkInState(octx))
    picker, _ = ft.use_state(ft.FilePicker)  # a page service: made once, in the page
    lang = app.lang
    run = use_runner()
    ft.use_effect(lambda: run(st.load()), [])

    top = ft.Row([
        ft.SegmentedButton(
            selected=[st.filter], allow_empty_selection=False, allow_multiple_selection=False,
            segments=[ft.Segment(value=f, label=ft.Text(t(f"desk_filter_{f}", lang)))
                      for f in FILTERS],
            on_change=lambda e: run(st.set_filter(next(iter(e.control.selected))))),
        ft.Container(expand=True),
        ft.FilledButton(t("back_to_list" if st.mode == "walk_in" else "walk_in", lang),
                        icon=ft.Icons.LIST if st.mode == "walk_in" else ft.Icons.PERSON_ADD,
                        on_click=lambda _: setattr(
                            st, "mode", "list" if st.mode == "walk_in" else "walk_in")),
    ])
    if st.mode == "walk_in":
        right = walk_in_panel(app, walk, st, picker)
    else:
        right = ft.Column(_detail(st, lang, run), spacing=10, scroll=ft.ScrollMode.AUTO,
                          horizontal_alignment=ft.CrossAxisAlignment.STRETCH)
    items = [_row(a, st, lang, run) for a in st.items] or [
        ft.Text(st.errors.get("list") or t("desk_no_apps", lang), color=theme.MUTED)]
    return ft.Column([
        ft.Container(top, padding=ft.Padding.symmetric(horizontal=16, vertical=8)),
        ft.Row([
            ft.Container(expand=3, padding=ft.Padding.all(12),
                         content=ft.Column(items, spacing=8, scroll=ft.ScrollMode.AUTO)),
            ft.VerticalDivider(width=1),
            ft.Container(expand=5, padding=ft.Padding.all(16), content=right),
        ], expand=True, vertical_alignment=ft.CrossAxisAlignment.STRETCH),
    ], expand=True, spacing=0)


def walk_in_panel(app: AppState, walk: WalkInState, st: DeskAppsState,
                  file_picker: ft.FilePicker) -> ft.Control:
    lang = app.lang
    run = use_runner()

    def set_(name: str) -> Any:
        return lambda e: setattr(walk, name, e.control.value or "")

    if walk.created:
        async def open_it() -> None:
            st.mode = "list"
            await st.load()
            await st.open(walk.created or {})
            walk.reset()
        return ft.Column([
            ft.Container(bgcolor=ft.Colors.GREEN_50, border_radius=8, padding=ft.Padding.all(12),
                         content=ft.Text(t("walk_in_created", lang, code=walk.created["code"]),
                                         size=16, weight=ft.FontWeight.BOLD, color=theme.OK)),
            ft.Row([ft.FilledButton(t("desk_accept", lang), icon=ft.Icons.CHECK,
                                    on_click=lambda _: run(open_it())),
                    ft.OutlinedButton(t("next_customer", lang), icon=ft.Icons.PERSON_ADD,
                                      on_click=lambda _: walk.reset())]),
        ], spacing=12)

    def picker(doc: str) -> Any:
        async def pick(_: Any) -> None:
            files = await file_picker.pick_files(file_type=ft.FilePickerFileType.IMAGE,
                                                 with_data=True)
            for f in (files or [])[:1]:
                if f.bytes:
                    await walk.add_document(doc, f.bytes)
        return pick

    found: list[ft.Control] = []
    if walk.looked_up:
        if walk.found_accounts:
            found.append(ft.Text(t("found_accounts", lang), weight=ft.FontWeight.BOLD))
            found += [ft.Container(
                border=ft.Border.all(1, theme.PRIMARY if walk.account_id == a["id"]
                                     else ft.Colors.OUTLINE_VARIANT),
                border_radius=6, padding=ft.Padding.all(8), on_click=lambda _, a=a:
                walk.pick_account(a), content=ft.Text(
                    f"{a['account_no']}  {a['name']}  {a.get('address') or ''}", size=13))
                for a in walk.found_accounts]
        if walk.found_apps:
            found.append(ft.Text(t("found_apps", lang), weight=ft.FontWeight.BOLD))
            found += [ft.Text(f"{a['code']} · {kind_label(a['kind'], lang)} · "
                              f"{pick(STATUS_LABELS, a['status'], lang)}", size=13)
                      for a in walk.found_apps]
        if not walk.found_accounts and not walk.found_apps:
            found.append(ft.Text(t("nothing_found", lang), color=theme.MUTED))
    docs = []
    for d in walk.required_docs():
        sha = walk.documents.get(d)
        docs.append(ft.Row([
            ft.Image(src=walk.thumbs[sha], width=90, height=64, fit=ft.BoxFit.CONTAIN)
            if sha else ft.Icon(ft.Icons.BADGE, color=theme.MUTED, size=36),
            ft.OutlinedButton(t("doc_take", lang, doc=doc_label(d, lang)),
                              icon=ft.Icons.UPLOAD_FILE, on_click=picker(d)),
            ft.Text(walk.errors.get(f"doc_{d}", ""), color=theme.DANGER, size=12)]))
    kind = ApplicationKind(walk.kind)
    spec_capacity = kind.value.startswith(("new", "capacity"))
    return ft.Column([
        ft.Text(t("walk_in", lang), size=18, weight=ft.FontWeight.BOLD),
        ft.Row([ft.TextField(label=t("lookup_id", lang), value=walk.id_card_no, expand=True,
                             prefix_icon=ft.Icons.BADGE, on_change=set_("id_card_no"),
                             on_submit=lambda _: run(walk.lookup()),
                             error=walk.errors.get("id_card_no") or None),
                ft.FilledButton(t("lookup", lang), icon=ft.Icons.PERSON_SEARCH,
                                on_click=lambda _: run(walk.lookup()))]),
        *found,
        ft.Dropdown(label=t("app_kind", lang), value=walk.kind,
                    options=[ft.DropdownOption(key=k.value, text=kind_label(k, lang))
                             for k in ApplicationKind],
                    on_select=lambda e: walk.set_kind(e.control.value)),
        ft.Row([ft.TextField(label=t("applicant_name", lang), value=walk.applicant_name,
                             on_change=set_("applicant_name"), expand=True,
                             error=walk.errors.get("applicant_name") or None),
                ft.TextField(label=t("contact_phone", lang), value=walk.contact_phone,
                             on_change=set_("contact_phone"), expand=True,
                             error=walk.errors.get("contact_phone") or None)]),
        ft.TextField(label=t("app_address", lang), value=walk.address,
                     on_change=set_("address"), error=walk.errors.get("address") or None),
        *([ft.TextField(label=t("capacity_kw", lang), value=walk.capacity_kw,
                        on_change=set_("capacity_kw"),
                        error=walk.errors.get("capacity_kw") or None)] if spec_capacity else []),
        ft.Text(t("documents", lang), weight=ft.FontWeight.BOLD),
        *docs,
        ft.Text(walk.errors.get("form") or walk.errors.get("account_id")
                or walk.errors.get("id_card_no") or "", color=theme.DANGER),
        ft.FilledButton(t("submit_application", lang), icon=ft.Icons.SEND, height=48,
                        disabled=walk.busy, on_click=lambda _: run(walk.submit())),
    ], spacing=10, scroll=ft.ScrollMode.AUTO,
        horizontal_alignment=ft.CrossAxisAlignment.STRETCH)
