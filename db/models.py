"""Typed SQLAlchemy models. Thin: no I/O, no URLs, no emitting.

Every ticket, event and rating carries a UUID and tickets belong to a site and a
business day, so that records made offline elsewhere can be merged later.
All timestamps are stored in UTC.
"""

from __future__ import annotations

import datetime as dt
import uuid as uuid_mod
from enum import StrEnum
from typing import Any

import sqlalchemy as sa
from sqlalchemy import event
from sqlalchemy.orm import Mapped, mapped_column, relationship

from db.base import Base


def new_uuid() -> str:
    """A random UUID as text (portable across SQLite and PostgreSQL)."""
    return str(uuid_mod.uuid4())


class UTCDateTime(sa.types.TypeDecorator[dt.datetime]):
    """Stores aware datetimes as naive UTC and returns them aware (UTC)."""

    impl = sa.DateTime
    cache_ok = True

    def process_bind_param(self, value: dt.datetime | None, dialect: Any) -> dt.datetime | None:
        """Convert to naive UTC on the way in; naive input is refused."""
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given; use an aware datetime in UTC")
        return value.astimezone(dt.UTC).replace(tzinfo=None)

    def process_result_value(self, value: dt.datetime | None, dialect: Any) -> dt.datetime | None:
        """Attach UTC on the way out."""
        if value is None:
            return None
        return value.replace(tzinfo=dt.UTC)


class TicketStatus(StrEnum):
    """Where a ticket is in its lifecycle (stored as its value)."""

    WAITING = "waiting"
    CALLED = "called"
    SERVING = "serving"
    FINISHED = "finished"
    NO_SHOW = "no_show"
    CANCELLED = "cancelled"
    EXPIRED = "expired"


#: Not yet ended: counted as open, expired after their business day.
OPEN_STATUSES = (TicketStatus.WAITING, TicketStatus.CALLED, TicketStatus.SERVING)
#: At a counter: the counter's current ticket.
AT_COUNTER = (TicketStatus.CALLED, TicketStatus.SERVING)


class StatusType(sa.types.TypeDecorator[TicketStatus]):
    """A ticket status: text in the database, ``TicketStatus`` in Python."""

    impl = sa.String(16)
    cache_ok = True

    def process_bind_param(self, value: str | None, dialect: Any) -> str | None:
        """Store the value; an unknown status is refused."""
        return None if value is None else TicketStatus(value).value

    def process_result_value(self, value: str | None, dialect: Any) -> TicketStatus | None:
        """Return the enum member."""
        return None if value is None else TicketStatus(value)


counter_areas = sa.Table(
    "counter_areas",
    Base.metadata,
    sa.Column("counter_id", sa.ForeignKey("counters.id", ondelete="CASCADE"), primary_key=True),
    sa.Column("area_id", sa.ForeignKey("service_areas.id", ondelete="CASCADE"), primary_key=True),
)


#: The sites a staff account is scoped to; an account with no row is province-wide (every site).
user_sites = sa.Table(
    "user_sites",
    Base.metadata,
    sa.Column("user_id", sa.ForeignKey("users.id", ondelete="CASCADE"), primary_key=True),
    sa.Column("site_id", sa.ForeignKey("sites.id", ondelete="CASCADE"), primary_key=True),
)


class Site(Base):
    """A hall or a reception point; ticket numbers are counted per site."""

    __tablename__ = "sites"

    id: Mapped[int] = mapped_column(primary_key=True)
    uuid: Mapped[str] = mapped_column(sa.String(36), unique=True, default=new_uuid)
    code: Mapped[str] = mapped_column(sa.String(32), unique=True)
    name: Mapped[str] = mapped_column(sa.String(200))
    unit_name: Mapped[str] = mapped_column(sa.String(200), default="")
    kind: Mapped[str] = mapped_column(sa.String(20), default="hall")
    active: Mapped[bool] = mapped_column(default=True)
    # Bumped in the same transaction as every change to the site's board.
    seq: Mapped[int] = mapped_column(sa.BigInteger, default=0)

    counters: Mapped[list[Counter]] = relationship(back_populates="site")


