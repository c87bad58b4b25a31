"""One install, two instance folders: the hall and a session laptop, each its own machine."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from motcua import create_app, timeutil
from motcua.cli import main
from motcua.launch import command_name
from motcua.services import print_jobs
from tests.conftest import PASSWORD
from tests.support.escpos_decode import decode
from tests.support.sessions import SAT, close_app

zxingcpp = pytest.importorskip("zxingcpp")

LAPTOP_URL = "http://192.168.5.20:5000"


def motcua(*args: str, instance: Path | None = None, env_instance: Path | None = None,
           stdin: str | None = None) -> Result:  # fmt: skip
    """Run the `motcua` command: the folder by --instance or by MOTCUA_INSTANCE."""
    env = {"MOTCUA_INSTANCE": str(env_instance) if env_instance else None}
    flags = ["--instance", str(instance)] if instance else []
    result = CliRunner(env=env).invoke(main, [*flags, *args], input=stdin)
    assert result.exit_code == 0, result.output
    return result


def hall_tickets(folder: Path) -> int:
    """Tickets in the hall's SQLite file, read without an app (read-only)."""
    with sqlite3.connect(f"file:{folder / 'motcua.sqlite3'}?mode=ro", uri=True) as conn:
        return int(conn.execute("SELECT count(*) FROM tickets").fetchone()[0])


def files_of(folder: Path) -> dict[str, tuple[int, int]]:
    """Every file of a folder with its size and modification time."""
    return {p.name: (p.stat().st_size, p.stat().st_mtime_ns) for p in folder.iterdir()}


def kit_from_the_hall(hall: Path, kit: Path) -> Path:
    """At the hall (its own folder): init, an officer, a mobile session planned, its kit."""
    hall.mkdir()
    (hall / "config.py").write_text('PUBLIC_BASE_URL = "http://hall.test"\n', encoding="utf-8")
    motcua("init", instance=hall)
    motcua("user", "add", "canbo1", "--role", "officer", "--name", "Nguyễn Thị Lan",
           "--password-stdin", instance=hall, stdin=PASSWORD + "\n")  # fmt: skip
    motcua("session", "plan", "--kind", "mobile", "--place", "Nhà văn hóa thôn Đông", "--date",
           "28/11/2026", "--areas", "A", "--officers", "canbo1", instance=hall)  # fmt: skip
    motcua("session", "kit", "ld-20261128", "-o", str(kit), instance=hall)
    return kit


@pytest.fixture(autouse=True)
def machine(monkeypatch: pytest.MonkeyPatch) -> None:
    """Saturday morning; cheap hashes; no gc.freeze of the test process (FLASK_* settings)."""
    monkeypatch.setattr(timeutil, "utcnow", lambda: SAT)
    monkeypatch.setenv("FLASK_PASSWORD_HASH_METHOD", "pbkdf2:sha256:1000")
    monkeypatch.setenv("FLASK_GC_FREEZE", "false")


def test_hall_and_session_laptop_run_from_one_install(tmp_path: Path) -> None:
    """Kit from the hall's folder, opened in the laptop's: its ticket's QR points to the laptop."""
    hall, laptop = tmp_path / "hall", tmp_path / "laptop"
    kit = kit_from_the_hall(hall, tmp_path / "kit.json")
    hall_files = files_of(hall)

    opened = motcua("session", "open", str(kit), "--public-url", LAPTOP_URL, env_instance=laptop)
    assert f"Mã QR trên phiếu trỏ về máy này: {LAPTOP_URL}" in opened.output
    assert (laptop / "phien-ld-20261128.sqlite3").exists() and (laptop / "config.py").exists()
    app = create_app(instance_path=laptop)  # what `motcua serve` builds on the laptop
    try:
        assert app.config["SITE_CODE"] == "ld-20261128"
        issued = app.test_client().post(
            "/kiosk/api/tickets", json={"service": "A"}, headers={"Idempotency-Key": "tap-1"}
        )
        assert issued.status_code == 201, issued.json
        token = issued.json["ticket"]["token"]
        assert print_jobs.wait_for_prints(app, timeout=10)
    finally:
        close_app(app)
    (job,) = sorted((laptop / "prints").glob("*.bin"))  # the print preview lives on the laptop
    (qr,) = zxingcpp.read_barcodes(decode(job.read_bytes()).page().convert("L"))
    assert qr.text == f"{LAPTOP_URL}/t/{token}"

    records = tmp_path / "records.json"
    motcua("session", "records", "-o", str(records), env_instance=laptop)
    assert files_of(hall) == hall_files and hall_tickets(hall) == 0  # untouched until the sync
    imported = motcua("session", "import", str(records), instance=hall)
    assert "1 số thứ tự" in imported.output and hall_tickets(hall) == 1


def test_open_offers_the_found_address_and_takes_the_officers_own(tmp_path: Path) -> None:
    """Without --public-url the officer is shown an address and may type another; bad is refused."""
    from motcua.services import lan

    kit = kit_from_the_hall(tmp_path / "hall", tmp_path / "kit.json")
    laptop = tmp_path / "laptop"
    typed = "ftp://x\nhttp://10.1.2.3:8000/\n"
    opened = motcua("session", "open", str(kit), "--port", "8000", "--no-config",
                    instance=laptop, stdin=typed)  # fmt: skip
    host = lan.lan_address()
    if host is not None:
        assert f"http://{host}:8000" in opened.output  # the found address, shown to confirm
    assert "phải có dạng http://" in opened.output  # the ftp address was refused
    assert "PUBLIC_BASE_URL = 'http://10.1.2.3:8000'" in opened.output


def test_the_serve_command_is_found_after_the_instance_option() -> None:
    """`motcua --instance PATH serve` patches for gevent: PATH is not taken for the command."""
    assert command_name(["--instance", "/srv/hall", "serve", "--port", "80"]) == "serve"
    assert command_name(["--instance=/srv/hall", "serve"]) == "serve"
    assert command_name(["session", "open", "kit.json"]) == "session"
