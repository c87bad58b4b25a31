"""The kiosk's issue path and ticket printing.

``issue_at_kiosk`` commits the ticket (through ``tickets.issue_ticket``), then hands a
receipt to the kiosk's printer spool and returns at once: printing never blocks or loses
a ticket. When the job ends, the spool's callback records a ``printed`` or
``print_failed`` ticket event in its own short transaction and publishes a
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
from db.models import Site, Ticket, TicketEvent
from motcua import realtime
from motcua.errors import DomainError, NotFound, TicketNotFound
from motcua.services import catalog, tickets
from motcua.services.common import bump_seq, current_policy, get_site, transactional
from motcua.services.settings import effective, effective_config
from motcua.services.tickets import TicketStatus, TicketView
from motcua.timeutil import ensure_now, local

log = logging.getLogger(__name__)

PRINTED, PRINT_FAILED, REPRINT = "printed", "print_failed", "reprint"
PRINT_EVENTS = (PRINTED, PRINT_FAILED, REPRINT)
# What a kiosk shows: the job is on its way, done, failed, or the kiosk has no printer.
STATE_PRINTING, STATE_PRINTED, STATE_FAILED, STATE_OFF = "printing", "printed", "failed", "off"
NO_PRINTER_BACKENDS = ("none", "off", "")
SPOOLS_KEY = "motcua_print_spools"
KIOSK_NAME_RE = re.compile(r"^[A-Za-z0-9_.-]{1,64}$")
QR_QUIET_MODULES = 4
DAY_KEYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
DAY_NAMES = (
    _l("Thứ Hai"),
    _l("Thứ Ba"),
    _l("Thứ Tư"),
    _l("Thứ Năm"),
    _l("Thứ Sáu"),
    _l("Thứ Bảy"),
    _l("Chủ nhật"),
)


class OutsideWorkingHours(DomainError):
    """The hall is closed: the kiosk gives no number."""

    code, status = "outside_working_hours", 409
    message = _l("Hiện đang ngoài giờ làm việc, ki-ốt tạm ngừng cấp số thứ tự.")


class ReprintNotAllowed(DomainError):
    """A kiosk reprint after the window, too often, or of a closed ticket."""

    code, status = "reprint_not_allowed", 409
    message = _l("Không thể in lại vé tại ki-ốt. Vui lòng liên hệ cán bộ hướng dẫn để được hỗ trợ.")


class InvalidKiosk(DomainError):
    """A kiosk name that is not a short slug."""

    code, status, message = "invalid_kiosk", 422, _l("Tên ki-ốt không hợp lệ.")


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


# --------------------------------------------------------------------------- working hours


def _parse_days(key: str) -> list[int]:
    """'mon-fri' → [0..4]; 'sat' → [5]; 'mon,wed' → [0, 2]; 'daily' → all."""
    key = key.strip().lower()
    if key in ("daily", "all", "mon-sun"):
        return list(range(7))
    days: list[int] = []
    for part in key.split(","):
        part = part.strip()
        if "-" in part:
            first, last = (DAY_KEYS.index(p.strip()) for p in part.split("-", 1))
            days += list(range(first, last + 1))
        else:
            days.append(DAY_KEYS.index(part))
    return days


def _parse_span(text: str) -> tuple[dt.time, dt.time]:
    start, end = (dt.time.fromisoformat(p.strip()) for p in text.split("-", 1))
    if end <= start:
        raise ValueError(f"empty working-hours span {text!r}")
    return start, end


def parse_working_hours(spec: Mapping[str, Any] | None) -> dict[int, list[tuple[dt.time, dt.time]]]:
    """WORKING_HOURS ({"mon-fri": ["07:30-11:30", ...]}) → weekday → sorted spans."""
    out: dict[int, list[tuple[dt.time, dt.time]]] = {}
    for key, spans in (spec or {}).items():
        parsed = [_parse_span(s) for s in spans]
        for day in _parse_days(key):
            out.setdefault(day, []).extend(parsed)
    return {day: sorted(spans) for day, spans in out.items()}


def _hours(site_id: int | None = None) -> dict[int, list[tuple[dt.time, dt.time]]] | None:
    """The site's hours in force, or None (always open) when unset or unreadable."""
    spec = effective("WORKING_HOURS", site_id=site_id)
    if not spec:
        return None
    try:
        return parse_working_hours(spec)
    except (ValueError, AttributeError, TypeError):
        # A typo in the settings must not leave citizens without a number.
        log.exception("WORKING_HOURS is invalid; the kiosk stays open: %r", spec)
        return None


