"""Latency from a counter's call_next to the lobby displays: pushed (Socket.IO) vs 2 s polling.

One server process (gunicorn -w 1 --threads 100, the production setup) over a fresh SQLite
file; in this process: 30 counter consoles, 10 displays and 10 rating tablets as
python-socketio clients, plus 10 "peer design" displays that poll GET /api/v1/board every
2 seconds. Each call: a console sends ``call_next`` (acked), then ``finish``. Push latency =
the moment each display receives ``ticket_called`` minus the moment the console sent the verb;
polling latency = the first poll response that shows the call minus the same moment.

    .venv/bin/python bench/bench_realtime.py            # 200 calls, one every 100 ms
    .venv/bin/python bench/bench_realtime.py --calls 500 --gap-ms 50

Clients and server share the machine (2 cores here): the figures include client overhead.
"""

from __future__ import annotations

import argparse
import logging
import os
import random
import re
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections import defaultdict
from collections.abc import Callable
from pathlib import Path
from typing import Any

import requests
import socketio

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

COUNTERS, DISPLAYS, TABLETS, POLLERS = 30, 10, 10, 10
SERVER = "gunicorn"
REFRESH = True  # consoles re-read their state 0.3-1 s after facts, as console.js does
POLL_SECONDS = 2.0
PASSWORD = "bench-mat-khau"
AREAS = "ABCDEFGH"

log = logging.getLogger("bench_realtime")

# The alternative server: werkzeug's threaded server (what `flask run` and the tests use).
WERKZEUG_SERVER = """
import logging, sys
from werkzeug.serving import make_server
from motcua import create_app
logging.getLogger("werkzeug").setLevel(logging.WARNING)
make_server("127.0.0.1", int(sys.argv[1]), create_app(), threaded=True).serve_forever()
"""


