#!/usr/bin/env bash
# Debian packages motcua needs. Usage: install-system-deps.sh [run|test]
#   run:  espeak-ng (offline Vietnamese voice), fonts with Vietnamese glyphs
#   test: the above plus PostgreSQL (PostgreSQL tests), Redis and nginx (the cluster test, the
#         deploy kit's site checked with nginx -t, bench/bench_scale.py), Chromium and its
#         headless shell (browser tests), sox
set -euo pipefail
pkgs=(espeak-ng fonts-noto-core fonts-dejavu-core)
if [ "${1:-test}" = "test" ]; then
  pkgs+=(postgresql redis-server nginx chromium chromium-headless-shell chromium-driver sox)
fi
missing=()
for p in "${pkgs[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  SUDO=""; [ "$(id -u)" -eq 0 ] || SUDO="sudo"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}"
fi
