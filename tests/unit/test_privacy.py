"""Privacy by design: a day of planted personal data, the retention run, the database dumped
and searched: nothing planted survives past its time, phone and ID numbers are never stored,
the reports stay exact (SQLite and PostgreSQL)."""

from __future__ import annotations

import contextlib
import datetime as dt
import sqlite3
import subprocess
from typing import Any

import sqlalchemy as sa
from flask import Flask

from db import db
from db.models import Appointment, ServiceArea, Site
from motcua.services import privacy, ratings, reports, tickets
from motcua.timeutil import business_day
from tests.conftest import T0, counter_id, sqlite_file
from tests.support.parts import missing_part

PHONE, CCCD, CMND, PHONE2 = "0912345678", "001088012345", "123456789", "0987 654 321"
YOUNG_DAY = T0 + dt.timedelta(days=60)
PURGE_AT = T0 + dt.timedelta(days=91)  # T0's business day is then 91 days old: past 90


PLANTED = (
    "HS-{}-0001", "{}-COMMENT", "{}-NOTE", "{}-REASON", "{}-ADDRESS-KEY", "{}-BROWSER-KEY"
)  # fmt: skip


def plant_a_day(app: Flask, at: dt.datetime, tag: str) -> None:
    """A finished ticket with a dossier code and a rating comment, a transfer with a note, a
    cancel with a reason: each carries the tag and a phone or ID number as a citizen types."""
    desk = counter_id(app, 1)
    minute = dt.timedelta(minutes=1)
    with app.app_context():
        served = tickets.issue_ticket("A", now=at)
        moved = tickets.issue_ticket("A", now=at)
        dropped = tickets.issue_ticket("A", now=at)
        tickets.call_next(desk, now=at + minute)
        tickets.finish(desk, dossier_code=f"HS-{tag}-0001", now=at + 2 * minute)
        ratings.rate_by_token(
            served.token,
            1,
            comment=f"Tôi là Nguyễn Văn An, SĐT {PHONE}, CCCD {CCCD}, góp ý {tag}-COMMENT",
            now=at + 3 * minute,
        )
        assert tickets.call_next(desk, now=at + 4 * minute).code == moved.code
        tickets.transfer(desk, to_service="B", note=f"{tag}-NOTE gọi {PHONE2}", now=at + 5 * minute)
        tickets.cancel(dropped.token, reason=f"{tag}-REASON CMND {CMND}", now=at + 6 * minute)
        # A booking of that day, as the booking page stores it: the keyed hashes of the
        # address and browser that booked (they bound bookings per day, nothing else).
        db.session.add(
            Appointment(
                code=f"{tag}BK",
                token_hash=f"{tag}-token-hash",
                site_id=db.session.scalar(sa.select(Site.id).where(Site.code == "main")),
                area_id=db.session.scalar(
                    sa.select(ServiceArea.id).where(ServiceArea.prefix == "A")
                ),
                kind="slot",
                business_day=business_day(at),
                created_at=at,
                expires_at=at + 60 * minute,
                address_key=f"{tag}-ADDRESS-KEY",
                browser_key=f"{tag}-BROWSER-KEY",
            )
        )
        db.session.commit()


def dump(app: Flask) -> str:
    """Every row of the database as text: SQLite's iterdump, or pg_dump --data-only."""
    uri = app.config["SQLALCHEMY_DATABASE_URI"]
    with app.app_context():
        db.session.remove()
    path = sqlite_file(uri)
    if path is not None:
        with contextlib.closing(sqlite3.connect(path)) as conn:
            return "\n".join(conn.iterdump())
    url = sa.make_url(uri)
    try:
        out = subprocess.run(
            ["pg_dump", "--data-only", "--no-owner", "--dbname", url.database or ""],
            env={
                "PGHOST": url.host or "localhost",
                "PGPORT": str(url.port or 5432),
                "PGUSER": url.username or "",
                "PGPASSWORD": url.password or "",
                "PATH": "/usr/bin:/bin",
            },
            capture_output=True,
            text=True,
            check=True,
            timeout=60,
        )
    except FileNotFoundError:
        missing_part("pg_dump not installed (apt-get install postgresql-client)")
    return out.stdout


