#!/usr/bin/env bash
# One command: set up and run motcua on SQLite with a demo hall and the file/preview printer.
#   [PORT=5000] ./scripts/demo.sh [--host 0.0.0.0]
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-system-deps.sh run
scripts/setup-venv.sh
export FLASK_PUBLIC_BASE_URL="${FLASK_PUBLIC_BASE_URL:-http://localhost:${PORT:-5000}}"
# The demo issues numbers at any hour; a real hall keeps WORKING_HOURS.
export FLASK_WORKING_HOURS="${FLASK_WORKING_HOURS:-null}"
.venv/bin/motcua demo
exec .venv/bin/motcua serve --port "${PORT:-5000}" "$@"
