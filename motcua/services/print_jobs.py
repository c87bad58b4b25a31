"""Print jobs: each kiosk's printer config, its spool, the receipt, and the outcome's record.

``submit`` renders a ticket's receipt and hands it to its kiosk's spool, returning at once:
printing never blocks or loses a ticket. When the job ends, the spool's callback records a
``printed`` or ``print_failed`` ticket event in its own short transaction and publishes a
``print_status`` fact (the kiosk shows it, staff get an alert on failure).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import logging
import re
import secrets
import threading
from collections.abc import Mapping
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from flask import Flask, current_app
from flask_babel import lazy_gettext as _l

from db import db
from db.models import Ticket, TicketEvent
from motcua import realtime
from motcua.errors import InvalidKiosk, TicketNotFound
from motcua.services.common import bump_seq, transactional
from motcua.services.settings import effective, effective_config
from motcua.services.tickets import TicketView
from motcua.timeutil import ensure_now, local
from printer.backends import print_job, printer_off, read_status
from printer.spool import PrintSpool

log = logging.getLogger(__name__)

PRINTED, PRINT_FAILED, REPRINT = "printed", "print_failed", "reprint"
PRINT_EVENTS = (PRINTED, PRINT_FAILED, REPRINT)
# What a kiosk shows: the job is on its way, done, failed, or the kiosk has no printer.
STATE_PRINTING, STATE_PRINTED, STATE_FAILED, STATE_OFF = "printing", "printed", "failed", "off"
# The app's spools, one per printer config (per-process state: see wait_for_prints).
SPOOLS_KEY = "motcua_print_spools"
KIOSK_NAME_RE = re.compile(r"^[A-Za-z0-9_.-]{1,64}$")
PRINT_FAILED_TEXT = _l("Máy in gặp sự cố.")


@dataclass(frozen=True)
class PrintState:
    """Where a ticket's latest print job stands."""

    state: str
    error_code: str | None = None
    message: str | None = None
    job: str | None = None

    def as_dict(self) -> dict[str, Any]:
        """JSON-friendly dict."""
        return asdict(self)


def check_kiosk_name(kiosk: str | None) -> str | None:
    """The kiosk's name if it is a short slug (None for none); else InvalidKiosk."""
    if kiosk is None or kiosk == "":
        return None
    if not KIOSK_NAME_RE.match(kiosk):
        raise InvalidKiosk(kiosk=kiosk[:64])
    return kiosk


def status_url(token: str) -> str:
    """The public address printed in the QR (same rule as motcua.api.views.status_url)."""
    base = str(current_app.config.get("PUBLIC_BASE_URL") or "").rstrip("/")
    return f"{base}/t/{token}"


# --------------------------------------------------------------------------- printers


def printer_config(kiosk: str | None = None, app: Flask | None = None) -> dict[str, Any]:
    """The kiosk's printer settings: PRINTERS[kiosk], else PRINTER (file path defaulted)."""
    app = app or current_app._get_current_object()  # type: ignore[attr-defined]
    config = effective_config(app)  # paired kiosks' own printers are in PRINTERS
    per_kiosk = config.get("PRINTERS") or {}
    cfg = dict(per_kiosk.get(kiosk) or config.get("PRINTER") or {"backend": "file"})
    cfg.setdefault("backend", "file")
    if cfg["backend"] == "file" and not cfg.get("path"):
        cfg["path"] = str(Path(app.instance_path) / "prints")
    return cfg


def printer_names(app: Flask | None = None) -> list[str | None]:
    """Every configured kiosk printer (None = the default PRINTER)."""
    app = app or current_app._get_current_object()  # type: ignore[attr-defined]
    return [None, *sorted((effective_config(app).get("PRINTERS") or {}).keys())]


def _config_key(cfg: Mapping[str, Any]) -> str:
    return hashlib.sha1(json.dumps(cfg, sort_keys=True, default=str).encode()).hexdigest()


_spools_lock = threading.Lock()


def _spool(app: Flask, cfg: Mapping[str, Any], kiosk: str | None) -> PrintSpool:
    """The app's spool for one printer config, created on first use."""
    key = _config_key(cfg)
    with _spools_lock:
        spools: dict[str, PrintSpool] = app.extensions.setdefault(SPOOLS_KEY, {})
        spool = spools.get(key)
        if spool is None:
            spool = PrintSpool(name=kiosk or "default", max_age_s=float(cfg.get("max_age_s", 120)))
            spools[key] = spool
        return spool


