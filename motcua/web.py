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


@bp.route("/healthz")
def healthz() -> Any:
    """Liveness probe for a supervisor."""
    return {"ok": True}
