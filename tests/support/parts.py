"""Skips for parts a machine may lack; in CI (MOTCUA_REQUIRE_PARTS=1) a missing part fails."""

from __future__ import annotations

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
    """The PostgreSQL URL for tests, or skip/fail."""
    url = os.environ.get("MOTCUA_TEST_POSTGRES_URL", "")
    if not url:
        missing_part("PostgreSQL not configured (set MOTCUA_TEST_POSTGRES_URL; .ci/run does)")
    return url


def chromium_path() -> str:
    """Path of a Chromium binary for Playwright, or skip/fail."""
    for candidate in (
        os.environ.get("MOTCUA_CHROMIUM"),
        "/usr/bin/chromium",
        shutil.which("chromium") or None,
    ):
        if candidate and os.path.exists(candidate):
            return candidate
    missing_part("Chromium not installed (apt-get install chromium; .ci/run does)")
    return ""
