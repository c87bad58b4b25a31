"""A short-lived, per-app cache of what rarely changes: sites, areas, counters.

Issuing a ticket is the hot path (a kiosk tap). Looking up the site, the area and
the counters that serve it on every tap cost three queries; they change only when
an administrator edits the hall. Services that change them call ``invalidate``, which
reaches every server process (services/cluster.py); a few seconds' TTL is the safety net.
"""

from __future__ import annotations

import datetime as dt
import threading
import time
from dataclasses import dataclass, field
from typing import Any

import sqlalchemy as sa
from flask import Flask, current_app

from db import db
from db.models import Counter, ServiceArea, Site, counter_areas
from motcua.services import cluster
from motcua.services.common import begin_snapshot_read

TTL_S = 5.0
# The wait predictor's per-process state (services/tickets/predict.py), in ``_Cache.predict``:
#   "history"  (site, day)              → earlier days' service records   PREDICT_TTL_S["history"]
#   "times"    (site, area, day, hour)  → the area's service-time table    PREDICT_TTL_S["times"]
#   "spans"    (site, area, day)        → today's last finished spans      PREDICT_TTL_S["spans"]
#   "live"     (site, day)              → counters busy, waiting counts    PREDICT_TTL_S["live"]
#   "places"   (site, day)              → every area's waits by place      PREDICT_TTL_S["places"]
# History changes only when a day ends (or a session is imported): an hour. The waits by place
# are played out again at once by a service that moves a queue (a call, a no-show, a transfer,
# a cancel, a priority ticket: ``fresh=True``), dropped when a ticket finishes or a counter
# changes, and otherwise kept 30 s (a kiosk tap or a phone's poll never plays them out twice
# in that time; another process hears none of these and is up to 30 s behind).
PREDICT_TTL_S = {"history": 3600.0, "times": 3600.0, "spans": 30.0, "live": 3.0, "places": 30.0}
EXTENSION_KEY = "motcua_catalog_cache"


@dataclass(frozen=True)
class SiteRef:
    """A site's identity."""

    id: int
    code: str


@dataclass(frozen=True)
class AreaRef:
    """An active service area."""

    id: int
    code: str
    prefix: str
    name: str
    target_wait_minutes: int


@dataclass(frozen=True)
class CatalogSnapshot:
    """Sites, active areas and which counters serve which area."""

    sites: dict[str, SiteRef]
    areas: dict[str, AreaRef]  # by lower-case code and by lower-case prefix
    areas_by_id: dict[int, AreaRef]
    serving: dict[tuple[int, int], list[tuple[int, bool]]]  # (site, area) → (number, paused)


@dataclass
class _Cache:
    lock: threading.Lock = field(default_factory=threading.Lock)
    generation: int = 0  # bumped by ``forget``: a load begun before it is not kept
    snapshot: CatalogSnapshot | None = None
    loaded_at: float = 0.0
    predict: dict[str, dict[tuple[Any, ...], tuple[Any, float]]] = field(default_factory=dict)


def _cache(app: Flask | None = None) -> _Cache:
    extensions = (app or current_app).extensions
    cache = extensions.get(EXTENSION_KEY)
    if cache is None:
        cache = extensions.setdefault(EXTENSION_KEY, _Cache())
    return cache  # type: ignore[no-any-return]


def _load() -> CatalogSnapshot:
    sites = {
        code: SiteRef(id=site_id, code=code)
        for site_id, code in db.session.execute(
            sa.select(Site.id, Site.code).where(Site.active.is_(True))
        )
    }
    areas: dict[str, AreaRef] = {}
    by_id: dict[int, AreaRef] = {}
    for row in db.session.execute(
        sa.select(
            ServiceArea.id,
            ServiceArea.code,
            ServiceArea.prefix,
            ServiceArea.name,
            ServiceArea.target_wait_minutes,
        ).where(ServiceArea.active.is_(True))
    ):
        ref = AreaRef(*row)
        by_id[ref.id] = ref
        areas[ref.code.lower()] = ref
        areas[ref.prefix.lower()] = ref
    serving: dict[tuple[int, int], list[tuple[int, bool]]] = {}
    for site_id, area_id, number, paused in db.session.execute(
        sa.select(Counter.site_id, counter_areas.c.area_id, Counter.number, Counter.paused)
        .join(counter_areas, counter_areas.c.counter_id == Counter.id)
        .where(Counter.active.is_(True))
        .order_by(Counter.number)
    ):
        serving.setdefault((site_id, area_id), []).append((int(number), bool(paused)))
    return CatalogSnapshot(sites=sites, areas=areas, areas_by_id=by_id, serving=serving)


def snapshot() -> CatalogSnapshot:
    """The cached catalog, reloaded when invalidated or older than the TTL.

    The database is read outside ``cache.lock``: a thread inside a write transaction (holding
    SQLite's in-process write lock) also asks for the catalog, so loading under ``cache.lock``
    while waiting for the write lock was a lock-order deadlock (each side waited the 30 s busy
    timeout). Two threads may load at once; the later result simply replaces the earlier.
    """
    cache = _cache()
    with cache.lock:
        if cache.snapshot is not None and time.monotonic() - cache.loaded_at <= TTL_S:
            return cache.snapshot
        generation = cache.generation
    loaded = _read()
    with cache.lock:
        if cache.generation == generation:  # not invalidated while it was read
            cache.snapshot = loaded
            cache.loaded_at = time.monotonic()
    return loaded


def _read() -> CatalogSnapshot:
    """Load the catalog: inside the caller's transaction if one is open (it sees its own
    writes), else in a read-only snapshot that takes no write lock and is ended at once."""
    if db.session().in_transaction():
        return _load()
    begin_snapshot_read()
    try:
        return _load()
    finally:
        db.session.rollback()


def invalidate() -> None:
    """Forget the catalog here and in every other server process (after changing it).

    Inside a transaction the other processes hear it at the commit (services/cluster.py).
    """
    forget()
    cluster.announce_invalidation("catalog")


def forget(app: Flask | None = None) -> None:
    """Forget this process's catalog (another process changed it)."""
    cache = _cache(app)
    with cache.lock:
        cache.snapshot = None
        cache.generation += 1
        for kind in ("live", "places"):  # they hold counters and their areas
            cache.predict.pop(kind, None)


def forget_average(key: tuple[int, int, dt.date]) -> None:
    """A ticket of (site, area, day) just finished: drop what the wait predictor keeps of
    that area's day and of the site's live state."""
    cache = _cache()
    cache.predict.get("spans", {}).pop(key, None)
    cache.predict.get("places", {}).pop((key[0], key[2]), None)
    cache.predict.get("live", {}).pop((key[0], key[2]), None)


def cached_prediction(kind: str, key: tuple[Any, ...]) -> Any | None:
    """A piece of the wait predictor's state (see PREDICT_TTL_S), if still fresh."""
    hit = _cache().predict.get(kind, {}).get(key)
    if hit is None or time.monotonic() - hit[1] > PREDICT_TTL_S[kind]:
        return None
    return hit[0]


def store_prediction(kind: str, key: tuple[Any, ...], value: Any) -> None:
    """Remember a piece of the wait predictor's state for its kind's TTL."""
    cache = _cache()
    with cache.lock:
        entries = cache.predict.setdefault(kind, {})
        if len(entries) > 4096:  # old days' keys: never read again
            entries.clear()
        entries[key] = (value, time.monotonic())
