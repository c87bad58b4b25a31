"""Two sites on one server, for the tests of sites as tenants (web and browser)."""

from __future__ import annotations

import sqlalchemy as sa
from flask import Flask
from flask.testing import FlaskClient

from db import db
from db.models import Counter, Site
from motcua.auth import DEVICE_COOKIE
from motcua.services import catalog, devices

SITE2, HALL2 = "phuong-2", "UBND PHƯỜNG HAI"


def add_site_2(app: Flask) -> None:
    """A second ward on the same server: two counters serving only areas C and D."""
    with app.app_context():
        catalog.ensure_site(SITE2, HALL2, "PHƯỜNG HAI")
        catalog.add_counter(SITE2, 1, ["C"])
        catalog.add_counter(SITE2, 2, ["C", "D"])


def site_counter(app: Flask, code: str, number: int) -> int:
    """The id of a counter by its site and number (numbers repeat across sites)."""
    with app.app_context():
        return int(
            db.session.scalar(
                sa.select(Counter.id)
                .join(Site, Site.id == Counter.site_id)
                .where(Site.code == code, Counter.number == number)
            )
        )


def pair(app: Flask, kind: str, name: str, site: str, counter: int | None = None) -> str:
    """Register a device bound to a site (as the admin's form does) and pair it: its token."""
    cid = site_counter(app, site, counter) if counter else None
    with app.app_context():
        site_id = db.session.scalar(sa.select(Site.id).where(Site.code == site))
        pairing = devices.create_device(kind, name, site_id=site_id, counter_id=cid)
        return devices.pair(pairing.code)[1]


def device_client(app: Flask, token: str) -> FlaskClient:
    """A browser that keeps the device's pairing cookie (as /device/pair leaves it)."""
    client = app.test_client()
    client.set_cookie(DEVICE_COOKIE, token)
    return client
