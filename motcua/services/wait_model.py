"""The wait predictor's model, as pure functions of plain data (no Flask, no database).

Two halves (``motcua/services/tickets/predict.py`` feeds them from the database and caches them;
``bench/bench_predict.py`` feeds them from a simulated month):

- **History** → ``ServiceTimes``: the call-to-finish minutes of an area's finished tickets of
  earlier days, as a weighted quantile table. A ticket's weight falls with its age (half-life
  ``HALF_LIFE_DAYS``), with the distance of its hour from the hour predicted for, and when its
  weekday differs; ``PRIOR_WEIGHT`` pseudo-tickets of the hall's default service time (a
  lognormal around ``DEFAULT_SERVICE_MINUTES``) are mixed in, so an area with little history
  gets the default's wide spread and one with a long history gets its own.
- **Live state** → ``WaitRange`` per waiting ticket (``predict_site``): a small Monte Carlo
  that plays the site's calls out. Each open counter first finishes what it is doing (its
  ticket's remaining time given how long it has been at it), then calls as the hall does
  (among its areas, priority first under the strict policy, else the longest waiting), with
  service times drawn from each area's table. A ticket's wait is the time of its call: its
  20th, 50th and 80th percentiles over the runs are the range and the point estimate. Playing
  the whole site out matters: a counter serving A and B splits its time between them by the
  age of their tickets, not by a fixed share (a share model was 10–30 % worse in the bench).
"""

from __future__ import annotations

import bisect
import datetime as dt
import heapq
import math
import random
from collections import deque
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

QUANTILES = 21  # the table holds the 0, 5, …, 100th percentiles
HALF_LIFE_DAYS = 14.0
HOUR_WEIGHTS = (1.0, 0.5, 0.2)  # same hour, one hour away, further
OTHER_WEEKDAY_WEIGHT = 0.5
PRIOR_WEIGHT = 8.0  # the default's pseudo-tickets, counted as tickets of the same hour
PRIOR_SIGMA = 0.6  # log-spread of the default when nothing is known
TODAY_SHRINK = 10.0  # today's finished tickets count n / (n + TODAY_SHRINK) against history
RUNS = 32
LOW_Q, POINT_Q, HIGH_Q = 0.2, 0.5, 0.8
SHORT_MINUTES = 5  # a range ending below this is shown as "under 5 minutes"


@dataclass(frozen=True)
class ServiceRecord:
    """One finished ticket of an earlier day: its area, when it was served, for how long."""

    area_id: int
    day: dt.date
    hour: int  # hall time of the call
    minutes: float


@dataclass(frozen=True)
class ServiceTimes:
    """An area's service-time distribution (minutes) as an evenly spaced quantile table."""

    table: tuple[float, ...]
    history: float  # effective number of historical tickets behind it (0 = the default only)

    def sample(self, u: float) -> float:
        """The service time at cumulative probability ``u`` (0 ≤ u < 1)."""
        x = u * (len(self.table) - 1)
        i = min(int(x), len(self.table) - 2)
        return self.table[i] + (self.table[i + 1] - self.table[i]) * (x - i)

    def cdf(self, minutes: float) -> float:
        """The probability that a service ends within ``minutes``."""
        t = self.table
        if minutes <= t[0]:
            return 0.0
        if minutes >= t[-1]:
            return 1.0
        i = bisect.bisect_right(t, minutes) - 1
        span = t[i + 1] - t[i]
        return (i + ((minutes - t[i]) / span if span > 0 else 0.0)) / (len(t) - 1)

    @property
    def median(self) -> float:
        """The middle service time."""
        return self.sample(0.5)

    @property
    def mean(self) -> float:
        """The mean service time (trapezoids over the table)."""
        t = self.table
        return sum((a + b) / 2 for a, b in zip(t, t[1:], strict=False)) / (len(t) - 1)

    def scaled(self, factor: float) -> ServiceTimes:
        """The same shape, every time multiplied by ``factor``."""
        return ServiceTimes(tuple(v * factor for v in self.table), self.history)


@dataclass(frozen=True)
class CounterNow:
    """An open counter serving the area: all its areas and what it is doing now."""

    areas: tuple[int, ...]
    busy_area: int | None = None  # the area of the ticket at the counter, if any
    elapsed: float = 0.0  # minutes since that ticket was called


@dataclass(frozen=True)
class WaitRange:
    """A predicted wait in minutes: a likely range and the point estimate inside it."""

    low: float
    point: float
    high: float

    def shown(self) -> tuple[int, int]:
        """The range as shown to a citizen: (0, 5) reads "under 5 minutes", else rounded
        outwards to 5 minutes (10 beyond an hour), never empty."""
        return shown_range(self.low, self.high)

    @property
    def minutes(self) -> int:
        """The point estimate in whole minutes."""
        return int(round(self.point))


