"""A frozen-clock week at the hall whose report figures are worked out by hand.

Monday 23/11/2026 (T0 = 08:15:03 hall time), minutes after T0:

  ticket  area  issued  first call (counter, officer)    end                      wait  service
  A001    A     0       5  (1, Lan)  start 6            finished 16, rated 3 (tablet)  300  600
  A002    A     1       17 (1, Lan)  no start           finished 25, rated 1 (phone)   960  480
  A003    A     2       4  (2, Hùng) start 5            finished 9, tablet unanswered  120  240
  B001    B     3       10 (3, Nhung), again at 14     no-show at 12 and 16 (ended)    420  –
  B002    B→A   4       20 (3, Nhung) → transferred to A at 21 by Nhung; called 26 (1, Lan),
                        start 27, finished 37, rated 2 (tablet)                        960  600
  B003    B     5       –                               cancelled 8                     –    –
  A004    A     6       –                               expired (next morning)          –    –

Tuesday 24/11 08:00:00: A001 again (numbers restart each day; "TUE" below), called 08:02
at counter 2 by Hùng, started at once, finished 08:05 (wait 120, service 180; "A005" in the
tests' comments). Sunday 22/11 09:00: C001 (C) at counter 4 by Lan, called 09:05, finished
09:10 without start (wait 300, service 300) — outside that week.

Area A's target wait is 15 minutes (900 s): A001, A003 and A005 were within it; A002 and
B002 were not.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import sqlalchemy as sa
from flask import Flask

from db import db
from db.models import Counter, User
from motcua.services import accounts, ratings, tickets
from tests.conftest import PASSWORD, T0

MONDAY = dt.date(2026, 11, 23)
HALL = dt.timezone(dt.timedelta(hours=7))


def at(minutes: float) -> dt.datetime:
    """T0 (Monday 08:15:03 hall time) plus some minutes."""
    return T0 + dt.timedelta(minutes=minutes)


def hall_time(day: dt.date, hh: int, mm: int) -> dt.datetime:
    """An instant given in hall time."""
    return dt.datetime(day.year, day.month, day.day, hh, mm, tzinfo=HALL)


def build_week(app: Flask) -> dict[str, Any]:
    """Play the week above through the real services; returns the ticket views by code."""
    with app.app_context():
        accounts.create_user(
            "canbo3", full_name="Lê Thị Hồng Nhung", role="officer", password=PASSWORD, now=T0
        )
        users = dict(db.session.execute(sa.select(User.username, User.id)).all())
        counters = dict(db.session.execute(sa.select(Counter.number, Counter.id)).all())
        db.session.commit()
        lan, hung, nhung = users["canbo1"], users["canbo2"], users["canbo3"]
        c1, c2, c3, c4 = counters[1], counters[2], counters[3], counters[4]
        t: dict[str, Any] = {}

        sunday = dt.date(2026, 11, 22)
        t["C001"] = tickets.issue_ticket("C", now=hall_time(sunday, 9, 0))
        tickets.call_ticket(c4, "C001", officer_id=lan, now=hall_time(sunday, 9, 5))
        tickets.finish(c4, officer_id=lan, now=hall_time(sunday, 9, 10))

        t["A001"] = tickets.issue_ticket("A", now=at(0))
        t["A002"] = tickets.issue_ticket("A", now=at(1))
        t["A003"] = tickets.issue_ticket("A", now=at(2))
        t["B001"] = tickets.issue_ticket("B", now=at(3))
        t["B002"] = tickets.issue_ticket("B", now=at(4))
        tickets.call_ticket(c2, "A003", officer_id=hung, now=at(4))
        tickets.call_ticket(c1, "A001", officer_id=lan, now=at(5))
        tickets.start_service(c2, officer_id=hung, now=at(5))
        t["B003"] = tickets.issue_ticket("B", now=at(5))
        tickets.start_service(c1, officer_id=lan, now=at(6))
        t["A004"] = tickets.issue_ticket("A", now=at(6))
        tickets.cancel(t["B003"].token, now=at(8))
        tickets.finish(c2, officer_id=hung, now=at(9))
        ratings.skip_at_counter(c2, t["A003"].uuid, now=at(10))
        tickets.call_ticket(c3, "B001", officer_id=nhung, now=at(10))
        tickets.mark_no_show(c3, officer_id=nhung, now=at(12))
        tickets.call_ticket(c3, "B001", officer_id=nhung, now=at(14))
        tickets.finish(c1, officer_id=lan, now=at(16))
        tickets.mark_no_show(c3, officer_id=nhung, now=at(16))
        ratings.rate_at_counter(c1, t["A001"].uuid, 3, now=at(16.5))
        tickets.call_ticket(c1, "A002", officer_id=lan, now=at(17))
        tickets.call_ticket(c3, "B002", officer_id=nhung, now=at(20))
        tickets.transfer(c3, to_service="A", officer_id=nhung, now=at(21))
        tickets.finish(c1, officer_id=lan, now=at(25))
        tickets.call_ticket(c1, "B002", officer_id=lan, now=at(26))
        tickets.start_service(c1, officer_id=lan, now=at(27))
        ratings.rate_by_token(t["A002"].token, 1, reasons=["Chờ lâu"], now=at(30))
        tickets.finish(c1, officer_id=lan, now=at(37))
        ratings.rate_at_counter(c1, t["B002"].uuid, 2, now=at(38))

        tuesday = dt.date(2026, 11, 24)
        tickets.expire_stale(now=hall_time(tuesday, 7, 59))
        t["TUE"] = tickets.issue_ticket("A", now=hall_time(tuesday, 8, 0))
        tickets.call_ticket(c2, "A001", officer_id=hung, now=hall_time(tuesday, 8, 2))
        tickets.start_service(c2, officer_id=hung, now=hall_time(tuesday, 8, 2))
        tickets.finish(c2, officer_id=hung, now=hall_time(tuesday, 8, 5))
        t["ids"] = {"lan": lan, "hung": hung, "nhung": nhung, "c1": c1, "c2": c2, "c3": c3}
        return t
