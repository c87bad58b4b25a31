"""Browser-test fixtures shared by every surface: a live server and headless Chromium.

``live_server`` runs the real app (HTTP + Socket.IO, threading mode, simple-websocket) with
werkzeug on an ephemeral port in a thread, over a fresh SQLite file seeded like the ``app``
fixture (demo areas, 6 counters, canbo1/canbo2/lanhdao/admin with ``tests.conftest.PASSWORD``).
``live_server.restart()`` kills every connection and starts a NEW app on the same port and
database: what a browser sees when the server process restarts.

Do not combine ``live_server`` with the ``app`` fixture in one test: Flask-SocketIO keeps one
server per process and the app created last wins. Use ``live_server.app`` instead. The server
runs on real time, so pass ``now=None`` (not ``T0``) to services called from a live test.
"""

from __future__ import annotations

import socket
import threading
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from werkzeug.serving import ThreadedWSGIServer

from motcua import create_app
from tests.conftest import PASSWORD, build_app
from tests.support.parts import chromium_path

CHROMIUM_ARGS = ["--no-sandbox", "--autoplay-policy=no-user-gesture-required"]


class _TrackingServer(ThreadedWSGIServer):
    """werkzeug's threaded server that remembers its open connections, to cut them on stop."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.connections: set[socket.socket] = set()
        self.connections_lock = threading.Lock()

    def process_request(self, request: Any, client_address: Any) -> None:
        """Track the connection, then handle it in its own thread."""
        with self.connections_lock:
            self.connections.add(request)
        super().process_request(request, client_address)

    def shutdown_request(self, request: Any) -> None:
        """Forget a connection once its handler is done with it."""
        with self.connections_lock:
            self.connections.discard(request)
        super().shutdown_request(request)

    def cut_all(self) -> None:
        """Drop every open connection, as a dying process would."""
        with self.connections_lock:
            open_now = list(self.connections)
            self.connections.clear()
        for conn in open_now:
            try:
                conn.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
            conn.close()


class LiveServer:
    """The app served for real on 127.0.0.1:<ephemeral port>, restartable on the same port."""

    def __init__(self, app: Flask, config: dict[str, Any]) -> None:
        self.app = app
        self.config = config
        self.host = "127.0.0.1"
        self.port = 0
        self._server: _TrackingServer | None = None
        self._thread: threading.Thread | None = None

    @property
    def base_url(self) -> str:
        """http://127.0.0.1:<port>"""
        return f"http://{self.host}:{self.port}"

    def url(self, path: str = "/") -> str:
        """Absolute URL of a path on the live server."""
        return self.base_url + path

    def start(self) -> None:
        """Listen (first time on an ephemeral port, later on the same one) and serve."""
        server = _TrackingServer(self.host, self.port, self.app)
        server.daemon_threads = True
        self.port = server.server_port
        self._server = server
        self._thread = threading.Thread(
            target=server.serve_forever,
            kwargs={"poll_interval": 0.05},
            daemon=True,
            name=f"live-server:{self.port}",
        )
        self._thread.start()

    def stop(self) -> None:
        """Stop accepting, cut every open connection (HTTP and websockets) and close."""
        if self._server is None:
            return
        self._server.shutdown()
        self._server.cut_all()
        self._server.server_close()
        if self._thread is not None:
            self._thread.join(timeout=5)
        self._server = None
        self._thread = None

    def restart(self) -> None:
        """Simulate a process restart: a new app (new Socket.IO server) on the same port and DB."""
        self.stop()
        instance_path = self.app.instance_path
        self.app = create_app(dict(self.config))
        self.app.instance_path = instance_path
        self.start()

    def call(self, fn: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
        """Run a service function inside the live app's context (e.g. to issue tickets)."""
        with self.app.app_context():
            return fn(*args, **kwargs)


@pytest.fixture
def live_server(tmp_path: Path) -> Iterator[LiveServer]:
    """A running server over a fresh seeded SQLite file; stopped after the test."""
    uri = f"sqlite:///{tmp_path / 'live.sqlite3'}"
    config: dict[str, Any] = {
        "TESTING": True,
        "SECRET_KEY": "test-secret",
        "SQLALCHEMY_DATABASE_URI": uri,
        "PUBLIC_BASE_URL": "http://hall.test",
        "PRINTER": {"backend": "dummy", "width_px": 576},
    }
    app = build_app(uri)
    app.instance_path = str(tmp_path)  # voice cache and the like stay out of the repository
    server = LiveServer(app, config)
    server.start()
    yield server
    server.stop()
    from db import db

    with server.app.app_context():
        db.session.remove()
        db.engine.dispose()


@pytest.fixture(scope="session")
def browser() -> Iterator[Any]:
    """One headless Chromium (Debian's) for the whole session; skipped when not installed."""
    path = chromium_path()
    sync_api = pytest.importorskip("playwright.sync_api")
    with sync_api.sync_playwright() as pw:
        chromium = pw.chromium.launch(executable_path=path, headless=True, args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()


@pytest.fixture
def new_page(browser: Any) -> Iterator[Callable[..., Any]]:
    """Factory: a page in its own context (own cookies), vi-VN, Hà Nội time; closed after."""
    contexts: list[Any] = []

    def make(width: int = 1366, height: int = 768, **options: Any) -> Any:
        # wait_for_function() evaluates its string inside the page, which motcua's strict CSP
        # (no 'unsafe-eval') forbids; tests of the CSP itself pass bypass_csp=False.
        options.setdefault("bypass_csp", True)
        options.setdefault("locale", "vi-VN")  # a kiosk test may give its browser another
        context = browser.new_context(
            viewport={"width": width, "height": height},
            timezone_id="Asia/Ho_Chi_Minh",
            **options,
        )
        context.set_default_timeout(15_000)
        contexts.append(context)
        return context.new_page()

    yield make
    for context in contexts:
        context.close()


def login_page(
    page: Any, server: LiveServer, username: str = "canbo1", next_path: str = "/"
) -> None:
    """Sign a browser page in through the real login form."""
    page.goto(server.url(f"/login?next={next_path}"))
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_load_state()