class ServiceArea(Base):
    """A lĩnh vực: its code, ticket prefix, Vietnamese name and target wait."""

    __tablename__ = "service_areas"

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(sa.String(32), unique=True)
    prefix: Mapped[str] = mapped_column(sa.String(4), unique=True)
    name: Mapped[str] = mapped_column(sa.String(200))
    description: Mapped[str] = mapped_column(sa.String(500), default="")
    target_wait_minutes: Mapped[int] = mapped_column(default=15)
    sort_order: Mapped[int] = mapped_column(default=0)
    active: Mapped[bool] = mapped_column(default=True)


class Counter(Base):
    """A quầy: its number at a site and the areas it serves."""

    __tablename__ = "counters"
    __table_args__ = (sa.UniqueConstraint("site_id", "number"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    site_id: Mapped[int] = mapped_column(sa.ForeignKey("sites.id"))
    number: Mapped[int]
    name: Mapped[str] = mapped_column(sa.String(100), default="")
    sort_order: Mapped[int] = mapped_column(default=0)
    active: Mapped[bool] = mapped_column(default=True)
    paused: Mapped[bool] = mapped_column(default=False)
    officer_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"))
    # Normal tickets called since the last priority one (interleaved policy).
    normal_streak: Mapped[int] = mapped_column(default=0)

    site: Mapped[Site] = relationship(back_populates="counters")
    areas: Mapped[list[ServiceArea]] = relationship(
        secondary=counter_areas, order_by="ServiceArea.sort_order"
    )
    officer: Mapped[User | None] = relationship(foreign_keys=[officer_id])


class User(Base):
    """An officer, leader or administrator."""

    __tablename__ = "users"

    id: Mapped[int] = mapped_column(primary_key=True)
    username: Mapped[str] = mapped_column(sa.String(64), unique=True)
    full_name: Mapped[str] = mapped_column(sa.String(200))
    position: Mapped[str] = mapped_column(sa.String(200), default="")
    unit: Mapped[str] = mapped_column(sa.String(200), default="")
    photo: Mapped[str | None] = mapped_column(sa.String(300))
    password_hash: Mapped[str] = mapped_column(sa.String(300))
    role: Mapped[str] = mapped_column(sa.String(16))
    active: Mapped[bool] = mapped_column(default=True)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime())

    # Empty: province-wide (sees every site); otherwise scoped to these sites.
    sites: Mapped[list[Site]] = relationship(secondary=user_sites, order_by="Site.id")


class TicketSequence(Base):
    """The last number issued per (site, area, business day): gap-free numbering."""

    __tablename__ = "ticket_sequences"

    site_id: Mapped[int] = mapped_column(sa.ForeignKey("sites.id"), primary_key=True)
    area_id: Mapped[int] = mapped_column(sa.ForeignKey("service_areas.id"), primary_key=True)
    business_day: Mapped[dt.date] = mapped_column(primary_key=True)
    last_number: Mapped[int] = mapped_column(default=0)


class Ticket(Base):
    """A queue ticket (not the legal dossier receipt)."""

    __tablename__ = "tickets"
    __table_args__ = (
        # Safety net under the counter row: one number per site, area, day.
        sa.UniqueConstraint("site_id", "issue_area_id", "business_day", "number"),
        sa.UniqueConstraint("site_id", "idempotency_key"),
        # The queue: waiting tickets of an area in order; covers the people-ahead count.
        sa.Index(
            "ix_tickets_queue",
            "site_id",
            "business_day",
            "area_id",
            "status",
            "queued_at",
            "priority",
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    uuid: Mapped[str] = mapped_column(sa.String(36), unique=True, default=new_uuid)
    token: Mapped[str] = mapped_column(sa.String(64), unique=True)
    site_id: Mapped[int] = mapped_column(sa.ForeignKey("sites.id"))
    issue_area_id: Mapped[int] = mapped_column(sa.ForeignKey("service_areas.id"))
    area_id: Mapped[int] = mapped_column(sa.ForeignKey("service_areas.id"))
    business_day: Mapped[dt.date]
    number: Mapped[int]
    code: Mapped[str] = mapped_column(sa.String(16))
    status: Mapped[TicketStatus] = mapped_column(StatusType())
    priority: Mapped[str | None] = mapped_column(sa.String(32))
    idempotency_key: Mapped[str | None] = mapped_column(sa.String(128))
    # SHA-256 of what the keyed request asked for: the same key with another request is refused.
    request_hash: Mapped[str | None] = mapped_column(sa.String(64))
    issued_at: Mapped[dt.datetime] = mapped_column(UTCDateTime())
    # Position in the queue; reset when a no-show goes to the back.
    queued_at: Mapped[dt.datetime] = mapped_column(UTCDateTime())
    first_called_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())
    called_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())
    started_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())
    finished_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())
    counter_id: Mapped[int | None] = mapped_column(sa.ForeignKey("counters.id"))
    officer_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"))
    target_counter_id: Mapped[int | None] = mapped_column(sa.ForeignKey("counters.id"))
    call_count: Mapped[int] = mapped_column(default=0)
    misses: Mapped[int] = mapped_column(default=0)
    dossier_code: Mapped[str | None] = mapped_column(sa.String(64))
    kiosk: Mapped[str | None] = mapped_column(sa.String(64))

    area: Mapped[ServiceArea] = relationship(foreign_keys=[area_id])
    site: Mapped[Site] = relationship()
    counter: Mapped[Counter | None] = relationship(foreign_keys=[counter_id])
    officer: Mapped[User | None] = relationship(foreign_keys=[officer_id])


