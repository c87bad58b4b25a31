"""Roles per site: two sites on one server, a site-1 administrator and leader kept to site 1,
a province leader whose report adds up both sites."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
import sqlalchemy as sa
from flask import Flask

from db import db
from db.models import Counter, Setting, Site, User
from motcua.errors import SiteForbidden
from motcua.services import catalog, devices, reports, scopes, sessions, staff, tickets
from tests.conftest import PASSWORD, T0, bearer, csrf_token, login

SITE2 = "ĐIỂM TIẾP NHẬN PHƯỜNG 2"


def _ids(app: Flask) -> dict[str, Any]:
    """Sites, counters and accounts by name."""
    with app.app_context():
        sites = dict(db.session.execute(sa.select(Site.code, Site.id)).all())
        users = dict(db.session.execute(sa.select(User.username, User.id)).all())
        counters = {
            (code, n): cid
            for code, n, cid in db.session.execute(
                sa.select(Site.code, Counter.number, Counter.id).join(Site)
            )
        }
    return {"site": sites, "user": users, "counter": counters}


@pytest.fixture
def two_sites(app: Flask) -> dict[str, Any]:
    """Site 2 with one counter; a site-1 admin and leader, a site-2 officer; a day's work."""
    with app.app_context():
        p2 = catalog.ensure_site("p2", SITE2, "PHƯỜNG 2", kind="point")
        catalog.add_counter("p2", 1, ["A", "B"])
        main = db.session.scalar(sa.select(Site.id).where(Site.code == "main"))
        for username, name, role, site in [
            ("qtv1", "Quản trị điểm 1", "admin", main),
            ("lanhdao1", "Lãnh đạo điểm 1", "leader", main),
            ("canbo9", "Lê Thị Chín", "officer", p2),
        ]:
            staff.create_staff(
                username, full_name=name, role=role, password=PASSWORD, site_ids=[site], now=T0
            )
    ids = _ids(app)
    with app.app_context():
        for code, n in (("main", 1), ("main", 2), ("p2", 1), ("p2", 1), ("p2", 1)):
            area = "B" if n == 2 else "A"
            tickets.issue_ticket(area, site_code=code, now=T0)
        later = T0 + dt.timedelta(minutes=5)
        for code, officer in (("main", "canbo1"), ("p2", "canbo9"), ("p2", "canbo9")):
            cid = ids["counter"][(code, 1)]
            tickets.call_next(cid, officer_id=ids["user"][officer], now=later)
            tickets.finish(
                cid, officer_id=ids["user"][officer], now=later + dt.timedelta(minutes=4)
            )
    return ids


def test_site_admin_sees_and_changes_only_their_site(app: Flask, two_sites: dict[str, Any]) -> None:
    """Pages list site 1 only; site 2's pages, the shared catalog and province scope: 403."""
    client = app.test_client()
    login(client, "qtv1")
    p2, main = two_sites["site"]["p2"], two_sites["site"]["main"]
    page = client.get("/admin/counters").get_data(as_text=True)
    assert SITE2 not in page
    users = client.get("/admin/users").get_data(as_text=True)
    assert (
        "Lãnh đạo điểm 1" in users and "Lê Thị Chín" not in users and "Đỗ Quang Minh" not in users
    )
    for path in (f"/admin/counters/{two_sites['counter'][('p2', 1)]}", f"/admin/sites/{p2}"):
        refused = client.get(path)
        assert refused.status_code == 403
        assert "không được giao điểm tiếp nhận này" in refused.get_data(as_text=True)
    areas = client.get("/admin/areas")
    assert areas.status_code == 403 and "quản trị viên cấp tỉnh" in areas.get_data(as_text=True)
    token = csrf_token(client, "/admin/users/new")
    new = {"username": "canbo10", "full_name": "Cán bộ Mười", "role": "admin",
           "password": PASSWORD, "csrf_token": token}  # fmt: skip
    assert client.post("/admin/users/new", data={**new, "site_ids": [str(p2)]}).status_code == 403
    no_site = client.post("/admin/users/new", data=new)  # province scope: not theirs to grant
    assert no_site.status_code == 422 and "cấp tỉnh" in no_site.get_data(as_text=True)
    assert client.post("/admin/users/new", data={**new, "site_ids": [str(main)]}).status_code == 302
    # The hall settings page writes the site's own values, never the installation's.
    saved = client.post(
        "/admin/settings/ticket", data={"TICKET_FOOTER": "Điểm 1", "csrf_token": token}
    )
    assert saved.status_code == 302
    other = client.post(
        f"/admin/settings/ticket?site={p2}", data={"TICKET_FOOTER": "x", "csrf_token": token}
    )
    assert other.status_code == 403
    with app.app_context():
        stored = db.session.execute(sa.select(Setting.scope).where(Setting.key == "TICKET_FOOTER"))
        assert [row[0] for row in stored] == [f"site:{main}"]
        device = devices.create_device("display", "tv-p2", site_id=p2).device.id
    assert client.get(f"/admin/devices/{device}").status_code == 403
    assert "tv-p2" not in client.get("/admin/devices").get_data(as_text=True)


