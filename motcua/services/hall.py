"""The hall's layout as administrators edit it: sites, service areas and counters.

Each change is validated whole (nothing half-saved), written with an audit entry in one
transaction, then the catalog cache is dropped and screens are told to reload.
"""

from __future__ import annotations

import datetime as dt
import re
import unicodedata
from collections.abc import Mapping, Sequence
from typing import Any

import sqlalchemy as sa
from flask_babel import lazy_gettext as _l

from db import db
from db.models import AT_COUNTER, Counter, ServiceArea, Site, Ticket
from motcua.errors import NotFound, ValidationFailed
from motcua.services import audit, catalog_cache, scopes, settings
from motcua.services.common import transactional
from motcua.services.sites import install_site_code
from motcua.timeutil import ensure_now

SITE_KINDS: dict[str, Any] = {
    "hall": _l("Trụ sở Trung tâm"),
    "point": _l("Điểm tiếp nhận"),
    "mobile": _l("Điểm lưu động / ngày thứ Bảy"),
}
CODE_RE = re.compile(r"^[a-z0-9][a-z0-9_-]{0,31}$")
PREFIX_RE = re.compile(r"^[A-Z]{1,2}$")
BUSY_STATUSES = AT_COUNTER


class _Errors:
    """Collects field errors; ``raise_if_any`` raises one ValidationFailed for all of them."""

    def __init__(self) -> None:
        self.errors: dict[str, str] = {}

    def add(self, field: str, message: Any) -> None:
        self.errors.setdefault(field, str(message))

    def raise_if_any(self) -> None:
        if self.errors:
            raise ValidationFailed(
                _l("Chưa lưu: có %(n)s mục chưa hợp lệ.", n=len(self.errors)), errors=self.errors
            )


def _text(errors: _Errors, field: str, value: Any, max_len: int, *, required: bool) -> str:
    text = " ".join(str(value or "").split())
    if required and not text:
        errors.add(field, _l("Không được để trống."))
    elif len(text) > max_len:
        errors.add(field, _l("Tối đa %(n)s ký tự.", n=max_len))
    return text


def _int(errors: _Errors, field: str, value: Any, low: int, high: int) -> int:
    try:
        number = int(str(value).strip())
    except (TypeError, ValueError):
        errors.add(field, _l("Hãy nhập một số nguyên."))
        return low
    if not low <= number <= high:
        errors.add(field, _l("Giá trị phải từ %(low)s đến %(high)s.", low=low, high=high))
    return number


def unprintable_characters(text: str) -> list[str]:
    """Characters a ticket, a kiosk and the lobby board cannot show: emoji, pictographs,
    private-use and control characters (the bundled fonts cover letters, digits and
    punctuation, Vietnamese included; a symbol outside them prints as nothing or a box)."""
    found: list[str] = []
    for ch in text:
        category = unicodedata.category(ch)
        if (
            category in ("So", "Cs", "Co", "Cn", "Cc", "Cf")
            or 0xFE00 <= ord(ch) <= 0xFE0F  # emoji presentation selectors
            or ord(ch) >= 0x1F000
        ) and ch not in found:
            found.append(ch)
    return found


def _printable(errors: _Errors, field: str, text: str) -> None:
    bad = unprintable_characters(text)
    if bad:
        # The character and its code: a machine without an emoji font shows only a box.
        shown = ", ".join(
            f"{ch} (U+{ord(ch):04X})"
            if unicodedata.category(ch) not in ("Cc", "Cf")
            else f"U+{ord(ch):04X}"
            for ch in bad
        )
        errors.add(
            field,
            _l(
                "Có ký tự không in được trên vé và không hiện được trên màn hình "
                "(biểu tượng cảm xúc, ký hiệu): %(chars)s. Hãy xóa ký tự đó.",
                chars=shown or "?",
            ),
        )


def _changed(catalog: bool = True) -> None:
    """After a commit: forget cached catalog and settings, make screens reload."""
    if catalog:
        catalog_cache.invalidate()
    settings.announce_change(["catalog"])


# --------------------------------------------------------------------------- sites


