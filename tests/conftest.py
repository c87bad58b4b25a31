"""Shared fixtures (flaskr style): a fresh database per test, clients, factories."""

from __future__ import annotations

import atexit
import contextlib
import datetime as dt
import os
import shutil
import sqlite3
import tempfile
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient

from db import db
from motcua import create_app
from motcua.services import accounts, catalog, print_jobs
from motcua.services.demo import DEMO_COUNTERS
from tests.support import routing_cache, template_cache
from tests.support.parts import postgres_url

PASSWORD = "mat-khau-kiem-thu"
# A frozen instant: Monday 23/11/2026 08:15:03 in Hà Nội (UTC+7).
T0 = dt.datetime(2026, 11, 23, 1, 15, 3, tzinfo=dt.UTC)

# Test databases and files in RAM where the machine has a tmpfs at /dev/shm: SQLite's
# synchronous=FULL makes every commit wait for the disk, which no test is about.
# (pytest's own variable for the root of tmp_path; a value already set is kept.)
if "PYTEST_DEBUG_TEMPROOT" not in os.environ and os.access("/dev/shm", os.W_OK | os.X_OK):
    os.environ["PYTEST_DEBUG_TEMPROOT"] = "/dev/shm"
TEMP_ROOT = os.environ.get("PYTEST_DEBUG_TEMPROOT")

# Every test creates an app: compile each URL rule and each template once per process.
routing_cache.install()
template_cache.install()


def make_config(database_uri: str, **overrides: Any) -> dict[str, Any]:
    """The configuration of a test app on a database."""
    config: dict[str, Any] = {
        "TESTING": True,
        "SECRET_KEY": "test-secret",
        "SQLALCHEMY_DATABASE_URI": database_uri,
        "PUBLIC_BASE_URL": "http://hall.test",
        "PRINTER": {"backend": "dummy", "width_px": 576},
        "PASSWORD_HASH_METHOD": "pbkdf2:sha256:1000",
        # Open at any hour, as the demo is: tests of the hours set their own.
        "WORKING_HOURS": None,
    }
    config.update(overrides)
    return config


def seed(app: Flask) -> None:
    """A fresh schema with the demo areas, 6 counters and a few accounts."""
    with app.app_context():
        db.drop_all()
        db.create_all()
        catalog.seed_default_areas()
        catalog.ensure_site("main", "TRUNG TÂM PHỤC VỤ HÀNH CHÍNH CÔNG", "PHƯỜNG BA ĐÌNH")
        for number, prefixes in DEMO_COUNTERS:
            catalog.add_counter("main", number, prefixes)
        for username, name, role in [
            ("canbo1", "Nguyễn Thị Lan", "officer"),
            ("canbo2", "Trần Văn Hùng", "officer"),
            ("lanhdao", "Đỗ Quang Minh", "leader"),
            ("admin", "Quản trị hệ thống", "admin"),
        ]:
            accounts.create_user(
                username, full_name=name, role=role, password=PASSWORD, position="Công chức", now=T0
            )


_SEEDED: list[Path] = []


def seeded_sqlite_file() -> Path:
    """A SQLite file made once per test process by ``seed`` (WAL checkpointed, closed)."""
    if not _SEEDED:
        folder = Path(tempfile.mkdtemp(prefix="motcua-seeded-", dir=TEMP_ROOT))
        atexit.register(shutil.rmtree, folder, True)
        path = folder / "seeded.sqlite3"
        app = create_app(make_config(f"sqlite:///{path}"))
        seed(app)
        with app.app_context():
            db.session.remove()
            db.engine.dispose()  # the last connection checkpoints the WAL into the file
        assert not path.with_name(path.name + "-wal").exists()
        _SEEDED.append(path)
    return _SEEDED[0]


def copy_seeded_sqlite(target: Path) -> None:
    """A new seeded database at ``target``: a copy of the seeded file with new site uuids.

    The copy holds exactly what ``seed`` writes, except the random values: each hall keeps
    a uuid of its own, as when it is seeded afresh (session bundles are matched by it).
    """
    from db.models import Site, new_uuid

    shutil.copyfile(seeded_sqlite_file(), target)
    with contextlib.closing(sqlite3.connect(target)) as conn:
        table = Site.__tablename__
        ids = [row[0] for row in conn.execute(f"SELECT id FROM {table}")]
        conn.executemany(
            f"UPDATE {table} SET uuid = ? WHERE id = ?", [(new_uuid(), i) for i in ids]
        )
        conn.commit()


def build_app(database_uri: str, **overrides: Any) -> Flask:
    """An app on a fresh schema with the demo areas, 6 counters and a few accounts.

    A new SQLite file is a copy of one seeded once per process (seeding every test's
    database cost more than the rest of most tests); any other database is seeded here.
    """
    app_config = make_config(database_uri, **overrides)
    target = sqlite_file(database_uri)
    if target is not None and not overrides and not target.exists():
        copy_seeded_sqlite(target)
        return create_app(app_config)
    app = create_app(app_config)
    seed(app)
    return app


