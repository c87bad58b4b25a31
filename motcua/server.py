"""What a served process runs besides answering requests (``motcua.create_server``).

Every served process, whichever way it is started (``motcua serve``, gunicorn on
``motcua:create_server()``), calls ``start_process_tasks`` once its app is built:

- on SQLite: refuses to start while another server process uses the same database file
  (waiting a while first, for a restart), then runs housekeeping every
  ``HOUSEKEEPING_INTERVAL_S``;
- on PostgreSQL: follows the cache invalidations of the other processes and runs
  housekeeping while it holds the cluster's housekeeping lock (services/cluster.py names
  every piece of per-process state and how it is coordinated).

The tasks run as Socket.IO background tasks: greenlets under gevent, daemon threads otherwise.
"""

from __future__ import annotations

import logging
from typing import Any

from flask import Flask

from motcua.extensions import socketio
from motcua.services import catalog_cache, cluster, privacy, settings, tickets

log = logging.getLogger(__name__)

SQLITE_LOCK_EXTENSION = "motcua_sqlite_server_lock"


def start_process_tasks(app: Flask) -> None:
    """Claim the SQLite file (if any) and start this process's background work."""
    interval = float(app.config.get("HOUSEKEEPING_INTERVAL_S") or 0)
    with app.app_context():
        dialect = cluster.dialect_name()
        lock_path = cluster.sqlite_lock_path()
    if lock_path is not None:
        wait = float(app.config.get("SQLITE_SERVER_LOCK_WAIT_S", 35))
        app.extensions[SQLITE_LOCK_EXTENSION] = cluster.hold_sqlite_server_lock(
            lock_path, wait_s=wait
        )

    def housekeeping() -> None:
        with app.app_context():
            tickets.expire_stale()
            privacy.purge()  # retention of personal data: RETENTION_DAYS

    if dialect == "postgresql":
        socketio.start_background_task(
            cluster.follow,
            app,
            lambda kind: forget_caches(app, kind),
            housekeeping=housekeeping if interval > 0 else None,
            interval_s=interval,
            sleep=socketio.sleep,
        )
    elif interval > 0:
        socketio.start_background_task(
            cluster.repeat, housekeeping, interval_s=interval, sleep=socketio.sleep
        )


def forget_caches(app: Flask, kind: Any) -> None:
    """Drop this process's settings and/or catalog cache (``"*"``: both)."""
    if kind in ("settings", "*"):
        settings.forget(app)
    if kind in ("catalog", "*"):
        catalog_cache.forget(app)
