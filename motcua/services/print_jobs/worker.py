"""The process's print worker: per-process state, named here, coordinated through the database.

What stays in each process (everything else is in ``print_jobs`` / ``printer_leases``):

- ``holder_id()``: this process's name as a claimer (host, pid and a random part: a restarted
  process is a new claimer, so its old claims are recovered like any dead process's);
- one ``PrintWorker`` per app (``app.extensions["motcua_print_worker"]``): a dispatcher thread
  that wakes on ``notify`` (a job queued by this process) or every ``PRINT_POLL_S`` seconds
  (jobs queued by other processes, printers whose holder died), and one driver thread per
  printer whose lease this process holds, alive while that printer has work.

A driver takes the printer's lease (``jobs.acquire_lease``), recovers what a dead holder left
(``jobs.recover_stale``), then claims, prints and concludes jobs one by one, each claim
renewing the lease for that job's budget (``printer.backends.job_budget``), and gives the
printer back when its queue is empty. The kiosk never waits on any of this.
"""

from __future__ import annotations

import logging
import os
import secrets
import socket
import threading
import time
import weakref
from typing import Any

from flask import Flask

from db import db
from motcua.services.print_jobs import jobs, printers
from printer.backends import PACE_KEY, job_budget, print_job
from printer.pace import Pace

log = logging.getLogger(__name__)

WORKER_KEY = "motcua_print_worker"
DEFAULT_POLL_S = 1.0
# A job older than PRINT_MAX_AGE_S (120 s) is not printed: the citizen has the number on the
# kiosk's screen, and a late ticket would only confuse the next person. Staff are told.
EXPIRED_TEXT = "Vé chờ in quá lâu nên không in nữa"
_holder: tuple[int, str] | None = None
_workers_lock = threading.Lock()


def holder_id() -> str:
    """This process's claimer name (recomputed after a fork)."""
    global _holder
    pid = os.getpid()
    if _holder is None or _holder[0] != pid:
        _holder = (pid, f"{socket.gethostname()[:60]}:{pid}:{secrets.token_hex(4)}")
    return _holder[1]


