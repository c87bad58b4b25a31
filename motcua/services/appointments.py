"""Appointments and numbers taken from home: every booking rule lives here.

Two kinds of booking (``Appointment.kind``), both shown to their holder as a short code
(6 characters from an alphabet without 0/O/1/I) and a QR of that code:

- **slot** (``book``): a slot of an area on a day, within the area's booking rules at the site
  (``AppointmentRule``: offered, slot length, capacity per slot, hours, days ahead). Places are
  counted per slot in ``appointment_slots`` and taken with one atomic
  ``INSERT … ON CONFLICT DO UPDATE … WHERE taken < capacity RETURNING`` (SQLite and
  PostgreSQL alike), so the last place goes to exactly one of two concurrent bookings.
  Check-in (``check_in``) is accepted from ``APPOINTMENT_EARLY_MIN`` before the slot's start
  to ``APPOINTMENT_LATE_MIN`` after it; the ticket it issues is placed by the hall's policy:
  ``APPOINTMENT_QUEUE = "priority"`` gives it the priority lane (``PRIORITY_POLICY`` then puts
  it first, or one after every N normal tickets: the same mechanism as priority citizens),
  ``"normal"`` makes it join the queue at check-in. After the window the booking is a no-show.
- **remote** (``take_remote``, "lấy số từ xa"): a place held in today's queue of an area, from
  home, while the hall is open. The rule: the hold is **not** in the queue — no counter can call
  it and nobody's people-ahead count includes it — until its holder checks in at a kiosk with
  the code, within ``REMOTE_HOLD_MINUTES`` of taking it. At check-in a normal ticket is issued
  whose place in the queue is the moment the hold was taken (``queued_at``): citizens who took
  a number after that moment are behind it; numbers already called are not affected. After the
  deadline the hold lapses and the kiosk offers a normal number.

Abuse is bounded without personal data: the address and the browser (a random cookie) of a
booking are kept only as keyed hashes of the day (``limit_key``), enough to count bookings per
day (``APPOINTMENT_MAX_PER_ADDRESS``, ``APPOINTMENT_MAX_PER_BROWSER``) and useless otherwise;
slots have a capacity; holds and bookings that are not checked in lapse (``settle_lapsed``).
The holder's cancel token is shown once and stored only as its SHA-256.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import logging
import secrets
from collections.abc import Mapping
from dataclasses import asdict, dataclass, replace
from typing import Any, cast

import sqlalchemy as sa
from flask import current_app
from flask_babel import lazy_gettext as _l
from sqlalchemy.dialects import postgresql, sqlite

from db import db
from db.models import (
    REMOTE_BOOKING,
    SLOT_BOOKING,
    Appointment,
    AppointmentRule,
    AppointmentSlot,
    AppointmentStatus,
    Counter,
    ServiceArea,
    Site,
    Ticket,
)
from motcua.errors import (
    AppointmentClosed,
    AppointmentNotFound,
    AppointmentsNotOffered,
    CheckInRefused,
    IdempotencyKeyReused,
    ServiceNotFound,
    SlotUnavailable,
    TooManyBookings,
    ValidationFailed,
)
from motcua.services import hours, kiosk
from motcua.services.common import current_policy, dialect_name, get_site, transactional
from motcua.services.settings import clean_working_hours, effective, hours_by_day
from motcua.services.tickets import IssuingDevice
from motcua.services.tickets.views import APPOINTMENT_PRIORITY
from motcua.timeutil import HALL_TZ, business_day, ensure_now, local

log = logging.getLogger(__name__)

#: Booking codes: easy to read aloud and to type (no 0/O, 1/I).
CODE_ALPHABET = "23456789ABCDEFGHJKLMNPQRSTUVWXYZ"
CODE_LENGTH = 6
MAX_DAYS_AHEAD = 60
MAX_SLOT_MINUTES = 240
MAX_CAPACITY = 500


@dataclass(frozen=True)
class RuleView:
    """An area's booking rules at a site (defaults when the hall set none)."""

    area_code: str
    area_prefix: str
    area_name: str
    offered: bool
    remote: bool
    slot_minutes: int
    capacity: int
    hours: dict[str, list[str]] | None
    days_ahead: int

    def as_dict(self) -> dict[str, Any]:
        """Plain JSON-able data."""
        return asdict(self)

    def form_data(self) -> dict[str, Any]:
        """The admin form's values: the rule, and its hours as one line per weekday."""
        per_day = hours_by_day(self.hours) if self.hours else {}
        return {**self.as_dict(), **{f"hours_{d}": v for d, v in per_day.items()}}


