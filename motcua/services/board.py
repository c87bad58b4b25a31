"""The lobby board snapshot: latest calls, waiting counts, counters.

Every display reads it on (re)connect, after a gap and once a minute: it runs on prebuilt Core
statements and plain rows (no ORM objects, no per-counter relationship loads).
"""

from __future__ import annotations

import datetime as dt
import functools
from typing import Any

import sqlalchemy as sa

from db import db
from db.models import (
    AT_COUNTER,
    Counter,
    ServiceArea,
    Site,
    Ticket,
    TicketEvent,
    TicketStatus,
    User,
    counter_areas,
)
from motcua.errors import NotFound
from motcua.services.common import begin_snapshot_read, transactional
from motcua.services.sites import actor_site_code, install_site_code, officer_site_code
from motcua.timeutil import HALL_TZ, business_day, ensure_now

RECENT_CALLS = 40  # the display names each ticket once: repeats are dropped there

_SITES = Site.__table__
_AREAS = ServiceArea.__table__
_COUNTERS = Counter.__table__
_TICKETS = Ticket.__table__
_EVENTS = TicketEvent.__table__
_USERS = User.__table__

_SITE = sa.select(
    _SITES.c.id, _SITES.c.code, _SITES.c.name, _SITES.c.unit_name, _SITES.c.seq
).where(_SITES.c.code == sa.bindparam("code"))
_ACTIVE_AREAS = (
    sa.select(
        _AREAS.c.id, _AREAS.c.code, _AREAS.c.prefix, _AREAS.c.name, _AREAS.c.target_wait_minutes
    )
    .where(_AREAS.c.active.is_(True))
    .order_by(_AREAS.c.sort_order, _AREAS.c.prefix)
)
_TODAY = (
    _TICKETS.c.site_id == sa.bindparam("site_id"),
    _TICKETS.c.business_day == sa.bindparam("day"),
)
_WAITING = (
    sa.select(_TICKETS.c.area_id, sa.func.count(), sa.func.min(_TICKETS.c.issued_at))
    .where(*_TODAY, _TICKETS.c.status == TicketStatus.WAITING)
    .group_by(_TICKETS.c.area_id)
)
_COUNTER_ROWS = (
    sa.select(
        _COUNTERS.c.id,
        _COUNTERS.c.number,
        _COUNTERS.c.name,
        _COUNTERS.c.paused,
        _USERS.c.full_name.label("officer"),
    )
    .select_from(_COUNTERS.outerjoin(_USERS, _USERS.c.id == _COUNTERS.c.officer_id))
    .where(_COUNTERS.c.site_id == sa.bindparam("site_id"), _COUNTERS.c.active.is_(True))
    .order_by(_COUNTERS.c.sort_order, _COUNTERS.c.number)
)
_COUNTER_PREFIXES = (
    sa.select(counter_areas.c.counter_id, _AREAS.c.prefix)
    .select_from(
        counter_areas.join(_AREAS, _AREAS.c.id == counter_areas.c.area_id).join(
            _COUNTERS, _COUNTERS.c.id == counter_areas.c.counter_id
        )
    )
    .where(_COUNTERS.c.site_id == sa.bindparam("site_id"), _COUNTERS.c.active.is_(True))
    .order_by(_AREAS.c.sort_order)
)
_AT_COUNTERS = sa.select(_TICKETS.c.counter_id, _TICKETS.c.status, _TICKETS.c.code).where(
    *_TODAY, _TICKETS.c.status.in_(AT_COUNTER)
)


@functools.cache
def _recent_calls(by_counter: bool, by_area: bool) -> Any:
    """The latest calls and recalls of the day, optionally of some counters or areas."""
    where = [
        _EVENTS.c.site_id == sa.bindparam("site_id"),
        _EVENTS.c.kind.in_(("called", "recalled")),
        _EVENTS.c.at >= sa.bindparam("since", type_=_EVENTS.c.at.type),
        _TICKETS.c.business_day == sa.bindparam("day"),
    ]
    if by_counter:
        where.append(_EVENTS.c.counter_id.in_(sa.bindparam("counter_ids", expanding=True)))
    if by_area:
        where.append(_TICKETS.c.area_id.in_(sa.bindparam("area_ids", expanding=True)))
    return (
        sa.select(_EVENTS.c.at, _EVENTS.c.kind, _TICKETS.c.code, _COUNTERS.c.number, _AREAS.c.name)
        .select_from(
            _EVENTS.join(_TICKETS, _TICKETS.c.id == _EVENTS.c.ticket_id)
            .join(_COUNTERS, _COUNTERS.c.id == _EVENTS.c.counter_id)
            .join(_AREAS, _AREAS.c.id == _TICKETS.c.area_id)
        )
        .where(*where)
        .order_by(_EVENTS.c.id.desc())
        .limit(RECENT_CALLS)
    )


