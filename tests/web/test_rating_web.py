"""The rating tablet page, the /rating namespace and the phone rating endpoints."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
import sqlalchemy as sa
from flask import Flask
from flask.testing import FlaskClient
from flask_socketio import SocketIOTestClient

from db import db
from db.models import Rating, TicketEvent
from motcua.extensions import socketio
from motcua.services import tickets
from tests.conftest import counter_id


def finished_ticket(app: Flask, number: int = 1) -> Any:
    """A ticket issued, called and finished at a counter just now (real time)."""
    with app.app_context():
        view = tickets.issue_ticket("A")
        cid = counter_id(app, number)
        tickets.call_next(cid)
        tickets.finish(cid)
        return view


@pytest.fixture
def tablet(app: Flask) -> Iterator[Any]:
    """Factory: a rating tablet connected to /rating for a counter number."""
    made: list[SocketIOTestClient] = []

    def make(number: int = 1) -> SocketIOTestClient:
        client = socketio.test_client(app, namespace="/rating", auth={"counter": number})
        assert client.is_connected("/rating")
        made.append(client)
        return client

    yield make
    for client in made:
        if client.is_connected("/rating"):
            client.disconnect("/rating")


def test_tablet_page_bound_to_a_counter(client: FlaskClient) -> None:
    """?counter=N renders the tablet with the question and the scale; unknown counters 404."""
    page = client.get("/rating/?counter=1")
    html = page.get_data(as_text=True)
    assert page.status_code == 200
    assert "Ông/Bà đánh giá như thế nào về thái độ công chức" in html
    assert "QUẦY 1" in html and "PHƯỜNG BA ĐÌNH" in html
    assert '"counter": 1,' in html and "R\\u1ea5t h\\u00e0i l\\u00f2ng" in html  # JSON-escaped
    assert client.get("/rating/?counter=99").status_code == 404
    assert client.get("/rating/?counter=abc").status_code == 404
    setup = client.get("/rating/").get_data(as_text=True)
    assert 'data-screen="setup"' in setup and 'data-counter="6"' in setup


def test_tablet_socket_arms_rates_once_and_skips(app: Flask, tablet: Any) -> None:
    """A finish at its counter reaches the tablet; it rates once; another counter's cannot."""
    mine, other = tablet(1), tablet(2)
    snap = mine.emit("snapshot", {}, namespace="/rating", callback=True)
    assert snap["ok"] and snap["counter"]["number"] == 1 and snap["pending"] is None
    view = finished_ticket(app)
    facts = [r for r in mine.get_received("/rating") if r["name"] == "ticket_finished"]
    assert facts and facts[-1]["args"][0]["counter_id"] == counter_id(app, 1)
    assert "token" not in facts[-1]["args"][0]["ticket"]
    snap = mine.emit("snapshot", {}, namespace="/rating", callback=True)
    assert snap["pending"]["code"] == view.code
    refused = other.emit(
        "rate", {"ticket": view.uuid, "level": 3}, namespace="/rating", callback=True
    )
    assert refused == {"ok": False, "error": "ticket_not_found", "message": refused["message"]}
    bad = mine.emit("rate", {"ticket": view.uuid, "level": 9}, namespace="/rating", callback=True)
    assert bad["ok"] is False and bad["error"] == "invalid_request"
    ack = mine.emit(
        "rate",
        {"ticket": view.uuid, "level": 1, "reasons": ["Chờ lâu"], "comment": "Đông quá"},
        namespace="/rating",
        callback=True,
    )
    assert ack["ok"] and ack["rating"]["label"] == "Không hài lòng"
    assert ack["rating"]["reasons"] == ["Chờ lâu"]
    again = mine.emit("rate", {"ticket": view.uuid, "level": 3}, namespace="/rating", callback=True)
    assert again["error"] == "already_rated"
    rated = [r for r in mine.get_received("/rating") if r["name"] == "ticket_rated"]
    assert rated and rated[-1]["args"][0]["source"] == "tablet"
    assert mine.emit("snapshot", {}, namespace="/rating", callback=True)["pending"] is None

    unrated = finished_ticket(app)
    skip = mine.emit("skip", {"ticket": unrated.uuid}, namespace="/rating", callback=True)
    assert skip == {"ok": True, "recorded": True, "rated": False}
    with app.app_context():
        kinds = db.session.scalars(sa.select(TicketEvent.kind)).all()
        assert kinds.count("rating_skipped") == 1
        assert db.session.scalar(sa.select(sa.func.count()).select_from(Rating)) == 1


