"""Capacity: thousands of live connections on one process, fan-out, 1 vs 2 processes, a soak.

Real servers (bench/scale_cluster.py: gunicorn gevent processes as deploy/systemd runs them,
nginx with deploy/nginx/motcua.conf, Redis) and real clients:

1. **Held connections** (one process): ``--connections`` (5,000) Socket.IO connections, a mix
   of lobby displays on /display, officer consoles on /counter (logged in), rating tablets on
   /rating and phones on /kiosk following their own ticket (the status page /t/<token>), each
   doing what the page does on connect (the namespace's connect, then a ``snapshot``), then
   staying idle (answering Engine.IO pings). Meanwhile 8 kiosks issue tickets
   (POST /api/v1/tickets, one every ``--kiosk-gap-ms`` each): ticket p50/p99, errors, and
   the server's RSS per 1,000 connections.
2. **Fan-out**: a console's ``call_next`` until each display receives ``ticket_called``, with
   10 displays, then with ``--fanout-displays`` (1,000).
3. **Throughput** on PostgreSQL (MOTCUA_TEST_POSTGRES_URL): 8 kiosks back to back through
   nginx to 1 process, then to 2 processes (Redis as the message queue); the ratio, and
   duplicates (0 expected). nginx sends each connection to the least busy process
   (least_conn), as in the deployment kit's site.
4. **Soak** (``--soak-minutes``, 20; 0 = skip): one process holding ``--soak-connections``,
   at 10x a busy hall's peak (PEAK_PER_MIN tickets issued and called a minute): the
   worker's RSS sampled, errors and dropped connections counted.
5. **Many sites** (``--sites``, 100; 0 = skip): one installation serving ``--sites`` sites of
   ``--site-counters`` (10) counters, each with ``--site-displays`` (2) lobby displays bound
   to their site and an officer's console open at every counter. Call -> display p99 first
   with the first site alone connected, then with every site connected (calls at the first
   site only, then spread over every site), at the same call rate; the ratio of the spread
   figure to the first (target <= 1.5x) and the calls a display received from another site
   (0 expected).

Clients: the held connections are raw Engine.IO/Socket.IO websockets on asyncio (the
``websockets`` library) in a few processes of their own; consoles that call are
python-socketio clients; kiosks are processes with keep-alive HTTP connections. Clients and
server share the machine: every figure includes the clients' CPU, and the host's steal
share (bench/hostcpu.py) is printed beside it.

    .venv/bin/python bench/bench_scale.py --connections 1000 --fanout-displays 200 --soak-minutes 2
    MOTCUA_TEST_POSTGRES_URL=postgresql+psycopg://motcua:motcua@127.0.0.1/motcua_bench \
        .venv/bin/python bench/bench_scale.py            # the figures of docs/deploy.md
    .venv/bin/python bench/bench_scale.py --only sites --sites 100   # many sites alone
"""

from __future__ import annotations

import argparse
import faulthandler
import json
import logging
import math
import multiprocessing
import os
import queue
import re
import signal
import statistics
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path
from typing import Any

import requests

BENCH = Path(__file__).resolve().parent
sys.path.insert(0, str(BENCH))

import bench_realtime  # noqa: E402  (bench/, this script's folder)
from bench_realtime import PASSWORD, InOrderClient, percentile  # noqa: E402
from hostcpu import CpuSample  # noqa: E402
from scale_clients import (  # noqa: E402
    KIOSKS,
    SERVICES,
    Spec,
    hold_main,
    kiosk_main,
    receipt_key,
)
from scale_cluster import Cluster, reset_database, rss_mb  # noqa: E402

COUNTERS = 40
# A busy hall's peak: 6 tickets issued and 6 called a minute (360 an hour, 20 counters).
PEAK_PER_MIN = 6
PING_INTERVAL_S = 5  # the server's SOCKETIO_PING_INTERVAL default (motcua/config.py)
PER_CLIENT_PROCESS = 1250  # held connections per client process
MIX = {"display": 0.20, "console": 0.02, "tablet": 0.02}  # the rest: phones

log = logging.getLogger("bench_scale")
MP = multiprocessing.get_context("spawn")


# --------------------------------------------------------------------------- set-up


