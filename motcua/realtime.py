"""The only module that emits Socket.IO events.

Services call ``publish`` after their commit. Every fact carries the site's
sequence number (``seq``) so that a client can notice a gap and re-sync.
"""

from __future__ import annotations

import logging
from typing import Any

from motcua.extensions import socketio

log = logging.getLogger(__name__)

# Surfaces that follow a site's board; each is a Socket.IO namespace.
SITE_NAMESPACES = ("/display", "/counter", "/kiosk", "/rating", "/leader")


def site_room(site_id: int) -> str:
    """Room name of everything happening at a site."""
    return f"site:{site_id}"


def counter_room(counter_id: int) -> str:
    """Room name of one counter (its console and its rating tablet)."""
    return f"counter:{counter_id}"


def ticket_room(token: str) -> str:
    """Room of one ticket's public status page."""
    return f"ticket:{token}"


def publish(site_id: int, event: str, payload: dict[str, Any]) -> None:
    """Send a fact to every surface following the site; never raises.

    A ticket's public token opens its status page (and its rating): it goes only to
    that ticket's own room, never to a site room where any screen on the LAN listens.
    """
    try:
        ticket = payload.get("ticket")
        token = ticket.get("token") if isinstance(ticket, dict) else None
        public = payload
        if token:
            assert isinstance(ticket, dict)
            public = {**payload, "ticket": {k: v for k, v in ticket.items() if k != "token"}}
        for namespace in SITE_NAMESPACES:
            socketio.emit(event, public, to=site_room(site_id), namespace=namespace)
        if token:
            socketio.emit(event, payload, to=ticket_room(token), namespace="/kiosk")
    except Exception:  # a broken socket must never undo a committed ticket
        log.exception("could not publish %s for site %s", event, site_id)


def publish_positions(positions: list[tuple[str, int, int]]) -> None:
    """Tell each waiting ticket's status page its place: ``queue_position`` {people_ahead,
    estimated_wait_minutes}, to that ticket's own room only; never raises."""
    try:
        for token, ahead, minutes in positions:
            socketio.emit(
                "queue_position",
                {"people_ahead": ahead, "estimated_wait_minutes": minutes},
                to=ticket_room(token),
                namespace="/kiosk",
            )
    except Exception:  # a broken socket must never undo a committed change
        log.exception("could not publish queue positions")
