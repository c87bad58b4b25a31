"""Printer backends: one class each, the only place that knows a kind of printer.

A backend declares its ``name``, a Vietnamese ``label``, its config ``fields`` (type, label,
default, rule) and how to print and read the state (open, print, close per job, with short
timeouts). The admin device form, its validation (``clean``) and the device checks read the
registry, so adding a backend is one ``Backend`` subclass here (plus its test). A printer is
described by a plain config dict, e.g. ``{"backend": "network", "host": "10.0.0.9"}``:

- ``file`` (default): ``path`` (or ``folder``); writes ``<job>.bin`` (the raw bytes) and
  ``<job>.png`` (a preview) per job. For development, kiosks without a printer and tests.
- ``network``: ``host``, ``port`` (9100), ``timeout`` (3 s, connect and send),
  ``status_timeout`` (1 s per status answer), ``check_status`` (True: ask DLE EOT first),
  ``confirm`` (how the printer confirms a job: ``process_id``, ``status`` or ``none``; see
  ``printer.job``), ``confirm_timeout`` (0: from the printer's pace).
- ``usb``: ``vendor_id``, ``product_id`` (ints or "0x04b8" strings), optional ``in_ep``,
  ``out_ep``, and the same timeouts, ``check_status`` and ``confirm``. Needs pyusb.
- ``serial``: ``devfile``, ``baudrate`` (9600), the same timeouts, ``check_status`` and
  ``confirm``. Needs pyserial.
- ``cups``: ``printer`` (queue name); sends the bytes raw with ``lp``: always "sent".
- ``dummy``: prints nothing; ``state`` (default "online") simulates a printer state.
- ``none``: the kiosk has no printer (shows the number on screen only).

Every backend also takes ``width_px`` (576 or 384) and ``cut`` (``COMMON_FIELDS``); the
receipt encoder reads ``profile`` (python-escpos) from any config, the form offers it where it
matters (the ESC/POS links).
"""

from __future__ import annotations

import ipaddress
import logging
import re
import shutil
import socket
import subprocess
import time
from collections.abc import Mapping
from pathlib import Path
from typing import Any, ClassVar

from PIL import Image

from printer.fields import (
    CHECK_STATUS,
    COMMON_FIELDS,
    CONFIRM,
    CONFIRM_TIMEOUT,
    DEFAULT_PORT,
    PROFILE,
    STATUS_TIMEOUT,
    TIMEOUT,
    Field,
)
from printer.job import JobSettings, LinkClosed, run_job
from printer.pace import Pace
from printer.status import MESSAGES as MESSAGES
from printer.status import PRINTABLE_STATES as PRINTABLE_STATES
from printer.status import JobOutcome as JobOutcome
from printer.status import PrinterError as PrinterError
from printer.status import PrinterStatus as PrinterStatus
from printer.status import PrintResult as PrintResult
from printer.status import Read, Write, make_status, refuse_unless_printable
from printer.status import query_realtime_status as query_realtime_status

logger = logging.getLogger(__name__)

NO_PRINTER = ("none", "off", "")  # backend names that mean "this kiosk has no printer"
PACE_KEY = "_pace"  # a config key the print service fills with the printer's learned Pace


# --- the interface -----------------------------------------------------------------------------

BACKENDS: dict[str, type[Backend]] = {}


