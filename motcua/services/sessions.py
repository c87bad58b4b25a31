"""Saturday and mobile sessions ("Ngày thứ 7 vì dân"): planning, the laptop kit, report filters.

A session is planned at the hall: its type, place, date and hours, the areas offered and the
officers on duty. A Saturday at the hall runs on the hall's own site (its queue, counters and
screens); a reception point or a mobile session gets a site of its own, so that its ticket
numbers never collide with the hall's and its records merge back by UUID.

The kit (``make_kit``) is one JSON file that sets up a laptop for the session: the site, the
areas, counters, the officers who may sign in (with their password hashes, so their usual
password works offline), the rating scale and texts, the printer profile (58 mm by default)
and a random HMAC key, which the hall keeps to verify the records the laptop brings back
(``motcua.services.session_records``).

A session's tickets are the tickets of its site on its date (every ticket of its own site for
a session away from the hall); ``ticket_conditions`` and the ``session_*_expr`` helpers turn
that into SQL for the reports.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import logging
import re
import secrets
from dataclasses import dataclass, field, fields
from typing import Any

import sqlalchemy as sa
from flask import current_app
from flask_babel import lazy_gettext as _l
from sqlalchemy.orm import aliased

from db import db
from db.models import (
    Counter,
    Rating,
    ServiceArea,
    ServiceSession,
    SessionKit,
    Site,
    Ticket,
    TicketStatus,
    User,
)
from motcua.errors import KitRefused, SessionNotFound, SiteForbidden, ValidationFailed
from motcua.inputs import load_json
from motcua.services import catalog_cache, scopes
from motcua.services.common import transactional
from motcua.services.sites import actor_site_code, install_site_code
from motcua.timeutil import ensure_now

log = logging.getLogger(__name__)

SATURDAY_HALL, RECEPTION_POINT, MOBILE = "saturday_hall", "reception_point", "mobile"
KINDS = (SATURDAY_HALL, RECEPTION_POINT, MOBILE)
KIND_LABELS: dict[str, Any] = {
    SATURDAY_HALL: _l("Thứ Bảy tại Trung tâm"),
    RECEPTION_POINT: _l("Điểm tiếp nhận"),
    MOBILE: _l("Lưu động"),
}
# Tickets outside every session (the hall's ordinary days) group under this key.
REGULAR = "regular"
REGULAR_LABEL = _l("Ngày làm việc thường")
CODE_PREFIXES = {SATURDAY_HALL: "t7", RECEPTION_POINT: "dtn", MOBILE: "ld"}
# The kind of a session's own site, in the administration's words (services/hall.py).
SITE_KINDS = {RECEPTION_POINT: "point", MOBILE: "mobile"}
DEFAULT_HOURS = "07:30-11:30"
# A portable 58 mm printer: 384 dots. The hall may set SESSION_PRINTER in its configuration.
DEFAULT_PRINTER: dict[str, Any] = {"backend": "file", "width_px": 384}
MAX_COUNTERS = 20

KIT_FORMAT = "motcua-session-kit"
FORMAT_VERSION = 1
# Settings the laptop takes over from the hall (read through the settings service).
KIT_SETTINGS = (
    "RATING_SCALE",
    "RATING_QUESTION",
    "RATING_REASONS",
    "RATING_LOW_MAX",
    "RATING_WINDOW_HOURS",
    "RATING_TABLET_WINDOW_S",
    "RATING_TABLET_TIMEOUT_S",
    "RATING_THANKS_S",
    "PRIORITY_POLICY",
    "PRIORITY_EVERY_N",
    "PRIORITY_CATEGORIES",
    "NOSHOW_REQUEUE",
    "NOSHOW_MAX_MISSES",
    "DEFAULT_SERVICE_MINUTES",
    "TICKET_DIGITS",
    "TICKET_FOOTER",
    "TICKET_HALL_NAME",
    "ANNOUNCE_TEMPLATE",
    "ANNOUNCE_REPEAT",
    "ANNOUNCE_DIGITS",
    "ANNOUNCE_LINH",
    "ANNOUNCE_THOUSAND",
    "ANNOUNCE_LETTER_NAMES",
)
# Never the laptop's: it is the machine's own address (``motcua session open`` asks for it).
# Kits made before this rule carried the hall's; the laptop drops it.
MACHINE_SETTINGS = ("PUBLIC_BASE_URL",)
SPAN_RE = re.compile(r"^([01]?\d|2[0-3]):([0-5]\d)-([01]?\d|2[0-3]):([0-5]\d)$")
CODE_RE = re.compile(r"^[a-z0-9][a-z0-9-]{1,39}$")


@dataclass
class SessionView:
    """A planned session as the CLI, the API and the admin pages see it."""

    uuid: str
    code: str
    kind: str
    kind_label: str
    place: str
    date: dt.date
    hours: str
    note: str
    site_code: str
    site_name: str
    counters: int
    areas: list[str] = field(default_factory=list)
    area_names: list[str] = field(default_factory=list)
    officers: list[str] = field(default_factory=list)
    officer_names: list[str] = field(default_factory=list)
    printer: dict[str, Any] = field(default_factory=dict)
    kits: int = 0
    last_import_at: dt.datetime | None = None
    last_import: dict[str, Any] | None = None

    def as_dict(self) -> dict[str, Any]:
        """JSON-friendly dict (ISO dates)."""
        out = {f.name: getattr(self, f.name) for f in fields(self)}
        out["date"] = self.date.isoformat()
        out["last_import_at"] = self.last_import_at.isoformat() if self.last_import_at else None
        return out


@dataclass(frozen=True)
class KitFile:
    """A kit ready to be written: its bytes, its id and a suggested file name."""

    data: bytes
    kit_uuid: str
    session_code: str
    file_name: str


# --------------------------------------------------------------------------- helpers


def kind_label(kind: str | None) -> str:
    """The Vietnamese name of a session type (or of ordinary days)."""
    if kind in (None, REGULAR):
        return str(REGULAR_LABEL)
    return str(KIND_LABELS.get(kind, kind))


def hall_setting(name: str) -> Any:
    """A hall setting in force: the settings service when there is one, else the config."""
    try:
        from motcua.services import settings as hall_settings
    except ImportError:  # pragma: no cover - the admin part is optional
        return current_app.config.get(name)
    return hall_settings.effective(name)


def canonical_json(value: Any) -> str:
    """Stable JSON text: sorted keys, no spaces, UTF-8 kept (the text that is hashed)."""
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def sha256_hex(text: str) -> str:
    """SHA-256 of a text's UTF-8 bytes, in hex."""
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def clean_hours(text: str) -> str:
    """Normalise "7:30 - 11:30, 13:30-17:00" to "07:30-11:30,13:30-17:00"; refuse bad spans."""
    spans: list[str] = []
    for part in (text or "").replace("–", "-").split(","):
        part = part.replace(" ", "")
        if not part:
            continue
        match = SPAN_RE.match(part)
        if match is None:
            raise ValidationFailed(_l("Giờ làm việc viết dạng 07:30-11:30."), field="hours")
        h1, m1, h2, m2 = (int(g) for g in match.groups())
        if (h2, m2) <= (h1, m1):
            raise ValidationFailed(_l("Giờ kết thúc phải sau giờ bắt đầu."), field="hours")
        spans.append(f"{h1:02d}:{m1:02d}-{h2:02d}:{m2:02d}")
    if not spans:
        raise ValidationFailed(_l("Cần nhập giờ làm việc của phiên."), field="hours")
    return ",".join(spans)


