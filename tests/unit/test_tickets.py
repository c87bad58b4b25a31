"""Every lifecycle rule of the ticket service, with a frozen clock."""

from __future__ import annotations

import datetime as dt

import pytest
import sqlalchemy as sa
from flask import Flask

from db import db
from db.models import Ticket, TicketEvent
from motcua.errors import (
    CounterBusy,
    CounterPaused,
    InvalidPriority,
    InvalidTransition,
    NoCurrentTicket,
    QueueEmpty,
    ServiceNotFound,
)
from motcua.services import tickets
from motcua.services.common import QueuePolicy, current_policy
from tests.conftest import T0, counter_id

MIN = dt.timedelta(minutes=1)


def events(app: Flask, code: str) -> list[str]:
    """The event kinds logged for a ticket code, in order."""
    with app.app_context():
        return list(
            db.session.scalars(
                sa.select(TicketEvent.kind)
                .join(Ticket, Ticket.id == TicketEvent.ticket_id)
                .where(Ticket.code == code)
                .order_by(TicketEvent.id)
            )
        )


def test_numbers_are_per_area_and_zero_padded(ctx: Flask) -> None:
    """A001, A002 and B001 are counted separately, with 3 digits."""
    codes = [tickets.issue_ticket(s, now=T0).code for s in ("A", "A", "B", "tuphap")]
    assert codes == ["A001", "A002", "B001", "A003"]


def test_numbers_restart_each_business_day_in_hanoi_time(ctx: Flask) -> None:
    """The day turns at midnight in Asia/Ho_Chi_Minh, not UTC."""
    before_midnight = dt.datetime(2026, 11, 23, 16, 59, tzinfo=dt.UTC)  # 23:59 local
    after_midnight = dt.datetime(2026, 11, 23, 17, 1, tzinfo=dt.UTC)  # 00:01 local, 24/11
    a = tickets.issue_ticket("A", now=before_midnight)
    b = tickets.issue_ticket("A", now=after_midnight)
    assert (a.code, a.business_day.isoformat()) == ("A001", "2026-11-23")
    assert (b.code, b.business_day.isoformat()) == ("A001", "2026-11-24")


def test_four_digit_numbers_after_999(ctx: Flask) -> None:
    """A999 is followed by A1000."""
    assert tickets.format_code("A", 999) == "A999"
    assert tickets.format_code("A", 1000) == "A1000"
    assert tickets.format_code("B", 7) == "B007"


def test_idempotency_key_returns_the_same_ticket(ctx: Flask) -> None:
    """A retried tap with the same key gets the same ticket, not a second one."""
    first = tickets.issue_ticket("A", idempotency_key="tap-1", now=T0)
    again = tickets.issue_ticket("A", idempotency_key="tap-1", now=T0 + MIN)
    other = tickets.issue_ticket("A", idempotency_key="tap-2", now=T0 + MIN)
    assert (first.code, first.created) == ("A001", True)
    assert (again.code, again.token, again.created) == ("A001", first.token, False)
    assert other.code == "A002"
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Ticket)) == 2


def test_unknown_or_inactive_service_is_refused(ctx: Flask) -> None:
    """An unknown area raises a domain error with a Vietnamese message."""
    with pytest.raises(ServiceNotFound) as err:
        tickets.issue_ticket("Z", now=T0)
    assert "lĩnh vực" in str(err.value.message)


def test_unknown_priority_is_refused(ctx: Flask) -> None:
    """Only configured priority categories are accepted."""
    with pytest.raises(InvalidPriority):
        tickets.issue_ticket("A", priority="vip", now=T0)


def test_public_token_is_unguessable(ctx: Flask) -> None:
    """The token is long and random, not the row id."""
    views = [tickets.issue_ticket("A", now=T0) for _ in range(3)]
    tokens = {v.token for v in views}
    assert len(tokens) == 3
    assert all(len(t) >= 24 and not t.isdigit() for t in tokens)


def test_people_ahead_and_estimate(ctx: Flask) -> None:
    """The third ticket has two ahead; with both counters of A busy it waits for one of them
    (the default 6 minutes, no history): a range around the point, shown in 5 minutes."""
    for number in (1, 2):
        tickets.issue_ticket("A", now=T0)
        tickets.call_next(counter_id(ctx, number), now=T0)
    for _ in range(2):
        tickets.issue_ticket("A", now=T0)
    third = tickets.issue_ticket("A", now=T0 + MIN)
    assert third.people_ahead == 2
    assert third.serving_counters == [1, 2]
    low, high = third.wait_low_minutes, third.wait_high_minutes
    assert low is not None and high is not None and third.estimated_wait_minutes is not None
    assert low <= third.estimated_wait_minutes <= high and low % 5 == 0 and high % 5 == 0
    assert 3 <= third.estimated_wait_minutes <= 12


