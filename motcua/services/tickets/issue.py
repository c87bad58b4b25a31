"""Issuing numbers: a kiosk tap (any door) checked against the hall's rules, then written in a
group commit with the taps arriving at the same moment."""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import logging
import secrets
import threading
from dataclasses import dataclass, field, replace
from typing import Any, Protocol

from flask_babel import lazy_gettext as _l
from sqlalchemy.exc import IntegrityError

from db import db
from db.models import KIOSK_DEVICE, TicketStatus, new_uuid
from motcua import realtime
from motcua.errors import (
    DeviceNotPaired,
    IdempotencyKeyReused,
    InvalidPriority,
    NotFound,
    ServiceNotFound,
    ValidationFailed,
)
from motcua.services import catalog_cache, hours
from motcua.services.common import QueuePolicy, bump_seq, current_policy
from motcua.services.settings import effective
from motcua.services.sites import install_site_code
from motcua.services.tickets import statements as st
from motcua.services.tickets.views import (
    TicketView,
    format_code,
    full_view,
    queue_positions,
    row_view,
)
from motcua.timeutil import business_day, ensure_now

log = logging.getLogger(__name__)

MAX_IDEMPOTENCY_KEY = 128


class IssuingDevice(Protocol):
    """A paired device asking for a number (``devices.DeviceView``)."""

    name: str
    site_code: str

    def require(self, *kinds: str) -> Any:
        """This device if it is of one of the kinds, else DeviceForbidden."""


def _held_lock() -> threading.Lock:
    lock = threading.Lock()
    lock.acquire()
    return lock


