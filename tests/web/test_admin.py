"""Admin pages: access, every form with valid and invalid input, nothing half-saved, audit."""

from __future__ import annotations

import io
from typing import Any

import pytest
import sqlalchemy as sa
from flask import Flask
from flask.testing import FlaskClient
from PIL import Image

from db import db
from db.models import AuditEntry, Counter, ServiceArea, Setting, Site, User
from tests.conftest import PASSWORD, counter_id, csrf_token, login

ADMIN_PAGES = [
    "/admin/",
    "/admin/sites",
    "/admin/sites/new",
    "/admin/areas",
    "/admin/areas/new",
    "/admin/counters",
    "/admin/counters/new",
    "/admin/users",
    "/admin/users/new",
    "/admin/settings",
    "/admin/devices",
    "/admin/devices/new",
    "/admin/audit",
]


@pytest.fixture
def admin(client: FlaskClient) -> FlaskClient:
    """A client signed in as the administrator."""
    assert login(client, "admin").status_code == 302
    return client


def post(client: FlaskClient, path: str, data: dict[str, Any], **kwargs: Any) -> Any:
    """POST a form the way the page does, with the session's CSRF token."""
    return client.post(path, data={**data, "csrf_token": csrf_token(client)}, **kwargs)


def count(app: Flask, model: Any) -> int:
    """Rows of a table."""
    with app.app_context():
        return int(db.session.scalar(sa.select(sa.func.count()).select_from(model)))


def actions(app: Flask) -> list[tuple[str, str]]:
    """(action, target) of the audit log, oldest first, sign-ins left out."""
    with app.app_context():
        rows = db.session.execute(
            sa.select(AuditEntry.action, AuditEntry.target).order_by(AuditEntry.id)
        ).all()
    return [(a, t) for a, t in rows if not a.startswith("login")]


HOURS = {f"hours_{d}": "07:30-11:30, 13:30-17:00" for d in ("mon", "tue", "wed", "thu", "fri")}


def test_only_administrators_reach_admin_pages(client: FlaskClient) -> None:
    """Anonymous → login; officer and leader → 403 (Vietnamese page); admin → every page."""
    first = client.get("/admin/sites")
    assert first.status_code == 302 and first.headers["Location"] == "/login?next=/admin/sites"
    for username in ("canbo1", "lanhdao"):
        login(client, username)
        for path in ("/admin/", "/admin/users", "/admin/settings"):
            refused = client.get(path)
            assert refused.status_code == 403, (username, path)
            assert "không có quyền" in refused.get_data(as_text=True)
        assert post(client, "/admin/settings/display", {"DISPLAY_MESSAGE": "x"}).status_code == 403
        client.get("/logout")
    login(client, "admin")
    for path in ADMIN_PAGES:
        page = client.get(path)
        assert page.status_code == 200, path
        assert 'lang="vi"' in page.get_data(as_text=True)


def test_security_headers_on_every_page(admin: FlaskClient) -> None:
    """CSP 'self' only, no framing, no sniffing, same-origin referrer."""
    for path in ("/admin/settings", "/login", "/kiosk/", "/display/"):
        headers = admin.get(path).headers
        csp = headers["Content-Security-Policy"]
        assert "default-src 'self'" in csp and "script-src 'self';" in csp, path
        assert "unsafe-inline" not in csp and "frame-ancestors 'none'" in csp
        assert headers["X-Frame-Options"] == "DENY"
        assert headers["X-Content-Type-Options"] == "nosniff"
        assert headers["Referrer-Policy"] == "same-origin"
    kiosk = admin.get("/kiosk/")
    nonce = kiosk.headers["Content-Security-Policy"].split("'nonce-")[1].split("'")[0]
    assert f'<style nonce="{nonce}">' in kiosk.get_data(as_text=True)


def test_forms_without_the_csrf_token_are_refused(app: Flask, admin: FlaskClient) -> None:
    """A forged form post (no token) changes nothing and says why in Vietnamese."""
    refused = admin.post("/admin/settings/display", data={"DISPLAY_MESSAGE": "Giả mạo"})
    assert refused.status_code == 400
    assert "tải lại trang" in refused.get_data(as_text=True)
    wrong = admin.post(
        "/admin/settings/display", data={"DISPLAY_MESSAGE": "Giả", "csrf_token": "abc"}
    )
    assert wrong.status_code == 400
    assert count(app, Setting) == 0
    fresh = app.test_client()
    assert fresh.post("/login", data={"username": "admin", "password": PASSWORD}).status_code == 400