def test_everyones_place_is_each_ones_people_ahead(ctx: Flask) -> None:
    """queue_positions (pushed to the phones) agrees with every ticket's own people ahead,
    strict priority included."""
    from motcua.services.tickets.views import queue_positions

    issued = [
        tickets.issue_ticket("A", priority=p, now=T0 + dt.timedelta(seconds=i))
        for i, p in enumerate([None, None, "elderly", None, "disabled"])
    ]
    view = issued[0]
    with_ids = db.session.execute(sa.select(Ticket.site_id, Ticket.area_id)).first()
    places = queue_positions(
        with_ids.site_id, with_ids.area_id, view.business_day, current_policy()
    )
    mine = {token: ahead for token, ahead, *_wait in places}
    waits = [(low, minutes, high) for _token, _ahead, minutes, low, high in places]
    assert all(low <= minutes <= high for low, minutes, high in waits)
    assert mine == {v.token: tickets.ticket_status(v.token).people_ahead for v in issued}
    assert sorted(mine.values()) == [0, 1, 2, 3, 4]
    assert mine[issued[2].token] == 0 and mine[issued[0].token] == 2  # priority first


def test_call_next_is_first_come_first_served(app: Flask, make_ticket) -> None:
    """Without priority, tickets are called in issue order across the counter's areas."""
    make_ticket("B", now=T0)
    make_ticket("A", now=T0 + MIN)
    with app.app_context():
        c2 = counter_id(app, 2)  # serves A and B
        first = tickets.call_next(c2, now=T0 + 2 * MIN)
        tickets.finish(c2, now=T0 + 3 * MIN)
        second = tickets.call_next(c2, now=T0 + 4 * MIN)
    assert (first.code, first.counter_number, first.status) == ("B001", 2, "called")
    assert second.code == "A001"


def test_counter_only_calls_its_own_areas(app: Flask, make_ticket) -> None:
    """Counter 3 serves only B: an A ticket is not its to call."""
    make_ticket("A", now=T0)
    with app.app_context(), pytest.raises(QueueEmpty) as err:
        tickets.call_next(counter_id(app, 3), now=T0 + MIN)
    assert "đang chờ" in str(err.value.message)


def test_strict_priority_goes_first(app: Flask, make_ticket) -> None:
    """Strict policy: a priority ticket issued later is called before earlier normal ones."""
    make_ticket("A", now=T0)
    make_ticket("A", now=T0 + MIN)
    make_ticket("A", priority="elderly", now=T0 + 2 * MIN)
    with app.app_context():
        view = tickets.call_next(counter_id(app, 1), now=T0 + 3 * MIN)
    assert (view.code, view.priority, view.priority_label) == ("A003", "elderly", "Người cao tuổi")


def test_interleaved_priority_one_every_n(app: Flask, make_ticket) -> None:
    """Interleave N=2: two normal tickets, then a waiting priority one, then normal again."""
    for i in range(4):
        make_ticket("A", now=T0 + i * MIN)
    make_ticket("A", priority="disabled", now=T0 + 10 * MIN)
    called = []
    with app.app_context():
        policy = QueuePolicy.from_config(
            {
                **dict(current_policy().__dict__),
                "PRIORITY_POLICY": "interleave",
                "PRIORITY_EVERY_N": 2,
                "PRIORITY_CATEGORIES": current_policy().priority_categories,
            }
        )
        c1 = counter_id(app, 1)
        for k in range(4):
            called.append(tickets.call_next(c1, now=T0 + (20 + 2 * k) * MIN, policy=policy).code)
            tickets.finish(c1, now=T0 + (21 + 2 * k) * MIN, policy=policy)
    assert called == ["A001", "A002", "A005", "A003"]


def test_call_next_refused_while_counter_has_a_ticket(app: Flask, make_ticket) -> None:
    """A counter finishes or transfers its ticket before calling the next."""
    make_ticket("A", now=T0)
    make_ticket("A", now=T0)
    with app.app_context():
        c1 = counter_id(app, 1)
        tickets.call_next(c1, now=T0 + MIN)
        with pytest.raises(CounterBusy):
            tickets.call_next(c1, now=T0 + 2 * MIN)


def test_paused_counter_gets_no_calls(app: Flask, make_ticket) -> None:
    """Tạm nghỉ: call next is refused until the counter resumes."""
    make_ticket("A", now=T0)
    with app.app_context():
        c1 = counter_id(app, 1)
        tickets.set_paused(c1, True)
        with pytest.raises(CounterPaused):
            tickets.call_next(c1, now=T0 + MIN)
        tickets.set_paused(c1, False)
        assert tickets.call_next(c1, now=T0 + MIN).code == "A001"