@dataclass(eq=False)
class IssueRequest:
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
    fingerprint: str | None = None  # of a keyed request (request_fingerprint)
    queued_at: dt.datetime | None = None  # a place held earlier (a number taken from home)
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
    Per-process state: the batch in progress (nothing survives the request).
    """

    def __init__(self) -> None:
        self._mutex = threading.Lock()
        self._pending: list[IssueRequest] = []
        self._leading = False

    def submit(self, req: IssueRequest) -> TicketView:
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
            write_batch_or_each(batch)
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
    device: IssuingDevice | None = None,
    actor_id: int | None = None,
    now: dt.datetime | None = None,
    policy: QueuePolicy | None = None,
    queued_at: dt.datetime | None = None,
) -> TicketView:
    """Issue the next number of an area; a repeated idempotency key returns the same ticket.

    Every door (the kiosk page, REST, a script) comes here, so every issuing rule is checked
    here: the device scope (``device``, a paired device, must be a kiosk, and it names the
    kiosk and its site; with REQUIRE_DEVICE_PAIRING only a paired kiosk or signed-in staff,
    ``actor_id``, may issue) and the working hours (a retried tap of a number taken in hours
    still gets it). ``queued_at`` (earlier than now) places the ticket where a place was held
    from home (``appointments.check_in``); otherwise the ticket joins at ``now``. The hot path
    of a kiosk tap: site, area and counters come from the catalog cache, the tap is checked,
    then written with others arriving at the same moment
    (``IssueBatcher``). Issuing is its own unit of work: whatever the caller had open in
    the session is committed first (it must not hold the write lock while it waits).
    """
    now = ensure_now(now)
    kiosk = check_issuer(device, actor_id) or kiosk
    if idempotency_key is not None:
        idempotency_key = idempotency_key.strip() or None
    if idempotency_key is not None and len(idempotency_key) > MAX_IDEMPOTENCY_KEY:
        # Cut, two different keys could become one: refused instead.
        raise ValidationFailed(
            _l("Mã chống trùng (Idempotency-Key) dài quá %(n)s ký tự.", n=MAX_IDEMPOTENCY_KEY),
            field="idempotency_key",
        )
    catalog_now = catalog_cache.snapshot()
    # A paired kiosk issues for the site it was bound to at pairing, whatever the page named.
    code = (device.site_code if device is not None else None) or site_code or install_site_code()
    site = catalog_now.sites.get(code)
    if site is None:
        raise NotFound(site=code)
    policy = policy or current_policy(site.id)
    check_hours(now, site.id, idempotency_key)
    if priority is not None and priority not in policy.priority_categories:
        raise InvalidPriority(priority=priority)
    area = catalog_now.areas.get((service or "").strip().lower())
    counters = catalog_now.serving.get((site.id, area.id), []) if area else []
    if area is None or not counters:
        raise ServiceNotFound(service=service)
    if db.session().in_transaction():
        db.session.commit()
    request = IssueRequest(
        site=site,
        area=area,
        counters=counters,
        priority=priority,
        key=idempotency_key,
        kiosk=kiosk,
        fingerprint=request_fingerprint(area.code, priority, kiosk) if idempotency_key else None,
        now=now,
        day=business_day(now),
        policy=policy,
        queued_at=queued_at if queued_at is not None and queued_at < now else None,
    )
    return _batcher().submit(request)


def request_fingerprint(area_code: str, priority: str | None, kiosk: str | None) -> str:
    """SHA-256 of what a keyed tap asks for (the area, not how it was named; the priority; the
    kiosk): a retry carries the same, another request under the same key does not."""
    canonical = json.dumps([area_code, priority, kiosk], ensure_ascii=False, separators=(",", ":"))
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()


def _check_same_request(req: IssueRequest, stored: str | None) -> None:
    """A repeated key must come with the same request (IETF httpapi Idempotency-Key draft)."""
    if stored is not None and req.fingerprint is not None and stored != req.fingerprint:
        raise IdempotencyKeyReused()


def check_issuer(device: IssuingDevice | None, actor_id: int | None) -> str | None:
    """The device scope of issuing: a paired device must be a kiosk (its name is returned);
    with REQUIRE_DEVICE_PAIRING only a paired kiosk or signed-in staff may issue."""
    if device is not None:
        return str(device.require(KIOSK_DEVICE).name)
    if actor_id is None and effective("REQUIRE_DEVICE_PAIRING"):
        raise DeviceNotPaired()
    return None


def check_hours(now: dt.datetime, site_id: int, key: str | None) -> None:
    """Numbers are issued in the site's working hours; a retried tap keeps the number it got."""
    if not hours.is_open(now, site_id) and not _issued_before(site_id, key):
        hours.check_open(now, site_id)


def _issued_before(site_id: int, key: str | None) -> bool:
    """Whether a tap with this idempotency key already has its number (a retry)."""
    if key is None:
        return False
    params = {"site_id": site_id, "key": key}
    return st.conn().execute(st.TICKET_BY_KEY, params).first() is not None


def write_batch_or_each(batch: list[IssueRequest]) -> None:
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


def _settle_alone(req: IssueRequest, exc: Exception) -> None:
    """A lone request failed: a retried tap whose first try committed gets that ticket."""
    if isinstance(exc, IntegrityError) and req.key:
        try:
            row = st.conn().execute(st.TICKET_BY_KEY, {"site_id": req.site.id, "key": req.key})
            existing = row.first()
            if existing is not None:
                _check_same_request(req, existing.request_hash)
                req.result = replace(full_view(existing._asdict(), req.policy), created=False)
                db.session.commit()
                req.done = True
                return
        except IdempotencyKeyReused as reused:
            db.session.rollback()
            req.error = reused
            req.done = True
            return
        except Exception:
            db.session.rollback()
            log.exception("looking up idempotency key after a conflict")
    req.error = exc
    req.done = True


def _ticket_row(req: IssueRequest, number: int) -> dict[str, Any]:
    """The new ticket's row, as inserted."""
    return {
        "uuid": req.uuid,
        "token": req.token,
        "site_id": req.site.id,
        "issue_area_id": req.area.id,
        "area_id": req.area.id,
        "business_day": req.day,
        "number": number,
        "code": format_code(req.area.prefix, number, req.policy.digits),
        "status": TicketStatus.WAITING,
        "priority": req.priority,
        "idempotency_key": req.key,
        "request_hash": req.fingerprint,
        "issued_at": req.now,
        "queued_at": req.queued_at or req.now,
        "kiosk": req.kiosk,
        "call_count": 0,
        "misses": 0,
    }


