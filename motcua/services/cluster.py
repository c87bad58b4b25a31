"""What server processes sharing one PostgreSQL database tell each other.

Per-process state (everything one server process keeps that another does not see):

- the **settings cache** (``services/settings.py``: stored settings by scope, their version)
  and the **catalog cache** (``services/catalog_cache.py``: sites, areas, which counters
  serve which area; and the wait predictor's caches of history and live state);
- the **issue batcher** (``services/tickets/issue.py``: kiosk taps waiting for one group
  commit),
  and SQLite's in-process **write lock** (``db/engine.py``): both only order this process's
  own writers; PostgreSQL's row locks order the processes;
- the **housekeeping timer** (expiring tickets of earlier business days), started by
  ``motcua/server.py`` in every served process;
- the **print worker** (``services/print_jobs/worker.py``: the process's claimer name, a
  dispatcher, one driver per printer this process holds the lease of) and the receipt font
  caches; the jobs themselves are rows (``print_jobs``), each printer driven by the one
  process holding its lease (``printer_leases``), jobs claimed with ``SKIP LOCKED``;
- the **voice cache** (rendered announcements, files in the instance folder, per machine);
- the **Socket.IO sessions and rooms** (python-socketio's manager): with a message queue
  (``SOCKETIO_MESSAGE_QUEUE``) an emit reaches the rooms of every process.

How they are coordinated with several processes (docs/cluster.md):

- a change to settings or catalog calls ``invalidate`` of its cache, which also calls
  ``announce_invalidation`` here: a PostgreSQL ``NOTIFY`` on ``motcua_cache``, sent at the
  commit of the change (or at once outside a transaction). Every process ``LISTEN``s on a
  connection of its own (``follow``) and forgets that cache within milliseconds; after
  that connection was lost it forgets every cache (a notice may have been missed). The
  TTL of each cache stays as the last safety net;
- housekeeping (expiry, and the retention purge) runs only in the process that holds the
  PostgreSQL advisory lock
  ``HOUSEKEEPING_LOCK`` on that same connection (a session lock: it is released the moment
  the process dies or loses its connection, and another process takes it over);
- on SQLite only one server process may run: the second is refused at start
  (``hold_sqlite_server_lock``), and a message queue with SQLite is refused in create_app.
"""

from __future__ import annotations

import contextlib
import logging
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import IO, Any

import sqlalchemy as sa
from flask import Flask

from db import db

log = logging.getLogger(__name__)

CHANNEL = "motcua_cache"
# pg_try_advisory_lock key of the housekeeping leader ("motc" in ASCII).
HOUSEKEEPING_LOCK = 0x6D6F7463
LEADER_RETRY_S = 5.0  # a process without the lock asks for it this often
HEALTH_CHECK_S = 10.0  # the listening connection is checked with a query this often
RECONNECT_S = 1.0


def dialect_name() -> str:
    """The database's dialect (``sqlite`` or ``postgresql``)."""
    return str(db.engine.dialect.name)


def announce_invalidation(kind: str) -> None:
    """Have every process forget one cache (``settings`` or ``catalog``); PostgreSQL only.

    Inside an open transaction the notice leaves at its commit (and never on a rollback):
    another process must not reload before the change is visible to it.
    """
    if dialect_name() != "postgresql":
        return
    stmt = sa.text("SELECT pg_notify(:channel, :kind)")
    params = {"channel": CHANNEL, "kind": kind}
    session = db.session()
    if session.in_transaction():
        session.execute(stmt, params)
        return
    try:
        with db.engine.connect() as conn:
            conn.execute(stmt, params)
            conn.commit()
    except sa.exc.SQLAlchemyError:  # the change is committed; the caches' TTL catches up
        log.warning("could not announce a %s cache invalidation", kind, exc_info=True)


def _conninfo(url: sa.URL) -> str:
    """A libpq connection string from the app's SQLAlchemy URL."""
    return url.set(drivername="postgresql").render_as_string(hide_password=False)


