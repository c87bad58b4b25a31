"""Print jobs in the database: enqueued by the kiosk, claimed per printer, concluded once.

A job goes ``queued`` → ``claimed`` (a process took it: nothing has reached the printer) →
``printing`` (bytes may be on their way) → ``printed`` | ``sent`` | ``print_failed``. Every
transition is one guarded UPDATE (``WHERE state = <expected> AND claimed_by = <me>``): a job is
concluded once, by the process that drove it. One process drives a printer at a time: it holds
the printer's lease (``printer_leases``), renewed for each job's time budget; jobs are taken
with ``SELECT … FOR UPDATE SKIP LOCKED`` on PostgreSQL (SQLite: one writer at a time already).

When a process dies, its lease runs out and the next process to take the printer recovers its
jobs: a ``claimed`` one goes back to the queue (it never reached the printer), a ``printing``
one fails as ``interrupted`` and staff are told — it may or may not be on paper, and printing
it again could give one citizen two tickets.

A failure raises a staff alert on the job (``alert``): it stays until the ticket prints, or an
officer dismisses it (``alerts.dismiss_alert``).
"""

from __future__ import annotations

import datetime as dt
import logging
from dataclasses import asdict, dataclass
from typing import Any

import sqlalchemy as sa
from flask import current_app
from sqlalchemy.dialects import postgresql, sqlite

from db import db
from db.models import (
    PrinterLease,
    PrintJob,
    PrintJobState,
    ServiceArea,
    Ticket,
    TicketEvent,
)
from motcua import realtime
from motcua.errors import TicketNotFound
from motcua.services.common import bump_seq, transactional
from motcua.services.print_alerts import PRINT_FAILED_TEXT as PRINT_FAILED_TEXT
from motcua.services.print_alerts import alert_view
from motcua.services.print_jobs import printers
from motcua.services.tickets import TicketView
from motcua.timeutil import ensure_now
from printer.backends import printer_off
from printer.pace import Pace
from printer.status import MESSAGES

log = logging.getLogger(__name__)

# Ticket event kinds (the ticket's own log; reports and the audit page read them).
PRINTED, SENT, PRINT_FAILED, REPRINT = "printed", "print_sent", "print_failed", "reprint"
PRINT_EVENTS = (PRINTED, SENT, PRINT_FAILED, REPRINT)
ISSUE = "issue"  # the job kind of a ticket's first paper (the other kind is REPRINT)
# What a kiosk shows: on its way, printed (confirmed), sent (unconfirmed), failed, no printer.
STATE_PRINTING, STATE_PRINTED, STATE_SENT = "printing", "printed", "sent"
STATE_FAILED, STATE_OFF = "failed", "off"
DEFAULT_MAX_AGE_S = 120.0

_STATE_OF_JOB = {
    PrintJobState.QUEUED: STATE_PRINTING,
    PrintJobState.CLAIMED: STATE_PRINTING,
    PrintJobState.PRINTING: STATE_PRINTING,
    PrintJobState.PRINTED: STATE_PRINTED,
    PrintJobState.SENT: STATE_SENT,
    PrintJobState.FAILED: STATE_FAILED,
}
_EVENT_OF_JOB = {
    PrintJobState.PRINTED: PRINTED,
    PrintJobState.SENT: SENT,
    PrintJobState.FAILED: PRINT_FAILED,
}


@dataclass(frozen=True)
class PrintState:
    """Where a ticket's latest print job stands; ``staff_told``: a failure reached staff."""

    state: str
    error_code: str | None = None
    message: str | None = None
    job: str | None = None
    staff_told: bool = False

    def as_dict(self) -> dict[str, Any]:
        """JSON-friendly dict."""
        return asdict(self)


@dataclass(frozen=True)
class ClaimedJob:
    """A job a process holds: what it needs to print it."""

    id: int
    uuid: str
    printer: str
    kiosk: str | None
    name: str
    data: bytes
    expired: bool


# --------------------------------------------------------------------------- the kiosk's side


def ticket_by_token(token: str) -> Ticket:
    """The ticket (ORM row) of a public token; else TicketNotFound."""
    ticket = db.session.scalar(sa.select(Ticket).where(Ticket.token == token))
    if ticket is None:
        raise TicketNotFound()
    return ticket


