"""Time helpers: store UTC, count business days and show times in Asia/Ho_Chi_Minh."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

HALL_TZ = ZoneInfo("Asia/Ho_Chi_Minh")


def utcnow() -> dt.datetime:
    """The current time, aware, in UTC."""
    return dt.datetime.now(dt.UTC)


def ensure_now(now: dt.datetime | None) -> dt.datetime:
    """``now`` if given (must be aware), else the current UTC time."""
    if now is None:
        return utcnow()
    if now.tzinfo is None:
        raise ValueError("now must be timezone-aware")
    return now.astimezone(dt.UTC)


def business_day(now: dt.datetime) -> dt.date:
    """The hall's calendar day for an instant."""
    return now.astimezone(HALL_TZ).date()


def local(now: dt.datetime) -> dt.datetime:
    """An instant in the hall's time zone."""
    return now.astimezone(HALL_TZ)
