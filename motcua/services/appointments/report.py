"""The leaders' report: bookings, check-ins and no-shows per area."""

from __future__ import annotations

import datetime as dt
import logging
from typing import Any

import sqlalchemy as sa

from db import db
from db.models import (
    Appointment,
    AppointmentStatus,
    ServiceArea,
)
from motcua.services.common import get_site, transactional
from motcua.timeutil import ensure_now

log = logging.getLogger(__name__)


def appointment_counts(
    session: Any, start: dt.date, end: dt.date, site_ids: list[int] | None, now: dt.datetime
) -> list[dict[str, Any]]:
    """Per area, bookings of business days start..end (slots and numbers from home): made,
    checked in, no-shows (a booking past its check-in deadline, a lapsed hold included),
    cancelled, at the given sites (None: all). A pure read on the given session (the reports
    read on their own)."""
    status = Appointment.status
    missed = sa.or_(
        status.in_([AppointmentStatus.NO_SHOW.value, AppointmentStatus.LAPSED.value]),
        sa.and_(status == AppointmentStatus.BOOKED.value, Appointment.expires_at < now),
    )
    where = [Appointment.business_day >= start, Appointment.business_day <= end]
    if site_ids is not None:  # None: every site
        where.append(Appointment.site_id.in_(site_ids))
    rows = session.execute(
        sa.select(
            ServiceArea.code,
            ServiceArea.prefix,
            ServiceArea.name,
            sa.func.count(),
            sa.func.sum(sa.case((status == AppointmentStatus.CHECKED_IN.value, 1), else_=0)),
            sa.func.sum(sa.case((missed, 1), else_=0)),
            sa.func.sum(sa.case((status == AppointmentStatus.CANCELLED.value, 1), else_=0)),
        )
        .join(ServiceArea, ServiceArea.id == Appointment.area_id)
        .where(*where)
        .group_by(ServiceArea.code, ServiceArea.prefix, ServiceArea.name, ServiceArea.sort_order)
        .order_by(ServiceArea.sort_order, ServiceArea.prefix)
    ).all()
    return [
        {
            "area_code": code,
            "area_prefix": prefix,
            "area_name": name,
            "bookings": int(total),
            "checked_in": int(checked or 0),
            "no_shows": int(no_show or 0),
            "cancelled": int(cancelled or 0),
        }
        for code, prefix, name, total, checked, no_show, cancelled in rows
    ]


@transactional
def appointment_report(
    start: dt.date,
    end: dt.date,
    *,
    site_code: str | None = None,
    now: dt.datetime | None = None,
) -> list[dict[str, Any]]:
    """Per area at the site: bookings, check-ins, no-shows, cancellations."""
    site = get_site(site_code)
    return appointment_counts(db.session, start, end, [site.id], ensure_now(now))
