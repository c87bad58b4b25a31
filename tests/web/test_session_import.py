"""Uploading a session's records over HTTP into the hall, on SQLite and PostgreSQL."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from flask import Flask

from motcua.services import session_records, sessions
from tests.conftest import bearer
from tests.support.sessions import (
    SAT,
    SAT_DAY,
    World,
    close_app,
    counts,
    hall_copy,
    open_laptop,
    plan_and_kit,
    run_session,
    shared_world,
)

IMPORT = "/api/v1/sessions/import"


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> World:
    """Made once: a hall that planned a mobile session; its laptop's bundle after the session."""
    return shared_world(tmp_path_factory)


@pytest.fixture
def hall(world: World, tmp_path: Path) -> Iterator[Flask]:
    """A private copy of the world's hall, before any import."""
    app = hall_copy(world, tmp_path)
    yield app
    close_app(app)


def test_upload_needs_an_administrator(hall: Flask, world: World) -> None:
    """No token: 401; an officer: 403; nothing imported either way."""
    client = hall.test_client()
    before = counts(hall)
    assert client.post(IMPORT, data=world.bundle).status_code == 401
    r = client.post(IMPORT, data=world.bundle, headers=bearer(client, "canbo1"))
    assert r.status_code == 403
    assert counts(hall) == before


def test_upload_as_a_file_field_with_a_dry_run_first(hall: Flask, world: World) -> None:
    """multipart ``bundle`` works; ``?dry_run=1`` reports what would be added and writes nothing."""
    import io

    client = hall.test_client()
    auth = bearer(client, "admin")
    before = counts(hall)
    dry = client.post(
        IMPORT + "?dry_run=1",
        data={"bundle": (io.BytesIO(world.bundle), "du-lieu.json")},
        headers=auth,
        content_type="multipart/form-data",
    )
    assert dry.status_code == 200, dry.json
    assert dry.json["dry_run"] is True and dry.json["added"]["tickets"] == 7
    assert counts(hall) == before
    real = client.post(
        IMPORT,
        data={"bundle": (io.BytesIO(world.bundle), "du-lieu.json")},
        headers=auth,
        content_type="multipart/form-data",
    )
    assert real.json["added"] == {"tickets": 7, "events": 25, "ratings": 4}