def _write_batch(batch: list[IssueRequest]) -> None:
    """Write every request of the batch in one transaction, commit, publish, settle."""
    conn = st.conn()
    # A key already committed is not looked up first: its insert fails on the UNIQUE
    # constraint, the batch is retried tap by tap, and that tap gets its first ticket
    # (_settle_alone). Retries are rare; a lookup on every batch is not free.
    repeats: list[tuple[IssueRequest, IssueRequest]] = []
    fresh: list[IssueRequest] = []
    by_key: dict[tuple[int, str], IssueRequest] = {}
    for req in batch:
        key = (req.site.id, req.key) if req.key else None
        if key is not None and key in by_key:
            repeats.append((req, by_key[key]))  # the same tap twice in one batch
            continue
        if key is not None:
            by_key[key] = req
        fresh.append(req)
    numbers = _take_numbers(fresh)
    rows = [_ticket_row(req, numbers[id(req)]) for req in fresh]
    if rows:
        ids = [row[0] for row in conn.execute(st.INSERT_TICKET, rows)]
        for row, ticket_id in zip(rows, ids, strict=True):
            row["id"] = ticket_id
        st.insert_events(
            [
                st.event_row(
                    row,
                    "issued",
                    req.now,
                    detail=(
                        {"priority": req.priority, "kiosk": req.kiosk}
                        if req.priority or req.kiosk
                        else None
                    ),
                )
                for req, row in zip(fresh, rows, strict=True)
            ],
            conn,
        )
    views: list[TicketView] = []
    for req, row in zip(fresh, rows, strict=True):
        row.update(
            area_code=req.area.code,
            area_prefix=req.area.prefix,
            area_name=req.area.name,
            site_code=req.site.code,
        )
        views.append(
            row_view(
                row,
                req.policy,
                None,
                estimate=True,
                counters=req.counters,
                connection=conn,
                now=req.now,
            )
        )
    # A strict-priority ticket, or one placed where a place was held earlier, goes before
    # others: their new places are read in this transaction and pushed after the commit.
    jumped = {
        (req.site.id, req.area.id, view.business_day): req.policy
        for req, view in zip(fresh, views, strict=True)
        if (req.priority and req.policy.priority_policy == "strict") or req.queued_at
    }
    latest = max(req.now for req in fresh)
    places = [p for key in sorted(jumped) for p in queue_positions(*key, jumped[key], latest)]
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
        realtime.publish(req.site.id, "ticket_issued", {"seq": view.seq, "ticket": view.as_dict()})
        req.result = view
    if places:
        realtime.publish_positions(places)
    for req, first in repeats:
        assert first.result is not None
        if first.fingerprint != req.fingerprint:
            req.error = IdempotencyKeyReused()
            continue
        req.result = replace(first.result, created=False)
    for req in batch:
        req.done = True


def _take_numbers(fresh: list[IssueRequest]) -> dict[int, int]:
    """Numbers for the new tickets, in arrival order within each (site, area, day).

    One counter-row update per queue, in a fixed order (so two writers always lock the
    rows in the same order on PostgreSQL).
    """
    queues: dict[tuple[int, int, dt.date], list[IssueRequest]] = {}
    for req in fresh:
        queues.setdefault((req.site.id, req.area.id, req.day), []).append(req)
    numbers: dict[int, int] = {}
    for (site_id, area_id, day), reqs in sorted(queues.items(), key=lambda item: item[0]):
        last = st.next_number(site_id, area_id, day, len(reqs))
        for offset, req in enumerate(reqs):
            numbers[id(req)] = last - len(reqs) + 1 + offset
    return numbers
