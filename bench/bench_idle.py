"""Idle connections cost no thread: N live Socket.IO clients held while kiosks issue tickets.

Starts one served process on the demo hall (gunicorn -k gevent -w 1 on motcua:create_server(),
or `motcua serve` with --server serve), opens N websocket clients from a few client
processes (gevent-patched python-socketio clients: 10 % lobby displays on /display, 90 %
phones on /kiosk following their own ticket), holds them, then has 8 kiosks issue tickets
over HTTP and prints their latency, errors, and the server's RSS.

    .venv/bin/python bench/bench_idle.py [--connections 1000] [--tickets 80] [--db URL]
"""

from __future__ import annotations

import argparse
import http.client
import json
import multiprocessing as mp
import os
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any

import bench_api
from bench_api import free_port
from hostcpu import CpuSample

VENV_BIN = Path(sys.executable).parent
SERVICES = ("A", "B", "C", "E")


def start_server(db_url: str, port: int, workdir: Path, how: str) -> subprocess.Popen[bytes]:
    """Seed the demo hall on ``db_url`` and start one served process on loopback."""
    if how == "serve":
        command = [str(VENV_BIN / "motcua"), "serve", "--host", "127.0.0.1", "--port", str(port)]
    else:
        command = [
            str(VENV_BIN / "gunicorn"),
            *("-k", "gevent", "-w", "1", "--worker-connections", "10000"),
            *("-b", f"127.0.0.1:{port}", "--log-level", "warning"),
            "motcua:create_server()",
        ]
    return bench_api.start_server(db_url, port, workdir, command=command)


def issue(port: int, n: int, offset: int) -> tuple[list[float], list[str], int]:
    """n tickets on one keep-alive connection: latencies, tokens, errors."""
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    latencies, tokens, errors = [], [], 0
    for i in range(n):
        body = json.dumps({"service": SERVICES[(offset + i) % len(SERVICES)]})
        headers = {"Content-Type": "application/json", "Idempotency-Key": str(uuid.uuid4())}
        t = time.perf_counter()
        try:
            conn.request("POST", "/api/v1/tickets", body=body, headers=headers)
            resp = conn.getresponse()
            data = resp.read()
        except OSError:
            errors += 1
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
            continue
        latencies.append(time.perf_counter() - t)
        if resp.status == 201:
            tokens.append(json.loads(data)["token"])
        else:
            errors += 1
    return latencies, tokens, errors


def kiosk(port: int, n: int, offset: int, out: mp.Queue) -> None:  # type: ignore[type-arg]
    """One kiosk process."""
    out.put(issue(port, n, offset))


def hold(port: int, displays: int) -> None:
    """A holder process: open websocket clients (phones' tokens on stdin), hold, report.

    gevent-patched before anything else is imported: a client is a greenlet, not a thread.
    Prints ``opened failed`` when all are open, waits for a line on stdin, then prints how
    many are still connected.
    """
    from gevent import monkey

    monkey.patch_all()
    import logging

    import gevent
    import socketio

    logging.disable(logging.WARNING)  # each closing client logs its empty packet queue

    tokens = sys.stdin.readline().split()
    clients: list[Any] = []
    failures = [0]

    def open_one(namespace: str, auth: dict[str, str]) -> None:
        client = socketio.Client(reconnection=False)
        try:
            client.connect(
                f"http://127.0.0.1:{port}",
                namespaces=[namespace],
                transports=["websocket"],
                auth=auth,
                wait_timeout=60,
            )
            clients.append(client)
        except Exception:
            failures[0] += 1

    jobs: list[tuple[str, dict[str, str]]] = [("/display", {}) for _ in range(displays)]
    jobs += [("/kiosk", {"token": token}) for token in tokens]
    for start in range(0, len(jobs), 50):  # a hall's screens come up over a few seconds
        gevent.joinall([gevent.spawn(open_one, ns, auth) for ns, auth in jobs[start : start + 50]])
    print(len(clients), failures[0], flush=True)
    sys.stdin.readline()
    print(sum(1 for c in clients if c.connected), flush=True)
    os._exit(0)  # the sockets close with the process (a clean disconnect each takes long)


