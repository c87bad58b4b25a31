"""A cluster on loopback: 2 served processes + nginx + Redis + a private PostgreSQL.

One test walks through what a provincial centre's cluster must survive, in order (each
step leaves the cluster as the next one needs it, and the parts start once: ~30 s):
a call on one process reaches a display on the other; a settings change reaches the other
process's screens and cache within a second; Redis restarted; PostgreSQL restarted; one
process killed with kill -9. Screens are real python-socketio clients that follow the
rules of motcua/static/js/live.js (snapshot on every connect, facts in ``seq`` order, a
gap means a re-sync); at the end every acknowledged ticket is still there.
"""

from __future__ import annotations

import itertools
import os
import re
import subprocess
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
import requests
import socketio

from tests.support.cluster import (
    VENV_BIN,
    Nginx,
    PrivatePostgres,
    Redis,
    Server,
    require_binaries,
)

FACTS = ("ticket_issued", "ticket_called", "board_changed", "settings_changed")
PASSWORD = "motcua-demo"  # motcua.services.demo.DEMO_PASSWORD


@dataclass
class Cluster:
    """The running parts and the tickets the cluster acknowledged."""

    pg: PrivatePostgres
    redis: Redis
    a: Server
    b: Server
    nginx: Nginx
    acknowledged: list[str] = field(default_factory=list)

    def issue(self, base: str | None = None, service: str = "A") -> requests.Response:
        """A kiosk tap (POST /api/v1/tickets); a 201 is remembered as acknowledged."""
        resp = requests.post(
            f"{base or self.nginx.url}/api/v1/tickets",
            json={"service": service},
            headers={"Idempotency-Key": str(uuid.uuid4())},
            timeout=10,
        )
        if resp.status_code == 201:
            self.acknowledged.append(resp.json()["token"])
        return resp

    def board(self, base: str | None = None) -> dict[str, Any]:
        """The board snapshot (GET /api/v1/board)."""
        resp = requests.get(f"{base or self.nginx.url}/api/v1/board", timeout=10)
        resp.raise_for_status()
        return resp.json()  # type: ignore[no-any-return]


@pytest.fixture
def cluster() -> Iterator[Cluster]:
    """Start PostgreSQL, Redis, the demo hall, two servers and nginx; stop them all after."""
    import tempfile

    pg_bin, redis_bin, nginx_bin = require_binaries()
    root = Path(tempfile.mkdtemp(prefix="motcua-cluster-"))
    pg = PrivatePostgres(pg_bin)
    redis = Redis(redis_bin, root)
    parts: list[Any] = []
    try:
        pg.start()
        redis.start()
        env = {
            **{k: v for k, v in os.environ.items() if not k.startswith("FLASK_")},
            "FLASK_SQLALCHEMY_DATABASE_URI": pg.url,
            "FLASK_SOCKETIO_MESSAGE_QUEUE": redis.url,
            "FLASK_SECRET_KEY": "cluster-test",
            "FLASK_ENV_PRODUCTION": "true",
            "FLASK_WORKING_HOURS": "null",
            "FLASK_PRINTER__BACKEND": "dummy",
            "FLASK_PASSWORD_HASH_METHOD": "pbkdf2:sha256:1000",
        }
        subprocess.run(
            [str(VENV_BIN / "motcua"), "demo"], env=env, cwd=root, check=True, capture_output=True
        )
        a, b = Server("a", root, env), Server("b", root, env)
        parts += [a, b]
        starters = [threading.Thread(target=s.start) for s in (a, b)]
        for t in starters:
            t.start()
        for t in starters:
            t.join()
        nginx = Nginx(nginx_bin, root, [a.port, b.port])
        parts.append(nginx)
        nginx.start()
        yield Cluster(pg=pg, redis=redis, a=a, b=b, nginx=nginx)
    finally:
        for part in reversed(parts):
            part.stop()
        redis.stop()
        pg.remove()
        import shutil

        if not os.environ.get("MOTCUA_KEEP_CLUSTER"):
            shutil.rmtree(root, ignore_errors=True)


