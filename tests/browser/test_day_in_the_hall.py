"""Issue 16: the defects a day in the hall showed, each kept fixed in real headless Chromium.

One test per numbered defect (1–5), then the display's fit at every area count, the console's
scanner, the phone's live page and the tablet's officer card.
"""

from __future__ import annotations

from typing import Any

import pytest
import sqlalchemy as sa

from db import db
from db.models import Rating, TicketEvent
from motcua.services import hall, settings, tickets
from tests.browser.axe import describe, violations
from tests.browser.conftest import LiveServer, login_page
from tests.conftest import counter_id

pytestmark = pytest.mark.browser

DISPLAY_ONLINE = "window.motcuaDisplay && window.motcuaDisplay.conn.online"
CONSOLE_READY = "window.motcuaConsole && window.motcuaConsole.state !== null"
TABLET_ONLINE = "window.motcuaTablet && window.motcuaTablet.conn && window.motcuaTablet.conn.online"

# Areas I–P after the eight default ones: a commune hall with sixteen.
MORE_AREAS = [
    ("I", "laodong", "Lao động – Thương binh và Xã hội"),
    ("J", "giaoduc", "Giáo dục – Đào tạo"),
    ("K", "yte", "Y tế – Bảo hiểm y tế"),
    ("L", "giaothong", "Giao thông – Vận tải"),
    ("M", "tainguyen", "Tài nguyên – Nước"),
    ("N", "congthuong", "Công thương"),
    ("O", "dantoc", "Dân tộc – Tôn giáo"),
    ("P", "khieunai", "Tiếp công dân – Khiếu nại, tố cáo"),
]
PREFIXES = "ABCDEFGHIJKLMNOP"


def add_areas(server: LiveServer) -> None:
    """Sixteen active areas (the default eight and I–P)."""
    six = counter_id(server.app, 6)
    for prefix, code, name in MORE_AREAS:
        server.call(hall.save_area, None, code=code, prefix=prefix, name=name, counter_ids=[six])


def open_console(new_page: Any, server: LiveServer, number: int = 1) -> Any:
    """canbo1's console at a counter, connected."""
    page = new_page(1366, 768)
    login_page(page, server, "canbo1", f"/counter/{number}")
    page.goto(server.url(f"/counter/{number}"))
    page.wait_for_function(CONSOLE_READY)
    return page


def open_tablet(new_page: Any, server: LiveServer) -> Any:
    """Counter 1's rating tablet (800x1280), connected."""
    page = new_page(800, 1280, has_touch=True)
    page.goto(server.url("/rating/?counter=1"))
    page.wait_for_function(TABLET_ONLINE)
    page.wait_for_selector('#rt:not([data-screen="setup"])')
    return page


def finish_one(server: LiveServer, area: str = "A") -> Any:
    """Issue a ticket, call it at counter 1 and finish it (the tablet then asks)."""
    view = server.call(tickets.issue_ticket, area)
    one = counter_id(server.app, 1)
    server.call(tickets.call_ticket, one, view.code)
    server.call(tickets.finish, one)
    return view


def saved_ratings(server: LiveServer) -> list[tuple[Any, ...]]:
    """(level, source) of every rating stored."""
    with server.app.app_context():
        rows = db.session.execute(sa.select(Rating.level, Rating.source).order_by(Rating.id))
        found = [tuple(r) for r in rows]
        db.session.commit()
    return found


# --------------------------------------------------------------------------- defect 1


