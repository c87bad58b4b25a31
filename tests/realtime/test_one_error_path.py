"""One validation, one error mapping: a payload refused on Socket.IO is refused the same on REST."""

from __future__ import annotations

import re
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient

from motcua.extensions import socketio
from tests.browser.conftest import LiveServer, live_server  # noqa: F401  (the fixture)
from tests.conftest import PASSWORD, bearer, counter_id, login

# (verb, socket payload, REST path under /api/v1/counters/<id>, REST body)
MALFORMED = [
    ("call_ticket", {}, "call", {}),
    ("call_ticket", {"code": 12}, "call", {"code": 12}),
    ("finish", {"dossier_code": 123}, "finish", {"dossier_code": 123}),
    ("finish", {"mã": "x"}, "finish", {"mã": "x"}),
    ("transfer", {"note": "?"}, "transfer", {"note": "?"}),
    ("transfer", {"to_counter": "hai"}, "transfer", {"to_counter": "hai"}),
    ("pause", {"paused": "yes"}, "pause", {"paused": "yes"}),
    ("pause", "true", "pause", "true"),
]


@pytest.mark.parametrize(("verb", "payload", "path", "body"), MALFORMED)
def test_a_malformed_counter_payload_gets_the_rest_code(
    app: Flask, verb: str, payload: Any, path: str, body: Any
) -> None:
    """The console's verb and the REST route load with one schema: same code, same message."""
    http = app.test_client()
    login(http, "canbo1")
    cid = counter_id(app, 1)
    desk = socketio.test_client(
        app, namespace="/counter", flask_test_client=http, auth={"counter_id": cid}
    )
    ack = desk.emit(verb, payload, namespace="/counter", callback=True)
    rest = app.test_client().post(
        f"/api/v1/counters/{cid}/{path}", json=body, headers=bearer(app.test_client())
    )
    assert ack["ok"] is False
    assert rest.status_code == 422
    assert (ack["error"], ack["message"]) == (rest.json["error"], rest.json["message"])
    assert ack["error"] == "invalid_request"
    desk.disconnect("/counter")


@pytest.mark.parametrize(
    ("verb", "payload"),
    [("finish", {"dossier_code": "H01\x00"}), ("transfer", {"to_service": "B", "note": "\x1b[2J"})],
)
def test_control_characters_are_refused_alike_on_both_doors(
    app: Flask, verb: str, payload: dict[str, Any]
) -> None:
    """A NUL or an escape in a verb's payload: control_characters, as REST answers it."""
    http = app.test_client()
    login(http, "canbo1")
    cid = counter_id(app, 1)
    desk = socketio.test_client(
        app, namespace="/counter", flask_test_client=http, auth={"counter_id": cid}
    )
    ack = desk.emit(verb, payload, namespace="/counter", callback=True)
    rest = app.test_client().post(
        f"/api/v1/counters/{cid}/{verb}", json=payload, headers=bearer(app.test_client())
    )
    assert rest.status_code == 422
    assert {"ok": False, **rest.json} == ack
    assert ack["error"] == "control_characters"
    desk.disconnect("/counter")


def test_a_domain_refusal_reads_the_same_through_both_doors(app: Flask) -> None:
    """queue_empty from the service: the ack carries REST's code and Vietnamese message."""
    http = app.test_client()
    login(http, "canbo1")
    cid = counter_id(app, 1)
    desk = socketio.test_client(
        app, namespace="/counter", flask_test_client=http, auth={"counter_id": cid}
    )
    ack = desk.emit("call_next", {}, namespace="/counter", callback=True)
    rest = app.test_client().post(
        f"/api/v1/counters/{cid}/call-next", headers=bearer(app.test_client())
    )
    assert rest.status_code == 409
    assert {"ok": False, **rest.json} == ack
    assert "đang chờ" in ack["message"]
    desk.disconnect("/counter")


@pytest.mark.parametrize(
    "answer", [{"level": "năm"}, {"level": True}, {"level": 4, "reasons": "chậm"}, {}]
)
def test_a_malformed_rating_is_refused_alike_by_the_tablet_and_the_phone(
    app: Flask, client: FlaskClient, answer: dict[str, Any]
) -> None:
    """The tablet's ``rate`` and the phone's POST share RatingSchema: invalid_request on both."""
    tablet = socketio.test_client(app, namespace="/rating", auth={"counter": 1})
    ack = tablet.emit("rate", {"ticket": "t", **answer}, namespace="/rating", callback=True)
    phone = client.post("/rating/t/any-token", json=answer)
    assert phone.status_code == 422
    assert (ack["ok"], ack["error"]) == (False, phone.json["error"]) == (False, "invalid_request")
    tablet.disconnect("/rating")


@pytest.mark.parametrize("body", [{"service": 12}, {"service": "A", "extra": 1}, ["A"]])
def test_the_kiosk_and_the_api_refuse_a_bad_ticket_body_alike(
    client: FlaskClient, body: Any
) -> None:
    """POST /kiosk/api/tickets loads TicketCreateSchema like POST /api/v1/tickets."""
    kiosk = client.post("/kiosk/api/tickets", json=body, headers={"Idempotency-Key": "k"})
    api = client.post("/api/v1/tickets", json=body)
    assert kiosk.status_code == api.status_code == 422
    assert kiosk.json["error"] == api.json["error"] == "invalid_request"


def test_each_namespace_keeps_its_own_state_on_one_connection(live_server: LiveServer) -> None:  # noqa: F811
    """A console and a board on ONE real connection share its session, not their state.

    Flask-SocketIO keeps one session per Engine.IO connection, shared by its namespaces; the
    test client opens a fresh environ per namespace, so this needs a real server and client.
    """
    import requests
    import socketio as socketio_client

    http = requests.Session()
    page = http.get(live_server.url("/login")).text
    token = re.search(r'name="csrf_token" value="([^"]+)"', page)
    assert token is not None
    data = {"username": "canbo1", "password": PASSWORD, "csrf_token": token.group(1)}
    assert http.post(live_server.url("/login"), data=data).ok
    cookie = "; ".join(f"{k}={v}" for k, v in http.cookies.items())
    cid = live_server.call(lambda: counter_state_id(2))
    both = socketio_client.Client()
    both.connect(
        live_server.base_url,
        headers={"Cookie": cookie},
        auth={"counter_id": cid, "areas": "B"},
        namespaces=["/counter", "/display"],
        transports=["websocket"],
        wait_timeout=10,
    )
    try:
        desk = both.call("snapshot", {}, namespace="/counter", timeout=10)
        board = both.call("snapshot", {}, namespace="/display", timeout=10)
        assert desk["ok"] is True and desk["counter"]["number"] == 2, desk
        assert board["ok"] is True and [a["prefix"] for a in board["areas"]] == ["B"], board
    finally:
        both.disconnect()


def counter_state_id(number: int) -> int:
    """A counter's id by its number, through the console's own service."""
    from motcua.services import board

    found = [c["id"] for c in board.board_snapshot()["counters"] if c["number"] == number]
    return int(found[0])
