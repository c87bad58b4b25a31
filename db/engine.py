"""Engine settings: SQLite pragmas and IMMEDIATE transactions.

SQLite cannot upgrade a deferred read transaction to a write lock under
concurrency (tech-notes: 878 "database is locked" with a plain read-then-write),
so on SQLite every transaction starts with ``BEGIN IMMEDIATE``. Services keep
their transactions short and always end them.

Within one server process the writers also queue on a ``threading.Lock`` before
``BEGIN IMMEDIATE``: SQLite's own busy handler sleeps in steps of up to 100 ms,
which under eight concurrent kiosks gave a p99 of over a second; a lock hands the
database over at once. The lock is released when the connection goes back to the
pool (after its commit or rollback), so it can never outlive the transaction.
BEGIN IMMEDIATE still guards against other processes (a CLI, a backup). The lock hands
itself to its waiters in arrival order (``FairLock``): with a plain ``threading.Lock`` the
thread that releases it usually takes it again before a woken waiter runs (it holds the
GIL), and under a loaded CPU a counter's call waited behind back-to-back kiosk batches past
the 30 s timeout.

Read-only services (the board and console snapshots that every screen re-reads) start
their transaction with the ``READ_ONLY`` execution option
(``motcua.services.common.begin_snapshot_read``): a plain deferred ``BEGIN`` without the
in-process lock. In WAL mode a reader sees a consistent snapshot and neither blocks nor
waits for the writer, so ten displays re-reading the board no longer queue in front of a
counter's call.
"""

from __future__ import annotations

import collections
import threading
from typing import Any

from sqlalchemy import event
from sqlalchemy.engine import Engine

SQLITE_BUSY_TIMEOUT_MS = 30_000
LOCK_FLAG = "motcua_write_lock"
READ_ONLY = "motcua_read_only"


class FairLock:
    """A lock granted in arrival order: a release hands it straight to the oldest waiter."""

    def __init__(self) -> None:
        self._mutex = threading.Lock()
        self._waiters: collections.deque[threading.Lock] = collections.deque()
        self._locked = False

    def acquire(self, timeout: float) -> bool:
        """Take the lock within ``timeout`` seconds; False if it did not come."""
        with self._mutex:
            if not self._locked:
                self._locked = True
                return True
            turn = threading.Lock()
            turn.acquire()
            self._waiters.append(turn)
        if turn.acquire(timeout=timeout):
            return True  # handed over by release()
        with self._mutex:
            try:
                self._waiters.remove(turn)
            except ValueError:  # handed over just as the wait ran out: it is ours
                return True
            return False

    def release(self) -> None:
        """Hand the lock to the oldest waiter, or free it."""
        with self._mutex:
            if self._waiters:
                self._waiters.popleft().release()
            else:
                self._locked = False


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

    write_lock = FairLock()

    def _release(info: dict[str, Any]) -> None:
        if info.pop(LOCK_FLAG, False):
            write_lock.release()

    @event.listens_for(engine, "begin")
    def _on_begin(conn: Any) -> None:
        if conn.get_execution_options().get(READ_ONLY):
            conn.exec_driver_sql("BEGIN")
            return
        info = conn.connection.info  # lives with the pooled connection
        if not info.get(LOCK_FLAG):
            if not write_lock.acquire(timeout=SQLITE_BUSY_TIMEOUT_MS / 1000):
                raise TimeoutError("database is busy (in-process write lock)")
            info[LOCK_FLAG] = True
        try:
            conn.exec_driver_sql("BEGIN IMMEDIATE")
        except BaseException:
            _release(info)
            raise

    @event.listens_for(engine, "checkin")
    def _on_checkin(_dbapi_connection: Any, record: Any) -> None:
        _release(record.info)

    @event.listens_for(engine, "close")
    def _on_close(_dbapi_connection: Any, record: Any) -> None:
        _release(record.info)
