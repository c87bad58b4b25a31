"""Two sites on one server: devices bound to their site, the /s/<code>/ address, own boards,
rooms per site, and REQUIRE_DEVICE_PAIRING at every unattended screen's page and socket."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest
import sqlalchemy as sa
from flask import Flask
from flask.testing import FlaskClient
from flask_socketio import SocketIOTestClient

from db import db
from db.models import Site
from motcua.extensions import socketio
from motcua.services import settings, tickets
from tests.conftest import T0, bearer, login
from tests.support.sites import HALL2, SITE2, add_site_2, device_client, pair, site_counter


@pytest.fixture
def two_sites(app: Flask) -> Flask:
    """The seeded hall ("main", areas A-H at six counters) and ward 2 (areas C, D)."""
    add_site_2(app)
    return app


def tap(client: FlaskClient, service: str, prefix: str = "") -> Any:
    """A kiosk tap on the kiosk's own endpoint."""
    return client.post(f"{prefix}/kiosk/api/tickets", json={"service": service})


def test_a_kiosk_bound_to_site_2_issues_site_2s_numbers(two_sites: Flask) -> None:
    """Site 2's paired kiosk, and an unpaired one under /s/phuong-2/, show and issue site 2's
    areas with site 2's own numbering and settings; the plain address stays the hall's."""
    app = two_sites
    hall = app.test_client()
    assert tap(hall, "C").json["ticket"]["code"] == "C001"
    kiosk2 = device_client(app, pair(app, "kiosk", "ki-ot-p2", SITE2))
    state = kiosk2.get("/kiosk/api/state").json
    assert state["site"]["code"] == SITE2
    assert [s["prefix"] for s in state["services"]] == ["C", "D"]
    assert HALL2 in kiosk2.get("/kiosk/").get_data(as_text=True)
    made = tap(kiosk2, "C").json["ticket"]
    assert (made["code"], made["site_code"]) == ("C001", SITE2)
    refused = tap(kiosk2, "A")  # the hall's area, not offered by ward 2's counters
    assert refused.status_code == 404 and refused.json["error"] == "service_not_found"

    with app.app_context():  # ward 2's own setting (scope site:<id>) over the hall's
        site2_id = db.session.scalar(sa.select(Site.id).where(Site.code == SITE2))
        scope = settings.site_scope(site2_id)
        settings.put(scope, "TICKET_DIGITS", 4, actor_id=None, now=T0)
        settings.put(
            scope, "ANNOUNCE_TEMPLATE", "Mời số {so} tới quầy {quay}", actor_id=None, now=T0
        )
        db.session.commit()
        settings.invalidate()
    unpaired = app.test_client()
    page = unpaired.get("/s/phuong-2/kiosk/").get_data(as_text=True)
    assert 'data-root="/s/phuong-2"' in page and HALL2 in page
    assert 'data-issue-url="/s/phuong-2/kiosk/api/tickets"' in page
    assert "/s/phuong-2/static/js/live.js" in page  # assets follow the prefix too
    prefixed = tap(unpaired, "D", "/s/phuong-2").json["ticket"]
    assert (prefixed["code"], prefixed["site_code"]) == ("D0001", SITE2)
    assert tap(unpaired, "C").json["ticket"]["code"] == "C002"  # the hall's, 3 digits
    spoken = unpaired.get("/s/phuong-2/display/announce/C001/1").json
    assert spoken["text"].startswith("Mời số") and spoken["audio"]["server"].startswith("/s/")
    assert unpaired.get("/display/announce/C001/1").json["text"].startswith("Xin mời công dân")

    missing = unpaired.get("/s/khong-co/kiosk/")
    assert missing.status_code == 404
    assert "Không có điểm tiếp nhận mã “khong-co”" in missing.get_data(as_text=True)
    api = unpaired.get("/s/khong-co/api/v1/board")
    assert api.status_code == 404 and api.json["error"] == "not_found"


