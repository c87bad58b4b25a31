"""Satisfaction ratings: the scale, the rules, the tablet's and the phone's state.

Rules (domain.md, issue 6):
- a ticket can be rated only once it is finished, and only once: by the counter's tablet
  or by the phone (the ticket's QR), whichever comes first; the unique constraint on
  ``ratings.ticket_id`` settles a race;
- the phone may rate within ``RATING_WINDOW_HOURS`` of the finish, the tablet only the
  tickets finished at its own counter within ``RATING_TABLET_WINDOW_S``;
- a rating is anonymous for the citizen and attributed to the officer, counter and area of
  the finished transaction (copied from the ticket: an officer who later moves to another
  counter keeps their ratings);
- a question left unanswered on the tablet is logged as a ``rating_skipped`` ticket event,
  never as a score.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from typing import Any

import sqlalchemy as sa
from flask import current_app
from sqlalchemy.exc import IntegrityError

from db import db
from db.models import Counter, Rating, ServiceArea, Site, Ticket, TicketEvent, TicketStatus, User
from motcua import realtime
from motcua.errors import (
    AlreadyRated,
    CounterNotFound,
    RatingClosed,
    TicketNotFound,
    ValidationFailed,
)
from motcua.services.common import begin_snapshot_read, bump_seq, transactional
from motcua.services.privacy import mask_personal
from motcua.services.sites import install_site_code
from motcua.timeutil import ensure_now

log = logging.getLogger(__name__)

SOURCE_TABLET, SOURCE_PHONE = "tablet", "phone"
SKIPPED = "rating_skipped"
MAX_COMMENT = 1000
MAX_REASONS = 10

# Colours from the worst to the best level (red → green), picked per scale size: a satisfied
# level is blue, never amber (amber reads "so-so"); white text on each passes WCAG AA.
_PALETTE = {
    2: ["#c62828", "#2e7d32"],
    3: ["#c62828", "#1565c0", "#2e7d32"],
    4: ["#c62828", "#d84315", "#1565c0", "#2e7d32"],
    5: ["#b71c1c", "#d84315", "#f9a825", "#1565c0", "#2e7d32"],
}


def level_moods(size: int, low: int) -> list[float]:
    """Face moods best first (1 = broad smile, 0.5 = flat, 0 = frown): every level that is not
    low smiles ("Hài lòng" is satisfied, not so-so), except the middle of a 5-level scale
    ("Bình thường"); the low levels frown, the worst most."""
    neutral = size >= 5 and size % 2 == 1
    good = size - low - (1 if neutral else 0)
    moods = [round(1.0 - 0.28 * i / max(1, good - 1), 3) for i in range(good)]
    if neutral:
        moods.append(0.5)
    moods += [0.0] if low == 1 else [round(0.18 - 0.18 * j / (low - 1), 3) for j in range(low)]
    return moods


@dataclass(frozen=True)
class Level:
    """One answer of the scale: its score (1 = worst), label, colour and face mood (0..1)."""

    score: int
    label: str
    color: str
    mood: float
    low: bool


@dataclass(frozen=True)
class RatingScale:
    """The configured question, levels (best first) and the reasons offered on a low score."""

    question: str
    levels: tuple[Level, ...]
    reasons: tuple[str, ...]

    @property
    def size(self) -> int:
        """How many levels."""
        return len(self.levels)

    def label(self, score: int) -> str:
        """The label of a score."""
        return next((lv.label for lv in self.levels if lv.score == score), str(score))

    def as_dict(self) -> dict[str, Any]:
        """JSON-friendly form for the pages."""
        return {
            "question": self.question,
            "size": self.size,
            "levels": [asdict(lv) for lv in self.levels],
            "reasons": list(self.reasons),
        }


@dataclass
class RatingView:
    """A recorded rating, as the surfaces see it (nothing about the citizen)."""

    ticket_code: str
    level: int
    label: str
    scale: int
    source: str
    rated_at: dt.datetime
    reasons: list[str] = field(default_factory=list)
    counter_number: int | None = None

    def as_dict(self) -> dict[str, Any]:
        """JSON-friendly dict."""
        out = asdict(self)
        out["rated_at"] = self.rated_at.isoformat()
        return out


def setting(name: str) -> Any:
    """A hall setting: through the settings service when there is one, else the app config."""
    try:
        from motcua.services import settings as hall_settings
    except ImportError:
        return current_app.config.get(name)
    effective = getattr(hall_settings, "effective", None)
    if effective is None:
        return current_app.config.get(name)
    return effective(name)


def build_scale(
    labels: Sequence[str],
    *,
    reasons: Sequence[str] = (),
    question: str = "",
    low_max: int | None = None,
) -> RatingScale:
    """A scale from labels ordered best first (2 to 5 of them)."""
    # Labels as plain strings, or as the admin page stores them: {"level": n, "label": "…"}.
    texts = [str(x.get("label", "")) if isinstance(x, dict) else str(x) for x in labels]
    names = [t.strip() for t in texts if t.strip()]
    if not 2 <= len(names) <= 5:
        raise ValueError("RATING_SCALE needs 2 to 5 labels")
    size = len(names)
    low = size // 2 if low_max is None else int(low_max)
    palette = _PALETTE[size]
    moods = level_moods(size, low)
    levels = tuple(
        Level(
            score=size - i,
            label=name,
            color=palette[size - i - 1],
            mood=moods[i],
            low=size - i <= low,
        )
        for i, name in enumerate(names)
    )
    return RatingScale(
        question=question,
        levels=levels,
        reasons=tuple(str(r).strip() for r in reasons if str(r).strip()),
    )


def current_scale() -> RatingScale:
    """The hall's scale (RATING_SCALE, RATING_REASONS, RATING_QUESTION, RATING_LOW_MAX)."""
    return build_scale(
        setting("RATING_SCALE") or ("Rất hài lòng", "Hài lòng", "Không hài lòng"),
        reasons=setting("RATING_REASONS") or (),
        question=str(setting("RATING_QUESTION") or ""),
        low_max=setting("RATING_LOW_MAX"),
    )


