"""English on the citizen's surfaces: the kiosk after its language button, the printed ticket
(decoded back from its real ESC/POS bytes), the phone page; Vietnamese everywhere by default."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from PIL import Image, ImageChops, ImageFont

from motcua import timeutil
from motcua.extensions import socketio
from motcua.services import appointments, print_jobs, tickets
from printer.fonts import load_font
from printer.raster import render_line
from tests.conftest import T0, counter_id, login
from tests.support.escpos_decode import decode

zxingcpp = pytest.importorskip("zxingcpp")

# The ticket's type at 80 mm (printer/receipt.py _Style): label, bold body, body.
LABEL, BODY_BOLD, BODY = (26, 600), (25, 600), (25, 500)


@pytest.fixture(autouse=True)
def frozen(monkeypatch: pytest.MonkeyPatch) -> None:
    """The services' clock stands at T0 (Monday 08:15 in Hà Nội, inside working hours)."""
    monkeypatch.setattr(timeutil, "utcnow", lambda: T0)


def tap(client: FlaskClient, query: str = "", key: str = "tap-1", **body: Any) -> Any:
    """A kiosk tap as the page sends it (``query``: "?lang=en" while in English)."""
    return client.post(
        f"/kiosk/api/tickets{query}",
        json={"service": "tuphap", **body},
        headers={"Idempotency-Key": key},
    )


def html(client: FlaskClient, url: str, **headers: str) -> str:
    """A page's HTML (asserting it answered 200)."""
    r = client.get(url, headers=headers)
    assert r.status_code == 200, r.status_code
    return r.get_data(as_text=True)


def shows_line(paper: Image.Image, text: str, font: ImageFont.FreeTypeFont) -> bool:
    """Does the paper carry ``text`` as one centred line in ``font``, dot for dot?"""
    mask, origin, width = render_line(text, font)
    box = mask.getbbox()
    assert box is not None
    ink = mask.crop(box).convert("L")
    x = (paper.width - width) // 2 - origin + box[0]
    paper_ink = ImageChops.invert(paper.convert("L"))
    for y in range(paper.height - ink.height + 1):
        window = paper_ink.crop((x, y, x + ink.width, y + ink.height))
        if ImageChops.difference(window, ink).getbbox() is None:
            return True
    return False


def test_kiosk_is_vietnamese_by_default_and_english_after_the_button(client: FlaskClient) -> None:
    """Default (even from an English browser): Vietnamese with an "English" button; ?lang=en
    (what the button opens): English words, English default area names, a "Tiếng Việt" way
    back; the script's words and its state calls follow."""
    vi = html(client, "/kiosk/?kiosk=sanh-1", **{"Accept-Language": "en-US,en;q=0.9"})
    assert '<html lang="vi"' in vi and "Xin mời chọn lĩnh vực cần giải quyết" in vi
    assert 'data-lang="en" lang="en">English</button>' in vi and "Tư\u00a0pháp" in vi
    en = html(client, "/kiosk/?kiosk=sanh-1&lang=en")
    assert '<html lang="en"' in en and "Please choose the service you need" in en
    assert 'lang="vi">Tiếng Việt</button>' in en
    assert ">Justice – Civil status<" in en and "Tư\u00a0pháp" not in en
    assert "Which priority group are you in?" in en and "Older person" in en
    assert '"ahead": {"one": "{n} person ahead of you", "other": "{n} people ahead of you"}' in en
    assert '"paper_out": "The printer is out of paper"' in en  # a failed print's reason
    assert 'data-state-url="/kiosk/api/state?kiosk=sanh-1&amp;lang=en"' in en
    assert 'data-page-url="/kiosk/?kiosk=sanh-1"' in en  # the idle reset's way home
    state = client.get("/kiosk/api/state?kiosk=sanh-1&lang=en").json
    assert state["services"][0]["name"] == "Justice – Civil status"
    assert client.get("/kiosk/api/state?kiosk=sanh-1").json["services"][0]["name"] == (
        "Tư pháp – Hộ tịch"
    )