def _fmt(t: dt.time) -> str:
    return t.strftime("%H:%M")


def hours_text(site_id: int | None = None) -> str:
    """The working hours in Vietnamese, e.g. 'Thứ Hai – Thứ Sáu: 07:30–11:30, 13:30–17:00'."""
    spec = effective("WORKING_HOURS", site_id=site_id) or {}
    parts: list[str] = []
    for key, spans in spec.items():
        try:
            days = _parse_days(key)
            times = ", ".join(f"{_fmt(a)}–{_fmt(b)}" for a, b in map(_parse_span, spans))
        except (ValueError, AttributeError):
            continue
        if len(days) > 1 and days == list(range(days[0], days[-1] + 1)):
            label = f"{DAY_NAMES[days[0]]} – {DAY_NAMES[days[-1]]}"
        else:
            label = ", ".join(str(DAY_NAMES[d]) for d in days)
        parts.append(f"{label}: {times}")
    return "; ".join(parts)


def is_open(now: dt.datetime, site_id: int | None = None) -> bool:
    """True when the hall receives citizens at this instant (always, if no hours are set)."""
    hours = _hours(site_id)
    if hours is None:
        return True
    here = local(now)
    t = here.time().replace(tzinfo=None)
    return any(a <= t < b for a, b in hours.get(here.weekday(), []))


def next_opening(now: dt.datetime, site_id: int | None = None) -> dt.datetime | None:
    """The next start of a working span after ``now`` (hall time), within a week."""
    hours = _hours(site_id)
    if not hours:
        return None
    here = local(now)
    for offset in range(8):
        day = here.date() + dt.timedelta(days=offset)
        for start, _end in hours.get(day.weekday(), []):
            at = dt.datetime.combine(day, start, tzinfo=here.tzinfo)
            if at > here:
                return at
    return None


def _closed_message(now: dt.datetime, site_id: int | None = None) -> str:
    """'Ngoài giờ làm việc … Mời quay lại lúc 13:30 hôm nay.'"""
    text = str(OutsideWorkingHours.message)
    opening = next_opening(now, site_id)
    if opening is not None:
        here = local(now)
        if opening.date() == here.date():
            when = _l("%(time)s hôm nay", time=_fmt(opening.time()))
        elif opening.date() == here.date() + dt.timedelta(days=1):
            when = _l(
                "%(time)s ngày mai (%(day)s)",
                time=_fmt(opening.time()),
                day=DAY_NAMES[opening.weekday()],
            )
        else:
            when = _l(
                "%(time)s %(day)s, ngày %(date)s",
                time=_fmt(opening.time()),
                day=DAY_NAMES[opening.weekday()],
                date=opening.strftime("%d/%m"),
            )
        text += " " + str(_l("Mời Ông/Bà quay lại lúc %(when)s.", when=when))
    return text


def _check_open(now: dt.datetime, site_id: int | None = None) -> None:
    if not is_open(now, site_id):
        raise OutsideWorkingHours(_closed_message(now, site_id), hours=hours_text(site_id))


# --------------------------------------------------------------------------- QR and URLs


def status_url(token: str) -> str:
    """The public address printed in the QR (same rule as motcua.api.views.status_url)."""
    base = str(current_app.config.get("PUBLIC_BASE_URL") or "").rstrip("/")
    return f"{base}/t/{token}"