class Backend:
    """A kind of printer: its name, label, fields; how to print bytes and read the state."""

    name: ClassVar[str]
    label: ClassVar[str]
    fields: ClassVar[tuple[Field, ...]] = ()
    prints: ClassVar[bool] = True  # False: "no printer" (the kiosk shows the number only)

    def __init_subclass__(cls, **kwargs: Any) -> None:
        """Register every concrete backend by its name."""
        super().__init_subclass__(**kwargs)
        if "name" in cls.__dict__:
            BACKENDS[cls.name] = cls

    @classmethod
    def field(cls, key: str) -> Field:
        """One of the backend's fields by key."""
        for f in (*COMMON_FIELDS, *cls.fields):
            if f.key == key:
                return f
        raise KeyError(key)

    @classmethod
    def setting(cls, config: Mapping[str, Any], key: str) -> Any:
        """A typed config value (its field's default when absent)."""
        return cls.field(key).read(config)

    @classmethod
    def form_fields(cls) -> list[Field]:
        """The backend's own fields an administrator fills in."""
        return [f for f in cls.fields if f.in_form]

    @classmethod
    def clean(cls, values: Mapping[str, Any]) -> tuple[dict[str, Any], dict[str, str]]:
        """A form's values → (config, {field: Vietnamese error}); keys left empty are left out."""
        config: dict[str, Any] = {"backend": cls.name}
        errors: dict[str, str] = {}
        for f in (*COMMON_FIELDS, *cls.form_fields()):
            try:
                value = f.clean(values.get(f.key))
            except ValueError as exc:
                errors[f.key] = str(exc)
                continue
            if value is not None:
                config[f.key] = value
        return config, errors

    def print_bytes(
        self, config: Mapping[str, Any], data: bytes, job_name: str, preview: Image.Image | None
    ) -> JobOutcome | PrinterStatus | None:
        """Print one job (open, check, write, close); PrinterError when it cannot.

        A ``JobOutcome`` says whether the printer confirmed the job; a bare status (or None)
        means it went out unconfirmed (``sent``).
        """
        raise NotImplementedError

    @classmethod
    def job_settings(cls, config: Mapping[str, Any]) -> JobSettings:
        """The job protocol settings of a two-way ESC/POS link (printer.job)."""
        return JobSettings(
            check_status=bool(cls.setting(config, "check_status")),
            status_timeout=float(cls.setting(config, "status_timeout")),
            confirm=str(cls.setting(config, "confirm") or "process_id"),
            confirm_timeout=float(cls.setting(config, "confirm_timeout")),
        )

    def status(self, config: Mapping[str, Any]) -> PrinterStatus:
        """The printer's state read now; may raise PrinterError (read_status catches it)."""
        raise NotImplementedError


def backend_for(config: Mapping[str, Any]) -> type[Backend] | None:
    """The backend class a printer config names (None for an unknown name)."""
    return BACKENDS.get(str(config.get("backend", "file") or "").lower())


def printer_off(config: Mapping[str, Any]) -> bool:
    """True when a config says the kiosk has no printer."""
    name = str(config.get("backend", "file") or "").lower()
    backend = BACKENDS.get(name)
    return name in NO_PRINTER or (backend is not None and not backend.prints)


def _safe_name(job_name: str) -> str:
    return re.sub(r"[^A-Za-z0-9._-]+", "_", job_name).strip("._")[:80] or "job"


def _host_ok(text: str) -> bool:
    try:
        ipaddress.ip_address(text)
    except ValueError:
        return bool(re.fullmatch(r"[A-Za-z0-9.-]{1,253}", text))
    return True


# --- the backends ------------------------------------------------------------------------------


class NoPrinter(Backend):
    """The kiosk has no printer: the number and QR are shown on the screen only."""

    name, label, prints = "none", "Không dùng máy in", False

    def print_bytes(
        self, config: Mapping[str, Any], data: bytes, job_name: str, preview: Image.Image | None
    ) -> PrinterStatus | None:
        """Nothing to print on."""
        raise PrinterError("error", f"{MESSAGES['config']}: backend 'none'")

    def status(self, config: Mapping[str, Any]) -> PrinterStatus:
        """No printer, no state."""
        return make_status("unknown", detail="no printer")


class FilePrinter(Backend):
    """Writes each job's bytes and a PNG preview into a folder."""

    name, label = "file", "Lưu ra tệp (thử nghiệm)"
    fields = (Field("path", "Thư mục lưu tệp", help="Để trống: thư mục prints của máy chủ."),)

    @staticmethod
    def _folder(config: Mapping[str, Any]) -> Path:
        folder = config.get("folder") or config.get("path")
        if not folder:
            raise PrinterError("error", f"{MESSAGES['config']}: thiếu folder")
        return Path(folder)

    def print_bytes(
        self, config: Mapping[str, Any], data: bytes, job_name: str, preview: Image.Image | None
    ) -> JobOutcome:
        """Write <job>.bin and <job>.png."""
        from printer.raster import decode_raster

        folder = self._folder(config)
        try:
            folder.mkdir(parents=True, exist_ok=True)
            name = _safe_name(job_name)
            (folder / f"{name}.bin").write_bytes(data)
            image = preview if preview is not None else decode_raster(data)
            if image is not None:
                image.save(folder / f"{name}.png")
        except OSError as exc:
            raise PrinterError("error", f"{MESSAGES['error']}: {exc}") from exc
        # The file is there; the detail says where (the config may say folder or path).
        return JobOutcome(make_status("online", detail=str(folder.resolve())), confirmed=True)

    def status(self, config: Mapping[str, Any]) -> PrinterStatus:
        """Online while the folder is (or can become) a folder."""
        folder = self._folder(config)
        if folder.is_dir() or not folder.exists():
            return make_status("online", detail=str(folder))
        return make_status("error", detail=f"{folder} is not a folder")