def seed(db_url: str, phones: int) -> list[str]:
    """bench_realtime's hall with COUNTERS counters, plus one waiting ticket per phone."""
    from db import db
    from motcua import create_app
    from motcua.services import tickets

    reset_database(db_url)
    bench_realtime.COUNTERS = COUNTERS
    bench_realtime.seed(db_url, 0)
    app = create_app(
        {"SQLALCHEMY_DATABASE_URI": db_url, "SECRET_KEY": "bench", "WORKING_HOURS": None}
    )
    with app.app_context():
        tokens = [tickets.issue_ticket(SERVICES[i % len(SERVICES)]).token for i in range(phones)]
        db.session.remove()
        db.engine.dispose()
    return tokens


def login_cookie(base: str) -> str:
    """The officer's session cookie, from the login form (with its CSRF token)."""
    http = requests.Session()
    form = http.get(f"{base}/login", timeout=30).text
    token = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', form)
    r = http.post(
        f"{base}/login",
        data={
            "username": "canbo",
            "password": PASSWORD,
            **({"csrf_token": token.group(1)} if token else {}),
        },
        allow_redirects=False,
        timeout=30,
    )
    r.raise_for_status()
    return "; ".join(f"{c.name}={c.value}" for c in http.cookies)


def mix_specs(
    n: int, tokens: list[str], counters: list[dict[str, Any]], cookie: str
) -> dict[str, list[Spec]]:
    """n connections: displays, consoles, tablets by MIX, phones for the rest."""
    counts = {kind: int(n * share) for kind, share in MIX.items()}
    counts["phone"] = n - sum(counts.values())
    if counts["phone"] > len(tokens):
        raise SystemExit(f"need {counts['phone']} ticket tokens, seeded {len(tokens)}")
    return {
        "display": [("/display", "{}", None)] * counts["display"],
        "console": [
            ("/counter", json.dumps({"counter_id": counters[i % len(counters)]["id"]}), cookie)
            for i in range(counts["console"])
        ],
        "tablet": [
            ("/rating", json.dumps({"counter": counters[i % len(counters)]["number"]}), None)
            for i in range(counts["tablet"])
        ],
        "phone": [("/kiosk", json.dumps({"token": t}), None) for t in tokens[: counts["phone"]]],
    }


# --------------------------------------------------------------------------- held connections


class Holders:
    """Groups of client processes holding connections; their receipts at the end."""

    def __init__(self, base: str) -> None:
        self.base = base
        self.stop = MP.Event()
        self.results: Any = MP.Queue()
        self.procs: list[Any] = []
        self.connected = self.failed = 0
        self.why: list[str] = []

    def open(self, specs: list[Spec], record: bool, per_process: int = PER_CLIENT_PROCESS) -> float:
        """Open these connections in ceil(n / per_process) processes; seconds taken."""
        if not specs:
            return 0.0
        ready: Any = MP.Queue()
        chunks = math.ceil(len(specs) / per_process)
        started = time.perf_counter()
        for k in range(chunks):
            part = specs[k::chunks]
            proc = MP.Process(
                target=hold_main,
                args=(self.base, part, record, ready, self.stop, self.results),
                daemon=True,
            )
            proc.start()
            self.procs.append(proc)
        for _ in range(chunks):
            connected, failed, _, why = ready.get(timeout=600)
            self.connected += connected
            self.failed += failed
            self.why.extend(why)
        return time.perf_counter() - started

    def close(self) -> tuple[dict[str, list[float]], list[float]]:
        """Stop every holder; (site/ticket code -> receipt times, when connections dropped).

        ``foreign`` then counts the calls a site-bound display received from another site.
        """
        self.stop.set()
        receipts: dict[str, list[float]] = {}
        dropped: list[float] = []
        self.foreign = 0
        for _ in self.procs:
            try:
                got, lost, _, foreign = self.results.get(timeout=120)
            except queue.Empty:
                print("a client process sent no results")
                continue
            dropped += lost
            self.foreign += foreign
            for code, at in got:
                receipts.setdefault(code, []).append(at)
        for proc in self.procs:
            proc.join(timeout=10)
            if proc.is_alive():
                proc.terminate()
        return receipts, dropped


# --------------------------------------------------------------------------- kiosks


