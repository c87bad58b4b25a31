"""A background print spool: the caller never waits for a slow or dead printer."""

from __future__ import annotations

import logging
import queue
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from PIL import Image

from printer.backends import PrintResult, print_job

logger = logging.getLogger(__name__)

OnDone = Callable[[str, PrintResult], object]

BUSY_MESSAGE = "Hàng đợi in đang đầy"
EXPIRED_MESSAGE = "Vé chờ in quá lâu nên không in nữa"
CLOSED_MESSAGE = "Hàng đợi in đã đóng"


@dataclass(frozen=True)
class _Job:
    name: str
    data: bytes
    config: Mapping[str, Any]
    preview: Image.Image | None
    on_done: OnDone | None
    submitted: float


class PrintSpool:
    """One worker thread that prints submitted jobs in order and reports each outcome.

    A job that waited longer than `max_age_s` is not printed (the citizen has the number on
    screen and a late ticket only confuses the next person); it is reported as "expired".
    """

    def __init__(
        self,
        name: str = "printer",
        maxsize: int = 100,
        max_age_s: float = 120.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        """Start the daemon worker thread; `maxsize` bounds the jobs waiting."""
        self.name = name
        self.max_age_s = max_age_s
        self._clock = clock
        self._jobs: queue.Queue[_Job | None] = queue.Queue(maxsize)
        self._closed = False
        self._thread = threading.Thread(target=self._run, name=f"print-spool-{name}", daemon=True)
        self._thread.start()

    @property
    def pending(self) -> int:
        """Return the number of jobs waiting (not counting the one being printed)."""
        return self._jobs.qsize()

    def submit(
        self,
        job_name: str,
        data: bytes,
        config: Mapping[str, Any],
        preview: Image.Image | None = None,
        on_done: OnDone | None = None,
    ) -> bool:
        """Queue a job and return at once; False (and on_done with "busy") when not queued."""
        job = _Job(job_name, data, dict(config), preview, on_done, self._clock())
        if self._closed:
            self._notify(job, PrintResult(False, job_name, "closed", CLOSED_MESSAGE))
            return False
        try:
            self._jobs.put_nowait(job)
        except queue.Full:
            logger.warning("print spool %s is full; job %s not queued", self.name, job_name)
            self._notify(job, PrintResult(False, job_name, "busy", BUSY_MESSAGE))
            return False
        return True

    def join(self, timeout: float | None = None) -> bool:
        """Wait until every queued job is done; return False if `timeout` ran out first."""
        deadline = None if timeout is None else time.monotonic() + timeout
        with self._jobs.all_tasks_done:
            while self._jobs.unfinished_tasks:
                remaining = None if deadline is None else deadline - time.monotonic()
                if remaining is not None and remaining <= 0:
                    return False
                self._jobs.all_tasks_done.wait(remaining)
        return True

    def close(self, timeout: float | None = None) -> bool:
        """Stop taking jobs, let the queued ones finish, stop the worker; False on timeout."""
        if not self._closed:
            self._closed = True
            try:
                self._jobs.put(None, timeout=timeout)
            except queue.Full:
                return False
        self._thread.join(timeout)
        return not self._thread.is_alive()

    def _run(self) -> None:
        while True:
            job = self._jobs.get()
            try:
                if job is None:
                    return
                self._notify(job, self._print(job))
            finally:
                self._jobs.task_done()

    def _print(self, job: _Job) -> PrintResult:
        waited = self._clock() - job.submitted
        if waited > self.max_age_s:
            logger.warning("job %s waited %.0f s; not printed", job.name, waited)
            return PrintResult(False, job.name, "expired", EXPIRED_MESSAGE)
        try:
            return print_job(job.config, job.data, job.name, job.preview)
        except Exception as exc:  # print_job does not raise; the worker must survive if it did
            logger.exception("print job %s crashed", job.name)
            return PrintResult(False, job.name, "error", str(exc))

    def _notify(self, job: _Job, result: PrintResult) -> None:
        if job.on_done is None:
            return
        try:
            job.on_done(job.name, result)
        except Exception:
            logger.exception("print callback for job %s failed", job.name)
