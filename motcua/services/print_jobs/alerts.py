"""Staff alerts for unprinted tickets: open until the ticket prints or an officer dismisses it.

A failed job carries the alert (``PrintJob.alert``, raised by ``jobs._conclude``). The counter
consoles of the areas it belongs to, the leaders' live view and the admin device page list the
open ones; ``print_status`` facts carry ``alert_opened`` / ``alerts_closed`` so screens follow
them live.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import sqlalchemy as sa

from db import db
from db.models import PrintJob, Ticket
from motcua import realtime
from motcua.errors import NotFound
from motcua.services import audit, scopes
from motcua.services.common import bump_seq, transactional
from motcua.services.print_alerts import open_alerts as open_alerts
from motcua.services.print_jobs.jobs import _state_of
from motcua.services.tickets.verbs import check_actor
from motcua.timeutil import ensure_now

#: Who may dismiss an alert: anyone who works the hall.
STAFF_ROLES = ("officer", "leader", "admin")


@transactional
def dismiss_alert(
    alert_id: str, *, actor_id: int | None, actor: str = "", now: dt.datetime | None = None
) -> dict[str, Any]:
    """An officer handled an unprinted ticket another way: close its alert, audited."""
    now = ensure_now(now)
    check_actor(actor_id, STAFF_ROLES)
    job = db.session.scalar(sa.select(PrintJob).where(PrintJob.uuid == alert_id))
    if job is None or not job.alert:
        raise NotFound(print_alert=alert_id)
    ticket = db.session.get(Ticket, job.ticket_id)
    assert ticket is not None
    scopes.check_site(actor_id, ticket.site_id)  # staff of the ticket's site
    job.alert = False
    job.alert_closed_at = now
    job.alert_closed_by = actor_id
    job.alert_resolution = "dismissed"
    audit.record(
        "print_alert_dismissed",
        actor_id=actor_id,
        actor=actor,
        target=ticket.code,
        details={"print_job": job.uuid, "kiosk": job.kiosk, "error_code": job.error_code},
        now=now,
    )
    seq = bump_seq(ticket.site_id)
    state = _state_of(job)
    fact = {
        "seq": seq,
        "ticket": {"uuid": ticket.uuid, "code": ticket.code, "area_name": ticket.area.name},
        "kiosk": job.kiosk or ticket.kiosk,
        "alert": False,
        "alert_opened": None,
        "alerts_closed": [job.uuid],
        **state.as_dict(),
    }
    site_id = ticket.site_id
    db.session.commit()
    realtime.publish(site_id, "print_status", fact)
    return {"id": alert_id, "ticket": fact["ticket"], "seq": seq}
