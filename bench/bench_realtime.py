"""Latency from a counter's call_next to the lobby displays: pushed (Socket.IO) vs 2 s polling.

One server process (gunicorn -w 1 --threads 100, the production setup) over a fresh SQLite
file; in this process: 30 counter consoles, 10 displays and 10 rating tablets as
python-socketio clients, plus 10 "peer design" displays that poll GET /api/v1/board every
2 seconds. Each call: a console sends ``call_next`` (acked), then ``finish``. Push latency =
the moment each display receives ``ticket_called`` minus the moment the console sent the verb;
polling latency = the first poll response that shows the call minus the same moment.

The simulated screens read from the server what the real ones do (motcua/static/js/live.js:
a snapshot on connect, facts in seq order, a re-read on a gap or board_changed):
- consoles (console.js): fold the facts into their state (counter/console_fold.py), re-read
  after an ack newer than their state and once a minute (first after 30-60 s); with
  ``--console reread``, as console.js did before: re-read after every fact about their
  counter (50 ms) or its areas (0.3-1 s, spread);
- displays (board.js): count from the facts, re-read once a minute;
- tablets (tablet.js): re-read when someone else takes their counter's seat (a call or a
  pause names the officer), and once a minute when idle; a finished ticket nobody rates is
  recorded as skipped when the next one finishes there (or after 60 s).

    .venv/bin/python bench/bench_realtime.py            # 200 calls, one every 100 ms
    .venv/bin/python bench/bench_realtime.py --calls 500 --gap-ms 50 --threads 32
    .venv/bin/python bench/bench_realtime.py --console reread   # consoles as they were before

Clients and server share the machine (2 cores here): the figures include client overhead.
Each display runs in a process of its own (a lobby PC is a machine of its own); with
``--displays-in-process`` they share the bench process, and its GIL, with the other clients.
"""

from __future__ import annotations

import argparse
import functools
import gc
import logging
import multiprocessing
import os
import queue
import random
import re
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter, defaultdict
from collections.abc import Callable
from pathlib import Path
from typing import Any

import engineio
import requests
import socketio

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from hostcpu import CpuSample  # noqa: E402  (bench/, this script's folder)

from counter.console_fold import FACTS, ConsoleState, summary  # noqa: E402  (after the path)

