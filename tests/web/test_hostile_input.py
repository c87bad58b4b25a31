"""What a stranger on the hall's network sent by hand (issue 14), as regression tests: each once
answered 500 or was taken as something else; now each gets a clear 4xx (SQLite and PostgreSQL)."""

from __future__ import annotations

from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from itsdangerous import URLSafeTimedSerializer

from tests.conftest import bearer, counter_id

HUGE = 2**63  # one past SQLite's integer; far past PostgreSQL's
COUNTER_ROUTES = [
    ("call-next", None),
    ("call", {"code": "A001"}),
    ("recall", None),
    ("no-show", None),
    ("start", None),
    ("finish", {}),
    ("transfer", {"to_service": "B"}),
    ("pause", {"paused": True}),
]
DEEP = "[" * 100_000 + "]" * 100_000


@pytest.fixture
def hostile(any_app: Flask) -> FlaskClient:
    """A client of the app on SQLite, then on PostgreSQL."""
    return any_app.test_client()


def test_a_counter_id_beyond_any_integer_is_not_found(hostile: FlaskClient) -> None:
    """Every counter endpoint, the transfer's target and a walk-in's counter: 404 / 422."""
    auth = bearer(hostile)
    for action, body in COUNTER_ROUTES:
        r = hostile.post(f"/api/v1/counters/{HUGE}/{action}", json=body, headers=auth)
        assert r.status_code == 404, (action, r.status_code, r.json)
        assert r.json["error"] == "counter_not_found"
    app: Any = hostile.application
    hostile.post("/api/v1/tickets", json={"service": "A"})
    c1 = counter_id(app, 1)
    assert hostile.post(f"/api/v1/counters/{c1}/call-next", headers=auth).status_code == 200
    moved = hostile.post(f"/api/v1/counters/{c1}/transfer", json={"to_counter": HUGE}, headers=auth)
    assert moved.status_code == 422 and moved.json["error"] == "invalid_request"
    walk = hostile.post(
        "/api/v1/sessions/walkins", json={"area": "A", "counter": HUGE}, headers=auth
    )
    assert walk.status_code == 422


def test_json_nested_100k_deep_is_malformed_not_a_crash(hostile: FlaskClient) -> None:
    """100,000 nested brackets on every JSON door: 400 (or 422 for a bundle), never 500."""
    admin, officer = bearer(hostile, "admin"), bearer(hostile)
    for path, headers in (
        ("/api/v1/tickets", {}),
        ("/api/v1/auth/token", {}),
        ("/api/v1/sessions/walkins", officer),
        ("/api/v1/sessions/import", admin),
        ("/kiosk/api/tickets", {}),
    ):
        r = hostile.post(path, data=DEEP, content_type="application/json", headers=headers)
        assert r.status_code in (400, 422), (path, r.status_code)
    shallow = "[" * 20 + "]" * 20
    r = hostile.post("/api/v1/tickets", data=shallow, content_type="application/json")
    assert r.status_code == 422  # parsed (not too deep), then refused by the schema


def test_signed_tokens_with_malformed_payloads_are_401(any_app: Flask) -> None:
    """Correctly signed bearer tokens that issue_api_token never makes: 401, not 500."""
    client = any_app.test_client()
    signer = URLSafeTimedSerializer(any_app.config["SECRET_KEY"], salt="motcua-api-token")
    for payload in ([1], {"uid": "abc"}, {"uid": 10**30}, {"uid": -1}, {"uid": True}, "x", None):
        auth = {"Authorization": f"Bearer {signer.dumps(payload)}"}
        r = client.post(f"/api/v1/counters/{counter_id(any_app, 1)}/call-next", headers=auth)
        assert r.status_code == 401, (payload, r.status_code)


def test_control_characters_are_refused_in_vietnamese(hostile: FlaskClient) -> None:
    """NUL and other controls in a body, a query or a form: 422 with a clear message."""
    auth = bearer(hostile)
    app: Any = hostile.application
    c1 = counter_id(app, 1)
    hostile.post("/api/v1/tickets", json={"service": "A"})
    hostile.post(f"/api/v1/counters/{c1}/call-next", headers=auth)
    for path, body in (
        (f"/api/v1/counters/{c1}/finish", {"dossier_code": "H01\x00"}),
        (f"/api/v1/counters/{c1}/transfer", {"to_service": "B", "note": "a\x07b"}),
        ("/api/v1/tickets", {"service": "A", "kiosk": "sanh\x00"}),
    ):
        r = hostile.post(path, json=body, headers=auth)
        assert r.status_code == 422 and r.json["error"] == "control_characters", path
        assert "ký tự điều khiển" in r.json["message"]
    assert hostile.get("/kiosk/api/state?kiosk=a%00b").status_code == 422
    form = hostile.post("/login", data={"username": "canbo1\x00", "password": "x"})
    assert form.status_code == 422
    ok = hostile.post(f"/api/v1/counters/{c1}/finish", json={"dossier_code": "H01"}, headers=auth)
    assert ok.status_code == 200  # tabs and plain text pass


