"""A demo hall: one site, the 8 default areas, 6 counters, officers with Vietnamese names."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa

from db import db
from db.models import Counter, User
from motcua.services import accounts, appointments, catalog
from motcua.services.common import default_site_code

DEMO_PASSWORD = "motcua-demo"

DEMO_COUNTERS: list[tuple[int, list[str]]] = [
    (1, ["A"]),
    (2, ["A", "B"]),
    (3, ["B"]),
    (4, ["C", "F"]),
    (5, ["D", "E", "G"]),
    (6, ["H", "E"]),
]

DEMO_OFFICERS: list[tuple[str, str, str]] = [
    ("canbo1", "Nguyễn Thị Lan", "Công chức Tư pháp – Hộ tịch"),
    ("canbo2", "Trần Văn Hùng", "Công chức Tư pháp – Hộ tịch"),
    ("canbo3", "Lê Thị Hồng Nhung", "Công chức Văn phòng – Thống kê"),
    ("canbo4", "Phạm Minh Tuấn", "Công chức Địa chính – Xây dựng"),
    ("canbo5", "Hoàng Thị Mai", "Công chức Văn hóa – Xã hội"),
    ("canbo6", "Vũ Đức Thắng", "Viên chức hỗ trợ dịch vụ công"),
]


DEMO_BOOKING_AREAS = ("A", "C")  # Tư pháp – Hộ tịch, Đất đai – Xây dựng – Đô thị
DEMO_BOOKING_HOURS = {"mon-fri": ["07:30-11:30", "13:30-17:00"], "sat": ["07:30-11:30"]}


def seed_demo(
    *, hall_name: str = "TRUNG TÂM PHỤC VỤ HÀNH CHÍNH CÔNG", unit_name: str = "PHƯỜNG BA ĐÌNH"
) -> dict[str, Any]:
    """Seed the demo hall if it is not there yet; return the logins."""
    site_code = default_site_code()
    catalog.seed_default_areas()
    site_id = catalog.ensure_site(site_code, hall_name, unit_name)
    have = set(db.session.scalars(sa.select(Counter.number).where(Counter.site_id == site_id)))
    for number, prefixes in DEMO_COUNTERS:
        if number not in have:
            catalog.add_counter(site_code, number, prefixes)
    existing = set(db.session.scalars(sa.select(User.username)))
    db.session.commit()
    # Two areas take appointments and numbers from home, so /booking/ has something to show.
    for area in DEMO_BOOKING_AREAS:
        if not appointments.booking_rule(area, site_code=site_code).offered:
            appointments.save_rule(
                area,
                offered=True,
                remote=True,
                slot_minutes=15,
                capacity=2,
                hours_spec=DEMO_BOOKING_HOURS,
                days_ahead=7,
                site_code=site_code,
            )
    logins: list[dict[str, str]] = []
    unit = f"Trung tâm Phục vụ hành chính công {unit_name.title().replace('Phường', 'phường')}"
    for username, name, position in DEMO_OFFICERS:
        if username not in existing:
            accounts.create_user(
                username,
                full_name=name,
                role="officer",
                password=DEMO_PASSWORD,
                position=position,
                unit=unit,
            )
        logins.append({"username": username, "name": name, "role": "officer"})
    for username, name, role, position in [
        ("lanhdao", "Đỗ Quang Minh", "leader", "Giám đốc Trung tâm"),
        ("admin", "Quản trị hệ thống", "admin", "Quản trị viên"),
    ]:
        if username not in existing:
            accounts.create_user(
                username,
                full_name=name,
                role=role,
                password=DEMO_PASSWORD,
                position=position,
                unit=unit,
            )
        logins.append({"username": username, "name": name, "role": role})
    return {"site": site_code, "password": DEMO_PASSWORD, "logins": logins}