def test_site_admin_refused_site_2_through_the_api(app: Flask, two_sites: dict[str, Any]) -> None:
    """REST: the site-1 administrator cannot work site 2's counter nor cancel its tickets."""
    client = app.test_client()
    headers = bearer(client, "qtv1")
    waiting = client.post("/api/v1/tickets", json={"service": "A"}).json  # main site
    with app.app_context():
        elsewhere = tickets.issue_ticket("A", site_code="p2", now=T0).token
    url = f"/api/v1/counters/{two_sites['counter'][('p2', 1)]}/call-next"
    refused = client.post(url, headers=headers)
    assert refused.status_code == 403 and refused.json["error"] == "site_forbidden"
    cancel = client.post(
        f"/api/v1/tickets/{elsewhere}/cancel", json={"reason": "x"}, headers=headers
    )
    assert cancel.status_code == 403 and cancel.json["error"] == "site_forbidden"
    mine = client.post(
        f"/api/v1/tickets/{waiting['token']}/cancel", json={"reason": "x"}, headers=headers
    )
    assert mine.status_code == 200


def test_province_report_adds_up_both_sites(app: Flask, two_sites: dict[str, Any]) -> None:
    """Province total = site 1 + site 2 computed separately, per area and per site; each
    officer with their site; a site-1 leader's report excludes site 2."""
    period = reports.period_for("day", T0.date())
    leader, leader1 = two_sites["user"]["lanhdao"], two_sites["user"]["lanhdao1"]
    with app.app_context():
        province = reports.build_report(period, "area", actor_id=leader)
        one = reports.build_report(period, "area", site_code="main")
        two = reports.build_report(period, "area", site_code="p2")
        by_site = reports.build_report(period, "site", actor_id=leader)
        by_officer = reports.build_report(period, "officer", actor_id=leader)
        mine = reports.build_report(period, "area", actor_id=leader1)
        with pytest.raises(SiteForbidden):
            reports.build_report(period, "area", site_code="p2", actor_id=leader1)
    names = ("issued", "served", "no_show", "open", "rated")
    for name in names:
        assert getattr(province.total, name) == getattr(one.total, name) + getattr(two.total, name)
    assert (province.total.issued, one.total.issued, two.total.issued) == (5, 2, 3)
    per_area = {r.key: r.issued for r in province.rows}
    for r in [*one.rows, *two.rows]:
        per_area[r.key] -= r.issued
    assert set(per_area.values()) == {0}
    assert [(r.label, r.issued, r.served) for r in by_site.rows] == [
        ("TRUNG TÂM PHỤC VỤ HÀNH CHÍNH CÔNG", 2, 1),
        (SITE2, 3, 2),
    ]
    units = {r.label: r.unit for r in by_officer.rows}
    assert (
        units["Lê Thị Chín"] == SITE2
        and units["Nguyễn Thị Lan"] == "TRUNG TÂM PHỤC VỤ HÀNH CHÍNH CÔNG"
    )
    assert [r.unit for r in by_officer.satisfaction] == [
        units[r.label] for r in by_officer.satisfaction
    ]
    assert (mine.total.issued, mine.total.served, mine.site_name) == (2, 1, one.site_name)
    assert [s["code"] for s in mine.sites] == ["main"]
    # The same through the pages and exports.
    client = app.test_client()
    login(client, "lanhdao1")
    csv_text = client.get("/reports/export.csv?period=day&date=2026-11-23&group=site").get_data(
        as_text=True
    )
    assert SITE2 not in csv_text and "TRUNG TÂM PHỤC VỤ HÀNH CHÍNH CÔNG" in csv_text
    for path in ("/reports/?site=p2", "/reports/live?site=p2", "/reports/tickets.csv?site=p2"):
        refused = client.get(path)
        assert refused.status_code == 403, path
        assert "không được giao điểm tiếp nhận này" in refused.get_data(as_text=True)
    province_client = app.test_client()
    login(province_client, "lanhdao")
    page = province_client.get("/reports/export.csv?period=day&date=2026-11-23&group=site")
    assert SITE2 in page.get_data(as_text=True)


