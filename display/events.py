"""Socket.IO namespace /display: public and read-only; one verb, ``snapshot``.

A display connects with ``auth = {"areas": "A,B", "counters": "1,2", "site": "main"}`` (all
optional), joins its site's room, then asks for its snapshot. Facts (``ticket_called``, …)
arrive through ``motcua.realtime``; a client that sees a gap in ``seq`` asks again.
"""

from __future__ import annotations

import logging
import threading
from dataclasses import dataclass
from typing import Any

from flask import request
from flask_socketio import Namespace, SocketIO, join_room

from motcua import realtime
from motcua.errors import HTTP_MESSAGES, DomainError, error_payload
from motcua.services import board

log = logging.getLogger(__name__)

MAX_FILTER_ITEMS = 50


@dataclass(frozen=True)
class BoardFilter:
    """What one display shows: a site, and optionally some areas and counters."""

    site: str | None = None
    areas: tuple[str, ...] = ()
    counters: tuple[int, ...] = ()

    def snapshot(self) -> dict[str, Any]:
        """The board snapshot for this filter."""
        return board.board_snapshot(
            site_code=self.site,
            areas=list(self.areas) or None,
            counters=list(self.counters) or None,
        )


def _items(value: Any) -> list[str]:
    """A comma-separated string or a list, as trimmed non-empty strings."""
    if value is None:
        return []
    parts = value.split(",") if isinstance(value, str) else list(value)
    return [str(p).strip() for p in parts if str(p).strip()][:MAX_FILTER_ITEMS]


def parse_filter(areas: Any = None, counters: Any = None, site: Any = None) -> BoardFilter:
    """Build a filter from query-string or auth values; ignores what does not parse."""
    numbers = tuple(int(c) for c in _items(counters) if c.isdigit())
    codes = tuple(a.upper()[:32] for a in _items(areas))
    site_code = str(site).strip()[:32] if site else None
    return BoardFilter(site=site_code or None, areas=codes, counters=numbers)


class DisplayNamespace(Namespace):
    """The lobby boards' namespace."""

    def __init__(self, namespace: str = "/display") -> None:
        super().__init__(namespace)
        self._filters: dict[str, BoardFilter] = {}
        self._lock = threading.Lock()

    def on_connect(self, auth: Any = None) -> None:
        """Anyone may watch the board: join the site room and remember the filter."""
        options = auth if isinstance(auth, dict) else {}
        wanted = parse_filter(options.get("areas"), options.get("counters"), options.get("site"))
        try:
            site_id = wanted.snapshot()["site"]["id"]
        except DomainError as exc:
            raise ConnectionRefusedError(error_payload(exc)) from None
        join_room(realtime.site_room(site_id))
        with self._lock:
            self._filters[request.sid] = wanted  # type: ignore[attr-defined]

    def on_disconnect(self, reason: Any = None) -> None:
        """Forget the display."""
        with self._lock:
            self._filters.pop(request.sid, None)  # type: ignore[attr-defined]

    def on_snapshot(self, data: Any = None) -> dict[str, Any]:
        """The whole board for this display's filter, exact at ``seq``."""
        with self._lock:
            wanted = self._filters.get(request.sid)  # type: ignore[attr-defined]
        if wanted is None:
            return {"ok": False, "error": "not_connected", "message": str(HTTP_MESSAGES[400])}
        try:
            return {"ok": True, **wanted.snapshot()}
        except DomainError as exc:
            return {"ok": False, **error_payload(exc)}
        except Exception:
            log.exception("display snapshot failed")
            return {"ok": False, "error": "server_error", "message": str(HTTP_MESSAGES[500])}


def register_namespaces(socketio: SocketIO) -> None:
    """Register /display on the app's Socket.IO server (called by create_app)."""
    socketio.on_namespace(DisplayNamespace("/display"))
