"""The kiosk and the status page in real headless Chromium against a live server."""

from __future__ import annotations

import io
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from PIL import Image

from motcua.services import catalog, print_jobs, tickets
from tests.browser.conftest import LiveServer
from tests.conftest import counter_id
from tests.support.escpos_decode import decode

pytestmark = pytest.mark.browser
zxingcpp = pytest.importorskip("zxingcpp")


@pytest.fixture
def kiosk_server(live_server: LiveServer, tmp_path: Path) -> LiveServer:
    """The live server with a file printer and no working-hours limit (it runs on real time)."""
    extra = {
        "PRINTER": {"backend": "file", "path": str(tmp_path / "prints"), "width_px": 576},
        "WORKING_HOURS": None,
    }
    live_server.config.update(extra)  # kept across live_server.restart()
    live_server.app.config.update(extra)
    return live_server


def jobs(server: LiveServer) -> list[Path]:
    """The print jobs the file printer has received."""
    return sorted(Path(server.app.config["PRINTER"]["path"]).glob("*.bin"))


def waiting(server: LiveServer, code: str = "tuphap") -> int:
    """How many tickets wait in an area, from the service."""
    services = server.call(catalog.list_services)
    return next(s["waiting"] for s in services if s["code"] == code)


def test_tap_shows_number_qr_and_prints_once(
    kiosk_server: LiveServer, new_page: Callable[..., Any]
) -> None:
    """1080x1920: tap an area → the number, the paper's QR, "Vui lòng nhận vé", one job."""
    page = new_page(1080, 1920)
    page.goto(kiosk_server.url("/kiosk/?kiosk=sanh-1"))
    page.click("[data-service=tuphap]")
    page.wait_for_selector("#screen-ticket:not([hidden])")
    assert page.inner_text("#t-code") == "A001"
    assert "Tư pháp – Hộ tịch" in page.inner_text("#t-area")
    page.wait_for_selector("#t-print.k-print-printed")
    assert "Vui lòng nhận vé" in page.inner_text("#t-print")
    assert len(jobs(kiosk_server)) == 1
    shot = Image.open(io.BytesIO(page.locator("#t-qr").screenshot()))
    (found,) = zxingcpp.read_barcodes(shot.convert("L"))
    assert found.text.startswith("http://hall.test/t/")
    token = found.text.rsplit("/", 1)[1]
    assert kiosk_server.call(tickets.ticket_status, token).code == "A001"
    # The ticket screen goes back to the start by itself (idle timeout).
    kiosk_server.app.config["KIOSK_IDLE_TIMEOUT_S"] = 1
    page.goto(kiosk_server.url("/kiosk/?kiosk=sanh-1"))
    page.click("[data-service=chungthuc]")
    page.wait_for_selector("#screen-ticket:not([hidden])")
    page.wait_for_selector("#screen-home:not([hidden])", timeout=5000)


def test_double_tap_gives_one_ticket(
    kiosk_server: LiveServer, new_page: Callable[..., Any]
) -> None:
    """A double tap (and a retried request with the same key) gives one ticket, one job."""
    page = new_page(1080, 1920)
    page.goto(kiosk_server.url("/kiosk/"))
    page.dblclick("[data-service=tuphap]")
    page.wait_for_selector("#screen-ticket:not([hidden])")
    assert page.inner_text("#t-code") == "A001"
    codes = page.evaluate(
        """async () => {
            const send = () => fetch("/kiosk/api/tickets", {method: "POST",
              headers: {"Content-Type": "application/json", "Idempotency-Key": "same-tap"},
              body: JSON.stringify({service: "chungthuc"})}).then(r => r.json());
            const [a, b] = await Promise.all([send(), send()]);
            return [a.ticket.code, b.ticket.code];
        }"""
    )
    assert codes == ["B001", "B001"]
    assert print_jobs.wait_for_prints(kiosk_server.app, timeout=10)
    assert waiting(kiosk_server, "tuphap") == 1 and waiting(kiosk_server, "chungthuc") == 1
    printed = jobs(kiosk_server)
    assert len(printed) == 2, [p.name for p in printed]


def test_server_down_then_back_keeps_the_same_tap(
    kiosk_server: LiveServer, new_page: Callable[..., Any]
) -> None:
    """Server unreachable: a clear message; "Thử lại" after it is back gives the number once."""
    page = new_page(1920, 1080)
    page.goto(kiosk_server.url("/kiosk/"))
    kiosk_server.stop()
    page.click("[data-service=datdai]")
    page.wait_for_selector("#screen-message:not([hidden])")
    assert "Không kết nối được máy chủ" in page.inner_text("#m-title")
    kiosk_server.restart()
    page.click("#m-retry")
    page.wait_for_selector("#screen-ticket:not([hidden])")
    assert page.inner_text("#t-code") == "C001"
    assert waiting(kiosk_server, "datdai") == 1