def test_each_sites_board_and_rest_are_its_own(any_app: Flask) -> None:
    """REST and pages under /s/phuong-2/ answer for ward 2; without a prefix, for the hall."""
    app = any_app
    add_site_2(app)
    client = app.test_client()
    assert [c["number"] for c in client.get("/api/v1/board").json["counters"]] == [1, 2, 3, 4, 5, 6]
    board2 = client.get("/s/phuong-2/api/v1/board").json
    assert board2["site"]["code"] == SITE2 and [c["number"] for c in board2["counters"]] == [1, 2]
    services2 = client.get("/s/phuong-2/api/v1/services").json
    assert [s["prefix"] for s in services2] == ["C", "D"]
    made = client.post("/s/phuong-2/api/v1/tickets", json={"service": "C"})
    assert made.status_code == 201 and made.json["code"] == "C001"
    areas2 = client.get("/s/phuong-2/api/v1/board").json["areas"]
    assert [(a["prefix"], a["waiting"]) for a in areas2] == [("C", 1), ("D", 0)]
    assert all(a["waiting"] == 0 for a in client.get("/api/v1/board").json["areas"])
    assert HALL2 in client.get("/s/phuong-2/display/").get_data(as_text=True)
    login(client, "canbo1")
    console = client.get("/s/phuong-2/counter/2").get_data(as_text=True)
    assert f'"counter_id": {site_counter(app, SITE2, 2)}' in console  # ward 2's counter 2
    assert 'data-root="/s/phuong-2"' in console  # its socket and links follow the prefix
    assert client.get("/s/phuong-2/counter/3").status_code == 404  # ward 2 has no counter 3
    assert client.get("/counter/").get_data(as_text=True).count("data-counter=") == 6  # the hall
    url = f"/api/v1/counters/{site_counter(app, SITE2, 1)}/call-next"
    assert client.post(url, headers=bearer(client, "canbo1")).json["code"] == "C001"
    seated = client.get("/counter/").get_data(as_text=True)  # now the officer's counter's site
    assert seated.count("data-counter=") == 2 and "/counter/2" in seated


def received(client: SocketIOTestClient, namespace: str, name: str) -> list[dict[str, Any]]:
    """The payloads of one event received since the last look."""
    return [r["args"][0] for r in client.get_received(namespace) if r["name"] == name]


def polling_packets(client: FlaskClient, url: str) -> list[str]:
    """One long-polling GET of engine.io: the packets it carries."""
    return client.get(url).get_data(as_text=True).split("\x1e")


@pytest.fixture
def sockets(two_sites: Flask) -> Iterator[list[SocketIOTestClient]]:
    """Socket.IO test clients made by a test, disconnected after it."""
    made: list[SocketIOTestClient] = []
    yield made
    for client in made:
        for namespace in ("/display", "/counter", "/rating", "/kiosk"):
            if client.is_connected(namespace):
                client.disconnect(namespace)


def test_a_display_of_site_1_never_gets_site_2s_calls(
    two_sites: Flask, sockets: list[SocketIOTestClient]
) -> None:
    """Ward 2's console calls: ward 2's paired display hears it, the hall's display does not;
    and the other way round."""
    app = two_sites
    hall_display = socketio.test_client(app, namespace="/display")
    display2 = socketio.test_client(
        app,
        namespace="/display",
        flask_test_client=device_client(app, pair(app, "display", "man-hinh-p2", SITE2)),
    )
    officer = app.test_client()
    login(officer, "canbo1")
    console2 = socketio.test_client(
        app,
        namespace="/counter",
        flask_test_client=officer,
        auth={"counter_id": site_counter(app, SITE2, 1)},
    )
    sockets.extend([hall_display, display2, console2])
    assert hall_display.is_connected("/display") and display2.is_connected("/display")
    assert console2.is_connected("/counter")
    assert display2.emit("snapshot", {}, namespace="/display", callback=True)["site"]["code"] == (
        SITE2
    )

    tap(app.test_client(), "C", "/s/phuong-2")
    tap(app.test_client(), "A")
    for client in (hall_display, display2):
        client.get_received("/display")
    ack = console2.emit("call_next", {}, namespace="/counter", callback=True)
    assert ack["ok"] and ack["ticket"]["code"] == "C001"
    assert [c["ticket"]["code"] for c in received(display2, "/display", "ticket_called")] == [
        "C001"
    ]
    assert received(hall_display, "/display", "ticket_called") == []

    with app.app_context():
        tickets.call_next(site_counter(app, "main", 1))
    assert [c["ticket"]["code"] for c in received(hall_display, "/display", "ticket_called")] == [
        "A001"
    ]
    assert received(display2, "/display", "ticket_called") == []