def _site_dict(site: Site) -> dict[str, Any]:
    hours = settings.own_value(settings.site_scope(site.id), settings.WORKING_HOURS)
    spec = hours if hours is not None else settings.effective(settings.WORKING_HOURS)
    return {
        "id": site.id,
        "code": site.code,
        "name": site.name,
        "unit_name": site.unit_name,
        "kind": site.kind,
        "kind_label": str(SITE_KINDS.get(site.kind, site.kind)),
        "active": site.active,
        "default": site.code == install_site_code(),
        "hours": settings.hours_by_day(spec),
        "hours_own": hours is not None,
        "counters": len(site.counters),
    }


@transactional
def list_sites(*, actor_id: int | None = None) -> list[dict[str, Any]]:
    """Every site the account may see, with its kind, hours and counter count."""
    where = scopes.scope_of(actor_id).where(Site.id)
    return [
        _site_dict(s) for s in db.session.scalars(sa.select(Site).where(*where).order_by(Site.id))
    ]


@transactional
def get_site(site_id: int, *, actor_id: int | None = None) -> dict[str, Any]:
    """One site, for its form (a site of the account's)."""
    site = db.session.get(Site, site_id)
    if site is None:
        raise NotFound(site=site_id)
    scopes.check_site(actor_id, site.id)
    return _site_dict(site)


@transactional
def save_site(
    site_id: int | None,
    *,
    name: str,
    unit_name: str = "",
    kind: str = "hall",
    active: bool = True,
    hours: Mapping[str, Any],
    code: str | None = None,
    actor_id: int | None = None,
    actor: str = "",
    now: dt.datetime | None = None,
) -> dict[str, Any]:
    """Create (with a code) or update a site and its working hours per weekday."""
    now = ensure_now(now)
    errors = _Errors()
    site = db.session.get(Site, site_id) if site_id else None
    if site_id and site is None:
        raise NotFound(site=site_id)
    if site is None:  # a new site is the province's decision
        scopes.require_province(actor_id)
    else:
        scopes.check_site(actor_id, site.id)
    if site is None:
        code = (code or "").strip().lower()
        if not CODE_RE.match(code):
            errors.add("code", _l("Mã chỉ gồm chữ thường không dấu, số, dấu gạch, ví dụ: diem-2."))
        elif db.session.scalar(sa.select(Site.id).where(Site.code == code)):
            errors.add("code", _l("Mã này đã được dùng."))
    name = _text(errors, "name", name, 200, required=True)
    unit_name = _text(errors, "unit_name", unit_name, 200, required=False)
    if kind not in SITE_KINDS:
        errors.add("kind", _l("Chọn loại điểm tiếp nhận."))
    if site is not None and not active and site.code == install_site_code():
        errors.add("active", _l("Không thể ngừng hoạt động điểm tiếp nhận mặc định."))
    try:
        spec = settings.clean_working_hours(hours)
    except ValidationFailed as exc:
        errors.errors.update(exc.details.get("errors") or {})
        spec = {}
    errors.raise_if_any()
    action = "site_updated" if site is not None else "site_created"
    if site is None:
        site = Site(code=code, name=name, unit_name=unit_name, kind=kind, active=active, seq=0)
        db.session.add(site)
        db.session.flush()
    else:
        site.name, site.unit_name, site.kind, site.active = name, unit_name, kind, active
    settings.put(
        settings.site_scope(site.id), settings.WORKING_HOURS, spec, actor_id=actor_id, now=now
    )
    audit.record(
        action,
        actor_id=actor_id,
        actor=actor,
        target=site.code,
        details={
            "name": name,
            "unit_name": unit_name,
            "kind": kind,
            "active": active,
            "hours": spec,
        },
        now=now,
    )
    site_id = site.id
    db.session.commit()
    _changed()
    return get_site(site_id)


# --------------------------------------------------------------------------- areas


def _area_dict(area: ServiceArea, serving: dict[int, list[int]]) -> dict[str, Any]:
    return {
        "id": area.id,
        "code": area.code,
        "prefix": area.prefix,
        "name": area.name,
        "description": area.description,
        "sort_order": area.sort_order,
        "target_wait_minutes": area.target_wait_minutes,
        "active": area.active,
        "counter_ids": serving.get(area.id, []),
    }


def _serving() -> dict[int, list[int]]:
    out: dict[int, list[int]] = {}
    for counter in db.session.scalars(sa.select(Counter).order_by(Counter.number)):
        for area in counter.areas:
            out.setdefault(area.id, []).append(counter.id)
    return out