def wait_for_prints(app: Flask | None = None, timeout: float = 10.0) -> bool:
    """Block until every queued print job of the app is done (CLI, tests, shutdown)."""
    app = app or current_app._get_current_object()  # type: ignore[attr-defined]
    with _spools_lock:
        spools = list(app.extensions.get(SPOOLS_KEY, {}).values())
    return all(spool.join(timeout) for spool in spools)


# --------------------------------------------------------------------------- jobs


def build_receipt(
    view: TicketView, hall_name: str, unit_name: str | None, *, reprint: bool = False
) -> Any:
    """The paper ticket's plain data, from a ticket view and its site's names."""
    from printer.receipt import DEFAULT_FOOTER, Receipt

    return Receipt(
        hall_name=str(effective("TICKET_HALL_NAME") or hall_name),
        unit_name=unit_name or None,
        code=view.code,
        area_name=view.area_name,
        counters=[str(n) for n in view.serving_counters],
        waiting=max(0, view.people_ahead or 0),
        issued_at=local(view.issued_at),
        status_url=status_url(view.token),
        footer=str(effective("TICKET_FOOTER") or DEFAULT_FOOTER),
        priority_label=view.priority_label,
        reprint=reprint,
    )


def _on_print_done(app: Flask, token: str, kiosk: str | None, job: str, result: Any) -> None:
    """Spool callback (worker thread): record and publish the job's outcome."""
    with app.app_context():
        try:
            record_print_result(
                token,
                ok=bool(result.ok),
                error_code=result.error_code,
                message=result.message,
                kiosk=kiosk,
                job=job,
            )
        except Exception:  # the ticket is committed; losing the event must not kill the spool
            log.exception("could not record print result of ticket %s", token)
        finally:
            db.session.remove()


@dataclass(frozen=True)
class _Failure:
    """A PrintResult-like failure raised before the spool got the job."""

    error_code: str
    message: str
    ok: bool = False


def submit(
    view: TicketView, hall_name: str, unit_name: str | None, kiosk: str | None, job: str
) -> PrintState:
    """Render the ticket's receipt and hand it to its kiosk's spool; returns at once."""
    cfg = printer_config(kiosk)
    if printer_off(cfg):
        return PrintState(STATE_OFF, job=job)
    app: Flask = current_app._get_current_object()  # type: ignore[attr-defined]
    token = view.token

    def done(_job_name: str, result: Any) -> None:
        _on_print_done(app, token, kiosk, job, result)

    # Unique per job: the file backend names its files after it.
    job_name = f"{view.business_day:%Y%m%d}-{view.code}-{job}-{secrets.token_hex(3)}"
    try:
        from printer.raster import encode_raster
        from printer.receipt import render_receipt

        image = render_receipt(
            build_receipt(view, hall_name, unit_name, reprint=job == REPRINT),
            int(cfg.get("width_px", 576)),
        )
        data = encode_raster(image, profile=cfg.get("profile"), cut=bool(cfg.get("cut", True)))
        queued = _spool(app, cfg, kiosk).submit(job_name, data, cfg, preview=image, on_done=done)
    except Exception as exc:  # a broken printer setup must never cost the citizen the number
        log.exception("could not queue the receipt of %s", view.code)
        done(job_name, _Failure("spool_error", str(PRINT_FAILED_TEXT) + f" ({exc})"))
        return PrintState(STATE_FAILED, "spool_error", str(PRINT_FAILED_TEXT), job)
    if not queued:  # the spool already reported the failure through ``done``
        return PrintState(STATE_FAILED, "busy", str(PRINT_FAILED_TEXT), job)
    return PrintState(STATE_PRINTING, job=job)


@transactional
def record_print_result(
    token: str,
    *,
    ok: bool,
    error_code: str | None = None,
    message: str | None = None,
    kiosk: str | None = None,
    job: str = "issue",
    now: dt.datetime | None = None,
) -> PrintState:
    """Log ``printed``/``print_failed`` on the ticket, commit, then publish ``print_status``."""
    now = ensure_now(now)
    ticket = ticket_by_token(token)
    kind = PRINTED if ok else PRINT_FAILED
    detail: dict[str, Any] = {"job": job, "kiosk": kiosk}
    if not ok:
        detail.update(error_code=error_code or "print_error", message=(message or "")[:300])
    db.session.add(
        TicketEvent(
            ticket_id=ticket.id,
            site_id=ticket.site_id,
            kind=kind,
            at=now,
            area_id=ticket.area_id,
            detail=detail,
        )
    )
    seq = bump_seq(ticket.site_id)
    site_id, code, area_name, uuid = ticket.site_id, ticket.code, ticket.area.name, ticket.uuid
    db.session.commit()
    state = _state_from(kind, detail)
    realtime.publish(
        site_id,
        "print_status",
        {
            "seq": seq,
            "ticket": {"token": token, "uuid": uuid, "code": code, "area_name": area_name},
            "kiosk": kiosk,
            "alert": not ok,
            **state.as_dict(),
        },
    )
    if not ok:
        log.warning(
            "printing ticket %s at kiosk %s failed: %s %s", code, kiosk, error_code, message
        )
    return state


