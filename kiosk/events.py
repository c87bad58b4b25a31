"""Socket.IO namespace /kiosk: kiosks follow their site, status pages follow one ticket.

The client says what it follows in the connect ``auth`` (``{"kiosk": "sanh-1"}`` or
``{"token": "<ticket token>"}``); a kiosk follows the request's site (``motcua.sites``: its
pairing, else the ``/s/<code>/`` prefix, else the install's). On every (re)connect it asks
for a full ``snapshot`` (the shared ``motcua/static/js/live.js`` protocol). Facts then
arrive through ``motcua.realtime``: to ``site:<id>`` for kiosks, to ``ticket:<token>`` for
status pages.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import marshmallow as ma
from flask_babel import force_locale
from flask_socketio import SocketIO, join_room
from marshmallow import validate

from kiosk.screens import kiosk_home as localized_kiosk_home
from kiosk.screens import ticket_snapshot
from motcua.i18n import DEFAULT_LOCALE, LOCALES
from motcua.namespaces import SurfaceNamespace, verb
from motcua.realtime import site_room, ticket_room
from motcua.services.devices import KIOSK
from motcua.services.kiosk import kiosk_home
from motcua.sites import check_screen, request_site_code


@dataclass(frozen=True)
class Follow:
    """What one connection follows: one ticket (by token), or a kiosk's site; and in which
    language its snapshots speak (the page's)."""

    token: str | None = None
    kiosk: str | None = None
    site: str | None = None
    lang: str = DEFAULT_LOCALE


class FollowSchema(ma.Schema):
    """The connect ``auth``: ``{"token": "<ticket token>"}`` or ``{"kiosk": "sanh-1"}``."""

    class Meta:
        unknown = ma.EXCLUDE

    token = ma.fields.String(load_default=None, allow_none=True, validate=validate.Length(max=128))
    kiosk = ma.fields.String(load_default=None, allow_none=True, validate=validate.Length(max=128))
    lang = ma.fields.String(
        load_default=None, allow_none=True, validate=validate.OneOf([*LOCALES, ""])
    )


class KioskNamespace(SurfaceNamespace[Follow]):
    """Public namespace (no login): one connection follows a kiosk's site or one ticket."""

    state_type = Follow
    auth_schema = FollowSchema()

    def admit(self, auth: dict[str, Any]) -> Follow:
        """Join the ticket's room (auth.token) or the kiosk's site room (auth.kiosk)."""
        token, kiosk = auth["token"] or None, auth["kiosk"] or None
        lang = auth["lang"] or DEFAULT_LOCALE
        if token is not None:
            ticket_snapshot(token)  # refuses an unknown token
            join_room(ticket_room(token))
            return Follow(token=token, lang=lang)
        check_screen(KIOSK)  # a phone's status page above is no unattended screen
        site = request_site_code()
        join_room(site_room(kiosk_home(kiosk=kiosk, site_code=site)["site"]["id"]))
        return Follow(kiosk=kiosk, site=site, lang=lang)

    @verb()
    def on_snapshot(self, follow: Follow) -> dict[str, Any]:
        """The full state this connection follows, with the site's ``seq``, in its language."""
        with force_locale(follow.lang):
            if follow.token is not None:
                return ticket_snapshot(follow.token)
            return localized_kiosk_home(follow.kiosk, site_code=follow.site)


def register_namespaces(socketio: SocketIO) -> None:
    """Attach /kiosk to the app's Socket.IO server (called by create_app)."""
    socketio.on_namespace(KioskNamespace("/kiosk"))