class NetworkPrinter(Backend):
    """A LAN printer on raw TCP (port 9100), asked DLE EOT before each job."""

    name, label = "network", "Mạng LAN (cổng 9100)"
    fields = (
        Field(
            "host",
            "Địa chỉ IP (mạng LAN)",
            required=True,
            check=_host_ok,
            error="Nhập địa chỉ IP của máy in, ví dụ 192.168.1.50.",
        ),
        Field(
            "port",
            "Cổng (mạng LAN)",
            "int",
            DEFAULT_PORT,
            low=1,
            high=65535,
            error="Cổng từ 1 đến 65535 (thường là 9100).",
            placeholder="9100",
            short=True,
        ),
        PROFILE,
        CONFIRM,
        TIMEOUT,
        STATUS_TIMEOUT,
        CONFIRM_TIMEOUT,
        CHECK_STATUS,
    )

    def open(self, config: Mapping[str, Any]) -> socket.socket:
        """Connect within the timeout; PrinterError "offline" when the printer is unreachable."""
        host = config.get("host")
        if not host:
            raise PrinterError("error", f"{MESSAGES['config']}: thiếu host")
        port = self.setting(config, "port")
        try:
            return socket.create_connection(
                (str(host), port), timeout=self.setting(config, "timeout")
            )
        except OSError as exc:  # refused, unreachable, connect timeout, DNS failure
            logger.info("printer %s:%s unreachable: %s", host, port, exc)
            raise PrinterError("offline", MESSAGES["offline"], make_status("offline")) from exc

    def _ask(self, sock: socket.socket, config: Mapping[str, Any]) -> PrinterStatus:
        sock.settimeout(self.setting(config, "status_timeout"))

        def read() -> bytes:
            return sock.recv(64)  # an answer is one byte; take what is there

        try:
            return query_realtime_status(sock.sendall, read)
        except OSError as exc:  # reset or broken pipe while asking
            return make_status("offline", detail=str(exc))
        finally:
            sock.settimeout(self.setting(config, "timeout"))

    def print_bytes(
        self, config: Mapping[str, Any], data: bytes, job_name: str, preview: Image.Image | None
    ) -> JobOutcome:
        """Ask the state, send the bytes, wait for the printer's confirmation, close."""
        timeout = self.setting(config, "timeout")
        with self.open(config) as sock:

            def write(chunk: bytes) -> None:
                sock.settimeout(timeout)
                sock.sendall(chunk)

            def read(wait: float) -> bytes:
                sock.settimeout(max(wait, 0.01))
                try:
                    chunk = sock.recv(256)
                except TimeoutError:
                    return b""
                except OSError as exc:  # reset by the printer
                    raise LinkClosed(str(exc)) from exc
                if not chunk:
                    raise LinkClosed("closed by the printer")
                return chunk

            return run_job(write, read, data, self.job_settings(config), _pace(config))

    def status(self, config: Mapping[str, Any]) -> PrinterStatus:
        """Connect and ask DLE EOT."""
        try:
            with self.open(config) as sock:
                return self._ask(sock, config)
        except PrinterError as exc:
            return exc.status or make_status("offline")
        except OSError as exc:
            return make_status("offline", detail=str(exc))