def test_site_form(app: Flask, admin: FlaskClient) -> None:
    """A new reception point with Saturday hours; bad input re-shown, nothing saved."""
    bad = post(
        admin,
        "/admin/sites/new",
        {"code": "Điểm 2", "name": "", "kind": "point", "hours_sat": "sáng", "active": "1"},
    )
    body = bad.get_data(as_text=True)
    assert bad.status_code == 422 and "Chưa lưu: có 3 mục chưa hợp lệ." in body
    assert "Không được để trống." in body and "Giờ làm việc không đúng dạng" in body
    assert 'value="sáng"' in body  # what was typed stays in the form
    assert count(app, Site) == 1
    ok = post(
        admin,
        "/admin/sites/new",
        {
            "code": "thon-2",
            "name": "ĐIỂM TIẾP NHẬN THÔN 2",
            "unit_name": "XÃ AN BÌNH",
            "kind": "mobile",
            "active": "1",
            "hours_sat": "7:30-11:30",
        },
    )
    assert ok.status_code == 302
    listing = admin.get("/admin/sites").get_data(as_text=True)
    assert "ĐIỂM TIẾP NHẬN THÔN 2" in listing and "07:30-11:30" in listing
    with app.app_context():
        site = db.session.scalar(sa.select(Site).where(Site.code == "thon-2"))
        assert (site.kind, site.unit_name) == ("mobile", "XÃ AN BÌNH")
        main = db.session.scalar(sa.select(Site.id).where(Site.code == "main"))
    refused = post(admin, f"/admin/sites/{main}", {"name": "TRUNG TÂM", "kind": "hall"})
    assert refused.status_code == 422  # the default site cannot be switched off
    assert "mặc định" in refused.get_data(as_text=True)
    assert ("site_created", "thon-2") in actions(app)


def test_area_form(app: Flask, admin: FlaskClient) -> None:
    """A new area served by two counters; a taken prefix is refused."""
    c4, c5 = counter_id(app, 4), counter_id(app, 5)
    taken = post(
        admin,
        "/admin/areas/new",
        {"code": "baohiem", "prefix": "a", "name": "Bảo hiểm", "target_wait_minutes": "0"},
    )
    body = taken.get_data(as_text=True)
    assert taken.status_code == 422
    assert "Chữ cái này đã dùng cho lĩnh vực khác." in body and "từ 1 đến 240" in body
    assert count(app, ServiceArea) == 8
    ok = post(
        admin,
        "/admin/areas/new",
        {
            "code": "baohiem",
            "prefix": "K",
            "name": "Bảo hiểm xã hội",
            "sort_order": "9",
            "target_wait_minutes": "20",
            "active": "1",
            "counter_ids": [str(c4), str(c5)],
        },
    )
    assert ok.status_code == 302
    services = admin.get("/api/v1/services").json
    new = next(s for s in services if s["prefix"] == "K")
    assert new["counters"] == [4, 5] and new["name"] == "Bảo hiểm xã hội"
    assert admin.post("/api/v1/tickets", json={"service": "K"}).json["code"] == "K001"
    assert ("area_created", "K Bảo hiểm xã hội") in actions(app)


def test_counter_form(app: Flask, admin: FlaskClient, make_ticket: Any) -> None:
    """A new counter; a duplicate number is refused; a busy counter cannot be switched off."""
    with app.app_context():
        site = db.session.scalar(sa.select(Site.id))
        area_a = db.session.scalar(sa.select(ServiceArea.id).where(ServiceArea.prefix == "A"))
    dup = post(admin, "/admin/counters/new", {"site_id": site, "number": "3", "active": "1"})
    assert dup.status_code == 422 and "đã có quầy số 3" in dup.get_data(as_text=True)
    assert count(app, Counter) == 6
    ok = post(
        admin,
        "/admin/counters/new",
        {"site_id": site, "number": "7", "active": "1", "area_ids": [str(area_a)]},
    )
    assert ok.status_code == 302
    assert "Quầy 7" in admin.get("/admin/counters").get_data(as_text=True)
    make_ticket("A")
    c1 = counter_id(app, 1)
    from motcua.services import tickets
    from tests.conftest import T0

    with app.app_context():
        tickets.call_next(c1, now=T0)
    busy = post(admin, f"/admin/counters/{c1}", {"site_id": site, "number": "1"})
    assert busy.status_code == 422
    assert "đang phục vụ số A001" in busy.get_data(as_text=True)
    with app.app_context():
        assert db.session.get(Counter, c1).active


def test_forms_read_typed_values_and_say_which_field_is_wrong(
    app: Flask, admin: FlaskClient
) -> None:
    """A value that is not a number or a valid choice is refused per field, in Vietnamese."""
    bad = post(
        admin,
        "/admin/counters/new",
        {"site_id": "1", "number": "ba", "sort_order": "", "area_ids": ["1", "x"]},
    )
    body = bad.get_data(as_text=True)
    assert bad.status_code == 422 and "Chưa lưu: có 2 mục chưa hợp lệ." in body
    assert "Hãy nhập một số nguyên." in body and "Có lựa chọn không hợp lệ." in body
    assert 'value="ba"' in body  # what was typed stays in the form
    assert count(app, Counter) == 6
    made = post(admin, "/admin/counters/new", {"site_id": "1", "number": "7", "sort_order": ""})
    assert made.status_code == 302
    with app.app_context():
        seven = db.session.scalar(sa.select(Counter).where(Counter.number == 7))
        assert seven is not None and (seven.sort_order, seven.active) == (7, False)


