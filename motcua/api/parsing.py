"""The API's blueprint class: flask-smorest's, with JSON parsed at a bounded depth."""

from __future__ import annotations

from typing import Any

import flask
import flask_smorest
from webargs import core
from webargs.flaskparser import FlaskParser, is_json_request

from motcua.inputs import load_json


class BoundedParser(FlaskParser):
    """webargs' Flask parser; a body nested deeper than ``MAX_JSON_DEPTH`` is malformed (400)."""

    def _raw_load_json(self, req: flask.Request) -> Any:
        if not is_json_request(req):
            return core.missing
        return load_json(req.get_data(cache=True))


class Blueprint(flask_smorest.Blueprint):  # type: ignore[misc]
    """flask-smorest's Blueprint with the bounded parser."""

    ARGUMENTS_PARSER = BoundedParser()
