"""The ticket lifecycle: the one place its rules live.

- ``issue``: issuing numbers (every door: kiosk, REST, walk-ins) with the group commit;
- ``verbs``: call, recall, no-show, start, finish, transfer, cancel, pause, expiry, and the
  rules on who may act where (role, fixed counter);
- ``reads``: a ticket by token, a counter's console state;
- ``views``: ``TicketView`` and the one row → view builder, with the wait estimate;
- ``predict``: the wait predictions (from the live state and history; model in ``wait_model``);
- ``statements``: every SQL statement, prebuilt (one data-access idiom: Core on plain rows).
"""

from db.models import AT_COUNTER, OPEN_STATUSES, TicketStatus
from motcua.services.tickets.issue import (
    IssueBatcher,
    IssueRequest,
    IssuingDevice,
    check_issuer,
    issue_ticket,
)
from motcua.services.tickets.reads import counter_state, ticket_status
from motcua.services.tickets.statements import next_number
from motcua.services.tickets.verbs import (
    CANCEL_ROLES,
    COUNTER_ROLES,
    assigned_counter,
    call_next,
    call_ticket,
    cancel,
    check_counter_access,
    expire_stale,
    finish,
    mark_no_show,
    recall,
    set_paused,
    start_service,
    take_seat,
    transfer,
)
from motcua.services.tickets.views import TicketView, format_code

__all__ = [
    "AT_COUNTER",
    "CANCEL_ROLES",
    "COUNTER_ROLES",
    "OPEN_STATUSES",
    "IssueBatcher",
    "IssueRequest",
    "IssuingDevice",
    "TicketStatus",
    "TicketView",
    "assigned_counter",
    "call_next",
    "call_ticket",
    "cancel",
    "check_issuer",
    "check_counter_access",
    "counter_state",
    "expire_stale",
    "finish",
    "format_code",
    "issue_ticket",
    "mark_no_show",
    "next_number",
    "recall",
    "set_paused",
    "start_service",
    "take_seat",
    "ticket_status",
    "transfer",
]
