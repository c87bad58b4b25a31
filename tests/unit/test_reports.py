"""Report figures of a frozen-clock week, worked out by hand (tests/support/report_scenario.py)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from typing import Any

import pytest
from flask import Flask

from db import db
from motcua.errors import ValidationFailed
from motcua.reports.tables import hours_table, satisfaction_table, summary_table, weekdays_table
from motcua.services import print_jobs, reports, tickets
from motcua.services.reports import Period, period_for
from tests.conftest import T0, build_app, counter_id
from tests.support.parts import postgres_url
from tests.support.report_scenario import MONDAY, at, build_week

WEEK = period_for("week", MONDAY)


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
def week(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Flask]:
    """One app with the hand-computed week (SQLite, then PostgreSQL), shared by the read-only
    tests of this module: the same figures come out of both databases."""
    if request.param == "sqlite":
        uri = f"sqlite:///{tmp_path_factory.mktemp('week') / 'week.sqlite3'}"
    else:
        uri = postgres_url()
    app = build_app(uri)
    build_week(app)
    yield app
    with app.app_context():
        db.session.remove()
        if request.param == "postgresql":
            db.drop_all()
        db.engine.dispose()


def report(app: Flask, group: str, period: Period = WEEK) -> Any:
    """The report of the week (or another period) grouped as asked."""
    with app.test_request_context():
        return reports.build_report(period, group, now=at(24 * 60 * 2))


def by_label(rows: list[Any]) -> dict[str, Any]:
    """Rows by their label."""
    return {r.label: r for r in rows}


def test_periods_in_hall_business_days() -> None:
    """Each period kind, from a day in it; the bounds are hall midnights in UTC."""
    day = dt.date(2026, 11, 23)
    spans = {
        kind: (p.start.isoformat(), p.end.isoformat(), p.name)
        for kind in ("day", "week", "month", "quarter", "half", "nine_months", "year")
        for p in [period_for(kind, day)]
    }
    assert spans == {
        "day": ("2026-11-23", "2026-11-23", "Ngày 23/11/2026"),
        "week": ("2026-11-23", "2026-11-29", "Tuần 48/2026"),
        "month": ("2026-11-01", "2026-11-30", "Tháng 11/2026"),
        "quarter": ("2026-10-01", "2026-12-31", "Quý IV/2026"),
        "half": ("2026-07-01", "2026-12-31", "6 tháng cuối năm 2026"),
        "nine_months": ("2026-01-01", "2026-09-30", "9 tháng năm 2026"),
        "year": ("2026-01-01", "2026-12-31", "Năm 2026"),
    }
    assert period_for("half", dt.date(2026, 2, 28)).end == dt.date(2026, 6, 30)
    assert period_for("quarter", dt.date(2024, 2, 29)).end == dt.date(2024, 3, 31)
    start, end = period_for("day", day).utc_bounds()
    assert (start.isoformat(), end.isoformat()) == (
        "2026-11-22T17:00:00+00:00",
        "2026-11-23T17:00:00+00:00",
    )
    custom = period_for("custom", day, start=dt.date(2026, 11, 2), end=day)
    assert custom.days == 22 and custom.range_text == "Từ ngày 02/11/2026 đến ngày 23/11/2026"
    with pytest.raises(ValidationFailed):
        period_for("custom", day, start=day, end=dt.date(2026, 11, 1))
    with pytest.raises(ValidationFailed):
        period_for("fortnight", day)


def test_week_by_area_exactly(week: Flask) -> None:
    """Counts, waits, service times, target share and ratings per area and in total."""
    r = report(week, "area")
    rows = by_label(r.rows)
    assert list(rows) == ["A – Tư pháp – Hộ tịch", "B – Chứng thực"]
    a, b = rows["A – Tư pháp – Hộ tịch"], rows["B – Chứng thực"]
    assert (a.issued, a.served, a.no_show, a.cancelled, a.expired, a.transferred, a.open) == (
        6, 5, 0, 0, 1, 0, 0,
    )  # fmt: skip
    assert (b.issued, b.served, b.no_show, b.cancelled, b.expired, b.transferred, b.open) == (
        2, 0, 1, 1, 0, 1, 0,
    )  # fmt: skip
    # A waits 300, 960, 120, 960, 120 s; services 600, 480, 240, 600, 180 s.
    assert (a.wait.count, a.wait.total, a.wait.median, a.wait.p90) == (5, 2460, 300, 960)
    assert (a.service.count, a.service.total, a.service.median, a.service.p90) == (
        5, 2100, 480, 600,
    )  # fmt: skip
    assert (a.served_within_target, a.target_share) == (3, 0.6)
    assert a.levels == {3: 1, 2: 1, 1: 1} and a.rated == 3
    assert (b.wait.count, b.wait.mean, b.wait.median, b.wait.p90) == (1, 420, 420, 420)
    assert (b.service.count, b.service.mean, b.target_share, b.rated) == (0, None, None, 0)
    t = r.total
    assert (t.issued, t.served, t.no_show, t.cancelled, t.expired, t.transferred) == (
        8, 5, 1, 1, 1, 1,
    )  # fmt: skip
    # All waits: 120, 120, 300, 420, 960, 960 s → mean 480, median (rank 3) 300, p90 (rank 6) 960.
    assert (t.wait.count, t.wait.mean, t.wait.median, t.wait.p90) == (6, 480, 300, 960)
    assert (t.service.mean, t.service.median, t.service.p90) == (420, 480, 600)
    assert t.levels == {3: 1, 2: 1, 1: 1}
    table = summary_table(r)
    assert table.total == [
        "Tổng cộng", "", 8, 5, 1, 1, 1, 1, 0, 8.0, 5.0, 16.0, 7.0, 8.0, 10.0, 60.0, 3, 66.7,
    ]  # fmt: skip
    assert table.rows[0][2:] == [6, 5, 0, 0, 1, 0, 0, 8.2, 5.0, 16.0, 7.0, 8.0, 10.0, 60.0, 3, 66.7]


def test_week_by_officer_exactly(week: Flask) -> None:
    """Per officer: their tickets at the end, their transfers, their ratings."""
    r = report(week, "officer")
    rows = by_label(r.rows)
    assert list(rows) == [
        "Lê Thị Hồng Nhung",
        "Nguyễn Thị Lan",
        "Trần Văn Hùng",
        "(chưa được gọi)",
    ]
    lan, hung, nhung = rows["Nguyễn Thị Lan"], rows["Trần Văn Hùng"], rows["Lê Thị Hồng Nhung"]
    assert (lan.issued, lan.served, lan.transferred, lan.served_within_target) == (3, 3, 0, 1)
    assert (lan.wait.total, lan.wait.median, lan.wait.p90) == (2220, 960, 960)
    assert (lan.service.total, lan.service.median, lan.service.p90) == (1680, 600, 600)
    assert lan.levels == {3: 1, 2: 1, 1: 1}
    assert (hung.issued, hung.served, hung.wait.median, hung.service.median) == (2, 2, 120, 180)
    assert (hung.service.p90, hung.target_share, hung.rated) == (240, 1.0, 0)
    assert (nhung.issued, nhung.no_show, nhung.transferred, nhung.wait.mean) == (1, 1, 1, 420)
    nobody = rows["(chưa được gọi)"]
    assert (nobody.issued, nobody.cancelled, nobody.expired, nobody.wait.count) == (2, 1, 1, 0)
    assert summary_table(r).rows[1][9:15] == [12.3, 16.0, 16.0, 9.3, 10.0, 10.0]


def test_satisfaction_form(week: Flask) -> None:
    """BÁO CÁO KẾT QUẢ ĐÁNH GIÁ SỰ HÀI LÒNG: unit, officer, forms, count and % per level."""
    table = satisfaction_table(report(week, "area"))
    assert table.headers[:5] == [
        "Đơn vị",
        "Công chức tiếp nhận",
        "Tổng số phiếu",
        "Rất hài lòng – số phiếu",
        "Rất hài lòng – tỷ lệ (%)",
    ]
    assert table.rows == [
        ["PHƯỜNG BA ĐÌNH", "Nguyễn Thị Lan", 3, 1, 33.3, 1, 33.3, 1, 33.3],
        ["PHƯỜNG BA ĐÌNH", "Trần Văn Hùng", 0, 0, None, 0, None, 0, None],
    ]
    assert table.total == ["Tổng cộng", "Tổng cộng", 3, 1, 33.3, 1, 33.3, 1, 33.3]
    assert satisfaction_table(report(week, "officer")).rows == table.rows


def test_other_groupings(week: Flask) -> None:
    """By counter (transfers to the counter they left), by day, by site; the month adds Sunday."""
    counters = by_label(report(week, "counter").rows)
    assert {k: (v.issued, v.served, v.transferred) for k, v in counters.items()} == {
        "Quầy 1": (3, 3, 0),
        "Quầy 2": (2, 2, 0),
        "Quầy 3": (1, 0, 1),
        "(chưa đến quầy)": (2, 0, 0),
    }
    days = by_label(report(week, "day").rows)
    assert {k: (v.unit, v.issued, v.served, v.rated) for k, v in days.items()} == {
        "23/11/2026": ("Thứ Hai", 7, 4, 3),
        "24/11/2026": ("Thứ Ba", 1, 1, 0),
    }
    site = report(week, "site")
    assert [(r.label, r.issued) for r in site.rows] == [("TRUNG TÂM PHỤC VỤ HÀNH CHÍNH CÔNG", 8)]
    month = report(week, "area", period_for("month", MONDAY))
    c = by_label(month.rows)["C – Đất đai – Xây dựng – Đô thị"]
    assert (month.total.issued, c.issued, c.wait.mean, c.service.mean) == (9, 1, 300, 300)
    sunday = report(week, "area", period_for("day", dt.date(2026, 11, 22)))
    assert sunday.total.issued == 1 and sunday.rows[0].label.startswith("C –")


def test_arrivals_by_hour_and_weekday(week: Flask) -> None:
    """Tickets by hall-time hour and weekday, with days that had tickets."""
    r = report(week, "area")
    assert r.hours[8] == 8 and sum(r.hours) == 8
    assert r.weekdays == [7, 1, 0, 0, 0, 0, 0] and r.weekday_days == [1, 1, 0, 0, 0, 0, 0]
    assert hours_table(r).rows == [["08:00–08:59", 8]]
    assert weekdays_table(r).rows[:2] == [["Thứ Hai", 7, 1, 7.0], ["Thứ Ba", 1, 1, 1.0]]


def test_every_ticket_as_csv(week: Flask) -> None:
    """One row per ticket: hall times, durations in seconds, rating label and source."""
    with week.test_request_context():
        text = "".join(reports.iter_ticket_csv(WEEK))
    lines = text.lstrip("\ufeff").splitlines()
    assert len(lines) == 1 + 8
    assert lines[0].startswith("Ngày,Số thứ tự,Lĩnh vực,Trạng thái")
    first = lines[1].split(",")
    assert first[:4] == ["2026-11-23", "A001", "Tư pháp – Hộ tịch", "Đã phục vụ"]
    assert first[7:] == [
        "2026-11-23 08:15:03",
        "2026-11-23 08:20:03",
        "2026-11-23 08:21:03",
        "2026-11-23 08:31:03",
        "300",
        "600",
        "Rất hài lòng",
        "Máy đánh giá tại quầy",
    ]
    b002 = next(line for line in lines if ",B002," in line).split(",")
    assert b002[2:7] == ["Tư pháp – Hộ tịch", "Đã phục vụ", "", "1", "Nguyễn Thị Lan"]
    assert b002[-4:] == ["960", "600", "Hài lòng", "Máy đánh giá tại quầy"]
    assert not any(word in text for word in ("elderly", "tablet", "phone"))  # Vietnamese only


def test_csv_fields_are_quoted_only_when_needed() -> None:
    """Names with a comma or a quote are quoted as RFC 4180 says; others are left alone."""
    assert reports.csv_field("Nguyễn Thị Lan") == "Nguyễn Thị Lan"
    assert reports.csv_field("Đất đai, Xây dựng") == '"Đất đai, Xây dựng"'
    assert reports.csv_field('Quầy "Một cửa"') == '"Quầy ""Một cửa"""'
    assert reports.csv_field(None) == ""


