"""``motcua doctor``: is this machine ready to serve a hall? One plain result per check.

Each check returns a ``CheckResult``: OK, WARN (works, but look at it) or FAIL (something a
citizen or an officer will notice), with a Vietnamese sentence saying what was found and
what to do. Checks take their inputs as arguments (config values, executables, ``now``) so
that every outcome can be staged in a test with real parts.
"""

from __future__ import annotations

import datetime as dt
import os
import shutil
import socket
import subprocess
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from flask import Flask

CONNECT_TIMEOUT_S = 2.0
SECRET_MIN_LENGTH = 32
CLOCK_SKEW_WARN_S = 5.0
# Every vowel with every tone mark, and đ: the letters a font must draw for Vietnamese.
VIETNAMESE_LETTERS = (
    "ÀÁẢÃẠĂẰẮẲẴẶÂẦẤẨẪẬĐÈÉẺẼẸÊỀẾỂỄỆÌÍỈĨỊÒÓỎÕỌÔỒỐỔỖỘƠỜỚỞỠỢÙÚỦŨỤƯỪỨỬỮỰỲÝỶỸỴ"
    "àáảãạăằắẳẵặâầấẩẫậđèéẻẽẹêềếểễệìíỉĩịòóỏõọôồốổỗộơờớởỡợùúủũụưừứửữựỳýỷỹỵ"
)


class Level(StrEnum):
    """How a check came out; FAIL makes ``motcua doctor`` exit non-zero."""

    OK = "OK"
    WARN = "WARN"
    FAIL = "FAIL"


@dataclass(frozen=True)
class CheckResult:
    """One check: its name (Vietnamese), level, what was found and what to do."""

    name: str
    level: Level
    message: str
    fix: str = ""


def worst(results: list[CheckResult]) -> Level:
    """The worst level among results (OK for none)."""
    levels = {r.level for r in results}
    for level in (Level.FAIL, Level.WARN):
        if level in levels:
            return level
    return Level.OK


# --------------------------------------------------------------------------- database


def check_database(app: Flask) -> CheckResult:
    """The database answers, and its schema is at the newest migration."""
    from alembic.migration import MigrationContext
    from alembic.script import ScriptDirectory

    from db import db

    name = "Cơ sở dữ liệu"
    with app.app_context():
        url = db.engine.url
        where = url.render_as_string(hide_password=True)
        try:
            with db.engine.connect() as conn:
                current = set(MigrationContext.configure(conn).get_current_heads())
        except Exception as exc:  # any driver error: the point is to report it
            return CheckResult(
                name,
                Level.FAIL,
                f"Không kết nối được cơ sở dữ liệu {where}: {_first_line(exc)}",
                "Kiểm tra FLASK_SQLALCHEMY_DATABASE_URI (máy chủ, cổng, tên, mật khẩu) và "
                "PostgreSQL đang chạy: sudo systemctl status postgresql.",
            )
        directory = app.extensions["migrate"].directory
    heads = set(ScriptDirectory(directory).get_heads())
    if not current:
        return CheckResult(
            name,
            Level.FAIL,
            f"Cơ sở dữ liệu {where} chưa được khởi tạo (chưa có phiên bản lược đồ).",
            "Chạy: motcua init",
        )
    if current != heads:
        return CheckResult(
            name,
            Level.FAIL,
            f"Lược đồ đang ở phiên bản {', '.join(sorted(current))}, bản mới nhất là "
            f"{', '.join(sorted(heads))}.",
            "Sao lưu (motcua backup) rồi nâng cấp: motcua init",
        )
    return CheckResult(name, Level.OK, f"{where}: kết nối được, lược đồ mới nhất.")


# --------------------------------------------------------------------------- printers


def check_printer(label: str, config: Mapping[str, Any]) -> CheckResult:
    """One receipt printer: its folder writable, its host:port answering, its device present."""
    name = f"Máy in {label}"
    backend = str(config.get("backend", "file"))
    if backend in ("none", "off"):
        return CheckResult(name, Level.OK, "Không dùng máy in (backend none).")
    if backend == "dummy":
        return CheckResult(
            name,
            Level.WARN,
            "Máy in giả lập (dummy): phiếu không được in ra giấy.",
            "Khai báo máy in thật trong PRINTER/PRINTERS (instance/config.py) hoặc ở trang quản "
            "trị thiết bị.",
        )
    checks: dict[str, Callable[[str, Mapping[str, Any]], CheckResult]] = {
        "file": _check_file_printer,
        "network": _check_network_printer,
        "usb": _check_usb_printer,
        "serial": _check_serial_printer,
        "cups": _check_cups_printer,
    }
    check = checks.get(backend)
    if check is None:
        return CheckResult(
            name,
            Level.FAIL,
            f"Kiểu máy in không hợp lệ: {backend!r}.",
            "Dùng một trong: file, network, usb, serial, cups, none.",
        )
    return check(name, config)


