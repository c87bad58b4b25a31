"""Printer backends against a fake TCP printer, a folder, a fake `lp`, and scripted answers."""

from __future__ import annotations

import os
import stat
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
import zxingcpp
from PIL import Image

from printer.backends import (
    BACKENDS,
    MESSAGES,
    PACE_KEY,
    PrinterError,
    PrinterStatus,
    print_job,
    printer_off,
    query_realtime_status,
    read_status,
)
from printer.pace import Pace
from printer.receipt import Receipt, encode_receipt, render_receipt
from tests.support.escpos_decode import decode
from tests.support.fake_printer import FakePrinter, closed_port

RECEIPT = Receipt(
    hall_name="Trung tâm Phục vụ hành chính công",
    unit_name="Xã Đông Anh",
    code="B007",
    area_name="Chứng thực",
    counters=["03"],
    waiting=2,
    issued_at=datetime(2026, 11, 21, 2, 0, 0, tzinfo=UTC),
    status_url="https://hall.example.vn/t/b007",
)


@pytest.fixture(scope="module")
def ticket() -> bytes:
    """The ESC/POS bytes of one ticket."""
    return encode_receipt(RECEIPT)


@pytest.fixture
def fake_printer(request: pytest.FixtureRequest) -> Iterator[FakePrinter]:
    """A fake network printer in the state given by indirect parametrisation (default ok)."""
    with FakePrinter(getattr(request, "param", "ok")) as fake:
        yield fake


def sent_job(fake: FakePrinter) -> bytes:
    """The one job the fake printer received, without the confirmation request after it."""
    assert fake.wait_for(1)
    (job,) = fake.jobs
    marker = job.rfind(b"\x1d(H")
    return job[:marker] if marker >= 0 else job


def test_network_job_is_received_byte_exact(fake_printer: FakePrinter, ticket: bytes) -> None:
    """The printer receives exactly the job's bytes after a status check, then confirms it."""
    result = print_job(fake_printer.config, ticket, "B007")
    assert result.ok, result.message
    assert result.error_code is None and result.confirmed
    assert result.message == MESSAGES["printed"]
    assert result.status is not None and result.status.state == "online"
    assert sent_job(fake_printer) == ticket
    assert fake_printer.jobs[0].endswith(b"\x00\x30\x30" + fake_printer.jobs[0][-4:])
    assert fake_printer.queries == [1, 4] and fake_printer.confirmations == 1


def test_gs_r_confirms_in_order(ticket: bytes) -> None:
    """confirm=status: GS r 1 after the cut; its in-order answer confirms the job."""
    with FakePrinter() as fake:
        result = print_job({**fake.config, "confirm": "status"}, ticket, "B007")
        assert (result.ok, result.confirmed) == (True, True)
        assert fake.wait_for(1) and fake.jobs == [ticket + b"\x1dr\x01"]


@pytest.mark.parametrize(
    ("fault", "error_code"),
    [
        ({"stall": True}, "timeout"),
        ({"close_after": 8192}, "closed"),
        ({"paper_out_after_job": True}, "paper_out"),
        ({"confirms": False}, "unconfirmed"),
    ],
)
@pytest.mark.parametrize("confirm", ["process_id", "status"])
def test_an_unconfirmed_job_is_never_printed(
    ticket: bytes, fault: dict[str, object], error_code: str, confirm: str
) -> None:
    """Stalled, cut off, out of paper after the job, or silent: failed with the reason."""
    with FakePrinter(**fault) as fake:  # type: ignore[arg-type]
        config = {**fake.config, "confirm": confirm, "confirm_timeout": 0.6, "timeout": 1}
        result = print_job({**config, "status_timeout": 0.3}, ticket, "B007")
    assert (result.ok, result.confirmed, result.error_code) == (False, False, error_code)
    assert result.message == MESSAGES[error_code]