@transactional
def list_areas(*, actor_id: int | None = None) -> list[dict[str, Any]]:
    """Every service area in display order, with the counters that serve it.

    The catalog is the province's: with ``actor_id`` (the catalog pages) only a
    province-wide account may read it here; forms that pick areas call it without one.
    """
    if actor_id is not None:
        scopes.require_province(actor_id)
    serving = _serving()
    return [
        _area_dict(a, serving)
        for a in db.session.scalars(
            sa.select(ServiceArea).order_by(ServiceArea.sort_order, ServiceArea.prefix)
        )
    ]


@transactional
def get_area(area_id: int, *, actor_id: int | None = None) -> dict[str, Any]:
    """One service area, for its form (province-wide accounts)."""
    scopes.require_province(actor_id)
    area = db.session.get(ServiceArea, area_id)
    if area is None:
        raise NotFound(area=area_id)
    return _area_dict(area, _serving())


def _counters_by_id(errors: _Errors, ids: Sequence[int], field: str) -> list[Counter]:
    wanted = {int(i) for i in ids}
    counters = list(db.session.scalars(sa.select(Counter).where(Counter.id.in_(wanted))))
    if len(counters) != len(wanted):
        errors.add(field, _l("Có quầy không tồn tại."))
    return counters


@transactional
def save_area(
    area_id: int | None,
    *,
    code: str,
    prefix: str,
    name: str,
    description: str = "",
    sort_order: int | None = None,
    target_wait_minutes: int | None = 15,
    active: bool = True,
    counter_ids: Sequence[int] = (),
    actor_id: int | None = None,
    actor: str = "",
    now: dt.datetime | None = None,
) -> dict[str, Any]:
    """Create or update a service area and the counters that serve it (province-wide only:
    the catalog is shared by every site)."""
    scopes.require_province(actor_id)
    now = ensure_now(now)
    errors = _Errors()
    area = db.session.get(ServiceArea, area_id) if area_id else None
    if area_id and area is None:
        raise NotFound(area=area_id)
    code = (code or "").strip().lower()
    prefix = (prefix or "").strip().upper()
    if not CODE_RE.match(code):
        errors.add("code", _l("Mã chỉ gồm chữ thường không dấu, số, dấu gạch, ví dụ: tuphap."))
    elif db.session.scalar(
        sa.select(ServiceArea.id).where(ServiceArea.code == code, ServiceArea.id != (area_id or 0))
    ):
        errors.add("code", _l("Mã này đã được dùng."))
    if not PREFIX_RE.match(prefix):
        errors.add("prefix", _l("Chữ cái đầu số là 1–2 chữ in hoa không dấu, ví dụ: A."))
    elif db.session.scalar(
        sa.select(ServiceArea.id).where(
            ServiceArea.prefix == prefix, ServiceArea.id != (area_id or 0)
        )
    ):
        errors.add("prefix", _l("Chữ cái này đã dùng cho lĩnh vực khác."))
    name = _text(errors, "name", name, 200, required=True)
    _printable(errors, "name", name)
    description = _text(errors, "description", description, 500, required=False)
    _printable(errors, "description", description)
    if sort_order is None or str(sort_order).strip() == "":
        # Left empty: a new area goes after the others; an edited one keeps its place.
        if area is not None:
            order = area.sort_order
        else:
            last = db.session.scalar(sa.select(sa.func.max(ServiceArea.sort_order)))
            order = min(999, (last or 0) + 1)
    else:
        order = _int(errors, "sort_order", sort_order, 0, 999)
    target = _int(errors, "target_wait_minutes", target_wait_minutes, 1, 240)
    counters = _counters_by_id(errors, counter_ids, "counter_ids")
    errors.raise_if_any()
    action = "area_updated" if area is not None else "area_created"
    if area is None:
        area = ServiceArea(code=code, prefix=prefix, name=name)
        db.session.add(area)
    area.code, area.prefix, area.name, area.description = code, prefix, name, description
    area.sort_order, area.target_wait_minutes, area.active = order, target, active
    db.session.flush()
    wanted = {c.id for c in counters}
    for counter in db.session.scalars(sa.select(Counter)):
        has = area in counter.areas
        if counter.id in wanted and not has:
            counter.areas.append(area)
        elif counter.id not in wanted and has:
            counter.areas.remove(area)
    audit.record(
        action,
        actor_id=actor_id,
        actor=actor,
        target=f"{prefix} {name}",
        details={
            "code": code,
            "prefix": prefix,
            "active": active,
            "target_wait_minutes": target,
            "counters": sorted(c.number for c in counters),
        },
        now=now,
    )
    area_id = area.id
    db.session.commit()
    _changed()
    return get_area(area_id)