def tablet_timing() -> dict[str, int]:
    """The tablet's timeouts in seconds (question unanswered, thank-you screen)."""
    return {
        "question_s": int(setting("RATING_TABLET_TIMEOUT_S") or 60),
        "thanks_s": int(setting("RATING_THANKS_S") or 6),
    }


# --------------------------------------------------------------------------- rules


def _existing(ticket_id: int) -> Rating | None:
    return db.session.scalar(sa.select(Rating).where(Rating.ticket_id == ticket_id))


def _clean_answer(
    scale: RatingScale, level: Any, reasons: Any, comment: Any
) -> tuple[int, list[str] | None, str | None]:
    """Validate a level (a score of the scale), reasons (from the list) and a comment."""
    if isinstance(level, bool) or not isinstance(level, int | str):
        raise ValidationFailed(field="level")
    try:
        score = int(level)
    except ValueError:
        raise ValidationFailed(field="level") from None
    if not 1 <= score <= scale.size:
        raise ValidationFailed(field="level")
    chosen: list[str] = []
    if reasons:
        if not isinstance(reasons, list) or len(reasons) > MAX_REASONS:
            raise ValidationFailed(field="reasons")
        for reason in reasons:
            if not isinstance(reason, str) or reason not in scale.reasons:
                raise ValidationFailed(field="reasons")
            if reason not in chosen:
                chosen.append(reason)
    text: str | None = None
    if comment is not None:
        if not isinstance(comment, str):
            raise ValidationFailed(field="comment")
        text = (mask_personal(" ".join(comment.split())) or "")[:MAX_COMMENT] or None
    return score, chosen or None, text


def _record(
    ticket: Ticket,
    scale: RatingScale,
    answer: tuple[int, list[str] | None, str | None],
    source: str,
    now: dt.datetime,
) -> RatingView:
    """Insert the rating (attributed from the ticket), commit, then publish ``ticket_rated``."""
    if _existing(ticket.id) is not None:
        raise AlreadyRated()
    score, reasons, comment = answer
    counter_number = ticket.counter.number if ticket.counter else None
    rating = Rating(
        ticket_id=ticket.id,
        site_id=ticket.site_id,
        area_id=ticket.area_id,
        counter_id=ticket.counter_id,
        officer_id=ticket.officer_id,
        level=score,
        scale=scale.size,
        reasons=reasons,
        comment=comment,
        source=source,
        rated_at=now,
    )
    db.session.add(rating)
    try:
        db.session.flush()
    except IntegrityError:
        db.session.rollback()
        raise AlreadyRated() from None
    seq = bump_seq(ticket.site_id)
    payload = {
        "seq": seq,
        "ticket": {"uuid": ticket.uuid, "code": ticket.code, "token": ticket.token},
        "counter": counter_number,
        "counter_id": ticket.counter_id,
        "source": source,
    }
    view = RatingView(
        ticket_code=ticket.code,
        level=score,
        label=scale.label(score),
        scale=scale.size,
        source=source,
        rated_at=now,
        reasons=list(reasons or []),
        counter_number=counter_number,
    )
    site_id = ticket.site_id
    try:
        db.session.commit()
    except IntegrityError:  # the other source won the race (PostgreSQL, at commit time)
        db.session.rollback()
        raise AlreadyRated() from None
    realtime.publish(site_id, "ticket_rated", payload)
    return view