def _check_file_printer(name: str, config: Mapping[str, Any]) -> CheckResult:
    folder = Path(str(config.get("folder") or config.get("path") or ""))
    if not str(folder) or str(folder) == ".":
        return CheckResult(
            name, Level.FAIL, "Máy in kiểu file thiếu thư mục (path).", "Khai báo path."
        )
    try:
        folder.mkdir(parents=True, exist_ok=True)
        probe = folder / ".motcua-doctor"
        probe.write_bytes(b"")
        probe.unlink()
    except OSError as exc:
        return CheckResult(
            name,
            Level.FAIL,
            f"Không ghi được vào thư mục {folder}: {exc.strerror or exc}.",
            "Tạo thư mục và cấp quyền ghi cho người dùng chạy motcua "
            "(chown motcua:motcua), hoặc sửa path.",
        )
    return CheckResult(name, Level.OK, f"Ghi phiếu vào thư mục {folder} (không in ra giấy).")


def _check_network_printer(name: str, config: Mapping[str, Any]) -> CheckResult:
    host = str(config.get("host") or "")
    try:
        port = int(config.get("port") or 9100)
    except (TypeError, ValueError):
        port = -1
    if not host or not 0 < port < 65536:
        return CheckResult(
            name, Level.FAIL, "Máy in mạng thiếu host hoặc port.", "Khai báo host và port (9100)."
        )
    try:
        with socket.create_connection((host, port), timeout=CONNECT_TIMEOUT_S):
            pass
    except OSError as exc:
        return CheckResult(
            name,
            Level.FAIL,
            f"Không kết nối được máy in mạng {host}:{port}: {exc.strerror or exc}.",
            "Kiểm tra máy in đã bật, cáp mạng, địa chỉ IP của máy in (in trang cấu hình bằng "
            "cách giữ nút FEED khi bật máy) và tường lửa.",
        )
    return CheckResult(name, Level.OK, f"Máy in mạng {host}:{port} trả lời.")


def usb_devices(sysfs: Path = Path("/sys/bus/usb/devices")) -> set[tuple[int, int]]:
    """(vendor id, product id) of the USB devices the kernel sees."""
    found: set[tuple[int, int]] = set()
    for device in sysfs.glob("*"):
        try:
            vendor = int((device / "idVendor").read_text().strip(), 16)
            product = int((device / "idProduct").read_text().strip(), 16)
        except (OSError, ValueError):
            continue
        found.add((vendor, product))
    return found


def _id(value: Any) -> int | None:
    try:
        return int(value, 0) if isinstance(value, str) else int(value)
    except (TypeError, ValueError):
        return None


def _check_usb_printer(name: str, config: Mapping[str, Any]) -> CheckResult:
    vendor, product = _id(config.get("vendor_id")), _id(config.get("product_id"))
    if vendor is None or product is None:
        return CheckResult(
            name,
            Level.FAIL,
            "Máy in USB thiếu vendor_id hoặc product_id.",
            "Xem mã bằng lệnh lsusb (ví dụ 04b8:0e15) rồi khai báo vendor_id, product_id.",
        )
    ids = f"{vendor:04x}:{product:04x}"
    if (vendor, product) not in usb_devices():
        return CheckResult(
            name,
            Level.FAIL,
            f"Không thấy máy in USB {ids}.",
            "Kiểm tra cáp USB và nguồn của máy in; lsusb phải liệt kê mã này. Nếu thấy mà "
            "không in được, cần luật udev cho phép nhóm lp truy cập.",
        )
    return CheckResult(name, Level.OK, f"Máy in USB {ids} đang cắm.")


