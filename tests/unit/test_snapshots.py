"""Snapshots are exact at their seq: a commit between their statements is not half-seen.

Screens fold the facts newer than a snapshot's ``seq`` into it, so the data must be the state
at that ``seq``. Here another connection issues a ticket (and bumps ``seq``) right after the
snapshot's first statement: the snapshot must show neither the ticket nor the new ``seq``.
PostgreSQL's default READ COMMITTED would show the ticket with the old ``seq`` (the screen would
then count it twice); SQLite's WAL read transaction gives one snapshot by itself.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import pytest
import sqlalchemy as sa
from flask import Flask

from db import db
from motcua.services import board, tickets
from tests.conftest import counter_id


@contextmanager
def issue_after_first_statement(app: Flask) -> Iterator[list[Any]]:
    """While active: after the next SELECT anyone runs, another thread issues an A ticket."""
    issued: list[Any] = []
    started = threading.Event()

    def issue() -> None:
        with app.app_context():
            issued.append(tickets.issue_ticket("A"))

    def after(_conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        if started.is_set():  # once (the worker's own statements come here too)
            return
        if not statement.lstrip().upper().startswith("SELECT"):
            return  # SQLite's explicit BEGIN: the snapshot starts at the first read
        started.set()
        worker = threading.Thread(target=issue)
        worker.start()
        worker.join(timeout=30)

    engine = db.engine
    sa.event.listen(engine, "after_cursor_execute", after)
    try:
        yield issued
    finally:
        sa.event.remove(engine, "after_cursor_execute", after)


def check_exact(
    app: Flask, read: Callable[[], dict[str, Any]], waiting: Callable[[Any], int]
) -> None:
    """The snapshot taken while a ticket was issued shows the state before it, whole."""
    with app.app_context():
        tickets.issue_ticket("A")
        before = read()
    with app.app_context(), issue_after_first_statement(app) as issued:
        during = read()
    assert issued, "the concurrent ticket was not issued"
    with app.app_context():
        after = read()
    assert (during["seq"], waiting(during)) == (before["seq"], waiting(before)) == (1, 1)
    assert (after["seq"], waiting(after)) == (2, 2)


def board_waiting(snap: Any) -> int:
    return next(a["waiting"] for a in snap["areas"] if a["prefix"] == "A")


@pytest.mark.postgres
def test_board_snapshot_is_exact_at_its_seq_on_postgresql(pg_app: Flask) -> None:
    """The board's seq and waiting counts come from one committed state (REPEATABLE READ)."""
    check_exact(pg_app, board.board_snapshot, board_waiting)


@pytest.mark.postgres
def test_counter_state_is_exact_at_its_seq_on_postgresql(pg_app: Flask) -> None:
    """The console's seq and queue come from one committed state (REPEATABLE READ)."""
    cid = counter_id(pg_app, 1)
    check_exact(pg_app, lambda: tickets.counter_state(cid), lambda s: len(s["waiting"]))


def test_board_snapshot_is_exact_at_its_seq_on_sqlite(app: Flask) -> None:
    """The same on the SQLite file (a WAL read transaction)."""
    check_exact(app, board.board_snapshot, board_waiting)
