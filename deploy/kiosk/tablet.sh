#!/bin/sh
# The rating tablet at counter MOTCUA_COUNTER (or paired through /device: leave it unset).
here="$(dirname "$(readlink -f "$0")")"
server="${MOTCUA_SERVER:-http://192.168.1.10}"
query=""
[ -n "${MOTCUA_COUNTER:-}" ] && query="?counter=$MOTCUA_COUNTER"
export MOTCUA_PROFILE="${MOTCUA_PROFILE:-$HOME/.config/motcua-tablet}"
exec "$here/chromium-kiosk.sh" "$server/rating/$query" \
    --touch-events=enabled --autoplay-policy=no-user-gesture-required
