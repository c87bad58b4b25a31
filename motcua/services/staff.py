"""Staff accounts as administrators manage them, and signing in with throttling.

People are never deleted (their names stay on tickets, ratings and the audit log): an account
is deactivated instead. Each change is one transaction with its audit entry.
"""

from __future__ import annotations

import datetime as dt
import io
import math
import secrets
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from flask import current_app
from flask_babel import lazy_gettext as _l
from werkzeug.security import generate_password_hash

from db import db
from db.models import AuditEntry, Counter, Site, User
from motcua.errors import (
    InvalidCredentials,
    NotFound,
    SiteForbidden,
    TooManyAttempts,
    ValidationFailed,
)
from motcua.services import accounts, audit, scopes, settings
from motcua.services.accounts import MIN_PASSWORD_LENGTH, UserView
from motcua.services.common import transactional
from motcua.timeutil import ensure_now

ROLE_LABELS: dict[str, Any] = {
    "officer": _l("Cán bộ tiếp nhận"),
    "leader": _l("Lãnh đạo"),
    "admin": _l("Quản trị hệ thống"),
}
PROVINCE_WIDE = _l("Toàn tỉnh (mọi điểm tiếp nhận)")
ASSIGNMENTS = "COUNTER_ASSIGNMENTS"
PHOTO_SIZE = 480
PHOTO_FORMATS = ("JPEG", "PNG", "WEBP")
USERNAME_CHARS = set("abcdefghijklmnopqrstuvwxyz0123456789._-")


@dataclass(frozen=True)
class StaffView:
    """An account as the admin pages show it."""

    id: int
    username: str
    full_name: str
    position: str
    unit: str
    role: str
    active: bool
    photo: str | None
    default_counter: int | None
    created_at: dt.datetime
    # The sites the account is scoped to (empty: province-wide) and their names.
    site_ids: tuple[int, ...] = ()
    site_names: tuple[str, ...] = ()

    @property
    def scope_label(self) -> str:
        """Where the account works, in Vietnamese: its sites, or the whole province."""
        return ", ".join(self.site_names) if self.site_names else str(PROVINCE_WIDE)

    @property
    def role_label(self) -> str:
        """The role in Vietnamese."""
        return str(ROLE_LABELS.get(self.role, self.role))


def _assignments() -> dict[str, int]:
    return {str(k): int(v) for k, v in (settings.effective(ASSIGNMENTS) or {}).items()}


def _view(user: User, assignments: dict[str, int]) -> StaffView:
    return StaffView(
        id=user.id,
        username=user.username,
        full_name=user.full_name,
        position=user.position,
        unit=user.unit,
        role=user.role,
        active=user.active,
        photo=user.photo,
        default_counter=assignments.get(user.username),
        created_at=user.created_at,
        site_ids=tuple(s.id for s in user.sites),
        site_names=tuple(s.name for s in user.sites),
    )


def _user(user_id: int, actor_id: int | None = None) -> User:
    """An account, which the acting administrator must be allowed to manage."""
    user = db.session.get(User, user_id)
    if user is None:
        raise NotFound(user=user_id)
    _check_manages(actor_id, user)
    return user


def _check_manages(actor_id: int | None, user: User) -> None:
    """A site administrator manages only accounts scoped within their own sites (never a
    province-wide account, nor one that also works elsewhere)."""
    scope = scopes.scope_of(actor_id)
    if scope.province:
        return
    own = {s.id for s in user.sites}
    if not own or not scope.covers(own):
        raise SiteForbidden(user=user.username)


def _clean_sites(
    errors: _Errors, actor_id: int | None, site_ids: Sequence[int] | None
) -> list[Site]:
    """The sites to give an account: existing ones, within the acting administrator's; a site
    administrator must give at least one (they cannot grant province-wide scope)."""
    wanted = sorted({int(i) for i in site_ids or ()})
    sites = list(db.session.scalars(sa.select(Site).where(Site.id.in_(wanted)).order_by(Site.id)))
    if len(sites) != len(wanted):
        errors.add("site_ids", _l("Có điểm tiếp nhận không tồn tại."))
    scope = scopes.scope_of(actor_id)
    if not scope.province:
        if not wanted:
            errors.add(
                "site_ids",
                _l("Chọn ít nhất một điểm tiếp nhận: chỉ quản trị cấp tỉnh mới giao toàn tỉnh."),
            )
        elif not scope.covers(wanted):
            raise SiteForbidden(sites=wanted)
    return sites