class _EscposDevice(Backend):
    """A python-escpos device (USB, serial): opened per job, raw write/read for DLE EOT."""

    def open(self, config: Mapping[str, Any]) -> tuple[Any, Write, Read]:
        """Open the device; return it with raw write/read callables."""
        raise NotImplementedError

    def link(self, printer: Any, config: Mapping[str, Any]) -> tuple[Any, Any]:
        """Raw write(bytes) and read(timeout) -> bytes for the job protocol (printer.job)."""
        raise NotImplementedError

    def print_bytes(
        self, config: Mapping[str, Any], data: bytes, job_name: str, preview: Image.Image | None
    ) -> JobOutcome:
        """Open, ask the state, write, wait for the confirmation, close."""
        try:
            printer, _write, _read = self.open(config)
        except PrinterError:
            raise
        except Exception as exc:  # DeviceNotFoundError, USBError, SerialException, permissions
            logger.info("printer device not available: %s", exc)
            raise PrinterError("offline", MESSAGES["offline"], make_status("offline")) from exc
        try:
            write, read = self.link(printer, config)
            try:
                return run_job(write, read, data, self.job_settings(config), _pace(config))
            except PrinterError:
                raise
            except Exception as exc:  # USBTimeoutError, SerialTimeoutException mid-write
                raise PrinterError("timeout", MESSAGES["timeout"]) from exc
        finally:
            _close(printer)

    def status(self, config: Mapping[str, Any]) -> PrinterStatus:
        """Open, ask DLE EOT, close."""
        try:
            printer, write, read = self.open(config)
        except PrinterError as exc:
            return make_status("error", detail=exc.message)
        except Exception as exc:
            return make_status("offline", detail=str(exc))
        try:
            return query_realtime_status(write, read)
        except Exception as exc:
            return make_status("offline", detail=str(exc))
        finally:
            _close(printer)


def _pace(config: Mapping[str, Any]) -> Pace:
    pace = config.get(PACE_KEY)
    return pace if isinstance(pace, Pace) else Pace()


def _close(printer: Any) -> None:
    try:
        printer.close()
    except Exception:  # closing a device that vanished must not hide the job's result
        logger.debug("closing the printer failed", exc_info=True)


_USB_ID = "Mã USB dạng 0x04b8."


class UsbPrinter(_EscposDevice):
    """A USB printer through python-escpos and pyusb."""

    name, label = "usb", "USB"
    fields = (
        Field(
            "vendor_id",
            "Mã hãng USB",
            "hex",
            required=True,
            error=_USB_ID,
            placeholder="0x04b8",
            short=True,
        ),
        Field(
            "product_id",
            "Mã sản phẩm USB",
            "hex",
            required=True,
            error=_USB_ID,
            placeholder="0x0202",
            short=True,
        ),
        PROFILE,
        CONFIRM,
        Field("in_ep", "Điểm cuối vào", "int", 0x82, in_form=False),
        Field("out_ep", "Điểm cuối ra", "int", 0x01, in_form=False),
        TIMEOUT,
        STATUS_TIMEOUT,
        CONFIRM_TIMEOUT,
        CHECK_STATUS,
    )

    def open(self, config: Mapping[str, Any]) -> tuple[Any, Write, Read]:
        """Open the USB device."""
        from escpos.printer import Usb

        if not Usb.is_usable():
            raise PrinterError("error", f"{MESSAGES['missing_library']} (pyusb)")
        timeout = self.setting(config, "timeout")
        status_timeout = self.setting(config, "status_timeout")
        printer = Usb(
            idVendor=self.setting(config, "vendor_id"),
            idProduct=self.setting(config, "product_id"),
            timeout=int(timeout * 1000),
            in_ep=self.setting(config, "in_ep"),
            out_ep=self.setting(config, "out_ep"),
        )
        printer.open()
        device = printer.device

        def write(chunk: bytes) -> object:
            return device.write(printer.out_ep, chunk, int(timeout * 1000))

        def read() -> bytes:
            return bytes(device.read(printer.in_ep, 16, int(status_timeout * 1000)))

        return printer, write, read

    def link(self, printer: Any, config: Mapping[str, Any]) -> tuple[Any, Any]:
        """Bulk out for the job; bulk in polled for answers (a USB timeout = nothing yet)."""
        device = printer.device
        timeout = self.setting(config, "timeout")

        def write(chunk: bytes) -> object:
            # USB full speed moves ~1 MB/s; the printer's buffer is what slows a long job.
            return device.write(printer.out_ep, chunk, int((timeout + len(chunk) / 4000) * 1000))

        def read(wait: float) -> bytes:
            try:
                return bytes(device.read(printer.in_ep, 64, max(1, int(wait * 1000))))
            except Exception as exc:  # pyusb: USBTimeoutError when nothing came
                if "timeout" in type(exc).__name__.lower() or "timed out" in str(exc).lower():
                    return b""
                raise LinkClosed(str(exc)) from exc

        return write, read