def print_events(ticket_id: int) -> list[TicketEvent]:
    """A ticket's printed / print_sent / print_failed / reprint events, oldest first."""
    return list(
        db.session.scalars(
            sa.select(TicketEvent)
            .where(TicketEvent.ticket_id == ticket_id, TicketEvent.kind.in_(PRINT_EVENTS))
            .order_by(TicketEvent.id)
        )
    )


def submit(
    view: TicketView, hall_name: str, unit_name: str | None, kiosk: str | None, job: str
) -> PrintState:
    """Render the ticket's receipt and queue it for the kiosk's printer; returns at once.

    The ticket is already committed; the job is committed here (the package's ``submit``
    then wakes this process's worker; any process's worker may print it). A receipt that
    cannot even be rendered fails the job at once, with its staff alert.

    A ticket gets one "issue" job, however many requests ask: two taps with one idempotency
    key arrive together, the second finds the ticket committed but (between the ticket's
    commit and the first request's job) no job yet. The ticket row is locked here (PostgreSQL;
    on SQLite the write transaction itself is exclusive) and the job looked for again, so
    the second request answers with the first one's job instead of printing a second paper.
    """
    ticket = ticket_by_token(view.token)
    if job == ISSUE:
        db.session.execute(sa.select(Ticket.id).where(Ticket.id == ticket.id).with_for_update())
        if has_job(ticket.id):
            state = current_state(ticket, kiosk)
            db.session.commit()
            return state
    cfg = printers.printer_config(kiosk)
    if printer_off(cfg):
        db.session.commit()  # end the read (and SQLite's write lock) at once
        return PrintState(STATE_OFF, job=job)
    key = printers.printer_key(kiosk)
    now = ensure_now(None)
    try:
        receipt = printers.build_receipt(view, hall_name, unit_name, reprint=job == REPRINT)
        data = printers.encode_ticket(receipt, cfg)
    except Exception as exc:  # a broken printer setup must never cost the citizen the number
        log.exception("could not render the receipt of %s", view.code)
        db.session.rollback()
        failed = _new_job(ticket, key, kiosk, job, b"", now)
        message = f"{PRINT_FAILED_TEXT} ({exc})"
        return _conclude(failed, PrintJobState.FAILED, "render_error", message, now)
    _new_job(ticket, key, kiosk, job, data, now)
    db.session.commit()
    return PrintState(STATE_PRINTING, job=job)


def _new_job(
    ticket: Ticket, key: str, kiosk: str | None, kind: str, data: bytes, now: dt.datetime
) -> PrintJob:
    job = PrintJob(
        ticket_id=ticket.id,
        site_id=ticket.site_id,
        area_id=ticket.area_id,
        printer=key,
        kiosk=kiosk,
        kind=kind,
        data=data,
        state=PrintJobState.QUEUED.value,
        attempts=0,
        alert=False,
        created_at=now,
    )
    db.session.add(job)
    db.session.flush()
    return job


def has_job(ticket_id: int) -> bool:
    """Whether a ticket ever had a print job (a retried tap after a crash may have none)."""
    found = db.session.scalar(sa.select(PrintJob.id).where(PrintJob.ticket_id == ticket_id))
    return found is not None


def _state_of(job: PrintJob) -> PrintState:
    state = _STATE_OF_JOB[PrintJobState(job.state)]
    if state != STATE_FAILED:
        return PrintState(state, job=job.kind)
    return PrintState(
        STATE_FAILED,
        job.error_code,
        job.message or str(PRINT_FAILED_TEXT),
        job.kind,
        staff_told=job.alert or job.alert_closed_at is not None,
    )


def current_state(ticket: Ticket, kiosk: str | None) -> PrintState:
    """Where the ticket's latest print job stands."""
    job = db.session.scalar(
        sa.select(PrintJob).where(PrintJob.ticket_id == ticket.id).order_by(PrintJob.id.desc())
    )
    if job is None:
        if printer_off(printers.printer_config(kiosk or ticket.kiosk)):
            return PrintState(STATE_OFF)
        return PrintState(STATE_PRINTING, job=ISSUE)
    return _state_of(job)


