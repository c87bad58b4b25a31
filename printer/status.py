"""What a printer says: states, Vietnamese messages, and ESC/POS real-time status (DLE EOT).

Messages are Vietnamese for the kiosk and the admin screens; callers that translate should key
on ``error_code`` / ``state``, which are stable.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Literal

logger = logging.getLogger(__name__)

State = Literal["online", "paper_near_end", "paper_out", "offline", "error", "unknown"]


def N_(text: str) -> str:
    """Mark a printer word for the catalogue (scripts/i18n.sh); whoever shows it translates."""
    return text


MESSAGES: dict[str, str] = {
    "printed": N_("Máy in đã in xong vé"),
    "sent": N_("Đã gửi vé tới máy in (máy in này không xác nhận đã in)"),
    "unconfirmed": N_("Máy in không xác nhận đã in vé"),
    "closed": N_("Máy in ngắt kết nối giữa chừng"),
    "interrupted": N_("Việc in bị gián đoạn (máy chủ dừng giữa chừng)"),
    "busy": N_("Máy in đang bận in vé khác"),
    "online": N_("Máy in sẵn sàng"),
    "paper_near_end": N_("Máy in sắp hết giấy"),
    "paper_out": N_("Máy in hết giấy"),
    "cover_open": N_("Nắp máy in đang mở"),
    "offline": N_("Không kết nối được máy in"),
    "paused": N_("Máy in đang tạm dừng"),
    "timeout": N_("Máy in không phản hồi"),
    "error": N_("Máy in báo lỗi"),
    "unknown": N_("Không đọc được trạng thái máy in"),
    "config": N_("Cấu hình máy in không hợp lệ"),
    "missing_library": N_("Thiếu thư viện để kết nối máy in"),
}

# Real-time status (Epson ESC/POS, also answered by most compatibles): DLE EOT n.
DLE_EOT = b"\x10\x04"
STATUS_PRINTER = 1
STATUS_OFFLINE_CAUSE = 2
STATUS_ERROR_CAUSE = 3
STATUS_PAPER = 4
# Every status byte has bit 1 and bit 4 set, bits 0 and 7 clear.
_FIXED_MASK = 0x93
_FIXED_BITS = 0x12
_OFFLINE = 0x08  # n=1
_COVER_OPEN = 0x04  # n=2
_PAPER_STOP = 0x20  # n=2: printing stopped at paper end
_ERROR = 0x40  # n=2
_NEAR_END = 0x0C  # n=4
_PAPER_END = 0x60  # n=4

# States in which a job is still sent: "unknown" is a printer that answers but not in ESC/POS
# terms; refusing would make such printers unusable.
PRINTABLE_STATES = ("online", "paper_near_end", "unknown")


@dataclass(frozen=True)
class PrinterStatus:
    """What the printer reported: a stable `state`, a Vietnamese `message`, and a `detail`."""

    state: State
    message: str
    detail: str = ""

    @property
    def can_print(self) -> bool:
        """Return True when a job may be sent in this state."""
        return self.state in PRINTABLE_STATES


@dataclass(frozen=True)
class PrintResult:
    """The outcome of one job: ok, or a stable `error_code` with a Vietnamese `message`.

    ``confirmed``: the printer said it processed the whole job (``printed``); ok without it
    means the bytes went out and nothing was reported wrong, no more (``sent``).
    ``timings``: what the job taught about the printer's pace (``printer.pace``).
    """

    ok: bool
    job_name: str
    error_code: str | None = None
    message: str = MESSAGES["printed"]
    status: PrinterStatus | None = None
    duration_ms: float = field(default=0.0, compare=False)
    confirmed: bool = False
    timings: dict[str, float] = field(default_factory=dict, compare=False)


@dataclass(frozen=True)
class JobOutcome:
    """What a backend learned from a job it sent without error."""

    status: PrinterStatus | None = None
    confirmed: bool = False
    timings: dict[str, float] = field(default_factory=dict)


class PrinterError(Exception):
    """A job could not be printed; carries the error code and message for `PrintResult`."""

    def __init__(
        self,
        error_code: str,
        message: str,
        status: PrinterStatus | None = None,
        timings: dict[str, float] | None = None,
    ):
        """Create the error with its stable code and Vietnamese message."""
        super().__init__(message)
        self.error_code = error_code
        self.message = message
        self.status = status
        self.timings = timings or {}


def make_status(state: State, key: str | None = None, detail: str = "") -> PrinterStatus:
    """A status with the Vietnamese message of ``key`` (default: of the state)."""
    return PrinterStatus(state, MESSAGES[key or state], detail)


# --- real-time status over any byte channel -------------------------------------------------

Write = Callable[[bytes], object]
Read = Callable[[], bytes]


def _query(write: Write, read: Read, n: int) -> int | None:
    """Send DLE EOT n and return the status byte; None when no valid answer came in time."""
    write(DLE_EOT + bytes((n,)))
    try:
        answer = read()
    except TimeoutError:
        return None
    except OSError as exc:
        # pyusb raises USBTimeoutError (an OSError subclass on recent versions) on timeout.
        logger.debug("status read failed: %s", exc)
        return None
    return answer[-1] if answer else None


def query_realtime_status(write: Write, read: Read) -> PrinterStatus:
    """Ask the printer with DLE EOT 1 and 4 (then 2, 3 if offline) and interpret the bytes.

    No answer never reads as "paper OK" (python-escpos' `paper_status()` does that): silence
    is reported as offline with detail "timeout".
    """
    printer = _query(write, read, STATUS_PRINTER)
    if printer is None:
        return make_status("offline", "timeout", "timeout")
    if printer & _FIXED_MASK != _FIXED_BITS:
        return make_status("unknown", detail=f"bad answer 0x{printer:02x} to DLE EOT 1")
    paper = _query(write, read, STATUS_PAPER)
    if paper is None:
        return make_status("offline", "timeout", "timeout")
    if paper & _FIXED_MASK != _FIXED_BITS:
        return make_status("unknown", detail=f"bad answer 0x{paper:02x} to DLE EOT 4")
    if paper & _PAPER_END:
        return make_status("paper_out")
    if printer & _OFFLINE:
        cause = _query(write, read, STATUS_OFFLINE_CAUSE)
        if cause is None or cause & _FIXED_MASK != _FIXED_BITS:
            return make_status("offline", "paused", "offline")
        if cause & _PAPER_STOP:
            return make_status("paper_out")
        if cause & _COVER_OPEN:
            return make_status("offline", "cover_open", "cover_open")
        if cause & _ERROR:
            error = _query(write, read, STATUS_ERROR_CAUSE)
            detail = f"error cause 0x{error:02x}" if error is not None else "error"
            return make_status("error", detail=detail)
        return make_status("offline", "paused", "offline")
    if paper & _NEAR_END:
        return make_status("paper_near_end")
    return make_status("online")


def refuse_unless_printable(status: PrinterStatus) -> None:
    """Raise PrinterError unless a job may be sent in this state."""
    if status.can_print:
        return
    if status.state == "paper_out":
        code = "paper_out"
    elif status.detail == "timeout":
        code = "timeout"
    elif status.state == "error":
        code = "error"
    else:
        code = "offline"
    raise PrinterError(code, status.message, status)
