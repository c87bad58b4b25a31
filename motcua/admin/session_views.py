"""Admin pages for Saturday and mobile sessions: plan, download the kit, upload the records."""

from __future__ import annotations

from typing import Any

from flask import Response, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user

from motcua.admin import bp
from motcua.admin.forms import SessionPlanForm
from motcua.errors import BundleRefused, DomainError, ValidationFailed
from motcua.security import body_limit
from motcua.services import session_records, sessions

STATUS_INVALID = 422


def _who() -> dict[str, Any]:
    return {"actor_id": current_user.view.id, "actor": current_user.view.username}


def _page(status: int = 200, **context: Any) -> Any:
    """The sessions page: the planning form, the planned sessions, the import box."""
    context.setdefault("form", {"kind": "mobile", "hours": sessions.DEFAULT_HOURS})
    context.setdefault("errors", {})
    return (
        render_template(
            "admin/sessions.html",
            sessions=sessions.list_sessions(actor_id=current_user.view.id),
            choices=sessions.plan_choices(actor_id=current_user.view.id),
            **context,
        ),
        status,
    )


@bp.route("/sessions")
def sessions_page() -> Any:
    """Saturday and mobile sessions: plan one, get its kit, bring its records back."""
    return _page()


@bp.route("/sessions", methods=["POST"])
def session_plan() -> Any:
    """Plan a session from the form."""
    try:
        view = sessions.plan_session(**SessionPlanForm.read().values(), **_who())
    except ValidationFailed as exc:
        field = str(exc.details.get("field", "_"))
        errors = exc.details.get("errors") or {field: str(exc.message)}
        error = next(iter(errors.values())) if len(errors) == 1 else exc.message
        return _page(STATUS_INVALID, form=request.form, errors=errors, error=error)
    flash(_("Đã lập phiên %(code)s.", code=view.code))
    return redirect(url_for("admin.sessions_page"))


@bp.route("/sessions/<code>/kit", methods=["POST"])
def session_kit(code: str) -> Any:
    """Download a new kit for the session's laptop (a new signing key each time)."""
    kit = sessions.make_kit(code, **_who())
    return Response(
        kit.data,
        mimetype="application/json",
        headers={"Content-Disposition": f'attachment; filename="{kit.file_name}"'},
    )


@bp.route("/sessions/import", methods=["POST"])
@body_limit("SESSION_IMPORT_MAX_BYTES")
def session_import() -> Any:
    """Upload a laptop's records file and show what was merged or refused."""
    upload = request.files.get("bundle")
    data = upload.read() if upload is not None else b""
    if not data:
        return _page(STATUS_INVALID, error=_("Chọn tệp dữ liệu phiên để nhập."))
    try:
        result = session_records.import_records(data, **_who())
    except BundleRefused as exc:
        return _page(STATUS_INVALID, error=exc.message)
    except DomainError as exc:
        return _page(STATUS_INVALID, error=exc.message)
    return _page(result=result.as_dict())
