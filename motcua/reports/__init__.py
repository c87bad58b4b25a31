"""Reports for leaders and administrators (/reports/) and their live view (/reports/live)."""

from __future__ import annotations

from flask import Blueprint

bp = Blueprint(
    "reports",
    __name__,
    url_prefix="/reports",
    template_folder="templates",
    static_folder="static",
)

from motcua.reports import views  # noqa: E402,F401  (routes attach to bp)
from motcua.reports.events import register_namespaces  # noqa: E402

__all__ = ["bp", "register_namespaces"]