def test_full_lifecycle_logs_every_event(app: Flask, make_ticket) -> None:
    """issued → called → recalled → started → finished, each in the append-only log."""
    make_ticket("A", now=T0)
    with app.app_context():
        c1 = counter_id(app, 1)
        tickets.call_next(c1, now=T0 + MIN)
        recalled = tickets.recall(c1, now=T0 + 2 * MIN)
        tickets.start_service(c1, now=T0 + 3 * MIN)
        done = tickets.finish(c1, dossier_code=" H01.23-261123-0001 ", now=T0 + 10 * MIN)
    assert recalled.call_count == 2
    assert (done.status, done.dossier_code) == ("finished", "H01.23-261123-0001")
    assert events(app, "A001") == ["issued", "called", "recalled", "started", "finished"]


def test_finish_straight_from_called_records_implicit_start(app: Flask, make_ticket) -> None:
    """Finishing without 'start' counts service from the call."""
    make_ticket("A", now=T0)
    with app.app_context():
        c1 = counter_id(app, 1)
        tickets.call_next(c1, now=T0 + MIN)
        done = tickets.finish(c1, now=T0 + 5 * MIN)
    assert done.started_at == T0 + MIN
    assert events(app, "A001") == ["issued", "called", "started", "finished"]


def test_no_show_goes_back_then_ends_after_max_misses(app: Flask, make_ticket) -> None:
    """Default rule: first miss → back of the queue; second miss → ended as no-show."""
    make_ticket("A", now=T0)
    make_ticket("A", now=T0 + MIN)
    with app.app_context():
        c1 = counter_id(app, 1)
        assert tickets.call_next(c1, now=T0 + 2 * MIN).code == "A001"
        missed = tickets.mark_no_show(c1, now=T0 + 3 * MIN)
        assert (missed.status, missed.misses, missed.people_ahead) == ("waiting", 1, 1)
        assert tickets.call_next(c1, now=T0 + 4 * MIN).code == "A002"
        tickets.finish(c1, now=T0 + 5 * MIN)
        assert tickets.call_next(c1, now=T0 + 6 * MIN).code == "A001"
        final = tickets.mark_no_show(c1, now=T0 + 7 * MIN)
    assert (final.status, final.misses) == ("no_show", 2)


def test_no_show_without_requeue_ends_at_once(app: Flask, make_ticket) -> None:
    """A hall may end a ticket on its first miss."""
    make_ticket("A", now=T0)
    with app.app_context():
        policy = QueuePolicy(noshow_requeue=False, noshow_max_misses=3)
        c1 = counter_id(app, 1)
        tickets.call_next(c1, now=T0 + MIN, policy=policy)
        assert tickets.mark_no_show(c1, now=T0 + 2 * MIN, policy=policy).status == "no_show"


def test_transfer_to_area_keeps_issue_time(app: Flask, make_ticket) -> None:
    """A transferred ticket keeps its number and original issue time, so it goes first."""
    make_ticket("A", now=T0)
    make_ticket("B", now=T0 + 5 * MIN)
    with app.app_context():
        c1, c3 = counter_id(app, 1), counter_id(app, 3)
        tickets.call_next(c1, now=T0 + 6 * MIN)
        moved = tickets.transfer(
            c1, to_service="B", note="Cần chứng thực bản sao", now=T0 + 7 * MIN
        )
        assert (moved.code, moved.area_prefix, moved.status) == ("A001", "B", "waiting")
        assert moved.transferred_from == "Tư pháp – Hộ tịch"
        assert moved.issued_at == T0
        assert tickets.call_next(c3, now=T0 + 8 * MIN).code == "A001"
    assert events(app, "A001") == ["issued", "called", "transferred", "called"]


def test_transfer_to_counter_targets_that_counter_only(app: Flask, make_ticket) -> None:
    """A ticket sent to counter 2 is not called by counter 1, even though both serve A."""
    make_ticket("A", now=T0)
    with app.app_context():
        c1, c2 = counter_id(app, 1), counter_id(app, 2)
        tickets.call_next(c1, now=T0 + MIN)
        tickets.transfer(c1, to_counter=2, now=T0 + 2 * MIN)
        with pytest.raises(QueueEmpty):
            tickets.call_next(c1, now=T0 + 3 * MIN)
        assert tickets.call_next(c2, now=T0 + 4 * MIN).code == "A001"


