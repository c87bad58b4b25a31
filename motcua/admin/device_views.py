"""The device side: exchange a pairing code for a token, report in, fetch officers' photos."""

from __future__ import annotations

from typing import Any

from flask import make_response, redirect, render_template, request, send_file

from motcua.admin import device_bp
from motcua.auth import DEVICE_COOKIE, device_from_request, require_device
from motcua.errors import DomainError, ValidationFailed
from motcua.services import devices, staff

# A paired screen keeps its token for years; an admin revokes it when needed.
COOKIE_MAX_AGE = 10 * 365 * 24 * 3600
HINT_COOKIE = "motcua_paired"  # readable by the page's script: "send heartbeats"


def _device_json(device: devices.DeviceView) -> dict[str, Any]:
    return {
        "name": device.name,
        "kind": device.kind,
        "site": device.site_code,
        "counter": device.counter_number,
        "home": device.home_path,
    }


@device_bp.route("/device/", methods=["GET"])
def whoami() -> Any:
    """Which device this browser is paired as (or a link to pair it)."""
    try:
        device = device_from_request()
    except DomainError as exc:
        return render_template("admin/device_whoami.html", device=None, error=str(exc.message))
    return render_template("admin/device_whoami.html", device=device, error=None)


@device_bp.route("/device/pair", methods=["GET", "POST"])
def pair() -> Any:
    """Enter the pairing code an administrator gave; the device keeps its token as a cookie."""
    if request.method == "GET":
        return render_template("admin/pair.html", code=request.args.get("code", ""), error=None)
    code = request.form.get("code", "")
    try:
        device, token = devices.pair(code, ip=request.remote_addr)
    except DomainError as exc:
        return render_template("admin/pair.html", code=code, error=str(exc.message)), exc.status
    response = make_response(redirect(device.home_path))
    secure = request.is_secure
    response.set_cookie(
        DEVICE_COOKIE,
        token,
        max_age=COOKIE_MAX_AGE,
        httponly=True,
        samesite="Lax",
        secure=secure,
    )
    response.set_cookie(HINT_COOKIE, "1", max_age=COOKIE_MAX_AGE, samesite="Lax", secure=secure)
    return response


@device_bp.route("/device/api/pair", methods=["POST"])
def pair_api() -> Any:
    """JSON pairing for non-browser devices: {"code"} → {"token", "device"} (token shown once)."""
    body = request.get_json(silent=True)
    if not isinstance(body, dict) or not isinstance(body.get("code"), str):
        raise ValidationFailed(field="code")
    device, token = devices.pair(body["code"], ip=request.remote_addr)
    return {"token": token, "token_type": "Device", "device": _device_json(device)}


@device_bp.route("/device/api/heartbeat", methods=["POST"])
def heartbeat() -> Any:
    """A paired screen reports in (its last-seen time; online on the admin page)."""
    device = require_device(*devices.KINDS)
    return {"ok": True, "device": _device_json(device)}


@device_bp.route("/photos/<name>")
def photo(name: str) -> Any:
    """An officer's photo (random file names; shown on rating tablets)."""
    return send_file(staff.photo_path(name), mimetype="image/jpeg", max_age=3600)
