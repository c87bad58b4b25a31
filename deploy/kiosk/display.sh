#!/bin/sh
# The lobby display: speaks each call without anyone tapping the screen first
# (--autoplay-policy). MOTCUA_DISPLAY_QUERY limits it, e.g. "areas=A,B" or "counters=1,2".
here="$(dirname "$(readlink -f "$0")")"
server="${MOTCUA_SERVER:-http://192.168.1.10}"
export MOTCUA_PROFILE="${MOTCUA_PROFILE:-$HOME/.config/motcua-display}"
exec "$here/chromium-kiosk.sh" "$server/display/?${MOTCUA_DISPLAY_QUERY:-}" \
    --autoplay-policy=no-user-gesture-required
