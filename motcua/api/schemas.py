"""Request and response schemas: one class validates a REST body and the Socket.IO verb's payload.

The same classes generate the OpenAPI document; ``motcua.namespaces.verb`` loads a verb's payload
with the schema of the REST route that does the same thing.
"""

from __future__ import annotations

from typing import Any

import marshmallow as ma
from marshmallow import validate

from motcua.errors import ControlCharacters
from motcua.inputs import MAX_DB_INT, has_control_chars


class Input(ma.Schema):
    """Base of every request schema: unknown fields and control characters are refused.

    A NUL or another control character in any string (keys included) is refused whole with a
    clear message (``ControlCharacters``, 422) before any field is read.
    """

    class Meta:
        unknown = ma.RAISE

    @ma.pre_load
    def _refuse_control_chars(self, data: Any, **_: Any) -> Any:
        if has_control_chars(data):
            raise ControlCharacters()
        return data


class StrictBoolean(ma.fields.Boolean):
    """A JSON ``true`` or ``false`` only: ``1``, ``"yes"`` and ``"true"`` are refused."""

    def _deserialize(self, value: Any, attr: Any, data: Any, **kwargs: Any) -> bool:
        if not isinstance(value, bool):
            raise self.make_error("invalid", input=value)
        return value


def Id(**kwargs: Any) -> ma.fields.Integer:  # noqa: N802  (a field factory, named like one)
    """A JSON integer that fits the database (``1.5``, ``"2"`` and ``2**63`` are refused)."""
    kwargs.setdefault("validate", validate.Range(min=0, max=MAX_DB_INT))
    return ma.fields.Integer(strict=True, **kwargs)


class Text(ma.fields.String):
    """A string argument trimmed of surrounding spaces; an empty one loads as None."""

    def deserialize(self, value: Any, *args: Any, **kwargs: Any) -> Any:
        if isinstance(value, str):
            value = value.strip() or None
        return super().deserialize(value, *args, **kwargs)


class ServiceSchema(ma.Schema):
    """A service area as the kiosk lists it."""

    code = ma.fields.String(required=True)
    prefix = ma.fields.String(required=True)
    name = ma.fields.String(required=True)
    description = ma.fields.String()
    waiting = ma.fields.Integer(required=True)
    counters = ma.fields.List(ma.fields.Integer())
    estimated_wait_minutes = ma.fields.Integer(
        metadata={"description": "Predicted wait of a ticket taken now (the point estimate)"}
    )
    wait_low_minutes = ma.fields.Integer(
        metadata={"description": "The range shown: from (0 with high 5 reads 'under 5')"}
    )
    wait_high_minutes = ma.fields.Integer(metadata={"description": "The range shown: to"})
    target_wait_minutes = ma.fields.Integer()


class TicketCreateSchema(Input):
    """Body of POST /tickets."""

    service = ma.fields.String(
        required=True,
        validate=validate.Length(min=1, max=32),
        metadata={"description": "Area code or ticket prefix", "example": "A"},
    )
    priority = ma.fields.String(
        load_default=None,
        allow_none=True,
        validate=validate.Length(max=32),
        metadata={"description": "Priority category code", "example": None},
    )
    kiosk = ma.fields.String(load_default=None, allow_none=True, validate=validate.Length(max=64))
    key = ma.fields.String(
        load_default=None,
        allow_none=True,
        validate=validate.Length(max=128),
        metadata={"description": "Idempotency key, when the Idempotency-Key header is not sent"},
    )


class ReprintSchema(Input):
    """Body of a kiosk's reprint: its idempotency key and the kiosk (both optional)."""

    key = ma.fields.String(load_default=None, allow_none=True, validate=validate.Length(max=128))
    kiosk = ma.fields.String(load_default=None, allow_none=True, validate=validate.Length(max=64))


class TicketSchema(ma.Schema):
    """A ticket as the public sees it (no personal data)."""

    code = ma.fields.String(required=True, metadata={"example": "A012"})
    token = ma.fields.String(required=True)
    status_url = ma.fields.String(required=True)
    status = ma.fields.String(
        required=True,
        metadata={
            "enum": ["waiting", "called", "serving", "finished", "no_show", "cancelled", "expired"]
        },
    )
    number = ma.fields.Integer()
    area_code = ma.fields.String()
    area_prefix = ma.fields.String()
    area_name = ma.fields.String()
    priority = ma.fields.String(allow_none=True)
    priority_label = ma.fields.String(allow_none=True)
    issued_at = ma.fields.String()
    business_day = ma.fields.String()
    counter_number = ma.fields.Integer(allow_none=True)
    called_at = ma.fields.String(allow_none=True)
    finished_at = ma.fields.String(allow_none=True)
    people_ahead = ma.fields.Integer(allow_none=True)
    estimated_wait_minutes = ma.fields.Integer(allow_none=True)
    wait_low_minutes = ma.fields.Integer(allow_none=True)
    wait_high_minutes = ma.fields.Integer(allow_none=True)
    serving_counters = ma.fields.List(ma.fields.Integer())
    transferred_from = ma.fields.String(allow_none=True)
    started_at = ma.fields.String(allow_none=True)
    call_count = ma.fields.Integer()
    misses = ma.fields.Integer()
    dossier_code = ma.fields.String(
        allow_none=True,
        metadata={"description": "Mã hồ sơ: staff answers only; null on the public status"},
    )
    created = ma.fields.Boolean(metadata={"description": "False when an idempotent retry"})


