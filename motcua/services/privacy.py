"""Personal data: what is kept, how long, and the masking of numbers typed into free text.

Vietnam's Personal Data Protection Law (2025) and Decree 13/2023/NĐ-CP ask for the least data,
kept no longer than needed. A queue ticket needs no name at all; what can be personal is what
staff or citizens type: the dossier code (mã hồ sơ) entered at the finish, transfer notes,
cancel reasons and rating comments. So:

- phone numbers and 9/12-digit ID numbers typed into free text are masked before they are
  written (``mask_personal``; setting ``MASK_PERSONAL_TEXT``, on by default);
- after ``RETENTION_DAYS`` (default 90) ``purge`` erases the dossier codes, notes, reasons and
  comments of older business days, and the keyed hashes of the address and browser that
  booked an appointment (kept only to bound bookings per day). The tickets, their times,
  areas, counters, officers and rating levels stay as anonymous statistics: every report
  stays exact.

``purge`` runs from ``motcua purge`` and from the server's housekeeping loop.
"""

from __future__ import annotations

import datetime as dt
import logging
import re
from dataclasses import asdict, dataclass
from typing import Any, cast

import sqlalchemy as sa
from flask_babel import lazy_gettext as _l

from db import db
from db.models import Appointment, Rating, Ticket, TicketEvent
from motcua.services import audit, scopes, settings
from motcua.services.transactions import transactional
from motcua.timeutil import business_day, ensure_now

log = logging.getLogger(__name__)

DEFAULT_RETENTION_DAYS = 90
#: Keys of a ticket event's detail that hold typed text or a dossier code.
PERSONAL_DETAIL_KEYS = frozenset({"dossier_code", "note", "reason", "comment"})
#: What replaces a masked number.
MASK = "[số đã ẩn]"
# 9 to 12 digits, maybe grouped by single spaces, dots or dashes, maybe after +84: a phone
# number (10-11 digits), an old ID card (CMND, 9) or a citizen ID (CCCD, 12). Times, dates,
# amounts under a billion and ticket numbers have fewer digits.
_NUMBER = re.compile(r"(?<![\w+])(?:\+\s?84[\s.\-]?)?\d(?:[\s.\-]?\d){8,11}(?!\w)")

TICKETS = cast(sa.Table, Ticket.__table__)
EVENTS = cast(sa.Table, TicketEvent.__table__)
RATINGS = cast(sa.Table, Rating.__table__)


def mask_personal(text: str | None) -> str | None:
    """``text`` with phone and ID numbers replaced by ``MASK`` (when MASK_PERSONAL_TEXT is on)."""
    if not text or not settings.effective("MASK_PERSONAL_TEXT", True):
        return text
    return _NUMBER.sub(MASK, text)


def retention_days() -> int:
    """How many days dossier codes, notes and comments are kept (at least 1)."""
    value = settings.effective("RETENTION_DAYS", DEFAULT_RETENTION_DAYS)
    try:
        return max(1, int(value))
    except (TypeError, ValueError):
        return DEFAULT_RETENTION_DAYS


@dataclass(frozen=True)
class PurgeResult:
    """What one purge erased, and the first business day it kept."""

    kept_from: dt.date
    tickets: int
    events: int
    ratings: int
    appointments: int = 0  # bookings whose address and browser hashes were erased

    def as_dict(self) -> dict[str, Any]:
        """JSON-friendly dict."""
        out = asdict(self)
        out["kept_from"] = self.kept_from.isoformat()
        return out


@dataclass(frozen=True)
class RetentionPolicy:
    """What the "Dữ liệu cá nhân" page shows: the settings and what is held now."""

    days: int
    masking: bool
    kept_from: dt.date
    tickets_with_dossier: int
    comments: int
    due: int  # records older than the retention still holding personal data
    last_purge: dt.datetime | None


def _rowcount(statement: sa.Update) -> int:
    """Run an UPDATE; how many rows it changed."""
    result = cast(sa.CursorResult[Any], db.session.execute(statement))
    return int(result.rowcount)


def _old_tickets(kept_from: dt.date) -> sa.Select[tuple[int]]:
    return sa.select(TICKETS.c.id).where(TICKETS.c.business_day < kept_from)


