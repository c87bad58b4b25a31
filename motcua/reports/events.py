"""Socket.IO namespace /leader: the leaders' live view (read-only, signed-in leaders/admins).

On connect the page joins its site's room; facts arrive through ``motcua.realtime`` and the
page asks for a fresh ``snapshot`` (the shared live.js protocol) whenever one comes in.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any

import marshmallow as ma
from flask_login import current_user
from flask_socketio import SocketIO, join_room

from motcua import realtime
from motcua.errors import Forbidden, Unauthorized
from motcua.namespaces import SurfaceNamespace, verb
from motcua.services import reports

log = logging.getLogger(__name__)

LEADER_ROLES = ("leader", "admin")


@dataclass(frozen=True)
class LiveView:
    """What one live view follows: a site (None: the default one), for whom."""

    site: str | None = None
    reader: int | None = None


class LiveAuthSchema(ma.Schema):
    """The live view's connect ``auth``: ``{"site": "main"}`` or nothing."""

    class Meta:
        unknown = ma.EXCLUDE

    site = ma.fields.String(load_default=None, allow_none=True)


class LeaderNamespace(SurfaceNamespace[LiveView]):
    """The live view's namespace: one connection follows one site."""

    state_type = LiveView
    auth_schema = LiveAuthSchema()

    def admit(self, auth: dict[str, Any]) -> LiveView:
        """Leaders and admins only (session cookie); join the site's room."""
        if not current_user.is_authenticated:
            raise Unauthorized()
        if not current_user.view.has_role(*LEADER_ROLES):
            raise Forbidden()
        site = auth["site"] or None
        snapshot = reports.live_snapshot(site_code=site, actor_id=current_user.view.id)
        join_room(realtime.site_room(snapshot["site"]["id"]))
        return LiveView(snapshot["site"]["code"], current_user.view.id)

    @verb()
    def on_snapshot(self, view: LiveView) -> dict[str, Any]:
        """Today's overview of the site, exact at ``seq``."""
        return reports.live_snapshot(site_code=view.site, actor_id=view.reader)


def register_namespaces(socketio: SocketIO) -> None:
    """Register /leader on the app's Socket.IO server (called by create_app)."""
    socketio.on_namespace(LeaderNamespace("/leader"))
