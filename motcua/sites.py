"""Sites by address: the ``/s/<site_code>/`` prefix, and what a request says about its site.

``SitePrefix`` is a small WSGI middleware, outermost (around Socket.IO's): a request to
``/s/phuong-2/kiosk/`` reaches the app as ``/kiosk/`` with ``SCRIPT_NAME`` ending in
``/s/phuong-2``, so ``url_for``, every link and asset and the screens' Socket.IO path
(``/s/phuong-2/socket.io/``) keep the prefix, and nginx needs no rule per site. The code is
kept in the environ (``SITE_PREFIX_KEY``); ``request_site_code`` hands it, with the paired
device, to the one rule (``motcua.services.sites.current_site_code``).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from typing import Any

from flask import Flask, jsonify, render_template, request, url_for

from motcua.auth import device_from_request
from motcua.errors import DomainError, failure
from motcua.services import devices, settings, sites
from motcua.services.devices import DeviceView

SITE_PREFIX_KEY = "motcua.site_prefix"
# Site codes as the admin form takes them (letters, digits, - and _), at most 32 characters.
PREFIX_RE = re.compile(r"^/s/([A-Za-z0-9_-]{1,32})(/.*)?$")

WSGIApp = Callable[[dict[str, Any], Callable[..., Any]], Iterable[bytes]]


class SitePrefix:
    """Move ``/s/<code>`` from PATH_INFO to SCRIPT_NAME and record the code in the environ."""

    def __init__(self, app: WSGIApp) -> None:
        self.app = app

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Any:
        """Serve the request with the site prefix taken out of its path."""
        match = PREFIX_RE.match(environ.get("PATH_INFO") or "")
        if match is not None:
            code, rest = match.group(1), match.group(2) or "/"
            environ["SCRIPT_NAME"] = environ.get("SCRIPT_NAME", "").rstrip("/") + f"/s/{code}"
            environ["PATH_INFO"] = rest
            environ[SITE_PREFIX_KEY] = code
        return self.app(environ, start_response)


def address_prefix() -> str | None:
    """The site code of the request's ``/s/<code>/`` prefix, if it has one."""
    code = request.environ.get(SITE_PREFIX_KEY)
    return str(code) if code else None


def screen_device() -> DeviceView | None:
    """The paired device behind the request; a revoked token counts as none (unpaired)."""
    try:
        return device_from_request()
    except DomainError:
        return None


def request_site_code(*, named: str | None = None, officer_site: str | None = None) -> str:
    """The site this request or connection is about (``sites.current_site_code``'s rule);
    ``named``: the site an unpaired screen names in its query or connect ``auth``."""
    return sites.current_site_code(
        device=screen_device(), prefix=address_prefix(), named=named, officer_site=officer_site
    )


def check_screen(kind: str) -> DeviceView | None:
    """The paired device, once the screen of this kind may open (REQUIRE_DEVICE_PAIRING)."""
    device = screen_device()
    sites.check_screen(kind, device)
    return device


def unpaired_page(kind: str, exc: DomainError) -> Any:
    """The page an unattended screen shows when it may not open: how to pair it."""
    body = render_template(
        "unpaired.html",
        screen=str(devices.KINDS.get(kind, kind)),
        message=exc.message,
        admin_path=url_for("admin.devices_page"),
        pair_path=url_for("device.pair"),
        minutes=int(settings.effective("DEVICE_PAIRING_MINUTES", 15)),
    )
    return body, exc.status


def _check_prefix() -> Any:
    """Refuse an address whose prefix names no site, before any view runs (404, in Vietnamese)."""
    code = address_prefix()
    if code is None:
        return None
    try:
        sites.known_site_code(code)
    except DomainError as exc:
        status, body = failure(exc)
        if request.path.startswith("/api/") or request.accept_mimetypes.best == "application/json":
            return jsonify(body), status
        return render_template("error.html", status=status, message=exc.message), status
    return None


def init_app(app: Flask) -> None:
    """Serve every site under ``/s/<code>/`` (after ``socketio.init_app``: outermost)."""
    app.wsgi_app = SitePrefix(app.wsgi_app)  # type: ignore[method-assign]
    app.before_request(_check_prefix)
