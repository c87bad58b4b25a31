"""The ticket lifecycle: the one place its rules live.

issue → waiting → called (→ recalled) → serving → finished
                   ↘ no-show (back of the queue, or ended after N misses)
                   ↘ transferred (waiting again, original issue time kept)
waiting/called → cancelled; anything still open after its business day → expired.
"""

from __future__ import annotations

import datetime as dt
import functools
import logging
import math
import secrets
import threading
from dataclasses import dataclass, field, fields, replace
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.exc import IntegrityError

from db import db
from db.models import (
    Counter,
    ServiceArea,
    Site,
    Ticket,
    TicketEvent,
    TicketSequence,
    User,
    counter_areas,
    new_uuid,
)
from motcua import realtime
from motcua.errors import (
    CounterBusy,
    CounterNotFound,
    CounterPaused,
    InvalidPriority,
    InvalidTransition,
    NoCurrentTicket,
    NotFound,
    QueueEmpty,
    ServiceNotFound,
    TicketNotFound,
    ValidationFailed,
)
from motcua.services import audit, catalog_cache
from motcua.services.common import (
    QueuePolicy,
    begin_snapshot_read,
    bump_seq,
    current_policy,
    default_site_code,
    dialect_name,
    transactional,
)
from motcua.timeutil import business_day, ensure_now

log = logging.getLogger(__name__)

WAITING, CALLED, SERVING = "waiting", "called", "serving"
FINISHED, NO_SHOW, CANCELLED, EXPIRED = "finished", "no_show", "cancelled", "expired"
OPEN_STATUSES = (WAITING, CALLED, SERVING)
AT_COUNTER = (CALLED, SERVING)


@dataclass
class TicketView:
    """What a kiosk, a phone or a console needs to know about a ticket."""

    uuid: str
    token: str
    code: str
    number: int
    status: str
    area_code: str
    area_prefix: str
    area_name: str
    priority: str | None
    priority_label: str | None
    issued_at: dt.datetime
    business_day: dt.date
    site_code: str
    counter_number: int | None = None
    called_at: dt.datetime | None = None
    started_at: dt.datetime | None = None
    finished_at: dt.datetime | None = None
    people_ahead: int | None = None
    estimated_wait_minutes: int | None = None
    serving_counters: list[int] = field(default_factory=list)
    transferred_from: str | None = None
    misses: int = 0
    call_count: int = 0
    dossier_code: str | None = None
    created: bool = True
    seq: int | None = None

    def as_dict(self) -> dict[str, Any]:
        """JSON-friendly dict (ISO times)."""
        out = {f.name: getattr(self, f.name) for f in fields(self)}
        out["serving_counters"] = list(self.serving_counters)
        for key, value in out.items():
            if isinstance(value, dt.datetime | dt.date):
                out[key] = value.isoformat()
        return out


def format_code(prefix: str, number: int, digits: int = 3) -> str:
    """Prefix + at least ``digits`` digits: A001 … A999, A1000."""
    return f"{prefix}{number:0{digits}d}"


def _area_by_key(key: str) -> ServiceArea:
    """An active area by code or ticket prefix (case-insensitive)."""
    wanted = (key or "").strip().lower()
    area = db.session.scalar(
        sa.select(ServiceArea).where(
            ServiceArea.active.is_(True),
            sa.or_(
                sa.func.lower(ServiceArea.code) == wanted,
                sa.func.lower(ServiceArea.prefix) == wanted,
            ),
        )
    )
    if area is None:
        raise ServiceNotFound(service=key)
    return area


def _serving_counters(site_id: int, area_id: int) -> list[tuple[int, bool]]:
    """(number, paused) of the active counters of a site that serve an area."""
    return catalog_cache.snapshot().serving.get((site_id, area_id), [])


# Hot-path statements are built once: building and cache-keying an expression on every
# kiosk tap cost ~0.7-1 ms each, executing a prebuilt one ~0.15 ms (bench/bench_api.py).
_TICKETS = Ticket.__table__
_EVENTS = TicketEvent.__table__
_INSERT_TICKET = sa.insert(_TICKETS).returning(_TICKETS.c.id, sort_by_parameter_order=True)
_INSERT_EVENT = sa.insert(_EVENTS)


@functools.cache
def _upsert_sequence(dialect: str) -> Any:
    """``INSERT … ON CONFLICT DO UPDATE SET last_number = last_number + :count RETURNING``."""
    insert = sqlite_insert if dialect == "sqlite" else pg_insert
    seq = TicketSequence.__table__
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


def _next_number(site_id: int, area_id: int, day: dt.date, count: int = 1) -> int:
    """Take ``count`` numbers of the per-(site, area, day) counter; returns the last one.

    ``INSERT … ON CONFLICT DO UPDATE … RETURNING`` inside the ticket's own
    transaction: gap-free and duplicate-free on SQLite and PostgreSQL, and a
    rollback takes the numbers back. The numbers taken are ``last - count + 1 … last``.
    """
    stmt = _upsert_sequence(dialect_name())
    params = {"site_id": site_id, "area_id": area_id, "day": day, "count": count}
    return int(db.session.connection().execute(stmt, params).scalar_one())


def _event_row(
    ticket_id: int,
    site_id: int,
    area_id: int,
    kind: str,
    at: dt.datetime,
    *,
    actor_id: int | None = None,
    counter_id: int | None = None,
    detail: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """One row of a ticket's event log: the ORM path, the Core path and a batch all use it."""
    return {
        "uuid": new_uuid(),
        "ticket_id": ticket_id,
        "site_id": site_id,
        "kind": kind,
        "at": at,
        "actor_id": actor_id,
        "counter_id": counter_id,
        "area_id": area_id,
        "detail": detail,
    }


def _log(
    ticket: Ticket,
    kind: str,
    now: dt.datetime,
    *,
    actor_id: int | None = None,
    counter_id: int | None = None,
    area_id: int | None = None,
    detail: dict[str, Any] | None = None,
) -> None:
    """Append one event to the ticket's log (an ORM ticket)."""
    area = area_id if area_id is not None else ticket.area_id
    db.session.add(
        TicketEvent(
            **_event_row(
                ticket.id,
                ticket.site_id,
                area,
                kind,
                now,
                actor_id=actor_id,
                counter_id=counter_id,
                detail=detail,
            )
        )
    )


@functools.cache
def _count_ahead_statement(rule: str) -> Any:
    """The people-ahead count for one queue rule: fifo, strict_normal or strict_priority."""
    t = _TICKETS
    queued_at, ticket_id = sa.bindparam("queued_at", type_=t.c.queued_at.type), sa.bindparam("tid")
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
        t.c.status == WAITING,
        t.c.id != ticket_id,
        cond,
    )