@transactional
def board_snapshot(
    *,
    site_code: str | None = None,
    now: dt.datetime | None = None,
    areas: list[str] | None = None,
    counters: list[int] | None = None,
) -> dict[str, Any]:
    """Everything a display needs, with the sequence number it is exact at."""
    begin_snapshot_read()
    now = ensure_now(now)
    conn = db.session.connection()
    code = site_code or install_site_code()
    site = conn.execute(_SITE, {"code": code}).first()
    if site is None:
        raise NotFound(site=code)
    day = business_day(now)
    today = {"site_id": site.id, "day": day}
    waiting = {area_id: (n, oldest) for area_id, n, oldest in conn.execute(_WAITING, today)}
    prefixes: dict[int, list[str]] = {}
    for counter_id, prefix in conn.execute(_COUNTER_PREFIXES, {"site_id": site.id}):
        prefixes.setdefault(counter_id, []).append(prefix)
    # The areas this site offers (its counters serve them; the catalog is the install's), and
    # any with numbers still waiting here.
    offered = {prefix for served in prefixes.values() for prefix in served}
    area_rows = [
        a for a in conn.execute(_ACTIVE_AREAS).all() if a.prefix in offered or a.id in waiting
    ]
    if areas:
        wanted = {a.upper() for a in areas}
        area_rows = [a for a in area_rows if a.code.upper() in wanted or a.prefix in wanted]
    counter_rows = conn.execute(_COUNTER_ROWS, {"site_id": site.id}).all()
    if counters:
        numbers = set(counters)
        counter_rows = [c for c in counter_rows if c.number in numbers]
    at_counter = {row.counter_id: row for row in conn.execute(_AT_COUNTERS, today)}
    params: dict[str, Any] = {
        **today,
        "since": dt.datetime.combine(day, dt.time(0), tzinfo=HALL_TZ),
    }
    if counters:
        params["counter_ids"] = [c.id for c in counter_rows]
    if areas:
        params["area_ids"] = [a.id for a in area_rows]
    call_rows = conn.execute(_recent_calls(bool(counters), bool(areas)), params).all()
    return {
        "seq": site.seq,
        "site": {"id": site.id, "code": site.code, "name": site.name, "unit_name": site.unit_name},
        "business_day": day.isoformat(),
        "generated_at": now.isoformat(),
        "calls": [
            {
                "code": code,
                "counter": number,
                "area": area_name,
                "at": at.isoformat(),
                "recall": kind == "recalled",
            }
            for at, kind, code, number, area_name in call_rows
        ],
        "areas": [
            {
                "code": a.code,
                "prefix": a.prefix,
                "name": a.name,
                "waiting": waiting.get(a.id, (0, None))[0],
                "longest_wait_minutes": int((now - waiting[a.id][1]).total_seconds() // 60)
                if a.id in waiting and waiting[a.id][1]
                else 0,
                "target_wait_minutes": a.target_wait_minutes,
            }
            for a in area_rows
        ],
        "counters": [
            {
                "id": c.id,
                "number": c.number,
                "name": c.name,
                "paused": c.paused,
                "state": "paused"
                if c.paused
                else (at_counter[c.id].status if c.id in at_counter else "idle"),
                "ticket": at_counter[c.id].code if c.id in at_counter else None,
                "officer": c.officer,
                "areas": prefixes.get(c.id, []),
            }
            for c in counter_rows
        ],
    }


@transactional
def console_snapshot(
    actor_id: int | None, *, site_code: str | None = None, now: dt.datetime | None = None
) -> dict[str, Any]:
    """The board of the site whose counters an officer may choose from: the one asked for
    (refused if not theirs), else the site of the counter they sit at, else the install's
    default site, or the first of their own sites."""
    counter_site = officer_site_code(actor_id) if actor_id is not None else None
    code = actor_site_code(actor_id, site_code, counter_site)
    db.session.rollback()  # the snapshot's reads start their own consistent transaction
    return board_snapshot(site_code=code, now=now)