class _Errors(dict[str, str]):
    def add(self, field: str, message: Any) -> None:
        self.setdefault(field, str(message))

    def raise_if_any(self) -> None:
        if self:
            raise ValidationFailed(
                _l("Chưa lưu: có %(n)s mục chưa hợp lệ.", n=len(self)), errors=dict(self)
            )


def _clean_text(errors: _Errors, field: str, value: Any, max_len: int, required: bool) -> str:
    text = " ".join(str(value or "").split())
    if required and not text:
        errors.add(field, _l("Không được để trống."))
    elif len(text) > max_len:
        errors.add(field, _l("Tối đa %(n)s ký tự.", n=max_len))
    return text


def _clean_counter(errors: _Errors, value: Any) -> int | None:
    if value in (None, ""):
        return None
    try:
        number = int(value)
    except (TypeError, ValueError):
        number = -1
    exists = db.session.scalar(
        sa.select(Counter.id).where(Counter.number == number, Counter.active.is_(True))
    )
    if not exists:
        errors.add("default_counter", _l("Không có quầy số này."))
    return number


def _set_counter(username: str, number: int | None, actor_id: int | None, now: dt.datetime) -> None:
    current = _assignments()
    if current.get(username) == number:
        return
    if number is None:
        current.pop(username, None)
    else:
        current[username] = number
    settings.put(settings.HALL_SCOPE, ASSIGNMENTS, current, actor_id=actor_id, now=now)


def _password_hash(password: str) -> str:
    return generate_password_hash(
        password, method=current_app.config.get("PASSWORD_HASH_METHOD", "scrypt")
    )


def _check_password(errors: _Errors, password: str, field: str = "password") -> None:
    if len(password or "") < MIN_PASSWORD_LENGTH:
        errors.add(field, _l("Mật khẩu cần ít nhất 8 ký tự."))


@transactional
def list_staff(*, actor_id: int | None = None) -> list[StaffView]:
    """Every account the administrator manages (a site administrator: those of their sites),
    active first, by name."""
    assignments = _assignments()
    scope = scopes.scope_of(actor_id)
    users = db.session.scalars(sa.select(User).order_by(User.active.desc(), User.full_name))
    return [
        _view(u, assignments)
        for u in users
        if scope.province or (u.sites and scope.covers(s.id for s in u.sites))
    ]


@transactional
def get_staff(user_id: int, *, actor_id: int | None = None) -> StaffView:
    """One account (one the administrator manages)."""
    return _view(_user(user_id, actor_id), _assignments())


@transactional
def create_staff(
    username: str,
    *,
    full_name: str,
    role: str,
    password: str,
    position: str = "",
    unit: str = "",
    default_counter: int | None = None,
    site_ids: Sequence[int] | None = None,
    actor_id: int | None = None,
    actor: str = "",
    now: dt.datetime | None = None,
) -> StaffView:
    """Create an account (all fields checked before anything is written); ``site_ids`` scopes
    it to those sites (none: province-wide, which only a province administrator may grant)."""
    now = ensure_now(now)
    errors = _Errors()
    username = (username or "").strip().lower()
    if not username or len(username) > 64 or set(username) - USERNAME_CHARS:
        errors.add("username", _l("Tên đăng nhập gồm chữ thường không dấu, số, dấu chấm, gạch."))
    elif db.session.scalar(sa.select(User.id).where(User.username == username)):
        errors.add("username", _l("Tên đăng nhập đã tồn tại."))
    full_name = _clean_text(errors, "full_name", full_name, 200, True)
    position = _clean_text(errors, "position", position, 200, False)
    unit = _clean_text(errors, "unit", unit, 200, False)
    if role not in ROLE_LABELS:
        errors.add("role", _l("Chọn vai trò."))
    _check_password(errors, password)
    counter = _clean_counter(errors, default_counter)
    sites = _clean_sites(errors, actor_id, site_ids)
    errors.raise_if_any()
    user = User(
        username=username,
        full_name=full_name,
        position=position,
        unit=unit,
        role=role,
        password_hash=_password_hash(password),
        active=True,
        created_at=now,
        sites=sites,
    )
    db.session.add(user)
    db.session.flush()
    _set_counter(username, counter, actor_id, now)
    audit.record(
        "user_created",
        actor_id=actor_id,
        actor=actor,
        target=username,
        details={
            "full_name": full_name,
            "role": role,
            "default_counter": counter,
            "sites": [s.code for s in sites],
        },
        now=now,
    )
    user_id = user.id
    db.session.commit()
    settings.invalidate()
    return get_staff(user_id)


