"""Device tokens do their own device's job only; pairing in a browser; login throttling."""

from __future__ import annotations

from typing import Any

import pytest
import sqlalchemy as sa
from flask import Flask
from flask.testing import FlaskClient

from db import db
from db.models import AuditEntry, Counter, Site, Ticket
from motcua.services import devices
from tests.conftest import PASSWORD, T0, counter_id, csrf_token, login


def register(app: Flask, kind: str, name: str, counter: int | None = None) -> str:
    """Register and pair a device through the services; returns its token."""
    with app.app_context():
        site = db.session.scalar(sa.select(Site.id))
        cid = (
            db.session.scalar(sa.select(Counter.id).where(Counter.number == counter))
            if counter
            else None
        )
        pairing = devices.create_device(kind, name, site_id=site, counter_id=cid)
        return devices.pair(pairing.code)[1]


def as_device(token: str) -> dict[str, str]:
    """The Authorization header of a device."""
    return {"Authorization": f"Device {token}"}


def issue(client: FlaskClient, headers: dict[str, str] | None = None, **body: Any) -> Any:
    """Tap the kiosk's issue endpoint."""
    return client.post("/kiosk/api/tickets", json={"service": "A", **body}, headers=headers or {})


@pytest.fixture
def open_hall(app: Flask) -> Flask:
    """No working hours: the kiosk issues at any time of the test run."""
    app.config["WORKING_HOURS"] = {}
    return app


def test_each_device_token_does_only_its_own_job(open_hall: Flask, client: FlaskClient) -> None:
    """Kiosk issues as itself; display and tablet cannot issue; no token opens staff endpoints."""
    app = open_hall
    kiosk = register(app, "kiosk", "sanh-1")
    display = register(app, "display", "man-hinh-1")
    tablet = register(app, "rating", "danh-gia-1", counter=1)
    made = issue(client, as_device(kiosk), kiosk="sanh-khac")
    assert made.status_code == 201
    with app.app_context():
        assert db.session.scalar(sa.select(Ticket.kiosk)) == "sanh-1"  # its own printer
    for token in (display, tablet):
        refused = issue(client, as_device(token))
        assert refused.status_code == 403 and refused.json["error"] == "device_forbidden"
        api = client.post("/api/v1/tickets", json={"service": "A"}, headers=as_device(token))
        assert api.status_code == 403
    c1 = counter_id(app, 1)
    for token in (kiosk, display, tablet):
        assert (
            client.post(f"/api/v1/counters/{c1}/call-next", headers=as_device(token)).status_code
            == 401
        )
        admin = client.get("/admin/", headers=as_device(token))
        assert admin.status_code == 302 and "/login" in admin.headers["Location"]
    forged = issue(client, as_device("not-a-token"))
    assert forged.status_code == 401 and forged.json["error"] == "device_required"
    beat = client.post("/device/api/heartbeat", headers=as_device(tablet))
    assert beat.json["device"] == {
        "name": "danh-gia-1",
        "kind": "rating",
        "site": "main",
        "counter": 1,
        "home": "/rating/",
    }
    assert client.post("/device/api/heartbeat").status_code == 401


def test_rating_tablets_are_bound_to_their_counter(app: Flask) -> None:
    """require_device("rating") gives the tablet's counter; a kiosk token is refused."""
    from motcua.auth import require_device
    from motcua.errors import DomainError

    tablet = register(app, "rating", "danh-gia-2", counter=2)
    kiosk = register(app, "kiosk", "sanh-2")
    with app.test_request_context(headers=as_device(tablet)):
        assert require_device("rating").counter_number == 2
    with app.test_request_context(headers=as_device(kiosk)), pytest.raises(DomainError) as err:
        require_device("rating")
    assert err.value.status == 403
    with app.test_request_context(), pytest.raises(DomainError) as missing:
        require_device("rating")
    assert missing.value.status == 401


def test_required_pairing_closes_the_kiosk_to_unpaired_screens(
    open_hall: Flask, client: FlaskClient
) -> None:
    """REQUIRE_DEVICE_PAIRING: no token → 401 in Vietnamese; paired → 201; revoked → 401."""
    app = open_hall
    app.config["REQUIRE_DEVICE_PAIRING"] = True
    refused = issue(client)
    assert refused.status_code == 401 and "ghép nối" in refused.json["message"]
    assert client.post("/api/v1/tickets", json={"service": "A"}).status_code == 401
    staff = app.test_client()
    bearer = staff.post("/api/v1/auth/token", json={"username": "canbo1", "password": PASSWORD})
    headers = {"Authorization": f"Bearer {bearer.json['access_token']}"}
    assert staff.post("/api/v1/tickets", json={"service": "A"}, headers=headers).status_code == 201
    token = register(app, "kiosk", "sanh-3")
    assert issue(client, as_device(token)).status_code == 201
    with app.app_context():
        device_id = devices.list_devices()[0].id
        devices.revoke_device(device_id)
    assert issue(client, as_device(token)).status_code == 401
    app.config["REQUIRE_DEVICE_PAIRING"] = False
    assert issue(client).status_code == 201  # the demo default: open kiosks