def test_required_pairing_refuses_unpaired_screens_page_and_socket(
    two_sites: Flask, sockets: list[SocketIOTestClient]
) -> None:
    """REQUIRE_DEVICE_PAIRING: kiosk, display and tablet pages say how to pair (401) and their
    sockets are refused; paired screens open on their own site; a phone's status page still
    follows its ticket."""
    app = two_sites
    app.config["REQUIRE_DEVICE_PAIRING"] = True
    client = app.test_client()
    for path in ("/kiosk/", "/display/", "/rating/?counter=1", "/s/phuong-2/display/"):
        page = client.get(path)
        text = page.get_data(as_text=True)
        assert page.status_code == 401, path
        assert "Màn hình này chưa được ghép nối" in text and "/device/pair" in text, path
        assert "/admin/devices" in text and "mã ghép nối" in text, path
    assert client.get("/kiosk/api/state").json["error"] == "device_required"
    for namespace, auth in (("/display", None), ("/rating", {"counter": 1}), ("/kiosk", {})):
        refused = socketio.test_client(app, namespace=namespace, auth=auth)
        sockets.append(refused)
        assert not refused.is_connected(namespace), namespace

    display = device_client(app, pair(app, "display", "man-hinh-p2", SITE2))
    assert display.get("/display/").status_code == 200
    assert display.get("/kiosk/").status_code == 403  # a display is no kiosk
    tablet = device_client(app, pair(app, "rating", "danh-gia-p2", SITE2, counter=2))
    assert HALL2 in tablet.get("/rating/").get_data(as_text=True)
    for namespace, http in (("/display", display), ("/rating", tablet)):
        opened = socketio.test_client(app, namespace=namespace, flask_test_client=http)
        sockets.append(opened)
        assert opened.is_connected(namespace), namespace
        snapshot = opened.emit("snapshot", {}, namespace=namespace, callback=True)
        assert snapshot["site"]["code"] == SITE2, namespace

    token = tap(device_client(app, pair(app, "kiosk", "ki-ot-p2", SITE2)), "C").json["ticket"]
    phone = socketio.test_client(app, namespace="/kiosk", auth={"token": token["token"]})
    sockets.append(phone)
    assert phone.is_connected("/kiosk")


def open_display(client: FlaskClient, prefix: str) -> str:
    """A display's Socket.IO connection as its browser opens it: engine.io long polling at
    ``<prefix>/socket.io/`` through the whole WSGI stack; returns its polling address."""
    base = f"{prefix}/socket.io/?EIO=4&transport=polling"
    opened = json.loads(polling_packets(client, base)[0][1:])
    poll = f"{base}&sid={opened['sid']}"
    assert client.post(poll, data="40/display,{}").get_data(as_text=True) == "OK"
    assert polling_packets(client, poll)[0].startswith('40/display,{"sid"')
    return poll


def calls_heard(client: FlaskClient, poll: str) -> list[str]:
    """The tickets called in the packets one poll brings (facts are queued: no wait)."""
    events = [json.loads(p[p.index("[") :]) for p in polling_packets(client, poll) if "[" in p]
    return [e[1]["ticket"]["code"] for e in events if e[0] == "ticket_called"]


def test_the_address_prefix_takes_the_socket_to_its_site(two_sites: Flask) -> None:
    """A display opened at /s/phuong-2/display/ connects at /s/phuong-2/socket.io/ and follows
    ward 2's room; one at /display/ follows the hall's (real engine.io, no test client)."""
    app = two_sites
    ward, hall = app.test_client(), app.test_client()
    ward_poll, hall_poll = open_display(ward, "/s/phuong-2"), open_display(hall, "")
    tap(app.test_client(), "C", "/s/phuong-2")
    tap(app.test_client(), "A")
    with app.app_context():
        tickets.call_next(site_counter(app, SITE2, 1))
        tickets.call_next(site_counter(app, "main", 1))
    assert calls_heard(ward, ward_poll) == ["C001"]
    assert calls_heard(hall, hall_poll) == ["A001"]


def test_a_single_hall_needs_no_prefix_nor_a_matching_site_code(app: Flask) -> None:
    """One site: every screen and route serves it, even when SITE_CODE names another code
    (an install seeded under its own); a second site makes SITE_CODE matter again."""
    app.config["SITE_CODE"] = "ten-khac"
    client = app.test_client()
    assert client.get("/kiosk/api/state").json["site"]["code"] == "main"
    assert client.get("/api/v1/board").json["site"]["code"] == "main"
    add_site_2(app)
    assert client.get("/api/v1/board").json["error"] == "not_found"


def test_a_fixed_seat_belongs_to_its_site(app: Flask, client: FlaskClient) -> None:
    """COUNTER_ASSIGNMENTS saved for ward 2 pins the officer to ward 2's counter 2 (counter
    numbers repeat across sites); at the hall, with no pin of its own, they sit anywhere."""
    add_site_2(app)
    with app.app_context():
        ward = db.session.scalar(sa.select(Site.id).where(Site.code == SITE2))
        settings.update_settings(
            {"COUNTER_ASSIGNMENTS": {"canbo1": 2}}, actor_id=None, site_id=ward
        )
    login(client, "canbo1")
    at_ward = client.post(
        f"/api/v1/counters/{site_counter(app, SITE2, 1)}/call-next",
        headers=bearer(client, "canbo1"),
    )
    assert at_ward.status_code == 403 and at_ward.json["error"] == "counter_not_assigned"
    assert client.get(f"/s/{SITE2}/counter/").headers["Location"].endswith(f"/s/{SITE2}/counter/2")
    at_hall = client.post(
        f"/api/v1/counters/{site_counter(app, 'main', 1)}/call-next",
        headers=bearer(client, "canbo1"),
    )
    assert at_hall.status_code == 409 and at_hall.json["error"] == "queue_empty"  # let in
