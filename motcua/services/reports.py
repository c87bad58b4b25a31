"""Reports for leaders: periods, grouped measures, satisfaction, arrivals, live overview.

Every figure comes from the tickets table (whose time columns are written in the same
transaction as the matching event of the append-only log), the log itself (transfers,
print failures, unrated tablets) and the ratings table; see ``DEFINITIONS`` in
``motcua/reports/views.py`` for the words on the page. Periods are business days in
Asia/Ho_Chi_Minh (UTC+7 all year: no daylight saving, so a fixed offset is exact in SQL).

Speed (1,000,000 tickets, bench/bench_reports.py): ``GROUP BY`` queries for the counts, the
transfers and the arrivals, and one second pass over the period's called tickets for the
durations (the median and the 90th percentile need every value) and the rating levels, all
through covering indexes (migration 0003). On SQLite the reads go through their own
connection in autocommit mode, so a report never holds the kiosks' write lock.
"""

from __future__ import annotations

import calendar
import contextlib
import datetime as dt
import logging
import math
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import sqlalchemy as sa
from flask_babel import lazy_gettext as _l
from sqlalchemy.orm import Session
from sqlalchemy.pool import NullPool

from db import db
from db.models import (
    AT_COUNTER,
    OPEN_STATUSES,
    Counter,
    Rating,
    ServiceArea,
    Site,
    Ticket,
    TicketEvent,
    TicketStatus,
    User,
)
from motcua.errors import NotFound, SiteForbidden, ValidationFailed
from motcua.services import appointments, board, print_alerts, scopes
from motcua.services import sessions as outreach
from motcua.services.common import current_policy, default_site_code, dialect_name, transactional
from motcua.services.ratings import RatingScale, current_scale
from motcua.timeutil import HALL_TZ, business_day, ensure_now

log = logging.getLogger(__name__)

PERIOD_KINDS = ("day", "week", "month", "quarter", "half", "nine_months", "year", "custom")
GROUPS = ("area", "officer", "counter", "site", "day", *outreach.REPORT_GROUPS)
HALL_OFFSET_HOURS = 7  # Asia/Ho_Chi_Minh, no DST
MAX_CUSTOM_DAYS = 3 * 366
ROMAN = ("I", "II", "III", "IV")


# --------------------------------------------------------------------------- periods