@pytest.mark.parametrize(
    ("fault", "outcome"),
    [
        ({"stall": True}, "timeout"),
        ({"close_after": 8192}, "closed"),
        ({"paper_out_after_job": True}, "paper_out"),
        ({"confirms": False}, "sent"),
    ],
)
def test_a_printer_that_cannot_confirm_is_asked_after_the_job(
    ticket: bytes, fault: dict[str, object], outcome: str
) -> None:
    """confirm=none: DLE EOT after the job; alive with paper is "sent", never "printed"."""
    with FakePrinter(**fault) as fake:  # type: ignore[arg-type]
        config = {**fake.config, "confirm": "none", "status_timeout": 0.3, "timeout": 1}
        result = print_job(config, ticket, "B007")
    assert not result.confirmed
    assert (result.error_code or "sent") == outcome
    assert result.ok is (outcome == "sent")
    if result.ok:
        assert result.message == MESSAGES["sent"]


def test_a_slow_printer_is_given_its_own_pace(ticket: bytes) -> None:
    """Status answers 1.2 s late against a 1 s setting: asked twice, then waited for by pace."""
    with FakePrinter(answer_delay=1.2) as fake:
        result = print_job({**fake.config, "status_timeout": 1.0}, ticket, "B007")
        assert result.ok and result.confirmed, result.message
        learned = Pace().learn(result.timings, len(ticket))
        assert learned.status_s is not None and learned.status_s > 1.0
        assert learned.status_wait(1.0) > 3.0
        again = print_job({**fake.config, "status_timeout": 1.0, PACE_KEY: learned}, ticket, "x")
        assert again.ok and again.confirmed


@pytest.mark.parametrize("fake_printer", ["paper_out"], indirect=True)
def test_paper_out_refuses_the_job(fake_printer: FakePrinter, ticket: bytes) -> None:
    """Paper out: PrintResult(ok=False, "paper_out") and nothing reaches the printer."""
    result = print_job(fake_printer.config, ticket, "B007")
    assert not result.ok
    assert result.error_code == "paper_out"
    assert result.message == "Máy in hết giấy"
    assert fake_printer.wait_for(1)
    assert fake_printer.jobs == []
    assert read_status(fake_printer.config).state == "paper_out"


@pytest.mark.parametrize("fake_printer", ["near_end"], indirect=True)
def test_paper_near_end_still_prints_and_warns(fake_printer: FakePrinter, ticket: bytes) -> None:
    """Near end: the ticket prints and the result carries the warning."""
    result = print_job(fake_printer.config, ticket, "B007")
    assert result.ok
    assert result.status is not None
    assert result.status.state == "paper_near_end"
    assert result.status.message == "Máy in sắp hết giấy"
    assert sent_job(fake_printer) == ticket


@pytest.mark.parametrize(
    ("fake_printer", "state", "error_code", "message"),
    [
        ("cover_open", "offline", "offline", "Nắp máy in đang mở"),
        ("error", "error", "error", "Máy in báo lỗi"),
    ],
    indirect=["fake_printer"],
)
def test_offline_causes_are_reported(
    fake_printer: FakePrinter, ticket: bytes, state: str, error_code: str, message: str
) -> None:
    """Cover open and printer errors are read from DLE EOT 2/3 and refuse the job."""
    status = read_status(fake_printer.config)
    assert (status.state, status.message) == (state, message)
    result = print_job(fake_printer.config, ticket, "B007")
    assert (result.ok, result.error_code, result.message) == (False, error_code, message)
    assert fake_printer.wait_for(2)
    assert fake_printer.jobs == []


@pytest.mark.parametrize("fake_printer", ["silent"], indirect=True)
def test_silent_printer_times_out_quickly(fake_printer: FakePrinter, ticket: bytes) -> None:
    """A printer that accepts but never answers fails fast as a timeout, not as "paper OK"."""
    config = {**fake_printer.config, "status_timeout": 0.5}
    started = time.monotonic()
    result = print_job(config, ticket, "B007")
    elapsed = time.monotonic() - started
    assert elapsed < 3.0
    assert (result.ok, result.error_code) == (False, "timeout")
    assert result.message == "Máy in không phản hồi"
    started = time.monotonic()
    status = read_status(config)
    assert time.monotonic() - started < 3.0
    assert status.state == "offline"
    assert fake_printer.wait_for(2)
    assert fake_printer.jobs == []