def _count_ahead(
    site_id: int,
    day: dt.date,
    area_id: int,
    ticket_id: int,
    queued_at: dt.datetime,
    priority: str | None,
    policy: QueuePolicy,
) -> int:
    """Waiting tickets of the same area that will be called before the given one."""
    if policy.priority_policy == "strict":
        rule = "strict_priority" if priority else "strict_normal"
    else:
        rule = "fifo"
    db.session.flush()
    params = {
        "site_id": site_id,
        "day": day,
        "area_id": area_id,
        "tid": ticket_id,
        "queued_at": queued_at,
    }
    return int(db.session.connection().scalar(_count_ahead_statement(rule), params) or 0)


def _people_ahead(ticket: Ticket, policy: QueuePolicy) -> int:
    """Waiting tickets of the same area that will be called before this one."""
    if ticket.status != WAITING:
        return 0
    return _count_ahead(
        ticket.site_id,
        ticket.business_day,
        ticket.area_id,
        ticket.id,
        ticket.queued_at,
        ticket.priority,
        policy,
    )


def _average_service_minutes(
    site_id: int, area_id: int, day: dt.date, policy: QueuePolicy
) -> float:
    """Mean call-to-finish minutes of the area's last 20 finished tickets today (cached)."""
    key = (site_id, area_id, day)
    cached = catalog_cache.cached_average(key)
    if cached is not None:
        return cached
    rows = db.session.execute(
        sa.select(Ticket.called_at, Ticket.finished_at)
        .where(
            Ticket.site_id == site_id,
            Ticket.area_id == area_id,
            Ticket.business_day == day,
            Ticket.status == FINISHED,
        )
        .order_by(Ticket.finished_at.desc())
        .limit(20)
    ).all()
    spans = [(f - c).total_seconds() / 60 for c, f in rows if c and f and f > c]
    average = sum(spans) / len(spans) if spans else policy.default_service_minutes
    catalog_cache.store_average(key, average)
    return average


def _view(
    ticket: Ticket,
    policy: QueuePolicy,
    *,
    with_estimate: bool = True,
    created: bool = True,
    seq: int | None = None,
    counters: list[tuple[int, bool]] | None = None,
) -> TicketView:
    """Plain view of a ticket; when waiting, with people ahead and an estimate."""
    area = ticket.area
    view = TicketView(
        uuid=ticket.uuid,
        token=ticket.token,
        code=ticket.code,
        number=ticket.number,
        status=ticket.status,
        area_code=area.code,
        area_prefix=area.prefix,
        area_name=area.name,
        priority=ticket.priority,
        priority_label=policy.priority_categories.get(ticket.priority) if ticket.priority else None,
        issued_at=ticket.issued_at,
        business_day=ticket.business_day,
        site_code=ticket.site.code,
        counter_number=ticket.counter.number if ticket.counter else None,
        called_at=ticket.called_at,
        started_at=ticket.started_at,
        finished_at=ticket.finished_at,
        misses=ticket.misses,
        call_count=ticket.call_count,
        dossier_code=ticket.dossier_code,
        created=created,
        seq=seq,
    )
    if ticket.issue_area_id != ticket.area_id:
        origin = db.session.get(ServiceArea, ticket.issue_area_id)
        view.transferred_from = origin.name if origin else None
    if with_estimate:
        if counters is None:
            counters = _serving_counters(ticket.site_id, ticket.area_id)
        view.serving_counters = [number for number, _ in counters]
        if ticket.status == WAITING:
            ahead = _people_ahead(ticket, policy)
            open_counters = max(1, sum(1 for _, paused in counters if not paused))
            avg = _average_service_minutes(
                ticket.site_id, ticket.area_id, ticket.business_day, policy
            )
            view.people_ahead = ahead
            view.estimated_wait_minutes = int(math.ceil(ahead * avg / open_counters))
    return view


def _commit_publish(event: str, site_id: int, seq: int, view: TicketView, **extra: Any) -> None:
    """Commit, then publish; the arguments are read before the commit expires the objects."""
    db.session.commit()
    _publish_ticket(event, site_id, seq, view, **extra)


def _publish_ticket(event: str, site_id: int, seq: int, view: TicketView, **extra: Any) -> None:
    """Publish a ticket fact after the commit."""
    payload = {"seq": seq, "ticket": view.as_dict(), **extra}
    realtime.publish(site_id, event, payload)


# --------------------------------------------------------------------------- issue


def _held_lock() -> threading.Lock:
    lock = threading.Lock()
    lock.acquire()
    return lock


@dataclass(eq=False)
class _IssueRequest:
    """One kiosk tap, checked and ready to be written by whichever thread leads the batch."""

    site: catalog_cache.SiteRef
    area: catalog_cache.AreaRef
    counters: list[tuple[int, bool]]
    priority: str | None
    key: str | None
    kiosk: str | None
    now: dt.datetime
    day: dt.date
    policy: QueuePolicy
    token: str = field(default_factory=lambda: secrets.token_urlsafe(18))
    uuid: str = field(default_factory=new_uuid)
    result: TicketView | None = None
    error: BaseException | None = None
    done: bool = False
    wake: threading.Lock = field(default_factory=_held_lock)


class IssueBatcher:
    """Group commit for kiosk taps: concurrent issues share one transaction and one fsync.

    With ``synchronous=FULL`` every commit waits for the disk (about 1 ms here), and the
    write lock is held meanwhile, so one ticket per transaction caps a hall server at a
    few hundred tickets a second whatever the CPU does. Here the first tap to arrive
    leads: it takes every tap waiting at that moment, writes them in one transaction
    (numbers, rows, events, one site sequence bump), commits once, publishes each fact in
    order, and hands each waiting thread its own ticket. A tap that arrives while a batch
    is being written waits for the next batch. Alone, a tap is a batch of one.

    Should a batch fail as a whole, each of its taps is retried alone, so one bad tap
    (say an idempotency key committed meanwhile by another process) costs no one else.
    """

    def __init__(self) -> None:
        self._mutex = threading.Lock()
        self._pending: list[_IssueRequest] = []
        self._leading = False

    def submit(self, req: _IssueRequest) -> TicketView:
        """Have the request written (by this thread or the current leader); its view."""
        with self._mutex:
            self._pending.append(req)
            lead = not self._leading
            self._leading = True
        if not lead:
            req.wake.acquire()  # released once: answered, or handed the lead
        if not req.done:
            self._lead()
        if req.error is not None:
            raise req.error
        assert req.result is not None
        return req.result

    def _lead(self) -> None:
        """Write everything pending, answer it, then hand the lead to one waiting tap."""
        with self._mutex:
            batch, self._pending = self._pending, []
        try:
            _write_batch_or_each(batch)
        finally:
            for other in batch:  # never leave a waiting tap without an answer
                if not other.done:
                    other.error = other.error or RuntimeError("issue batch interrupted")
                    other.done = True
            with self._mutex:
                successor = self._pending[0] if self._pending else None
                self._leading = successor is not None
            for other in batch:  # the leader's own wake is released too: no one waits on it
                other.wake.release()
            if successor is not None:
                successor.wake.release()


