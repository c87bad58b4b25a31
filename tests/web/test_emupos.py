"""Our bytes on emupos, an Epson TM-T20III emulator (PyPI, Python 3.13, installed into
.venv-emupos by scripts/setup-emupos.sh): its rendered receipts' QR decodes, the job is
confirmed by the in-order GS r 1, and a paper-out printer fails the job with the reason.

emupos 0.4 does not emulate GS ( H (the process ID response): against it the ``process_id``
mode ends ``unconfirmed`` — never ``printed`` — which this test checks as well.
"""

from __future__ import annotations

import io
import json
import socket
import subprocess
import time
import urllib.request
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from PIL import Image

from printer.backends import print_job
from printer.receipt import WIDTH_58MM, WIDTH_80MM, Receipt, encode_receipt
from tests.support.parts import missing_part

zxingcpp = pytest.importorskip("zxingcpp")
ROOT = Path(__file__).resolve().parents[2]
EMUPOS = ROOT / ".venv-emupos" / "bin" / "emupos"
URL = "http://192.168.1.10:8000/t/Xk3_pQ7-vW2zAb9cDe0fGh1i"


def free_port() -> int:
    """A free TCP port on loopback."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


class Emupos:
    """A running emupos with one TM-T20III on TCP, and its control API."""

    def __init__(self, folder: Path) -> None:
        self.port, self.api = free_port(), free_port()
        config = folder / "emupos.yaml"
        config.write_text(
            "schema: 1\n"
            f"api: {{ host: 127.0.0.1, port: {self.api} }}\n"
            "devices:\n"
            "  - id: front\n"
            "    type: printer\n"
            "    profile: epson-tm-t20iii\n"
            f"    connections:\n      - tcp: {{ port: {self.port} }}\n"
            f"    receipts_dir: {folder / 'receipts'}\n",
            encoding="utf-8",
        )
        self.process = subprocess.Popen(
            [str(EMUPOS), "run", "--config", str(config)],
            cwd=folder,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        deadline = time.monotonic() + 20
        while True:
            try:
                self.call("GET", "/health")
                break
            except OSError:
                if time.monotonic() > deadline or self.process.poll() is not None:
                    self.close()
                    raise RuntimeError("emupos did not start") from None
                time.sleep(0.2)

    def call(self, method: str, path: str) -> bytes:
        """One control API request; the body."""
        request = urllib.request.Request(f"http://127.0.0.1:{self.api}/api/v1{path}", method=method)
        with urllib.request.urlopen(request, timeout=5) as answer:
            return bytes(answer.read())

    def config(self, **extra: Any) -> dict[str, Any]:
        """Our network backend config for the emulated printer."""
        return {"backend": "network", "host": "127.0.0.1", "port": self.port, **extra}

    def receipts(self) -> list[dict[str, Any]]:
        """The receipts it completed."""
        return list(json.loads(self.call("GET", "/devices/front/receipts")))

    def image(self, receipt_id: str) -> Image.Image:
        """A completed receipt, rendered by emupos."""
        png = self.call("GET", f"/devices/front/receipts/{receipt_id}/image")
        return Image.open(io.BytesIO(png))

    def close(self) -> None:
        """Stop it."""
        self.process.terminate()
        try:
            self.process.wait(10)
        except subprocess.TimeoutExpired:
            self.process.kill()


@pytest.fixture(scope="module")
def emupos(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Emupos]:
    """emupos running for this module (skipped, or failed in CI, where it is missing)."""
    if not EMUPOS.exists():
        missing_part("emupos not installed (needs Python >= 3.13: scripts/setup-emupos.sh)")
    running = Emupos(tmp_path_factory.mktemp("emupos"))
    yield running
    running.close()


def receipt(**overrides: Any) -> Receipt:
    """A ticket with a real-length status URL."""
    data: dict[str, Any] = {
        "hall_name": "Trung tâm Phục vụ hành chính công",
        "unit_name": "Phường Ba Đình",
        "code": "A012",
        "area_name": "Tư pháp – Hộ tịch",
        "counters": ["01", "02"],
        "waiting": 5,
        "issued_at": datetime(2026, 11, 23, 1, 15, 3, tzinfo=UTC),
        "status_url": URL,
        **overrides,
    }
    return Receipt(**data)


@pytest.mark.parametrize("width", [WIDTH_80MM, WIDTH_58MM])
def test_emupos_prints_our_ticket_and_its_qr_reads(emupos: Emupos, width: int) -> None:
    """Confirmed by GS r 1; emupos's own rendering (GS L margins applied) holds a readable QR."""
    before = len(emupos.receipts())
    data = encode_receipt(receipt(priority_label="Người cao tuổi", reprint=True), width)
    result = print_job(emupos.config(confirm="status"), data, "A012")
    assert result.ok and result.confirmed, result.message
    deadline = time.monotonic() + 10
    while len(emupos.receipts()) == before and time.monotonic() < deadline:
        time.sleep(0.1)
    latest = emupos.receipts()[-1]
    page = emupos.image(latest["id"])
    found = zxingcpp.read_barcodes(page.convert("L"))
    assert [f.text for f in found] == [URL]
    if width == latest["width_dots"]:
        # The QR sits in the middle of the paper: emupos applied the GS L left margins. (It
        # emulates an 80 mm printer: where a 58 mm layout lands on it says nothing.)
        corners = found[0].position
        middle = (corners.top_left.x + corners.top_right.x) / 2
        assert abs(middle - width / 2) <= 8


def test_emupos_paper_out_and_unsupported_confirmation_are_not_printed(emupos: Emupos) -> None:
    """Paper out: refused with the reason; GS ( H (not emulated): unconfirmed, not printed."""
    data = encode_receipt(receipt())
    emupos.call("PUT", "/devices/front/faults/paper-out")
    try:
        out = print_job(emupos.config(confirm="status", status_timeout=0.5), data, "A012")
    finally:
        emupos.call("DELETE", "/devices/front/faults/paper-out")
    assert (out.ok, out.error_code) == (False, "paper_out")
    silent = print_job(emupos.config(confirm_timeout=1.0, status_timeout=0.5), data, "A012")
    assert (silent.ok, silent.confirmed, silent.error_code) == (False, False, "unconfirmed")
