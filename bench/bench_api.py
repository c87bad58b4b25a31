"""Benchmark POST /api/v1/tickets against a running server (gunicorn -w 1 --threads 32).

Prints tickets/s, p50/p99 latency and the duplicate count with 1 and 8 concurrent
clients (separate processes, keep-alive connections), on SQLite and, when
MOTCUA_TEST_POSTGRES_URL is set (scripts/start-postgres.sh prints one), PostgreSQL.

    .venv/bin/python bench/bench_api.py [--requests 2000] [--only sqlite|postgresql]
"""

from __future__ import annotations

import argparse
import http.client
import json
import multiprocessing as mp
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any

from hostcpu import CpuSample

ROOT = Path(__file__).resolve().parent.parent
VENV_BIN = Path(sys.executable).parent
SERVICES = ("A", "B", "C", "E")


def free_port() -> int:
    """An ephemeral TCP port on loopback."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def start_server(
    db_url: str,
    port: int,
    workdir: Path,
    threads: int = 32,
    workers: int = 1,
    command: list[str] | None = None,
) -> subprocess.Popen[bytes]:
    """Migrate and seed the demo hall, then start gunicorn on loopback (or ``command``)."""
    env = dict(
        os.environ,
        FLASK_SQLALCHEMY_DATABASE_URI=db_url,
        FLASK_SECRET_KEY="bench",
        FLASK_PRINTER__BACKEND="dummy",
        FLASK_PASSWORD_HASH_METHOD="pbkdf2:sha256:1000",
        FLASK_WORKING_HOURS="null",
    )
    if db_url.startswith("postgresql"):
        reset = (
            "from motcua import create_app\n"
            "from db import db\n"
            "app = create_app()\n"
            "with app.app_context(), db.engine.begin() as conn:\n"
            "    conn.exec_driver_sql('DROP SCHEMA public CASCADE; CREATE SCHEMA public')\n"
        )
        subprocess.run([str(VENV_BIN / "python"), "-c", reset], env=env, check=True, cwd=workdir)
    subprocess.run(
        [str(VENV_BIN / "motcua"), "demo"],
        env=env,
        check=True,
        cwd=workdir,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    command = command or [
        str(VENV_BIN / "gunicorn"),
        "-w",
        str(workers),
        "--threads",
        str(threads),
        "-b",
        f"127.0.0.1:{port}",
        "--log-level",
        "warning",
        "motcua:create_app()",
    ]
    proc = subprocess.Popen(command, env=env, cwd=workdir)
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=2)
            conn.request("GET", "/healthz")
            if conn.getresponse().status == 200:
                return proc
        except OSError:
            time.sleep(0.2)
    proc.kill()
    raise RuntimeError("server did not start")


def client(port: int, n: int, offset: int, out: mp.Queue, probe: bool = False) -> None:  # type: ignore[type-arg]
    """One kiosk: n POSTs on a keep-alive connection; reports latencies and codes.

    With ``probe``, n GET /healthz instead: the same server stack doing no work, which
    shows the ceiling that Flask on one gunicorn process sets on this machine.
    """
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    latencies, codes, errors = [], [], 0
    for i in range(n):
        if probe:
            t = time.perf_counter()
            conn.request("GET", "/healthz")
            resp = conn.getresponse()
            resp.read()
            latencies.append(time.perf_counter() - t)
            if resp.status == 200:
                codes.append(f"healthz-{offset}-{i}")
            else:
                errors += 1
            continue
        body = json.dumps({"service": SERVICES[(offset + i) % len(SERVICES)]})
        headers = {"Content-Type": "application/json", "Idempotency-Key": str(uuid.uuid4())}
        t = time.perf_counter()
        conn.request("POST", "/api/v1/tickets", body=body, headers=headers)
        resp = conn.getresponse()
        data = resp.read()
        latencies.append(time.perf_counter() - t)
        if resp.status == 201:
            ticket = json.loads(data)
            codes.append(f"{ticket['business_day']}/{ticket['code']}")
        else:
            errors += 1
    out.put((latencies, codes, errors))


def run(port: int, clients: int, total: int, probe: bool = False) -> dict[str, Any]:
    """Run `clients` processes sharing `total` requests."""
    out: mp.Queue = mp.Queue()  # type: ignore[type-arg]
    host0 = CpuSample.now()
    per = total // clients
    procs = [mp.Process(target=client, args=(port, per, k * 7, out, probe)) for k in range(clients)]
    t0 = time.perf_counter()
    for p in procs:
        p.start()
    results = [out.get() for _ in procs]
    elapsed = time.perf_counter() - t0
    for p in procs:
        p.join()
    host = host0.until(CpuSample.now())
    lat = sorted(x for r in results for x in r[0])
    codes = [c for r in results for c in r[1]]
    return {
        "clients": clients,
        "requests": len(lat),
        "tickets_per_s": len(codes) / elapsed,
        "p50_ms": statistics.median(lat) * 1000,
        "p99_ms": lat[min(len(lat) - 1, int(len(lat) * 0.99))] * 1000,
        "duplicates": len(codes) - len(set(codes)),
        "errors": sum(r[2] for r in results),
        "host": host,
    }


def main() -> None:
    """Run the benchmark matrix and print one line per configuration."""
    parser = argparse.ArgumentParser()
    parser.add_argument("--requests", type=int, default=2000)
    parser.add_argument("--only", choices=["sqlite", "postgresql"])
    parser.add_argument("--threads", type=int, default=32, help="gunicorn --threads")
    parser.add_argument(
        "--workers",
        type=int,
        default=1,
        help="gunicorn -w (the production setup is 1: Socket.IO without a message queue)",
    )
    args = parser.parse_args()
    targets = []
    with tempfile.TemporaryDirectory() as tmp:
        if args.only in (None, "sqlite"):
            targets.append(("sqlite", f"sqlite:///{tmp}/bench.sqlite3"))
        pg = os.environ.get("MOTCUA_TEST_POSTGRES_URL")
        if args.only in (None, "postgresql"):
            if pg:
                targets.append(("postgresql", pg))
            else:
                print("postgresql: skipped (set MOTCUA_TEST_POSTGRES_URL)")
        print(f"server: gunicorn -w {args.workers} --threads {args.threads}")
        print(
            f"{'db':<11}{'clients':>8}{'requests':>10}{'tickets/s':>11}{'p50 ms':>9}"
            f"{'p99 ms':>9}{'dupes':>7}{'errors':>8}"
        )
        for name, url in targets:
            port = free_port()
            server = start_server(url, port, Path(tmp), args.threads, args.workers)
            try:
                for clients in (1, 8):
                    total = args.requests if clients == 8 else args.requests // 4
                    r = run(port, clients, total)
                    print(
                        f"{name:<11}{r['clients']:>8}{r['requests']:>10}"
                        f"{r['tickets_per_s']:>11.0f}{r['p50_ms']:>9.1f}{r['p99_ms']:>9.1f}"
                        f"{r['duplicates']:>7}{r['errors']:>8}   host {r['host']}",
                        flush=True,
                    )
                if name == "sqlite":
                    r = run(port, 8, args.requests, probe=True)
                    print(
                        f"{'(healthz)':<11}{r['clients']:>8}{r['requests']:>10}"
                        f"{r['tickets_per_s']:>11.0f}{r['p50_ms']:>9.1f}{r['p99_ms']:>9.1f}"
                        f"{'-':>7}{r['errors']:>8}   host {r['host']}   <- same server "
                        "answering GET /healthz: the stack's ceiling",
                        flush=True,
                    )
            finally:
                server.terminate()
                server.wait(timeout=10)


if __name__ == "__main__":
    main()