def _batcher() -> IssueBatcher:
    """This app's batcher (apps in one process, as in the tests, never share one)."""
    from flask import current_app

    ext = current_app.extensions
    batcher = ext.get("motcua_issue_batcher")
    if batcher is None:
        batcher = ext.setdefault("motcua_issue_batcher", IssueBatcher())
    return batcher  # type: ignore[no-any-return]


def issue_ticket(
    service: str,
    *,
    priority: str | None = None,
    idempotency_key: str | None = None,
    site_code: str | None = None,
    kiosk: str | None = None,
    now: dt.datetime | None = None,
    policy: QueuePolicy | None = None,
) -> TicketView:
    """Issue the next number of an area; a repeated idempotency key returns the same ticket.

    The hot path of a kiosk tap: site, area and counters come from the catalog cache, the
    tap is checked here, then written with others arriving at the same moment
    (``IssueBatcher``). Issuing is its own unit of work: whatever the caller had open in
    the session is committed first (it must not hold the write lock while it waits).
    """
    now = ensure_now(now)
    policy = policy or current_policy()
    if idempotency_key is not None:
        idempotency_key = idempotency_key.strip()[:128] or None
    catalog_now = catalog_cache.snapshot()
    site = catalog_now.sites.get(site_code or default_site_code())
    if site is None:
        raise NotFound(site=site_code or default_site_code())
    if priority is not None and priority not in policy.priority_categories:
        raise InvalidPriority(priority=priority)
    area = catalog_now.areas.get((service or "").strip().lower())
    counters = catalog_now.serving.get((site.id, area.id), []) if area else []
    if area is None or not counters:
        raise ServiceNotFound(service=service)
    if db.session().in_transaction():
        db.session.commit()
    request = _IssueRequest(
        site=site,
        area=area,
        counters=counters,
        priority=priority,
        key=idempotency_key,
        kiosk=kiosk,
        now=now,
        day=business_day(now),
        policy=policy,
    )
    return _batcher().submit(request)


def _write_batch_or_each(batch: list[_IssueRequest]) -> None:
    """Write a batch in one transaction; if that fails, each request on its own."""
    try:
        _write_batch(batch)
        return
    except Exception as exc:
        db.session.rollback()
        if len(batch) == 1:
            _settle_alone(batch[0], exc)
            return
        level = logging.DEBUG if isinstance(exc, IntegrityError) else logging.WARNING
        log.log(level, "issue batch of %d failed (%s); writing each alone", len(batch), exc)
    for req in batch:
        try:
            _write_batch([req])
        except Exception as exc:
            db.session.rollback()
            _settle_alone(req, exc)


def _settle_alone(req: _IssueRequest, exc: Exception) -> None:
    """A lone request failed: a retried tap whose first try committed gets that ticket."""
    if isinstance(exc, IntegrityError) and req.key:
        try:
            existing = _by_idempotency_key(req.site.id, req.key)
            if existing is not None:
                req.result = _view(existing, req.policy, created=False)
                db.session.commit()
                req.done = True
                return
        except Exception:
            db.session.rollback()
            log.exception("looking up idempotency key after a conflict")
    req.error = exc
    req.done = True


def _write_batch(batch: list[_IssueRequest]) -> None:
    """Write every request of the batch in one transaction, commit, publish, settle."""
    conn = db.session.connection()
    # A key already committed is not looked up first: its insert fails on the UNIQUE
    # constraint, the batch is retried tap by tap, and that tap gets its first ticket
    # (_settle_alone). Retries are rare; a lookup on every batch is not free.
    repeats: list[tuple[_IssueRequest, _IssueRequest]] = []
    fresh: list[_IssueRequest] = []
    by_key: dict[tuple[int, str], _IssueRequest] = {}
    for req in batch:
        key = (req.site.id, req.key) if req.key else None
        if key is not None and key in by_key:
            repeats.append((req, by_key[key]))  # the same tap twice in one batch
            continue
        if key is not None:
            by_key[key] = req
        fresh.append(req)
    numbers = _take_numbers(fresh)
    rows = []
    for req in fresh:
        number = numbers[id(req)]
        rows.append(
            {
                "uuid": req.uuid,
                "token": req.token,
                "site_id": req.site.id,
                "issue_area_id": req.area.id,
                "area_id": req.area.id,
                "business_day": req.day,
                "number": number,
                "code": format_code(req.area.prefix, number, req.policy.digits),
                "status": WAITING,
                "priority": req.priority,
                "idempotency_key": req.key,
                "issued_at": req.now,
                "queued_at": req.now,
                "kiosk": req.kiosk,
                "call_count": 0,
                "misses": 0,
            }
        )
    ids: list[int] = []
    if rows:
        ids = [row[0] for row in conn.execute(_INSERT_TICKET, rows)]
        conn.execute(
            _INSERT_EVENT,
            [
                _event_row(
                    ticket_id,
                    req.site.id,
                    req.area.id,
                    "issued",
                    req.now,
                    detail=(
                        {"priority": req.priority, "kiosk": req.kiosk}
                        if req.priority or req.kiosk
                        else None
                    ),
                )
                for req, ticket_id in zip(fresh, ids, strict=True)
            ],
        )
    views: list[TicketView] = []
    for req, row, ticket_id in zip(fresh, rows, ids, strict=True):
        ahead = _count_ahead(
            req.site.id, req.day, req.area.id, ticket_id, req.now, req.priority, req.policy
        )
        open_counters = max(1, sum(1 for _, paused in req.counters if not paused))
        average = _average_service_minutes(req.site.id, req.area.id, req.day, req.policy)
        views.append(
            TicketView(
                uuid=req.uuid,
                token=req.token,
                code=row["code"],
                number=row["number"],
                status=WAITING,
                area_code=req.area.code,
                area_prefix=req.area.prefix,
                area_name=req.area.name,
                priority=req.priority,
                priority_label=(
                    req.policy.priority_categories.get(req.priority) if req.priority else None
                ),
                issued_at=req.now,
                business_day=req.day,
                site_code=req.site.code,
                people_ahead=ahead,
                estimated_wait_minutes=int(math.ceil(ahead * average / open_counters)),
                serving_counters=[n for n, _ in req.counters],
                created=True,
            )
        )
    # The site row is locked last and held only for the update and the commit; a batch
    # takes one sequence number per fact it will publish.
    per_site: dict[int, list[TicketView]] = {}
    for req, view in zip(fresh, views, strict=True):
        per_site.setdefault(req.site.id, []).append(view)
    for site_id in sorted(per_site):
        site_views = per_site[site_id]
        last = bump_seq(site_id, len(site_views))
        for offset, view in enumerate(site_views):
            view.seq = last - len(site_views) + 1 + offset
    db.session.commit()
    for req, view in zip(fresh, views, strict=True):
        _publish_ticket("ticket_issued", req.site.id, view.seq or 0, view)
        req.result = view
    for req, first in repeats:
        assert first.result is not None
        req.result = replace(first.result, created=False)
    for req in batch:
        req.done = True


