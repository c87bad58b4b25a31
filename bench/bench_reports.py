"""Benchmark the reports on four years of a busy hall: 1,000,000 tickets on SQLite.

Generates (once; reused while the file matches) a database made by the real migrations and
filled with bulk ``executemany`` inserts (not the services): 1,000,000 tickets over four years
(~900 a weekday, Saturday mornings lighter), 20 counters, 24 officers who move between
counters, with their event log (issued, called, started, finished, no_show, cancelled,
expired, transferred, rating_skipped) and ratings. Then times, best of 3:

- the quarterly report grouped by area and by officer (target: 1 s or less each);
- a year's report as CSV and XLSX, and every ticket of a year as CSV (target: 5 s or less).

    .venv/bin/python bench/bench_reports.py [--db /tmp/motcua-bench-reports.sqlite3] [--fresh]
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import random
import sqlite3
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

TICKETS = 1_000_000
FIRST_DAY = dt.date(2022, 12, 1)
LAST_DAY = dt.date(2026, 11, 30)
COUNTERS = 20
OFFICERS = 24
SEED = 20261123
AREA_WEIGHTS = {"A": 30, "B": 25, "C": 12, "D": 8, "E": 10, "F": 4, "G": 4, "H": 7}
# Hall-time minutes of issue: morning peak 08:00–10:00, afternoon 13:30–15:30 (weights).
HOUR_WEIGHTS = {7: 6, 8: 16, 9: 17, 10: 12, 11: 3, 13: 7, 14: 13, 15: 10, 16: 5}
SATURDAY_HOURS = {7: 20, 8: 35, 9: 30, 10: 15}


def parse_args() -> argparse.Namespace:
    """Command-line options."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--db", default="/tmp/motcua-bench-reports.sqlite3")
    parser.add_argument("--fresh", action="store_true", help="generate the data again")
    parser.add_argument("--tickets", type=int, default=TICKETS)
    return parser.parse_args()


def make_app(path: Path) -> Any:
    """The app on the bench database."""
    from motcua import create_app

    return create_app(
        {
            "TESTING": True,
            "SECRET_KEY": "bench",
            "SQLALCHEMY_DATABASE_URI": f"sqlite:///{path}",
            "PASSWORD_HASH_METHOD": "pbkdf2:sha256:1000",
        }
    )


def prepare_schema(app: Any) -> dict[str, Any]:
    """Run the migrations, seed 8 areas, 20 counters and 24 officers; return their ids."""
    import sqlalchemy as sa

    from db import db
    from db.models import Counter, ServiceArea, User
    from motcua.cli import init_database
    from motcua.services import accounts, catalog

    with app.app_context():
        init_database()
        catalog.ensure_site("main", "TRUNG TÂM PHỤC VỤ HÀNH CHÍNH CÔNG", "PHƯỜNG BA ĐÌNH")
        prefixes = list(AREA_WEIGHTS)
        for number in range(1, COUNTERS + 1):
            served = [prefixes[(number - 1) % 8], prefixes[(number + 2) % 8]]
            catalog.add_counter("main", number, served)
        for i in range(1, OFFICERS + 1):
            accounts.create_user(
                f"canbo{i:02d}",
                full_name=f"Cán bộ số {i:02d}",
                role="officer",
                password="bench-password",
                position="Công chức",
            )
        areas = {a.prefix: a.id for a in db.session.scalars(sa.select(ServiceArea))}
        counters = {
            c.id: [a.prefix for a in c.areas] for c in db.session.scalars(sa.select(Counter))
        }
        officers = list(
            db.session.scalars(sa.select(User.id).where(User.role == "officer").order_by(User.id))
        )
        db.session.commit()
    return {"areas": areas, "counters": counters, "officers": officers}


def working_days() -> list[dt.date]:
    """Monday–Friday and Saturday (mornings) from FIRST_DAY to LAST_DAY."""
    days, day = [], FIRST_DAY
    while day <= LAST_DAY:
        if day.weekday() < 6:
            days.append(day)
        day += dt.timedelta(days=1)
    return days


def day_volumes(days: list[dt.date], total: int, rng: random.Random) -> list[int]:
    """Tickets per day adding up to ``total``: weekdays ~3x Saturdays, Mondays busiest."""
    weights = []
    for day in days:
        base = 0.3 if day.weekday() == 5 else (1.15 if day.weekday() == 0 else 1.0)
        weights.append(base * rng.uniform(0.8, 1.2))
    scale = total / sum(weights)
    counts = [int(w * scale) for w in weights]
    for i in range(total - sum(counts)):
        counts[i % len(counts)] += 1
    return counts


