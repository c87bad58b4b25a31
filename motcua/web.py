"""The landing page that lists the hall's screens."""

from __future__ import annotations

import re
from typing import Any

from flask import Blueprint, current_app, render_template

bp = Blueprint("web", __name__, template_folder="templates")


@bp.route("/")
def index() -> Any:
    """Links to every screen of the hall."""
    return render_template("index.html", endpoints=set(current_app.view_functions))


_DEFAULT_COUNTER_NAME = re.compile(r"^\s*qu[ầa]y\s*(?:số\s*)?0*(\d+)\s*$", re.IGNORECASE)


@bp.app_template_filter("counter_name_adds")
def counter_name_adds(name: str | None, number: int) -> bool:
    """Does a counter's name say more than "Quầy <number>" (so it is worth showing)?"""
    found = _DEFAULT_COUNTER_NAME.match(name or "")
    return bool(name and name.strip()) and not (found and int(found.group(1)) == int(number))


@bp.app_template_filter("keep_words")
def keep_words(name: str) -> str:
    """An area name whose short parts never break across lines: "Tư pháp – Hộ tịch" wraps
    only at the dash, never as "Hộ / tịch" (no-break spaces inside parts of 1–2 words)."""
    parts = re.split(r"\s+[–-]\s+", str(name))
    kept = [p.replace(" ", "\u00a0") if len(p.split()) <= 2 else p for p in parts]
    return "\u00a0– ".join(kept)


@bp.route("/favicon.ico")
def favicon() -> Any:
    """No icon: answer 204 so that browsers log no error on every screen."""
    return "", 204


def settings_version_or_blank() -> str:
    """For the page templates: the settings' fingerprint, or "" if it cannot be read.

    An error page (say, the database is down) must still render; live.js ignores "".
    """
    from motcua.services import settings

    try:
        return settings.version()
    except Exception:  # noqa: BLE001  (never fail a page for its fingerprint)
        return ""


@bp.route("/settings/version")
def settings_version() -> Any:
    """The fingerprint of the hall's settings (motcua/static/js/live.js compares it)."""
    from motcua.services import settings

    return {"version": settings.version()}


@bp.route("/healthz")
def healthz() -> Any:
    """Liveness probe for a supervisor."""
    return {"ok": True}
