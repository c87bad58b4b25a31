"""Headless Chromium: finish at the console, rate on the tablet (or the phone), see the report.

Set ``MOTCUA_SCREENSHOTS=docs`` to (re)write docs/rating-*.png, docs/report*.png and
docs/live.png (with a fuller sample of data); otherwise they go to the test's tmp folder.
"""

from __future__ import annotations

import datetime as dt
import os
import random
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa

from db import db
from db.models import Rating, TicketEvent
from motcua.services import printing, ratings, tickets
from tests.browser.conftest import LiveServer, login_page
from tests.conftest import PASSWORD, counter_id

pytestmark = pytest.mark.browser

DOCS = Path(__file__).resolve().parents[2] / "docs"
CONSOLE_READY = "window.motcuaConsole && window.motcuaConsole.state !== null"
TABLET_ONLINE = "window.motcuaTablet && window.motcuaTablet.conn && window.motcuaTablet.conn.online"


def open_console(new_page: Any, server: LiveServer, number: int = 1) -> Any:
    """canbo1's console at a counter, connected."""
    page = new_page(1366, 768)
    login_page(page, server, "canbo1", f"/counter/{number}")
    page.goto(server.url(f"/counter/{number}"))
    page.wait_for_function(CONSOLE_READY)
    return page


def open_tablet(new_page: Any, server: LiveServer, width: int = 800, height: int = 1280) -> Any:
    """The rating tablet of counter 1, connected (idle, or asking about a pending ticket)."""
    page = new_page(width, height, has_touch=True)
    page.goto(server.url("/rating/?counter=1"))
    page.wait_for_function(TABLET_ONLINE)
    page.wait_for_selector('#rt:not([data-screen="setup"])')
    return page


def serve_one(server: LiveServer, console: Any) -> Any:
    """Issue an A ticket and, on the console, call it and finish it."""
    view = server.call(tickets.issue_ticket, "A")
    console.wait_for_selector(f"#queue-body td.code >> text={view.code}")
    console.click('[data-verb="call_next"]')
    console.wait_for_selector(f"#cur-code >> text={view.code}")
    console.click('[data-verb="finish"]')
    console.wait_for_selector(f"#message >> text=Đã hoàn thành số {view.code}")
    return view


def test_finish_rate_on_the_tablet_and_see_it_in_the_report(
    live_server: LiveServer, new_page: Any, tmp_path: Path
) -> None:
    """Low score with a reason on the tablet; a phone rating; an unanswered question; report."""
    tablet = open_tablet(new_page, live_server)
    assert tablet.inner_text("#officer-name") == "Chưa có cán bộ tại quầy"
    console = open_console(new_page, live_server)

    first = serve_one(live_server, console)
    tablet.wait_for_selector('#rt[data-screen="ask"]')
    assert tablet.inner_text("#ask-code") == first.code
    assert "Nguyễn Thị Lan" in tablet.inner_text("#ask-officer")
    assert tablet.locator(".r-level").count() == 3
    assert tablet.locator(".r-level svg.r-face").count() == 3
    tablet.click('.r-level[data-level="1"]')
    tablet.wait_for_selector('#rt[data-screen="reasons"]')
    tablet.click(".r-reason >> text=Chờ lâu")
    tablet.fill("#comment", "Phải chờ khá lâu")
    tablet.click("#send")
    tablet.wait_for_selector('#rt[data-screen="thanks"]')
    assert tablet.inner_text("#thanks-title") == "Cảm ơn Ông/Bà đã đánh giá!"

    second = serve_one(live_server, console)
    tablet.wait_for_selector(f"#ask-code >> text={second.code}")
    phone = new_page(390, 844, has_touch=True, is_mobile=True)
    phone.goto(live_server.url(f"/t/{second.token}"))
    phone.wait_for_selector("#rating-slot[data-state=open]")
    phone.click('#rating-slot .r-level[data-level="3"]')
    phone.wait_for_selector("#rating-slot >> text=Cảm ơn Ông/Bà đã đánh giá!")
    tablet.wait_for_selector('#rt[data-screen="thanks"]')
    assert "qua điện thoại" in tablet.inner_text("#thanks-detail")

    live_server.app.config["RATING_TABLET_TIMEOUT_S"] = 2
    third = serve_one(live_server, console)
    tablet.wait_for_selector(f"#ask-code >> text={third.code}")
    tablet.wait_for_selector('#rt[data-screen="idle"]', timeout=8000)
    assert tablet.inner_text("#officer-name") == "Nguyễn Thị Lan"

    with live_server.app.app_context():
        found = db.session.execute(
            sa.select(Rating.level, Rating.source, Rating.reasons, Rating.comment).order_by(
                Rating.id
            )
        ).all()
        skipped = db.session.scalar(
            sa.select(sa.func.count()).where(TicketEvent.kind == "rating_skipped")
        )
    assert [tuple(r) for r in found] == [
        (1, "tablet", ["Chờ lâu"], "Phải chờ khá lâu"),
        (3, "phone", None, None),
    ]
    assert skipped == 1

    leader = new_page(1366, 900)
    login_page(leader, live_server, "lanhdao", "/reports/")
    leader.goto(live_server.url("/reports/?period=day&group=officer"))
    row = leader.locator("table.rp-sat tbody tr", has_text="Nguyễn Thị Lan")
    assert row.locator("td").nth(1).inner_text() == "2"  # forms
    assert [c.inner_text() for c in row.locator("td").all()[2:]] == [
        "1", "50,0", "0", "0,0", "1", "50,0",
    ]  # fmt: skip
    assert leader.inner_text("#kpi-served") == "3"