class Screen:
    """A lobby display following live.js's rules, on a real python-socketio client.

    Every connect and every gap in ``seq`` asks for a snapshot (on a thread of its own, as
    live.js does it between events); facts that arrive meanwhile are buffered and those
    newer than the snapshot are applied after it.
    """

    def __init__(self, url: str) -> None:
        self.url = url
        self.lock = threading.Lock()
        self.seq: int | None = None  # the seq of the state on screen
        self.facts: list[tuple[str, dict[str, Any]]] = []
        self.connects = 0
        self.syncing = False
        self.buffer: list[int] = []
        self.want_sync = threading.Event()
        self.closed = False
        self.client = socketio.Client(
            reconnection=True, reconnection_delay=0.2, reconnection_delay_max=0.5
        )
        self.client.on("connect", self._on_connect, namespace="/display")
        for name in FACTS:
            self.client.on(name, self._fact(name), namespace="/display")
        self.syncer = threading.Thread(target=self._sync_loop, daemon=True)
        self.syncer.start()
        self.client.connect(url, namespaces=["/display"], transports=["websocket"], wait_timeout=10)

    def _on_connect(self) -> None:
        with self.lock:
            self.connects += 1
        self.want_sync.set()

    def _sync_loop(self) -> None:
        while not self.closed:
            if not self.want_sync.wait(0.2):
                continue
            self.want_sync.clear()
            with self.lock:
                self.syncing = True
            try:
                ack = self.client.call("snapshot", {}, namespace="/display", timeout=5)
            except Exception:  # disconnected meanwhile: the next connect asks again
                ack = {}
            with self.lock:
                self.syncing = False
                if not ack.get("ok"):
                    self.buffer.clear()
                    continue
                self.seq = ack["seq"]
                for seq in sorted(set(self.buffer)):
                    self._apply(seq)
                self.buffer.clear()

    def _apply(self, seq: int) -> None:
        """Apply a fact's seq to the state on screen (the lock is held)."""
        assert self.seq is not None
        if seq <= self.seq:
            return  # already in the state on screen
        if seq == self.seq + 1:
            self.seq = seq
        else:  # facts were lost (a restart, an outage): re-sync
            self.buffer.append(seq)
            self.want_sync.set()

    def _fact(self, name: str) -> Callable[[dict[str, Any]], None]:
        def handle(payload: dict[str, Any]) -> None:
            seq = payload.get("seq")
            with self.lock:
                self.facts.append((name, payload))
                if seq is None:
                    return
                if self.syncing or self.seq is None:
                    self.buffer.append(seq)
                else:
                    self._apply(seq)

        return handle

    def got(self, name: str, check: Callable[[dict[str, Any]], bool] = lambda p: True) -> bool:
        """Whether a fact of that name (matching ``check``) arrived."""
        with self.lock:
            return any(n == name and check(p) for n, p in self.facts)

    def close(self) -> None:
        """Disconnect."""
        self.closed = True
        self.client.disconnect()


def wait_for(check: Callable[[], bool], timeout: float, what: Any) -> float:
    """Seconds until ``check()`` held; fails with ``what`` (or ``what()``) after ``timeout``."""
    start = time.monotonic()
    while not check():
        if time.monotonic() - start >= timeout:
            raise AssertionError(f"not within {timeout} s: {what() if callable(what) else what}")
        time.sleep(0.05)
    return time.monotonic() - start


def officer_token(base: str, username: str) -> str:
    """A bearer token for an officer."""
    resp = requests.post(
        f"{base}/api/v1/auth/token", json={"username": username, "password": PASSWORD}, timeout=10
    )
    resp.raise_for_status()
    return str(resp.json()["access_token"])


def call_next(base: str, token: str, counter_id: int) -> dict[str, Any]:
    """POST call-next for a counter; the called ticket."""
    resp = requests.post(
        f"{base}/api/v1/counters/{counter_id}/call-next",
        headers={"Authorization": f"Bearer {token}"},
        timeout=10,
    )
    assert resp.status_code == 200, resp.text
    return resp.json()  # type: ignore[no-any-return]


def admin_session(base: str, username: str = "admin") -> requests.Session:
    """A signed-in account (login form with its CSRF token): the administrator by default."""
    session = requests.Session()
    page = session.get(f"{base}/login", timeout=10).text
    csrf = re.search(r'name="csrf_token" value="([^"]+)"', page)
    assert csrf is not None
    resp = session.post(
        f"{base}/login",
        data={"username": username, "password": PASSWORD, "csrf_token": csrf.group(1)},
        timeout=10,
    )
    assert resp.ok and "login" not in resp.url, resp.url
    return session


