#!/usr/bin/env bash
# Debian packages the system and its tests need: PostgreSQL (tests), Chromium (browser tests),
# fonts with Vietnamese glyphs (screens), espeak-ng + sox (offline Vietnamese voice).
set -euo pipefail
pkgs=(postgresql chromium chromium-driver fonts-noto-core fonts-dejavu-core espeak-ng sox)
missing=()
for p in "${pkgs[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  SUDO=""; [ "$(id -u)" -eq 0 ] || SUDO="sudo"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}"
fi