def _view(session: ServiceSession) -> SessionView:
    kits = db.session.scalar(
        sa.select(sa.func.count())
        .select_from(SessionKit)
        .where(SessionKit.session_id == session.id)
    )
    return SessionView(
        uuid=session.uuid,
        code=session.code,
        kind=session.kind,
        kind_label=kind_label(session.kind),
        place=session.place,
        date=session.date,
        hours=session.hours,
        note=session.note,
        site_code=session.site.code,
        site_name=session.site.name,
        counters=session.counters,
        areas=[a.code for a in session.areas],
        area_names=[a.name for a in session.areas],
        officers=[u.username for u in session.officers],
        officer_names=[u.full_name for u in session.officers],
        printer=dict(session.printer or {}),
        kits=int(kits or 0),
        last_import_at=session.last_import_at,
        last_import=session.last_import,
    )


def _session(key: str) -> ServiceSession:
    """A session by its code or UUID."""
    key = (key or "").strip()
    found = db.session.scalar(
        sa.select(ServiceSession).where(
            sa.or_(ServiceSession.code == key.lower(), ServiceSession.uuid == key)
        )
    )
    if found is None:
        raise SessionNotFound(session=key)
    return found


def _areas(keys: list[str]) -> list[ServiceArea]:
    """Active areas by code or prefix, in the hall's order; an unknown one is refused."""
    wanted = [k.strip().lower() for k in keys if k and k.strip()]
    if not wanted:
        raise ValidationFailed(_l("Cần chọn ít nhất một lĩnh vực."), field="areas")
    all_areas = list(db.session.scalars(sa.select(ServiceArea).where(ServiceArea.active.is_(True))))
    chosen: dict[int, ServiceArea] = {}
    for key in wanted:
        area = next((a for a in all_areas if key in (a.code.lower(), a.prefix.lower())), None)
        if area is None:
            raise ValidationFailed(
                _l("Không có lĩnh vực %(key)s.", key=key), field="areas", area=key
            )
        chosen[area.id] = area
    return sorted(chosen.values(), key=lambda a: (a.sort_order, a.prefix))


