from typing import Any

import pytest

from motcua.services import tickets
from tests.browser.conftest import LiveServer
from tests.browser.test_day_in_the_hall import PREFIXES, add_areas
from tests.conftest import counter_id

pytestmark = pytest.mark.browser


def test_scratch(live_server: LiveServer, new_page: Any) -> None:
    s = live_server
    add_areas(s)
    for a in "AABBCCDIJP":
        s.call(tickets.issue_ticket, a)
    for n in (1, 2, 3, 4, 6):
        s.call(tickets.call_next, counter_id(s.app, n))
    s.call(tickets.recall, counter_id(s.app, 6))
    p = new_page(1920, 1080)
    for n in (8, 16):
        p.set_viewport_size({"width": 1920, "height": 1080})
        p.goto(s.url("/display/?areas=" + ",".join(PREFIXES[:n])))
        p.wait_for_timeout(300)
        p.evaluate("document.getAnimations().forEach(a => { a.pause(); a.currentTime = 0; })")
        p.screenshot(path=f"/tmp/scr/d{n}-l.png")
        p.set_viewport_size({"width": 1080, "height": 1920})
        p.wait_for_timeout(200)
        p.screenshot(path=f"/tmp/scr/d{n}-p.png")
    p.set_viewport_size({"width": 1920, "height": 1080})
    s.call(tickets.call_next, counter_id(s.app, 5))
    p.wait_for_selector("#now.flash")
    p.evaluate("document.getAnimations().forEach(a => { a.pause(); a.currentTime = 600; })")
    p.screenshot(path="/tmp/scr/flash.png")
