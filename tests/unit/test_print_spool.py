"""The print spool: the caller never waits for the printer, and always hears the outcome."""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from printer.backends import PrintResult
from printer.spool import PrintSpool
from tests.support.fake_printer import FakePrinter


class Outcomes:
    """Collects (job_name, PrintResult) pairs from spool callbacks, thread-safely."""

    def __init__(self) -> None:
        """Start empty."""
        self.results: list[tuple[str, PrintResult]] = []
        self._changed = threading.Condition()

    def __call__(self, job_name: str, result: PrintResult) -> None:
        """Record one outcome."""
        with self._changed:
            self.results.append((job_name, result))
            self._changed.notify_all()

    def wait(self, count: int, timeout: float = 5.0) -> bool:
        """Wait until `count` outcomes have arrived."""
        with self._changed:
            return self._changed.wait_for(lambda: len(self.results) >= count, timeout)


@pytest.fixture
def spool() -> Iterator[PrintSpool]:
    """A spool closed after the test."""
    spool = PrintSpool("test")
    yield spool
    spool.close(timeout=10)


def test_submit_returns_at_once_when_the_printer_hangs(spool: PrintSpool) -> None:
    """A printer that never answers does not block submit; the callback gets the failure."""
    outcomes = Outcomes()
    with FakePrinter("silent") as fake:
        config = {**fake.config, "status_timeout": 0.5}
        started = time.monotonic()
        for n in range(3):
            assert spool.submit(f"A00{n}", b"\x1b@ticket", config, on_done=outcomes)
        assert time.monotonic() - started < 0.3  # one status timeout alone is 0.5 s
        assert outcomes.wait(3)
    assert [name for name, _ in outcomes.results] == ["A000", "A001", "A002"]
    assert all(not r.ok and r.error_code == "timeout" for _, r in outcomes.results)


def test_jobs_print_in_order_and_report_success(spool: PrintSpool, tmp_path: Path) -> None:
    """Jobs go to the printer in submission order; each callback says ok."""
    outcomes = Outcomes()
    config = {"backend": "file", "folder": str(tmp_path)}
    for n in range(5):
        spool.submit(f"job{n}", bytes([n]) * 10, config, on_done=outcomes)
    assert spool.join(timeout=5)
    assert [name for name, _ in outcomes.results] == [f"job{n}" for n in range(5)]
    assert all(result.ok for _, result in outcomes.results)
    assert (tmp_path / "job3.bin").read_bytes() == bytes([3]) * 10


def test_network_job_through_the_spool_is_byte_exact(spool: PrintSpool) -> None:
    """The spool hands the bytes to the backend unchanged."""
    outcomes = Outcomes()
    data = bytes(range(256)) * 40
    with FakePrinter("ok") as fake:
        spool.submit("B001", data, fake.config, on_done=outcomes)
        assert outcomes.wait(1)
        assert fake.wait_for(1)
        assert fake.jobs == [data]
    assert outcomes.results[0][1].ok


def test_callback_errors_are_logged_not_raised(
    spool: PrintSpool, caplog: pytest.LogCaptureFixture
) -> None:
    """A failing callback is logged and the worker goes on with the next job."""
    outcomes = Outcomes()

    def broken(job_name: str, result: PrintResult) -> None:
        raise RuntimeError("callback bug")

    with caplog.at_level(logging.ERROR, logger="printer.spool"):
        spool.submit("first", b"x", {"backend": "dummy"}, on_done=broken)
        spool.submit("second", b"x", {"backend": "dummy"}, on_done=outcomes)
        assert outcomes.wait(1)
    assert outcomes.results[0][0] == "second"
    assert any("first" in record.getMessage() for record in caplog.records)


def test_full_queue_refuses_and_reports_busy() -> None:
    """When the queue is full, submit returns False and the callback says busy."""
    spool = PrintSpool("small", maxsize=1)
    started, release = threading.Event(), threading.Event()
    outcomes = Outcomes()

    def block(job_name: str, result: PrintResult) -> None:
        started.set()
        release.wait(5)

    try:
        assert spool.submit("1", b"x", {"backend": "dummy"}, on_done=block)
        assert started.wait(5)  # the worker is busy with job 1
        assert spool.submit("2", b"x", {"backend": "dummy"}, on_done=outcomes)
        assert not spool.submit("3", b"x", {"backend": "dummy"}, on_done=outcomes)
        assert outcomes.results[0][0] == "3"
        assert outcomes.results[0][1].error_code == "busy"
    finally:
        release.set()
        assert spool.close(timeout=5)
    assert [name for name, _ in outcomes.results] == ["3", "2"]


def test_jobs_that_waited_too_long_are_not_printed(tmp_path: Path) -> None:
    """A job still queued after max_age_s is reported as expired instead of printed late."""
    now = [0.0]
    spool = PrintSpool("aging", max_age_s=60, clock=lambda: now[0])
    started, release = threading.Event(), threading.Event()
    outcomes = Outcomes()
    config = {"backend": "file", "folder": str(tmp_path)}

    def block(job_name: str, result: PrintResult) -> None:
        started.set()
        release.wait(5)

    try:
        spool.submit("early", b"x", config, on_done=block)
        assert started.wait(5)
        spool.submit("late", b"x", config, on_done=outcomes)
        now[0] = 61.0
        release.set()
        assert outcomes.wait(1)
    finally:
        release.set()
        spool.close(timeout=5)
    assert outcomes.results[0][1].error_code == "expired"
    assert not (tmp_path / "late.bin").exists()


def test_close_stops_the_worker_and_refuses_new_jobs() -> None:
    """close() finishes queued jobs, stops the thread; later submits report closed."""
    spool = PrintSpool("closing")
    outcomes = Outcomes()
    spool.submit("before", b"x", {"backend": "dummy"}, on_done=outcomes)
    assert spool.close(timeout=5)
    assert spool.close(timeout=5)  # idempotent
    assert not spool.submit("after", b"x", {"backend": "dummy"}, on_done=outcomes)
    assert [(name, r.ok, r.error_code) for name, r in outcomes.results] == [
        ("before", True, None),
        ("after", False, "closed"),
    ]
