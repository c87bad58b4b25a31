"""The landing page that lists the hall's screens."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, current_app, render_template

bp = Blueprint("web", __name__, template_folder="templates")


@bp.route("/")
def index() -> Any:
    """Links to every screen of the hall."""
    return render_template("index.html", endpoints=set(current_app.view_functions))


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
