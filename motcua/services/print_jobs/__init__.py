"""Print jobs: kiosk printers, the job table and its per-process worker, staff alerts.

``submit`` renders a ticket's receipt and queues it in the database (the kiosk never waits on
paper); any process's worker prints it on the kiosk's printer, one process per printer at a
time; the outcome is recorded once: ``printed`` (the printer confirmed it), ``sent`` (it
cannot confirm) or ``print_failed`` with the reason, which opens a staff alert until the
ticket prints or an officer dismisses it. See ``jobs`` (states, claims, leases), ``worker``
(the per-process state), ``alerts`` and ``printers``.
"""

from __future__ import annotations

from typing import Any

from flask import Flask, current_app

from motcua.services.print_jobs import jobs as _jobs
from motcua.services.print_jobs.alerts import STAFF_ROLES, dismiss_alert, open_alerts
from motcua.services.print_jobs.jobs import (
    ISSUE,
    PRINT_EVENTS,
    PRINT_FAILED,
    PRINT_FAILED_TEXT,
    PRINTED,
    REPRINT,
    SENT,
    STATE_FAILED,
    STATE_OFF,
    STATE_PRINTED,
    STATE_PRINTING,
    STATE_SENT,
    PrintState,
    current_state,
    print_events,
    print_state,
    record_print_result,
    ticket_by_token,
)
from motcua.services.print_jobs.printers import (
    DEFAULT_PRINTER,
    KIOSK_NAME_RE,
    build_receipt,
    check_kiosk_name,
    printer_config,
    printer_key,
    printer_names,
    printer_state,
    printer_statuses,
    status_url,
    warm_up,
)
from motcua.services.print_jobs.worker import notify, start_worker, stop_worker
from motcua.services.print_jobs.worker import wait_for_prints as _wait_for_prints
from motcua.services.tickets import TicketView


def submit(
    view: TicketView, hall_name: str, unit_name: str | None, kiosk: str | None, job: str
) -> PrintState:
    """Queue a ticket's receipt on its kiosk's printer and wake this process's print worker;
    returns at once (``jobs.submit``)."""
    state = _jobs.submit(view, hall_name, unit_name, kiosk, job)
    if state.state == STATE_PRINTING:
        notify(current_app._get_current_object())  # type: ignore[attr-defined]
    return state


def wait_for_prints(app: Flask | None = None, timeout: float = 10.0) -> bool:
    """Block until every queued print job is concluded (CLI, tests, shutdown)."""
    app = app or current_app._get_current_object()  # type: ignore[attr-defined]
    return _wait_for_prints(app, timeout)


def print_test_page(kiosk: str | None = None) -> Any:
    """Print the test page on a kiosk's printer now, holding the printer's lease (no other
    process drives it meanwhile); returns a PrintResult."""
    from motcua.services.print_jobs.testpage import print_test_page as run

    return run(kiosk)


__all__ = [
    "DEFAULT_PRINTER",
    "KIOSK_NAME_RE",
    "PRINTED",
    "PRINT_EVENTS",
    "PRINT_FAILED",
    "PRINT_FAILED_TEXT",
    "ISSUE",
    "REPRINT",
    "SENT",
    "STAFF_ROLES",
    "STATE_FAILED",
    "STATE_OFF",
    "STATE_PRINTED",
    "STATE_PRINTING",
    "STATE_SENT",
    "PrintState",
    "build_receipt",
    "check_kiosk_name",
    "current_state",
    "dismiss_alert",
    "open_alerts",
    "print_events",
    "print_state",
    "print_test_page",
    "printer_config",
    "printer_key",
    "printer_names",
    "printer_state",
    "printer_statuses",
    "record_print_result",
    "start_worker",
    "status_url",
    "stop_worker",
    "submit",
    "ticket_by_token",
    "wait_for_prints",
    "warm_up",
]
