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
from db.engine import begin_read_only
from db.models import (
    Counter,
    ServiceArea,
    Site,
    Ticket,
    TicketEvent,
    TicketSequence,
    User,
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
    """Append one event to the ticket's log."""
    db.session.add(
        TicketEvent(
            ticket_id=ticket.id,
            site_id=ticket.site_id,
            kind=kind,
            at=now,
            actor_id=actor_id,
            counter_id=counter_id,
            area_id=area_id if area_id is not None else ticket.area_id,
            detail=detail,
        )
    )


def _queue_order(policy: QueuePolicy, priority_first: bool) -> list[Any]:
    """ORDER BY for the waiting queue."""
    order: list[Any] = []
    if priority_first:
        order.append(sa.case((Ticket.priority.is_(None), 1), else_=0))
    order += [Ticket.queued_at, Ticket.id]
    return order


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
    thread: int = field(default_factory=threading.get_ident)
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
            me = threading.get_ident()
            for other in batch:
                if other.thread != me:
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
                {
                    "uuid": new_uuid(),
                    "ticket_id": ticket_id,
                    "site_id": req.site.id,
                    "kind": "issued",
                    "at": req.now,
                    "area_id": req.area.id,
                    "detail": (
                        {"priority": req.priority, "kiosk": req.kiosk}
                        if req.priority or req.kiosk
                        else None
                    ),
                }
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


def _counter(counter_id: int, *, lock: bool = False) -> Counter:
    stmt = sa.select(Counter).where(Counter.id == counter_id)
    if lock:
        stmt = stmt.with_for_update()
    counter = db.session.scalar(stmt)
    if counter is None or not counter.active:
        raise CounterNotFound(counter=counter_id)
    return counter


def _current_ticket(counter: Counter, day: dt.date) -> Ticket | None:
    """The ticket now at a counter (called or being served), if any."""
    return db.session.scalar(
        sa.select(Ticket)
        .where(
            Ticket.counter_id == counter.id,
            Ticket.business_day == day,
            Ticket.status.in_(AT_COUNTER),
        )
        .order_by(Ticket.called_at.desc())
        .limit(1)
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


def _assign_officer(counter: Counter, officer_id: int | None) -> None:
    if officer_id is not None and counter.officer_id != officer_id:
        counter.officer_id = officer_id


def _call(
    ticket: Ticket,
    counter: Counter,
    officer_id: int | None,
    now: dt.datetime,
    policy: QueuePolicy,
    kind: str = "called",
) -> TicketView:
    """Move a waiting ticket to a counter, log it, commit and publish."""
    ticket.status = CALLED
    ticket.counter_id = counter.id
    ticket.counter = counter
    ticket.officer_id = officer_id or counter.officer_id
    ticket.called_at = now
    ticket.first_called_at = ticket.first_called_at or now
    ticket.call_count += 1
    ticket.target_counter_id = None
    counter.normal_streak = 0 if ticket.priority else counter.normal_streak + 1
    _assign_officer(counter, officer_id)
    _log(ticket, kind, now, actor_id=officer_id, counter_id=counter.id)
    view = _view(ticket, policy, with_estimate=False)
    view.seq = seq = bump_seq(ticket.site_id)  # the site row: the last lock, held briefly
    _commit_publish(
        "ticket_called", ticket.site_id, seq, view, counter=counter.number, recall=False
    )
    return view


def _free_counter(counter_id: int, now: dt.datetime) -> tuple[Counter, dt.date]:
    """Lock a counter that may call: open (not paused) and with no ticket at it."""
    counter = _counter(counter_id, lock=True)
    if counter.paused:
        raise CounterPaused(counter=counter.number)
    day = business_day(now)
    if _current_ticket(counter, day) is not None:
        raise CounterBusy(counter=counter.number)
    return counter, day


def _waiting_query(counter: Counter, day: dt.date) -> sa.Select[tuple[Ticket]]:
    area_ids = [a.id for a in counter.areas if a.active]
    return sa.select(Ticket).where(
        Ticket.site_id == counter.site_id,
        Ticket.business_day == day,
        Ticket.status == WAITING,
        sa.or_(
            sa.and_(Ticket.area_id.in_(area_ids), Ticket.target_counter_id.is_(None)),
            Ticket.target_counter_id == counter.id,
        ),
    )


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
    counter, day = _free_counter(counter_id, now)
    base = _waiting_query(counter, day)
    if dialect_name() == "postgresql":
        locking: dict[str, Any] = {"skip_locked": True}
    else:
        locking = {}
    ticket: Ticket | None = None
    if policy.priority_policy == "interleave" and counter.normal_streak >= policy.priority_every_n:
        ticket = db.session.scalar(
            base.where(Ticket.priority.is_not(None))
            .order_by(*_queue_order(policy, False))
            .limit(1)
            .with_for_update(**locking)
        )
    if ticket is None:
        ticket = db.session.scalar(
            base.order_by(*_queue_order(policy, policy.priority_policy == "strict"))
            .limit(1)
            .with_for_update(**locking)
        )
    if ticket is None:
        raise QueueEmpty(counter=counter.number)
    return _call(ticket, counter, officer_id, now, policy)


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
    counter, day = _free_counter(counter_id, now)
    ticket = db.session.scalar(
        sa.select(Ticket)
        .where(
            Ticket.site_id == counter.site_id,
            Ticket.business_day == day,
            sa.func.upper(Ticket.code) == code.strip().upper(),
        )
        .with_for_update()
    )
    if ticket is None:
        raise TicketNotFound(code=code)
    if ticket.status != WAITING:
        raise InvalidTransition(code=ticket.code, status=ticket.status)
    return _call(ticket, counter, officer_id, now, policy)


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
    counter, ticket = _at_counter(counter_id, now, CALLED)
    ticket.call_count += 1
    ticket.called_at = now
    return _record(
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
    counter, ticket = _at_counter(counter_id, now, CALLED)
    ticket.status = SERVING
    ticket.started_at = now
    return _record(
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
    counter, ticket = _at_counter(counter_id, now)
    if ticket.status == CALLED:
        # Finished without pressing "start": the service began when the citizen was called.
        ticket.started_at = ticket.called_at
        _log(
            ticket,
            "started",
            ticket.called_at or now,
            actor_id=officer_id,
            counter_id=counter.id,
            detail={"implicit": True},
        )
    ticket.status = FINISHED
    ticket.finished_at = now
    catalog_cache.forget_average((ticket.site_id, ticket.area_id, ticket.business_day))
    ticket.officer_id = officer_id or ticket.officer_id
    if dossier_code:
        ticket.dossier_code = dossier_code.strip()[:64]
    return _record(
        ticket,
        counter,
        kind="finished",
        fact="ticket_finished",
        now=now,
        officer_id=officer_id,
        policy=policy or current_policy(),
        detail={"dossier_code": ticket.dossier_code} if ticket.dossier_code else None,
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
    site_id, number = counter.site_id, counter.number
    db.session.commit()
    realtime.publish(site_id, "counter_changed", {"seq": seq, "counter": number, "paused": paused})
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


@transactional
def counter_state(
    counter_id: int, *, now: dt.datetime | None = None, policy: QueuePolicy | None = None
) -> dict[str, Any]:
    """The counter's current ticket and its waiting queue, for the console."""
    begin_read_only(db.session())
    now = ensure_now(now)
    policy = policy or current_policy()
    counter = _counter(counter_id)
    day = business_day(now)
    current = _current_ticket(counter, day)
    waiting = list(
        db.session.scalars(
            _waiting_query(counter, day).order_by(
                *_queue_order(policy, policy.priority_policy == "strict")
            )
        )
    )
    officer: User | None = counter.officer
    return {
        "counter": {
            "id": counter.id,
            "site_id": counter.site_id,
            "number": counter.number,
            "name": counter.name,
            "paused": counter.paused,
            "areas": [{"code": a.code, "prefix": a.prefix, "name": a.name} for a in counter.areas],
            "officer": officer.full_name if officer else None,
        },
        "current": _view(current, policy, with_estimate=False).as_dict() if current else None,
        "waiting": [
            {
                "code": t.code,
                "area": t.area.name,
                "priority": t.priority,
                "priority_label": policy.priority_categories.get(t.priority)
                if t.priority
                else None,
                "issued_at": t.issued_at.isoformat(),
                "waited_minutes": int((now - t.issued_at).total_seconds() // 60),
            }
            for t in waiting
        ],
        "seq": db.session.scalar(sa.select(Site.seq).where(Site.id == counter.site_id)),
    }