@transactional
def print_state(token: str) -> PrintState:
    """Where the ticket's latest print job stands (for polling kiosks)."""
    ticket = ticket_by_token(token)
    return current_state(ticket, ticket.kiosk)


@transactional
def record_print_result(
    token: str,
    *,
    ok: bool,
    error_code: str | None = None,
    message: str | None = None,
    kiosk: str | None = None,
    job: str = ISSUE,
    confirmed: bool = True,
    now: dt.datetime | None = None,
) -> PrintState:
    """Record the outcome of a print made outside the queue (a kit, an import, a test) as a
    concluded job: ticket event, staff alert on failure, ``print_status`` fact."""
    now = ensure_now(now)
    ticket = ticket_by_token(token)
    row = _new_job(ticket, printers.printer_key(kiosk), kiosk, job, b"", now)
    if ok:
        state = PrintJobState.PRINTED if confirmed else PrintJobState.SENT
        return _conclude(row, state, None, None, now)
    return _conclude(row, PrintJobState.FAILED, error_code or "print_error", message, now)


# --------------------------------------------------------------------------- the worker's side


def _insert_ignore(table: Any, **values: Any) -> Any:
    """INSERT … ON CONFLICT DO NOTHING for the dialect in use."""
    name = db.session.get_bind().dialect.name
    dialect_insert = postgresql.insert if name == "postgresql" else sqlite.insert
    return dialect_insert(table).values(**values).on_conflict_do_nothing()


@transactional
def unfinished_jobs() -> int:
    """How many jobs are queued, claimed or printing."""
    busy = (PrintJobState.QUEUED, PrintJobState.CLAIMED, PrintJobState.PRINTING)
    count = db.session.scalar(
        sa.select(sa.func.count(PrintJob.id)).where(PrintJob.state.in_([s.value for s in busy]))
    )
    db.session.commit()
    return int(count or 0)


@transactional
def printers_with_work(*, now: dt.datetime | None = None) -> list[str]:
    """Printers with a queued job, or a job whose claimer's lease ran out (a dead process)."""
    now = ensure_now(now)
    stale = sa.and_(
        PrintJob.state.in_((PrintJobState.CLAIMED.value, PrintJobState.PRINTING.value)),
        PrintJob.lease_until < now,
    )
    rows = db.session.scalars(
        sa.select(PrintJob.printer)
        .where(sa.or_(PrintJob.state == PrintJobState.QUEUED.value, stale))
        .distinct()
    )
    keys = list(rows)
    db.session.commit()
    return keys


@transactional
def acquire_lease(
    printer: str, holder: str, seconds: float, *, now: dt.datetime | None = None
) -> Pace | None:
    """Take the printer for ``seconds`` if it is free, expired, or already ours; its pace."""
    now = ensure_now(now)
    db.session.execute(_insert_ignore(PrinterLease, printer=printer))
    taken = db.session.execute(
        sa.update(PrinterLease)
        .where(
            PrinterLease.printer == printer,
            sa.or_(
                PrinterLease.holder.is_(None),
                PrinterLease.until < now,
                PrinterLease.holder == holder,
            ),
        )
        .values(holder=holder, until=now + dt.timedelta(seconds=seconds))
    )
    if taken.rowcount != 1:  # type: ignore[attr-defined]
        db.session.rollback()
        return None
    pace = db.session.scalar(sa.select(PrinterLease.pace).where(PrinterLease.printer == printer))
    db.session.commit()
    return Pace.from_dict(pace)


@transactional
def release_lease(printer: str, holder: str, pace: Pace | None = None) -> None:
    """Give the printer back (keeping what was learned of its pace)."""
    values: dict[str, Any] = {"holder": None, "until": None}
    if pace is not None:
        values["pace"] = pace.as_dict()
    db.session.execute(
        sa.update(PrinterLease)
        .where(PrinterLease.printer == printer, PrinterLease.holder == holder)
        .values(**values)
    )
    db.session.commit()


