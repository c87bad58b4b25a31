"""Socket.IO namespace /rating: the counter's rating tablet.

A paired tablet is bound to its counter by its device token; an unpaired one connects with
``auth = {"counter": 3}`` (see ``paired_counter``). It joins its site's and counter's rooms and
asks for a ``snapshot`` (the shared live.js protocol). ``ticket_finished`` for its counter arms
the question; the verbs ``rate`` and ``skip`` answer it, each one service call, each acked.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from flask import request, url_for
from flask_socketio import ConnectionRefusedError, Namespace, SocketIO, join_room

from motcua import auth as motcua_auth
from motcua import realtime
from motcua.errors import (
    DomainError,
    Unauthorized,
    ValidationFailed,
    error_payload,
    run_for_ack,
)
from motcua.services import ratings
from motcua.services.devices import DeviceNotPaired

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

    Device pairing (``motcua.auth.device_from_request``): a paired rating tablet gets its
    counter from its pairing and the ``?counter=`` / set-up choice is ignored. With
    ``REQUIRE_DEVICE_PAIRING`` on, an unpaired (or revoked) tablet is refused.
    """
    finder = getattr(motcua_auth, "device_from_request", None)
    device = None
    if finder is not None:
        try:
            device = finder()
        except DomainError:
            device = None
    number = getattr(device, "counter_number", None)
    if device is not None and getattr(device, "kind", None) == "rating" and number is not None:
        return int(number), getattr(device, "site_code", None)
    if ratings.setting("REQUIRE_DEVICE_PAIRING"):
        raise DeviceNotPaired()
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


def _args(data: Any) -> dict[str, Any]:
    if data is None:
        return {}
    if not isinstance(data, dict):
        raise ValidationFailed()
    return data


class RatingNamespace(Namespace):
    """The tablets' namespace: one connection = one tablet at one counter."""

    def __init__(self, namespace: str = "/rating") -> None:
        super().__init__(namespace)
        self._tablets: dict[str, Tablet] = {}
        self._lock = threading.Lock()

    def on_connect(self, auth: Any = None) -> None:
        """Bind the tablet to its counter (pairing, else auth.counter); join its rooms."""
        try:
            paired = paired_counter()
            if paired is not None:
                number, site = paired
            else:
                options = _args(auth)
                number = counter_number_arg(options.get("counter"))
                site = options.get("site") if isinstance(options.get("site"), str) else None
            counter_id = ratings.find_counter(number, site)
            state = ratings.tablet_state(counter_id)
        except DomainError as exc:
            raise ConnectionRefusedError(error_payload(exc)) from None
        join_room(realtime.site_room(state["site"]["id"]))
        join_room(realtime.counter_room(counter_id))
        with self._lock:
            self._tablets[request.sid] = Tablet(counter_id, number)  # type: ignore[attr-defined]

    def on_disconnect(self, reason: Any = None) -> None:
        """Forget the tablet."""
        with self._lock:
            self._tablets.pop(request.sid, None)  # type: ignore[attr-defined]

    def _act(self, action: Callable[[Tablet], dict[str, Any]]) -> dict[str, Any]:
        """Run one verb for the calling tablet and turn the outcome into an ack."""
        with self._lock:
            tablet = self._tablets.get(request.sid)  # type: ignore[attr-defined]

        def verb() -> dict[str, Any]:
            if tablet is None:
                raise Unauthorized()
            return action(tablet)

        return run_for_ack(verb, "rating verb")

    def on_snapshot(self, data: Any = None) -> dict[str, Any]:
        """The officer at the counter, the hall, and the rating waiting (if any), at ``seq``."""
        return self._act(lambda t: {"ok": True, **tablet_snapshot(t.counter_id)})

    def on_rate(self, data: Any = None) -> dict[str, Any]:
        """The citizen's answer: {"ticket": uuid, "level": n, "reasons": [...], "comment": ""}."""

        def act(t: Tablet) -> dict[str, Any]:
            args = _args(data)
            view = ratings.rate_at_counter(
                t.counter_id,
                args.get("ticket"),  # type: ignore[arg-type]
                args.get("level"),
                reasons=args.get("reasons"),
                comment=args.get("comment"),
            )
            return {"ok": True, "rating": view.as_dict()}

        return self._act(act)

    def on_skip(self, data: Any = None) -> dict[str, Any]:
        """The question went unanswered: record the ticket as unrated."""

        def act(t: Tablet) -> dict[str, Any]:
            args = _args(data)
            reason = args.get("reason") if isinstance(args.get("reason"), str) else "timeout"
            result = ratings.skip_at_counter(
                t.counter_id,
                args.get("ticket"),  # type: ignore[arg-type]
                reason=reason,
            )
            return {"ok": True, **result}

        return self._act(act)


def register_namespaces(socketio: SocketIO) -> None:
    """Register /rating on the app's Socket.IO server (called by create_app)."""
    socketio.on_namespace(RatingNamespace("/rating"))