def _take_numbers(fresh: list[_IssueRequest]) -> dict[int, int]:
    """Numbers for the new tickets, in arrival order within each (site, area, day).

    One counter-row update per queue, in a fixed order (so two writers always lock the
    rows in the same order on PostgreSQL).
    """
    queues: dict[tuple[int, int, dt.date], list[_IssueRequest]] = {}
    for req in fresh:
        queues.setdefault((req.site.id, req.area.id, req.day), []).append(req)
    numbers: dict[int, int] = {}
    for (site_id, area_id, day), reqs in sorted(queues.items(), key=lambda item: item[0]):
        last = _next_number(site_id, area_id, day, len(reqs))
        for offset, req in enumerate(reqs):
            numbers[id(req)] = last - len(reqs) + 1 + offset
    return numbers


def _by_idempotency_key(site_id: int, key: str) -> Ticket | None:
    return db.session.scalar(
        sa.select(Ticket).where(Ticket.site_id == site_id, Ticket.idempotency_key == key)
    )


# --------------------------------------------------------------------------- counters

# The counter's hot path (call, recall, start, finish and the console's snapshot) runs on
# prebuilt Core statements and plain rows, as issue_ticket does: loading ORM objects with their
# relationships and flushing them cost about three times the CPU (bench/bench_ops.py). The locks
# are the same as ever: the counter row FOR UPDATE first, then the ticket row, and the site row
# last (bump_seq). The rarer verbs (no-show, transfer, cancel, pause) keep the ORM helpers below.
_COUNTERS = Counter.__table__
_AREAS = ServiceArea.__table__
_SITES = Site.__table__
_USERS = User.__table__
_ORIGIN = _AREAS.alias("origin_area")

# A ticket as the views need it: its columns, its area, the area it was issued in, its site.
_TICKET_ROW = sa.select(
    _TICKETS.c.id,
    _TICKETS.c.uuid,
    _TICKETS.c.token,
    _TICKETS.c.code,
    _TICKETS.c.number,
    _TICKETS.c.status,
    _TICKETS.c.priority,
    _TICKETS.c.issued_at,
    _TICKETS.c.queued_at,
    _TICKETS.c.business_day,
    _TICKETS.c.called_at,
    _TICKETS.c.first_called_at,
    _TICKETS.c.started_at,
    _TICKETS.c.finished_at,
    _TICKETS.c.misses,
    _TICKETS.c.call_count,
    _TICKETS.c.dossier_code,
    _TICKETS.c.site_id,
    _TICKETS.c.area_id,
    _TICKETS.c.issue_area_id,
    _TICKETS.c.officer_id,
    _AREAS.c.code.label("area_code"),
    _AREAS.c.prefix.label("area_prefix"),
    _AREAS.c.name.label("area_name"),
    _ORIGIN.c.name.label("origin_name"),
    _SITES.c.code.label("site_code"),
).select_from(
    _TICKETS.join(_AREAS, _AREAS.c.id == _TICKETS.c.area_id)
    .join(_ORIGIN, _ORIGIN.c.id == _TICKETS.c.issue_area_id)
    .join(_SITES, _SITES.c.id == _TICKETS.c.site_id)
)
_AT_COUNTER_NOW = (
    _TICKETS.c.counter_id == sa.bindparam("cid"),
    _TICKETS.c.business_day == sa.bindparam("day"),
    _TICKETS.c.status.in_(AT_COUNTER),
)
_TICKET_AT_COUNTER = (
    _TICKET_ROW.where(*_AT_COUNTER_NOW).order_by(_TICKETS.c.called_at.desc()).limit(1)
)
# A verb on the counter's ticket locks its row too: a cancel (which locks the ticket, not the
# counter) committed meanwhile is then seen, and the verb finds no ticket instead of writing
# over the cancellation. On PostgreSQL the locked read re-checks the status after the wait.
_LOCK_TICKET_AT_COUNTER = _TICKET_AT_COUNTER.with_for_update(of=_TICKETS)
_TICKET_BY_CODE = _TICKET_ROW.where(
    _TICKETS.c.site_id == sa.bindparam("site_id"),
    _TICKETS.c.business_day == sa.bindparam("day"),
    sa.func.upper(_TICKETS.c.code) == sa.bindparam("code"),
).with_for_update(of=_TICKETS)
_LOCK_COUNTER = (
    sa.select(
        _COUNTERS.c.id,
        _COUNTERS.c.site_id,
        _COUNTERS.c.number,
        _COUNTERS.c.active,
        _COUNTERS.c.paused,
        _COUNTERS.c.officer_id,
        _COUNTERS.c.normal_streak,
    )
    .where(_COUNTERS.c.id == sa.bindparam("cid"))
    .with_for_update()
)
_LOCK_FREE_COUNTER = _LOCK_COUNTER.add_columns(
    sa.exists().where(*_AT_COUNTER_NOW).label("busy")  # a subquery: locks nothing
)
_ACTIVE_AREA_IDS = (
    sa.select(counter_areas.c.area_id)
    .join(_AREAS, _AREAS.c.id == counter_areas.c.area_id)
    .where(counter_areas.c.counter_id == sa.bindparam("cid"), _AREAS.c.active.is_(True))
)