def qr_svg(data: str) -> str:
    """The QR of ``data`` as an inline SVG: the very symbol the paper ticket carries."""
    from printer.raster import qr_image

    modules = qr_image(data, 1)  # 1 pixel per module, no quiet zone; 0 = dark
    width = modules.width
    pixels = modules.convert("L").tobytes()  # one byte a module: 0 dark, 255 light
    q = QR_QUIET_MODULES
    runs: list[str] = []
    for y in range(modules.height):
        row = pixels[y * width : (y + 1) * width]
        x = 0
        while x < width:
            if row[x]:
                x += 1
                continue
            start = x
            while x < width and not row[x]:
                x += 1
            runs.append(f"M{start + q},{y + q}h{x - start}v1h-{x - start}z")
    size = width + 2 * q
    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {size} {size}" '
        f'shape-rendering="crispEdges" role="img" aria-label="QR">'
        f'<rect width="{size}" height="{size}" fill="#fff"/>'
        f'<path d="{"".join(runs)}" fill="#000"/></svg>'
    )


# --------------------------------------------------------------------------- printers


def _check_kiosk(kiosk: str | None) -> str | None:
    if kiosk is None or kiosk == "":
        return None
    if not KIOSK_NAME_RE.match(kiosk):
        raise InvalidKiosk(kiosk=kiosk[:64])
    return kiosk


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


def _spool(app: Flask, cfg: Mapping[str, Any], kiosk: str | None) -> Any:
    """The app's spool for one printer config, created on first use."""
    from printer.spool import PrintSpool

    key = _config_key(cfg)
    with _spools_lock:
        spools: dict[str, Any] = app.extensions.setdefault(SPOOLS_KEY, {})
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
        counters=[f"{n:02d}" for n in view.serving_counters],
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


def _submit(
    view: TicketView, hall_name: str, unit_name: str | None, kiosk: str | None, job: str
) -> PrintState:
    """Render the ticket's receipt and hand it to its kiosk's spool; returns at once."""
    cfg = printer_config(kiosk)
    if str(cfg.get("backend") or "").lower() in NO_PRINTER_BACKENDS:
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
        done(job_name, _Failure("spool_error", str(_PRINT_FAILED_TEXT) + f" ({exc})"))
        return PrintState(STATE_FAILED, "spool_error", str(_PRINT_FAILED_TEXT), job)
    if not queued:  # the spool already reported the failure through ``done``
        return PrintState(STATE_FAILED, "busy", str(_PRINT_FAILED_TEXT), job)
    return PrintState(STATE_PRINTING, job=job)


@dataclass(frozen=True)
class _Failure:
    """A PrintResult-like failure raised before the spool got the job."""

    error_code: str
    message: str
    ok: bool = False


_PRINT_FAILED_TEXT = _l("Máy in gặp sự cố.")


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
    ticket = _ticket(token)
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
            detail.get("message") or str(_PRINT_FAILED_TEXT),
            job,
        )
    return PrintState(STATE_PRINTING, job=job)


def _ticket(token: str) -> Ticket:
    ticket = db.session.scalar(sa.select(Ticket).where(Ticket.token == token))
    if ticket is None:
        raise TicketNotFound()
    return ticket


def _print_events(ticket_id: int) -> list[TicketEvent]:
    return list(
        db.session.scalars(
            sa.select(TicketEvent)
            .where(TicketEvent.ticket_id == ticket_id, TicketEvent.kind.in_(PRINT_EVENTS))
            .order_by(TicketEvent.id)
        )
    )


def _current_state(ticket: Ticket, kiosk: str | None) -> PrintState:
    events = _print_events(ticket.id)
    if not events:
        cfg = printer_config(kiosk or ticket.kiosk)
        if str(cfg.get("backend") or "").lower() in NO_PRINTER_BACKENDS:
            return PrintState(STATE_OFF)
        return PrintState(STATE_PRINTING, job="issue")
    return _state_from(events[-1].kind, events[-1].detail)


