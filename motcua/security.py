"""Safety nets for every page: CSRF tokens on forms and security headers with a strict CSP.

CSRF: every state-changing request carrying a form (or no JSON body) must bring the session's
token (``{{ csrf_token() }}`` in a hidden field, or an ``X-CSRFToken`` header). Exempt are
JSON requests (a cross-site page cannot send them without a CORS preflight, which motcua never
grants) and the JSON APIs (URLs with an ``/api/`` segment), which authenticate with bearer or
device tokens, or a SameSite=Lax session cookie that browsers do not send cross-site.

CSP: scripts, styles, fonts, images, media and connections from the app itself only. A
template that needs an inline ``<style>`` gives it ``nonce="{{ csp_nonce() }}"``.
"""

from __future__ import annotations

import secrets
from collections.abc import Callable
from typing import Any, TypeVar

from flask import Flask, current_app, g, jsonify, render_template, request
from flask.json.provider import DefaultJSONProvider
from flask_babel import lazy_gettext as _l
from flask_wtf.csrf import CSRFError, CSRFProtect
from werkzeug.exceptions import NotFound

from motcua.errors import ControlCharacters
from motcua.inputs import has_control_chars, load_json

csrf = CSRFProtect()
F = TypeVar("F", bound=Callable[..., Any])
BODY_LIMIT_ATTR = "_motcua_body_limit"

UNSAFE_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})
CSRF_MESSAGE = _l(
    "Phiên làm việc đã hết hạn hoặc biểu mẫu không hợp lệ. Vui lòng tải lại trang rồi thử lại."
)
BASE_CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self'{nonce}; img-src 'self' data:; "
    "font-src 'self'; connect-src 'self'; media-src 'self' blob: data:; object-src 'none'; "
    "base-uri 'self'; form-action 'self'; frame-ancestors 'none'"
)
HEADERS = {
    "X-Frame-Options": "DENY",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
    "Permissions-Policy": "camera=(self), microphone=(), geolocation=()",
}


def needs_csrf_check(method: str, path: str, is_json: bool) -> bool:
    """True for a state-changing request that must bring the session's CSRF token."""
    if method not in UNSAFE_METHODS:
        return False
    return not (is_json or "/api/" in path)


def csp_nonce() -> str:
    """This response's nonce for an inline <style> (made on first use)."""
    nonce = g.get("csp_nonce")
    if nonce is None:
        nonce = g.csp_nonce = secrets.token_urlsafe(16)
    return str(nonce)


class BoundedJSONProvider(DefaultJSONProvider):
    """Flask's JSON, reading at most ``MAX_JSON_DEPTH`` levels (``request.get_json``: 400)."""

    def loads(self, s: str | bytes, **kwargs: Any) -> Any:
        """Parse JSON; deeper than the bound raises a ``JSONDecodeError`` (malformed)."""
        return load_json(s, **kwargs)


def body_limit(config_key: str) -> Callable[[F], F]:
    """Mark a view whose request body may be larger than MAX_CONTENT_LENGTH (the setting
    ``config_key`` gives its limit in bytes); put it right under the route decorator."""

    def mark(view: F) -> F:
        setattr(view, BODY_LIMIT_ATTR, config_key)
        return view

    return mark


def _limit_body() -> None:
    """Every body is small (MAX_CONTENT_LENGTH) unless its view says otherwise (413)."""
    view = current_app.view_functions.get(request.endpoint or "")
    key = getattr(view, BODY_LIMIT_ATTR, None)
    if key is not None:
        request.max_content_length = int(current_app.config[key])


def _refuse_control_chars() -> None:
    """NUL and other control characters in the address or a form: refused (422), once here.

    JSON bodies are checked by the schemas that load them (``motcua.api.schemas.Input``) and
    Socket.IO payloads by ``motcua.namespaces.load_args``.
    """
    if has_control_chars(request.path):  # no route, no ticket token has one: nothing is there
        raise NotFound()
    if has_control_chars(list(request.args.lists())):
        raise ControlCharacters()
    if request.method in UNSAFE_METHODS and request.mimetype in (
        "application/x-www-form-urlencoded",
        "multipart/form-data",
    ):
        if has_control_chars(list(request.form.lists())):
            raise ControlCharacters()


def _check_csrf() -> None:
    if request.routing_exception is not None:  # 404/405: the routing error is the answer
        return
    if needs_csrf_check(request.method, request.path, request.is_json):
        csrf.protect()


def _add_headers(response: Any) -> Any:
    nonce = g.get("csp_nonce")
    policy = current_app.config.get("CONTENT_SECURITY_POLICY") or BASE_CSP.format(
        nonce=f" 'nonce-{nonce}'" if nonce else ""
    )
    response.headers.setdefault("Content-Security-Policy", policy)
    for name, value in HEADERS.items():
        response.headers.setdefault(name, value)
    return response


def _csrf_refused(_exc: CSRFError) -> Any:
    if request.path.startswith("/api/") or request.accept_mimetypes.best == "application/json":
        return jsonify({"error": "csrf_failed", "message": str(CSRF_MESSAGE)}), 400
    return render_template("error.html", status=400, message=CSRF_MESSAGE), 400


def init_app(app: Flask) -> None:
    """Attach CSRF protection, the security headers and ``csp_nonce()`` to the app."""
    app.json = BoundedJSONProvider(app)
    csrf.init_app(app)
    app.before_request(_limit_body)
    app.before_request(_refuse_control_chars)
    app.before_request(_check_csrf)
    app.after_request(_add_headers)
    app.register_error_handler(CSRFError, _csrf_refused)
    app.jinja_env.globals["csp_nonce"] = csp_nonce