def _waiting_at_counter(area_ids: Any) -> tuple[Any, ...]:
    """A counter's queue: its active areas' waiting tickets not sent to another counter, and
    the tickets sent to it (params: site_id, day, cid)."""
    return (
        _TICKETS.c.site_id == sa.bindparam("site_id"),
        _TICKETS.c.business_day == sa.bindparam("day"),
        _TICKETS.c.status == WAITING,
        sa.or_(
            sa.and_(_TICKETS.c.area_id.in_(area_ids), _TICKETS.c.target_counter_id.is_(None)),
            _TICKETS.c.target_counter_id == sa.bindparam("cid"),
        ),
    )


@dataclass(frozen=True)
class _CounterRow:
    """A counter locked for an action, as plain values."""

    id: int
    site_id: int
    number: int
    paused: bool
    officer_id: int | None
    normal_streak: int


def _queue_columns(priority_first: bool) -> list[Any]:
    """ORDER BY of a waiting queue, on the table's columns."""
    order: list[Any] = []
    if priority_first:
        order.append(sa.case((_TICKETS.c.priority.is_(None), 1), else_=0))
    return [*order, _TICKETS.c.queued_at, _TICKETS.c.id]


@functools.cache
def _next_waiting_statement(priority_first: bool, priority_only: bool) -> Any:
    """The counter's next waiting ticket, locked (skipped if another counter holds it)."""
    where = [*_waiting_at_counter(_ACTIVE_AREA_IDS.scalar_subquery())]
    if priority_only:
        where.append(_TICKETS.c.priority.is_not(None))
    return (
        _TICKET_ROW.where(*where)
        .order_by(*_queue_columns(priority_first))
        .limit(1)
        .with_for_update(of=_TICKETS, skip_locked=True)
    )


@functools.cache
def _update_statement(table: str, columns: tuple[str, ...]) -> Any:
    """UPDATE <table> SET <columns> WHERE id = :row_id, built once per column set."""
    t = _TICKETS if table == "tickets" else _COUNTERS
    values = {name: sa.bindparam(f"v_{name}", type_=t.c[name].type) for name in columns}
    return sa.update(t).where(t.c.id == sa.bindparam("row_id")).values(values)


def _update_ticket(conn: Any, ticket_id: int, **values: Any) -> None:
    """Write some columns of one ticket."""
    params = {f"v_{name}": value for name, value in values.items()}
    conn.execute(_update_statement("tickets", tuple(values)), {"row_id": ticket_id, **params})


def _update_counter(conn: Any, counter_id: int, **values: Any) -> None:
    """Write some columns of one counter."""
    params = {f"v_{name}": value for name, value in values.items()}
    conn.execute(_update_statement("counters", tuple(values)), {"row_id": counter_id, **params})


def _insert_event(
    conn: Any,
    ticket: dict[str, Any],
    kind: str,
    at: dt.datetime,
    *,
    actor_id: int | None = None,
    counter_id: int | None = None,
    area_id: int | None = None,
    detail: dict[str, Any] | None = None,
) -> None:
    """Append one event to a ticket's log (a ticket row, the Core twin of ``_log``)."""
    area = area_id if area_id is not None else ticket["area_id"]
    conn.execute(
        _INSERT_EVENT,
        _event_row(
            ticket["id"],
            ticket["site_id"],
            area,
            kind,
            at,
            actor_id=actor_id,
            counter_id=counter_id,
            detail=detail,
        ),
    )


def _row_view(
    ticket: dict[str, Any], policy: QueuePolicy, counter_number: int | None
) -> TicketView:
    """Plain view of a ticket row (no estimate: the ticket is at a counter or done)."""
    priority = ticket["priority"]
    return TicketView(
        uuid=ticket["uuid"],
        token=ticket["token"],
        code=ticket["code"],
        number=ticket["number"],
        status=ticket["status"],
        area_code=ticket["area_code"],
        area_prefix=ticket["area_prefix"],
        area_name=ticket["area_name"],
        priority=priority,
        priority_label=policy.priority_categories.get(priority) if priority else None,
        issued_at=ticket["issued_at"],
        business_day=ticket["business_day"],
        site_code=ticket["site_code"],
        counter_number=counter_number,
        called_at=ticket["called_at"],
        started_at=ticket["started_at"],
        finished_at=ticket["finished_at"],
        transferred_from=ticket["origin_name"]
        if ticket["issue_area_id"] != ticket["area_id"]
        else None,
        misses=ticket["misses"],
        call_count=ticket["call_count"],
        dossier_code=ticket["dossier_code"],
    )


def _lock_counter(conn: Any, counter_id: int) -> _CounterRow:
    """Lock an active counter's row (FOR UPDATE) and return it."""
    return _counter_row(conn.execute(_LOCK_COUNTER, {"cid": counter_id}).first(), counter_id)


def _counter_row(row: Any, counter_id: int) -> _CounterRow:
    if row is None or not row.active:
        raise CounterNotFound(counter=counter_id)
    return _CounterRow(
        id=row.id,
        site_id=row.site_id,
        number=row.number,
        paused=bool(row.paused),
        officer_id=row.officer_id,
        normal_streak=row.normal_streak,
    )


def _lock_free_counter(conn: Any, counter_id: int, now: dt.datetime) -> tuple[_CounterRow, dt.date]:
    """Lock a counter that may call: open (not paused) and with no ticket at it."""
    day = business_day(now)
    row = conn.execute(_LOCK_FREE_COUNTER, {"cid": counter_id, "day": day}).first()
    counter = _counter_row(row, counter_id)
    if counter.paused:
        raise CounterPaused(counter=counter.number)
    if row.busy:
        raise CounterBusy(counter=counter.number)
    return counter, day


def _lock_at_counter(
    conn: Any, counter_id: int, now: dt.datetime, *statuses: str
) -> tuple[_CounterRow, dict[str, Any]]:
    """Lock a counter; return it with its current ticket, which must be in ``statuses``."""
    counter = _lock_counter(conn, counter_id)
    row = conn.execute(
        _LOCK_TICKET_AT_COUNTER, {"cid": counter.id, "day": business_day(now)}
    ).first()
    if row is None:
        raise NoCurrentTicket(counter=counter.number)
    if statuses and row.status not in statuses:
        raise InvalidTransition(code=row.code, status=row.status)
    return counter, row._asdict()


