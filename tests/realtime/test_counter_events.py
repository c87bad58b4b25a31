"""The /counter namespace: every console verb over Socket.IO, acked, with the facts it publishes."""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any

from flask import Flask
from flask_socketio import SocketIOTestClient

from motcua import realtime
from motcua.extensions import socketio
from tests.conftest import counter_id, login
from tests.realtime.conftest import Clock, events


def user_id(app: Flask, username: str) -> int:
    """A user's row id."""
    import sqlalchemy as sa

    from db import db
    from db.models import User

    with app.app_context():
        found = db.session.scalar(sa.select(User.id).where(User.username == username))
    assert found is not None
    return int(found)


NS = "/counter"
Console = Callable[..., SocketIOTestClient]


def act(client: SocketIOTestClient, verb: str, data: dict[str, Any] | None = None) -> Any:
    """Send a verb and return its acknowledgement."""
    return client.emit(verb, data or {}, namespace=NS, callback=True)


def snapshot(client: SocketIOTestClient) -> dict[str, Any]:
    """The console's current state via the ``snapshot`` verb."""
    ack = act(client, "snapshot")
    assert ack["ok"] is True, ack
    return ack


def test_connect_needs_an_officer_and_a_real_counter(app: Flask) -> None:
    """Anonymous, leader and unknown-counter connections are refused; an officer gets in."""
    cid = counter_id(app, 1)
    anonymous = socketio.test_client(app, namespace=NS, auth={"counter_id": cid})
    assert not anonymous.is_connected(NS)

    leader = app.test_client()
    login(leader, "lanhdao")
    refused = socketio.test_client(
        app, namespace=NS, flask_test_client=leader, auth={"counter_id": cid}
    )
    assert not refused.is_connected(NS)

    officer = app.test_client()
    login(officer, "canbo1")
    for auth in ({"counter_id": 9999}, {}, {"counter_id": "quầy một"}):
        bad = socketio.test_client(app, namespace=NS, flask_test_client=officer, auth=auth)
        assert not bad.is_connected(NS), auth
    good = socketio.test_client(
        app, namespace=NS, flask_test_client=officer, auth={"counter_id": cid}
    )
    assert good.is_connected(NS)
    good.disconnect(NS)


def test_fixed_counter_assignment_is_enforced(app: Flask) -> None:
    """COUNTER_ASSIGNMENTS pins an officer to a counter: another counter is refused."""
    app.config["COUNTER_ASSIGNMENTS"] = {"canbo1": 2}
    http = app.test_client()
    login(http, "canbo1")
    other = socketio.test_client(
        app, namespace=NS, flask_test_client=http, auth={"counter_id": counter_id(app, 1)}
    )
    assert not other.is_connected(NS)
    mine = socketio.test_client(
        app, namespace=NS, flask_test_client=http, auth={"counter_id": counter_id(app, 2)}
    )
    assert mine.is_connected(NS)
    mine.disconnect(NS)


def test_snapshot_lists_the_counters_queue(console: Console, make_ticket: Any) -> None:
    """The snapshot has the counter, no current ticket, its areas' waiting tickets and seq."""
    make_ticket("A")
    make_ticket("A", priority="elderly")
    make_ticket("B")  # counter 1 serves A only
    state = snapshot(console(1))
    assert state["counter"]["number"] == 1
    assert [a["prefix"] for a in state["counter"]["areas"]] == ["A"]
    assert state["current"] is None
    assert [t["code"] for t in state["waiting"]] == ["A002", "A001"]  # strict priority first
    assert state["waiting"][0]["priority_label"] == "Người cao tuổi"
    assert state["seq"] == 4  # three tickets, and canbo1 taking the seat as the console opened


def test_call_next_acks_the_ticket_and_publishes_the_call(
    console: Console, display: Callable[..., SocketIOTestClient], make_ticket: Any
) -> None:
    """Gọi tiếp: the ack carries the ticket; every display gets ticket_called with seq."""
    make_ticket("A")
    board = display()
    events(board, "/display")
    desk = console(1)
    ack = act(desk, "call_next")
    assert ack["ok"] is True
    assert ack["ticket"]["code"] == "A001"
    assert ack["ticket"]["status"] == "called"
    assert ack["ticket"]["counter_number"] == 1
    [fact] = events(board, "/display", "ticket_called")
    assert fact["seq"] == ack["seq"] == 3  # after the ticket and canbo1 taking the seat
    assert fact["counter"] == 1 and fact["recall"] is False
    assert fact["officer"] == user_id(desk.app, "canbo1")  # the tablet's card follows it
    assert fact["ticket"]["code"] == "A001"
    assert set(fact["ticket"]) <= realtime.PUBLIC_TICKET_FIELDS  # what a stranger may see
    assert [e["seq"] for e in events(desk, NS, "ticket_called")] == [3]
    state = snapshot(desk)
    assert state["current"]["code"] == "A001" and state["waiting"] == []


