"""What the kiosk and the status page say and draw: words for a ticket's state, the QR, fonts.

Presentation only: the services return plain data (``motcua.services.kiosk``); this module turns
it into the Vietnamese a citizen reads and the SVG a screen shows.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

from flask_babel import lazy_gettext as _l

from motcua.errors import NotFound
from motcua.services import kiosk as kiosk_service
from motcua.services.tickets import TicketStatus
from printer.fonts import font_path

UI_FONT_WEIGHTS = (400, 600, 700, 800)


def status_display(ticket: Mapping[str, Any]) -> dict[str, str]:
    """The status page's headline and detail for a ticket (its public dict), in Vietnamese."""
    status, counter = ticket.get("status"), ticket.get("counter_number")
    if status == TicketStatus.WAITING:
        if ticket.get("misses"):
            headline = _l("Ông/Bà đã vắng mặt khi được gọi")
            detail = _l("Số của Ông/Bà đã được xếp lại vào hàng chờ. Xin chú ý màn hình gọi số.")
        else:
            headline, detail = _l("Đang chờ đến lượt"), _l("Xin chú ý màn hình và loa gọi số.")
        return {"kind": "waiting", "headline": str(headline), "detail": str(detail)}
    if status == TicketStatus.CALLED:
        return {
            "kind": "called",
            "headline": str(_l("Mời Ông/Bà đến quầy số %(n)s", n=counter)),
            "detail": str(_l("Đã đến lượt của Ông/Bà.")),
        }
    if status == TicketStatus.SERVING:
        return {
            "kind": "serving",
            "headline": str(_l("Đang được phục vụ tại quầy số %(n)s", n=counter)),
            "detail": "",
        }
    if status == TicketStatus.FINISHED:
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
    unknown: tuple[Any, Any] = (_l("Không rõ trạng thái"), None)
    headline, detail = (
        ended.get(TicketStatus(status), unknown) if status in set(TicketStatus) else unknown
    )
    return {"kind": "ended", "headline": str(headline), "detail": str(detail or "")}


def public_ticket(token: str) -> dict[str, Any]:
    """A ticket's public status with the words the page shows (``display``)."""
    ticket = kiosk_service.public_ticket(token)
    return {**ticket, "display": status_display(ticket)}


def ticket_snapshot(token: str) -> dict[str, Any]:
    """A status page's snapshot (ticket with its words, and the site ``seq``)."""
    snapshot = kiosk_service.ticket_snapshot(token)
    ticket = snapshot["ticket"]
    return {**snapshot, "ticket": {**ticket, "display": status_display(ticket)}}


def with_qr(answer: dict[str, Any]) -> dict[str, Any]:
    """An issue answer with the QR of its status address drawn as SVG (``qr_svg``)."""
    from printer.svg import qr_svg  # the QR encoder loads on the first tap, not at start

    return {**answer, "qr_svg": qr_svg(answer["ticket"]["status_url"])}


def ui_font_path(weight: int) -> Path:
    """The bundled Vietnamese font file (Be Vietnam Pro) that screens load from the app."""
    if weight not in UI_FONT_WEIGHTS:
        raise NotFound(font=weight)
    return font_path(weight)
