"""Rating rules: only after finish, once (race-safe), windows, attribution, unrated timeouts."""

from __future__ import annotations

import datetime as dt
import threading
from typing import Any

import pytest
import sqlalchemy as sa
from flask import Flask

from db import db
from db.models import Rating, TicketEvent, User
from motcua.errors import AlreadyRated, RatingClosed, TicketNotFound, ValidationFailed
from motcua.services import ratings, reports, tickets
from tests.conftest import T0, counter_id


def at(minutes: float) -> dt.datetime:
    """T0 plus some minutes."""
    return T0 + dt.timedelta(minutes=minutes)


def user_id(username: str) -> int:
    """A user's id by username."""
    return int(db.session.scalar(sa.select(User.id).where(User.username == username)))


def serve(app: Flask, number: int, officer: str, *, issued: float = 0, done: float = 10) -> Any:
    """Issue an A ticket, call it to a counter and finish it; returns the ticket view."""
    view = tickets.issue_ticket("A", now=at(issued))
    cid = counter_id(app, number)
    tickets.call_next(cid, officer_id=user_id(officer), now=at(issued + 1))
    tickets.finish(cid, officer_id=user_id(officer), now=at(done))
    return view


def test_only_a_finished_ticket_can_be_rated(ctx: Flask) -> None:
    """Waiting, called and serving tickets refuse a rating from the tablet and the phone."""
    view = tickets.issue_ticket("A", now=at(0))
    cid = counter_id(ctx, 1)
    with pytest.raises(RatingClosed):
        ratings.rate_by_token(view.token, 3, now=at(1))
    tickets.call_next(cid, officer_id=user_id("canbo1"), now=at(2))
    with pytest.raises(RatingClosed):
        ratings.rate_at_counter(cid, view.uuid, 3, now=at(3))
    tickets.start_service(cid, now=at(3))
    with pytest.raises(RatingClosed):
        ratings.rate_by_token(view.token, 3, now=at(4))
    assert ratings.phone_state(view.token, now=at(4))["state"] == "closed"
    tickets.finish(cid, now=at(9))
    assert ratings.phone_state(view.token, now=at(9.5))["state"] == "open"
    rated = ratings.rate_at_counter(cid, view.uuid, 3, now=at(10))
    assert (rated.level, rated.label, rated.source) == (3, "Rất hài lòng", "tablet")


def test_cancelled_and_no_show_tickets_cannot_be_rated(ctx: Flask) -> None:
    """Only "finished" arms the rating; a cancelled ticket's token rates nothing."""
    view = tickets.issue_ticket("A", now=at(0))
    tickets.cancel(view.token, now=at(1))
    with pytest.raises(RatingClosed):
        ratings.rate_by_token(view.token, 2, now=at(2))


def test_one_rating_per_ticket_whichever_comes_first(ctx: Flask) -> None:
    """The tablet rated first: the phone is told so, and the reverse."""
    first = serve(ctx, 1, "canbo1")
    ratings.rate_at_counter(counter_id(ctx, 1), first.uuid, 2, now=at(11))
    with pytest.raises(AlreadyRated):
        ratings.rate_by_token(first.token, 3, now=at(12))
    state = ratings.phone_state(first.token, now=at(12))
    assert state["state"] == "rated" and state["rated"] == {"level": 2, "label": "Hài lòng"}

    second = serve(ctx, 1, "canbo1", issued=20, done=30)
    ratings.rate_by_token(second.token, 1, reasons=["Chờ lâu"], now=at(31))
    with pytest.raises(AlreadyRated):
        ratings.rate_at_counter(counter_id(ctx, 1), second.uuid, 3, now=at(31))
    rows = db.session.execute(sa.select(Rating.level, Rating.source).order_by(Rating.id)).all()
    assert [tuple(r) for r in rows] == [(2, "tablet"), (1, "phone")]


def test_the_unique_constraint_settles_a_race(ctx: Flask, monkeypatch: pytest.MonkeyPatch) -> None:
    """If both sources pass the first check, the database refuses the second insert."""
    view = serve(ctx, 1, "canbo1")
    ratings.rate_by_token(view.token, 3, now=at(11))
    monkeypatch.setattr(ratings, "_existing", lambda _ticket_id: None)
    with pytest.raises(AlreadyRated):
        ratings.rate_at_counter(counter_id(ctx, 1), view.uuid, 1, now=at(11))
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Rating)) == 1


