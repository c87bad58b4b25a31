"""The public REST API: answers, errors, idempotency, auth and the OpenAPI document."""

from __future__ import annotations

from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient

from tests.conftest import bearer, counter_id, login


def issue(client: FlaskClient, service: str = "A", key: str | None = None, **body: Any) -> Any:
    """POST /api/v1/tickets."""
    headers = {"Idempotency-Key": key} if key else {}
    return client.post("/api/v1/tickets", json={"service": service, **body}, headers=headers)


def test_services_lists_active_areas_with_counters(client: FlaskClient) -> None:
    """GET /services: the 8 default areas, each with its counters and waiting count."""
    issue(client, "A")
    r = client.get("/api/v1/services")
    assert r.status_code == 200
    areas = {a["prefix"]: a for a in r.json}
    assert sorted(areas) == list("ABCDEFGH")
    assert areas["A"]["name"] == "Tư pháp – Hộ tịch"
    assert (areas["A"]["counters"], areas["A"]["waiting"]) == ([1, 2], 1)


def test_create_ticket_answers_201_with_status_url(client: FlaskClient) -> None:
    """POST /tickets: code, unguessable token, status URL, people ahead, estimated wait."""
    first = issue(client, "A")
    second = issue(client, "tuphap")
    assert first.status_code == 201 and second.status_code == 201
    body = second.json
    assert body["code"] == "A002"
    assert body["status_url"] == f"http://hall.test/t/{body['token']}"
    assert body["people_ahead"] == 1
    # Counters 1 and 2 serve A and are open and free: it is called at once ("dưới 5 phút").
    assert body["estimated_wait_minutes"] == 0
    assert (body["wait_low_minutes"], body["wait_high_minutes"]) == (0, 5)
    assert body["status"] == "waiting"


def test_idempotency_key_header_gives_one_ticket(client: FlaskClient) -> None:
    """A double-tapped kiosk: the same key twice → the same ticket, 201 then 200."""
    a = issue(client, "B", key="kiosk1-tap-42")
    b = issue(client, "B", key="kiosk1-tap-42")
    assert (a.status_code, b.status_code) == (201, 200)
    assert a.json["token"] == b.json["token"] and b.json["created"] is False
    assert client.get("/api/v1/services").json[1]["waiting"] == 1


def test_get_ticket_by_token(client: FlaskClient) -> None:
    """GET /tickets/{token} shows the ticket; an unknown token is a Vietnamese 404."""
    token = issue(client, "C").json["token"]
    r = client.get(f"/api/v1/tickets/{token}")
    assert (r.status_code, r.json["code"], r.json["area_name"]) == (
        200,
        "C001",
        "Đất đai – Xây dựng – Đô thị",
    )
    missing = client.get("/api/v1/tickets/khong-co")
    assert missing.status_code == 404
    assert missing.json == {"error": "ticket_not_found", "message": "Không tìm thấy số thứ tự này."}


@pytest.mark.parametrize(
    ("body", "status", "error"),
    [
        ({"service": "Z"}, 404, "service_not_found"),
        ({}, 422, "invalid_request"),
        ({"service": "A", "priority": "vip"}, 400, "invalid_priority"),
        ({"service": "A", "extra": 1}, 422, "invalid_request"),
        ({"service": 12}, 422, "invalid_request"),
    ],
)
def test_bad_ticket_requests_get_clear_errors(
    client: FlaskClient, body: dict[str, Any], status: int, error: str
) -> None:
    """Malformed or impossible requests: the right status, a code and a Vietnamese message."""
    r = client.post("/api/v1/tickets", json=body)
    assert r.status_code == status
    assert r.json["error"] == error
    assert any(
        ch in r.json["message"] for ch in "ăâđêôơưạảấầẩẫậắằẳẵặẹẻẽếềểễệỉịọỏốồổỗộớờởỡợụủứừửữựỳỵỷỹ"
    )


def test_non_json_body_is_refused_cleanly(client: FlaskClient) -> None:
    """A body that is not JSON never causes a 500."""
    r = client.post(
        "/api/v1/tickets", data="service=A", content_type="application/x-www-form-urlencoded"
    )
    assert r.status_code == 422
    assert r.json["error"] == "invalid_request"


def test_token_endpoint(client: FlaskClient) -> None:
    """Username + password → bearer token; a wrong password → 401 in Vietnamese."""
    ok = client.post(
        "/api/v1/auth/token", json={"username": "canbo1", "password": "mat-khau-kiem-thu"}
    )
    assert ok.status_code == 200 and ok.json["token_type"] == "Bearer"
    bad = client.post("/api/v1/auth/token", json={"username": "canbo1", "password": "sai"})
    assert bad.status_code == 401
    assert bad.json["message"] == "Tên đăng nhập hoặc mật khẩu không đúng."


def test_counter_actions_need_an_officer(app: Flask, client: FlaskClient) -> None:
    """No token → 401; a leader's token → 403; a forged token → 401."""
    c1 = counter_id(app, 1)
    assert client.post(f"/api/v1/counters/{c1}/call-next").status_code == 401
    leader = bearer(client, "lanhdao")
    assert client.post(f"/api/v1/counters/{c1}/call-next", headers=leader).status_code == 403
    forged = {"Authorization": "Bearer eyJ1aWQiOjF9.forged.sig"}
    assert client.post(f"/api/v1/counters/{c1}/call-next", headers=forged).status_code == 401


