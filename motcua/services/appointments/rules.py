"""Booking rules per area and site, and the slots they make."""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Mapping
from dataclasses import asdict, dataclass
from typing import Any

import sqlalchemy as sa

from db import db
from db.models import (
    AppointmentRule,
    AppointmentSlot,
    Counter,
    ServiceArea,
    Site,
    Ticket,
)
from motcua.errors import (
    AppointmentsNotOffered,
    ServiceNotFound,
    ValidationFailed,
)
from motcua.services import hours, scopes
from motcua.services.common import get_site, transactional
from motcua.services.settings import clean_working_hours, effective, hours_by_day
from motcua.timeutil import HALL_TZ, business_day, ensure_now, local

log = logging.getLogger(__name__)


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


def find_area(area_code: str) -> ServiceArea:
    """An active area by its code or prefix (any case); ServiceNotFound otherwise."""
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
    area = find_area(area_code)
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
    scopes.check_site(actor_id, site.id)  # a site administrator sets only their sites' rules
    area = find_area(area_code)
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


def slot_times(
    rule: RuleView, site_id: int, now: dt.datetime
) -> list[tuple[dt.datetime, dt.datetime]]:
    """Every slot (start, end) from today to ``days_ahead`` that has not started yet.

    A slot booked from home is a time to come to the hall: one already under way (its
    check-in still open for APPOINTMENT_LATE_MIN) is not offered, or a citizen could book a
    place whose check-in closes seconds later."""
    spec = rule.hours or effective("WORKING_HOURS", site_id=site_id)
    if not spec:
        return []
    try:
        spans = hours.parse_working_hours(spec)
    except (ValueError, AttributeError, TypeError):
        log.exception("booking hours are invalid: %r", spec)
        return []
    length = dt.timedelta(minutes=rule.slot_minutes)
    today = business_day(now)
    out: list[tuple[dt.datetime, dt.datetime]] = []
    for offset in range(rule.days_ahead + 1):
        day = today + dt.timedelta(days=offset)
        for start, end in spans.get(day.weekday(), []):
            at = dt.datetime.combine(day, start, tzinfo=HALL_TZ)
            stop = dt.datetime.combine(day, end, tzinfo=HALL_TZ)
            while at + length <= stop:
                if at.astimezone(dt.UTC) > now:
                    out.append((at.astimezone(dt.UTC), (at + length).astimezone(dt.UTC)))
                at += length
    return out


def offered_rule(area: ServiceArea, site: Site, *, remote: bool = False) -> RuleView:
    """The area's rule at the site if it takes bookings (``remote``: numbers from home)."""
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
    area = find_area(area_code)
    rule = offered_rule(area, site)
    slots = slot_times(rule, site.id, now)
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
    area = find_area(area_code)
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