def _officers(usernames: list[str]) -> list[User]:
    """Active accounts by username; an unknown one is refused."""
    names = [u.strip().lower() for u in usernames if u and u.strip()]
    if not names:
        raise ValidationFailed(_l("Cần chọn ít nhất một cán bộ trực."), field="officers")
    users = {
        u.username: u
        for u in db.session.scalars(
            sa.select(User).where(User.username.in_(names), User.active.is_(True))
        )
    }
    missing = [n for n in names if n not in users]
    if missing:
        raise ValidationFailed(
            _l("Không có tài khoản: %(names)s.", names=", ".join(missing)),
            field="officers",
            missing=missing,
        )
    return [users[n] for n in dict.fromkeys(names)]


def _free_code(kind: str, date: dt.date) -> str:
    """The first unused code "ld-20261128", "ld-20261128-2", … (sessions and sites)."""
    base = f"{CODE_PREFIXES[kind]}-{date:%Y%m%d}"
    taken = set(
        db.session.scalars(
            sa.select(ServiceSession.code).where(ServiceSession.code.like(base + "%"))
        )
    ) | set(db.session.scalars(sa.select(Site.code).where(Site.code.like(base + "%"))))
    code, n = base, 1
    while code in taken:
        n += 1
        code = f"{base}-{n}"
    return code


# --------------------------------------------------------------------------- planning


