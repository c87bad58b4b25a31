"""Report pages for leaders and administrators: report, print, CSV/XLSX, ticket rows, live."""

from __future__ import annotations

import datetime as dt
import functools
from collections.abc import Callable
from typing import Any, ParamSpec, TypeVar

from flask import (
    Response,
    abort,
    redirect,
    render_template,
    request,
    stream_with_context,
    url_for,
)
from flask_babel import gettext as _
from flask_login import current_user

from motcua.errors import ValidationFailed
from motcua.reports import bp, charts
from motcua.reports.exports import report_csv, report_xlsx, title_lines
from motcua.reports.tables import (
    DEFINITIONS,
    GROUP_NAMES,
    PERIOD_NAMES,
    hours_table,
    satisfaction_table,
    summary_table,
    text,
    weekdays_table,
)
from motcua.services import reports, sessions
from motcua.services.reports import Period, Report

P = ParamSpec("P")
R = TypeVar("R")

REPORT_ROLES = ("leader", "admin")
XLSX_MIME = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def leader_required(fn: Callable[P, R]) -> Callable[P, Any]:
    """Send anonymous visitors to the login page; refuse anyone but leaders and admins."""

    @functools.wraps(fn)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> Any:
        if not current_user.is_authenticated:
            return redirect(url_for("auth.login", next=request.full_path.rstrip("?")))
        if not current_user.view.has_role(*REPORT_ROLES):
            abort(403)
        return fn(*args, **kwargs)

    return wrapper


def _reader() -> int:
    """The signed-in reader: the services show them only their sites."""
    return int(current_user.view.id)


def _date_arg(name: str) -> dt.date | None:
    value = request.args.get(name) or ""
    if not value:
        return None
    try:
        return dt.date.fromisoformat(value)
    except ValueError:
        raise ValidationFailed(field=name) from None


def report_args() -> tuple[Period, str, str | None]:
    """The period, grouping and site a report page asks for (default: this month by area)."""
    kind = request.args.get("period") or "month"
    if kind not in reports.PERIOD_KINDS:
        raise ValidationFailed(field="period")
    anchor = _date_arg("date") or reports.today()
    period = reports.period_for(kind, anchor, start=_date_arg("from"), end=_date_arg("to"))
    group = request.args.get("group") or "area"
    if group not in reports.GROUPS:
        raise ValidationFailed(field="group")
    return period, group, request.args.get("site") or None


def session_args() -> dict[str, Any]:
    """The session filters a report page asks for: type ("regular" = ordinary days), place."""
    kind = request.args.get("session_kind") or ""
    if kind and kind not in (sessions.REGULAR, *sessions.KINDS):
        raise ValidationFailed(field="session_kind")
    place = request.args.get("session_place") or ""
    return {k: v for k, v in (("session_kind", kind), ("session_place", place)) if v}


def _query(period: Period, group: str, site: str | None) -> dict[str, str]:
    args = {"period": period.kind, "group": group, **session_args()}
    if period.kind == "custom":
        args.update({"from": period.start.isoformat(), "to": period.end.isoformat()})
    else:
        args["date"] = period.start.isoformat()
    if site:
        args["site"] = site
    return args


def _filename(report: Report, ext: str) -> str:
    return f"bao-cao-{report.period.start:%Y%m%d}-{report.period.end:%Y%m%d}-{report.group}.{ext}"


def _charts(report: Report) -> dict[str, Any]:
    """The report's charts as inline SVG."""
    scale = report.scale
    hours = hours_table(report)
    sat_rows = [
        (r.label, [r.levels.get(lv.score, 0) for lv in scale.levels]) for r in report.satisfaction
    ]
    sat_rows.append(
        (_("Tổng cộng"), [report.satisfaction_total.levels.get(lv.score, 0) for lv in scale.levels])
    )
    return {
        "hours": charts.column_chart(
            [row[1] for row in hours.rows],
            [row[0][:2] for row in hours.rows],
            title=hours.title,
        ),
        "weekdays": charts.column_chart(
            report.weekdays,
            [
                name.replace("Thứ ", "T.").replace("Chủ Nhật", "CN")
                for name in map(str, reports.WEEKDAY_NAMES)
            ],
            title=_("Lượt lấy số theo thứ trong tuần"),
            color="#00838f",
        ),
        "satisfaction": charts.stacked_bars(
            sat_rows,
            names=[lv.label for lv in scale.levels],
            colors=[lv.color for lv in scale.levels],
            title=_("Mức độ hài lòng theo công chức"),
        ),
        "wait": charts.duration_bars(
            [
                (r.label, _min(r.wait.mean), _min(r.wait.median), _min(r.wait.p90))
                for r in report.rows
                if r.wait.count
            ],
            title=_("Thời gian chờ (phút)"),
            names=(_("Trung bình"), _("Trung vị"), _("Phân vị 90")),
        ),
    }


