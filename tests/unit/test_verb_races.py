"""A counter verb racing a cancel on PostgreSQL: the cancel, committed first, stands.

A cancel (from a leader's screen or the citizen's phone) locks the ticket's row, not the
counter's. A counter verb locks the counter, then the ticket at it: it waits for the cancel,
then finds no ticket at the counter, instead of writing "finished" over "cancelled".
"""

from __future__ import annotations

import threading
from typing import Any

import sqlalchemy as sa
from flask import Flask

from db import db
from db.models import Ticket
from motcua.errors import DomainError
from motcua.services import tickets
from tests.conftest import counter_id


def race_cancel(app: Flask, verb: Any) -> tuple[str, str]:
    """Call a ticket to counter 1, cancel it in an open transaction, run ``verb`` meanwhile.

    Returns what the verb ended with (its error code, or "done") and the ticket's status.
    """
    desk = counter_id(app, 1)
    with app.app_context():
        view = tickets.issue_ticket("A")
        tickets.call_next(desk)
        engine = db.engine
    outcome: dict[str, str] = {}

    def run_verb() -> None:
        with app.app_context():
            try:
                verb(desk)
                outcome["verb"] = "done"
            except DomainError as exc:
                outcome["verb"] = exc.code
            finally:
                db.session.remove()

    with engine.connect() as other:
        tx = other.begin()
        # What tickets.cancel does: lock the ticket's row, change its status.
        other.execute(sa.select(Ticket.id).where(Ticket.token == view.token).with_for_update())
        other.execute(
            sa.update(Ticket).where(Ticket.token == view.token).values(status="cancelled")
        )
        worker = threading.Thread(target=run_verb)
        worker.start()
        worker.join(0.5)
        assert worker.is_alive(), "the verb did not wait for the cancel's row lock"
        tx.commit()
    worker.join(10)
    assert not worker.is_alive()
    with app.app_context():
        status = db.session.scalar(sa.select(Ticket.status).where(Ticket.token == view.token))
    return outcome["verb"], str(status)


def test_finish_does_not_write_over_a_cancel(pg_app: Flask) -> None:
    """Hoàn thành while the ticket is being cancelled: no current ticket; still cancelled."""
    assert race_cancel(pg_app, lambda desk: tickets.finish(desk)) == (
        "no_current_ticket",
        "cancelled",
    )


def test_no_show_does_not_write_over_a_cancel(pg_app: Flask) -> None:
    """Vắng mặt (an ORM verb) waits for the cancel the same way."""
    assert race_cancel(pg_app, lambda desk: tickets.mark_no_show(desk)) == (
        "no_current_ticket",
        "cancelled",
    )
