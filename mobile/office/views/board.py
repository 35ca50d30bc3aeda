"""The dispatch board: the lists with their counts, filters and search, a wide server-paged
table with row selection, a bar for several jobs at once, and the side panel of one job
(facts, deadline, stall reasons, the suggested crew with its rule, assign / reassign /
cancel / priority, the timeline)."""

from __future__ import annotations

import asyncio
from typing import Any

import flet as ft

from mobile import theme
from mobile.i18n import fmt_time
from mobile.office.context import OfficeContext
from mobile.office.i18n import label, t
from mobile.office.state.board import LISTS, PRIORITIES, BoardState
from mobile.office.views.common import use_runner
from mobile.state.app import AppState
from mobile.state.common import parse_dt
from shared.workorders.stalls import reason_text

TICK_S = 30.0
KINDS = ("fault_repair", "meter_swap", "new_connection", "capacity_change", "account_change",
         "usage_inspection", "care_visit")
PRIORITY_COLORS = {"urgent": theme.DANGER, "high": theme.WARNING}


def _dropdown(label_text: str, value: str | None, options: list[tuple[str, str]],
              on_pick: Any, lang: str, width: int = 170) -> ft.Control:
    return ft.Dropdown(
        label=label_text, value=value or "", width=width, dense=True,
        options=[ft.DropdownOption(key="", text=t("all", lang)),
                 *[ft.DropdownOption(key=k, text=v) for k, v in options]],
        on_select=lambda e: on_pick(e.control.value or None))


def _filters(board: BoardState, octx: OfficeContext, lang: str, run: Any) -> ft.Control:
    settings = octx.shell.settings
    controls: list[ft.Control] = []
    if settings.get("county_wide"):
        controls.append(_dropdown(t("station", lang), board.station_id,
                                  [(s["id"], s["name"]) for s in settings.get("stations", [])],
                                  lambda v: run(board.set_filter(station_id=v)), lang))
    areas = [a for a in settings.get("areas", [])
             if not board.station_id or a["station_id"] == board.station_id]
    controls += [
        _dropdown(t("area", lang), board.area_id, [(a["id"], a["name"]) for a in areas],
                  lambda v: run(board.set_filter(area_id=v)), lang),
        _dropdown(t("kind", lang), board.kind, [(k, label(k, lang)) for k in KINDS],
                  lambda v: run(board.set_filter(kind=v)), lang),
        _dropdown(t("priority", lang), board.priority,
                  [(p, label(p, lang)) for p in PRIORITIES],
                  lambda v: run(board.set_filter(priority=v)), lang, width=140),
        ft.TextField(label=t("search_board", lang), value=board.q, width=260, dense=True,
                     prefix_icon=ft.Icons.SEARCH,
                     on_submit=lambda e: run(board.set_filter(q=e.control.value or ""))),
        ft.IconButton(ft.Icons.REFRESH, tooltip=t("refresh", lang),
                      on_click=lambda _: run(board.load())),
    ]
    return ft.Row(controls, wrap=True, spacing=10, run_spacing=8)


def _list_chips(board: BoardState, lang: str, run: Any) -> ft.Control:
    return ft.Row([
        ft.Chip(label=ft.Text(f"{t('list_' + name, lang)} ({board.counts.get(name, 0)})"),
                selected=board.list_name == name, show_checkmark=False,
                selected_color=ft.Colors.with_opacity(0.2, theme.PRIMARY),
                on_select=lambda _, n=name: run(board.set_list(n)))
        for name in LISTS], wrap=True, spacing=6, run_spacing=6)


