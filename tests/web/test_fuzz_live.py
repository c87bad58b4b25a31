"""Schemathesis against a live server: every operation of the OpenAPI document, anonymous and
with each role's bearer token, schema-valid and schema-breaking requests, every check
(`st run --checks all`): no response is a 5xx and no check fails (SQLite and PostgreSQL).

Deterministic: Hypothesis derandomized (a fixed seed), no example database, a bounded number
of examples per operation so that each database's run stays well under a minute.
Per-operation expectations that the document cannot state live in tests/schemathesis.toml.
"""

from __future__ import annotations

import collections
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import requests
from flask import Flask

from db import db
from tests.browser.conftest import LiveServer
from tests.conftest import PASSWORD, build_app
from tests.support.parts import postgres_url

schemathesis = pytest.importorskip("schemathesis")
hypothesis = pytest.importorskip("hypothesis")

EXAMPLES = 5  # per operation, role and generation mode (about 25 s per database here)
CONFIG = Path(__file__).resolve().parent.parent / "schemathesis.toml"
ROLES = {"anonymous": None, "officer": "canbo1", "leader": "lanhdao", "admin": "admin"}


@pytest.fixture(params=["sqlite", "postgresql"])
def live(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[LiveServer]:
    """The real app served on an ephemeral port over a seeded database of each kind."""
    if request.param == "sqlite":
        uri = f"sqlite:///{tmp_path / 'fuzz.sqlite3'}"
        app: Flask = build_app(uri)
    else:
        uri = postgres_url()
        app = build_app(
            uri,
            SQLALCHEMY_ENGINE_OPTIONS={"connect_args": {"options": "-c synchronous_commit=off"}},
        )
    app.instance_path = str(tmp_path)
    server = LiveServer(app, {"SQLALCHEMY_DATABASE_URI": uri})
    server.start()
    yield server
    server.stop()
    with app.app_context():
        db.session.remove()
        if request.param == "postgresql":
            db.drop_all()
        db.engine.dispose()


def _token(session: requests.Session, server: LiveServer, username: str) -> dict[str, str]:
    r = session.post(
        server.url("/api/v1/auth/token"), json={"username": username, "password": PASSWORD}
    )
    assert r.status_code == 200, r.text
    return {"Authorization": f"Bearer {r.json()['access_token']}"}


def test_no_server_error_and_every_check_passes(live: LiveServer) -> None:
    """Every operation × {anonymous, officer, leader, admin} × {positive, negative}."""
    from hypothesis import HealthCheck, Phase, given, settings
    from hypothesis.errors import Unsatisfiable
    from schemathesis import checks as st_checks
    from schemathesis.generation import GenerationMode

    st_checks.load_all_checks()
    all_checks = st_checks.CHECKS.get_all()
    session = requests.Session()
    roles = {role: (_token(session, live, user) if user else {}) for role, user in ROLES.items()}
    schema = schemathesis.openapi.from_url(
        live.url("/api/v1/openapi.json"), config=schemathesis.Config.from_path(str(CONFIG))
    )
    operations = [result.ok() for result in schema.get_all_operations()]
    assert len(operations) >= 15
    failures: list[str] = []
    statuses: collections.Counter[int] = collections.Counter()
    bounded = settings(
        max_examples=EXAMPLES,
        derandomize=True,
        database=None,
        deadline=None,
        phases=[Phase.explicit, Phase.generate],
        suppress_health_check=list(HealthCheck),
    )

    def make_probe(label: str, headers: dict[str, str]) -> Any:
        """One operation's probe: call the live server, count the status, run every check."""

        def probe(case: Any) -> None:
            response = case.call(base_url=live.base_url, headers=headers, session=session)
            statuses[response.status_code] += 1
            try:
                case.validate_response(response, checks=all_checks, headers=headers)
            except Exception as exc:  # noqa: BLE001  (collected, reported below)
                for failure in getattr(exc, "exceptions", [exc]):
                    title = getattr(failure, "title", type(failure).__name__)
                    failures.append(
                        f"{label} {title}: {response.status_code} {response.text[:200]}"
                    )

        return probe

    for role, headers in roles.items():
        for operation in operations:
            for mode in (GenerationMode.POSITIVE, GenerationMode.NEGATIVE):
                probe = make_probe(f"{role} {operation.label} [{mode.value}]", headers)
                run = bounded(given(case=operation.as_strategy(generation_mode=mode))(probe))
                try:
                    run()
                except Unsatisfiable:
                    assert mode == GenerationMode.NEGATIVE  # nothing to break (no parameters)
    server_errors = {code: n for code, n in statuses.items() if code >= 500}
    assert server_errors == {}, failures[:20]
    assert failures == [], "\n".join(failures[:20])
    assert sum(n for code, n in statuses.items() if code < 300) > 0  # some requests succeed