@transactional
def print_state(token: str) -> PrintState:
    """Where the ticket's latest print job stands (for polling kiosks)."""
    ticket = _ticket(token)
    return _current_state(ticket, ticket.kiosk)


# --------------------------------------------------------------------------- kiosk


def _window_s() -> int:
    return int(current_app.config.get("KIOSK_REPRINT_WINDOW_S", 120))


def _kiosk_body(view: TicketView, state: PrintState, *, reprints_left: int) -> dict[str, Any]:
    """What the kiosk shows after a tap."""
    body = view.as_dict()
    body["status_url"] = status_url(view.token)
    until = view.issued_at + dt.timedelta(seconds=_window_s())
    return {
        "ticket": body,
        "qr_svg": qr_svg(body["status_url"]),
        "print": state.as_dict(),
        "reprint_until": until.isoformat(),
        "reprints_left": reprints_left,
    }


def _reprints_left(events: list[TicketEvent]) -> int:
    used = sum(1 for e in events if e.kind == REPRINT and (e.detail or {}).get("by") == "kiosk")
    return max(0, int(current_app.config.get("KIOSK_REPRINT_MAX", 2)) - used)


@transactional
def issue_at_kiosk(
    service: str,
    *,
    priority: str | None = None,
    idempotency_key: str | None = None,
    kiosk: str | None = None,
    site_code: str | None = None,
    now: dt.datetime | None = None,
) -> dict[str, Any]:
    """Issue a number at a kiosk in working hours, then queue its receipt; never waits on paper."""
    now = ensure_now(now)
    kiosk = _check_kiosk(kiosk)
    site = get_site(site_code)
    hall_name, unit_name = site.name, site.unit_name
    key = (idempotency_key or "").strip()[:128] or None
    retried = (
        key is not None
        and db.session.scalar(
            sa.select(Ticket.id).where(Ticket.site_id == site.id, Ticket.idempotency_key == key)
        )
        is not None
    )
    if not retried:  # a retry of a tap made in hours still gets its number
        _check_open(now, site.id)
    view = tickets.issue_ticket(
        service,
        priority=priority,
        idempotency_key=key,
        site_code=site.code if site_code else None,
        kiosk=kiosk,
        now=now,
    )
    if view.created:
        state = _submit(view, hall_name, unit_name, kiosk, "issue")
        left = int(current_app.config.get("KIOSK_REPRINT_MAX", 2))
    else:
        ticket = _ticket(view.token)
        state = _current_state(ticket, kiosk)
        left = _reprints_left(_print_events(ticket.id))
    return _kiosk_body(view, state, reprints_left=left)


@transactional
def reprint_at_kiosk(
    token: str,
    *,
    idempotency_key: str | None = None,
    kiosk: str | None = None,
    now: dt.datetime | None = None,
) -> dict[str, Any]:
    """Print a ticket again from the kiosk, shortly after issue; a retried tap prints once."""
    now = ensure_now(now)
    kiosk = _check_kiosk(kiosk)
    ticket = _ticket(token)
    events = _print_events(ticket.id)
    key = (idempotency_key or "").strip()[:128] or None
    if key and any(e.kind == REPRINT and (e.detail or {}).get("key") == key for e in events):
        return {
            "print": _current_state(ticket, kiosk).as_dict(),
            "reprints_left": _reprints_left(events),
        }
    if ticket.status not in tickets.OPEN_STATUSES:
        raise ReprintNotAllowed(status=ticket.status)
    if now - ticket.issued_at > dt.timedelta(seconds=_window_s()):
        raise ReprintNotAllowed(reason="window")
    if _reprints_left(events) <= 0:
        raise ReprintNotAllowed(
            _l("Vé đã được in lại đủ số lần cho phép. Vui lòng liên hệ cán bộ hướng dẫn."),
            reason="limit",
        )
    return _reprint(
        ticket, now, kiosk or ticket.kiosk, {"by": "kiosk", "key": key, "kiosk": kiosk}, events
    )


