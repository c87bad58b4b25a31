"""Open staff alerts of unprinted tickets, as the screens show them (read side only).

Kept apart from ``print_jobs`` so that the console's snapshot (``tickets.counter_state``) and the
leaders' live view can read them without importing the print job machinery, which needs the
tickets service.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import sqlalchemy as sa
from flask_babel import lazy_gettext as _l

from db import db
from db.models import PrintJob, ServiceArea, Ticket
from motcua.timeutil import local

PRINT_FAILED_TEXT = _l("Máy in gặp sự cố.")


def open_alerts(
    *,
    site_id: int | None = None,
    area_ids: Iterable[int] | None = None,
    kiosk: str | None = None,
) -> list[dict[str, Any]]:
    """Open alerts, oldest first: of a site, of some areas (a counter's), of one kiosk."""
    query = (
        sa.select(PrintJob, Ticket, ServiceArea)
        .join(Ticket, Ticket.id == PrintJob.ticket_id)
        .join(ServiceArea, ServiceArea.id == PrintJob.area_id)
        .where(PrintJob.alert.is_(True))
        .order_by(PrintJob.id)
    )
    if site_id is not None:
        query = query.where(PrintJob.site_id == site_id)
    if area_ids is not None:
        query = query.where(PrintJob.area_id.in_(list(area_ids)))
    if kiosk is not None:
        query = query.where(
            sa.or_(
                PrintJob.kiosk == kiosk, sa.and_(PrintJob.kiosk.is_(None), Ticket.kiosk == kiosk)
            )
        )
    return [alert_view(job, ticket, area) for job, ticket, area in db.session.execute(query)]


def alert_view(job: PrintJob, ticket: Ticket, area: ServiceArea | None) -> dict[str, Any]:
    """An open alert as the screens show it: which ticket, which kiosk, why, since when."""
    at = job.finished_at or job.created_at
    return {
        "id": job.uuid,
        "ticket": {
            "uuid": ticket.uuid,
            "code": ticket.code,
            "area_name": area.name if area else "",
            "area_prefix": area.prefix if area else None,
        },
        "kiosk": job.kiosk or ticket.kiosk,
        "printer": job.printer,
        "job": job.kind,
        "error_code": job.error_code,
        "message": job.message or str(PRINT_FAILED_TEXT),
        "at": at.isoformat(),
        "at_local": f"{local(at):%H:%M}",
    }
