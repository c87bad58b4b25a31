"""Every screen, in every state a person meets, passes axe-core (WCAG 2.1 AA, colour contrast
included); the docs' screenshot set is taken from the same walk.

``MOTCUA_SCREENSHOTS=docs`` writes docs/screens/*.png (with three weeks of history for the
reports); otherwise the screens are only audited.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import pytest

from motcua.services import tickets
from tests.browser.axe import describe, violations
from tests.browser.conftest import LiveServer, login_page
from tests.browser.test_day_in_the_hall import (
    DISPLAY_ONLINE,
    PREFIXES,
    add_areas,
    open_console,
    open_tablet,
)
from tests.browser.test_rating_browser import seed_history
from tests.conftest import counter_id

pytestmark = pytest.mark.browser

SHOTS = Path(__file__).resolve().parents[2] / "docs" / "screens"
SERVER_ERROR = '{"error": "server_error", "message": "Hệ thống gặp sự cố."}'


class Audit:
    """Runs axe on a page state, collects what fails, and writes the screenshot when asked."""

    def __init__(self, folder: Path | None) -> None:
        self.folder = folder
        self.failures: dict[str, str] = {}
        self.states: list[str] = []

    def __call__(self, page: Any, name: str, *, full_page: bool = False) -> None:
        """Audit the page as it is now under ``name``."""
        self.states.append(name)
        found = violations(page)
        if found:
            self.failures[name] = describe(found)
        if self.folder is not None:
            page.screenshot(path=str(self.folder / f"{name}.png"), full_page=full_page)


def freeze(page: Any, at_ms: int = 0) -> None:
    """Stop every animation at one instant (a flash frame, the ticker where it reads)."""
    page.evaluate(
        "t => document.getAnimations().forEach(a => { a.pause(); a.currentTime = t; })", at_ms
    )


def test_every_screen_passes_axe(live_server: LiveServer, new_page: Any) -> None:
    """Kiosk (both orientations, English, ticket, server error), phone (waiting, English,
    called, missed, rate),
    console (idle, called, serving), tablet (idle, ask, reasons, thanks), display (8, 12, 16
    areas, both orientations, flash, recall), reports (page, print, PDF pages), admin."""
    docs = os.environ.get("MOTCUA_SCREENSHOTS") == "docs"
    if docs:
        SHOTS.mkdir(parents=True, exist_ok=True)
    audit = Audit(SHOTS if docs else None)
    app = live_server.app
    app.config.update(ANNOUNCE_REPEAT=1, ANNOUNCE_CHIME=False, DISPLAY_FLASH_SECONDS=60)
    seed_history(live_server, days=21 if docs else 2, per_day=40 if docs else 4)
    queue = [live_server.call(tickets.issue_ticket, a) for a in "AAAABBCDEH"]
    live_server.call(tickets.issue_ticket, "B", priority="elderly")
    mine = queue[1]  # the phone follows A002

    # ------------------------------------------------------------------ kiosk
    kiosk = new_page(1080, 1920, has_touch=True)
    kiosk.goto(live_server.url("/kiosk/?kiosk=sanh-1"))
    audit(kiosk, "kiosk-portrait")
    english = new_page(1080, 1920, has_touch=True)
    english.goto(live_server.url("/kiosk/?kiosk=sanh-1&lang=en"))  # after the language button
    assert english.inner_text("#home-prompt") == "Please choose the service you need"
    audit(english, "kiosk-english-portrait")
    kiosk.click('.k-area[data-service="chungthuc"]')
    kiosk.wait_for_selector("#screen-ticket:not([hidden])")
    audit(kiosk, "kiosk-ticket-portrait")
    wide = new_page(1920, 1080, has_touch=True)
    wide.goto(live_server.url("/kiosk/?kiosk=sanh-1"))
    audit(wide, "kiosk-landscape")
    wide.route(
        "**/kiosk/api/tickets",
        lambda route: route.fulfill(status=500, content_type="application/json", body=SERVER_ERROR),
    )
    wide.click('.k-area[data-service="tuphap"]')
    wide.wait_for_selector("#m-retry:visible")
    assert "Thử lại" in wide.inner_text("#m-text") and wide.is_visible("#m-home")
    audit(wide, "kiosk-error-landscape")
    wide.unroute("**/kiosk/api/tickets")
    wide.click("#m-retry")  # the same tap again: now it gets its number
    wide.wait_for_selector("#screen-ticket:not([hidden])")

    # ------------------------------------------------------------------ tablet, console, phone
    tablet = open_tablet(new_page, live_server)
    console = open_console(new_page, live_server)
    tablet.wait_for_selector("#officer-name >> text=Nguyễn Thị Lan")
    audit(tablet, "tablet-idle")
    audit(console, "console-idle")
    phone = new_page(390, 844, has_touch=True, is_mobile=True)
    phone.goto(live_server.url(f"/t/{mine.token}"))
    phone.wait_for_selector("#s-live.k-link-live")
    audit(phone, "phone-waiting", full_page=True)
    phone_en = new_page(390, 844, has_touch=True, is_mobile=True, locale="en-GB")
    phone_en.goto(live_server.url(f"/t/{mine.token}"))  # an English phone: English page
    phone_en.wait_for_selector("#s-live.k-link-live")
    assert phone_en.inner_text("#s-headline") == "Waiting for your turn"
    audit(phone_en, "phone-waiting-english", full_page=True)

    console.keyboard.press("g")
    console.wait_for_selector("#cur-code >> text=A001")
    audit(console, "console-called")
    console.keyboard.press("b")
    console.wait_for_selector("#cur-status >> text=Đang phục vụ")
    audit(console, "console-serving")
    console.keyboard.press("h")
    tablet.wait_for_selector('#rt[data-screen="ask"]')
    audit(tablet, "tablet-ask")
    tablet.click('.r-level[data-level="1"]')
    tablet.click(".r-reason >> nth=0")
    audit(tablet, "tablet-reasons")
    tablet.click("#send")
    tablet.wait_for_selector('#rt[data-screen="thanks"]')
    audit(tablet, "tablet-thanks")

    console.wait_for_function("document.getElementById('cur-code').textContent === ''")
    console.keyboard.press("g")
    phone.wait_for_selector("#s-status.s-called")
    phone.evaluate("document.getAnimations().forEach(a => a.finish())")
    audit(phone, "phone-called", full_page=True)
    console.keyboard.press("v")
    phone.wait_for_selector("#s-headline >> text=Ông/Bà đã vắng mặt khi được gọi")
    audit(phone, "phone-missed", full_page=True)
    one = counter_id(app, 1)
    live_server.call(tickets.call_ticket, one, mine.code)
    live_server.call(tickets.finish, one)
    phone.wait_for_selector("#rating-slot[data-state=open]")
    audit(phone, "phone-rate", full_page=True)

    # ------------------------------------------------------------------ display
    add_areas(live_server)
    for n in (3, 4, 5):
        live_server.call(tickets.call_next, counter_id(app, n))
    display = new_page(1920, 1080)
    for n, name in ((8, "display-8"), (12, "display-12")):
        display.goto(live_server.url("/display/?areas=" + ",".join(PREFIXES[:n])))
        freeze(display, 10_000)  # the ticker's text in view
        audit(display, name)
    display.goto(live_server.url("/display/"))
    display.wait_for_function(DISPLAY_ONLINE)
    freeze(display, 10_000)
    audit(display, "display-16")
    display.set_viewport_size({"width": 1080, "height": 1920})
    audit(display, "display-16-portrait")
    display.set_viewport_size({"width": 1920, "height": 1080})
    live_server.call(tickets.call_next, counter_id(app, 2))
    display.wait_for_selector("#now.flash")
    for at in (0, 250, 500, 750):
        freeze(display, at)
        audit(display, f"display-flash-{at}")
    live_server.call(tickets.recall, counter_id(app, 2))
    display.wait_for_selector("#now-recall", state="visible")
    freeze(display, 500)
    audit(display, "display-recall")

    # ------------------------------------------------------------------ reports
    leader = new_page(1440, 900)
    login_page(leader, live_server, "lanhdao", "/reports/")
    leader.goto(live_server.url("/reports/?period=month&group=area"))
    audit(leader, "report", full_page=True)
    csv = leader.request.get(live_server.url("/reports/tickets.csv?period=day")).text()
    assert "Người cao tuổi" in csv and "Máy đánh giá tại quầy" in csv
    assert not any(code in csv for code in ("elderly", "tablet", "phone"))
    leader.goto(live_server.url("/reports/print?period=month&group=area"))
    audit(leader, "report-print", full_page=True)
    pages = print_pages(leader, SHOTS if docs else None)
    assert 1 <= pages <= (4 if docs else 3), pages
    leader.goto(live_server.url("/reports/live"))
    audit(leader, "report-live", full_page=True)

    # ------------------------------------------------------------------ admin
    admin = new_page(1366, 768)
    login_page(admin, live_server, "admin", "/admin/")
    for path, name in (("/admin/", "admin"), ("/admin/areas", "admin-areas")):
        admin.goto(live_server.url(path))
        audit(admin, name)
    admin.goto(live_server.url("/admin/settings"))
    admin.fill("textarea[name=DISPLAY_MESSAGE]", "Xin chào " * 120)
    admin.click("#display button[type=submit]")
    admin.wait_for_selector("#display .a-alert")
    admin.wait_for_function("document.activeElement.name === 'DISPLAY_MESSAGE'")
    error = admin.locator("#display .a-err")
    assert "1000" in error.inner_text() and error.is_visible()
    assert admin.evaluate(
        "(() => { const r = document.querySelector('#display .a-err').getBoundingClientRect();"
        " return r.top >= 0 && r.bottom <= innerHeight; })()"
    )
    audit(admin, "admin-settings-error")
    admin.goto(live_server.url("/admin/areas/new"))
    admin.fill("input[name=name]", "Hộ tịch lưu động 🙂")
    admin.fill("input[name=prefix]", "Q")
    admin.fill("input[name=code]", "luudong")
    admin.click("button[type=submit]")
    admin.wait_for_selector(".a-field.has-error .a-err")
    assert "🙂" in admin.inner_text(".a-field.has-error .a-err")
    audit(admin, "admin-area-emoji")

    assert len(audit.states) >= 30
    assert audit.failures == {}, "\n\n".join(f"{k}:\n{v}" for k, v in audit.failures.items())


def print_pages(page: Any, folder: Path | None) -> int:
    """The page printed by Chromium (A4 as its CSS asks); each PDF page saved as a PNG."""
    pdfium = pytest.importorskip("pypdfium2")
    pdf = pdfium.PdfDocument(page.pdf(prefer_css_page_size=True, print_background=True))
    count = len(pdf)
    if folder is not None:
        for index in range(count):
            image = pdf[index].render(scale=1.4).to_pil()
            image.save(folder / f"report-print-page-{index + 1}.png")
    pdf.close()
    return count
