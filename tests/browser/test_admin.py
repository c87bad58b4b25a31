"""Headless Chromium: the main admin flows, live settings on the display, pairing a kiosk.

Set ``MOTCUA_SCREENSHOTS=docs`` to (re)write docs/admin-*.png (1366x768).
"""

from __future__ import annotations

import os
import time
from pathlib import Path
from typing import Any

import pytest

from tests.browser.conftest import LiveServer, login_page

pytestmark = pytest.mark.browser

DOCS = Path(__file__).resolve().parents[2] / "docs"
DISPLAY_ONLINE = "!!(window.motcuaDisplay && window.motcuaDisplay.conn.online)"
STRICT = {"bypass_csp": False}  # these pages run under motcua's real CSP


def wait_until(page: Any, expression: str, timeout_s: float = 10.0) -> None:
    """Poll an expression from outside the page (wait_for_function would need 'unsafe-eval').

    A page that reloads meanwhile is asked again once the new document is there.
    """
    deadline = time.monotonic() + timeout_s
    while True:
        try:
            if page.evaluate(expression):
                return
        except Exception as exc:  # playwright's Error while the page navigates
            if "context was destroyed" not in str(exc) and "navigat" not in str(exc):
                raise
        assert time.monotonic() < deadline, f"timed out waiting for {expression}"
        time.sleep(0.1)


def shot(page: Any, name: str, tmp_path: Path) -> None:
    """Screenshot to docs/admin-<name>.png when MOTCUA_SCREENSHOTS=docs (1366x768)."""
    if os.environ.get("MOTCUA_SCREENSHOTS") == "docs":
        page.screenshot(path=str(DOCS / f"admin-{name}.png"))


def watch_csp(page: Any) -> list[str]:
    """Console errors about the Content-Security-Policy (none is allowed)."""
    seen: list[str] = []
    page.on(
        "console",
        lambda msg: (
            seen.append(msg.text)
            if msg.type == "error" and "Content Security Policy" in msg.text
            else None
        ),
    )
    return seen


