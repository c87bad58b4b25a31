"""Kiosk printers: each kiosk's printer config, its key, the receipt's data, checks by hand."""

from __future__ import annotations

import datetime as dt
import logging
import re
import threading
from dataclasses import asdict
from pathlib import Path
from typing import Any

from flask import Flask, current_app
from flask_babel import gettext
from flask_babel import lazy_gettext as _l

from motcua import i18n
from motcua.errors import InvalidKiosk
from motcua.services.settings import effective, effective_config
from motcua.services.tickets import TicketView
from motcua.timeutil import local
from printer.backends import printer_off, read_status

log = logging.getLogger(__name__)

KIOSK_NAME_RE = re.compile(r"^[A-Za-z0-9_.-]{1,64}$")
DEFAULT_PRINTER = ""  # the printer key of PRINTER (kiosks without one of their own)


def check_kiosk_name(kiosk: str | None) -> str | None:
    """The kiosk's name if it is a short slug (None for none); else InvalidKiosk."""
    if kiosk is None or kiosk == "":
        return None
    if not KIOSK_NAME_RE.match(kiosk):
        raise InvalidKiosk(kiosk=kiosk[:64])
    return kiosk


def status_url(token: str) -> str:
    """The public address printed in the QR (same rule as motcua.api.views.status_url); in
    the language being rendered (an English ticket's QR opens the English page)."""
    base = str(current_app.config.get("PUBLIC_BASE_URL") or "").rstrip("/")
    lang = i18n.lang_param()
    return f"{base}/t/{token}" + (f"?lang={lang}" if lang else "")


def printer_key(kiosk: str | None, app: Flask | None = None) -> str:
    """The key a kiosk's printer is claimed by: the kiosk's name when it has a printer of its
    own (PRINTERS), else the default printer's."""
    app = app or current_app._get_current_object()  # type: ignore[attr-defined]
    if kiosk and kiosk in (effective_config(app).get("PRINTERS") or {}):
        return kiosk
    return DEFAULT_PRINTER


def printer_config(kiosk: str | None = None, app: Flask | None = None) -> dict[str, Any]:
    """The kiosk's printer settings: PRINTERS[kiosk], else PRINTER (file folder defaulted)."""
    app = app or current_app._get_current_object()  # type: ignore[attr-defined]
    config = effective_config(app)  # paired kiosks' own printers are in PRINTERS
    per_kiosk = config.get("PRINTERS") or {}
    cfg = dict(per_kiosk.get(kiosk) or config.get("PRINTER") or {"backend": "file"})
    cfg.setdefault("backend", "file")
    if cfg["backend"] == "file" and not (cfg.get("path") or cfg.get("folder")):
        cfg["path"] = str(Path(app.instance_path) / "prints")
    return cfg


def printer_names(app: Flask | None = None) -> list[str | None]:
    """Every configured kiosk printer (None = the default PRINTER)."""
    app = app or current_app._get_current_object()  # type: ignore[attr-defined]
    return [None, *sorted((effective_config(app).get("PRINTERS") or {}).keys())]


def build_receipt(
    view: TicketView, hall_name: str, unit_name: str | None, *, reprint: bool = False
) -> Any:
    """The paper ticket's plain data, from a ticket view and its site's names; its words in
    the language being rendered (the kiosk's, for a citizen who chose English)."""
    from printer.receipt import DEFAULT_FOOTER, Receipt, ReceiptWords

    return Receipt(
        hall_name=str(effective("TICKET_HALL_NAME") or hall_name),
        unit_name=unit_name or None,
        code=view.code,
        area_name=i18n.data_text(view.area_name) or view.area_name,
        counters=[str(n) for n in view.serving_counters],
        waiting=max(0, view.people_ahead or 0),
        issued_at=local(view.issued_at),
        status_url=status_url(view.token),
        # The default footer is in the catalogue; a hall's own footer prints as written.
        footer=i18n.data_text(str(effective("TICKET_FOOTER") or DEFAULT_FOOTER)) or "",
        priority_label=i18n.data_text(view.priority_label),
        reprint=reprint,
        words=ReceiptWords().translated(gettext),
        wait_text=wait_words(view),
    )


def wait_words(view: TicketView) -> str | None:
    """The predicted wait as printed: "Dự kiến chờ: khoảng 10–15 phút" (or "dưới 5 phút")."""
    if view.wait_high_minutes is None:
        return None
    if view.wait_low_minutes:
        text = gettext(
            "Dự kiến chờ: khoảng %(low)s–%(high)s phút",
            low=view.wait_low_minutes,
            high=view.wait_high_minutes,
        )
    else:
        text = gettext("Dự kiến chờ: dưới %(n)s phút", n=view.wait_high_minutes)
    return str(text)


def encode_ticket(receipt: Any, cfg: dict[str, Any]) -> bytes:
    """The ESC/POS bytes of a receipt for one printer's width, profile, cut and margins."""
    from printer.raster import encode_raster
    from printer.receipt import render_receipt

    image = render_receipt(receipt, int(cfg.get("width_px", 576)))
    return encode_raster(
        image,
        profile=cfg.get("profile"),
        cut=bool(cfg.get("cut", True)),
        trim_left=bool(cfg.get("trim_left", True)),
    )


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


def printer_state(cfg: dict[str, Any]) -> dict[str, Any]:
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