class Kiosks:
    """KIOSKS kiosk processes (kiosk_main); their figures once they are done."""

    def __init__(self, port: int, per_kiosk: int, gap_s: float, sources: bool = False) -> None:
        # Kept on self: a process started with "spawn" unpickles its arguments after start()
        # returned, and the Event's and the Queue's semaphores must still exist then.
        self.out: Any = MP.Queue()
        self.stop = MP.Event()
        self.go = MP.Event()
        ready: Any = MP.Queue()
        self.procs = [
            MP.Process(
                target=kiosk_main,
                args=(
                    port,
                    per_kiosk,
                    gap_s,
                    k,
                    f"127.0.{k + 1}.1" if sources else None,
                    self.out,
                    self.stop,
                    ready,
                    self.go,
                ),
                daemon=True,
            )
            for k in range(KIOSKS)
        ]
        for p in self.procs:
            p.start()
        for _ in self.procs:
            ready.get(timeout=120)
        self.go.set()

    def results(self) -> dict[str, Any]:
        """Wait for the kiosks (tell them to stop first when they run until told), gather."""
        results = [self.out.get(timeout=900) for _ in self.procs]
        for p in self.procs:
            p.join(timeout=10)
        lat = [x for r in results for x in r[0]]
        codes = [c for r in results for c in r[1]]
        errors: Counter[str] = Counter()
        for r in results:
            errors.update(r[2])
        failed_requests = sum(v for k, v in errors.items() if not k.isdigit())
        return {
            "n": len(lat) + failed_requests,
            "ok": len(codes),
            "p50": percentile(lat, 50),
            "p99": percentile(lat, 99),
            "max": max(lat, default=float("nan")),
            "duplicates": len(codes) - len(set(codes)),
            "errors": dict(errors),
        }


def errors_text(errors: dict[str, int]) -> str:
    """'0' or '3 (502: 2, ConnectionResetError: 1)'."""
    total = sum(errors.values())
    if not total:
        return "0"
    return f"{total} ({', '.join(f'{k}: {v}' for k, v in sorted(errors.items()))})"


# --------------------------------------------------------------------------- consoles


class Consoles:
    """Logged-in python-socketio consoles at counters 1-8 (one per area) that call and finish."""

    def __init__(self, base: str, counters: list[dict[str, Any]], cookie: str) -> None:
        self.clients: list[Any] = []
        for counter in counters[: len(SERVICES)]:
            client = InOrderClient(reconnection=False)
            client.connect(
                base,
                namespaces=["/counter"],
                headers={"Cookie": cookie},
                auth={"counter_id": counter["id"]},
                transports=["websocket"],
                wait_timeout=30,
            )
            self.clients.append(client)
        self.turn = 0
        self.failed = 0

    def call(self) -> tuple[str | None, float]:
        """One call_next (then finish) at the next console; (site/ticket code, when sent)."""
        client = self.clients[self.turn % len(self.clients)]
        self.turn += 1
        sent = time.perf_counter()
        try:
            ack = client.call("call_next", {}, namespace="/counter", timeout=30)
        except Exception:  # noqa: BLE001  (a timeout: counted)
            self.failed += 1
            return None, sent
        if not ack.get("ok"):
            self.failed += 1
            return None, sent
        try:
            done = client.call("finish", {}, namespace="/counter", timeout=30)
            self.failed += not done.get("ok")
        except Exception:  # noqa: BLE001
            self.failed += 1
        return receipt_key(ack["ticket"]), sent

    def close(self) -> None:
        """Disconnect every console."""
        for client in self.clients:
            try:
                client.disconnect()
            except Exception:  # noqa: BLE001  (best effort on the way out)
                pass


def fanout(consoles: Consoles, calls: int, gap_s: float) -> dict[str, float]:
    """Make calls; ticket code -> when its call_next was sent."""
    sent: dict[str, float] = {}
    for _ in range(calls):
        code, at = consoles.call()
        if code:
            sent[code] = at
        time.sleep(gap_s)
    return sent


def latencies(sent: dict[str, float], receipts: dict[str, list[float]]) -> tuple[list[float], int]:
    """Receipt - sent (ms) for every display receipt of these calls; and the count missing."""
    values = [1000 * (at - sent[c]) for c, ats in receipts.items() if c in sent for at in ats]
    return values, len(sent)


# --------------------------------------------------------------------------- the phases


