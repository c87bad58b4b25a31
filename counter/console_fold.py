"""How a console folds facts into its snapshot: the rules of counter/static/console.js, in Python.

The console reads ``tickets.counter_state`` on (re)connect, after a gap in ``seq``, after
``board_changed``, after a refused verb and once a minute; every other fact is applied to the
state it holds, in ``seq`` order (``motcua/static/js/live.js`` guarantees the order and notices
gaps). The benchmark's simulated consoles (bench/bench_realtime.py) fold with this class, and
the tests check that it, and console.js in Chromium, end in the state a fresh snapshot gives.
Keep the two in step.
"""

from __future__ import annotations

import copy
import datetime as dt
import math
from typing import Any

# Every fact that carries the site's seq: the console must hear them all to notice gaps.
FACTS = (
    "ticket_issued",
    "ticket_called",
    "ticket_no_show",
    "ticket_started",
    "ticket_finished",
    "ticket_transferred",
    "ticket_cancelled",
    "counter_changed",
    "board_changed",
    "ticket_rated",
    "print_status",
)


def _key(state: dict[str, Any], row: dict[str, Any]) -> tuple[int, dt.datetime, float]:
    """Queue order: priority first (strict policy), then queued_at, then ticket id."""
    rank = 0 if state["priority_first"] and row["priority"] else 1
    ident = row["id"] if row.get("id") is not None else math.inf
    return rank, dt.datetime.fromisoformat(row["queued_at"]), ident


class ConsoleState:
    """One console's view of its counter: a snapshot, then facts folded into it."""

    def __init__(self, snapshot: dict[str, Any]) -> None:
        self.state: dict[str, Any] = {}
        self.apply_snapshot(snapshot)

    def apply_snapshot(self, snapshot: dict[str, Any]) -> None:
        """Take a fresh ``counter_state``."""
        self.state = copy.deepcopy({k: v for k, v in snapshot.items() if k != "ok"})

    @property
    def number(self) -> int:
        """The counter's number."""
        return int(self.state["counter"]["number"])

    def _serves(self, ticket: dict[str, Any], queue: dict[str, Any] | None) -> bool:
        """Does a waiting ticket belong in this counter's queue?"""
        target = queue.get("counter") if queue else None
        if target is not None:
            return bool(target == self.number)
        return ticket["area_prefix"] in {a["prefix"] for a in self.state["counter"]["areas"]}

    def _remove(self, code: str) -> None:
        self.state["waiting"] = [r for r in self.state["waiting"] if r["code"] != code]

    def _add(self, ticket: dict[str, Any], queue: dict[str, Any] | None) -> None:
        self._remove(ticket["code"])
        row = {
            "id": queue["id"] if queue else None,  # a new ticket: after every one queued so far
            "code": ticket["code"],
            "area": ticket["area_name"],
            "area_prefix": ticket["area_prefix"],
            "priority": ticket["priority"],
            "priority_label": ticket["priority_label"],
            "issued_at": ticket["issued_at"],
            "queued_at": queue["at"] if queue else ticket["issued_at"],
        }
        waiting = self.state["waiting"]
        key = _key(self.state, row)
        at = len(waiting)
        while at > 0 and _key(self.state, waiting[at - 1]) > key:
            at -= 1
        waiting.insert(at, row)

    def fold(self, name: str, payload: dict[str, Any]) -> bool:
        """Apply one fact; False when the console must re-read its snapshot instead."""
        ticket: dict[str, Any] = payload.get("ticket") or {}
        mine = payload.get("counter") == self.number
        state = self.state
        if name == "board_changed":
            return False  # a change with no detail (tickets expired, a walk-in): read it all
        if name == "ticket_issued":
            if self._serves(ticket, None):
                self._add(ticket, None)
        elif name == "ticket_called":
            if not payload.get("recall"):
                self._remove(ticket["code"])
            if mine:
                state["current"] = ticket
        elif name == "ticket_started":
            if mine:
                state["current"] = ticket
        elif name == "ticket_finished":
            if mine:
                state["current"] = None
        elif name == "ticket_no_show":
            if mine:
                state["current"] = None
            if ticket["status"] == "waiting" and self._serves(ticket, payload.get("queue")):
                self._add(ticket, payload.get("queue"))
        elif name == "ticket_transferred":
            if mine:
                state["current"] = None
            if self._serves(ticket, payload.get("queue")):
                self._add(ticket, payload.get("queue"))
        elif name == "ticket_cancelled":
            self._remove(ticket["code"])
            if mine:
                state["current"] = None
        elif name == "counter_changed":
            if mine:
                state["counter"]["paused"] = bool(payload.get("paused"))
        elif name == "print_status":
            self._fold_print_alerts(payload)
        # ticket_rated: nothing on the console; its seq keeps the chain whole.
        return True

    def _fold_print_alerts(self, payload: dict[str, Any]) -> None:
        """Unprinted tickets of this counter's areas: opened and closed alerts."""
        closed = set(payload.get("alerts_closed") or ())
        alerts = [a for a in self.state.get("print_alerts", []) if a["id"] not in closed]
        opened = payload.get("alert_opened")
        prefixes = {a["prefix"] for a in self.state["counter"]["areas"]}
        if opened and opened["ticket"]["area_prefix"] in prefixes:
            alerts = [a for a in alerts if a["id"] != opened["id"]] + [opened]
        self.state["print_alerts"] = alerts


def summary(state: dict[str, Any]) -> dict[str, Any]:
    """What the console shows, from a snapshot or a folded state (for comparing the two)."""
    current = state["current"]
    shown = (
        "code",
        "status",
        "area_name",
        "priority_label",
        "issued_at",
        "called_at",
        "transferred_from",
        "dossier_code",
        "call_count",
    )
    return {
        "print_alerts": [
            (a["ticket"]["code"], a["kiosk"], a["message"]) for a in state.get("print_alerts", [])
        ],
        "paused": state["counter"]["paused"],
        "current": {k: current[k] for k in shown} if current else None,
        "waiting": [
            (r["code"], r["area"], r["priority_label"], r["issued_at"]) for r in state["waiting"]
        ],
    }
