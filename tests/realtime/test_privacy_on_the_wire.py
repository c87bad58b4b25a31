"""What a stranger on the hall's Wi-Fi hears: public namespaces carry the number, its area and
counter, never a dossier code, a priority category, a note or a token; staff rooms get it all."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from flask import Flask
from flask_socketio import SocketIOTestClient

from motcua import realtime
from motcua.extensions import socketio
from tests.realtime.conftest import events

DOSSIER, NOTE = "000.00.01.H01-PRIVATE", "ghi chú riêng"
SECRETS = (DOSSIER, NOTE, "elderly", "Người cao tuổi")


def test_public_rooms_hear_only_what_the_hall_shows(
    app: Flask,
    console: Callable[..., SocketIOTestClient],
    display: Callable[..., SocketIOTestClient],
    make_ticket: Any,
) -> None:
    """A priority ticket called, transferred with a note, called again and finished with a
    dossier code: display, kiosk and an unpaired tablet get none of it; the console all."""
    first = make_ticket("A", priority="elderly")
    board = display()
    kiosk = socketio.test_client(app, namespace="/kiosk", auth={"kiosk": "sanh-1"})
    tablet = socketio.test_client(app, namespace="/rating", auth={"counter": 1})
    owner = socketio.test_client(app, namespace="/kiosk", auth={"token": first.token})
    desk = console(1)
    for client, ns in (
        (board, "/display"),
        (kiosk, "/kiosk"),
        (tablet, "/rating"),
        (owner, "/kiosk"),
    ):
        events(client, ns)
    ack = desk.emit("call_next", {}, namespace="/counter", callback=True)
    assert ack["ok"] and ack["ticket"]["priority_label"] == "Người cao tuổi"
    assert desk.emit(
        "transfer", {"to_counter": 2, "note": NOTE}, namespace="/counter", callback=True
    )["ok"]
    desk2 = console(2)
    assert desk2.emit("call_next", {}, namespace="/counter", callback=True)["ok"]
    done = desk2.emit("finish", {"dossier_code": DOSSIER}, namespace="/counter", callback=True)
    assert done["ok"] and done["ticket"]["dossier_code"] == DOSSIER

    heard = {
        "/display": events(board, "/display"),
        "/kiosk": events(kiosk, "/kiosk"),
        "/rating": events(tablet, "/rating"),
    }
    for ns, facts in heard.items():
        assert {f["ticket"]["code"] for f in facts if "ticket" in f} == {first.code}, ns
        text = json.dumps(facts, ensure_ascii=False)
        for secret in SECRETS:
            assert secret not in text, (ns, secret)
        for fact in facts:
            assert set(fact.get("ticket", {})) <= realtime.PUBLIC_TICKET_FIELDS
            assert "token" not in json.dumps(fact)
    staff = json.dumps(events(desk2, "/counter"), ensure_ascii=False)
    assert DOSSIER in staff and "Người cao tuổi" in staff
    heard_by_owner = events(owner, "/kiosk")
    # its ticket's facts, and its place in the queue (queue_position: numbers only)
    mine = [f for f in heard_by_owner if "ticket" in f]
    assert mine and all(f["ticket"]["token"] == first.token for f in mine)
    assert all(
        set(f)
        <= {"people_ahead", "estimated_wait_minutes", "wait_low_minutes", "wait_high_minutes"}
        for f in heard_by_owner
        if "ticket" not in f
    )
    assert DOSSIER not in json.dumps(heard_by_owner, ensure_ascii=False)  # no dossier
    assert any(f["ticket"].get("priority_label") for f in mine)  # its own priority, yes
    status = app.test_client().get(f"/api/v1/tickets/{first.token}").json
    assert status["dossier_code"] is None and status["status"] == "finished"
    page = app.test_client().get(f"/t/{first.token}").get_data(as_text=True)
    assert DOSSIER not in page
    for client, ns in ((kiosk, "/kiosk"), (tablet, "/rating"), (owner, "/kiosk")):
        client.disconnect(ns)
