"""Consoles fold facts into their snapshot: after every kind of fact, the same as a fresh read.

Five consoles (Socket.IO test clients on /counter, real SQLite file) take one snapshot each,
then only fold the facts they receive (counter/console_fold.py, the twin of console.js); after
every step each one is compared with a fresh ``snapshot`` of its counter. The clock stands still
for most of the scenario, so queue order often falls to the ticket id: the facts must carry it.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
import sqlalchemy as sa
from flask import Flask
from flask_socketio import SocketIOTestClient

from counter.console_fold import FACTS, ConsoleState, summary
from db import db
from db.models import Ticket
from motcua.services import print_jobs, tickets
from tests.realtime.conftest import Clock
from tests.realtime.test_counter_events import NS, Console, act, snapshot


class FoldingConsole:
    """A console that reads its snapshot once, then folds facts in seq order."""

    def __init__(self, client: SocketIOTestClient) -> None:
        self.client = client
        self.model = ConsoleState(snapshot(client))
        self.seq = self.model.state["seq"]
        self.rereads = 0
        self.facts = 0

    def catch_up(self) -> None:
        """Fold what arrived; every fact must be the next seq (none lost, none twice)."""
        for received in self.client.get_received(NS):
            if received["name"] not in FACTS:
                continue
            payload = received["args"][0]
            assert payload["seq"] == self.seq + 1, (received["name"], payload["seq"], self.seq)
            self.seq = payload["seq"]
            self.facts += 1
            if not self.model.fold(received["name"], payload):
                self.model.apply_snapshot(snapshot(self.client))
                self.rereads += 1

    def check(self) -> None:
        """The folded state is what a fresh snapshot says."""
        self.catch_up()
        fresh = snapshot(self.client)
        assert self.seq == fresh["seq"]
        assert summary(self.model.state) == summary(fresh)


def token_of(app: Flask, code: str) -> str:
    """A ticket's public token by its code."""
    with app.app_context():
        return str(db.session.scalar(sa.select(Ticket.token).where(Ticket.code == code)))


@pytest.fixture
def desks(console: Console) -> dict[int, FoldingConsole]:
    """Consoles at counters 1 (A), 2 (A, B), 3 (B), 4 (C, F) and 5 (D, E, G)."""
    users = {1: "canbo1", 2: "canbo2", 3: "canbo1", 4: "canbo2", 5: "canbo1"}
    return {n: FoldingConsole(console(n, user)) for n, user in users.items()}


def test_folded_consoles_match_fresh_snapshots_after_every_fact(
    app: Flask, desks: dict[int, FoldingConsole], clock: Clock
) -> None:
    """Issue, call, recall, start, finish, no-show, transfers, cancels, pause, print, expiry."""

    def step(action: Any = None, *args: Any, **kwargs: Any) -> Any:
        result = None
        if action is not None:
            with app.app_context():
                result = action(*args, **kwargs)
        for desk in desks.values():
            desk.check()
        return result

    def verb(number: int, name: str, data: dict[str, Any] | None = None) -> dict[str, Any]:
        ack = act(desks[number].client, name, data)
        assert ack["ok"] is True, ack
        step()
        return ack

    for area, priority in [("A", None), ("A", None), ("B", None), ("A", "elderly"), ("C", None)]:
        step(tickets.issue_ticket, area, priority=priority)  # all at T0: order by id
    step(tickets.issue_ticket, "D")
    step(tickets.issue_ticket, "B", priority="disabled")
    assert verb(1, "call_next")["ticket"]["code"] == "A003"  # priority first
    verb(1, "no_show")  # back in the queue at T0, between the others by id
    assert verb(2, "call_next")["ticket"]["code"] == "A003"  # A and B: the older priority
    verb(2, "recall")
    verb(2, "start")
    verb(2, "finish", {"dossier_code": "H01.23-0001"})
    clock.advance(1)
    step(tickets.issue_ticket, "A")
    assert verb(3, "call_next")["ticket"]["code"] == "B002"
    verb(3, "transfer", {"to_service": "A", "note": "sang hộ tịch"})  # queued at its issue time
    assert verb(1, "call_next")["ticket"]["code"] == "B002"  # the transferred priority ticket
    verb(1, "finish")
    assert verb(2, "call_next")["ticket"]["code"] == "A001"
    verb(2, "transfer", {"to_counter": 1})  # only counter 1's queue holds it
    step(tickets.cancel, token_of(app, "A002"))  # a waiting ticket
    verb(1, "call_ticket", {"code": "a001"})
    step(tickets.cancel, token_of(app, "A001"))  # a called ticket: counter 1 is free again
    verb(5, "pause", {"paused": True})
    verb(5, "pause", {"paused": False})
    step(print_jobs.record_print_result, token_of(app, "A004"), ok=True)  # print_status
    clock.advance(2)
    assert verb(1, "call_next")["ticket"]["code"] == "A004"
    verb(1, "no_show")
    verb(4, "call_next")
    verb(4, "no_show")
    verb(4, "call_next")
    verb(4, "no_show")  # the second miss ends it: not back in the queue
    for desk in desks.values():
        assert desk.rereads == 0 and desk.facts > 20
    # The next day: yesterday's open tickets expire with a board_changed, which is re-read.
    clock.now += dt.timedelta(days=1)
    step(tickets.expire_stale)
    assert [desk.rereads for desk in desks.values()] == [1] * 5
