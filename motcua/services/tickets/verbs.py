"""The counter's verbs and the other ways a ticket moves: call, recall, no-show, start, finish,
transfer, cancel, pause, expiry. Each is one unit of work: lock, check the rules, write,
commit, then publish.

issue → waiting → called (→ recalled) → serving → finished
                   ↘ no-show (back of the queue, or ended after N misses)
                   ↘ transferred (waiting again, original issue time kept)
waiting/called → cancelled; anything still open after its business day → expired.
"""

from __future__ import annotations

import datetime as dt
import functools
import logging
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Protocol

from db import db
from db.models import TicketStatus
from motcua import realtime
from motcua.errors import (
    CounterBusy,
    CounterNotAssigned,
    CounterNotFound,
    CounterPaused,
    Forbidden,
    InvalidTransition,
    NoCurrentTicket,
    QueueEmpty,
    ServiceNotFound,
    SiteForbidden,
    TicketNotFound,
    ValidationFailed,
)
from motcua.inputs import fits_db_int
from motcua.services import audit, catalog_cache, scopes
from motcua.services.common import QueuePolicy, bump_seq, current_policy, transactional
from motcua.services.privacy import mask_personal
from motcua.services.settings import effective_config
from motcua.services.tickets import statements as st
from motcua.services.tickets.views import TicketView, queue_entry, queue_positions, row_view
from motcua.timeutil import business_day, ensure_now

log = logging.getLogger(__name__)

WAITING, CALLED, SERVING = TicketStatus.WAITING, TicketStatus.CALLED, TicketStatus.SERVING
FINISHED, NO_SHOW = TicketStatus.FINISHED, TicketStatus.NO_SHOW
CANCELLED, EXPIRED = TicketStatus.CANCELLED, TicketStatus.EXPIRED

#: Who may work a counter (an administrator may do anything an officer may).
COUNTER_ROLES = ("officer", "admin")
#: Who may cancel a ticket (with a reason).
CANCEL_ROLES = ("officer", "leader", "admin")
MAX_NOTE = 500
MAX_DOSSIER_CODE = 64


# --------------------------------------------------------------------------- rules


def assigned_counter(username: str, site_id: int | None = None) -> int | None:
    """The counter number the settings fix for an officer (COUNTER_ASSIGNMENTS): the site's
    own value when it has one (counter numbers repeat across sites), else the installation's."""
    value = (effective_config(site_id=site_id).get("COUNTER_ASSIGNMENTS") or {}).get(username)
    return int(value) if value is not None else None


def check_actor(actor_id: int | None, roles: tuple[str, ...], site_id: int | None = None) -> Any:
    """The acting account, if any, must be active and hold one of ``roles``.

    ``None`` is the system (the CLI, housekeeping, tests): it may do anything. With
    ``site_id`` the row also tells the account's scope at that site (``check_site``).
    """
    if actor_id is None:
        return None
    if site_id is None:
        actor = st.conn().execute(st.ACTOR, {"uid": actor_id}).first()
    else:
        actor = st.conn().execute(st.ACTOR_AT_SITE, {"uid": actor_id, "sid": site_id}).first()
    if actor is None or not actor.active or actor.role not in roles:
        raise Forbidden()
    return actor


def check_site(actor: Any, site_id: int) -> None:
    """An account scoped to sites works only at those sites (read with the actor's row)."""
    if actor.scoped and not actor.at_site:
        raise SiteForbidden(site=site_id)


def check_counter_access(
    actor_id: int | None, counter_number: int, site_id: int | None = None
) -> None:
    """An officer may work a counter: the right role, one of their sites (an account scoped
    to sites sits only at those sites' counters), and their fixed seat if they have one."""
    actor = check_actor(actor_id, COUNTER_ROLES, site_id)
    if actor is None:
        return
    if site_id is not None:
        check_site(actor, site_id)
    if actor.role == "admin":
        return
    fixed = assigned_counter(actor.username, site_id)
    if fixed is not None and fixed != counter_number:
        raise CounterNotAssigned(counter=counter_number, assigned=fixed)


# --------------------------------------------------------------------------- locks


