"""The unit of work every service runs as (imports nothing else from the services)."""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import ParamSpec, TypeVar

from db import db

P = ParamSpec("P")
R = TypeVar("R")


def transactional(fn: Callable[P, R]) -> Callable[P, R]:
    """Run a service as one unit of work: any error rolls the transaction back.

    The function itself commits (then publishes); on the way out a still-open
    read transaction is ended so SQLite's IMMEDIATE lock is never held idle.
    """

    @functools.wraps(fn)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
        try:
            result = fn(*args, **kwargs)
        except BaseException:
            db.session.rollback()
            raise
        if db.session().in_transaction():
            db.session.commit()
        return result

    return wrapper
