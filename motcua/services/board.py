"""The lobby board snapshot: latest calls, waiting counts, counters."""

from __future__ import annotations

import datetime as dt
from typing import Any

import sqlalchemy as sa

from db import db
from db.engine import begin_read_only
from db.models import Counter, ServiceArea, Ticket, TicketEvent
from motcua.services.common import get_site, transactional
from motcua.timeutil import HALL_TZ, business_day, ensure_now

RECENT_CALLS = 10


@transactional
def board_snapshot(
    *,
    site_code: str | None = None,
    now: dt.datetime | None = None,
    areas: list[str] | None = None,
    counters: list[int] | None = None,
) -> dict[str, Any]:
    """Everything a display needs, with the sequence number it is exact at."""
    begin_read_only(db.session())
    now = ensure_now(now)
    site = get_site(site_code)
    day = business_day(now)
    area_rows = list(
        db.session.scalars(
            sa.select(ServiceArea)
            .where(ServiceArea.active.is_(True))
            .order_by(ServiceArea.sort_order, ServiceArea.prefix)
        )
    )
    if areas:
        wanted = {a.upper() for a in areas}
        area_rows = [a for a in area_rows if a.code.upper() in wanted or a.prefix in wanted]
    waiting_rows = db.session.execute(
        sa.select(Ticket.area_id, sa.func.count(), sa.func.min(Ticket.issued_at))
        .where(Ticket.site_id == site.id, Ticket.business_day == day, Ticket.status == "waiting")
        .group_by(Ticket.area_id)
    ).all()
    waiting = {area_id: (n, oldest) for area_id, n, oldest in waiting_rows}
    counter_rows = list(
        db.session.scalars(
            sa.select(Counter)
            .where(Counter.site_id == site.id, Counter.active.is_(True))
            .order_by(Counter.sort_order, Counter.number)
        )
    )
    if counters:
        counter_rows = [c for c in counter_rows if c.number in set(counters)]
    counter_ids = {c.id for c in counter_rows}
    at_counter = {
        t.counter_id: t
        for t in db.session.scalars(
            sa.select(Ticket).where(
                Ticket.site_id == site.id,
                Ticket.business_day == day,
                Ticket.status.in_(("called", "serving")),
            )
        )
    }
    start_of_day = dt.datetime.combine(day, dt.time(0), tzinfo=HALL_TZ)
    call_rows = db.session.execute(
        sa.select(TicketEvent.at, TicketEvent.kind, Ticket.code, Counter.number, ServiceArea.name)
        .join(Ticket, Ticket.id == TicketEvent.ticket_id)
        .join(Counter, Counter.id == TicketEvent.counter_id)
        .join(ServiceArea, ServiceArea.id == Ticket.area_id)
        .where(
            TicketEvent.site_id == site.id,
            TicketEvent.kind.in_(("called", "recalled")),
            TicketEvent.at >= start_of_day,
            Ticket.business_day == day,
            *([TicketEvent.counter_id.in_(counter_ids)] if counters else []),
            *([Ticket.area_id.in_([a.id for a in area_rows])] if areas else []),
        )
        .order_by(TicketEvent.id.desc())
        .limit(RECENT_CALLS)
    ).all()
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
                "officer": c.officer.full_name if c.officer else None,
                "areas": [a.prefix for a in c.areas],
            }
            for c in counter_rows
        ],
    }