def _admins_left(excluding: int, *, province: bool = False) -> int:
    """Active administrators other than one (``province``: only province-wide ones)."""
    where = [User.role == "admin", User.active.is_(True), User.id != excluding]
    if province:
        where.append(~User.sites.any())
    return int(db.session.scalar(sa.select(sa.func.count()).select_from(User).where(*where)) or 0)


@transactional
def update_staff(
    user_id: int,
    *,
    full_name: str,
    role: str,
    position: str = "",
    unit: str = "",
    default_counter: int | None = None,
    site_ids: Sequence[int] | None = None,
    actor_id: int | None = None,
    actor: str = "",
    now: dt.datetime | None = None,
) -> StaffView:
    """Change an account's name, position, unit, role, default counter and sites
    (``site_ids=None`` keeps its sites)."""
    now = ensure_now(now)
    user = _user(user_id, actor_id)
    errors = _Errors()
    full_name = _clean_text(errors, "full_name", full_name, 200, True)
    position = _clean_text(errors, "position", position, 200, False)
    unit = _clean_text(errors, "unit", unit, 200, False)
    if role not in ROLE_LABELS:
        errors.add("role", _l("Chọn vai trò."))
    elif user.role == "admin" and role != "admin" and _admins_left(user.id) == 0:
        errors.add("role", _l("Phải còn ít nhất một quản trị viên đang hoạt động."))
    counter = _clean_counter(errors, default_counter)
    sites = [*user.sites] if site_ids is None else _clean_sites(errors, actor_id, site_ids)
    was_province_admin = user.role == "admin" and user.active and not user.sites
    if (
        was_province_admin
        and (role != "admin" or sites)
        and not _admins_left(user.id, province=True)
    ):
        errors.add("site_ids", _l("Phải còn ít nhất một quản trị viên cấp tỉnh đang hoạt động."))
    errors.raise_if_any()
    before = {
        "full_name": user.full_name,
        "role": user.role,
        "position": user.position,
        "sites": [s.code for s in user.sites],
    }
    user.full_name, user.role, user.position, user.unit = full_name, role, position, unit
    user.sites = sites
    _set_counter(user.username, counter, actor_id, now)
    audit.record(
        "user_updated",
        actor_id=actor_id,
        actor=actor,
        target=user.username,
        details={
            "before": before,
            "after": {
                "full_name": full_name,
                "role": role,
                "position": position,
                "sites": [s.code for s in sites],
            },
            "default_counter": counter,
        },
        now=now,
    )
    db.session.commit()
    settings.invalidate()
    return get_staff(user_id)


@transactional
def reset_password(
    user_id: int,
    password: str,
    *,
    actor_id: int | None = None,
    actor: str = "",
    now: dt.datetime | None = None,
) -> StaffView:
    """Give an account a new password (the administrator tells the person)."""
    now = ensure_now(now)
    user = _user(user_id, actor_id)
    errors = _Errors()
    _check_password(errors, password)
    errors.raise_if_any()
    user.password_hash = _password_hash(password)
    audit.record("user_password_reset", actor_id=actor_id, actor=actor, target=user.username)
    db.session.commit()
    return get_staff(user_id)