def _record_row(
    conn: Any,
    ticket: dict[str, Any],
    counter: _CounterRow,
    *,
    kind: str,
    fact: str,
    now: dt.datetime,
    officer_id: int | None,
    policy: QueuePolicy,
    detail: dict[str, Any] | None = None,
    **extra: Any,
) -> TicketView:
    """Log a counter action on a ticket row, bump the board sequence, commit and publish."""
    _insert_event(
        conn, ticket, kind, now, actor_id=officer_id, counter_id=counter.id, detail=detail
    )
    view = _row_view(ticket, policy, counter.number)
    view.seq = seq = bump_seq(ticket["site_id"])  # the site row: the last lock, held briefly
    _commit_publish(fact, ticket["site_id"], seq, view, counter=counter.number, **extra)
    return view


def _call_row(
    conn: Any,
    ticket: dict[str, Any],
    counter: _CounterRow,
    officer_id: int | None,
    now: dt.datetime,
    policy: QueuePolicy,
) -> TicketView:
    """Move a waiting ticket (its row locked) to a counter, log it, commit and publish."""
    ticket.update(
        status=CALLED,
        officer_id=officer_id or counter.officer_id,
        called_at=now,
        first_called_at=ticket["first_called_at"] or now,
        call_count=ticket["call_count"] + 1,
    )
    _update_ticket(
        conn,
        ticket["id"],
        status=CALLED,
        counter_id=counter.id,
        officer_id=ticket["officer_id"],
        called_at=now,
        first_called_at=ticket["first_called_at"],
        call_count=ticket["call_count"],
        target_counter_id=None,
    )
    seated = counter.officer_id if officer_id is None else officer_id
    _update_counter(
        conn,
        counter.id,
        normal_streak=0 if ticket["priority"] else counter.normal_streak + 1,
        officer_id=seated,
    )
    return _record_row(
        conn,
        ticket,
        counter,
        kind="called",
        fact="ticket_called",
        now=now,
        officer_id=officer_id,
        policy=policy,
        recall=False,
        officer=seated,  # who sits at the counter now: the tablet re-reads only if it changed
    )


def _counter(counter_id: int, *, lock: bool = False) -> Counter:
    stmt = sa.select(Counter).where(Counter.id == counter_id)
    if lock:
        stmt = stmt.with_for_update()
    counter = db.session.scalar(stmt)
    if counter is None or not counter.active:
        raise CounterNotFound(counter=counter_id)
    return counter


def _current_ticket(counter: Counter, day: dt.date) -> Ticket | None:
    """The ticket now at a counter (called or being served), if any; its row locked."""
    return db.session.scalar(
        sa.select(Ticket)
        .where(
            Ticket.counter_id == counter.id,
            Ticket.business_day == day,
            Ticket.status.in_(AT_COUNTER),
        )
        .order_by(Ticket.called_at.desc())
        .limit(1)
        .with_for_update(of=Ticket)
    )


def _require_current(counter: Counter, day: dt.date) -> Ticket:
    ticket = _current_ticket(counter, day)
    if ticket is None:
        raise NoCurrentTicket(counter=counter.number)
    return ticket


def _at_counter(counter_id: int, now: dt.datetime, *statuses: str) -> tuple[Counter, Ticket]:
    """Lock a counter and return it with its current ticket, which must be in ``statuses``."""
    counter = _counter(counter_id, lock=True)
    ticket = _require_current(counter, business_day(now))
    if statuses and ticket.status not in statuses:
        raise InvalidTransition(code=ticket.code, status=ticket.status)
    return counter, ticket


def _record(
    ticket: Ticket,
    counter: Counter,
    *,
    kind: str,
    fact: str,
    now: dt.datetime,
    officer_id: int | None,
    policy: QueuePolicy,
    detail: dict[str, Any] | None = None,
    area_id: int | None = None,
    with_estimate: bool = False,
    **extra: Any,
) -> TicketView:
    """Log a counter action, bump the board sequence, commit and publish the fact."""
    _log(
        ticket,
        kind,
        now,
        actor_id=officer_id,
        counter_id=counter.id,
        area_id=area_id,
        detail=detail,
    )
    view = _view(ticket, policy, with_estimate=with_estimate)
    view.seq = seq = bump_seq(ticket.site_id)  # the site row: the last lock, held briefly
    _commit_publish(fact, ticket.site_id, seq, view, counter=counter.number, **extra)
    return view


def _queue_entry(ticket: Ticket, to_counter: int | None = None) -> dict[str, Any]:
    """Where a ticket put back in the queue stands, for the consoles that fold facts.

    ``at`` and ``id`` are its place in queue order (queued_at, id); ``counter`` is the counter
    it was sent to, if any (then only that counter's queue holds it).
    """
    return {"at": ticket.queued_at.isoformat(), "id": ticket.id, "counter": to_counter}


def _assign_officer(counter: Counter, officer_id: int | None) -> None:
    if officer_id is not None and counter.officer_id != officer_id:
        counter.officer_id = officer_id


@transactional
def call_next(
    counter_id: int,
    *,
    officer_id: int | None = None,
    now: dt.datetime | None = None,
    policy: QueuePolicy | None = None,
) -> TicketView:
    """Call the next waiting ticket for a counter, atomically across counters."""
    now = ensure_now(now)
    policy = policy or current_policy()
    conn = db.session.connection()
    counter, day = _lock_free_counter(conn, counter_id, now)
    params = {"site_id": counter.site_id, "day": day, "cid": counter.id}
    row = None
    if policy.priority_policy == "interleave" and counter.normal_streak >= policy.priority_every_n:
        row = conn.execute(_next_waiting_statement(False, True), params).first()
    if row is None:
        strict = policy.priority_policy == "strict"
        row = conn.execute(_next_waiting_statement(strict, False), params).first()
    if row is None:
        raise QueueEmpty(counter=counter.number)
    return _call_row(conn, row._asdict(), counter, officer_id, now, policy)


@transactional
def call_ticket(
    counter_id: int,
    code: str,
    *,
    officer_id: int | None = None,
    now: dt.datetime | None = None,
    policy: QueuePolicy | None = None,
) -> TicketView:
    """Call a given waiting number (e.g. a priority citizen) to a counter."""
    now = ensure_now(now)
    policy = policy or current_policy()
    conn = db.session.connection()
    counter, day = _lock_free_counter(conn, counter_id, now)
    params = {"site_id": counter.site_id, "day": day, "code": code.strip().upper()}
    row = conn.execute(_TICKET_BY_CODE, params).first()
    if row is None:
        raise TicketNotFound(code=code)
    if row.status != WAITING:
        raise InvalidTransition(code=row.code, status=row.status)
    return _call_row(conn, row._asdict(), counter, officer_id, now, policy)