def test_silent_printer_with_default_timeouts_fails_within_3_s(ticket: bytes) -> None:
    """The default status timeout alone keeps a hung printer under 3 s."""
    with FakePrinter("silent") as fake:
        started = time.monotonic()
        result = print_job(fake.config, ticket, "B007")
        assert time.monotonic() - started < 3.0
        assert result.error_code == "timeout"


def test_connection_refused_is_offline(ticket: bytes) -> None:
    """Nothing listening on the port: offline, with the Vietnamese message."""
    config = {"backend": "network", "host": "127.0.0.1", "port": closed_port()}
    result = print_job(config, ticket, "B007")
    assert (result.ok, result.error_code) == (False, "offline")
    assert result.message == "Không kết nối được máy in"
    assert read_status(config).state == "offline"


@pytest.mark.parametrize("fake_printer", ["garbage"], indirect=True)
def test_non_escpos_answer_is_unknown_and_prints(fake_printer: FakePrinter, ticket: bytes) -> None:
    """An answer that is not an ESC/POS status byte reads as unknown, and the job is sent."""
    assert read_status(fake_printer.config).state == "unknown"
    result = print_job(fake_printer.config, ticket, "B007")
    assert result.ok and result.confirmed
    assert fake_printer.wait_for(2)
    assert fake_printer.jobs[0].startswith(ticket)


@pytest.mark.parametrize("fake_printer", ["silent"], indirect=True)
def test_status_check_can_be_turned_off(fake_printer: FakePrinter, ticket: bytes) -> None:
    """check_status=False sends the job without asking (printers that never answer DLE EOT)."""
    config = {**fake_printer.config, "check_status": False, "confirm": "none"}
    result = print_job(config, ticket, "B007")
    assert result.ok and not result.confirmed  # sent, not printed
    assert fake_printer.wait_for(1)
    assert fake_printer.jobs == [ticket]
    assert fake_printer.queries == []


def test_file_backend_writes_bytes_and_preview(tmp_path: Path, ticket: bytes) -> None:
    """The file backend writes <job>.bin (the bytes) and <job>.png (a readable preview)."""
    config = {"backend": "file", "folder": str(tmp_path / "out")}
    rendered = render_receipt(RECEIPT)
    assert print_job(config, ticket, "B007 21/11", preview=rendered).ok
    assert print_job(config, ticket, "decoded").ok
    written = sorted(path.name for path in (tmp_path / "out").iterdir())
    assert written == ["B007_21_11.bin", "B007_21_11.png", "decoded.bin", "decoded.png"]
    assert (tmp_path / "out" / "decoded.bin").read_bytes() == ticket
    with Image.open(tmp_path / "out" / "B007_21_11.png") as passed:
        assert passed.size == rendered.size
    with Image.open(tmp_path / "out" / "decoded.png") as preview:
        paper = decode(ticket).page()
        assert preview.size == paper.size
        texts = [r.text for r in zxingcpp.read_barcodes(preview.convert("L"))]
        assert texts == [RECEIPT.status_url]
    assert read_status(config).state == "online"


def test_file_backend_reports_an_unwritable_folder(tmp_path: Path, ticket: bytes) -> None:
    """A folder path that is a file fails the job with an error, no exception."""
    blocker = tmp_path / "not-a-folder"
    blocker.write_text("x")
    result = print_job({"backend": "file", "folder": str(blocker)}, ticket, "B007")
    assert (result.ok, result.error_code) == (False, "error")
    assert read_status({"backend": "file", "folder": str(blocker)}).state == "error"


@pytest.mark.parametrize(
    ("state", "ok", "error_code"),
    [("online", True, None), ("paper_out", False, "paper_out"), ("timeout", False, "timeout")],
)
def test_dummy_backend_simulates_states(state: str, ok: bool, error_code: str | None) -> None:
    """The dummy backend prints nothing and answers like a printer in the configured state."""
    result = print_job({"backend": "dummy", "state": state}, b"\x1b@", "x")
    assert (result.ok, result.error_code) == (ok, error_code)


