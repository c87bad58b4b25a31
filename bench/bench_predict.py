"""Benchmark the wait predictions on a generated month: the new range against count × average.

Generates a month of a busy hall (seeded, so every run replays the same month): 8 areas whose
service times are lognormal with their own median and spread, an officer's pace that varies
by day, arrivals with a morning rush (08:00–09:30) and a smaller afternoon one, 5 % priority
tickets (strict policy) and 4 % no-shows, the demo hall's 6 counters (two serve several areas)
opening late, taking breaks and closing for an afternoon. It replays the month day by day:
at each ticket's issue it asks

- the new predictor (``motcua/services/wait_model.py``), with only the records of earlier days
  and the live state at that moment (people ahead under the policy, the counters open now and
  their other areas, how long each has been at its ticket, today's finished tickets), and
- the method before: people ahead × the mean of the area's last 20 services of the day (the
  default 6 minutes before one) ÷ the open counters serving the area,

and compares both with the real wait (issue to first call). It prints a table per week and for
the month: mean and median absolute error in minutes, how often the real wait fell inside the
range shown ("10–15 phút"; "dưới 5 phút" counts as 0–5) and that range's mean width.

    .venv/bin/python bench/bench_predict.py [--days 26] [--seed 20261204]

``--hot-path`` measures instead what the predictor costs the server, in process on SQLite
through the real services (CPU time): a cold prediction (the site's history read and the
tables built), a fresh play-out (what a call does inside its transaction), a cached one (a
kiosk tap or a phone's poll within 30 s), and ``issue_ticket`` with its estimate.
"""

from __future__ import annotations

import argparse
import datetime as dt
import heapq
import math
import random
import statistics
import sys
import time
from collections import defaultdict, deque
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from motcua.services import wait_model as wm  # noqa: E402

DEFAULT_MINUTES = 6.0
FIRST_DAY = dt.date(2026, 11, 2)  # a Monday
# Area id → (prefix, share of arrivals, median service minutes, log-spread).
AREAS = {
    1: ("A", 0.32, 7.0, 0.45),
    2: ("B", 0.23, 9.0, 0.55),
    3: ("C", 0.09, 9.0, 0.50),
    4: ("D", 0.09, 5.0, 0.40),
    5: ("E", 0.10, 8.0, 0.60),
    6: ("F", 0.03, 12.0, 0.50),
    7: ("G", 0.05, 6.0, 0.50),
    8: ("H", 0.09, 4.0, 0.45),
}
# The demo hall's counters (motcua/services/demo.py): number → area ids.
COUNTERS = {1: (1,), 2: (1, 2), 3: (2,), 4: (3, 6), 5: (4, 5, 7), 6: (8, 5)}
# Sessions in minutes after midnight (hall time): open, last issue, close.
WEEKDAY_SESSIONS = ((450, 660, 690), (810, 990, 1020))
SATURDAY_SESSIONS = ((450, 630, 660),)
NO_SHOW = 0.04
NO_SHOW_MINUTES = 1.5
PRIORITY = 0.05


def arrival_weight(minute: float) -> float:
    """Relative arrival rate: a morning rush 08:00–09:30, a smaller one 14:00–15:00."""
    h = minute / 60
    return (
        0.6 + 2.2 * math.exp(-(((h - 8.7) / 0.6) ** 2)) + 0.9 * math.exp(-(((h - 14.4) / 0.6) ** 2))
    )


@dataclass
class Ticket:
    """One generated ticket."""

    id: int
    area: int
    issued: float  # minutes after midnight
    priority: bool
    called: float | None = None


@dataclass
class Counter:
    """A counter's day: when it is open and what it does."""

    number: int
    areas: tuple[int, ...]
    pace: float
    windows: list[tuple[float, float]] = field(default_factory=list)  # open intervals
    busy_area: int | None = None
    busy_since: float = 0.0
    free_at: float = 0.0

    def open_at(self, t: float) -> bool:
        """Is the counter open (staffed, not on a break) at minute ``t``?"""
        return any(a <= t < b for a, b in self.windows)


@dataclass
class Prediction:
    """What each method said at a ticket's issue, and what happened."""

    day: dt.date
    real: float
    old: int
    new: wm.WaitRange
    shown: tuple[int, int]
    area: int = 0


def working_days(count: int) -> list[dt.date]:
    """``count`` working days (Monday–Saturday) from FIRST_DAY."""
    days, d = [], FIRST_DAY
    while len(days) < count:
        if d.weekday() < 6:
            days.append(d)
        d += dt.timedelta(days=1)
    return days


