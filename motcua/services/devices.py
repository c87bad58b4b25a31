"""Devices: kiosks, lobby displays and rating tablets, paired by a device token.

An administrator registers a device and gets a short pairing code (valid for
DEVICE_PAIRING_MINUTES). Opened on the device (``/device/pair``), the code is exchanged once for
a long random token that the device keeps (a cookie, or ``Authorization: Device <token>``).
Only keyed hashes of codes and tokens are stored. A token lets its device do its own job only:
the surfaces check the device's kind (``DeviceView.require``).
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import hashlib
import hmac
import logging
import re
import secrets
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from flask import current_app
from flask_babel import gettext
from flask_babel import lazy_gettext as _l

from db import db
from db.models import (
    DISPLAY_DEVICE,
    KIOSK_DEVICE,
    PRINT_JOB_DONE,
    RATING_DEVICE,
    Counter,
    Device,
    PrintJob,
    PrintJobState,
    Site,
    Ticket,
)
from motcua.errors import (
    DeviceForbidden,
    DeviceNotPaired,
    NotFound,
    PairingFailed,
    PairingThrottled,
    ValidationFailed,
)
from motcua.services import audit, print_jobs, scopes, settings
from motcua.services.common import transactional
from motcua.timeutil import ensure_now
from printer.backends import BACKENDS

log = logging.getLogger(__name__)

KIOSK, DISPLAY, RATING = KIOSK_DEVICE, DISPLAY_DEVICE, RATING_DEVICE
KINDS: dict[str, Any] = {
    KIOSK: _l("Máy lấy số (ki-ốt)"),
    DISPLAY: _l("Màn hình sảnh"),
    RATING: _l("Máy đánh giá tại quầy"),
}
HOME_PATHS = {KIOSK: "/kiosk/", DISPLAY: "/display/", RATING: "/rating/"}
NAME_RE = print_jobs.KIOSK_NAME_RE  # a kiosk is known by its name (PRINTERS keys)
CODE_ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"  # no 0/O, 1/I: read aloud or typed
CODE_LENGTH = 8
TOUCH_EVERY_S = 30
MAX_PAIR_FAILURES = 10  # per IP address within the login failure window


@dataclass(frozen=True)
class DeviceView:
    """A device as the admin pages and the surfaces see it (no secrets)."""

    id: int
    uuid: str
    kind: str
    name: str
    note: str
    site_id: int
    site_code: str
    site_name: str
    counter_id: int | None
    counter_number: int | None
    active: bool
    paired: bool
    pairing_pending: bool
    pairing_expires_at: dt.datetime | None
    paired_at: dt.datetime | None
    last_seen_at: dt.datetime | None
    online: bool
    printer: dict[str, Any] | None = None
    last_print: dict[str, Any] | None = None
    print_alerts: list[dict[str, Any]] = dataclasses.field(default_factory=list)

    @property
    def kind_label(self) -> str:
        """The kind in Vietnamese."""
        return str(KINDS.get(self.kind, self.kind))

    @property
    def home_path(self) -> str:
        """Where the device's screen lives."""
        return HOME_PATHS.get(self.kind, "/")

    def require(self, *kinds: str) -> DeviceView:
        """This device, if it is of one of the kinds; else DeviceForbidden."""
        if self.kind not in kinds:
            raise DeviceForbidden(device=self.name, kind=self.kind)
        return self


@dataclass(frozen=True)
class Pairing:
    """A fresh pairing code (shown once) for a device."""

    device: DeviceView
    code: str
    expires_at: dt.datetime


def _digest(secret: str, purpose: str) -> str:
    """Keyed hash of a code or token (the secret key makes a stolen table useless)."""
    key = str(current_app.config["SECRET_KEY"]).encode()
    return hmac.new(key, f"{purpose}:{secret}".encode(), hashlib.sha256).hexdigest()