@dataclass(frozen=True)
class SlotView:
    """A bookable slot and its free places."""

    starts_at: dt.datetime
    ends_at: dt.datetime
    free: int

    def as_dict(self) -> dict[str, Any]:
        """Plain JSON-able data (times in ISO 8601, plus the hall's local day and time)."""
        here = local(self.starts_at)
        return {
            "starts_at": self.starts_at.isoformat(),
            "ends_at": self.ends_at.isoformat(),
            "day": here.date().isoformat(),
            "date_text": day_text(here.date()),
            "time": f"{here:%H:%M}–{local(self.ends_at):%H:%M}",
            "free": self.free,
        }


def day_text(day: dt.date) -> str:
    """'Thứ Ba, 24/11/2026'."""
    return f"{hours.DAY_NAMES[day.weekday()]}, {day:%d/%m/%Y}"


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


# --------------------------------------------------------------------------- rules


def _area(area_code: str) -> ServiceArea:
    code = (area_code or "").strip().lower()
    area = db.session.scalar(
        sa.select(ServiceArea).where(
            sa.or_(
                sa.func.lower(ServiceArea.code) == code, sa.func.lower(ServiceArea.prefix) == code
            ),
            ServiceArea.active.is_(True),
        )
    )
    if area is None:
        raise ServiceNotFound(service=area_code)
    return area


def _served_area_ids(site_id: int) -> set[int]:
    """Areas some active counter of the site serves (the site offers those)."""
    counters = db.session.scalars(
        sa.select(Counter).where(Counter.site_id == site_id, Counter.active.is_(True))
    )
    return {a.id for c in counters for a in c.areas}


def _rule_view(area: ServiceArea, rule: AppointmentRule | None) -> RuleView:
    return RuleView(
        area_code=area.code,
        area_prefix=area.prefix,
        area_name=area.name,
        offered=bool(rule and rule.offered),
        remote=bool(rule and rule.remote),
        slot_minutes=rule.slot_minutes if rule else 15,
        capacity=rule.capacity if rule else 2,
        hours=rule.hours if rule else None,
        days_ahead=rule.days_ahead if rule else 7,
    )


def _rule(site_id: int, area_id: int) -> AppointmentRule | None:
    return db.session.scalar(
        sa.select(AppointmentRule).where(
            AppointmentRule.site_id == site_id, AppointmentRule.area_id == area_id
        )
    )


@transactional
def booking_rules(*, site_code: str | None = None) -> list[RuleView]:
    """Every area the site serves, with its booking rules (the admin's list)."""
    site = get_site(site_code)
    served = _served_area_ids(site.id)
    rules = {
        r.area_id: r
        for r in db.session.scalars(
            sa.select(AppointmentRule).where(AppointmentRule.site_id == site.id)
        )
    }
    areas = db.session.scalars(
        sa.select(ServiceArea)
        .where(ServiceArea.active.is_(True))
        .order_by(ServiceArea.sort_order, ServiceArea.prefix)
    )
    return [_rule_view(a, rules.get(a.id)) for a in areas if a.id in served]


@transactional
def booking_rule(area_code: str, *, site_code: str | None = None) -> RuleView:
    """One area's booking rules at the site."""
    site = get_site(site_code)
    area = _area(area_code)
    return _rule_view(area, _rule(site.id, area.id))