def counter_windows(
    rng: random.Random, saturday: bool, may_close: bool
) -> list[tuple[float, float]]:
    """Open intervals of one counter for a day: late starts, breaks, a closed afternoon."""
    windows = []
    sessions = SATURDAY_SESSIONS if saturday else WEEKDAY_SESSIONS
    for index, (start, _, end) in enumerate(sessions):
        if index == 1 and may_close:
            continue  # closed for the afternoon (a meeting, a field visit)
        begin = start + (rng.uniform(15, 60) if rng.random() < 0.2 else rng.uniform(0, 5))
        if rng.random() < 0.35:
            pause_at = rng.uniform(begin + 20, end - 40)
            windows.append((begin, pause_at))
            begin = pause_at + rng.uniform(10, 30)
        # It stays on until its queues are empty (the last session's leftovers, too).
        windows.append((begin, end + (75 if index + 1 < len(sessions) else 300)))
    return windows


def arrivals(rng: random.Random, day: dt.date, first_id: int) -> list[Ticket]:
    """The day's tickets: a volume around 215 (Monday busier, Saturday a morning)."""
    saturday = day.weekday() == 5
    volume = rng.gauss(215, 25) * (1.2 if day.weekday() == 0 else 1.0) * (0.35 if saturday else 1)
    sessions = SATURDAY_SESSIONS if saturday else WEEKDAY_SESSIONS
    minutes = [m for start, last, _ in sessions for m in range(start, last)]
    weights = [arrival_weight(m) for m in minutes]
    scale = volume / sum(weights)
    tickets, next_id = [], first_id
    area_ids = list(AREAS)
    area_w = [AREAS[a][1] for a in area_ids]
    for m, w in zip(minutes, weights, strict=True):
        for _ in range(_poisson(rng, w * scale)):
            area = rng.choices(area_ids, area_w)[0]
            tickets.append(Ticket(next_id, area, m + rng.random(), rng.random() < PRIORITY))
            next_id += 1
    tickets.sort(key=lambda t: t.issued)
    return tickets


def _poisson(rng: random.Random, lam: float) -> int:
    """A Poisson draw (Knuth; small means)."""
    limit, k, p = math.exp(-lam), 0, rng.random()
    while p > limit:
        k += 1
        p *= rng.random()
    return k


