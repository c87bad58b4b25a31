"""Shared plumbing for services: policy, site lookup, sequence numbers, snapshot reads.

``transactional`` lives in ``motcua.services.transactions`` (audit and settings need it and
are needed here); it is re-exported for the services that take it from this module.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, cast

import sqlalchemy as sa
from flask import current_app

from db import db
from db.engine import READ_ONLY
from db.models import Site
from motcua.errors import NotFound
from motcua.services.transactions import transactional as transactional  # re-exported


@dataclass(frozen=True)
class QueuePolicy:
    """The hall's queueing rules (priority, no-show, estimates, numbering)."""

    priority_policy: str = "strict"
    priority_every_n: int = 3
    noshow_requeue: bool = True
    noshow_max_misses: int = 2
    default_service_minutes: float = 6.0
    digits: int = 3
    priority_categories: Mapping[str, str] = field(default_factory=dict)

    @classmethod
    def from_config(cls, config: Mapping[str, Any]) -> QueuePolicy:
        """Build the policy from the app's settings."""
        return cls(
            priority_policy=str(config.get("PRIORITY_POLICY", "strict")),
            priority_every_n=int(config.get("PRIORITY_EVERY_N", 3)),
            noshow_requeue=bool(config.get("NOSHOW_REQUEUE", True)),
            noshow_max_misses=int(config.get("NOSHOW_MAX_MISSES", 2)),
            default_service_minutes=float(config.get("DEFAULT_SERVICE_MINUTES", 6)),
            digits=int(config.get("TICKET_DIGITS", 3)),
            priority_categories=dict(config.get("PRIORITY_CATEGORIES") or {}),
        )


def current_policy(site_id: int | None = None) -> QueuePolicy:
    """The policy in force: the site's own settings, the hall's, then the app's configuration."""
    from motcua.services.settings import effective_config  # settings imports this module

    return QueuePolicy.from_config(effective_config(site_id=site_id))


def default_site_code() -> str:
    """The configured site (``SITE_CODE``) for callers that name none (CLI, scripts, demo).

    Requests and connections never rely on it: their site comes from
    ``motcua.services.sites.current_site_code`` (device, address prefix, officer, then
    ``install_site_code``, which also knows the only site of an install).
    """
    return str(current_app.config.get("SITE_CODE", "main"))


def get_site(site_code: str | None = None) -> Site:
    """The site by code (default: the configured one, ``default_site_code``)."""
    code = site_code or default_site_code()
    site = db.session.scalar(sa.select(Site).where(Site.code == code))
    if site is None:
        raise NotFound(site=code)
    return site


def bump_seq(site_id: int, count: int = 1) -> int:
    """Advance the site's board sequence by ``count`` inside the current transaction.

    Returns the new (last) value; a caller that publishes ``count`` facts numbers them
    ``last - count + 1 … last``.
    """
    # Flush pending ticket/counter changes first: the site row is always the last lock a
    # transaction takes (PostgreSQL), so two transactions can never wait on each other.
    db.session.flush()
    params = {"site_id": site_id, "count": count}
    return int(db.session.connection().execute(_BUMP_SEQ, params).scalar_one())


_SITES = cast(sa.Table, Site.__table__)
# Built once (a hot path): Core on the session's connection, no ORM bookkeeping.
_BUMP_SEQ = (
    sa.update(_SITES)
    .where(_SITES.c.id == sa.bindparam("site_id"))
    .values(seq=_SITES.c.seq + sa.bindparam("count"))
    .returning(_SITES.c.seq)
)


def begin_snapshot_read() -> None:
    """Start a read-only transaction whose statements all see one snapshot.

    The board and console snapshots read ``Site.seq`` and the data in several statements; the
    screens fold the facts newer than that ``seq`` into them, so every statement must see the
    same committed state. SQLite (WAL): a deferred ``BEGIN`` without the in-process write lock
    (the ``READ_ONLY`` execution option, see ``db.engine``) does that already; PostgreSQL
    needs REPEATABLE READ (its default READ COMMITTED takes a new snapshot per statement).
    """
    session = db.session()
    if session.in_transaction():
        return
    options: dict[str, Any] = {READ_ONLY: True}
    if dialect_name() == "postgresql":
        options["isolation_level"] = "REPEATABLE READ"
    session.connection(execution_options=options)


def dialect_name() -> str:
    """The database dialect in use ("sqlite", "postgresql")."""
    return db.session.get_bind().dialect.name
