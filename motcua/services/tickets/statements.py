"""The ticket lifecycle's SQL: every statement built once, executed on the session's connection.

One data-access idiom for the whole lifecycle (issue, every counter verb, cancel, expiry and
the reads): SQLAlchemy Core statements on plain rows. Building and cache-keying an expression
on every kiosk tap cost about 0.7-1 ms, executing a prebuilt one about 0.15 ms, and loading ORM
objects with their relationships and flushing them about three times the CPU of a Core update
(bench/bench_api.py, bench/bench_realtime.py). Lock order, everywhere: the counter row, then
the ticket row, then the site row last (``common.bump_seq``).
"""

from __future__ import annotations

import datetime as dt
import functools
from dataclasses import dataclass
from typing import Any, cast

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

from db import db
from db.models import (
    AT_COUNTER,
    OPEN_STATUSES,
    Counter,
    ServiceArea,
    Site,
    Ticket,
    TicketEvent,
    TicketSequence,
    TicketStatus,
    User,
    counter_areas,
    new_uuid,
    user_sites,
)
from motcua.services.common import dialect_name

TICKETS = cast(sa.Table, Ticket.__table__)
EVENTS = cast(sa.Table, TicketEvent.__table__)
COUNTERS = cast(sa.Table, Counter.__table__)
AREAS = cast(sa.Table, ServiceArea.__table__)
SITES = cast(sa.Table, Site.__table__)
USERS = cast(sa.Table, User.__table__)
_ORIGIN = AREAS.alias("origin_area")

INSERT_TICKET = sa.insert(TICKETS).returning(TICKETS.c.id, sort_by_parameter_order=True)
INSERT_EVENT = sa.insert(EVENTS)

