"""The kiosk page, its issue path (idempotency, working hours), the status page, /kiosk socket."""

from __future__ import annotations

import datetime as dt
import re
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from PIL import Image, ImageDraw

from motcua import timeutil
from motcua.extensions import socketio
from motcua.services import hours, tickets
from tests.conftest import T0, counter_id

HOURS = {"mon-fri": ["07:30-11:30", "13:30-17:00"], "sat": ["07:30-11:30"]}


class Clock:
    """The services' clock: T0 (Monday 23/11/2026 08:15 in Hà Nội) unless moved."""

    def __init__(self) -> None:
        self.now = T0


@pytest.fixture(autouse=True)
def clock(app: Flask, monkeypatch: pytest.MonkeyPatch) -> Clock:
    """Freeze the services' time; the kiosk has no printer here (backend "none")."""
    frozen = Clock()
    monkeypatch.setattr(timeutil, "utcnow", lambda: frozen.now)
    app.config["WORKING_HOURS"] = HOURS
    app.config["PRINTER"] = {"backend": "none"}
    return frozen


def at_local(day: int, hour: int, minute: int = 0) -> dt.datetime:
    """An instant in November 2026, given in Hà Nội time."""
    return dt.datetime(2026, 11, day, hour, minute, tzinfo=timeutil.HALL_TZ).astimezone(dt.UTC)


def tap(client: FlaskClient, service: str, key: str, **body: Any) -> Any:
    """POST /kiosk/api/tickets as the kiosk page does."""
    return client.post(
        "/kiosk/api/tickets", json={"service": service, **body}, headers={"Idempotency-Key": key}
    )


def svg_to_image(svg: str) -> Image.Image:
    """Rasterise the kiosk's QR SVG (runs of unit squares) at 8 px a module."""
    size = int(re.search(r'viewBox="0 0 (\d+) \1"', svg).group(1))  # type: ignore[union-attr]
    scale = 8
    image = Image.new("L", (size * scale, size * scale), 255)
    draw = ImageDraw.Draw(image)
    for x, y, w in re.findall(r"M(\d+),(\d+)h(\d+)v1h-\d+z", svg):
        x0, y0 = int(x) * scale, int(y) * scale
        draw.rectangle((x0, y0, x0 + int(w) * scale - 1, y0 + scale - 1), fill=0)
    return image


def test_kiosk_page_shows_areas_counts_priority_and_local_assets(
    app: Flask, client: FlaskClient
) -> None:
    """/kiosk/: hall name, every area with its count, the priority path; nothing off-site."""
    with app.app_context():
        for number in (1, 2):  # both counters of A busy, two waiting
            tickets.issue_ticket("A", now=T0)
            tickets.call_next(counter_id(app, number), now=T0)
        tickets.issue_ticket("A", now=T0)
        tickets.issue_ticket("A", now=T0)
    r = client.get("/kiosk/?kiosk=sanh-1")
    html = r.get_data(as_text=True)
    assert r.status_code == 200
    assert "TRUNG TÂM PHỤC VỤ HÀNH CHÍNH CÔNG" in html and "PHƯỜNG BA ĐÌNH" in html
    for name in ("Tư pháp – Hộ tịch", "Chứng thực", "Hỗ trợ dịch vụ công trực tuyến"):
        assert name in html.replace("\u00a0", " ")  # short parts are kept on one line
    assert "Tư\u00a0pháp\u00a0– Hộ\u00a0tịch" in html
    area_a = html.split('data-service="tuphap"', 1)[1].split("</button>", 1)[0]
    # 2 waiting, counters 1 and 2 serve A and are busy: a range of minutes (an en dash)
    assert "<b data-waiting>2</b>" in area_a
    assert re.search(r"Chờ \d+–\d+ phút", area_a), area_a
    assert "ƯU TIÊN" in html and "Không cần xuất trình giấy tờ" in html
    for label in ("Người cao tuổi", "Người khuyết tật", "Phụ nữ mang thai / bế con nhỏ"):
        assert 'data-priority="' in html and label in html
    assets = re.findall(r'(?:src|href)="([^"]+)"', html) + re.findall(r'url\("([^"]+)"\)', html)
    assert assets and all(a.startswith("/") and not a.startswith("//") for a in assets)
    for asset in assets:
        assert client.get(asset).status_code == 200, asset