def test_a_mis_tapped_low_rating_can_be_taken_back(live_server: LiveServer, new_page: Any) -> None:
    """Defect 1: "Không hài lòng" by mistake → "Quay lại" on the reasons screen (tablet and
    phone); walking away from the reasons screen records nothing against the officer."""
    live_server.app.config["RATING_TABLET_TIMEOUT_S"] = 2
    tablet = open_tablet(new_page, live_server)
    assert tablet.inner_text("#officer-name") == "Chưa có cán bộ tại quầy"
    open_console(new_page, live_server)  # the officer sits down: the tablet shows her at once
    tablet.wait_for_selector("#officer-name >> text=Nguyễn Thị Lan")
    finish_one(live_server)
    tablet.wait_for_selector('#rt[data-screen="ask"]')
    assert tablet.is_visible("#ask-photo") and tablet.inner_text("#ask-officer") == "Nguyễn Thị Lan"
    tablet.click('.r-level[data-level="1"]')
    tablet.wait_for_selector('#rt[data-screen="reasons"]')
    tablet.click("#reasons-back")
    tablet.wait_for_selector('#rt[data-screen="ask"]')
    tablet.click('.r-level[data-level="3"]')
    tablet.wait_for_selector('#rt[data-screen="thanks"]')
    assert saved_ratings(live_server) == [(3, "tablet")]

    # The low level tapped, then nobody: the question is recorded unanswered, not as a 1.
    second = finish_one(live_server)
    tablet.wait_for_selector(f"#ask-code >> text={second.code}")
    tablet.wait_for_selector('#rt[data-screen="ask"]')
    tablet.click('.r-level[data-level="1"]')
    tablet.wait_for_selector('#rt[data-screen="reasons"]')
    tablet.wait_for_selector('#rt[data-screen="idle"]', timeout=10_000)
    assert saved_ratings(live_server) == [(3, "tablet")]
    with live_server.app.app_context():
        skipped = db.session.scalar(
            sa.select(sa.func.count()).where(TicketEvent.kind == "rating_skipped")
        )
    assert skipped == 1

    # The phone: the same way back from the reasons.
    third = finish_one(live_server)
    phone = new_page(390, 844, has_touch=True, is_mobile=True)
    phone.goto(live_server.url(f"/t/{third.token}"))
    phone.wait_for_selector("#rating-slot[data-state=open]")
    phone.click('#rating-slot .r-level[data-level="1"]')
    phone.wait_for_selector("#rating-slot[data-state=reasons]")
    phone.click("#rating-slot .pr-back")
    phone.wait_for_selector("#rating-slot[data-state=open]")
    phone.click('#rating-slot .r-level[data-level="2"]')
    phone.wait_for_selector("#rating-slot[data-state=thanks]")
    assert saved_ratings(live_server) == [(3, "tablet"), (2, "phone")]


# --------------------------------------------------------------------------- defect 2

TILES_INSIDE = """() => {
  const vw = innerWidth, vh = innerHeight, bad = [];
  const ticker = document.querySelector('.ticker');
  const floor = ticker && getComputedStyle(ticker).display !== 'none'
    ? ticker.getBoundingClientRect().top : vh;
  const tiles = [...document.querySelectorAll('#waiting li')];
  tiles.forEach(li => {
    const r = li.getBoundingClientRect();
    const inside = r.left >= 0 && r.top >= 0 && r.right <= vw + 0.5 && r.bottom <= floor + 0.5;
    if (!(r.width > 0 && inside))
      bad.push(li.dataset.area + ' at ' + [r.left, r.top, r.right, r.bottom].map(Math.round));
    const count = parseFloat(getComputedStyle(li.querySelector('.w-count')).fontSize);
    const name = parseFloat(getComputedStyle(li.querySelector('.w-name')).fontSize);
    if (count < 36 || name < 20) bad.push(li.dataset.area + ' too small: ' + count + '/' + name);
  });
  const wanted = ['#now-code', '#now-counter', '#now-area', '.recent h2', '#clock-time'];
  wanted.forEach(sel => {
    const r = document.querySelector(sel).getBoundingClientRect();
    if (r.right > vw + 0.5 || r.bottom > floor + 0.5 || r.top < 0) bad.push(sel + ' outside');
  });
  const d = document.documentElement;
  if (d.scrollWidth > vw || d.scrollHeight > vh) bad.push('page scrolls');
  return {tiles: tiles.length, bad: bad};
}"""