@transactional
def recover_stale(printer: str, holder: str, *, now: dt.datetime | None = None) -> int:
    """Jobs a dead process left on a printer we now hold: back to the queue if they never
    reached the printer, else failed as interrupted (staff told). Returns how many."""
    now = ensure_now(now)
    back = db.session.execute(
        sa.update(PrintJob)
        .where(
            PrintJob.printer == printer,
            PrintJob.state == PrintJobState.CLAIMED.value,
            PrintJob.claimed_by != holder,
        )
        .values(state=PrintJobState.QUEUED.value, claimed_by=None, lease_until=None)
    ).rowcount  # type: ignore[attr-defined]
    db.session.commit()
    cut = list(
        db.session.scalars(
            sa.select(PrintJob.id).where(
                PrintJob.printer == printer,
                PrintJob.state == PrintJobState.PRINTING.value,
                PrintJob.claimed_by != holder,
            )
        )
    )
    db.session.commit()
    for job_id in cut:
        job = db.session.get(PrintJob, job_id)
        if job is None or job.state != PrintJobState.PRINTING.value:
            continue
        log.warning("print job %s was interrupted: its process stopped while printing", job.uuid)
        _conclude(job, PrintJobState.FAILED, "interrupted", MESSAGES["interrupted"], now)
    return int(back) + len(cut)


@transactional
def claim_next(
    printer: str,
    holder: str,
    budget_s: float,
    *,
    max_age_s: float | None = None,
    now: dt.datetime | None = None,
) -> ClaimedJob | None:
    """Claim the printer's oldest queued job for ``budget_s`` (lease renewed to match)."""
    now = ensure_now(now)
    until = now + dt.timedelta(seconds=budget_s)
    renewed = db.session.execute(
        sa.update(PrinterLease)
        .where(PrinterLease.printer == printer, PrinterLease.holder == holder)
        .values(until=until)
    )
    if renewed.rowcount != 1:  # type: ignore[attr-defined]
        db.session.rollback()
        log.warning("lost the lease of printer %r", printer)
        return None
    job_id = db.session.scalar(
        sa.select(PrintJob.id)
        .where(PrintJob.printer == printer, PrintJob.state == PrintJobState.QUEUED.value)
        .order_by(PrintJob.id)
        .limit(1)
        .with_for_update(skip_locked=True)
    )
    if job_id is None:
        db.session.commit()
        return None
    taken = db.session.execute(
        sa.update(PrintJob)
        .where(PrintJob.id == job_id, PrintJob.state == PrintJobState.QUEUED.value)
        .values(
            state=PrintJobState.CLAIMED.value,
            claimed_by=holder,
            lease_until=until,
            attempts=PrintJob.attempts + 1,
        )
    )
    if taken.rowcount != 1:  # type: ignore[attr-defined]
        db.session.rollback()
        return None
    job = db.session.get(PrintJob, job_id, populate_existing=True)
    assert job is not None
    ticket = db.session.get(Ticket, job.ticket_id)
    assert ticket is not None
    if max_age_s is None:
        max_age_s = float(current_app.config.get("PRINT_MAX_AGE_S", DEFAULT_MAX_AGE_S))
    claimed = ClaimedJob(
        id=job.id,
        uuid=job.uuid,
        printer=job.printer,
        kiosk=job.kiosk,
        name=f"{ticket.business_day:%Y%m%d}-{ticket.code}-{job.kind}-{job.uuid[:6]}",
        data=bytes(job.data),
        expired=(now - job.created_at).total_seconds() > max_age_s,
    )
    db.session.commit()
    return claimed


@transactional
def mark_printing(job_id: int, holder: str) -> bool:
    """claimed → printing, just before the first byte goes out; False if not ours any more."""
    moved = db.session.execute(
        sa.update(PrintJob)
        .where(
            PrintJob.id == job_id,
            PrintJob.state == PrintJobState.CLAIMED.value,
            PrintJob.claimed_by == holder,
        )
        .values(state=PrintJobState.PRINTING.value)
    )
    db.session.commit()
    return bool(moved.rowcount == 1)  # type: ignore[attr-defined]