@transactional
def plan_session(
    kind: str,
    place: str,
    date: dt.date,
    *,
    areas: list[str],
    officers: list[str],
    hours: str = DEFAULT_HOURS,
    counters: int | None = None,
    code: str | None = None,
    note: str = "",
    printer: dict[str, Any] | None = None,
    hall_site_code: str | None = None,
    actor_id: int | None = None,
    actor: str = "",
    now: dt.datetime | None = None,
) -> SessionView:
    """Plan a session; away from the hall it gets its own site and counters."""
    now = ensure_now(now)
    if kind not in KINDS:
        raise ValidationFailed(_l("Loại phiên không hợp lệ."), field="kind")
    place = " ".join((place or "").split())[:200]
    if not place:
        raise ValidationFailed(_l("Cần nhập địa điểm của phiên."), field="place")
    hours = clean_hours(hours)
    chosen_areas = _areas(areas)
    duty = _officers(officers)
    scope = scopes.scope_of(actor_id)
    elsewhere = [u.username for u in duty if not _within(scope, u)]
    if elsewhere:  # a site administrator puts only their sites' staff on duty
        raise SiteForbidden(officers=elsewhere)
    # A site administrator plans for one of their sites (their first, unless they name one).
    hall_code = actor_site_code(actor_id, hall_site_code)
    hall = db.session.scalar(sa.select(Site).where(Site.code == hall_code))
    if hall is None:
        raise SessionNotFound(_l("Không tìm thấy Trung tâm (điểm chính)."), site=hall_site_code)
    if code:
        code = code.strip().lower()
        if not CODE_RE.match(code):
            raise ValidationFailed(
                _l("Mã phiên chỉ gồm chữ thường không dấu, số và dấu gạch ngang."), field="code"
            )
        taken = db.session.scalar(
            sa.select(ServiceSession.id).where(ServiceSession.code == code)
        ) or db.session.scalar(sa.select(Site.id).where(Site.code == code))
        if taken:
            raise ValidationFailed(_l("Mã phiên %(code)s đã được dùng.", code=code), field="code")
    else:
        code = _free_code(kind, date)
    n_counters = len(duty) if counters is None else int(counters)
    if kind == SATURDAY_HALL:
        clash = db.session.scalar(
            sa.select(ServiceSession.code).where(
                ServiceSession.site_id == hall.id, ServiceSession.date == date
            )
        )
        if clash:
            raise ValidationFailed(
                _l("Ngày %(day)s đã có phiên %(code)s tại Trung tâm.", day=f"{date:%d/%m/%Y}",
                   code=clash),
                field="date",
            )  # fmt: skip
        site = hall
        n_counters = 0
    else:
        if not 1 <= n_counters <= MAX_COUNTERS:
            raise ValidationFailed(_l("Số quầy từ 1 đến 20."), field="counters")
        site = Site(
            code=code,
            name=place,
            unit_name=hall.unit_name,
            kind=SITE_KINDS[kind],
            active=True,
            seq=0,
        )
        db.session.add(site)
        db.session.flush()
        _give_site_to_planner(actor_id, site)
        for number in range(1, n_counters + 1):
            db.session.add(
                Counter(
                    site_id=site.id,
                    number=number,
                    name=f"Quầy {number}",
                    sort_order=number,
                    areas=list(chosen_areas),
                )
            )
    profile = {**DEFAULT_PRINTER, **(current_app.config.get("SESSION_PRINTER") or {})}
    profile.update(printer or {})
    session = ServiceSession(
        code=code,
        kind=kind,
        place=place,
        date=date,
        hours=hours,
        note=(note or "").strip()[:500],
        site_id=site.id,
        counters=n_counters,
        printer=profile,
        created_at=now,
        created_by=actor_id,
        areas=chosen_areas,
        officers=duty,
    )
    db.session.add(session)
    db.session.flush()
    _audit(
        "session_planned",
        actor_id=actor_id,
        actor=actor,
        target=code,
        details={"kind": kind, "place": place, "date": date.isoformat()},
        now=now,
    )
    view = _view(session)
    db.session.commit()
    catalog_cache.invalidate()
    log.info("session %s planned (%s, %s, %s)", code, kind, place, date)
    return view


def _audit(action: str, **kwargs: Any) -> None:
    """Add an audit entry to the current transaction when the audit service exists."""
    try:
        from motcua.services import audit
    except ImportError:  # pragma: no cover - the admin part is optional
        return
    audit.record(action, **kwargs)


@transactional
def list_sessions(
    *,
    start: dt.date | None = None,
    end: dt.date | None = None,
    kind: str | None = None,
    actor_id: int | None = None,
) -> list[SessionView]:
    """Sessions of the account's sites in a date range (newest first), optionally of one
    type."""
    stmt = sa.select(ServiceSession).where(*scopes.scope_of(actor_id).where(ServiceSession.site_id))
    if start is not None:
        stmt = stmt.where(ServiceSession.date >= start)
    if end is not None:
        stmt = stmt.where(ServiceSession.date <= end)
    if kind:
        stmt = stmt.where(ServiceSession.kind == kind)
    rows = db.session.scalars(stmt.order_by(ServiceSession.date.desc(), ServiceSession.code))
    return [_view(s) for s in rows]


@transactional
def plan_choices(*, actor_id: int | None = None) -> dict[str, Any]:
    """What a planning form offers: the active areas and the active officers (a site
    administrator's: the officers of their sites)."""
    scope = scopes.scope_of(actor_id)
    areas = db.session.scalars(
        sa.select(ServiceArea)
        .where(ServiceArea.active.is_(True))
        .order_by(ServiceArea.sort_order, ServiceArea.prefix)
    )
    users = db.session.scalars(
        sa.select(User)
        .where(User.active.is_(True), User.role.in_(("officer", "leader")))
        .order_by(User.full_name)
    )
    return {
        "kinds": [{"code": k, "name": kind_label(k)} for k in KINDS],
        "areas": [{"code": a.code, "prefix": a.prefix, "name": a.name} for a in areas],
        "officers": [
            {"username": u.username, "full_name": u.full_name} for u in users if _within(scope, u)
        ],
    }