class TokenRequestSchema(Input):
    """Body of POST /auth/token."""

    username = ma.fields.String(required=True, validate=validate.Length(min=1, max=64))
    password = ma.fields.String(
        required=True, validate=validate.Length(min=1, max=256), load_only=True
    )


class TokenSchema(ma.Schema):
    """A bearer token."""

    access_token = ma.fields.String(required=True)
    token_type = ma.fields.String(required=True)
    expires_in = ma.fields.Integer(required=True)


class FinishSchema(Input):
    """Body of POST /counters/{id}/finish."""

    dossier_code = Text(
        load_default=None,
        allow_none=True,
        validate=validate.Length(max=64),
        metadata={"description": "Mã hồ sơ (optional)"},
    )


class CancelSchema(Input):
    """Body of POST /tickets/{token}/cancel: why the number is cancelled (kept in its log)."""

    reason = Text(
        required=True,
        validate=validate.Length(min=1, max=500),
        metadata={"description": "Lý do hủy số"},
    )


class TransferSchema(Input):
    """Body of POST /counters/{id}/transfer: another area, another counter, or both."""

    to_service = Text(load_default=None, allow_none=True, validate=validate.Length(max=32))
    to_counter = Id(load_default=None, allow_none=True)
    note = Text(load_default=None, allow_none=True, validate=validate.Length(max=500))

    @ma.validates_schema
    def _one_target(self, data: dict[str, object], **_: object) -> None:
        if not data.get("to_service") and data.get("to_counter") is None:
            raise ma.ValidationError("Cần chọn lĩnh vực hoặc quầy nhận chuyển.", "to_service")


class CallTicketSchema(Input):
    """Body of POST /counters/{id}/call: a given number."""

    code = ma.fields.String(required=True, validate=validate.Length(min=2, max=16))


class PauseSchema(Input):
    """Body of POST /counters/{id}/pause: a JSON boolean ("yes" is refused)."""

    paused = StrictBoolean(required=True)


class RatingSchema(Input):
    """Body of POST /rating/t/{token}: a score, reasons from the hall's list, a comment."""

    level = Id(required=True, metadata={"example": 5})
    reasons = ma.fields.List(ma.fields.String(), load_default=None, allow_none=True)
    comment = ma.fields.String(load_default=None, allow_none=True)  # the service trims it


class TabletRatingSchema(RatingSchema):
    """Payload of the tablet's ``rate`` verb: the phone's body plus the ticket's uuid."""

    ticket = ma.fields.String(required=True, validate=validate.Length(min=1, max=64))


class SkipRatingSchema(Input):
    """Payload of the tablet's ``skip`` verb: the ticket left unrated, and why."""

    ticket = ma.fields.String(required=True, validate=validate.Length(min=1, max=64))
    reason = ma.fields.String(load_default="timeout")  # the service keeps 32 characters


class PauseResultSchema(ma.Schema):
    """Answer of POST /counters/{id}/pause: the counter's number, its state, the board seq."""

    counter = ma.fields.Integer(required=True)
    paused = ma.fields.Boolean(required=True)
    seq = ma.fields.Integer(required=True)


class BoardCallSchema(ma.Schema):
    """One call on the board."""

    code = ma.fields.String()
    counter = ma.fields.Integer()
    area = ma.fields.String()
    at = ma.fields.String()
    recall = ma.fields.Boolean()


class BoardAreaSchema(ma.Schema):
    """Waiting count of an area."""

    code = ma.fields.String()
    prefix = ma.fields.String()
    name = ma.fields.String()
    waiting = ma.fields.Integer()
    longest_wait_minutes = ma.fields.Integer()
    target_wait_minutes = ma.fields.Integer()