def test_display_shows_every_area_at_both_sizes(live_server: LiveServer, new_page: Any) -> None:
    """Defect 2 and the fit: 1–16 areas at 1920x1080 and 1080x1920, every tile inside the
    screen above the ticker; an empty lobby message leaves no empty bar."""
    add_areas(live_server)
    issue = [live_server.call(tickets.issue_ticket, a) for a in "AABI"]
    live_server.call(tickets.call_ticket, counter_id(live_server.app, 1), issue[0].code)
    page = new_page(1920, 1080)
    for n in range(1, 17):
        page.set_viewport_size({"width": 1920, "height": 1080})
        page.goto(live_server.url("/display/?areas=" + ",".join(PREFIXES[:n])))
        for width, height in ((1920, 1080), (1080, 1920)):
            page.set_viewport_size({"width": width, "height": height})
            found = page.evaluate(TILES_INSIDE)
            assert found == {"tiles": n, "bad": []}, (n, width, height)

    live_server.call(settings.update_settings, {"DISPLAY_MESSAGE": ""}, actor_id=None)
    page.set_viewport_size({"width": 1920, "height": 1080})
    page.goto(live_server.url("/display/"))
    assert page.locator(".ticker").is_hidden()
    assert page.evaluate(TILES_INSIDE) == {"tiles": 16, "bad": []}


# --------------------------------------------------------------------------- defect 3


def test_console_keys_and_a_scanner(live_server: LiveServer, new_page: Any) -> None:
    """Defect 3: a scanned dossier code never fires a shortcut and lands in the dossier box
    wherever the focus is; "S" while calling is impossible opens no way for "B" to start."""
    for area in "AA":
        live_server.call(tickets.issue_ticket, area)
    console = open_console(new_page, live_server)
    console.keyboard.press("g")
    console.wait_for_selector("#cur-code >> text=A001")
    console.mouse.click(700, 740)  # the page's background
    code = "H12.34-241204-0001"
    console.keyboard.type(code, delay=5)  # a USB scanner: a burst of keys, then Enter
    console.keyboard.press("Enter")
    console.wait_for_function(f"document.getElementById('dossier').value === '{code}'")
    assert console.inner_text("#cur-status") == "Đã gọi – chờ công dân đến"

    # Focus in another box: the burst still goes to the dossier box, that box keeps its text.
    console.fill("#dossier", "")
    console.click("#call-code")
    console.keyboard.type("A0")
    console.wait_for_timeout(200)
    console.keyboard.type(code, delay=5)
    console.keyboard.press("Enter")
    console.wait_for_function(f"document.getElementById('dossier').value === '{code}'")
    assert console.input_value("#call-code") == "A0"
    assert console.inner_text("#cur-code") == "A001"

    # "S" (calling is not possible now), then a number typed by hand: "B" starts nothing.
    console.fill("#call-code", "")
    console.mouse.click(700, 740)
    console.keyboard.press("s")
    console.keyboard.type("B001", delay=150)
    console.wait_for_timeout(300)
    assert console.inner_text("#cur-status") == "Đã gọi – chờ công dân đến"
    with live_server.app.app_context():
        state = tickets.counter_state(counter_id(live_server.app, 1))
    assert state["current"]["status"] == "called"

    # A deliberate key on the page still works.
    console.mouse.click(700, 740)
    console.keyboard.press("b")
    console.wait_for_selector("#cur-status >> text=Đang phục vụ")


# --------------------------------------------------------------------------- defect 4