@transactional
def reprint_by_staff(
    token: str, *, actor_id: int | None, kiosk: str | None = None, now: dt.datetime | None = None
) -> dict[str, Any]:
    """Print a ticket again at any time, by an officer or administrator."""
    now = ensure_now(now)
    kiosk = _check_kiosk(kiosk)
    ticket = _ticket(token)
    return _reprint(
        ticket,
        now,
        kiosk or ticket.kiosk,
        {"by": "staff", "actor_id": actor_id, "kiosk": kiosk or ticket.kiosk},
        _print_events(ticket.id),
        actor_id=actor_id,
    )


def _reprint(
    ticket: Ticket,
    now: dt.datetime,
    kiosk: str | None,
    detail: dict[str, Any],
    events: list[TicketEvent],
    *,
    actor_id: int | None = None,
) -> dict[str, Any]:
    """Log the reprint request, commit, then queue the receipt marked IN LẠI."""
    db.session.add(
        TicketEvent(
            ticket_id=ticket.id,
            site_id=ticket.site_id,
            kind=REPRINT,
            at=now,
            actor_id=actor_id,
            area_id=ticket.area_id,
            detail=detail,
        )
    )
    hall_name, unit_name, token = ticket.site.name, ticket.site.unit_name, ticket.token
    db.session.commit()
    view = tickets.ticket_status(token)
    state = _submit(view, hall_name, unit_name, kiosk, REPRINT)
    left = _reprints_left([*events, TicketEvent(kind=REPRINT, detail=detail)])
    return {
        "ticket": {**view.as_dict(), "status_url": status_url(token)},
        "print": state.as_dict(),
        "reprints_left": left,
    }


_warmed = threading.Event()


def _warm_up() -> None:
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
                counters=["01"],
                waiting=0,
                issued_at=dt.datetime.now(dt.UTC),
                status_url="http://localhost/t/x",
                priority_label="Người cao tuổi",
            )
            render_receipt(sample)
        except Exception:  # only a warm-up: the real job reports its own errors
            log.debug("receipt warm-up failed", exc_info=True)

    threading.Thread(target=run, name="receipt-warm-up", daemon=True).start()


@transactional
def kiosk_home(
    *, kiosk: str | None = None, site_code: str | None = None, now: dt.datetime | None = None
) -> dict[str, Any]:
    """The kiosk's start screen: hall, areas with waiting and estimates, priority, hours."""
    now = ensure_now(now)
    kiosk = _check_kiosk(kiosk)
    site = get_site(site_code)
    site_info = {"id": site.id, "code": site.code, "name": site.name, "unit_name": site.unit_name}
    seq = site.seq
    policy = current_policy()
    services = catalog.list_services(site_code=site.code, now=now)
    is_open_now = is_open(now, site.id)
    _warm_up()
    return {
        "site": site_info,
        "seq": seq,
        "kiosk": kiosk,
        "services": services,
        "priority_categories": [
            {"code": k, "label": v} for k, v in policy.priority_categories.items()
        ],
        "open": is_open_now,
        "hours_text": hours_text(site.id),
        "closed_message": None if is_open_now else _closed_message(now, site.id),
        "reprint_window_s": _window_s(),
        "idle_timeout_s": int(current_app.config.get("KIOSK_IDLE_TIMEOUT_S", 30)),
        "printer": str(printer_config(kiosk).get("backend")),
        "now": now.isoformat(),
    }


@transactional
def ticket_snapshot(token: str) -> dict[str, Any]:
    """A status page's snapshot: the ticket and the site ``seq`` it is exact at."""
    site_id = _ticket(token).site_id
    seq = db.session.scalar(sa.select(Site.seq).where(Site.id == site_id))
    return {"seq": int(seq or 0), "ticket": public_ticket(token)}