def _within(scope: scopes.Scope, user: User) -> bool:
    """True when a scoped planner may put this account on duty: it works at their sites."""
    own = [s.id for s in user.sites]
    return scope.province or (bool(own) and scope.covers(own))


# --------------------------------------------------------------------------- the kit


def _site_dict(site: Site) -> dict[str, Any]:
    return {
        "uuid": site.uuid,
        "code": site.code,
        "name": site.name,
        "unit_name": site.unit_name,
        "kind": site.kind,
    }


def _give_site_to_planner(actor_id: int | None, site: Site) -> None:
    """A site administrator keeps the session site they planned among their sites."""
    if actor_id is None or scopes.scope_of(actor_id).province:
        return
    planner = db.session.get(User, actor_id)
    if planner is not None:
        planner.sites.append(site)


@transactional
def make_kit(
    key: str,
    *,
    actor_id: int | None = None,
    actor: str = "",
    now: dt.datetime | None = None,
) -> KitFile:
    """Make the session's kit: a new signing key kept here, and the file for the laptop."""
    now = ensure_now(now)
    session = _session(key)
    scopes.check_site(actor_id, session.site_id)
    site = session.site
    hall = db.session.scalar(sa.select(Site).where(Site.code == install_site_code())) or site
    signing_key = secrets.token_hex(32)
    kit = SessionKit(
        session_id=session.id, key_hex=signing_key, created_at=now, created_by=actor_id
    )
    db.session.add(kit)
    db.session.flush()
    counters = list(
        db.session.scalars(
            sa.select(Counter)
            .where(Counter.site_id == site.id, Counter.active.is_(True))
            .order_by(Counter.number)
        )
    )
    areas = {a.id: a for a in session.areas}
    for counter in counters:
        for area in counter.areas:
            if area.active:
                areas.setdefault(area.id, area)
    payload: dict[str, Any] = {
        "format": KIT_FORMAT,
        "version": FORMAT_VERSION,
        "kit": kit.uuid,
        "key": signing_key,
        "created_at": now.isoformat(),
        "session": {
            "uuid": session.uuid,
            "code": session.code,
            "kind": session.kind,
            "place": session.place,
            "date": session.date.isoformat(),
            "hours": session.hours,
            "note": session.note,
            "counters": session.counters,
            "areas": [a.code for a in session.areas],
            "officers": [u.username for u in session.officers],
        },
        "hall": _site_dict(hall),
        "site": _site_dict(site),
        "areas": [
            {
                "code": a.code,
                "prefix": a.prefix,
                "name": a.name,
                "description": a.description,
                "target_wait_minutes": a.target_wait_minutes,
                "sort_order": a.sort_order,
            }
            for a in sorted(areas.values(), key=lambda a: (a.sort_order, a.prefix))
        ],
        "counters": [
            {
                "number": c.number,
                "name": c.name,
                "areas": [a.code for a in c.areas if a.id in areas],
            }
            for c in counters
        ],
        "officers": [
            {
                "username": u.username,
                "full_name": u.full_name,
                "position": u.position,
                "unit": u.unit,
                "role": u.role,
                "password_hash": u.password_hash,
            }
            for u in session.officers
            if u.active
        ],
        "settings": {name: hall_setting(name) for name in KIT_SETTINGS},
        "printer": dict(session.printer or DEFAULT_PRINTER),
    }
    text = canonical_json(payload)
    envelope = {
        "format": KIT_FORMAT,
        "version": FORMAT_VERSION,
        "session": session.code,
        "kit": kit.uuid,
        "sha256": sha256_hex(text),
        "payload": text,
    }
    _audit(
        "session_kit",
        actor_id=actor_id,
        actor=actor,
        target=session.code,
        details={"kit": kit.uuid},
        now=now,
    )
    result = KitFile(
        data=json.dumps(envelope, ensure_ascii=False, indent=1).encode("utf-8"),
        kit_uuid=kit.uuid,
        session_code=session.code,
        file_name=f"bo-cai-dat-{session.code}.json",
    )
    db.session.commit()
    return result


