"""The wait predictor: its range moves with counters and history, and it beats count × average."""

from __future__ import annotations

import datetime as dt
import random

import sqlalchemy as sa
from flask import Flask

from db import db
from db.models import ServiceArea
from motcua.services import tickets
from motcua.services import wait_model as wm
from motcua.services.common import current_policy
from motcua.services.demo import DEMO_COUNTERS
from tests.conftest import T0, counter_id

MIN = dt.timedelta(minutes=1)
DAY = T0.date()
A = 1


def history(n: int, median: float, sigma: float, *, seed: int = 1) -> list[wm.ServiceRecord]:
    """``n`` finished tickets of area A over the two weeks before DAY, lognormal."""
    rng = random.Random(seed)
    return [
        wm.ServiceRecord(
            A, DAY - dt.timedelta(days=1 + i % 14), 8 + i % 3, median * rng.lognormvariate(0, sigma)
        )
        for i in range(n)
    ]


def wait(counters: list[wm.CounterNow], times: wm.ServiceTimes, ahead: int) -> wm.WaitRange:
    """The predicted wait of the ticket with ``ahead`` people before it in area A."""
    return wm.predict_site(counters, [(A, False)] * (ahead + 1), {A: times}, times)[ahead]


def test_more_open_counters_shorten_and_narrow_the_range() -> None:
    """Six ahead: one busy counter, then three; the wait and its range shrink."""
    times = wm.service_times(history(300, 6, 0.4), DAY, 9, 6.0)
    one = wait([wm.CounterNow((A,), A, 2.0)], times, 6)
    three = wait([wm.CounterNow((A,), A, 2.0)] * 3, times, 6)
    assert one.low < one.point < one.high and three.low < three.point < three.high
    assert three.point < one.point / 2
    assert three.high - three.low < one.high - one.low
    # A counter shared with another area serves that area's older tickets first.
    queue = [(2, False)] * 6 + [(A, False)] * 7
    shared = wm.predict_site([wm.CounterNow((A, 2), A, 2.0)], queue, {A: times}, times)[-1]
    assert shared.point > 1.5 * one.point


def test_history_narrows_the_range_and_little_history_falls_back_to_the_default() -> None:
    """No history: the default 6 minutes, widely spread; a steady history: a tight range."""
    prior = wm.service_times([], DAY, 9, 6.0)
    assert prior == wm.prior_times(6.0) and prior.history == 0
    assert abs(prior.median - 6.0) < 0.01
    steady = wm.service_times(history(400, 6, 0.15), DAY, 9, 6.0)
    few = wm.service_times(history(3, 6, 0.15), DAY, 9, 6.0)
    assert steady.history > 100 and few.history < 5
    counters = [wm.CounterNow((A,), A, 1.0)]
    wide, middle, tight = (wait(counters, t, 4) for t in (prior, few, steady))
    assert tight.high - tight.low < middle.high - middle.low < wide.high - wide.low
    # Recent days weigh more: a hall that got quicker last week is predicted quicker.
    older = [wm.ServiceRecord(A, DAY - dt.timedelta(days=30 + i % 5), 9, 10.0) for i in range(100)]
    recent = [wm.ServiceRecord(A, DAY - dt.timedelta(days=1 + i % 5), 9, 5.0) for i in range(100)]
    assert wm.service_times(older + recent, DAY, 9, 6.0).median < 7.5


def test_a_long_service_at_the_counter_brings_the_first_call_closer() -> None:
    """The next in line waits for what is left of the service at the counter."""
    times = wm.service_times(history(300, 10, 0.3), DAY, 9, 6.0)
    fresh = wait([wm.CounterNow((A,), A, 0.0)], times, 0)
    late = wait([wm.CounterNow((A,), A, 9.0)], times, 0)
    idle = wait([wm.CounterNow((A,))], times, 0)
    assert idle.high == 0 and late.point < fresh.point / 2
    assert idle.shown() == (0, 5) and wm.WaitRange(9, 12, 17).shown() == (5, 20)


def test_new_method_beats_count_times_average_on_a_generated_fortnight() -> None:
    """bench_predict's generated hall, 2 working days: lower mean error, most waits in range."""
    from bench import bench_predict

    rows = bench_predict.replay(2, seed=7)
    figures = bench_predict.summarise(rows)
    assert figures["n"] > 300
    assert figures["new_mae"] < 0.85 * figures["old_mae"]
    assert figures["coverage"] > 60


def test_the_service_reads_the_live_state_and_history_from_the_database(app: Flask) -> None:
    """Through the real services: a busy counter, a paused one and Friday's history."""
    c1, c2 = counter_id(app, 1), counter_id(app, 2)  # 1 serves A; 2 serves A and B
    yesterday = T0 - dt.timedelta(days=3)  # the Friday before
    with app.app_context():
        for i in range(12):  # on Friday, area A took 3 minutes a ticket
            at = yesterday + 4 * i * MIN
            tickets.issue_ticket("A", now=at)
            tickets.call_next(c1, now=at)
            tickets.finish(c1, now=at + 3 * MIN)
        for i in range(5):
            tickets.issue_ticket("A", now=T0 + i * MIN / 10)
        tickets.call_next(c1, now=T0 + MIN)
        area = db.session.scalar(sa.select(ServiceArea).where(ServiceArea.prefix == "A"))
        assert area is not None
        now = T0 + 2 * MIN
        view = tickets.ticket_status(
            db.session.scalar(
                sa.text("SELECT token FROM tickets WHERE code = 'A005' ORDER BY id DESC LIMIT 1")
            )
        )
        assert view.people_ahead == 3
        policy = current_policy()
        times = wm.service_times(
            [
                wm.ServiceRecord(area.id, yesterday.date(), 8, 3.0)
                for _ in range(12)  # called 08:15–08:59 hall time
            ],
            DAY,
            8,
            policy.default_service_minutes,
        )
        # What the service must see: counter 1 busy with A for a minute, the others idle; four
        # waiting in A, then a ticket taken now in each area, in the areas' order.
        ids = dict(db.session.execute(sa.select(ServiceArea.prefix, ServiceArea.id)).all())
        counters = [
            wm.CounterNow(
                tuple(sorted(ids[p] for p in prefixes)),
                area.id if number == 1 else None,
                1.0 if number == 1 else 0.0,
            )
            for number, prefixes in DEMO_COUNTERS
        ]
        queue = [(area.id, False)] * 4 + [(a, False) for a in sorted(ids.values())]
        prior = wm.prior_times(policy.default_service_minutes)
        every = {a: prior for a in ids.values()} | {area.id: times}
        played = wm.predict_site(counters, queue, every, prior)
        from motcua.services.tickets import predict

        got = predict.predict_queue(view_site(app), area.id, DAY, 5, policy, now, fresh=True)
        assert got == played[:5]
        no_history = wm.predict_site(counters, queue, {}, prior)
        assert got[3].point < no_history[3].point  # Friday's 3-minute services, not 6
        tickets.set_paused(c2, True)
        alone = predict.predict_queue(view_site(app), area.id, DAY, 5, policy, now, fresh=True)
        assert alone[3].point > got[3].point


def view_site(app: Flask) -> int:
    """The main site's id."""
    from db.models import Site

    return int(db.session.scalar(sa.select(Site.id).where(Site.code == "main")))