COUNTERS, DISPLAYS, TABLETS, POLLERS = 30, 10, 10, 10
SERVER = "gunicorn"
THREADS = 100
DISPLAY_PROCESSES = True  # each display in a process of its own (--displays-in-process: not)
# fold: consoles fold facts into their state, as console.js does; reread: they re-read it after
# every relevant fact, as console.js did before; none: no re-read at all (a lower bound).
CONSOLE = "fold"
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
            "WORKING_HOURS": None,  # the bench runs at any hour
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
    """gunicorn -w 1 --threads THREADS on the app factory; returns once /healthz answers."""
    env = dict(
        os.environ,
        FLASK_SQLALCHEMY_DATABASE_URI=database_uri,
        FLASK_SECRET_KEY="bench",
        FLASK_WORKING_HOURS="null",
        PYTHONPATH=str(ROOT),
    )
    if SERVER == "gunicorn":
        gunicorn = Path(sys.executable).with_name("gunicorn")
        cmd = [
            str(gunicorn),
            "-w",
            "1",
            "--threads",
            str(THREADS),
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


class _InOrderEngineIO(engineio.Client):
    """python-engineio's client, but messages are handled in its reader thread, in order.

    The stock client runs every received message in a thread of its own: facts overtake each
    other, and fifty clients start a thread per fact. A browser's socket hands them over one
    after the other on one thread: so does this (handlers never wait for an ack here).
    """

    def _trigger_event(self, event: str, *args: Any, **kwargs: Any) -> Any:
        if event == "message":
            kwargs["run_async"] = False
        return super()._trigger_event(event, *args, **kwargs)


class InOrderClient(socketio.Client):
    """A python-socketio client on _InOrderEngineIO.

    websocket-client checks every text frame's UTF-8 with a pure-Python state machine before
    decoding it with bytes.decode, which checks it again in C: with Vietnamese text (2-3
    bytes a letter) that first pass was a third of the clients' CPU (py-spy), time a
    browser does not spend. ``skip_utf8_validation`` skips only that first pass.
    """

    def __init__(self, **kwargs: Any) -> None:
        kwargs.setdefault("websocket_extra_options", {"skip_utf8_validation": True})
        super().__init__(**kwargs)

    def _engineio_client_class(self) -> type[engineio.Client]:
        return _InOrderEngineIO


class Tally:
    """What a group of screens counts: the snapshots they read; and when to stop."""

    def __init__(self, stop: Any) -> None:
        self.lock = threading.Lock()
        self.snapshots: Counter[tuple[str, str]] = Counter()  # (screen, reason) -> count
        self.stop = stop

    def count(self, kind: str, reason: str) -> None:
        """A snapshot was read."""
        with self.lock:
            self.snapshots[(kind, reason)] += 1


class Live:
    """motcua/static/js/live.js for a python-socketio client.

    A snapshot on connect; facts applied once, in ``seq`` order; a hole in ``seq`` re-reads the
    snapshot and replays what is newer. Snapshots are asked from another thread: the thread
    that delivers facts never waits for an ack.
    """

    def __init__(
        self,
        bench: Tally,
        client: socketio.Client,
        namespace: str,
        kind: str,
        on_snapshot: Callable[[dict[str, Any]], None],
        on_fact: Callable[[str, dict[str, Any]], bool],
    ) -> None:
        self.bench, self.client, self.namespace, self.kind = bench, client, namespace, kind
        self.on_snapshot, self.on_fact = on_snapshot, on_fact
        self.lock = threading.Lock()
        self.seq: int | None = None
        self.buffer: dict[int, tuple[str, dict[str, Any]]] = {}
        self.syncing = False
        self.gap_asked = False
        self.pending: str | None = None
        for name in FACTS:
            client.on(name, functools.partial(self.fact, name), namespace=namespace)

    def resync(self, reason: str) -> None:
        """Ask for the snapshot (one at a time; a request meanwhile runs right after)."""
        with self.lock:
            if self.syncing:
                self.pending = self.pending or reason
                return
            self.syncing = True
        while True:
            try:
                snap = self.client.call("snapshot", {}, namespace=self.namespace, timeout=10)
            except Exception:  # noqa: BLE001  (a timeout or a closed client: try no more)
                snap = None
            with self.lock:
                later: list[str] = []
                if isinstance(snap, dict) and isinstance(snap.get("seq"), int):
                    self.bench.count(self.kind, reason)
                    self.seq = snap["seq"]
                    self.gap_asked = False
                    self.on_snapshot(snap)
                    self.buffer = {s: f for s, f in self.buffer.items() if s > self.seq}
                    later = self._drain()
                reason, self.pending = self.pending, None
                if reason is None:
                    self.syncing = False
            for again in later:
                self.later(again)
            if reason is None:
                return

    def later(self, reason: str, delay: float = 0.0) -> None:
        """Re-sync from another thread (never from the thread that received a fact)."""
        timer = threading.Timer(delay, self.resync, args=(reason,))
        timer.daemon = True
        timer.start()

    def fact(self, name: str, payload: dict[str, Any]) -> None:
        """A fact from the server."""
        seq = payload.get("seq") if isinstance(payload, dict) else None
        if not isinstance(seq, int):
            return
        with self.lock:
            if self.seq is not None and seq <= self.seq:
                return
            self.buffer[seq] = (name, payload)
            if self.seq is None or self.syncing:
                return
            later = self._drain()
            hole = bool(self.buffer)
            if hole and not self.gap_asked:
                self.gap_asked = True
            else:
                hole = False
        for again in later:
            self.later(again)
        if hole:
            self.later("gap")

    def behind(self, seq: int) -> None:
        """An ack at ``seq`` came back after its fact: if that fact is missing, re-read."""
        with self.lock:
            lost = self.seq is not None and seq > self.seq and not self.syncing
        if lost:
            self.later("lost")

    def _drain(self) -> list[str]:
        """Apply buffered facts in order; the re-reads they ask for (run outside the lock)."""
        asks: list[str] = []
        while self.seq is not None and self.seq + 1 in self.buffer:
            self.seq += 1
            name, payload = self.buffer.pop(self.seq)
            if not self.on_fact(name, payload):
                asks.append("refresh")
        return asks[:1]

    def every(self, first: float, period: float) -> None:
        """The screens' periodic re-read: first after ``first`` s, then every ``period`` s."""

        def loop() -> None:
            delay = first
            while not self.bench.stop.wait(delay) and self.client.connected:
                self.resync("periodic")
                delay = period

        threading.Thread(target=loop, daemon=True).start()


class Bench(Tally):
    """The clients and what they measured."""

    def __init__(self, base: str) -> None:
        super().__init__(threading.Event())
        self.base = base
        self.sent: dict[str, float] = {}  # ticket code -> when call_next was sent
        self.acked: list[float] = []  # call_next round trips (ms)
        self.ack_at: dict[str, float] = {}  # ticket code -> when its ack arrived
        self.push: dict[str, list[float]] = defaultdict(list)  # code -> receipt times
        self.poll: dict[str, list[float]] = defaultdict(list)
        self.clients: list[socketio.Client] = []
        self.tablet_namespace = "/rating"
        self.verbs: Counter[str] = Counter()  # tablets' skip etc.
        self.display_procs: list[Any] = []
        self.mp = multiprocessing.get_context("spawn")
        self.mp_stop = self.mp.Event()
        self.mp_results: Any = self.mp.Queue()
        self.links: list[Live] = []  # the consoles' live links, in the order of connect_all
        self.models: list[list[ConsoleState]] = []  # and their folded states

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
        if DISPLAY_PROCESSES:
            ready = self.mp.Queue()
            for _ in range(DISPLAYS):
                proc = self.mp.Process(
                    target=display_main,
                    args=(self.base, CONSOLE, self.mp_stop, ready, self.mp_results),
                    daemon=True,
                )
                proc.start()
                self.display_procs.append(proc)
            for _ in range(DISPLAYS):
                ready.get(timeout=60)
        else:
            for _ in range(DISPLAYS):
                self.clients.append(display_client(self, self.base, self._received))
        consoles = [self._console(counter, cookie) for counter in counters]
        for i in range(TABLETS):
            self.clients.append(self._tablet(counters[i]))
        self.clients.extend(consoles)
        return consoles

    def _console(self, counter: dict[str, Any], cookie: str) -> socketio.Client:
        """A console as console.js behaves (CONSOLE = "fold"), or as it did ("reread")."""
        client = InOrderClient(reconnection=False)
        number = counter["number"]
        model: list[ConsoleState] = []
        rng = random.Random(number)
        timer: list[threading.Timer] = []

        def on_snapshot(snap: dict[str, Any]) -> None:
            if model:
                model[0].apply_snapshot(snap)
            else:
                model.append(ConsoleState(snap))

        def reread_later(payload: dict[str, Any]) -> None:
            # The console before: a fact about this counter or its areas re-read the state,
            # 50 ms later for its own counter, 0.3-1 s (spread) for the queue moving elsewhere.
            ticket = payload.get("ticket") or {}
            mine = payload.get("counter") == number
            if not mine and ticket.get("area_prefix") not in counter["areas"]:
                return
            if timer:
                timer[0].cancel()
            delay = 0.05 if mine else 0.3 + 0.7 * rng.random()
            timer[:] = [threading.Timer(delay, live.resync, args=("refresh",))]
            timer[0].start()

        def on_fact(name: str, payload: dict[str, Any]) -> bool:
            if CONSOLE == "reread":
                reread_later(payload)
                return True
            if CONSOLE == "none":
                return True
            return model[0].fold(name, payload)

        live = Live(self, client, "/counter", "console", on_snapshot, on_fact)
        client.connect(
            self.base,
            namespaces=["/counter"],
            headers={"Cookie": cookie},
            auth={"counter_id": counter["id"]},
            transports=["websocket"],
            wait_timeout=10,
        )
        live.resync("connect")
        if CONSOLE == "fold":
            live.every(30 + 30 * rng.random(), 60)  # console.js's safety-net re-read
        self.links.append(live)
        self.models.append(model)
        return client

    def _received(self, code: str, at: float) -> None:
        with self.lock:
            self.push[code].append(at)

    def collect_displays(self) -> None:
        """Stop the display processes and take what they measured."""
        if not self.display_procs:
            return
        self.mp_stop.set()
        for _ in self.display_procs:
            try:
                receipts, snapshots = self.mp_results.get(timeout=30)
            except queue.Empty:
                print("a display process sent no results (its receipts count as missing)")
                continue
            for code, at in receipts:
                self._received(code, at)
            with self.lock:
                self.snapshots.update(snapshots)
        for proc in self.display_procs:
            proc.join(timeout=2)
            if proc.is_alive():
                proc.terminate()

    def _tablet(self, counter: dict[str, Any]) -> socketio.Client:
        """A rating tablet as tablet.js behaves at a counter where nobody rates.

        It re-reads its state when another officer takes the seat; a finished ticket is asked
        about, and recorded as skipped when the next one finishes or after 60 s.
        """
        client = InOrderClient(reconnection=False)
        number = counter["number"]
        asked: list[str] = []
        timers: list[threading.Timer] = []

        def skip(uuid: str, reason: str) -> None:
            try:
                client.call(
                    "skip", {"ticket": uuid, "reason": reason}, namespace="/rating", timeout=10
                )
                with self.lock:
                    self.verbs[f"tablet skip ({reason})"] += 1
            except Exception:  # noqa: BLE001  (closing down)
                pass

        def on_fact(name: str, payload: dict[str, Any]) -> bool:
            mine = payload.get("counter") == number
            if name == "ticket_finished" and payload.get("counter_id") == counter["id"]:
                uuid = payload["ticket"]["uuid"]
                if asked and asked[0] != uuid:
                    threading.Thread(target=skip, args=(asked[0], "replaced"), daemon=True).start()
                for t in timers:
                    t.cancel()
                asked[:] = [uuid]
                timers[:] = [threading.Timer(60, skip, args=(uuid, "timeout"))]
                timers[0].daemon = True
                timers[0].start()
                return True
            if name in ("ticket_called", "counter_changed") and mine:
                if CONSOLE == "none":
                    return True  # the lower bound: no re-reads at all
                # tablet.js re-reads the officer's card only when someone else took the seat
                return "officer" not in payload or payload["officer"] == seated[0]
            return name != "board_changed"

        def on_snapshot(snap: dict[str, Any]) -> None:
            seated[0] = (snap.get("officer") or {}).get("id")

        seated: list[int | None] = [None]
        live = Live(self, client, "/rating", "tablet", on_snapshot, on_fact)
        try:
            client.connect(
                self.base,
                namespaces=["/rating"],
                auth={"counter": number},
                transports=["websocket"],
                wait_timeout=10,
            )
            live.resync("connect")
            if CONSOLE != "none":
                live.every(60 * random.random(), 60)  # tablet.js re-reads once a minute
        except socketio.exceptions.ConnectionError:
            self.tablet_namespace = "/display (the /rating namespace refused)"
            client = InOrderClient(reconnection=False)
            client.connect(
                self.base, namespaces=["/display"], transports=["websocket"], wait_timeout=10
            )
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


def cpu_seconds(pid: int) -> float:
    """User + system CPU time of a process and its children's threads so far (Linux /proc)."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return float("nan")
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def worker_pids(pid: int) -> list[int]:
    """The server's processes: gunicorn's master and its worker (or the werkzeug process)."""
    try:
        children = Path(f"/proc/{pid}/task/{pid}/children").read_text().split()
    except OSError:
        children = []
    return [pid, *map(int, children)]


def display_client(
    tally: Tally, base: str, received: Callable[[str, float], None]
) -> socketio.Client:
    """A display as board.js behaves: counts from the facts, re-reads once a minute."""
    client = InOrderClient(reconnection=False)
    live = Live(
        tally, client, "/display", "display", lambda snap: None, lambda n, p: n != "board_changed"
    )

    def on_called(payload: dict[str, Any]) -> None:
        # Latency is taken when the fact arrives, before it is put in seq order.
        received(payload["ticket"]["code"], time.perf_counter())
        live.fact("ticket_called", payload)

    client.on("ticket_called", on_called, namespace="/display")
    client.connect(base, namespaces=["/display"], transports=["websocket"], wait_timeout=10)
    live.resync("connect")
    if CONSOLE != "none":
        live.every(60 * random.random(), 60)  # pages opened at different times
    return client


def display_main(base: str, console: str, stop: Any, ready: Any, results: Any) -> None:
    """One lobby display in a process of its own, as a lobby PC is a machine of its own.

    In one process with the consoles and tablets, a display waits for the GIL behind forty
    other clients handling the same fact: that is the bench, not the server. time.perf_counter
    is CLOCK_MONOTONIC on Linux, the same clock in every process.
    """
    global CONSOLE
    CONSOLE = console
    # Threads here wait on a local event: a multiprocessing.Event waited on with timeouts
    # by several threads can miss its set() (its Condition's sleeping/woken counts race),
    # and a display stuck in stop.wait() never reported. The shared event is only polled.
    local_stop = threading.Event()

    def watch() -> None:
        while not stop.is_set():
            time.sleep(0.05)
        local_stop.set()

    threading.Thread(target=watch, daemon=True).start()
    tally = Tally(local_stop)
    receipts: list[tuple[str, float]] = []
    try:
        client = display_client(tally, base, lambda code, at: receipts.append((code, at)))
    finally:
        gc.collect()
        gc.freeze()  # a browser's collector does not pause a page for 100 ms either
        ready.put(True)
    try:
        local_stop.wait()
    finally:
        results.put((list(receipts), dict(tally.snapshots)))
    client.eio.disconnect(abort=True)  # the bench process ends this process after reading


def answer(link: Live, ack: dict[str, Any]) -> None:
    """What console.js does with a verb's ack: re-read if refused, or if its fact is missing."""
    if not ack.get("ok"):
        link.later("refused")
    elif CONSOLE == "fold" and isinstance(ack.get("seq"), int):
        link.behind(ack["seq"])


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
        gc.collect()
        gc.freeze()  # as the server does (GC_FREEZE): no 100 ms collections over the set-up
        pollers = [
            threading.Thread(target=bench.poller, args=(i,), daemon=True) for i in range(POLLERS)
        ]
        for t in pollers:
            t.start()
        time.sleep(POLL_SECONDS)
        errors = matching = 0
        pids = worker_pids(server.pid)
        screens = [proc.pid for proc in bench.display_procs]
        cpu0 = [cpu_seconds(p) for p in pids], time.process_time(), time.perf_counter()
        host0 = CpuSample.now()
        screens0 = sum(cpu_seconds(p) for p in screens)
        for i in range(calls):
            console, link = consoles[i % len(consoles)], bench.links[i % len(consoles)]
            sent = time.perf_counter()
            ack = console.call("call_next", {}, namespace="/counter", timeout=10)
            bench.acked.append(1000 * (time.perf_counter() - sent))
            answer(link, ack)
            if not ack.get("ok"):
                errors += 1
                continue
            with bench.lock:
                bench.sent[ack["ticket"]["code"]] = sent
                bench.ack_at[ack["ticket"]["code"]] = sent + bench.acked[-1] / 1000
            answer(link, console.call("finish", {}, namespace="/counter", timeout=10))
            time.sleep(gap_ms / 1000)
        server_cpu = sum(cpu_seconds(p) for p in pids) - sum(cpu0[0])
        host = host0.until(CpuSample.now())
        client_cpu, elapsed = time.process_time() - cpu0[1], time.perf_counter() - cpu0[2]
        client_cpu += sum(cpu_seconds(p) for p in screens) - screens0
        time.sleep(POLL_SECONDS + 1)  # let the last polls land
        bench.stop.set()
        bench.collect_displays()
        for t in pollers:
            t.join(timeout=5)
        if CONSOLE == "fold":  # the folded consoles against the server, at the end
            for console, link, model in zip(consoles, bench.links, bench.models, strict=True):
                fresh = console.call("snapshot", {}, namespace="/counter", timeout=10)
                with link.lock:
                    same = link.seq == fresh["seq"] and summary(model[0].state) == summary(fresh)
                matching += int(same)
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
    print(
        f"machine: {os.cpu_count()} CPUs, load average {load} (other work shares it); "
        f"during the calls: {host} (steal: time the hypervisor gave other guests)"
    )
    print(
        f"server: {f'gunicorn -w 1 --threads {THREADS}' if SERVER == 'gunicorn' else 'werkzeug'} "
        "(threading, simple-websocket), SQLite; "
        f"{COUNTERS} consoles, {DISPLAYS} displays "
        f"({'a process each' if DISPLAY_PROCESSES else 'in the bench process'}), "
        f"{TABLETS} tablets on {bench.tablet_namespace}"
    )
    polled = sum(len(rs) for c, rs in bench.poll.items() if c in bench.sent)
    print(
        f"calls: {calls} ({errors} refused), one every ~{gap_ms:.0f} ms + call/finish time; "
        f"push receipts {received} of {len(bench.sent) * DISPLAYS} expected, polled "
        f"{polled} of {len(bench.sent) * POLLERS} (a poll misses the calls that left the "
        "board's recent list since the last one)"
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
    print(
        f"{'CPU per call':>20}: server {1000 * server_cpu / calls:.1f} ms, bench clients "
        f"{1000 * client_cpu / calls:.1f} ms (call_next + finish, their facts, re-reads, polls); "
        f"{calls / elapsed:.1f} calls/s"
    )
    reads = ", ".join(f"{k} {r} {n}" for (k, r), n in sorted(bench.snapshots.items()))
    print(f"snapshots read: {reads}")
    if bench.verbs:
        print("other verbs: " + ", ".join(f"{k} {n}" for k, n in sorted(bench.verbs.items())))
    if CONSOLE == "fold":
        print(f"folded consoles equal to a fresh snapshot at the end: {matching} of {COUNTERS}")


def main() -> None:
    """Command line."""
    global COUNTERS, DISPLAYS, TABLETS, POLLERS, SERVER, THREADS, CONSOLE, DISPLAY_PROCESSES
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--calls", type=int, default=200)
    parser.add_argument("--gap-ms", type=float, default=100.0)
    parser.add_argument("--consoles", type=int, default=30)
    parser.add_argument("--displays", type=int, default=10)
    parser.add_argument("--tablets", type=int, default=10)
    parser.add_argument("--pollers", type=int, default=10)
    parser.add_argument("--server", choices=("gunicorn", "werkzeug"), default="gunicorn")
    parser.add_argument("--threads", type=int, default=100, help="gunicorn --threads")
    parser.add_argument(
        "--console",
        choices=("fold", "reread", "none"),
        default="fold",
        help="fold: as console.js (default); reread: as console.js was before (a re-read after "
        "every fact about the counter or its areas); none: no screen re-reads (a lower bound)",
    )
    parser.add_argument(
        "--displays-in-process",
        action="store_true",
        help="run the displays in the bench process, beside the consoles and tablets",
    )
    args = parser.parse_args()
    COUNTERS, DISPLAYS, TABLETS, POLLERS = args.consoles, args.displays, args.tablets, args.pollers
    SERVER, THREADS, CONSOLE = args.server, args.threads, args.console
    DISPLAY_PROCESSES = not args.displays_in_process
    run(args.calls, args.gap_ms)


if __name__ == "__main__":
    main()