def normalize_code(code: str) -> str:
    """'abcd-efgh ' → 'ABCDEFGH'."""
    return re.sub(r"[^A-Z0-9]", "", (code or "").upper())


def _new_code() -> str:
    raw = "".join(secrets.choice(CODE_ALPHABET) for _ in range(CODE_LENGTH))
    return f"{raw[:4]}-{raw[4:]}"


def _online(device: Device, now: dt.datetime) -> bool:
    window = int(settings.effective("DEVICE_ONLINE_SECONDS", 150))
    return bool(
        device.active
        and device.token_hash
        and device.last_seen_at is not None
        and (now - device.last_seen_at).total_seconds() <= window
    )


def _view(device: Device, now: dt.datetime, last_print: dict[str, Any] | None = None) -> DeviceView:
    config = device.config or {}
    return DeviceView(
        id=device.id,
        uuid=device.uuid,
        kind=device.kind,
        name=device.name,
        note=device.note,
        site_id=device.site_id,
        site_code=device.site.code,
        site_name=device.site.name,
        counter_id=device.counter_id,
        counter_number=device.counter.number if device.counter else None,
        active=device.active,
        paired=bool(device.active and device.token_hash),
        pairing_pending=bool(
            device.active
            and device.pairing_hash
            and device.pairing_expires_at is not None
            and device.pairing_expires_at > now
        ),
        pairing_expires_at=device.pairing_expires_at,
        paired_at=device.paired_at,
        last_seen_at=device.last_seen_at,
        online=_online(device, now),
        printer=dict(config["printer"]) if isinstance(config.get("printer"), dict) else None,
        last_print=last_print,
    )


def _device(device_id: int, actor_id: int | None = None) -> Device:
    """A device, which must belong to one of the acting account's sites."""
    device = db.session.get(Device, device_id)
    if device is None:
        raise NotFound(device=device_id)
    scopes.check_site(actor_id, device.site_id)
    return device


def _invalid(field: str, message: Any) -> ValidationFailed:
    return ValidationFailed(message, field=field, errors={field: str(message)})


def _check_fields(
    kind: str, name: str, site_id: int | None, counter_id: int | None, *, device_id: int | None
) -> tuple[str, Site, Counter | None]:
    """Validate a device's kind, name, site and counter; returns (name, site, counter)."""
    errors: dict[str, str] = {}
    name = (name or "").strip()
    if kind not in KINDS:
        errors["kind"] = str(_l("Chọn loại thiết bị."))
    if not NAME_RE.match(name):
        errors["name"] = str(
            _l("Tên thiết bị chỉ gồm chữ không dấu, số và dấu gạch ngang, ví dụ: sanh-1.")
        )
    else:
        clash = db.session.scalar(
            sa.select(Device.id).where(sa.func.lower(Device.name) == name.lower())
        )
        if clash is not None and clash != device_id:
            errors["name"] = str(_l("Đã có thiết bị tên này."))
    site = db.session.get(Site, site_id) if site_id else None
    if site is None:
        errors["site_id"] = str(_l("Chọn điểm tiếp nhận."))
    counter = db.session.get(Counter, counter_id) if counter_id else None
    if counter_id and (counter is None or (site is not None and counter.site_id != site.id)):
        errors["counter_id"] = str(_l("Quầy không thuộc điểm tiếp nhận đã chọn."))
    if kind == RATING and counter_id is None:
        errors["counter_id"] = str(_l("Máy đánh giá phải gắn với một quầy."))
    if errors:
        raise ValidationFailed(
            _l("Chưa lưu: có %(n)s mục chưa hợp lệ.", n=len(errors)), errors=errors
        )
    assert site is not None
    return name, site, counter if kind == RATING or counter_id else None


def _issue_code(device: Device, now: dt.datetime) -> tuple[str, dt.datetime]:
    code = _new_code()
    minutes = int(settings.effective("DEVICE_PAIRING_MINUTES", 15))
    device.pairing_hash = _digest(normalize_code(code), "pair")
    device.pairing_expires_at = now + dt.timedelta(minutes=minutes)
    return code, device.pairing_expires_at