def save_display_message(base: str, message: str) -> None:
    """Save the display message on the administration page of that process."""
    session = admin_session(base)
    page = session.get(f"{base}/admin/settings", timeout=10).text
    csrf = re.search(r'name="csrf_token" value="([^"]+)"', page)
    assert csrf is not None
    resp = session.post(
        f"{base}/admin/settings/display",
        data={"DISPLAY_MESSAGE": message, "csrf_token": csrf.group(1)},
        timeout=10,
    )
    assert resp.status_code < 400, resp.text[:500]


class Follower:
    """A console (/counter, signed in) or a phone (/kiosk, following its ticket's token) on a
    real python-socketio client that reconnects as the pages do."""

    def __init__(self, url: str, namespace: str, auth: dict[str, Any], cookie: str = "") -> None:
        self.namespace = namespace
        self.heard: list[tuple[str, dict[str, Any]]] = []
        self.connects = 0
        self.client = socketio.Client(
            reconnection=True, reconnection_delay=0.2, reconnection_delay_max=0.5
        )
        self.client.on("connect", self._on_connect, namespace=namespace)
        for name in ("ticket_called", "queue_position"):
            self.client.on(name, self._hear(name), namespace=namespace)
        headers = {"Cookie": cookie} if cookie else {}
        self.client.connect(
            url,
            namespaces=[namespace],
            transports=["websocket"],
            auth=auth,
            headers=headers,
            wait_timeout=10,
        )

    def _on_connect(self) -> None:
        self.connects += 1

    def _hear(self, name: str) -> Callable[[dict[str, Any]], None]:
        return lambda payload: self.heard.append((name, payload))

    def verb(self, name: str) -> dict[str, Any]:
        """Send a verb and return its ack ({} while the link is down)."""
        try:
            return dict(self.client.call(name, {}, namespace=self.namespace, timeout=5))
        except Exception:
            return {}

    def close(self) -> None:
        """Disconnect."""
        self.client.disconnect()


def settings_version(base: str) -> str:
    """GET /settings/version of one process."""
    return str(requests.get(f"{base}/settings/version", timeout=10).json()["version"])


