"""Reads of the lifecycle: a ticket by its token, a counter's state for its console."""

from __future__ import annotations

import datetime as dt
from typing import Any

from motcua.errors import CounterNotFound, TicketNotFound
from motcua.inputs import fits_db_int
from motcua.services import print_alerts
from motcua.services.common import QueuePolicy, begin_snapshot_read, current_policy, transactional
from motcua.services.tickets import statements as st
from motcua.services.tickets.verbs import check_counter_access
from motcua.services.tickets.views import TicketView, full_view, priority_label, row_view
from motcua.timeutil import business_day, ensure_now


@transactional
def ticket_status(token: str, *, policy: QueuePolicy | None = None) -> TicketView:
    """The public view of a ticket by its unguessable token (what its QR opens).

    Without the dossier code: a QR photographed or a status link shared must not tell
    which dossier a citizen filed; staff see the code on their consoles and reports.
    """
    row = st.conn().execute(st.TICKET_BY_TOKEN, {"token": token}).first()
    if row is None:
        raise TicketNotFound()
    view = full_view(row._asdict(), policy or current_policy())
    view.dossier_code = None
    return view


@transactional
def counter_state(
    counter_id: int,
    *,
    officer_id: int | None = None,
    now: dt.datetime | None = None,
    policy: QueuePolicy | None = None,
) -> dict[str, Any]:
    """The counter's current ticket and its waiting queue, for the console, exact at ``seq``.

    With ``officer_id``, the officer must be allowed to work this counter (role and fixed
    seat): a console opens only where its officer may act. The console folds the facts that
    follow into it (counter/static/console.js): waiting rows carry their place in queue order
    (``queued_at``, ``id``; priority first when ``priority_first``), ``generated_at`` sets the
    console's clock for the minutes waited.
    """
    begin_snapshot_read()
    now = ensure_now(now)
    conn = st.conn()
    if not fits_db_int(counter_id):  # no such row; the driver would overflow
        raise CounterNotFound(counter=str(counter_id)[:20])
    counter = conn.execute(st.COUNTER_INFO, {"cid": counter_id}).first()
    if counter is None or not counter.active:
        raise CounterNotFound(counter=counter_id)
    policy = policy or current_policy(counter.site_id)
    check_counter_access(officer_id, counter.number, counter.site_id)
    areas = conn.execute(st.COUNTER_AREAS, {"cid": counter_id}).all()
    day = business_day(now)
    current = conn.execute(st.TICKET_AT_COUNTER, {"cid": counter_id, "day": day}).first()
    priority_first = policy.priority_policy == "strict"
    params = {
        "site_id": counter.site_id,
        "day": day,
        "cid": counter_id,
        "area_ids": [a.id for a in areas if a.active],
    }
    return {
        "counter": {
            "id": counter.id,
            "site_id": counter.site_id,
            "number": counter.number,
            "name": counter.name,
            "paused": counter.paused,
            "areas": [{"code": a.code, "prefix": a.prefix, "name": a.name} for a in areas],
            "officer": counter.officer,
        },
        "current": row_view(current._asdict(), policy, counter.number).as_dict()
        if current
        else None,
        "waiting": [
            {
                "id": t.id,
                "code": t.code,
                "area": t.area,
                "area_prefix": t.area_prefix,
                "priority": t.priority,
                "priority_label": priority_label(policy, t.priority),
                "issued_at": t.issued_at.isoformat(),
                "queued_at": t.queued_at.isoformat(),
                "waited_minutes": int((now - t.issued_at).total_seconds() // 60),
            }
            for t in conn.execute(st.queue_statement(priority_first), params)
        ],
        "priority_first": priority_first,
        "generated_at": now.isoformat(),
        "seq": counter.seq,
        # Tickets of this counter's areas that did not print: a banner until handled.
        "print_alerts": _print_alerts(counter.site_id, [a.id for a in areas]),
    }


def _print_alerts(site_id: int, area_ids: list[int]) -> list[dict[str, Any]]:
    return print_alerts.open_alerts(site_id=site_id, area_ids=area_ids)
