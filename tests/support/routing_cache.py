"""Compile each URL rule's builder once per test process, not once per app.

Every test makes its own app, and werkzeug turns each of the app's ~90 URL rules into two small
Python functions (``Rule._compile_builder``: an AST, then ``compile``): about half of
``create_app`` and a tenth of the suite's CPU. A builder depends only on the rule's text, its
parsed parts (``Rule._trace``), the names of its defaults and ``append_unknown``; it reads the
rule's converters through ``self`` when called. So the function compiled for the first app is
reused for the same rule of every later app, bound to that app's own rule. A rule whose
defaults fill a variable of the URL (resolved through a converter) is compiled as usual.
``tests/test_support.py`` checks that the reused builders are the ones werkzeug would compile.
"""

from __future__ import annotations

import functools
from typing import Any

from werkzeug.routing.rules import Rule

MARK = "_motcua_memo"


def install() -> None:
    """Memoize ``Rule._compile_builder`` in this process (idempotent; skipped if absent)."""
    original = getattr(Rule, "_compile_builder", None)
    if original is None or getattr(original, MARK, False):
        return
    cache: dict[tuple[Any, ...], Any] = {}

    @functools.wraps(original)
    def compile_builder(self: Rule, append_unknown: bool = True) -> Any:
        trace = getattr(self, "_trace", None)
        defaults = self.defaults or {}
        if trace is None or any(dynamic and data in defaults for dynamic, data in trace):
            return original(self, append_unknown)
        key = (self.rule, tuple(trace), tuple(str(k) for k in defaults), append_unknown)
        builder = cache.get(key)
        if builder is None:
            builder = cache[key] = original(self, append_unknown)
        return builder

    setattr(compile_builder, MARK, True)
    Rule._compile_builder = compile_builder  # type: ignore[method-assign]