def test_english_tap_answers_in_english_with_an_english_status_link(
    app: Flask, client: FlaskClient
) -> None:
    """The issue answer, its QR address and a refusal speak the tap's language."""
    body = tap(client, "?lang=en").json
    ticket = body["ticket"]
    assert ticket["area_name"] == "Justice – Civil status"
    assert ticket["status_url"] == f"http://hall.test/t/{ticket['token']}?lang=en"
    vi = tap(client, key="tap-2").json["ticket"]
    assert vi["status_url"] == f"http://hall.test/t/{vi['token']}"
    assert vi["area_name"] == "Tư pháp – Hộ tịch"
    app.config["WORKING_HOURS"] = {"sat": ["07:30-11:30"]}  # Monday: closed until Saturday
    closed = tap(client, "?lang=en", key="tap-3")
    assert closed.status_code == 409 and closed.json["error"] == "outside_working_hours"
    assert closed.json["message"].startswith("It is outside working hours")
    assert "Please come back at 07:30 on Saturday, 28/11." in closed.json["message"]
    state = client.get("/kiosk/api/state?lang=en").json
    assert state["hours_text"] == "Saturday: 07:30–11:30"


def test_ticket_printed_from_english_is_english_on_paper(
    app: Flask, client: FlaskClient, tmp_path: Path
) -> None:
    """Decoded from the file printer's real ESC/POS bytes: the English tap's ticket carries
    English lines and a QR that opens the English page; a Vietnamese tap's, Vietnamese."""
    folder = tmp_path / "prints"
    app.config["PRINTER"] = {"backend": "file", "path": str(folder), "width_px": 576}
    english = tap(client, "?lang=en").json["ticket"]
    assert print_jobs.wait_for_prints(app, timeout=10)
    vietnamese = tap(client, key="tap-2").json["ticket"]
    assert print_jobs.wait_for_prints(app, timeout=10)
    first, second = (decode(p.read_bytes()).page(576) for p in sorted(folder.glob("*.bin")))
    (qr,) = zxingcpp.read_barcodes(first.convert("L"))
    assert qr.text == english["status_url"] and qr.text.endswith("?lang=en")
    assert shows_line(first, "QUEUE NUMBER", load_font(*LABEL))
    assert shows_line(first, "Area: Justice – Civil status", load_font(*BODY_BOLD))
    assert shows_line(first, "People ahead of you: 0", load_font(*BODY))
    assert not shows_line(first, "SỐ THỨ TỰ", load_font(*LABEL))
    assert shows_line(second, "SỐ THỨ TỰ", load_font(*LABEL))
    assert shows_line(second, "Số người chờ trước Ông/Bà: 1", load_font(*BODY))
    (qr,) = zxingcpp.read_barcodes(second.convert("L"))
    assert qr.text == vietnamese["status_url"] and "lang" not in qr.text
    # The page the English ticket's QR opens is English.
    assert "Waiting for your turn" in html(
        client, english["status_url"].removeprefix("http://hall.test")
    )


def test_phone_page_follows_lang_then_the_phone_language(app: Flask, client: FlaskClient) -> None:
    """/t/<token>: ?lang= wins, then Accept-Language, then Vietnamese; counts take their
    plural; the page's calls (poll, rating, socket snapshot) keep its language."""
    first = tap(client, key="tap-1").json["ticket"]
    mine = tap(client, key="tap-2").json["ticket"]
    url = f"/t/{mine['token']}"
    vi = html(client, url)
    assert '<html lang="vi"' in vi and "Đang chờ đến lượt" in vi and ">English</a>" in vi
    en = html(client, url + "?lang=en")
    assert '<html lang="en"' in en and "Waiting for your turn" in en and ">Tiếng Việt</a>" in en
    view = client.get(f"/kiosk/api/tickets/{mine['token']}").json["ticket"]
    low, high = view["wait_low_minutes"], view["wait_high_minutes"]
    eta = f"{low}–{high} minutes" if low else f"under {high} minutes"
    assert high >= 5 and f'<b id="s-eta">{eta}</b>' in en
    assert "People ahead" in en and "Justice – Civil status" in en
    assert f'data-poll-url="/kiosk/api/tickets/{mine["token"]}?lang=en"' in en
    assert f'data-rating-url="/rating/t/{mine["token"]}?lang=en"' in en
    assert "Waiting for your turn" in html(client, url, **{"Accept-Language": "en-GB,en;q=0.8"})
    assert "Đang chờ đến lượt" in html(client, url + "?lang=vi", **{"Accept-Language": "en"})
    assert "Đang chờ đến lượt" in html(client, url, **{"Accept-Language": "fr, vi;q=0.5"})
    poll = client.get(f"/kiosk/api/tickets/{mine['token']}?lang=en").json
    assert poll["ticket"]["display"]["headline"] == "Waiting for your turn"
    assert client.get(f"/rating/t/{mine['token']}?lang=en").json["texts"]["send"] == "Send rating"
    phone = socketio.test_client(
        app, namespace="/kiosk", auth={"token": mine["token"], "lang": "en"}
    )
    ack = phone.emit("snapshot", {}, namespace="/kiosk", callback=True)
    assert ack["ticket"]["display"]["headline"] == "Waiting for your turn"
    assert ack["ticket"]["area_name"] == "Justice – Civil status"
    phone.disconnect(namespace="/kiosk")
    kiosk = socketio.test_client(app, namespace="/kiosk", auth={"kiosk": "sanh-1"})
    ack = kiosk.emit("snapshot", {}, namespace="/kiosk", callback=True)
    assert ack["services"][0]["name"] == "Tư pháp – Hộ tịch"
    kiosk.disconnect(namespace="/kiosk")
    assert first["code"] == "A001"