@transactional
def recall(
    counter_id: int,
    *,
    officer_id: int | None = None,
    now: dt.datetime | None = None,
    policy: QueuePolicy | None = None,
) -> TicketView:
    """Announce the counter's current ticket again."""
    now = ensure_now(now)
    conn = db.session.connection()
    counter, ticket = _lock_at_counter(conn, counter_id, now, CALLED)
    ticket.update(call_count=ticket["call_count"] + 1, called_at=now)
    _update_ticket(conn, ticket["id"], call_count=ticket["call_count"], called_at=now)
    return _record_row(
        conn,
        ticket,
        counter,
        kind="recalled",
        fact="ticket_called",
        now=now,
        officer_id=officer_id,
        policy=policy or current_policy(),
        recall=True,
    )


@transactional
def mark_no_show(
    counter_id: int,
    *,
    officer_id: int | None = None,
    now: dt.datetime | None = None,
    policy: QueuePolicy | None = None,
) -> TicketView:
    """The called citizen did not come: back of the queue, or ended after N misses."""
    now = ensure_now(now)
    policy = policy or current_policy()
    counter, ticket = _at_counter(counter_id, now, CALLED)
    ticket.misses += 1
    requeued = policy.noshow_requeue and ticket.misses < policy.noshow_max_misses
    if requeued:
        ticket.status = WAITING
        ticket.queued_at = now
        ticket.counter_id = None
        ticket.counter = None
    else:
        ticket.status = NO_SHOW
        ticket.finished_at = now
    return _record(
        ticket,
        counter,
        kind="no_show",
        fact="ticket_no_show",
        now=now,
        officer_id=officer_id,
        policy=policy,
        detail={"misses": ticket.misses, "requeued": requeued},
        with_estimate=True,
        queue=_queue_entry(ticket) if requeued else None,
    )


@transactional
def start_service(
    counter_id: int,
    *,
    officer_id: int | None = None,
    now: dt.datetime | None = None,
    policy: QueuePolicy | None = None,
) -> TicketView:
    """The citizen has arrived at the counter: service starts."""
    now = ensure_now(now)
    conn = db.session.connection()
    counter, ticket = _lock_at_counter(conn, counter_id, now, CALLED)
    ticket.update(status=SERVING, started_at=now)
    _update_ticket(conn, ticket["id"], status=SERVING, started_at=now)
    return _record_row(
        conn,
        ticket,
        counter,
        kind="started",
        fact="ticket_started",
        now=now,
        officer_id=officer_id,
        policy=policy or current_policy(),
    )


@transactional
def finish(
    counter_id: int,
    *,
    officer_id: int | None = None,
    dossier_code: str | None = None,
    now: dt.datetime | None = None,
    policy: QueuePolicy | None = None,
) -> TicketView:
    """Finish the counter's transaction (arms the counter's rating tablet)."""
    now = ensure_now(now)
    conn = db.session.connection()
    counter, ticket = _lock_at_counter(conn, counter_id, now)
    if ticket["status"] == CALLED:
        # Finished without pressing "start": the service began when the citizen was called.
        ticket["started_at"] = ticket["called_at"]
        _insert_event(
            conn,
            ticket,
            "started",
            ticket["called_at"] or now,
            actor_id=officer_id,
            counter_id=counter.id,
            detail={"implicit": True},
        )
    ticket.update(status=FINISHED, finished_at=now, officer_id=officer_id or ticket["officer_id"])
    if dossier_code:
        ticket["dossier_code"] = dossier_code.strip()[:64]
    _update_ticket(
        conn,
        ticket["id"],
        status=FINISHED,
        started_at=ticket["started_at"],
        finished_at=now,
        officer_id=ticket["officer_id"],
        dossier_code=ticket["dossier_code"],
    )
    catalog_cache.forget_average((ticket["site_id"], ticket["area_id"], ticket["business_day"]))
    return _record_row(
        conn,
        ticket,
        counter,
        kind="finished",
        fact="ticket_finished",
        now=now,
        officer_id=officer_id,
        policy=policy or current_policy(),
        detail={"dossier_code": ticket["dossier_code"]} if ticket["dossier_code"] else None,
        counter_id=counter.id,
    )


@transactional
def transfer(
    counter_id: int,
    *,
    to_service: str | None = None,
    to_counter: int | None = None,
    note: str | None = None,
    officer_id: int | None = None,
    now: dt.datetime | None = None,
    policy: QueuePolicy | None = None,
) -> TicketView:
    """Send the counter's ticket to another area or counter; it keeps its issue time."""
    now = ensure_now(now)
    policy = policy or current_policy()
    if not to_service and to_counter is None:
        raise ValidationFailed(field="to_service")
    counter, ticket = _at_counter(counter_id, now)
    from_area_id = ticket.area_id
    target: Counter | None = None
    if to_counter is not None:
        target = db.session.scalar(
            sa.select(Counter).where(
                Counter.site_id == counter.site_id,
                Counter.number == to_counter,
                Counter.active.is_(True),
            )
        )
        if target is None or target.id == counter.id:
            raise CounterNotFound(counter=to_counter)
    if to_service:
        area = _area_by_key(to_service)
        ticket.area_id = area.id
        ticket.area = area
    ticket.status = WAITING
    ticket.queued_at = ticket.issued_at
    ticket.counter_id = None
    ticket.counter = None
    ticket.target_counter_id = target.id if target else None
    ticket.started_at = None
    return _record(
        ticket,
        counter,
        kind="transferred",
        fact="ticket_transferred",
        now=now,
        officer_id=officer_id,
        policy=policy,
        area_id=ticket.area_id,
        detail={
            "from_area_id": from_area_id,
            "to_area_id": ticket.area_id,
            "to_counter": target.number if target else None,
            "note": (note or "")[:500],
        },
        with_estimate=True,
        queue=_queue_entry(ticket, target.number if target else None),
    )


@transactional
def cancel(
    token: str,
    *,
    actor_id: int | None = None,
    reason: str | None = None,
    now: dt.datetime | None = None,
    policy: QueuePolicy | None = None,
) -> TicketView:
    """Cancel a ticket that is waiting or called."""
    now = ensure_now(now)
    policy = policy or current_policy()
    ticket = _ticket_by_token(token, lock=True)
    if ticket.status not in (WAITING, CALLED):
        raise InvalidTransition(code=ticket.code, status=ticket.status)
    counter_number = ticket.counter.number if ticket.counter else None
    ticket.status = CANCELLED
    ticket.finished_at = now
    _log(
        ticket,
        "cancelled",
        now,
        actor_id=actor_id,
        counter_id=ticket.counter_id,
        detail={"reason": reason} if reason else None,
    )
    view = _view(ticket, policy, with_estimate=False)
    view.seq = seq = bump_seq(ticket.site_id)  # the site row: the last lock, held briefly
    _commit_publish("ticket_cancelled", ticket.site_id, seq, view, counter=counter_number)
    return view