def phase_held(args: argparse.Namespace, db_url: str, workdir: Path) -> None:
    """Held connections, fan-out and kiosks on one process."""
    phones = args.connections + 2 * args.fanout_calls + 100
    tokens = seed(db_url, phones)
    with Cluster(workdir, db_url, processes=1, async_mode=args.async_mode) as cluster:
        base = cluster.base
        worker = cluster.worker_pids()[0]
        counters = requests.get(f"{base}/api/v1/board", timeout=30).json()["counters"]
        cookie = login_cookie(base)
        consoles = Consoles(base, counters, cookie)
        holders = Holders(base)
        rss0 = rss_mb(worker)

        host0 = CpuSample.now()
        holders.open([("/display", "{}", None)] * 10, record=True)
        sent10 = fanout(consoles, args.fanout_calls, args.fanout_gap_ms / 1000)
        host10 = host0.until(CpuSample.now())

        more = max(0, args.fanout_displays - 10)
        holders.open([("/display", "{}", None)] * more, record=True, per_process=500)
        host0 = CpuSample.now()
        sent_many = fanout(consoles, args.fanout_calls, args.fanout_gap_ms / 1000)
        host_many = host0.until(CpuSample.now())

        specs = mix_specs(args.connections, tokens[2 * args.fanout_calls + 50 :], counters, cookie)
        # The fan-out displays are part of the mix: fewer mixed displays (then phones) instead.
        excess = max(0, args.fanout_displays - len(specs["display"]))
        specs["display"] = specs["display"][args.fanout_displays :]
        specs["phone"] = specs["phone"][: max(0, len(specs["phone"]) - excess)]
        rest = [s for kind in ("display", "console", "tablet", "phone") for s in specs[kind]]
        took = holders.open(rest, record=False)
        held = holders.connected + len(consoles.clients)
        time.sleep(2)
        rss_held = rss_mb(worker)

        held_kiosks = Kiosks(cluster.ports[0], args.kiosk_tickets, args.kiosk_gap_ms / 1000)
        host0, kiosks_from = CpuSample.now(), time.perf_counter()
        k = held_kiosks.results()
        host_k, kiosks_to = host0.until(CpuSample.now()), time.perf_counter()
        rss_end = rss_mb(worker)
        receipts, dropped = holders.close()
        consoles.close()

    counts = {kind: len(v) for kind, v in specs.items()}
    counts["display"] += args.fanout_displays
    print(
        f"\n== one process ({args.async_mode}), {db_url.split(':')[0]}: {held} connections held "
        f"(displays {counts['display']}, consoles {counts['console']} + {len(consoles.clients)} "
        f"calling, tablets {counts['tablet']}, phones {counts['phone']}); opened in {took:.0f} s; "
        f"failed to open {holders.failed}; dropped {len(dropped)} (before the kiosks "
        f"{sum(t < kiosks_from for t in dropped)}, while they issued "
        f"{sum(kiosks_from <= t <= kiosks_to for t in dropped)})"
    )
    for why in holders.why[:3]:
        print(f"   e.g. {why}")
    per_k = (rss_held - rss0) / max(1, held) * 1000
    print(
        f"   server RSS: {rss0:.0f} MB idle -> {rss_held:.0f} MB holding them "
        f"({per_k:.1f} MB per 1,000 connections), {rss_end:.0f} MB after the kiosks"
    )
    print(
        f"   {KIOSKS} kiosks, a ticket every {args.kiosk_gap_ms:.0f} ms each, while held: "
        f"{k['ok']} of {k['n']} issued, p50 {k['p50']:.1f} ms, p99 {k['p99']:.1f} ms, "
        f"max {k['max']:.1f} ms, errors {errors_text(k['errors'])}, duplicates "
        f"{k['duplicates']}   [host {host_k}]"
    )
    for label, sent, host in (
        ("10 displays", sent10, host10),
        (f"{args.fanout_displays} displays", sent_many, host_many),
    ):
        values, calls = latencies(sent, receipts)
        wanted = calls * (10 if label == "10 displays" else args.fanout_displays)
        print(
            f"   fan-out call -> {label}: {calls} calls, {len(values)} of {wanted} receipts, "
            f"p50 {percentile(values, 50):.1f} ms, p99 {percentile(values, 99):.1f} ms, "
            f"max {max(values, default=float('nan')):.1f} ms   [host {host}]"
        )
    if consoles.failed:
        print(f"   console verbs refused or timed out: {consoles.failed}")


# --------------------------------------------------------------------------- many sites


def site_code(i: int) -> str:
    """The i-th site's code: the install's own site first, then the wards p001, p002, …"""
    return "main" if i == 0 else f"p{i:03d}"


def site_display(code: str) -> Spec:
    """How a lobby display of one site connects: the one place that picks a display's site.

    Today /display takes the site from its auth (``{"site": code}``, display/events.py).
    When a site has an address of its own (a ``/s/<code>/`` prefix) or a paired display is
    bound to its site, this is what changes.
    """
    return ("/display", json.dumps({"site": code}), None)