class TicketEvent(Base):
    """Append-only log of everything that happened to a ticket."""

    __tablename__ = "ticket_events"
    __table_args__ = (sa.Index("ix_ticket_events_site_at", "site_id", "at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    uuid: Mapped[str] = mapped_column(sa.String(36), unique=True, default=new_uuid)
    ticket_id: Mapped[int] = mapped_column(sa.ForeignKey("tickets.id"), index=True)
    site_id: Mapped[int] = mapped_column(sa.ForeignKey("sites.id"))
    kind: Mapped[str] = mapped_column(sa.String(20))
    at: Mapped[dt.datetime] = mapped_column(UTCDateTime())
    actor_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"))
    counter_id: Mapped[int | None] = mapped_column(sa.ForeignKey("counters.id"))
    area_id: Mapped[int | None] = mapped_column(sa.ForeignKey("service_areas.id"))
    detail: Mapped[dict[str, Any] | None] = mapped_column(sa.JSON)


class Rating(Base):
    """One satisfaction rating of one finished transaction."""

    __tablename__ = "ratings"

    id: Mapped[int] = mapped_column(primary_key=True)
    uuid: Mapped[str] = mapped_column(sa.String(36), unique=True, default=new_uuid)
    ticket_id: Mapped[int] = mapped_column(sa.ForeignKey("tickets.id"), unique=True)
    site_id: Mapped[int] = mapped_column(sa.ForeignKey("sites.id"))
    area_id: Mapped[int] = mapped_column(sa.ForeignKey("service_areas.id"))
    counter_id: Mapped[int | None] = mapped_column(sa.ForeignKey("counters.id"))
    officer_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"))
    level: Mapped[int]
    scale: Mapped[int] = mapped_column(default=3)
    reasons: Mapped[list[str] | None] = mapped_column(sa.JSON)
    comment: Mapped[str | None] = mapped_column(sa.String(1000))
    source: Mapped[str] = mapped_column(sa.String(16))
    rated_at: Mapped[dt.datetime] = mapped_column(UTCDateTime())


@event.listens_for(TicketEvent, "before_update")
@event.listens_for(TicketEvent, "before_delete")
def _refuse_event_change(_mapper: Any, _connection: Any, target: TicketEvent) -> None:
    """The event log is append-only."""
    raise ValueError(f"ticket event {target.uuid} is append-only")


# --------------------------------------------------------------------------- administration


class Setting(Base):
    """A hall setting changed by an administrator; overrides the app's configuration.

    ``scope`` is "" for the whole hall or ``site:<id>`` for one reception point.
    """

    __tablename__ = "settings"

    scope: Mapped[str] = mapped_column(sa.String(40), primary_key=True, default="")
    key: Mapped[str] = mapped_column(sa.String(64), primary_key=True)
    value: Mapped[Any] = mapped_column(sa.JSON)
    updated_at: Mapped[dt.datetime] = mapped_column(UTCDateTime())
    updated_by: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"))


#: What a paired device is (``Device.kind``).
KIOSK_DEVICE, DISPLAY_DEVICE, RATING_DEVICE = "kiosk", "display", "rating"


class Device(Base):
    """An unattended screen (kiosk, lobby display, rating tablet) paired by a device token."""

    __tablename__ = "devices"

    id: Mapped[int] = mapped_column(primary_key=True)
    uuid: Mapped[str] = mapped_column(sa.String(36), unique=True, default=new_uuid)
    site_id: Mapped[int] = mapped_column(sa.ForeignKey("sites.id"))
    kind: Mapped[str] = mapped_column(sa.String(16))
    name: Mapped[str] = mapped_column(sa.String(64), unique=True)
    note: Mapped[str] = mapped_column(sa.String(200), default="")
    counter_id: Mapped[int | None] = mapped_column(sa.ForeignKey("counters.id"))
    # Kiosk: {"printer": {...}} (like PRINTER in the configuration).
    config: Mapped[dict[str, Any] | None] = mapped_column(sa.JSON)
    # Only hashes are kept: the token and the pairing code are shown once.
    token_hash: Mapped[str | None] = mapped_column(sa.String(64), unique=True)
    pairing_hash: Mapped[str | None] = mapped_column(sa.String(64), index=True)
    pairing_expires_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())
    paired_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())
    last_seen_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())
    active: Mapped[bool] = mapped_column(default=True)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime())
    revoked_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())

    site: Mapped[Site] = relationship()
    counter: Mapped[Counter | None] = relationship()