def test_admin_changes_reach_screens_and_a_kiosk_pairs(
    live_server: LiveServer, new_page: Any, tmp_path: Path
) -> None:
    """Admin edits an area and the display message (the display reloads by itself), registers
    a kiosk, pairs it in another browser, sets its printer and sees it online."""
    server = live_server
    display = new_page(1366, 768, **STRICT)
    display_csp = watch_csp(display)
    display.goto(server.url("/display/"))
    wait_until(display, DISPLAY_ONLINE)

    admin = new_page(1366, 768, **STRICT)
    admin_csp = watch_csp(admin)
    login_page(admin, server, "admin", "/admin/")
    assert admin.url.endswith("/admin/")

    # An invalid site: every message in Vietnamese, what was typed kept.
    admin.goto(server.url("/admin/sites/new"))
    admin.fill("input[name=code]", "Thôn 2")
    admin.fill("input[name=hours_sat]", "sáng thứ bảy")
    admin.click("button[type=submit]")
    assert admin.locator(".a-alert").inner_text().startswith("Chưa lưu: có 3 mục")
    assert admin.input_value("input[name=hours_sat]") == "sáng thứ bảy"
    shot(admin, "site-errors", tmp_path)

    # A new service area served by counters 4 and 5; the open display reloads by itself for it.
    display.evaluate("window.motcuaBeforeNewArea = true")
    admin.goto(server.url("/admin/areas/new"))
    admin.fill("input[name=name]", "Bảo hiểm xã hội")
    admin.fill("input[name=prefix]", "K")
    admin.fill("input[name=code]", "baohiem")
    admin.fill("input[name=sort_order]", "9")
    admin.check("input[name=active]")
    for number in ("4", "5"):
        admin.get_by_label(f"Quầy {number}", exact=True).check()
    admin.click("button[type=submit]")
    row = admin.locator("tr", has_text="Bảo hiểm xã hội")
    assert "4, 5" in row.inner_text()
    shot(admin, "areas", tmp_path)
    # Wait for that reload, so that the message below is the only change in flight. (A change
    # saved while the display reloads is not lost: on connect live.js compares the page's
    # settings version with the server's and reloads again.)
    wait_until(display, f"!window.motcuaBeforeNewArea && {DISPLAY_ONLINE}")

    # The lobby message: the open display reloads with it, nobody touching it.
    admin.goto(server.url("/admin/settings"))
    message = "Kính chào Quý khách – thông báo thử nghiệm từ trang quản trị"
    admin.fill("textarea[name=DISPLAY_MESSAGE]", message)
    admin.locator("#display button[type=submit]").click()
    assert "Đã lưu" in admin.locator(".flash").inner_text()
    display.locator("#ticker", has_text=message).wait_for(timeout=10_000)
    # The rating scale: 5 levels shown as soon as "5 mức" is chosen (admin.js).
    admin.check("input[name=rating_size][value='5']")
    assert admin.locator("[data-level='4']").is_visible()
    admin.check("input[name=rating_size][value='3']")
    admin.goto(server.url("/admin/settings"))
    shot(admin, "settings", tmp_path)

    # Register a kiosk: the pairing code is shown once, with its link.
    admin.goto(server.url("/admin/devices/new"))
    admin.select_option("select[name=kind]", "kiosk")
    admin.fill("input[name=name]", "sanh-1")
    admin.fill("input[name=note]", "Sảnh tầng 1, cạnh cửa ra vào")
    admin.click("button[type=submit]")
    code = admin.locator("[data-testid=pairing-code]").inner_text()
    link = admin.locator(".a-pairing a").get_attribute("href")
    assert len(code) == 9 and link.endswith(f"/device/pair?code={code}")
    shot(admin, "device-pairing", tmp_path)

    # The kiosk's own printer, then a test print.
    admin.select_option("select[name=backend]", "dummy")
    assert admin.locator("input[name=host]").is_hidden()  # only the chosen connection's fields
    admin.locator("#printer button[type=submit]", has_text="Lưu máy in").click()
    admin.get_by_role("button", name="In thử").click()
    assert "Đã in trang thử." in admin.locator(".flash").inner_text()

    # On the kiosk: open the link, press the button, land on the kiosk screen as sanh-1.
    kiosk = new_page(1080, 1920, **STRICT)
    kiosk_csp = watch_csp(kiosk)
    kiosk.goto(server.url(f"/device/pair?code={code}"))
    kiosk.click("button[type=submit]")
    kiosk.wait_for_url("**/kiosk/")
    assert kiosk.locator("#kiosk").get_attribute("data-kiosk") == "sanh-1"

    admin.goto(server.url("/admin/devices"))
    row = admin.locator("tr", has_text="sanh-1")
    assert "Trực tuyến" in row.inner_text() and "Máy in tốt" not in row.inner_text()
    shot(admin, "devices", tmp_path)

    admin.goto(server.url("/admin/users"))
    admin.get_by_role("link", name="Nguyễn Thị Lan").click()
    admin.fill("input[name=position]", "Công chức Tư pháp – Hộ tịch")
    admin.select_option("select[name=default_counter]", "1")
    admin.locator("form", has_text="Thông tin").locator("button[type=submit]").click()
    assert "Đã lưu tài khoản." in admin.locator(".flash").inner_text()
    shot(admin, "user", tmp_path)

    admin.goto(server.url("/admin/audit"))
    table = admin.locator("table").inner_text()
    for label in ("Thêm lĩnh vực", "Đổi cài đặt", "Đăng ký thiết bị", "Thiết bị đã ghép nối"):
        assert label in table, label
    shot(admin, "audit", tmp_path)

    assert display_csp == [] and admin_csp == [] and kiosk_csp == []