def read_kit(data: bytes) -> dict[str, Any]:
    """The kit's content after checking its format and checksum (KitRefused otherwise)."""
    try:
        envelope = load_json(data.decode("utf-8"))
    except (UnicodeDecodeError, ValueError) as exc:
        raise KitRefused(
            _l("Tệp cài đặt phiên bị hỏng hoặc không đầy đủ. Hãy chép lại tệp từ Trung tâm.")
        ) from exc
    if not isinstance(envelope, dict) or envelope.get("format") != KIT_FORMAT:
        raise KitRefused(_l("Đây không phải tệp cài đặt phiên của motcua."))
    if envelope.get("version") != FORMAT_VERSION:
        raise KitRefused(_l("Phiên bản tệp cài đặt không được hỗ trợ; hãy cập nhật motcua."))
    text = envelope.get("payload")
    if not isinstance(text, str) or sha256_hex(text) != envelope.get("sha256"):
        raise KitRefused(
            _l("Mã kiểm tra của tệp cài đặt không khớp: tệp đã bị sửa hoặc chép không đủ.")
        )
    payload = load_json(text)
    if not isinstance(payload, dict) or payload.get("kit") != envelope.get("kit"):
        raise KitRefused()
    return payload


def _ensure_fresh() -> None:
    """Refuse a database that already holds tickets or another session."""
    tickets = db.session.scalar(sa.select(sa.func.count()).select_from(Ticket))
    sessions = db.session.scalar(sa.select(sa.func.count()).select_from(ServiceSession))
    if tickets or sessions:
        raise KitRefused(
            _l(
                "Cơ sở dữ liệu này đã có dữ liệu (số thứ tự hoặc phiên khác). Hãy mở tệp cài đặt "
                "vào một cơ sở dữ liệu mới."
            )
        )


def _install_areas(rows: list[dict[str, Any]]) -> dict[str, ServiceArea]:
    """Upsert the kit's areas by code; areas the kit does not offer are switched off."""
    existing = {a.code: a for a in db.session.scalars(sa.select(ServiceArea))}
    kit_codes = {r["code"] for r in rows}
    prefixes = {a.prefix: a.code for a in existing.values()}
    for row in rows:
        holder = prefixes.get(row["prefix"])
        if holder is not None and holder != row["code"]:
            raise KitRefused(
                _l("Lĩnh vực %(prefix)s trên máy này khác Trung tâm; hãy dùng cơ sở dữ liệu mới.",
                   prefix=row["prefix"])
            )  # fmt: skip
    for other in existing.values():
        if other.code not in kit_codes:
            other.active = False
    out: dict[str, ServiceArea] = {}
    for row in rows:
        area = existing.get(row["code"])
        if area is None:
            area = ServiceArea(code=row["code"])
            db.session.add(area)
        area.prefix = row["prefix"]
        area.name = row["name"]
        area.description = row.get("description") or ""
        area.target_wait_minutes = int(row.get("target_wait_minutes") or 15)
        area.sort_order = int(row.get("sort_order") or 0)
        area.active = True
        out[area.code] = area
    db.session.flush()
    return out


def _install_site(row: dict[str, Any]) -> Site:
    """The site with the kit's UUID and code (an existing one of that code takes the UUID)."""
    site = db.session.scalar(
        sa.select(Site).where(sa.or_(Site.uuid == row["uuid"], Site.code == row["code"]))
    )
    if site is None:
        site = Site(seq=0)
        db.session.add(site)
    site.uuid = row["uuid"]
    site.code = row["code"]
    site.name = row["name"]
    site.unit_name = row.get("unit_name") or ""
    site.kind = row.get("kind") or "hall"
    site.active = True
    db.session.flush()
    return site


