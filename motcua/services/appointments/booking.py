"""Booking a slot, taking a number from home, cancelling, and ending what lapsed."""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import logging
import secrets
from typing import Any, cast

import sqlalchemy as sa
from flask import current_app
from sqlalchemy.dialects import postgresql, sqlite

from db import db
from db.models import (
    REMOTE_BOOKING,
    SLOT_BOOKING,
    Appointment,
    AppointmentSlot,
    AppointmentStatus,
    ServiceArea,
    Site,
    Ticket,
)
from motcua.errors import (
    AppointmentClosed,
    AppointmentNotFound,
    SlotUnavailable,
    TooManyBookings,
)
from motcua.services import hours
from motcua.services.appointments.rules import day_text, find_area, offered_rule, slot_times
from motcua.services.common import dialect_name, get_site, transactional
from motcua.services.settings import effective
from motcua.timeutil import HALL_TZ, business_day, ensure_now, local

log = logging.getLogger(__name__)

#: Booking codes: easy to read aloud and to type (no 0/O, 1/I).
CODE_ALPHABET = "23456789ABCDEFGHJKLMNPQRSTUVWXYZ"
CODE_LENGTH = 6


def normalize_code(code: str) -> str:
    """A typed or scanned code as stored: upper case, spaces and dashes dropped."""
    return "".join(ch for ch in (code or "").upper() if ch.isalnum())


