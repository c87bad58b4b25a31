"""The report's tables as headers and rows of plain values: one source for the page, the
print page, CSV and XLSX, so that every export holds exactly the numbers on the screen.

Durations are minutes rounded to one decimal, shares are percentages rounded to one decimal,
counts are integers; ``None`` means "no value" (shown as "–").
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from flask_babel import lazy_gettext as _l

from motcua.services.reports import WEEKDAY_NAMES, Report, Row, Stats

GROUP_NAMES = {
    "area": _l("Lĩnh vực"),
    "officer": _l("Công chức"),
    "counter": _l("Quầy"),
    "site": _l("Điểm tiếp nhận"),
    "day": _l("Ngày"),
    "session_kind": _l("Loại phiên (Thứ Bảy, lưu động)"),
    "session_place": _l("Địa điểm phiên"),
}

PERIOD_NAMES = {
    "day": _l("Ngày"),
    "week": _l("Tuần"),
    "month": _l("Tháng"),
    "quarter": _l("Quý"),
    "half": _l("6 tháng"),
    "nine_months": _l("9 tháng"),
    "year": _l("Năm"),
    "custom": _l("Tùy chọn"),
}

# Every figure's definition, written on the page, the print page and the XLSX.
DEFINITIONS: list[tuple[Any, Any]] = [
    (
        _l("Kỳ báo cáo"),
        _l(
            "Các ngày làm việc theo giờ Việt Nam (UTC+7) từ ngày đầu đến hết ngày cuối của kỳ; "
            "mỗi số thứ tự thuộc ngày lấy số."
        ),
    ),
    (
        _l("Lấy số"),
        _l(
            "Số thứ tự được cấp trong kỳ (tại ki-ốt, qua cán bộ hoặc phiên lưu động), tính vào "
            "lĩnh vực, quầy và công chức cuối cùng của số đó."
        ),
    ),
    (
        _l("Đã phục vụ"),
        _l("Số thứ tự được cán bộ bấm “Hoàn thành”."),
    ),
    (
        _l("Vắng mặt"),
        _l(
            "Số thứ tự kết thúc vì công dân không đến sau số lần gọi quy định (lần cán bộ bấm "
            "“Vắng mặt” cuối cùng)."
        ),
    ),
    (
        _l("Đã hủy"),
        _l("Số thứ tự bị cán bộ hủy khi đang chờ hoặc đã gọi."),
    ),
    (
        _l("Hết hiệu lực"),
        _l("Số thứ tự còn dở (chưa phục vụ xong) khi hết ngày làm việc."),
    ),
    (
        _l("Chuyển đi"),
        _l(
            "Số lần cán bộ bấm “Chuyển” sang lĩnh vực hoặc quầy khác, tính cho lĩnh vực, quầy và "
            "công chức đã chuyển đi."
        ),
    ),
    (
        _l("Còn dở"),
        _l("Số thứ tự của hôm nay đang chờ, đã gọi hoặc đang phục vụ lúc lập báo cáo."),
    ),
    (
        _l("Thời gian chờ"),
        _l(
            "Từ lúc lấy số đến lần được gọi đầu tiên, tính cho các số đã được gọi; làm tròn đến "
            "giây."
        ),
    ),
    (
        _l("Thời gian phục vụ"),
        _l(
            "Từ lúc cán bộ bấm “Bắt đầu” (nếu bấm “Hoàn thành” ngay thì từ lúc gọi) đến lúc bấm "
            "“Hoàn thành”, tính cho các số đã phục vụ."
        ),
    ),
    (
        _l("TB / Trung vị / P90"),
        _l(
            "Trung bình cộng; trung vị và phân vị 90 theo phương pháp thứ hạng gần nhất: giá trị "
            "đứng thứ ⌈p × n⌉ khi xếp tăng dần (p = 0,5 và 0,9)."
        ),
    ),
    (
        _l("Đúng hạn chờ"),
        _l("Tỷ lệ số đã phục vụ có thời gian chờ không quá thời gian chờ mục tiêu của lĩnh vực."),
    ),
    (
        _l("Phiếu đánh giá"),
        _l(
            "Phiếu đánh giá mức độ hài lòng nhận được trong kỳ (theo thời điểm đánh giá), mỗi "
            "giao dịch đã hoàn thành tối đa một phiếu (máy đánh giá tại quầy hoặc điện thoại qua "
            "mã QR), ghi cho công chức, quầy và lĩnh vực của giao dịch đó. Giao dịch không được "
            "đánh giá (hết thời gian chờ trên máy đánh giá) không tính là phiếu."
        ),
    ),
    (
        _l("Tỷ lệ hài lòng"),
        _l(
            "Phiếu ở các mức không bị coi là thấp (mặc định: Rất hài lòng và Hài lòng) trên tổng "
            "số phiếu."
        ),
    ),
    (
        _l("Lượt đến theo giờ, theo thứ"),
        _l(
            "Số thứ tự được cấp theo giờ lấy số (giờ Việt Nam) và theo thứ trong tuần; “trung "
            "bình mỗi ngày” chia cho số ngày có lấy số của thứ đó."
        ),
    ),
]


def minutes(seconds: float | None) -> float | None:
    """Seconds as minutes with one decimal."""
    return None if seconds is None else round(seconds / 60, 1)


def percent(share: float | None) -> float | None:
    """A 0..1 share as a percentage with one decimal."""
    return None if share is None else round(100 * share, 1)


def _stats(stats: Stats) -> list[float | None]:
    return [minutes(stats.mean), minutes(stats.median), minutes(stats.p90)]


def satisfied_share(report: Report, row: Row) -> float | None:
    """Forms at a level that is not low, over the forms on the current scale."""
    forms = sum(row.levels.values())
    if not forms:
        return None
    good = sum(n for score, n in row.levels.items() if not _is_low(report, score))
    return good / forms


def _is_low(report: Report, score: int) -> bool:
    return any(lv.low for lv in report.scale.levels if lv.score == score)


@dataclass
class Table:
    """Headers and rows of plain values (the total last, flagged)."""

    title: str
    headers: list[str]
    rows: list[list[Any]]
    total: list[Any] | None = None


def summary_table(report: Report) -> Table:
    """The main table: one row per group."""
    headers = [
        str(GROUP_NAMES[report.group]),
        str(_l("Ghi chú")),
        str(_l("Lấy số")),
        str(_l("Đã phục vụ")),
        str(_l("Vắng mặt")),
        str(_l("Đã hủy")),
        str(_l("Hết hiệu lực")),
        str(_l("Chuyển đi")),
        str(_l("Còn dở")),
        str(_l("Chờ TB (phút)")),
        str(_l("Chờ trung vị (phút)")),
        str(_l("Chờ P90 (phút)")),
        str(_l("Phục vụ TB (phút)")),
        str(_l("Phục vụ trung vị (phút)")),
        str(_l("Phục vụ P90 (phút)")),
        str(_l("Đúng hạn chờ (%)")),
        str(_l("Phiếu đánh giá")),
        str(_l("Tỷ lệ hài lòng (%)")),
    ]

    def values(row: Row) -> list[Any]:
        return [
            row.label,
            row.unit,
            row.issued,
            row.served,
            row.no_show,
            row.cancelled,
            row.expired,
            row.transferred,
            row.open,
            *_stats(row.wait),
            *_stats(row.service),
            percent(row.target_share),
            row.rated,
            percent(satisfied_share(report, row)),
        ]

    return Table(
        title=str(_l("Tổng hợp theo %(group)s", group=str(GROUP_NAMES[report.group]).lower())),
        headers=headers,
        rows=[values(r) for r in report.rows],
        total=values(report.total),
    )


def satisfaction_table(report: Report) -> Table:
    """BÁO CÁO KẾT QUẢ ĐÁNH GIÁ SỰ HÀI LÒNG: unit, officer, forms, then count and % per level."""
    headers = [str(_l("Đơn vị")), str(_l("Công chức tiếp nhận")), str(_l("Tổng số phiếu"))]
    for level in report.scale.levels:
        headers += [
            str(_l("%(label)s – số phiếu", label=level.label)),
            str(_l("%(label)s – tỷ lệ (%%)", label=level.label)),
        ]

    def values(row: Row, unit: str) -> list[Any]:
        out: list[Any] = [unit, row.label, sum(row.levels.values())]
        for level in report.scale.levels:
            out += [row.levels.get(level.score, 0), percent(row.level_share(level.score))]
        return out

    return Table(
        title=str(_l("BÁO CÁO KẾT QUẢ ĐÁNH GIÁ SỰ HÀI LÒNG")),
        headers=headers,
        rows=[values(r, r.unit) for r in report.satisfaction],
        total=values(report.satisfaction_total, str(_l("Tổng cộng"))),
    )


def hours_table(report: Report) -> Table:
    """Tickets issued per hour of the day (hall time), only the hours with tickets and between."""
    used = [h for h, n in enumerate(report.hours) if n]
    span = range(min(used), max(used) + 1) if used else range(7, 18)
    return Table(
        title=str(_l("Lượt lấy số theo giờ")),
        headers=[str(_l("Giờ")), str(_l("Số lượt"))],
        rows=[[f"{h:02d}:00–{h:02d}:59", report.hours[h]] for h in span],
        total=[str(_l("Tổng cộng")), sum(report.hours)],
    )


def weekdays_table(report: Report) -> Table:
    """Tickets issued per weekday, with the average per day that had tickets."""
    rows = []
    for i, name in enumerate(map(str, WEEKDAY_NAMES)):
        days = report.weekday_days[i]
        average = round(report.weekdays[i] / days, 1) if days else None
        rows.append([name, report.weekdays[i], days, average])
    return Table(
        title=str(_l("Lượt lấy số theo thứ trong tuần")),
        headers=[
            str(_l("Thứ")),
            str(_l("Số lượt")),
            str(_l("Số ngày có lấy số")),
            str(_l("Trung bình mỗi ngày")),
        ],
        rows=rows,
        total=[str(_l("Tổng cộng")), sum(report.weekdays), sum(report.weekday_days), None],
    )


def all_tables(report: Report) -> list[Table]:
    """Every table of a report, in page order."""
    return [
        summary_table(report),
        satisfaction_table(report),
        hours_table(report),
        weekdays_table(report),
    ]


def text(value: Any) -> str:
    """A value as shown on the page: Vietnamese decimal comma, thousands dot, – for none."""
    if value is None:
        return "–"
    if isinstance(value, bool):
        return str(value)
    if isinstance(value, int):
        return f"{value:,}".replace(",", ".")
    if isinstance(value, float):
        return f"{value:,.1f}".replace(",", " ").replace(".", ",").replace(" ", ".")
    return str(value)