@transactional
def purge(
    *,
    days: int | None = None,
    now: dt.datetime | None = None,
    actor: str = "",
    actor_id: int | None = None,
) -> PurgeResult:
    """Erase the personal data of business days older than the retention (one transaction).

    Audited when something was erased or someone (``actor``: a user, "cli") asked for it; the
    housekeeping loop's empty runs leave no trace.

    Ticket events are append-only for the application (an ORM guard in ``db.models``); this
    retention is the one sanctioned change to them, done with Core statements: it removes the
    personal keys of a detail, never an event.
    """
    scopes.require_province(actor_id)  # every site's data: the province's decision
    now = ensure_now(now)
    days = retention_days() if days is None else max(1, int(days))
    kept_from = business_day(now) - dt.timedelta(days=days)
    old = _old_tickets(kept_from)
    tickets = _rowcount(
        sa.update(TICKETS)
        .where(
            TICKETS.c.business_day < kept_from,
            sa.or_(TICKETS.c.dossier_code.is_not(None), TICKETS.c.idempotency_key.is_not(None)),
        )
        .values(dossier_code=None, idempotency_key=None, request_hash=None)
    )
    events = 0
    rows = db.session.execute(
        sa.select(EVENTS.c.id, EVENTS.c.detail).where(
            EVENTS.c.ticket_id.in_(old), EVENTS.c.detail.is_not(None)
        )
    ).all()
    for event_id, detail in rows:
        if isinstance(detail, dict) and PERSONAL_DETAIL_KEYS & detail.keys():
            kept = {k: v for k, v in detail.items() if k not in PERSONAL_DETAIL_KEYS}
            db.session.execute(
                sa.update(EVENTS).where(EVENTS.c.id == event_id).values(detail=kept or None)
            )
            events += 1
    ratings = _rowcount(
        sa.update(RATINGS)
        .where(RATINGS.c.ticket_id.in_(old), RATINGS.c.comment.is_not(None))
        .values(comment=None)
    )
    appointments = _rowcount(
        sa.update(Appointment)
        .where(
            Appointment.business_day < kept_from,
            sa.or_(Appointment.address_key.is_not(None), Appointment.browser_key.is_not(None)),
        )
        .values(address_key=None, browser_key=None)
    )
    result = PurgeResult(
        kept_from=kept_from,
        tickets=tickets,
        events=events,
        ratings=ratings,
        appointments=appointments,
    )
    if tickets or events or ratings or appointments or actor:
        audit.record(
            "data_purged",
            actor_id=actor_id,
            actor=actor or "system",
            details=result.as_dict(),
            now=now,
        )
    db.session.commit()
    if tickets or events or ratings or appointments:
        log.info("purged personal data before %s: %s", kept_from, result.as_dict())
    return result


@transactional
def retention_policy(*, now: dt.datetime | None = None) -> RetentionPolicy:
    """The retention in force and what the database holds now (for the admin page)."""
    now = ensure_now(now)
    days = retention_days()
    kept_from = business_day(now) - dt.timedelta(days=days)
    count = sa.select(sa.func.count())
    with_dossier = db.session.scalar(
        count.select_from(TICKETS).where(TICKETS.c.dossier_code.is_not(None))
    )
    comments = db.session.scalar(count.select_from(RATINGS).where(RATINGS.c.comment.is_not(None)))
    old = _old_tickets(kept_from)
    due = (
        db.session.scalar(
            count.select_from(TICKETS).where(
                TICKETS.c.business_day < kept_from, TICKETS.c.dossier_code.is_not(None)
            )
        )
        or 0
    )
    due += (
        db.session.scalar(
            count.select_from(RATINGS).where(
                RATINGS.c.ticket_id.in_(old), RATINGS.c.comment.is_not(None)
            )
        )
        or 0
    )
    last = audit.last_at("data_purged")
    return RetentionPolicy(
        days=days,
        masking=bool(settings.effective("MASK_PERSONAL_TEXT", True)),
        kept_from=kept_from,
        tickets_with_dossier=int(with_dossier or 0),
        comments=int(comments or 0),
        due=int(due),
        last_purge=last,
    )


def what_is_kept(days: int) -> list[tuple[str, str]]:
    """The "Dữ liệu cá nhân" page's table: each kind of data and how long it is kept."""
    return [
        (
            str(_l("Số thứ tự, lĩnh vực, quầy, cán bộ, các mốc thời gian, mức đánh giá")),
            str(_l("Lâu dài, dưới dạng thống kê không gắn với người dân (báo cáo).")),
        ),
        (
            str(_l("Mã hồ sơ, ghi chú khi chuyển số, lý do hủy số, góp ý khi đánh giá")),
            str(_l("%(n)s ngày, rồi tự động xóa.", n=days)),
        ),
        (
            str(_l("Số điện thoại, số CMND/CCCD gõ vào ghi chú hoặc góp ý")),
            str(_l("Không lưu: được che ngay khi ghi (khi bật che số).")),
        ),
        (
            str(_l("Nhật ký hệ thống của cán bộ (đăng nhập, địa chỉ máy, thay đổi cài đặt)")),
            str(_l("Lâu dài, để kiểm tra khi cần.")),
        ),
    ]
