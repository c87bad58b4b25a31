"""Default settings. Every setting can be overridden by the instance folder's
``config.py`` or by an environment variable ``FLASK_<NAME>`` (nested keys with
``__``, e.g. ``FLASK_PRINTER__BACKEND=network``)."""

from __future__ import annotations

import os
import secrets
from pathlib import Path
from typing import Any


def N_(text: str) -> str:
    """Mark a default for the catalogue: shown translated while it is left as shipped
    (motcua.i18n.data_text)."""
    return text


#: Keys published with motcua (the demo's old default): refused in every mode.
KNOWN_SECRET_KEYS = frozenset({"dev-insecure-change-me"})
#: The key generated for an instance that configures none (mode 0600).
SECRET_KEY_FILE = "secret_key"
#: The environment variable that chooses the instance folder (``motcua --instance`` beats it).
INSTANCE_ENV = "MOTCUA_INSTANCE"

DEFAULTS: dict[str, Any] = {
    # Flask / security. None: the instance's own generated key (<instance>/secret_key).
    "SECRET_KEY": None,
    "ENV_PRODUCTION": False,
    "PASSWORD_HASH_METHOD": "scrypt",  # werkzeug method; tests use a cheap one
    "SESSION_COOKIE_SAMESITE": "Lax",  # never sent on cross-site POSTs (CSRF on the API)
    # Database: SQLite file in the instance folder unless a URL is given.
    "SQLALCHEMY_DATABASE_URI": None,
    "SQLALCHEMY_ENGINE_OPTIONS": {},
    # The hall
    "SITE_CODE": "main",
    "TIMEZONE": "Asia/Ho_Chi_Minh",
    "PUBLIC_BASE_URL": "http://localhost:5000",
    # Queue policy
    "PRIORITY_POLICY": "strict",  # strict | interleave | manual
    "PRIORITY_EVERY_N": 3,  # interleave: one priority ticket after N normal ones
    "PRIORITY_CATEGORIES": {
        "elderly": N_("Người cao tuổi"),
        "disabled": N_("Người khuyết tật"),
        "pregnant": N_("Phụ nữ mang thai / bế con nhỏ"),
        "merit": N_("Người có công với cách mạng, thương binh"),
    },
    "NOSHOW_REQUEUE": True,  # back of the queue after a miss
    "NOSHOW_MAX_MISSES": 2,  # ticket ends as no-show after this many misses
    "DEFAULT_SERVICE_MINUTES": 6,  # estimate before any ticket of the day was served
    "TICKET_DIGITS": 3,
    # API
    "API_TOKEN_MAX_AGE": 12 * 3600,
    # Realtime
    "SOCKETIO_PING_INTERVAL": 5,
    "SOCKETIO_PING_TIMEOUT": 5,
    "SOCKETIO_MESSAGE_QUEUE": None,  # redis://… : several processes (docs/cluster.md)
    # None: gevent in a gevent-patched (served) process, else threading (motcua.async_mode).
    "SOCKETIO_ASYNC_MODE": None,
    # None: ["websocket"] with a message queue (no sticky sessions needed), else both.
    "SOCKETIO_TRANSPORTS": None,
    # Housekeeping (expiring tickets of earlier days) in served processes; one process of a
    # cluster runs it (motcua/server.py). 0 turns it off.
    "HOUSEKEEPING_INTERVAL_S": 600,
    # Proxies in front that set X-Forwarded-For/-Proto (nginx of deploy/: 1). With 0 the client
    # address is the TCP peer's; behind nginx that is 127.0.0.1 for everyone, and login
    # throttling per address would count every client as one.
    "TRUSTED_PROXIES": 0,
    # Move everything alive once the app is built out of the garbage collector's reach
    # (gc.freeze): a full collection then walks only what was made since, not the whole
    # process (measured: 80-150 ms pauses without it). Not applied to test apps.
    "GC_FREEZE": True,
    # Counter console: officer username -> counter number (fixed seat); others choose at login.
    "COUNTER_ASSIGNMENTS": {},
    # Lobby display
    "DISPLAY_MESSAGE": (
        "Trung tâm Phục vụ hành chính công kính chào Quý khách. Vui lòng lấy số thứ tự tại "
        "máy lấy số và chờ đến lượt. Quý khách được ưu tiên xin báo cán bộ tại quầy. "
        "Xin trân trọng cảm ơn!"
    ),
    "DISPLAY_RECENT_CALLS": 8,  # rows of the "recent calls" list
    "DISPLAY_FLASH_SECONDS": 8,  # how long a new call flashes
    "DISPLAY_ANNOUNCE_MISSED_SECONDS": 60,  # after a reconnect, still announce calls this recent
    # Voice announcements ({so} = the ticket number read aloud, {quay} = the counter)
    "ANNOUNCE_TEMPLATE": "Xin mời công dân có số thứ tự {so} đến quầy số {quay}",
    "ANNOUNCE_REPEAT": 2,
    "ANNOUNCE_CHIME": True,  # False: no chime; or the path of the hall's own WAV
    "ANNOUNCE_DIGITS": "number",  # number: "a mười hai" | each: "a không một hai"
    "ANNOUNCE_LINH": "linh",  # or "lẻ"
    "ANNOUNCE_THOUSAND": "nghìn",  # or "ngàn" (southern halls): 1023 = "một ngàn không trăm…"
    "ANNOUNCE_LETTER_NAMES": {},  # e.g. {"F": "ép-phờ"}
    # Tried in order by the display: clips (VOICE_CLIPS_DIR), browser (vi-VN Web Speech voice),
    # server (espeak-ng rendered and cached in instance/voice-cache).
    "VOICE_SOURCES": ["clips", "browser", "server"],
    "VOICE_CLIPS_DIR": None,
    "VOICE_ESPEAK_SPEED": 140,
    "VOICE_CACHE_MAX_MB": 200,
    # Printer (one per kiosk later; this is the default kiosk's)
    "PRINTER": {"backend": "file", "path": None, "width_px": 576},
    # Kiosk printers by kiosk name (/kiosk/?kiosk=NAME), each like PRINTER; others use PRINTER.
    # A file printer without a path writes to <instance>/prints; backend "none" = no printer.
    "PRINTERS": {},
    "TICKET_FOOTER": N_("Cảm ơn Quý khách!"),
    # Kiosk: reprint from the kiosk within this many seconds of issue, at most this often.
    "KIOSK_REPRINT_WINDOW_S": 120,
    "KIOSK_REPRINT_MAX": 2,
    "KIOSK_IDLE_TIMEOUT_S": 30,  # the ticket screen goes back to the start after this
    # The kiosk issues numbers only in these hours (hall time); None or {} = always.
    "WORKING_HOURS": {"mon-fri": ["07:30-11:30", "13:30-17:00"], "sat": ["07:30-11:30"]},
    # Appointments (issue 17; the rules per area are in the admin's "Lịch hẹn" page).
    "APPOINTMENT_EARLY_MIN": 15,  # a slot's check-in opens this long before it starts
    "APPOINTMENT_LATE_MIN": 10,  # ... and closes this long after (then: no-show)
    # priority: an appointment's ticket is placed like a priority one (PRIORITY_POLICY:
    # strict = first, interleave = one after N normal); normal: it joins the queue at check-in.
    "APPOINTMENT_QUEUE": "priority",
    "REMOTE_HOLD_MINUTES": 60,  # a number taken from home must be checked in within this
    "APPOINTMENT_MAX_PER_ADDRESS": 6,  # bookings and holds per day from one address
    "APPOINTMENT_MAX_PER_BROWSER": 2,  # ... and from one browser (its cookie)
    # Rating (đánh giá mức độ hài lòng). Labels best first; a level's score is its rank
    # from the bottom (3 levels: Rất hài lòng = 3, Hài lòng = 2, Không hài lòng = 1).
    "RATING_QUESTION": N_(
        "Ông/Bà đánh giá như thế nào về thái độ công chức khi hướng dẫn và tiếp nhận "
        "giải quyết hồ sơ?"
    ),
    # RATING_SCALE and RATING_REASONS: below, with the administration settings.
    # Reasons are offered on a low score (score <= RATING_LOW_MAX; None = the lower half).
    "RATING_LOW_MAX": None,
    "RATING_WINDOW_HOURS": 24,  # the phone (QR) may rate within this time after the finish
    "RATING_TABLET_WINDOW_S": 600,  # the counter's tablet may rate this long after the finish
    "RATING_TABLET_TIMEOUT_S": 60,  # unanswered question on the tablet: recorded as unrated
    "RATING_THANKS_S": 6,  # the thank-you screen, then back to idle
    # Rating tablet (read through motcua.services.settings; the admin page edits them).
    # Best first; "level" is the score stored with a rating (1 = the worst answer).
    "RATING_SCALE": [
        {"level": 3, "label": N_("Rất hài lòng")},
        {"level": 2, "label": N_("Hài lòng")},
        {"level": 1, "label": N_("Không hài lòng")},
    ],
    "RATING_REASONS": [
        N_("Chờ lâu"),
        N_("Thái độ chưa tốt"),
        N_("Hướng dẫn chưa rõ"),
        N_("Phải đi lại nhiều lần"),
    ],
    # Printed on the ticket above the unit name; "" = the site's own name.
    "TICKET_HALL_NAME": "",
    # Administration and safety (docs/admin.md)
    # True: only paired kiosks (device token) may issue tickets; False keeps the demo open.
    "REQUIRE_DEVICE_PAIRING": False,
    "DEVICE_PAIRING_MINUTES": 15,  # a pairing code expires after this
    "DEVICE_ONLINE_SECONDS": 150,  # a device seen this recently shows as online
    # Login throttling per username and IP address: LOGIN_MAX_FAILURES wrong passwords within
    # the window are free, then each try waits LOGIN_DELAY_BASE_S doubling per failure, at most
    # LOGIN_DELAY_MAX_S (429 with Retry-After); never a lock: the administrator can lift it.
    "LOGIN_MAX_FAILURES": 5,
    "LOGIN_FAILURE_WINDOW_S": 15 * 60,
    "LOGIN_DELAY_BASE_S": 2,
    "LOGIN_DELAY_MAX_S": 120,
    "PHOTO_MAX_BYTES": 3 * 1024 * 1024,
    # Personal data (motcua/services/privacy.py, docs/security.md): dossier codes, transfer
    # notes, cancel reasons and rating comments are erased after this many days (tickets stay
    # as anonymous statistics); phone and ID numbers typed into free text are masked at write.
    "RETENTION_DAYS": 90,
    "MASK_PERSONAL_TEXT": True,
    # Request bodies: small everywhere (413 beyond), larger only where a file is uploaded.
    "MAX_CONTENT_LENGTH": 1024 * 1024,
    "PHOTO_UPLOAD_MAX_BYTES": 4 * 1024 * 1024,  # the photo plus its form
    "SESSION_IMPORT_MAX_BYTES": 64 * 1024 * 1024,  # a session's records bundle
    "CONTENT_SECURITY_POLICY": None,  # None: motcua's own ('self' only)
    "WTF_CSRF_CHECK_DEFAULT": False,  # motcua.security decides which requests need a token
    "WTF_CSRF_TIME_LIMIT": None,  # the token lives as long as the session
    # OpenAPI (flask-smorest)
    "API_TITLE": "motcua API",
    "API_VERSION": "v1",
    "OPENAPI_VERSION": "3.0.3",
    "OPENAPI_URL_PREFIX": "/api/v1",
    "OPENAPI_JSON_PATH": "openapi.json",
}


