"""Honest wait predictions per (site, area): a range and a point, from the live state and history.

The model is ``wait_model`` (pure); this module feeds it from the database and keeps its inputs
in the per-process caches of ``catalog_cache`` (named there: ``PREDICT_TTL_S``), so a kiosk tap
or a phone's poll reads no history: one history read per site and day (an hour's TTL), the live
state (counters busy since when, waiting counts: two indexed reads) at most every few seconds,
and the predicted waits by place in the queue reused for as long. A service that moves a queue
asks with ``fresh=True`` inside its own transaction (it sees its own writes).

Fallbacks: an area with no history gets the hall's default service time
(``DEFAULT_SERVICE_MINUTES``) with a wide spread, leaned towards today's finished tickets once
there are three; with little history the default still weighs as ``PRIOR_WEIGHT`` tickets. No
open counter serving the area (all paused): the call rate of one counter.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa

from db.models import TicketStatus
from motcua.services import catalog_cache
from motcua.services import wait_model as wm
from motcua.services.common import QueuePolicy
from motcua.services.tickets import statements as st
from motcua.timeutil import local

HISTORY_DAYS = 42
# Waiting tickets played out at most (a play-out costs ~0.07 ms CPU per ticket); those further
# back, and a ticket taken behind them, are extrapolated at the area's call rate.
MAX_PLAYED = 120

_HISTORY = sa.select(
    st.TICKETS.c.area_id,
    st.TICKETS.c.business_day,
    st.TICKETS.c.called_at,
    st.TICKETS.c.finished_at,
).where(
    st.TICKETS.c.site_id == sa.bindparam("site_id"),
    st.TICKETS.c.business_day >= sa.bindparam("since"),
    st.TICKETS.c.business_day < sa.bindparam("day"),
    st.TICKETS.c.status == TicketStatus.FINISHED,
)

_BUSY = (
    sa.select(st.COUNTERS.c.number, st.TICKETS.c.area_id, st.TICKETS.c.called_at)
    .select_from(st.TICKETS.join(st.COUNTERS, st.COUNTERS.c.id == st.TICKETS.c.counter_id))
    .where(
        st.TICKETS.c.site_id == sa.bindparam("site_id"),
        st.TICKETS.c.business_day == sa.bindparam("day"),
        st.TICKETS.c.status.in_([TicketStatus.CALLED, TicketStatus.SERVING]),
    )
)

_WAITING = (
    sa.select(st.TICKETS.c.area_id, st.TICKETS.c.priority)
    .where(
        st.TICKETS.c.site_id == sa.bindparam("site_id"),
        st.TICKETS.c.business_day == sa.bindparam("day"),
        st.TICKETS.c.status == TicketStatus.WAITING,
    )
    .order_by(st.TICKETS.c.queued_at, st.TICKETS.c.id)
)


@dataclass(frozen=True)
class LiveSite:
    """A site's live state: what each counter is doing and who waits, in queue order."""

    busy: dict[int, tuple[int, dt.datetime]]  # counter number → (area id, called at)
    queue: list[tuple[int, bool]]  # (area id, priority) of the waiting tickets


def predict_wait(
    site_id: int,
    area_id: int,
    day: dt.date,
    ahead: int,
    policy: QueuePolicy,
    now: dt.datetime,
    *,
    connection: Any = None,
) -> wm.WaitRange:
    """The predicted wait of a ticket with ``ahead`` people before it in the area."""
    return predict_queue(site_id, area_id, day, ahead + 1, policy, now, connection=connection)[
        ahead
    ]


def predict_queue(
    site_id: int,
    area_id: int,
    day: dt.date,
    places: int,
    policy: QueuePolicy,
    now: dt.datetime,
    *,
    fresh: bool = False,
    connection: Any = None,
) -> list[wm.WaitRange]:
    """Predicted waits of the area's places 0 … ``places`` - 1 (in ``count_ahead``'s order;
    the place after the last waiting ticket is a ticket taken now)."""
    key = (site_id, day)
    table = (
        None if fresh else _recent(catalog_cache.cached_prediction("places", key), now, "places")
    )
    if table is None:
        table = _site_table(site_id, day, policy, now, fresh=fresh, connection=connection)
        catalog_cache.store_prediction("places", key, (now, table))
    waits_by_area, steps = table
    waits = list(waits_by_area.get(area_id) or [wm.WaitRange(0.0, 0.0, 0.0)])
    if len(waits) < places:  # further back than the table: one more service each
        step = steps.get(area_id) or policy.default_service_minutes / max(
            1, _open_count(site_id, area_id)
        )
        last = waits[-1]
        for n in range(1, places - len(waits) + 1):
            waits.append(
                wm.WaitRange(last.low + n * step, last.point + n * step, last.high + n * step)
            )
    return waits[:places]


