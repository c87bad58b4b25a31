"""The console's HTML pages: login redirect, role check, counter choice, the console itself."""

from __future__ import annotations

import json
import re
from typing import Any

from flask import Flask

from tests.conftest import counter_id, login


def test_console_sends_anonymous_visitors_to_login(client: Any) -> None:
    """/counter/ without a session redirects to the login form, coming back afterwards."""
    page = client.get("/counter/")
    assert page.status_code == 302
    assert page.headers["Location"] == "/login?next=/counter/"
    back = login(client)
    assert back.status_code == 302


def test_console_is_for_officers(client: Any) -> None:
    """A leader is refused with a Vietnamese 403 page."""
    login(client, "lanhdao")
    page = client.get("/counter/")
    assert page.status_code == 403
    assert "không có quyền" in page.get_data(as_text=True)


def test_officer_chooses_a_counter(client: Any) -> None:
    """The chooser lists the 6 counters with their areas."""
    login(client)
    html = client.get("/counter/").get_data(as_text=True)
    assert "Chọn quầy làm việc" in html and "Nguyễn Thị Lan" in html
    assert re.findall(r'data-counter="(\d+)"', html) == ["1", "2", "3", "4", "5", "6"]
    assert "Tư pháp – Hộ tịch" in html


def test_console_page_has_every_action_and_its_shortcut(client: Any, app: Flask) -> None:
    """/counter/2: buttons with shortcuts, mã hồ sơ field, transfer targets, Vietnamese text."""
    login(client)
    page = client.get("/counter/2")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    verbs = dict(re.findall(r'data-verb="(\w+)" data-key="(\w)"', html))
    assert verbs == {
        "call_next": "g",
        "recall": "l",
        "no_show": "v",
        "start": "b",
        "finish": "h",
        "transfer": "c",
        "call_ticket": "s",
        "pause": "t",
    }
    for label in (
        "Gọi tiếp",
        "Gọi lại",
        "Vắng mặt",
        "Bắt đầu",
        "Hoàn thành",
        "Chuyển",
        "Tạm nghỉ",
        "Mã hồ sơ",
        "Mất kết nối",
    ):
        assert label in html, label
    config = json.loads(re.search(r'id="console-config"[^>]*>(.*?)</script>', html, re.S)[1])
    assert config["counter_id"] == counter_id(app, 2) and config["counter"] == 2
    assert config["messages"]["called"] == "Đã gọi số {code} đến quầy {counter}."
    targets = re.findall(r'<option value="(\d+)">Quầy', html)
    assert targets == ["1", "3", "4", "5", "6"]  # not itself
    assert client.get("/counter/99").status_code == 404


def test_fixed_counter_skips_the_choice(client: Any, app: Flask) -> None:
    """COUNTER_ASSIGNMENTS sends the officer straight (and only) to their counter."""
    app.config["COUNTER_ASSIGNMENTS"] = {"canbo1": 4}
    login(client)
    assert client.get("/counter/").headers["Location"] == "/counter/4"
    assert client.get("/counter/1").headers["Location"] == "/counter/4"
    html = client.get("/counter/4").get_data(as_text=True)
    assert "Đổi quầy" not in html