class AuditEntry(Base):
    """Who did what, when: administrators' changes, sign-ins, device pairing (append-only)."""

    __tablename__ = "audit_log"
    __table_args__ = (sa.Index("ix_audit_log_action_at", "action", "at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), index=True)
    actor_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"))
    # The actor as text when it happened: a username, "device:<name>" or "cli".
    actor: Mapped[str] = mapped_column(sa.String(100), default="")
    action: Mapped[str] = mapped_column(sa.String(40))
    target: Mapped[str] = mapped_column(sa.String(200), default="")
    ip: Mapped[str | None] = mapped_column(sa.String(45))
    details: Mapped[dict[str, Any] | None] = mapped_column(sa.JSON)


@event.listens_for(AuditEntry, "before_update")
@event.listens_for(AuditEntry, "before_delete")
def _refuse_audit_change(_mapper: Any, _connection: Any, target: AuditEntry) -> None:
    """The audit log is append-only."""
    raise ValueError(f"audit entry {target.id} is append-only")


# --------------------------------------------------------------------------- print jobs


class PrintJobState(StrEnum):
    """Where a print job is: queued, claimed by a process, going to the printer, and its end.

    ``printed``: the printer confirmed it processed the whole job; ``sent``: it took the bytes
    and reported nothing wrong but cannot confirm; ``print_failed``: with the reason.
    """

    QUEUED = "queued"
    CLAIMED = "claimed"
    PRINTING = "printing"
    PRINTED = "printed"
    SENT = "sent"
    FAILED = "print_failed"


#: A job in one of these states is over.
PRINT_JOB_DONE = (PrintJobState.PRINTED, PrintJobState.SENT, PrintJobState.FAILED)


class PrintJob(Base):
    """One ticket receipt to print on one kiosk's printer, claimed by one process at a time.

    ``alert`` is an open staff alert: the ticket did not print and nobody has handled it yet
    (it closes when the ticket prints, or an officer dismisses it).
    """

    __tablename__ = "print_jobs"
    __table_args__ = (
        sa.Index("ix_print_jobs_state_printer", "state", "printer"),
        sa.Index("ix_print_jobs_site_alert", "site_id", "alert"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    uuid: Mapped[str] = mapped_column(sa.String(36), unique=True, default=new_uuid)
    ticket_id: Mapped[int] = mapped_column(sa.ForeignKey("tickets.id"), index=True)
    site_id: Mapped[int] = mapped_column(sa.ForeignKey("sites.id"))
    area_id: Mapped[int] = mapped_column(sa.ForeignKey("service_areas.id"))
    # The printer's key: the kiosk's name, "" for the default printer (PRINTER).
    printer: Mapped[str] = mapped_column(sa.String(64))
    kiosk: Mapped[str | None] = mapped_column(sa.String(64))  # where the ticket is wanted
    kind: Mapped[str] = mapped_column(sa.String(16))  # issue, reprint
    data: Mapped[bytes] = mapped_column(sa.LargeBinary)  # emptied once the job is over
    state: Mapped[str] = mapped_column(sa.String(16), default=PrintJobState.QUEUED.value)
    attempts: Mapped[int] = mapped_column(default=0)
    claimed_by: Mapped[str | None] = mapped_column(sa.String(100))
    lease_until: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime())
    finished_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())
    error_code: Mapped[str | None] = mapped_column(sa.String(32))
    message: Mapped[str | None] = mapped_column(sa.String(300))
    alert: Mapped[bool] = mapped_column(default=False)
    alert_closed_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())
    alert_closed_by: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"))
    alert_resolution: Mapped[str | None] = mapped_column(sa.String(16))


class PrinterLease(Base):
    """Which process drives a printer until when, and the printer's learned pace."""

    __tablename__ = "printer_leases"

    printer: Mapped[str] = mapped_column(sa.String(64), primary_key=True)
    holder: Mapped[str | None] = mapped_column(sa.String(100))
    until: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())
    pace: Mapped[dict[str, Any] | None] = mapped_column(sa.JSON)


