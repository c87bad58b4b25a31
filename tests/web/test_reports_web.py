"""Report pages, exports that hold the page's numbers, the print page and the live view."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator

import pytest
from flask import Flask
from flask.testing import FlaskClient
from openpyxl import load_workbook

from db import db
from motcua.extensions import socketio
from motcua.reports.tables import satisfaction_table, summary_table
from motcua.services import reports, tickets
from tests.conftest import build_app, login
from tests.support.report_scenario import MONDAY, build_week

WEEK = "?period=week&date=2026-11-23&group=area"
TOTAL = ["Tổng cộng", "", 8, 5, 1, 1, 1, 1, 0, 8.0, 5.0, 16.0, 7.0, 8.0, 10.0, 60.0, 3, 66.7]


@pytest.fixture(scope="module")
def week_app(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Flask]:
    """One app holding the hand-computed week (read-only tests)."""
    path = tmp_path_factory.mktemp("week-web") / "week.sqlite3"
    app = build_app(f"sqlite:///{path}")
    build_week(app)
    yield app
    with app.app_context():
        db.session.remove()
        db.engine.dispose()


@pytest.fixture
def leader(week_app: Flask) -> FlaskClient:
    """A leader signed in on the week's app."""
    client = week_app.test_client()
    login(client, "lanhdao")
    return client


def test_only_leaders_and_admins_see_reports(week_app: Flask) -> None:
    """Anonymous: to the login page; an officer: 403; leader and admin: the report."""
    anonymous = week_app.test_client()
    for path in ("/reports/", "/reports/export.xlsx", "/reports/live", "/reports/tickets.csv"):
        response = anonymous.get(path)
        assert response.status_code == 302 and "/login" in response.headers["Location"]
    officer = week_app.test_client()
    login(officer, "canbo1")
    assert officer.get("/reports/").status_code == 403
    assert officer.get("/reports/export.csv").status_code == 403
    admin = week_app.test_client()
    login(admin, "admin")
    assert admin.get("/reports/" + WEEK).status_code == 200


def test_report_page_shows_figures_charts_and_definitions(leader: FlaskClient) -> None:
    """The week by area: totals, the official satisfaction form, SVG charts, definitions."""
    html = leader.get("/reports/" + WEEK).get_data(as_text=True)
    assert "BÁO CÁO TUẦN 48/2026" in html
    assert "Từ ngày 23/11/2026 đến ngày 29/11/2026" in html
    assert 'id="kpi-issued">8<' in html and 'id="kpi-served">5<' in html
    assert "BÁO CÁO KẾT QUẢ ĐÁNH GIÁ SỰ HÀI LÒNG" in html
    assert "Công chức tiếp nhận" in html and "Tổng số phiếu" in html and "33,3" in html
    assert html.count("<svg") >= 4 and "Lượt lấy số theo giờ" in html
    assert "phân vị 90 theo phương pháp thứ hạng gần nhất" in html
    assert '<td class="num">8,2</td>' in html  # area A's mean wait in minutes
    assert 'style="' not in html  # the strict CSP allows no inline styles
    bad = leader.get("/reports/?period=fortnight")
    assert bad.status_code == 422
    custom = leader.get("/reports/?period=custom&from=2026-11-22&to=2026-11-24&group=day")
    assert custom.status_code == 200 and "22/11/2026" in custom.get_data(as_text=True)


def test_csv_export_holds_the_same_numbers(week_app: Flask, leader: FlaskClient) -> None:
    """The CSV's tables are the page's tables, value for value."""
    response = leader.get("/reports/export.csv" + WEEK)
    assert response.status_code == 200
    assert response.headers["Content-Type"].startswith("text/csv")
    assert "bao-cao-20261123-20261129-area.csv" in response.headers["Content-Disposition"]
    rows = list(csv.reader(io.StringIO(response.get_data(as_text=True).lstrip("\ufeff"))))
    totals = [r for r in rows if r and r[0] == "Tổng cộng"]
    assert totals[0] == [str(v) for v in TOTAL]
    with week_app.test_request_context():
        report = reports.build_report(reports.period_for("week", MONDAY), "area")
    sat = satisfaction_table(report)
    start = rows.index(sat.headers)
    lan = ["PHƯỜNG BA ĐÌNH", "Nguyễn Thị Lan", "3", "1", "33.3", "1", "33.3", "1", "33.3"]
    assert rows[start + 1] == lan
    assert ["Định nghĩa"] in rows


