"""API views: parse, authorize, call one service, answer."""

from __future__ import annotations

from typing import Any

from flask import current_app, url_for

from motcua.api.parsing import Blueprint
from motcua.api.schemas import (
    BoardQuerySchema,
    BoardSchema,
    CallTicketSchema,
    CancelSchema,
    FinishSchema,
    PauseResultSchema,
    PauseSchema,
    ServiceSchema,
    TicketCreateSchema,
    TicketSchema,
    TokenRequestSchema,
    TokenSchema,
    TransferSchema,
)
from motcua.auth import issuer_from_request, request_user, require_login, require_roles
from motcua.errors import ValidationFailed
from motcua.services import accounts, board, catalog, kiosk, staff, tickets
from motcua.services.tickets import TicketView
from motcua.sites import request_site_code

blp = Blueprint(
    "api", __name__, url_prefix="/api/v1", description="Dịch vụ công khai của hệ thống xếp hàng"
)

BEARER: list[dict[str, list[str]]] = [{"bearerAuth": []}]


def status_url(token: str) -> str:
    """The public address printed in the QR (PUBLIC_BASE_URL + /t/<token>)."""
    base = str(current_app.config.get("PUBLIC_BASE_URL") or "").rstrip("/")
    return f"{base}/t/{token}"


def ticket_body(view: TicketView) -> dict[str, Any]:
    """A ticket view plus its public status URL."""
    body = view.as_dict()
    body["status_url"] = status_url(view.token)
    return body


def _actor_id() -> int | None:
    user = request_user()
    return user.id if user else None


@blp.route("/services")
@blp.response(200, ServiceSchema(many=True))
def list_services() -> Any:
    """Active service areas served at the site (``/s/<code>/api/v1/…``), with waits."""
    return catalog.list_services(site_code=request_site_code())


@blp.route("/tickets", methods=["POST"])
@blp.arguments(TicketCreateSchema())
@blp.response(201, TicketSchema)
@blp.alt_response(200, schema=TicketSchema, description="Idempotent retry: the same ticket")
@blp.alt_response(404, description="Unknown or inactive service")
@blp.alt_response(422, description="Invalid body, or an Idempotency-Key reused for another body")
def create_ticket(body: dict[str, Any]) -> Any:
    """Issue a ticket; an ``Idempotency-Key`` header makes a retried tap get the same one."""
    from flask import request

    view = tickets.issue_ticket(
        body["service"],
        priority=body.get("priority"),
        idempotency_key=request.headers.get("Idempotency-Key") or body.get("key"),
        kiosk=body.get("kiosk") or None,
        site_code=request_site_code(),
        **issuer_from_request(),
    )
    out = ticket_body(view)
    return out, (201 if view.created else 200)


@blp.route("/tickets/<token>")
@blp.response(200, TicketSchema)
def get_ticket(token: str) -> Any:
    """A ticket's public status by its unguessable token."""
    return ticket_body(tickets.ticket_status(token))


@blp.route("/tickets/<token>/reprint", methods=["POST"])
@require_roles("officer", "admin")
@blp.response(200)
@blp.doc(security=BEARER)
def reprint_ticket(token: str) -> Any:
    """Print a ticket again, at any time (staff); ``?kiosk=NAME`` picks that kiosk's printer."""
    from flask import request

    return kiosk.reprint_by_staff(
        token, actor_id=_actor_id(), kiosk=request.args.get("kiosk") or None
    )


@blp.route("/tickets/<token>/cancel", methods=["POST"])
@require_login
@blp.arguments(CancelSchema())
@blp.response(200, TicketSchema)
@blp.doc(security=BEARER)
def cancel_ticket(body: dict[str, Any], token: str) -> Any:
    """Cancel a waiting or called ticket, with a reason (officers, leaders, administrators)."""
    return ticket_body(tickets.cancel(token, actor_id=_actor_id(), reason=body["reason"]))


@blp.route("/auth/token", methods=["POST"])
@blp.arguments(TokenRequestSchema())
@blp.response(200, TokenSchema)
def create_token(body: dict[str, Any]) -> Any:
    """Exchange a username and password for a bearer token (throttled like the login form)."""
    from flask import request

    user = staff.sign_in(body["username"], body["password"], ip=request.remote_addr, channel="api")
    return accounts.issue_api_token(user)