def test_call_next_errors_come_back_in_vietnamese(console: Console, make_ticket: Any) -> None:
    """An empty queue and a busy counter are refused with a code and a Vietnamese message."""
    desk = console(1)
    empty = act(desk, "call_next")
    assert empty["ok"] is False
    assert empty["error"] == "queue_empty"
    assert "không có công dân nào đang chờ" in empty["message"]
    make_ticket("A")
    make_ticket("A")
    assert act(desk, "call_next")["ok"] is True
    busy = act(desk, "call_next")
    assert busy["error"] == "counter_busy"
    assert "Quầy đang phục vụ một số thứ tự khác" in busy["message"]


def test_recall_announces_again(
    console: Console, display: Callable[..., SocketIOTestClient], make_ticket: Any
) -> None:
    """Gọi lại: the same ticket is called again, flagged as a recall."""
    make_ticket("A")
    desk = console(1)
    assert act(desk, "recall")["error"] == "no_current_ticket"
    act(desk, "call_next")
    board = display()
    ack = act(desk, "recall")
    assert ack["ok"] is True and ack["ticket"]["call_count"] == 2
    [fact] = events(board, "/display", "ticket_called")
    assert fact["recall"] is True and fact["ticket"]["code"] == "A001"
    assert "officer" not in fact  # a recall never changes who sits at the counter


def test_no_show_requeues_then_ends(console: Console, make_ticket: Any, clock: Clock) -> None:
    """Vắng mặt: back of the queue on the first miss, ended on the second (NOSHOW_MAX_MISSES=2)."""
    make_ticket("A")
    make_ticket("A")
    desk = console(1)
    act(desk, "call_next")
    clock.advance(3)
    first = act(desk, "no_show")
    assert first["ok"] is True
    assert first["ticket"]["status"] == "waiting" and first["ticket"]["misses"] == 1
    assert [t["code"] for t in snapshot(desk)["waiting"]] == ["A002", "A001"]
    assert act(desk, "call_ticket", {"code": "a001"})["ticket"]["code"] == "A001"
    second = act(desk, "no_show")
    assert second["ticket"]["status"] == "no_show"
    assert [e["ticket"]["code"] for e in events(desk, NS, "ticket_no_show")] == ["A001", "A001"]


def test_start_then_finish_with_dossier_code(console: Console, make_ticket: Any) -> None:
    """Bắt đầu then Hoàn thành with a mã hồ sơ; the finish fact names the counter (rating)."""
    make_ticket("A")
    desk = console(1)
    assert act(desk, "start")["error"] == "no_current_ticket"
    act(desk, "call_next")
    started = act(desk, "start")
    assert started["ticket"]["status"] == "serving"
    assert act(desk, "start")["error"] == "invalid_transition"
    assert act(desk, "no_show")["error"] == "invalid_transition"
    done = act(desk, "finish", {"dossier_code": "  H01.23-261123-0007  "})
    assert done["ok"] is True
    assert done["ticket"]["status"] == "finished"
    assert done["ticket"]["dossier_code"] == "H01.23-261123-0007"
    [fact] = events(desk, NS, "ticket_finished")
    assert fact["counter_id"] == snapshot(desk)["counter"]["id"]
    assert fact["counter"] == 1
    assert snapshot(desk)["current"] is None


def test_finish_without_start_and_without_dossier(console: Console, make_ticket: Any) -> None:
    """Hoàn thành straight after the call works; no mã hồ sơ is fine."""
    make_ticket("A")
    desk = console(1)
    act(desk, "call_next")
    done = act(desk, "finish", {"dossier_code": ""})
    assert done["ticket"]["status"] == "finished" and done["ticket"]["dossier_code"] is None


def test_transfer_to_another_area_with_a_note(console: Console, make_ticket: Any) -> None:
    """Chuyển to area B: waiting again at counters serving B, marked as transferred."""
    make_ticket("A")
    desk = console(1)
    act(desk, "call_next")
    ack = act(desk, "transfer", {"to_service": "B", "note": "Cần chứng thực bản sao"})
    assert ack["ok"] is True
    assert ack["ticket"]["status"] == "waiting"
    assert ack["ticket"]["area_prefix"] == "B"
    assert ack["ticket"]["transferred_from"] == "Tư pháp – Hộ tịch"
    [fact] = events(desk, NS, "ticket_transferred")
    assert fact["seq"] == ack["seq"]
    assert snapshot(desk)["current"] is None
    b_desk = console(3)
    assert [t["code"] for t in snapshot(b_desk)["waiting"]] == ["A001"]
    act(b_desk, "call_next")
    assert snapshot(b_desk)["current"]["transferred_from"] == "Tư pháp – Hộ tịch"