def test_user_lifecycle(app: Flask, admin: FlaskClient) -> None:
    """Create, edit, reset password, photo, deactivate: each checked, each audited."""
    bad = post(
        admin,
        "/admin/users/new",
        {"username": "canbo1", "full_name": "", "role": "officer", "password": "ngan"},
    )
    body = bad.get_data(as_text=True)
    assert bad.status_code == 422
    for message in ("Tên đăng nhập đã tồn tại.", "Không được để trống.", "ít nhất 8 ký tự"):
        assert message in body
    assert count(app, User) == 4
    made = post(
        admin,
        "/admin/users/new",
        {
            "username": "canbo7",
            "full_name": "Đặng Thu Hà",
            "role": "officer",
            "password": "mat-khau-moi-1",
            "position": "Công chức Tư pháp – Hộ tịch",
            "default_counter": "2",
        },
    )
    assert made.status_code == 302
    user_id = int(made.headers["Location"].rsplit("/", 1)[1])
    page = admin.get(f"/admin/users/{user_id}").get_data(as_text=True)
    assert "Đặng Thu Hà" in page and 'value="2" selected' in page
    fresh = app.test_client()
    assert login(fresh, "canbo7", "mat-khau-moi-1").status_code == 302
    assert fresh.get("/counter/").headers["Location"] == "/counter/2"  # default counter
    assert post(admin, f"/admin/users/{user_id}/password", {"password": "1234"}).status_code == 422
    assert (
        post(admin, f"/admin/users/{user_id}/password", {"password": "doi-mat-khau"}).status_code
        == 302
    )
    image = io.BytesIO()
    Image.new("RGB", (640, 480), "navy").save(image, "PNG")
    photo = post(
        admin,
        f"/admin/users/{user_id}/photo",
        {"photo": (io.BytesIO(image.getvalue()), "anh.png")},
        content_type="multipart/form-data",
    )
    assert photo.status_code == 302
    not_image = post(
        admin,
        f"/admin/users/{user_id}/photo",
        {"photo": (io.BytesIO(b"MZ not a picture"), "anh.exe")},
        content_type="multipart/form-data",
    )
    assert not_image.status_code == 422 and "JPEG, PNG" in not_image.get_data(as_text=True)
    with app.app_context():
        stored = db.session.get(User, user_id).photo
    served = admin.get(f"/photos/{stored}")
    assert served.status_code == 200 and Image.open(io.BytesIO(served.data)).size == (480, 480)
    assert admin.get("/photos/..%2Fconfig.py").status_code == 404
    off = post(admin, f"/admin/users/{user_id}/active", {"active": "0"})
    assert off.status_code == 302
    assert login(app.test_client(), "canbo7", "doi-mat-khau").status_code == 401
    assert fresh.get("/counter/").status_code == 302  # the open session ends too
    with app.app_context():
        me = db.session.scalar(sa.select(User.id).where(User.username == "admin"))
    self_off = post(admin, f"/admin/users/{me}/active", {"active": "0"})
    assert self_off.status_code == 422 and "tự khóa" in self_off.get_data(as_text=True)
    assert [a for a, t in actions(app) if t == "canbo7"] == [
        "user_created",
        "user_password_reset",
        "user_photo",
        "user_deactivated",
    ]
    assert count(app, User) == 5  # never deleted