def minute_table(weights: dict[int, int]) -> list[int]:
    """Seconds after local midnight, one entry per weight unit (for fast sampling)."""
    table = []
    for hour, weight in weights.items():
        for _ in range(weight):
            table.append(hour * 3600)
    return table


def stamp(day_text: str, seconds: int) -> str:
    """A stored UTC timestamp: hall time minus 7 h (hall hours are after 07:00)."""
    s = seconds - 7 * 3600
    return f"{day_text} {s // 3600:02d}:{s % 3600 // 60:02d}:{s % 60:02d}.000000"


def generate(path: Path, total: int) -> dict[str, Any]:
    """Fill the database; returns the counts written."""
    app = make_app(path)
    ids = prepare_schema(app)
    from db import db

    with app.app_context():
        db.engine.dispose()
    rng = random.Random(SEED)
    days = working_days()
    volumes = day_volumes(days, total, rng)
    weekday_minutes, saturday_minutes = minute_table(HOUR_WEIGHTS), minute_table(SATURDAY_HOURS)
    prefixes = list(AREA_WEIGHTS)
    area_cum = list(AREA_WEIGHTS.values())
    counters_by_area: dict[str, list[int]] = {p: [] for p in prefixes}
    for cid, served in ids["counters"].items():
        for prefix in served:
            counters_by_area[prefix].append(cid)
    officers = ids["officers"]
    conn = sqlite3.connect(path)
    conn.execute("PRAGMA journal_mode=OFF")
    conn.execute("PRAGMA synchronous=OFF")
    conn.execute("PRAGMA cache_size=-400000")
    # Bulk load: drop the plain indexes of the three big tables, rebuild them at the end.
    indexes = conn.execute(
        "SELECT name, sql FROM sqlite_master WHERE type = 'index' AND sql IS NOT NULL "
        "AND tbl_name IN ('tickets', 'ticket_events', 'ratings')"
    ).fetchall()
    for name, _sql in indexes:
        conn.execute(f'DROP INDEX "{name}"')
    ticket_sql = (
        "INSERT INTO tickets (id, uuid, token, site_id, issue_area_id, area_id, business_day, "
        "number, code, status, issued_at, queued_at, first_called_at, called_at, started_at, "
        "finished_at, counter_id, officer_id, call_count, misses) "
        "VALUES (?,?,?,1,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)"
    )
    event_sql = (
        "INSERT INTO ticket_events (id, uuid, ticket_id, site_id, kind, at, actor_id, "
        "counter_id, area_id, detail) VALUES (?,?,?,1,?,?,?,?,?,?)"
    )
    rating_sql = (
        "INSERT INTO ratings (id, uuid, ticket_id, site_id, area_id, counter_id, officer_id, "
        "level, scale, reasons, comment, source, rated_at) VALUES (?,?,?,1,?,?,?,?,3,?,NULL,?,?)"
    )
    tid = eid = rid = 0
    counts = {"tickets": 0, "events": 0, "ratings": 0}
    reasons_json = json.dumps(["Chờ lâu"], ensure_ascii=False)
    started = time.perf_counter()
    for day, volume in zip(days, volumes, strict=True):
        day_text = day.isoformat()
        saturday = day.weekday() == 5
        minutes = saturday_minutes if saturday else weekday_minutes
        # The day's seating: officers rotate over the counters (they move between counters).
        shift = (day.toordinal() * 7) % len(officers)
        seat = {cid: officers[(i + shift) % len(officers)] for i, cid in enumerate(ids["counters"])}
        numbers = dict.fromkeys(prefixes, 0)
        tickets, events, ratings = [], [], []
        issue_times = sorted(rng.choice(minutes) + rng.randrange(3600) for _ in range(volume))
        for issued_s in issue_times:
            tid += 1
            prefix = rng.choices(prefixes, area_cum)[0]
            area = ids["areas"][prefix]
            numbers[prefix] += 1
            number = numbers[prefix]
            roll = rng.random()
            wait = int(rng.expovariate(1 / 660)) if not saturday else int(rng.expovariate(1 / 420))
            wait = min(wait, 5400)
            service = 60 + int(rng.lognormvariate(6.0, 0.55))
            counter = rng.choice(counters_by_area[prefix])
            officer = seat[counter]
            issued = stamp(day_text, issued_s)
            called = stamp(day_text, issued_s + wait)
            hex_id = f"{tid:032x}"
            uuid = f"{hex_id[:8]}-{hex_id[8:12]}-{hex_id[12:16]}-{hex_id[16:20]}-{hex_id[20:]}"
            ev = [(eid + 1, "issued", issued, None, None, area, None)]
            start_s = finish_s = None
            transferred = False
            if roll < 0.015:  # cancelled while waiting
                status, first, last_call, cid, oid, misses = "cancelled", None, None, None, None, 0
                finish_s = issued_s + wait // 2
                ev.append((0, "cancelled", stamp(day_text, finish_s), None, None, area, None))
            elif roll < 0.025:  # still waiting at the end of the day
                status, first, last_call, cid, oid, misses = "expired", None, None, None, None, 0
                finish_s = 17 * 3600 + 1800
                ev.append((0, "expired", stamp(day_text, finish_s), None, None, area, None))
            elif roll < 0.085:  # called twice, never came
                status, first, cid, oid, misses = "no_show", called, counter, officer, 2
                again = issued_s + wait + 300 + rng.randrange(600)
                last_call = stamp(day_text, again)
                finish_s = again + 120
                ev += [
                    (0, "called", called, officer, counter, area, None),
                    (0, "no_show", stamp(day_text, issued_s + wait + 120), officer, counter, area,
                     '{"misses": 1, "requeued": true}'),
                    (0, "called", last_call, officer, counter, area, None),
                    (0, "no_show", stamp(day_text, finish_s), officer, counter, area,
                     '{"misses": 2, "requeued": false}'),
                ]  # fmt: skip
            else:
                status, first, cid, oid, misses = "finished", called, counter, officer, 0
                last_call = called
                ev.append((0, "called", called, officer, counter, area, None))
                start_s = issued_s + wait + 30
                if roll > 0.97 and len(prefixes) > 1:  # transferred to another area first
                    transferred = True
                    other = prefixes[(prefixes.index(prefix) + 1) % len(prefixes)]
                    other_area = ids["areas"][other]
                    detail = json.dumps({"from_area_id": area, "to_area_id": other_area,
                                         "to_counter": None, "note": ""})  # fmt: skip
                    ev.append((0, "transferred", stamp(day_text, start_s + 60), officer,
                               counter, other_area, detail))  # fmt: skip
                    area = other_area
                    counter = rng.choice(counters_by_area[other])
                    cid, oid = counter, seat[counter]
                    recall_s = start_s + 60 + 300
                    last_call = stamp(day_text, recall_s)
                    ev.append((0, "called", last_call, oid, cid, area, None))
                    start_s = recall_s + 30
                finish_s = start_s + service
                ev.append((0, "started", stamp(day_text, start_s), oid, cid, area, None))
                ev.append((0, "finished", stamp(day_text, finish_s), oid, cid, area, None))
                r = rng.random()
                if r < 0.55:
                    level = 3 if r < 0.40 else (2 if r < 0.52 else 1)
                    rid += 1
                    source = "tablet" if rng.random() < 0.85 else "phone"
                    ratings.append(
                        (rid, f"r{rid:035d}", tid, area, cid, oid, level,
                         reasons_json if level == 1 else None, source,
                         stamp(day_text, finish_s + 20))
                    )  # fmt: skip
                elif r < 0.85:
                    ev.append((0, "rating_skipped", stamp(day_text, finish_s + 60), oid, cid,
                               area, '{"source": "tablet", "reason": "timeout"}'))  # fmt: skip
            tickets.append(
                (tid, uuid, f"tok{hex_id}", ids["areas"][prefix], area, day_text, number,
                 f"{prefix}{number:03d}", status, issued, issued, first, last_call,
                 stamp(day_text, start_s) if start_s else None,
                 stamp(day_text, finish_s) if finish_s is not None else None,
                 cid, oid, (2 if misses else (2 if transferred else 1)) if first else 0, misses)
            )  # fmt: skip
            for kind_row in ev:
                eid += 1
                _, kind, at, actor, ecounter, earea, detail = kind_row
                events.append((eid, f"e{eid:035d}", tid, kind, at, actor, ecounter, earea, detail))
        conn.executemany(ticket_sql, tickets)
        conn.executemany(event_sql, events)
        conn.executemany(rating_sql, ratings)
        counts["tickets"] += len(tickets)
        counts["events"] += len(events)
        counts["ratings"] += len(ratings)
        if day.day == 1 and day.month == 1:
            conn.commit()
            print(f"  … {day.year}: {counts['tickets']:,} tickets", flush=True)
    conn.commit()
    print(f"  … rebuilding {len(indexes)} indexes", flush=True)
    for _name, sql in indexes:
        conn.execute(sql)
    conn.commit()
    conn.execute("ANALYZE")
    conn.commit()
    conn.execute("PRAGMA journal_mode=WAL")
    conn.close()
    counts["seconds"] = round(time.perf_counter() - started, 1)
    return counts