class Day:
    """One day of the hall, played event by event, asking both methods at each issue."""

    def __init__(
        self,
        day: dt.date,
        rng: random.Random,
        history: dict[int, list[wm.ServiceRecord]],
        first_id: int,
    ) -> None:
        self.day, self.rng, self.history = day, rng, history
        saturday = day.weekday() == 5
        # Some days one of the A/B counters (others cover its areas) closes for the afternoon.
        closing = rng.choice((1, 2, 3)) if rng.random() < 0.3 else None
        self.counters = [
            Counter(
                n,
                areas,
                math.exp(rng.gauss(0, 0.15)),
                counter_windows(rng, saturday, n == closing),
            )
            for n, areas in COUNTERS.items()
        ]
        self.tickets = arrivals(rng, day, first_id)
        self.waiting: dict[int, list[Ticket]] = defaultdict(list)
        self.today: dict[int, deque[float]] = defaultdict(lambda: deque(maxlen=20))
        self.records: list[wm.ServiceRecord] = []
        self.predictions: list[Prediction] = []
        self._times: dict[tuple[int, int], wm.ServiceTimes] = {}

    def times(self, area: int, hour: int) -> wm.ServiceTimes:
        """The area's history distribution for this day and hour (cached like the service)."""
        key = (area, hour)
        if key not in self._times:
            self._times[key] = wm.service_times(
                self.history.get(area, []), self.day, hour, DEFAULT_MINUTES
            )
        return self._times[key]

    def run(self) -> None:
        """Play the day: arrivals, calls and finishes in time order."""
        events: list[tuple[float, int, int]] = []  # (minute, kind, index): 0 finish/open, 1 issue
        for c in self.counters:
            for a, b in c.windows:
                heapq.heappush(events, (a, 0, c.number))
                heapq.heappush(events, (b, 0, c.number))
        for i, t in enumerate(self.tickets):
            heapq.heappush(events, (t.issued, 1, i))
        while events:
            now, kind, index = heapq.heappop(events)
            if kind == 1:
                ticket = self.tickets[index]
                self.waiting[ticket.area].append(ticket)
                self.predict(ticket, now)
            for c in self.counters:
                if c.free_at <= now and c.busy_area is not None:
                    c.busy_area = None
                if c.busy_area is None and c.open_at(now):
                    finish = self.call(c, now)
                    if finish is not None:
                        heapq.heappush(events, (finish, 0, c.number))

    def call(self, c: Counter, now: float) -> float | None:
        """The counter calls its next ticket (strict priority, then oldest); its finish time."""
        queue = [t for a in c.areas for t in self.waiting[a]]
        if not queue:
            return None
        ticket = min(queue, key=lambda t: (not t.priority, t.issued))
        self.waiting[ticket.area].remove(ticket)
        ticket.called = now
        _, _, median, sigma = AREAS[ticket.area]
        if self.rng.random() < NO_SHOW:
            span = NO_SHOW_MINUTES
        else:
            span = median * c.pace * math.exp(self.rng.gauss(0, sigma))
            self.today[ticket.area].append(span)
            hour = int(now // 60)
            self.records.append(wm.ServiceRecord(ticket.area, self.day, hour, span))
        c.busy_area, c.busy_since, c.free_at = ticket.area, now, now + span
        return now + span

    def predict(self, ticket: Ticket, now: float) -> None:
        """Ask both methods for this ticket, as the hall would at its issue."""
        area = ticket.area
        queue = self.waiting[area]
        if ticket.priority:
            ahead = sum(1 for t in queue if t.priority and t is not ticket)
        else:
            ahead = len(queue) - 1
        serving = [c for c in self.counters if area in c.areas]
        open_now = [c for c in serving if c.open_at(now)]
        spans = list(self.today[area])
        average = sum(spans) / len(spans) if spans else DEFAULT_MINUTES
        old = wm.old_estimate(ahead, average, len(open_now))
        hour = int(now // 60)
        times = {a: wm.adjust_to_today(self.times(a, hour), list(self.today[a])) for a in AREAS}
        live = [
            wm.CounterNow(
                c.areas,
                c.busy_area if c.free_at > now else None,
                now - c.busy_since if c.free_at > now else 0.0,
            )
            for c in self.counters
            if c.open_at(now)
        ]
        everyone = sorted((t for q in self.waiting.values() for t in q), key=lambda t: t.issued)
        mine = next(i for i, t in enumerate(everyone) if t is ticket)
        pairs = [(t.area, t.priority) for t in everyone]
        new = wm.predict_site(live, pairs, times, wm.prior_times(DEFAULT_MINUTES))[mine]
        self.predictions.append(Prediction(self.day, math.nan, old, new, new.shown(), area))
        self._pending = getattr(self, "_pending", [])
        self._pending.append((ticket, self.predictions[-1]))

    def settle(self) -> None:
        """Fill in each prediction's real wait once the day is played."""
        for ticket, p in getattr(self, "_pending", []):
            assert ticket.called is not None, (ticket, self.counters)
            p.real = ticket.called - ticket.issued


def summarise(rows: list[Prediction]) -> dict[str, float]:
    """MAE, median error, coverage and width of both methods over some predictions."""
    new_err = [abs(p.new.point - p.real) for p in rows]
    old_err = [abs(p.old - p.real) for p in rows]
    inside = [p.shown[0] <= p.real <= p.shown[1] for p in rows]
    return {
        "n": len(rows),
        "real": statistics.mean(p.real for p in rows),
        "old_mae": statistics.mean(old_err),
        "old_med": statistics.median(old_err),
        "new_mae": statistics.mean(new_err),
        "new_med": statistics.median(new_err),
        "coverage": 100 * sum(inside) / len(rows),
        "width": statistics.mean(p.shown[1] - p.shown[0] for p in rows),
        "raw_cover": 100 * sum(p.new.low <= p.real <= p.new.high for p in rows) / len(rows),
    }


def replay(days: int, seed: int) -> list[Prediction]:
    """Generate and play ``days`` working days; each day's predictions use earlier days only."""
    rng = random.Random(seed)
    history: dict[int, list[wm.ServiceRecord]] = defaultdict(list)
    rows: list[Prediction] = []
    next_id = 1
    for day in working_days(days):
        played = Day(day, rng, history, next_id)
        played.run()
        played.settle()
        next_id += len(played.tickets)
        rows.extend(played.predictions)
        for record in played.records:  # known from the next day on
            history[record.area_id].append(record)
    return rows


def hot_path() -> None:
    """Print the predictor's CPU cost on the server's paths (see the module docstring)."""
    import tempfile

    from motcua.services import catalog_cache, tickets
    from motcua.services.common import current_policy
    from motcua.services.tickets import predict
    from tests.conftest import T0, build_app, counter_id

    minute = dt.timedelta(minutes=1)
    app = build_app(f"sqlite:///{tempfile.mkdtemp()}/predict.sqlite3")
    with app.app_context():
        c = {n: counter_id(app, n) for n in range(1, 7)}
        for back in range(1, 29):  # four weeks of history: 60 tickets a working day in A and B
            day0 = T0 - dt.timedelta(days=back)
            if day0.weekday() >= 5:
                continue
            for i in range(30):
                at = day0 + 6 * i * minute
                for service, number in (("A", 1), ("B", 3)):
                    tickets.issue_ticket(service, now=at)
                    tickets.call_next(c[number], now=at)
                    tickets.finish(c[number], now=at + 5 * minute)
        for i in range(43):
            tickets.issue_ticket("AB"[i % 2], now=T0 + i * minute / 4)
        for number in (1, 2, 3):
            tickets.call_next(c[number], now=T0 + 11 * minute)
        view = tickets.issue_ticket("A", now=T0 + 12 * minute)
        site, area, day = view.site_code, view.area_code, view.business_day
        site_id = catalog_cache.snapshot().sites[site].id
        area_id = catalog_cache.snapshot().areas[area].id
        policy, now = current_policy(), T0 + 12 * minute
        catalog_cache.forget()
        t = time.process_time()
        predict.predict_wait(site_id, area_id, day, 20, policy, now)
        cold = time.process_time() - t
        t = time.process_time()
        for _ in range(20):
            predict.predict_queue(site_id, area_id, day, 21, policy, now, fresh=True)
        fresh = (time.process_time() - t) / 20
        t = time.process_time()
        for _ in range(2000):
            predict.predict_wait(site_id, area_id, day, 20, policy, now)
        warm = (time.process_time() - t) / 2000
        t = time.process_time()
        for i in range(200):
            tickets.issue_ticket("A", now=now + i * minute / 30)
        tap = (time.process_time() - t) / 200
    print(
        "predictor CPU, 41 waiting at 6 counters, 4 weeks of history (1,200 tickets):\n"
        f"  cold (history read, tables, play-out)  {cold * 1000:.1f} ms\n"
        f"  fresh play-out (a call moves a queue)  {fresh * 1000:.1f} ms\n"
        f"  cached (a tap or a poll within 30 s)   {warm * 1e6:.0f} µs\n"
        f"  issue_ticket with its estimate         {tap * 1000:.2f} ms a tap (queue 41 → 241)"
    )


def main() -> None:
    """Generate, replay, print the table."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--days", type=int, default=26, help="working days (26 ≈ a month)")
    parser.add_argument("--seed", type=int, default=20261204)
    parser.add_argument("--hot-path", action="store_true", help="the server-side cost instead")
    args = parser.parse_args()
    if args.hot_path:
        hot_path()
        return
    started = time.perf_counter()
    rows = replay(args.days, args.seed)
    elapsed = time.perf_counter() - started
    weeks: dict[int, list[Prediction]] = defaultdict(list)
    for p in rows:
        weeks[(p.day - FIRST_DAY).days // 7 + 1].append(p)
    header = (
        f"{'days':<22}{'tickets':>8}{'real wait':>10}{'old MAE':>9}{'new MAE':>9}"
        f"{'old med':>9}{'new med':>9}{'in range':>9}{'width':>7}"
    )
    print(f"bench_predict: {args.days} working days from {FIRST_DAY}, seed {args.seed}")
    print("errors in minutes; 'in range': real wait inside the range shown (rounded to 5 min)")
    print(header)
    groups = [(f"week {w}", weeks[w]) for w in sorted(weeks)] + [("month", rows)]
    for label, group in groups:
        days = sorted({p.day for p in group})
        label = f"{label} {days[0]:%d/%m}–{days[-1]:%d/%m}" if label != "month" else label
        s = summarise(group)
        print(
            f"{label:<22}{s['n']:>8}{s['real']:>10.1f}{s['old_mae']:>9.2f}{s['new_mae']:>9.2f}"
            f"{s['old_med']:>9.2f}{s['new_med']:>9.2f}{s['coverage']:>8.0f}%{s['width']:>7.1f}"
        )
    s = summarise(rows)
    print(
        f"raw 20–80 % range (before rounding) held the real wait {s['raw_cover']:.0f} % of the "
        f"time; {len(rows)} predictions in {elapsed:.1f} s "
        f"({1000 * elapsed / max(1, len(rows)):.2f} ms each with the generation)"
    )


if __name__ == "__main__":
    main()