def _min(seconds: float | None) -> float | None:
    return None if seconds is None else seconds / 60


def _page_context(report: Report, group: str, site: str | None) -> dict[str, Any]:
    query = _query(report.period, group, site)
    return {
        "report": report,
        "title_lines": title_lines(report),
        "summary": summary_table(report),
        "satisfaction": satisfaction_table(report),
        "hours": hours_table(report),
        "weekdays": weekdays_table(report),
        "definitions": DEFINITIONS,
        "group_names": GROUP_NAMES,
        "period_names": PERIOD_NAMES,
        "query": query,
        "text": text,
        "sites": report.sites,
        "site": site,
        "session_kinds": sessions.kind_choices(),
        "session_kind": request.args.get("session_kind") or "",
    }


@bp.route("/")
@leader_required
def index() -> Any:
    """The report: period picker, grouping, tables, charts, definitions and exports."""
    period, group, site = report_args()
    report = reports.build_report(
        period, group, site_code=site, actor_id=_reader(), **session_args()
    )
    return render_template(
        "reports/report.html",
        charts=_charts(report),
        anchor=request.args.get("date") or reports.today().isoformat(),
        **_page_context(report, group, site),
    )


@bp.route("/print")
@leader_required
def print_page() -> Any:
    """The same report laid out for A4 paper, with the official satisfaction form."""
    period, group, site = report_args()
    report = reports.build_report(
        period, group, site_code=site, actor_id=_reader(), **session_args()
    )
    return render_template(
        "reports/print.html", charts=_charts(report), **_page_context(report, group, site)
    )


@bp.route("/export.csv")
@leader_required
def export_csv() -> Any:
    """The report's tables as CSV."""
    period, group, site = report_args()
    report = reports.build_report(
        period, group, site_code=site, actor_id=_reader(), **session_args()
    )
    return Response(
        report_csv(report),
        mimetype="text/csv; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="{_filename(report, "csv")}"'},
    )


@bp.route("/export.xlsx")
@leader_required
def export_xlsx() -> Any:
    """The report's tables as an Excel workbook."""
    period, group, site = report_args()
    report = reports.build_report(
        period, group, site_code=site, actor_id=_reader(), **session_args()
    )
    return Response(
        report_xlsx(report),
        mimetype=XLSX_MIME,
        headers={"Content-Disposition": f'attachment; filename="{_filename(report, "xlsx")}"'},
    )


@bp.route("/tickets.csv")
@leader_required
def tickets_csv() -> Any:
    """Every ticket of the period, one row each (no personal data), streamed as CSV."""
    period, _group, site = report_args()
    name = f"so-thu-tu-{period.start:%Y%m%d}-{period.end:%Y%m%d}.csv"
    return Response(
        stream_with_context(
            reports.iter_ticket_csv(period, site_code=site, actor_id=_reader(), **session_args())
        ),
        mimetype="text/csv; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="{name}"'},
    )


@bp.route("/live")
@leader_required
def live() -> Any:
    """The leaders' live view of today: queues, counters, served, satisfaction, alerts."""
    site = request.args.get("site") or None
    snapshot = reports.live_snapshot(site_code=site, actor_id=_reader())
    messages = {
        "offline": _("Mất kết nối – đang kết nối lại…"),
        "timeout": _("Máy chủ chưa phản hồi."),
        "minutes": _("%(n)s phút", n="{n}"),
        "state_idle": _("Đang trống"),
        "state_called": _("Đang gọi %(code)s", code="{code}"),
        "state_serving": _("Đang phục vụ %(code)s", code="{code}"),
        "state_paused": _("Tạm nghỉ"),
        "no_officer": _("Chưa có cán bộ"),
        "no_alerts": _("Không có cảnh báo."),
        "since": _("từ %(time)s", time="{time}"),
        "served": _("Đã phục vụ: %(n)s", n="{n}"),
        "avg": _("TB %(n)s phút/lượt", n="{n}"),
        "no_ratings": _("Chưa có phiếu đánh giá hôm nay."),
        "updated": _("Cập nhật lúc %(time)s", time="{time}"),
    }
    return render_template(
        "reports/live.html",
        snapshot=snapshot,
        messages=messages,
        site=site,
        sites=snapshot["sites"],
    )
