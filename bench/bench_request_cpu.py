"""CPU of one kiosk tap through the REST API, in process (no network, no gunicorn).

Issues N tickets with ``POST /api/v1/tickets`` through Flask's test client on a fresh SQLite
file and prints the process CPU per request: the server-side cost of a tap, free of the
noise a loaded host puts into a throughput figure. Run it against another checkout by
putting that checkout first on PYTHONPATH (as the issue-12 comparison did):

    .venv/bin/python bench/bench_request_cpu.py [--requests 400]
    PYTHONPATH=/path/to/other/checkout .venv/bin/python bench/bench_request_cpu.py
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def main() -> None:
    """Warm up, then time N taps; print CPU per request."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=400)
    args = parser.parse_args()
    if str(ROOT) not in sys.path:
        sys.path.append(str(ROOT))
    from tests.conftest import build_app

    folder = tempfile.mkdtemp(prefix="motcua-bench-")
    app = build_app(f"sqlite:///{folder}/bench.sqlite3", WORKING_HOURS=None, GC_FREEZE=False)
    client = app.test_client()

    def tap(service: str) -> None:
        headers = {"Idempotency-Key": str(uuid.uuid4())}
        reply = client.post("/api/v1/tickets", json={"service": service}, headers=headers)
        assert reply.status_code == 201, reply.get_json()

    for _ in range(50):
        tap("A")
    started = time.process_time()
    for i in range(args.requests):
        tap("ABCE"[i % 4])
    per_request = (time.process_time() - started) / args.requests * 1000
    import motcua

    print(f"{Path(motcua.__file__).parent.parent}: CPU per request {per_request:.3f} ms")


if __name__ == "__main__":
    main()