def shown_range(low: float, high: float) -> tuple[int, int]:
    """Round a raw range outwards to what a citizen reads (see ``WaitRange.shown``)."""
    if high < SHORT_MINUTES:
        return 0, SHORT_MINUTES
    step = 5 if high <= 60 else 10
    lo = int(math.floor(low / step) * step)
    hi = int(math.ceil(high / step) * step)
    if hi <= lo:
        hi = lo + step
    return lo, hi


def _weighted_table(values: list[tuple[float, float]]) -> tuple[float, ...]:
    """Evenly spaced quantiles of weighted values (value, weight)."""
    values.sort()
    total = sum(w for _, w in values)
    table: list[float] = []
    cumulative, i = 0.0, 0
    mids: list[float] = []
    for _, w in values:  # each value stands at the middle of its weight
        mids.append((cumulative + w / 2) / total)
        cumulative += w
    for q in range(QUANTILES):
        u = q / (QUANTILES - 1)
        while i < len(mids) - 1 and mids[i + 1] < u:
            i += 1
        if u <= mids[0]:
            table.append(values[0][0])
        elif u >= mids[-1]:
            table.append(values[-1][0])
        else:
            span = mids[i + 1] - mids[i]
            f = (u - mids[i]) / span if span > 0 else 0.0
            table.append(values[i][0] + (values[i + 1][0] - values[i][0]) * f)
    return tuple(table)


def prior_times(default_minutes: float) -> ServiceTimes:
    """The hall's default service time with a wide lognormal spread (no history at all)."""
    return ServiceTimes(tuple(_prior_points(default_minutes)), 0.0)


def _prior_points(default_minutes: float) -> list[float]:
    points = []
    for q in range(QUANTILES):
        u = min(max(q / (QUANTILES - 1), 0.01), 0.99)
        points.append(default_minutes * math.exp(PRIOR_SIGMA * _normal_ppf(u)))
    return points


def _normal_ppf(u: float) -> float:
    """The standard normal quantile (Acklam's rational approximation, |error| < 1.2e-9)."""
    a = (-39.69683028665376, 220.9460984245205, -275.9285104469687, 138.3577518672690,
         -30.66479806614716, 2.506628274631000)  # fmt: skip
    b = (-54.47609879822406, 161.5858368580409, -155.6989798598866, 66.80131188771972,
         -13.28068155288572)  # fmt: skip
    c = (-7.784894002430293e-03, -0.3223964580411365, -2.400758277161838, -2.549732539343734,
         4.374664141464968, 2.938163982698783)  # fmt: skip
    d = (7.784695709041462e-03, 0.3224671290700398, 2.445134137142996, 3.754408661907416)
    if u < 0.02425:
        q = math.sqrt(-2 * math.log(u))
        num = ((((c[0] * q + c[1]) * q + c[2]) * q + c[3]) * q + c[4]) * q + c[5]
        return float(num / ((((d[0] * q + d[1]) * q + d[2]) * q + d[3]) * q + 1))
    if u > 1 - 0.02425:
        return -_normal_ppf(1 - u)
    q = u - 0.5
    r = q * q
    num = (((((a[0] * r + a[1]) * r + a[2]) * r + a[3]) * r + a[4]) * r + a[5]) * q
    return float(num / (((((b[0] * r + b[1]) * r + b[2]) * r + b[3]) * r + b[4]) * r + 1))


def service_times(
    records: Iterable[ServiceRecord], day: dt.date, hour: int, default_minutes: float
) -> ServiceTimes:
    """An area's distribution for ``day`` at ``hour``, from its records of earlier days."""
    weekday = day.weekday()
    values: list[tuple[float, float]] = []
    weight_sum = weight_sq = 0.0
    for r in records:
        age = (day - r.day).days
        if age <= 0 or r.minutes <= 0:
            continue
        w = 0.5 ** (age / HALF_LIFE_DAYS) * HOUR_WEIGHTS[min(abs(r.hour - hour), 2)]
        if r.day.weekday() != weekday:
            w *= OTHER_WEEKDAY_WEIGHT
        values.append((r.minutes, w))
        weight_sum += w
        weight_sq += w * w
    if not values:
        return prior_times(default_minutes)
    effective = weight_sum * weight_sum / weight_sq
    # The default's pseudo-tickets weigh as PRIOR_WEIGHT tickets of the records' mean weight.
    prior_w = PRIOR_WEIGHT * weight_sum / len(values) / QUANTILES
    values.extend((v, prior_w) for v in _prior_points(default_minutes))
    return ServiceTimes(_weighted_table(values), effective)


