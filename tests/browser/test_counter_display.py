"""Headless Chromium against a live server: console → display, announcements, restart, gaps.

Set ``MOTCUA_SCREENSHOTS=docs`` to (re)write docs/counter.png and docs/display.png.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path
from typing import Any

import pytest

from counter.console_fold import summary
from motcua.services import board, print_jobs, tickets
from tests.browser.conftest import LiveServer
from tests.conftest import PASSWORD, counter_id

pytestmark = pytest.mark.browser

DOCS = Path(__file__).resolve().parents[2] / "docs"
DISPLAY_ONLINE = "window.motcuaDisplay && window.motcuaDisplay.conn.online"
CONSOLE_READY = "window.motcuaConsole && window.motcuaConsole.state !== null"


def fast_voice(server: LiveServer) -> None:
    """Short announcements so that tests can hear several in a few seconds."""
    server.app.config.update(ANNOUNCE_REPEAT=1, ANNOUNCE_CHIME=False, VOICE_ESPEAK_SPEED=450)


def open_display(new_page: Any, server: LiveServer, query: str = "") -> Any:
    """A 1920x1080 lobby display, connected."""
    page = new_page(1920, 1080)
    page.goto(server.url("/display/" + query))
    page.wait_for_function(DISPLAY_ONLINE)
    return page


def open_console(
    new_page: Any, server: LiveServer, number: int = 1, username: str = "canbo1"
) -> Any:
    """A 1366x768 console: log in through the redirect, choose the counter, wait for its state."""
    page = new_page(1366, 768)
    page.goto(server.url("/counter/"))
    assert "/login?next=/counter/" in page.url  # anonymous visitors go to the login form
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", PASSWORD)
    page.click("button[type=submit]")
    page.click(f'a[data-counter="{number}"]')
    page.wait_for_function(CONSOLE_READY)
    return page


def issue(server: LiveServer, *areas: str, **kwargs: Any) -> list[Any]:
    """Issue tickets through the real service (real time: the live server runs on it)."""
    return [server.call(tickets.issue_ticket, a, **kwargs) for a in areas]


def test_officer_calls_next_and_the_display_shows_and_announces_it(
    live_server: LiveServer, new_page: Any
) -> None:
    """Gọi tiếp (key G) on the console: the display shows A001 → quầy 1, flashes, speaks it."""
    if shutil.which("espeak-ng") is None:
        pytest.skip("espeak-ng not installed: the server voice cannot be checked")
    fast_voice(live_server)
    issue(live_server, "A", "A", "B")
    display = open_display(new_page, live_server)
    console = open_console(new_page, live_server, 1)
    console.wait_for_selector("#queue-body td.code >> text=A001")
    assert console.inner_text("#q-count") == "2"

    console.keyboard.press("g")
    console.wait_for_selector("#message >> text=Đã gọi số A001 đến quầy 1.")
    console.wait_for_selector("#cur-code >> text=A001")
    assert console.inner_text("#cur-status") == "Đã gọi – chờ công dân đến"

    display.wait_for_selector("#now-code >> text=A001")
    assert display.inner_text("#now-counter") == "1"
    assert "flash" in display.get_attribute("#now", "class")
    display.wait_for_function(
        "window.motcuaDisplay.announced.some(a => a.code === 'A001' && a.source === 'server')"
    )
    # A001 left the queue: area A's tile went from 2 to 1 from the fact alone.
    assert display.inner_text('#waiting li[data-area="tuphap"] .w-count') == "1"

    # Start (B), then finish with a mã hồ sơ by pressing Enter in the field.
    console.keyboard.press("b")
    console.wait_for_selector("#cur-status >> text=Đang phục vụ")
    console.fill("#dossier", "H01.23-0007")
    console.press("#dossier", "Enter")
    console.wait_for_selector("#message >> text=Đã hoàn thành số A001")
    with live_server.app.app_context():
        state = tickets.counter_state(counter_id(live_server.app, 1))
    assert state["current"] is None
    assert [t["code"] for t in state["waiting"]] == ["A002"]

    # Chuyển (C): call A002, send it to Chứng thực with a note through the dialog.
    console.keyboard.press("g")
    console.wait_for_selector("#cur-code >> text=A002")
    console.keyboard.press("c")
    console.select_option("#transfer-area", "chungthuc")
    console.fill("#transfer-note", "Cần chứng thực bản sao")
    console.click("#transfer-ok")
    console.wait_for_selector("#message >> text=Đã chuyển số A002 sang Chứng thực.")
    console.wait_for_function("document.getElementById('cur-code').textContent === ''")

    # An error comes back from the server in Vietnamese: pause, then try to call.
    console.keyboard.press("t")
    console.wait_for_selector("#paused-marker:not([hidden])")
    console.evaluate("window.motcuaConsole.conn.request('call_next').then(a => window._ack = a)")
    console.wait_for_function("window._ack !== undefined")
    assert console.evaluate("window._ack.error") == "counter_paused"


def test_simultaneous_calls_are_announced_in_turn(live_server: LiveServer, new_page: Any) -> None:
    """Two counters call at the same instant: both announced, one after the other, none cut."""
    if shutil.which("espeak-ng") is None:
        pytest.skip("espeak-ng not installed: the server voice cannot be checked")
    fast_voice(live_server)
    issue(live_server, "A", "B")
    display = open_display(new_page, live_server)
    app = live_server.app
    live_server.call(tickets.call_next, counter_id(app, 1))
    live_server.call(tickets.call_next, counter_id(app, 3))
    display.wait_for_selector("#now-code >> text=B001")
    display.wait_for_function("window.motcuaDisplay.announced.length === 2", timeout=20_000)
    spoken = display.evaluate("window.motcuaDisplay.announced")
    assert [(a["code"], a["counter"], a["source"]) for a in spoken] == [
        ("A001", 1, "server"),
        ("B001", 3, "server"),
    ]
    assert spoken[0]["ended"] is not None
    assert spoken[1]["started"] >= spoken[0]["ended"]  # the second waited for the first
    assert spoken[0]["ended"] - spoken[0]["started"] > 800  # really played, not cut off
    assert display.inner_text("#recent").split() == ["A001", "1"]


FAKE_VI_VOICE = """
window.__spoken = [];
window.SpeechSynthesisUtterance = class { constructor(text) { this.text = text; } };
const viVoice = {name: "Microsoft An", lang: "vi-VN", default: false, localService: true};
Object.defineProperty(window, "speechSynthesis", {value: {
  getVoices: () => [viVoice],
  speak: u => { window.__spoken.push({text: u.text, lang: u.lang, voice: u.voice.name});
                setTimeout(() => u.onend && u.onend({}), 150); },
  cancel: () => {},
}});
"""


def test_browser_voice_is_used_when_the_machine_has_one(
    live_server: LiveServer, new_page: Any
) -> None:
    """A display PC with a vi-VN voice (Web Speech) speaks the phrase itself, repeated."""
    live_server.app.config.update(
        ANNOUNCE_REPEAT=2, ANNOUNCE_CHIME=False, VOICE_SOURCES=["browser", "server"]
    )
    issue(live_server, "A")
    page = new_page(1920, 1080)
    page.add_init_script(FAKE_VI_VOICE)
    page.goto(live_server.url("/display/"))
    page.wait_for_function(DISPLAY_ONLINE)
    live_server.call(tickets.call_next, counter_id(live_server.app, 2))
    page.wait_for_function("window.__spoken.length === 2")
    spoken = page.evaluate("window.__spoken")
    phrase = "Xin mời công dân có số thứ tự a một đến quầy số hai"
    assert spoken == [{"text": phrase, "lang": "vi-VN", "voice": "Microsoft An"}] * 2
    page.wait_for_function("window.motcuaDisplay.announced[0].ended !== null")
    assert page.evaluate("window.motcuaDisplay.announced[0].source") == "browser"


def test_display_comes_back_exact_after_a_server_restart(
    live_server: LiveServer, new_page: Any
) -> None:
    """Server dies → "mất kết nối" marker; changes happen; new server → exact state again."""
    app = live_server.app
    issue(live_server, "A", "A", "C")
    live_server.call(tickets.call_next, counter_id(app, 1))
    display = open_display(new_page, live_server)
    display.wait_for_selector("#now-code >> text=A001")

    live_server.stop()
    display.wait_for_selector("#offline:not([hidden])", timeout=12_000)
    assert "MẤT KẾT NỐI" in display.inner_text("#offline")
    # While the screen is cut off: a ticket is issued and another counter calls.
    issue(live_server, "D")
    live_server.call(tickets.call_next, counter_id(app, 4))
    live_server.call(tickets.call_next, counter_id(app, 5))

    live_server.restart()
    display.wait_for_selector("#offline", state="hidden", timeout=15_000)
    display.wait_for_selector("#now-code >> text=D001")
    with live_server.app.app_context():
        truth = board.board_snapshot()
    shown = display.evaluate(
        "({seq: window.motcuaDisplay.conn.seq, calls: window.motcuaDisplay.calls,"
        " areas: window.motcuaDisplay.areas, syncs: window.motcuaDisplay.syncs})"
    )
    assert shown["seq"] == truth["seq"]
    assert (
        [(c["code"], c["counter"]) for c in shown["calls"]]
        == [(c["code"], c["counter"]) for c in truth["calls"]]
        == [("D001", 5), ("C001", 4), ("A001", 1)]
    )
    assert [a["waiting"] for a in shown["areas"]] == [a["waiting"] for a in truth["areas"]]
    assert "reconnect" in shown["syncs"]
    tiles = display.locator("#waiting li .w-count").all_inner_texts()
    assert tiles == [str(a["waiting"]) for a in truth["areas"]]
    # The calls made while it was away are recent: they are announced, oldest first.
    requested = display.evaluate("window.motcuaDisplay.requested")
    assert [(r["code"], r["counter"]) for r in requested] == [("C001", 4), ("D001", 5)]


def test_waiting_counts_follow_the_facts_exactly(live_server: LiveServer, new_page: Any) -> None:
    """Issue, call, no-show, transfer, recall, cancel: the tiles match the server, no re-read."""
    app = live_server.app
    display = open_display(new_page, live_server)
    first, _, _, b_ticket = issue(live_server, "A", "A", "A", "B")
    one, three = counter_id(app, 1), counter_id(app, 3)
    live_server.call(tickets.call_next, one)  # A001 called
    live_server.call(tickets.mark_no_show, one)  # back in the queue
    live_server.call(tickets.call_next, one)  # A002
    live_server.call(tickets.recall, one)
    live_server.call(tickets.transfer, one, to_service="B", note="chứng thực")  # A002 → B
    live_server.call(tickets.call_next, three)  # a B ticket
    live_server.call(tickets.cancel, first.token)  # a waiting ticket cancelled
    with app.app_context():
        truth = board.board_snapshot()
    expected = [str(a["waiting"]) for a in truth["areas"]]
    display.wait_for_function(f"window.motcuaDisplay.conn.seq === {truth['seq']}")
    assert display.locator("#waiting li .w-count").all_inner_texts() == expected
    assert expected[:2] == ["1", "1"]
    assert display.evaluate("window.motcuaDisplay.syncs") == ["page", "connect"]
    assert b_ticket.code == "B001"


def console_matches(page: Any, server: LiveServer, number: int) -> dict[str, Any]:
    """The console's folded state equals a fresh counter_state (same seq); returns the truth."""
    with server.app.app_context():
        truth = tickets.counter_state(counter_id(server.app, number))
    page.wait_for_function(f"window.motcuaConsole.conn.seq === {truth['seq']}")
    assert summary(page.evaluate("window.motcuaConsole.state")) == summary(truth)
    codes = page.locator("#queue-body td.code").all_inner_texts()
    assert codes == [t["code"] for t in truth["waiting"]]
    assert page.inner_text("#q-count") == str(len(truth["waiting"]))
    assert page.inner_text("#cur-code") == (truth["current"]["code"] if truth["current"] else "")
    return truth


