"""Issue 17's "done when": a booked appointment goes from the booking page to the kiosk's
check-in, is called, rated on the tablet and counted in the leaders' report (real Chromium)."""

from __future__ import annotations

import os
from typing import Any

import pytest

from motcua.services import appointments, tickets
from tests.browser.conftest import LiveServer, login_page
from tests.browser.test_day_in_the_hall import open_console, open_tablet, saved_ratings
from tests.browser.test_screens import SHOTS, Audit
from tests.conftest import counter_id

pytestmark = pytest.mark.browser

# The server runs on real time: bookings all day, 5-minute slots (the first one listed can be
# checked in at once: it started at most 10 minutes ago or starts within 5).
ALL_DAY = {"daily": ["00:00-23:59"]}


def test_booking_to_check_in_to_call_to_rating_to_report(
    live_server: LiveServer, new_page: Any
) -> None:
    """Phone: book the first slot of Tư pháp – Hộ tịch, keep the code. Kiosk: "Có lịch hẹn",
    type the code on the keypad, get a ticket marked "Có lịch hẹn". The officer's next call is
    that ticket (ahead of a walk-in); the tablet rates it; the report counts 1 booking, 1
    check-in. Every new screen passes axe (``MOTCUA_SCREENSHOTS=docs``: its screenshot)."""
    audit = Audit(SHOTS if os.environ.get("MOTCUA_SCREENSHOTS") == "docs" else None)
    live_server.call(
        appointments.save_rule,
        "A",
        offered=True,
        remote=True,
        slot_minutes=5,
        capacity=2,
        hours_spec=ALL_DAY,
        days_ahead=1,
        now=None,
    )
    phone = new_page(390, 844, has_touch=True, is_mobile=True)
    phone.goto(live_server.url("/booking/"))
    audit(phone, "booking-home")
    phone.click("a.b-area >> nth=0")
    phone.wait_for_selector(".b-slot")
    audit(phone, "booking-slots")
    phone.click(".b-slot >> nth=0")
    phone.wait_for_selector("#b-code")
    audit(phone, "booking-holder")
    code = phone.inner_text("#b-code").strip()
    assert len(code) == 6 and "Đã đặt" in phone.inner_text("#b-status")

    walk_in = live_server.call(tickets.issue_ticket, "A")
    kiosk = new_page(1080, 1920, has_touch=True)
    kiosk.goto(live_server.url("/kiosk/?kiosk=sanh-1"))
    kiosk.click("#appt-entry")
    kiosk.wait_for_selector('#kiosk[data-screen="screen-appointment"]')
    kiosk.click('.k-key[data-key="K"]')
    audit(kiosk, "kiosk-appointment")
    kiosk.click('[data-action="appt-erase"]')
    wide = new_page(1920, 1080, has_touch=True)
    wide.goto(live_server.url("/kiosk/?kiosk=sanh-2"))
    audit(wide, "kiosk-appointment-home-landscape")
    wide.click("#appt-entry")
    audit(wide, "kiosk-appointment-landscape")
    wide.close()
    for ch in code:
        kiosk.click(f'.k-key[data-key="{ch}"]')
    kiosk.click(".k-key-ok")
    kiosk.wait_for_selector('#kiosk[data-screen="screen-ticket"]')
    ticket_code = kiosk.inner_text("#t-code").strip()
    assert ticket_code.startswith("A") and ticket_code != walk_in.code
    assert kiosk.inner_text("#t-priority") == "Ưu tiên: Có lịch hẹn"

    # The same code again: the kiosk answers with the same ticket, not a second one.
    kiosk.click('[data-action="done"] >> visible=true')
    kiosk.click("#appt-entry")
    kiosk.fill("#appt-code", code.lower())
    kiosk.press("#appt-code", "Enter")  # what a USB scanner does
    kiosk.wait_for_selector('#kiosk[data-screen="screen-ticket"]')
    assert kiosk.inner_text("#t-code").strip() == ticket_code

    tablet = open_tablet(new_page, live_server)
    open_console(new_page, live_server)
    one = counter_id(live_server.app, 1)
    called = live_server.call(tickets.call_next, one)
    assert called.code == ticket_code  # the appointment goes before the walk-in
    live_server.call(tickets.finish, one)
    tablet.wait_for_selector(f"#ask-code >> text={ticket_code}")
    tablet.click('.r-level[data-level="3"]')
    tablet.wait_for_selector('#rt[data-screen="thanks"]')
    assert saved_ratings(live_server) == [(3, "tablet")]

    leader = new_page(1366, 768)
    login_page(leader, live_server, "lanhdao", "/reports/")
    leader.goto(live_server.url("/reports/?period=day"))
    row = leader.locator('#rp-appointments tr[data-area="tuphap"] td')
    assert row.all_inner_texts()[:3] == ["1", "1", "0"]
    assert not audit.failures, audit.failures
