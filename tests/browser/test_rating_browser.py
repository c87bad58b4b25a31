"""Headless Chromium: finish at the console, rate on the tablet (or the phone), see the report.

Set ``MOTCUA_SCREENSHOTS=docs`` to (re)write docs/rating-*.png, docs/report*.png and
docs/live.png (with a fuller sample of data); otherwise the screens are only checked.
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
from motcua.services import print_jobs, ratings, tickets
from motcua.timeutil import local
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
    live_server: LiveServer, new_page: Any
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

    tablet.evaluate(
        """() => {
          const conn = window.motcuaTablet.conn, reread = conn.refresh;
          window.rereads = 0;
          conn.refresh = function () { window.rereads += 1; return reread.apply(conn, arguments); };
        }"""
    )
    second = serve_one(live_server, console)
    tablet.wait_for_selector(f"#ask-code >> text={second.code}")
    assert tablet.evaluate("window.rereads") == 0  # the same officer called: nothing to re-read
    phone = new_page(390, 844, has_touch=True, is_mobile=True)
    phone.goto(live_server.url(f"/t/{second.token}"))
    phone.wait_for_selector("#rating-slot[data-state=open]")
    phone.click('#rating-slot .r-level[data-level="3"]')
    phone.wait_for_selector("#rating-slot >> text=Cảm ơn Ông/Bà đã đánh giá!")
    tablet.wait_for_selector('#rt[data-screen="thanks"]')
    assert "qua điện thoại" in tablet.inner_text("#thanks-detail")

    # A setting from the config file reaches a tablet with its next read of the state (a
    # restart reconnects every screen); the same officer's calls do not re-read it.
    live_server.app.config["RATING_TABLET_TIMEOUT_S"] = 2
    tablet.evaluate("window.motcuaTablet.conn.refresh()")
    tablet.wait_for_function("window.motcuaTablet.timing.question_s === 2")
    third = serve_one(live_server, console)
    tablet.wait_for_selector(f"#ask-code >> text={third.code}", state="attached")
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


AREA_WEIGHTS = {"A": 30, "B": 25, "C": 12, "D": 8, "E": 10, "F": 3, "G": 2, "H": 10}


def seed_history(server: LiveServer, days: int, per_day: int) -> None:
    """Past working days through the real services (deterministic): six officers who change
    counters every week, waits and service times that vary, no-shows, ratings."""
    from db.models import User
    from motcua.services import accounts
    from motcua.services.demo import DEMO_COUNTERS, DEMO_OFFICERS

    rng = random.Random(7)
    hall = dt.timezone(dt.timedelta(hours=7))
    with server.app.app_context():
        have = set(db.session.scalars(sa.select(User.username)))
        db.session.commit()
        for username, name, position in DEMO_OFFICERS:
            if username not in have:
                accounts.create_user(
                    username, full_name=name, role="officer", password=PASSWORD, position=position
                )
        officers = [
            db.session.scalar(sa.select(User.id).where(User.username == u))
            for u, _n, _p in DEMO_OFFICERS
        ]
        db.session.commit()
    serving = {a: [n for n, prefixes in DEMO_COUNTERS if a in prefixes] for a in AREA_WEIGHTS}
    ids = {n: counter_id(server.app, n) for n, _ in DEMO_COUNTERS}
    today = dt.datetime.now(dt.UTC).astimezone(hall).date()
    day = today - dt.timedelta(days=days)
    with server.app.app_context():
        while day < today:
            if day.weekday() < 5:
                week = day.isocalendar()[1]
                seat = {n: officers[(n + week) % len(officers)] for n in ids}
                minutes = sorted(
                    rng.choice([rng.uniform(450, 690), rng.uniform(810, 1000)])
                    for _ in range(per_day)
                )
                for minute in minutes:
                    issued = dt.datetime.combine(day, dt.time(0), tzinfo=hall) + dt.timedelta(
                        minutes=minute
                    )
                    area = rng.choices(list(AREA_WEIGHTS), list(AREA_WEIGHTS.values()))[0]
                    number = rng.choice(serving[area])
                    cid, officer = ids[number], seat[number]
                    view = tickets.issue_ticket(area, now=issued)
                    called = issued + dt.timedelta(minutes=min(60, rng.expovariate(1 / 9)))
                    tickets.call_ticket(cid, view.code, officer_id=officer, now=called)
                    if rng.random() < 0.05:
                        tickets.mark_no_show(cid, officer_id=officer, now=called)
                        again = called + dt.timedelta(minutes=3)
                        tickets.call_ticket(cid, view.code, officer_id=officer, now=again)
                        tickets.mark_no_show(cid, officer_id=officer, now=again)
                        continue
                    start = called + dt.timedelta(minutes=1)
                    tickets.start_service(cid, officer_id=officer, now=start)
                    done = start + dt.timedelta(minutes=rng.lognormvariate(1.7, 0.5))
                    tickets.finish(cid, officer_id=officer, now=done)
                    roll = rng.random()
                    if roll < 0.75:
                        level = 3 if roll < 0.48 else (2 if roll < 0.69 else 1)
                        reasons = ["Chờ lâu"] if level == 1 else None
                        ratings.rate_by_token(view.token, level, reasons=reasons, now=done)
            day += dt.timedelta(days=1)


def seed_today(server: LiveServer) -> None:
    """Today: a queue (some waiting long), counters serving, one paused, a printer alert."""
    now = dt.datetime.now(dt.UTC)
    # Everything stays inside today's business day, even just after midnight in the hall.
    today_minutes = (local(now) - local(now).replace(hour=0, minute=0, second=0)).seconds / 60
    scale = min(1.0, (today_minutes - 0.1) / 41)

    def ago(minutes: float) -> dt.datetime:
        return now - dt.timedelta(minutes=minutes * scale)

    with server.app.app_context():
        for i, area in enumerate("AAAAABBBCCDEHH"):
            tickets.issue_ticket(area, now=ago(40 - 2 * i))
        views = [tickets.issue_ticket(a, now=ago(5)) for a in "AB"]
        print_jobs.record_print_result(
            views[-1].token, ok=False, error_code="paper_out", message="Hết giấy", kiosk="sanh-1"
        )
        for number in (1, 3, 4):
            cid = counter_id(server.app, number)
            tickets.call_next(cid, now=ago(4))
            if number != 4:
                tickets.start_service(cid, now=ago(3))
        tickets.set_paused(counter_id(server.app, 6), True)


def test_screens_fit_and_screenshots(live_server: LiveServer, new_page: Any) -> None:
    """Tablet portrait/landscape, phone, report, print and live view: nothing overflows."""
    docs = os.environ.get("MOTCUA_SCREENSHOTS") == "docs"

    def shot(page: Any, name: str, full_page: bool = False) -> None:
        """Write a docs screenshot (only when asked: screenshots are slow)."""
        if docs:
            page.screenshot(path=str(DOCS / name), full_page=full_page)

    seed_history(live_server, days=21 if docs else 2, per_day=60 if docs else 6)
    seed_today(live_server)

    def fits(page: Any) -> None:
        width = page.evaluate("document.documentElement.scrollWidth")
        assert width <= page.viewport_size["width"], f"horizontal overflow: {width}"

    tablet = open_tablet(new_page, live_server)
    tablet.wait_for_function(
        "document.getElementById('officer-name').textContent !== 'Chưa có cán bộ tại quầy'"
    )
    fits(tablet)
    shot(tablet, "rating-idle-portrait.png")
    with live_server.app.app_context():
        cid = counter_id(live_server.app, 1)
        tickets.finish(cid)
    tablet.wait_for_selector('#rt[data-screen="ask"]')
    fits(tablet)
    assert tablet.evaluate("document.documentElement.scrollHeight") <= 1280
    shot(tablet, "rating-ask-portrait.png")
    tablet.click('.r-level[data-level="1"]')
    tablet.click(".r-reason >> text=Chờ lâu")
    shot(tablet, "rating-reasons-portrait.png")
    landscape = open_tablet(new_page, live_server, 1280, 800)
    landscape.wait_for_selector('#rt[data-screen="ask"]')
    fits(landscape)
    assert landscape.evaluate("document.documentElement.scrollHeight") <= 800
    shot(landscape, "rating-ask-landscape.png")
    tablet.click("#send")
    tablet.wait_for_selector('#rt[data-screen="thanks"]')
    shot(tablet, "rating-thanks-portrait.png")

    with live_server.app.app_context():
        tickets.call_next(cid)
        phone_ticket = tickets.finish(cid)
    phone = new_page(390, 844, has_touch=True, is_mobile=True)
    phone.goto(live_server.url(f"/t/{phone_ticket.token}"))
    phone.wait_for_selector("#rating-slot[data-state=open]")
    fits(phone)
    shot(phone, "rating-phone.png", full_page=True)

    leader = new_page(1440, 900)
    login_page(leader, live_server, "lanhdao", "/reports/")
    leader.goto(live_server.url("/reports/?period=month&group=officer"))
    fits(leader)
    shot(leader, "report.png", full_page=True)
    leader.goto(live_server.url("/reports/?period=month&group=area"))
    shot(leader, "report-area.png", full_page=True)
    leader.goto(live_server.url("/reports/print?period=month&group=area"))
    shot(leader, "report-print.png", full_page=True)
    leader.goto(live_server.url("/reports/live"))
    leader.wait_for_selector("#lv-alerts li")
    assert "Hết giấy" in leader.inner_text("#lv-alerts")
    fits(leader)
    shot(leader, "live.png", full_page=True)