def report(app: Flask) -> Any:
    """The area report over both planted days."""
    period = reports.period_for(
        "custom", T0.date(), start=T0.date(), end=YOUNG_DAY.date() + dt.timedelta(days=1)
    )
    with app.app_context():
        built = reports.build_report(period, "area", now=PURGE_AT)
        return (built.rows, built.total, built.satisfaction, built.satisfaction_total)


def test_nothing_planted_survives_past_its_time(any_app: Flask) -> None:
    """Old dossier codes, notes, reasons and comments are gone after the retention; the young
    are kept; typed phone and ID numbers were never stored; the reports do not change."""
    app = any_app
    plant_a_day(app, T0, "OLD")
    plant_a_day(app, YOUNG_DAY, "YOUNG")
    before = dump(app)
    for secret in (PHONE, CCCD, CMND, PHONE2, "654 321"):
        assert secret not in before, f"{secret} was stored"  # masked at write
    assert "[số đã ẩn]" in before
    for tag in ("OLD", "YOUNG"):
        for kind in PLANTED:
            assert kind.format(tag) in before
    assert "Nguyễn Văn An" in before  # a name cannot be masked: the retention erases it
    reported = report(app)

    with app.app_context():
        done = privacy.purge(now=PURGE_AT)
    assert done.kept_from == (PURGE_AT + dt.timedelta(hours=7)).date() - dt.timedelta(days=90)
    assert (done.tickets, done.ratings) == (1, 1)
    assert done.events == 3  # the finish (dossier code), the transfer (note), the cancel
    assert done.appointments == 1  # the old booking's address and browser hashes

    after = dump(app)
    for kind in PLANTED:
        assert kind.format("OLD") not in after
        assert kind.format("YOUNG") in after
    assert after.count("Nguyễn Văn An") == 1  # the young comment only
    assert report(app) == reported  # tickets stay as anonymous statistics: reports exact
    with app.app_context():
        assert privacy.purge(now=PURGE_AT).as_dict()["tickets"] == 0  # nothing left to do
        policy = privacy.retention_policy(now=PURGE_AT)
    assert (policy.days, policy.due, policy.tickets_with_dossier, policy.comments) == (90, 0, 1, 1)


def test_masking_is_a_setting(app: Flask) -> None:
    """MASK_PERSONAL_TEXT off: free text is kept as typed (within the retention)."""
    with app.app_context():
        assert privacy.mask_personal(f"SĐT {PHONE}, lúc 08:15 ngày 23/11/2026") == (
            "SĐT [số đã ẩn], lúc 08:15 ngày 23/11/2026"
        )
        assert privacy.mask_personal("+84 912.345.678, phí 1.500.000 đồng") == (
            "[số đã ẩn], phí 1.500.000 đồng"
        )
        app.config["MASK_PERSONAL_TEXT"] = False
        assert privacy.mask_personal(f"SĐT {PHONE}") == f"SĐT {PHONE}"


def test_purge_command_and_admin_page(app: Flask) -> None:
    """`motcua purge` reports what it erased; the admin page says what is kept, how long."""
    from tests.conftest import csrf_token, login

    out = app.test_cli_runner().invoke(args=["purge", "--days", "30"])
    assert out.exit_code == 0 and "Đã xóa dữ liệu cá nhân trước ngày" in out.output
    client = app.test_client()
    login(client, "admin")
    page = client.get("/admin/privacy").get_data(as_text=True)
    assert "Dữ liệu cá nhân" in page and "90 ngày, rồi tự động xóa." in page
    assert "Lần xóa gần nhất" in page  # the command's run, audited
    done = client.post(
        "/admin/privacy/purge", data={"csrf_token": csrf_token(client, "/admin/privacy")}
    )
    assert done.status_code == 302
    officer = app.test_client()
    login(officer, "canbo1")
    assert officer.get("/admin/privacy").status_code == 403