def existing_count(path: Path) -> int:
    """Tickets already in the bench file (0 when there is none)."""
    if not path.exists():
        return 0
    try:
        conn = sqlite3.connect(path)
        n = conn.execute("SELECT count(*) FROM tickets").fetchone()[0]
        conn.close()
        return int(n)
    except sqlite3.Error:
        return 0


def best_of(fn: Callable[[], Any], runs: int = 3) -> tuple[float, list[float], Any]:
    """Run ``fn`` several times: (best seconds, all times, last result)."""
    times, result = [], None
    for _ in range(runs):
        start = time.perf_counter()
        result = fn()
        times.append(time.perf_counter() - start)
    return min(times), times, result


def main() -> None:
    """Generate (if needed) and time the reports; print the figures."""
    args = parse_args()
    path = Path(args.db)
    if args.fresh or existing_count(path) != args.tickets:
        for suffix in ("", "-wal", "-shm"):
            Path(str(path) + suffix).unlink(missing_ok=True)
        print(f"Generating {args.tickets:,} tickets into {path} …", flush=True)
        counts = generate(path, args.tickets)
        print(
            f"Generated {counts['tickets']:,} tickets, {counts['events']:,} events, "
            f"{counts['ratings']:,} ratings in {counts['seconds']} s "
            f"({path.stat().st_size / 1e6:.0f} MB)"
        )
    else:
        print(f"Reusing {path} ({existing_count(path):,} tickets)")

    from motcua.reports.exports import report_csv, report_xlsx
    from motcua.services import reports

    app = make_app(path)
    quarter = reports.period_for("quarter", dt.date(2026, 8, 15))
    year = reports.period_for("year", dt.date(2025, 6, 1))
    print(f"\nSQLite, Python {sys.version.split()[0]}; best of 3 (all runs in brackets)")
    with app.test_request_context():
        results: list[tuple[str, float, list[float], str]] = []
        for group in ("area", "officer"):
            best, times, report = best_of(lambda g=group: reports.build_report(quarter, g))
            results.append(
                (f"{quarter.name} report by {group}", best, times,
                 f"{report.total.issued:,} tickets, {len(report.rows)} rows")
            )  # fmt: skip
        best, times, report = best_of(lambda: reports.build_report(year, "day"))
        results.append((f"{year.name} report by day", best, times, f"{len(report.rows)} rows"))
        best, times, text = best_of(lambda: report_csv(reports.build_report(year, "area")))
        results.append((f"{year.name} report CSV", best, times, f"{len(text):,} chars"))
        best, times, data = best_of(lambda: report_xlsx(reports.build_report(year, "officer")))
        results.append((f"{year.name} report XLSX", best, times, f"{len(data):,} bytes"))

        def ticket_csv() -> int:
            size = 0
            for part in reports.iter_ticket_csv(year):
                size += len(part)
            return size

        best, times, size = best_of(ticket_csv)
        lines = report.total.issued
        results.append((f"{year.name} every ticket CSV", best, times, f"{size:,} chars"))
    for name, best, times, note in results:
        runs = ", ".join(f"{t:.3f}" for t in times)
        print(f"  {name:<34} {best:7.3f} s  [{runs}]  {note}")
    limits = {0: 1.0, 1: 1.0, 5: 5.0}
    ok = all(results[i][1] <= limit for i, limit in limits.items())
    print(
        f"\nTargets: quarterly by area and by officer <= 1 s, a year's CSV <= 5 s: "
        f"{'met' if ok else 'NOT met'} (median runs: "
        f"{statistics.median(results[0][2]):.3f} / {statistics.median(results[1][2]):.3f} / "
        f"{statistics.median(results[5][2]):.3f} s; {lines:,} tickets in the year)"
    )


if __name__ == "__main__":
    main()
