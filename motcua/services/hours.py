"""Working hours: when the hall gives numbers, and the words that say so.

``WORKING_HOURS`` (a setting, per site) reads like ``{"mon-fri": ["07:30-11:30", "13:30-17:00"]}``.
No hours (or unreadable ones) means always open: a typo must not leave citizens without a number.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Mapping
from typing import Any

from flask_babel import lazy_gettext as _l

from motcua.errors import OutsideWorkingHours
from motcua.services.settings import effective
from motcua.timeutil import local

log = logging.getLogger(__name__)

DAY_KEYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
DAY_NAMES = (
    _l("Thứ Hai"),
    _l("Thứ Ba"),
    _l("Thứ Tư"),
    _l("Thứ Năm"),
    _l("Thứ Sáu"),
    _l("Thứ Bảy"),
    _l("Chủ nhật"),
)

Spans = dict[int, list[tuple[dt.time, dt.time]]]


def _parse_days(key: str) -> list[int]:
    """'mon-fri' → [0..4]; 'sat' → [5]; 'mon,wed' → [0, 2]; 'daily' → all."""
    key = key.strip().lower()
    if key in ("daily", "all", "mon-sun"):
        return list(range(7))
    days: list[int] = []
    for part in key.split(","):
        part = part.strip()
        if "-" in part:
            first, last = (DAY_KEYS.index(p.strip()) for p in part.split("-", 1))
            days += list(range(first, last + 1))
        else:
            days.append(DAY_KEYS.index(part))
    return days


def _parse_span(text: str) -> tuple[dt.time, dt.time]:
    start, end = (dt.time.fromisoformat(p.strip()) for p in text.split("-", 1))
    if end <= start:
        raise ValueError(f"empty working-hours span {text!r}")
    return start, end


def parse_working_hours(spec: Mapping[str, Any] | None) -> Spans:
    """WORKING_HOURS ({"mon-fri": ["07:30-11:30", ...]}) → weekday → sorted spans."""
    out: Spans = {}
    for key, spans in (spec or {}).items():
        parsed = [_parse_span(s) for s in spans]
        for day in _parse_days(key):
            out.setdefault(day, []).extend(parsed)
    return {day: sorted(spans) for day, spans in out.items()}


def _hours(site_id: int | None = None) -> Spans | None:
    """The site's hours in force, or None (always open) when unset or unreadable."""
    spec = effective("WORKING_HOURS", site_id=site_id)
    if not spec:
        return None
    try:
        return parse_working_hours(spec)
    except (ValueError, AttributeError, TypeError):
        # A typo in the settings must not leave citizens without a number.
        log.exception("WORKING_HOURS is invalid; the hall stays open: %r", spec)
        return None


def _fmt(t: dt.time) -> str:
    return t.strftime("%H:%M")


def hours_text(site_id: int | None = None) -> str:
    """The working hours in Vietnamese, e.g. 'Thứ Hai – Thứ Sáu: 07:30–11:30, 13:30–17:00'."""
    spec = effective("WORKING_HOURS", site_id=site_id) or {}
    parts: list[str] = []
    for key, spans in spec.items():
        try:
            days = _parse_days(key)
            times = ", ".join(f"{_fmt(a)}–{_fmt(b)}" for a, b in map(_parse_span, spans))
        except (ValueError, AttributeError):
            continue
        if len(days) > 1 and days == list(range(days[0], days[-1] + 1)):
            label = f"{DAY_NAMES[days[0]]} – {DAY_NAMES[days[-1]]}"
        else:
            label = ", ".join(str(DAY_NAMES[d]) for d in days)
        parts.append(f"{label}: {times}")
    return "; ".join(parts)


def is_open(now: dt.datetime, site_id: int | None = None) -> bool:
    """True when the hall receives citizens at this instant (always, if no hours are set)."""
    hours = _hours(site_id)
    if hours is None:
        return True
    here = local(now)
    t = here.time().replace(tzinfo=None)
    return any(a <= t < b for a, b in hours.get(here.weekday(), []))


def next_opening(now: dt.datetime, site_id: int | None = None) -> dt.datetime | None:
    """The next start of a working span after ``now`` (hall time), within a week."""
    hours = _hours(site_id)
    if not hours:
        return None
    here = local(now)
    for offset in range(8):
        day = here.date() + dt.timedelta(days=offset)
        for start, _end in hours.get(day.weekday(), []):
            at = dt.datetime.combine(day, start, tzinfo=here.tzinfo)
            if at > here:
                return at
    return None


def closed_message(now: dt.datetime, site_id: int | None = None) -> str:
    """'Ngoài giờ làm việc … Mời quay lại lúc 13:30 hôm nay.'"""
    text = str(OutsideWorkingHours.message)
    opening = next_opening(now, site_id)
    if opening is not None:
        here = local(now)
        if opening.date() == here.date():
            when = _l("%(time)s hôm nay", time=_fmt(opening.time()))
        elif opening.date() == here.date() + dt.timedelta(days=1):
            when = _l(
                "%(time)s ngày mai (%(day)s)",
                time=_fmt(opening.time()),
                day=DAY_NAMES[opening.weekday()],
            )
        else:
            when = _l(
                "%(time)s %(day)s, ngày %(date)s",
                time=_fmt(opening.time()),
                day=DAY_NAMES[opening.weekday()],
                date=opening.strftime("%d/%m"),
            )
        text += " " + str(_l("Mời Ông/Bà quay lại lúc %(when)s.", when=when))
    return text


def check_open(now: dt.datetime, site_id: int | None = None) -> None:
    """Raise OutsideWorkingHours (with the next opening and the hours) when the hall is closed."""
    if not is_open(now, site_id):
        raise OutsideWorkingHours(closed_message(now, site_id), hours=hours_text(site_id))