def _table(board: BoardState, lang: str, run: Any, compact: bool) -> ft.Control:
    lines = board.lines()
    heads = ["col_code", "col_kind", "col_priority", "col_status", "col_area", "col_address",
             "col_age", "col_sla", "col_assignee", "col_flags"]
    if compact:
        heads = ["col_code", "col_kind", "col_priority", "col_status", "col_sla",
                 "col_assignee", "col_flags"]
    rows = []
    for ln in lines:
        values = {"col_code": ln.code, "col_kind": ln.kind, "col_priority": ln.priority,
                  "col_status": ln.status, "col_area": ln.area, "col_address": ln.address,
                  "col_age": ln.age, "col_sla": ln.sla, "col_assignee": ln.assignee or "—",
                  "col_flags": ln.flags}
        cells = []
        for h in heads:
            color = None
            if h == "col_sla" and ln.overdue:
                color = theme.DANGER
            elif h == "col_priority":
                color = PRIORITY_COLORS.get(ln.priority_key)
            elif h == "col_flags" and ln.stalled:
                color = theme.DANGER
            text = ft.Text(values[h], size=13, color=color, max_lines=2,
                           overflow=ft.TextOverflow.ELLIPSIS,
                           width=200 if h in ("col_address", "col_flags") else None,
                           weight=ft.FontWeight.W_600 if h == "col_code" else None)
            cells.append(ft.DataCell(text, on_tap=lambda _, i=ln.id: run(board.open(i))))
        rows.append(ft.DataRow(
            cells=cells, selected=ln.id in board.selected,
            color=ft.Colors.with_opacity(0.08, theme.PRIMARY) if ln.id == board.open_id
            else None,
            on_select_change=lambda e, i=ln.id: board.toggle(i, bool(e.data == "true"
                                                                     or e.data is True))))
    table = ft.DataTable(
        columns=[ft.DataColumn(ft.Text(t(h, lang), weight=ft.FontWeight.BOLD, size=13))
                 for h in heads],
        rows=rows, show_checkbox_column=True, column_spacing=14, horizontal_margin=8,
        data_row_min_height=44, data_row_max_height=60, heading_row_height=40,
        on_select_all=lambda e: board.select_all(bool(e.data == "true" or e.data is True)),
        bgcolor=ft.Colors.WHITE, border_radius=8,
        border=ft.Border.all(1, ft.Colors.OUTLINE_VARIANT))
    return ft.Row([table], scroll=ft.ScrollMode.AUTO)


def _pager(board: BoardState, lang: str, run: Any) -> ft.Control:
    return ft.Row([
        ft.Text(board.page_text(), size=13, color=theme.MUTED),
        ft.IconButton(ft.Icons.CHEVRON_LEFT, tooltip=t("prev_page", lang),
                      disabled=board.offset == 0, on_click=lambda _: run(board.prev_page())),
        ft.IconButton(ft.Icons.CHEVRON_RIGHT, tooltip=t("next_page", lang),
                      disabled=board.offset + board.limit >= board.total,
                      on_click=lambda _: run(board.next_page())),
    ], alignment=ft.MainAxisAlignment.END)


def _bulk_bar(board: BoardState, lang: str, run: Any, crews: list[dict[str, Any]]
              ) -> ft.Control:
    picked = ft.use_ref("")
    reason = ft.use_ref("")
    prio = ft.use_ref("")
    n = len(board.selected)
    if not n and not board.bulk_results:
        return ft.Container()
    items: list[ft.Control] = []
    if n:
        items.append(ft.Row([
            ft.Text(t("n_selected", lang, n=n), weight=ft.FontWeight.BOLD),
            ft.Dropdown(label=t("crew", lang), width=200, dense=True,
                        options=[ft.DropdownOption(key=c["id"], text=c["display_name"])
                                 for c in crews],
                        on_select=lambda e: setattr(picked, "current", e.control.value or "")),
            ft.FilledButton(t("bulk_assign", lang), icon=ft.Icons.ASSIGNMENT_IND,
                            disabled=board.busy,
                            on_click=lambda _: run(board.bulk(
                                "dispatch" if board.list_name == "unassigned" else "reassign",
                                assignee_id=picked.current, reason=reason.current))),
            ft.TextField(label=t("reason", lang), width=220, dense=True,
                         on_change=lambda e: setattr(reason, "current", e.control.value or "")),
            ft.Dropdown(label=t("priority", lang), width=130, dense=True,
                        options=[ft.DropdownOption(key=p, text=label(p, lang))
                                 for p in PRIORITIES],
                        on_select=lambda e: setattr(prio, "current", e.control.value or "")),
            ft.OutlinedButton(t("bulk_priority", lang), disabled=board.busy,
                              on_click=lambda _: run(board.bulk("set_priority",
                                                                priority=prio.current))),
            ft.OutlinedButton(t("bulk_cancel", lang), disabled=board.busy,
                              icon=ft.Icons.CANCEL_OUTLINED,
                              on_click=lambda _: run(board.bulk("cancel",
                                                                reason=reason.current))),
        ], wrap=True, spacing=10, run_spacing=8))
    failed = board.failed_lines()
    if failed:
        items.append(ft.Column([ft.Text(t("bulk_failed", lang), color=theme.DANGER,
                                        weight=ft.FontWeight.BOLD),
                                *[ft.Text(f, size=13, color=theme.DANGER) for f in failed]],
                               spacing=2))
    return ft.Container(bgcolor=ft.Colors.AMBER_50, border_radius=8,
                        padding=ft.Padding.all(10), content=ft.Column(items, spacing=6))