def test_settings_forms(app: Flask, admin: FlaskClient) -> None:
    """Each section saves; invalid input is explained and nothing of the section is saved."""
    queue = {
        "PRIORITY_POLICY": "interleave",
        "PRIORITY_EVERY_N": "2",
        "cat_count": "2",
        "cat_code_0": "elderly",
        "cat_label_0": "Người cao tuổi",
        "cat_code_1": "",
        "cat_label_1": "Phụ nữ có thai",
        "NOSHOW_REQUEUE": "1",
        "NOSHOW_MAX_MISSES": "3",
        "DEFAULT_SERVICE_MINUTES": "8",
    }
    bad = post(admin, "/admin/settings/queue", {**queue, "NOSHOW_MAX_MISSES": "0"})
    assert bad.status_code == 422 and "Giá trị phải từ 1 đến 10." in bad.get_data(as_text=True)
    assert count(app, Setting) == 0
    assert post(admin, "/admin/settings/queue", queue).status_code == 302
    kiosk = admin.get("/kiosk/api/state").json
    assert [c["label"] for c in kiosk["priority_categories"]] == [
        "Người cao tuổi",
        "Phụ nữ có thai",
    ]
    bad = post(
        admin,
        "/admin/settings/announce",
        {"ANNOUNCE_TEMPLATE": "Mời {ten}", "ANNOUNCE_REPEAT": "2", "voice_0": ""},
    )
    body = bad.get_data(as_text=True)
    assert "{so}" in body and "Chọn ít nhất một nguồn giọng đọc." in body
    good = {
        "ANNOUNCE_TEMPLATE": "Kính mời công dân số {so} đến quầy {quay}",
        "ANNOUNCE_REPEAT": "3",
        "voice_0": "server",
        "voice_1": "browser",
    }
    assert post(admin, "/admin/settings/announce", good).status_code == 302
    spoken = admin.get("/display/announce/A012/2").json
    assert spoken["text"].startswith("Kính mời công dân số") and spoken["repeat"] == 3
    assert (
        post(admin, "/admin/settings/display", {"DISPLAY_MESSAGE": "Chào mừng!"}).status_code == 302
    )
    assert "Chào mừng!" in admin.get("/display/").get_data(as_text=True)
    ticket = post(admin, "/admin/settings/ticket", {"TICKET_FOOTER": "x" * 121})
    assert ticket.status_code == 422 and "Tối đa 120 ký tự." in ticket.get_data(as_text=True)
    rating = {
        "rating_size": "4",
        "rating_label_0": "Rất hài lòng",
        "rating_label_1": "Hài lòng",
        "rating_label_2": "",
        "rating_label_3": "Không hài lòng",
        "RATING_REASONS": "Chờ lâu",
    }
    bad = post(admin, "/admin/settings/rating", rating)
    assert bad.status_code == 422 and "3, 4 hoặc 5 mức" in bad.get_data(as_text=True)
    rating["rating_label_2"] = "Bình thường"
    assert post(admin, "/admin/settings/rating", rating).status_code == 302
    from motcua.services import settings

    with app.app_context():
        assert [s["level"] for s in settings.effective("RATING_SCALE")] == [4, 3, 2, 1]
        assert settings.effective("VOICE_SOURCES") == ["server", "browser"]
    assert post(admin, "/admin/settings/nope", {}).status_code == 404
    changed = [t for a, t in actions(app) if a == "setting_changed"]
    assert "PRIORITY_POLICY" in changed and "RATING_SCALE" in changed
    audit_page = admin.get("/admin/audit?action=setting_changed").get_data(as_text=True)
    assert "Đổi cài đặt" in audit_page and "RATING_SCALE" in audit_page


def test_device_pages(app: Flask, admin: FlaskClient) -> None:
    """Register a kiosk (the code is shown once), its printer form, test print, revoke."""
    with app.app_context():
        site = db.session.scalar(sa.select(Site.id))
    bad = post(admin, "/admin/devices/new", {"kind": "rating", "name": "may 1", "site_id": site})
    body = bad.get_data(as_text=True)
    assert bad.status_code == 422 and "phải gắn với một quầy" in body and "không dấu" in body
    made = post(admin, "/admin/devices/new", {"kind": "kiosk", "name": "sanh-1", "site_id": site})
    assert made.status_code == 302
    page = admin.get(made.headers["Location"]).get_data(as_text=True)
    code = page.split('data-testid="pairing-code">')[1].split("<")[0]
    assert len(code) == 9 and f"/device/pair?code={code}" in page
    assert code not in admin.get(made.headers["Location"]).get_data(as_text=True)  # shown once
    device_path = made.headers["Location"]
    bad_printer = post(
        admin, f"{device_path}/printer", {"backend": "network", "host": "", "width_px": "500"}
    )
    assert bad_printer.status_code == 422
    assert "Khổ giấy" in bad_printer.get_data(as_text=True)
    assert (
        post(admin, f"{device_path}/printer", {"backend": "dummy", "width_px": "576"}).status_code
        == 302
    )
    printed = post(admin, f"{device_path}/test-print", {}, follow_redirects=True)
    assert "Đã in trang thử." in printed.get_data(as_text=True)
    status = post(admin, f"{device_path}/printer-status", {}, follow_redirects=True)
    assert "Máy in sẵn sàng" in status.get_data(as_text=True)
    assert post(admin, f"{device_path}/revoke", {}).status_code == 302
    listing = admin.get("/admin/devices").get_data(as_text=True)
    assert "sanh-1" in listing and "Đã thu hồi" in listing
    assert [a for a, t in actions(app) if t == "sanh-1"] == [
        "device_created",
        "device_printer",
        "device_test_print",
        "device_revoked",
    ]
