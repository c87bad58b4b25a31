"""Socket.IO namespace /kiosk: kiosks follow their site, status pages follow one ticket.

The client says what it follows in the connect ``auth`` (``{"kiosk": "sanh-1"}`` or
``{"token": "<ticket token>"}``); on every (re)connect it asks for a full ``snapshot``
(the shared ``motcua/static/js/live.js`` protocol). Facts then arrive through
``motcua.realtime``: to ``site:<id>`` for kiosks, to ``ticket:<token>`` for status pages.
"""

from __future__ import annotations

import threading
from typing import Any

from flask import request
from flask_socketio import ConnectionRefusedError, Namespace, SocketIO, join_room

from motcua.errors import DomainError, ValidationFailed, error_payload
from motcua.realtime import site_room, ticket_room
from motcua.services import printing


def _field(data: Any, name: str) -> str | None:
    """A short string field of a payload (None when absent)."""
    value = data.get(name) if isinstance(data, dict) else None
    if value is None or value == "":
        return None
    if not isinstance(value, str) or len(value) > 128:
        raise ValidationFailed(field=name)
    return value


class KioskNamespace(Namespace):
    """Public namespace (no login): one connection follows a kiosk's site or one ticket."""

    def __init__(self, namespace: str = "/kiosk") -> None:
        super().__init__(namespace)
        self._follows: dict[str, tuple[str, str | None]] = {}
        self._lock = threading.Lock()

    def on_connect(self, auth: Any = None) -> None:
        """Join the ticket's room (auth.token) or the kiosk's site room (auth.kiosk)."""
        try:
            token = _field(auth, "token")
            if token is not None:
                printing.ticket_snapshot(token)  # refuses an unknown token
                join_room(ticket_room(token))
                follow: tuple[str, str | None] = ("ticket", token)
            else:
                kiosk = _field(auth, "kiosk")
                join_room(site_room(printing.kiosk_home(kiosk=kiosk)["site"]["id"]))
                follow = ("kiosk", kiosk)
        except DomainError as exc:
            raise ConnectionRefusedError(error_payload(exc)) from exc
        with self._lock:
            self._follows[request.sid] = follow  # type: ignore[attr-defined]

    def on_disconnect(self, reason: Any = None) -> None:
        """Forget the connection."""
        with self._lock:
            self._follows.pop(request.sid, None)  # type: ignore[attr-defined]

    def on_snapshot(self, data: Any = None) -> dict[str, Any]:
        """The full state this connection follows, with the site's ``seq``."""
        with self._lock:
            kind, value = self._follows.get(request.sid, ("kiosk", None))  # type: ignore[attr-defined]
        try:
            if kind == "ticket" and value is not None:
                return {"ok": True, **printing.ticket_snapshot(value)}
            return {"ok": True, **printing.kiosk_home(kiosk=value)}
        except DomainError as exc:
            return {"ok": False, **error_payload(exc)}


def register_namespaces(socketio: SocketIO) -> None:
    """Attach /kiosk to the app's Socket.IO server (called by create_app)."""
    socketio.on_namespace(KioskNamespace("/kiosk"))