@transactional
def install_kit(
    data: bytes, *, public_base_url: str | None = None, now: dt.datetime | None = None
) -> dict[str, Any]:
    """Install a kit into this (fresh, migrated) database; return the laptop's settings.

    ``public_base_url`` is the laptop's own address (the QR on its tickets points there).
    """
    now = ensure_now(now)
    payload = read_kit(data)
    try:
        info = payload["session"]
        site_row = payload["site"]
        _ensure_fresh()
        areas = _install_areas(payload["areas"])
        site = _install_site(site_row)
        users: dict[str, User] = {}
        for row in payload["officers"]:
            user = db.session.scalar(sa.select(User).where(User.username == row["username"]))
            if user is None:
                user = User(username=row["username"], created_at=now)
                db.session.add(user)
            user.full_name = row["full_name"]
            user.position = row.get("position") or ""
            user.unit = row.get("unit") or ""
            user.role = row["role"]
            user.password_hash = row["password_hash"]
            user.active = True
            users[user.username] = user
        have = {
            c.number: c
            for c in db.session.scalars(sa.select(Counter).where(Counter.site_id == site.id))
        }
        for row in payload["counters"]:
            counter = have.get(int(row["number"]))
            if counter is None:
                counter = Counter(site_id=site.id, number=int(row["number"]))
                db.session.add(counter)
            counter.name = row.get("name") or f"Quầy {int(row['number'])}"
            counter.sort_order = int(row["number"])
            counter.active = True
            counter.paused = False
            counter.areas = [areas[c] for c in row["areas"] if c in areas]
        session = ServiceSession(
            uuid=info["uuid"],
            code=info["code"],
            kind=info["kind"],
            place=info["place"],
            date=dt.date.fromisoformat(info["date"]),
            hours=info["hours"],
            note=info.get("note") or "",
            site_id=site.id,
            counters=int(info.get("counters") or 0),
            printer=payload.get("printer"),
            created_at=now,
            areas=[areas[c] for c in info["areas"] if c in areas],
            officers=[users[u] for u in info["officers"] if u in users],
        )
        db.session.add(session)
        db.session.flush()
        db.session.add(
            SessionKit(
                uuid=payload["kit"], session_id=session.id, key_hex=payload["key"], created_at=now
            )
        )
    except (KeyError, TypeError, ValueError) as exc:
        db.session.rollback()
        raise KitRefused() from exc
    config = laptop_config(payload, public_base_url=public_base_url)
    db.session.commit()
    catalog_cache.invalidate()
    log.info("kit %s installed for session %s", payload["kit"], info["code"])
    return config


def laptop_config(payload: dict[str, Any], *, public_base_url: str | None = None) -> dict[str, Any]:
    """The configuration the laptop runs with for the session (written to its config.py)."""
    settings = {
        k: v
        for k, v in (payload.get("settings") or {}).items()
        if v is not None and k not in MACHINE_SETTINGS
    }
    if public_base_url:
        settings["PUBLIC_BASE_URL"] = public_base_url
    return {
        **settings,
        "SITE_CODE": payload["site"]["code"],
        "PRINTER": dict(payload.get("printer") or DEFAULT_PRINTER),
        # The laptop is switched on for the session only: the kiosk never refuses a number.
        "WORKING_HOURS": {},
        "REQUIRE_DEVICE_PAIRING": False,
        "SESSION_CODE": payload["session"]["code"],
    }


# --------------------------------------------------------------------------- report helpers


def _match(session: Any) -> Any:
    """SQL: the session (an alias of ServiceSession) holds the current Ticket row."""
    return sa.and_(
        session.site_id == Ticket.site_id,
        sa.or_(session.kind != SATURDAY_HALL, session.date == Ticket.business_day),
    )


def ticket_conditions(
    *, kind: str | None = None, place: str | None = None, code: str | None = None
) -> list[Any]:
    """SQL conditions on ``Ticket`` for the tickets of sessions of a type, place or code.

    ``kind="regular"`` keeps the tickets outside every session (the hall's ordinary days).
    """
    out: list[Any] = []
    if kind == REGULAR:
        s = aliased(ServiceSession)
        out.append(~sa.exists(sa.select(s.id).where(_match(s))))
        if place or code:
            out.append(sa.false())
        return out
    if kind is None and not place and not code:
        return out
    s = aliased(ServiceSession)
    where = [_match(s)]
    if kind:
        where.append(s.kind == kind)
    if place:
        where.append(s.place == place)
    if code:
        where.append(s.code == code)
    out.append(sa.exists(sa.select(s.id).where(*where)))
    return out


