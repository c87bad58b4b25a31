"""``motcua doctor``: each check passes on a ready machine and fails, in Vietnamese, when not."""

from __future__ import annotations

import shutil
import socket
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa

from db import db
from motcua import create_app
from motcua.services import doctor
from motcua.services.doctor import Level
from tests.conftest import T0, make_config
from tests.support.parts import missing_part

GOOD_KEY = "k" * 64


def closed_port() -> int:
    """A loopback port nothing listens on (bound, then released)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def migrated_app(tmp_path: Path, **overrides: Any) -> Any:
    """An app whose SQLite schema was made by `motcua init` (the migrations)."""
    config = make_config(
        f"sqlite:///{tmp_path / 'hall.sqlite3'}",
        SECRET_KEY=GOOD_KEY,
        PRINTER={"backend": "file", "path": str(tmp_path / "prints")},
        VOICE_SOURCES=["clips", "browser"],
    )
    config.update(overrides)
    app = create_app(config)
    result = app.test_cli_runner().invoke(args=["init"])
    assert result.exit_code == 0, result.output
    return app


@pytest.fixture
def redis_url() -> Iterator[str]:
    """A real Redis server on a free loopback port, for the test's duration."""
    server = shutil.which("redis-server")
    if not server:
        missing_part("redis-server not installed (apt-get install redis-server; .ci/run does)")
    port = closed_port()
    proc = subprocess.Popen(
        [server, "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"],
        stdout=subprocess.DEVNULL,
    )
    try:
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
                break
            except OSError:
                time.sleep(0.05)
        yield f"redis://127.0.0.1:{port}/0"
    finally:
        proc.terminate()
        proc.wait(timeout=10)


# --------------------------------------------------------------------------- the command


def test_doctor_fails_on_an_unready_machine(runner: Any) -> None:
    """The test app: no migrations, a test secret key, a dummy printer: exit 1, each named."""
    result = runner.invoke(args=["doctor", "--no-ntp"])
    assert result.exit_code == 1, result.output
    assert "[FAIL] Cơ sở dữ liệu" in result.output
    assert "→ Chạy: motcua init" in result.output
    assert "[WARN] Máy in mặc định: Máy in giả lập (dummy)" in result.output
    assert "[WARN] Khóa bí mật (SECRET_KEY): Khóa quá ngắn (11 ký tự" in result.output
    assert "lỗi cần sửa" in result.output


def test_doctor_passes_on_a_ready_machine(tmp_path: Path) -> None:
    """Migrated database, writable printer folder, own key, no queue: exit 0."""
    app = migrated_app(tmp_path)
    result = app.test_cli_runner().invoke(args=["doctor", "--no-ntp"])
    assert result.exit_code == 0, result.output
    assert "[FAIL]" not in result.output
    assert "[OK  ] Cơ sở dữ liệu" in result.output
    assert f"[OK  ] Máy in mặc định: Ghi phiếu vào thư mục {tmp_path / 'prints'}" in result.output
    assert "[OK  ] Đồng hồ và múi giờ" in result.output


# --------------------------------------------------------------------------- database


def test_database_at_head_passes_and_behind_fails(tmp_path: Path) -> None:
    """Migrated: OK; the version table set back one revision: FAIL, asks for motcua init."""
    app = migrated_app(tmp_path)
    assert doctor.check_database(app).level is Level.OK
    with app.app_context(), db.engine.begin() as conn:
        conn.execute(sa.text("UPDATE alembic_version SET version_num = '0001'"))
    result = doctor.check_database(app)
    assert result.level is Level.FAIL
    assert "Lược đồ đang ở phiên bản 0001" in result.message
    assert "motcua init" in result.fix


def test_database_unreachable_fails(tmp_path: Path) -> None:
    """A PostgreSQL URL where nothing listens: FAIL, with what to check."""
    url = f"postgresql+psycopg://motcua:x@127.0.0.1:{closed_port()}/motcua"
    app = create_app(make_config(url, SQLALCHEMY_ENGINE_OPTIONS={}))
    result = doctor.check_database(app)
    assert result.level is Level.FAIL
    assert result.message.startswith("Không kết nối được cơ sở dữ liệu")
    assert "FLASK_SQLALCHEMY_DATABASE_URI" in result.fix


# --------------------------------------------------------------------------- printers


def test_file_printer_folder_writable_or_not(tmp_path: Path) -> None:
    """A folder it can write: OK; a folder under a regular file: FAIL."""
    ok = doctor.check_printer("sảnh 1", {"backend": "file", "path": str(tmp_path / "p")})
    assert ok.level is Level.OK and (tmp_path / "p").is_dir()
    blocker = tmp_path / "a-file"
    blocker.write_text("")
    bad = doctor.check_printer("sảnh 1", {"backend": "file", "path": str(blocker / "p")})
    assert bad.level is Level.FAIL
    assert bad.name == "Máy in sảnh 1" and "Không ghi được vào thư mục" in bad.message


