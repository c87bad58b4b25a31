"""The audit log: who did what, when.

Administrators' changes, sign-ins and device pairing are written here by the service that makes
them, in the same transaction. Officers' ticket actions already live in the append-only ticket
event log (with the officer as actor): ``list_entries`` shows both, merged by time.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from flask_babel import lazy_gettext as _l

from db import db
from db.models import AuditEntry, Ticket, TicketEvent, User
from motcua.services.transactions import transactional
from motcua.timeutil import HALL_TZ, ensure_now

DEFAULT_LIMIT = 200
MAX_LIMIT = 1000

ACTION_LABELS: dict[str, Any] = {
    "login": _l("Đăng nhập"),
    "login_failed": _l("Đăng nhập sai"),
    "login_throttled": _l("Đăng nhập bị giãn cách"),
    "login_unlocked": _l("Mở khóa đăng nhập"),
    "logout": _l("Đăng xuất"),
    "setting_changed": _l("Đổi cài đặt"),
    "setting_reset": _l("Trả cài đặt về mặc định"),
    "site_created": _l("Thêm điểm tiếp nhận"),
    "site_updated": _l("Sửa điểm tiếp nhận"),
    "area_created": _l("Thêm lĩnh vực"),
    "area_updated": _l("Sửa lĩnh vực"),
    "counter_created": _l("Thêm quầy"),
    "counter_updated": _l("Sửa quầy"),
    "counter_paused": _l("Quầy tạm nghỉ"),
    "counter_resumed": _l("Quầy mở lại"),
    "user_created": _l("Thêm tài khoản"),
    "user_updated": _l("Sửa tài khoản"),
    "user_password_reset": _l("Đặt lại mật khẩu"),
    "user_deactivated": _l("Khóa tài khoản"),
    "user_activated": _l("Mở khóa tài khoản"),
    "user_photo": _l("Đổi ảnh cán bộ"),
    "device_created": _l("Đăng ký thiết bị"),
    "device_updated": _l("Sửa thiết bị"),
    "device_pairing": _l("Tạo mã ghép nối"),
    "device_paired": _l("Thiết bị đã ghép nối"),
    "device_pair_failed": _l("Ghép nối sai mã"),
    "device_revoked": _l("Thu hồi thiết bị"),
    "device_printer": _l("Đổi máy in của ki-ốt"),
    "device_test_print": _l("In thử"),
    "print_alert_dismissed": _l("Bỏ qua cảnh báo vé chưa in"),
    "backup": _l("Sao lưu dữ liệu"),
    "data_purged": _l("Xóa dữ liệu cá nhân quá hạn"),
    "restore": _l("Khôi phục dữ liệu"),
    # Officers' ticket actions (from the ticket event log).
    "ticket:called": _l("Gọi số"),
    "ticket:recalled": _l("Gọi lại"),
    "ticket:no_show": _l("Vắng mặt"),
    "ticket:started": _l("Bắt đầu phục vụ"),
    "ticket:finished": _l("Hoàn thành"),
    "ticket:transferred": _l("Chuyển số"),
    "ticket:cancelled": _l("Hủy số"),
    "ticket:reprint": _l("In lại vé"),
}
TICKET_PREFIX = "ticket:"


@dataclass(frozen=True)
class AuditRow:
    """One line of the audit page."""

    at: dt.datetime
    actor: str
    actor_name: str
    action: str
    action_label: str
    target: str
    details: dict[str, Any] | None
    ip: str | None = None


def action_label(action: str) -> str:
    """The Vietnamese name of an action code."""
    return str(ACTION_LABELS.get(action, action))


def record(
    action: str,
    *,
    actor_id: int | None = None,
    actor: str = "",
    target: str = "",
    details: dict[str, Any] | None = None,
    ip: str | None = None,
    now: dt.datetime | None = None,
) -> None:
    """Add an entry to the current transaction (the caller commits with its own change)."""
    db.session.add(
        AuditEntry(
            at=ensure_now(now),
            actor_id=actor_id,
            actor=(actor or "")[:100],
            action=action[:40],
            target=(target or "")[:200],
            ip=(ip or None) and ip[:45],
            details=details or None,
        )
    )


@transactional
def log(action: str, **kwargs: Any) -> None:
    """Record one entry on its own (e.g. a sign-out) and commit."""
    record(action, **kwargs)
    db.session.commit()


def _day_bounds(since: dt.date | None, until: dt.date | None) -> tuple[Any, Any]:
    start = dt.datetime.combine(since, dt.time(), tzinfo=HALL_TZ) if since else None
    end = (
        dt.datetime.combine(until + dt.timedelta(days=1), dt.time(), tzinfo=HALL_TZ)
        if until
        else None
    )
    return start, end


@transactional
def list_entries(
    *,
    actor_id: int | None = None,
    action: str | None = None,
    since: dt.date | None = None,
    until: dt.date | None = None,
    limit: int = DEFAULT_LIMIT,
) -> list[AuditRow]:
    """Newest entries of the admin log and officers' ticket actions, hall days since–until."""
    limit = max(1, min(int(limit), MAX_LIMIT))
    start, end = _day_bounds(since, until)
    names = dict(db.session.execute(sa.select(User.id, User.full_name)).all())
    usernames = dict(db.session.execute(sa.select(User.id, User.username)).all())
    rows: list[AuditRow] = []
    if not action or not action.startswith(TICKET_PREFIX):
        stmt = sa.select(AuditEntry)
        if actor_id is not None:
            stmt = stmt.where(AuditEntry.actor_id == actor_id)
        if action:
            stmt = stmt.where(AuditEntry.action == action)
        if start is not None:
            stmt = stmt.where(AuditEntry.at >= start)
        if end is not None:
            stmt = stmt.where(AuditEntry.at < end)
        for entry in db.session.scalars(stmt.order_by(AuditEntry.at.desc()).limit(limit)):
            rows.append(
                AuditRow(
                    at=entry.at,
                    actor=entry.actor or usernames.get(entry.actor_id or 0, ""),
                    actor_name=names.get(entry.actor_id or 0, ""),
                    action=entry.action,
                    action_label=action_label(entry.action),
                    target=entry.target,
                    details=entry.details,
                    ip=entry.ip,
                )
            )
    if not action or action.startswith(TICKET_PREFIX):
        stmt2 = (
            sa.select(TicketEvent, Ticket.code)
            .join(Ticket, Ticket.id == TicketEvent.ticket_id)
            .where(TicketEvent.actor_id.is_not(None))
        )
        if actor_id is not None:
            stmt2 = stmt2.where(TicketEvent.actor_id == actor_id)
        if action:
            stmt2 = stmt2.where(TicketEvent.kind == action[len(TICKET_PREFIX) :])
        if start is not None:
            stmt2 = stmt2.where(TicketEvent.at >= start)
        if end is not None:
            stmt2 = stmt2.where(TicketEvent.at < end)
        for event, code in db.session.execute(stmt2.order_by(TicketEvent.at.desc()).limit(limit)):
            kind = TICKET_PREFIX + event.kind
            rows.append(
                AuditRow(
                    at=event.at,
                    actor=usernames.get(event.actor_id or 0, ""),
                    actor_name=names.get(event.actor_id or 0, ""),
                    action=kind,
                    action_label=action_label(kind),
                    target=code,
                    details=event.detail,
                )
            )
    rows.sort(key=lambda r: r.at, reverse=True)
    return rows[:limit]


def filter_choices() -> dict[str, Any]:
    """The audit page's filter lists: actions with their names, users."""
    return {"actions": [(code, str(label)) for code, label in ACTION_LABELS.items()]}


@transactional
def count(action: str, **where: Any) -> int:
    """How many entries of an action (optionally by actor text, target, ip, since ``at``)."""
    stmt = sa.select(sa.func.count()).select_from(AuditEntry).where(AuditEntry.action == action)
    for key in ("actor", "target", "ip"):
        if where.get(key) is not None:
            stmt = stmt.where(getattr(AuditEntry, key) == where[key])
    if where.get("since") is not None:
        stmt = stmt.where(AuditEntry.at > where["since"])
    return int(db.session.scalar(stmt) or 0)


def last_at(action: str) -> dt.datetime | None:
    """When the action was last recorded (None: never)."""
    return db.session.scalar(
        sa.select(sa.func.max(AuditEntry.at)).where(AuditEntry.action == action)
    )
