#!/usr/bin/env bash
# One command: install everything the tests need, start PostgreSQL, lint, run the whole suite.
# Extra arguments go to pytest (e.g. ./scripts/test.sh -k kiosk).
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-system-deps.sh test
scripts/setup-venv.sh "test,postgres,prod"
scripts/setup-emupos.sh   # the Epson emulator for tests/web/test_emupos.py (Python 3.13)
url="$(scripts/start-postgres.sh | tail -n 1)"
# A URL already set wins (e.g. another database on the same server for a second checkout).
export MOTCUA_TEST_POSTGRES_URL="${MOTCUA_TEST_POSTGRES_URL:-$url}"
# Every part is installed above: a test skipped for a missing part is an error here.
export MOTCUA_REQUIRE_PARTS=1
.venv/bin/ruff check .
.venv/bin/ruff format --check .
.venv/bin/mypy   # configuration in pyproject.toml: services/, printer/, db/ strict
# Two workers (pytest-xdist), each with its own PostgreSQL database (tests/support/parts.py),
# handed tests one at a time, the longest first (tests/conftest.py).
# MOTCUA_TEST_WORKERS=0 runs everything in one process.
.venv/bin/pytest -n "${MOTCUA_TEST_WORKERS:-2}" --maxschedchunk 1 "$@"