# --------------------------------------------------------------------------- screenshots


def seed_history(server: LiveServer, days: int, per_day: int) -> None:
    """A sample of past days through the real services (deterministic)."""
    rng = random.Random(7)
    today = dt.datetime.now(dt.UTC).date()
    hall = dt.timezone(dt.timedelta(hours=7))
    with server.app.app_context():
        counters = [counter_id(server.app, n) for n in (1, 2, 3, 4, 5, 6)]
    areas = {1: "A", 2: "B", 3: "B", 4: "C", 5: "D", 6: "H"}
    with server.app.app_context():
        from db.models import User

        officers = list(db.session.scalars(sa.select(User.id).where(User.role == "officer")))
        db.session.commit()
        day = today - dt.timedelta(days=days)
        while day < today:
            if day.weekday() < 5:
                clock = dt.datetime(day.year, day.month, day.day, 7, 30, tzinfo=hall)
                for _i in range(per_day):
                    slot = rng.randrange(6)
                    cid, area = counters[slot], areas[slot + 1]
                    officer = officers[(slot + day.toordinal()) % len(officers)]
                    clock += dt.timedelta(minutes=rng.choice([1, 2, 2, 3, 4]))
                    if clock.hour == 11 and clock.minute > 20:
                        clock = clock.replace(hour=13, minute=30)
                    view = tickets.issue_ticket(area, now=clock)
                    called = clock + dt.timedelta(minutes=rng.choice([2, 4, 6, 9, 14, 22]))
                    try:
                        tickets.call_ticket(cid, view.code, officer_id=officer, now=called)
                    except Exception:
                        continue
                    if rng.random() < 0.06:
                        tickets.mark_no_show(cid, officer_id=officer, now=called)
                        tickets.expire_stale(now=called + dt.timedelta(days=1))
                        continue
                    done = called + dt.timedelta(minutes=rng.choice([3, 5, 6, 8, 12]))
                    tickets.finish(cid, officer_id=officer, now=done)
                    roll = rng.random()
                    if roll < 0.75:
                        level = 3 if roll < 0.5 else (2 if roll < 0.68 else 1)
                        reasons = ["Chờ lâu"] if level == 1 else None
                        ratings.rate_by_token(view.token, level, reasons=reasons, now=done)
            day += dt.timedelta(days=1)