@transactional
def conclude(
    job_id: int,
    holder: str,
    *,
    ok: bool,
    confirmed: bool,
    error_code: str | None,
    message: str | None,
    pace: Pace | None = None,
    now: dt.datetime | None = None,
) -> PrintState | None:
    """End a job we hold (claimed or printing): printed, sent or failed, exactly once.

    None when the job is no longer ours (another process took the printer over): nothing is
    recorded twice.
    """
    now = ensure_now(now)
    if ok:
        state = PrintJobState.PRINTED if confirmed else PrintJobState.SENT
    else:
        state = PrintJobState.FAILED
    ours = db.session.execute(
        sa.update(PrintJob)
        .where(
            PrintJob.id == job_id,
            PrintJob.state.in_((PrintJobState.CLAIMED.value, PrintJobState.PRINTING.value)),
            PrintJob.claimed_by == holder,
        )
        .values(state=PrintJobState.PRINTING.value)  # a no-op claim on the row, in this tx
    )
    if ours.rowcount != 1:  # type: ignore[attr-defined]
        db.session.rollback()
        log.warning("print job %s is no longer ours; its outcome is not recorded", job_id)
        return None
    job = db.session.get(PrintJob, job_id, populate_existing=True)
    assert job is not None
    if pace is not None:
        db.session.execute(
            sa.update(PrinterLease)
            .where(PrinterLease.printer == job.printer)
            .values(pace=pace.as_dict())
        )
    return _conclude(job, state, error_code, message, now)


def _conclude(
    job: PrintJob,
    state: PrintJobState,
    error_code: str | None,
    message: str | None,
    now: dt.datetime,
) -> PrintState:
    """Write the job's end, the ticket event and the alerts; commit; publish ``print_status``."""
    ticket = db.session.get(Ticket, job.ticket_id)
    assert ticket is not None
    job.state = state.value
    job.finished_at = now
    job.lease_until = None
    job.data = b""  # kept small: a reprint renders a new receipt (marked IN LẠI)
    failed = state == PrintJobState.FAILED
    if failed:
        job.error_code = (error_code or "print_error")[:32]
        job.message = (message or str(PRINT_FAILED_TEXT))[:300]
    closed = _close_alerts(ticket.id, "superseded" if failed else "reprinted", now, job.id)
    job.alert = failed
    detail: dict[str, Any] = {"job": job.kind, "kiosk": job.kiosk, "print_job": job.uuid}
    if failed:
        detail.update(error_code=job.error_code, message=job.message)
    db.session.add(
        TicketEvent(
            ticket_id=ticket.id,
            site_id=ticket.site_id,
            kind=_EVENT_OF_JOB[state],
            at=now,
            area_id=ticket.area_id,
            detail=detail,
        )
    )
    seq = bump_seq(ticket.site_id)
    area = db.session.get(ServiceArea, job.area_id)
    fact_ticket = {
        "token": ticket.token,
        "uuid": ticket.uuid,
        "code": ticket.code,
        "area_name": ticket.area.name,
        "area_prefix": area.prefix if area else None,
    }
    site_id, kiosk = ticket.site_id, job.kiosk or ticket.kiosk
    opened = alert_view(job, ticket, area) if failed else None
    db.session.commit()
    result = _state_of(job)
    realtime.publish(
        site_id,
        "print_status",
        {
            "seq": seq,
            "ticket": fact_ticket,
            "kiosk": kiosk,
            "alert": failed,
            "alert_opened": opened,
            "alerts_closed": closed,
            **result.as_dict(),
        },
    )
    if failed:
        log.warning(
            "printing ticket %s at kiosk %s failed: %s %s",
            fact_ticket["code"],
            kiosk,
            job.error_code,
            job.message,
        )
    return result


def _close_alerts(ticket_id: int, resolution: str, now: dt.datetime, keep: int) -> list[str]:
    """Close a ticket's open alerts (but job ``keep``'s); their job uuids."""
    rows = list(
        db.session.scalars(
            sa.select(PrintJob).where(
                PrintJob.ticket_id == ticket_id, PrintJob.alert.is_(True), PrintJob.id != keep
            )
        )
    )
    for row in rows:
        row.alert = False
        row.alert_closed_at = now
        row.alert_resolution = resolution
    return [row.uuid for row in rows]