@transactional
def save_rule(
    area_code: str,
    *,
    offered: bool,
    remote: bool,
    slot_minutes: int,
    capacity: int,
    hours_spec: Mapping[str, Any] | None,
    days_ahead: int,
    site_code: str | None = None,
    actor_id: int | None = None,
    now: dt.datetime | None = None,
) -> RuleView:
    """Set an area's booking rules at the site: hours like WORKING_HOURS, or {day: "08:00-11:00,
    …"} per weekday as the admin form sends them; none: the site's working hours."""
    from motcua.services import audit

    now = ensure_now(now)
    if hours_spec and any(isinstance(v, str) for v in hours_spec.values()):
        hours_spec = clean_working_hours(hours_spec)
    if not 5 <= slot_minutes <= MAX_SLOT_MINUTES:
        raise ValidationFailed(field="slot_minutes")
    if not 1 <= capacity <= MAX_CAPACITY:
        raise ValidationFailed(field="capacity")
    if not 0 <= days_ahead <= MAX_DAYS_AHEAD:
        raise ValidationFailed(field="days_ahead")
    if hours_spec:
        try:
            hours.parse_working_hours(hours_spec)
        except (ValueError, AttributeError, TypeError) as exc:
            raise ValidationFailed(field="hours") from exc
    site = get_site(site_code)
    area = _area(area_code)
    rule = _rule(site.id, area.id)
    if rule is None:
        rule = AppointmentRule(site_id=site.id, area_id=area.id)
        db.session.add(rule)
    rule.offered, rule.remote = offered, remote
    rule.slot_minutes, rule.capacity, rule.days_ahead = slot_minutes, capacity, days_ahead
    rule.hours = dict(hours_spec) if hours_spec else None
    rule.updated_at = now
    audit.record(
        "appointment_rules",
        actor_id=actor_id,
        target=f"{site.code}:{area.code}",
        details={"offered": offered, "remote": remote, "capacity": capacity},
        now=now,
    )
    view = _rule_view(area, rule)
    db.session.commit()
    return view


# --------------------------------------------------------------------------- slots


def _slot_starts(
    rule: RuleView, site_id: int, now: dt.datetime
) -> list[tuple[dt.datetime, dt.datetime]]:
    """Every slot (start, end) from today to ``days_ahead`` still open for check-in."""
    spec = rule.hours or effective("WORKING_HOURS", site_id=site_id)
    if not spec:
        return []
    try:
        spans = hours.parse_working_hours(spec)
    except (ValueError, AttributeError, TypeError):
        log.exception("booking hours are invalid: %r", spec)
        return []
    late = dt.timedelta(minutes=int(effective("APPOINTMENT_LATE_MIN", 10)))
    length = dt.timedelta(minutes=rule.slot_minutes)
    today = business_day(now)
    out: list[tuple[dt.datetime, dt.datetime]] = []
    for offset in range(rule.days_ahead + 1):
        day = today + dt.timedelta(days=offset)
        for start, end in spans.get(day.weekday(), []):
            at = dt.datetime.combine(day, start, tzinfo=HALL_TZ)
            stop = dt.datetime.combine(day, end, tzinfo=HALL_TZ)
            while at + length <= stop:
                if at.astimezone(dt.UTC) + late > now:
                    out.append((at.astimezone(dt.UTC), (at + length).astimezone(dt.UTC)))
                at += length
    return out


def _offered_rule(area: ServiceArea, site: Site, *, remote: bool = False) -> RuleView:
    rule = _rule_view(area, _rule(site.id, area.id))
    if area.id not in _served_area_ids(site.id) or not (rule.remote if remote else rule.offered):
        raise AppointmentsNotOffered(service=area.code)
    return rule


@transactional
def bookable_areas(*, site_code: str | None = None) -> list[dict[str, Any]]:
    """Areas that take bookings or numbers from home at the site (the booking page's list)."""
    return [
        {
            "code": r.area_code,
            "prefix": r.area_prefix,
            "name": r.area_name,
            "slots": r.offered,
            "remote": r.remote,
        }
        for r in booking_rules(site_code=site_code)
        if r.offered or r.remote
    ]


@transactional
def free_slots(
    area_code: str, *, site_code: str | None = None, now: dt.datetime | None = None
) -> list[SlotView]:
    """The area's slots with a free place, from now to its days ahead."""
    now = ensure_now(now)
    site = get_site(site_code)
    area = _area(area_code)
    rule = _offered_rule(area, site)
    slots = _slot_starts(rule, site.id, now)
    if not slots:
        return []
    taken = dict(
        db.session.execute(
            sa.select(AppointmentSlot.starts_at, AppointmentSlot.taken).where(
                AppointmentSlot.site_id == site.id,
                AppointmentSlot.area_id == area.id,
                AppointmentSlot.starts_at >= slots[0][0],
            )
        ).all()
    )
    return [
        SlotView(start, end, rule.capacity - taken.get(start, 0))
        for start, end in slots
        if rule.capacity - taken.get(start, 0) > 0
    ]


@transactional
def hall_names(*, site_code: str | None = None) -> dict[str, str]:
    """The hall's name and unit, for the booking pages' heading."""
    site = get_site(site_code)
    return {"name": site.name, "unit_name": site.unit_name}