@transactional
def public_ticket(token: str) -> dict[str, Any]:
    """A ticket's public status (what the QR opens): view, hall, and the words to show."""
    view = tickets.ticket_status(token)
    site = get_site(view.site_code)
    body = view.as_dict()
    body.update(
        status_url=status_url(token),
        issued_local=local(view.issued_at).strftime("%H:%M %d/%m/%Y"),
        hall_name=site.name,
        unit_name=site.unit_name,
        counters_text=", ".join(f"{n:02d}" for n in view.serving_counters),
        display=status_display(view),
    )
    return body


def status_display(view: TicketView) -> dict[str, str]:
    """The status page's headline and detail for a ticket, in Vietnamese."""
    counter = view.counter_number
    if view.status == TicketStatus.WAITING:
        if view.misses:
            headline = _l("Ông/Bà đã vắng mặt khi được gọi")
            detail = _l("Số của Ông/Bà đã được xếp lại vào hàng chờ. Xin chú ý màn hình gọi số.")
        else:
            headline, detail = _l("Đang chờ đến lượt"), _l("Xin chú ý màn hình và loa gọi số.")
        return {"kind": "waiting", "headline": str(headline), "detail": str(detail)}
    if view.status == TicketStatus.CALLED:
        return {
            "kind": "called",
            "headline": str(_l("Mời Ông/Bà đến quầy số %(n)s", n=counter)),
            "detail": str(_l("Đã đến lượt của Ông/Bà.")),
        }
    if view.status == TicketStatus.SERVING:
        return {
            "kind": "serving",
            "headline": str(_l("Đang được phục vụ tại quầy số %(n)s", n=counter)),
            "detail": "",
        }
    if view.status == TicketStatus.FINISHED:
        return {
            "kind": "finished",
            "headline": str(_l("Đã hoàn thành")),
            "detail": str(_l("Cảm ơn Ông/Bà đã đến Trung tâm.")),
        }
    ended = {
        TicketStatus.NO_SHOW: (
            _l("Số đã hết lượt do vắng mặt"),
            _l("Nếu còn cần giải quyết, xin Ông/Bà lấy số mới tại ki-ốt."),
        ),
        TicketStatus.CANCELLED: (_l("Số đã được hủy"), None),
        TicketStatus.EXPIRED: (
            _l("Số đã hết hiệu lực"),
            _l("Số thứ tự chỉ có giá trị trong ngày làm việc đã lấy số."),
        ),
    }
    headline, detail = ended.get(view.status, (_l("Không rõ trạng thái"), None))
    return {"kind": "ended", "headline": str(headline), "detail": str(detail or "")}


def ui_font_path(weight: int) -> Path:
    """The bundled Vietnamese font file (Be Vietnam Pro) that screens load from the app."""
    from printer.fonts import font_path

    if weight not in (400, 600, 700, 800):
        raise NotFound(font=weight)
    return font_path(weight)


# --------------------------------------------------------------------------- CLI


def print_test_page(kiosk: str | None = None) -> Any:
    """Print the test page on a kiosk's printer now (synchronously); returns a PrintResult."""
    from printer.backends import print_job
    from printer.receipt import encode_test_page

    cfg = printer_config(_check_kiosk(kiosk))
    data = encode_test_page(
        int(cfg.get("width_px", 576)),
        profile=cfg.get("profile"),
        note=f"Ki-ốt: {kiosk or 'mặc định'}",
    )
    stamp = local(ensure_now(None)).strftime("%Y%m%d-%H%M%S")
    return print_job(cfg, data, job_name=f"test-page-{stamp}")


def printer_statuses() -> list[dict[str, Any]]:
    """Each configured printer's backend and state (online, paper, error) where readable."""
    from printer.backends import read_status

    out: list[dict[str, Any]] = []
    for name in printer_names():
        cfg = printer_config(name)
        if str(cfg.get("backend") or "").lower() in NO_PRINTER_BACKENDS:
            state = {"state": "off", "message": str(_l("Ki-ốt không dùng máy in")), "detail": ""}
        else:
            state = asdict(read_status(cfg))  # never raises: failures come back as a state
        out.append({"kiosk": name, "backend": cfg.get("backend"), "status": state})
    return out
