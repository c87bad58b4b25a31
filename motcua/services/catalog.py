"""Service areas, sites and counters: listing and seeding the defaults."""

from __future__ import annotations

import datetime as dt
from typing import Any

import sqlalchemy as sa

from db import db
from db.models import Counter, ServiceArea, Site, Ticket, TicketStatus
from motcua.i18n import gettext_noop as N_
from motcua.services import catalog_cache
from motcua.services.common import current_policy, get_site, transactional
from motcua.services.sites import install_site_code
from motcua.services.tickets import predict
from motcua.timeutil import business_day, ensure_now

# domain.md: default service areas (prefixes are our proposal; all configurable).
DEFAULT_AREAS: list[dict[str, Any]] = [
    {
        "code": "tuphap",
        "prefix": "A",
        "name": N_("Tư pháp – Hộ tịch"),
        "description": "Khai sinh, kết hôn, khai tử, xác nhận tình trạng hôn nhân, trích lục",
    },
    {
        "code": "chungthuc",
        "prefix": "B",
        "name": N_("Chứng thực"),
        "description": "Bản sao từ bản chính, chữ ký, hợp đồng; cấp bản sao từ sổ gốc",
    },
    {
        "code": "datdai",
        "prefix": "C",
        "name": N_("Đất đai – Xây dựng – Đô thị"),
        "description": "Đăng ký đất đai, biến động; giấy phép xây dựng nhà ở riêng lẻ",
    },
    {
        "code": "kinhte",
        "prefix": "D",
        "name": N_("Kinh tế – Hộ kinh doanh"),
        "description": "Đăng ký, thay đổi, tạm ngừng hộ kinh doanh",
    },
    {
        "code": "vanhoaxahoi",
        "prefix": "E",
        "name": N_("Văn hóa – Xã hội"),
        "description": "Chính sách, người có công, bảo trợ xã hội, trẻ em, BHYT",
    },
    {
        "code": "nongnghiep",
        "prefix": "F",
        "name": N_("Nông nghiệp – Môi trường"),
        "description": "",
    },
    {
        "code": "noivu",
        "prefix": "G",
        "name": N_("Nội vụ – Khác"),
        "description": "Tôn giáo, thi đua khen thưởng, tiếp công dân",
    },
    {
        "code": "hotro",
        "prefix": "H",
        "name": N_("Hỗ trợ dịch vụ công trực tuyến – Trả kết quả"),
        "description": "Hướng dẫn nộp trực tuyến, VNeID, trả kết quả",
    },
]


@transactional
def seed_default_areas() -> int:
    """Create the default service areas if there are none; return how many were added."""
    if db.session.scalar(sa.select(sa.func.count()).select_from(ServiceArea)):
        return 0
    for order, area in enumerate(DEFAULT_AREAS, start=1):
        db.session.add(ServiceArea(sort_order=order, target_wait_minutes=15, active=True, **area))
    db.session.commit()
    catalog_cache.invalidate()
    return len(DEFAULT_AREAS)


@transactional
def ensure_site(code: str, name: str, unit_name: str = "", kind: str = "hall") -> int:
    """Create a site if missing (or give a bare one its unit name); return its id."""
    site = db.session.scalar(sa.select(Site).where(Site.code == code))
    if site is None:
        site = Site(code=code, name=name, unit_name=unit_name, kind=kind, seq=0)
        db.session.add(site)
    elif unit_name and not site.unit_name:
        # `motcua init` creates the site without a unit; `motcua demo` names it.
        site.unit_name = unit_name
    else:
        return site.id
    db.session.commit()
    catalog_cache.invalidate()
    return site.id


@transactional
def add_counter(site_code: str, number: int, area_codes: list[str], name: str = "") -> int:
    """Create a counter serving the given areas (codes or prefixes); return its id."""
    site = get_site(site_code)
    keys = {k.lower() for k in area_codes}
    areas = [
        a
        for a in db.session.scalars(sa.select(ServiceArea))
        if a.code.lower() in keys or a.prefix.lower() in keys
    ]
    counter = Counter(
        site_id=site.id,
        number=number,
        name=name or f"Quầy {number}",
        sort_order=number,
        areas=areas,
    )
    db.session.add(counter)
    db.session.commit()
    catalog_cache.invalidate()
    return counter.id


@transactional
def list_services(
    *, site_code: str | None = None, now: dt.datetime | None = None
) -> list[dict[str, Any]]:
    """Active areas served at the site, with waiting counts and an estimated wait."""
    now = ensure_now(now)
    site = get_site(site_code or install_site_code())
    policy = current_policy(site.id)
    day = business_day(now)
    counters = list(
        db.session.scalars(
            sa.select(Counter).where(Counter.site_id == site.id, Counter.active.is_(True))
        )
    )
    waiting = dict(
        db.session.execute(
            sa.select(Ticket.area_id, sa.func.count())
            .where(
                Ticket.site_id == site.id,
                Ticket.business_day == day,
                Ticket.status == TicketStatus.WAITING,
            )
            .group_by(Ticket.area_id)
        ).all()
    )
    out: list[dict[str, Any]] = []
    for area in db.session.scalars(
        sa.select(ServiceArea)
        .where(ServiceArea.active.is_(True))
        .order_by(ServiceArea.sort_order, ServiceArea.prefix)
    ):
        serving = sorted(c.number for c in counters if area in c.areas)
        if not serving:
            continue
        n = int(waiting.get(area.id, 0))
        # A ticket taken now has every waiting one ahead (a priority one jumps: the kiosk
        # shows the plain case).
        wait = predict.predict_wait(site.id, area.id, day, n, policy, now)
        low, high = wait.shown()
        out.append(
            {
                "code": area.code,
                "prefix": area.prefix,
                "name": area.name,
                "description": area.description,
                "waiting": n,
                "counters": serving,
                "estimated_wait_minutes": wait.minutes,
                "wait_low_minutes": low,
                "wait_high_minutes": high,
                "target_wait_minutes": area.target_wait_minutes,
            }
        )
    return out