# A ticket as the views need it: its columns, its area, the area it was issued in, its site.
TICKET_ROW = sa.select(
    TICKETS.c.id,
    TICKETS.c.uuid,
    TICKETS.c.token,
    TICKETS.c.code,
    TICKETS.c.number,
    TICKETS.c.status,
    TICKETS.c.priority,
    TICKETS.c.issued_at,
    TICKETS.c.queued_at,
    TICKETS.c.business_day,
    TICKETS.c.called_at,
    TICKETS.c.first_called_at,
    TICKETS.c.started_at,
    TICKETS.c.finished_at,
    TICKETS.c.misses,
    TICKETS.c.call_count,
    TICKETS.c.dossier_code,
    TICKETS.c.site_id,
    TICKETS.c.area_id,
    TICKETS.c.issue_area_id,
    TICKETS.c.counter_id,
    TICKETS.c.officer_id,
    AREAS.c.code.label("area_code"),
    AREAS.c.prefix.label("area_prefix"),
    AREAS.c.name.label("area_name"),
    _ORIGIN.c.name.label("origin_name"),
    SITES.c.code.label("site_code"),
).select_from(
    TICKETS.join(AREAS, AREAS.c.id == TICKETS.c.area_id)
    .join(_ORIGIN, _ORIGIN.c.id == TICKETS.c.issue_area_id)
    .join(SITES, SITES.c.id == TICKETS.c.site_id)
)
_AT_COUNTER_NOW = (
    TICKETS.c.counter_id == sa.bindparam("cid"),
    TICKETS.c.business_day == sa.bindparam("day"),
    TICKETS.c.status.in_(AT_COUNTER),
)
TICKET_AT_COUNTER = TICKET_ROW.where(*_AT_COUNTER_NOW).order_by(TICKETS.c.called_at.desc()).limit(1)
# A verb on the counter's ticket locks its row too: a cancel (which locks the ticket, not the
# counter) committed meanwhile is then seen, and the verb finds no ticket instead of writing
# over the cancellation. On PostgreSQL the locked read re-checks the status after the wait.
LOCK_TICKET_AT_COUNTER = TICKET_AT_COUNTER.with_for_update(of=TICKETS)
LOCK_TICKET_BY_CODE = TICKET_ROW.where(
    TICKETS.c.site_id == sa.bindparam("site_id"),
    TICKETS.c.business_day == sa.bindparam("day"),
    sa.func.upper(TICKETS.c.code) == sa.bindparam("code"),
).with_for_update(of=TICKETS)
TICKET_BY_TOKEN = TICKET_ROW.where(TICKETS.c.token == sa.bindparam("token"))
LOCK_TICKET_BY_TOKEN = TICKET_BY_TOKEN.with_for_update(of=TICKETS)
TICKET_BY_ID = TICKET_ROW.where(TICKETS.c.id == sa.bindparam("tid"))
# A keyed tap's ticket, with the fingerprint of the request that issued it.
TICKET_BY_KEY = TICKET_ROW.add_columns(TICKETS.c.request_hash).where(
    TICKETS.c.site_id == sa.bindparam("site_id"),
    TICKETS.c.idempotency_key == sa.bindparam("key"),
)
COUNTER_NUMBER = sa.select(COUNTERS.c.number).where(COUNTERS.c.id == sa.bindparam("cid"))
LOCK_COUNTER = (
    sa.select(
        COUNTERS.c.id,
        COUNTERS.c.site_id,
        COUNTERS.c.number,
        COUNTERS.c.active,
        COUNTERS.c.paused,
        COUNTERS.c.officer_id,
        COUNTERS.c.normal_streak,
    )
    .where(COUNTERS.c.id == sa.bindparam("cid"))
    .with_for_update()
)
LOCK_FREE_COUNTER = LOCK_COUNTER.add_columns(
    sa.exists().where(*_AT_COUNTER_NOW).label("busy")  # a subquery: locks nothing
)
COUNTER_BY_NUMBER = sa.select(COUNTERS.c.id, COUNTERS.c.number).where(
    COUNTERS.c.site_id == sa.bindparam("site_id"),
    COUNTERS.c.number == sa.bindparam("number"),
    COUNTERS.c.active.is_(True),
)
ACTIVE_AREA_BY_KEY = sa.select(AREAS.c.id).where(
    AREAS.c.active.is_(True),
    sa.or_(
        sa.func.lower(AREAS.c.code) == sa.bindparam("key"),
        sa.func.lower(AREAS.c.prefix) == sa.bindparam("key"),
    ),
)
ACTOR = sa.select(USERS.c.id, USERS.c.username, USERS.c.role, USERS.c.active).where(
    USERS.c.id == sa.bindparam("uid")
)
# The actor with their site scope in the same statement (roles per site, services/scopes.py):
# ``scoped`` when the account has sites, ``at_site`` when this site is one of them.
ACTOR_AT_SITE = ACTOR.add_columns(
    sa.exists().where(user_sites.c.user_id == USERS.c.id).label("scoped"),
    sa.exists()
    .where(user_sites.c.user_id == USERS.c.id, user_sites.c.site_id == sa.bindparam("sid"))
    .label("at_site"),
)
_ACTIVE_AREA_IDS = (
    sa.select(counter_areas.c.area_id)
    .join(AREAS, AREAS.c.id == counter_areas.c.area_id)
    .where(counter_areas.c.counter_id == sa.bindparam("cid"), AREAS.c.active.is_(True))
)
COUNTER_INFO = (
    sa.select(
        COUNTERS.c.id,
        COUNTERS.c.site_id,
        COUNTERS.c.number,
        COUNTERS.c.name,
        COUNTERS.c.active,
        COUNTERS.c.paused,
        USERS.c.full_name.label("officer"),
        SITES.c.seq,
    )
    .select_from(
        COUNTERS.join(SITES, SITES.c.id == COUNTERS.c.site_id).outerjoin(
            USERS, USERS.c.id == COUNTERS.c.officer_id
        )
    )
    .where(COUNTERS.c.id == sa.bindparam("cid"))
)
COUNTER_AREAS = (
    sa.select(AREAS.c.id, AREAS.c.code, AREAS.c.prefix, AREAS.c.name, AREAS.c.active)
    .join(counter_areas, counter_areas.c.area_id == AREAS.c.id)
    .where(counter_areas.c.counter_id == sa.bindparam("cid"))
    .order_by(AREAS.c.sort_order)
)
STALE_OPEN = sa.select(
    TICKETS.c.id,
    TICKETS.c.site_id,
    TICKETS.c.area_id,
    TICKETS.c.status,
    TICKETS.c.counter_id,
).where(TICKETS.c.business_day < sa.bindparam("day"), TICKETS.c.status.in_(OPEN_STATUSES))
RECENT_SPANS = (
    sa.select(TICKETS.c.called_at, TICKETS.c.finished_at)
    .where(
        TICKETS.c.site_id == sa.bindparam("site_id"),
        TICKETS.c.area_id == sa.bindparam("area_id"),
        TICKETS.c.business_day == sa.bindparam("day"),
        TICKETS.c.status == TicketStatus.FINISHED,
    )
    .order_by(TICKETS.c.finished_at.desc())
    .limit(20)
)


