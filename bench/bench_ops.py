"""In-process CPU of the counter hot path: call_next, finish, counter_state, board_snapshot.

The hall of bench/bench_realtime.py (30 counters, one area each of A-H, 3-4 counters per area,
waiting queues of ~50 tickets per area) on a fresh SQLite file, or on PostgreSQL with
``--postgres URL`` (a database of its own: its schema is dropped and created). The services are
called directly in one thread, with no Socket.IO client connected; each operation's thread CPU
time (``time.thread_time``) and wall time are recorded after a warm-up.

    .venv/bin/python bench/bench_ops.py                 # 300 rounds on SQLite
    .venv/bin/python bench/bench_ops.py --rounds 500 --postgres postgresql+psycopg://...

One round = call_next and finish at one counter (round robin), then that counter's
counter_state and the board_snapshot, as the screens read them.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

COUNTERS = 30
AREAS = "ABCDEFGH"
QUEUE_PER_AREA = 50


def counter_area(number: int) -> str:
    """Counter n serves one area, round robin (as bench_realtime.py)."""
    return AREAS[(number - 1) % len(AREAS)]


def build(uri: str, rounds: int) -> Any:
    """The app on a fresh schema with the hall and its waiting tickets."""
    from db import db
    from motcua import create_app
    from motcua.services import accounts, catalog, tickets

    options: dict[str, Any] = {}
    if uri.startswith("postgresql"):
        options = {"connect_args": {"options": "-c synchronous_commit=off"}}
    app = create_app(
        {
            "SQLALCHEMY_DATABASE_URI": uri,
            "SECRET_KEY": "bench",
            "PASSWORD_HASH_METHOD": "pbkdf2:sha256:1000",
            "SQLALCHEMY_ENGINE_OPTIONS": options,
            "WORKING_HOURS": None,  # the bench runs at any hour
        }
    )
    with app.app_context():
        db.drop_all()
        db.create_all()
        catalog.seed_default_areas()
        catalog.ensure_site("main", "TRUNG TÂM PHỤC VỤ HÀNH CHÍNH CÔNG", "PHƯỜNG BA ĐÌNH")
        for number in range(1, COUNTERS + 1):
            catalog.add_counter("main", number, [counter_area(number)])
        accounts.create_user("canbo", full_name="Cán bộ đo", role="officer", password="x" * 12)
        served = sorted({counter_area(n) for n in range(1, COUNTERS + 1)})
        # Enough for every call, plus a standing queue of QUEUE_PER_AREA per area.
        per_area = rounds // len(served) + QUEUE_PER_AREA + 5
        for area in served:
            for _ in range(per_area):
                tickets.issue_ticket(area)
        db.session.remove()
    return app


def measure(app: Any, rounds: int, warmup: int) -> dict[str, tuple[list[float], list[float]]]:
    """Thread CPU and wall ms per operation."""
    import sqlalchemy as sa

    from db import db
    from db.models import Counter, User
    from motcua.services import board, tickets

    out: dict[str, tuple[list[float], list[float]]] = {
        name: ([], []) for name in ("call_next", "finish", "counter_state", "board_snapshot")
    }

    def timed(name: str, fn: Callable[..., Any], keep: bool, *args: Any, **kw: Any) -> Any:
        cpu0, wall0 = time.thread_time(), time.perf_counter()
        result = fn(*args, **kw)
        cpu, wall = time.thread_time() - cpu0, time.perf_counter() - wall0
        if keep:
            out[name][0].append(1000 * cpu)
            out[name][1].append(1000 * wall)
        return result

    with app.app_context():
        ids = list(db.session.scalars(sa.select(Counter.id).order_by(Counter.number)))
        officer = db.session.scalar(sa.select(User.id).where(User.username == "canbo"))
        db.session.remove()
    for i in range(warmup + rounds):
        keep = i >= warmup
        cid = ids[i % len(ids)]
        # One app context per operation, as a Socket.IO handler has.
        with app.app_context():
            timed("call_next", tickets.call_next, keep, cid, officer_id=officer)
        with app.app_context():
            timed("finish", tickets.finish, keep, cid, officer_id=officer)
        with app.app_context():
            timed("counter_state", tickets.counter_state, keep, cid)
        with app.app_context():
            timed("board_snapshot", board.board_snapshot, keep)
    return out


def main() -> None:
    """Command line."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=300)
    parser.add_argument("--warmup", type=int, default=30)
    parser.add_argument("--postgres", metavar="URL", help="a PostgreSQL database of its own")
    args = parser.parse_args()
    workdir = Path(tempfile.mkdtemp(prefix="motcua-bench-ops-"))
    uri = args.postgres or f"sqlite:///{workdir / 'bench.sqlite3'}"
    app = build(uri, args.rounds + args.warmup)
    results = measure(app, args.rounds, args.warmup)
    load = ", ".join(f"{x:.1f}" for x in os.getloadavg())
    print(f"machine: {os.cpu_count()} CPUs, load average {load} (other work shares it)")
    print(
        f"db: {uri.split(':')[0]}; {COUNTERS} counters, {len(AREAS)} areas, "
        f"~{QUEUE_PER_AREA}+ waiting per area; {args.rounds} rounds after {args.warmup} warm-up"
    )
    head = ("operation", "CPU p50", "CPU mean", "wall p50", "wall p99")
    print("{:>16}  {:>8} {:>9} {:>9} {:>9}  (ms)".format(*head))
    total = 0.0
    for name, (cpu, wall) in results.items():
        total += statistics.median(cpu)
        print(
            f"{name:>16}  {statistics.median(cpu):8.2f} {statistics.fmean(cpu):9.2f} "
            f"{statistics.median(wall):9.2f} {sorted(wall)[int(0.99 * (len(wall) - 1))]:9.2f}"
        )
    print(f"{'sum of p50 CPU':>16}  {total:8.2f}")
    with app.app_context():
        from db import db

        db.engine.dispose()


if __name__ == "__main__":
    main()
