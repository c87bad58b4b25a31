"""A number taken from home, checked in, moves the tickets it passes: their phones hear it."""

from __future__ import annotations

from flask import Flask

from motcua.extensions import socketio
from motcua.services import appointments, tickets
from tests.realtime.conftest import Clock, events


def test_a_checked_in_hold_pushes_the_walk_ins_place(app: Flask, clock: Clock) -> None:
    """Held at 08:15, a walk-in at 08:20 is first; the hold's check-in at 08:40 makes the
    walk-in's phone hear one person ahead at once (no reload)."""
    with app.app_context():
        appointments.save_rule(
            "A",
            offered=False,
            remote=True,
            slot_minutes=15,
            capacity=1,
            hours_spec=None,
            days_ahead=0,
        )
        hold = appointments.take_remote("A")
        clock.advance(5)
        walk_in = tickets.issue_ticket("A")
    assert walk_in.people_ahead == 0
    phone = socketio.test_client(app, namespace="/kiosk", auth={"token": walk_in.token})
    events(phone, "/kiosk")
    clock.advance(20)
    with app.app_context():
        appointments.check_in(hold["code"])
    places = events(phone, "/kiosk", "queue_position")
    assert places and places[-1]["people_ahead"] == 1
    phone.disconnect("/kiosk")