# --------------------------------------------------------------------------- admin


@transactional
def create_device(
    kind: str,
    name: str,
    *,
    site_id: int | None,
    note: str = "",
    counter_id: int | None = None,
    actor_id: int | None = None,
    actor: str = "",
    now: dt.datetime | None = None,
) -> Pairing:
    """Register a device and return its first pairing code."""
    now = ensure_now(now)
    if site_id is not None:
        scopes.check_site(actor_id, site_id)
    name, site, counter = _check_fields(kind, name, site_id, counter_id, device_id=None)
    device = Device(
        kind=kind,
        name=name,
        note=(note or "").strip()[:200],
        site_id=site.id,
        counter_id=counter.id if counter else None,
        config={"printer": {"backend": "file", "width_px": 576}} if kind == KIOSK else None,
        active=True,
        created_at=now,
    )
    db.session.add(device)
    code, expires = _issue_code(device, now)
    db.session.flush()
    audit.record(
        "device_created",
        actor_id=actor_id,
        actor=actor,
        target=name,
        details={"kind": kind, "site": site.code, "counter": counter.number if counter else None},
        now=now,
    )
    view = _view(device, now)
    db.session.commit()
    settings.invalidate()
    return Pairing(view, code, expires)


@transactional
def update_device(
    device_id: int,
    *,
    name: str,
    note: str = "",
    site_id: int | None,
    counter_id: int | None = None,
    actor_id: int | None = None,
    actor: str = "",
    now: dt.datetime | None = None,
) -> DeviceView:
    """Rename a device, move it to another site or counter."""
    now = ensure_now(now)
    device = _device(device_id, actor_id)
    if site_id is not None:
        scopes.check_site(actor_id, site_id)
    name, site, counter = _check_fields(device.kind, name, site_id, counter_id, device_id=device.id)
    before = {"name": device.name, "site_id": device.site_id, "counter_id": device.counter_id}
    device.name = name
    device.note = (note or "").strip()[:200]
    device.site_id = site.id
    device.site = site
    device.counter_id = counter.id if counter else None
    device.counter = counter
    audit.record(
        "device_updated",
        actor_id=actor_id,
        actor=actor,
        target=name,
        details={
            "before": before,
            "after": {"name": name, "site_id": site.id, "counter_id": device.counter_id},
        },
        now=now,
    )
    view = _view(device, now)
    db.session.commit()
    settings.invalidate()
    return view


@transactional
def start_pairing(
    device_id: int, *, actor_id: int | None = None, actor: str = "", now: dt.datetime | None = None
) -> Pairing:
    """A new pairing code; the device's current token stops working at once (re-pair)."""
    now = ensure_now(now)
    device = _device(device_id, actor_id)
    device.token_hash = None
    device.active = True
    device.revoked_at = None
    code, expires = _issue_code(device, now)
    audit.record("device_pairing", actor_id=actor_id, actor=actor, target=device.name, now=now)
    view = _view(device, now)
    db.session.commit()
    settings.invalidate()
    return Pairing(view, code, expires)


@transactional
def revoke_device(
    device_id: int, *, actor_id: int | None = None, actor: str = "", now: dt.datetime | None = None
) -> DeviceView:
    """Withdraw a device: its token and any pending code stop working."""
    now = ensure_now(now)
    device = _device(device_id, actor_id)
    device.active = False
    device.token_hash = None
    device.pairing_hash = None
    device.pairing_expires_at = None
    device.revoked_at = now
    audit.record("device_revoked", actor_id=actor_id, actor=actor, target=device.name, now=now)
    view = _view(device, now)
    db.session.commit()
    settings.invalidate()
    return view


