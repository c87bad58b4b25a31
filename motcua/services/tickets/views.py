"""What the lifecycle hands back: ``TicketView`` and the one row → view builder."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field, fields
from typing import Any

from flask_babel import lazy_gettext as _l

from db.models import TicketStatus
from motcua.services import catalog_cache
from motcua.services.common import QueuePolicy
from motcua.services.tickets import predict
from motcua.services.tickets import statements as st
from motcua.timeutil import ensure_now

#: The priority of a ticket issued at an appointment's check-in (``appointments.check_in``):
#: placed by the hall's priority policy, never offered on the kiosk's priority path.
APPOINTMENT_PRIORITY = "appointment"


def priority_label(policy: QueuePolicy, priority: str | None) -> str | None:
    """The words for a ticket's priority (a hall category, or an appointment)."""
    if not priority:
        return None
    if priority == APPOINTMENT_PRIORITY:
        return str(_l("Có lịch hẹn"))
    return policy.priority_categories.get(priority)


@dataclass
class TicketView:
    """What a kiosk, a phone or a console needs to know about a ticket."""

    uuid: str
    token: str
    code: str
    number: int
    status: TicketStatus
    area_code: str
    area_prefix: str
    area_name: str
    priority: str | None
    priority_label: str | None
    issued_at: dt.datetime
    business_day: dt.date
    site_code: str
    counter_number: int | None = None
    called_at: dt.datetime | None = None
    started_at: dt.datetime | None = None
    finished_at: dt.datetime | None = None
    people_ahead: int | None = None
    estimated_wait_minutes: int | None = None  # the point estimate
    wait_low_minutes: int | None = None  # the range shown: (0, 5) reads "under 5 minutes"
    wait_high_minutes: int | None = None
    serving_counters: list[int] = field(default_factory=list)
    transferred_from: str | None = None
    misses: int = 0
    call_count: int = 0
    dossier_code: str | None = None
    created: bool = True
    seq: int | None = None

    def as_dict(self) -> dict[str, Any]:
        """JSON-friendly dict (ISO times, the status as its text)."""
        out = {f.name: getattr(self, f.name) for f in fields(self)}
        out["serving_counters"] = list(self.serving_counters)
        out["status"] = str(self.status)
        for key, value in out.items():
            if isinstance(value, dt.datetime | dt.date):
                out[key] = value.isoformat()
        return out


def format_code(prefix: str, number: int, digits: int = 3) -> str:
    """Prefix + at least ``digits`` digits: A001 … A999, A1000."""
    return f"{prefix}{number:0{digits}d}"


def row_view(
    ticket: dict[str, Any],
    policy: QueuePolicy,
    counter_number: int | None,
    *,
    estimate: bool = False,
    counters: list[tuple[int, bool]] | None = None,
    connection: Any = None,
    now: dt.datetime | None = None,
) -> TicketView:
    """The view of a ticket row (``statements.TICKET_ROW``'s columns); every verb uses it.

    With ``estimate``, a waiting ticket also gets its people ahead and its predicted wait
    (``services/tickets/predict.py``; ``counters``: the (number, paused) of the counters serving its
    area, when known).
    """
    priority = ticket["priority"]
    view = TicketView(
        uuid=ticket["uuid"],
        token=ticket["token"],
        code=ticket["code"],
        number=ticket["number"],
        status=TicketStatus(ticket["status"]),
        area_code=ticket["area_code"],
        area_prefix=ticket["area_prefix"],
        area_name=ticket["area_name"],
        priority=priority,
        priority_label=priority_label(policy, priority),
        issued_at=ticket["issued_at"],
        business_day=ticket["business_day"],
        site_code=ticket["site_code"],
        counter_number=counter_number,
        called_at=ticket.get("called_at"),
        started_at=ticket.get("started_at"),
        finished_at=ticket.get("finished_at"),
        transferred_from=ticket.get("origin_name")
        if ticket["issue_area_id"] != ticket["area_id"]
        else None,
        misses=ticket.get("misses") or 0,
        call_count=ticket.get("call_count") or 0,
        dossier_code=ticket.get("dossier_code"),
    )
    if estimate:
        if counters is None:
            counters = catalog_cache.snapshot().serving.get(
                (ticket["site_id"], ticket["area_id"]), []
            )
        view.serving_counters = [number for number, _ in counters]
        if view.status == TicketStatus.WAITING:
            ahead = count_ahead(ticket, policy, connection)
            wait = predict.predict_wait(
                ticket["site_id"],
                ticket["area_id"],
                ticket["business_day"],
                ahead,
                policy,
                ensure_now(now),
                connection=connection,
            )
            view.people_ahead = ahead
            view.estimated_wait_minutes = wait.minutes
            view.wait_low_minutes, view.wait_high_minutes = wait.shown()
    return view


#: A waiting ticket's place pushed to its phone: (token, people ahead, point, low, high).
Place = tuple[str, int, int, int, int]


def queue_positions(
    site_id: int, area_id: int, day: dt.date, policy: QueuePolicy, now: dt.datetime | None = None
) -> list[Place]:
    """Every waiting ticket of an area with its people ahead and predicted wait, in one read
    of the queue (inside the caller's transaction: the live state is read afresh); the order
    is ``count_ahead``'s (strict priority puts priority tickets first)."""
    params = {"site_id": site_id, "day": day, "area_id": area_id}
    rows = st.conn().execute(st.WAITING_IN_AREA, params).all()
    if not rows:  # nobody to tell, but what the counters do has changed
        catalog_cache.forget_average((site_id, area_id, day))
        return []
    strict = policy.priority_policy == "strict"
    rows.sort(key=lambda r: (0 if strict and r.priority else 1, r.queued_at, r.id))
    waits = predict.predict_queue(
        site_id, area_id, day, len(rows), policy, ensure_now(now), fresh=True
    )
    return [
        (row.token, ahead, wait.minutes, *wait.shown())
        for (ahead, row), wait in zip(enumerate(rows), waits, strict=True)
    ]


def count_ahead(ticket: dict[str, Any], policy: QueuePolicy, connection: Any = None) -> int:
    """Waiting tickets of the same area that will be called before this (waiting) one."""
    if policy.priority_policy == "strict":
        rule = "strict_priority" if ticket["priority"] else "strict_normal"
    else:
        rule = "fifo"
    params = {
        "site_id": ticket["site_id"],
        "day": ticket["business_day"],
        "area_id": ticket["area_id"],
        "tid": ticket["id"],
        "queued_at": ticket["queued_at"],
    }
    statement = st.count_ahead_statement(rule)
    return int((connection or st.conn()).scalar(statement, params) or 0)


def queue_entry(ticket: dict[str, Any], to_counter: int | None = None) -> dict[str, Any]:
    """Where a ticket put back in the queue stands, for the consoles that fold facts.

    ``at`` and ``id`` are its place in queue order (queued_at, id); ``counter`` is the counter
    it was sent to, if any (then only that counter's queue holds it).
    """
    return {"at": ticket["queued_at"].isoformat(), "id": ticket["id"], "counter": to_counter}


def full_view(ticket: dict[str, Any], policy: QueuePolicy) -> TicketView:
    """The view of any ticket row: its counter's number, and an estimate when waiting."""
    number = None
    if ticket["counter_id"] is not None:
        number = st.conn().scalar(st.COUNTER_NUMBER, {"cid": ticket["counter_id"]})
    return row_view(ticket, policy, number, estimate=True)
