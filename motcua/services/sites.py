"""Which site a request or a connection is about, and which screens may open unpaired.

One installation serves any number of sites (a ward's hall, a province's satellite points).
The surfaces read what the request carries (a paired device, the ``/s/<code>/`` address
prefix, the counter an officer works at) and hand it here as plain values; the rule that
orders them lives in one place, ``current_site_code``:

1. the paired device's site (kiosks, lobby displays and rating tablets are bound at pairing);
2. the address prefix ``/s/<code>/`` (motcua/sites.py moves it out of the path);
3. a site an unpaired screen names the older way (``?site=`` or ``auth.site``);
4. the officer's site (the counter the console works at, or the account's one site);
5. the installation's default site (``SITE_CODE``, or the only active site).

A single-hall installation has one site and needs no prefix: every rule falls through to 5.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Protocol

import sqlalchemy as sa
from flask import current_app
from flask_babel import lazy_gettext as _l

from db import db
from db.models import DISPLAY_DEVICE, KIOSK_DEVICE, RATING_DEVICE, Counter, Site
from motcua.errors import DeviceNotPaired, NotFound
from motcua.services import catalog_cache, scopes
from motcua.services.settings import effective, effective_config
from motcua.services.transactions import transactional

#: The unattended screens REQUIRE_DEVICE_PAIRING applies to (device kind of each).
SCREENS = (KIOSK_DEVICE, DISPLAY_DEVICE, RATING_DEVICE)


class ScreenDevice(Protocol):
    """A paired device as the rule sees it (``devices.DeviceView``)."""

    @property
    def kind(self) -> str:
        """kiosk, display or rating."""

    @property
    def site_code(self) -> str:
        """The site it was bound to at pairing."""

    def require(self, *kinds: str) -> object:
        """This device if it is of one of the kinds, else DeviceForbidden."""


def install_site_code() -> str:
    """The installation's default site: ``SITE_CODE``, or the only active site when the
    configured code names no active site (an install seeded under another code)."""
    configured = str(current_app.config.get("SITE_CODE") or "main")
    active = catalog_cache.snapshot().sites
    if configured in active or len(active) != 1:
        return configured
    return next(iter(active))


def actor_site_code(actor_id: int | None, asked: str | None, default: str | None = None) -> str:
    """The site a page shows an account: the one asked for (refused if not theirs), else
    ``default`` (the install's default site when none) if it is theirs, else their first
    site; a province-wide account without a request gets the default."""
    default = default or install_site_code()
    return scopes.site_code_for(actor_id, asked, default) or default


def known_site_code(code: str) -> str:
    """The code of an active site, else NotFound with the words an address prefix needs."""
    if code not in catalog_cache.snapshot().sites:
        raise NotFound(
            _l("Không có điểm tiếp nhận mã “%(code)s” (địa chỉ /s/%(code)s/).", code=code),
            site=code,
        )
    return code


def current_site_code(
    *,
    device: ScreenDevice | None = None,
    prefix: str | None = None,
    named: str | None = None,
    officer_site: str | None = None,
) -> str:
    """The site of a request or connection: the paired device's, else the address prefix's
    (an unknown one is NotFound), else the one the screen names, else the officer's, else the
    installation's default."""
    if device is not None:
        return device.site_code
    if prefix is not None:
        return known_site_code(prefix)
    if named:
        return named
    if officer_site:
        return officer_site
    return install_site_code()


@transactional
def officer_site_code(user_id: int | None) -> str | None:
    """The site of the counters an officer sits at (the counter's site is the console's), when
    they are all at one active site; None for an officer not seated anywhere yet."""
    if user_id is None:
        return None
    codes = set(
        db.session.scalars(
            sa.select(Site.code)
            .join(Counter, Counter.site_id == Site.id)
            .where(Counter.officer_id == user_id, Counter.active.is_(True), Site.active.is_(True))
        )
    )
    return codes.pop() if len(codes) == 1 else None


def site_settings(site_code: str) -> Mapping[str, Any]:
    """The settings in force at a site: its own values (scope ``site:<id>``) over the
    installation's, over the configuration."""
    site = catalog_cache.snapshot().sites.get(site_code)
    return effective_config(site_id=site.id if site is not None else None)


def check_screen(kind: str, device: ScreenDevice | None) -> None:
    """May this screen (a kiosk, display or tablet page, or its socket) open?

    A paired device opens only its own kind of screen. With REQUIRE_DEVICE_PAIRING on, an
    unpaired one opens none (DeviceNotPaired): the page then says how to pair. Off (the
    default), any browser in the hall may show the screens, as a single hall expects.
    """
    if device is not None:
        if effective("REQUIRE_DEVICE_PAIRING"):
            device.require(kind)
        return
    if kind in SCREENS and effective("REQUIRE_DEVICE_PAIRING"):
        raise DeviceNotPaired()
