"""The contract matrix: every hall rule refuses the same way at every door that reaches it.

Each row is (rule, door). It runs twice: as the hall has it, the door must refuse with the
rule's code and status; with the service-layer check switched off (``monkeypatch`` on our own
service function), the same request must get through. So no surface keeps a check of its own,
and removing the service's check fails the row. The admin pages reach no ticket rule (a
cancel goes through REST), so the doors here are the kiosk page, REST and Socket.IO; the
site scope (roles per site) is also met on the admin, report and live pages, and the
unattended screens' pages and sockets (the pairing a screen needs).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
import sqlalchemy as sa
from flask import Flask
from flask.testing import FlaskClient

from db import db
from db.models import Site, User
from motcua.extensions import socketio
from motcua.services import catalog, devices, scopes, settings, sites, staff, tickets
from motcua.services.tickets import issue, verbs
from tests.conftest import PASSWORD, bearer, counter_id, login

Door = Callable[[Flask, FlaskClient], tuple[int, str | None]]


def _http(response: Any) -> tuple[int, str | None]:
    body = response.get_json(silent=True) or {}
    return response.status_code, body.get("error")


def kiosk_issue(app: Flask, client: FlaskClient, headers: dict[str, str] | None = None) -> Any:
    """The kiosk page's tap."""
    return _http(client.post("/kiosk/api/tickets", json={"service": "A"}, headers=headers or {}))


def rest_issue(app: Flask, client: FlaskClient, headers: dict[str, str] | None = None) -> Any:
    """The REST API's ticket."""
    return _http(client.post("/api/v1/tickets", json={"service": "A"}, headers=headers or {}))


def kiosk_reprint(app: Flask, client: FlaskClient, headers: dict[str, str] | None = None) -> Any:
    """The kiosk page's "In lại" on a number just taken (taken while the rule was off)."""
    with app.app_context():
        staff = db.session.scalar(sa.select(User.id).where(User.username == "admin"))
        token = tickets.issue_ticket("A", actor_id=staff).token
    url = f"/kiosk/api/tickets/{token}/reprint"
    return _http(client.post(url, json={}, headers=headers or {}))


def _display_token(app: Flask) -> dict[str, str]:
    with app.app_context():
        site = db.session.scalar(sa.select(Site.id))
        code = devices.create_device("display", "sanh-tv", site_id=site).code
        token = devices.pair(code)[1]
    return {"Authorization": f"Device {token}"}


def rest_call(username: str) -> Door:
    """REST call-next at counter 1 with the account's bearer token."""

    def door(app: Flask, client: FlaskClient) -> tuple[int, str | None]:
        client.post("/api/v1/tickets", json={"service": "A"})
        url = f"/api/v1/counters/{counter_id(app, 1)}/call-next"
        return _http(client.post(url, headers=bearer(client, username)))

    return door


def socket_connect(username: str) -> Door:
    """A console opening counter 1 over Socket.IO (the service decides at connect)."""

    def door(app: Flask, client: FlaskClient) -> tuple[int, str | None]:
        login(client, username)
        sio = socketio.test_client(
            app,
            namespace="/counter",
            flask_test_client=client,
            auth={"counter_id": counter_id(app, 1)},
        )
        try:
            # Flask-SocketIO's test client drops a refused connection's payload: the refusal
            # itself is the outcome here; the code is checked on the verb row below.
            return (200, None) if sio.is_connected("/counter") else (403, "refused")
        finally:
            if sio.is_connected("/counter"):
                sio.disconnect("/counter")

    return door


def socket_verb_after_pinning(app: Flask, client: FlaskClient) -> tuple[int, str | None]:
    """A console open at counter 1; then the hall pins canbo1 to counter 2; the next verb."""
    client.post("/api/v1/tickets", json={"service": "A"})
    saved = app.config["COUNTER_ASSIGNMENTS"]
    app.config["COUNTER_ASSIGNMENTS"] = {}
    login(client, "canbo1")
    sio = socketio.test_client(
        app, namespace="/counter", flask_test_client=client, auth={"counter_id": counter_id(app, 1)}
    )
    assert sio.is_connected("/counter")
    app.config["COUNTER_ASSIGNMENTS"] = saved
    with app.app_context():
        settings.invalidate()
    ack = sio.emit("call_next", {}, namespace="/counter", callback=True)
    sio.disconnect("/counter")
    return (200, None) if ack.get("ok") else (403, ack.get("error"))


