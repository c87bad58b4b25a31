"""Engine settings: SQLite pragmas and IMMEDIATE transactions.

SQLite cannot upgrade a deferred read transaction to a write lock under
concurrency (tech-notes: 878 "database is locked" with a plain read-then-write),
so on SQLite every transaction starts with ``BEGIN IMMEDIATE``. Services keep
their transactions short and always end them.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import event
from sqlalchemy.engine import Engine

SQLITE_BUSY_TIMEOUT_MS = 30_000


def configure_engine_events(engine: Engine) -> None:
    """Attach per-connection settings to an engine (SQLite only; others untouched)."""
    if engine.dialect.name != "sqlite":
        return
    if getattr(engine, "_motcua_configured", False):
        return
    engine._motcua_configured = True  # type: ignore[attr-defined]

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        # Take transaction control away from pysqlite so that BEGIN is ours.
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}")
        cursor.execute("PRAGMA foreign_keys=ON")
        if engine.url.database not in (None, "", ":memory:"):
            cursor.execute("PRAGMA journal_mode=WAL")
        # FULL: NORMAL may lose the last committed ticket on power loss.
        cursor.execute("PRAGMA synchronous=FULL")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(conn: Any) -> None:
        conn.exec_driver_sql("BEGIN IMMEDIATE")