class BoardCounterSchema(ma.Schema):
    """State of a counter."""

    id = ma.fields.Integer()
    number = ma.fields.Integer()
    name = ma.fields.String()
    paused = ma.fields.Boolean()
    state = ma.fields.String()
    ticket = ma.fields.String(allow_none=True)
    officer = ma.fields.String(allow_none=True)
    areas = ma.fields.List(ma.fields.String())


class BoardSchema(ma.Schema):
    """The display snapshot, exact at sequence number ``seq``."""

    seq = ma.fields.Integer(required=True)
    site = ma.fields.Dict()
    business_day = ma.fields.String()
    generated_at = ma.fields.String()
    calls = ma.fields.List(ma.fields.Nested(BoardCallSchema))
    areas = ma.fields.List(ma.fields.Nested(BoardAreaSchema))
    counters = ma.fields.List(ma.fields.Nested(BoardCounterSchema))


class BoardQuerySchema(Input):
    """Filters of GET /board (a screen above some counters)."""

    areas = ma.fields.String(
        load_default=None,
        validate=validate.Length(max=500),
        metadata={"example": "A,B", "pattern": r"^[A-Za-z0-9_.\-]*(,[A-Za-z0-9_.\-]*)*$"},
    )
    counters = ma.fields.String(
        load_default=None,
        validate=validate.Regexp(r"^\s*(\d{1,9}\s*(,\s*\d{1,9}\s*)*)?,?\s*$"),
        metadata={"example": "1,2", "pattern": r"^(\d{1,9}(,\d{1,9})*)?$"},
    )


# --------------------------------------------------------------------------- appointments

#: A booking code as typed or scanned (spaces and dashes are dropped by the service).
BOOKING_CODE = validate.Length(min=1, max=16)


class BookingAreaSchema(ma.Schema):
    """An area that takes bookings (``slots``) or numbers from home (``remote``)."""

    code = ma.fields.String(required=True)
    prefix = ma.fields.String(required=True)
    name = ma.fields.String(required=True)
    slots = ma.fields.Boolean(required=True)
    remote = ma.fields.Boolean(required=True)


class SlotQuerySchema(Input):
    """Query of GET /appointments/slots."""

    service = ma.fields.String(required=True, validate=validate.Length(min=1, max=32))


class SlotSchema(ma.Schema):
    """A bookable slot with its free places (times in UTC, ISO 8601; day and time in hall time)."""

    starts_at = ma.fields.String(required=True, metadata={"format": "date-time"})
    ends_at = ma.fields.String(required=True)
    day = ma.fields.String(required=True)
    date_text = ma.fields.String(metadata={"example": "Thứ Ba, 24/11/2026"})
    time = ma.fields.String(required=True, metadata={"example": "09:00–09:15"})
    free = ma.fields.Integer(required=True)


class BookingCreateSchema(Input):
    """Body of POST /appointments: a slot of an area (``starts_at`` as listed by /slots)."""

    service = ma.fields.String(required=True, validate=validate.Length(min=1, max=32))
    starts_at = ma.fields.AwareDateTime(required=True, format="iso")


class RemoteCreateSchema(Input):
    """Body of POST /appointments/remote: a number from home in today's queue of an area."""

    service = ma.fields.String(required=True, validate=validate.Length(min=1, max=32))


class BookingSchema(ma.Schema):
    """A booking as its holder sees it; ``token`` (to cancel) only in the answer that made it."""

    code = ma.fields.String(required=True, metadata={"example": "K7M2QX"})
    kind = ma.fields.String(required=True, metadata={"enum": ["slot", "remote"]})
    status = ma.fields.String(
        required=True,
        metadata={"enum": ["booked", "checked_in", "cancelled", "no_show", "lapsed"]},
    )
    area_code = ma.fields.String(required=True)
    area_name = ma.fields.String(required=True)
    day = ma.fields.String(required=True)
    date_text = ma.fields.String()
    starts_at = ma.fields.String(allow_none=True)
    ends_at = ma.fields.String(allow_none=True)
    time = ma.fields.String(allow_none=True)
    check_in_until = ma.fields.String(required=True)
    check_in_until_local = ma.fields.String()
    token = ma.fields.String()
    waiting_now = ma.fields.Integer()


class CheckInSchema(Input):
    """Body of a check-in at a kiosk: the booking code (typed or scanned) and the kiosk."""

    code = ma.fields.String(required=True, validate=BOOKING_CODE)
    kiosk = ma.fields.String(load_default=None, allow_none=True, validate=validate.Length(max=64))


class CheckInResultSchema(ma.Schema):
    """A check-in's answer: the ticket issued (or issued before, on a repeated scan)."""

    ticket = ma.fields.Nested(TicketSchema, required=True)
    appointment = ma.fields.Nested(BookingSchema, required=True)
