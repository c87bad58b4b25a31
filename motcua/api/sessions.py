"""API for Saturday and mobile sessions: upload a session's records, log a walk-in, list."""

from __future__ import annotations

from typing import Any

import marshmallow as ma
from flask import request
from flask_smorest import Blueprint
from marshmallow import validate

from motcua.auth import request_user, require_roles
from motcua.errors import ValidationFailed
from motcua.services import session_records, sessions, walkin

blp = Blueprint(
    "api_sessions",
    __name__,
    url_prefix="/api/v1/sessions",
    description="Phiên Thứ Bảy, điểm tiếp nhận và lưu động",
)

BEARER: list[dict[str, list[str]]] = [{"bearerAuth": []}]
MAX_BUNDLE_BYTES = 64 * 1024 * 1024


class WalkinSchema(ma.Schema):
    """Body of POST /sessions/walkins."""

    class Meta:
        unknown = ma.RAISE

    area = ma.fields.String(required=True, validate=validate.Length(min=1, max=32))
    dossier_code = ma.fields.String(
        load_default=None, allow_none=True, validate=validate.Length(max=64)
    )
    rating = ma.fields.Integer(load_default=None, allow_none=True)
    counter = ma.fields.Integer(load_default=None, allow_none=True)


def _bundle_bytes() -> bytes:
    """The bundle: an uploaded file field ``bundle``, else the raw request body."""
    if request.content_length and request.content_length > MAX_BUNDLE_BYTES:
        raise ValidationFailed(field="bundle")
    upload = request.files.get("bundle")
    data = upload.read() if upload is not None else request.get_data()
    if not data:
        raise ValidationFailed(field="bundle")
    return data


@blp.route("/import", methods=["POST"])
@blp.response(200)
@blp.alt_response(422, description="The bundle is refused whole (damaged, tampered, unknown)")
@blp.doc(security=BEARER)
@require_roles("admin")
def import_bundle() -> Any:
    """Merge a session's records bundle (JSON body or file ``bundle``); ``?dry_run=1`` checks."""
    user = request_user()
    result = session_records.import_records(
        _bundle_bytes(),
        dry_run=request.args.get("dry_run") in ("1", "true", "yes"),
        actor_id=user.id if user else None,
        actor=user.username if user else "",
    )
    return result.as_dict()


@blp.route("/walkins", methods=["POST"])
@blp.arguments(WalkinSchema)
@blp.response(201)
@blp.doc(security=BEARER)
@require_roles("officer")
def create_walkin(body: dict[str, Any]) -> Any:
    """Log one served transaction without a ticket (home visit): area, mã hồ sơ, rating."""
    user = request_user()
    view = walkin.record_walkin(
        body["area"],
        officer_id=user.id if user else None,
        dossier_code=body.get("dossier_code"),
        rating=body.get("rating"),
        counter_number=body.get("counter"),
    )
    return view.as_dict()


@blp.route("")
@blp.response(200)
@blp.doc(security=BEARER)
@require_roles("leader", "admin")
def list_sessions() -> Any:
    """The planned sessions, newest first."""
    return [v.as_dict() for v in sessions.list_sessions()]