def _lock_counter(counter_id: int, officer_id: int | None) -> st.CounterRow:
    """Lock an active counter's row (FOR UPDATE) the actor may work, and return it."""
    if not fits_db_int(counter_id):  # no such row; the driver would overflow
        raise CounterNotFound(counter=str(counter_id)[:20])
    row = st.conn().execute(st.LOCK_COUNTER, {"cid": counter_id}).first()
    if row is None or not row.active:
        raise CounterNotFound(counter=counter_id)
    check_counter_access(officer_id, row.number, row.site_id)
    return st.counter_row(row)


def _lock_free_counter(counter_id: int, officer_id: int | None, now: dt.datetime) -> st.CounterRow:
    """Lock a counter that may call: open (not paused) and with no ticket at it."""
    day = business_day(now)
    if not fits_db_int(counter_id):  # no such row; the driver would overflow
        raise CounterNotFound(counter=str(counter_id)[:20])
    row = st.conn().execute(st.LOCK_FREE_COUNTER, {"cid": counter_id, "day": day}).first()
    if row is None or not row.active:
        raise CounterNotFound(counter=counter_id)
    check_counter_access(officer_id, row.number, row.site_id)
    counter = st.counter_row(row)
    if counter.paused:
        raise CounterPaused(counter=counter.number)
    if row.busy:
        raise CounterBusy(counter=counter.number)
    return counter


def _lock_at_counter(
    counter_id: int, officer_id: int | None, now: dt.datetime, *statuses: TicketStatus
) -> tuple[st.CounterRow, dict[str, Any]]:
    """Lock a counter; return it with its current ticket, which must be in ``statuses``."""
    counter = _lock_counter(counter_id, officer_id)
    params = {"cid": counter.id, "day": business_day(now)}
    row = st.conn().execute(st.LOCK_TICKET_AT_COUNTER, params).first()
    if row is None:
        raise NoCurrentTicket(counter=counter.number)
    if statuses and row.status not in statuses:
        raise InvalidTransition(code=row.code, status=row.status)
    return counter, row._asdict()


# --------------------------------------------------------------------------- record


def _record(
    ticket: dict[str, Any],
    counter: st.CounterRow | None,
    *,
    kind: str,
    fact: str,
    now: dt.datetime,
    actor_id: int | None,
    policy: QueuePolicy,
    detail: dict[str, Any] | None = None,
    counter_number: int | None = None,
    estimate: bool = False,
    **extra: Any,
) -> TicketView:
    """Log an action on a ticket row, bump the board sequence, commit, then publish the fact.

    ``counter_number`` is the ticket's counter after the action; the fact names the acting
    counter (or, with no acting counter, the ticket's).
    """
    counter_id = counter.id if counter else ticket.get("counter_id")
    st.insert_events(
        [st.event_row(ticket, kind, now, actor_id=actor_id, counter_id=counter_id, detail=detail)]
    )
    view = row_view(ticket, policy, counter_number, estimate=estimate, now=now)
    # The area's new places are read inside this transaction (it sees its own writes): no
    # second transaction, so no second write lock on SQLite.
    places = None
    if _moves_queue(fact, extra, was_waiting=kind == "cancelled" and counter_number is None):
        places = queue_positions(
            ticket["site_id"], ticket["area_id"], ticket["business_day"], policy, now
        )
    view.seq = seq = bump_seq(ticket["site_id"])  # the site row: the last lock, held briefly
    db.session.commit()
    acting = counter.number if counter else counter_number
    payload = {"seq": seq, "ticket": view.as_dict(), "counter": acting, **extra}
    realtime.publish(ticket["site_id"], fact, payload)
    if places is not None:
        realtime.publish_positions(places)
    return view


def _moves_queue(fact: str, extra: dict[str, Any], *, was_waiting: bool) -> bool:
    """Does this fact change the places of the tickets waiting in the ticket's area?"""
    if fact == "ticket_called":
        return not extra.get("recall")
    if fact in ("ticket_no_show", "ticket_transferred"):
        return extra.get("queue") is not None  # back in a queue
    return fact == "ticket_cancelled" and was_waiting