def adjust_to_today(times: ServiceTimes, today: Sequence[float]) -> ServiceTimes:
    """Lean the distribution towards today's finished tickets (a slow or quick day)."""
    spans = sorted(m for m in today if m > 0)
    if len(spans) < 3:
        return times
    median = spans[len(spans) // 2]
    if len(spans) % 2 == 0:
        median = (median + spans[len(spans) // 2 - 1]) / 2
    shrink = len(spans) / (len(spans) + TODAY_SHRINK)
    factor = math.exp(shrink * math.log(median / max(times.median, 0.01)))
    return times.scaled(min(2.0, max(0.5, factor)))


def _remaining(times: ServiceTimes, elapsed: float, u: float) -> float:
    """Minutes left of a ticket ``elapsed`` minutes into its service."""
    if elapsed <= 0:
        return times.sample(u)
    done = times.cdf(elapsed)
    if done >= 0.999:  # longer than anything seen: it should end soon
        return 0.25 * times.median * u * 2
    return max(0.0, times.sample(done + (1 - done) * u) - elapsed)


def _pick(sorted_values: list[float], q: float) -> float:
    """The ``q`` quantile of sorted values (linear between neighbours)."""
    x = q * (len(sorted_values) - 1)
    i = int(x)
    if i >= len(sorted_values) - 1:
        return sorted_values[-1]
    return sorted_values[i] + (sorted_values[i + 1] - sorted_values[i]) * (x - i)


def old_estimate(ahead: int, average: float, open_counters: int) -> int:
    """The method before: people ahead × the average service time ÷ open counters."""
    return int(math.ceil(ahead * average / max(1, open_counters)))


def predict_site(
    counters: Sequence[CounterNow],
    queue: Sequence[tuple[int, bool]],
    times: Mapping[int, ServiceTimes],
    default: ServiceTimes,
    *,
    strict: bool = True,
    runs: int = RUNS,
    seed: int = 17,
) -> list[WaitRange]:
    """Predicted waits of every waiting ticket of a site, by playing the calls out.

    ``queue``: the waiting tickets (area, priority) in the order they were queued;
    ``counters``: every open counter of the site. Each run, every counter first finishes its
    ticket (what is left of it), then calls as the hall does: among its areas, priority
    tickets first (``strict``), else the longest waiting. Services are drawn from ``times``
    (``default`` for an area without). An area no open counter serves gets one (the call rate
    of one counter, as before). Later arrivals are not played (a priority ticket that will
    jump ahead is not known yet).
    """
    pool = list(counters)
    served = {a for c in pool for a in c.areas}
    pool.extend(CounterNow((a,)) for a in sorted({a for a, _ in queue} - served))
    rng = random.Random(seed)
    draw = rng.random
    calls: list[list[float]] = [[] for _ in queue]
    # Per counter, the lines it calls from, in the policy's order: priority lines first.
    first_lines = [[(a, True) for a in c.areas] if strict else [] for c in pool]
    next_lines = [[(a, False) for a in c.areas] for c in pool]
    tables = [times.get(area, default).table for area, _ in queue]
    top = QUANTILES - 1
    for _ in range(runs):
        lines: dict[tuple[int, bool], deque[int]] = {}
        for index, (area, priority) in enumerate(queue):
            lines.setdefault((area, priority and strict), deque()).append(index)
        heap: list[tuple[float, int]] = []
        for i, c in enumerate(pool):
            first = 0.0
            if c.busy_area is not None:
                first = _remaining(times.get(c.busy_area, default), c.elapsed, draw())
            heap.append((first, i))
        heapq.heapify(heap)
        while heap:
            t, i = heap[0]
            best: deque[int] | None = None
            for keys in (first_lines[i], next_lines[i]):
                for key in keys:
                    line = lines.get(key)
                    if line and (best is None or line[0] < best[0]):
                        best = line
                if best is not None:
                    break
            if best is None:  # nothing left that this counter serves
                heapq.heappop(heap)
                continue
            index = best.popleft()
            calls[index].append(t)
            table = tables[index]
            x = draw() * top
            k = int(x)
            service = table[k] + (table[k + 1] - table[k]) * (x - k)
            heapq.heapreplace(heap, (t + service, i))
    out = []
    for samples in calls:
        samples.sort()
        out.append(
            WaitRange(_pick(samples, LOW_Q), _pick(samples, POINT_Q), _pick(samples, HIGH_Q))
        )
    return out
