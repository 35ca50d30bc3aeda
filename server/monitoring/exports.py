"""CSV and XLSX exports of the monitoring tables (the same rows as the JSON endpoints).

Headings are in the asker's language; CSV is UTF-8 with a byte-order mark so that Excel
opens Chinese text correctly. XLSX is written with openpyxl: one sheet, bold headings,
frozen heading row, rates as percentages.
"""

from __future__ import annotations

import csv
import io
from typing import Any

from openpyxl import Workbook
from openpyxl.styles import Font

from server.monitoring.queries import Table

MEDIA = {"csv": "text/csv; charset=utf-8",
         "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"}
_RATES = ("rate", "norm_low", "norm_high", "baseline_loss")


def _heading(col: tuple[str, str, str], lang: str) -> str:
    return col[2] if lang == "en" else col[1]


def _cell(value: Any) -> Any:
    if isinstance(value, bool):
        return "Y" if value else "N"
    if isinstance(value, dict | list):
        return str(value)
    return value


def to_csv(table: Table, lang: str) -> bytes:
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow([_heading(c, lang) for c in table.columns])
    for row in table.rows:
        writer.writerow(["" if row.get(c[0]) is None else _cell(row.get(c[0]))
                         for c in table.columns])
    return ("\ufeff" + out.getvalue()).encode("utf-8")


def to_xlsx(table: Table, lang: str) -> bytes:
    book = Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.title = table.name[:31]
    sheet.append([_heading(c, lang) for c in table.columns])
    for cell in sheet[1]:
        cell.font = Font(bold=True)
    sheet.freeze_panes = "A2"
    for row in table.rows:
        sheet.append([_cell(row.get(c[0])) for c in table.columns])
    for i, c in enumerate(table.columns, start=1):
        if any(part in c[0] for part in _RATES):
            for (cell,) in sheet.iter_rows(min_row=2, min_col=i, max_col=i):
                cell.number_format = "0.00%"
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def render(table: Table, fmt: str, lang: str) -> bytes:
    return to_xlsx(table, lang) if fmt == "xlsx" else to_csv(table, lang)