def test_pairing_in_the_browser_sets_the_device_cookie(open_hall: Flask) -> None:
    """/device/pair: a wrong code is refused; the right one sets the cookie and opens /kiosk/."""
    app = open_hall
    with app.app_context():
        site = db.session.scalar(sa.select(Site.id))
        code = devices.create_device("kiosk", "sanh-4", site_id=site).code
    screen = app.test_client()
    form = screen.get(f"/device/pair?code={code}").get_data(as_text=True)
    assert f'value="{code}"' in form  # the link fills the code; pairing needs the button
    wrong = screen.post(
        "/device/pair", data={"code": "ZZZZ-ZZZZ", "csrf_token": csrf_token(screen, "/device/pair")}
    )
    assert wrong.status_code == 400 and "không đúng hoặc đã hết hạn" in wrong.get_data(as_text=True)
    done = screen.post(
        "/device/pair", data={"code": code, "csrf_token": csrf_token(screen, "/device/pair")}
    )
    assert done.status_code == 302 and done.headers["Location"] == "/kiosk/"
    cookie = screen.get_cookie("motcua_device")
    assert cookie is not None and cookie.http_only and cookie.same_site == "Lax"
    assert screen.get_cookie("motcua_paired").value == "1"
    assert 'data-kiosk="sanh-4"' in screen.get("/kiosk/").get_data(as_text=True)
    assert screen.post("/kiosk/api/tickets", json={"service": "B"}).json["ticket"]["code"] == "B001"
    assert "sanh-4" in screen.get("/device/").get_data(as_text=True)
    api = app.test_client().post("/device/api/pair", json={"code": code})
    assert api.status_code == 400 and api.json["error"] == "pairing_failed"  # single use


def test_login_is_throttled_per_username_and_address(app: Flask, client: FlaskClient) -> None:
    """5 wrong passwords → the next try (even right) waits, told in Vietnamese whom to ask;
    other usernames and addresses are unaffected; the administrator lifts it (audited)."""
    for _ in range(5):
        assert login(client, "canbo1", "sai-mat-khau").status_code == 401
    blocked = login(client, "canbo1", PASSWORD)
    assert blocked.status_code == 429
    page = blocked.get_data(as_text=True)
    assert "Đăng nhập sai nhiều lần" in page and "nhờ quản trị viên mở khóa" in page
    api = client.post("/api/v1/auth/token", json={"username": "canbo1", "password": PASSWORD})
    assert api.status_code == 429 and api.json["error"] == "too_many_attempts"
    assert 0 < int(api.headers["Retry-After"]) <= 2 and api.json["details"]["retry_after"] <= 2
    assert login(client, "canbo2").status_code == 302  # another username
    elsewhere = app.test_client()
    ok = elsewhere.post(
        "/login",
        data={"username": "canbo1", "password": PASSWORD, "csrf_token": csrf_token(elsewhere)},
        environ_overrides={"REMOTE_ADDR": "10.1.2.3"},
    )
    assert ok.status_code == 302  # another address
    admin = app.test_client()
    login(admin, "admin")
    uid = counter_user_id(app, "canbo1")
    assert "Gần đây đăng nhập sai 5 lần" in admin.get(f"/admin/users/{uid}").get_data(as_text=True)
    lifted = admin.post(
        f"/admin/users/{uid}/login-unlock",
        data={"csrf_token": csrf_token(admin, f"/admin/users/{uid}")},
    )
    assert lifted.status_code == 302
    again = app.test_client()
    assert login(again, "canbo1").status_code == 302  # at once, from the throttled address
    with app.app_context():
        rows = db.session.execute(sa.select(AuditEntry.action, AuditEntry.actor)).all()
        target = db.session.scalar(
            sa.select(AuditEntry.target).where(AuditEntry.action == "login_unlocked")
        )
    assert rows.count(("login_failed", "canbo1")) == 5
    assert ("login_throttled", "canbo1") in rows and ("login", "canbo2") in rows
    assert ("login_unlocked", "admin") in rows and target == "canbo1"


def counter_user_id(app: Flask, username: str) -> int:
    """An account's id by its username."""
    from db.models import User

    with app.app_context():
        return int(db.session.scalar(sa.select(User.id).where(User.username == username)))