def _last_prints(names: list[str]) -> dict[str, dict[str, Any]]:
    """The latest concluded print job per kiosk name: printed, sent (unconfirmed) or failed."""
    if not names:
        return {}
    done = [s.value for s in PRINT_JOB_DONE]
    latest = (
        sa.select(sa.func.max(PrintJob.id))
        .join(Ticket, Ticket.id == PrintJob.ticket_id)
        .where(sa.func.coalesce(PrintJob.kiosk, Ticket.kiosk).in_(names))
        .where(PrintJob.state.in_(done))
        .group_by(sa.func.coalesce(PrintJob.kiosk, Ticket.kiosk))
    )
    out: dict[str, dict[str, Any]] = {}
    for job, kiosk in db.session.execute(
        sa.select(PrintJob, sa.func.coalesce(PrintJob.kiosk, Ticket.kiosk))
        .join(Ticket, Ticket.id == PrintJob.ticket_id)
        .where(PrintJob.id.in_(latest))
    ):
        out[kiosk] = {
            "ok": job.state != PrintJobState.FAILED.value,
            "state": job.state,
            "at": job.finished_at,
            "message": job.message or "",
            "error_code": job.error_code,
        }
    return out


@transactional
def list_devices(
    *, actor_id: int | None = None, now: dt.datetime | None = None
) -> list[DeviceView]:
    """Every device of the account's sites (revoked ones last), with online state and each
    kiosk's last print."""
    now = ensure_now(now)
    devices = list(
        db.session.scalars(
            sa.select(Device)
            .where(*scopes.scope_of(actor_id).where(Device.site_id))
            .order_by(Device.active.desc(), Device.kind, Device.name)
        )
    )
    prints = _last_prints([d.name for d in devices if d.kind == KIOSK])
    return [_view(d, now, prints.get(d.name)) for d in devices]


@transactional
def get_device(
    device_id: int, *, actor_id: int | None = None, now: dt.datetime | None = None
) -> DeviceView:
    """One device (of the account's sites)."""
    now = ensure_now(now)
    device = _device(device_id, actor_id)
    view = _view(device, now, _last_prints([device.name]).get(device.name))
    if device.kind == KIOSK:
        view = dataclasses.replace(view, print_alerts=print_jobs.open_alerts(kiosk=device.name))
    return view


def printer_backends() -> list[dict[str, Any]]:
    """The printer backends a kiosk can use, with the fields the admin form shows for each."""
    return [
        {
            "name": backend.name,
            "label": backend.label,
            "fields": [
                {
                    "key": f.key,
                    "label": f.label,
                    "kind": f.kind,
                    "placeholder": f.placeholder,
                    "help": f.help,
                    "short": f.short,
                }
                for f in backend.form_fields()
            ],
        }
        for backend in BACKENDS.values()
    ]


def clean_printer(values: Mapping[str, Any]) -> dict[str, Any]:
    """Validate a kiosk's printer form into a printer config (like PRINTER), by its backend."""
    backend = BACKENDS.get(str(values.get("backend") or "").strip())
    if backend is None:
        config: dict[str, Any] = {}
        errors = {"backend": str(_l("Chọn loại kết nối máy in."))}
    else:
        config, problems = backend.clean(values)
        errors = {key: gettext(message) for key, message in problems.items()}
    if errors:
        raise ValidationFailed(
            _l("Chưa lưu: có %(n)s mục chưa hợp lệ.", n=len(errors)), errors=errors
        )
    return config


@transactional
def set_printer(
    device_id: int,
    values: Mapping[str, Any],
    *,
    actor_id: int | None = None,
    actor: str = "",
    now: dt.datetime | None = None,
) -> DeviceView:
    """Set a kiosk's own printer (all or nothing)."""
    now = ensure_now(now)
    device = _device(device_id, actor_id)
    if device.kind != KIOSK:
        raise _invalid("backend", _l("Chỉ ki-ốt mới có máy in."))
    printer = clean_printer(values)
    device.config = {**(device.config or {}), "printer": printer}
    audit.record(
        "device_printer", actor_id=actor_id, actor=actor, target=device.name, details=printer
    )
    view = _view(device, now)
    db.session.commit()
    settings.invalidate()
    return view


