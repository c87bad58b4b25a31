"""The officer's counter console (/counter/): call, recall, serve, transfer, pause."""

from __future__ import annotations

from flask import Blueprint

bp = Blueprint(
    "counter",
    __name__,
    url_prefix="/counter",
    template_folder="templates",
    static_folder="static",
)

from counter import views  # noqa: E402,F401  (routes attach to bp)
from counter.events import register_namespaces  # noqa: E402

__all__ = ["bp", "register_namespaces"]