@dataclass(frozen=True)
class CounterRow:
    """A counter locked for an action, as plain values."""

    id: int
    site_id: int
    number: int
    paused: bool
    officer_id: int | None
    normal_streak: int


def counter_row(row: Any) -> CounterRow:
    """The plain values of a locked counter row."""
    return CounterRow(
        id=row.id,
        site_id=row.site_id,
        number=row.number,
        paused=bool(row.paused),
        officer_id=row.officer_id,
        normal_streak=row.normal_streak,
    )


def waiting_at_counter(area_ids: Any) -> tuple[Any, ...]:
    """A counter's queue: its active areas' waiting tickets not sent to another counter, and
    the tickets sent to it (params: site_id, day, cid)."""
    return (
        TICKETS.c.site_id == sa.bindparam("site_id"),
        TICKETS.c.business_day == sa.bindparam("day"),
        TICKETS.c.status == TicketStatus.WAITING,
        sa.or_(
            sa.and_(TICKETS.c.area_id.in_(area_ids), TICKETS.c.target_counter_id.is_(None)),
            TICKETS.c.target_counter_id == sa.bindparam("cid"),
        ),
    )


def queue_columns(priority_first: bool) -> list[Any]:
    """ORDER BY of a waiting queue, on the table's columns."""
    order: list[Any] = []
    if priority_first:
        order.append(sa.case((TICKETS.c.priority.is_(None), 1), else_=0))
    return [*order, TICKETS.c.queued_at, TICKETS.c.id]


@functools.cache
def next_waiting_statement(priority_first: bool, priority_only: bool) -> Any:
    """The counter's next waiting ticket, locked (skipped if another counter holds it)."""
    where = [*waiting_at_counter(_ACTIVE_AREA_IDS.scalar_subquery())]
    if priority_only:
        where.append(TICKETS.c.priority.is_not(None))
    return (
        TICKET_ROW.where(*where)
        .order_by(*queue_columns(priority_first))
        .limit(1)
        .with_for_update(of=TICKETS, skip_locked=True)
    )


@functools.cache
def queue_statement(priority_first: bool) -> Any:
    """A counter's whole waiting queue in call order (params: site_id, day, cid, area_ids)."""
    return (
        sa.select(
            TICKETS.c.id,
            TICKETS.c.code,
            AREAS.c.name.label("area"),
            AREAS.c.prefix.label("area_prefix"),
            TICKETS.c.priority,
            TICKETS.c.issued_at,
            TICKETS.c.queued_at,
        )
        .select_from(TICKETS.join(AREAS, AREAS.c.id == TICKETS.c.area_id))
        .where(*waiting_at_counter(sa.bindparam("area_ids", expanding=True)))
        .order_by(*queue_columns(priority_first))
    )


#: The waiting tickets of one area of a day, for everyone's place in the queue at once.
WAITING_IN_AREA = sa.select(
    TICKETS.c.id, TICKETS.c.token, TICKETS.c.priority, TICKETS.c.queued_at
).where(
    TICKETS.c.site_id == sa.bindparam("site_id"),
    TICKETS.c.business_day == sa.bindparam("day"),
    TICKETS.c.area_id == sa.bindparam("area_id"),
    TICKETS.c.status == TicketStatus.WAITING,
)


