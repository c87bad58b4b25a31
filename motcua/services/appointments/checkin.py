"""Check-in at the kiosk: the window, the placement by the hall's policy, the words."""

from __future__ import annotations

import datetime as dt
import logging
from dataclasses import replace
from typing import Any

import sqlalchemy as sa
from flask_babel import lazy_gettext as _l

from db import db
from db.models import (
    REMOTE_BOOKING,
    SLOT_BOOKING,
    Appointment,
    AppointmentStatus,
    ServiceArea,
    Ticket,
)
from motcua.errors import (
    AppointmentNotFound,
    CheckInRefused,
    IdempotencyKeyReused,
)
from motcua.services import kiosk
from motcua.services.appointments.booking import booking_body, normalize_code, settle_lapsed
from motcua.services.common import current_policy, get_site, transactional
from motcua.services.settings import effective
from motcua.services.tickets import IssuingDevice
from motcua.services.tickets.views import APPOINTMENT_PRIORITY
from motcua.timeutil import ensure_now, local

log = logging.getLogger(__name__)


def _fmt_local(at: dt.datetime, now: dt.datetime) -> str:
    here = local(at)
    return f"{here:%H:%M}" if here.date() == local(now).date() else f"{here:%H:%M %d/%m/%Y}"


def _refuse(appt: Appointment, area: ServiceArea, now: dt.datetime) -> CheckInRefused | None:
    """Why this booking cannot be checked in now (None: it can)."""
    details = {"service": area.code, "area_name": area.name, "code": appt.code}
    if appt.status == AppointmentStatus.CANCELLED:
        return CheckInRefused(
            _l("Lịch hẹn %(code)s đã được hủy. Mời Ông/Bà lấy số thường.", code=appt.code),
            reason="cancelled",
            **details,
        )
    if appt.status != AppointmentStatus.BOOKED or appt.expires_at < now:
        if appt.kind == REMOTE_BOOKING:
            message = _l(
                "Số lấy từ xa %(code)s đã hết hiệu lực lúc %(until)s. Mời Ông/Bà lấy số thường.",
                code=appt.code,
                until=_fmt_local(appt.expires_at, now),
            )
        else:
            message = _l(
                "Ông/Bà đến muộn: lịch hẹn %(code)s chỉ được xác nhận đến %(until)s. "
                "Mời Ông/Bà lấy số thường.",
                code=appt.code,
                until=_fmt_local(appt.expires_at, now),
            )
        return CheckInRefused(message, reason="late", **details)
    if appt.slot_start is not None:
        early = dt.timedelta(minutes=int(effective("APPOINTMENT_EARLY_MIN", 15)))
        opens = appt.slot_start - early
        if now < opens:
            return CheckInRefused(
                _l(
                    "Ông/Bà đến sớm: lịch hẹn %(code)s lúc %(time)s. Mời quay lại xác nhận "
                    "từ %(opens)s, hoặc lấy số thường ngay bây giờ.",
                    code=appt.code,
                    time=_fmt_local(appt.slot_start, now),
                    opens=_fmt_local(opens, now),
                ),
                reason="early",
                opens_at=opens.isoformat(),
                **details,
            )
    return None


@transactional
def check_in(
    code: str,
    *,
    kiosk_name: str | None = None,
    device: IssuingDevice | None = None,
    actor_id: int | None = None,
    site_code: str | None = None,
    now: dt.datetime | None = None,
) -> dict[str, Any]:
    """Check a booking in at a kiosk by its code: within its window, a ticket placed by the
    hall's policy (the kiosk's answer, receipt queued); early or late, ``CheckInRefused``
    naming the area (the kiosk offers a normal number). A repeated check-in (a double scan)
    answers with the same ticket."""
    now = ensure_now(now)
    site = get_site(site_code)
    appt = db.session.scalar(
        sa.select(Appointment).where(
            Appointment.code == normalize_code(code), Appointment.site_id == site.id
        )
    )
    if appt is None:
        raise AppointmentNotFound(code=normalize_code(code)[:12])
    area = db.session.get_one(ServiceArea, appt.area_id)
    if appt.status == AppointmentStatus.CHECKED_IN and appt.ticket_id is not None:
        ticket = db.session.get_one(Ticket, appt.ticket_id)
        return {**kiosk.ticket_again(ticket.token), "appointment": booking_body(appt, area, None)}
    refused = _refuse(appt, area, now)
    if refused is not None:
        if appt.status == AppointmentStatus.BOOKED and appt.expires_at < now:
            settle_lapsed(now=now)
        raise refused
    policy = current_policy(site.id)
    priority = None
    if appt.kind == SLOT_BOOKING and effective("APPOINTMENT_QUEUE", "priority") == "priority":
        priority = APPOINTMENT_PRIORITY
        categories = {**policy.priority_categories, APPOINTMENT_PRIORITY: str(_l("Có lịch hẹn"))}
        policy = replace(policy, priority_categories=categories)
    key, appt_id = f"appointment:{appt.uuid}", appt.id
    queued_at = appt.created_at if appt.kind == REMOTE_BOOKING else None
    try:
        answer = kiosk.issue_at_kiosk(
            area.code,
            priority=priority,
            idempotency_key=key,
            kiosk=kiosk_name,
            device=device,
            actor_id=actor_id,
            site_code=site.code,
            now=now,
            policy=policy,
            queued_at=queued_at,
        )
    except IdempotencyKeyReused:
        # Checked in a moment ago from another kiosk: that ticket.
        db.session.rollback()
        ticket_id = db.session.scalar(
            sa.select(Appointment.ticket_id).where(Appointment.id == appt_id)
        )
        if ticket_id is None:
            raise
        ticket = db.session.get_one(Ticket, ticket_id)
        appt = db.session.get_one(Appointment, appt_id)
        return {**kiosk.ticket_again(ticket.token), "appointment": booking_body(appt, area, None)}
    ticket_id = db.session.scalar(
        sa.select(Ticket.id).where(Ticket.token == answer["ticket"]["token"])
    )
    db.session.execute(
        sa.update(Appointment)
        .where(Appointment.id == appt_id, Appointment.status == AppointmentStatus.BOOKED.value)
        .values(status=AppointmentStatus.CHECKED_IN.value, checked_in_at=now, ticket_id=ticket_id)
    )
    appt = db.session.get_one(Appointment, appt_id)
    db.session.refresh(appt)
    body = booking_body(appt, area, None)
    db.session.commit()
    return {**answer, "appointment": body}