# --------------------------------------------------------------------------- sessions (issue 7)

service_session_areas = sa.Table(
    "service_session_areas",
    Base.metadata,
    sa.Column(
        "session_id", sa.ForeignKey("service_sessions.id", ondelete="CASCADE"), primary_key=True
    ),
    sa.Column("area_id", sa.ForeignKey("service_areas.id", ondelete="CASCADE"), primary_key=True),
)

service_session_officers = sa.Table(
    "service_session_officers",
    Base.metadata,
    sa.Column(
        "session_id", sa.ForeignKey("service_sessions.id", ondelete="CASCADE"), primary_key=True
    ),
    sa.Column("user_id", sa.ForeignKey("users.id", ondelete="CASCADE"), primary_key=True),
)


class ServiceSession(Base):
    """A Saturday, reception-point or mobile session; away from the hall it has its own site.

    Its tickets are the tickets of its site on its date (a Saturday at the hall shares the
    hall's site, so the date tells them apart); no column is added to the tickets.
    """

    __tablename__ = "service_sessions"
    __table_args__ = (sa.UniqueConstraint("site_id", "date"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    uuid: Mapped[str] = mapped_column(sa.String(36), unique=True, default=new_uuid)
    code: Mapped[str] = mapped_column(sa.String(40), unique=True)
    # saturday_hall | reception_point | mobile
    kind: Mapped[str] = mapped_column(sa.String(20), index=True)
    place: Mapped[str] = mapped_column(sa.String(200))
    date: Mapped[dt.date] = mapped_column(index=True)
    # Hall time, e.g. "07:30-11:30" or "07:30-11:30,13:30-17:00".
    hours: Mapped[str] = mapped_column(sa.String(100), default="")
    note: Mapped[str] = mapped_column(sa.String(500), default="")
    site_id: Mapped[int] = mapped_column(sa.ForeignKey("sites.id"))
    counters: Mapped[int] = mapped_column(default=1)
    # The laptop's printer (like PRINTER in the configuration); 58 mm by default.
    printer: Mapped[dict[str, Any] | None] = mapped_column(sa.JSON)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime())
    created_by: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"))
    last_import_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())
    last_import: Mapped[dict[str, Any] | None] = mapped_column(sa.JSON)

    site: Mapped[Site] = relationship()
    areas: Mapped[list[ServiceArea]] = relationship(
        secondary=service_session_areas, order_by="ServiceArea.sort_order"
    )
    officers: Mapped[list[User]] = relationship(
        secondary=service_session_officers, order_by="User.username"
    )


class SessionKit(Base):
    """A kit made for a session: its id and the key its laptop signs the records with."""

    __tablename__ = "service_session_kits"

    id: Mapped[int] = mapped_column(primary_key=True)
    uuid: Mapped[str] = mapped_column(sa.String(36), unique=True, default=new_uuid)
    session_id: Mapped[int] = mapped_column(
        sa.ForeignKey("service_sessions.id", ondelete="CASCADE"), index=True
    )
    # HMAC-SHA256 key, 32 random bytes in hex; the hall keeps it to verify the records.
    key_hex: Mapped[str] = mapped_column(sa.String(64))
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime())
    created_by: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"))


# ------------------------------------------------------------------------- appointments (issue 17)


class AppointmentStatus(StrEnum):
    """Where a booking is: booked, then checked in at the kiosk, or it ended without a ticket.

    ``no_show``: a slot booking whose check-in window closed; ``lapsed``: a number taken from
    home (a hold) that was not checked in before its deadline.
    """

    BOOKED = "booked"
    CHECKED_IN = "checked_in"
    CANCELLED = "cancelled"
    NO_SHOW = "no_show"
    LAPSED = "lapsed"


