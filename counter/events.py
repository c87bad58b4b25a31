"""Socket.IO namespace /counter: the console's verbs, each acknowledged, each one service call.

Clients send verbs (``call_next``, ``recall``, …) and get an ack ``{"ok": true, ...}`` or
``{"ok": false, "error": code, "message": Vietnamese text}``; the facts that follow
(``ticket_called``, …) reach every surface through ``motcua.realtime``. On connect the console
joins its site and counter rooms, then asks for its snapshot with the ``snapshot`` verb.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any

import marshmallow as ma
from flask_login import current_user
from flask_socketio import SocketIO, join_room

from motcua import realtime
from motcua.api.schemas import CallTicketSchema, FinishSchema, PauseSchema, TransferSchema
from motcua.errors import Unauthorized
from motcua.namespaces import SurfaceNamespace, verb
from motcua.services import print_jobs, tickets
from motcua.services.tickets import TicketView

log = logging.getLogger(__name__)

COUNTER_ROLES = tickets.COUNTER_ROLES


@dataclass(frozen=True)
class ConsoleClient:
    """Who is behind a connected console: the officer and the counter they sit at."""

    officer_id: int
    counter_id: int
    counter_number: int


class ConsoleAuthSchema(ma.Schema):
    """The console's connect ``auth``: the counter it opens."""

    class Meta:
        unknown = ma.EXCLUDE

    counter_id = ma.fields.Integer(required=True)


def _ticket_ack(view: TicketView) -> dict[str, Any]:
    return {"ticket": view.as_dict(), "seq": view.seq}


class DismissAlertSchema(ma.Schema):
    """``dismiss_print_alert``: the alert's id (its print job's uuid)."""

    class Meta:
        unknown = ma.EXCLUDE

    id = ma.fields.String(required=True, validate=ma.validate.Length(min=1, max=36))


class CounterNamespace(SurfaceNamespace[ConsoleClient]):
    """The officer console's namespace; one connection = one officer at one counter."""

    state_type = ConsoleClient
    auth_schema = ConsoleAuthSchema()

    def admit(self, auth: dict[str, Any]) -> ConsoleClient:
        """A signed-in account (session cookie); the service decides whether it may work the
        counter (role, fixed seat), as it does again on every verb."""
        if not current_user.is_authenticated:
            raise Unauthorized()
        user = current_user.view
        # The officer who opens the console sits at the counter from now (its tablet shows
        # them at once); the service checks that they may work it.
        counter = tickets.take_seat(auth["counter_id"], user.id)
        join_room(realtime.site_room(counter["site_id"]))
        join_room(realtime.counter_room(counter["id"]))
        log.info("console connected: %s at counter %s", user.username, counter["number"])
        return ConsoleClient(
            officer_id=user.id, counter_id=counter["id"], counter_number=counter["number"]
        )

    @verb()
    def on_snapshot(self, c: ConsoleClient) -> dict[str, Any]:
        """The counter's current ticket and waiting queue, exact at ``seq``."""
        return tickets.counter_state(c.counter_id, officer_id=c.officer_id)

    @verb()
    def on_call_next(self, c: ConsoleClient) -> dict[str, Any]:
        """Gọi tiếp: call the next waiting ticket to this counter."""
        return _ticket_ack(tickets.call_next(c.counter_id, officer_id=c.officer_id))

    @verb(CallTicketSchema)
    def on_call_ticket(self, c: ConsoleClient, *, code: str) -> dict[str, Any]:
        """Gọi số cụ thể: call a given waiting number ({"code": "A012"})."""
        return _ticket_ack(tickets.call_ticket(c.counter_id, code, officer_id=c.officer_id))

    @verb()
    def on_recall(self, c: ConsoleClient) -> dict[str, Any]:
        """Gọi lại: announce the current ticket again."""
        return _ticket_ack(tickets.recall(c.counter_id, officer_id=c.officer_id))

    @verb()
    def on_no_show(self, c: ConsoleClient) -> dict[str, Any]:
        """Vắng mặt: the called citizen did not come."""
        return _ticket_ack(tickets.mark_no_show(c.counter_id, officer_id=c.officer_id))

    @verb()
    def on_start(self, c: ConsoleClient) -> dict[str, Any]:
        """Bắt đầu: the citizen is at the counter."""
        return _ticket_ack(tickets.start_service(c.counter_id, officer_id=c.officer_id))

    @verb(FinishSchema)
    def on_finish(self, c: ConsoleClient, *, dossier_code: str | None) -> dict[str, Any]:
        """Hoàn thành: finish the transaction, with an optional mã hồ sơ."""
        return _ticket_ack(
            tickets.finish(c.counter_id, officer_id=c.officer_id, dossier_code=dossier_code)
        )

    @verb(TransferSchema)
    def on_transfer(
        self,
        c: ConsoleClient,
        *,
        to_service: str | None,
        to_counter: int | None,
        note: str | None,
    ) -> dict[str, Any]:
        """Chuyển: send the ticket to another area and/or counter, with a note."""
        view = tickets.transfer(
            c.counter_id,
            to_service=to_service,
            to_counter=to_counter,
            note=note,
            officer_id=c.officer_id,
        )
        return _ticket_ack(view)

    @verb(PauseSchema)
    def on_pause(self, c: ConsoleClient, *, paused: bool) -> dict[str, Any]:
        """Tạm nghỉ / Mở lại: {"paused": true|false}."""
        return tickets.set_paused(c.counter_id, paused, officer_id=c.officer_id)

    @verb(DismissAlertSchema)
    def on_dismiss_print_alert(self, c: ConsoleClient, *, id: str) -> dict[str, Any]:
        """Bỏ qua cảnh báo: an unprinted ticket was handled another way (audited)."""
        actor = current_user.view.username
        return print_jobs.dismiss_alert(id, actor_id=c.officer_id, actor=actor)


def register_namespaces(socketio: SocketIO) -> None:
    """Register /counter on the app's Socket.IO server (called by create_app)."""
    socketio.on_namespace(CounterNamespace("/counter"))
