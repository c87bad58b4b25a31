"""The print job table on SQLite and PostgreSQL: one driver per printer, each job concluded
once, a dead process's jobs recovered (requeued if untouched, failed if maybe on paper)."""

from __future__ import annotations

import datetime as dt
import threading
import time
from collections import Counter

import sqlalchemy as sa
from flask import Flask

from db import db
from db.models import PrintJob
from motcua.services import kiosk as kiosk_service
from motcua.services import print_jobs, tickets
from motcua.services.print_jobs import jobs
from tests.conftest import T0

KEY = "sanh-1"


def queue_jobs(app: Flask, count: int) -> None:
    """``count`` tickets with a queued job each on printer sanh-1 (no worker runs)."""
    app.config["PRINTERS"] = {KEY: {"backend": "dummy"}}
    with app.app_context():
        for n in range(count):
            view = tickets.issue_ticket("A", now=T0 + dt.timedelta(seconds=n))
            ticket = jobs.ticket_by_token(view.token)
            jobs._new_job(ticket, KEY, KEY, "issue", b"\x1b@", T0)
        db.session.commit()


def states(app: Flask) -> list[str]:
    """Every job's state, oldest first."""
    with app.app_context():
        return list(db.session.scalars(sa.select(PrintJob.state).order_by(PrintJob.id)))


def test_two_processes_never_drive_one_printer_and_each_job_ends_once(any_app: Flask) -> None:
    """Four claimers race for one printer: one at a time prints, every job concluded once."""
    app = any_app
    queue_jobs(app, 12)
    driving: list[str] = []
    most = [0]
    done: Counter[int] = Counter()
    lock = threading.Lock()

    def claimer(name: str) -> None:
        with app.app_context():
            for _ in range(40):
                if jobs.acquire_lease(KEY, name, 30, now=T0) is None:
                    time.sleep(0.005)
                    continue
                while (job := jobs.claim_next(KEY, name, 30, max_age_s=1e9, now=T0)) is not None:
                    assert jobs.mark_printing(job.id, name)
                    with lock:
                        driving.append(name)
                        most[0] = max(most[0], len(driving))
                    time.sleep(0.002)  # the printer prints
                    with lock:
                        driving.remove(name)
                    ended = jobs.conclude(
                        job.id, name, ok=True, confirmed=True, error_code=None, message=None, now=T0
                    )
                    assert ended is not None
                    done[job.id] += 1
                jobs.release_lease(KEY, name)
            db.session.remove()

    threads = [threading.Thread(target=claimer, args=(f"p{n}",)) for n in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert most[0] == 1
    assert len(done) == 12 and set(done.values()) == {1}
    assert states(app) == ["printed"] * 12


def test_a_dead_holders_jobs_are_recovered_and_never_recorded_twice(any_app: Flask) -> None:
    """A dies holding job 1 (printing) and job 2 (claimed): after its lease, B takes over:
    job 1 fails as interrupted (staff told), job 2 is printed by B; A's late word is ignored."""
    app = any_app
    queue_jobs(app, 2)
    with app.app_context():
        assert jobs.acquire_lease(KEY, "A", 30, now=T0) is not None
        first = jobs.claim_next(KEY, "A", 30, max_age_s=1e9, now=T0)
        assert first is not None and jobs.mark_printing(first.id, "A")
        second = jobs.claim_next(KEY, "A", 30, max_age_s=1e9, now=T0)
        assert second is not None
        assert jobs.acquire_lease(KEY, "B", 30, now=T0 + dt.timedelta(seconds=29)) is None
        later = T0 + dt.timedelta(seconds=31)
        assert jobs.printers_with_work(now=later) == [KEY]
        assert jobs.acquire_lease(KEY, "B", 30, now=later) is not None
        assert jobs.recover_stale(KEY, "B", now=later) == 2
        again = jobs.claim_next(KEY, "B", 30, max_age_s=1e9, now=later)
        assert again is not None and again.id == second.id
        assert jobs.mark_printing(again.id, "B")
        ok = {"ok": True, "confirmed": True, "error_code": None, "message": None}
        assert jobs.conclude(again.id, "B", **ok, now=later) is not None
        # A wakes up: neither of its jobs is its own any more.
        assert jobs.conclude(first.id, "A", **ok, now=later) is None
        assert jobs.conclude(second.id, "A", **ok, now=later) is None
        (alert,) = print_jobs.open_alerts()
        assert alert["error_code"] == "interrupted" and alert["id"] == first.uuid
    assert states(app) == ["print_failed", "printed"]


def test_a_ticket_gets_one_paper_however_many_taps_ask(any_app: Flask) -> None:
    """Two taps with one idempotency key: the second finds the ticket committed but (before
    the first request queued it) no job, and queues one; the first's own submit then finds
    that job instead of printing a second paper. Then both at once, from threads."""
    any_app.config["PRINTERS"] = {KEY: {"backend": "dummy"}}
    with any_app.app_context():
        # The first request has committed its ticket and not yet queued the job.
        first = tickets.issue_ticket("A", idempotency_key="tap-1", kiosk=KEY)
        second = kiosk_service.issue_at_kiosk("A", idempotency_key="tap-1", kiosk=KEY)
        assert second["ticket"]["code"] == first.code and second["print"]["state"] == "printing"
        late = print_jobs.submit(first, "TRUNG TÂM", None, KEY, "issue")  # the first's turn
        assert late.state == "printing"
        # Two requests racing from the start, through the kiosk service.
        barrier = threading.Barrier(2)
        answers: list[str] = []

        def tap() -> None:
            with any_app.app_context():
                barrier.wait()
                answers.append(
                    kiosk_service.issue_at_kiosk("B", idempotency_key="tap-2", kiosk=KEY)["ticket"][
                        "code"
                    ]
                )
                db.session.remove()

        threads = [threading.Thread(target=tap) for _ in range(2)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(30)
        assert answers == ["B001", "B001"]
        assert print_jobs.wait_for_prints(any_app)
        per_ticket = Counter(
            db.session.scalars(sa.select(PrintJob.ticket_id).where(PrintJob.kind == "issue"))
        )
    assert sorted(per_ticket.values()) == [1, 1], per_ticket