def site_console(counter_id: int, cookie: str) -> Spec:
    """An officer's console open at a counter (its site is the counter's)."""
    return ("/counter", json.dumps({"counter_id": counter_id}), cookie)


def calling_counters(counters: int) -> int:
    """Counters that call in the sites phase: one per area (counter n serves area n)."""
    return min(counters, len(SERVICES))


def seed_sites(
    db_url: str, sites: int, counters: int, alone: int, spread: int
) -> dict[str, list[int]]:
    """``sites`` sites of ``counters`` counters each (counter n serves area n, cycling), and
    waiting tickets for ``alone`` calls at the first site, then ``spread`` calls spread over
    every site; site code -> its counter ids, in number order."""
    from db import db
    from motcua import create_app
    from motcua.services import catalog, tickets

    reset_database(db_url)
    bench_realtime.COUNTERS = 0
    bench_realtime.seed(db_url, 0)  # the schema, the areas, the site main, the officer
    app = create_app(
        {"SQLALCHEMY_DATABASE_URI": db_url, "SECRET_KEY": "bench", "WORKING_HOURS": None}
    )
    areas = SERVICES[: calling_counters(counters)]
    ids: dict[str, list[int]] = {}
    with app.app_context():
        for i in range(sites):
            code = site_code(i)
            catalog.ensure_site(code, f"ĐIỂM TIẾP NHẬN {i + 1}", f"PHƯỜNG {i + 1}")
            ids[code] = [
                catalog.add_counter(code, n, [SERVICES[(n - 1) % len(SERVICES)]])
                for n in range(1, counters + 1)
            ]
            calls = math.ceil(spread / sites) + (alone if i == 0 else 0)
            for area in areas:
                for _ in range(math.ceil(calls / len(areas)) + 2):
                    tickets.issue_ticket(area, site_code=code)
        db.session.remove()
        db.engine.dispose()
    return ids


class Caller:
    """An officer calling through the REST API (POST …/call-next, then …/finish), one HTTP
    connection: any counter of any site, so 100 sites need no 100 consoles in this process."""

    def __init__(self, base: str) -> None:
        self.base = base
        self.http = requests.Session()
        r = self.http.post(
            f"{base}/api/v1/auth/token",
            json={"username": "canbo", "password": PASSWORD},
            timeout=30,
        )
        r.raise_for_status()
        self.http.headers["Authorization"] = f"Bearer {r.json()['access_token']}"
        self.failed = 0

    def call(self, site: str, counter_id: int) -> tuple[str | None, float]:
        """call_next then finish at a site's counter; (site/ticket code, when call_next was
        sent). The REST body has no site code (TicketSchema): the caller knows the site."""
        url = f"{self.base}/api/v1/counters/{counter_id}"
        sent = time.perf_counter()
        try:
            called = self.http.post(f"{url}/call-next", timeout=30)
            if called.status_code != 200:
                self.failed += 1
                return None, sent
            self.failed += self.http.post(f"{url}/finish", json={}, timeout=30).status_code != 200
        except requests.RequestException:
            self.failed += 1
            return None, sent
        return receipt_key({**called.json(), "site_code": site}), sent

    def calls(self, counters: list[tuple[str, int]], gap_s: float) -> dict[str, float]:
        """One call at each (site, counter) in turn, one every gap_s; site/code -> when sent."""
        sent: dict[str, float] = {}
        next_at = time.perf_counter()
        for site, counter_id in counters:
            time.sleep(max(0.0, next_at - time.perf_counter()))
            next_at += gap_s
            key, at = self.call(site, counter_id)
            if key:
                sent[key] = at
        return sent


def cpu_seconds(pids: list[int]) -> float:
    """User + system CPU seconds these processes used so far (/proc/<pid>/stat)."""
    total = 0
    for pid in pids:
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        total += int(fields[11]) + int(fields[12])  # utime, stime (fields 14, 15)
    return total / os.sysconf("SC_CLK_TCK")


def settle(pids: list[int], quiet: float = 0.1, limit_s: float = 300.0) -> float:
    """Wait until the servers are quiet (under ``quiet`` of a CPU for a second): the
    snapshots the new connections asked for are served before anything is measured."""
    started = time.perf_counter()
    before = cpu_seconds(pids)
    while time.perf_counter() - started < limit_s:
        time.sleep(1.0)
        now = cpu_seconds(pids)
        if now - before < quiet:
            break
        before = now
    return time.perf_counter() - started


