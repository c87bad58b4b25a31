"""Display views: the lobby board page and its announcement audio."""

from __future__ import annotations

import logging
import re
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from flask import Response, abort, current_app, jsonify, render_template, request, send_file
from flask_babel import gettext as _

from display import bp, voice
from display.events import display_filter, parse_filter
from motcua.errors import DeviceForbidden, DeviceNotPaired
from motcua.services import sites
from motcua.services.devices import DISPLAY
from motcua.services.settings import effective_config
from motcua.sites import request_site_code, unpaired_page

log = logging.getLogger(__name__)

# Ticket codes are a letter prefix and digits (A012, B1023); counters are small numbers.
CODE_RE = re.compile(r"^[^\W\d_]{1,3}\d{1,6}$")
MAX_COUNTER = 999
SERVER_SOURCES = (voice.SOURCE_CLIPS, voice.SOURCE_SERVER)


def _check_call(code: str, counter: int) -> None:
    if not CODE_RE.match(code) or not 0 < counter <= MAX_COUNTER:
        abort(404)


def site_config() -> Mapping[str, Any]:
    """The settings in force for this display's site (its own over the installation's)."""
    return sites.site_settings(request_site_code())


def chime_setting(config: Mapping[str, Any]) -> bool | Path:
    """ANNOUNCE_CHIME: True (the bundled chime), False (none) or the hall's own WAV file."""
    value = config.get("ANNOUNCE_CHIME", True)
    if isinstance(value, bool):
        return value
    return Path(value) if value else False


def voice_sources(config: Mapping[str, Any]) -> list[str]:
    """VOICE_SOURCES in order, without clips when no clip pack is configured."""
    try:
        order = voice.normalize_source_order(config.get("VOICE_SOURCES") or ())
    except ValueError:
        log.error("bad VOICE_SOURCES %r; using the default", config.get("VOICE_SOURCES"))
        order = voice.normalize_source_order(voice.DEFAULT_SOURCE_ORDER)
    if not config.get("VOICE_CLIPS_DIR"):
        order = tuple(s for s in order if s != voice.SOURCE_CLIPS)
    return list(order)


def announcement_for(code: str, counter: int, config: Mapping[str, Any]) -> str:
    """The configured call phrase for a ticket and a counter."""
    return voice.announcement_text(
        config.get("ANNOUNCE_TEMPLATE"),
        code,
        counter,
        digits=config.get("ANNOUNCE_DIGITS", "number"),
        linh=config.get("ANNOUNCE_LINH", "linh"),
        thousand=config.get("ANNOUNCE_THOUSAND", "nghìn"),
        letter_names=config.get("ANNOUNCE_LETTER_NAMES") or None,
    )


@bp.route("/")
def index() -> Any:
    """The lobby board of the request's site; ?areas=A,B and ?counters=1,2 limit it."""
    try:
        wanted = display_filter(
            request.args.get("areas"), request.args.get("counters"), request.args.get("site")
        )
    except (DeviceNotPaired, DeviceForbidden) as exc:
        return unpaired_page(DISPLAY, exc)
    snapshot = wanted.snapshot()
    config = effective_config(site_id=snapshot["site"]["id"])
    settings = {
        "filter": {
            "areas": list(wanted.areas),
            "counters": list(wanted.counters),
            "site": parse_filter(site=request.args.get("site")).site,  # as the address named it
        },
        "voice": {
            "sources": voice_sources(config),
            "repeat": int(config.get("ANNOUNCE_REPEAT", 2)),
            "lang": "vi-VN",
        },
        "flash_seconds": int(config.get("DISPLAY_FLASH_SECONDS", 8)),
        "recent_calls": int(config.get("DISPLAY_RECENT_CALLS", 8)),
        "announce_missed_seconds": int(config.get("DISPLAY_ANNOUNCE_MISSED_SECONDS", 60)),
        "timezone": config.get("TIMEZONE", "Asia/Ho_Chi_Minh"),
    }
    messages = {
        "counter": _("Quầy"),
        "recall": _("Gọi lại"),
        "waiting": _("đang chờ"),
        "idle": _("Chưa có số nào được gọi"),
        "enable_sound": _("Bấm vào màn hình để bật âm thanh thông báo"),
    }
    return render_template(
        "display/board.html",
        snapshot=snapshot,
        settings=settings,
        messages=messages,
        message=config.get("DISPLAY_MESSAGE") or "",
    )


@bp.route("/announce/<code>/<int:counter>")
def announcement(code: str, counter: int) -> Any:
    """The phrase to speak for a call, and where to fetch it as audio, per source."""
    _check_call(code, counter)
    config = site_config()
    try:
        text = announcement_for(code, counter, config)
    except ValueError:
        log.exception("bad announcement settings")
        abort(500)
    audio = {
        source: f"{request.script_root}{bp.url_prefix}/voice/{code}/{counter}.wav?source={source}"
        for source in voice_sources(config)
        if source in SERVER_SOURCES
    }
    chime_url = f"{request.script_root}{bp.url_prefix}/sounds/chime.wav"
    return jsonify(
        {
            "text": text,
            "audio": audio,
            "repeat": int(config.get("ANNOUNCE_REPEAT", 2)),
            "chime": chime_url if chime_setting(config) is not False else None,
        }
    )


@bp.route("/voice/<code>/<int:counter>.wav")
def voice_wav(code: str, counter: int) -> Any:
    """The announcement as WAV (chime + phrase x repeat), rendered offline and cached."""
    _check_call(code, counter)
    config = site_config()
    source = request.args.get("source", voice.SOURCE_SERVER)
    if source not in SERVER_SOURCES:
        abort(404)
    clips_dir = config.get("VOICE_CLIPS_DIR")
    try:
        rendered = voice.render(
            announcement_for(code, counter, config),
            source_order=(source,),
            repeat=max(1, int(config.get("ANNOUNCE_REPEAT", 2))),
            chime=chime_setting(config),
            cache_dir=Path(current_app.instance_path) / "voice-cache",
            clips_dir=Path(clips_dir) if clips_dir else None,
            espeak=voice.EspeakSettings(speed=int(config.get("VOICE_ESPEAK_SPEED", 140))),
            cache_max_bytes=int(config.get("VOICE_CACHE_MAX_MB", 200)) * 1024 * 1024,
        )
    except voice.VoiceUnavailable as exc:
        log.warning("voice unavailable: %s", exc)
        return jsonify(
            {
                "error": "voice_unavailable",
                "message": _("Không phát được thông báo bằng giọng nói."),
            }
        ), 503
    response = Response(rendered.wav, mimetype="audio/wav")
    response.headers["Cache-Control"] = "public, max-age=3600"
    response.headers["X-Voice-Source"] = rendered.source
    response.headers["X-Voice-Cached"] = "1" if rendered.cached else "0"
    return response


@bp.route("/sounds/chime.wav")
def chime() -> Any:
    """The call chime (played before the browser's own voice)."""
    chime_file = chime_setting(site_config())
    if chime_file is False:
        abort(404)
    path = voice.CHIME_PATH if chime_file is True else chime_file
    return send_file(path, mimetype="audio/wav", max_age=86400)
