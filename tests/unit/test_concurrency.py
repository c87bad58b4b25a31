"""Concurrent kiosks and counters: 0 duplicate numbers, 0 gaps, no ticket called twice.

8 threads issue 250 tickets each while 4 counters with overlapping areas call and finish
for as long as the kiosks are issuing, on SQLite (a file, WAL) and on a real PostgreSQL.
"""

from __future__ import annotations

import threading
import time
from collections import Counter as Tally

import sqlalchemy as sa
from flask import Flask

from db import db
from db.models import Ticket, TicketEvent
from motcua.errors import QueueEmpty
from motcua.services import tickets
from tests.conftest import counter_id

ISSUERS, PER_ISSUER = 8, 250
CALLING_COUNTERS = (1, 2, 3, 6)  # A, A+B, B, H+E: overlapping areas


def _run(app: Flask) -> dict[str, list[str]]:
    """Issue and call concurrently; return the codes each counter called."""
    errors: list[BaseException] = []
    issuing_done = threading.Event()
    start = threading.Barrier(ISSUERS + len(CALLING_COUNTERS))
    called: dict[str, list[str]] = {str(n): [] for n in CALLING_COUNTERS}
    ids = {n: counter_id(app, n) for n in CALLING_COUNTERS}

    def issuer(i: int) -> None:
        try:
            with app.app_context():
                start.wait()
                for k in range(PER_ISSUER):
                    service = ("A", "B", "E")[(i + k) % 3]
                    tickets.issue_ticket(service, idempotency_key=f"t{i}-{k}")
                db.session.remove()
        except BaseException as exc:  # noqa: BLE001 - reported below
            errors.append(exc)

    def caller(number: int) -> None:
        try:
            with app.app_context():
                start.wait()
                while not issuing_done.is_set():
                    try:
                        view = tickets.call_next(ids[number])
                    except QueueEmpty:
                        time.sleep(0.005)  # an officer does not spin on an empty queue
                        continue
                    called[str(number)].append(view.code)
                    tickets.finish(ids[number])
                db.session.remove()
        except BaseException as exc:  # noqa: BLE001
            errors.append(exc)

    threads = [threading.Thread(target=issuer, args=(i,)) for i in range(ISSUERS)]
    callers = [threading.Thread(target=caller, args=(n,)) for n in CALLING_COUNTERS]
    for t in threads + callers:
        t.start()
    for t in threads:
        t.join(timeout=300)
    issuing_done.set()
    for t in callers:
        t.join(timeout=300)
    assert not errors, errors[:3]
    return called


def _check(app: Flask, called: dict[str, list[str]]) -> None:
    with app.app_context():
        rows = db.session.execute(
            sa.select(Ticket.code, Ticket.number, Ticket.issue_area_id, Ticket.status)
        ).all()
        call_events = Tally(
            db.session.scalars(sa.select(TicketEvent.ticket_id).where(TicketEvent.kind == "called"))
        )
    assert len(rows) == ISSUERS * PER_ISSUER
    codes = [r.code for r in rows]
    assert len(set(codes)) == len(codes), "duplicate ticket numbers"
    by_area: dict[int, list[int]] = {}
    for r in rows:
        by_area.setdefault(r.issue_area_id, []).append(r.number)
    for numbers in by_area.values():
        assert sorted(numbers) == list(range(1, len(numbers) + 1)), "gap in numbering"
    all_called = [c for codes_ in called.values() for c in codes_]
    assert len(all_called) == len(set(all_called)), "a ticket was called twice"
    assert max(call_events.values()) == 1
    assert len(call_events) == len(all_called)
    # Every counter really worked while the kiosks were issuing.
    assert all(len(codes_) >= 5 for codes_ in called.values()), {
        n: len(c) for n, c in called.items()
    }
    statuses = {r.code: r.status for r in rows}
    assert {statuses[c] for c in all_called} == {"finished"}
    assert sum(s == "waiting" for s in statuses.values()) == len(rows) - len(all_called)


def test_concurrent_issue_and_call_sqlite(app: Flask) -> None:
    """SQLite file database (WAL, BEGIN IMMEDIATE)."""
    _check(app, _run(app))


def test_concurrent_issue_and_call_postgresql(pg_app: Flask) -> None:
    """Real PostgreSQL (ON CONFLICT counter rows, FOR UPDATE SKIP LOCKED)."""
    _check(pg_app, _run(pg_app))


def test_the_write_lock_is_granted_in_arrival_order() -> None:
    """FairLock: waiters get the lock in the order they asked, even when the holder asks
    again at once; a wait that runs out gives up without taking it."""
    from db.engine import FairLock

    lock = FairLock()
    assert lock.acquire(timeout=1)
    order: list[int] = []

    def waiter(i: int) -> None:
        time.sleep(0.05 * i)  # arrive in order 0, 1, 2
        assert lock.acquire(timeout=5)
        order.append(i)
        lock.release()

    threads = [threading.Thread(target=waiter, args=(i,)) for i in range(3)]
    for t in threads:
        t.start()
    time.sleep(0.4)  # all three are queued
    lock.release()
    assert lock.acquire(timeout=5)  # the releasing thread asks again: it queues behind them
    order.append(99)
    lock.release()
    for t in threads:
        t.join()
    assert order == [0, 1, 2, 99]
    assert lock.acquire(timeout=1)
    assert not lock.acquire(timeout=0.05)  # held: the wait runs out
    lock.release()
    assert lock.acquire(timeout=0.05)  # and a given-up wait left nothing behind
    lock.release()


def test_a_catalog_reload_does_not_wait_for_a_writer(app: Flask) -> None:
    """The catalog cache is reloaded while another thread is inside a write transaction
    that will itself ask for the catalog: the reload must not queue for the write lock
    while holding the cache's lock (the lock-order deadlock that froze the kiosks for the
    30 s busy timeout under load)."""
    from motcua.services import catalog_cache

    with app.app_context():
        catalog_cache.snapshot()
    writer_in = threading.Event()
    writer_may_finish = threading.Event()
    reader: dict[str, object] = {}

    def writer() -> None:
        with app.app_context():
            db.session.execute(sa.update(Ticket).where(Ticket.id < 0).values(code=""))  # write lock
            writer_in.set()
            writer_may_finish.wait(60)
            catalog_cache.snapshot()  # a verb reads the catalog inside its transaction
            db.session.commit()
            db.session.remove()

    def read_catalog() -> None:
        with app.app_context():
            catalog_cache.forget()  # stale: this call reloads from the database
            started = time.monotonic()
            reader["sites"] = sorted(catalog_cache.snapshot().sites)
            reader["seconds"] = time.monotonic() - started
            db.session.remove()

    w = threading.Thread(target=writer)
    w.start()
    assert writer_in.wait(10)
    r = threading.Thread(target=read_catalog)
    r.start()
    r.join(10)
    writer_may_finish.set()
    w.join(40)
    assert not r.is_alive() and not w.is_alive()
    assert reader["sites"] == ["main"]
    assert reader["seconds"] < 5, reader  # it did not wait for the writer's commit