def free_port() -> int:
    """An unused TCP port on localhost."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def counter_area(number: int) -> str:
    """Counter n serves one area, round robin (3-4 counters per area, as in a real hall)."""
    return AREAS[(number - 1) % len(AREAS)]


def seed(database_uri: str, tickets_needed: int) -> None:
    """A hall with 30 counters, one officer, and enough waiting tickets in every area."""
    from db import db
    from motcua import create_app
    from motcua.services import accounts, catalog, tickets

    app = create_app(
        {
            "SQLALCHEMY_DATABASE_URI": database_uri,
            "SECRET_KEY": "bench",
            "PASSWORD_HASH_METHOD": "pbkdf2:sha256:1000",
        }
    )
    with app.app_context():
        db.create_all()
        catalog.seed_default_areas()
        catalog.ensure_site("main", "TRUNG TÂM PHỤC VỤ HÀNH CHÍNH CÔNG", "PHƯỜNG BA ĐÌNH")
        for number in range(1, COUNTERS + 1):
            catalog.add_counter("main", number, [counter_area(number)])
        accounts.create_user("canbo", full_name="Cán bộ đo", role="officer", password=PASSWORD)
        served = sorted({counter_area(n) for n in range(1, COUNTERS + 1)})
        for area in served:
            for _ in range(tickets_needed // len(served) + 10):
                tickets.issue_ticket(area)
        db.session.remove()
        db.engine.dispose()


def start_server(database_uri: str, port: int, workdir: Path) -> subprocess.Popen[bytes]:
    """gunicorn -w 1 --threads 100 on the app factory; returns once /healthz answers."""
    env = dict(
        os.environ,
        FLASK_SQLALCHEMY_DATABASE_URI=database_uri,
        FLASK_SECRET_KEY="bench",
        PYTHONPATH=str(ROOT),
    )
    if SERVER == "gunicorn":
        gunicorn = Path(sys.executable).with_name("gunicorn")
        cmd = [
            str(gunicorn),
            "-w",
            "1",
            "--threads",
            "100",
            "-b",
            f"127.0.0.1:{port}",
            "--log-level",
            "warning",
            "motcua:create_app()",
        ]
    else:
        cmd = [sys.executable, "-c", WERKZEUG_SERVER, str(port)]
    proc = subprocess.Popen(cmd, cwd=workdir, env=env)
    deadline = time.time() + 30
    while time.time() < deadline:
        try:
            if requests.get(f"http://127.0.0.1:{port}/healthz", timeout=1).ok:
                return proc
        except requests.RequestException:
            time.sleep(0.2)
    proc.kill()
    raise RuntimeError("server did not start")


def percentile(values: list[float], p: float) -> float:
    """Nearest-rank percentile (NaN for no values)."""
    if not values:
        return float("nan")
    ordered = sorted(values)
    k = max(0, min(len(ordered) - 1, round(p / 100 * len(ordered) + 0.5) - 1))
    return ordered[k]


class Bench:
    """The clients and what they measured."""

    def __init__(self, base: str) -> None:
        self.base = base
        self.sent: dict[str, float] = {}  # ticket code -> when call_next was sent
        self.acked: list[float] = []  # call_next round trips (ms)
        self.ack_at: dict[str, float] = {}  # ticket code -> when its ack arrived
        self.push: dict[str, list[float]] = defaultdict(list)  # code -> receipt times
        self.poll: dict[str, list[float]] = defaultdict(list)
        self.lock = threading.Lock()
        self.clients: list[socketio.Client] = []
        self.stop = threading.Event()
        self.tablet_namespace = "/rating"

    def connect_all(self, counters: list[dict[str, Any]]) -> list[socketio.Client]:
        """30 consoles (logged in), 10 displays, 10 tablets."""
        http = requests.Session()
        form = http.get(f"{self.base}/login", timeout=10).text
        token = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', form)
        r = http.post(
            f"{self.base}/login",
            data={
                "username": "canbo",
                "password": PASSWORD,
                **({"csrf_token": token.group(1)} if token else {}),
            },
            allow_redirects=False,
        )
        r.raise_for_status()
        cookie = "; ".join(f"{c.name}={c.value}" for c in http.cookies)
        consoles = []
        for counter in counters:
            cid = counter["id"]
            client = socketio.Client(reconnection=False)
            # Like console.js: re-read only for facts about this counter or its areas.
            self._follow(
                client,
                "/counter",
                "ticket_called",
                "ticket_finished",
                "ticket_issued",
                relevant=lambda p, c=counter: (
                    p.get("counter") == c["number"]
                    or (p.get("ticket") or {}).get("area_prefix") in c["areas"]
                ),
            )
            client.connect(
                self.base,
                namespaces=["/counter"],
                headers={"Cookie": cookie},
                auth={"counter_id": cid},
                transports=["websocket"],
            )
            consoles.append(client)
        for _ in range(DISPLAYS):
            self.clients.append(self._display())
        for i in range(TABLETS):
            self.clients.append(self._tablet(counters[i]))
        self.clients.extend(consoles)
        return consoles

    def _follow(
        self,
        client: socketio.Client,
        namespace: str,
        *names: str,
        relevant: Callable[[dict[str, Any]], bool] | None = None,
    ) -> Callable[[Any], None]:
        """Like the real screens: re-read the snapshot 0.3-1 s after facts (when REFRESH)."""
        timer: list[threading.Timer] = []
        rng = random.Random(id(client))

        def refresh() -> None:
            if client.connected:
                client.call("snapshot", {}, namespace=namespace, timeout=10)

        def on_fact(payload: dict[str, Any]) -> None:
            if not REFRESH or (relevant is not None and not relevant(payload)):
                return
            if timer:
                timer[0].cancel()
            timer[:] = [threading.Timer(0.3 + 0.7 * rng.random(), refresh)]
            timer[0].start()

        for name in names:
            client.on(name, on_fact, namespace=namespace)
        return on_fact

    def _display(self) -> socketio.Client:
        """A display that records ticket_called (board.js counts from facts, no re-read)."""
        client = socketio.Client(reconnection=False)

        def on_called(payload: dict[str, Any]) -> None:
            now = time.perf_counter()
            with self.lock:
                self.push[payload["ticket"]["code"]].append(now)

        client.on("ticket_called", on_called, namespace="/display")
        client.connect(self.base, namespaces=["/display"], transports=["websocket"])
        client.call("snapshot", {}, namespace="/display", timeout=10)
        return client

    def _tablet(self, counter: dict[str, Any]) -> socketio.Client:
        """A rating tablet at a counter: re-reads its state when that counter finishes."""
        client = socketio.Client(reconnection=False)

        def on_finished(payload: dict[str, Any]) -> None:
            if payload.get("counter") == counter["number"]:
                threading.Thread(
                    target=client.call,
                    args=("snapshot", {}),
                    kwargs={"namespace": "/rating", "timeout": 10},
                    daemon=True,
                ).start()

        client.on("ticket_finished", on_finished, namespace="/rating")
        try:
            client.connect(
                self.base,
                namespaces=["/rating"],
                auth={"counter": counter["number"]},
                transports=["websocket"],
            )
        except socketio.exceptions.ConnectionError:
            self.tablet_namespace = "/display (the /rating namespace refused)"
            client = socketio.Client(reconnection=False)
            client.connect(self.base, namespaces=["/display"], transports=["websocket"])
        return client

    def poller(self, seed_: int) -> None:
        """The peer design: GET the board every 2 s, notice new calls."""
        rng = random.Random(seed_)
        http = requests.Session()
        self.stop.wait(rng.uniform(0, POLL_SECONDS))  # displays are not in phase
        seen: set[str] = set()
        while not self.stop.is_set():
            started = time.perf_counter()
            try:
                board = http.get(f"{self.base}/api/v1/board", timeout=10).json()
            except requests.RequestException:
                continue
            now = time.perf_counter()
            with self.lock:
                for call in board.get("calls", []):
                    if call["code"] not in seen and call["code"] in self.sent:
                        self.poll[call["code"]].append(now)
                seen.update(c["code"] for c in board.get("calls", []))
            self.stop.wait(max(0.0, POLL_SECONDS - (time.perf_counter() - started)))


def run(calls: int, gap_ms: float) -> None:
    """Seed, serve, connect, call, measure, print."""
    logging.basicConfig(level=logging.WARNING)
    workdir = Path(tempfile.mkdtemp(prefix="motcua-bench-"))
    uri = f"sqlite:///{workdir / 'bench.sqlite3'}"
    seed(uri, calls + 10)
    port = free_port()
    server = start_server(uri, port, workdir)
    bench = Bench(f"http://127.0.0.1:{port}")
    try:
        board = requests.get(f"{bench.base}/api/v1/board", timeout=10).json()
        consoles = bench.connect_all(board["counters"])
        pollers = [
            threading.Thread(target=bench.poller, args=(i,), daemon=True) for i in range(POLLERS)
        ]
        for t in pollers:
            t.start()
        time.sleep(POLL_SECONDS)
        errors = 0
        for i in range(calls):
            console = consoles[i % len(consoles)]
            sent = time.perf_counter()
            ack = console.call("call_next", {}, namespace="/counter", timeout=10)
            bench.acked.append(1000 * (time.perf_counter() - sent))
            if not ack.get("ok"):
                errors += 1
                continue
            with bench.lock:
                bench.sent[ack["ticket"]["code"]] = sent
                bench.ack_at[ack["ticket"]["code"]] = sent + bench.acked[-1] / 1000
            console.call("finish", {}, namespace="/counter", timeout=10)
            time.sleep(gap_ms / 1000)
        time.sleep(POLL_SECONDS + 1)  # let the last polls land
        bench.stop.set()
        for t in pollers:
            t.join(timeout=5)
    finally:
        for client in bench.clients:
            try:
                client.disconnect()
            except Exception:  # noqa: BLE001  (best effort on the way out)
                pass
        server.terminate()
        server.wait(timeout=10)

    push = [
        1000 * (r - bench.sent[c]) for c, rs in bench.push.items() if c in bench.sent for r in rs
    ]
    poll = [
        1000 * (r - bench.sent[c]) for c, rs in bench.poll.items() if c in bench.sent for r in rs
    ]
    after_ack = [
        1000 * (r - bench.ack_at[c])
        for c, rs in bench.push.items()
        if c in bench.ack_at
        for r in rs
    ]
    received = sum(len(rs) for rs in bench.push.values())
    load = ", ".join(f"{x:.1f}" for x in os.getloadavg())
    print(f"machine: {os.cpu_count()} CPUs, load average {load} (other work shares it)")
    print(
        f"server: {'gunicorn -w 1 --threads 100' if SERVER == 'gunicorn' else 'werkzeug'} "
        "(threading, simple-websocket), SQLite; "
        f"{COUNTERS} consoles, {DISPLAYS} displays, {TABLETS} tablets on "
        f"{bench.tablet_namespace}"
    )
    print(
        f"calls: {calls} ({errors} refused), one every ~{gap_ms:.0f} ms + call/finish time; "
        f"push receipts {received} of {len(bench.sent) * DISPLAYS} expected"
    )
    for name, values in (("push (Socket.IO)", push), (f"polling every {POLL_SECONDS:.0f} s", poll)):
        if not values:
            continue
        print(
            f"{name:>20}: n={len(values):5d}  p50 {percentile(values, 50):8.1f} ms  "
            f"p99 {percentile(values, 99):8.1f} ms  mean {statistics.fmean(values):8.1f} ms  "
            f"max {max(values):8.1f} ms"
        )
    for name, values, note in (
        ("of which: ack", bench.acked, "console's round trip: the service call"),
        ("receipt - ack", after_ack, "fan-out beyond the ack; < 0 = before it"),
    ):
        print(
            f"{name:>20}: n={len(values):5d}  p50 {percentile(values, 50):8.1f} ms  "
            f"p99 {percentile(values, 99):8.1f} ms   ({note})"
        )
    print(
        f"{'ratio poll/push':>20}: p50 {percentile(poll, 50) / percentile(push, 50):6.0f}x  "
        f"p99 {percentile(poll, 99) / percentile(push, 99):6.0f}x"
    )


def main() -> None:
    """Command line."""
    global COUNTERS, DISPLAYS, TABLETS, POLLERS, SERVER, REFRESH
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--calls", type=int, default=200)
    parser.add_argument("--gap-ms", type=float, default=100.0)
    parser.add_argument("--consoles", type=int, default=30)
    parser.add_argument("--displays", type=int, default=10)
    parser.add_argument("--tablets", type=int, default=10)
    parser.add_argument("--pollers", type=int, default=10)
    parser.add_argument("--server", choices=("gunicorn", "werkzeug"), default="gunicorn")
    parser.add_argument(
        "--no-refresh",
        action="store_true",
        help="screens do not re-read their snapshot after facts",
    )
    args = parser.parse_args()
    COUNTERS, DISPLAYS, TABLETS, POLLERS = args.consoles, args.displays, args.tablets, args.pollers
    SERVER = args.server
    REFRESH = not args.no_refresh
    run(args.calls, args.gap_ms)


if __name__ == "__main__":
    main()
