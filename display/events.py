"""Socket.IO namespace /display: public and read-only; one verb, ``snapshot``.

A display connects with ``auth = {"areas": "A,B", "counters": "1,2"}`` (both optional), joins
its site's room, then asks for its snapshot. Its site is the request's (``motcua.sites``: the
paired device's, else the ``/s/<code>/`` prefix of its socket path, else the install's); an
old page's ``auth.site`` counts only where neither a device nor a prefix names one. With
REQUIRE_DEVICE_PAIRING on, an unpaired display is refused. Facts (``ticket_called``, …)
arrive through ``motcua.realtime``; a client that sees a gap in ``seq`` asks again.
"""

from __future__ import annotations

import dataclasses
import logging
from dataclasses import dataclass
from typing import Any

from flask_socketio import SocketIO, join_room

from motcua import realtime
from motcua.namespaces import SurfaceNamespace, verb
from motcua.services import board
from motcua.services.devices import DISPLAY
from motcua.sites import check_screen, request_site_code

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


def display_filter(areas: Any = None, counters: Any = None, site: Any = None) -> BoardFilter:
    """A display's filter on the request's site (the checks of ``check_screen`` first).

    ``site`` (``?site=`` or ``auth.site``, as before sites had addresses) is a hint only: a
    paired display's site or the address prefix wins over it.
    """
    check_screen(DISPLAY)
    wanted = parse_filter(areas, counters, site)
    return dataclasses.replace(wanted, site=request_site_code(named=wanted.site))


class DisplayNamespace(SurfaceNamespace[BoardFilter]):
    """The lobby boards' namespace."""

    state_type = BoardFilter

    def admit(self, auth: dict[str, Any]) -> BoardFilter:
        """Watch the board of the request's site: join its room and remember the filter."""
        wanted = display_filter(auth.get("areas"), auth.get("counters"), auth.get("site"))
        join_room(realtime.site_room(wanted.snapshot()["site"]["id"]))
        return wanted

    @verb()
    def on_snapshot(self, wanted: BoardFilter) -> dict[str, Any]:
        """The whole board for this display's filter, exact at ``seq``."""
        return wanted.snapshot()


def register_namespaces(socketio: SocketIO) -> None:
    """Register /display on the app's Socket.IO server (called by create_app)."""
    socketio.on_namespace(DisplayNamespace("/display"))