def test_counts_take_their_english_plural(client: FlaskClient) -> None:
    """English counts come from ngettext: "1 person", "2 people", never "1 people"."""
    tap(client, key="tap-1")
    one = html(client, "/kiosk/?lang=en")
    assert "<b data-waiting>1</b> <span data-waiting-unit>person</span>" in one
    tap(client, key="tap-2")
    two = html(client, "/kiosk/?lang=en")
    assert "<b data-waiting>2</b> <span data-waiting-unit>people</span>" in two
    area = client.get("/kiosk/api/state").json["services"][0]
    low, high = area["wait_low_minutes"], area["wait_high_minutes"]
    eta = f"Wait {low}–{high} minutes" if low else f"Wait under {high} minutes"
    assert high >= 5 and eta in two
    assert '"people": {"one": "person", "other": "people"}' in two


def test_staff_screens_stay_vietnamese(client: FlaskClient) -> None:
    """Officer, leader and admin pages ignore ?lang=en and an English browser."""
    page = html(client, "/login?lang=en", **{"Accept-Language": "en"})
    assert '<html lang="vi"' in page
    login(client)
    page = html(client, "/counter/?lang=en", **{"Accept-Language": "en"})
    assert '<html lang="vi"' in page


def test_phone_rating_in_english_records_the_halls_reason(app: Flask, client: FlaskClient) -> None:
    """The rating slot in English: the default question, levels and reasons read in English;
    a reason is sent back as its Vietnamese value (what the service checks and reports show)."""
    token = tap(client).json["ticket"]["token"]
    with app.app_context():
        cid = counter_id(app, 1)
        tickets.call_next(cid)
        tickets.finish(cid)
    state = client.get(f"/rating/t/{token}?lang=en").json
    scale = state["scale"]
    assert state["state"] == "open" and scale["question"].startswith("How would you rate")
    assert [lv["label"] for lv in scale["levels"]] == [
        "Very satisfied",
        "Satisfied",
        "Not satisfied",
    ]
    assert scale["reason_labels"][0] == "Long wait" and scale["reasons"][0] == "Chờ lâu"
    r = client.post(f"/rating/t/{token}?lang=en", json={"level": 1, "reasons": ["Chờ lâu"]})
    assert r.status_code == 201 and r.json["rating"]["reasons"] == ["Chờ lâu"]
    rated = client.get(f"/rating/t/{token}?lang=en").json
    assert rated["rated"]["label"] == "Not satisfied" and rated["texts"]["thanks"].startswith(
        "Thank"
    )
    assert client.get(f"/rating/t/{token}").json["rated"]["label"] == "Không hài lòng"


def test_booking_pages_in_english_keep_their_language(app: Flask, client: FlaskClient) -> None:
    """The booking page in English: the default area names in English, a way back to
    Vietnamese, and every link and form keeps ?lang=en (so the holder's page is English)."""
    with app.app_context():
        appointments.save_rule(
            "A", offered=True, remote=True, slot_minutes=15, capacity=2,
            hours_spec={"daily": ["00:00-23:59"]}, days_ahead=1,
        )  # fmt: skip
    home = html(client, "/booking/?lang=en")
    assert "Justice – Civil status" in home and ">Tiếng Việt</a>" in home
    assert 'href="/booking/tuphap/?lang=en"' in home
    area = html(client, "/booking/tuphap/?lang=en")
    assert 'action="/booking/tuphap/?lang=en"' in area  # the booking answers in English
    assert "Choose an appointment time" in area and "Justice – Civil status" in area
    assert "Đặt lịch hẹn" not in area
