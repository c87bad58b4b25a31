"""Appointments and numbers taken from home: every booking rule lives here.

Two kinds of booking (``Appointment.kind``), both shown to their holder as a short code
(6 characters from an alphabet without 0/O/1/I) and a QR of that code:

- **slot** (``book``): a slot of an area on a day, within the area's booking rules at the site
  (``AppointmentRule``: offered, slot length, capacity per slot, hours, days ahead). Places are
  counted per slot in ``appointment_slots`` and taken with one atomic
  ``INSERT … ON CONFLICT DO UPDATE … WHERE taken < capacity RETURNING`` (SQLite and
  PostgreSQL alike), so the last place goes to exactly one of two concurrent bookings.
  Check-in (``check_in``) is accepted from ``APPOINTMENT_EARLY_MIN`` before the slot's start
  to ``APPOINTMENT_LATE_MIN`` after it; the ticket it issues is placed by the hall's policy:
  ``APPOINTMENT_QUEUE = "priority"`` gives it the priority lane (``PRIORITY_POLICY`` then puts
  it first, or one after every N normal tickets: the same mechanism as priority citizens),
  ``"normal"`` makes it join the queue at check-in. After the window the booking is a no-show.
- **remote** (``take_remote``, "lấy số từ xa"): a place held in today's queue of an area, from
  home, while the hall is open. The rule: the hold is **not** in the queue — no counter can call
  it and nobody's people-ahead count includes it — until its holder checks in at a kiosk with
  the code, within ``REMOTE_HOLD_MINUTES`` of taking it. At check-in a normal ticket is issued
  whose place in the queue is the moment the hold was taken (``queued_at``): citizens who took
  a number after that moment are behind it; numbers already called are not affected. After the
  deadline the hold lapses and the kiosk offers a normal number.

Abuse is bounded without personal data: the address and the browser (a random cookie) of a
booking are kept only as keyed hashes of the day (``limit_key``), enough to count bookings per
day (``APPOINTMENT_MAX_PER_ADDRESS``, ``APPOINTMENT_MAX_PER_BROWSER``) and useless otherwise;
slots have a capacity; holds and bookings that are not checked in lapse (``settle_lapsed``).
The holder's cancel token is shown once and stored only as its SHA-256.
"""

from motcua.services.appointments.booking import (
    CODE_ALPHABET,
    CODE_LENGTH,
    book,
    booking_by_token,
    cancel,
    limit_key,
    normalize_code,
    settle_lapsed,
    take_remote,
)
from motcua.services.appointments.checkin import check_in
from motcua.services.appointments.report import appointment_counts, appointment_report
from motcua.services.appointments.rules import (
    RuleView,
    SlotView,
    bookable_areas,
    booking_page,
    booking_rule,
    booking_rules,
    day_text,
    free_slots,
    hall_names,
    save_rule,
)

__all__ = [
    "CODE_ALPHABET",
    "CODE_LENGTH",
    "RuleView",
    "SlotView",
    "appointment_counts",
    "appointment_report",
    "book",
    "bookable_areas",
    "booking_by_token",
    "booking_page",
    "booking_rule",
    "booking_rules",
    "cancel",
    "check_in",
    "day_text",
    "free_slots",
    "hall_names",
    "limit_key",
    "normalize_code",
    "save_rule",
    "settle_lapsed",
    "take_remote",
]