# --------------------------------------------------------------------------- counters


def _counter_dict(counter: Counter) -> dict[str, Any]:
    return {
        "id": counter.id,
        "site_id": counter.site_id,
        "site_name": counter.site.name,
        "number": counter.number,
        "name": counter.name,
        "sort_order": counter.sort_order,
        "active": counter.active,
        "paused": counter.paused,
        "area_ids": [a.id for a in counter.areas],
        "area_prefixes": [a.prefix for a in counter.areas],
    }


@transactional
def list_counters(*, actor_id: int | None = None) -> list[dict[str, Any]]:
    """Every counter of the account's sites by site and order, with the areas it serves."""
    where = scopes.scope_of(actor_id).where(Counter.site_id)
    return [
        _counter_dict(c)
        for c in db.session.scalars(
            sa.select(Counter)
            .where(*where)
            .order_by(Counter.site_id, Counter.sort_order, Counter.number)
        )
    ]


@transactional
def get_counter(counter_id: int, *, actor_id: int | None = None) -> dict[str, Any]:
    """One counter of the account's sites, for its form."""
    counter = db.session.get(Counter, counter_id)
    if counter is None:
        raise NotFound(counter=counter_id)
    scopes.check_site(actor_id, counter.site_id)
    return _counter_dict(counter)


@transactional
def save_counter(
    counter_id: int | None,
    *,
    site_id: int | None,
    number: int | None,
    name: str = "",
    sort_order: int | None = None,
    active: bool = True,
    area_ids: Sequence[int] = (),
    actor_id: int | None = None,
    actor: str = "",
    now: dt.datetime | None = None,
) -> dict[str, Any]:
    """Create or update a counter and the areas it serves."""
    now = ensure_now(now)
    errors = _Errors()
    counter = db.session.get(Counter, counter_id) if counter_id else None
    if counter_id and counter is None:
        raise NotFound(counter=counter_id)
    if counter is not None:
        scopes.check_site(actor_id, counter.site_id)
    site = db.session.get(Site, site_id) if site_id else None
    if site is None:
        errors.add("site_id", _l("Chọn điểm tiếp nhận."))
    else:
        scopes.check_site(actor_id, site.id)
    num = _int(errors, "number", number, 1, 999)
    if site is not None and "number" not in errors.errors:
        clash = db.session.scalar(
            sa.select(Counter.id).where(
                Counter.site_id == site.id, Counter.number == num, Counter.id != (counter_id or 0)
            )
        )
        if clash:
            errors.add("number", _l("Điểm tiếp nhận này đã có quầy số %(n)s.", n=num))
    name = _text(errors, "name", name, 100, required=False) or f"Quầy {num}"
    order = num if sort_order is None else _int(errors, "sort_order", sort_order, 0, 999)
    areas = list(
        db.session.scalars(sa.select(ServiceArea).where(ServiceArea.id.in_(list(area_ids))))
    )
    if len(areas) != len(set(area_ids)):
        errors.add("area_ids", _l("Có lĩnh vực không tồn tại."))
    if counter is not None and not active and counter.active:
        busy = db.session.scalar(
            sa.select(Ticket.code).where(
                Ticket.counter_id == counter.id, Ticket.status.in_(BUSY_STATUSES)
            )
        )
        if busy:
            errors.add(
                "active",
                _l("Quầy đang phục vụ số %(code)s: hãy hoàn thành trước khi ngừng.", code=busy),
            )
    errors.raise_if_any()
    assert site is not None
    action = "counter_updated" if counter is not None else "counter_created"
    if counter is None:
        counter = Counter(site_id=site.id, number=num)
        db.session.add(counter)
    counter.site_id, counter.number, counter.name = site.id, num, name
    counter.sort_order, counter.active = order, active
    counter.areas = sorted(areas, key=lambda a: (a.sort_order, a.prefix))
    audit.record(
        action,
        actor_id=actor_id,
        actor=actor,
        target=f"{site.code}/{num}",
        details={"name": name, "active": active, "areas": [a.prefix for a in areas]},
        now=now,
    )
    db.session.flush()
    counter_id = counter.id
    db.session.commit()
    _changed()
    return get_counter(counter_id)
