"""Printed means printed: faults on a loopback printer end failed or sent, and staff are told
on the consoles of the ticket's area until the ticket prints or an officer handles it."""

from __future__ import annotations

from typing import Any

import pytest
import sqlalchemy as sa
from flask import Flask
from flask.testing import FlaskClient
from flask_socketio import SocketIOTestClient

from db import db
from db.models import AuditEntry, PrintJob
from motcua.extensions import socketio
from motcua.services import print_jobs
from tests.conftest import bearer, counter_id, login
from tests.support.fake_printer import FakePrinter

FAST = {"status_timeout": 0.3, "confirm_timeout": 0.8, "timeout": 1}


def console(app: Flask, number: int) -> SocketIOTestClient:
    """canbo1's console at a counter, connected to /counter."""
    http = app.test_client()
    login(http, "canbo1")
    client = socketio.test_client(
        app,
        namespace="/counter",
        flask_test_client=http,
        auth={"counter_id": counter_id(app, number)},
    )
    assert client.is_connected("/counter")
    return client


def take(client: FlaskClient, service: str, key: str) -> Any:
    """A kiosk tap at kiosk sanh-1."""
    r = client.post(
        "/kiosk/api/tickets",
        json={"service": service, "kiosk": "sanh-1"},
        headers={"Idempotency-Key": key},
    )
    assert r.status_code == 201, r.json
    return r.json


def facts(client: SocketIOTestClient) -> list[dict[str, Any]]:
    """The print_status facts a console received since last asked."""
    got = client.get_received("/counter")
    return [r["args"][0] for r in got if r["name"] == "print_status"]


def job_states(app: Flask) -> list[tuple[str, str | None]]:
    """Every job's (state, error_code), oldest first."""
    with app.app_context():
        rows = db.session.execute(
            sa.select(PrintJob.state, PrintJob.error_code).order_by(PrintJob.id)
        )
        return [(state, code) for state, code in rows]


@pytest.mark.parametrize(
    ("fault", "error_code"),
    [
        ({"stall": True}, "timeout"),
        ({"close_after": 8192}, "closed"),
        ({"paper_out_after_job": True}, "paper_out"),
    ],
)
def test_an_interrupted_job_is_never_printed_and_reaches_the_area_consoles(
    app: Flask, client: FlaskClient, fault: dict[str, Any], error_code: str
) -> None:
    """Each fault: print_failed with its reason, never printed; the banner reaches counter 1
    (area A) live and in its snapshot, not counter 4; a good reprint clears it."""
    area_a, other = console(app, 1), console(app, 4)
    with FakePrinter(**fault) as broken:
        app.config["PRINTERS"] = {"sanh-1": {**broken.config, **FAST}}
        body = take(client, "A", "t1")
        assert print_jobs.wait_for_prints(app, timeout=15)
    assert job_states(app) == [("print_failed", error_code)]
    token = body["ticket"]["token"]
    state = client.get(f"/kiosk/api/tickets/{token}/print").json
    assert (state["state"], state["error_code"], state["staff_told"]) == (
        "failed",
        error_code,
        True,
    )

    (fact,) = facts(area_a)
    opened = fact["alert_opened"]
    assert opened["ticket"]["code"] == "A001" and opened["kiosk"] == "sanh-1"
    assert opened["error_code"] == error_code and opened["message"]
    assert area_a.emit("snapshot", namespace="/counter", callback=True)["print_alerts"] == [opened]
    assert other.emit("snapshot", namespace="/counter", callback=True)["print_alerts"] == []

    with FakePrinter() as good:  # the printer is fixed; an officer reprints the ticket
        app.config["PRINTERS"] = {"sanh-1": {**good.config, **FAST}}
        r = client.post(f"/api/v1/tickets/{token}/reprint", headers=bearer(client, "canbo1"))
        assert r.status_code == 200
        assert print_jobs.wait_for_prints(app, timeout=15)
    assert [s for s, _ in job_states(app)] == ["print_failed", "printed"]
    (cleared,) = facts(area_a)
    assert cleared["alerts_closed"] == [opened["id"]] and cleared["state"] == "printed"
    assert area_a.emit("snapshot", namespace="/counter", callback=True)["print_alerts"] == []


def test_a_printer_that_cannot_confirm_records_sent(app: Flask, client: FlaskClient) -> None:
    """confirm=none on a healthy printer: the job is "sent", the kiosk says so, no alert."""
    with FakePrinter(confirms=False) as printer:
        app.config["PRINTERS"] = {"sanh-1": {**printer.config, **FAST, "confirm": "none"}}
        body = take(client, "A", "t1")
        assert print_jobs.wait_for_prints(app, timeout=10)
    assert job_states(app) == [("sent", None)]
    state = client.get(f"/kiosk/api/tickets/{body['ticket']['token']}/print").json
    assert state["state"] == "sent"
    with app.app_context():
        assert print_jobs.open_alerts() == []


def test_an_officer_dismisses_an_alert_and_it_is_audited(app: Flask, client: FlaskClient) -> None:
    """Dismissed from the console: the banner closes on every console, the audit log says who."""
    area_a = console(app, 1)
    with FakePrinter("paper_out") as printer:
        app.config["PRINTERS"] = {"sanh-1": {**printer.config, **FAST}}
        take(client, "A", "t1")
        assert print_jobs.wait_for_prints(app, timeout=10)
    (fact,) = facts(area_a)
    alert_id = fact["alert_opened"]["id"]
    ack = area_a.emit("dismiss_print_alert", {"id": alert_id}, namespace="/counter", callback=True)
    assert ack["ok"] is True
    (closed,) = facts(area_a)
    assert closed["alerts_closed"] == [alert_id] and closed["alert_opened"] is None
    again = area_a.emit(
        "dismiss_print_alert", {"id": alert_id}, namespace="/counter", callback=True
    )
    assert (again["ok"], again["error"]) == (False, "not_found")
    with app.app_context():
        entry = db.session.scalar(
            sa.select(AuditEntry).where(AuditEntry.action == "print_alert_dismissed")
        )
        assert entry is not None and entry.actor == "canbo1" and entry.target == "A001"