def test_strict_types(hostile: FlaskClient) -> None:
    """1.5 is not counter 1, "2" is not 2, "yes" and 1 are not true."""
    auth = bearer(hostile)
    app: Any = hostile.application
    c1 = counter_id(app, 1)
    for body in ({"paused": "yes"}, {"paused": 1}, {"paused": "true"}):
        assert (
            hostile.post(f"/api/v1/counters/{c1}/pause", json=body, headers=auth).status_code == 422
        )
    hostile.post("/api/v1/tickets", json={"service": "A"})
    hostile.post(f"/api/v1/counters/{c1}/call-next", headers=auth)
    for target in (1.5, "2", True):
        r = hostile.post(
            f"/api/v1/counters/{c1}/transfer", json={"to_counter": target}, headers=auth
        )
        assert r.status_code == 422, target
    walk = hostile.post("/api/v1/sessions/walkins", json={"area": "A", "rating": 2.5}, headers=auth)
    assert walk.status_code == 422


def test_authentication_comes_before_validation(client: FlaskClient, app: Flask) -> None:
    """An anonymous caller with a bad body learns only that it must sign in (401, not 422)."""
    c1 = counter_id(app, 1)
    for path, body in (
        (f"/api/v1/counters/{c1}/pause", {"paused": "yes"}),
        (f"/api/v1/counters/{c1}/transfer", {}),
        ("/api/v1/sessions/walkins", {"nope": 1}),
        ("/api/v1/tickets/abc/cancel", {}),
        ("/api/v1/sessions/import?dry_run=maybe", None),
    ):
        assert client.post(path, json=body).status_code == 401, path


def test_method_not_allowed_names_the_allowed_ones(client: FlaskClient) -> None:
    """TRACE or DELETE: 405 with an Allow header, in JSON under /api/ and as a page elsewhere."""
    r = client.open("/api/v1/tickets", method="TRACE")
    assert r.status_code == 405 and "POST" in r.headers["Allow"]
    assert r.json["error"] == "method_not_allowed"
    page = client.delete("/login")
    assert page.status_code == 405 and "GET" in page.headers["Allow"]


def test_request_bodies_are_small_except_the_session_import(client: FlaskClient) -> None:
    """Over 1 MB: 413 before anything is read, even anonymous; the import takes up to 64 MB."""
    big = b"{" + b" " * (2 * 1024 * 1024) + b"}"
    r = client.post("/api/v1/tickets", data=big, content_type="application/json")
    assert r.status_code == 413 and r.json["error"] == "too_large"
    admin = bearer(client, "admin")
    bundle = client.post(
        "/api/v1/sessions/import", data=big, content_type="application/json", headers=admin
    )
    assert bundle.status_code == 422 and bundle.json["error"] == "bundle_refused"  # read, judged


def test_idempotency_key_reused_for_another_request_is_422(client: FlaskClient) -> None:
    """The same key and body: the same ticket; the same key, another body: 422; too long: 422."""
    key = {"Idempotency-Key": "tap-0001"}
    first = client.post("/api/v1/tickets", json={"service": "A"}, headers=key)
    again = client.post("/api/v1/tickets", json={"service": "A"}, headers=key)
    assert (first.status_code, again.status_code) == (201, 200)
    assert again.json["code"] == first.json["code"]
    other = client.post("/api/v1/tickets", json={"service": "B"}, headers=key)
    assert other.status_code == 422 and other.json["error"] == "idempotency_key_reused"
    prio = client.post("/api/v1/tickets", json={"service": "A", "priority": "elderly"}, headers=key)
    assert prio.status_code == 422
    long = {"Idempotency-Key": "k" * 129}
    refused = client.post("/api/v1/tickets", json={"service": "A"}, headers=long)
    assert refused.status_code == 422 and refused.json["details"]["field"] == "idempotency_key"
    cut = {"Idempotency-Key": "k" * 128}
    assert client.post("/api/v1/tickets", json={"service": "A"}, headers=cut).status_code == 201


def test_openapi_documents_pause_and_the_import_body(client: FlaskClient) -> None:
    """Every operation answers a documented 200/201, and the import says what body it takes."""
    spec = client.get("/api/v1/openapi.json").json
    pause = spec["paths"]["/api/v1/counters/{counter_id}/pause"]["post"]
    assert "schema" in pause["responses"]["200"]["content"]["application/json"]
    body = spec["paths"]["/api/v1/sessions/import"]["post"]["requestBody"]["content"]
    assert {"application/json", "multipart/form-data"} <= set(body)
    for path, methods in spec["paths"].items():
        for method, op in methods.items():
            if method == "parameters":
                continue
            assert {"200", "201"} & set(op["responses"]), (method, path)