@pytest.mark.cluster
def test_a_cluster_survives_restarts_and_a_killed_process(cluster: Cluster) -> None:
    """Facts cross processes; Redis, PostgreSQL and one process fail; nothing is lost."""
    c = cluster
    on_b = Screen(c.b.url)  # a display connected to process B itself
    through_nginx = [Screen(c.nginx.url) for _ in range(4)]  # least_conn: two on each
    screens = [on_b, *through_nginx]
    try:
        wait_for(lambda: all(s.seq is not None for s in screens), 10, "first snapshots")
        counters = {x["number"]: x["id"] for x in c.board()["counters"]}
        officer = officer_token(c.a.url, "canbo1")

        # 1. A ticket issued on B and called on A reaches the display on B, in seq order.
        assert c.issue(c.b.url).status_code == 201
        called = call_next(c.a.url, officer, counters[1])
        code = called["code"]
        for s in screens:
            wait_for(
                lambda s=s: s.got("ticket_called", lambda p: p["ticket"]["code"] == code),
                3,
                "the call on A at every display",
            )
        seq = c.board(c.a.url)["seq"]
        assert all(s.seq == seq for s in screens)

        # 2. A setting saved on A: B's screens are told and B's cache follows within 1 s.
        before = settings_version(c.b.url)
        save_display_message(c.a.url, "Cụm máy chủ: thông báo mới")
        saved_at = time.monotonic()
        wait_for(lambda: on_b.got("settings_changed"), 1, "settings_changed on B")
        wait_for(lambda: settings_version(c.b.url) != before, 1, "B's settings cache")
        assert settings_version(c.b.url) == settings_version(c.a.url)
        assert time.monotonic() - saved_at < 1.5

        # 3. Redis restarted: tickets are still issued meanwhile (their facts reach only the
        #    screens of the process that issued them); once every process listens again,
        #    the next facts show the others their gap and every screen re-syncs exactly.
        c.redis.stop()
        assert c.issue(c.b.url).status_code == 201
        c.redis.start()
        deadline = time.monotonic() + 20
        for base in itertools.cycle([c.a.url, c.b.url]):
            time.sleep(0.5)
            seq = c.board()["seq"]
            if all(s.seq == seq for s in screens):
                break
            assert time.monotonic() < deadline, f"{seq} vs {[s.seq for s in screens]}"
            assert c.issue(base).status_code == 201
        issued = c.issue(c.a.url).json()  # facts resume: from A to the screens of both
        for s in screens:
            wait_for(lambda s=s: s.seq == seq + 1, 3, "a fact after Redis restarted")
        assert all(
            s.got("ticket_issued", lambda p: p["ticket"]["code"] == issued["code"]) for s in screens
        )

        # 4. PostgreSQL restarted: a clear 503 meanwhile, then service again.
        c.pg.stop()
        resp = c.issue()
        assert resp.status_code == 503
        assert resp.json()["error"] == "database_unavailable"
        assert "Cơ sở dữ liệu tạm thời không truy cập được" in resp.json()["message"]
        c.pg.start()
        wait_for(lambda: c.issue().status_code == 201, 10, "tickets after PostgreSQL restarted")

        # 5. kill -9 of B: its screens come back through nginx on A, exact to the seq; so do
        #    the consoles and phones opened through nginx: a console calls again, a phone hears
        #    its own number called. Half of them are opened through nginx's port that places
        #    them on B (least_conn alone may put them all on A: B briefly marked failed after
        #    the restarts above, on a loaded host), the other half through least_conn.
        cookie = "; ".join(
            f"{k}={v}" for k, v in admin_session(c.nginx.url, "canbo4").cookies.items()
        )
        # Two consoles of counter 4 (the demo's areas C and F): one on B, one placed by nginx.
        on_b_url = c.nginx.last_url
        consoles = [
            Follower(url, "/counter", {"counter_id": counters[4]}, cookie)
            for url in (on_b_url, c.nginx.url)
        ]
        phone_tickets = [c.issue(service="C").json() for _ in range(4)]
        phones = [
            Follower(on_b_url if i % 2 == 0 else c.nginx.url, "/kiosk", {"token": t["token"]})
            for i, t in enumerate(phone_tickets)
        ]
        followers = [*consoles, *phones]
        placed_on_b = [consoles[0], phones[0], phones[2]]
        connects = {id(s): s.connects for s in through_nginx}
        follower_connects = {id(f): f.connects for f in followers}
        c.b.kill()
        wait_for(
            lambda: any(s.connects > connects[id(s)] for s in through_nginx),
            10,
            "B's screens reconnecting through nginx",
        )
        seq = c.board()["seq"]
        wait_for(lambda: all(s.seq == seq for s in through_nginx), 10, "re-sync after kill -9")
        called = call_next(c.nginx.url, officer_token(c.nginx.url, "canbo2"), counters[2])
        for s in through_nginx:
            wait_for(lambda s=s: s.seq == seq + 1, 3, "the next call after the kill, in order")
        assert any(f.connects > follower_connects[id(f)] for f in followers), "none was on B"
        for f in placed_on_b:  # every client that sat on B came back, through nginx, on A
            wait_for(lambda f=f: f.connects > follower_connects[id(f)], 10, "B's client back")
        # Each console (reconnected if it was on B) calls the next numbers of counter 4 until
        # every phone's ticket was called; each phone hears its own call.
        for _ in range(len(phone_tickets) + 2):
            for console in consoles:
                wait_for(lambda f=console: f.client.connected, 10, "console reconnected")
                ack = {}
                deadline = time.monotonic() + 10
                while not ack.get("ok") and time.monotonic() < deadline:
                    ack = console.verb("call_next")
                    if ack.get("error") == "counter_busy":
                        ack = console.verb("finish")
                        continue
                    if ack.get("error") == "queue_empty":
                        break
                    time.sleep(0.2)
        for phone, ticket in zip(phones, phone_tickets, strict=True):
            wait_for(
                lambda p=phone, t=ticket: any(
                    name == "ticket_called" and payload["ticket"]["code"] == t["code"]
                    for name, payload in p.heard
                ),
                10,
                f"the phone of {ticket['code']} hears its call",
            )
        for follower in followers:
            follower.close()

        # Nothing acknowledged was lost.
        for token in c.acknowledged:
            resp = requests.get(f"{c.nginx.url}/api/v1/tickets/{token}", timeout=10)
            assert resp.status_code == 200, token
    finally:
        for s in screens:
            s.close()