def _check_serial_printer(name: str, config: Mapping[str, Any]) -> CheckResult:
    devfile = str(config.get("devfile") or "")
    if not devfile:
        return CheckResult(
            name, Level.FAIL, "Máy in cổng COM thiếu devfile.", "Khai báo devfile (/dev/ttyUSB0)."
        )
    if not os.path.exists(devfile):
        return CheckResult(
            name,
            Level.FAIL,
            f"Không thấy cổng {devfile}.",
            "Kiểm tra cáp và bộ chuyển USB–COM; xem tên cổng bằng ls /dev/ttyUSB* /dev/ttyS*.",
        )
    if not os.access(devfile, os.R_OK | os.W_OK):
        return CheckResult(
            name,
            Level.FAIL,
            f"Không có quyền đọc/ghi cổng {devfile}.",
            "Thêm người dùng chạy motcua vào nhóm dialout: sudo usermod -aG dialout motcua.",
        )
    return CheckResult(name, Level.OK, f"Cổng {devfile} sẵn sàng.")


def _check_cups_printer(name: str, config: Mapping[str, Any]) -> CheckResult:
    queue = str(config.get("printer") or "")
    lpstat = shutil.which("lpstat")
    if not lpstat:
        return CheckResult(
            name, Level.FAIL, "Không có CUPS (lệnh lpstat).", "Cài đặt: sudo apt install cups."
        )
    done = subprocess.run(
        [lpstat, "-p", queue], capture_output=True, text=True, timeout=5, check=False
    )
    if done.returncode != 0:
        return CheckResult(
            name,
            Level.FAIL,
            f"CUPS không có máy in {queue!r}.",
            "Xem các máy in bằng lpstat -p và khai báo đúng tên.",
        )
    return CheckResult(name, Level.OK, f"CUPS có máy in {queue}.")


def check_printers(app: Flask) -> list[CheckResult]:
    """Every configured kiosk printer (the default PRINTER, then PRINTERS by kiosk)."""
    from motcua.services import print_jobs

    with app.app_context():
        try:
            names = print_jobs.printer_names(app)
            configs = [(n, print_jobs.printer_config(n, app)) for n in names]
        except Exception:  # the database is down: the configured ones still say something
            per_kiosk = app.config.get("PRINTERS") or {}
            configs = [(None, dict(app.config.get("PRINTER") or {}))]
            configs += [(n, dict(c)) for n, c in sorted(per_kiosk.items())]
            for _, config in configs:
                if config.get("backend", "file") == "file" and not config.get("path"):
                    config["path"] = str(Path(app.instance_path) / "prints")
    return [check_printer(name or "mặc định", config) for name, config in configs]


# --------------------------------------------------------------------------- fonts and voice


def glyph_missing(font: Any, letters: str) -> str:
    """The letters a font draws as its 'missing glyph' box (or not at all)."""
    notdef = bytes(font.getmask("\U000f0000"))  # a private-use code point: never in a font
    return "".join(ch for ch in letters if bytes(font.getmask(ch)) == notdef)


def check_font(path: Path | None = None) -> CheckResult:
    """The receipt font loads and draws every Vietnamese letter."""
    from PIL import ImageFont

    from printer.fonts import FontNotFoundError, font_path

    name = "Phông chữ tiếng Việt"
    try:
        path = path or font_path(400)
        font = ImageFont.truetype(str(path), 24)
    except (FontNotFoundError, OSError) as exc:
        return CheckResult(
            name,
            Level.FAIL,
            f"Không nạp được phông chữ: {exc}.",
            "Cài lại motcua (gói fontpkg-be-vietnam-pro) hoặc: sudo apt install fonts-dejavu-core.",
        )
    missing = glyph_missing(font, VIETNAMESE_LETTERS)
    if missing:
        return CheckResult(
            name,
            Level.FAIL,
            f"Phông {path.name} thiếu {len(missing)} chữ tiếng Việt (ví dụ {missing[:8]}).",
            "Dùng phông có đủ chữ tiếng Việt: Be Vietnam Pro (đi kèm motcua), DejaVu Sans hoặc "
            "Noto Sans.",
        )
    return CheckResult(name, Level.OK, f"{path.name}: đủ chữ tiếng Việt.")