def test_transfer_to_a_given_counter(console: Console, make_ticket: Any) -> None:
    """Chuyển to counter 2: only counter 2 sees it, not the other A counter."""
    make_ticket("A")
    desk = console(1)
    act(desk, "call_next")
    ack = act(desk, "transfer", {"to_counter": 2})
    assert ack["ok"] is True
    assert snapshot(desk)["waiting"] == []
    assert [t["code"] for t in snapshot(console(2, "canbo2"))["waiting"]] == ["A001"]


def test_transfer_needs_a_target(console: Console, make_ticket: Any) -> None:
    """Chuyển with neither area nor counter, or to an unknown counter, is refused."""
    make_ticket("A")
    desk = console(1)
    act(desk, "call_next")
    assert act(desk, "transfer", {"note": "?"})["error"] == "invalid_request"
    assert act(desk, "transfer", {"to_counter": 42})["error"] == "counter_not_found"
    assert act(desk, "transfer", {"to_counter": "hai"})["error"] == "invalid_request"
    assert act(desk, "transfer", {"to_service": "Z"})["error"] == "service_not_found"
    assert snapshot(desk)["current"]["code"] == "A001"  # nothing moved


def test_call_a_given_number(console: Console, make_ticket: Any) -> None:
    """Gọi số cụ thể: out of order, case-insensitive; unknown or taken numbers refused."""
    for _ in range(3):
        make_ticket("A")
    desk = console(1)
    assert act(desk, "call_ticket", {})["error"] == "invalid_request"
    assert act(desk, "call_ticket", {"code": "A999"})["error"] == "ticket_not_found"
    ack = act(desk, "call_ticket", {"code": " a003 "})
    assert ack["ok"] is True and ack["ticket"]["code"] == "A003"
    act(desk, "finish")
    other = console(2, "canbo2")
    act(other, "call_ticket", {"code": "A001"})
    taken = act(desk, "call_ticket", {"code": "A001"})
    assert taken["error"] == "invalid_transition"


def test_pause_blocks_calls_until_resumed(
    console: Console, display: Callable[..., SocketIOTestClient], make_ticket: Any
) -> None:
    """Tạm nghỉ: counter_changed is published and a paused counter gets no calls."""
    make_ticket("A")
    desk = console(1)
    board = display()
    assert act(desk, "pause", {"paused": "yes"})["error"] == "invalid_request"
    paused = act(desk, "pause", {"paused": True})
    assert paused == {"ok": True, "counter": 1, "paused": True, "seq": 3}
    [fact] = events(board, "/display", "counter_changed")
    assert fact == {"seq": 3, "counter": 1, "paused": True, "officer": user_id(desk.app, "canbo1")}
    refused = act(desk, "call_next")
    assert refused["error"] == "counter_paused"
    assert "tạm nghỉ" in refused["message"]
    assert act(desk, "call_ticket", {"code": "A001"})["error"] == "counter_paused"
    assert snapshot(desk)["counter"]["paused"] is True
    assert act(desk, "pause", {"paused": False})["paused"] is False
    assert act(desk, "call_next")["ticket"]["code"] == "A001"


def test_bad_payloads_are_refused_not_crashed(console: Console) -> None:
    """A non-object argument gets a clean invalid_request ack."""
    desk = console(1)
    assert desk.emit("call_ticket", "A001", namespace=NS, callback=True)["error"] == (
        "invalid_request"
    )
    assert act(desk, "finish", {"dossier_code": 123})["error"] == "invalid_request"


def test_two_counters_call_next_at_the_same_instant(
    app: Flask, console: Console, make_ticket: Any
) -> None:
    """Counters 1 and 2 (both serve A) call together, 8 rounds: never the same ticket."""
    rounds = 8
    for _ in range(rounds * 2):
        make_ticket("A")
    desks = [console(1, "canbo1"), console(2, "canbo2")]
    barrier = threading.Barrier(2)
    acks: dict[int, list[Any]] = {0: [], 1: []}

    def work(i: int) -> None:
        for _ in range(rounds):
            barrier.wait(timeout=10)
            ack = act(desks[i], "call_next")
            acks[i].append(ack)
            barrier.wait(timeout=10)
            act(desks[i], "finish")

    threads = [threading.Thread(target=work, args=(i,)) for i in (0, 1)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    assert all(not t.is_alive() for t in threads)
    all_acks = acks[0] + acks[1]
    assert all(a["ok"] for a in all_acks), [a for a in all_acks if not a["ok"]]
    codes = [a["ticket"]["code"] for a in all_acks]
    assert len(codes) == rounds * 2
    assert sorted(codes) == [f"A{n:03d}" for n in range(1, rounds * 2 + 1)]
    for i, number in ((0, 1), (1, 2)):
        assert {a["ticket"]["counter_number"] for a in acks[i]} == {number}
    seqs = sorted(a["seq"] for a in all_acks)
    assert len(set(seqs)) == len(seqs)  # every call its own fact
