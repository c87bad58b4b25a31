#!/bin/sh
# Full-screen Chromium on one motcua page, restarted if it closes or crashes.
# Usage: chromium-kiosk.sh URL [extra Chromium flags...]   (kiosk.sh, display.sh, tablet.sh)
# Environment: MOTCUA_SERVER (default http://192.168.1.10), MOTCUA_PROFILE (a profile folder of
# its own per screen, so a crash bubble or a stale session of another screen never shows),
# MOTCUA_WAIT_TRIES (default 60: wait up to 2 minutes for the server's /healthz).
set -u
url="$1"; shift
profile="${MOTCUA_PROFILE:-$HOME/.config/motcua-kiosk}"
browser="$(command -v chromium || command -v chromium-browser || command -v google-chrome)"
[ -n "$browser" ] || { echo "chromium not found (apt install chromium)" >&2; exit 1; }
mkdir -p "$profile"
# The screen never blanks, and never sleeps (X11; Wayland compositors have their own setting).
if command -v xset >/dev/null 2>&1 && [ -n "${DISPLAY:-}" ]; then
    xset s off -dpms s noblank 2>/dev/null || true
fi
# Wait for the server: a lobby PC may boot before it (the page then retries by itself).
base="$(printf '%s' "$url" | sed -E 's#^(https?://[^/]+).*#\1#')"
for _ in $(seq 1 "${MOTCUA_WAIT_TRIES:-60}"); do
    if command -v curl >/dev/null 2>&1; then
        curl -fsS -o /dev/null --max-time 2 "$base/healthz" && break
    else
        break
    fi
    sleep 2
done
while true; do
    # A crash leaves "exited_cleanly": false behind, and Chromium would offer to restore.
    sed -i 's/"exited_cleanly":false/"exited_cleanly":true/; s/"exit_type":"[^"]*"/"exit_type":"Normal"/' \
        "$profile/Default/Preferences" 2>/dev/null || true
    "$browser" \
        --kiosk "$url" \
        --user-data-dir="$profile" \
        --lang=vi --accept-lang=vi-VN,vi \
        --no-first-run --no-default-browser-check \
        --noerrdialogs --disable-infobars --disable-session-crashed-bubble \
        --disable-translate --disable-features=Translate,TranslateUI,TouchpadOverscrollHistoryNavigation \
        --disable-pinch --overscroll-history-navigation=0 \
        --check-for-update-interval=31536000 \
        --password-store=basic \
        "$@"
    sleep 2
done
