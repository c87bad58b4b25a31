"""Appointments and numbers taken from home: capacity, windows, lapses, limits, placement."""

from __future__ import annotations

import datetime as dt
import threading
from typing import Any

import pytest
import sqlalchemy as sa
from flask import Flask

from db import db
from db.models import Appointment
from motcua.errors import CheckInRefused, SlotUnavailable, TooManyBookings
from motcua.services import appointments, tickets
from tests.conftest import T0, counter_id

MIN = dt.timedelta(minutes=1)
# Monday 23/11/2026 in Hà Nội: 08:15:03 is T0; the 09:00 slot starts at 02:00 UTC.
AT_0900 = dt.datetime(2026, 11, 23, 2, 0, tzinfo=dt.UTC)


def offer(capacity: int = 1, **kwargs: Any) -> None:
    """Area A takes bookings 08:00-11:00 on weekdays, 15-minute slots, 3 days ahead."""
    rule: dict[str, Any] = {
        "offered": True,
        "remote": True,
        "slot_minutes": 15,
        "capacity": capacity,
        "hours_spec": {"mon-fri": ["08:00-11:00"]},
        "days_ahead": 3,
        **kwargs,
    }
    appointments.save_rule("A", now=T0, **rule)


def test_free_slots_start_at_the_first_one_not_yet_started(ctx: Flask) -> None:
    """At 08:15:03 the 08:15 slot is under way (its check-in still open, but a booking made
    now could close seconds later for a slot that began earlier): 08:30 is the first; 4 days
    × 12 slots less today's first two."""
    offer()
    slots = appointments.free_slots("A", now=T0)
    assert slots[0].as_dict()["time"] == "08:30–08:45"
    assert len(slots) == 10 + 3 * 12  # today from 08:30, then Tuesday to Thursday
    assert all(s.starts_at > T0 for s in slots)


def test_the_last_place_goes_once_and_a_cancel_frees_it(ctx: Flask) -> None:
    """Capacity 1: a second booking of the slot is refused until the holder cancels."""
    offer()
    first = appointments.book("A", AT_0900, now=T0)
    assert len(first["code"]) == 6 and not set(first["code"]) & set("01OI")
    with pytest.raises(SlotUnavailable):
        appointments.book("A", AT_0900, now=T0)
    assert AT_0900 not in [s.starts_at for s in appointments.free_slots("A", now=T0)]
    appointments.cancel(first["token"], now=T0)
    assert appointments.book("A", AT_0900, now=T0)["code"] != first["code"]


def test_a_slot_that_is_not_the_halls_is_refused(ctx: Flask) -> None:
    """A start between slots, or outside the hours, is no slot."""
    offer()
    for start in (AT_0900 + 5 * MIN, AT_0900 + dt.timedelta(hours=5)):
        with pytest.raises(SlotUnavailable):
            appointments.book("A", start, now=T0)


def test_check_in_window_early_inside_and_late(ctx: Flask) -> None:
    """09:00 slot: at 08:30 too early (normal number offered), at 08:50 a ticket in the
    priority lane, a second scan the same ticket; another booking checked in at 09:11 is late
    and becomes a no-show."""
    offer(capacity=2)
    booking = appointments.book("A", AT_0900, now=T0)
    other = appointments.book("A", AT_0900, now=T0)
    with pytest.raises(CheckInRefused) as early:
        appointments.check_in(booking["code"].lower(), now=AT_0900 - 30 * MIN)
    assert early.value.details["reason"] == "early" and early.value.details["service"] == "tuphap"
    assert "08:45" in str(early.value.message)
    answer = appointments.check_in(booking["code"], now=AT_0900 - 10 * MIN)
    ticket = answer["ticket"]
    assert ticket["priority"] == "appointment" and ticket["priority_label"] == "Có lịch hẹn"
    again = appointments.check_in(booking["code"], now=AT_0900 + 20 * MIN)
    assert again["ticket"]["token"] == ticket["token"] and again["ticket"]["created"] is False
    with pytest.raises(CheckInRefused) as late:
        appointments.check_in(other["code"], now=AT_0900 + 11 * MIN)
    assert late.value.details["reason"] == "late"
    statuses = dict(db.session.execute(sa.select(Appointment.code, Appointment.status)).all())
    assert statuses == {booking["code"]: "checked_in", other["code"]: "no_show"}


def test_an_appointment_goes_first_under_the_strict_policy(ctx: Flask) -> None:
    """A citizen with an appointment is called before those who were already waiting."""
    offer()
    tickets.issue_ticket("A", now=AT_0900 - 20 * MIN)
    booking = appointments.book("A", AT_0900, now=T0)
    mine = appointments.check_in(booking["code"], now=AT_0900 - 5 * MIN)["ticket"]
    called = tickets.call_next(counter_id(ctx, 1), now=AT_0900)
    assert called.token == mine["token"]