def test_counter_flow_over_the_api(app: Flask, client: FlaskClient) -> None:
    """call-next, recall, no-show, call again, finish with mã hồ sơ, transfer — via bearer."""
    c1, c2 = counter_id(app, 1), counter_id(app, 2)
    auth = bearer(client)
    issue(client, "A")
    issue(client, "A")
    empty_first = client.post(f"/api/v1/counters/{counter_id(app, 4)}/call-next", headers=auth)
    assert empty_first.status_code == 409 and empty_first.json["error"] == "queue_empty"
    called = client.post(f"/api/v1/counters/{c1}/call-next", headers=auth)
    assert (called.status_code, called.json["code"], called.json["counter_number"]) == (
        200,
        "A001",
        1,
    )
    assert client.post(f"/api/v1/counters/{c1}/recall", headers=auth).json["call_count"] == 2
    assert client.post(f"/api/v1/counters/{c1}/no-show", headers=auth).json["status"] == "waiting"
    assert client.post(f"/api/v1/counters/{c1}/call-next", headers=auth).json["code"] == "A002"
    done = client.post(
        f"/api/v1/counters/{c1}/finish", json={"dossier_code": "000.00.01.H01"}, headers=auth
    )
    assert (done.json["status"], done.json["dossier_code"]) == ("finished", "000.00.01.H01")
    client.post(f"/api/v1/counters/{c2}/call-next", headers=auth)
    moved = client.post(
        f"/api/v1/counters/{c2}/transfer",
        json={"to_service": "B", "note": "Chứng thực"},
        headers=auth,
    )
    assert (moved.json["code"], moved.json["area_prefix"]) == ("A001", "B")
    no_target = client.post(f"/api/v1/counters/{c2}/transfer", json={}, headers=auth)
    assert no_target.status_code == 422


def test_counter_actions_work_with_a_browser_session(app: Flask, client: FlaskClient) -> None:
    """A logged-in console (session cookie) may use the same endpoints."""
    issue(client, "B")
    assert login(client).status_code == 302
    r = client.post(f"/api/v1/counters/{counter_id(app, 3)}/call-next")
    assert (r.status_code, r.json["code"]) == (200, "B001")


def test_unknown_counter_is_404(client: FlaskClient) -> None:
    """A counter id that does not exist."""
    r = client.post("/api/v1/counters/999/call-next", headers=bearer(client))
    assert (r.status_code, r.json["error"]) == (404, "counter_not_found")


def test_board_snapshot_has_sequence_and_filters(app: Flask, client: FlaskClient) -> None:
    """GET /board: seq rises with every change; ?counters= limits the screen."""
    s0 = client.get("/api/v1/board").json["seq"]
    issue(client, "A")
    client.post(f"/api/v1/counters/{counter_id(app, 1)}/call-next", headers=bearer(client))
    board = client.get("/api/v1/board").json
    assert board["seq"] == s0 + 2
    assert board["calls"][0]["code"] == "A001" and board["calls"][0]["counter"] == 1
    only = client.get("/api/v1/board?counters=3,4").json
    assert [c["number"] for c in only["counters"]] == [3, 4]
    assert only["calls"] == []
    assert client.get("/api/v1/board?counters=x").status_code == 422


def test_openapi_document_is_generated_from_the_schemas(client: FlaskClient) -> None:
    """/api/v1/openapi.json lists every route with its request schema."""
    spec = client.get("/api/v1/openapi.json").json
    paths = spec["paths"]
    for path in (
        "/api/v1/services",
        "/api/v1/tickets",
        "/api/v1/tickets/{token}",
        "/api/v1/auth/token",
        "/api/v1/counters/{counter_id}/call-next",
        "/api/v1/counters/{counter_id}/recall",
        "/api/v1/counters/{counter_id}/no-show",
        "/api/v1/counters/{counter_id}/finish",
        "/api/v1/counters/{counter_id}/transfer",
        "/api/v1/board",
    ):
        assert path in paths, path
    body = paths["/api/v1/tickets"]["post"]["requestBody"]["content"]["application/json"]
    schema_ref = body["schema"]["$ref"].rsplit("/", 1)[-1]
    assert spec["components"]["schemas"][schema_ref]["required"] == ["service"]
    assert "bearerAuth" in spec["components"]["securitySchemes"]


def test_html_errors_are_vietnamese_pages(client: FlaskClient) -> None:
    """A missing page in a browser: a Vietnamese page, no stack trace."""
    r = client.get("/khong-ton-tai")
    assert r.status_code == 404
    text = r.get_data(as_text=True)
    assert "Không tìm thấy" in text and "Traceback" not in text


def test_login_page_rejects_wrong_password(client: FlaskClient) -> None:
    """The login form shows a Vietnamese error and stays on the page."""
    r = login(client, password="sai-mat-khau")
    assert r.status_code == 401
    assert "Tên đăng nhập hoặc mật khẩu không đúng." in r.get_data(as_text=True)
