"""Socket.IO namespace /counter: the console's verbs, each acknowledged, each one service call.

Clients send verbs (``call_next``, ``recall``, …) and get an ack ``{"ok": true, ...}`` or
``{"ok": false, "error": code, "message": Vietnamese text}``; the facts that follow
(``ticket_called``, …) reach every surface through ``motcua.realtime``. On connect the console
joins its site and counter rooms, then asks for its snapshot with the ``snapshot`` verb.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from flask import request
from flask_login import current_user
from flask_socketio import Namespace, SocketIO, join_room

from motcua import realtime
from motcua.errors import (
    DomainError,
    Forbidden,
    Unauthorized,
    ValidationFailed,
    error_payload,
    run_for_ack,
)
from motcua.services import tickets
from motcua.services.settings import effective
from motcua.services.tickets import TicketView

log = logging.getLogger(__name__)

COUNTER_ROLES = ("officer",)
MAX_TEXT = 500


@dataclass(frozen=True)
class ConsoleClient:
    """Who is behind a connected console: the officer and the counter they sit at."""

    officer_id: int
    counter_id: int
    counter_number: int


def assigned_counter(username: str) -> int | None:
    """The counter number configuration fixes for an officer, if any."""
    value = (effective("COUNTER_ASSIGNMENTS") or {}).get(username)
    return int(value) if value is not None else None


def _opt_int(value: Any, field: str) -> int | None:
    """An optional integer argument, or raise ValidationFailed."""
    if value is None or value == "":
        return None
    if isinstance(value, bool):
        raise ValidationFailed(field=field)
    try:
        return int(value)
    except (TypeError, ValueError):
        raise ValidationFailed(field=field) from None


def _req_int(value: Any, field: str) -> int:
    """A required integer argument, or raise ValidationFailed."""
    number = _opt_int(value, field)
    if number is None:
        raise ValidationFailed(field=field)
    return number


def _opt_text(data: dict[str, Any], field: str) -> str | None:
    """A trimmed optional string argument (None when empty), or raise ValidationFailed."""
    value = data.get(field)
    if value is None:
        return None
    if not isinstance(value, str):
        raise ValidationFailed(field=field)
    return value.strip()[:MAX_TEXT] or None


def _req_text(data: dict[str, Any], field: str) -> str:
    """A required non-empty string argument, or raise ValidationFailed."""
    value = _opt_text(data, field)
    if value is None:
        raise ValidationFailed(field=field)
    return value


def _args(data: Any) -> dict[str, Any]:
    """The verb's argument object ({} when none was sent)."""
    if data is None:
        return {}
    if not isinstance(data, dict):
        raise ValidationFailed()
    return data


def _ticket_ack(view: TicketView) -> dict[str, Any]:
    return {"ok": True, "ticket": view.as_dict(), "seq": view.seq}