@transactional
def booking_page(
    area_code: str, *, site_code: str | None = None, now: dt.datetime | None = None
) -> dict[str, Any]:
    """An area's booking page: its free slots, and whether a number from home can be taken now
    (with the number of people waiting in the area)."""
    now = ensure_now(now)
    site = get_site(site_code)
    area = _area(area_code)
    rule = _rule_view(area, _rule(site.id, area.id))
    if area.id not in _served_area_ids(site.id) or not (rule.offered or rule.remote):
        raise AppointmentsNotOffered(service=area.code)
    slots = free_slots(area.code, site_code=site.code, now=now) if rule.offered else []
    waiting = db.session.scalar(
        sa.select(sa.func.count()).where(
            Ticket.site_id == site.id,
            Ticket.area_id == area.id,
            Ticket.business_day == business_day(now),
            Ticket.status == "waiting",
        )
    )
    return {
        "area": {"code": area.code, "prefix": area.prefix, "name": area.name},
        "hall": {"name": site.name, "unit_name": site.unit_name},
        "slots_offered": rule.offered,
        "slots": [s.as_dict() for s in slots],
        "remote": rule.remote,
        "remote_open": rule.remote and hours.is_open(now, site.id),
        "remote_hold_minutes": int(effective("REMOTE_HOLD_MINUTES", 60)),
        "waiting_now": int(waiting or 0),
    }


# --------------------------------------------------------------------------- booking


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


def _booking_body(appt: Appointment, area: ServiceArea, token: str | None) -> dict[str, Any]:
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
    body = _booking_body(appt, area, token)
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
    area = _area(area_code)
    rule = _offered_rule(area, site)
    starts_at = starts_at.astimezone(dt.UTC) if starts_at.tzinfo else starts_at
    slot = next((s for s in _slot_starts(rule, site.id, now) if s[0] == starts_at), None)
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
    area = _area(area_code)
    _offered_rule(area, site, remote=True)
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
    return _booking_body(appt, db.session.get_one(ServiceArea, appt.area_id), None)


@transactional
def cancel(token: str, *, now: dt.datetime | None = None) -> dict[str, Any]:
    """Cancel by the holder (the token shown once at booking); frees the slot's place."""
    now = ensure_now(now)
    appt = _by_token(token)
    area = db.session.get_one(ServiceArea, appt.area_id)
    if appt.status == AppointmentStatus.CANCELLED:
        return _booking_body(appt, area, None)
    if appt.status != AppointmentStatus.BOOKED or appt.expires_at < now:
        raise AppointmentClosed(status=appt.status)
    appt.status, appt.ended_at = AppointmentStatus.CANCELLED.value, now
    if appt.slot_start is not None:
        _free_place(appt.site_id, appt.area_id, appt.slot_start)
    body = _booking_body(appt, area, None)
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


# --------------------------------------------------------------------------- check-in


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
        return {**kiosk.ticket_again(ticket.token), "appointment": _booking_body(appt, area, None)}
    refused = _refuse(appt, area, now)
    if refused is not None:
        if appt.status == AppointmentStatus.BOOKED and appt.expires_at < now:
            settle_lapsed(now=now)
        raise refused
    policy = current_policy()
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
        return {**kiosk.ticket_again(ticket.token), "appointment": _booking_body(appt, area, None)}
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
    body = _booking_body(appt, area, None)
    db.session.commit()
    return {**answer, "appointment": body}


# --------------------------------------------------------------------------- report


def appointment_counts(
    session: Any, start: dt.date, end: dt.date, site_id: int | None, now: dt.datetime
) -> list[dict[str, Any]]:
    """Per area, bookings of business days start..end (slots and numbers from home): made,
    checked in, no-shows (a booking past its check-in deadline, a lapsed hold included),
    cancelled. A pure read on the given session (the reports read on their own)."""
    status = Appointment.status
    missed = sa.or_(
        status.in_([AppointmentStatus.NO_SHOW.value, AppointmentStatus.LAPSED.value]),
        sa.and_(status == AppointmentStatus.BOOKED.value, Appointment.expires_at < now),
    )
    where = [Appointment.business_day >= start, Appointment.business_day <= end]
    if site_id is not None:
        where.append(Appointment.site_id == site_id)
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
    return appointment_counts(db.session, start, end, site.id, ensure_now(now))