def test_bad_configs_fail_softly() -> None:
    """Unknown backends and missing settings give a failed result, never an exception."""
    for config in (
        {"backend": "carrier-pigeon"},
        {"backend": "network"},
        {"backend": "file"},
        {"backend": "network", "host": "127.0.0.1", "port": "not-a-port"},
        {"backend": "usb"},
        {"backend": "serial"},
        {"backend": "cups"},
    ):
        result = print_job(config, b"\x1b@", "x")
        assert not result.ok, config
        assert result.error_code == "error", config
        assert read_status(config).state in ("error", "offline"), config


def test_usb_without_pyusb_says_what_is_missing() -> None:
    """Without pyusb the USB backend fails with a message naming the library."""
    from escpos.printer import Usb

    if Usb.is_usable():
        pytest.skip("pyusb is installed: the missing-library path cannot be exercised")
    result = print_job({"backend": "usb", "vendor_id": "0x04b8", "product_id": "0x0202"}, b"", "x")
    assert (result.ok, result.error_code) == (False, "error")
    assert "pyusb" in result.message


def _fake_command(folder: Path, name: str, script: str) -> None:
    path = folder / name
    path.write_text("#!/bin/sh\n" + script)
    path.chmod(path.stat().st_mode | stat.S_IXUSR)


