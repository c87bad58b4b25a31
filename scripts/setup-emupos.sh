#!/usr/bin/env bash
# emupos (an Epson TM-T20III emulator, PyPI) needs Python >= 3.13: install it into its own
# environment, .venv-emupos, when a Python 3.13 is available (python3.13 on PATH, pyenv, or
# uv, which can fetch one). Prints why not and exits 0 otherwise: tests/support/parts.py then
# skips the emupos tests with that reason locally and fails them in CI.
set -euo pipefail
cd "$(dirname "$0")/.."
EMUPOS_VERSION="${EMUPOS_VERSION:-0.4.0}"
if [ -x .venv-emupos/bin/emupos ]; then
  exit 0
fi
python=""
for candidate in python3.14 python3.13 "${HOME}/.pyenv/versions/3.13"*/bin/python3; do
  if command -v "$candidate" >/dev/null 2>&1 &&
    "$candidate" -c 'import sys; sys.exit(sys.version_info < (3, 13))' 2>/dev/null; then
    python="$candidate"
    break
  fi
done
if [ -n "$python" ]; then
  "$python" -m venv .venv-emupos
  .venv-emupos/bin/python -m pip install -q "emupos==${EMUPOS_VERSION}"
elif command -v uv >/dev/null 2>&1; then
  uv venv -q --python 3.13 .venv-emupos
  uv pip install -q --python .venv-emupos/bin/python "emupos==${EMUPOS_VERSION}"
else
  echo "emupos not installed: no Python >= 3.13 here (install python3.13 or uv)" >&2
fi