def test_closed_kiosk_says_so(kiosk_server: LiveServer, new_page: Callable[..., Any]) -> None:
    """Outside working hours the start screen is a Vietnamese message, not buttons."""
    kiosk_server.app.config["WORKING_HOURS"] = {"mon-sun": []}
    page = new_page(1080, 1920)
    page.goto(kiosk_server.url("/kiosk/"))
    assert page.is_hidden("#screen-home")
    assert "Ngoài giờ làm việc" in page.inner_text("#m-title")
    assert "ngoài giờ làm việc" in page.inner_text("#m-text")


def test_status_page_updates_live(kiosk_server: LiveServer, new_page: Callable[..., Any]) -> None:
    """The phone page (390x844) shows the wait, then "đến quầy số 1" when called, live."""
    view = kiosk_server.call(tickets.issue_ticket, "A")
    page = new_page(390, 844)
    page.goto(kiosk_server.url(f"/t/{view.token}"))
    assert page.inner_text("#s-code") == "A001"
    assert "Đang chờ đến lượt" in page.inner_text("#s-status")
    page.wait_for_selector("#s-live.k-link-live")
    kiosk_server.call(tickets.call_next, counter_id(kiosk_server.app, 1))
    page.wait_for_function(
        "document.querySelector('#s-headline').textContent.includes('quầy số 1')", timeout=5000
    )
    assert page.is_hidden("#s-facts")


def test_language_button_english_ticket_then_vietnamese_after_idle(
    kiosk_server: LiveServer, new_page: Callable[..., Any]
) -> None:
    """An English-browser kiosk starts Vietnamese; "English" switches the screens and the
    printed ticket; the idle reset brings the next citizen Vietnamese again."""
    kiosk_server.app.config["KIOSK_IDLE_TIMEOUT_S"] = 5
    page = new_page(1080, 1920, locale="en-US")
    page.goto(kiosk_server.url("/kiosk/?kiosk=sanh-1"))
    assert page.inner_text("#home-prompt") == "Xin mời chọn lĩnh vực cần giải quyết"
    page.click("#k-lang")
    page.wait_for_selector("html[lang=en]")
    assert page.inner_text("#home-prompt") == "Please choose the service you need"
    assert "lang=en" in page.url and page.inner_text("#k-lang") == "Tiếng Việt"
    page.click("[data-service=tuphap]")
    page.wait_for_selector("#screen-ticket:not([hidden])")
    assert page.inner_text("#t-area") == "Justice – Civil status"
    assert page.inner_text("#t-ahead") == "You are next"
    assert "Back to the start in" in page.inner_text("#t-countdown")
    assert page.is_hidden("#k-lang")  # the ticket is printed: no switching now
    assert kiosk_server.call(print_jobs.wait_for_prints)
    (job,) = jobs(kiosk_server)
    paper = decode(job.read_bytes()).page(576)
    (qr,) = zxingcpp.read_barcodes(paper.convert("L"))
    assert qr.text.endswith("?lang=en")
    # Nobody touches the screen: back to the start, in Vietnamese, without ?lang.
    page.wait_for_selector("html[lang=vi]", timeout=10_000)
    assert "lang=" not in page.url
    assert page.inner_text("#home-prompt") == "Xin mời chọn lĩnh vực cần giải quyết"
    assert page.inner_text("#k-lang") == "English"


def test_wait_is_shown_as_a_range_on_kiosk_ticket_and_phone(
    kiosk_server: LiveServer, new_page: Callable[..., Any]
) -> None:
    """Both counters of A busy, two waiting: "Chờ khoảng 5–10 phút"-style ranges everywhere."""
    import re

    app = kiosk_server.app
    for number in (1, 2):
        kiosk_server.call(tickets.issue_ticket, "A")
        kiosk_server.call(tickets.call_next, counter_id(app, number))
    for _ in range(2):
        kiosk_server.call(tickets.issue_ticket, "A")
    page = new_page(1080, 1920)
    page.goto(kiosk_server.url("/kiosk/?kiosk=sanh-1"))
    home = page.inner_text("[data-service=tuphap] [data-eta]")
    assert re.fullmatch(r"Chờ \d+–\d+ phút", home), home
    page.click("[data-service=tuphap]")
    page.wait_for_selector("#screen-ticket:not([hidden])")
    ahead = page.inner_text("#t-ahead")
    assert re.fullmatch(r"Trước Ông/Bà còn 2 người, dự kiến chờ khoảng \d+–\d+ phút", ahead), ahead
    code = page.inner_text("#t-code")
    token = next(
        v.token
        for v in [kiosk_server.call(tickets.ticket_status, t) for t in _tokens(kiosk_server)]
        if v.code == code
    )
    phone = new_page(390, 844)
    phone.goto(kiosk_server.url(f"/t/{token}"))
    phone.wait_for_function("document.getElementById('s-eta').textContent.includes('phút')")
    assert re.fullmatch(r"\d+–\d+ phút", phone.inner_text("#s-eta"))


def _tokens(server: LiveServer) -> list[str]:
    """Every ticket's token, from the database."""
    import sqlalchemy as sa

    from db import db
    from db.models import Ticket

    return server.call(lambda: list(db.session.scalars(sa.select(Ticket.token))))