def test_xlsx_export_read_back(week_app: Flask, leader: FlaskClient) -> None:
    """The workbook opens with openpyxl and holds the same numbers as the report."""
    response = leader.get("/reports/export.xlsx" + WEEK)
    assert response.status_code == 200
    assert response.mimetype.endswith("spreadsheetml.sheet")
    book = load_workbook(io.BytesIO(response.data), read_only=True)
    assert book.sheetnames == ["Tổng hợp", "Hài lòng", "Theo giờ", "Theo thứ", "Định nghĩa"]
    with week_app.test_request_context():
        report = reports.build_report(reports.period_for("week", MONDAY), "area")
    summary = [list(r) for r in book["Tổng hợp"].iter_rows(values_only=True)]
    header = summary.index(summary_table(report).headers)
    body = [[("" if v is None else v) for v in r] for r in summary[header + 1 :]]
    expected = [[("" if v is None else v) for v in r] for r in summary_table(report).rows]
    assert body[:-1] == expected
    assert body[-1] == TOTAL
    sat = [list(r) for r in book["Hài lòng"].iter_rows(values_only=True)]
    assert ["PHƯỜNG BA ĐÌNH", "Nguyễn Thị Lan", 3, 1, 33.3, 1, 33.3, 1, 33.3] in sat
    assert sat[-1] == ["Tổng cộng", "Tổng cộng", 3, 1, 33.3, 1, 33.3, 1, 33.3]
    hours = [list(r)[:2] for r in book["Theo giờ"].iter_rows(values_only=True)]
    assert ["08:00–08:59", 8] in hours


def test_print_page_and_ticket_rows(leader: FlaskClient) -> None:
    """The A4 layout with the official heading; the per-ticket CSV streams every ticket."""
    html = leader.get("/reports/print" + WEEK).get_data(as_text=True)
    assert "CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM" in html and "GIÁM ĐỐC" in html
    assert "BÁO CÁO KẾT QUẢ ĐÁNH GIÁ SỰ HÀI LÒNG" in html and "print.js" in html
    rows = leader.get("/reports/tickets.csv" + WEEK).get_data(as_text=True).splitlines()
    assert len(rows) == 9 and rows[1].startswith("2026-11-23,A001,")


def test_live_view_page_and_namespace(app: Flask) -> None:
    """The live page renders today's snapshot; /leader serves leaders and hears facts."""
    with app.app_context():
        tickets.issue_ticket("A")
    http = app.test_client()
    login(http, "lanhdao")
    html = http.get("/reports/live").get_data(as_text=True)
    assert "Theo dõi trực tiếp" in html and "live-data" in html
    client = socketio.test_client(app, namespace="/leader", flask_test_client=http)
    assert client.is_connected("/leader")
    snap = client.emit("snapshot", {}, namespace="/leader", callback=True)
    assert snap["ok"] and snap["today"]["issued"] == 1 and snap["today"]["waiting"] == 1
    with app.app_context():
        tickets.issue_ticket("B")
    names = [r["name"] for r in client.get_received("/leader")]
    assert "ticket_issued" in names
    client.disconnect("/leader")
    officer = app.test_client()
    login(officer, "canbo1")
    refused = socketio.test_client(app, namespace="/leader", flask_test_client=officer)
    assert not refused.is_connected("/leader")
    assert not socketio.test_client(app, namespace="/leader").is_connected("/leader")
