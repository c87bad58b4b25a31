"""What a stranger may send: JSON of bounded depth, text without control characters, small ids.

Pure helpers used by every door (the REST parser, the Socket.IO verbs, the kiosk's JSON, the
session bundles): Python's ``json`` recurses once per nesting level, so 100,000 ``[`` end in a
``RecursionError`` (a 500); PostgreSQL refuses NUL in text; an id beyond the database's
integer overflows in the driver.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from typing import Any

#: Deepest JSON nesting accepted anywhere (motcua's own bodies nest 4 levels at most; a
#: session bundle about 6).
MAX_JSON_DEPTH = 32
#: Largest id or number accepted (PostgreSQL ``integer``; SQLite stores 64 bits, the driver
#: overflows beyond).
MAX_DB_INT = 2**31 - 1
#: C0 controls except tab, line feed and carriage return; DEL; C1 controls.
CONTROL_CHARS = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]")


class JSONTooDeep(json.JSONDecodeError):
    """A JSON document nested deeper than ``MAX_JSON_DEPTH`` (refused as malformed JSON)."""

    def __init__(self) -> None:
        super().__init__(f"JSON nested deeper than {MAX_JSON_DEPTH} levels", "", 0)


def json_depth(value: Any) -> int:
    """How deeply a loaded JSON value nests (a scalar is 0), without recursion."""
    deepest = 0
    stack: list[tuple[Any, int]] = [(value, 0)]
    while stack:
        item, depth = stack.pop()
        if isinstance(item, dict):
            children: Any = item.values()
        elif isinstance(item, list):
            children = item
        else:
            continue
        depth += 1
        deepest = max(deepest, depth)
        if deepest > MAX_JSON_DEPTH:
            return deepest
        stack.extend((child, depth) for child in children)
    return deepest


def load_json(text: str | bytes, **kwargs: Any) -> Any:
    """``json.loads`` that refuses documents nested deeper than ``MAX_JSON_DEPTH``."""
    try:
        value = json.loads(text, **kwargs)
    except RecursionError:
        raise JSONTooDeep() from None
    if json_depth(value) > MAX_JSON_DEPTH:
        raise JSONTooDeep()
    return value


def has_control_chars(value: Any) -> bool:
    """True when a string anywhere in ``value`` (keys included) holds a control character."""
    stack = [value]
    while stack:
        item = stack.pop()
        if isinstance(item, str):
            if CONTROL_CHARS.search(item):
                return True
        elif isinstance(item, Mapping):
            stack.extend(item.keys())
            stack.extend(item.values())
        elif isinstance(item, list | tuple):
            stack.extend(item)
    return False


def fits_db_int(value: Any) -> bool:
    """True for an int (not a bool) the database can store as an id: 0 … ``MAX_DB_INT``."""
    return isinstance(value, int) and not isinstance(value, bool) and 0 <= value <= MAX_DB_INT