class SerialPrinter(_EscposDevice):
    """A serial (COM) printer through python-escpos and pyserial."""

    name, label = "serial", "Cổng nối tiếp (COM)"
    fields = (
        Field(
            "devfile",
            "Cổng nối tiếp",
            required=True,
            check=lambda v: v.startswith("/dev/") or v.upper().startswith("COM"),
            error="Nhập cổng nối tiếp, ví dụ /dev/ttyUSB0.",
            placeholder="/dev/ttyUSB0",
        ),
        PROFILE,
        CONFIRM,
        Field("baudrate", "Tốc độ (baud)", "int", 9600, in_form=False),
        TIMEOUT,
        STATUS_TIMEOUT,
        CONFIRM_TIMEOUT,
        CHECK_STATUS,
    )

    def open(self, config: Mapping[str, Any]) -> tuple[Any, Write, Read]:
        """Open the serial port."""
        from escpos.printer import Serial

        if not Serial.is_usable():
            raise PrinterError("error", f"{MESSAGES['missing_library']} (pyserial)")
        devfile = config.get("devfile")
        if not devfile:
            raise PrinterError("error", f"{MESSAGES['config']}: thiếu devfile")
        timeout = self.setting(config, "timeout")
        baudrate = self.setting(config, "baudrate")
        printer = Serial(
            devfile=str(devfile), baudrate=baudrate, timeout=self.setting(config, "status_timeout")
        )
        printer.open()
        port = printer.device
        # 10 bits a byte on the wire: a 30 KB ticket takes ~3 s at 115200 baud, ~30 s at 9600.
        port.write_timeout = timeout

        def write(chunk: bytes) -> object:
            port.write_timeout = timeout + len(chunk) * 10 / baudrate
            return port.write(chunk)

        return printer, write, lambda: bytes(port.read(1))

    def link(self, printer: Any, config: Mapping[str, Any]) -> tuple[Any, Any]:
        """The port, its write timeout grown with the job (10 bits a byte on the wire)."""
        port = printer.device
        timeout = self.setting(config, "timeout")
        baudrate = self.setting(config, "baudrate")

        def write(chunk: bytes) -> object:
            port.write_timeout = timeout + len(chunk) * 10 / baudrate
            return port.write(chunk)

        def read(wait: float) -> bytes:
            port.timeout = wait
            first = bytes(port.read(1))
            return first + bytes(port.read(port.in_waiting)) if first else b""

        return write, read


class CupsPrinter(Backend):
    """A system print queue: the bytes go raw through ``lp``; the paper state is unknown."""

    name, label = "cups", "Máy in hệ thống (CUPS)"
    fields = (
        Field(
            "printer",
            "Tên máy in CUPS",
            required=True,
            pattern=r"[A-Za-z0-9_.-]{1,64}",
            error="Nhập tên máy in trong CUPS.",
        ),
        TIMEOUT,
    )

    @staticmethod
    def _queue(config: Mapping[str, Any]) -> str:
        name = config.get("printer") or config.get("name")
        if not name:
            raise PrinterError("error", f"{MESSAGES['config']}: thiếu printer")
        return str(name)

    def print_bytes(
        self, config: Mapping[str, Any], data: bytes, job_name: str, preview: Image.Image | None
    ) -> JobOutcome:
        """lp -d QUEUE -o raw."""
        name = self._queue(config)
        lp = shutil.which("lp")
        if lp is None:
            raise PrinterError("error", f"{MESSAGES['missing_library']} (CUPS: lp)")
        try:
            done = subprocess.run(
                [lp, "-d", name, "-o", "raw", "-t", _safe_name(job_name)],
                input=data,
                capture_output=True,
                timeout=self.setting(config, "timeout"),
                check=False,
            )
        except subprocess.TimeoutExpired as exc:
            raise PrinterError("timeout", MESSAGES["timeout"]) from exc
        if done.returncode != 0:
            reason = done.stderr.decode("utf-8", "replace").strip()
            raise PrinterError("offline", f"{MESSAGES['offline']}: {reason}")
        # CUPS only queued the job: whether paper came out is not known here (``sent``).
        return JobOutcome(make_status("unknown", detail="queued in CUPS"), confirmed=False)

    def status(self, config: Mapping[str, Any]) -> PrinterStatus:
        """lpstat -p QUEUE."""
        try:
            name = self._queue(config)
        except PrinterError as exc:
            return make_status("error", detail=exc.message)
        lpstat = shutil.which("lpstat")
        if lpstat is None:
            return make_status("error", "missing_library", "lpstat not found")
        try:
            done = subprocess.run(
                [lpstat, "-p", name],
                capture_output=True,
                timeout=self.setting(config, "timeout"),
                check=False,
            )
        except subprocess.TimeoutExpired:
            return make_status("offline", "timeout", "timeout")
        text = done.stdout.decode("utf-8", "replace")
        if done.returncode != 0 or "disabled" in text:
            return make_status("offline", detail=text.strip() or "lpstat failed")
        return make_status("unknown", detail=text.strip())