def seed_today(server: LiveServer) -> None:
    """Today: a queue, counters serving, one paused, a printer alert (for the live view)."""
    with server.app.app_context():
        for area in "AAAAABBBCCDEHH":
            tickets.issue_ticket(area)
        views = [tickets.issue_ticket(a) for a in "AB"]
        printing.record_print_result(
            views[-1].token, ok=False, error_code="paper_out", message="Hết giấy", kiosk="sanh-1"
        )
        for number in (1, 3, 4):
            cid = counter_id(server.app, number)
            tickets.call_next(cid)
            if number != 4:
                tickets.start_service(cid)
        tickets.set_paused(counter_id(server.app, 6), True)


def test_screens_fit_and_screenshots(
    live_server: LiveServer, new_page: Any, tmp_path: Path
) -> None:
    """Tablet portrait/landscape, phone, report, print and live view: nothing overflows."""
    docs = os.environ.get("MOTCUA_SCREENSHOTS") == "docs"
    out = DOCS if docs else tmp_path
    seed_history(live_server, days=21 if docs else 3, per_day=70 if docs else 12)
    seed_today(live_server)

    def fits(page: Any) -> None:
        width = page.evaluate("document.documentElement.scrollWidth")
        assert width <= page.viewport_size["width"], f"horizontal overflow: {width}"

    tablet = open_tablet(new_page, live_server)
    tablet.wait_for_selector("#officer-name >> text=Nguyễn Thị Lan")
    fits(tablet)
    tablet.screenshot(path=str(out / "rating-idle-portrait.png"))
    with live_server.app.app_context():
        cid = counter_id(live_server.app, 1)
        tickets.finish(cid)
    tablet.wait_for_selector('#rt[data-screen="ask"]')
    fits(tablet)
    assert tablet.evaluate("document.documentElement.scrollHeight") <= 1280
    tablet.screenshot(path=str(out / "rating-ask-portrait.png"))
    tablet.click('.r-level[data-level="1"]')
    tablet.click(".r-reason >> text=Chờ lâu")
    tablet.screenshot(path=str(out / "rating-reasons-portrait.png"))
    landscape = open_tablet(new_page, live_server, 1280, 800)
    landscape.wait_for_selector('#rt[data-screen="ask"]')
    fits(landscape)
    assert landscape.evaluate("document.documentElement.scrollHeight") <= 800
    landscape.screenshot(path=str(out / "rating-ask-landscape.png"))
    tablet.click("#send")
    tablet.wait_for_selector('#rt[data-screen="thanks"]')
    tablet.screenshot(path=str(out / "rating-thanks-portrait.png"))

    with live_server.app.app_context():
        tickets.call_next(cid)
        phone_ticket = tickets.finish(cid)
    phone = new_page(390, 844, has_touch=True, is_mobile=True)
    phone.goto(live_server.url(f"/t/{phone_ticket.token}"))
    phone.wait_for_selector("#rating-slot[data-state=open]")
    fits(phone)
    phone.screenshot(path=str(out / "rating-phone.png"), full_page=True)

    leader = new_page(1440, 900)
    login_page(leader, live_server, "lanhdao", "/reports/")
    leader.goto(live_server.url("/reports/?period=month&group=officer"))
    fits(leader)
    leader.screenshot(path=str(out / "report.png"), full_page=True)
    leader.goto(live_server.url("/reports/?period=month&group=area"))
    leader.screenshot(path=str(out / "report-area.png"), full_page=True)
    leader.goto(live_server.url("/reports/print?period=month&group=area"))
    leader.screenshot(path=str(out / "report-print.png"), full_page=True)
    leader.goto(live_server.url("/reports/live"))
    leader.wait_for_selector("#lv-alerts li")
    assert "Hết giấy" in leader.inner_text("#lv-alerts")
    fits(leader)
    leader.screenshot(path=str(out / "live.png"), full_page=True)
    assert PASSWORD