def test_the_call_flash_is_readable_in_every_frame(live_server: LiveServer, new_page: Any) -> None:
    """Defect 4: every frame of the call flash passes WCAG AA contrast; a recall says so."""
    live_server.app.config.update(ANNOUNCE_REPEAT=1, DISPLAY_FLASH_SECONDS=60)
    live_server.call(tickets.issue_ticket, "A")
    page = new_page(1920, 1080)
    page.goto(live_server.url("/display/"))
    page.wait_for_function(DISPLAY_ONLINE)
    one = counter_id(live_server.app, 1)
    live_server.call(tickets.call_next, one)
    page.wait_for_selector("#now.flash")
    for at in range(0, 1000, 100):
        page.evaluate(
            "t => document.getAnimations().forEach(a => { a.pause(); a.currentTime = t; })", at
        )
        found = violations(page)
        assert not found, f"frame at {at} ms:\n{describe(found)}"
    assert page.locator("#now-recall").is_hidden()
    live_server.call(tickets.recall, one)
    page.wait_for_selector("#now-recall", state="visible")
    assert page.inner_text("#now-recall").strip().upper() == "GỌI LẠI"


# --------------------------------------------------------------------------- defect 5


def recent_list(page: Any) -> list[tuple[str, str]]:
    """(code, counter) of the "Số vừa gọi" rows."""
    rows = page.locator("#recent li").all()
    return [
        (r.locator(".r-code").inner_text().strip(), r.locator(".r-counter").inner_text().strip())
        for r in rows
    ]


def test_recent_calls_name_each_ticket_once(live_server: LiveServer, new_page: Any) -> None:
    """Defect 5: call, recall, no-show, call again, transfer, call at counter 3: the list
    never repeats a ticket nor shows the one on the big panel (live and after a reload)."""
    live = new_page(1920, 1080)
    live.goto(live_server.url("/display/"))
    live.wait_for_function(DISPLAY_ONLINE)
    app = live_server.app
    first, other = (live_server.call(tickets.issue_ticket, a) for a in "AA")
    one, two, three = (counter_id(app, n) for n in (1, 2, 3))
    live_server.call(tickets.call_ticket, two, other.code)
    live_server.call(tickets.call_ticket, one, first.code)
    live_server.call(tickets.recall, one)
    live_server.call(tickets.mark_no_show, one)
    live_server.call(tickets.call_ticket, one, first.code)
    live_server.call(tickets.transfer, one, to_service="B", to_counter=3)
    live_server.call(tickets.call_next, three)
    live.wait_for_selector("#now-counter >> text=3")
    fresh = new_page(1920, 1080)
    fresh.goto(live_server.url("/display/"))
    for page in (live, fresh):
        assert page.inner_text("#now-code") == first.code
        assert recent_list(page) == [(other.code, "2")]


# --------------------------------------------------------------------------- the phone

RECORD_VIBRATION = (
    "window.__buzz = []; navigator.vibrate = p => { window.__buzz.push(p); return true; };"
)


def test_phone_follows_its_place_live(live_server: LiveServer, new_page: Any) -> None:
    """People ahead arrive as the queue moves (pushed, not every 30 s); the call vibrates the
    phone and retitles the tab; a recall alerts again."""
    first, second, mine = (live_server.call(tickets.issue_ticket, "A") for _ in range(3))
    phone = new_page(390, 844, has_touch=True, is_mobile=True)
    phone.add_init_script(RECORD_VIBRATION)
    phone.goto(live_server.url(f"/t/{mine.token}"))
    phone.wait_for_selector("#s-live.k-link-live")
    assert phone.inner_text("#s-ahead") == "2"
    one = counter_id(live_server.app, 1)
    live_server.call(tickets.call_next, one)
    phone.wait_for_selector("#s-ahead >> text=1", timeout=3000)
    live_server.call(tickets.cancel, second.token)
    phone.wait_for_selector("#s-ahead >> text=0", timeout=3000)
    live_server.call(tickets.finish, one)
    live_server.call(tickets.call_next, one)
    phone.wait_for_selector("#s-headline >> text=Mời Ông/Bà đến quầy số 1", timeout=3000)
    assert phone.title() == f"ĐẾN LƯỢT: {mine.code} – mời đến quầy 1"
    assert len(phone.evaluate("window.__buzz")) == 1
    live_server.call(tickets.recall, one)
    phone.wait_for_function("window.__buzz.length === 2", timeout=3000)
    assert first.code == "A001"