def _tablet_ticket(counter_id: int, ticket_uuid: str, now: dt.datetime) -> Ticket:
    """A ticket the counter's tablet may rate: finished at that counter, recently."""
    if not isinstance(ticket_uuid, str) or not ticket_uuid or len(ticket_uuid) > 64:
        raise ValidationFailed(field="ticket")
    ticket = db.session.scalar(sa.select(Ticket).where(Ticket.uuid == ticket_uuid))
    if ticket is None or ticket.counter_id != counter_id:
        raise TicketNotFound()
    window = dt.timedelta(seconds=int(setting("RATING_TABLET_WINDOW_S") or 600))
    if ticket.status != TicketStatus.FINISHED or ticket.finished_at is None:
        raise RatingClosed()
    if now - ticket.finished_at > window:
        raise RatingClosed()
    return ticket


def _phone_ticket(token: str, now: dt.datetime) -> Ticket:
    """A ticket its holder may rate by the QR: finished, within the window."""
    if not isinstance(token, str) or not token or len(token) > 128:
        raise TicketNotFound()
    ticket = db.session.scalar(sa.select(Ticket).where(Ticket.token == token))
    if ticket is None:
        raise TicketNotFound()
    if ticket.status != TicketStatus.FINISHED or ticket.finished_at is None:
        raise RatingClosed()
    if now - ticket.finished_at > dt.timedelta(hours=float(setting("RATING_WINDOW_HOURS") or 24)):
        raise RatingClosed()
    return ticket


@transactional
def rate_at_counter(
    counter_id: int,
    ticket_uuid: str,
    level: Any,
    *,
    reasons: Any = None,
    comment: Any = None,
    now: dt.datetime | None = None,
) -> RatingView:
    """The counter's tablet rates the ticket just finished there."""
    now = ensure_now(now)
    scale = current_scale()
    answer = _clean_answer(scale, level, reasons, comment)
    ticket = _tablet_ticket(counter_id, ticket_uuid, now)
    return _record(ticket, scale, answer, SOURCE_TABLET, now)


@transactional
def rate_by_token(
    token: str,
    level: Any,
    *,
    reasons: Any = None,
    comment: Any = None,
    now: dt.datetime | None = None,
) -> RatingView:
    """The citizen rates their finished ticket from the status page the QR opens."""
    now = ensure_now(now)
    scale = current_scale()
    answer = _clean_answer(scale, level, reasons, comment)
    ticket = _phone_ticket(token, now)
    return _record(ticket, scale, answer, SOURCE_PHONE, now)


@transactional
def skip_at_counter(
    counter_id: int, ticket_uuid: str, *, reason: str = "timeout", now: dt.datetime | None = None
) -> dict[str, Any]:
    """The tablet's question went unanswered: log ``rating_skipped`` (once), never a score."""
    now = ensure_now(now)
    if not isinstance(ticket_uuid, str) or not ticket_uuid or len(ticket_uuid) > 64:
        raise ValidationFailed(field="ticket")
    ticket = db.session.scalar(sa.select(Ticket).where(Ticket.uuid == ticket_uuid))
    if ticket is None or ticket.counter_id != counter_id:
        raise TicketNotFound()
    if ticket.status != TicketStatus.FINISHED:
        raise RatingClosed()
    if _existing(ticket.id) is not None:
        return {"recorded": False, "rated": True}
    already = db.session.scalar(
        sa.select(TicketEvent.id).where(
            TicketEvent.ticket_id == ticket.id, TicketEvent.kind == SKIPPED
        )
    )
    if already is None:
        db.session.add(
            TicketEvent(
                ticket_id=ticket.id,
                site_id=ticket.site_id,
                kind=SKIPPED,
                at=now,
                actor_id=ticket.officer_id,
                counter_id=ticket.counter_id,
                area_id=ticket.area_id,
                detail={"source": SOURCE_TABLET, "reason": str(reason)[:32]},
            )
        )
        db.session.commit()
    return {"recorded": already is None, "rated": False}


# --------------------------------------------------------------------------- states


def _photo(user: User | None) -> str | None:
    return user.photo if user is not None and user.photo else None


@transactional
def find_counter(number: int, site_code: str | None = None) -> int:
    """The id of an active counter by its number at a site (default: the install's)."""
    counter_id = db.session.scalar(
        sa.select(Counter.id)
        .join(Site, Site.id == Counter.site_id)
        .where(
            Site.code == (site_code or install_site_code()),
            Counter.number == number,
            Counter.active.is_(True),
        )
    )
    if counter_id is None:
        raise CounterNotFound(counter=number)
    return int(counter_id)