@transactional
def set_active(
    user_id: int,
    active: bool,
    *,
    actor_id: int | None = None,
    actor: str = "",
    now: dt.datetime | None = None,
) -> StaffView:
    """Deactivate (never delete) or reactivate an account; a deactivated one cannot sign in."""
    now = ensure_now(now)
    user = _user(user_id, actor_id)
    if not active and user.id == actor_id:
        raise ValidationFailed(
            _l("Không thể tự khóa tài khoản đang đăng nhập."), errors={"active": "self"}
        )
    if not active and user.role == "admin" and _admins_left(user.id) == 0:
        raise ValidationFailed(
            _l("Phải còn ít nhất một quản trị viên đang hoạt động."), errors={"active": "last"}
        )
    if not active and user.role == "admin" and not user.sites:
        if _admins_left(user.id, province=True) == 0:
            raise ValidationFailed(
                _l("Phải còn ít nhất một quản trị viên cấp tỉnh đang hoạt động."),
                errors={"active": "last"},
            )
    if user.active != active:
        user.active = active
        audit.record(
            "user_activated" if active else "user_deactivated",
            actor_id=actor_id,
            actor=actor,
            target=user.username,
            now=now,
        )
    db.session.commit()
    return get_staff(user_id)


def photos_dir() -> Path:
    """Where officers' photos are kept: <instance>/photos."""
    return Path(current_app.instance_path) / "photos"


