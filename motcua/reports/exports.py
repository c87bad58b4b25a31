"""CSV and XLSX files of a report, written from the same tables as the page."""

from __future__ import annotations

import csv
import io
from typing import Any

from flask_babel import lazy_gettext as _l
from openpyxl import Workbook
from openpyxl.styles import Alignment, Border, Font, PatternFill, Side
from openpyxl.utils import get_column_letter

from motcua.reports.tables import DEFINITIONS, Table, all_tables
from motcua.services.reports import Report
from motcua.timeutil import HALL_TZ

HEADER_FILL = PatternFill("solid", fgColor="DCE6F2")
TOTAL_FILL = PatternFill("solid", fgColor="F2F2F2")
THIN = Side(style="thin", color="9AA5B1")
BOX = Border(left=THIN, right=THIN, top=THIN, bottom=THIN)
SHEET_NAMES = (_l("Tổng hợp"), _l("Hài lòng"), _l("Theo giờ"), _l("Theo thứ"))


def title_lines(report: Report) -> list[str]:
    """The heading of every export: the hall, the report and its period."""
    lines = [report.site_name]
    if report.unit_name:
        lines.append(report.unit_name)
    lines += [
        str(
            _l(
                "BÁO CÁO %(name)s (%(range)s)",
                name=report.period.name.upper(),
                range=report.period.range_text,
            )
        ),
        str(
            _l("Lập lúc %(when)s", when=f"{report.generated_at.astimezone(HALL_TZ):%H:%M %d/%m/%Y}")
        ),
    ]
    return lines


def report_csv(report: Report) -> str:
    """The report as CSV (UTF-8 with BOM for Excel): its tables one after another."""
    buffer = io.StringIO()
    buffer.write("\ufeff")
    writer = csv.writer(buffer)
    for line in title_lines(report):
        writer.writerow([line])
    for table in all_tables(report):
        writer.writerow([])
        writer.writerow([table.title])
        writer.writerow(table.headers)
        writer.writerows(_csv_row(r) for r in table.rows)
        if table.total is not None:
            writer.writerow(_csv_row(table.total))
    writer.writerow([])
    writer.writerow([str(_l("Định nghĩa"))])
    for name, definition in DEFINITIONS:
        writer.writerow([str(name), str(definition)])
    return buffer.getvalue()


def _csv_row(values: list[Any]) -> list[Any]:
    """Numbers as plain numbers (dot decimal, for spreadsheets), nothing for no value."""
    return ["" if v is None else v for v in values]


def _write_table(ws: Any, table: Table, heading: list[str]) -> None:
    row = 1
    for line in heading:
        ws.cell(row=row, column=1, value=line).font = Font(bold=row <= 2)
        row += 1
    ws.cell(row=row, column=1, value=table.title).font = Font(bold=True, size=13)
    row += 2
    header_row = row
    for col, name in enumerate(table.headers, start=1):
        cell = ws.cell(row=row, column=col, value=name)
        cell.font = Font(bold=True)
        cell.fill = HEADER_FILL
        cell.border = BOX
        cell.alignment = Alignment(wrap_text=True, vertical="center", horizontal="center")
    body = [*table.rows, *([table.total] if table.total is not None else [])]
    for index, values in enumerate(body):
        row += 1
        is_total = table.total is not None and index == len(body) - 1
        for col, value in enumerate(values, start=1):
            cell = ws.cell(row=row, column=col, value=value)
            cell.border = BOX
            if isinstance(value, float):
                cell.number_format = "0.0"
            if is_total:
                cell.font = Font(bold=True)
                cell.fill = TOTAL_FILL
    ws.freeze_panes = ws.cell(row=header_row + 1, column=3)
    for col, name in enumerate(table.headers, start=1):
        widest = max([len(str(v[col - 1] or "")) for v in body] + [min(len(name), 18)])
        ws.column_dimensions[get_column_letter(col)].width = min(48, max(9, widest + 2))
    ws.row_dimensions[header_row].height = 45


def report_xlsx(report: Report) -> bytes:
    """The report as an XLSX workbook: one sheet per table, then the definitions."""
    workbook = Workbook()
    heading = title_lines(report)
    first = True
    for name, table in zip(SHEET_NAMES, all_tables(report), strict=True):
        ws = workbook.active if first else workbook.create_sheet()
        first = False
        ws.title = str(name)
        _write_table(ws, table, heading)
    ws = workbook.create_sheet(str(_l("Định nghĩa")))
    ws.append([str(_l("Chỉ số")), str(_l("Định nghĩa"))])
    for name, definition in DEFINITIONS:
        ws.append([str(name), str(definition)])
    ws.column_dimensions["A"].width = 28
    ws.column_dimensions["B"].width = 120
    for cell in ws[1]:
        cell.font = Font(bold=True)
    out = io.BytesIO()
    workbook.save(out)
    return out.getvalue()
