"""Benchmark: render + encode one queue ticket, p50/p95 in ms and bytes per ticket.

Run: .venv/bin/python bench/bench_receipt.py [--iterations 200] [--png-dir docs]

Every iteration is a different ticket (code, waiting count, time, status URL), as at a kiosk,
so the caches only help with what really repeats from one ticket to the next. Wall-clock
percentiles depend on what else runs on the machine; the CPU time per ticket much less.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from printer.receipt import (  # noqa: E402 - after the path set-up, for running as a script
    WIDTH_58MM,
    WIDTH_80MM,
    Receipt,
    encode_receipt,
)
from tests.support.escpos_decode import decode  # noqa: E402

AREAS = ["Tư pháp – Hộ tịch", "Chứng thực", "Đất đai – Xây dựng – Đô thị", "Văn hóa – Xã hội"]
START = datetime(2026, 11, 23, 0, 30, 0, tzinfo=UTC)


def ticket(n: int) -> Receipt:
    """Return the n-th ticket of a busy morning."""
    area = n % len(AREAS)
    return Receipt(
        hall_name="Trung tâm Phục vụ hành chính công",
        unit_name="Phường Ba Đình",
        code=f"{'ABCE'[area]}{n % 1000 + 1:03d}",
        area_name=AREAS[area],
        counters=[str(area * 2 + 1), str(area * 2 + 2)],
        waiting=n % 37,
        issued_at=START + timedelta(seconds=17 * n),
        status_url=f"https://hall.example.vn/t/{n * 7919 % 10**10:010d}",
        priority_label="Người cao tuổi" if n % 10 == 0 else None,
    )


def percentile(values: list[float], fraction: float) -> float:
    """Return the nearest-rank percentile of `values`."""
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(fraction * (len(ordered) - 1))))]


def bench(width: int, iterations: int) -> dict[str, float]:
    """Time render + encode for `iterations` different tickets at `width` dots."""
    started = time.perf_counter()
    encode_receipt(ticket(10_000), width)
    first_ms = (time.perf_counter() - started) * 1000
    times: list[float] = []
    cpu: list[float] = []
    sizes: list[int] = []
    plain_sizes: list[int] = []
    for n in range(iterations):
        receipt = ticket(n)
        started, started_cpu = time.perf_counter(), time.thread_time()
        data = encode_receipt(receipt, width)
        times.append((time.perf_counter() - started) * 1000)
        cpu.append((time.thread_time() - started_cpu) * 1000)
        sizes.append(len(data))
        if receipt.priority_label is None:
            plain_sizes.append(len(data))
    return {
        "first_ms": first_ms,
        "p50_ms": percentile(times, 0.50),
        "p95_ms": percentile(times, 0.95),
        "cpu_p50_ms": percentile(cpu, 0.50),
        "bytes_median": statistics.median(plain_sizes),
        "bytes_max": max(sizes),
    }


def write_pngs(folder: Path) -> None:
    """Write the docs' ticket images, decoded from the real ESC/POS bytes."""
    sample = Receipt(
        hall_name="Trung tâm Phục vụ hành chính công",
        unit_name="Phường Ba Đình",
        code="A012",
        area_name="Tư pháp – Hộ tịch",
        counters=["1", "2"],
        waiting=5,
        issued_at=datetime(2026, 11, 21, 1, 15, 3, tzinfo=UTC),
        status_url="https://hall.example.vn/t/01JD8X9ZK3",
    )
    for width, name in ((WIDTH_80MM, "ticket-80mm.png"), (WIDTH_58MM, "ticket-58mm.png")):
        decode(encode_receipt(sample, width)).page(width).save(folder / name, optimize=True)


def main() -> None:
    """Run the benchmark and write its figures to stdout."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--iterations", type=int, default=200)
    parser.add_argument("--png-dir", type=Path, help="also write the docs' ticket PNGs here")
    args = parser.parse_args()
    out = sys.stdout
    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
    out.write(
        f"render+encode, {args.iterations} different tickets each "
        f"({os.cpu_count()} CPUs, load average {load:.1f})\n"
    )
    for width, label in ((WIDTH_80MM, "80 mm"), (WIDTH_58MM, "58 mm")):
        figures = bench(width, args.iterations)
        out.write(
            f"{label} ({width} dots): p50 {figures['p50_ms']:.1f} ms, "
            f"p95 {figures['p95_ms']:.1f} ms, CPU p50 {figures['cpu_p50_ms']:.1f} ms, "
            f"first (cold) {figures['first_ms']:.0f} ms; "
            f"bytes median {figures['bytes_median']:.0f}, max {figures['bytes_max']:.0f}\n"
        )
    if args.png_dir:
        write_pngs(args.png_dir)
        out.write(f"wrote {args.png_dir}/ticket-80mm.png and ticket-58mm.png\n")


if __name__ == "__main__":
    main()