def session_kind_expr() -> Any:
    """SQL: the type of the session holding a Ticket row, or "regular"."""
    s = aliased(ServiceSession)
    kind = sa.select(s.kind).where(_match(s)).limit(1).scalar_subquery()
    return sa.func.coalesce(kind, REGULAR)


def session_place_expr() -> Any:
    """SQL: the place of the session holding a Ticket row, or "" (the hall's ordinary days)."""
    s = aliased(ServiceSession)
    place = sa.select(s.place).where(_match(s)).limit(1).scalar_subquery()
    return sa.func.coalesce(place, "")


def session_code_expr() -> Any:
    """SQL: the code of the session holding a Ticket row, or "" outside sessions."""
    s = aliased(ServiceSession)
    code = sa.select(s.code).where(_match(s)).limit(1).scalar_subquery()
    return sa.func.coalesce(code, "")


# Groupings the periodic reports offer on top of their own (area, officer, …).
REPORT_GROUPS = ("session_kind", "session_place")


def report_key(group: str) -> Any:
    """SQL key of a session grouping, over a query whose FROM holds ``Ticket``."""
    return session_kind_expr() if group == "session_kind" else session_place_expr()


def report_labels(group: str, keys: set[Any]) -> dict[Any, tuple[str, str, Any]]:
    """{key: (label, unit, sort key)} for the session groupings of the reports."""
    order = {REGULAR: 0, SATURDAY_HALL: 1, RECEPTION_POINT: 2, MOBILE: 3}
    out: dict[Any, tuple[str, str, Any]] = {}
    for key in keys:
        if group == "session_kind":
            out[key] = (kind_label(key), "", (order.get(key, 9), str(key)))
        elif not key:
            out[key] = (str(_l("Trung tâm (ngày làm việc thường)")), "", (0, ""))
        else:
            out[key] = (str(key), "", (1, str(key)))
    return out


def rating_report_key(group: str) -> Any:
    """SQL key of a session grouping over a query on ``Rating`` (through its ticket)."""
    return sa.select(report_key(group)).where(Ticket.id == Rating.ticket_id).scalar_subquery()


def rating_conditions(*, kind: str | None = None, place: str | None = None) -> list[Any]:
    """SQL conditions on ``Rating``: the rating's ticket belongs to such sessions."""
    inner = ticket_conditions(kind=kind, place=place)
    if not inner:
        return []
    return [sa.exists(sa.select(Ticket.id).where(Ticket.id == Rating.ticket_id, *inner))]


def kind_choices() -> list[dict[str, str]]:
    """The session types a report can be limited to (ordinary days first)."""
    return [{"code": k, "name": kind_label(k)} for k in (REGULAR, *KINDS)]


@transactional
def session_figures(
    start: dt.date,
    end: dt.date,
    *,
    kind: str | None = None,
    place: str | None = None,
    group: str = "kind",
) -> list[dict[str, Any]]:
    """Tickets issued, served, no-show, walk-ins and rating forms per session type or place."""
    key = {
        "kind": session_kind_expr(),
        "place": session_place_expr(),
        "session": session_code_expr(),
    }
    if group not in key:
        raise ValidationFailed(field="group")
    where = [
        Ticket.business_day >= start,
        Ticket.business_day <= end,
        *ticket_conditions(kind=kind, place=place),
    ]
    k = key[group].label("k")

    def count_if(cond: Any) -> Any:
        return sa.func.coalesce(sa.func.sum(sa.case((cond, 1), else_=0)), 0)

    rows = db.session.execute(
        sa.select(
            k,
            sa.func.count(Ticket.id),
            count_if(Ticket.status == TicketStatus.FINISHED),
            count_if(Ticket.status == TicketStatus.NO_SHOW),
            count_if(Ticket.kiosk == "walkin"),
            sa.func.count(Rating.id),
        )
        .outerjoin(Rating, Rating.ticket_id == Ticket.id)
        .where(*where)
        .group_by(k)
        .order_by(k)
    ).all()
    return [
        {
            "key": key_value,
            "label": kind_label(key_value)
            if group == "kind"
            else (key_value or str(REGULAR_LABEL)),
            "issued": int(issued),
            "served": int(served),
            "no_show": int(no_show),
            "walkins": int(walkins),
            "rated": int(rated),
        }
        for key_value, issued, served, no_show, walkins, rated in rows
    ]