def _state_from(kind: str | None, detail: Mapping[str, Any] | None) -> PrintState:
    """A print state from the latest print-related event of a ticket."""
    detail = detail or {}
    job = detail.get("job") or (REPRINT if kind == REPRINT else None)
    if kind == PRINTED:
        return PrintState(STATE_PRINTED, job=job)
    if kind == PRINT_FAILED:
        return PrintState(
            STATE_FAILED,
            detail.get("error_code"),
            detail.get("message") or str(PRINT_FAILED_TEXT),
            job,
        )
    return PrintState(STATE_PRINTING, job=job)


def ticket_by_token(token: str) -> Ticket:
    """The ticket (ORM row) of a public token; else TicketNotFound."""
    ticket = db.session.scalar(sa.select(Ticket).where(Ticket.token == token))
    if ticket is None:
        raise TicketNotFound()
    return ticket


def print_events(ticket_id: int) -> list[TicketEvent]:
    """A ticket's printed / print_failed / reprint events, oldest first."""
    return list(
        db.session.scalars(
            sa.select(TicketEvent)
            .where(TicketEvent.ticket_id == ticket_id, TicketEvent.kind.in_(PRINT_EVENTS))
            .order_by(TicketEvent.id)
        )
    )


def current_state(ticket: Ticket, kiosk: str | None) -> PrintState:
    """Where the ticket's latest print job stands, read from its events."""
    events = print_events(ticket.id)
    if not events:
        if printer_off(printer_config(kiosk or ticket.kiosk)):
            return PrintState(STATE_OFF)
        return PrintState(STATE_PRINTING, job="issue")
    return _state_from(events[-1].kind, events[-1].detail)


@transactional
def print_state(token: str) -> PrintState:
    """Where the ticket's latest print job stands (for polling kiosks)."""
    ticket = ticket_by_token(token)
    return current_state(ticket, ticket.kiosk)


_warmed = threading.Event()


def warm_up() -> None:
    """Load the receipt fonts once, in the background: the first tap is then as quick as later."""
    if _warmed.is_set():
        return
    _warmed.set()

    def run() -> None:
        try:
            from printer.receipt import Receipt, render_receipt

            sample = Receipt(
                hall_name="TRUNG TÂM",
                unit_name="PHƯỜNG",
                code="A000",
                area_name="Tư pháp",
                counters=["1"],
                waiting=0,
                issued_at=dt.datetime.now(dt.UTC),
                status_url="http://localhost/t/x",
                priority_label="Người cao tuổi",
            )
            render_receipt(sample)
        except Exception:  # only a warm-up: the real job reports its own errors
            log.debug("receipt warm-up failed", exc_info=True)

    threading.Thread(target=run, name="receipt-warm-up", daemon=True).start()


# --------------------------------------------------------------------------- checks


def print_test_page(kiosk: str | None = None) -> Any:
    """Print the test page on a kiosk's printer now (synchronously); returns a PrintResult."""
    from printer.receipt import encode_test_page

    cfg = printer_config(check_kiosk_name(kiosk))
    data = encode_test_page(
        int(cfg.get("width_px", 576)),
        profile=cfg.get("profile"),
        note=f"Ki-ốt: {kiosk or 'mặc định'}",
    )
    stamp = local(ensure_now(None)).strftime("%Y%m%d-%H%M%S")
    return print_job(cfg, data, job_name=f"test-page-{stamp}")


def printer_state(cfg: Mapping[str, Any]) -> dict[str, Any]:
    """A printer's state read now (online, paper, error), or "off" for a kiosk without one."""
    if printer_off(cfg):
        return {"state": "off", "message": str(_l("Ki-ốt không dùng máy in")), "detail": ""}
    return asdict(read_status(cfg))  # never raises: failures come back as a state


def printer_statuses() -> list[dict[str, Any]]:
    """Each configured printer's backend and state (online, paper, error) where readable."""
    out: list[dict[str, Any]] = []
    for name in printer_names():
        cfg = printer_config(name)
        out.append({"kiosk": name, "backend": cfg.get("backend"), "status": printer_state(cfg)})
    return out