def _site_table(
    site_id: int,
    day: dt.date,
    policy: QueuePolicy,
    now: dt.datetime,
    *,
    fresh: bool,
    connection: Any,
) -> tuple[dict[int, list[wm.WaitRange]], dict[int, float]]:
    """Every area's predicted waits by place, plus a ticket taken now, from one play-out;
    and each area's minutes per call further back (its mean service ÷ its open counters)."""
    live = _live(site_id, day, now, fresh=fresh, connection=connection)
    counters, areas = _open_counters(site_id, live, now)
    strict = policy.priority_policy == "strict"
    if len(live.queue) > MAX_PLAYED:
        queue = live.queue[:MAX_PLAYED]
    else:  # a ticket taken now in each area the site offers: after everyone waiting
        queue = live.queue + [(a, False) for a in sorted(areas)]
    hour = local(now).hour
    times = {
        a: wm.adjust_to_today(
            _times(site_id, a, day, hour, policy, connection),
            _today_spans(site_id, a, day, connection),
        )
        for a in areas | {a for a, _ in live.queue}
    }
    waits = wm.predict_site(
        counters, queue, times, wm.prior_times(policy.default_service_minutes), strict=strict
    )
    by_area: dict[int, list[tuple[tuple[bool, int], wm.WaitRange]]] = defaultdict(list)
    for index, ((area, priority), wait) in enumerate(zip(queue, waits, strict=True)):
        by_area[area].append(((not (priority and strict), index), wait))
    steps = {a: t.mean / max(1, sum(1 for c in counters if a in c.areas)) for a, t in times.items()}
    return {a: [w for _, w in sorted(rows)] for a, rows in by_area.items()}, steps


def _open_count(site_id: int, area_id: int) -> int:
    """How many counters serving the area are open (not paused)."""
    counters = catalog_cache.snapshot().serving.get((site_id, area_id), [])
    return sum(1 for _, paused in counters if not paused)


def _recent(hit: tuple[dt.datetime, Any] | None, now: dt.datetime, kind: str) -> Any | None:
    """A cached (at, value) if ``at`` is within the kind's TTL of ``now`` (a frozen clock in
    tests, or a caller asking about another moment, never reads another moment's state)."""
    if hit is None:
        return None
    at, value = hit
    if abs((now - at).total_seconds()) > catalog_cache.PREDICT_TTL_S[kind]:
        return None
    return value


def _open_counters(
    site_id: int, live: LiveSite, now: dt.datetime
) -> tuple[list[wm.CounterNow], set[int]]:
    """The site's open counters with all their areas and what they do; the areas offered."""
    areas_of: dict[int, list[int]] = defaultdict(list)
    paused: dict[int, bool] = {}
    for (site, area), counters in catalog_cache.snapshot().serving.items():
        if site != site_id:
            continue
        for number, is_paused in counters:
            areas_of[number].append(area)
            paused[number] = is_paused
    out = []
    for number in sorted(areas_of):
        if paused[number]:
            continue
        busy = live.busy.get(number)
        elapsed = (now - busy[1]).total_seconds() / 60 if busy else 0.0
        out.append(
            wm.CounterNow(
                tuple(sorted(areas_of[number])), busy[0] if busy else None, max(0.0, elapsed)
            )
        )
    return out, {a for areas in areas_of.values() for a in areas}


def _live(
    site_id: int, day: dt.date, now: dt.datetime, *, fresh: bool, connection: Any
) -> LiveSite:
    """The site's live state (cached a few seconds unless ``fresh``)."""
    key = (site_id, day)
    if not fresh:
        hit = _recent(catalog_cache.cached_prediction("live", key), now, "live")
        if hit is not None:
            return hit  # type: ignore[no-any-return]
    conn = connection or st.conn()
    params = {"site_id": site_id, "day": day}
    busy = {int(n): (int(a), called) for n, a, called in conn.execute(_BUSY, params) if called}
    queue = [(int(a), priority is not None) for a, priority in conn.execute(_WAITING, params)]
    live = LiveSite(busy=busy, queue=queue)
    catalog_cache.store_prediction("live", key, (now, live))
    return live


def _history(site_id: int, day: dt.date, connection: Any) -> dict[int, list[wm.ServiceRecord]]:
    """Finished tickets of the site's last HISTORY_DAYS days before ``day``, by area."""
    key = (site_id, day)
    hit = catalog_cache.cached_prediction("history", key)
    if hit is not None:
        return hit  # type: ignore[no-any-return]
    conn = connection or st.conn()
    params = {"site_id": site_id, "since": day - dt.timedelta(days=HISTORY_DAYS), "day": day}
    records: dict[int, list[wm.ServiceRecord]] = defaultdict(list)
    for area, business_day, called, finished in conn.execute(_HISTORY, params):
        if called is None or finished is None or finished <= called:
            continue
        minutes = (finished - called).total_seconds() / 60
        records[int(area)].append(
            wm.ServiceRecord(int(area), business_day, local(called).hour, minutes)
        )
    out = dict(records)
    catalog_cache.store_prediction("history", key, out)
    return out


def _times(
    site_id: int, area_id: int, day: dt.date, hour: int, policy: QueuePolicy, connection: Any
) -> wm.ServiceTimes:
    """The area's service-time table for this day and hour (cached)."""
    key = (site_id, area_id, day, hour)
    hit = catalog_cache.cached_prediction("times", key)
    if hit is not None:
        return hit  # type: ignore[no-any-return]
    records = _history(site_id, day, connection).get(area_id, [])
    times = wm.service_times(records, day, hour, policy.default_service_minutes)
    catalog_cache.store_prediction("times", key, times)
    return times


def _today_spans(site_id: int, area_id: int, day: dt.date, connection: Any) -> list[float]:
    """Call-to-finish minutes of the area's last 20 finished tickets today (cached)."""
    key = (site_id, area_id, day)
    hit = catalog_cache.cached_prediction("spans", key)
    if hit is not None:
        return hit  # type: ignore[no-any-return]
    params = {"site_id": site_id, "area_id": area_id, "day": day}
    rows = (connection or st.conn()).execute(st.RECENT_SPANS, params).all()
    spans = [(f - c).total_seconds() / 60 for c, f in rows if c and f and f > c]
    catalog_cache.store_prediction("spans", key, spans)
    return spans
