"""Administration (/admin, role admin) and the device side of pairing (/device)."""

from __future__ import annotations

from flask import Blueprint, Flask

bp = Blueprint(
    "admin",
    __name__,
    url_prefix="/admin",
    template_folder="templates",
    static_folder="static",
)
# Public: a device exchanges its pairing code here, and screens fetch officers' photos.
device_bp = Blueprint("device", __name__, template_folder="templates")

from motcua.admin import (  # noqa: E402,F401  (routes attach to the blueprints)
    appointment_views,
    device_views,
    session_views,
    views,
)


def register_admin(app: Flask) -> None:
    """Attach /admin and /device to the app (called by create_app)."""
    app.register_blueprint(bp)
    app.register_blueprint(device_bp)


__all__ = ["bp", "device_bp", "register_admin"]