@pytest.mark.postgres
def test_simultaneous_ratings_on_postgresql(pg_app: Flask) -> None:
    """Eight threads rate the same ticket at once on PostgreSQL: exactly one rating is kept."""
    with pg_app.app_context():
        view = serve(pg_app, 1, "canbo1")
        cid = counter_id(pg_app, 1)
    barrier = threading.Barrier(8)
    outcomes: list[str] = []

    def rate(i: int) -> None:
        with pg_app.app_context():
            barrier.wait()
            try:
                if i % 2:
                    ratings.rate_by_token(view.token, 3, now=at(11))
                else:
                    ratings.rate_at_counter(cid, view.uuid, 2, now=at(11))
                outcomes.append("ok")
            except AlreadyRated:
                outcomes.append("already")
            finally:
                db.session.remove()

    threads = [threading.Thread(target=rate, args=(i,)) for i in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(outcomes) == ["already"] * 7 + ["ok"]
    with pg_app.app_context():
        assert db.session.scalar(sa.select(sa.func.count()).select_from(Rating)) == 1


def test_the_phone_window_closes(ctx: Flask) -> None:
    """After RATING_WINDOW_HOURS the QR no longer rates."""
    ctx.config["RATING_WINDOW_HOURS"] = 2
    view = serve(ctx, 1, "canbo1")
    assert ratings.phone_state(view.token, now=at(10 + 119))["state"] == "open"
    with pytest.raises(RatingClosed):
        ratings.rate_by_token(view.token, 3, now=at(10 + 121))
    assert ratings.phone_state(view.token, now=at(10 + 121))["state"] == "closed"


def test_the_tablet_rates_only_its_own_counter_and_only_recently(ctx: Flask) -> None:
    """Another counter's tablet cannot rate it; nor can this one after its window."""
    view = serve(ctx, 1, "canbo1")
    with pytest.raises(TicketNotFound):
        ratings.rate_at_counter(counter_id(ctx, 2), view.uuid, 3, now=at(11))
    with pytest.raises(RatingClosed):
        ratings.rate_at_counter(counter_id(ctx, 1), view.uuid, 3, now=at(10 + 11))
    with pytest.raises(TicketNotFound):
        ratings.rate_by_token("x" * 24, 3, now=at(11))


def test_answers_are_checked(ctx: Flask) -> None:
    """Levels of the scale only, reasons from the list only, comments trimmed and bounded."""
    view = serve(ctx, 1, "canbo1")
    for bad in (0, 4, True, "ba", None, 2.5):
        with pytest.raises(ValidationFailed):
            ratings.rate_by_token(view.token, bad, now=at(11))
    with pytest.raises(ValidationFailed):
        ratings.rate_by_token(view.token, 1, reasons=["Không có trong danh sách"], now=at(11))
    with pytest.raises(ValidationFailed):
        ratings.rate_by_token(view.token, 1, reasons="Chờ lâu", now=at(11))
    rated = ratings.rate_by_token(
        view.token,
        "1",
        reasons=["Chờ lâu", "Chờ lâu", "Hướng dẫn chưa rõ"],
        comment="  phải   chờ\n lâu " + "x" * 2000,
        now=at(11),
    )
    assert rated.reasons == ["Chờ lâu", "Hướng dẫn chưa rõ"]
    stored = db.session.scalar(sa.select(Rating))
    assert stored.comment.startswith("phải chờ lâu x") and len(stored.comment) == 1000
    assert stored.scale == 3


def test_attribution_is_kept_when_the_officer_moves(ctx: Flask) -> None:
    """Rated after the officer moved to another counter: still their first counter's rating."""
    first_counter = counter_id(ctx, 1)
    view = serve(ctx, 1, "canbo1")
    lan = user_id("canbo1")
    # Lan moves to counter 2 and serves there; canbo2 takes counter 1.
    serve(ctx, 2, "canbo1", issued=12, done=20)
    serve(ctx, 1, "canbo2", issued=13, done=21)
    ratings.rate_by_token(view.token, 2, now=at(30))
    rating = db.session.scalar(sa.select(Rating).where(Rating.level == 2))
    assert (rating.officer_id, rating.counter_id) == (lan, first_counter)
    week = reports.period_for("week", T0.date())
    by_officer = {r.label: r for r in reports.build_report(week, "officer", now=at(40)).rows}
    assert by_officer["Nguyễn Thị Lan"].levels == {2: 1}
    assert by_officer["Trần Văn Hùng"].levels == {}
    by_counter = {r.label: r for r in reports.build_report(week, "counter", now=at(40)).rows}
    assert by_counter["Quầy 1"].levels == {2: 1}


def test_an_unanswered_tablet_records_unrated_never_a_score(ctx: Flask) -> None:
    """The tablet's timeout logs rating_skipped once; no rating row; the phone may still rate."""
    view = serve(ctx, 1, "canbo1")
    cid = counter_id(ctx, 1)
    assert ratings.tablet_state(cid, now=at(10.5))["pending"]["code"] == view.code
    assert ratings.skip_at_counter(cid, view.uuid, now=at(11)) == {"recorded": True, "rated": False}
    assert ratings.skip_at_counter(cid, view.uuid, now=at(11)) == {
        "recorded": False,
        "rated": False,
    }
    skipped = db.session.scalars(
        sa.select(TicketEvent).where(TicketEvent.kind == ratings.SKIPPED)
    ).all()
    assert len(skipped) == 1 and skipped[0].detail == {"source": "tablet", "reason": "timeout"}
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Rating)) == 0
    assert ratings.tablet_state(cid, now=at(11.5))["pending"] is None
    report = reports.build_report(reports.period_for("day", T0.date()), "area", now=at(12))
    assert (report.total.served, report.total.rated, report.total.levels) == (1, 0, {})
    ratings.rate_by_token(view.token, 3, now=at(60))
    assert ratings.skip_at_counter(cid, view.uuid, now=at(61))["rated"] is True