@dataclass
class Action:
    """A verb in progress at a counter: the counter (locked), its ticket, who acts and when."""

    counter: st.CounterRow
    ticket: dict[str, Any]
    officer_id: int | None
    now: dt.datetime
    policy: QueuePolicy

    def write(self, **values: Any) -> None:
        """Change some columns of the ticket, in the row and in this action's copy."""
        self.ticket.update(values)
        st.update_ticket(self.ticket["id"], **values)

    def record(self, kind: str, fact: str, *, stays: bool = True, **options: Any) -> TicketView:
        """Log, commit and publish; ``stays``: the ticket is still at this counter after it."""
        return _record(
            self.ticket,
            self.counter,
            kind=kind,
            fact=fact,
            now=self.now,
            actor_id=self.officer_id,
            policy=self.policy,
            counter_number=self.counter.number if stays else None,
            **options,
        )


class CounterVerb(Protocol):
    """A verb an officer runs at a counter (see ``counter_verb``)."""

    __name__: str

    def __call__(
        self,
        counter_id: int,
        *args: Any,
        officer_id: int | None = None,
        now: dt.datetime | None = None,
        policy: QueuePolicy | None = None,
        **kwargs: Any,
    ) -> TicketView: ...


def counter_verb(
    *statuses: TicketStatus, free: bool = False
) -> Callable[[Callable[..., TicketView]], CounterVerb]:
    """Make a counter verb of ``body(action, ...)``: one unit of work that locks the counter
    (checking who may work it), then either requires it free (``free``: a call) or takes its
    current ticket, which must be in ``statuses`` (any when none are named)."""

    def decorate(body: Callable[..., TicketView]) -> CounterVerb:
        @functools.wraps(body)
        def verb(
            counter_id: int,
            *args: Any,
            officer_id: int | None = None,
            now: dt.datetime | None = None,
            policy: QueuePolicy | None = None,
            **kwargs: Any,
        ) -> TicketView:
            now = ensure_now(now)
            if free:
                counter = _lock_free_counter(counter_id, officer_id, now)
                ticket: dict[str, Any] = {}
            else:
                counter, ticket = _lock_at_counter(counter_id, officer_id, now, *statuses)
            policy = policy or current_policy(counter.site_id)  # the counter's site's rules
            return body(Action(counter, ticket, officer_id, now, policy), *args, **kwargs)

        return transactional(verb)

    return decorate


def _call(act: Action, row: Any) -> TicketView:
    """Move a waiting ticket (its row locked) to the counter, log it, commit and publish."""
    if row is None:
        raise QueueEmpty(counter=act.counter.number)
    act.ticket = ticket = row._asdict()
    counter = act.counter
    act.write(
        status=CALLED,
        counter_id=counter.id,
        officer_id=act.officer_id or counter.officer_id,
        called_at=act.now,
        first_called_at=ticket["first_called_at"] or act.now,
        call_count=ticket["call_count"] + 1,
        target_counter_id=None,
    )
    seated = counter.officer_id if act.officer_id is None else act.officer_id
    st.update_counter(
        counter.id,
        normal_streak=0 if ticket["priority"] else counter.normal_streak + 1,
        officer_id=seated,
    )
    # ``officer``: who sits at the counter now (the tablet re-reads only if it changed).
    return act.record("called", "ticket_called", recall=False, officer=seated)


# --------------------------------------------------------------------------- verbs


@counter_verb(free=True)
def call_next(act: Action) -> TicketView:
    """Call the next waiting ticket for a counter, atomically across counters."""
    counter, policy = act.counter, act.policy
    params = {"site_id": counter.site_id, "day": business_day(act.now), "cid": counter.id}
    row = None
    if policy.priority_policy == "interleave" and counter.normal_streak >= policy.priority_every_n:
        row = st.conn().execute(st.next_waiting_statement(False, True), params).first()
    if row is None:
        strict = policy.priority_policy == "strict"
        row = st.conn().execute(st.next_waiting_statement(strict, False), params).first()
    return _call(act, row)