class CounterNamespace(Namespace):
    """The officer console's namespace; one connection = one officer at one counter."""

    def __init__(self, namespace: str = "/counter") -> None:
        super().__init__(namespace)
        self._clients: dict[str, ConsoleClient] = {}
        self._lock = threading.Lock()

    # ------------------------------------------------------------------ connection

    def on_connect(self, auth: Any = None) -> None:
        """Officers only (session cookie); join the site and counter rooms."""
        try:
            if not current_user.is_authenticated:
                raise Unauthorized()
            user = current_user.view
            if not user.has_role(*COUNTER_ROLES):
                raise Forbidden()
            counter_id = _req_int(_args(auth).get("counter_id"), "counter_id")
            state = tickets.counter_state(counter_id)
            counter = state["counter"]
            fixed = assigned_counter(user.username)
            if fixed is not None and fixed != counter["number"]:
                raise Forbidden()
        except DomainError as exc:
            raise ConnectionRefusedError(error_payload(exc)) from None
        join_room(realtime.site_room(counter["site_id"]))
        join_room(realtime.counter_room(counter_id))
        with self._lock:
            self._clients[request.sid] = ConsoleClient(  # type: ignore[attr-defined]
                officer_id=user.id, counter_id=counter_id, counter_number=counter["number"]
            )
        log.info("console connected: %s at counter %s", user.username, counter["number"])

    def on_disconnect(self, reason: Any = None) -> None:
        """Forget the console."""
        with self._lock:
            self._clients.pop(request.sid, None)  # type: ignore[attr-defined]

    # ------------------------------------------------------------------ verbs

    def _act(self, action: Callable[[ConsoleClient], dict[str, Any]]) -> dict[str, Any]:
        """Run one verb for the calling console and turn the outcome into an ack."""
        with self._lock:
            client = self._clients.get(request.sid)  # type: ignore[attr-defined]

        def verb() -> dict[str, Any]:
            if client is None:
                raise Unauthorized()
            return action(client)

        return run_for_ack(verb, "console verb")

    def on_snapshot(self, data: Any = None) -> dict[str, Any]:
        """The counter's current ticket and waiting queue, exact at ``seq``."""
        return self._act(lambda c: {"ok": True, **tickets.counter_state(c.counter_id)})

    def on_call_next(self, data: Any = None) -> dict[str, Any]:
        """Gọi tiếp: call the next waiting ticket to this counter."""
        return self._act(
            lambda c: _ticket_ack(tickets.call_next(c.counter_id, officer_id=c.officer_id))
        )

    def on_call_ticket(self, data: Any = None) -> dict[str, Any]:
        """Gọi số cụ thể: call a given waiting number ({"code": "A012"})."""

        def act(c: ConsoleClient) -> dict[str, Any]:
            code = _req_text(_args(data), "code")
            return _ticket_ack(tickets.call_ticket(c.counter_id, code, officer_id=c.officer_id))

        return self._act(act)

    def on_recall(self, data: Any = None) -> dict[str, Any]:
        """Gọi lại: announce the current ticket again."""
        return self._act(
            lambda c: _ticket_ack(tickets.recall(c.counter_id, officer_id=c.officer_id))
        )

    def on_no_show(self, data: Any = None) -> dict[str, Any]:
        """Vắng mặt: the called citizen did not come."""
        return self._act(
            lambda c: _ticket_ack(tickets.mark_no_show(c.counter_id, officer_id=c.officer_id))
        )

    def on_start(self, data: Any = None) -> dict[str, Any]:
        """Bắt đầu: the citizen is at the counter."""
        return self._act(
            lambda c: _ticket_ack(tickets.start_service(c.counter_id, officer_id=c.officer_id))
        )

    def on_finish(self, data: Any = None) -> dict[str, Any]:
        """Hoàn thành: finish the transaction, with an optional mã hồ sơ."""

        def act(c: ConsoleClient) -> dict[str, Any]:
            dossier = _opt_text(_args(data), "dossier_code")
            return _ticket_ack(
                tickets.finish(c.counter_id, officer_id=c.officer_id, dossier_code=dossier)
            )

        return self._act(act)

    def on_transfer(self, data: Any = None) -> dict[str, Any]:
        """Chuyển: send the ticket to another area and/or counter, with a note."""

        def act(c: ConsoleClient) -> dict[str, Any]:
            args = _args(data)
            view = tickets.transfer(
                c.counter_id,
                to_service=_opt_text(args, "to_service"),
                to_counter=_opt_int(args.get("to_counter"), "to_counter"),
                note=_opt_text(args, "note"),
                officer_id=c.officer_id,
            )
            return _ticket_ack(view)

        return self._act(act)

    def on_pause(self, data: Any = None) -> dict[str, Any]:
        """Tạm nghỉ / Mở lại: {"paused": true|false}."""

        def act(c: ConsoleClient) -> dict[str, Any]:
            paused = _args(data).get("paused")
            if not isinstance(paused, bool):
                raise ValidationFailed(field="paused")
            return {"ok": True, **tickets.set_paused(c.counter_id, paused, officer_id=c.officer_id)}

        return self._act(act)


def register_namespaces(socketio: SocketIO) -> None:
    """Register /counter on the app's Socket.IO server (called by create_app)."""
    socketio.on_namespace(CounterNamespace("/counter"))
