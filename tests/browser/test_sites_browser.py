"""Headless Chromium: a lobby display opened under a site's address follows that site only."""

from __future__ import annotations

from typing import Any

import pytest

from motcua.services import tickets
from tests.browser.conftest import LiveServer
from tests.support.sites import SITE2, add_site_2, site_counter

pytestmark = pytest.mark.browser

DISPLAY_ONLINE = "window.motcuaDisplay && window.motcuaDisplay.conn.online"


def test_a_display_at_a_sites_address_shows_that_sites_calls(
    live_server: LiveServer, new_page: Any
) -> None:
    """/s/phuong-2/display/ opens its websocket at /s/phuong-2/socket.io/ and shows ward 2's
    call; the hall's /display/ shows the hall's call and never ward 2's."""
    app = live_server.app
    add_site_2(app)
    sockets: dict[str, list[str]] = {"ward": [], "hall": []}
    pages = {}
    for name, path in (("ward", "/s/phuong-2/display/"), ("hall", "/display/")):
        page = new_page(1280, 720)
        page.on("websocket", lambda ws, name=name: sockets[name].append(ws.url))
        page.goto(live_server.url(path))
        page.wait_for_function(DISPLAY_ONLINE)
        pages[name] = page
    assert all("/s/phuong-2/socket.io/" in url for url in sockets["ward"]) and sockets["ward"]
    assert not any("/s/" in url for url in sockets["hall"]) and sockets["hall"]

    live_server.call(tickets.issue_ticket, "C", site_code=SITE2)
    live_server.call(tickets.issue_ticket, "A")
    live_server.call(tickets.call_next, site_counter(app, SITE2, 1))
    pages["ward"].wait_for_selector("#now-code >> text=C001")
    live_server.call(tickets.call_next, site_counter(app, "main", 1))
    pages["hall"].wait_for_selector("#now-code >> text=A001")
    assert "C001" not in pages["hall"].inner_text("body")  # called before A001: never came
    assert "A001" not in pages["ward"].inner_text("body")