def idle_cpu(pids: list[int], seconds: float = 5.0) -> float:
    """Share of a CPU the servers use doing nothing but hold their connections (pings)."""
    cpu0 = cpu_seconds(pids)
    time.sleep(seconds)
    return (cpu_seconds(pids) - cpu0) / seconds


def phase_sites(args: argparse.Namespace, db_url: str, workdir: Path) -> None:
    """--sites sites x --site-counters counters x --site-displays displays on one server
    (or --site-processes behind nginx): call -> display p99 with one site alone, then with
    the calls spread over every site, in the same run; their ratio (target <= 1.5x)."""
    n, per, displays = args.sites, args.site_counters, args.site_displays
    calls, gap_s = args.site_calls, args.site_call_gap_ms / 1000
    codes = [site_code(i) for i in range(n)]
    counters = seed_sites(db_url, n, per, 2 * calls, calls)
    callers = calling_counters(per)
    alone = [(codes[0], counters[codes[0]][k % callers]) for k in range(calls)]
    spread = [(codes[k % n], counters[codes[k % n]][(k // n) % callers]) for k in range(calls)]
    processes = args.site_processes
    with Cluster(
        workdir, db_url, processes=processes, nginx=processes > 1, async_mode=args.async_mode
    ) as cluster:
        cookie = login_cookie(cluster.base)
        caller = Caller(cluster.base)
        holders = Holders(cluster.base)
        workers = cluster.worker_pids()
        runs: list[tuple[str, dict[str, float], Any, float]] = []

        def measure(label: str, plan: list[tuple[str, int]]) -> None:
            """Make the calls; keep what was sent, the host's load and server CPU per call."""
            host0, cpu0 = CpuSample.now(), cpu_seconds(workers)
            sent = caller.calls(plan, gap_s)
            cpu_ms = 1000 * (cpu_seconds(workers) - cpu0) / max(1, len(plan))
            runs.append((label, sent, host0.until(CpuSample.now()), cpu_ms))
            time.sleep(2)  # the last calls' receipts

        holders.open([site_display(codes[0])] * displays, record=True)
        holders.open([site_console(c, cookie) for c in counters[codes[0]]], record=False)
        settle(workers)
        idle_alone = idle_cpu(workers)
        measure(f"one site alone ({displays} displays, {per} consoles)", alone)
        others = [site_display(c) for c in codes[1:] for _ in range(displays)]
        took = holders.open(others, record=True, per_process=500)
        took += holders.open(
            [site_console(i, cookie) for c in codes[1:] for i in counters[c]], record=False
        )
        quiet_after = settle(workers)
        opened_at = time.perf_counter()
        rss = sum(rss_mb(pid) for pid in workers)
        idle_all = idle_cpu(workers)
        measure("every site connected, calls at the first site only", alone)
        measure(f"every site connected, calls spread over {n} sites", spread)
        receipts, dropped = holders.close()
    where = f"{processes} process{'es' if processes > 1 else ''} ({args.async_mode})"
    print(
        f"\n== {n} sites x {per} counters x {displays} displays on {where}, "
        f"{db_url.split(':')[0]}: {holders.connected} connections held ({n * displays} "
        f"displays, {n * per} consoles) in {took:.0f} s (server quiet {quiet_after:.0f} s later); "
        f"failed to open {holders.failed}; "
        f"dropped {len(dropped)} ({sum(t >= opened_at for t in dropped)} of them after every "
        f"site was connected); server RSS {rss:.0f} MB; a call every {gap_s * 1000:.0f} ms "
        "(REST call-next, then finish)"
    )
    for why in holders.why[:3]:
        print(f"   e.g. {why}")
    print(
        f"   server CPU when no call is made (Engine.IO pings every "
        f"{PING_INTERVAL_S} s): one site connected {100 * idle_alone:.1f} % of a CPU, "
        f"every site {100 * idle_all:.1f} %"
    )
    p99 = {}
    for label, sent, host, cpu_ms in runs:
        values, made = latencies(sent, receipts)
        p99[label] = percentile(values, 99)
        print(
            f"   call -> display, {label}: {made} calls, {len(values)} of {made * displays} "
            f"receipts, p50 {percentile(values, 50):.1f} ms, p99 {p99[label]:.1f} ms, "
            f"max {max(values, default=float('nan')):.1f} ms; server CPU {cpu_ms:.1f} ms "
            f"a call   [host {host}]"
        )
    one, _, every = p99.values()
    print(
        f"   p99 ratio, {n} sites / one site: {every / one:.2f}x (target <= 1.5x); calls "
        f"shown on another site's display: {holders.foreign}; calls refused or failed: "
        f"{caller.failed}"
    )


def phase_throughput(args: argparse.Namespace, workdir: Path) -> None:
    """PostgreSQL: 8 kiosks back to back through nginx, 1 process then 2."""
    pg = os.environ.get("MOTCUA_TEST_POSTGRES_URL")
    if not pg:
        print("\n== throughput: skipped (set MOTCUA_TEST_POSTGRES_URL to a PostgreSQL database)")
        return
    rows = []
    for processes in (1, 2):
        seed(pg, 0)
        with Cluster(
            workdir, pg, processes=processes, nginx=True, redis=True, async_mode=args.async_mode
        ) as cluster:
            assert cluster.nginx_port is not None
            host0 = CpuSample.now()
            started = time.perf_counter()
            k = Kiosks(cluster.nginx_port, args.requests // KIOSKS, 0.0, sources=True).results()
            elapsed = time.perf_counter() - started
            host = host0.until(CpuSample.now())
        split = cluster.upstream_split()  # after nginx stopped: its log buffer is written
        rows.append((processes, k, k["ok"] / elapsed, host, split))
    print("\n== throughput, PostgreSQL, 8 kiosks back to back through nginx (least_conn):")
    for processes, k, tps, host, split in rows:
        shares = ", ".join(f"{a}: {n}" for a, n in sorted(split.items()) if a != "-")
        print(
            f"   {processes} process{'es' if processes > 1 else ''}: {tps:.0f} tickets/s, "
            f"p50 {k['p50']:.1f} ms, p99 {k['p99']:.1f} ms, errors {errors_text(k['errors'])}, "
            f"duplicates {k['duplicates']}   [host {host}]   (requests per process: {shares})"
        )
    print(f"   ratio 2/1: {rows[1][2] / rows[0][2]:.2f}x")


def phase_soak(args: argparse.Namespace, db_url: str, workdir: Path) -> None:
    """One process at 10x a hall's peak for --soak-minutes; memory sampled."""
    minutes = args.soak_minutes
    rate = 10 * PEAK_PER_MIN / 60  # tickets issued (and called) a second
    phones = args.soak_connections + 100
    tokens = seed(db_url, phones + int(rate * minutes * 60) + 100)
    with Cluster(workdir, db_url, processes=1, async_mode=args.async_mode) as cluster:
        base = cluster.base
        worker = cluster.worker_pids()[0]
        counters = requests.get(f"{base}/api/v1/board", timeout=30).json()["counters"]
        cookie = login_cookie(base)
        consoles = Consoles(base, counters, cookie)
        holders = Holders(base)
        specs = mix_specs(args.soak_connections, tokens, counters, cookie)
        holders.open([s for v in specs.values() for s in v], record=False)
        soak_kiosks = Kiosks(cluster.ports[0], 0, KIOSKS / rate)
        host0 = CpuSample.now()
        samples: list[tuple[float, float]] = []
        started = time.perf_counter()
        next_sample = started
        calls = 0
        while (now := time.perf_counter()) - started < minutes * 60:
            if now >= next_sample:
                samples.append(((now - started) / 60, rss_mb(worker)))
                next_sample += args.soak_sample_s
            consoles.call()
            calls += 1
            time.sleep(max(0.0, started + calls / rate - time.perf_counter()))
        samples.append(((time.perf_counter() - started) / 60, rss_mb(worker)))
        soak_kiosks.stop.set()
        k = soak_kiosks.results()
        host = host0.until(CpuSample.now())
        _, drops = holders.close()
        dropped = len(drops)
        restarted = cluster.worker_pids() != [worker]  # gunicorn replaced a stuck worker
        consoles.close()
    rss = [r for _, r in samples]
    half = [(t, r) for t, r in samples if t >= minutes / 2]
    slope = _slope(half)
    print(
        f"\n== soak: {minutes:g} min, one process holding {holders.connected} connections, "
        f"{rate * 60:.0f} tickets/min issued and {calls / minutes:.0f}/min called "
        f"(10x a hall's peak of {PEAK_PER_MIN}/min)   [host {host}]"
    )
    print(
        f"   tickets {k['ok']} of {k['n']}, p50 {k['p50']:.1f} ms, p99 {k['p99']:.1f} ms, "
        f"max {k['max']:.1f} ms, errors {errors_text(k['errors'])}, duplicates {k['duplicates']}; "
        f"console verbs failed {consoles.failed}; connections dropped {dropped}"
        + (f" (the first {(min(drops) - started) / 60:.1f} min in)" if drops else "")
        + f", failed to open {holders.failed}"
        + ("; THE WORKER WAS RESTARTED" if restarted else "")
    )
    print(
        f"   worker RSS MB: start {rss[0]:.0f}, max {max(rss):.0f}, end {rss[-1]:.0f}; "
        f"second half slope {slope:+.2f} MB/min ({'flat' if abs(slope) < 0.5 else 'GROWING'})"
    )
    print("   samples (min: MB): " + ", ".join(f"{t:.1f}: {r:.0f}" for t, r in samples))


def _slope(points: list[tuple[float, float]]) -> float:
    """Least-squares slope of (x, y) points (0 for fewer than 2)."""
    if len(points) < 2:
        return 0.0
    xs, ys = [p[0] for p in points], [p[1] for p in points]
    mx, my = statistics.fmean(xs), statistics.fmean(ys)
    den = sum((x - mx) ** 2 for x in xs)
    return sum((x - mx) * (y - my) for x, y in points) / den if den else 0.0


def main() -> None:
    """Command line."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--connections", type=int, default=5000)
    parser.add_argument("--fanout-displays", type=int, default=1000)
    parser.add_argument("--fanout-calls", type=int, default=40)
    parser.add_argument("--fanout-gap-ms", type=float, default=250.0)
    parser.add_argument("--kiosk-tickets", type=int, default=25, help="per kiosk")
    parser.add_argument("--kiosk-gap-ms", type=float, default=500.0)
    parser.add_argument("--requests", type=int, default=2000, help="throughput phase, in all")
    parser.add_argument("--soak-minutes", type=float, default=20.0)
    parser.add_argument("--soak-connections", type=int, default=2000)
    parser.add_argument("--soak-sample-s", type=float, default=30.0)
    parser.add_argument("--sites", type=int, default=100, help="sites phase: how many sites")
    parser.add_argument("--site-counters", type=int, default=10, help="counters per site")
    parser.add_argument("--site-displays", type=int, default=2, help="displays per site")
    parser.add_argument("--site-calls", type=int, default=300, help="calls per measurement")
    parser.add_argument(
        "--site-call-gap-ms",
        type=float,
        default=100.0,
        help="between calls (100 ms: 100 sites at a busy hall's 6 calls a minute each)",
    )
    parser.add_argument(
        "--site-processes",
        type=int,
        default=1,
        help="server processes of the sites phase (more than 1: nginx, Redis, PostgreSQL)",
    )
    parser.add_argument(
        "--db",
        choices=("sqlite", "postgresql"),
        default="sqlite",
        help="database of the one-process phases (throughput is always PostgreSQL)",
    )
    parser.add_argument(
        "--async-mode",
        choices=("gevent",),
        default="gevent",
        help="gevent: the production entry point, motcua:create_server() under gunicorn -k gevent",
    )
    parser.add_argument(
        "--only",
        choices=("held", "throughput", "soak", "sites"),
        action="append",
        help="repeatable",
    )
    args = parser.parse_args()
    logging.basicConfig(level=logging.WARNING)
    faulthandler.register(signal.SIGUSR1)  # kill -USR1 <pid>: where is it waiting?
    phases = args.only or ["held", "throughput", "soak", "sites"]
    load = ", ".join(f"{x:.1f}" for x in os.getloadavg())
    print(f"machine: {os.cpu_count()} CPUs, load average {load} (other work shares it)")
    with tempfile.TemporaryDirectory(prefix="motcua-scale-") as tmp:
        workdir = Path(tmp)
        if args.db == "postgresql":
            db_url = os.environ.get("MOTCUA_TEST_POSTGRES_URL", "")
            if not db_url:
                raise SystemExit("--db postgresql needs MOTCUA_TEST_POSTGRES_URL")
        else:
            db_url = f"sqlite:///{workdir / 'scale.sqlite3'}"
        if "held" in phases:
            phase_held(args, db_url, workdir)
        if "throughput" in phases:
            phase_throughput(args, workdir)
        if "soak" in phases and args.soak_minutes > 0:
            phase_soak(args, db_url, workdir)
        if "sites" in phases and args.sites > 0:
            if args.site_processes > 1 and db_url.startswith("sqlite"):
                raise SystemExit("--site-processes > 1 needs --db postgresql")
            phase_sites(args, db_url, workdir)


if __name__ == "__main__":
    main()