def sqlite_file(database_uri: str) -> Path | None:
    """The file of a ``sqlite:///path`` URI (None for other databases and in-memory)."""
    prefix = "sqlite:///"
    if not database_uri.startswith(prefix) or database_uri == prefix + ":memory:":
        return None
    return Path(database_uri[len(prefix) :])


@pytest.fixture
def app(tmp_path: Any) -> Iterator[Flask]:
    """An app on a fresh SQLite file (a file, so threads share it as in production)."""
    app = build_app(f"sqlite:///{tmp_path / 'test.sqlite3'}")
    yield app
    print_jobs.stop_worker(app)
    with app.app_context():
        db.session.remove()
        db.engine.dispose()


@pytest.fixture
def pg_app() -> Iterator[Flask]:
    """An app on the real PostgreSQL given by MOTCUA_TEST_POSTGRES_URL (fresh schema).

    Commits do not wait for the WAL flush here (synchronous_commit=off): it changes
    durability after a crash, not visibility or locking, and keeps the suite fast.
    """
    app = build_app(
        postgres_url(),
        SQLALCHEMY_ENGINE_OPTIONS={"connect_args": {"options": "-c synchronous_commit=off"}},
    )
    yield app
    print_jobs.stop_worker(app)  # a print driver still at work would race the DROP TABLEs
    with app.app_context():
        db.session.remove()
        db.drop_all()
        db.engine.dispose()


@pytest.fixture(params=["sqlite", "postgresql"])
def any_app(request: pytest.FixtureRequest, tmp_path: Any) -> Iterator[Flask]:
    """The same test on SQLite and on PostgreSQL."""
    name = "app" if request.param == "sqlite" else "pg_app"
    yield request.getfixturevalue(name)


@pytest.fixture
def client(app: Flask) -> FlaskClient:
    """A test client."""
    return app.test_client()


@pytest.fixture
def runner(app: Flask) -> Any:
    """A CLI runner."""
    return app.test_cli_runner()


@pytest.fixture
def ctx(app: Flask) -> Iterator[Flask]:
    """An app context for calling services directly."""
    with app.app_context():
        yield app


def csrf_token(client: FlaskClient, path: str = "/login") -> str:
    """The session's CSRF token, read from a page's form as a browser would."""
    import re

    page = client.get(path).get_data(as_text=True)
    match = re.search(r'name="csrf_token" value="([^"]+)"', page)
    assert match, f"no CSRF token on {path}"
    return match.group(1)


def login(client: FlaskClient, username: str = "canbo1", password: str = PASSWORD) -> Any:
    """Log a browser client in through the real login form (with its CSRF token)."""
    data = {"username": username, "password": password, "csrf_token": csrf_token(client)}
    return client.post("/login", data=data)


def bearer(client: FlaskClient, username: str = "canbo1") -> dict[str, str]:
    """An Authorization header from POST /api/v1/auth/token."""
    r = client.post("/api/v1/auth/token", json={"username": username, "password": PASSWORD})
    assert r.status_code == 200, r.json
    return {"Authorization": f"Bearer {r.json['access_token']}"}


@pytest.fixture
def make_ticket(app: Flask) -> Callable[..., Any]:
    """Factory: issue a ticket through the real service at a frozen time."""
    from motcua.services import tickets

    def make(service: str = "A", *, now: dt.datetime = T0, **kwargs: Any) -> Any:
        with app.app_context():
            return tickets.issue_ticket(service, now=now, **kwargs)

    return make


def counter_id(app: Flask, number: int) -> int:
    """The id of a counter by its number at the main site."""
    import sqlalchemy as sa

    from db.models import Counter

    with app.app_context():
        return int(db.session.scalar(sa.select(Counter.id).where(Counter.number == number)))


# The longest tests first. Under pytest-xdist (scripts/test.sh: -n 2 --maxschedchunk 1) the
# first worker starts with the cluster test (~30 s) then the two concurrency tests (~1 min),
# the second with the browser tests (~1 min), the fuzzing of the live API next, and the short
# tests, handed out one at a time, fill the rest evenly.
LONGEST_FIRST = (
    "tests/cluster/",
    "tests/unit/test_concurrency.py",
    "tests/browser/",
    "tests/web/test_fuzz_live.py",
)


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Move the longest tests to the front (a stable sort: files keep their order)."""

    def rank(item: pytest.Item) -> int:
        path = item.nodeid
        for i, prefix in enumerate(LONGEST_FIRST):
            if path.startswith(prefix):
                return i
        return len(LONGEST_FIRST)

    items.sort(key=rank)