def test_cups_backend_sends_raw_bytes_through_lp(
    tmp_path: Path, ticket: bytes, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The CUPS backend pipes the raw job to `lp -d <printer> -o raw` and reads `lpstat`."""
    received = tmp_path / "received.bin"
    _fake_command(tmp_path, "lp", f'echo "$@" > {tmp_path}/args; cat > {received}\n')
    _fake_command(tmp_path, "lpstat", 'echo "printer $2 is idle.  enabled since today"\n')
    monkeypatch.setenv("PATH", f"{tmp_path}{os.pathsep}{os.environ['PATH']}")
    config = {"backend": "cups", "printer": "kiosk1"}
    result = print_job(config, ticket, "B007")
    assert result.ok, result.message
    assert received.read_bytes() == ticket
    assert (tmp_path / "args").read_text().split()[:4] == ["-d", "kiosk1", "-o", "raw"]
    assert read_status(config).state == "unknown"  # CUPS does not know the paper


def test_cups_failure_is_offline(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """`lp` refusing the job (queue missing or disabled) reads as offline."""
    _fake_command(tmp_path, "lp", 'echo "lp: The printer or class does not exist." >&2; exit 1\n')
    _fake_command(tmp_path, "lpstat", 'echo "printer $2 disabled since today"\n')
    monkeypatch.setenv("PATH", f"{tmp_path}{os.pathsep}{os.environ['PATH']}")
    config = {"backend": "cups", "printer": "missing"}
    result = print_job(config, b"\x1b@", "x")
    assert (result.ok, result.error_code) == (False, "offline")
    assert read_status(config).state == "offline"


def scripted(answers: dict[int, bytes]) -> PrinterStatus:
    """Run the status query against a channel that answers DLE EOT n with answers[n]."""
    asked: list[int] = []

    def write(data: bytes) -> None:
        assert data[:2] == b"\x10\x04"
        asked.append(data[2])

    def read() -> bytes:
        return answers.get(asked[-1], b"")

    return query_realtime_status(write, read)


@pytest.mark.parametrize(
    ("answers", "state"),
    [
        ({1: b"\x12", 4: b"\x12"}, "online"),
        ({1: b"\x12", 4: b"\x1e"}, "paper_near_end"),
        ({1: b"\x12", 4: b"\x72"}, "paper_out"),
        ({1: b"\x1a", 2: b"\x32", 4: b"\x12"}, "paper_out"),
        ({1: b"\x1a", 2: b"\x16", 4: b"\x12"}, "offline"),
        ({1: b"\x1a", 2: b"\x52", 3: b"\x1a", 4: b"\x12"}, "error"),
        ({1: b"\x12"}, "offline"),  # paper sensor silent: NOT paper OK
        ({}, "offline"),
        ({1: b"\xff", 4: b"\x12"}, "unknown"),
    ],
)
def test_status_bytes_are_interpreted(answers: dict[int, bytes], state: str) -> None:
    """DLE EOT answers map to states; an empty answer never reads as online."""
    assert scripted(answers).state == state


def test_every_message_is_vietnamese() -> None:
    """User-facing messages carry Vietnamese diacritics (none left in English)."""
    vietnamese = set("ăâđêôơưáàảãạấầẩẫậắằẳẵặéèẻẽẹếềểễệíìỉĩịóòỏõọốồổỗộớờởỡợúùủũụứừửữựýỳỷỹỵ")
    for key, message in MESSAGES.items():
        assert vietnamese & set(message.lower()), key


# --- the backend interface: the admin form and the device checks read it ----------------------

FORMS = [
    # (form values, stored config or the fields refused)
    ({"backend": "none"}, {"backend": "none", "width_px": 576, "cut": False}),
    (
        {"backend": "file", "width_px": "384", "cut": "on", "path": " /tmp/in "},
        {"backend": "file", "width_px": 384, "cut": True, "path": "/tmp/in"},
    ),
    (
        {"backend": "network", "host": "192.168.1.50", "port": "", "profile": "TM-T20II"},
        {
            "backend": "network",
            "width_px": 576,
            "cut": False,
            "host": "192.168.1.50",
            "port": 9100,
            "profile": "TM-T20II",
            "confirm": "process_id",
        },
    ),
    ({"backend": "network", "host": "máy in", "port": "99999"}, {"host", "port"}),
    (
        {"backend": "usb", "vendor_id": "0x04b8", "product_id": "0202"},
        {
            "backend": "usb",
            "width_px": 576,
            "cut": False,
            "vendor_id": "0x04b8",
            "product_id": "0202",
            "confirm": "process_id",
        },
    ),
    (
        {"backend": "usb", "vendor_id": "epson", "width_px": "500"},
        {"vendor_id", "product_id", "width_px"},
    ),
    (
        {"backend": "serial", "devfile": "COM3"},
        {
            "backend": "serial",
            "width_px": 576,
            "cut": False,
            "devfile": "COM3",
            "confirm": "process_id",
        },
    ),
    ({"backend": "serial", "devfile": "ttyUSB0"}, {"devfile"}),
    (
        {"backend": "cups", "printer": "TM_T20"},
        {"backend": "cups", "width_px": 576, "cut": False, "printer": "TM_T20"},
    ),
    ({"backend": "cups", "printer": "máy in"}, {"printer"}),
    (
        {"backend": "dummy", "host": "ignored"},
        {"backend": "dummy", "width_px": 576, "cut": False},
    ),
]


@pytest.mark.parametrize(("values", "expected"), FORMS)
def test_each_backend_cleans_its_own_form(
    values: dict[str, str], expected: dict[str, object] | set[str]
) -> None:
    """A backend keeps its own fields, typed, and names each field it refuses, in Vietnamese."""
    config, errors = BACKENDS[values["backend"]].clean(values)
    if isinstance(expected, set):
        assert set(errors) == expected
        assert all(m != MESSAGES["config"] and not m.isascii() for m in errors.values())
    else:
        assert errors == {} and config == expected


def test_the_registry_holds_every_backend_once_with_its_fields() -> None:
    """Seven backends, each with a Vietnamese label and distinct field keys; none prints."""
    assert list(BACKENDS) == ["none", "file", "network", "usb", "serial", "cups", "dummy"]
    for backend in BACKENDS.values():
        keys = [f.key for f in backend.fields]
        assert backend.label and len(keys) == len(set(keys)), backend.name
    assert printer_off({"backend": "none"}) and printer_off({"backend": "off"})
    assert not printer_off({"backend": "dummy"}) and not printer_off({})
    assert print_job({"backend": "none"}, b"x", "j").error_code == "error"


def test_usb_ids_read_as_hex_however_typed() -> None:
    """'0x04b8', '04b8' (as the form accepts) and 1208 all mean vendor 0x04B8."""
    field = BACKENDS["usb"].field("vendor_id")
    assert {field.read({"vendor_id": v}) for v in ("0x04b8", "04b8", 0x04B8)} == {0x04B8}
    with pytest.raises(PrinterError):
        field.read({})