def test_the_tablet_state_shows_the_officer_at_the_counter(ctx: Flask) -> None:
    """Idle: officer's name and position, counter, hall; the latest finished ticket pending."""
    cid = counter_id(ctx, 1)
    idle = ratings.tablet_state(cid, now=at(0))
    assert idle["officer"] is None and idle["pending"] is None
    assert idle["counter"]["number"] == 1 and idle["site"]["unit_name"] == "PHƯỜNG BA ĐÌNH"
    first = serve(ctx, 1, "canbo1")
    second = serve(ctx, 1, "canbo1", issued=11, done=15)
    state = ratings.tablet_state(cid, now=at(15.2))
    assert state["officer"]["full_name"] == "Nguyễn Thị Lan"
    assert state["officer"]["position"] == "Công chức"
    assert state["pending"]["uuid"] == second.uuid != first.uuid
    assert [lv["label"] for lv in state["scale"]["levels"]] == [
        "Rất hài lòng",
        "Hài lòng",
        "Không hài lòng",
    ]
    assert state["scale"]["question"].startswith("Ông/Bà đánh giá như thế nào về thái độ")
    assert ratings.tablet_state(cid, now=at(15 + 11))["pending"] is None  # window passed


def test_scales_of_three_to_five_levels(ctx: Flask) -> None:
    """Labels best first (plain or the admin page's {level, label}); the lower half is low."""
    five = ratings.build_scale(
        ["Rất hài lòng", "Hài lòng", "Bình thường", "Không hài lòng", "Rất không hài lòng"]
    )
    assert [(lv.score, lv.low) for lv in five.levels] == [
        (5, False),
        (4, False),
        (3, False),
        (2, True),
        (1, True),
    ]
    assert five.levels[0].mood == 1.0 and five.levels[-1].mood == 0.0
    four = ratings.build_scale([{"level": 4, "label": "Tốt"}, "Khá", "Chưa tốt", "Kém"])
    assert [lv.label for lv in four.levels if lv.low] == ["Chưa tốt", "Kém"]
    with pytest.raises(ValueError):
        ratings.build_scale(["Chỉ một mức"])
    ctx.config["RATING_SCALE"] = [lv.label for lv in five.levels]
    view = serve(ctx, 1, "canbo1")
    rated = ratings.rate_by_token(view.token, 5, now=at(11))
    assert (rated.scale, rated.label) == (5, "Rất hài lòng")
