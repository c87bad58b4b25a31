"""Public REST API under /api/v1 (flask-smorest: marshmallow schemas → OpenAPI)."""

from __future__ import annotations

from typing import Any

import marshmallow as ma
from flask import Flask
from flask_smorest import Api


class ErrorSchema(ma.Schema):
    """Every error: a stable code and a Vietnamese message."""

    error = ma.fields.String(required=True, metadata={"example": "queue_empty"})
    message = ma.fields.String(required=True)
    details = ma.fields.Dict()


class MotcuaApi(Api):  # type: ignore[misc]
    """flask-smorest's Api, with errors left to motcua.errors (one format everywhere)."""

    ERROR_SCHEMA = ErrorSchema

    def _register_error_handlers(self) -> None:
        """Errors are handled app-wide by motcua.errors."""


#: What ``motcua.inputs.CONTROL_CHARS`` refuses, as an OpenAPI (ECMA-262) pattern.
PLAIN_TEXT_PATTERN = "^[^\\u0000-\\u0008\\u000b\\u000c\\u000e-\\u001f\\u007f-\\u009f]*$"


def _plain_text(converter: Any, field: ma.fields.Field, **_: Any) -> dict[str, Any]:
    """Document the refusal of control characters on every string a request schema reads."""
    from motcua.api.schemas import Input

    if (
        isinstance(field, ma.fields.String)
        and isinstance(field.parent, Input)
        and "pattern" not in field.metadata
    ):
        return {"pattern": PLAIN_TEXT_PATTERN}
    return {}


def register_api(app: Flask) -> MotcuaApi:
    """Attach the API and its OpenAPI document (/api/v1/openapi.json) to the app."""
    from motcua.api.views import blp

    api = MotcuaApi(
        app,
        spec_kwargs={
            "info": {
                "description": "motcua public API: services, tickets, counters and the board."
            },
        },
    )
    api.spec.components.security_scheme("bearerAuth", {"type": "http", "scheme": "bearer"})
    api.ma_plugin.converter.add_attribute_function(_plain_text)
    api.register_blueprint(blp)
    from motcua.api.sessions import blp as sessions_blp

    api.register_blueprint(sessions_blp)
    from motcua.api.appointments import blp as appointments_blp

    api.register_blueprint(appointments_blp)
    # A transfer names its target: another area, another counter, or both (TransferSchema's
    # own check), said in the document too so that clients and fuzzers know it.
    api.spec.components.schemas["Transfer"]["anyOf"] = [
        {
            "required": ["to_service"],
            "properties": {"to_service": {"type": "string", "pattern": "\\S"}},
        },
        {"required": ["to_counter"], "properties": {"to_counter": {"type": "integer"}}},
    ]
    app.extensions["motcua_api"] = api
    return api
