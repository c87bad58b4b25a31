"""Benchmark: render + encode one queue ticket, p50/p95 in ms and bytes per ticket.

Run: .venv/bin/python bench/bench_receipt.py [--iterations 200] [--png-dir docs]

Bytes are printed per kind of ticket (plain, priority, reprint; the worst usual one: a priority
reprint with the longest default area name; and an extreme one: a four-line area name and
twelve counters), for 80 and 58 mm.

Every iteration is a different ticket (code, waiting count, time, status URL), as at a kiosk,
so the caches only help with what really repeats from one ticket to the next. Wall-clock
percentiles depend on what else runs on the machine; the CPU time per ticket much less.
"""

from __future__ import annotations

import argparse
import dataclasses
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
        # A real status URL: a LAN address and a 24-character token (secrets.token_urlsafe(18)).
        status_url=f"http://192.168.1.10:8000/t/{n * 7919 % 10**10:010d}Xk3_pQ7-vW2z",
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


LONGEST_DEFAULT_AREA = "Hỗ trợ dịch vụ công trực tuyến – Trả kết quả"
EXTREME_AREA = (
    "Đất đai – Xây dựng – Đô thị – Giải quyết khiếu nại, tố cáo về đất đai "
    "và hỗ trợ thủ tục hành chính liên thông"
)


def byte_sizes(width: int, iterations: int) -> dict[str, float]:
    """Bytes per kind of ticket at `width` dots (medians over different tickets)."""
    kinds: dict[str, list[int]] = {"plain": [], "priority": [], "reprint": [], "worst": []}
    for n in range(iterations):
        plain = dataclasses.replace(ticket(n), priority_label=None)
        kinds["plain"].append(len(encode_receipt(plain, width)))
        priority = dataclasses.replace(plain, priority_label="Người cao tuổi")
        kinds["priority"].append(len(encode_receipt(priority, width)))
        kinds["reprint"].append(
            len(encode_receipt(dataclasses.replace(plain, reprint=True), width))
        )
        worst = dataclasses.replace(priority, reprint=True, area_name=LONGEST_DEFAULT_AREA)
        kinds["worst"].append(len(encode_receipt(worst, width)))
    extreme = dataclasses.replace(
        ticket(0),
        priority_label="Người cao tuổi",
        reprint=True,
        area_name=EXTREME_AREA,
        counters=[f"{i:02d}" for i in range(1, 13)],
    )
    out = {kind: statistics.median(sizes) for kind, sizes in kinds.items()}
    out["worst_max"] = max(kinds["worst"])
    out["extreme"] = len(encode_receipt(extreme, width))
    return out


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
    out.write("bytes per ticket (median of different tickets; 1 KB = 1024 bytes)\n")
    for width, label in ((WIDTH_80MM, "80 mm"), (WIDTH_58MM, "58 mm")):
        sizes = byte_sizes(width, min(args.iterations, 50))
        out.write(
            f"{label}: plain {sizes['plain'] / 1024:.1f} KB, "
            f"priority {sizes['priority'] / 1024:.1f} KB, "
            f"reprint {sizes['reprint'] / 1024:.1f} KB, "
            f"worst usual (priority reprint, longest default area) {sizes['worst'] / 1024:.1f} KB "
            f"(max {sizes['worst_max'] / 1024:.1f}), "
            f"extreme (4-line area, 12 counters) {sizes['extreme'] / 1024:.1f} KB\n"
        )
    if args.png_dir:
        write_pngs(args.png_dir)
        out.write(f"wrote {args.png_dir}/ticket-80mm.png and ticket-58mm.png\n")


if __name__ == "__main__":
    main()
