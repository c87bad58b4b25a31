"""Per-process state made cluster-safe: caches follow other processes, one housekeeper.

Two apps in one test process stand for two server processes: each app has caches of its
own, and each ``cluster.follow`` loop has its own PostgreSQL connection (LISTEN, lock).
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from flask import Flask

from db import db
from motcua import create_app
from motcua.server import forget_caches
from motcua.services import catalog, catalog_cache, cluster, settings
from tests.conftest import make_config
from tests.support.parts import postgres_url


def wait_for(check: Callable[[], bool], timeout: float) -> float:
    """Seconds until ``check()`` held; fails after ``timeout``."""
    start = time.monotonic()
    while not check():
        assert time.monotonic() - start < timeout, "not within the time allowed"
        time.sleep(0.02)
    return time.monotonic() - start


def test_sqlite_with_a_message_queue_is_refused(tmp_path: Path) -> None:
    """Several processes on one SQLite file: refused at start, in Vietnamese and English."""
    config = make_config(
        f"sqlite:///{tmp_path / 'hall.sqlite3'}", SOCKETIO_MESSAGE_QUEUE="redis://127.0.0.1:9"
    )
    with pytest.raises(RuntimeError, match="SQLite chỉ dùng cho một tiến trình") as caught:
        create_app(config)
    assert "SQLite serves one server process only" in str(caught.value)


def test_a_second_server_on_one_sqlite_file_is_refused(tmp_path: Path) -> None:
    """The lock file admits one server; the next one waits, then is refused; then admitted."""
    path = tmp_path / "hall.sqlite3.server-lock"
    first = cluster.hold_sqlite_server_lock(path, wait_s=0)
    assert first is not None
    started = time.monotonic()
    with pytest.raises(RuntimeError, match="Một tiến trình máy chủ khác đang dùng"):
        cluster.hold_sqlite_server_lock(path, wait_s=0.3)
    assert time.monotonic() - started >= 0.3
    first.close()  # the first server stopped
    again = cluster.hold_sqlite_server_lock(path, wait_s=0)
    assert again is not None
    again.close()


class Follower:
    """A ``cluster.follow`` loop of one app in a thread, as a served process runs it."""

    def __init__(self, app: Flask, runs: list[str], name: str) -> None:
        self.stopped = False
        self.thread = threading.Thread(
            target=cluster.follow,
            args=(app, lambda kind: forget_caches(app, kind)),
            kwargs={
                "housekeeping": lambda: runs.append(name),
                "interval_s": 0.1,
                "retry_s": 0.1,
                "stop": lambda: self.stopped,
            },
            daemon=True,
        )
        self.thread.start()

    def stop(self) -> None:
        """End the loop; its connection closes (and its lock with it)."""
        self.stopped = True
        self.thread.join(timeout=5)
        assert not self.thread.is_alive()


def listening(app: Flask) -> int:
    """How many follow loops listen on this database."""
    with app.app_context():
        return int(
            db.session.scalar(
                sa.text(
                    "SELECT count(*) FROM pg_stat_activity WHERE application_name = "
                    "'motcua-cluster' AND datname = current_database()"
                )
            )
            or 0
        )


@pytest.fixture
def other_app(pg_app: Flask) -> Iterator[Flask]:
    """A second app on the same PostgreSQL database: another process's caches."""
    app = create_app(make_config(postgres_url()))
    yield app
    with app.app_context():
        db.session.remove()
        db.engine.dispose()


@pytest.mark.postgres
def test_a_change_on_one_process_reaches_the_others_caches_within_a_second(
    pg_app: Flask, other_app: Flask
) -> None:
    """Settings and catalog cached by another process are dropped at the change's commit."""
    runs: list[str] = []
    follower = Follower(other_app, runs, "other")
    try:
        wait_for(lambda: listening(pg_app) == 1, 5)
        with other_app.app_context():  # the other process has both cached
            assert settings.effective("DISPLAY_MESSAGE") != "Giờ làm việc mới"
            before = catalog_cache.snapshot()
        with pg_app.app_context():
            settings.update_settings({"DISPLAY_MESSAGE": "Giờ làm việc mới"}, actor_id=None)
            catalog.add_counter("main", 9, ["A"])
            site_id = catalog_cache.snapshot().sites["main"].id
            area_id = catalog_cache.snapshot().areas["a"].id

        def seen() -> bool:
            with other_app.app_context():
                serving = catalog_cache.snapshot().serving.get((site_id, area_id), [])
                return settings.effective("DISPLAY_MESSAGE") == "Giờ làm việc mới" and 9 in [
                    number for number, _ in serving
                ]

        assert 9 not in [n for n, _ in before.serving.get((site_id, area_id), [])]
        assert wait_for(seen, 1.0) < settings.TTL_S
    finally:
        follower.stop()


@pytest.mark.postgres
def test_housekeeping_runs_in_one_process_and_moves_when_it_stops(
    pg_app: Flask, other_app: Flask
) -> None:
    """Two processes: one runs housekeeping; when it stops the other takes over."""
    runs: list[Any] = []
    first = Follower(pg_app, runs, "first")
    wait_for(lambda: "first" in runs, 5)
    second = Follower(other_app, runs, "second")
    try:
        wait_for(lambda: listening(pg_app) == 2, 5)
        time.sleep(0.5)  # several of the second's attempts at the lock
        assert set(runs) == {"first"} and len(runs) >= 3
        first.stop()
        wait_for(lambda: "second" in runs, 5)
        runs_after = runs[runs.index("second") :]
        assert set(runs_after) == {"second"}
    finally:
        first.stop()
        second.stop()
