"""Skips for parts a machine may lack; in CI (MOTCUA_REQUIRE_PARTS=1) a missing part fails."""

from __future__ import annotations

import functools
import os
import shutil

import pytest

REQUIRE_PARTS = os.environ.get("MOTCUA_REQUIRE_PARTS") == "1"


def missing_part(reason: str) -> None:
    """Skip with the reason printed, or fail when CI requires every part."""
    if REQUIRE_PARTS:
        pytest.fail(f"required part missing in CI: {reason}", pytrace=False)
    pytest.skip(reason)


def postgres_url() -> str:
    """The PostgreSQL URL for tests, or skip/fail.

    Under pytest-xdist each worker gets a database of its own, named after the configured
    one plus the worker id (``motcua_test`` → ``motcua_test_gw0``), created when missing:
    tests drop and recreate schemas, so two workers must never share one.
    """
    url = os.environ.get("MOTCUA_TEST_POSTGRES_URL", "")
    if not url:
        missing_part("PostgreSQL not configured (set MOTCUA_TEST_POSTGRES_URL; .ci/run does)")
    worker = os.environ.get("PYTEST_XDIST_WORKER", "")
    return _worker_database(url, worker) if worker else url


@functools.cache
def _worker_database(url: str, worker: str) -> str:
    """The URL of ``<database>_<worker>`` on the same server, created if it does not exist."""
    import sqlalchemy as sa
    from sqlalchemy.exc import ProgrammingError

    base = sa.make_url(url)
    name = f"{base.database}_{worker}"
    engine = sa.create_engine(base, isolation_level="AUTOCOMMIT")
    try:
        with engine.connect() as conn:
            found = conn.scalar(
                sa.text("SELECT 1 FROM pg_database WHERE datname = :name"), {"name": name}
            )
            if not found:
                try:
                    conn.exec_driver_sql(f'CREATE DATABASE "{name}"')
                except ProgrammingError as exc:  # another run created it meanwhile
                    if "already exists" not in str(exc):
                        raise
    finally:
        engine.dispose()
    return base.set(database=name).render_as_string(hide_password=False)


def chromium_path() -> str:
    """Path of a Chromium binary for Playwright, or skip/fail.

    Debian's headless shell first (package chromium-headless-shell: the same Chromium, built
    for headless use, what Playwright runs for headless tests by default): a page load costs
    it about half the CPU of the full browser in headless mode. Then the full browser.
    """
    for candidate in (
        os.environ.get("MOTCUA_CHROMIUM"),
        "/usr/lib/chromium/chromium-headless-shell",
        "/usr/bin/chromium",
        shutil.which("chromium") or None,
    ):
        if candidate and os.path.exists(candidate):
            return candidate
    missing_part("Chromium not installed (apt-get install chromium-headless-shell; .ci/run does)")
    return ""