@transactional
def tablet_page(site_code: str | None = None) -> dict[str, Any]:
    """The tablet page's start: the hall, the counters it can be set up for, scale, timing."""
    site = db.session.scalar(sa.select(Site).where(Site.code == (site_code or install_site_code())))
    extra = {"scale": current_scale().as_dict(), "timing": tablet_timing()}
    if site is None:
        return {"site": None, "counters": [], **extra}
    counters = db.session.scalars(
        sa.select(Counter)
        .where(Counter.site_id == site.id, Counter.active.is_(True))
        .order_by(Counter.sort_order, Counter.number)
    )
    return {
        "site": {"code": site.code, "name": site.name, "unit_name": site.unit_name},
        "counters": [
            {
                "number": c.number,
                "name": c.name,
                "areas": [a.name for a in c.areas],
                "officer": c.officer.full_name if c.officer else None,
            }
            for c in counters
        ],
        **extra,
    }


@transactional
def tablet_state(counter_id: int, *, now: dt.datetime | None = None) -> dict[str, Any]:
    """What the counter's tablet shows: officer, counter, hall, and a rating waiting, if any."""
    # A read: on SQLite it must not take the write lock (a counter's call would wait for it).
    begin_snapshot_read()
    now = ensure_now(now)
    counter = db.session.get(Counter, counter_id)
    if counter is None or not counter.active:
        raise CounterNotFound(counter=counter_id)
    site = counter.site
    officer = counter.officer
    window = dt.timedelta(seconds=int(setting("RATING_TABLET_WINDOW_S") or 600))
    last = db.session.execute(
        sa.select(Ticket.id, Ticket.uuid, Ticket.code, Ticket.finished_at, ServiceArea.name)
        .join(ServiceArea, ServiceArea.id == Ticket.area_id)
        .where(
            Ticket.counter_id == counter.id,
            Ticket.status == TicketStatus.FINISHED,
            Ticket.finished_at >= now - window,
        )
        .order_by(Ticket.finished_at.desc(), Ticket.id.desc())
        .limit(1)
    ).first()
    pending = None
    if last is not None:
        done = db.session.scalar(
            sa.select(sa.func.count())
            .select_from(TicketEvent)
            .where(TicketEvent.ticket_id == last.id, TicketEvent.kind == SKIPPED)
        ) or db.session.scalar(sa.select(Rating.id).where(Rating.ticket_id == last.id))
        if not done:
            pending = {
                "uuid": last.uuid,
                "code": last.code,
                "area_name": last.name,
                "finished_at": last.finished_at.isoformat(),
            }
    return {
        "seq": int(site.seq or 0),
        "site": {"id": site.id, "code": site.code, "name": site.name, "unit_name": site.unit_name},
        "counter": {
            "id": counter.id,
            "number": counter.number,
            "name": counter.name,
            "paused": counter.paused,
            "areas": [a.name for a in counter.areas],
        },
        "officer": {
            "id": officer.id,
            "full_name": officer.full_name,
            "position": officer.position,
            "unit": officer.unit,
            "photo": _photo(officer),
        }
        if officer is not None
        else None,
        "pending": pending,
        "scale": current_scale().as_dict(),
        "timing": tablet_timing(),
        "now": now.isoformat(),
    }


@transactional
def phone_state(token: str, *, now: dt.datetime | None = None) -> dict[str, Any]:
    """The status page's rating slot: may this ticket be rated now, or was it already?"""
    now = ensure_now(now)
    if not isinstance(token, str) or not token or len(token) > 128:
        raise TicketNotFound()
    ticket = db.session.scalar(sa.select(Ticket).where(Ticket.token == token))
    if ticket is None:
        raise TicketNotFound()
    scale = current_scale()
    rating = _existing(ticket.id)
    state = "closed"
    if rating is not None:
        state = "rated"
    elif ticket.status == TicketStatus.FINISHED and ticket.finished_at is not None:
        hours = float(setting("RATING_WINDOW_HOURS") or 24)
        if now - ticket.finished_at <= dt.timedelta(hours=hours):
            state = "open"
    return {
        "state": state,
        "code": ticket.code,
        "status": ticket.status,
        "rated": {"level": rating.level, "label": scale.label(rating.level)}
        if rating is not None
        else None,
        "scale": scale.as_dict(),
    }


@transactional
def officer_photo(user_id: int) -> str | None:
    """The stored photo reference of an officer (a URL, or a file name in instance/photos)."""
    return _photo(db.session.get(User, user_id))
