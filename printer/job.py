"""One job over a two-way byte link (TCP, USB, serial): check, send, and know it was printed.

``sendall()`` returning only means the operating system took the bytes. A job counts as
*printed* only when the printer answers a request that it handles **in order**, after every
byte before it, placed after the cut:

- ``process_id``: Epson's process ID response, ``GS ( H`` fn 48 (TM-T20II/III, TM-T88V/VI,
  TM-m30…): the printer answers ``37 22 d1 d2 d3 d4 00`` once everything before it is done;
- ``status``: ``GS r 1`` (transmit paper sensor status), which ESC/POS printers execute in
  the order received (unlike ``DLE EOT``, which is answered at once, ahead of queued data).
  Most compatibles (Xprinter, Rongta, generic 58 mm) support it; the answer also says
  whether the paper ran out;
- ``none``: the printer cannot confirm. After the job it is asked ``DLE EOT`` again (when
  ``check_status``): a printer that is alive and has paper gives ``sent``, never ``printed``.

No answer in time: the printer is asked why (``DLE EOT``) and the job fails with that reason
(paper out, cover open, offline) or ``unconfirmed``. A link that drops mid-job is ``closed``.
"""

from __future__ import annotations

import secrets
import time
from collections.abc import Callable
from dataclasses import dataclass

from printer.pace import Pace
from printer.status import (
    MESSAGES,
    JobOutcome,
    PrinterError,
    PrinterStatus,
    make_status,
    query_realtime_status,
    refuse_unless_printable,
)

CONFIRM_MODES = ("process_id", "status", "none")
PROCESS_ID_HEADER = b"\x37\x22"
GS_R_PAPER = b"\x1dr\x01"
_GS_R_PAPER_END = 0x0C


class LinkClosed(Exception):
    """The printer closed the link (or it was reset)."""


# write(bytes) sends everything or raises (TimeoutError, OSError, LinkClosed);
# read(timeout) returns what arrived within `timeout` seconds (b"" if nothing) or raises
# LinkClosed when the printer hung up.
LinkWrite = Callable[[bytes], object]
LinkRead = Callable[[float], bytes]


@dataclass(frozen=True)
class JobSettings:
    """The per-printer settings a job follows (from the backend's fields)."""

    check_status: bool = True
    status_timeout: float = 1.0
    confirm: str = "process_id"
    confirm_timeout: float = 0.0  # 0: from the printer's pace


def process_id_request(job_id: bytes) -> bytes:
    """``GS ( H`` pL=6 pH=0 fn=48 m=48 d1..d4: ask for ``job_id`` once all before is done."""
    return b"\x1d(H\x06\x00\x30\x30" + job_id


def new_job_id() -> bytes:
    """Four ASCII digits: a stale answer to an earlier job never confirms this one."""
    return f"{secrets.randbelow(10_000):04d}".encode()


def _status(
    read: LinkRead, write: LinkWrite, wait: float, timings: dict[str, float]
) -> PrinterStatus:
    """DLE EOT status; each answer waited for up to twice ``wait`` (a busy printer answers
    late, and asking again would only pair later answers with the wrong questions)."""
    slowest = 0.0

    def answer() -> bytes:
        nonlocal slowest
        started = time.monotonic()
        chunk = read(wait) or read(wait)
        if chunk:
            slowest = max(slowest, time.monotonic() - started)
        return chunk

    status = query_realtime_status(write, answer)
    if status.detail != "timeout":
        timings["status_s"] = max(timings.get("status_s", 0.0), slowest)
    return status


def _refusal(status: PrinterStatus) -> PrinterError:
    try:
        refuse_unless_printable(status)
    except PrinterError as exc:
        return exc
    return PrinterError("unconfirmed", MESSAGES["unconfirmed"], status)


def run_job(
    write: LinkWrite, read: LinkRead, data: bytes, settings: JobSettings, pace: Pace
) -> JobOutcome:
    """Check, send ``data`` and wait for the confirmation; PrinterError with the reason."""
    timings: dict[str, float] = {}
    status: PrinterStatus | None = None
    status_wait = pace.status_wait(settings.status_timeout)
    try:
        if settings.check_status:
            status = _status(read, write, status_wait, timings)
            refuse_unless_printable(status)
        job_id = new_job_id()
        request = {
            "process_id": process_id_request(job_id),
            "status": GS_R_PAPER,
        }.get(settings.confirm, b"")
        started = time.monotonic()
        try:
            write(data + request)
        except TimeoutError as exc:
            raise PrinterError("timeout", MESSAGES["timeout"], status, timings) from exc
        if not request:
            if settings.check_status:
                after = _status(read, write, status_wait, timings)
                if not after.can_print:
                    raise _refusal(after)
                status = after
            return JobOutcome(status, False, timings)
        deadline = started + pace.confirm_wait(len(data), settings.confirm_timeout)
        answer = _await(read, settings.confirm, job_id, deadline)
        if answer is not None:
            timings["confirm_s"] = time.monotonic() - started
            if settings.confirm == "status" and answer & _GS_R_PAPER_END:
                raise PrinterError("paper_out", MESSAGES["paper_out"], make_status("paper_out"))
            return JobOutcome(status, True, timings)
        after = _status(read, write, status_wait, {})
        error = _refusal(after)
        error.timings = timings
        raise error
    except LinkClosed as exc:
        raise PrinterError("closed", MESSAGES["closed"], status, timings) from exc
    except OSError as exc:  # reset or broken pipe while writing
        raise PrinterError("closed", MESSAGES["closed"], status, timings) from exc


def _await(read: LinkRead, mode: str, job_id: bytes, deadline: float) -> int | None:
    """Read until the confirmation arrives (its value: 0, or GS r's status byte) or time is up."""
    expected = PROCESS_ID_HEADER + job_id + b"\x00"
    buffer = b""
    while True:
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            return None
        chunk = read(min(remaining, 0.5))
        if not chunk:
            continue
        buffer += chunk
        if mode == "process_id":
            if expected in buffer:
                return 0
            buffer = buffer[-(len(expected) - 1) :]
        else:
            # GS r 1 answers one byte with bits 4-7 clear; DLE EOT answers have bit 4 set.
            for byte in buffer:
                if byte & 0xF0 == 0:
                    return byte
            buffer = b""
