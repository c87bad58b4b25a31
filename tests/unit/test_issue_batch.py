"""Group commit of kiosk taps: a batch is one transaction, yet each tap keeps its own answer."""

from __future__ import annotations

import threading
from typing import Any

import pytest
import sqlalchemy as sa
from flask import Flask

from db import db
from db.models import Site, Ticket, TicketEvent
from motcua import realtime
from motcua.services import catalog_cache, tickets
from motcua.services.common import current_policy
from motcua.services.tickets.issue import write_batch_or_each
from motcua.timeutil import business_day
from tests.conftest import T0


def _request(area_key: str, key: str | None = None, **overrides: Any) -> Any:
    """A checked tap, as issue_ticket hands it to the batcher."""
    snap = catalog_cache.snapshot()
    site = next(iter(snap.sites.values()))
    area = snap.areas[area_key.lower()]
    fields: dict[str, Any] = {
        "site": site,
        "area": area,
        "counters": snap.serving[(site.id, area.id)],
        "priority": None,
        "key": key,
        "kiosk": None,
        "now": T0,
        "day": business_day(T0),
        "policy": current_policy(),
    }
    fields.update(overrides)
    return tickets.IssueRequest(**fields)


def _published(monkeypatch: pytest.MonkeyPatch) -> list[tuple[str, dict[str, Any]]]:
    sent: list[tuple[str, dict[str, Any]]] = []
    monkeypatch.setattr(
        realtime, "publish", lambda _site, event, payload: sent.append((event, payload))
    )
    return sent


def test_a_batch_numbers_in_order_and_publishes_one_fact_per_ticket(
    ctx: Flask, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Five taps in one batch: A001-A003 and B001-B002, seq numbers consecutive, one commit."""
    sent = _published(monkeypatch)
    seq_before = db.session.scalar(sa.select(Site.seq))
    db.session.commit()
    batch = [_request(k) for k in ("A", "B", "A", "A", "B")]
    write_batch_or_each(batch)
    assert [r.result.code for r in batch] == ["A001", "B001", "A002", "A003", "B002"]
    assert [r.result.people_ahead for r in batch] == [0, 0, 1, 2, 1]
    seqs = [payload["seq"] for _, payload in sent]
    assert seqs == list(range(seq_before + 1, seq_before + 6))
    assert [payload["ticket"]["code"] for _, payload in sent] == [
        "A001",
        "B001",
        "A002",
        "A003",
        "B002",
    ]
    assert db.session.scalar(sa.select(Site.seq)) == seq_before + 5
    issued = db.session.scalar(
        sa.select(sa.func.count()).select_from(TicketEvent).where(TicketEvent.kind == "issued")
    )
    assert issued == 5


def test_one_bad_tap_fails_alone_and_the_others_keep_their_tickets(
    ctx: Flask, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A tap that cannot be written (an area row that does not exist) fails on its own."""
    _published(monkeypatch)
    ghost = catalog_cache.AreaRef(
        id=9999, code="ma", prefix="Z", name="Không có", target_wait_minutes=15
    )
    batch = [_request("A"), _request("A", area=ghost), _request("A")]
    write_batch_or_each(batch)
    assert [r.done for r in batch] == [True, True, True]
    assert batch[0].result.code == "A001" and batch[2].result.code == "A002"
    assert batch[1].result is None and batch[1].error is not None
    codes = db.session.scalars(sa.select(Ticket.code).order_by(Ticket.id)).all()
    assert codes == ["A001", "A002"]  # no gap left by the failed tap


def test_the_same_key_twice_in_one_batch_is_one_ticket(
    ctx: Flask, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A double tap caught in one batch: one ticket, the second answer is the same, not new."""
    _published(monkeypatch)
    batch = [_request("A", key="tap-1"), _request("A", key="tap-1"), _request("A", key="tap-2")]
    write_batch_or_each(batch)
    first, again, other = (r.result for r in batch)
    assert (first.code, first.created) == ("A001", True)
    assert (again.code, again.token, again.created) == ("A001", first.token, False)
    assert (other.code, other.created) == ("A002", True)
    later = [_request("A", key="tap-1")]
    write_batch_or_each(later)
    assert (later[0].result.code, later[0].result.created) == ("A001", False)
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Ticket)) == 2


def test_threads_tapping_at_once_are_batched_and_each_gets_its_own_ticket(app: Flask) -> None:
    """12 threads × 10 taps, half of them repeated: 60 tickets, every repeat answered the same."""
    results: dict[str, list[tuple[str, bool]]] = {}
    start = threading.Barrier(12)
    errors: list[BaseException] = []

    def kiosk(i: int) -> None:
        try:
            with app.app_context():
                start.wait()
                for k in range(10):
                    key = f"k{i % 6}-{k}"  # threads i and i+6 send the same keys
                    view = tickets.issue_ticket("A", idempotency_key=key, now=T0)
                    results.setdefault(key, []).append((view.code, view.created))
                db.session.remove()
        except BaseException as exc:  # noqa: BLE001 - reported below
            errors.append(exc)

    threads = [threading.Thread(target=kiosk, args=(i,)) for i in range(12)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    assert not errors
    assert len(results) == 60
    for answers in results.values():
        assert len({code for code, _ in answers}) == 1  # both taps got the same ticket
        assert sorted(created for _, created in answers) == [False, True]
    codes = sorted(code for answers in results.values() for code, _ in answers[:1])
    assert codes == [f"A{n:03d}" for n in range(1, 61)]