@counter_verb(free=True)
def call_ticket(act: Action, code: str) -> TicketView:
    """Call a given waiting number (e.g. a priority citizen) to a counter."""
    params = {
        "site_id": act.counter.site_id,
        "day": business_day(act.now),
        "code": code.strip().upper(),
    }
    row = st.conn().execute(st.LOCK_TICKET_BY_CODE, params).first()
    if row is None:
        raise TicketNotFound(code=code)
    if row.status != WAITING:
        raise InvalidTransition(code=row.code, status=row.status)
    return _call(act, row)


@counter_verb(CALLED)
def recall(act: Action) -> TicketView:
    """Announce the counter's current ticket again."""
    act.write(call_count=act.ticket["call_count"] + 1, called_at=act.now)
    return act.record("recalled", "ticket_called", recall=True)


@counter_verb(CALLED)
def mark_no_show(act: Action) -> TicketView:
    """The called citizen did not come: back of the queue, or ended after N misses."""
    misses = act.ticket["misses"] + 1
    requeued = act.policy.noshow_requeue and misses < act.policy.noshow_max_misses
    if requeued:
        act.write(status=WAITING, misses=misses, queued_at=act.now, counter_id=None)
    else:
        act.write(status=NO_SHOW, misses=misses, finished_at=act.now)
    return act.record(
        "no_show",
        "ticket_no_show",
        stays=not requeued,
        detail={"misses": misses, "requeued": requeued},
        estimate=True,
        queue=queue_entry(act.ticket) if requeued else None,
    )


@counter_verb(CALLED)
def start_service(act: Action) -> TicketView:
    """The citizen has arrived at the counter: service starts."""
    act.write(status=SERVING, started_at=act.now)
    return act.record("started", "ticket_started")


@counter_verb()
def finish(act: Action, dossier_code: str | None = None) -> TicketView:
    """Finish the counter's transaction (arms the counter's rating tablet)."""
    ticket, now = act.ticket, act.now
    started_at = ticket["started_at"]
    if ticket["status"] == CALLED:
        # Finished without pressing "start": the service began when the citizen was called.
        started_at = ticket["called_at"]
        implicit = st.event_row(
            ticket,
            "started",
            ticket["called_at"] or now,
            actor_id=act.officer_id,
            counter_id=act.counter.id,
            detail={"implicit": True},
        )
        st.insert_events([implicit])
    dossier = (dossier_code or "").strip()[:MAX_DOSSIER_CODE] or ticket["dossier_code"]
    act.write(
        status=FINISHED,
        started_at=started_at,
        finished_at=now,
        officer_id=act.officer_id or ticket["officer_id"],
        dossier_code=dossier,
    )
    catalog_cache.forget_average((ticket["site_id"], ticket["area_id"], ticket["business_day"]))
    return act.record(
        "finished",
        "ticket_finished",
        detail={"dossier_code": dossier} if dossier else None,
        counter_id=act.counter.id,
    )


