"""Printer backends: open, (check status,) print, close per job, with short timeouts.

A backend is chosen by a plain config dict, e.g. ``{"backend": "network", "host": "10.0.0.9"}``:

- ``file`` (default): ``folder``; writes ``<job>.bin`` (the raw bytes) and ``<job>.png`` (a
  preview) per job. For development, kiosks without a printer and tests.
- ``network``: ``host``, ``port`` (9100), ``timeout`` (3 s, connect and send),
  ``status_timeout`` (1 s per status answer), ``check_status`` (True: ask DLE EOT first).
- ``usb``: ``vendor_id``, ``product_id`` (ints or "0x04b8" strings), optional ``in_ep``,
  ``out_ep``, ``timeout``, ``check_status``. Needs pyusb.
- ``serial``: ``devfile``, ``baudrate`` (9600), ``timeout``, ``check_status``. Needs pyserial.
- ``cups``: ``printer`` (queue name); sends the bytes raw with ``lp``. Paper state unknown.
- ``dummy``: prints nothing; ``state`` (default "online") simulates a printer state.

Messages are Vietnamese for the kiosk and the admin screens; callers that translate should key
on ``error_code`` / ``state``, which are stable.
"""

from __future__ import annotations

import logging
import re
import shutil
import socket
import subprocess
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from PIL import Image

from printer.raster import decode_raster

logger = logging.getLogger(__name__)

State = Literal["online", "paper_near_end", "paper_out", "offline", "error", "unknown"]
BACKENDS = ("file", "network", "usb", "serial", "cups", "dummy")

DEFAULT_PORT = 9100
DEFAULT_TIMEOUT = 3.0
DEFAULT_STATUS_TIMEOUT = 1.0