def _panel(board: BoardState, lang: str, run: Any) -> ft.Control:
    head = ft.Row([
        ft.Text(board.panel["job"]["code"] if board.panel else "", size=18,
                weight=ft.FontWeight.BOLD, expand=True),
        ft.IconButton(ft.Icons.CLOSE, tooltip=t("close", lang),
                      on_click=lambda _: board.close_panel())])
    body: list[ft.Control] = [head]
    if board.panel_error:
        body.append(ft.Text(board.panel_error, color=theme.DANGER))
    if board.panel is None:
        body.append(ft.ProgressRing() if not board.panel_error else ft.Container())
        return _panel_box(body)
    p = board.panel
    job = p["job"]
    now = board.clock()

    def kv(k: str, v: str, color: str | None = None) -> ft.Control:
        return ft.Row([ft.Text(t(k, lang), size=13, color=theme.MUTED, width=96),
                       ft.Text(v, size=14, color=color, expand=True, selectable=True)],
                      vertical_alignment=ft.CrossAxisAlignment.START)

    deadline = parse_dt(p.get("next_deadline"))
    sla = ""
    if deadline is not None:
        from mobile.i18n import countdown

        sla = countdown(deadline, now, lang, key_ahead="arrive_in"
                        if p.get("next_deadline_kind") == "arrival" else "due_in")[0]
    body += [
        ft.Text(f"{label(job['kind'], lang)} · {label(job['status'], lang)}", size=15,
                weight=ft.FontWeight.W_600, color=theme.PRIMARY),
        kv("priority", label(job["priority"], lang), PRIORITY_COLORS.get(job["priority"])),
        kv("col_area", p.get("area_name") or ""),
        kv("col_address", job.get("address") or ""),
        kv("account", job.get("account_no") or "—"),
        kv("contact", f"{job.get('contact_name') or ''} {job.get('contact_phone') or ''}"),
        kv("description", job.get("description") or ""),
        kv("col_sla", sla, theme.DANGER if p.get("overdue") else None),
        kv("col_assignee", (job.get("assignee") or {}).get("display_name") or "—"),
    ]
    stall = p.get("stall")
    if stall and stall.get("active"):
        why = reason_text([r["trigger"] for r in stall["reasons"]], lang)
        body.append(ft.Container(
            bgcolor=ft.Colors.RED_50, border_radius=6, padding=ft.Padding.all(8),
            content=ft.Text(t("stalled_because", lang, why=why), color=theme.DANGER,
                            weight=ft.FontWeight.W_600)))
    body.append(_panel_actions(board, lang, run))
    body.append(ft.Divider())
    body.append(ft.Text(t("timeline", lang), weight=ft.FontWeight.BOLD))
    for ev in reversed(job.get("timeline", [])[-12:]):
        who = (ev.get("actor") or {}).get("display_name") or ""
        extra = ev.get("data", {}).get("reason") or ev.get("data", {}).get("priority") or ""
        moved = (f" » {label(ev['to_status'], lang)}"
                 if ev["from_status"] != ev["to_status"] else "")
        body.append(ft.Text(
            f"{fmt_time(parse_dt(ev['occurred_at']), lang)}  {label(ev['action'], lang)}{moved}"
            f"  {who}{'  · ' + str(extra) if extra else ''}", size=13))
    return _panel_box(body)


