"""API for Saturday and mobile sessions: upload a session's records, log a walk-in, list."""

from __future__ import annotations

from typing import Any

import marshmallow as ma
from flask import request
from marshmallow import validate

from motcua.api.parsing import Blueprint
from motcua.api.schemas import Id, Input
from motcua.auth import request_user, require_roles
from motcua.errors import ValidationFailed
from motcua.security import body_limit
from motcua.services import session_records, sessions, walkin
from motcua.sites import request_site_code

blp = Blueprint(
    "api_sessions",
    __name__,
    url_prefix="/api/v1/sessions",
    description="Phiên Thứ Bảy, điểm tiếp nhận và lưu động",
)

BEARER: list[dict[str, list[str]]] = [{"bearerAuth": []}]
#: The import's body in the OpenAPI document: the bundle as JSON, or a file field ``bundle``.
IMPORT_BODY: dict[str, Any] = {
    "required": True,
    "description": "A session's records bundle (the file the session laptop exports)",
    "content": {
        "application/json": {"schema": {"type": "object"}},
        "multipart/form-data": {
            "schema": {
                "type": "object",
                "properties": {"bundle": {"type": "string", "format": "binary"}},
                "required": ["bundle"],
            }
        },
    },
}


class ImportQuerySchema(Input):
    """Query of POST /sessions/import."""

    dry_run = ma.fields.Boolean(
        load_default=False,
        truthy={"1", "true", "yes"},
        falsy={"0", "false", "no"},
        metadata={"description": "Check the bundle and report, without importing"},
    )


class WalkinSchema(Input):
    """Body of POST /sessions/walkins."""

    area = ma.fields.String(required=True, validate=validate.Length(min=1, max=32))
    dossier_code = ma.fields.String(
        load_default=None, allow_none=True, validate=validate.Length(max=64)
    )
    rating = Id(load_default=None, allow_none=True)
    counter = Id(load_default=None, allow_none=True)


def _bundle_bytes() -> bytes:
    """The bundle: an uploaded file field ``bundle``, else the raw request body.

    Bodies above SESSION_IMPORT_MAX_BYTES are refused (413) before they are read.
    """
    upload = request.files.get("bundle")
    data = upload.read() if upload is not None else request.get_data()
    if not data:
        raise ValidationFailed(field="bundle")
    return data


@blp.route("/import", methods=["POST"])
@body_limit("SESSION_IMPORT_MAX_BYTES")
@require_roles("admin")
@blp.arguments(ImportQuerySchema, location="query")
@blp.response(200)
@blp.alt_response(413, description="Larger than SESSION_IMPORT_MAX_BYTES (64 MB)")
@blp.alt_response(422, description="The bundle is refused whole (damaged, tampered, unknown)")
@blp.doc(security=BEARER, requestBody=IMPORT_BODY)
def import_bundle(query: dict[str, Any]) -> Any:
    """Merge a session's records bundle (JSON body or file ``bundle``); ``?dry_run=1`` checks."""
    user = request_user()
    result = session_records.import_records(
        _bundle_bytes(),
        dry_run=query["dry_run"],
        actor_id=user.id if user else None,
        actor=user.username if user else "",
    )
    return result.as_dict()


@blp.route("/walkins", methods=["POST"])
@require_roles("officer")
@blp.arguments(WalkinSchema)
@blp.response(201)
@blp.doc(security=BEARER)
def create_walkin(body: dict[str, Any]) -> Any:
    """Log one served transaction without a ticket (home visit): area, mã hồ sơ, rating."""
    user = request_user()
    view = walkin.record_walkin(
        body["area"],
        officer_id=user.id if user else None,
        dossier_code=body.get("dossier_code"),
        rating=body.get("rating"),
        counter_number=body.get("counter"),
        site_code=request_site_code(),  # /s/<code>/api/v1/sessions/walkins: that site's
    )
    return view.as_dict()


@blp.route("")
@require_roles("leader", "admin")
@blp.response(200)
@blp.doc(security=BEARER)
def list_sessions() -> Any:
    """The planned sessions, newest first."""
    user = request_user()
    return [v.as_dict() for v in sessions.list_sessions(actor_id=user.id if user else None)]
