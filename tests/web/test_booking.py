"""The booking page, the kiosk's check-in and the appointments REST API, through HTTP."""

from __future__ import annotations

import re

import pytest
import sqlalchemy as sa
from flask import Flask
from flask.testing import FlaskClient

from db import db
from db.models import AuditEntry, Site, Ticket, User
from motcua.errors import SiteForbidden
from motcua.services import appointments, catalog, staff
from tests.conftest import PASSWORD, bearer, csrf_token, login
from tests.support.sites import SITE2, add_site_2

DAILY = {"daily": ["00:00-23:59"]}
# The tests check in on real time: with 5-minute slots the first free slot starts at most 10
# minutes ahead at any hour (23:50–23:55 is the day's last), inside the 15-minute early window.


def offer(app: Flask, **kwargs: object) -> None:
    """Area A takes bookings and numbers from home all day (the tests run on real time)."""
    rule = {"offered": True, "remote": True, "slot_minutes": 15, "capacity": 2}
    rule.update(kwargs)
    with app.app_context():
        appointments.save_rule("A", hours_spec=DAILY, days_ahead=1, **rule)  # type: ignore[arg-type]


def test_book_on_the_page_see_the_code_and_cancel(app: Flask, client: FlaskClient) -> None:
    """The page lists A, its slots; a tap books and shows the code and QR; cancel says so."""
    offer(app)
    home = client.get("/booking/").get_data(as_text=True)
    assert "/booking/tuphap/" in home
    page = client.get("/booking/tuphap/").get_data(as_text=True)
    first = re.search(r'name="starts_at" value="([^"]+)"', page)
    assert first, page
    token = csrf_token(client, "/booking/tuphap/")
    r = client.post("/booking/tuphap/", data={"csrf_token": token, "starts_at": first.group(1)})
    assert r.status_code == 303
    holder = client.get(r.headers["Location"]).get_data(as_text=True)
    code = re.search(r'id="b-code"[^>]*>(\w{6})<', holder)
    assert code and "<svg" in holder and "Đã đặt" in holder
    cancel_url = r.headers["Location"] + "/cancel"
    assert client.post(cancel_url, data={"csrf_token": token}).status_code == 303
    assert "Đã hủy" in client.get(r.headers["Location"]).get_data(as_text=True)


def test_an_area_without_bookings_is_refused_in_words(client: FlaskClient) -> None:
    """No rules set: the area's page says it takes no bookings."""
    r = client.get("/booking/tuphap/")
    assert r.status_code == 409 and "không nhận đặt lịch hẹn" in r.get_data(as_text=True)


def test_rest_slots_book_check_in_and_cancel(app: Flask, client: FlaskClient) -> None:
    """The portal's path: slots, book (signed in: no per-address limit), check in at a kiosk
    (a ticket in the priority lane), a second scan answers the same ticket; cancel of a
    checked-in booking is refused."""
    offer(app, capacity=1, slot_minutes=5)  # the first slot within the check-in window
    slots = client.get("/api/v1/appointments/slots?service=A").json
    assert slots and slots[0]["free"] == 1
    r = client.post(
        "/api/v1/appointments",
        json={"service": "A", "starts_at": slots[0]["starts_at"]},
        headers=bearer(client),
    )
    assert r.status_code == 201, r.json
    booking = r.json
    again = client.post(
        "/api/v1/appointments", json={"service": "A", "starts_at": slots[0]["starts_at"]}
    )
    assert again.status_code == 409 and again.json["error"] == "slot_unavailable"
    done = client.post("/kiosk/api/appointments/check-in", json={"code": booking["code"]})
    assert done.status_code == 201, done.json
    assert done.json["ticket"]["priority_label"] == "Có lịch hẹn" and "<svg" in done.json["qr_svg"]
    twice = client.post("/api/v1/appointments/check-in", json={"code": booking["code"]})
    assert (
        twice.status_code == 200 and twice.json["ticket"]["token"] == done.json["ticket"]["token"]
    )
    refused = client.post(f"/api/v1/appointments/{booking['token']}/cancel")
    assert refused.status_code == 409 and refused.json["error"] == "appointment_closed"
    assert client.get(f"/api/v1/appointments/{booking['token']}").json["status"] == "checked_in"


def test_rest_unknown_code_and_anonymous_limits(app: Flask, client: FlaskClient) -> None:
    """An unknown code is a 404 in words; an anonymous address gets six a day, then 429."""
    offer(app, capacity=50)
    r = client.post("/api/v1/appointments/check-in", json={"code": "ZZZZZZ"})
    assert r.status_code == 404 and r.json["error"] == "appointment_not_found"
    codes = [
        client.post("/api/v1/appointments/remote", json={"service": "A"}).status_code
        for _ in range(7)
    ]
    assert codes == [201] * 6 + [429]