def test_print(
    device_id: int, *, actor_id: int | None = None, actor: str = "", now: dt.datetime | None = None
) -> dict[str, Any]:
    """Print the test page on a kiosk's printer now; returns {"ok", "message"}."""
    device = get_device(device_id, actor_id=actor_id, now=now)
    if device.kind != KIOSK:
        raise _invalid("backend", _l("Chỉ ki-ốt mới có máy in."))
    result = print_jobs.print_test_page(device.name)
    message = str(result.message or "") if not result.ok else str(_l("Đã in trang thử."))
    audit.log(
        "device_test_print",
        actor_id=actor_id,
        actor=actor,
        target=device.name,
        details={"ok": bool(result.ok), "error_code": result.error_code, "message": message},
        now=now,
    )
    return {"ok": bool(result.ok), "message": message, "error_code": result.error_code}


def dismiss_print_alert(
    device_id: int, alert_id: str, *, actor_id: int | None = None, actor: str = ""
) -> dict[str, Any]:
    """An administrator handled a kiosk's unprinted ticket another way (audited)."""
    get_device(device_id, actor_id=actor_id)
    return print_jobs.dismiss_alert(alert_id, actor_id=actor_id, actor=actor)


def printer_status(device_id: int, *, actor_id: int | None = None) -> dict[str, Any]:
    """A kiosk printer's state read now (online, paper, error)."""
    device = get_device(device_id, actor_id=actor_id)
    return print_jobs.printer_state(print_jobs.printer_config(device.name))


# --------------------------------------------------------------------------- the device side


@transactional
def pair(
    code: str, *, ip: str | None = None, now: dt.datetime | None = None
) -> tuple[DeviceView, str]:
    """Exchange a pairing code for the device's token (shown once); single use."""
    now = ensure_now(now)
    window = int(settings.effective("LOGIN_FAILURE_WINDOW_S", 900))
    since = now - dt.timedelta(seconds=window)
    if ip and audit.count("device_pair_failed", ip=ip, since=since) >= MAX_PAIR_FAILURES:
        raise PairingThrottled()
    wanted = normalize_code(code)
    device = None
    if len(wanted) == CODE_LENGTH:
        device = db.session.scalar(
            sa.select(Device).where(Device.pairing_hash == _digest(wanted, "pair"))
        )
    if (
        device is None
        or not device.active
        or device.pairing_expires_at is None
        or device.pairing_expires_at <= now
    ):
        audit.record("device_pair_failed", actor="", ip=ip, now=now)
        db.session.commit()
        raise PairingFailed()
    token = secrets.token_urlsafe(32)
    device.token_hash = _digest(token, "token")
    device.pairing_hash = None
    device.pairing_expires_at = None
    device.paired_at = now
    device.last_seen_at = now
    audit.record("device_paired", actor=f"device:{device.name}", target=device.name, ip=ip, now=now)
    view = _view(device, now)
    db.session.commit()
    return view, token


@transactional
def device_from_token(token: str, *, now: dt.datetime | None = None) -> DeviceView:
    """The active device holding a token (its last-seen time refreshed); else DeviceNotPaired."""
    now = ensure_now(now)
    device = None
    if token and len(token) <= 200:
        device = db.session.scalar(
            sa.select(Device).where(Device.token_hash == _digest(token, "token"))
        )
    if device is None or not device.active:
        raise DeviceNotPaired()
    if device.last_seen_at is None or (now - device.last_seen_at).total_seconds() >= TOUCH_EVERY_S:
        device.last_seen_at = now
    view = _view(device, now)
    db.session.commit()
    return view
