"""Login for the browser consoles (session) and the API (bearer tokens); role checks."""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any, ParamSpec, TypeVar

from flask import Blueprint, flash, g, redirect, render_template, request, url_for
from flask_babel import lazy_gettext as _l
from flask_login import UserMixin, current_user, login_user, logout_user

from motcua.errors import DeviceNotPaired, DomainError, Forbidden, Unauthorized
from motcua.extensions import login_manager
from motcua.services import accounts, devices, staff
from motcua.services.accounts import UserView
from motcua.services.devices import DeviceView

P = ParamSpec("P")
R = TypeVar("R")

bp = Blueprint("auth", __name__, template_folder="templates")


class LoginUser(UserMixin):
    """Flask-Login wrapper around a UserView."""

    def __init__(self, view: UserView) -> None:
        self.view = view

    def get_id(self) -> str:
        """The id kept in the session cookie."""
        return str(self.view.id)


@login_manager.user_loader
def _load_user(user_id: str) -> LoginUser | None:
    view = accounts.get_user(int(user_id)) if user_id.isascii() and user_id.isdigit() else None
    return LoginUser(view) if view else None


login_manager.login_view = "auth.login"
login_manager.login_message = _l("Vui lòng đăng nhập để tiếp tục.")


def request_user() -> UserView | None:
    """The caller: a bearer token's user, else the logged-in session's user."""
    header = request.headers.get("Authorization", "")
    if header.lower().startswith("bearer "):
        return accounts.user_from_api_token(header[7:].strip())
    if current_user.is_authenticated:
        return current_user.view  # type: ignore[no-any-return]
    return None


DEVICE_COOKIE = "motcua_device"


def device_token_from_request() -> str | None:
    """A device token from ``Authorization: Device <token>`` or the pairing cookie."""
    header = request.headers.get("Authorization", "")
    if header[:7].lower() == "device ":
        return header[7:].strip() or None
    return request.cookies.get(DEVICE_COOKIE) or None


def device_from_request() -> DeviceView | None:
    """The paired device making the request; None without a token, DeviceNotPaired if revoked.

    Looked up once per request (the site, the screen check and the issuer all ask).
    """
    token = device_token_from_request()
    if not token:
        return None
    known = g.get("motcua_device")
    if known is not None and known[0] == token:
        return known[1]  # type: ignore[no-any-return]
    device = devices.device_from_token(token)
    g.motcua_device = (token, device)
    return device


def require_device(*kinds: str) -> DeviceView:
    """The calling device, which must be paired and of one of the kinds (e.g. "rating")."""
    device = device_from_request()
    if device is None:
        raise DeviceNotPaired()
    return device.require(*kinds)


def kiosk_name_for_request(requested: str | None) -> str | None:
    """The kiosk a page shows as: a paired kiosk's own name wins over the one it asks for.

    Only for showing the start screen; issuing and reprinting pass the device itself to the
    service (``issuer_from_request``), which applies the device scope.
    """
    try:
        device = device_from_request()
        if device is not None:
            return device.require(devices.KIOSK).name
    except DomainError:
        return requested
    return requested


def issuer_from_request() -> dict[str, Any]:
    """Who asks for a number, as ``tickets.issue_ticket`` judges it: the paired device behind
    the request (a revoked token is refused here) and the signed-in account, if any."""
    user = request_user()
    return {"device": device_from_request(), "actor_id": user.id if user else None}


def require_login(fn: Callable[P, R]) -> Callable[P, R]:
    """Decorator: the caller must be authenticated; what the account may do is the service's
    rule (e.g. who may work a counter), so that every door applies the same one."""

    @functools.wraps(fn)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
        if request_user() is None:
            raise Unauthorized()
        return fn(*args, **kwargs)

    return wrapper


def require_roles(*roles: str) -> Callable[[Callable[P, R]], Callable[P, R]]:
    """Decorator: the caller must be authenticated with one of the roles."""

    def decorate(fn: Callable[P, R]) -> Callable[P, R]:
        @functools.wraps(fn)
        def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
            user = request_user()
            if user is None:
                raise Unauthorized()
            if not user.has_role(*roles):
                raise Forbidden()
            return fn(*args, **kwargs)

        return wrapper

    return decorate


def _safe_next(target: str | None) -> str | None:
    if target and target.startswith("/") and not target.startswith("//"):
        return target
    return None


@bp.route("/login", methods=["GET", "POST"])
def login() -> Any:
    """Sign in page for officers, leaders and administrators."""
    error, status = None, 200
    if request.method == "POST":
        try:
            user = staff.sign_in(
                request.form.get("username", ""),
                request.form.get("password", ""),
                ip=request.remote_addr,
            )
        except DomainError as exc:
            error, status = str(exc.message), exc.status
        else:
            login_user(LoginUser(user))
            return redirect(_safe_next(request.args.get("next")) or url_for("web.index"))
    return render_template("auth/login.html", error=error), status


@bp.route("/logout", methods=["POST", "GET"])
def logout() -> Any:
    """Sign out."""
    staff.sign_out(
        current_user.view if current_user.is_authenticated else None, ip=request.remote_addr
    )
    logout_user()
    flash(str(_l("Đã đăng xuất.")))
    return redirect(url_for("auth.login"))