def check_espeak(executable: str = "espeak-ng", needed: bool = True) -> CheckResult:
    """espeak-ng is installed and speaks with its Vietnamese voice ``vi``."""
    name = "Giọng đọc espeak-ng"
    found = shutil.which(executable)
    level = Level.FAIL if needed else Level.WARN
    if not found:
        return CheckResult(
            name,
            level,
            "Chưa cài espeak-ng: màn hình không có giọng đọc dự phòng khi thiếu bộ ghi âm "
            "và trình duyệt không có giọng tiếng Việt.",
            "Cài đặt: sudo apt install espeak-ng",
        )
    try:
        done = subprocess.run(
            [found, "-v", "vi", "--stdout", "một hai ba"],
            capture_output=True,
            timeout=10,
            check=False,
        )
    except (OSError, subprocess.TimeoutExpired) as exc:
        return CheckResult(name, level, f"espeak-ng không chạy được: {exc}.", "")
    if done.returncode != 0 or not done.stdout.startswith(b"RIFF"):
        return CheckResult(
            name,
            level,
            "espeak-ng không có giọng tiếng Việt (vi): "
            + done.stderr.decode(errors="replace").strip()[:120],
            "Cài lại dữ liệu giọng đọc: sudo apt install --reinstall espeak-ng-data",
        )
    return CheckResult(name, Level.OK, "espeak-ng đọc được tiếng Việt (giọng vi).")


# --------------------------------------------------------------------------- clock


def ntp_synchronized(timedatectl: str | None = "timedatectl") -> bool | None:
    """True/False from timedatectl's NTPSynchronized; None when it cannot tell."""
    found = shutil.which(timedatectl) if timedatectl else None
    if not found:
        return None
    try:
        done = subprocess.run(
            [found, "show", "--property=NTPSynchronized", "--value"],
            capture_output=True,
            text=True,
            timeout=5,
            check=False,
        )
    except (OSError, subprocess.TimeoutExpired):
        return None
    value = done.stdout.strip()
    if done.returncode != 0 or value not in ("yes", "no"):
        return None
    return value == "yes"


def check_clock(
    timezone: str,
    now: dt.datetime | None = None,
    timedatectl: str | None = "timedatectl",
    database_now: dt.datetime | None = None,
) -> CheckResult:
    """The hall's time zone is known, the clock is plausible, and NTP keeps it right."""
    name = "Đồng hồ và múi giờ"
    try:
        zone = ZoneInfo(timezone)
    except (ZoneInfoNotFoundError, ValueError):
        return CheckResult(
            name,
            Level.FAIL,
            f"Không có dữ liệu múi giờ {timezone!r}: ngày làm việc và giờ trên phiếu sẽ sai.",
            "Cài đặt: sudo apt install tzdata (hoặc pip install tzdata), và kiểm tra TIMEZONE "
            "(Asia/Ho_Chi_Minh).",
        )
    now = now or dt.datetime.now(dt.UTC)
    local = now.astimezone(zone)
    if not 2024 <= now.year < 2100:
        return CheckResult(
            name,
            Level.FAIL,
            f"Đồng hồ hệ thống sai: {local:%d/%m/%Y %H:%M} — số thứ tự và báo cáo sẽ sai ngày.",
            "Chỉnh giờ và bật đồng bộ giờ qua mạng: sudo timedatectl set-ntp true",
        )
    shown = f"{local:%H:%M %d/%m/%Y} ({timezone})"
    if database_now is not None:
        skew = abs((database_now - now).total_seconds())
        if skew > CLOCK_SKEW_WARN_S:
            return CheckResult(
                name,
                Level.WARN,
                f"Đồng hồ máy này lệch {skew:.0f} giây so với máy chủ cơ sở dữ liệu.",
                "Bật đồng bộ giờ (NTP) trên cả hai máy: sudo timedatectl set-ntp true",
            )
    synced = ntp_synchronized(timedatectl)
    if synced is False:
        return CheckResult(
            name,
            Level.WARN,
            f"Giờ hiện tại {shown}, nhưng đồng hồ chưa được đồng bộ qua mạng (NTP).",
            "Bật đồng bộ giờ: sudo timedatectl set-ntp true (cần mạng tới máy chủ NTP).",
        )
    if synced is None and timedatectl:
        return CheckResult(
            name,
            Level.WARN,
            f"Giờ hiện tại {shown}; không xác định được trạng thái đồng bộ giờ (NTP).",
            "Kiểm tra bằng: timedatectl status (dòng 'System clock synchronized: yes').",
        )
    return CheckResult(name, Level.OK, f"Giờ hiện tại {shown}.")


def database_clock(app: Flask) -> dt.datetime | None:
    """The database server's clock (PostgreSQL), or None (SQLite shares this machine's)."""
    import sqlalchemy as sa

    from db import db

    with app.app_context():
        if db.engine.dialect.name != "postgresql":
            return None
        try:
            with db.engine.connect() as conn:
                value = conn.scalar(sa.text("SELECT now()"))
        except Exception:  # reported by check_database
            return None
    return value if isinstance(value, dt.datetime) else None


