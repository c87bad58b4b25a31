"""Socket.IO namespace /rating: the counter's rating tablet.

A paired tablet is bound to its counter by its device token; an unpaired one connects with
``auth = {"counter": 3}`` (see ``paired_counter``). It joins its site's and counter's rooms and
asks for a ``snapshot`` (the shared live.js protocol). ``ticket_finished`` for its counter arms
the question; the verbs ``rate`` and ``skip`` answer it, each one service call, each acked.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any

import marshmallow as ma
from flask import url_for
from flask_socketio import SocketIO, join_room

from motcua import realtime
from motcua.api.schemas import SkipRatingSchema, TabletRatingSchema
from motcua.errors import ValidationFailed
from motcua.namespaces import SurfaceNamespace, verb
from motcua.services import ratings
from motcua.services.devices import RATING
from motcua.sites import check_screen, request_site_code

log = logging.getLogger(__name__)


PHOTO_URL_PREFIXES = ("http://", "https://", "/", "data:image/")


def photo_url(user_id: int, photo: str | None) -> str | None:
    """Where the browser loads an officer's photo: a URL as stored, or the photo route."""
    if not photo:
        return None
    if photo.startswith(PHOTO_URL_PREFIXES):
        return photo
    return url_for("rating.officer_photo", user_id=user_id)


def tablet_snapshot(counter_id: int) -> dict[str, Any]:
    """The tablet's state with the officer's photo as a loadable URL."""
    state = ratings.tablet_state(counter_id)
    officer = state.get("officer")
    if officer:
        officer["photo"] = photo_url(officer["id"], officer.get("photo"))
    return state


@dataclass(frozen=True)
class Tablet:
    """A connected tablet: the counter it is bound to."""

    counter_id: int
    counter_number: int


def paired_counter() -> tuple[int, str | None] | None:
    """The counter (number, site code) this device is paired to, if it is a paired tablet.

    A paired rating tablet gets its counter and site from its pairing and the ``?counter=`` /
    set-up choice is ignored. With ``REQUIRE_DEVICE_PAIRING`` on, an unpaired (or revoked)
    tablet is refused (``services.sites.check_screen``, the rule of every screen).
    """
    device = check_screen(RATING)
    if device is not None and device.kind == RATING and device.counter_number is not None:
        return int(device.counter_number), device.site_code
    return None


def counter_number_arg(value: Any) -> int:
    """A counter number from a query string or an auth payload."""
    if isinstance(value, bool):
        raise ValidationFailed(field="counter")
    try:
        number = int(value)
    except (TypeError, ValueError):
        raise ValidationFailed(field="counter") from None
    if not 0 < number < 1000:
        raise ValidationFailed(field="counter")
    return number


class TabletAuthSchema(ma.Schema):
    """An unpaired tablet's connect ``auth``: its counter number and, maybe, its site."""

    class Meta:
        unknown = ma.EXCLUDE

    counter = ma.fields.Raw(load_default=None)  # checked by counter_number_arg, as in ?counter=
    site = ma.fields.String(load_default=None, allow_none=True)


class RatingNamespace(SurfaceNamespace[Tablet]):
    """The tablets' namespace: one connection = one tablet at one counter."""

    state_type = Tablet
    auth_schema = TabletAuthSchema()

    def admit(self, auth: dict[str, Any]) -> Tablet:
        """Bind the tablet to its counter (pairing, else auth.counter); join its rooms."""
        paired = paired_counter()
        if paired is not None:
            number, site = paired
        else:
            number = counter_number_arg(auth["counter"])
            site = request_site_code(named=auth["site"])
        counter_id = ratings.find_counter(number, site)
        state = ratings.tablet_state(counter_id)
        join_room(realtime.site_room(state["site"]["id"]))
        join_room(realtime.counter_room(counter_id))
        return Tablet(counter_id, number)

    @verb()
    def on_snapshot(self, t: Tablet) -> dict[str, Any]:
        """The officer at the counter, the hall, and the rating waiting (if any), at ``seq``."""
        return tablet_snapshot(t.counter_id)

    @verb(TabletRatingSchema)
    def on_rate(
        self,
        t: Tablet,
        *,
        ticket: str,
        level: int,
        reasons: list[str] | None,
        comment: str | None,
    ) -> dict[str, Any]:
        """The citizen's answer: {"ticket": uuid, "level": n, "reasons": [...], "comment": ""}."""
        view = ratings.rate_at_counter(
            t.counter_id, ticket, level, reasons=reasons, comment=comment
        )
        return {"rating": view.as_dict()}

    @verb(SkipRatingSchema)
    def on_skip(self, t: Tablet, *, ticket: str, reason: str) -> dict[str, Any]:
        """The question went unanswered: record the ticket as unrated."""
        return ratings.skip_at_counter(t.counter_id, ticket, reason=reason)


def register_namespaces(socketio: SocketIO) -> None:
    """Register /rating on the app's Socket.IO server (called by create_app)."""
    socketio.on_namespace(RatingNamespace("/rating"))