@transactional
def set_photo(
    user_id: int,
    data: bytes,
    *,
    actor_id: int | None = None,
    actor: str = "",
    now: dt.datetime | None = None,
) -> StaffView:
    """Store an officer's photo (JPEG, PNG or WebP), squared and re-encoded without metadata."""
    from PIL import Image, ImageOps, UnidentifiedImageError

    now = ensure_now(now)
    user = _user(user_id, actor_id)
    limit = int(current_app.config.get("PHOTO_MAX_BYTES", 3 * 1024 * 1024))
    bad = ValidationFailed(
        _l("Ảnh phải là tệp JPEG, PNG hoặc WebP, không quá %(mb)s MB.", mb=limit // (1024 * 1024)),
        errors={"photo": "invalid"},
    )
    if not data or len(data) > limit:
        raise bad
    try:
        with Image.open(io.BytesIO(data)) as probe:
            if probe.format not in PHOTO_FORMATS:
                raise bad
            probe.verify()
        opened = Image.open(io.BytesIO(data))
        image: Image.Image = ImageOps.exif_transpose(opened).convert("RGB")
    except (UnidentifiedImageError, OSError, ValueError, Image.DecompressionBombError):
        raise bad from None
    image = ImageOps.fit(image, (PHOTO_SIZE, PHOTO_SIZE))
    folder = photos_dir()
    folder.mkdir(parents=True, exist_ok=True)
    name = f"{secrets.token_hex(12)}.jpg"
    image.save(folder / name, "JPEG", quality=85)
    old = user.photo
    user.photo = name
    audit.record("user_photo", actor_id=actor_id, actor=actor, target=user.username, now=now)
    db.session.commit()
    if old and "/" not in old and old != name:
        (folder / old).unlink(missing_ok=True)
    return get_staff(user_id)


def photo_path(name: str) -> Path:
    """The file of a stored photo; NotFound for anything else."""
    if not name or "/" in name or "\\" in name or name.startswith("."):
        raise NotFound(photo=name)
    path = photos_dir() / name
    if not path.is_file():
        raise NotFound(photo=name)
    return path


# --------------------------------------------------------------------------- signing in


@dataclass(frozen=True)
class Throttle:
    """Wrong passwords for one username from one address, since the last success or lift."""

    failures: int
    last_failure: dt.datetime | None
    retry_after: int  # seconds still to wait before the next try (0: may try now)


def login_delay_s(failures: int) -> int:
    """The wait after ``failures`` wrong passwords: none for the first LOGIN_MAX_FAILURES, then
    LOGIN_DELAY_BASE_S doubling with each failure, at most LOGIN_DELAY_MAX_S (never a lock)."""
    free = int(settings.effective("LOGIN_MAX_FAILURES", 5))
    if failures < free:
        return 0
    base = int(settings.effective("LOGIN_DELAY_BASE_S", 2))
    cap = int(settings.effective("LOGIN_DELAY_MAX_S", 120))
    return int(min(cap, base * 2 ** min(failures - free, 20)))


def _since(username: str, ip: str | None, now: dt.datetime) -> dt.datetime:
    """Failures count from the window's start, the last success here, or the admin's lift."""
    window = int(settings.effective("LOGIN_FAILURE_WINDOW_S", 900))
    marks = [now - dt.timedelta(seconds=window)]
    for mark in (
        sa.select(sa.func.max(AuditEntry.at)).where(
            AuditEntry.action == "login", AuditEntry.actor == username, AuditEntry.ip == ip
        ),
        sa.select(sa.func.max(AuditEntry.at)).where(
            AuditEntry.action == "login_unlocked", AuditEntry.target == username
        ),
    ):
        at = db.session.scalar(mark)
        if at is not None:
            marks.append(at)
    return max(marks)


def login_throttle(username: str, ip: str | None, *, now: dt.datetime | None = None) -> Throttle:
    """Where a username stands at an address: its recent failures and the wait still due."""
    now = ensure_now(now)
    name = (username or "").strip().lower()[:64]
    failures, last = db.session.execute(
        sa.select(sa.func.count(), sa.func.max(AuditEntry.at)).where(
            AuditEntry.action == "login_failed",
            AuditEntry.actor == name,
            AuditEntry.ip == ip,
            AuditEntry.at > _since(name, ip, now),
        )
    ).one()
    wait = 0
    if last is not None:
        due = last + dt.timedelta(seconds=login_delay_s(int(failures)))
        wait = max(0, math.ceil((due - now).total_seconds()))
    return Throttle(failures=int(failures), last_failure=last, retry_after=wait)


@transactional
def throttled_usernames(*, now: dt.datetime | None = None) -> dict[str, int]:
    """Usernames with at least LOGIN_MAX_FAILURES recent failures (from any one address),
    and that count: what the administrator may lift."""
    now = ensure_now(now)
    window = int(settings.effective("LOGIN_FAILURE_WINDOW_S", 900))
    free = int(settings.effective("LOGIN_MAX_FAILURES", 5))
    rows = db.session.execute(
        sa.select(AuditEntry.actor, AuditEntry.ip).where(
            AuditEntry.action == "login_failed",
            AuditEntry.at > now - dt.timedelta(seconds=window),
        )
    ).all()
    out: dict[str, int] = {}
    for name, ip in sorted(set(rows), key=lambda r: (r[0], r[1] or "")):
        failures = login_throttle(name, ip, now=now).failures
        if failures >= free:
            out[name] = max(out.get(name, 0), failures)
    return out


@transactional
def lift_login_throttle(
    username: str,
    *,
    actor_id: int | None = None,
    actor: str = "",
    ip: str | None = None,
    now: dt.datetime | None = None,
) -> None:
    """Forget a username's wrong passwords (every address): it may sign in at once (audited)."""
    now = ensure_now(now)
    name = (username or "").strip().lower()[:64]
    if not name:
        raise ValidationFailed(field="username")
    user = db.session.scalar(sa.select(User).where(User.username == name))
    if user is not None:
        _check_manages(actor_id, user)
    else:
        scopes.require_province(actor_id)
    audit.record("login_unlocked", actor_id=actor_id, actor=actor, target=name, ip=ip, now=now)
    db.session.commit()


@transactional
def sign_in(
    username: str,
    password: str,
    *,
    ip: str | None,
    channel: str = "web",
    now: dt.datetime | None = None,
) -> UserView:
    """Check a password, throttled per username and address; every attempt is audited.

    After LOGIN_MAX_FAILURES wrong passwords each try waits a little longer (``login_delay_s``),
    so a guesser is slowed while the officer at the counter is never shut out for long.
    """
    now = ensure_now(now)
    name = (username or "").strip().lower()[:64]
    wait = login_throttle(name, ip, now=now).retry_after
    if wait > 0:  # a short wait that grows with each failure, never a lock (the admin lifts it)
        audit.record(
            "login_throttled",
            actor=name,
            ip=ip,
            details={"channel": channel, "retry_after": wait},
            now=now,
        )
        db.session.commit()
        raise TooManyAttempts(retry_after=wait)
    try:
        user = accounts.authenticate(name, password)
    except InvalidCredentials:
        audit.record("login_failed", actor=name, ip=ip, details={"channel": channel}, now=now)
        db.session.commit()
        raise
    audit.record(
        "login", actor_id=user.id, actor=name, ip=ip, details={"channel": channel}, now=now
    )
    db.session.commit()
    return user


def sign_out(user: UserView | None, *, ip: str | None) -> None:
    """Record a sign-out."""
    if user is not None:
        audit.log("logout", actor_id=user.id, actor=user.username, ip=ip)
