"""The base of every Socket.IO surface: who a connection is, and one way to run and ack a verb.

A surface's namespace subclasses ``SurfaceNamespace`` and writes ``admit(auth)``: authenticate,
join the rooms, return what the connection is (a small dataclass). That state is kept in
Flask-SocketIO's per-connection session (``flask.session`` inside handlers, a copy of the user's
session made at connect time), so no namespace keeps a dict keyed by sid.

Each verb is an ``on_<name>`` method decorated with ``@verb(Schema)``: the payload is loaded with
the marshmallow schema the matching REST route uses (``motcua/api/schemas.py``), the method calls
one service with the connection's state and the typed arguments, and what it returns becomes
``{"ok": true, ...}``. Any failure — a ``DomainError``, a schema's ``ValidationError`` — becomes
``{"ok": false, "error": code, "message": Vietnamese text}`` through ``motcua.errors.failure``,
the mapping REST answers with, so a door never invents its own codes.
"""

from __future__ import annotations

import dataclasses
import functools
import logging
from collections.abc import Callable, Mapping
from typing import Any, ClassVar, Generic, TypeVar

import marshmallow as ma
from flask import session
from flask_socketio import ConnectionRefusedError, Namespace

from motcua.errors import ControlCharacters, DomainError, Unauthorized, failure
from motcua.inputs import has_control_chars

log = logging.getLogger(__name__)

StateT = TypeVar("StateT")
SESSION_PREFIX = "motcua.socket:"


def load_args(schema: ma.Schema | None, data: Any) -> dict[str, Any]:
    """A verb's or connect's arguments loaded by its schema (None is an empty object).

    Control characters anywhere in the payload are refused first (``ControlCharacters``).
    """
    if has_control_chars(data):
        raise ControlCharacters()
    if schema is None:  # no arguments declared: an object passes as sent, anything else is {}
        return dict(data) if isinstance(data, Mapping) else {}
    return dict(schema.load({} if data is None else data))


def refused(exc: BaseException) -> ConnectionRefusedError:
    """The CONNECT_ERROR for a refused connection: ``{"error", "message"}`` as REST says it."""
    return ConnectionRefusedError(failure(exc)[1])


def failed_ack(exc: BaseException, what: str) -> dict[str, Any]:
    """The ack of a verb that failed; an unexpected exception is logged, never shown."""
    if not isinstance(exc, DomainError | ma.ValidationError):
        log.error("%s failed", what, exc_info=exc)
    return {"ok": False, **failure(exc)[1]}


class SurfaceNamespace(Namespace, Generic[StateT]):  # type: ignore[misc]
    """A surface's namespace: ``admit`` on connect, the state in the session, verbs via ``verb``."""

    state_type: ClassVar[type[Any]]
    auth_schema: ClassVar[ma.Schema | None] = None

    @property
    def session_key(self) -> str:
        """Where this namespace keeps the connection's state (one browser may open several)."""
        return SESSION_PREFIX + str(self.namespace)

    def admit(self, auth: dict[str, Any]) -> StateT:
        """Authenticate the connection, join its rooms and return its state."""
        raise NotImplementedError

    def on_connect(self, auth: Any = None) -> None:
        """Admit the connection or refuse it with the error code REST would answer."""
        try:
            state = self.admit(load_args(self.auth_schema, auth))
        except (DomainError, ma.ValidationError) as exc:
            raise refused(exc) from None
        session[self.session_key] = dataclasses.asdict(state)  # type: ignore[call-overload]

    def on_disconnect(self, reason: Any = None) -> None:
        """Forget the connection's state."""
        session.pop(self.session_key, None)

    def connection(self) -> StateT:
        """The calling connection's state (``Unauthorized`` if it was never admitted)."""
        stored = session.get(self.session_key)
        if stored is None:
            raise Unauthorized()
        return self.state_type(**stored)  # type: ignore[no-any-return]


VerbMethod = Callable[..., Mapping[str, Any]]


def verb(
    schema: ma.Schema | type[ma.Schema] | None = None,
) -> Callable[[VerbMethod], Callable[[SurfaceNamespace[Any], Any], dict[str, Any]]]:
    """Make ``method(self, state, **args) -> ack fields`` a verb handler that always acks."""
    loader = schema() if isinstance(schema, type) else schema

    def decorate(method: VerbMethod) -> Callable[[SurfaceNamespace[Any], Any], dict[str, Any]]:
        @functools.wraps(method)
        def handler(self: SurfaceNamespace[Any], data: Any = None) -> dict[str, Any]:
            try:
                state = self.connection()
                args = load_args(loader, data) if loader is not None else {}  # no schema: no args
                return {"ok": True, **method(self, state, **args)}
            except Exception as exc:
                return failed_ack(exc, f"{self.namespace} {method.__name__}")

        return handler

    return decorate