def _token_hash(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def limit_key(kind: str, value: str | None, day: dt.date) -> str | None:
    """A keyed hash of an address or browser id for one day (no way back to the value)."""
    if not value:
        return None
    secret = str(current_app.config.get("SECRET_KEY") or "").encode("utf-8")
    message = f"{kind}|{day.isoformat()}|{value}".encode()
    return hmac.new(secret, message, hashlib.sha256).hexdigest()


_SLOTS = cast(sa.Table, AppointmentSlot.__table__)


def _take_place(site_id: int, area_id: int, starts_at: dt.datetime, capacity: int) -> bool:
    """Take one place of a slot if one is free: one atomic statement on both databases."""
    insert = postgresql.insert if dialect_name() == "postgresql" else sqlite.insert
    values = insert(_SLOTS).values(site_id=site_id, area_id=area_id, starts_at=starts_at, taken=1)
    stmt = values.on_conflict_do_update(
        index_elements=[_SLOTS.c.site_id, _SLOTS.c.area_id, _SLOTS.c.starts_at],
        set_={"taken": _SLOTS.c.taken + 1},
        where=_SLOTS.c.taken < capacity,
    ).returning(_SLOTS.c.taken)
    return db.session.execute(stmt).first() is not None


def _free_place(site_id: int, area_id: int, starts_at: dt.datetime) -> None:
    db.session.execute(
        sa.update(_SLOTS)
        .where(
            _SLOTS.c.site_id == site_id,
            _SLOTS.c.area_id == area_id,
            _SLOTS.c.starts_at == starts_at,
            _SLOTS.c.taken > 0,
        )
        .values(taken=_SLOTS.c.taken - 1)
    )


def _check_limits(address_key: str | None, browser_key: str | None, day: dt.date) -> None:
    """Bookings and holds made today from this address / browser, against the limits."""
    for column, key, setting in (
        (Appointment.address_key, address_key, "APPOINTMENT_MAX_PER_ADDRESS"),
        (Appointment.browser_key, browser_key, "APPOINTMENT_MAX_PER_BROWSER"),
    ):
        if key is None:
            continue
        made = db.session.scalar(sa.select(sa.func.count()).where(column == key)) or 0
        if made >= int(effective(setting, 2)):
            raise TooManyBookings(limit=setting.rsplit("_", 1)[-1].lower())


def _new_code() -> str:
    """A fresh booking code not in use."""
    for _ in range(20):
        code = "".join(secrets.choice(CODE_ALPHABET) for _ in range(CODE_LENGTH))
        if db.session.scalar(sa.select(Appointment.id).where(Appointment.code == code)) is None:
            return code
    raise RuntimeError("no free booking code after 20 tries")


def booking_body(appt: Appointment, area: ServiceArea, token: str | None) -> dict[str, Any]:
    """What the holder sees (the cancel token only when just made)."""
    body: dict[str, Any] = {
        "code": appt.code,
        "kind": appt.kind,
        "status": appt.status,
        "area_code": area.code,
        "area_name": area.name,
        "day": appt.business_day.isoformat(),
        "date_text": day_text(appt.business_day),
        "starts_at": appt.slot_start.isoformat() if appt.slot_start else None,
        "ends_at": appt.slot_end.isoformat() if appt.slot_end else None,
        "time": (
            f"{local(appt.slot_start):%H:%M}–{local(appt.slot_end):%H:%M}"
            if appt.slot_start and appt.slot_end
            else None
        ),
        "check_in_until": appt.expires_at.isoformat(),
        "check_in_until_local": f"{local(appt.expires_at):%H:%M %d/%m/%Y}",
    }
    if token is not None:
        body["token"] = token
    return body


def _insert_booking(
    site: Site,
    area: ServiceArea,
    kind: str,
    now: dt.datetime,
    *,
    slot: tuple[dt.datetime, dt.datetime] | None,
    expires_at: dt.datetime,
    address_key: str | None,
    browser_key: str | None,
    source: str,
) -> dict[str, Any]:
    token = secrets.token_urlsafe(24)
    appt = Appointment(
        code=_new_code(),
        token_hash=_token_hash(token),
        site_id=site.id,
        area_id=area.id,
        kind=kind,
        business_day=business_day(slot[0] if slot else now),
        slot_start=slot[0] if slot else None,
        slot_end=slot[1] if slot else None,
        status=AppointmentStatus.BOOKED.value,
        created_at=now,
        expires_at=expires_at,
        address_key=address_key,
        browser_key=browser_key,
        source=source,
    )
    db.session.add(appt)
    db.session.flush()
    body = booking_body(appt, area, token)
    db.session.commit()
    return body


@transactional
def book(
    area_code: str,
    starts_at: dt.datetime,
    *,
    address: str | None = None,
    browser: str | None = None,
    limited: bool = True,
    source: str = "web",
    site_code: str | None = None,
    now: dt.datetime | None = None,
) -> dict[str, Any]:
    """Book a place in a slot; its code, cancel token (shown once) and times.

    ``limited`` (the public page, anonymous REST) counts the day's bookings per address and
    browser; a signed-in caller (the province's portal with its token) books for many people.
    """
    now = ensure_now(now)
    site = get_site(site_code)
    area = find_area(area_code)
    rule = offered_rule(area, site)
    starts_at = starts_at.astimezone(dt.UTC) if starts_at.tzinfo else starts_at
    slot = next((s for s in slot_times(rule, site.id, now) if s[0] == starts_at), None)
    if slot is None:
        raise SlotUnavailable(starts_at=starts_at.isoformat())
    day = business_day(now)
    keys = (limit_key("a", address, day), limit_key("b", browser, day)) if limited else (None, None)
    _check_limits(*keys, day)
    if not _take_place(site.id, area.id, slot[0], rule.capacity):
        db.session.rollback()
        raise SlotUnavailable(starts_at=starts_at.isoformat())
    late = dt.timedelta(minutes=int(effective("APPOINTMENT_LATE_MIN", 10)))
    return _insert_booking(
        site,
        area,
        SLOT_BOOKING,
        now,
        slot=slot,
        expires_at=slot[0] + late,
        address_key=keys[0],
        browser_key=keys[1],
        source=source,
    )


@transactional
def take_remote(
    area_code: str,
    *,
    address: str | None = None,
    browser: str | None = None,
    limited: bool = True,
    source: str = "web",
    site_code: str | None = None,
    now: dt.datetime | None = None,
) -> dict[str, Any]:
    """Hold a place in today's queue from home (see the module's rule); its code and deadline."""
    now = ensure_now(now)
    site = get_site(site_code)
    area = find_area(area_code)
    offered_rule(area, site, remote=True)
    hours.check_open(now, site.id)
    day = business_day(now)
    keys = (limit_key("a", address, day), limit_key("b", browser, day)) if limited else (None, None)
    _check_limits(*keys, day)
    hold = dt.timedelta(minutes=int(effective("REMOTE_HOLD_MINUTES", 60)))
    end_of_day = dt.datetime.combine(day + dt.timedelta(days=1), dt.time(), tzinfo=HALL_TZ)
    expires_at = min(now + hold, end_of_day.astimezone(dt.UTC) - dt.timedelta(seconds=1))
    waiting = db.session.scalar(
        sa.select(sa.func.count()).where(
            Ticket.site_id == site.id,
            Ticket.area_id == area.id,
            Ticket.business_day == day,
            Ticket.status == "waiting",
        )
    )
    body = _insert_booking(
        site,
        area,
        REMOTE_BOOKING,
        now,
        slot=None,
        expires_at=expires_at,
        address_key=keys[0],
        browser_key=keys[1],
        source=source,
    )
    return {**body, "waiting_now": int(waiting or 0)}


def _by_token(token: str) -> Appointment:
    appt = db.session.scalar(
        sa.select(Appointment).where(Appointment.token_hash == _token_hash(token or ""))
    )
    if appt is None:
        raise AppointmentNotFound()
    return appt


@transactional
def booking_by_token(token: str, *, now: dt.datetime | None = None) -> dict[str, Any]:
    """The holder's view of a booking (the booking page after booking)."""
    settle_lapsed(now=now)
    appt = _by_token(token)
    return booking_body(appt, db.session.get_one(ServiceArea, appt.area_id), None)


@transactional
def cancel(token: str, *, now: dt.datetime | None = None) -> dict[str, Any]:
    """Cancel by the holder (the token shown once at booking); frees the slot's place."""
    now = ensure_now(now)
    appt = _by_token(token)
    area = db.session.get_one(ServiceArea, appt.area_id)
    if appt.status == AppointmentStatus.CANCELLED:
        return booking_body(appt, area, None)
    if appt.status != AppointmentStatus.BOOKED or appt.expires_at < now:
        raise AppointmentClosed(status=appt.status)
    appt.status, appt.ended_at = AppointmentStatus.CANCELLED.value, now
    if appt.slot_start is not None:
        _free_place(appt.site_id, appt.area_id, appt.slot_start)
    body = booking_body(appt, area, None)
    db.session.commit()
    return body


@transactional
def settle_lapsed(*, now: dt.datetime | None = None) -> int:
    """End the bookings whose check-in deadline passed: slots → no-show, holds → lapsed."""
    now = ensure_now(now)
    ended = 0
    for kind, status in (
        (SLOT_BOOKING, AppointmentStatus.NO_SHOW),
        (REMOTE_BOOKING, AppointmentStatus.LAPSED),
    ):
        result = db.session.execute(
            sa.update(Appointment)
            .where(
                Appointment.status == AppointmentStatus.BOOKED.value,
                Appointment.kind == kind,
                Appointment.expires_at < now,
            )
            .values(status=status.value, ended_at=now)
        )
        ended += int(getattr(result, "rowcount", 0) or 0)
    db.session.commit()
    return ended