class DummyPrinter(Backend):
    """Prints nothing; ``state`` simulates a printer state (tests, demos)."""

    name, label = "dummy", "Giả lập (kiểm thử)"
    fields = (Field("state", "Trạng thái giả lập", default="online", in_form=False),)

    def print_bytes(
        self, config: Mapping[str, Any], data: bytes, job_name: str, preview: Image.Image | None
    ) -> JobOutcome:
        """Refuse as the simulated state says, else pretend to print (confirmed)."""
        status = self.status(config)
        refuse_unless_printable(status)
        return JobOutcome(status, confirmed=True)

    def status(self, config: Mapping[str, Any]) -> PrinterStatus:
        """The simulated state."""
        state = config.get("state", "online")
        if state == "timeout":
            return make_status("offline", "timeout", "timeout")
        if state not in MESSAGES or state in ("printed", "config", "missing_library", "timeout"):
            return make_status("unknown", detail=f"dummy state {state!r}")
        return make_status(state)


# --- entry points ------------------------------------------------------------------------------

LEASE_MARGIN_S = 15.0


def job_budget(config: Mapping[str, Any], nbytes: int, pace: Pace | None = None) -> float:
    """The longest one job can take on this printer (its lease must outlast it): connect and
    write timeouts, six status answers each waited for twice, the confirmation, a margin."""
    pace = pace or Pace()
    kind = backend_for(config)

    def setting(key: str, default: float) -> float:
        try:
            return float(kind.setting(config, key)) if kind else default
        except (KeyError, PrinterError, TypeError, ValueError):
            return default

    timeout = setting("timeout", 3.0)
    status = pace.status_wait(setting("status_timeout", 1.0))
    confirm = pace.confirm_wait(nbytes, setting("confirm_timeout", 0.0))
    return 2 * timeout + 12 * status + confirm + LEASE_MARGIN_S


def print_job(
    config: Mapping[str, Any],
    data: bytes,
    job_name: str,
    preview: Image.Image | None = None,
) -> PrintResult:
    """Send one job to the printer described by `config`; never raises, returns the outcome."""
    started = time.monotonic()
    backend = config.get("backend", "file")
    kind = backend_for(config)
    try:
        if kind is None:
            raise PrinterError("error", f"{MESSAGES['config']}: backend {backend!r}")
        outcome = kind().print_bytes(config, data, job_name, preview)
    except PrinterError as exc:
        elapsed = (time.monotonic() - started) * 1000
        logger.warning(
            "print job %s on %s failed: %s (%s)", job_name, backend, exc.error_code, exc.message
        )
        return PrintResult(
            False, job_name, exc.error_code, exc.message, exc.status, elapsed, timings=exc.timings
        )
    except Exception as exc:  # a backend bug must not reach the kiosk as a crash
        elapsed = (time.monotonic() - started) * 1000
        logger.exception("print job %s on %s failed unexpectedly", job_name, backend)
        return PrintResult(False, job_name, "error", f"{MESSAGES['error']}: {exc}", None, elapsed)
    if not isinstance(outcome, JobOutcome):  # a backend that cannot tell: sent, not printed
        outcome = JobOutcome(outcome, confirmed=False)
    elapsed = (time.monotonic() - started) * 1000
    word = "printed" if outcome.confirmed else "sent"
    logger.info(
        "print job %s %s on %s (%d bytes, %.0f ms)", job_name, word, backend, len(data), elapsed
    )
    return PrintResult(
        True,
        job_name,
        None,
        MESSAGES[word],
        outcome.status,
        elapsed,
        confirmed=outcome.confirmed,
        timings=outcome.timings,
    )


def read_status(config: Mapping[str, Any]) -> PrinterStatus:
    """Ask the printer described by `config` for its state; never raises."""
    backend = config.get("backend", "file")
    kind = backend_for(config)
    if kind is None:
        return make_status("error", "config", f"unknown backend {backend!r}")
    try:
        return kind().status(config)
    except PrinterError as exc:
        return exc.status or make_status("error", detail=exc.message)
    except Exception as exc:
        logger.exception("reading the status of a %s printer failed", backend)
        return make_status("error", detail=str(exc))
