"""The /display namespace and the display's HTTP endpoints: snapshot, facts, filters, voice."""

from __future__ import annotations

import json
import re
import shutil
import wave
from collections.abc import Callable
from io import BytesIO
from pathlib import Path
from typing import Any

from flask import Flask
from flask_socketio import SocketIOTestClient

from motcua.services import tickets
from tests.conftest import counter_id
from tests.realtime.conftest import Clock, events
from tests.support.parts import missing_part

NS = "/display"
Display = Callable[..., SocketIOTestClient]


def board(client: SocketIOTestClient) -> dict[str, Any]:
    """The display's snapshot via the ``snapshot`` verb."""
    ack = client.emit("snapshot", {}, namespace=NS, callback=True)
    assert ack["ok"] is True, ack
    return ack


def call(app: Flask, number: int) -> Any:
    """Call the next ticket at a counter, through the service the console uses."""
    with app.app_context():
        return tickets.call_next(counter_id(app, number))


def test_anyone_can_watch_the_board(display: Display, make_ticket: Any) -> None:
    """No login: the snapshot has the hall, every area with its waiting count, and seq."""
    make_ticket("A")
    make_ticket("A")
    make_ticket("C")
    snap = board(display())
    assert snap["site"]["name"] == "TRUNG TÂM PHỤC VỤ HÀNH CHÍNH CÔNG"
    assert snap["site"]["unit_name"] == "PHƯỜNG BA ĐÌNH"
    waiting = {a["prefix"]: a["waiting"] for a in snap["areas"]}
    assert waiting == {"A": 2, "B": 0, "C": 1, "D": 0, "E": 0, "F": 0, "G": 0, "H": 0}
    assert snap["calls"] == []
    assert snap["seq"] == 3
    assert len(snap["counters"]) == 6


def test_facts_arrive_in_seq_order_and_match_the_next_snapshot(
    app: Flask, display: Display, make_ticket: Any, clock: Clock
) -> None:
    """Each fact carries seq + 1; a snapshot taken afterwards is exact at the last seq."""
    screen = display()
    before = board(screen)["seq"]
    make_ticket("A")
    make_ticket("B")
    clock.advance(1)
    call(app, 1)
    clock.advance(1)
    call(app, 3)
    got = screen.get_received(NS)
    assert [g["name"] for g in got] == [
        "ticket_issued",
        "ticket_issued",
        "ticket_called",
        "ticket_called",
    ]
    seqs = [g["args"][0]["seq"] for g in got]
    assert seqs == list(range(before + 1, before + 5))
    snap = board(screen)
    assert snap["seq"] == seqs[-1]
    assert [(c["code"], c["counter"]) for c in snap["calls"]] == [("B001", 3), ("A001", 1)]
    assert {a["prefix"]: a["waiting"] for a in snap["areas"]}["A"] == 0
    assert {c["number"]: c["ticket"] for c in snap["counters"]}[1] == "A001"


def test_reconnect_gets_what_was_missed(
    app: Flask, display: Display, make_ticket: Any, clock: Clock
) -> None:
    """Facts sent while a display was away are lost; its next snapshot has them all."""
    screen = display()
    board(screen)
    screen.disconnect(NS)
    make_ticket("A")
    clock.advance(2)
    view = call(app, 2)
    screen.connect(namespace=NS)
    assert screen.is_connected(NS)
    assert events(screen, NS) == []  # nothing replayed: the snapshot is the truth
    snap = board(screen)
    assert snap["seq"] == view.seq
    assert snap["calls"][0]["code"] == "A001" and snap["calls"][0]["counter"] == 2


def test_filters_limit_areas_and_calls(app: Flask, display: Display, make_ticket: Any) -> None:
    """?areas=B shows only area B; ?counters=3 only calls made at counter 3."""
    make_ticket("A")
    make_ticket("B")
    call(app, 1)
    call(app, 3)
    only_b = board(display(areas="B"))
    assert [a["prefix"] for a in only_b["areas"]] == ["B"]
    assert [c["code"] for c in only_b["calls"]] == ["B001"]
    only_3 = board(display(counters="3"))
    assert [c["counter"] for c in only_3["calls"]] == [3]
    assert [c["number"] for c in only_3["counters"]] == [3]
    everything = board(display(areas="", counters="x,,"))
    assert len(everything["calls"]) == 2


def test_board_page_renders_hall_and_filter(client: Any, make_ticket: Any) -> None:
    """GET /display/ is public, shows the hall name and embeds the filter and the snapshot."""
    make_ticket("B")
    page = client.get("/display/?areas=A,B&counters=1,2,3")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert "TRUNG TÂM PHỤC VỤ HÀNH CHÍNH CÔNG" in html and "PHƯỜNG BA ĐÌNH" in html
    assert "MẤT KẾT NỐI" in html
    assert "/static/vendor/socket.io/socket.io.min.js" in html and "/static/js/live.js" in html
    config = json.loads(re.search(r'id="board-config"[^>]*>(.*?)</script>', html, re.S).group(1))
    assert config["settings"]["filter"] == {
        "areas": ["A", "B"],
        "counters": [1, 2, 3],
        "site": None,
    }
    assert [a["prefix"] for a in config["snapshot"]["areas"]] == ["A", "B"]
    assert config["snapshot"]["areas"][1]["waiting"] == 1
    assert config["settings"]["voice"]["sources"] == ["browser", "server"]  # no clip pack
    assert config["weekdays"][1] == "Thứ Hai"