class PrintWorker:
    """The print worker of one app in this process: a dispatcher and per-printer drivers."""

    def __init__(self, app: Flask) -> None:
        """Bind to ``app`` (weakly: a worker never keeps an app alive)."""
        self._app = weakref.ref(app)
        self.poll_s = float(app.config.get("PRINT_POLL_S", DEFAULT_POLL_S))
        # Tests make hundreds of apps: theirs stop when idle; a server's never do.
        idle = app.config.get("PRINT_WORKER_IDLE_EXIT_S", 3.0 if app.testing else None)
        self.idle_exit_s = float(idle) if idle is not None else None
        self._wake = threading.Event()
        self._lock = threading.Lock()
        self._drivers: dict[str, threading.Thread] = {}
        self._dispatcher: threading.Thread | None = None
        self._stopped = False

    def notify(self) -> None:
        """A job was queued here: look now (and start the dispatcher if it is not running)."""
        self._wake.set()
        self.start()

    def start(self) -> None:
        """Start the dispatcher thread unless it runs."""
        with self._lock:
            if self._stopped or (self._dispatcher and self._dispatcher.is_alive()):
                return
            self._dispatcher = threading.Thread(
                target=self._dispatch, name="print-dispatcher", daemon=True
            )
            self._dispatcher.start()

    def stop(self, timeout: float = 5.0) -> None:
        """Stop looking for work; let the drivers finish their current job."""
        self._stopped = True
        self._wake.set()
        threads = [self._dispatcher, *self._drivers.values()]
        for thread in threads:
            if thread is not None and thread is not threading.current_thread():
                thread.join(timeout)

    @property
    def busy(self) -> bool:
        """Whether a driver of this process is printing."""
        with self._lock:
            return any(t.is_alive() for t in self._drivers.values())

    def _dispatch(self) -> None:
        idle_since = time.monotonic()
        while not self._stopped:
            app = self._app()
            if app is None:
                return
            try:
                with app.app_context():
                    keys = jobs.printers_with_work()
            except Exception:  # the database may be restarting: try again at the next poll
                log.exception("print worker could not read the job table")
                keys = []
            started = [self._drive_later(app, key) for key in keys]
            del app
            if any(started) or keys or self.busy:
                idle_since = time.monotonic()
            elif self.idle_exit_s is not None and time.monotonic() - idle_since > self.idle_exit_s:
                with self._lock:
                    self._dispatcher = None
                return
            self._wake.wait(self.poll_s)
            self._wake.clear()

    def _drive_later(self, app: Flask, key: str) -> bool:
        with self._lock:
            running = self._drivers.get(key)
            if running is not None and running.is_alive():
                return False
            thread = threading.Thread(
                target=self._drive,
                args=(app, key),
                name=f"print-driver-{key or 'default'}",
                daemon=True,
            )
            self._drivers[key] = thread
            thread.start()
            return True

    def _drive(self, app: Flask, key: str) -> None:
        holder = holder_id()
        with app.app_context():
            try:
                pace = jobs.acquire_lease(key, holder, jobs_budget(app, key, 30_000, None))
                if pace is None:
                    return  # another process drives this printer
                try:
                    jobs.recover_stale(key, holder)
                    while not self._stopped:
                        claimed = jobs.claim_next(key, holder, jobs_budget(app, key, 30_000, pace))
                        if claimed is None:
                            break
                        pace = self._print_one(app, claimed, holder, pace)
                finally:
                    jobs.release_lease(key, holder, pace)
            except Exception:
                log.exception("print driver for printer %r failed", key)
            finally:
                db.session.remove()
                self._wake.set()  # look again: a job may have come in while we were finishing

    def _print_one(self, app: Flask, claimed: jobs.ClaimedJob, holder: str, pace: Pace) -> Pace:
        if claimed.expired:
            jobs.conclude(
                claimed.id,
                holder,
                ok=False,
                confirmed=False,
                error_code="expired",
                message=str(EXPIRED_TEXT),
            )
            return pace
        if not jobs.mark_printing(claimed.id, holder):
            return pace
        cfg: dict[str, Any] = {**printers.printer_config(claimed.kiosk, app), PACE_KEY: pace}
        result = print_job(cfg, claimed.data, claimed.name)
        if result.timings:
            pace = pace.learn(result.timings, len(claimed.data))
        jobs.conclude(
            claimed.id,
            holder,
            ok=result.ok,
            confirmed=result.confirmed,
            error_code=result.error_code,
            message=result.message,
            pace=pace,
        )
        return pace


def jobs_budget(app: Flask, key: str, nbytes: int, pace: Pace | None) -> float:
    """The lease a job on printer ``key`` needs (its config's timeouts, its pace)."""
    kiosk = key or None
    return job_budget(printers.printer_config(kiosk, app), nbytes, pace)


def worker_for(app: Flask) -> PrintWorker:
    """The app's print worker in this process, created on first use."""
    with _workers_lock:
        worker = app.extensions.get(WORKER_KEY)
        if worker is None:
            worker = app.extensions[WORKER_KEY] = PrintWorker(app)
        return worker


def notify(app: Flask) -> None:
    """Wake this process's print worker (a job was queued)."""
    worker_for(app).notify()


def start_worker(app: Flask) -> None:
    """Start this process's print worker (servers call it at start; kiosks' pages do too)."""
    worker_for(app).start()


def stop_worker(app: Flask, timeout: float = 5.0) -> None:
    """Stop this process's print worker (shutdown, tests)."""
    worker = app.extensions.get(WORKER_KEY)
    if worker is not None:
        worker.stop(timeout)


def wait_for_prints(app: Flask, timeout: float = 10.0) -> bool:
    """Block until no job is queued, claimed or printing (CLI, tests, shutdown)."""
    deadline = time.monotonic() + timeout
    worker_for(app).notify()
    while True:
        with app.app_context():
            pending = jobs.unfinished_jobs()
        if not pending:
            return True
        if time.monotonic() > deadline:
            return False
        worker_for(app).start()
        time.sleep(0.05)