def test_network_printer_reachable_or_not() -> None:
    """A listening host:port: OK; a closed port: FAIL within the short timeout."""
    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen()
        port = listener.getsockname()[1]
        ok = doctor.check_printer("x", {"backend": "network", "host": "127.0.0.1", "port": port})
    assert ok.level is Level.OK, ok
    started = time.monotonic()
    bad = doctor.check_printer(
        "x", {"backend": "network", "host": "127.0.0.1", "port": closed_port()}
    )
    assert bad.level is Level.FAIL and "Không kết nối được máy in mạng" in bad.message
    assert time.monotonic() - started < doctor.CONNECT_TIMEOUT_S + 1


def test_serial_and_usb_devices_present_or_not() -> None:
    """A character device that exists: OK; a missing port or USB id: FAIL."""
    assert doctor.check_printer("x", {"backend": "serial", "devfile": "/dev/null"}).level is (
        Level.OK
    )
    missing = doctor.check_printer("x", {"backend": "serial", "devfile": "/dev/ttyKHONGCO9"})
    assert missing.level is Level.FAIL and "Không thấy cổng /dev/ttyKHONGCO9" in missing.message
    usb = doctor.check_printer("x", {"backend": "usb", "vendor_id": "0xfffe", "product_id": 1})
    assert usb.level is Level.FAIL and "Không thấy máy in USB fffe:0001" in usb.message


def test_unknown_backend_fails_and_dummy_warns() -> None:
    """A typo in the backend: FAIL; the dummy printer in production: WARN."""
    assert doctor.check_printer("x", {"backend": "netwrok"}).level is Level.FAIL
    assert doctor.check_printer("x", {"backend": "dummy"}).level is Level.WARN
    assert doctor.check_printer("x", {"backend": "none"}).level is Level.OK


# --------------------------------------------------------------------------- font and voice


def test_bundled_font_has_vietnamese_and_a_broken_one_fails(tmp_path: Path) -> None:
    """The receipt font: OK; a file that is no font: FAIL."""
    assert doctor.check_font().level is Level.OK
    broken = tmp_path / "broken.ttf"
    broken.write_bytes(b"not a font")
    result = doctor.check_font(broken)
    assert result.level is Level.FAIL and "Không nạp được phông chữ" in result.message


def test_font_without_vietnamese_letters_fails() -> None:
    """A font that loads but lacks the letters (Noto Sans Ogham): FAIL, naming some."""
    path = Path("/usr/share/fonts/truetype/noto/NotoSansOgham-Regular.ttf")
    if not path.exists():
        missing_part("fonts-noto-core not installed (apt-get install fonts-noto-core)")
    result = doctor.check_font(path)
    assert result.level is Level.FAIL
    assert "thiếu 134 chữ tiếng Việt" in result.message


def test_espeak_speaks_vietnamese_or_is_missing() -> None:
    """espeak-ng with voice vi: OK; a missing executable: FAIL (WARN when not used)."""
    if not shutil.which("espeak-ng"):
        missing_part("espeak-ng not installed (apt-get install espeak-ng)")
    assert doctor.check_espeak().level is Level.OK
    assert doctor.check_espeak("espeak-ng-khong-co").level is Level.FAIL
    assert doctor.check_espeak("espeak-ng-khong-co", needed=False).level is Level.WARN


# --------------------------------------------------------------------------- clock, key, queue


def test_clock_and_time_zone() -> None:
    """A plausible time in a known zone: OK; a clock in 2001 or an unknown zone: FAIL."""
    ok = doctor.check_clock("Asia/Ho_Chi_Minh", now=T0, timedatectl=None)
    assert ok.level is Level.OK and "08:15 23/11/2026" in ok.message
    old = doctor.check_clock("Asia/Ho_Chi_Minh", now=T0.replace(year=2001), timedatectl=None)
    assert old.level is Level.FAIL and "Đồng hồ hệ thống sai" in old.message
    assert doctor.check_clock("Asia/Khong_Co", now=T0, timedatectl=None).level is Level.FAIL
    skewed = doctor.check_clock(
        "Asia/Ho_Chi_Minh", now=T0, timedatectl=None, database_now=T0.replace(second=30)
    )
    assert skewed.level is Level.WARN and "lệch 27 giây" in skewed.message


def test_secret_key() -> None:
    """The default key: FAIL; a short one: WARN; 64 characters: OK."""
    assert doctor.check_secret_key("dev-insecure-change-me").level is Level.FAIL
    assert doctor.check_secret_key("ngan").level is Level.WARN
    assert doctor.check_secret_key(GOOD_KEY).level is Level.OK


def test_message_queue_refuses_sqlite_and_needs_redis(redis_url: str) -> None:
    """No queue: OK; a queue with SQLite: FAIL; Redis answering: OK; nothing there: FAIL."""
    pg = "postgresql+psycopg://motcua:x@127.0.0.1/motcua"
    assert doctor.check_message_queue(None, "sqlite:///x").level is Level.OK
    sqlite = doctor.check_message_queue(redis_url, "sqlite:///x")
    assert sqlite.level is Level.FAIL and "SQLite" in sqlite.message
    assert doctor.check_message_queue(redis_url, pg).level is Level.OK
    down = doctor.check_message_queue(f"redis://127.0.0.1:{closed_port()}/0", pg)
    assert down.level is Level.FAIL and "Không kết nối được Redis" in down.message