def instance_folder(explicit: str | os.PathLike[str] | None = None) -> str | None:
    """The instance folder chosen for this process: the given path, else ``MOTCUA_INSTANCE``.

    Absolute (Flask requires it; a relative path is taken from the current directory).
    None: Flask's default, the ``instance`` folder beside the package.
    """
    chosen = explicit or os.environ.get(INSTANCE_ENV) or None
    if chosen is None:
        return None
    return str(Path(chosen).expanduser().resolve())


def instance_secret_key(instance_path: str | Path) -> str:
    """The instance's generated secret key, created (mode 0600) on first use.

    Created with O_EXCL, so that two processes starting together agree on one key.
    """
    path = Path(instance_path) / SECRET_KEY_FILE
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        key = path.read_text(encoding="ascii").strip()
        if not key:
            raise RuntimeError(f"{path} is empty: delete it to have a new key generated") from None
        return key
    key = secrets.token_urlsafe(48)
    with os.fdopen(fd, "w", encoding="ascii") as out:
        out.write(key + "\n")
    return key


def resolve_secret_key(configured: Any, instance_path: str | Path, *, testing: bool) -> str:
    """The key to sign with: the configured one, else the instance's generated one.

    A published key is refused in every mode; a test app must set its own.
    """
    if configured in KNOWN_SECRET_KEYS:
        raise RuntimeError(
            "Refusing to start with a published SECRET_KEY: remove it from the configuration "
            "(motcua then generates one into the instance folder) or set your own"
        )
    if configured:
        return str(configured)
    if testing:
        raise RuntimeError("A test app must set its own SECRET_KEY")
    return instance_secret_key(instance_path)
