"""The citizen kiosk (/kiosk/) and the public ticket-status page the QR opens (/t/<token>)."""

from __future__ import annotations

from flask import Blueprint

# No url_prefix: the status page lives at /t/<token>, so kiosk routes carry /kiosk themselves.
bp = Blueprint(
    "kiosk",
    __name__,
    template_folder="templates",
    static_folder="static",
    static_url_path="/kiosk/static",
)

from kiosk import booking_views, views  # noqa: E402,F401  (routes attach to bp)
from kiosk.events import register_namespaces  # noqa: E402

__all__ = ["bp", "register_namespaces"]