def test_site_admin_plans_sessions_of_their_site_only(
    app: Flask, two_sites: dict[str, Any]
) -> None:
    """A mobile session planned by the site-1 administrator is theirs (its new site too);
    site 2's session is neither listed nor its kit given; other sites' officers stay off duty."""
    day = dt.date(2026, 11, 28)
    admin1 = two_sites["user"]["qtv1"]
    with app.app_context():
        staff.create_staff(
            "canbo11", full_name="Cán bộ điểm 1", role="officer", password=PASSWORD,
            site_ids=[two_sites["site"]["main"]],
        )  # fmt: skip
        mine = sessions.plan_session(
            "mobile", "Nhà văn hóa thôn 3", day, areas=["A"], officers=["canbo11"], actor_id=admin1
        )
        theirs = sessions.plan_session(
            "saturday_hall", "Điểm 2", day, areas=["A"], officers=["canbo9"], hall_site_code="p2"
        )
        with pytest.raises(SiteForbidden):
            sessions.plan_session(
                "mobile", "Thôn 4", day, areas=["A"], officers=["canbo9"], actor_id=admin1
            )
        assert [s["code"] for s in scopes.visible_sites(admin1)] == ["main", mine.site_code]
    client = app.test_client()
    login(client, "qtv1")
    page = client.get("/admin/sessions").get_data(as_text=True)
    assert mine.code in page and theirs.code not in page and "Lê Thị Chín" not in page
    token = csrf_token(client, "/admin/sessions")
    assert (
        client.post(f"/admin/sessions/{mine.code}/kit", data={"csrf_token": token}).status_code
        == 200
    )
    refused = client.post(f"/admin/sessions/{theirs.code}/kit", data={"csrf_token": token})
    assert refused.status_code == 403


def test_an_officer_logs_walk_ins_only_at_their_site(app: Flask, two_sites: dict[str, Any]) -> None:
    """A site-2 officer's home-visit log (walk-in) is refused at the hall's address and
    taken at site 2's."""
    client = app.test_client()
    auth = bearer(client, "canbo9")
    body = {"area": "A", "rating": 1}
    hall = client.post("/api/v1/sessions/walkins", json=body, headers=auth)
    assert hall.status_code == 403 and hall.json["error"] == "site_forbidden", hall.json
    ward = client.post("/s/p2/api/v1/sessions/walkins", json=body, headers=auth)
    assert ward.status_code == 201, ward.json