def follow(
    app: Flask,
    forget: Callable[[str], None],
    *,
    housekeeping: Callable[[], None] | None,
    interval_s: float,
    sleep: Callable[[float], None] = time.sleep,
    retry_s: float = LEADER_RETRY_S,
    stop: Callable[[], bool] = lambda: False,
) -> None:
    """Run until ``stop()``: other processes' invalidations in, housekeeping while elected.

    ``forget(kind)`` drops one of this process's caches (``"*"``: all of them);
    ``housekeeping()`` runs every ``interval_s`` in the one process holding the lock, which
    the others ask for every ``retry_s``.
    """
    import psycopg

    with app.app_context():
        conninfo = _conninfo(db.engine.url)
    next_run = 0.0
    while not stop():
        try:
            with psycopg.connect(
                conninfo,
                autocommit=True,
                connect_timeout=5,
                keepalives=1,
                keepalives_idle=10,
                keepalives_interval=5,
                keepalives_count=3,
                application_name="motcua-cluster",
            ) as conn:
                conn.execute(f"LISTEN {CHANNEL}")
                forget("*")  # anything may have changed while nobody listened
                log.info("listening for cache invalidations")
                leader = False
                next_try = next_check = 0.0
                while not stop():
                    now = time.monotonic()
                    if housekeeping is not None and not leader and now >= next_try:
                        row = conn.execute(
                            "SELECT pg_try_advisory_lock(%s)", (HOUSEKEEPING_LOCK,)
                        ).fetchone()
                        leader = bool(row and row[0])
                        next_try = now + retry_s
                        if leader:
                            log.info("this process runs housekeeping")
                    if leader and housekeeping is not None and now >= next_run:
                        next_run = now + interval_s
                        _safely(housekeeping)
                    if now >= next_check:
                        conn.execute("SELECT 1")
                        next_check = now + HEALTH_CHECK_S
                    for note in conn.notifies(timeout=min(1.0, retry_s)):
                        forget(note.payload)
        except (psycopg.Error, OSError) as exc:
            log.warning("cluster connection lost (%s); reconnecting", exc)
            forget("*")
            next_run = 0.0  # a new leader (this process or another) runs it at once
            sleep(RECONNECT_S)


def repeat(
    housekeeping: Callable[[], None],
    *,
    interval_s: float,
    sleep: Callable[[float], None] = time.sleep,
) -> None:
    """Run housekeeping for ever, every ``interval_s`` (the one process of a SQLite hall)."""
    while True:
        _safely(housekeeping)
        sleep(interval_s)


def _safely(task: Callable[[], None]) -> None:
    try:
        task()
    except Exception:
        log.exception("housekeeping failed")


SQLITE_SECOND_SERVER = (
    "Một tiến trình máy chủ khác đang dùng cơ sở dữ liệu SQLite {path}: SQLite chỉ dùng cho "
    "một tiến trình máy chủ (dừng tiến trình kia, hoặc dùng PostgreSQL cho nhiều tiến trình). "
    "/ Another server process uses the SQLite database {path}: SQLite serves one server "
    "process only (stop the other one, or use PostgreSQL for several)."
)


def sqlite_lock_path() -> Path | None:
    """The lock file of a SQLite database file (None for other databases, in-memory)."""
    url = db.engine.url
    if url.get_backend_name() != "sqlite" or url.database in (None, "", ":memory:"):
        return None
    return Path(str(url.database)).with_name(Path(str(url.database)).name + ".server-lock")


@contextlib.contextmanager
def _opened(path: Path) -> Iterator[IO[Any]]:
    handle = path.open("a+")
    try:
        yield handle
    except BaseException:
        handle.close()
        raise


def hold_sqlite_server_lock(
    path: Path, *, wait_s: float, sleep: Callable[[float], None] = time.sleep
) -> IO[Any] | None:
    """Lock ``path`` for the life of this process, or raise RuntimeError after ``wait_s``.

    The wait lets a restarting server (gunicorn's graceful reload keeps the old process for
    up to its graceful timeout) take over from the one it replaces. Returns the open file
    that holds the lock (keep it), or None where ``fcntl`` does not exist (Windows).
    """
    try:
        import fcntl
    except ImportError:  # pragma: no cover - Windows: no advisory file locks here
        return None
    deadline = time.monotonic() + wait_s
    warned = False
    with _opened(path) as handle:
        while True:
            try:
                fcntl.flock(handle.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
                return handle
            except BlockingIOError:
                if time.monotonic() >= deadline:
                    raise RuntimeError(SQLITE_SECOND_SERVER.format(path=path)) from None
                if not warned:
                    log.warning("another server holds %s; waiting up to %.0f s", path, wait_s)
                    warned = True
                sleep(0.2)