def test_admin_sets_an_areas_booking_rules(app: Flask, client: FlaskClient) -> None:
    """The admin's form turns booking on for A with its own hours; a bad hour is refused by
    field; the audit log names the change."""
    assert login(client, "admin").status_code == 302
    assert "Tư pháp" in client.get("/admin/appointments").get_data(as_text=True)
    form = {
        "offered": "y",
        "slot_minutes": "20",
        "capacity": "3",
        "days_ahead": "5",
        "hours_mon": "25:00-26:00",
        "csrf_token": csrf_token(client, "/admin/appointments/tuphap"),
    }
    bad = client.post("/admin/appointments/tuphap", data=form)
    assert bad.status_code == 422 and "không đúng dạng" in bad.get_data(as_text=True)
    form["hours_mon"] = "08:00-11:00"
    assert client.post("/admin/appointments/tuphap", data=form).status_code == 302
    with app.app_context():
        rule = appointments.booking_rule("A")
        audited = db.session.scalar(
            sa.select(AuditEntry.target).where(AuditEntry.action == "appointment_rules")
        )
    assert (rule.offered, rule.remote, rule.slot_minutes, rule.capacity) == (True, False, 20, 3)
    assert rule.hours == {"mon": ["08:00-11:00"]} and audited == "main:tuphap"


def test_each_ward_books_and_checks_in_at_its_own_address(app: Flask, client: FlaskClient) -> None:
    """Two sites: a booking made at /s/<ward 2>/ is ward 2's; a kiosk of the hall does not know
    its code, ward 2's kiosk checks it in with ward 2's number; a site-1 administrator cannot
    set ward 2's booking rules."""
    add_site_2(app)
    with app.app_context():
        appointments.save_rule(
            "C", offered=True, remote=True, slot_minutes=5, capacity=2, hours_spec=DAILY,
            days_ahead=1, site_code=SITE2,
        )  # fmt: skip
        assert [a["code"] for a in appointments.bookable_areas()] == []  # the hall: none
        staff.create_staff("qtv1", full_name="QTV điểm 1", role="admin", password=PASSWORD,
                           site_ids=[catalog.ensure_site("main", "x")])  # fmt: skip
    prefix = f"/s/{SITE2}"
    assert "/booking/datdai/" in client.get(f"{prefix}/booking/").get_data(as_text=True)
    slots = client.get(f"{prefix}/api/v1/appointments/slots?service=C").json
    booked = client.post(
        f"{prefix}/api/v1/appointments", json={"service": "C", "starts_at": slots[0]["starts_at"]}
    )
    assert booked.status_code == 201, booked.json
    code = booked.json["code"]
    hall = client.post("/kiosk/api/appointments/check-in", json={"code": code})
    assert hall.status_code == 404 and hall.json["error"] == "appointment_not_found"
    ward = client.post(f"{prefix}/kiosk/api/appointments/check-in", json={"code": code})
    assert ward.status_code == 201, ward.json
    assert ward.json["ticket"]["code"] == "C001"
    with app.app_context():
        issued_at = db.session.scalar(
            sa.select(Site.code)
            .join(Ticket, Ticket.site_id == Site.id)
            .where(Ticket.token == ward.json["ticket"]["token"])
        )
        assert issued_at == SITE2
        qtv1 = db.session.scalar(sa.select(User.id).where(User.username == "qtv1"))
        with pytest.raises(SiteForbidden):
            appointments.save_rule(
                "C", offered=False, remote=False, slot_minutes=15, capacity=1, hours_spec=None,
                days_ahead=1, site_code=SITE2, actor_id=qtv1,
            )  # fmt: skip


def test_the_slots_are_shown_one_day_at_a_time(app: Flask, client: FlaskClient) -> None:
    """Days bookable: the page lists the first day's slots and links to each day; each day's
    page lists that day's slots only, and together they are every free slot."""
    with app.app_context():  # two days ahead: at least two days even late in the evening
        appointments.save_rule(
            "A", offered=True, remote=False, slot_minutes=60, capacity=1, hours_spec=DAILY,
            days_ahead=2,
        )  # fmt: skip
    every = {s["starts_at"] for s in client.get("/api/v1/appointments/slots?service=A").json}
    page = client.get("/booking/tuphap/").get_data(as_text=True)
    days = re.findall(r'href="/booking/tuphap/\?day=([0-9-]+)"', page)
    assert len(days) >= 2, page
    shown: list[set[str]] = []
    for day in days:
        html = client.get(f"/booking/tuphap/?day={day}").get_data(as_text=True)
        heading = re.search(r'id="b-day">([^<]+)<', html)
        assert heading and heading.group(1).endswith(
            "/".join(reversed(day.split("-")))
        )  # "Thứ …, dd/mm/yyyy"
        shown.append(set(re.findall(r'name="starts_at" value="([^"]+)"', html)))
    assert all(shown) and sum(len(day) for day in shown) == len(every)
    assert set().union(*shown) == every  # disjoint (the sum) and complete
    assert set(re.findall(r'name="starts_at" value="([^"]+)"', page)) == shown[0]