# --------------------------------------------------------------------------- secrets and queue


def check_secret_key(secret_key: Any) -> CheckResult:
    """The secret key that signs sessions is not the default and is long enough."""
    from motcua.config import KNOWN_SECRET_KEYS

    name = "Khóa bí mật (SECRET_KEY)"
    fix = (
        "Đặt FLASK_SECRET_KEY trong /etc/motcua/motcua.env, tạo bằng: "
        "python3 -c 'import secrets; print(secrets.token_hex(32))'"
    )
    key = secret_key if isinstance(secret_key, str | bytes) else ""
    if not key or key in KNOWN_SECRET_KEYS:
        return CheckResult(
            name,
            Level.FAIL,
            "Đang dùng khóa mặc định: ai cũng có thể giả mạo phiên đăng nhập của cán bộ.",
            fix,
        )
    if len(key) < SECRET_MIN_LENGTH:
        return CheckResult(
            name, Level.WARN, f"Khóa quá ngắn ({len(key)} ký tự, cần ít nhất 32).", fix
        )
    return CheckResult(name, Level.OK, f"Khóa riêng, {len(key)} ký tự.")


def check_message_queue(queue_url: str | None, database_url: str) -> CheckResult:
    """With a message queue (several processes): not SQLite, and Redis answers."""
    name = "Hàng đợi tin nhắn (Redis)"
    if not queue_url:
        return CheckResult(
            name,
            Level.OK,
            "Không dùng: chạy một tiến trình máy chủ (đủ cho một sảnh).",
        )
    if database_url.startswith("sqlite"):
        return CheckResult(
            name,
            Level.FAIL,
            "SQLite không dùng được cho nhiều tiến trình máy chủ (có SOCKETIO_MESSAGE_QUEUE).",
            "Dùng PostgreSQL (FLASK_SQLALCHEMY_DATABASE_URI=postgresql+psycopg://…) hoặc bỏ "
            "SOCKETIO_MESSAGE_QUEUE và chạy một tiến trình.",
        )
    if not queue_url.startswith(("redis://", "rediss://", "unix://")):
        return CheckResult(
            name,
            Level.WARN,
            f"Chỉ kiểm tra được Redis; hàng đợi {queue_url.split('://')[0]} không được kiểm tra.",
            "Khuyên dùng Redis của Debian: redis://127.0.0.1:6379/0",
        )
    try:
        import redis
    except ImportError:
        return CheckResult(
            name,
            Level.FAIL,
            "Thiếu thư viện redis cho Python.",
            "Cài đặt: pip install 'motcua[prod]'",
        )
    client = redis.Redis.from_url(
        queue_url, socket_connect_timeout=CONNECT_TIMEOUT_S, socket_timeout=CONNECT_TIMEOUT_S
    )
    try:
        client.ping()
    except redis.RedisError as exc:
        return CheckResult(
            name,
            Level.FAIL,
            f"Không kết nối được Redis: {_first_line(exc)}",
            "Khởi động Redis: sudo systemctl enable --now redis-server; kiểm tra "
            "FLASK_SOCKETIO_MESSAGE_QUEUE.",
        )
    finally:
        client.close()
    return CheckResult(name, Level.OK, "Redis trả lời.")


# --------------------------------------------------------------------------- all of them


def run_checks(
    app: Flask, now: dt.datetime | None = None, timedatectl: str | None = "timedatectl"
) -> list[CheckResult]:
    """Every check, in the order an installer fixes things."""
    config = app.config
    sources = [str(s) for s in config.get("VOICE_SOURCES") or []]
    results = [check_database(app)]
    results += check_printers(app)
    results += [
        check_font(),
        check_espeak(needed="server" in sources or "espeak" in sources),
        check_clock(
            str(config.get("TIMEZONE", "Asia/Ho_Chi_Minh")),
            now=now,
            timedatectl=timedatectl,
            database_now=database_clock(app) if now is None else None,
        ),
        check_secret_key(config.get("SECRET_KEY")),
        check_message_queue(
            config.get("SOCKETIO_MESSAGE_QUEUE"), str(config["SQLALCHEMY_DATABASE_URI"])
        ),
    ]
    return results


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()
    return text[0][:200] if text else type(exc).__name__
