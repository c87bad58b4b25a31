"""Kiosk and status-page views: parse, call one service, render or answer JSON."""

from __future__ import annotations

from typing import Any

import marshmallow as ma
from flask import render_template, request, send_file

from kiosk import bp, screens
from motcua.api.schemas import CheckInSchema, ReprintSchema, TicketCreateSchema
from motcua.auth import issuer_from_request, kiosk_name_for_request
from motcua.errors import DeviceForbidden, DeviceNotPaired, TicketNotFound
from motcua.services import appointments, print_jobs
from motcua.services import kiosk as kiosk_service
from motcua.services.devices import KIOSK
from motcua.sites import check_screen, request_site_code, unpaired_page


def _json_body(schema: ma.Schema) -> dict[str, Any]:
    """The request's JSON body loaded by the REST API's schema (no body: an empty object)."""
    body = request.get_json(silent=True)
    return dict(schema.load({} if body is None else body))


def _kiosk_name() -> str | None:
    """The kiosk's name: a paired kiosk's own, else the page address's (?kiosk=sanh-1)."""
    return kiosk_name_for_request(request.args.get("kiosk") or None)


@bp.route("/kiosk/")
def kiosk_page() -> Any:
    """The touchscreen start page of the request's site: areas, waiting counts, priority."""
    try:
        check_screen(KIOSK)
    except (DeviceNotPaired, DeviceForbidden) as exc:
        return unpaired_page(KIOSK, exc)
    state = screens.kiosk_home(_kiosk_name(), site_code=request_site_code())
    return render_template("kiosk/kiosk.html", state=state, texts=screens.kiosk_texts())


@bp.route("/kiosk/api/state")
def kiosk_state() -> Any:
    """The start screen's data, for live refresh and the polling fallback."""
    check_screen(KIOSK)
    return screens.kiosk_home(_kiosk_name(), site_code=request_site_code())


@bp.route("/kiosk/api/tickets", methods=["POST"])
def kiosk_issue() -> Any:
    """Issue a number for a tap (Idempotency-Key header: a repeated tap gets the same one)."""
    body = _json_body(TicketCreateSchema())
    result = kiosk_service.issue_at_kiosk(
        body["service"],
        priority=body["priority"] or None,
        idempotency_key=request.headers.get("Idempotency-Key") or body["key"] or None,
        kiosk=body["kiosk"] or None,
        site_code=request_site_code(),
        **issuer_from_request(),
    )
    return screens.with_qr(result), (201 if result["ticket"]["created"] else 200)


@bp.route("/kiosk/api/appointments/check-in", methods=["POST"])
def kiosk_check_in() -> Any:
    """Check a booking in by its typed or scanned code: its ticket, shown like a tap's."""
    body = _json_body(CheckInSchema())
    result = appointments.check_in(
        body["code"],
        kiosk_name=body["kiosk"] or None,
        site_code=request_site_code(),  # a paired kiosk's own site first
        **issuer_from_request(),
    )
    return screens.with_qr(result), (201 if result["ticket"]["created"] else 200)


@bp.route("/kiosk/api/tickets/<token>/reprint", methods=["POST"])
def kiosk_reprint(token: str) -> Any:
    """Print the ticket again, shortly after issue."""
    body = _json_body(ReprintSchema())
    return kiosk_service.reprint_at_kiosk(
        token,
        idempotency_key=request.headers.get("Idempotency-Key") or body["key"] or None,
        kiosk=body["kiosk"] or None,
        **issuer_from_request(),
    )


@bp.route("/kiosk/api/tickets/<token>/print")
def kiosk_print_state(token: str) -> Any:
    """Where the ticket's print job stands (polling fallback)."""
    return print_jobs.print_state(token).as_dict()


@bp.route("/kiosk/api/tickets/<token>")
def ticket_state(token: str) -> Any:
    """A status page's snapshot (polling fallback when the socket is down)."""
    return screens.ticket_snapshot(token)


@bp.route("/kiosk/font/<int:weight>.ttf")
def kiosk_font(weight: int) -> Any:
    """The bundled Vietnamese font, so screens need no installed or online font."""
    return send_file(screens.ui_font_path(weight), mimetype="font/ttf", max_age=86400)


@bp.route("/t/<token>")
def ticket_page(token: str) -> Any:
    """The public status page the ticket's QR opens (made for a phone)."""
    try:
        ticket = screens.public_ticket(token)
    except TicketNotFound as exc:
        return render_template("kiosk/status_missing.html", message=str(exc.message)), 404
    return render_template("kiosk/status.html", ticket=ticket, texts=screens.status_texts())