def test_session_over_http_counts_once_and_refuses_bad_bundles(
    any_app: Flask, tmp_path: Path
) -> None:
    """Kit → offline laptop → bundle → upload twice, tampered, truncated, conflicting."""
    hall = any_app
    code, kit = plan_and_kit(hall)
    laptop = open_laptop(tmp_path, kit)
    try:
        script = run_session(laptop)
        with laptop.app_context():
            bundle = session_records.export_records(now=SAT + dt.timedelta(hours=4)).data
    finally:
        close_app(laptop)
    client = hall.test_client()
    auth = {**bearer(client, "admin"), "Content-Type": "application/json"}
    before = counts(hall)

    first = client.post(IMPORT, data=bundle, headers=auth)
    assert first.status_code == 200, first.json
    assert first.json["added"] == {"tickets": 7, "events": 25, "ratings": 4}
    after = counts(hall)
    second = client.post(IMPORT, data=bundle, headers=auth)
    assert second.status_code == 200
    assert second.json["added"] == {"tickets": 0, "events": 0, "ratings": 0}
    assert second.json["unchanged"] == {"tickets": 7, "events": 25, "ratings": 4}
    assert counts(hall) == after
    assert after["tickets"] - before["tickets"] == script.issued

    with hall.app_context():
        [figures] = sessions.session_figures(SAT_DAY, SAT_DAY, kind="mobile")
    assert (figures["issued"], figures["served"], figures["no_show"]) == (
        script.issued,
        script.served,
        script.no_show,
    )
    assert (figures["walkins"], figures["rated"]) == (script.walkins, script.ratings)

    envelope = json.loads(bundle)
    tampered = envelope["payload"].replace('"level":1', '"level":3')
    assert tampered != envelope["payload"]
    for data, words in [
        (bundle[: len(bundle) // 2], "bị hỏng hoặc không đầy đủ"),
        (json.dumps({**envelope, "payload": tampered}).encode(), "Mã kiểm tra (SHA-256)"),
        (
            json.dumps(
                {**envelope, "payload": tampered, "sha256": sessions.sha256_hex(tampered)}
            ).encode(),
            "Chữ ký của tệp không hợp lệ",
        ),
    ]:
        r = client.post(IMPORT, data=data, headers=auth)
        assert r.status_code == 422
        assert r.json["error"] == "bundle_refused" and words in r.json["message"]
    assert counts(hall) == after

    # A genuine bundle whose ticket differs from the one already imported: refused, listed.
    payload = json.loads(envelope["payload"])
    changed = next(t for t in payload["tickets"] if t["status"] == "no_show")
    changed["misses"] = 7
    text = sessions.canonical_json(payload)
    with hall.app_context():
        from db import db
        from db.models import SessionKit

        key = db.session.scalar(db.select(SessionKit.key_hex))
    conflicting = {
        **envelope,
        "payload": text,
        "sha256": sessions.sha256_hex(text),
        "hmac_sha256": session_records.sign(str(key), text),
    }
    r = client.post(IMPORT, data=json.dumps(conflicting), headers=auth)
    assert r.status_code == 200
    assert [(x["kind"], x["code"], x["fields"]) for x in r.json["refused"]] == [
        ("ticket", changed["code"], ["misses"])
    ]
    assert counts(hall) == after
    assert code


def test_walkin_over_the_api(hall: Flask) -> None:
    """An officer logs a home visit (201, with its rating); leaders list the sessions."""
    client = hall.test_client()
    r = client.post(
        "/api/v1/sessions/walkins",
        json={"area": "A", "dossier_code": "H01.7", "rating": 3},
        headers=bearer(client, "canbo2"),
    )
    assert r.status_code == 201, r.json
    assert r.json["officer"] == "canbo2" and r.json["rating"] == 3
    assert r.json["code"].startswith("A")
    bad = client.post(
        "/api/v1/sessions/walkins", json={"area": "A", "rating": 7}, headers=bearer(client)
    )
    assert bad.status_code == 422
    listed = client.get("/api/v1/sessions", headers=bearer(client, "lanhdao"))
    assert listed.status_code == 200
    assert [s["kind"] for s in listed.json] == ["mobile"]
    assert listed.json[0]["place"] == "Nhà văn hóa thôn Đông" and listed.json[0]["kits"] == 1


def test_report_page_groups_and_filters_by_session(hall: Flask, world: World) -> None:
    """After the import the leaders' report shows the session by type, and filters by it."""
    from tests.conftest import login

    with hall.app_context():
        session_records.import_records(world.bundle)
    client = hall.test_client()
    login(client, "lanhdao")
    args = "period=day&date=2026-11-28"
    by_kind = client.get(f"/reports/export.csv?{args}&group=session_kind")
    assert by_kind.status_code == 200 and "Lưu động" in by_kind.get_data(as_text=True)
    mobile = client.get(f"/reports/export.csv?{args}&group=area&session_kind=mobile")
    regular = client.get(f"/reports/export.csv?{args}&group=area&session_kind=regular")
    assert mobile.status_code == 200 and regular.status_code == 200
    assert "Tổng cộng,,7,5" in mobile.get_data(as_text=True).replace(";", ",")
    assert "Tổng cộng,,0,0" in regular.get_data(as_text=True).replace(";", ",")
    tickets = client.get(f"/reports/tickets.csv?{args}&session_kind=mobile").get_data(as_text=True)
    assert tickets.count("\n") == 8  # header + the session's 7 tickets
    assert client.get(f"/reports/export.csv?{args}&session_kind=x").status_code == 422


def test_admin_pages_plan_download_kit_and_import(hall: Flask, world: World) -> None:
    """An administrator plans a session, downloads its kit and uploads records from /admin."""
    import io

    from tests.conftest import csrf_token, login

    client = hall.test_client()
    login(client, "admin")
    page = client.get("/admin/sessions")
    assert page.status_code == 200
    assert "Nhà văn hóa thôn Đông" in page.get_data(as_text=True)
    token = csrf_token(client, "/admin/sessions")
    form = {
        "csrf_token": token,
        "kind": "reception_point",
        "place": "Điểm tiếp nhận Phú Thượng",
        "date": "2026-12-05",
        "hours": "07:30-11:30",
        "areas": ["tuphap", "chungthuc"],
        "officers": ["canbo1"],
    }
    planned = client.post("/admin/sessions", data=form)
    assert planned.status_code == 302
    bad = client.post("/admin/sessions", data={**form, "areas": []})
    assert bad.status_code == 422 and "ít nhất một lĩnh vực" in bad.get_data(as_text=True)
    kit = client.post("/admin/sessions/dtn-20261205/kit", data={"csrf_token": token})
    assert kit.status_code == 200 and "attachment" in kit.headers["Content-Disposition"]
    assert sessions.read_kit(kit.data)["site"]["code"] == "dtn-20261205"
    uploaded = client.post(
        "/admin/sessions/import",
        data={"csrf_token": token, "bundle": (io.BytesIO(world.bundle), "du-lieu.json")},
        content_type="multipart/form-data",
    )
    assert uploaded.status_code == 200
    assert "7 số thứ tự, 25 sự kiện, 4 đánh giá mới" in uploaded.get_data(as_text=True)
    broken = client.post(
        "/admin/sessions/import",
        data={"csrf_token": token, "bundle": (io.BytesIO(world.bundle[:900]), "x.json")},
        content_type="multipart/form-data",
    )
    assert broken.status_code == 422
    assert "bị hỏng hoặc không đầy đủ" in broken.get_data(as_text=True)