#: What a booking is (``Appointment.kind``): a slot on a day, or a number taken from home today.
SLOT_BOOKING, REMOTE_BOOKING = "slot", "remote"


class AppointmentRule(Base):
    """A site's booking rules for one area: offered or not, slots, capacity, hours, days ahead."""

    __tablename__ = "appointment_rules"
    __table_args__ = (sa.UniqueConstraint("site_id", "area_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    site_id: Mapped[int] = mapped_column(sa.ForeignKey("sites.id"))
    area_id: Mapped[int] = mapped_column(sa.ForeignKey("service_areas.id"))
    offered: Mapped[bool] = mapped_column(default=False)  # slot appointments
    remote: Mapped[bool] = mapped_column(default=False)  # numbers taken from home, today
    slot_minutes: Mapped[int] = mapped_column(default=15)
    capacity: Mapped[int] = mapped_column(default=2)  # bookings per slot
    # Like WORKING_HOURS ({"mon-fri": ["08:00-11:00"]}); None: the site's working hours.
    hours: Mapped[dict[str, Any] | None] = mapped_column(sa.JSON)
    days_ahead: Mapped[int] = mapped_column(default=7)
    updated_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())


class AppointmentSlot(Base):
    """Places taken in one slot: bumped atomically while under the rule's capacity."""

    __tablename__ = "appointment_slots"

    site_id: Mapped[int] = mapped_column(sa.ForeignKey("sites.id"), primary_key=True)
    area_id: Mapped[int] = mapped_column(sa.ForeignKey("service_areas.id"), primary_key=True)
    starts_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), primary_key=True)
    taken: Mapped[int] = mapped_column(default=0)


class Appointment(Base):
    """A booking: its short code, the hash of its holder's cancel token, and the ticket it became.

    No personal data: the address and browser it came from are kept only as keyed hashes of
    the day (``limit_keys``), enough to count holds per day and useless for anything else.
    """

    __tablename__ = "appointments"
    __table_args__ = (sa.Index("ix_appointments_day", "site_id", "business_day", "area_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    uuid: Mapped[str] = mapped_column(sa.String(36), unique=True, default=new_uuid)
    code: Mapped[str] = mapped_column(sa.String(12), unique=True)
    token_hash: Mapped[str] = mapped_column(sa.String(64), unique=True)
    site_id: Mapped[int] = mapped_column(sa.ForeignKey("sites.id"))
    area_id: Mapped[int] = mapped_column(sa.ForeignKey("service_areas.id"))
    kind: Mapped[str] = mapped_column(sa.String(8))
    business_day: Mapped[dt.date]
    slot_start: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())
    slot_end: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())
    status: Mapped[str] = mapped_column(sa.String(16), default=AppointmentStatus.BOOKED.value)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime())
    # The last instant a check-in is accepted (a slot's late edge; a hold's deadline).
    expires_at: Mapped[dt.datetime] = mapped_column(UTCDateTime())
    checked_in_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())
    ended_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())
    ticket_id: Mapped[int | None] = mapped_column(sa.ForeignKey("tickets.id"))
    # Keyed hashes (HMAC of the day and the address / the browser's cookie): limits only.
    address_key: Mapped[str | None] = mapped_column(sa.String(64), index=True)
    browser_key: Mapped[str | None] = mapped_column(sa.String(64), index=True)
    source: Mapped[str] = mapped_column(sa.String(16), default="web")  # web | api


# --------------------------------------------------------------------------- report indexes
# Covering indexes for the reports (migration 0003): a quarter of a busy hall is read from
# the index alone. Declared here, after the classes they belong to, so that create_all and
# the migrations give the same schema.

sa.Index(
    "ix_tickets_report",
    Ticket.business_day,
    Ticket.site_id,
    Ticket.area_id,
    Ticket.officer_id,
    Ticket.counter_id,
    Ticket.status,
    Ticket.issued_at,
    Ticket.first_called_at,
    Ticket.started_at,
    Ticket.finished_at,
)
sa.Index("ix_ticket_events_kind_at", TicketEvent.kind, TicketEvent.at)
sa.Index(
    "ix_ratings_report",
    Rating.rated_at,
    Rating.site_id,
    Rating.area_id,
    Rating.officer_id,
    Rating.counter_id,
    Rating.scale,
    Rating.level,
)