def test_second_number_of_a_transferred_area_does_not_collide(app: Flask, make_ticket) -> None:
    """A001 moved to B coexists with B's own B001 … numbering."""
    make_ticket("A", now=T0)
    with app.app_context():
        c1 = counter_id(app, 1)
        tickets.call_next(c1, now=T0 + MIN)
        tickets.transfer(c1, to_service="B", now=T0 + 2 * MIN)
    assert make_ticket("B", now=T0 + 3 * MIN).code == "B001"
    assert make_ticket("A", now=T0 + 3 * MIN).code == "A002"


def test_call_a_specific_number(app: Flask, make_ticket) -> None:
    """The officer may call a given waiting number (e.g. priority by manual choice)."""
    make_ticket("A", now=T0)
    make_ticket("A", now=T0)
    with app.app_context():
        c1 = counter_id(app, 1)
        assert tickets.call_ticket(c1, "a002", now=T0 + MIN).code == "A002"
        tickets.finish(c1, now=T0 + 2 * MIN)
        with pytest.raises(InvalidTransition):
            tickets.call_ticket(c1, "A002", now=T0 + 3 * MIN)


def test_invalid_transitions_raise_domain_errors(app: Flask, make_ticket) -> None:
    """Recall, start or no-show with nothing called: a clear Vietnamese error, not a crash."""
    make_ticket("A", now=T0)
    with app.app_context():
        c1 = counter_id(app, 1)
        for action in (tickets.recall, tickets.start_service, tickets.mark_no_show, tickets.finish):
            with pytest.raises(NoCurrentTicket) as err:
                action(c1, now=T0)
            assert "Quầy" in str(err.value.message)
        tickets.call_next(c1, now=T0 + MIN)
        tickets.start_service(c1, now=T0 + 2 * MIN)
        with pytest.raises(InvalidTransition):
            tickets.mark_no_show(c1, now=T0 + 3 * MIN)
        with pytest.raises(InvalidTransition):
            tickets.recall(c1, now=T0 + 3 * MIN)


def test_cancel_only_open_tickets(app: Flask, make_ticket) -> None:
    """A waiting ticket can be cancelled; a finished one cannot."""
    view = make_ticket("A", now=T0)
    with app.app_context():
        assert tickets.cancel(view.token, reason="Công dân về", now=T0 + MIN).status == "cancelled"
        with pytest.raises(InvalidTransition):
            tickets.cancel(view.token, now=T0 + 2 * MIN)


def test_tickets_of_earlier_days_expire(app: Flask, make_ticket) -> None:
    """Waiting and called tickets of yesterday expire; they are never called today."""
    make_ticket("A", now=T0)
    make_ticket("A", now=T0)
    next_day = T0 + dt.timedelta(days=1)
    with app.app_context():
        c1 = counter_id(app, 1)
        tickets.call_next(c1, now=T0 + MIN)
        with pytest.raises(QueueEmpty):
            tickets.call_next(counter_id(app, 2), now=next_day)
        assert tickets.expire_stale(now=next_day) == 2
        assert tickets.expire_stale(now=next_day) == 0
        statuses = set(db.session.scalars(sa.select(Ticket.status)))
    assert statuses == {"expired"}
    assert events(app, "A001")[-1] == "expired"


def test_event_log_is_append_only(app: Flask, make_ticket) -> None:
    """Updating or deleting a logged event is refused."""
    make_ticket("A", now=T0)
    with app.app_context():
        event = db.session.scalar(sa.select(TicketEvent))
        event.kind = "finished"
        with pytest.raises(ValueError, match="append-only"):
            db.session.commit()
        db.session.rollback()


def test_board_snapshot_counts_and_calls(app: Flask, make_ticket) -> None:
    """The board shows waiting per area, the latest call first, and a rising seq."""
    from motcua.services import board

    make_ticket("A", now=T0)
    make_ticket("A", now=T0)
    make_ticket("C", now=T0)
    with app.app_context():
        before = board.board_snapshot(now=T0 + MIN)["seq"]
        tickets.call_next(counter_id(app, 4), now=T0 + MIN)
        tickets.call_next(counter_id(app, 1), now=T0 + 2 * MIN)
        snap = board.board_snapshot(now=T0 + 3 * MIN)
    waiting = {a["prefix"]: a["waiting"] for a in snap["areas"]}
    assert waiting["A"] == 1 and waiting["C"] == 0
    assert [(c["code"], c["counter"]) for c in snap["calls"]] == [("A001", 1), ("C001", 4)]
    assert snap["seq"] == before + 2
    states = {c["number"]: c["state"] for c in snap["counters"]}
    assert states[1] == "called" and states[3] == "idle"