def test_consoles_fold_the_facts_exactly(live_server: LiveServer, new_page: Any) -> None:
    """Every kind of fact: both consoles and the display match the server, none re-reads."""
    app = live_server.app
    display = open_display(new_page, live_server)
    one = open_console(new_page, live_server, 1)  # area A
    two = open_console(new_page, live_server, 2, "canbo2")  # areas A and B
    first, _, _, _, _ = issue(live_server, "A", "A", "B", "A", "B")
    issue(live_server, "A", priority="elderly")  # A004, called first (strict priority)
    c1, c2, c3 = (counter_id(app, n) for n in (1, 2, 3))
    live_server.call(tickets.call_next, c1)  # A004
    live_server.call(tickets.mark_no_show, c1)  # back in the queue
    two.keyboard.press("g")  # counter 2 calls through its own console: A004 again
    two.wait_for_selector("#cur-code >> text=A004")
    live_server.call(tickets.recall, c2)
    live_server.call(tickets.start_service, c2)
    live_server.call(tickets.finish, c2, dossier_code="H01.23-0002")
    live_server.call(tickets.call_next, c3)  # B001
    live_server.call(tickets.transfer, c3, to_service="A", note="sang hộ tịch")
    live_server.call(tickets.call_next, c2)  # A001
    live_server.call(tickets.transfer, c2, to_counter=1)  # only counter 1 holds it now
    [later] = issue(live_server, "A")
    live_server.call(tickets.cancel, later.token)  # a waiting ticket
    live_server.call(print_jobs.record_print_result, first.token, ok=True)  # print_status
    one.keyboard.press("t")  # pause, through the console
    one.wait_for_selector("#paused-marker:not([hidden])")
    truth = console_matches(one, live_server, 1)
    assert truth["counter"]["paused"] is True
    assert [t["code"] for t in truth["waiting"]][:2] == ["A001", "A002"]
    assert console_matches(two, live_server, 2)["current"] is None
    assert one.evaluate("window.motcuaConsole.syncs") == ["connect"]
    assert two.evaluate("window.motcuaConsole.syncs") == ["connect"]
    display.wait_for_function(f"window.motcuaDisplay.conn.seq === {truth['seq']}")
    assert display.evaluate("window.motcuaDisplay.syncs") == ["page", "connect"]