def test_a_repeated_tap_gets_the_same_ticket(client: FlaskClient) -> None:
    """Idempotency: same key → same ticket (200); new key → next number (201)."""
    first = tap(client, "A", "k-1", kiosk="sanh-1")
    again = tap(client, "A", "k-1", kiosk="sanh-1")
    other = tap(client, "A", "k-2", kiosk="sanh-1")
    assert (first.status_code, again.status_code, other.status_code) == (201, 200, 201)
    assert first.json["ticket"]["code"] == again.json["ticket"]["code"] == "A001"
    assert other.json["ticket"]["code"] == "A002" and other.json["ticket"]["people_ahead"] == 1
    assert first.json["print"]["state"] == "off"  # this kiosk has no printer: says so


def test_issue_answer_carries_the_paper_qr_as_svg(client: FlaskClient) -> None:
    """The QR on screen decodes to the same status URL as the paper ticket's."""
    zxingcpp = pytest.importorskip("zxingcpp")
    body = tap(client, "B", "k-qr").json
    found = zxingcpp.read_barcodes(svg_to_image(body["qr_svg"]))
    assert [f.text for f in found] == [body["ticket"]["status_url"]]
    assert body["ticket"]["status_url"] == f"http://hall.test/t/{body['ticket']['token']}"


def test_priority_ticket_and_unknown_inputs(client: FlaskClient) -> None:
    """A priority category is kept and labelled; bad inputs get Vietnamese errors."""
    body = tap(client, "A", "k-p", priority="elderly").json
    assert body["ticket"]["priority_label"] == "Người cao tuổi"
    bad = tap(client, "A", "k-x", priority="vip")
    assert bad.status_code == 400 and bad.json["error"] == "invalid_priority"
    missing = tap(client, "Z", "k-z")
    assert missing.status_code == 404 and "lĩnh vực" in missing.json["message"]
    kiosk = tap(client, "A", "k-k", kiosk="../etc")
    assert kiosk.status_code == 422 and kiosk.json["error"] == "invalid_kiosk"


def test_outside_working_hours_gives_a_clear_message(
    app: Flask, client: FlaskClient, clock: Clock
) -> None:
    """After 17:00 the kiosk issues nothing and says when to come back; a retry still works."""
    kept = tap(client, "A", "before-close")
    assert kept.status_code == 201
    clock.now = at_local(23, 17, 5)
    late = tap(client, "A", "after-close")
    assert late.status_code == 409 and late.json["error"] == "outside_working_hours"
    assert "ngoài giờ làm việc" in late.json["message"]
    assert "07:30 ngày mai (Thứ Ba)" in late.json["message"]
    assert late.json["details"]["hours"].startswith("Thứ Hai – Thứ Sáu: 07:30–11:30, 13:30–17:00")
    retry = tap(client, "A", "before-close")  # the tap made in hours is still honoured
    assert retry.status_code == 200 and retry.json["ticket"]["code"] == "A001"
    page = client.get("/kiosk/").get_data(as_text=True)
    assert "Ngoài giờ làm việc" in page and "07:30 ngày mai" in page
    clock.now = at_local(28, 15)  # Saturday afternoon
    assert "07:30 Thứ Hai, ngày 30/11" in tap(client, "A", "sat").json["message"]
    clock.now = at_local(23, 12)  # lunch break
    assert "13:30 hôm nay" in tap(client, "A", "noon").json["message"]


def test_working_hours_parsing_and_lenient_config(app: Flask) -> None:
    """WORKING_HOURS: ranges, lists, lunch breaks; a broken setting keeps the kiosk open."""
    spans = hours.parse_working_hours({"mon-wed,fri": ["07:30-11:30"], "sun": ["08:00-10:00"]})
    assert sorted(spans) == [0, 1, 2, 4, 6]
    with app.app_context():
        assert hours.is_open(at_local(23, 7, 30)) and not hours.is_open(at_local(23, 11, 30))
        assert not hours.is_open(at_local(29, 9))  # Sunday
        app.config["WORKING_HOURS"] = {"mon-fri": ["17:00-07:30"]}
        assert hours.is_open(at_local(29, 3))
        app.config["WORKING_HOURS"] = None
        assert hours.is_open(at_local(29, 3)) and hours.hours_text() == ""


