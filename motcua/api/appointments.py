"""API for appointments and numbers taken from home (the province's portal books through it)."""

from __future__ import annotations

from typing import Any

from flask import request

from motcua.api.parsing import Blueprint
from motcua.api.schemas import (
    BookingAreaSchema,
    BookingCreateSchema,
    BookingSchema,
    CheckInResultSchema,
    CheckInSchema,
    RemoteCreateSchema,
    SlotQuerySchema,
    SlotSchema,
)
from motcua.auth import issuer_from_request, request_user
from motcua.services import appointments
from motcua.sites import request_site_code

blp = Blueprint(
    "api_appointments",
    __name__,
    url_prefix="/api/v1/appointments",
    description="Đặt lịch hẹn và lấy số từ xa",
)


def _who() -> dict[str, Any]:
    """Anonymous callers are limited per address like the booking page; a signed-in caller
    (the province's portal with its bearer token) books for many citizens."""
    site = {"site_code": request_site_code()}  # /s/<code>/api/v1/…: that site's bookings
    user = request_user()
    if user is not None:
        return {"limited": False, "source": "api", **site}
    return {"address": request.remote_addr, "limited": True, "source": "api", **site}


@blp.route("/areas")
@blp.response(200, BookingAreaSchema(many=True))
def list_areas() -> Any:
    """Areas that take bookings or numbers from home at this hall."""
    return appointments.bookable_areas(site_code=request_site_code())


@blp.route("/slots")
@blp.arguments(SlotQuerySchema(), location="query")
@blp.response(200, SlotSchema(many=True))
@blp.alt_response(404, description="Unknown or inactive service")
@blp.alt_response(409, description="The area takes no bookings")
def list_slots(query: dict[str, Any]) -> Any:
    """An area's slots with a free place, from now to its days ahead."""
    return [
        s.as_dict()
        for s in appointments.free_slots(query["service"], site_code=request_site_code())
    ]


@blp.route("", methods=["POST"])
@blp.arguments(BookingCreateSchema())
@blp.response(201, BookingSchema)
@blp.alt_response(404, description="Unknown or inactive service")
@blp.alt_response(409, description="Slot full or not offered; bookings not offered")
@blp.alt_response(429, description="Too many bookings today from this address")
def book(body: dict[str, Any]) -> Any:
    """Book a place in a slot; the answer carries the code and the holder's cancel token."""
    return appointments.book(body["service"], body["starts_at"], **_who())


@blp.route("/remote", methods=["POST"])
@blp.arguments(RemoteCreateSchema())
@blp.response(201, BookingSchema)
@blp.alt_response(404, description="Unknown or inactive service")
@blp.alt_response(409, description="Not offered, or outside working hours")
@blp.alt_response(429, description="Too many bookings today from this address")
def take_remote(body: dict[str, Any]) -> Any:
    """Take a number from home: in today's queue once checked in at a kiosk, placed by when
    it was taken; lapses after REMOTE_HOLD_MINUTES."""
    return appointments.take_remote(body["service"], **_who())


@blp.route("/check-in", methods=["POST"])
@blp.arguments(CheckInSchema())
@blp.response(200, CheckInResultSchema)
@blp.alt_response(404, description="No booking with this code")
@blp.alt_response(409, description="Too early or too late (details.service: a normal number)")
def check_in(body: dict[str, Any]) -> Any:
    """Check a booking in by its code (a kiosk): the ticket it becomes."""
    return appointments.check_in(
        body["code"],
        kiosk_name=body.get("kiosk") or None,
        site_code=request_site_code(),
        **issuer_from_request(),
    )


@blp.route("/<token>")
@blp.response(200, BookingSchema)
@blp.alt_response(404, description="No booking with this token")
def get_booking(token: str) -> Any:
    """A booking by its holder's token."""
    return appointments.booking_by_token(token)


@blp.route("/<token>/cancel", methods=["POST"])
@blp.response(200, BookingSchema)
@blp.alt_response(404, description="No booking with this token")
@blp.alt_response(409, description="Already ended")
def cancel(token: str) -> Any:
    """Cancel a booking by its holder's token; frees the slot's place."""
    return appointments.cancel(token)