def _counter_action(action: str, counter_id: int, **kwargs: Any) -> dict[str, Any]:
    actions = {
        "call_next": tickets.call_next,
        "recall": tickets.recall,
        "no_show": tickets.mark_no_show,
        "start": tickets.start_service,
        "finish": tickets.finish,
        "transfer": tickets.transfer,
        "call": tickets.call_ticket,
    }
    view = actions[action](counter_id, officer_id=_actor_id(), **kwargs)
    return ticket_body(view)


@blp.route("/counters/<int:counter_id>/call-next", methods=["POST"])
@require_login
@blp.response(200, TicketSchema)
@blp.doc(security=BEARER)
def call_next(counter_id: int) -> Any:
    """Call the next waiting ticket to this counter (409 queue_empty when none)."""
    return _counter_action("call_next", counter_id)


@blp.route("/counters/<int:counter_id>/call", methods=["POST"])
@require_login
@blp.arguments(CallTicketSchema())
@blp.response(200, TicketSchema)
@blp.doc(security=BEARER)
def call_ticket(body: dict[str, Any], counter_id: int) -> Any:
    """Call a given waiting number to this counter."""
    return _counter_action("call", counter_id, code=body["code"])


@blp.route("/counters/<int:counter_id>/recall", methods=["POST"])
@require_login
@blp.response(200, TicketSchema)
@blp.doc(security=BEARER)
def recall(counter_id: int) -> Any:
    """Announce the counter's current ticket again."""
    return _counter_action("recall", counter_id)


@blp.route("/counters/<int:counter_id>/no-show", methods=["POST"])
@require_login
@blp.response(200, TicketSchema)
@blp.doc(security=BEARER)
def no_show(counter_id: int) -> Any:
    """Mark the called citizen absent (back of the queue or ended, per the hall's rule)."""
    return _counter_action("no_show", counter_id)


@blp.route("/counters/<int:counter_id>/start", methods=["POST"])
@require_login
@blp.response(200, TicketSchema)
@blp.doc(security=BEARER)
def start(counter_id: int) -> Any:
    """The citizen is at the counter: start the service."""
    return _counter_action("start", counter_id)


@blp.route("/counters/<int:counter_id>/finish", methods=["POST"])
@require_login
@blp.arguments(FinishSchema())
@blp.response(200, TicketSchema)
@blp.doc(security=BEARER)
def finish(body: dict[str, Any], counter_id: int) -> Any:
    """Finish the transaction (optionally with its mã hồ sơ); arms the rating."""
    return _counter_action("finish", counter_id, dossier_code=body.get("dossier_code"))


@blp.route("/counters/<int:counter_id>/transfer", methods=["POST"])
@require_login
@blp.arguments(TransferSchema())
@blp.response(200, TicketSchema)
@blp.doc(security=BEARER)
def transfer(body: dict[str, Any], counter_id: int) -> Any:
    """Transfer the current ticket to another area or counter; it keeps its issue time."""
    return _counter_action(
        "transfer",
        counter_id,
        to_service=body.get("to_service"),
        to_counter=body.get("to_counter"),
        note=body.get("note"),
    )


@blp.route("/counters/<int:counter_id>/pause", methods=["POST"])
@require_login
@blp.arguments(PauseSchema())
@blp.response(200, PauseResultSchema)
@blp.doc(security=BEARER)
def pause(body: dict[str, Any], counter_id: int) -> Any:
    """Pause or resume the counter."""
    return tickets.set_paused(counter_id, body["paused"], officer_id=_actor_id())


@blp.route("/board")
@blp.arguments(BoardQuerySchema(), location="query")
@blp.response(200, BoardSchema)
def get_board(query: dict[str, Any]) -> Any:
    """The lobby board snapshot with its sequence number."""
    counters = None
    if query.get("counters"):
        try:
            counters = [int(x) for x in query["counters"].split(",") if x.strip()]
        except ValueError as exc:
            raise ValidationFailed(field="counters") from exc
    areas = (
        [a.strip() for a in query["areas"].split(",") if a.strip()] if query.get("areas") else None
    )
    return board.board_snapshot(site_code=request_site_code(), areas=areas, counters=counters)


__all__ = ["blp", "status_url", "url_for"]