MESSAGES: dict[str, str] = {
    "printed": "Đã gửi vé tới máy in",
    "online": "Máy in sẵn sàng",
    "paper_near_end": "Máy in sắp hết giấy",
    "paper_out": "Máy in hết giấy",
    "cover_open": "Nắp máy in đang mở",
    "offline": "Không kết nối được máy in",
    "paused": "Máy in đang tạm dừng",
    "timeout": "Máy in không phản hồi",
    "error": "Máy in báo lỗi",
    "unknown": "Không đọc được trạng thái máy in",
    "config": "Cấu hình máy in không hợp lệ",
    "missing_library": "Thiếu thư viện để kết nối máy in",
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
    """The outcome of one job: ok, or a stable `error_code` with a Vietnamese `message`."""

    ok: bool
    job_name: str
    error_code: str | None = None
    message: str = MESSAGES["printed"]
    status: PrinterStatus | None = None
    duration_ms: float = field(default=0.0, compare=False)


class PrinterError(Exception):
    """A job could not be printed; carries the error code and message for `PrintResult`."""

    def __init__(self, error_code: str, message: str, status: PrinterStatus | None = None):
        """Create the error with its stable code and Vietnamese message."""
        super().__init__(message)
        self.error_code = error_code
        self.message = message
        self.status = status


def _status(state: State, key: str | None = None, detail: str = "") -> PrinterStatus:
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
        return _status("offline", "timeout", "timeout")
    if printer & _FIXED_MASK != _FIXED_BITS:
        return _status("unknown", detail=f"bad answer 0x{printer:02x} to DLE EOT 1")
    paper = _query(write, read, STATUS_PAPER)
    if paper is None:
        return _status("offline", "timeout", "timeout")
    if paper & _FIXED_MASK != _FIXED_BITS:
        return _status("unknown", detail=f"bad answer 0x{paper:02x} to DLE EOT 4")
    if paper & _PAPER_END:
        return _status("paper_out")
    if printer & _OFFLINE:
        cause = _query(write, read, STATUS_OFFLINE_CAUSE)
        if cause is None or cause & _FIXED_MASK != _FIXED_BITS:
            return _status("offline", "paused", "offline")
        if cause & _PAPER_STOP:
            return _status("paper_out")
        if cause & _COVER_OPEN:
            return _status("offline", "cover_open", "cover_open")
        if cause & _ERROR:
            error = _query(write, read, STATUS_ERROR_CAUSE)
            detail = f"error cause 0x{error:02x}" if error is not None else "error"
            return _status("error", detail=detail)
        return _status("offline", "paused", "offline")
    if paper & _NEAR_END:
        return _status("paper_near_end")
    return _status("online")


def _refuse_unless_printable(status: PrinterStatus) -> None:
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


# --- backends ----------------------------------------------------------------------------------


def _float(config: Mapping[str, Any], key: str, default: float) -> float:
    try:
        return float(config.get(key, default))
    except (TypeError, ValueError) as exc:
        raise PrinterError("error", f"{MESSAGES['config']}: {key}") from exc


def _int(config: Mapping[str, Any], key: str, default: int | None = None) -> int:
    value = config.get(key, default)
    if value is None:
        raise PrinterError("error", f"{MESSAGES['config']}: thiếu {key}")
    try:
        return int(value, 0) if isinstance(value, str) else int(value)
    except (TypeError, ValueError) as exc:
        raise PrinterError("error", f"{MESSAGES['config']}: {key}") from exc


def _safe_name(job_name: str) -> str:
    return re.sub(r"[^A-Za-z0-9._-]+", "_", job_name).strip("._")[:80] or "job"


def _file_folder(config: Mapping[str, Any]) -> Path:
    folder = config.get("folder") or config.get("path")
    if not folder:
        raise PrinterError("error", f"{MESSAGES['config']}: thiếu folder")
    return Path(folder)


def _print_file(
    config: Mapping[str, Any], data: bytes, job_name: str, preview: Image.Image | None
) -> PrinterStatus:
    folder = _file_folder(config)
    try:
        folder.mkdir(parents=True, exist_ok=True)
        name = _safe_name(job_name)
        (folder / f"{name}.bin").write_bytes(data)
        image = preview if preview is not None else decode_raster(data)
        if image is not None:
            image.save(folder / f"{name}.png")
    except OSError as exc:
        raise PrinterError("error", f"{MESSAGES['error']}: {exc}") from exc
    return _status("online")


def _status_file(config: Mapping[str, Any]) -> PrinterStatus:
    folder = _file_folder(config)
    if folder.is_dir() or not folder.exists():
        return _status("online", detail=str(folder))
    return _status("error", detail=f"{folder} is not a folder")


def _connect(config: Mapping[str, Any]) -> socket.socket:
    host = config.get("host")
    if not host:
        raise PrinterError("error", f"{MESSAGES['config']}: thiếu host")
    port = _int(config, "port", DEFAULT_PORT)
    timeout = _float(config, "timeout", DEFAULT_TIMEOUT)
    try:
        return socket.create_connection((str(host), port), timeout=timeout)
    except OSError as exc:  # refused, unreachable, connect timeout, DNS failure
        logger.info("printer %s:%s unreachable: %s", host, port, exc)
        raise PrinterError("offline", MESSAGES["offline"], _status("offline")) from exc


def _socket_status(sock: socket.socket, config: Mapping[str, Any]) -> PrinterStatus:
    status_timeout = _float(config, "status_timeout", DEFAULT_STATUS_TIMEOUT)
    sock.settimeout(status_timeout)

    def read() -> bytes:
        return sock.recv(64)  # an answer is one byte; take what is there

    try:
        return query_realtime_status(sock.sendall, read)
    except OSError as exc:  # reset or broken pipe while asking
        return _status("offline", detail=str(exc))
    finally:
        sock.settimeout(_float(config, "timeout", DEFAULT_TIMEOUT))


def _print_network(
    config: Mapping[str, Any], data: bytes, job_name: str, preview: Image.Image | None
) -> PrinterStatus | None:
    with _connect(config) as sock:
        status = None
        if config.get("check_status", True):
            status = _socket_status(sock, config)
            _refuse_unless_printable(status)
        try:
            sock.sendall(data)
            sock.shutdown(socket.SHUT_WR)
        except TimeoutError as exc:
            raise PrinterError("timeout", MESSAGES["timeout"], status) from exc
        except OSError as exc:
            raise PrinterError("offline", MESSAGES["offline"], status) from exc
        return status


def _status_network(config: Mapping[str, Any]) -> PrinterStatus:
    try:
        with _connect(config) as sock:
            return _socket_status(sock, config)
    except PrinterError as exc:
        return exc.status or _status("offline")
    except OSError as exc:
        return _status("offline", detail=str(exc))


def _open_escpos(config: Mapping[str, Any]) -> tuple[Any, Write, Read]:
    """Open a python-escpos USB or serial printer; return it with raw write/read callables."""
    kind = config.get("backend")
    timeout = _float(config, "timeout", DEFAULT_TIMEOUT)
    status_timeout = _float(config, "status_timeout", DEFAULT_STATUS_TIMEOUT)
    if kind == "usb":
        from escpos.printer import Usb

        if not Usb.is_usable():
            raise PrinterError("error", f"{MESSAGES['missing_library']} (pyusb)")
        printer = Usb(
            idVendor=_int(config, "vendor_id"),
            idProduct=_int(config, "product_id"),
            timeout=int(timeout * 1000),
            in_ep=_int(config, "in_ep", 0x82),
            out_ep=_int(config, "out_ep", 0x01),
        )
        printer.open()
        device = printer.device

        def write(chunk: bytes) -> object:
            return device.write(printer.out_ep, chunk, int(timeout * 1000))

        def read() -> bytes:
            return bytes(device.read(printer.in_ep, 16, int(status_timeout * 1000)))

        return printer, write, read
    from escpos.printer import Serial

    if not Serial.is_usable():
        raise PrinterError("error", f"{MESSAGES['missing_library']} (pyserial)")
    devfile = config.get("devfile")
    if not devfile:
        raise PrinterError("error", f"{MESSAGES['config']}: thiếu devfile")
    baudrate = _int(config, "baudrate", 9600)
    printer = Serial(devfile=str(devfile), baudrate=baudrate, timeout=status_timeout)
    printer.open()
    port = printer.device
    # 10 bits a byte on the wire: a 30 KB ticket takes ~3 s at 115200 baud, ~30 s at 9600.
    port.write_timeout = timeout

    def write_serial(chunk: bytes) -> object:
        port.write_timeout = timeout + len(chunk) * 10 / baudrate
        return port.write(chunk)

    return printer, write_serial, lambda: bytes(port.read(1))


def _print_escpos(
    config: Mapping[str, Any], data: bytes, job_name: str, preview: Image.Image | None
) -> PrinterStatus | None:
    try:
        printer, write, read = _open_escpos(config)
    except PrinterError:
        raise
    except Exception as exc:  # DeviceNotFoundError, USBError, SerialException, permissions
        logger.info("printer device not available: %s", exc)
        raise PrinterError("offline", MESSAGES["offline"], _status("offline")) from exc
    try:
        status = None
        if config.get("check_status", True):
            status = query_realtime_status(write, read)
            _refuse_unless_printable(status)
        try:
            write(data)
        except Exception as exc:  # USBTimeoutError, SerialTimeoutException
            raise PrinterError("timeout", MESSAGES["timeout"], status) from exc
        return status
    finally:
        try:
            printer.close()
        except Exception:  # closing a device that vanished must not hide the job's result
            logger.debug("closing the printer failed", exc_info=True)


def _status_escpos(config: Mapping[str, Any]) -> PrinterStatus:
    try:
        printer, write, read = _open_escpos(config)
    except PrinterError as exc:
        return _status("error", detail=exc.message)
    except Exception as exc:
        return _status("offline", detail=str(exc))
    try:
        return query_realtime_status(write, read)
    except Exception as exc:
        return _status("offline", detail=str(exc))
    finally:
        try:
            printer.close()
        except Exception:
            logger.debug("closing the printer failed", exc_info=True)


def _cups_name(config: Mapping[str, Any]) -> str:
    name = config.get("printer") or config.get("name")
    if not name:
        raise PrinterError("error", f"{MESSAGES['config']}: thiếu printer")
    return str(name)


def _print_cups(
    config: Mapping[str, Any], data: bytes, job_name: str, preview: Image.Image | None
) -> PrinterStatus | None:
    name = _cups_name(config)
    lp = shutil.which("lp")
    if lp is None:
        raise PrinterError("error", f"{MESSAGES['missing_library']} (CUPS: lp)")
    timeout = _float(config, "timeout", DEFAULT_TIMEOUT)
    try:
        done = subprocess.run(
            [lp, "-d", name, "-o", "raw", "-t", _safe_name(job_name)],
            input=data,
            capture_output=True,
            timeout=timeout,
            check=False,
        )
    except subprocess.TimeoutExpired as exc:
        raise PrinterError("timeout", MESSAGES["timeout"]) from exc
    if done.returncode != 0:
        reason = done.stderr.decode("utf-8", "replace").strip()
        raise PrinterError("offline", f"{MESSAGES['offline']}: {reason}")
    # CUPS only queued the job: whether paper came out is not known here.
    return _status("unknown", detail="queued in CUPS")


def _status_cups(config: Mapping[str, Any]) -> PrinterStatus:
    try:
        name = _cups_name(config)
    except PrinterError as exc:
        return _status("error", detail=exc.message)
    lpstat = shutil.which("lpstat")
    if lpstat is None:
        return _status("error", "missing_library", "lpstat not found")
    try:
        done = subprocess.run(
            [lpstat, "-p", name],
            capture_output=True,
            timeout=_float(config, "timeout", DEFAULT_TIMEOUT),
            check=False,
        )
    except subprocess.TimeoutExpired:
        return _status("offline", "timeout", "timeout")
    text = done.stdout.decode("utf-8", "replace")
    if done.returncode != 0 or "disabled" in text:
        return _status("offline", detail=text.strip() or "lpstat failed")
    return _status("unknown", detail=text.strip())


def _print_dummy(
    config: Mapping[str, Any], data: bytes, job_name: str, preview: Image.Image | None
) -> PrinterStatus:
    status = _status_dummy(config)
    _refuse_unless_printable(status)
    return status


def _status_dummy(config: Mapping[str, Any]) -> PrinterStatus:
    state = config.get("state", "online")
    if state == "timeout":
        return _status("offline", "timeout", "timeout")
    if state not in MESSAGES or state in ("printed", "config", "missing_library", "timeout"):
        return _status("unknown", detail=f"dummy state {state!r}")
    return _status(state)  # type: ignore[arg-type]


_PRINTERS = {
    "file": _print_file,
    "network": _print_network,
    "usb": _print_escpos,
    "serial": _print_escpos,
    "cups": _print_cups,
    "dummy": _print_dummy,
}
_STATUS = {
    "file": _status_file,
    "network": _status_network,
    "usb": _status_escpos,
    "serial": _status_escpos,
    "cups": _status_cups,
    "dummy": _status_dummy,
}


def print_job(
    config: Mapping[str, Any],
    data: bytes,
    job_name: str,
    preview: Image.Image | None = None,
) -> PrintResult:
    """Send one job to the printer described by `config`; never raises, returns the outcome."""
    started = time.monotonic()
    backend = config.get("backend", "file")
    sender = _PRINTERS.get(backend)
    try:
        if sender is None:
            raise PrinterError("error", f"{MESSAGES['config']}: backend {backend!r}")
        status = sender(config, data, job_name, preview)
    except PrinterError as exc:
        elapsed = (time.monotonic() - started) * 1000
        logger.warning(
            "print job %s on %s failed: %s (%s)", job_name, backend, exc.error_code, exc.message
        )
        return PrintResult(False, job_name, exc.error_code, exc.message, exc.status, elapsed)
    except Exception as exc:  # a backend bug must not reach the kiosk as a crash
        elapsed = (time.monotonic() - started) * 1000
        logger.exception("print job %s on %s failed unexpectedly", job_name, backend)
        return PrintResult(False, job_name, "error", f"{MESSAGES['error']}: {exc}", None, elapsed)
    elapsed = (time.monotonic() - started) * 1000
    logger.info(
        "print job %s sent to %s (%d bytes, %.0f ms)", job_name, backend, len(data), elapsed
    )
    return PrintResult(True, job_name, None, MESSAGES["printed"], status, elapsed)


def read_status(config: Mapping[str, Any]) -> PrinterStatus:
    """Ask the printer described by `config` for its state; never raises."""
    backend = config.get("backend", "file")
    reader = _STATUS.get(backend)
    if reader is None:
        return _status("error", "config", f"unknown backend {backend!r}")
    try:
        return reader(config)
    except PrinterError as exc:
        return exc.status or _status("error", detail=exc.message)
    except Exception as exc:
        logger.exception("reading the status of a %s printer failed", backend)
        return _status("error", detail=str(exc))
