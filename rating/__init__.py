"""The rating tablet at each counter (/rating/) and the phone rating of the ticket's QR."""

from __future__ import annotations

from flask import Blueprint

bp = Blueprint(
    "rating",
    __name__,
    url_prefix="/rating",
    template_folder="templates",
    static_folder="static",
)

from rating import views  # noqa: E402,F401  (routes attach to bp)
from rating.events import register_namespaces  # noqa: E402

__all__ = ["bp", "register_namespaces"]