def start_holder(port: int, tokens: list[str], displays: int) -> subprocess.Popen[str]:
    """Start a holder process and hand it its phones' tokens."""
    proc = subprocess.Popen(
        [sys.executable, __file__, "--hold", str(port), "--displays", str(displays)],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    assert proc.stdin is not None
    proc.stdin.write(" ".join(tokens) + "\n")
    proc.stdin.flush()
    return proc


def rss_mb(pid: int) -> float:
    """Resident memory of a process and its children (the gunicorn worker), in MB."""
    total = 0
    pids = [pid]
    for child in Path(f"/proc/{pid}/task/{pid}/children").read_text().split():
        pids.append(int(child))
    for p in pids:
        for line in Path(f"/proc/{p}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                total += int(line.split()[1])
    return total / 1024


def main() -> None:
    """Run the measurement and print the figures."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--connections", type=int, default=1000)
    parser.add_argument("--tickets", type=int, default=80)
    parser.add_argument("--kiosks", type=int, default=8)
    parser.add_argument("--holders", type=int, default=4, help="client processes")
    parser.add_argument("--server", choices=("gunicorn", "serve"), default="gunicorn")
    parser.add_argument("--db", default="", help="database URL (default: a SQLite file)")
    parser.add_argument("--hold", type=int, default=0, help=argparse.SUPPRESS)
    parser.add_argument("--displays", type=int, default=0, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.hold:
        hold(args.hold, args.displays)
        return
    with tempfile.TemporaryDirectory(prefix="motcua-idle-") as tmp:
        workdir = Path(tmp)
        db_url = args.db or f"sqlite:///{workdir / 'bench.sqlite3'}"
        port = free_port()
        server = start_server(db_url, port, workdir, args.server)
        try:
            rss0 = rss_mb(server.pid)
            displays = args.connections // 10
            phones = args.connections - displays
            _, tokens, errors = issue(port, phones, 0)  # the phones' tickets
            assert errors == 0, f"{errors} errors issuing the phones' tickets"
            share = [tokens[i :: args.holders] for i in range(args.holders)]
            t0 = time.perf_counter()
            holders = [
                start_holder(port, share[i], displays // args.holders) for i in range(args.holders)
            ]
            opened = [tuple(int(x) for x in p.stdout.readline().split()) for p in holders]  # type: ignore[union-attr]
            held = sum(n for n, _ in opened)
            failed = sum(f for _, f in opened)
            open_s = time.perf_counter() - t0
            rss1 = rss_mb(server.pid)
            time.sleep(2)
            out: mp.Queue = mp.Queue()  # type: ignore[type-arg]
            host0 = CpuSample.now()
            per = args.tickets // args.kiosks
            kiosks = [
                mp.Process(target=kiosk, args=(port, per, k * 7, out)) for k in range(args.kiosks)
            ]
            t1 = time.perf_counter()
            for p in kiosks:
                p.start()
            results = [out.get(timeout=300) for _ in kiosks]
            wall = time.perf_counter() - t1
            host = host0.until(CpuSample.now())
            for p in kiosks:
                p.join()
            lat = sorted(x for r in results for x in r[0])
            errs = sum(r[2] for r in results)
            alive = 0
            for p in holders:
                p.stdin.write("done\n")  # type: ignore[union-attr]
                p.stdin.flush()  # type: ignore[union-attr]
                alive += int(p.stdout.readline())  # type: ignore[union-attr]
                p.wait(timeout=60)
            p99 = lat[max(0, int(len(lat) * 0.99) - 1)] * 1000
            print(f"server: {args.server} (gevent), database: {db_url.split(':')[0]}")
            print(
                f"held {held} of {args.connections} connections ({displays} displays, "
                f"{phones} phones; {failed} failed to open) in {open_s:.1f} s; "
                f"{alive} still connected after the kiosks"
            )
            print(
                f"{len(lat)} tickets by {args.kiosks} kiosks in {wall:.2f} s: "
                f"p50 {statistics.median(lat) * 1000:.1f} ms, p99 {p99:.1f} ms, "
                f"max {lat[-1] * 1000:.1f} ms, {errs} errors"
            )
            print(
                f"server RSS {rss0:.0f} MB idle -> {rss1:.0f} MB with the connections "
                f"({(rss1 - rss0) / max(held, 1) * 1000:.0f} MB per 1,000); {host}"
            )
        finally:
            server.terminate()
            try:
                server.wait(timeout=40)
            except subprocess.TimeoutExpired:
                server.kill()


if __name__ == "__main__":
    main()