def test_a_number_from_home_counts_from_when_it_was_taken_once_checked_in(ctx: Flask) -> None:
    """Taken at 08:15, not in the queue until check-in; checked in at 08:40 it is ahead of a
    number issued at 08:20; a hold not checked in within REMOTE_HOLD_MINUTES lapses."""
    offer()
    hold = appointments.take_remote("A", now=T0)
    assert hold["kind"] == "remote" and hold["waiting_now"] == 0
    walk_in = tickets.issue_ticket("A", now=T0 + 5 * MIN)
    assert walk_in.people_ahead == 0  # the hold is not in the queue yet
    mine = appointments.check_in(hold["code"], now=T0 + 25 * MIN)["ticket"]
    assert mine["priority"] is None and mine["people_ahead"] == 0
    assert tickets.ticket_status(walk_in.token).people_ahead == 1
    assert tickets.call_next(counter_id(ctx, 1), now=T0 + 30 * MIN).token == mine["token"]
    lapsing = appointments.take_remote("A", now=T0)
    with pytest.raises(CheckInRefused) as late:
        appointments.check_in(lapsing["code"], now=T0 + 61 * MIN)
    assert late.value.details["reason"] == "late"
    status = db.session.scalar(
        sa.select(Appointment.status).where(Appointment.code == lapsing["code"])
    )
    assert status == "lapsed"


def test_bookings_per_browser_and_per_address_are_limited(ctx: Flask) -> None:
    """Two a day from one browser, six from one address; a signed-in portal is not limited.
    Only keyed hashes are stored, never the address."""
    offer(capacity=20)
    for _ in range(2):
        appointments.book("A", AT_0900, address="203.0.113.9", browser="b1", now=T0)
    with pytest.raises(TooManyBookings):
        appointments.book("A", AT_0900, address="203.0.113.9", browser="b1", now=T0)
    for n in range(4):
        appointments.take_remote("A", address="203.0.113.9", browser=f"c{n}", now=T0)
    with pytest.raises(TooManyBookings):
        appointments.book("A", AT_0900, address="203.0.113.9", browser="new", now=T0)
    appointments.book("A", AT_0900, address="203.0.113.9", limited=False, now=T0)
    keys = db.session.scalars(sa.select(Appointment.address_key)).all()
    assert all(k is None or ("203.0.113.9" not in k and len(k) == 64) for k in keys)


def test_the_report_counts_bookings_check_ins_and_no_shows(ctx: Flask) -> None:
    """Three bookings: one checked in, one missed, one cancelled."""
    offer(capacity=3)
    done = appointments.book("A", AT_0900, now=T0)
    appointments.book("A", AT_0900, now=T0)
    appointments.cancel(appointments.book("A", AT_0900, now=T0)["token"], now=T0)
    appointments.check_in(done["code"], now=AT_0900)
    day = AT_0900.date()
    rows = appointments.appointment_report(day, day, now=AT_0900 + 30 * MIN)
    assert [
        (r["area_code"], r["bookings"], r["checked_in"], r["no_shows"], r["cancelled"])
        for r in rows
    ] == [(rows[0]["area_code"], 3, 1, 1, 1)]


def _race_for_the_last_place(app: Flask, bookers: int) -> tuple[int, int]:
    """``bookers`` threads book the one free place of a slot at once: (booked, refused)."""
    with app.app_context():
        offer(capacity=2)
        appointments.book("A", AT_0900, now=T0)
    barrier = threading.Barrier(bookers)
    outcomes: list[str] = []

    def booker() -> None:
        with app.app_context():
            barrier.wait()
            try:
                appointments.book("A", AT_0900, now=T0)
                outcomes.append("booked")
            except SlotUnavailable:
                outcomes.append("full")
            finally:
                db.session.remove()

    threads = [threading.Thread(target=booker) for _ in range(bookers)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=30)
    return outcomes.count("booked"), outcomes.count("full")


def test_concurrent_bookings_of_the_last_place_on_postgresql(pg_app: Flask) -> None:
    """Eight bookings race for the last place on real PostgreSQL: exactly one gets it."""
    assert _race_for_the_last_place(pg_app, 8) == (1, 7)


def test_concurrent_bookings_of_the_last_place_on_sqlite(app: Flask) -> None:
    """The same race on SQLite."""
    assert _race_for_the_last_place(app, 8) == (1, 7)