def test_a_console_that_missed_a_fact_resyncs(live_server: LiveServer, new_page: Any) -> None:
    """A lost ticket_issued leaves a hole in seq: the next fact re-reads the console's state."""
    page = open_console(new_page, live_server, 1)
    page.evaluate(
        "const s = window.motcuaConsole.conn.socket; window._wire = [];"
        "s.onAny(name => window._wire.push(name));"
        "window._h = s.listeners('ticket_issued')[0]; s.off('ticket_issued', window._h);"
    )
    issue(live_server, "A")
    page.wait_for_function("window._wire.includes('ticket_issued')")  # arrived, unheard
    page.evaluate("window.motcuaConsole.conn.socket.on('ticket_issued', window._h)")
    assert page.locator("#queue-body td.code").all_inner_texts() == []
    issue(live_server, "B")  # counter 1 does not serve B, but the fact's seq shows the hole
    page.wait_for_function("window.motcuaConsole.syncs.includes('gap')")
    page.wait_for_selector("#queue-body td.code >> text=A001")
    console_matches(page, live_server, 1)


def test_a_lost_fact_is_noticed_and_resynced(live_server: LiveServer, new_page: Any) -> None:
    """A fact that never arrives leaves a hole in seq: the next fact triggers a re-sync."""
    display = open_display(new_page, live_server)
    # Deafen the display to ticket_issued for a moment, as a lost packet would.
    display.evaluate(
        "const s = window.motcuaDisplay.conn.socket; window._wire = [];"
        "s.onAny(name => window._wire.push(name));"
        "window._h = s.listeners('ticket_issued')[0]; s.off('ticket_issued', window._h);"
    )
    issue(live_server, "B")
    display.wait_for_function("window._wire.includes('ticket_issued')")  # arrived, unheard
    display.evaluate("window.motcuaDisplay.conn.socket.on('ticket_issued', window._h)")
    live_server.call(tickets.call_next, counter_id(live_server.app, 3))
    display.wait_for_function("window.motcuaDisplay.syncs.includes('gap')")
    display.wait_for_selector("#now-code >> text=B001")
    with live_server.app.app_context():
        seq = board.board_snapshot()["seq"]
    display.wait_for_function(f"window.motcuaDisplay.conn.seq === {seq}")