def test_status_page_follows_the_ticket(app: Flask, client: FlaskClient) -> None:
    """/t/<token>: waiting with people ahead, called to counter N, finished, unknown token."""
    tap(client, "A", "k-0")
    token = tap(client, "A", "k-1").json["ticket"]["token"]
    html = client.get(f"/t/{token}").get_data(as_text=True)
    assert "A002" in html and "Tư pháp – Hộ tịch" in html and "Đang chờ đến lượt" in html
    assert 'id="s-ahead">1<' in html and "data-rating-slot" in html
    with app.app_context():
        tickets.call_next(counter_id(app, 1), now=T0)
        tickets.call_next(counter_id(app, 2), now=T0)
    html = client.get(f"/t/{token}").get_data(as_text=True)
    assert "Mời Ông/Bà đến quầy số 2" in html
    with app.app_context():
        tickets.finish(counter_id(app, 2), now=T0)
    snap = client.get(f"/kiosk/api/tickets/{token}").json
    assert (
        snap["ticket"]["status"] == "finished" and snap["ticket"]["display"]["kind"] == "finished"
    )
    assert isinstance(snap["seq"], int) and snap["seq"] > 0
    missing = client.get("/t/not-a-token")
    assert missing.status_code == 404 and "Không tìm thấy số thứ tự" in missing.get_data(
        as_text=True
    )


def test_kiosk_socket_snapshot_and_live_counts(app: Flask, client: FlaskClient) -> None:
    """/kiosk: a kiosk gets a snapshot and the site's facts; a status page only its ticket's."""
    kiosk = socketio.test_client(app, namespace="/kiosk", auth={"kiosk": "sanh-1"})
    snap = kiosk.emit("snapshot", {}, namespace="/kiosk", callback=True)
    assert snap["ok"] and snap["open"] and len(snap["services"]) == 8
    token = tap(client, "C", "k-c").json["ticket"]["token"]
    other = tap(client, "D", "k-d").json["ticket"]["token"]
    issued = [r["args"][0] for r in kiosk.get_received("/kiosk") if r["name"] == "ticket_issued"]
    assert [f["ticket"]["code"] for f in issued] == ["C001", "D001"]
    assert issued[1]["seq"] == issued[0]["seq"] + 1 > snap["seq"]
    phone = socketio.test_client(app, namespace="/kiosk", auth={"token": token})
    ticket_snap = phone.emit("snapshot", {}, namespace="/kiosk", callback=True)
    assert ticket_snap["ok"] and ticket_snap["ticket"]["code"] == "C001"
    with app.app_context():
        tickets.call_next(counter_id(app, 4), now=T0)
    got = phone.get_received("/kiosk")
    assert [r["name"] for r in got] == ["ticket_called"]
    assert got[0]["args"][0]["ticket"]["token"] == token != other
    stranger = socketio.test_client(app, namespace="/kiosk", auth={"token": "nope"})
    assert not stranger.is_connected("/kiosk")
    kiosk.disconnect(namespace="/kiosk")
    phone.disconnect(namespace="/kiosk")


def test_kiosk_page_hears_every_fact_of_its_site_room() -> None:
    """Every fact carries the site's seq: one kiosk.js does not listen to is a gap, a re-read."""
    from pathlib import Path

    from counter.console_fold import FACTS

    script = (Path(__file__).resolve().parents[2] / "kiosk" / "static" / "kiosk.js").read_text()
    block = script[script.index("events: {") :]
    block = block[: block.index("\n    },")]
    heard = set(re.findall(r"^\s+(\w+): ", block, flags=re.M))
    assert set(FACTS) <= heard, f"kiosk.js does not hear {sorted(set(FACTS) - heard)}"