@dataclass(frozen=True)
class Period:
    """An inclusive range of business days, with the kind it was picked as."""

    kind: str
    start: dt.date
    end: dt.date

    @property
    def days(self) -> int:
        """Calendar days in the period."""
        return (self.end - self.start).days + 1

    def utc_bounds(self) -> tuple[dt.datetime, dt.datetime]:
        """[start, end) in UTC: from local midnight of the first day to after the last."""
        first = dt.datetime.combine(self.start, dt.time(0), tzinfo=HALL_TZ)
        after = dt.datetime.combine(self.end + dt.timedelta(days=1), dt.time(0), tzinfo=HALL_TZ)
        return first.astimezone(dt.UTC), after.astimezone(dt.UTC)

    @property
    def name(self) -> str:
        """Short Vietnamese name: "Quý IV/2026", "Tháng 11/2026", "Ngày 23/11/2026"…"""
        s = self.start
        if self.kind == "day":
            return str(_l("Ngày %(d)s", d=f"{s:%d/%m/%Y}"))
        if self.kind == "week":
            week, year = s.isocalendar()[1], s.isocalendar()[0]
            return str(_l("Tuần %(w)s/%(y)s", w=week, y=year))
        if self.kind == "month":
            return str(_l("Tháng %(m)s", m=f"{s:%m/%Y}"))
        if self.kind == "quarter":
            return str(_l("Quý %(q)s/%(y)s", q=ROMAN[(s.month - 1) // 3], y=s.year))
        if self.kind == "half":
            if s.month == 1:
                return str(_l("6 tháng đầu năm %(y)s", y=s.year))
            return str(_l("6 tháng cuối năm %(y)s", y=s.year))
        if self.kind == "nine_months":
            return str(_l("9 tháng năm %(y)s", y=s.year))
        if self.kind == "year":
            return f"Năm {s.year}"
        return str(_l("Từ %(a)s đến %(b)s", a=f"{s:%d/%m/%Y}", b=f"{self.end:%d/%m/%Y}"))

    @property
    def range_text(self) -> str:
        """ "Từ ngày 01/10/2026 đến ngày 31/12/2026" """
        return str(
            _l(
                "Từ ngày %(a)s đến ngày %(b)s",
                a=f"{self.start:%d/%m/%Y}",
                b=f"{self.end:%d/%m/%Y}",
            )
        )

    def as_dict(self) -> dict[str, Any]:
        """JSON-friendly form."""
        return {
            "kind": self.kind,
            "start": self.start.isoformat(),
            "end": self.end.isoformat(),
            "name": self.name,
            "range_text": self.range_text,
        }


def _month_end(year: int, month: int) -> dt.date:
    return dt.date(year, month, calendar.monthrange(year, month)[1])


def period_for(
    kind: str,
    anchor: dt.date,
    *,
    start: dt.date | None = None,
    end: dt.date | None = None,
) -> Period:
    """The period of a kind that contains ``anchor`` (custom: ``start``..``end``).

    week: Monday to Sunday; half: January–June or July–December; nine_months: January to
    September of the anchor's year (the "9 tháng" monitoring table).
    """
    y, m = anchor.year, anchor.month
    if kind == "day":
        return Period(kind, anchor, anchor)
    if kind == "week":
        monday = anchor - dt.timedelta(days=anchor.weekday())
        return Period(kind, monday, monday + dt.timedelta(days=6))
    if kind == "month":
        return Period(kind, dt.date(y, m, 1), _month_end(y, m))
    if kind == "quarter":
        first = 3 * ((m - 1) // 3) + 1
        return Period(kind, dt.date(y, first, 1), _month_end(y, first + 2))
    if kind == "half":
        first = 1 if m <= 6 else 7
        return Period(kind, dt.date(y, first, 1), _month_end(y, first + 5))
    if kind == "nine_months":
        return Period(kind, dt.date(y, 1, 1), dt.date(y, 9, 30))
    if kind == "year":
        return Period(kind, dt.date(y, 1, 1), dt.date(y, 12, 31))
    if kind == "custom":
        if start is None or end is None or end < start:
            raise ValidationFailed(field="end")
        if (end - start).days >= MAX_CUSTOM_DAYS:
            raise ValidationFailed(field="end")
        return Period(kind, start, end)
    raise ValidationFailed(field="period")


# --------------------------------------------------------------------------- results


@dataclass
class Stats:
    """A duration measure in seconds: how many values, mean, median and 90th percentile."""

    count: int = 0
    total: float = 0.0
    median: float | None = None
    p90: float | None = None

    @property
    def mean(self) -> float | None:
        """The average, or None without values."""
        return self.total / self.count if self.count else None


@dataclass
class Row:
    """One group of the report (or the total)."""

    key: Any
    label: str
    unit: str = ""
    issued: int = 0
    served: int = 0
    no_show: int = 0
    cancelled: int = 0
    expired: int = 0
    open: int = 0
    transferred: int = 0
    wait: Stats = field(default_factory=Stats)
    service: Stats = field(default_factory=Stats)
    served_within_target: int = 0
    levels: dict[int, int] = field(default_factory=dict)
    other_scale: int = 0

    @property
    def rated(self) -> int:
        """Rating forms (phiếu) received."""
        return sum(self.levels.values()) + self.other_scale

    @property
    def target_share(self) -> float | None:
        """Served within the area's target wait, as a share of served (0..1)."""
        return self.served_within_target / self.served if self.served else None

    def level_share(self, score: int) -> float | None:
        """A level's share of the forms on the current scale (0..1)."""
        forms = sum(self.levels.values())
        return self.levels.get(score, 0) / forms if forms else None

    @property
    def rated_share(self) -> float | None:
        """Served tickets that were rated (0..1)."""
        return self.rated / self.served if self.served else None


@dataclass
class Report:
    """A whole report: the period, grouped rows, total, satisfaction and arrivals."""

    period: Period
    group: str
    site_name: str
    unit_name: str
    rows: list[Row]
    total: Row
    satisfaction: list[Row]
    satisfaction_total: Row
    scale: RatingScale
    hours: list[int]
    weekdays: list[int]
    weekday_days: list[int]
    generated_at: dt.datetime
    sites: list[dict[str, str]] = field(default_factory=list)
    # Per area: bookings, checked_in, no_shows, cancelled (``appointments.appointment_counts``).
    appointments: list[dict[str, Any]] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        """JSON-friendly form (seconds for durations, shares 0..1)."""

        def row(r: Row) -> dict[str, Any]:
            return {
                "key": r.key.isoformat() if isinstance(r.key, dt.date) else r.key,
                "label": r.label,
                "unit": r.unit,
                "issued": r.issued,
                "served": r.served,
                "no_show": r.no_show,
                "cancelled": r.cancelled,
                "expired": r.expired,
                "open": r.open,
                "transferred": r.transferred,
                "wait": {"count": r.wait.count, "mean": r.wait.mean, "median": r.wait.median,
                         "p90": r.wait.p90},
                "service": {"count": r.service.count, "mean": r.service.mean,
                            "median": r.service.median, "p90": r.service.p90},
                "served_within_target": r.served_within_target,
                "target_share": r.target_share,
                "rated": r.rated,
                "levels": {str(k): v for k, v in sorted(r.levels.items())},
                "other_scale": r.other_scale,
            }  # fmt: skip

        return {
            "period": self.period.as_dict(),
            "group": self.group,
            "rows": [row(r) for r in self.rows],
            "total": row(self.total),
            "satisfaction": [row(r) for r in self.satisfaction],
            "satisfaction_total": row(self.satisfaction_total),
            "scale": self.scale.as_dict(),
            "hours": self.hours,
            "weekdays": self.weekdays,
            "weekday_days": self.weekday_days,
            "appointments": self.appointments,
        }


# --------------------------------------------------------------------------- reading

_READERS: dict[str, sa.Engine] = {}
_READERS_LOCK = threading.Lock()


def _reader(engine: sa.Engine) -> sa.Engine:
    """A plain SQLite engine on the same file, for reports only.

    The app's engine starts every transaction with ``BEGIN IMMEDIATE`` behind an in-process
    write lock (db/engine.py), so a report read through it would hold up the kiosks. This
    engine reads in autocommit mode, and in WAL mode readers never block the writers.
    """
    url = engine.url.render_as_string(hide_password=False)
    with _READERS_LOCK:
        reader = _READERS.get(url)
        if reader is None:
            reader = sa.create_engine(url, poolclass=NullPool)

            @sa.event.listens_for(reader, "connect")
            def _pragmas(dbapi_connection: Any, _record: Any) -> None:
                cursor = dbapi_connection.cursor()
                cursor.execute("PRAGMA busy_timeout=30000")
                cursor.execute("PRAGMA query_only=1")
                cursor.close()

            _READERS[url] = reader
    return reader


@contextlib.contextmanager
def reading() -> Iterator[Session]:
    """A session for report queries: a non-locking reader on SQLite, the app's on others."""
    engine = db.engine
    if engine.dialect.name != "sqlite" or engine.url.database in (None, "", ":memory:"):
        yield db.session()
        return
    with Session(_reader(engine)) as session:
        yield session


# --------------------------------------------------------------------------- SQL parts


def _seconds(later: Any, earlier: Any) -> Any:
    """Whole seconds from ``earlier`` to ``later`` (rounded), as SQL."""
    if dialect_name() == "sqlite":
        raw = (sa.func.julianday(later) - sa.func.julianday(earlier)) * 86400.0
    else:
        raw = sa.func.extract("epoch", later - earlier)
    return sa.cast(sa.func.round(raw), sa.Integer)


def _local_hour(column: Any) -> Any:
    """The hall-time hour (0..23) of a stored UTC time, as SQL.

    SQLite stores times as "YYYY-MM-DD HH:MM:SS.ffffff" text: the hour is read from the text
    (several times cheaper than strftime on a quarter of a million rows).
    """
    if dialect_name() == "sqlite":
        hour = sa.cast(sa.func.substr(column, 12, 2), sa.Integer)
        return (hour + HALL_OFFSET_HOURS) % 24
    shifted = column + sa.literal_column(f"interval '{HALL_OFFSET_HOURS} hours'")
    return sa.cast(sa.func.extract("hour", shifted), sa.Integer)


def _ticket_key(group: str) -> Any:
    if group in outreach.REPORT_GROUPS:  # Saturday and mobile sessions (services/sessions.py)
        return outreach.report_key(group)
    return {
        "area": Ticket.area_id,
        "officer": Ticket.officer_id,
        "counter": Ticket.counter_id,
        "site": Ticket.site_id,
        "day": Ticket.business_day,
    }[group]


def _transfer_key(group: str) -> Any:
    if group in outreach.REPORT_GROUPS:
        return outreach.report_key(group)
    return {
        "area": TicketEvent.detail["from_area_id"].as_integer(),
        "officer": TicketEvent.actor_id,
        "counter": TicketEvent.counter_id,
        "site": TicketEvent.site_id,
        "day": Ticket.business_day,
    }[group]


def nearest_rank(values: list[int], p: float) -> int:
    """The p-th percentile of sorted values by the nearest-rank method: rank ⌈p·n⌉."""
    return values[max(1, math.ceil(p * len(values))) - 1]


def _fill(stats: Stats, values: list[int]) -> None:
    """Count, total, median and 90th percentile of some durations (sorted in place)."""
    values.sort()
    stats.count = len(values)
    stats.total = float(sum(values))
    if values:
        stats.median = float(nearest_rank(values, 0.5))
        stats.p90 = float(nearest_rank(values, 0.9))


# --------------------------------------------------------------------------- the report


@dataclass
class _Where:
    """What a report covers: one site, or the sites the account may see (None: all)."""

    tickets: list[Any]
    ratings: list[Any]
    site: Site | None
    sites: list[Site]  # the sites the reader may pick from (and, without ``site``, covered)


def _site_filter(s: Session, site_code: str | None, actor_id: int | None = None) -> _Where:
    """The report's sites: the one asked for (a site of the account's), else every site the
    account sees (a site leader: their own; a province leader: all of them)."""
    scope = scopes.scope_of(actor_id, session=s)
    sites = list(s.scalars(sa.select(Site).where(*scope.where(Site.id)).order_by(Site.id)))
    if site_code:
        site = s.scalar(sa.select(Site).where(Site.code == site_code))
        if site is None:
            raise NotFound(site=site_code)
        if not scope.allows(site.id):
            raise SiteForbidden(site=site_code)
        return _Where([Ticket.site_id == site.id], [], site, sites)
    if scope.province:
        return _Where([], [], None, sites)
    if len(sites) == 1:
        return _Where([Ticket.site_id == sites[0].id], [], sites[0], sites)
    ids = [x.id for x in sites]
    return _Where([Ticket.site_id.in_(ids)], [Rating.site_id.in_(ids)], None, sites)


def _officer_sites(s: Session, where: list[Any]) -> dict[Any, str]:
    """{officer id: the names of the sites whose tickets they served}: the officer's "with
    site" on a report that covers several sites."""
    names: dict[Any, list[str]] = {}
    for officer_id, name in s.execute(
        sa.select(Ticket.officer_id, Site.name)
        .join(Site, Site.id == Ticket.site_id)
        .where(*where, Ticket.officer_id.is_not(None))
        .group_by(Ticket.officer_id, Site.id, Site.name)
        .order_by(Site.id)
    ).all():
        names.setdefault(officer_id, []).append(name)
    return {k: ", ".join(v) for k, v in names.items()}


WEEKDAY_NAMES = (
    _l("Thứ Hai"), _l("Thứ Ba"), _l("Thứ Tư"), _l("Thứ Năm"), _l("Thứ Sáu"), _l("Thứ Bảy"),
    _l("Chủ Nhật"),
)  # fmt: skip


def _labels(s: Session, group: str, keys: set[Any]) -> dict[Any, tuple[str, str, Any]]:
    """{key: (label, unit, sort key)} for the keys of a grouping."""
    if group in outreach.REPORT_GROUPS:
        return outreach.report_labels(group, keys)
    ids = [k for k in keys if k is not None]
    out: dict[Any, tuple[str, str, Any]] = {}
    if group == "area":
        for a in s.scalars(sa.select(ServiceArea).where(ServiceArea.id.in_(ids))):
            out[a.id] = (f"{a.prefix} – {a.name}", "", (a.sort_order, a.prefix))
        out[None] = (str(_l("(không rõ lĩnh vực)")), "", (10**6, ""))
    elif group == "officer":
        units = [u for u in s.scalars(sa.select(Site.unit_name).order_by(Site.id)) if u]
        fallback = units[0] if units else ""
        for u in s.scalars(sa.select(User).where(User.id.in_(ids))):
            out[u.id] = (u.full_name, u.unit or fallback, (0, u.full_name))
        out[None] = (str(_l("(chưa được gọi)")), fallback, (1, ""))
    elif group == "counter":
        for c in s.scalars(sa.select(Counter).where(Counter.id.in_(ids))):
            name = str(_l("Quầy %(n)s", n=c.number))
            if c.name and c.name.strip() not in (name, f"Quầy {c.number}"):
                name += f" – {c.name}"
            out[c.id] = (name, c.site.name, (c.site_id, c.number))
        out[None] = (str(_l("(chưa đến quầy)")), "", (10**6, 0))
    elif group == "site":
        for site in s.scalars(sa.select(Site).where(Site.id.in_(ids))):
            out[site.id] = (site.name, site.unit_name, (site.id,))
    else:
        for day in ids:
            out[day] = (f"{day:%d/%m/%Y}", str(WEEKDAY_NAMES[day.weekday()]), (day,))
    return out


def _norm_key(group: str, key: Any) -> Any:
    if group == "day" and isinstance(key, str):
        return dt.date.fromisoformat(key[:10])
    return key


def _count_if(cond: Any) -> Any:
    return sa.func.coalesce(sa.func.sum(sa.case((cond, 1), else_=0)), 0)


def _status_counts(s: Session, group: str, where: list[Any]) -> dict[Any, Row]:
    """Pass 1, a GROUP BY: tickets per group and how they ended."""
    key = _ticket_key(group)
    status = Ticket.status
    rows: dict[Any, Row] = {}
    for k, issued, served, no_show, cancelled, expired, still in s.execute(
        sa.select(
            key,
            sa.func.count(),
            _count_if(status == TicketStatus.FINISHED),
            _count_if(status == TicketStatus.NO_SHOW),
            _count_if(status == TicketStatus.CANCELLED),
            _count_if(status == TicketStatus.EXPIRED),
            _count_if(status.in_(OPEN_STATUSES)),
        )
        .where(*where)
        .group_by(key)
    ).all():
        k = _norm_key(group, k)
        rows[k] = Row(
            key=k,
            label="",
            issued=int(issued),
            served=int(served),
            no_show=int(no_show),
            cancelled=int(cancelled),
            expired=int(expired),
            open=int(still),
        )
    return rows


@dataclass
class _Durations:
    """Per-group lists gathered by the second pass."""

    waits: list[int] = field(default_factory=list)
    services: list[int] = field(default_factory=list)
    within: int = 0


def _called_tickets(s: Session, group: str, where: list[Any]) -> dict[Any, _Durations]:
    """Pass 2, one row per ticket that was called: its wait, service time and target.

    The median and the 90th percentile need every value: they are taken from this one read
    of the period's called tickets (covering index, Core rows), by the nearest-rank method.
    """
    targets = dict(s.execute(sa.select(ServiceArea.id, ServiceArea.target_wait_minutes)).all())
    limits = {area: minutes * 60 for area, minutes in targets.items()}
    key = _ticket_key(group)
    wait = _seconds(Ticket.first_called_at, Ticket.issued_at)
    service = sa.case(
        (Ticket.status == TicketStatus.FINISHED, _seconds(Ticket.finished_at, Ticket.started_at)),
        else_=None,
    )
    per: dict[Any, _Durations] = {}
    result = s.connection().execute(
        sa.select(key, Ticket.area_id, wait, service).where(
            *where, Ticket.first_called_at.is_not(None)
        )
    )
    try:
        # Plain DBAPI tuples: no Row object for each of a quarter's ~60,000 tickets.
        rows = result.cursor.fetchall()
    finally:
        result.close()
    for k, area, w, sv in rows:
        bucket = per.get(k)
        if bucket is None:
            bucket = per[k] = _Durations()
        bucket.waits.append(w)
        if sv is not None:
            bucket.services.append(sv)
            if w <= limits.get(area, 0):
                bucket.within += 1
    return per


def _rating_key(group: str) -> Any:
    if group in outreach.REPORT_GROUPS:
        return outreach.rating_report_key(group)
    if group == "day":
        return _local_date(Rating.rated_at)
    return {
        "area": Rating.area_id,
        "officer": Rating.officer_id,
        "counter": Rating.counter_id,
        "site": Rating.site_id,
    }[group]


def _local_date(column: Any) -> Any:
    """The hall-time date of a stored UTC time, as SQL."""
    if dialect_name() == "sqlite":
        return sa.func.date(column, f"+{HALL_OFFSET_HOURS} hours")
    shifted = column + sa.literal_column(f"interval '{HALL_OFFSET_HOURS} hours'")
    return sa.cast(shifted, sa.Date)


def _ratings(
    s: Session,
    group: str,
    bounds: tuple[dt.datetime, dt.datetime],
    site: Site | None,
    extra: list[Any] | None = None,
) -> dict[Any, dict[tuple[int, int], int]]:
    """Pass 3, a GROUP BY on the ratings received in the period: {key: {(scale, level): n}}."""
    key = _rating_key(group)
    where = [Rating.rated_at >= bounds[0], Rating.rated_at < bounds[1], *(extra or [])]
    if site is not None:
        where.append(Rating.site_id == site.id)
    out: dict[Any, dict[tuple[int, int], int]] = {}
    for k, size, level, n in s.execute(
        sa.select(key, Rating.scale, Rating.level, sa.func.count())
        .where(*where)
        .group_by(key, Rating.scale, Rating.level)
    ).all():
        levels = out.setdefault(_norm_key(group, k), {})
        levels[(int(size), int(level))] = int(n)
    return out


def _apply(row: Row, found: _Durations) -> None:
    """Put the second pass's figures on a row."""
    _fill(row.wait, found.waits)
    _fill(row.service, found.services)
    row.served_within_target = found.within


def _apply_levels(row: Row, levels: dict[tuple[int, int], int], scale: RatingScale) -> None:
    for (size, level), n in levels.items():
        if size == scale.size:
            row.levels[level] = row.levels.get(level, 0) + n
        else:
            row.other_scale += n


def _transfers(
    s: Session, group: str, where: list[Any], bounds: tuple[dt.datetime, dt.datetime]
) -> dict[Any, int]:
    """Pass 3, a GROUP BY on the event log: transfers, by the group they were made from."""
    key = _transfer_key(group)
    rows = s.execute(
        sa.select(key, sa.func.count())
        .select_from(TicketEvent)
        .join(Ticket, Ticket.id == TicketEvent.ticket_id)
        .where(
            TicketEvent.kind == "transferred",
            TicketEvent.at >= bounds[0],
            TicketEvent.at < bounds[1],
            *where,
        )
        .group_by(key)
    ).all()
    return {_norm_key(group, k): int(n) for k, n in rows}


SUMMED = (
    "issued", "served", "no_show", "cancelled", "expired", "open", "transferred",
    "served_within_target", "other_scale",
)  # fmt: skip


def _sum_counts(rows: list[Row]) -> Row:
    """The counts of the rows added up (durations are filled from all values separately)."""
    total = Row(key=None, label=str(_l("Tổng cộng")))
    for r in rows:
        for name in SUMMED:
            setattr(total, name, getattr(total, name) + getattr(r, name))
    return total


def _label_rows(s: Session, group: str, rows: dict[Any, Row]) -> list[Row]:
    labels = _labels(s, group, set(rows))
    missing = ("", "", (10**7,))
    for k, row in rows.items():
        row.label, row.unit, _ = labels.get(k, (str(k), "", missing[2]))
    return sorted(rows.values(), key=lambda r: labels.get(r.key, missing)[2])


def _arrivals(s: Session, where: list[Any]) -> tuple[list[int], list[int], list[int]]:
    """Pass 4, a GROUP BY: tickets by hall-time hour and weekday; days per weekday."""
    hour = _local_hour(Ticket.issued_at)
    hours = [0] * 24
    weekdays = [0] * 7
    days: set[dt.date] = set()
    for day, h, n in s.execute(
        sa.select(Ticket.business_day, hour, sa.func.count())
        .where(*where)
        .group_by(Ticket.business_day, hour)
    ).all():
        day = _norm_key("day", day)
        hours[int(h)] += int(n)
        weekdays[day.weekday()] += int(n)
        days.add(day)
    per_weekday = [0] * 7
    for day in days:
        per_weekday[day.weekday()] += 1
    return hours, weekdays, per_weekday


def _satisfaction(
    s: Session,
    group: str,
    rows: list[Row],
    where: list[Any],
    bounds: tuple[dt.datetime, dt.datetime],
    site: Site | None,
    scale: RatingScale,
    rating_where: list[Any] | None = None,
) -> tuple[list[Row], Row]:
    """The satisfaction table, one row per officer (the official form), and its total."""
    if group == "officer":
        by_officer = rows
    else:
        found: dict[Any, Row] = {}
        for k, n in s.execute(
            sa.select(Ticket.officer_id, sa.func.count())
            .where(*where, Ticket.status == TicketStatus.FINISHED)
            .group_by(Ticket.officer_id)
        ).all():
            found[k] = Row(key=k, label="", served=int(n))
        for k, levels in _ratings(s, "officer", bounds, site, rating_where).items():
            _apply_levels(found.setdefault(k, Row(key=k, label="")), levels, scale)
        by_officer = _label_rows(s, "officer", found)
    listed = [r for r in by_officer if r.rated or r.served]
    total = _sum_counts(listed)
    for r in listed:
        for level, n in r.levels.items():
            total.levels[level] = total.levels.get(level, 0) + n
    return listed, total


@transactional
def build_report(
    period: Period,
    group: str = "area",
    *,
    site_code: str | None = None,
    session_kind: str | None = None,
    session_place: str | None = None,
    actor_id: int | None = None,
    now: dt.datetime | None = None,
) -> Report:
    """The report of a period grouped by area, officer, counter, site, day or session.

    ``session_kind`` / ``session_place`` keep the Saturday and mobile sessions of that type or
    place ("regular": the hall's ordinary days); see ``services/sessions.py``. ``actor_id``:
    the reader, who sees only their sites (a province leader: every site, added up).
    """
    now = ensure_now(now)
    if group not in GROUPS:
        raise ValidationFailed(field="group")
    scale = current_scale()
    with reading() as s:
        scoped = _site_filter(s, site_code, actor_id)
        site = scoped.site
        where = [
            Ticket.business_day >= period.start,
            Ticket.business_day <= period.end,
            *scoped.tickets,
            *outreach.ticket_conditions(kind=session_kind, place=session_place),
        ]
        rating_where = [
            *scoped.ratings,
            *outreach.rating_conditions(kind=session_kind, place=session_place),
        ]
        bounds = period.utc_bounds()
        found = _status_counts(s, group, where)
        per = _called_tickets(s, group, where)
        everything = _Durations()
        for k, lists in per.items():
            everything.waits += lists.waits
            everything.services += lists.services
            k = _norm_key(group, k)
            _apply(found.setdefault(k, Row(key=k, label="")), lists)
        for k, n in _transfers(s, group, where, bounds).items():
            found.setdefault(k, Row(key=k, label="")).transferred = n
        for k, levels in _ratings(s, group, bounds, site, rating_where).items():
            _apply_levels(found.setdefault(k, Row(key=k, label="")), levels, scale)
        rows = _label_rows(s, group, found)
        total = _sum_counts(rows)
        _fill(total.wait, everything.waits)
        _fill(total.service, everything.services)
        for r in rows:
            for level, n in r.levels.items():
                total.levels[level] = total.levels.get(level, 0) + n
        satisfaction, sat_total = _satisfaction(
            s, group, rows, where, bounds, site, scale, rating_where
        )
        hours, weekdays, weekday_days = _arrivals(s, where)
        sites = scoped.sites
        if site is None and len(sites) > 1:  # across sites: each officer with their sites
            worked_at = _officer_sites(s, where)
            for r in [*(rows if group == "officer" else []), *satisfaction]:
                r.unit = worked_at.get(r.key, r.unit)
        booked_at = [site.id] if site else ([x.id for x in sites] if scoped.tickets else None)
        booked = appointments.appointment_counts(s, period.start, period.end, booked_at, now)
        choices = [{"code": x.code, "name": x.name} for x in sites if x.active]
        if site is None:
            everywhere = str(_l("Tất cả điểm tiếp nhận"))
            site_name = sites[0].name if len(sites) == 1 else everywhere
            unit_name = sites[0].unit_name if len(sites) == 1 else ""
        else:
            site_name, unit_name = site.name, site.unit_name
    return Report(
        period=period,
        group=group,
        site_name=site_name,
        unit_name=unit_name,
        rows=rows,
        total=total,
        satisfaction=satisfaction,
        satisfaction_total=sat_total,
        scale=scale,
        hours=hours,
        weekdays=weekdays,
        weekday_days=weekday_days,
        generated_at=now,
        sites=choices,
        appointments=booked,
    )


def today(now: dt.datetime | None = None) -> dt.date:
    """The hall's business day now."""
    return business_day(ensure_now(now))


# --------------------------------------------------------------------------- ticket rows


TICKET_COLUMNS = (
    _l("Ngày"), _l("Số thứ tự"), _l("Lĩnh vực"), _l("Trạng thái"), _l("Ưu tiên"), _l("Quầy"),
    _l("Công chức"), _l("Lấy số"), _l("Gọi lần đầu"), _l("Bắt đầu"), _l("Kết thúc"),
    _l("Chờ (giây)"), _l("Phục vụ (giây)"), _l("Mức đánh giá"), _l("Nguồn đánh giá"),
)  # fmt: skip

SOURCE_TEXT = {"tablet": _l("Máy đánh giá tại quầy"), "phone": _l("Điện thoại (mã QR)")}

STATUS_TEXT = {
    "waiting": _l("Đang chờ"),
    "called": _l("Đã gọi"),
    "serving": _l("Đang phục vụ"),
    "finished": _l("Đã phục vụ"),
    "no_show": _l("Vắng mặt"),
    "cancelled": _l("Đã hủy"),
    "expired": _l("Hết hiệu lực"),
}


def _hall_time_text(column: Any) -> Any:
    """A UTC time column as hall time text "YYYY-MM-DD HH:MM:SS", computed by the database."""
    if dialect_name() == "sqlite":
        # datetime() is about twice as fast as strftime() on a year of tickets.
        return sa.func.datetime(column, f"+{HALL_OFFSET_HOURS} hours")
    shifted = column + sa.literal_column(f"interval '{HALL_OFFSET_HOURS} hours'")
    return sa.func.to_char(shifted, "YYYY-MM-DD HH24:MI:SS")


def csv_field(value: Any) -> str:
    """One CSV field (RFC 4180): quoted only when it holds a comma, a quote or a line break."""
    text = "" if value is None else str(value)
    if any(c in text for c in ',"\r\n'):
        return '"' + text.replace('"', '""') + '"'
    return text


def iter_ticket_csv(
    period: Period,
    *,
    site_code: str | None = None,
    session_kind: str | None = None,
    session_place: str | None = None,
    actor_id: int | None = None,
) -> Iterator[str]:
    """The period's tickets one CSV line each (hall times, no personal data), streamed; only
    the sites ``actor_id`` sees.

    A year of a busy hall is a quarter of a million lines: the database formats the times and
    durations, names come from small lookup tables made once (already quoted), and each line
    is one f-string (the csv module was the slowest part).
    """
    with reading() as s:  # checked now, before the first line is sent
        site_where = _site_filter(s, site_code, actor_id).tickets
    return _ticket_csv_lines(period, site_where, session_kind, session_place)


def _ticket_csv_lines(
    period: Period, site_where: list[Any], session_kind: str | None, session_place: str | None
) -> Iterator[str]:
    """The lines of ``iter_ticket_csv``, read as they are sent."""
    scale = current_scale()
    t = Ticket.__table__
    r = Rating.__table__
    with reading() as s:
        areas = {k: csv_field(v) for k, v in s.execute(sa.select(ServiceArea.id, ServiceArea.name))}
        counters = {k: str(v) for k, v in s.execute(sa.select(Counter.id, Counter.number))}
        officers = {k: csv_field(v) for k, v in s.execute(sa.select(User.id, User.full_name))}
        labels = {(scale.size, lv.score): csv_field(lv.label) for lv in scale.levels}
        status = {k: csv_field(v) for k, v in STATUS_TEXT.items()}
        # Priority categories and rating sources in the hall's words, not their codes.
        priorities = {k: csv_field(v) for k, v in current_policy().priority_categories.items()}
        sources = {k: csv_field(v) for k, v in SOURCE_TEXT.items()}
        stmt = (
            sa.select(
                t.c.business_day,
                t.c.code,
                t.c.area_id,
                t.c.status,
                t.c.priority,
                t.c.counter_id,
                t.c.officer_id,
                _hall_time_text(t.c.issued_at),
                _hall_time_text(t.c.first_called_at),
                _hall_time_text(t.c.started_at),
                _hall_time_text(t.c.finished_at),
                _seconds(t.c.first_called_at, t.c.issued_at),
                sa.case(
                    (
                        t.c.status == TicketStatus.FINISHED,
                        _seconds(t.c.finished_at, t.c.started_at),
                    ),
                    else_=None,
                ),
                r.c.scale,
                r.c.level,
                r.c.source,
            )
            .select_from(t.outerjoin(r, r.c.ticket_id == t.c.id))
            .where(t.c.business_day >= period.start, t.c.business_day <= period.end)
            .where(*site_where)
            .where(*outreach.ticket_conditions(kind=session_kind, place=session_place))
            .order_by(t.c.business_day, t.c.id)
        )
        yield "\ufeff" + ",".join(csv_field(c) for c in TICKET_COLUMNS) + "\r\n"
        # Plain DBAPI tuples a chunk at a time (no stream_results: SQLAlchemy would buffer
        # the first rows itself); SQLite steps through the rows as they are fetched.
        result = s.connection().execute(stmt)
        try:
            cursor = result.cursor
            while chunk := cursor.fetchmany(5000):
                yield "".join(
                    [
                        f"{day},{code},{areas.get(area, '')},{status.get(st, st)},"
                        f"{priorities.get(prio, prio or '')},{counters.get(cid, '')},"
                        f"{officers.get(oid, '')},"
                        f"{issued or ''},{called or ''},{started or ''},{finished or ''},"
                        f"{'' if wait is None else wait},{'' if serve is None else serve},"
                        f"{labels.get((size, level), '' if level is None else level)},"
                        f"{sources.get(source, source or '')}\r\n"
                        for (
                            day,
                            code,
                            area,
                            st,
                            prio,
                            cid,
                            oid,
                            issued,
                            called,
                            started,
                            finished,
                            wait,
                            serve,
                            size,
                            level,
                            source,
                        ) in chunk
                    ]  # fmt: skip
                )
        finally:
            result.close()


# --------------------------------------------------------------------------- live view


@transactional
def live_snapshot(
    *, site_code: str | None = None, actor_id: int | None = None, now: dt.datetime | None = None
) -> dict[str, Any]:
    """The leaders' live overview of a site today: queues, counters, served, ratings, alerts.

    ``actor_id``: a site leader sees only their sites (their first unless they name one).
    """
    now = ensure_now(now)
    scope = scopes.scope_of(actor_id)
    site_code = scopes.site_code_for(actor_id, site_code, default_site_code())
    db.session.rollback()  # the board's reads start their own consistent snapshot
    base = board.board_snapshot(site_code=site_code, now=now)
    site_id = base["site"]["id"]
    day = business_day(now)
    today_where = [Ticket.site_id == site_id, Ticket.business_day == day]
    scale = current_scale()
    status_counts = dict(
        db.session.execute(
            sa.select(Ticket.status, sa.func.count()).where(*today_where).group_by(Ticket.status)
        ).all()
    )
    per_counter = {
        cid: (int(n), float(total or 0))
        for cid, n, total in db.session.execute(
            sa.select(
                Ticket.counter_id,
                sa.func.count(),
                sa.func.sum(_seconds(Ticket.finished_at, Ticket.started_at)),
            )
            .where(*today_where, Ticket.status == TicketStatus.FINISHED)
            .group_by(Ticket.counter_id)
        ).all()
    }
    since = {
        cid: (code, status, called, started)
        for cid, code, status, called, started in db.session.execute(
            sa.select(
                Ticket.counter_id, Ticket.code, Ticket.status, Ticket.called_at, Ticket.started_at
            ).where(*today_where, Ticket.status.in_(AT_COUNTER))
        ).all()
    }
    levels = {
        int(level): int(n)
        for level, n in db.session.execute(
            sa.select(Rating.level, sa.func.count())
            .join(Ticket, Ticket.id == Rating.ticket_id)
            .where(*today_where, Rating.scale == scale.size)
            .group_by(Rating.level)
        ).all()
    }
    rated = sum(levels.values())
    alerts: list[dict[str, Any]] = []
    for area in base["areas"]:
        area["over_target"] = (
            area["waiting"] > 0 and area["longest_wait_minutes"] > area["target_wait_minutes"]
        )
        if area["over_target"]:
            alerts.append(
                {
                    "kind": "wait",
                    "text": str(
                        _l(
                            "%(area)s: chờ lâu nhất %(n)s phút (mục tiêu %(target)s phút)",
                            area=f"{area['prefix']} – {area['name']}",
                            n=area["longest_wait_minutes"],
                            target=area["target_wait_minutes"],
                        )
                    ),
                }
            )
    alerts.extend(_printer_alerts(site_id, day))
    counters = []
    for c in base["counters"]:
        served, service_total = per_counter.get(c["id"], (0, 0.0))
        current = since.get(c["id"])
        counters.append(
            {
                **c,
                "served_today": served,
                "avg_service_minutes": round(service_total / served / 60, 1) if served else None,
                "since": _iso(current[3] or current[2]) if current else None,
            }
        )
    return {
        "seq": base["seq"],
        "site": base["site"],
        "business_day": base["business_day"],
        "generated_at": now.isoformat(),
        "areas": base["areas"],
        "counters": counters,
        "today": {
            "issued": sum(status_counts.values()),
            "served": int(status_counts.get(TicketStatus.FINISHED, 0)),
            "waiting": int(status_counts.get(TicketStatus.WAITING, 0)),
            "at_counters": int(
                status_counts.get(TicketStatus.CALLED, 0)
                + status_counts.get(TicketStatus.SERVING, 0)
            ),
            "no_show": int(status_counts.get(TicketStatus.NO_SHOW, 0)),
            "rated": rated,
            "levels": [
                {
                    "score": lv.score,
                    "label": lv.label,
                    "color": lv.color,
                    "count": levels.get(lv.score, 0),
                    "share": levels.get(lv.score, 0) / rated if rated else None,
                }
                for lv in scale.levels
            ],
        },
        "alerts": alerts,
        "sites": [
            {"code": x.code, "name": x.name}
            for x in db.session.scalars(
                sa.select(Site).where(Site.active.is_(True), *scope.where(Site.id))
            )
        ],
    }


def _printer_alerts(site_id: int, day: dt.date) -> list[dict[str, Any]]:
    """Tickets that did not print and that nobody has handled yet (whatever the day: an
    alert stays until the ticket prints or an officer dismisses it)."""
    alerts = []
    for alert in print_alerts.open_alerts(site_id=site_id):
        kiosk = alert["kiosk"] or str(_l("mặc định"))
        alerts.append(
            {
                "kind": "printer",
                "kiosk": alert["kiosk"],
                "ticket": alert["ticket"]["code"],
                "text": str(
                    _l(
                        "Vé %(code)s chưa in được ở ki-ốt %(kiosk)s: %(problem)s (%(time)s)",
                        code=alert["ticket"]["code"],
                        kiosk=kiosk,
                        problem=alert["message"],
                        time=alert["at_local"],
                    )
                ),
            }
        )
    return alerts


def _iso(moment: dt.datetime | None) -> str | None:
    """ISO text of an optional time."""
    return moment.isoformat() if moment else None