@counter_verb()
def transfer(
    act: Action,
    to_service: str | None = None,
    to_counter: int | None = None,
    note: str | None = None,
) -> TicketView:
    """Send the counter's ticket to another area or counter; it keeps its issue time."""
    if not to_service and to_counter is None:
        raise ValidationFailed(field="to_service")
    conn, ticket = st.conn(), act.ticket
    target = None
    if to_counter is not None:
        if not fits_db_int(to_counter):
            raise CounterNotFound(counter=str(to_counter)[:20])
        params = {"site_id": act.counter.site_id, "number": to_counter}
        target = conn.execute(st.COUNTER_BY_NUMBER, params).first()
        if target is None or target.id == act.counter.id:
            raise CounterNotFound(counter=to_counter)
    from_area_id = area_id = ticket["area_id"]
    if to_service:
        area_id = conn.scalar(st.ACTIVE_AREA_BY_KEY, {"key": to_service.strip().lower()})
        if area_id is None:
            raise ServiceNotFound(service=to_service)
    act.write(
        area_id=area_id,
        status=WAITING,
        queued_at=ticket["issued_at"],
        counter_id=None,
        target_counter_id=target.id if target else None,
        started_at=None,
    )
    act.ticket = conn.execute(st.TICKET_BY_ID, {"tid": ticket["id"]}).one()._asdict()
    to_number = target.number if target else None
    return act.record(
        "transferred",
        "ticket_transferred",
        stays=False,
        detail={
            "from_area_id": from_area_id,
            "to_area_id": area_id,
            "to_counter": to_number,
            "note": (mask_personal(note) or "")[:MAX_NOTE],
        },
        estimate=True,
        queue=queue_entry(act.ticket, to_number),
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
    """Cancel a ticket that is waiting or called (an officer, leader or administrator of
    the ticket's site)."""
    check_actor(actor_id, CANCEL_ROLES)
    conn = st.conn()
    row = conn.execute(st.LOCK_TICKET_BY_TOKEN, {"token": token}).first()
    if row is None:
        raise TicketNotFound()
    ticket = row._asdict()
    scopes.check_site(actor_id, ticket["site_id"])
    if ticket["status"] not in (WAITING, CALLED):
        raise InvalidTransition(code=ticket["code"], status=ticket["status"])
    number = None
    if ticket["counter_id"] is not None:
        number = conn.scalar(st.COUNTER_NUMBER, {"cid": ticket["counter_id"]})
    now = ensure_now(now)
    ticket.update(status=CANCELLED, finished_at=now)
    st.update_ticket(ticket["id"], status=CANCELLED, finished_at=now)
    reason = (mask_personal((reason or "").strip()) or "")[:MAX_NOTE] or None
    return _record(
        ticket,
        None,
        kind="cancelled",
        fact="ticket_cancelled",
        now=now,
        actor_id=actor_id,
        policy=policy or current_policy(),
        detail={"reason": reason} if reason else None,
        counter_number=number,
    )


@transactional
def set_paused(counter_id: int, paused: bool, *, officer_id: int | None = None) -> dict[str, Any]:
    """Pause or resume a counter; a paused counter gets no calls."""
    counter = _lock_counter(counter_id, officer_id)
    seated = officer_id if officer_id is not None else counter.officer_id
    st.update_counter(counter.id, paused=paused, officer_id=seated)
    catalog_cache.invalidate()
    audit.record(
        "counter_paused" if paused else "counter_resumed",
        actor_id=officer_id,
        target=str(counter.number),
    )
    seq = bump_seq(counter.site_id)
    db.session.commit()
    realtime.publish(
        counter.site_id,
        "counter_changed",
        {"seq": seq, "counter": counter.number, "paused": paused, "officer": seated},
    )
    return {"counter": counter.number, "paused": paused, "seq": seq}


@transactional
def take_seat(counter_id: int, officer_id: int) -> dict[str, Any]:
    """An officer opened the counter's console: they sit there from now on, so the rating
    tablet shows them at once (not after their first call). ``counter_changed`` only when
    someone else sat there before; returns the counter's id, number and site."""
    counter = _lock_counter(counter_id, officer_id)
    moved = counter.officer_id != officer_id
    seq = None
    if moved:
        st.update_counter(counter.id, officer_id=officer_id)
        seq = bump_seq(counter.site_id)
    db.session.commit()
    if moved:
        realtime.publish(
            counter.site_id,
            "counter_changed",
            {
                "seq": seq,
                "counter": counter.number,
                "paused": counter.paused,
                "officer": officer_id,
            },
        )
    return {"id": counter.id, "number": counter.number, "site_id": counter.site_id}


@transactional
def expire_stale(*, now: dt.datetime | None = None) -> int:
    """Expire every open ticket of an earlier business day; return how many."""
    now = ensure_now(now)
    stale = [r._asdict() for r in st.conn().execute(st.STALE_OPEN, {"day": business_day(now)})]
    for ticket in stale:
        st.update_ticket(ticket["id"], status=EXPIRED, finished_at=now)
    st.insert_events(
        [
            st.event_row(
                t, "expired", now, counter_id=t["counter_id"], detail={"was": str(t["status"])}
            )
            for t in stale
        ]
    )
    seqs = {site_id: bump_seq(site_id) for site_id in sorted({t["site_id"] for t in stale})}
    db.session.commit()
    for site_id, seq in seqs.items():
        realtime.publish(site_id, "board_changed", {"seq": seq})
    if stale:
        log.info("expired %d tickets of earlier days", len(stale))
    return len(stale)
