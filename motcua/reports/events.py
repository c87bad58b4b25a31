"""Socket.IO namespace /leader: the leaders' live view (read-only, signed-in leaders/admins).

On connect the page joins its site's room; facts arrive through ``motcua.realtime`` and the
page asks for a fresh ``snapshot`` (the shared live.js protocol) whenever one comes in.
"""

from __future__ import annotations

import logging
import threading
from typing import Any

from flask import request
from flask_login import current_user
from flask_socketio import ConnectionRefusedError, Namespace, SocketIO, join_room

from motcua import realtime
from motcua.errors import HTTP_MESSAGES, DomainError, Forbidden, Unauthorized, error_payload
from motcua.services import reports

log = logging.getLogger(__name__)

LEADER_ROLES = ("leader", "admin")


class LeaderNamespace(Namespace):
    """The live view's namespace: one connection follows one site."""

    def __init__(self, namespace: str = "/leader") -> None:
        super().__init__(namespace)
        self._sites: dict[str, str | None] = {}
        self._lock = threading.Lock()

    def on_connect(self, auth: Any = None) -> None:
        """Leaders and admins only (session cookie); join the site's room."""
        try:
            if not current_user.is_authenticated:
                raise Unauthorized()
            if not current_user.view.has_role(*LEADER_ROLES):
                raise Forbidden()
            site = auth.get("site") if isinstance(auth, dict) else None
            site = site if isinstance(site, str) and site else None
            snapshot = reports.live_snapshot(site_code=site)
        except DomainError as exc:
            raise ConnectionRefusedError(error_payload(exc)) from None
        join_room(realtime.site_room(snapshot["site"]["id"]))
        with self._lock:
            self._sites[request.sid] = site  # type: ignore[attr-defined]

    def on_disconnect(self, reason: Any = None) -> None:
        """Forget the connection."""
        with self._lock:
            self._sites.pop(request.sid, None)  # type: ignore[attr-defined]

    def on_snapshot(self, data: Any = None) -> dict[str, Any]:
        """Today's overview of the site, exact at ``seq``."""
        with self._lock:
            if request.sid not in self._sites:  # type: ignore[attr-defined]
                return {"ok": False, "error": "not_connected", "message": str(HTTP_MESSAGES[401])}
            site = self._sites[request.sid]  # type: ignore[attr-defined]
        try:
            return {"ok": True, **reports.live_snapshot(site_code=site)}
        except DomainError as exc:
            return {"ok": False, **error_payload(exc)}
        except Exception:
            log.exception("live snapshot failed")
            return {"ok": False, "error": "server_error", "message": str(HTTP_MESSAGES[500])}


def register_namespaces(socketio: SocketIO) -> None:
    """Register /leader on the app's Socket.IO server (called by create_app)."""
    socketio.on_namespace(LeaderNamespace("/leader"))
