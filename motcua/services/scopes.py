"""Roles per site: which sites an account sees and changes.

An account with no row in ``user_sites`` is province-wide: it sees every site, as every
account did before sites had administrators (so an existing hall behaves as it always has).
An account with rows is scoped to those sites: a site administrator (role admin with sites)
manages only their counters, devices, hall settings, hours, officers and sessions; a site
leader sees only their reports and live view; an officer sits only at their counters. What
all sites share (the service-area catalog, installation-wide settings, creating sites) is for
province-wide administrators only. ``None`` as the actor is the system (CLI, housekeeping,
tests): it may do anything, as in ``tickets.check_actor``.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from db import db
from db.models import Site, user_sites
from motcua.errors import NotFound, ProvinceOnly, SiteForbidden

_SITES_OF = sa.select(user_sites.c.site_id).where(user_sites.c.user_id == sa.bindparam("uid"))


@dataclass(frozen=True)
class Scope:
    """The sites an account may see: ``None`` for every site (province-wide)."""

    site_ids: frozenset[int] | None = None

    @property
    def province(self) -> bool:
        """True for a province-wide account (or the system)."""
        return self.site_ids is None

    def allows(self, site_id: int | None) -> bool:
        """True when the account may see and change this site."""
        return self.site_ids is None or site_id in self.site_ids

    def covers(self, site_ids: Iterable[int]) -> bool:
        """True when every one of the sites is the account's (province-wide covers all)."""
        return self.site_ids is None or set(site_ids) <= self.site_ids

    def where(self, column: Any) -> list[Any]:
        """SQL conditions keeping the rows of the account's sites (none when province-wide)."""
        return [] if self.site_ids is None else [column.in_(sorted(self.site_ids))]


PROVINCE = Scope()


def sites_of(user_id: int, *, session: Session | None = None) -> list[int]:
    """The ids of the sites an account is scoped to (empty: province-wide)."""
    conn = (session or db.session()).connection()
    return sorted(int(i) for i in conn.execute(_SITES_OF, {"uid": user_id}).scalars())


def scope_of(actor_id: int | None, *, session: Session | None = None) -> Scope:
    """What an account may see; the system (``None``) sees everything.

    ``session``: read through it (the reports' own reader) instead of the app's session.
    """
    if actor_id is None:
        return PROVINCE
    ids = sites_of(actor_id, session=session)
    return Scope(frozenset(ids)) if ids else PROVINCE


def check_site(actor_id: int | None, site_id: int | None) -> None:
    """The account must be province-wide or scoped to this site (403 ``site_forbidden``)."""
    if not scope_of(actor_id).allows(site_id):
        raise SiteForbidden(site=site_id)


def require_province(actor_id: int | None) -> None:
    """Only a province-wide account may change what all sites share (403 ``province_only``)."""
    if not scope_of(actor_id).province:
        raise ProvinceOnly()


def site_code_for(actor_id: int | None, site_code: str | None, default: str) -> str | None:
    """The site a page shows an account: the one asked for (refused if not the account's),
    else the default site (``default``: its code), or a scoped account's first site when the
    default is not theirs.

    A province-wide account keeps what it asked for (``None``: the default site).
    """
    scope = scope_of(actor_id)
    if site_code:
        site_id = db.session.scalar(sa.select(Site.id).where(Site.code == site_code))
        if site_id is None:
            raise NotFound(site=site_code)
        if not scope.allows(site_id):
            raise SiteForbidden(site=site_code)
        return site_code
    if scope.site_ids is None:
        return None
    codes = dict(
        db.session.execute(sa.select(Site.id, Site.code).where(*scope.where(Site.id))).all()
    )
    return default if default in codes.values() else codes[min(codes)]


def visible_sites(actor_id: int | None) -> list[dict[str, Any]]:
    """The sites an account may see, by id: ``{"id", "code", "name"}``."""
    scope = scope_of(actor_id)
    return [
        {"id": s.id, "code": s.code, "name": s.name}
        for s in db.session.scalars(sa.select(Site).where(*scope.where(Site.id)).order_by(Site.id))
    ]
