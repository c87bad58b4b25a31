"""The console's banner of unprinted tickets in Chromium: from the snapshot, live, dismissed.

Set ``MOTCUA_SCREENSHOTS=docs`` to (re)write docs/console-print-alert.png (1366x768).
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import pytest

from motcua.services import print_jobs, tickets
from tests.browser.conftest import LiveServer, login_page

pytestmark = pytest.mark.browser

DOCS = Path(__file__).resolve().parents[2] / "docs"
CONSOLE_READY = "window.motcuaConsole && window.motcuaConsole.state !== null"


def fail_print(server: LiveServer, area: str, error: str, message: str) -> Any:
    """A ticket of ``area`` whose print failed at kiosk sanh-1."""
    view = server.call(tickets.issue_ticket, area, kiosk="sanh-1")
    server.call(
        print_jobs.record_print_result,
        view.token,
        ok=False,
        error_code=error,
        message=message,
        kiosk="sanh-1",
    )
    return view


def test_console_banner_shows_unprinted_tickets_until_handled(
    live_server: LiveServer, new_page: Any, tmp_path: Path
) -> None:
    """Counter 2 (A, B): one alert from its snapshot, one live; a click marks one handled;
    an area C failure never shows there; nothing overflows 1366x768."""
    for area in "AABBC":
        live_server.call(tickets.issue_ticket, area)
    fail_print(live_server, "A", "paper_out", "Máy in hết giấy")
    page = new_page(1366, 768)
    problems: list[str] = []
    page.on("pageerror", lambda e: problems.append(str(e)))
    login_page(page, live_server, "canbo2", "/counter/2")
    page.goto(live_server.url("/counter/2"))
    page.wait_for_function(CONSOLE_READY)
    page.wait_for_selector("#print-alerts:not([hidden]) >> text=Số A003")
    fail_print(live_server, "B", "closed", "Máy in ngắt kết nối giữa chừng")  # live, via a fact
    fail_print(live_server, "C", "timeout", "Máy in không phản hồi")  # not this counter's area
    page.wait_for_selector("#print-alert-list >> text=Số B003")
    assert page.locator("#print-alert-list li").count() == 2
    assert "ki-ốt sanh-1" in page.inner_text("#print-alerts")
    overflow = "document.documentElement.scrollWidth > innerWidth"
    assert page.evaluate(overflow) is False
    target = DOCS if os.environ.get("MOTCUA_SCREENSHOTS") == "docs" else tmp_path
    page.screenshot(path=str(target / "console-print-alert.png"))
    page.click("#print-alert-list li:first-child button")
    page.wait_for_selector("#message >> text=Đã đánh dấu xử lý vé chưa in số A003.")
    page.wait_for_function("document.querySelectorAll('#print-alert-list li').length === 1")
    assert problems == []