@transactional
def set_paused(counter_id: int, paused: bool, *, officer_id: int | None = None) -> dict[str, Any]:
    """Pause or resume a counter; a paused counter gets no calls."""
    counter = _counter(counter_id, lock=True)
    counter.paused = paused
    catalog_cache.invalidate()
    _assign_officer(counter, officer_id)
    audit.record(
        "counter_paused" if paused else "counter_resumed",
        actor_id=officer_id,
        target=f"{counter.number:02d}",
    )
    seq = bump_seq(counter.site_id)
    site_id, number, officer = counter.site_id, counter.number, counter.officer_id
    db.session.commit()
    realtime.publish(
        site_id,
        "counter_changed",
        {"seq": seq, "counter": number, "paused": paused, "officer": officer},
    )
    return {"counter": number, "paused": paused, "seq": seq}


@transactional
def expire_stale(*, now: dt.datetime | None = None) -> int:
    """Expire every open ticket of an earlier business day; return how many."""
    now = ensure_now(now)
    today = business_day(now)
    stale = list(
        db.session.scalars(
            sa.select(Ticket).where(Ticket.business_day < today, Ticket.status.in_(OPEN_STATUSES))
        )
    )
    sites: set[int] = set()
    for ticket in stale:
        was = ticket.status
        ticket.status = EXPIRED
        ticket.finished_at = now
        _log(ticket, "expired", now, counter_id=ticket.counter_id, detail={"was": was})
        sites.add(ticket.site_id)
    seqs = {site_id: bump_seq(site_id) for site_id in sites}
    db.session.commit()
    for site_id, seq in seqs.items():
        realtime.publish(site_id, "board_changed", {"seq": seq})
    if stale:
        log.info("expired %d tickets of earlier days", len(stale))
    return len(stale)


# --------------------------------------------------------------------------- reads


def _ticket_by_token(token: str, *, lock: bool = False) -> Ticket:
    stmt = sa.select(Ticket).where(Ticket.token == token)
    if lock:
        stmt = stmt.with_for_update()
    ticket = db.session.scalar(stmt)
    if ticket is None:
        raise TicketNotFound()
    return ticket


@transactional
def ticket_status(token: str, *, policy: QueuePolicy | None = None) -> TicketView:
    """The public view of a ticket by its unguessable token."""
    return _view(_ticket_by_token(token), policy or current_policy())


_COUNTER_INFO = (
    sa.select(
        _COUNTERS.c.id,
        _COUNTERS.c.site_id,
        _COUNTERS.c.number,
        _COUNTERS.c.name,
        _COUNTERS.c.active,
        _COUNTERS.c.paused,
        _USERS.c.full_name.label("officer"),
        _SITES.c.seq,
    )
    .select_from(
        _COUNTERS.join(_SITES, _SITES.c.id == _COUNTERS.c.site_id).outerjoin(
            _USERS, _USERS.c.id == _COUNTERS.c.officer_id
        )
    )
    .where(_COUNTERS.c.id == sa.bindparam("cid"))
)
_COUNTER_AREAS = (
    sa.select(_AREAS.c.id, _AREAS.c.code, _AREAS.c.prefix, _AREAS.c.name, _AREAS.c.active)
    .join(counter_areas, counter_areas.c.area_id == _AREAS.c.id)
    .where(counter_areas.c.counter_id == sa.bindparam("cid"))
    .order_by(_AREAS.c.sort_order)
)


@functools.cache
def _queue_statement(priority_first: bool) -> Any:
    """A counter's whole waiting queue in call order (params: site_id, day, cid, area_ids)."""
    return (
        sa.select(
            _TICKETS.c.id,
            _TICKETS.c.code,
            _AREAS.c.name.label("area"),
            _AREAS.c.prefix.label("area_prefix"),
            _TICKETS.c.priority,
            _TICKETS.c.issued_at,
            _TICKETS.c.queued_at,
        )
        .select_from(_TICKETS.join(_AREAS, _AREAS.c.id == _TICKETS.c.area_id))
        .where(*_waiting_at_counter(sa.bindparam("area_ids", expanding=True)))
        .order_by(*_queue_columns(priority_first))
    )


@transactional
def counter_state(
    counter_id: int, *, now: dt.datetime | None = None, policy: QueuePolicy | None = None
) -> dict[str, Any]:
    """The counter's current ticket and its waiting queue, for the console, exact at ``seq``.

    The console folds the facts that follow into it (counter/static/console.js): waiting rows
    carry their place in queue order (``queued_at``, ``id``; priority first when
    ``priority_first``), ``generated_at`` sets the console's clock for the minutes waited.
    """
    begin_snapshot_read()
    now = ensure_now(now)
    policy = policy or current_policy()
    conn = db.session.connection()
    counter = conn.execute(_COUNTER_INFO, {"cid": counter_id}).first()
    if counter is None or not counter.active:
        raise CounterNotFound(counter=counter_id)
    areas = conn.execute(_COUNTER_AREAS, {"cid": counter_id}).all()
    day = business_day(now)
    current = conn.execute(_TICKET_AT_COUNTER, {"cid": counter_id, "day": day}).first()
    priority_first = policy.priority_policy == "strict"
    params = {
        "site_id": counter.site_id,
        "day": day,
        "cid": counter_id,
        "area_ids": [a.id for a in areas if a.active],
    }
    labels = policy.priority_categories
    return {
        "counter": {
            "id": counter.id,
            "site_id": counter.site_id,
            "number": counter.number,
            "name": counter.name,
            "paused": counter.paused,
            "areas": [{"code": a.code, "prefix": a.prefix, "name": a.name} for a in areas],
            "officer": counter.officer,
        },
        "current": _row_view(current._asdict(), policy, counter.number).as_dict()
        if current
        else None,
        "waiting": [
            {
                "id": t.id,
                "code": t.code,
                "area": t.area,
                "area_prefix": t.area_prefix,
                "priority": t.priority,
                "priority_label": labels.get(t.priority) if t.priority else None,
                "issued_at": t.issued_at.isoformat(),
                "queued_at": t.queued_at.isoformat(),
                "waited_minutes": int((now - t.issued_at).total_seconds() // 60),
            }
            for t in conn.execute(_queue_statement(priority_first), params)
        ],
        "priority_first": priority_first,
        "generated_at": now.isoformat(),
        "seq": counter.seq,
    }