def test_live_snapshot_alerts(app: Flask) -> None:
    """Waits over target and an unprinted ticket show as alerts; its reprint clears it."""
    with app.test_request_context():
        c1 = counter_id(app, 1)
        tickets.issue_ticket("A", now=at(0))
        second = tickets.issue_ticket("A", now=at(1))
        tickets.call_next(c1, now=at(2))
        tickets.start_service(c1, now=at(3))
        print_jobs.record_print_result(
            second.token, ok=False, error_code="paper_out", message="Hết giấy", kiosk="sanh-1",
            now=at(1),
        )  # fmt: skip
        live = reports.live_snapshot(now=at(20))
        assert [a["kind"] for a in live["alerts"]] == ["wait", "printer"]
        assert "chờ lâu nhất 19 phút (mục tiêu 15 phút)" in live["alerts"][0]["text"]
        assert "Vé A002 chưa in được ở ki-ốt sanh-1: Hết giấy" in live["alerts"][1]["text"]
        counter = next(c for c in live["counters"] if c["number"] == 1)
        assert (counter["state"], counter["ticket"]) == ("serving", "A001")
        assert live["today"]["issued"] == 2 and live["today"]["waiting"] == 1
        print_jobs.record_print_result(second.token, ok=True, kiosk="sanh-1", now=at(5))
        tickets.finish(c1, now=at(8))
        tickets.call_next(c1, now=at(9))
        live = reports.live_snapshot(now=at(10))
        assert live["alerts"] == []
        assert live["today"]["served"] == 1
        assert next(c for c in live["counters"] if c["number"] == 1)["served_today"] == 1
    assert T0.tzinfo is dt.UTC