def _elsewhere(app: Flask, username: str, role: str) -> None:
    """An account of ``role`` scoped to a second site "p2" (the doors then reach site 1)."""
    with app.app_context():
        site = catalog.ensure_site("p2", "ĐIỂM TIẾP NHẬN 2")
        staff.create_staff(
            username, full_name="Tài khoản điểm 2", role=role, password=PASSWORD, site_ids=[site]
        )


def other_site(door: Door, username: str, role: str) -> Door:
    """A door used by an account of another site (made first)."""

    def run(app: Flask, client: FlaskClient) -> tuple[int, str | None]:
        _elsewhere(app, username, role)
        return door(app, client)

    return run


def page_as(path: str, username: str) -> Door:
    """A page of site 1 asked for as JSON (the refusal's code; a browser gets the same 403
    with the message on a page)."""

    def door(app: Flask, client: FlaskClient) -> tuple[int, str | None]:
        login(client, username)
        return _http(client.get(path(app) if callable(path) else path, headers=JSON))

    return door


def screen_page(path: str) -> Door:
    """An unattended screen's page opened by an unpaired browser."""

    def door(app: Flask, client: FlaskClient) -> tuple[int, str | None]:
        page = client.get(path)
        unpaired = "Màn hình này chưa được ghép nối" in page.get_data(as_text=True)
        return page.status_code, ("device_required" if unpaired else None)

    return door


def live_socket(username: str) -> Door:
    """The leaders' live view of site 1 over Socket.IO (/leader)."""

    def door(app: Flask, client: FlaskClient) -> tuple[int, str | None]:
        login(client, username)
        sio = socketio.test_client(
            app, namespace="/leader", flask_test_client=client, auth={"site": "main"}
        )
        try:
            return (200, None) if sio.is_connected("/leader") else (403, "refused")
        finally:
            if sio.is_connected("/leader"):
                sio.disconnect("/leader")

    return door


def screen_socket(namespace: str, auth: dict[str, Any]) -> Door:
    """An unattended screen's Socket.IO connection from an unpaired browser."""

    def door(app: Flask, client: FlaskClient) -> tuple[int, str | None]:
        sio = socketio.test_client(app, namespace=namespace, auth=auth)
        try:
            return (200, None) if sio.is_connected(namespace) else (401, "refused")
        finally:
            if sio.is_connected(namespace):
                sio.disconnect(namespace)

    return door


JSON = {"Accept": "application/json"}
EVERY_SITE = (scopes, "scope_of", lambda *a, **k: scopes.PROVINCE)
HOURS_CLOSED = {"WORKING_HOURS": {"mon-sun": []}}
PAIRING = {"REQUIRE_DEVICE_PAIRING": True}
PINNED = {"COUNTER_ASSIGNMENTS": {"canbo1": 2}}