def test_tablet_connection_needs_a_real_counter(app: Flask) -> None:
    """No counter, or one that does not exist: the connection is refused."""
    for auth in ({}, {"counter": 99}, {"counter": True}):
        client = socketio.test_client(app, namespace="/rating", auth=auth)
        assert not client.is_connected("/rating")


def test_phone_rating_by_the_ticket_token(app: Flask, client: FlaskClient) -> None:
    """The QR's page: closed before the finish, open after, one rating, then "rated"."""
    with app.app_context():
        view = tickets.issue_ticket("A")
    state = client.get(f"/rating/t/{view.token}").get_json()
    assert state["state"] == "closed" and state["texts"]["closed"].startswith("Đã hết thời gian")
    early = client.post(f"/rating/t/{view.token}", json={"level": 3})
    assert early.status_code == 409 and early.get_json()["error"] == "rating_closed"
    with app.app_context():
        cid = counter_id(app, 1)
        tickets.call_next(cid)
        tickets.finish(cid)
    state = client.get(f"/rating/t/{view.token}").get_json()
    assert state["state"] == "open" and len(state["scale"]["levels"]) == 3
    assert client.post(f"/rating/t/{view.token}", json={"level": 0}).status_code == 422
    assert client.post(f"/rating/t/{view.token}", data="level=3").status_code in (400, 422)
    done = client.post(f"/rating/t/{view.token}", json={"level": 2})
    assert done.status_code == 201 and done.get_json()["rating"]["source"] == "phone"
    twice = client.post(f"/rating/t/{view.token}", json={"level": 3})
    assert twice.status_code == 409 and twice.get_json()["error"] == "already_rated"
    assert client.get(f"/rating/t/{view.token}").get_json()["rated"]["label"] == "Hài lòng"
    assert client.get("/rating/t/khong-co-so-nay").status_code == 404
    first = counter_id(app, 1)
    with app.app_context():
        rating = db.session.scalar(sa.select(Rating))
        assert (rating.level, rating.source, rating.counter_id) == (2, "phone", first)


def test_status_page_carries_the_rating_slot(app: Flask, client: FlaskClient) -> None:
    """The ticket's status page loads the phone rating into its marked slot."""
    view = finished_ticket(app)
    html = client.get(f"/t/{view.token}").get_data(as_text=True)
    assert f'data-rating-url="/rating/t/{view.token}"' in html
    assert "/rating/static/phone.js" in html and "/rating/static/rating-common.js" in html


def test_pairing_required_refuses_an_unpaired_tablet(app: Flask, client: FlaskClient) -> None:
    """With REQUIRE_DEVICE_PAIRING on, the counter cannot be picked by the address."""
    app.config["REQUIRE_DEVICE_PAIRING"] = True
    assert client.get("/rating/?counter=1").status_code == 401
    refused = socketio.test_client(app, namespace="/rating", auth={"counter": 1})
    assert not refused.is_connected("/rating")


def test_officer_photo_on_the_tablet(app: Flask, tablet: Any, tmp_path: Any) -> None:
    """A photo stored by the administration (instance/photos) is served to the tablet."""
    from db.models import User

    app.instance_path = str(tmp_path)
    folder = tmp_path / "photos"
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "lan.png").write_bytes(b"\x89PNG\r\n\x1a\n" + b"0" * 32)
    with app.app_context():
        lan = db.session.scalar(sa.select(User).where(User.username == "canbo1"))
        lan.photo = "lan.png"
        lan_id = lan.id
        db.session.commit()
        cid = counter_id(app, 1)
        tickets.issue_ticket("A")
        tickets.call_next(cid, officer_id=lan_id)
    snap = tablet(1).emit("snapshot", {}, namespace="/rating", callback=True)
    assert snap["officer"]["photo"] == f"/rating/photo/{lan_id}"
    client = app.test_client()
    photo = client.get(f"/rating/photo/{lan_id}")
    assert photo.status_code == 200 and photo.data.startswith(b"\x89PNG")
    assert client.get("/rating/photo/9999").status_code == 404
