"""Public REST API under /api/v1 (flask-smorest: marshmallow schemas → OpenAPI)."""

from __future__ import annotations

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
    api.register_blueprint(blp)
    from motcua.api.sessions import blp as sessions_blp

    api.register_blueprint(sessions_blp)
    app.extensions["motcua_api"] = api
    return api
