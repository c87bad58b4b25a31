"""The test helpers that make the suite fast do not change what the tests see."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from flask import Flask, url_for
from werkzeug.routing.rules import Rule

from tests.conftest import build_app
from tests.support import routing_cache


def _code(fn: Any) -> tuple[Any, ...]:
    code = fn.__code__
    return code.co_code, code.co_consts, code.co_names, code.co_varnames, fn.__defaults__


def test_reused_url_builders_are_the_ones_werkzeug_compiles(app: Flask, tmp_path: Path) -> None:
    """A second app reuses the first one's builders, and they are what werkzeug compiles."""
    assert getattr(Rule._compile_builder, routing_cache.MARK, False)
    original = Rule._compile_builder.__wrapped__  # type: ignore[attr-defined]
    other = build_app(f"sqlite:///{tmp_path / 'other.sqlite3'}")
    first = {(r.rule, r.endpoint): r for r in app.url_map.iter_rules()}
    rules = list(other.url_map.iter_rules())
    assert len(rules) == len(first) > 50
    reused = 0
    for rule in rules:
        for append_unknown, bound in ((False, rule._build), (True, rule._build_unknown)):
            assert bound.__self__ is rule  # bound to this app's own rule (its converters)
            assert _code(bound.__func__) == _code(original(rule, append_unknown)), rule.rule
        twin = first[(rule.rule, rule.endpoint)]
        reused += rule._build.__func__ is twin._build.__func__
    assert reused == len(rules)
    with other.test_request_context():
        assert url_for("kiosk.kiosk_page", x="1 2") == "/kiosk/?x=1+2"
        assert url_for("admin.site_form", site_id=7) == "/admin/sites/7"


def test_templates_are_compiled_once_and_render_alike(app: Flask, tmp_path: Path) -> None:
    """A second app renders a page from the code compiled for the first, with the same HTML."""
    from jinja2.bccache import Bucket

    from tests.support.template_cache import CACHE

    assert Flask.jinja_options["bytecode_cache"] is CACHE
    first = app.test_client().get("/login").get_data(as_text=True)
    other = build_app(f"sqlite:///{tmp_path / 'other.sqlite3'}")
    assert other.jinja_env.bytecode_cache is CACHE
    loaded: list[str] = []
    load = CACHE.load_bytecode

    def spy(bucket: Bucket) -> None:
        load(bucket)
        if bucket.code is not None:
            loaded.append(bucket.key)

    CACHE.load_bytecode = spy  # type: ignore[method-assign]
    try:
        second = other.test_client().get("/login").get_data(as_text=True)
    finally:
        del CACHE.load_bytecode
    assert loaded  # the login page came from the shared cache
    strip = re.compile(r'(name="csrf_token" value=|nonce=)"[^"]*"')
    assert strip.sub("", second) == strip.sub("", first)
