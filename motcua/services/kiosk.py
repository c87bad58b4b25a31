"""The kiosk's services: issue and reprint a number, the start screen, a ticket's public status.

``issue_at_kiosk`` commits the ticket (through ``tickets.issue_ticket``), then queues its receipt
as a print job (``print_jobs.submit``) and returns at once: printing never blocks or loses a
ticket. What a screen says in words (the status headline, the QR drawing) is the kiosk
surface's job (``kiosk/screens.py``); these functions return plain data.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import replace
from typing import Any

import sqlalchemy as sa
from flask import current_app
from flask_babel import lazy_gettext as _l

from db import db
from db.models import AppointmentRule, Site, Ticket, TicketEvent
from motcua.errors import ReprintNotAllowed
from motcua.services import catalog, hours, print_jobs, scopes, tickets
from motcua.services.common import QueuePolicy, current_policy, get_site, transactional
from motcua.services.print_jobs import REPRINT, PrintState, status_url
from motcua.services.sites import install_site_code
from motcua.services.tickets import TicketView
from motcua.timeutil import ensure_now, local


def _window_s() -> int:
    return int(current_app.config.get("KIOSK_REPRINT_WINDOW_S", 120))


def _kiosk_body(view: TicketView, state: PrintState, *, reprints_left: int) -> dict[str, Any]:
    """What the kiosk shows after a tap (the surface adds the QR drawing)."""
    body = view.as_dict()
    body["status_url"] = status_url(view.token)
    until = view.issued_at + dt.timedelta(seconds=_window_s())
    return {
        "ticket": body,
        "print": state.as_dict(),
        "reprint_until": until.isoformat(),
        "reprints_left": reprints_left,
    }


def _reprints_left(events: list[TicketEvent]) -> int:
    used = sum(1 for e in events if e.kind == REPRINT and (e.detail or {}).get("by") == "kiosk")
    return max(0, int(current_app.config.get("KIOSK_REPRINT_MAX", 2)) - used)


@transactional
def issue_at_kiosk(
    service: str,
    *,
    priority: str | None = None,
    idempotency_key: str | None = None,
    kiosk: str | None = None,
    device: tickets.IssuingDevice | None = None,
    actor_id: int | None = None,
    site_code: str | None = None,
    now: dt.datetime | None = None,
    policy: QueuePolicy | None = None,
    queued_at: dt.datetime | None = None,
) -> dict[str, Any]:
    """Issue a number at a kiosk (the issuing rules are ``tickets.issue_ticket``'s), then queue
    its receipt on that kiosk's printer; never waits on paper. A paired kiosk (``device``)
    prints on its own printer, whatever name the page asked for."""
    now = ensure_now(now)
    kiosk = print_jobs.check_kiosk_name(kiosk) if device is None else None
    # A paired kiosk issues (and prints the hall's name) for the site it was bound to.
    site = get_site((device.site_code if device is not None else None) or site_code)
    hall_name, unit_name = site.name, site.unit_name
    view = tickets.issue_ticket(
        service,
        priority=priority,
        idempotency_key=idempotency_key,
        site_code=site.code,
        kiosk=kiosk,
        device=device,
        actor_id=actor_id,
        now=now,
        policy=policy,
        queued_at=queued_at,
    )
    if device is not None:
        kiosk = device.name
    if view.created:
        left = int(current_app.config.get("KIOSK_REPRINT_MAX", 2))
    else:
        ticket = print_jobs.ticket_by_token(view.token)
        left = _reprints_left(print_jobs.print_events(ticket.id))
    # A retried tap gets the first tap's job; if the first tap's process stopped between the
    # ticket and its job, the job is queued now (``submit`` queues one issue job per ticket).
    state = print_jobs.submit(view, hall_name, unit_name, kiosk, print_jobs.ISSUE)
    return _kiosk_body(view, state, reprints_left=left)


@transactional
def ticket_again(token: str, *, kiosk: str | None = None) -> dict[str, Any]:
    """The kiosk's answer for a ticket already issued (a repeated check-in): no new print."""
    ticket = print_jobs.ticket_by_token(token)
    view = tickets.ticket_status(token)
    state = print_jobs.current_state(ticket, kiosk)
    left = _reprints_left(print_jobs.print_events(ticket.id))
    return _kiosk_body(replace(view, created=False), state, reprints_left=left)


@transactional
def reprint_at_kiosk(
    token: str,
    *,
    idempotency_key: str | None = None,
    kiosk: str | None = None,
    device: tickets.IssuingDevice | None = None,
    actor_id: int | None = None,
    now: dt.datetime | None = None,
) -> dict[str, Any]:
    """Print a ticket again from the kiosk, shortly after issue; a retried tap prints once.

    The device scope is issuing's (``tickets.check_issuer``): a paired kiosk prints on its own
    printer; with REQUIRE_DEVICE_PAIRING an unpaired screen cannot print.
    """
    now = ensure_now(now)
    kiosk = tickets.check_issuer(device, actor_id) or print_jobs.check_kiosk_name(kiosk)
    ticket = print_jobs.ticket_by_token(token)
    events = print_jobs.print_events(ticket.id)
    key = (idempotency_key or "").strip()[:128] or None
    if key and any(e.kind == REPRINT and (e.detail or {}).get("key") == key for e in events):
        return {
            "print": print_jobs.current_state(ticket, kiosk).as_dict(),
            "reprints_left": _reprints_left(events),
        }
    if ticket.status not in tickets.OPEN_STATUSES:
        raise ReprintNotAllowed(status=ticket.status)
    if now - ticket.issued_at > dt.timedelta(seconds=_window_s()):
        raise ReprintNotAllowed(reason="window")
    if _reprints_left(events) <= 0:
        raise ReprintNotAllowed(
            _l("Vé đã được in lại đủ số lần cho phép. Vui lòng liên hệ cán bộ hướng dẫn."),
            reason="limit",
        )
    return _reprint(
        ticket, now, kiosk or ticket.kiosk, {"by": "kiosk", "key": key, "kiosk": kiosk}, events
    )


@transactional
def reprint_by_staff(
    token: str, *, actor_id: int | None, kiosk: str | None = None, now: dt.datetime | None = None
) -> dict[str, Any]:
    """Print a ticket again at any time, by an officer or administrator."""
    now = ensure_now(now)
    kiosk = print_jobs.check_kiosk_name(kiosk)
    ticket = print_jobs.ticket_by_token(token)
    scopes.check_site(actor_id, ticket.site_id)
    return _reprint(
        ticket,
        now,
        kiosk or ticket.kiosk,
        {"by": "staff", "actor_id": actor_id, "kiosk": kiosk or ticket.kiosk},
        print_jobs.print_events(ticket.id),
        actor_id=actor_id,
    )


def _reprint(
    ticket: Ticket,
    now: dt.datetime,
    kiosk: str | None,
    detail: dict[str, Any],
    events: list[TicketEvent],
    *,
    actor_id: int | None = None,
) -> dict[str, Any]:
    """Log the reprint request, commit, then queue the receipt marked IN LẠI."""
    db.session.add(
        TicketEvent(
            ticket_id=ticket.id,
            site_id=ticket.site_id,
            kind=REPRINT,
            at=now,
            actor_id=actor_id,
            area_id=ticket.area_id,
            detail=detail,
        )
    )
    hall_name, unit_name, token = ticket.site.name, ticket.site.unit_name, ticket.token
    db.session.commit()
    view = tickets.ticket_status(token)
    state = print_jobs.submit(view, hall_name, unit_name, kiosk, REPRINT)
    left = _reprints_left([*events, TicketEvent(kind=REPRINT, detail=detail)])
    return {
        "ticket": {**view.as_dict(), "status_url": status_url(token)},
        "print": state.as_dict(),
        "reprints_left": left,
    }


@transactional
def kiosk_home(
    *, kiosk: str | None = None, site_code: str | None = None, now: dt.datetime | None = None
) -> dict[str, Any]:
    """The kiosk's start screen: hall, areas with waiting and estimates, priority, hours."""
    now = ensure_now(now)
    kiosk = print_jobs.check_kiosk_name(kiosk)
    site = get_site(site_code or install_site_code())
    site_info = {"id": site.id, "code": site.code, "name": site.name, "unit_name": site.unit_name}
    seq = site.seq
    policy = current_policy(site.id)
    services = catalog.list_services(site_code=site.code, now=now)
    is_open_now = hours.is_open(now, site.id)
    print_jobs.warm_up()
    print_jobs.start_worker(current_app._get_current_object())  # type: ignore[attr-defined]
    return {
        "site": site_info,
        "seq": seq,
        "kiosk": kiosk,
        "services": services,
        "priority_categories": [
            {"code": k, "label": v} for k, v in policy.priority_categories.items()
        ],
        "open": is_open_now,
        "appointments": _takes_appointments(site.id),
        "hours_text": hours.hours_text(site.id),
        "closed_message": None if is_open_now else hours.closed_message(now, site.id),
        "reprint_window_s": _window_s(),
        "idle_timeout_s": int(current_app.config.get("KIOSK_IDLE_TIMEOUT_S", 30)),
        "printer": str(print_jobs.printer_config(kiosk).get("backend")),
        "now": now.isoformat(),
    }


def _takes_appointments(site_id: int) -> bool:
    """Whether any area of the site takes bookings or numbers from home (the kiosk's button)."""
    rule = db.session.scalar(
        sa.select(AppointmentRule.id)
        .where(
            AppointmentRule.site_id == site_id,
            sa.or_(AppointmentRule.offered.is_(True), AppointmentRule.remote.is_(True)),
        )
        .limit(1)
    )
    return rule is not None


@transactional
def ticket_snapshot(token: str) -> dict[str, Any]:
    """A status page's snapshot: the ticket and the site ``seq`` it is exact at."""
    site_id = print_jobs.ticket_by_token(token).site_id
    seq = db.session.scalar(sa.select(Site.seq).where(Site.id == site_id))
    return {"seq": int(seq or 0), "ticket": public_ticket(token)}


@transactional
def public_ticket(token: str) -> dict[str, Any]:
    """A ticket's public status (what the QR opens): its view, hall and serving counters."""
    view = tickets.ticket_status(token)
    site = get_site(view.site_code)
    body = view.as_dict()
    body.update(
        status_url=status_url(token),
        issued_local=local(view.issued_at).strftime("%H:%M %d/%m/%Y"),
        hall_name=site.name,
        unit_name=site.unit_name,
        counters_text=", ".join(str(n) for n in view.serving_counters),
    )
    return body