@functools.cache
def count_ahead_statement(rule: str) -> Any:
    """The people-ahead count for one queue rule: fifo, strict_normal or strict_priority."""
    t = TICKETS
    queued_at = sa.bindparam("queued_at", type_=t.c.queued_at.type)
    ticket_id: Any = sa.bindparam("tid")
    earlier = sa.or_(
        t.c.queued_at < queued_at, sa.and_(t.c.queued_at == queued_at, t.c.id < ticket_id)
    )
    cond = {
        "fifo": earlier,
        "strict_normal": sa.or_(t.c.priority.is_not(None), earlier),
        "strict_priority": sa.and_(t.c.priority.is_not(None), earlier),
    }[rule]
    return sa.select(sa.func.count()).where(
        t.c.site_id == sa.bindparam("site_id"),
        t.c.business_day == sa.bindparam("day"),
        t.c.area_id == sa.bindparam("area_id"),
        t.c.status == TicketStatus.WAITING,
        t.c.id != ticket_id,
        cond,
    )


@functools.cache
def _upsert_sequence(dialect: str) -> Any:
    """``INSERT … ON CONFLICT DO UPDATE SET last_number = last_number + :count RETURNING``."""
    insert = sqlite_insert if dialect == "sqlite" else pg_insert
    seq = cast(sa.Table, TicketSequence.__table__)
    stmt = insert(seq).values(
        site_id=sa.bindparam("site_id"),
        area_id=sa.bindparam("area_id"),
        business_day=sa.bindparam("day"),
        last_number=sa.bindparam("count"),
    )
    return stmt.on_conflict_do_update(
        index_elements=["site_id", "area_id", "business_day"],
        set_={"last_number": seq.c.last_number + stmt.excluded.last_number},
    ).returning(seq.c.last_number)


def next_number(site_id: int, area_id: int, day: dt.date, count: int = 1) -> int:
    """Take ``count`` numbers of the per-(site, area, day) counter; returns the last one.

    ``INSERT … ON CONFLICT DO UPDATE … RETURNING`` inside the ticket's own
    transaction: gap-free and duplicate-free on SQLite and PostgreSQL, and a
    rollback takes the numbers back. The numbers taken are ``last - count + 1 … last``.
    """
    stmt = _upsert_sequence(dialect_name())
    params = {"site_id": site_id, "area_id": area_id, "day": day, "count": count}
    return int(conn().execute(stmt, params).scalar_one())


def conn() -> Any:
    """The session's connection: Core statements run in the service's one transaction."""
    return db.session.connection()


@functools.cache
def _update_statement(table: str, columns: tuple[str, ...]) -> Any:
    """UPDATE <table> SET <columns> WHERE id = :row_id, built once per column set."""
    t = TICKETS if table == "tickets" else COUNTERS
    values = {name: sa.bindparam(f"v_{name}", type_=t.c[name].type) for name in columns}
    return sa.update(t).where(t.c.id == sa.bindparam("row_id")).values(values)


def update_ticket(ticket_id: int, **values: Any) -> None:
    """Write some columns of one ticket."""
    params = {f"v_{name}": value for name, value in values.items()}
    conn().execute(_update_statement("tickets", tuple(values)), {"row_id": ticket_id, **params})


def update_counter(counter_id: int, **values: Any) -> None:
    """Write some columns of one counter."""
    params = {f"v_{name}": value for name, value in values.items()}
    conn().execute(_update_statement("counters", tuple(values)), {"row_id": counter_id, **params})


def event_row(
    ticket: dict[str, Any],
    kind: str,
    at: dt.datetime,
    *,
    actor_id: int | None = None,
    counter_id: int | None = None,
    detail: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """One row of a ticket's event log (in the ticket's current area)."""
    return {
        "uuid": new_uuid(),
        "ticket_id": ticket["id"],
        "site_id": ticket["site_id"],
        "kind": kind,
        "at": at,
        "actor_id": actor_id,
        "counter_id": counter_id,
        "area_id": ticket["area_id"],
        "detail": detail,
    }


def insert_events(rows: list[dict[str, Any]], connection: Any = None) -> None:
    """Append event rows (one statement, executemany when several)."""
    if rows:
        (connection or conn()).execute(INSERT_EVENT, rows if len(rows) > 1 else rows[0])
