"""Walk-in log for home visits and mobile sessions: one transaction, no queue, no printed ticket.

A walk-in is stored as an ordinary ``Ticket`` with ``kiosk = "walkin"`` whose events go
issued → started → finished at once. Choosing the ticket rather than a table of its own keeps
one truth for everything downstream: the reports count it like any served ticket (per area,
officer, site and session), a rating attaches to it through ``ratings.ticket_id`` as every
rating does, and the session's records carry it back to the hall with the same UUID rules. It
takes the next number of its area at the site (gap-free numbering stays intact); the number
is simply never printed or called.
"""

from __future__ import annotations

import datetime as dt
import logging
import secrets
from dataclasses import asdict, dataclass
from typing import Any

import sqlalchemy as sa
from flask_babel import lazy_gettext as _l

from db import db
from db.models import (
    Counter,
    Rating,
    Ticket,
    TicketEvent,
    TicketStatus,
    User,
    counter_areas,
    new_uuid,
)
from motcua import realtime
from motcua.errors import NotFound, ServiceNotFound, ValidationFailed
from motcua.inputs import fits_db_int
from motcua.services import catalog_cache, scopes
from motcua.services.common import bump_seq, current_policy, transactional
from motcua.services.sites import install_site_code
from motcua.services.tickets import format_code, next_number
from motcua.timeutil import business_day, ensure_now

log = logging.getLogger(__name__)

WALKIN = "walkin"
SOURCE_WALKIN = "walkin"


@dataclass(frozen=True)
class WalkinView:
    """A recorded walk-in transaction."""

    uuid: str
    code: str
    area_code: str
    area_name: str
    officer: str | None
    counter_number: int | None
    dossier_code: str | None
    rating: int | None
    finished_at: dt.datetime

    def as_dict(self) -> dict[str, Any]:
        """JSON-friendly dict."""
        out = asdict(self)
        out["finished_at"] = self.finished_at.isoformat()
        return out


def _scale_size(level: int | None) -> int:
    """The size of the hall's rating scale; the level must fit it."""
    try:
        from motcua.services import ratings
    except ImportError:  # pragma: no cover - the rating part is optional
        size = 3
    else:
        size = ratings.current_scale().size
    if level is not None and not 1 <= level <= size:
        raise ValidationFailed(_l("Mức đánh giá không hợp lệ."), field="rating")
    return size


@transactional
def record_walkin(
    area: str,
    *,
    officer_id: int | None = None,
    officer: str | None = None,
    dossier_code: str | None = None,
    rating: int | None = None,
    counter_number: int | None = None,
    started_at: dt.datetime | None = None,
    site_code: str | None = None,
    now: dt.datetime | None = None,
) -> WalkinView:
    """Log one served transaction (area, officer, optional mã hồ sơ and rating) at once."""
    now = ensure_now(now)
    snap = catalog_cache.snapshot()
    code = site_code or install_site_code()
    site = snap.sites.get(code)
    if site is None:
        raise NotFound(site=code)
    policy = current_policy(site.id)
    ref = snap.areas.get((area or "").strip().lower())
    if ref is None:
        raise ServiceNotFound(service=area)
    user: User | None = None
    if officer_id is not None:
        user = db.session.get(User, officer_id)
    elif officer:
        user = db.session.scalar(sa.select(User).where(User.username == officer.strip().lower()))
    if user is None or not user.active:
        raise ValidationFailed(_l("Không tìm thấy cán bộ tiếp nhận."), field="officer")
    scopes.check_site(user.id, site.id)  # an officer of other sites logs nothing here
    size = _scale_size(rating)
    started = ensure_now(started_at) if started_at is not None else now
    if started > now:
        raise ValidationFailed(field="started_at")
    counter = _counter(site.id, ref.id, user.id, counter_number)
    dossier = (dossier_code or "").strip()[:64] or None
    day = business_day(now)
    number = next_number(site.id, ref.id, day)
    code = format_code(ref.prefix, number, policy.digits)
    ticket = Ticket(
        uuid=new_uuid(),
        token=secrets.token_urlsafe(18),
        site_id=site.id,
        issue_area_id=ref.id,
        area_id=ref.id,
        business_day=day,
        number=number,
        code=code,
        status=TicketStatus.FINISHED,
        issued_at=started,
        queued_at=started,
        first_called_at=started,
        called_at=started,
        started_at=started,
        finished_at=now,
        counter_id=counter.id if counter else None,
        officer_id=user.id,
        call_count=0,
        misses=0,
        dossier_code=dossier,
        kiosk=WALKIN,
    )
    db.session.add(ticket)
    db.session.flush()
    common = {
        "ticket_id": ticket.id,
        "site_id": site.id,
        "actor_id": user.id,
        "counter_id": ticket.counter_id,
        "area_id": ref.id,
    }
    db.session.add(TicketEvent(kind="issued", at=started, detail={"walkin": True}, **common))
    db.session.add(TicketEvent(kind="started", at=started, detail={"walkin": True}, **common))
    done = {"walkin": True, **({"dossier_code": dossier} if dossier else {})}
    db.session.add(TicketEvent(kind="finished", at=now, detail=done, **common))
    if rating is not None:
        db.session.add(
            Rating(
                ticket_id=ticket.id,
                site_id=site.id,
                area_id=ref.id,
                counter_id=ticket.counter_id,
                officer_id=user.id,
                level=int(rating),
                scale=size,
                source=SOURCE_WALKIN,
                rated_at=now,
            )
        )
    seq = bump_seq(site.id)
    view = WalkinView(
        uuid=ticket.uuid,
        code=code,
        area_code=ref.code,
        area_name=ref.name,
        officer=user.username,
        counter_number=counter.number if counter else None,
        dossier_code=dossier,
        rating=rating,
        finished_at=now,
    )
    site_id = site.id
    db.session.commit()
    catalog_cache.forget_average((site_id, ref.id, day))
    realtime.publish(site_id, "board_changed", {"seq": seq})
    log.info("walk-in %s recorded by %s", code, view.officer)
    return view


def _counter(site_id: int, area_id: int, user_id: int, number: int | None) -> Counter | None:
    """The counter to attribute: the one given, the officer's own, or one serving the area."""
    base = sa.select(Counter).where(Counter.site_id == site_id, Counter.active.is_(True))
    if number is not None:
        if not fits_db_int(number):
            raise ValidationFailed(_l("Không có quầy số %(n)s.", n=number), field="counter")
        counter = db.session.scalar(base.where(Counter.number == number))
        if counter is None:
            raise ValidationFailed(_l("Không có quầy số %(n)s.", n=number), field="counter")
        return counter
    mine = db.session.scalar(base.where(Counter.officer_id == user_id).limit(1))
    if mine is not None:
        return mine
    return db.session.scalar(
        base.join(counter_areas, counter_areas.c.counter_id == Counter.id)
        .where(counter_areas.c.area_id == area_id)
        .order_by(Counter.number)
        .limit(1)
    )