def _panel_actions(board: BoardState, lang: str, run: Any) -> ft.Control:
    items: list[ft.Control] = []
    sugg = board.suggestions
    can_assign = board.allowed("dispatch") or board.allowed("reassign")
    current = ((board.panel or {}).get("job", {}).get("assignee") or {}).get("id")
    if sugg and can_assign:
        others = [c for c in sugg.get("candidates", []) if c["crew"]["id"] != current]
        best = others[0] if others else None
        items.append(ft.Text(t("suggested_crew", lang), weight=ft.FontWeight.BOLD))
        items.append(ft.Text(sugg["rule"], size=12, color=theme.MUTED))
        if best:
            crew = best["crew"]
            items.append(ft.FilledButton(
                t("assign_to", lang, name=crew["display_name"]), icon=ft.Icons.ASSIGNMENT_IND,
                disabled=board.busy,
                on_click=lambda _, c=crew: run(board.assign(c["id"], c["display_name"]))))
        for cand in others[:6]:
            crew = cand["crew"]
            facts = [t("on_duty", lang) if crew["on_duty"] else t("off_duty", lang),
                     t("open_jobs_n", lang, n=crew["open_count"])]
            if cand.get("same_area"):
                facts.append(t("same_area", lang))
            if cand.get("distance_km") is not None:
                facts.append(f"{cand['distance_km']:.1f} km")
            items.append(ft.Row([
                ft.Text(crew["display_name"], size=14, width=110,
                        weight=ft.FontWeight.W_600),
                ft.Text(" · ".join(facts), size=12, color=theme.MUTED, expand=True),
                ft.TextButton(t("assign", lang), disabled=board.busy,
                              on_click=lambda _, c=crew: run(board.assign(
                                  c["id"], c["display_name"]))),
            ]))
    if board.allowed("reassign") or board.allowed("cancel"):
        items.append(ft.TextField(label=t("reason", lang), value=board.reason, dense=True,
                                  multiline=True, max_lines=3,
                                  on_change=lambda e: setattr(board, "reason",
                                                              e.control.value or "")))
        row: list[ft.Control] = []
        if board.allowed("cancel"):
            row.append(ft.OutlinedButton(t("cancel_job", lang), icon=ft.Icons.CANCEL_OUTLINED,
                                         disabled=board.busy,
                                         on_click=lambda _: run(board.cancel_job())))
        items.append(ft.Row(row, wrap=True))
    if board.panel and board.panel["job"]["status"] in ("reported", "dispatched", "accepted",
                                                        "en_route", "on_site"):
        items.append(ft.Row([
            ft.Text(t("set_priority", lang), size=13, color=theme.MUTED),
            *[ft.TextButton(label(p, lang), disabled=board.busy
                            or board.panel["job"]["priority"] == p,
                            on_click=lambda _, p=p: run(board.set_priority(p)))
              for p in PRIORITIES]], wrap=True, spacing=2))
    return ft.Column(items, spacing=6)


def _panel_box(body: list[ft.Control]) -> ft.Control:
    return ft.Container(
        width=400, bgcolor=ft.Colors.WHITE, padding=ft.Padding.all(14),
        border=ft.Border.only(left=ft.BorderSide(1, ft.Colors.OUTLINE_VARIANT)),
        content=ft.Column(body, spacing=8, scroll=ft.ScrollMode.AUTO))


@ft.component
def BoardView(app: AppState, octx: OfficeContext) -> ft.Control:
    # the frame may have made it and started its first load before drawing the board
    board, _ = ft.use_state(lambda: octx.track(octx.take_over("board") or BoardState(octx)))
    shell, _ = ft.use_state(lambda: octx.shell)
    crews, set_crews = ft.use_state(list)
    alive = ft.use_ref(True)
    lang = app.lang
    page = ft.context.page

    run = use_runner()

    async def start() -> None:
        focus = shell.take_focus()
        await board.first_load()
        if focus:
            await board.open(focus)
        try:
            roster = await octx.call(octx.client.roster)
            set_crews(roster["items"])
        except Exception:  # the bulk bar lists no crews; the board still works
            pass
        while alive.current:
            await asyncio.sleep(TICK_S)
            board.tick += 1

    def stop() -> None:
        alive.current = False

    ft.on_mounted(start)
    ft.on_unmounted(stop)

    def show_notice() -> None:
        if board.notice:
            page.show_dialog(ft.SnackBar(ft.Text(board.notice), duration=3000))

    ft.on_updated(show_notice, [board.notice])
    compact = page.width is not None and page.width < 1500 and board.open_id is not None
    main: list[ft.Control] = [
        _list_chips(board, lang, run),
        _filters(board, octx, lang, run),
        _bulk_bar(board, lang, run, crews),
    ]
    if board.error:
        main.append(ft.Text(board.error, color=theme.DANGER))
    if not board.loaded and not board.error:
        main.append(ft.ProgressBar())
    main += [_table(board, lang, run, compact), _pager(board, lang, run)]
    content = ft.Container(padding=ft.Padding.all(14), expand=True,
                           content=ft.Column(main, spacing=10, scroll=ft.ScrollMode.AUTO))
    row: list[ft.Control] = [content]
    if board.open_id:
        row.append(_panel(board, lang, run))
    return ft.Row(row, spacing=0, expand=True, vertical_alignment=ft.CrossAxisAlignment.STRETCH)