# rule, door name, the hall's settings, the door, the refusal (status, code), the service
# check that must make it (module, name, what it does when switched off).
ROWS: list[tuple[str, str, dict[str, Any], Door, tuple[int, str], tuple[Any, str, Any]]] = [
    ("hours", "kiosk", HOURS_CLOSED, kiosk_issue, (409, "outside_working_hours"),
     (issue, "check_hours", lambda *a, **k: None)),
    ("hours", "rest", HOURS_CLOSED, rest_issue, (409, "outside_working_hours"),
     (issue, "check_hours", lambda *a, **k: None)),
    ("pairing", "kiosk", PAIRING, kiosk_issue, (401, "device_required"),
     (issue, "check_issuer", lambda *a, **k: None)),
    ("pairing", "rest", PAIRING, rest_issue, (401, "device_required"),
     (issue, "check_issuer", lambda *a, **k: None)),
    ("pairing", "kiosk reprint", PAIRING, kiosk_reprint, (401, "device_required"),
     (issue, "check_issuer", lambda *a, **k: None)),
    ("device kind", "kiosk reprint", {},
     lambda app, c: kiosk_reprint(app, c, _display_token(app)), (403, "device_forbidden"),
     (issue, "check_issuer", lambda *a, **k: None)),
    ("device kind", "kiosk", {},
     lambda app, c: kiosk_issue(app, c, _display_token(app)), (403, "device_forbidden"),
     (issue, "check_issuer", lambda *a, **k: None)),
    ("device kind", "rest", {},
     lambda app, c: rest_issue(app, c, _display_token(app)), (403, "device_forbidden"),
     (issue, "check_issuer", lambda *a, **k: None)),
    *[
        ("screen pairing", door_name, PAIRING, door, refusal,
         (sites, "check_screen", lambda *a, **k: None))
        for door_name, door, refusal in (
            ("kiosk page", screen_page("/kiosk/"), (401, "device_required")),
            ("display page", screen_page("/display/"), (401, "device_required")),
            ("tablet page", screen_page("/rating/?counter=1"), (401, "device_required")),
            ("kiosk socket", screen_socket("/kiosk", {}), (401, "refused")),
            ("display socket", screen_socket("/display", {}), (401, "refused")),
            ("tablet socket", screen_socket("/rating", {"counter": 1}), (401, "refused")),
        )
    ],
    ("fixed counter", "rest", PINNED, rest_call("canbo1"), (403, "counter_not_assigned"),
     (verbs, "assigned_counter", lambda *a, **k: None)),
    ("fixed counter", "socket connect", PINNED, socket_connect("canbo1"), (403, "refused"),
     (verbs, "assigned_counter", lambda *a, **k: None)),
    ("fixed counter", "socket verb", PINNED, socket_verb_after_pinning,
     (403, "counter_not_assigned"), (verbs, "assigned_counter", lambda *a, **k: None)),
    ("role", "rest", {}, rest_call("lanhdao"), (403, "forbidden"),
     (verbs, "check_actor", lambda *a, **k: None)),
    ("role", "socket connect", {}, socket_connect("lanhdao"), (403, "refused"),
     (verbs, "check_actor", lambda *a, **k: None)),
    ("site scope", "rest", {}, other_site(rest_call("canbo9"), "canbo9", "officer"),
     (403, "site_forbidden"), (verbs, "check_site", lambda *a, **k: None)),
    ("site scope", "socket connect", {}, other_site(socket_connect("canbo9"), "canbo9", "officer"),
     (403, "refused"), (verbs, "check_site", lambda *a, **k: None)),
    ("site scope", "admin page", {},
     other_site(page_as(lambda app: f"/admin/counters/{counter_id(app, 1)}", "qtv2"), "qtv2",
                "admin"),
     (403, "site_forbidden"), EVERY_SITE),
    ("site scope", "report page", {},
     other_site(page_as("/reports/?site=main", "lanhdao2"), "lanhdao2", "leader"),
     (403, "site_forbidden"), EVERY_SITE),
    ("site scope", "live view", {},
     other_site(page_as("/reports/live?site=main", "lanhdao2"), "lanhdao2", "leader"),
     (403, "site_forbidden"), EVERY_SITE),
    ("site scope", "live socket", {},
     other_site(live_socket("lanhdao2"), "lanhdao2", "leader"), (403, "refused"), EVERY_SITE),
]  # fmt: skip


@pytest.mark.parametrize("checked", [True, False], ids=["checked", "check-removed"])
@pytest.mark.parametrize(
    ("rule", "door_name", "config", "door", "refusal", "check"),
    ROWS,
    ids=[f"{r[0]}@{r[1]}" for r in ROWS],
)
def test_rule_refuses_alike_at_every_door(
    app: Flask,
    monkeypatch: pytest.MonkeyPatch,
    checked: bool,
    rule: str,
    door_name: str,
    config: dict[str, Any],
    door: Door,
    refusal: tuple[int, str],
    check: tuple[Any, str, Any],
) -> None:
    """The rule's refusal at this door; with the service check off, the door lets it through."""
    app.config.update(config)
    if not checked:
        module, name, replacement = check
        monkeypatch.setattr(module, name, replacement)
        if hasattr(tickets, name):  # the package re-exports it: kiosk.py calls it from there
            monkeypatch.setattr(tickets, name, replacement)
    got = door(app, app.test_client())
    if checked:
        assert got == refusal, f"{rule} at {door_name}"
    else:
        assert got[1] != refusal[1] and got[0] < 400, f"{rule} at {door_name} is checked elsewhere"
