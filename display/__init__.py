"""The lobby display (/display/) and its Vietnamese voice announcements."""

from __future__ import annotations

from flask import Blueprint

bp = Blueprint(
    "display",
    __name__,
    url_prefix="/display",
    template_folder="templates",
    static_folder="static",
)

from display import views  # noqa: E402,F401  (routes attach to bp)
from display.events import register_namespaces  # noqa: E402

__all__ = ["bp", "register_namespaces"]