def test_the_login_delay_grows_but_never_locks(ctx: Flask) -> None:
    """Each failure past the free ones doubles the wait (2, 4, 8 … s, at most 120 s); once it
    has passed, the right password signs in."""
    import datetime as dt

    import pytest

    from motcua.errors import InvalidCredentials, TooManyAttempts
    from motcua.services import staff
    from tests.conftest import T0

    now, waits = T0, []
    for _ in range(12):
        try:
            staff.sign_in("canbo1", "sai-mat-khau", ip="10.0.0.9", now=now)
        except InvalidCredentials:
            pass
        except TooManyAttempts as exc:  # pragma: no cover - the loop waits out every delay
            raise AssertionError(exc.details) from exc
        waits.append(staff.login_throttle("canbo1", "10.0.0.9", now=now).retry_after)
        now += dt.timedelta(seconds=waits[-1])
    assert waits == [0, 0, 0, 0, 2, 4, 8, 16, 32, 64, 120, 120]
    with pytest.raises(TooManyAttempts) as early:
        staff.sign_in("canbo1", PASSWORD, ip="10.0.0.9", now=now - dt.timedelta(seconds=1))
    assert early.value.details["retry_after"] == 1
    assert staff.sign_in("canbo1", PASSWORD, ip="10.0.0.9", now=now).username == "canbo1"
    assert staff.login_throttle("canbo1", "10.0.0.9", now=now).failures == 0  # success resets


def test_officer_actions_show_in_the_audit_log(app: Flask, make_ticket: Any) -> None:
    """Calls, finishes and pauses by officers appear on /admin/audit with their names."""
    from db.models import User
    from motcua.services import tickets

    make_ticket("A")
    c1 = counter_id(app, 1)
    with app.app_context():
        canbo = db.session.scalar(sa.select(User.id).where(User.username == "canbo1"))
        tickets.call_next(c1, officer_id=canbo, now=T0)
        tickets.finish(c1, officer_id=canbo, now=T0)
        tickets.set_paused(c1, True, officer_id=canbo)
    admin = app.test_client()
    login(admin, "admin")
    page = admin.get(f"/admin/audit?actor={canbo}").get_data(as_text=True).split("<tbody>")[1]
    for label in ("Gọi số", "Hoàn thành", "Quầy tạm nghỉ", "Nguyễn Thị Lan", "A001"):
        assert label in page, label
    only_calls = admin.get("/admin/audit?action=ticket:called").get_data(as_text=True)
    only_calls = only_calls.split("<tbody>")[1]
    assert "Gọi số" in only_calls and "Hoàn thành" not in only_calls
    empty = admin.get("/admin/audit?since=2030-01-01").get_data(as_text=True)
    assert "Không có thao tác nào khớp bộ lọc." in empty


def test_a_new_printer_backend_is_one_class(app: Flask, client: FlaskClient) -> None:
    """A Backend subclass alone is offered by the device form, checked, and used by the checks."""
    from printer.backends import BACKENDS, Backend, PrinterStatus
    from printer.fields import Field

    class BluetoothPrinter(Backend):
        """A made-up backend: one field with its own rule."""

        name, label = "bluetooth", "Bluetooth"
        fields = (
            Field(
                "mac",
                "Địa chỉ MAC",
                required=True,
                pattern="[0-9A-F:]{17}",
                error="Nhập địa chỉ MAC.",
            ),
        )

        def print_bytes(self, config: Any, data: bytes, job_name: str, preview: Any) -> None:
            """Pretend to print."""

        def status(self, config: Any) -> PrinterStatus:
            """Always answers, with the address it was given."""
            return PrinterStatus("online", "Máy in sẵn sàng", config["mac"])

    try:
        with app.app_context():
            site = db.session.scalar(sa.select(Site.id))
            device_id = devices.create_device("kiosk", "sanh-9", site_id=site).device.id
        login(client, "admin")
        page = client.get(f"/admin/devices/{device_id}").get_data(as_text=True)
        assert '<option value="bluetooth">Bluetooth</option>' in page
        assert 'name="mac"' in page and "&#34;bluetooth&#34;: [&#34;mac&#34;]" in page
        path = f"/admin/devices/{device_id}/printer"
        token = csrf_token(client, f"/admin/devices/{device_id}")
        refused = client.post(path, data={"backend": "bluetooth", "mac": "x", "csrf_token": token})
        assert refused.status_code == 422 and "Nhập địa chỉ MAC." in refused.get_data(as_text=True)
        mac = "00:11:22:33:44:55"
        saved = client.post(path, data={"backend": "bluetooth", "mac": mac, "csrf_token": token})
        assert saved.status_code == 302
        with app.app_context():
            assert devices.printer_status(device_id)["detail"] == mac
            assert devices.test_print(device_id)["ok"]
    finally:
        BACKENDS.pop("bluetooth", None)
