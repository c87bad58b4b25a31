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
# Anyone in the hall (or on its Wi-Fi) may open these (/rating admits an unpaired tablet by its
# counter number): they get only what a stranger standing in the hall may see on the board:
# the number, its area, its counter, its state and times, and who sits at which counter.
PUBLIC_NAMESPACES = frozenset({"/display", "/kiosk", "/rating"})
# Staff rooms (/counter, /leader: signed-in officers and leaders) get the whole fact.
PUBLIC_TICKET_FIELDS = frozenset(
    {
        "uuid",  # matches a kiosk's print status to the ticket on its screen
        "code",
        "number",
        "status",
        "area_code",
        "area_prefix",
        "area_name",
        "counter_number",
        "serving_counters",
        "issued_at",
        "called_at",
        "started_at",
        "finished_at",
        "business_day",
        "site_code",
        "seq",
    }
)
# Top-level fields of a fact that never leave the staff rooms.
PRIVATE_FACT_FIELDS = frozenset({"note", "reason", "comment", "dossier_code"})
# The ticket's own status page (it holds the token) sees its priority but never the dossier code.
OWNER_HIDDEN_FIELDS = frozenset({"dossier_code"})


def site_room(site_id: int) -> str:
    """Room name of everything happening at a site."""
    return f"site:{site_id}"


def counter_room(counter_id: int) -> str:
    """Room name of one counter (its console and its rating tablet)."""
    return f"counter:{counter_id}"


def ticket_room(token: str) -> str:
    """Room of one ticket's public status page."""
    return f"ticket:{token}"


def staff_fact(payload: dict[str, Any]) -> dict[str, Any]:
    """A fact for the staff rooms: everything but the ticket's token."""
    ticket = payload.get("ticket")
    if not isinstance(ticket, dict) or "token" not in ticket:
        return payload
    return {**payload, "ticket": {k: v for k, v in ticket.items() if k != "token"}}


def public_fact(payload: dict[str, Any]) -> dict[str, Any]:
    """A fact for the public namespaces: no dossier code, priority, note or token."""
    out = {k: v for k, v in payload.items() if k not in PRIVATE_FACT_FIELDS}
    ticket = payload.get("ticket")
    if isinstance(ticket, dict):
        out["ticket"] = {k: v for k, v in ticket.items() if k in PUBLIC_TICKET_FIELDS}
    return out


def owner_fact(payload: dict[str, Any]) -> dict[str, Any]:
    """A fact for the ticket's own status page: its token and priority, not its dossier code."""
    ticket = payload.get("ticket")
    if not isinstance(ticket, dict):
        return payload
    return {**payload, "ticket": {k: v for k, v in ticket.items() if k not in OWNER_HIDDEN_FIELDS}}


def publish(site_id: int, event: str, payload: dict[str, Any]) -> None:
    """Send a fact to every surface following the site; never raises.

    Privacy by design: the public namespaces (/display, /kiosk: any screen or phone on the
    hall's network) get ``public_fact``, the staff namespaces the whole fact. A ticket's
    public token opens its status page (and its rating): it goes only to that ticket's own
    room, never to a site room.
    """
    try:
        ticket = payload.get("ticket")
        token = ticket.get("token") if isinstance(ticket, dict) else None
        staff, public = staff_fact(payload), public_fact(payload)
        for namespace in SITE_NAMESPACES:
            fact = public if namespace in PUBLIC_NAMESPACES else staff
            socketio.emit(event, fact, to=site_room(site_id), namespace=namespace)
        if token:
            socketio.emit(event, owner_fact(payload), to=ticket_room(token), namespace="/kiosk")
    except Exception:  # a broken socket must never undo a committed ticket
        log.exception("could not publish %s for site %s", event, site_id)


def publish_positions(positions: list[tuple[str, int, int, int, int]]) -> None:
    """Tell each waiting ticket's status page its place: ``queue_position`` {people_ahead,
    estimated_wait_minutes, wait_low_minutes, wait_high_minutes}, to that ticket's own room
    only; never raises."""
    try:
        for token, ahead, minutes, low, high in positions:
            socketio.emit(
                "queue_position",
                {
                    "people_ahead": ahead,
                    "estimated_wait_minutes": minutes,
                    "wait_low_minutes": low,
                    "wait_high_minutes": high,
                },
                to=ticket_room(token),
                namespace="/kiosk",
            )
    except Exception:  # a broken socket must never undo a committed change
        log.exception("could not publish queue positions")
