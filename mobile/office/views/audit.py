"""The audit viewer: filters, a read-only server-paged table, CSV export (a download)."""

from __future__ import annotations

import json
from typing import Any

import flet as ft

from mobile import theme
from mobile.i18n import fmt_time
from mobile.office.context import OfficeContext
from mobile.office.i18n import label, t
from mobile.office.state.audit import FILTERS, AuditState
from mobile.office.views.common import use_runner
from mobile.office.views.sup_widgets import cell, frame, notice_line, pager, table
from mobile.state.app import AppState
from mobile.state.common import parse_dt


def _details(r: dict[str, Any]) -> str:
    def short(d: dict[str, Any]) -> str:
        return json.dumps(d, ensure_ascii=False)[:160] if d else ""

    before, after = short(r.get("before") or {}), short(r.get("after") or {})
    return f"{before} -> {after}" if before else after


@ft.component
def AuditView(app: AppState, octx: OfficeContext) -> ft.Control:
    state, _ = ft.use_state(lambda: AuditState(octx))
    picker = ft.use_ref(lambda: ft.FilePicker())
    lang = app.lang
    run = use_runner()
    ft.on_mounted(state.load)

    async def export() -> None:
        data = await state.export()
        if data is not None:
            await picker.current.save_file(file_name="audit.csv", src_bytes=data)

    widths = {"person": 160, "account": 140, "job": 160, "kind": 200, "since": 160,
              "until": 160}
    fields: list[ft.Control] = [
        ft.TextField(label=t(f"f_{name}", lang), value=state.filters.get(name, ""),
                     width=widths[name], dense=True,
                     on_change=lambda e, n=name: state.set(n, e.control.value or ""),
                     on_submit=lambda _: run(state.search()))
        for name in FILTERS]
    fields += [ft.FilledButton(t("search", lang), icon=ft.Icons.SEARCH,
                               on_click=lambda _: run(state.search())),
               ft.OutlinedButton(t("export_csv", lang), icon=ft.Icons.DOWNLOAD,
                                 on_click=lambda _: run(export()))]
    heads = [t(h, lang) for h in ("when", "who", "col_device", "col_action", "col_entity",
                                  "reason", "col_details")]
    rows = [[cell(fmt_time(parse_dt(r["at"]), lang)),
             cell(f"{r.get('actor_name') or r.get('actor_id') or '—'}"
                  + (f" ({label(r['actor_role'], lang)})" if r.get("actor_role") else ""),
                  width=160),
             cell(r.get("device_id") or "—", width=120),
             cell(r["action"], bold=True), cell(f"{r['entity']} {r['entity_id'][:13]}",
                                                width=150),
             cell(r.get("reason") or "", width=160), cell(_details(r), width=320, size=12)]
            for r in state.rows]
    body: list[ft.Control] = [
        ft.Text(t("audit_help", lang), size=13, color=theme.MUTED),
        ft.Row(fields, wrap=True, spacing=10, run_spacing=8),
        notice_line(state.error, error=True), notice_line(state.notice),
    ]
    if not state.loaded:
        body.append(ft.ProgressBar())
    body += [table(heads, rows) if rows else ft.Text(t("nothing_here", lang),
                                                     color=theme.MUTED),
             *([pager(state.page_text(), lang, lambda step: run(state.move(step)))]
               if state.total else [])]
    return frame(body)
