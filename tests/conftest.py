"""Shared fixtures (flaskr style): a fresh database per test, clients, factories."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient

from db import db
from motcua import create_app
from motcua.services import accounts, catalog
from motcua.services.demo import DEMO_COUNTERS
from tests.support.parts import postgres_url

PASSWORD = "mat-khau-kiem-thu"
# A frozen instant: Monday 23/11/2026 08:15:03 in Hà Nội (UTC+7).
T0 = dt.datetime(2026, 11, 23, 1, 15, 3, tzinfo=dt.UTC)


def build_app(database_uri: str, **overrides: Any) -> Flask:
    """An app on a fresh schema with the demo areas, 6 counters and a few accounts."""
    config: dict[str, Any] = {
        "TESTING": True,
        "SECRET_KEY": "test-secret",
        "SQLALCHEMY_DATABASE_URI": database_uri,
        "PUBLIC_BASE_URL": "http://hall.test",
        "PRINTER": {"backend": "dummy", "width_px": 576},
        "PASSWORD_HASH_METHOD": "pbkdf2:sha256:1000",
    }
    config.update(overrides)
    app = create_app(config)
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
    return app


@pytest.fixture
def app(tmp_path: Any) -> Iterator[Flask]:
    """An app on a fresh SQLite file (a file, so threads share it as in production)."""
    app = build_app(f"sqlite:///{tmp_path / 'test.sqlite3'}")
    yield app
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