def test_socketio_client_is_served_by_the_app(client: Any) -> None:
    """The vendored socket.io client and the shared live.js come from the app, not a CDN."""
    script = client.get("/static/vendor/socket.io/socket.io.min.js")
    assert script.status_code == 200
    assert b"Socket.IO v4." in script.data[:200]
    script.close()
    live = client.get("/static/js/live.js")
    assert b"MotcuaLive" in live.data and b'"snapshot"' in live.data
    live.close()
    license_file = Path(__file__).resolve().parents[2] / "motcua/static/vendor/socket.io/LICENSE"
    assert "MIT" in license_file.read_text()


def test_announcement_text_follows_the_template(client: Any, app: Flask) -> None:
    """The phrase reads the number as Vietnamese words; template and linh are settings."""
    got = client.get("/display/announce/A012/2").get_json()
    assert got["text"] == "Xin mời công dân có số thứ tự a mười hai đến quầy số hai"
    assert got["audio"] == {"server": "/display/voice/A012/2.wav?source=server"}
    assert got["chime"] == "/display/sounds/chime.wav" and got["repeat"] == 2
    app.config["ANNOUNCE_TEMPLATE"] = "Mời khách hàng số {so} tới quầy {quay}"
    app.config["ANNOUNCE_LINH"] = "lẻ"
    got = client.get("/display/announce/B1005/14").get_json()
    assert got["text"] == "Mời khách hàng số bê một nghìn không trăm lẻ năm tới quầy mười bốn"
    assert client.get("/display/announce/..%2Fetc/2").status_code == 404
    assert client.get("/display/announce/A012/0").status_code == 404


def test_voice_wav_is_rendered_offline_and_cached(client: Any, app: Flask, tmp_path: Path) -> None:
    """The server voice (espeak-ng) renders a WAV once; the second request hits the cache."""
    if shutil.which("espeak-ng") is None:
        missing_part("espeak-ng not installed (apt-get install espeak-ng; .ci/run does)")
    app.instance_path = str(tmp_path)
    app.config["ANNOUNCE_REPEAT"] = 1
    first = client.get("/display/voice/A012/2.wav?source=server")
    assert first.status_code == 200 and first.mimetype == "audio/wav"
    assert first.headers["X-Voice-Source"] == "server"
    assert first.headers["X-Voice-Cached"] == "0"
    with wave.open(BytesIO(first.data)) as w:
        seconds = w.getnframes() / w.getframerate()
    assert 3.0 < seconds < 9.0  # chime 1.1 s + one phrase of about 4 s
    assert len(list((tmp_path / "voice-cache").glob("*.wav"))) == 1
    second = client.get("/display/voice/A012/2.wav?source=server")
    assert second.headers["X-Voice-Cached"] == "1" and second.data == first.data


def test_voice_wav_without_a_clip_pack_is_unavailable(
    client: Any, app: Flask, tmp_path: Path
) -> None:
    """Asking for clips when the hall has recorded none answers 503 in Vietnamese."""
    app.instance_path = str(tmp_path)
    missing = client.get("/display/voice/A012/2.wav?source=clips")
    assert missing.status_code == 503
    assert missing.get_json()["error"] == "voice_unavailable"
    assert "giọng nói" in missing.get_json()["message"]
    assert client.get("/display/voice/A012/2.wav?source=browser").status_code == 404
    chime = client.get("/display/sounds/chime.wav")
    assert chime.status_code == 200 and chime.data[:4] == b"RIFF"
    chime.close()
    app.config["ANNOUNCE_CHIME"] = False
    assert client.get("/display/sounds/chime.wav").status_code == 404
    assert client.get("/display/announce/A012/2").get_json()["chime"] is None


def test_voice_wav_from_a_recorded_clip_pack(client: Any, app: Flask, tmp_path: Path) -> None:
    """With VOICE_CLIPS_DIR set, the clips source joins the hall's recordings (cached too)."""
    from display import voice

    pack = tmp_path / "clips"
    pack.mkdir()
    words = "xin mời công dân có số thứ tự a mười hai đến quầy".split()
    for word in words:
        (pack / voice.clip_filename(word)).write_bytes(voice.to_wav_bytes(voice.silence(0.1)))
    app.instance_path = str(tmp_path)
    app.config.update(VOICE_CLIPS_DIR=str(pack), ANNOUNCE_REPEAT=2, ANNOUNCE_CHIME=False)
    info = client.get("/display/announce/A012/2").get_json()
    assert list(info["audio"]) == ["clips", "server"]  # VOICE_SOURCES order, browser aside
    wav = client.get(info["audio"]["clips"])
    assert wav.status_code == 200 and wav.headers["X-Voice-Source"] == "clips"
    # 14 words x 0.1 s, twice, with the 0.7 s pause between: about 3.5 s.
    assert 3.0 < voice.wav_duration(wav.data) < 4.0
    (pack / voice.clip_filename("quầy")).unlink()  # one word missing: the whole phrase refused
    app.config["VOICE_CLIPS_DIR"] = str(pack)
    assert client.get("/display/voice/A013/2.wav?source=clips").status_code == 503


def test_call_fact_and_snapshot_agree_on_the_call(
    app: Flask, display: Display, make_ticket: Any, clock: Clock
) -> None:
    """The display keys a call by code, counter and time: fact and snapshot must match."""
    make_ticket("A")
    screen = display()
    call(app, 1)
    clock.advance(0.5)
    with app.app_context():
        tickets.recall(counter_id(app, 1))
    facts = events(screen, NS, "ticket_called")
    snap = board(screen)
    from_facts = [
        (f["ticket"]["code"], f["counter"], f["ticket"]["called_at"], f["recall"])
        for f in reversed(facts)
    ]
    from_snapshot = [(c["code"], c["counter"], c["at"], c["recall"]) for c in snap["calls"]]
    assert from_facts == from_snapshot
    assert from_snapshot[0][3] is True and from_snapshot[1][3] is False
