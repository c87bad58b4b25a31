#!/bin/sh
# The citizen kiosk (touch screen; the ticket prints on the server's receipt printer).
# MOTCUA_KIOSK names this kiosk (its printer: PRINTERS[name] in instance/config.py).
here="$(dirname "$(readlink -f "$0")")"
server="${MOTCUA_SERVER:-http://192.168.1.10}"
export MOTCUA_PROFILE="${MOTCUA_PROFILE:-$HOME/.config/motcua-kiosk}"
exec "$here/chromium-kiosk.sh" "$server/kiosk/?kiosk=${MOTCUA_KIOSK:-sanh-1}" \
    --touch-events=enabled
