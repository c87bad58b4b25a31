"""Realtime fixtures: a frozen clock for the handlers, console and display test clients."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from flask import Flask
from flask_socketio import SocketIOTestClient

from motcua import timeutil
from motcua.extensions import socketio
from tests.conftest import T0, counter_id, login


class Clock:
    """The services' clock in these tests: starts at T0, moves only when told."""

    def __init__(self) -> None:
        self.now = T0

    def advance(self, minutes: float) -> dt.datetime:
        """Move the clock forward and return the new time."""
        self.now += dt.timedelta(minutes=minutes)
        return self.now


@pytest.fixture(autouse=True)
def clock(monkeypatch: pytest.MonkeyPatch) -> Clock:
    """Handlers call services without ``now``: the services' clock is this one."""
    frozen = Clock()
    monkeypatch.setattr(timeutil, "utcnow", lambda: frozen.now)
    return frozen


def events(client: SocketIOTestClient, namespace: str, name: str | None = None) -> list[Any]:
    """Payloads received since the last call (optionally only one event name)."""
    got = client.get_received(namespace)
    return [r["args"][0] for r in got if name is None or r["name"] == name]


@pytest.fixture
def console(app: Flask) -> Iterator[Callable[..., SocketIOTestClient]]:
    """Factory: an officer's console connected to /counter for a counter number."""
    made: list[SocketIOTestClient] = []

    def make(number: int = 1, username: str = "canbo1") -> SocketIOTestClient:
        http = app.test_client()
        login(http, username)
        client = socketio.test_client(
            app,
            namespace="/counter",
            flask_test_client=http,
            auth={"counter_id": counter_id(app, number)},
        )
        assert client.is_connected("/counter"), f"{username} could not open counter {number}"
        made.append(client)
        return client

    yield make
    for client in made:
        if client.is_connected("/counter"):
            client.disconnect("/counter")


@pytest.fixture
def display(app: Flask) -> Iterator[Callable[..., SocketIOTestClient]]:
    """Factory: an anonymous lobby display connected to /display, optionally filtered."""
    made: list[SocketIOTestClient] = []

    def make(**auth: Any) -> SocketIOTestClient:
        client = socketio.test_client(app, namespace="/display", auth=auth or None)
        assert client.is_connected("/display")
        made.append(client)
        return client

    yield make
    for client in made:
        if client.is_connected("/display"):
            client.disconnect("/display")