def test_a_display_offline_while_a_setting_was_saved_reloads_with_it(
    live_server: LiveServer, new_page: Any
) -> None:
    """settings_changed never reaches a screen that is offline: on reconnect the display sees
    that its page was rendered with other settings (/settings/version) and reloads."""
    from motcua.services import settings

    display = open_display(new_page, live_server)
    display.evaluate("window.oldPage = true; window.motcuaDisplay.conn.socket.disconnect()")
    display.wait_for_function("!window.motcuaDisplay.conn.online")
    message = "Thông báo mới, lưu khi màn hình đang mất kết nối"
    live_server.call(settings.update_settings, {"DISPLAY_MESSAGE": message}, actor_id=None)
    display.evaluate("window.motcuaDisplay.conn.socket.connect()")
    display.locator("#ticker", has_text=message).wait_for(timeout=15_000)
    assert display.evaluate("window.oldPage === undefined")  # a new document, not a patch


def test_screens_fit_their_resolution(
    live_server: LiveServer, new_page: Any, tmp_path: Path
) -> None:
    """A busy morning on both screens: nothing overflows 1366x768 / 1920x1080; screenshots."""
    app = live_server.app
    app.config["ANNOUNCE_REPEAT"] = 1
    for area in "AAAAABBBCCDEEEH":
        issue(live_server, area)
    issue(live_server, "A", priority="elderly")
    for number in (1, 3, 4, 5, 6):
        live_server.call(tickets.call_next, counter_id(app, number))
    live_server.call(tickets.start_service, counter_id(app, 3))
    issue(live_server, "B", priority="pregnant")
    issue(live_server, "A", priority="disabled")
    console = open_console(new_page, live_server, 2, "canbo2")
    problems: list[str] = []  # CSP violations, script errors, failed loads
    console.on("console", lambda m: problems.append(m.text) if m.type == "error" else None)
    console.on("pageerror", lambda e: problems.append(str(e)))
    console.wait_for_selector("#queue-body tr.priority")
    console.keyboard.press("g")
    console.wait_for_selector("#message >> text=Đã gọi số B004 đến quầy 2.")
    console.wait_for_selector("#cur-priority >> text=Phụ nữ mang thai")
    display = new_page(1920, 1080)
    display.on("console", lambda m: problems.append(m.text) if m.type == "error" else None)
    display.on("pageerror", lambda e: problems.append(str(e)))
    display.goto(live_server.url("/display/"))
    display.wait_for_function(DISPLAY_ONLINE)
    display.wait_for_selector("#recent li")
    overflow = (
        "(() => { const d = document.documentElement;"
        " return d.scrollWidth > innerWidth || d.scrollHeight > innerHeight; })()"
    )
    assert console.evaluate(overflow) is False
    assert display.evaluate(overflow) is False
    # Every area tile and the latest call are fully on screen.
    inside = (
        "sel => [...document.querySelectorAll(sel)].every(e => { const r ="
        " e.getBoundingClientRect(); return r.right <= innerWidth && r.bottom <= innerHeight"
        " && r.width > 0; })"
    )
    assert display.evaluate(inside, "#waiting li") is True
    assert display.evaluate(inside, "#now-code, #now-counter, .hall-name, #clock-time") is True
    assert console.evaluate(inside, ".act") is True
    assert console.evaluate("document.querySelectorAll('.act').length") == 8
    target = DOCS if os.environ.get("MOTCUA_SCREENSHOTS") == "docs" else tmp_path
    display.wait_for_timeout(300)
    console.screenshot(path=str(target / "counter.png"))
    display.evaluate("document.getElementById('now').classList.remove('flash')")
    # Freeze the scrolling message where it can be read.
    display.evaluate(
        "const t = document.getElementById('ticker');"
        "t.style.animation = 'none'; t.style.paddingLeft = '48px';"
    )
    display.screenshot(path=str(target / "display.png"))
    assert (target / "display.png").stat().st_size > 20_000
    assert problems == []
