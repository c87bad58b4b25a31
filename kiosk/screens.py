"""What the kiosk and the status page say and draw: words for a ticket's state, the QR, fonts.

Presentation only: the services return plain data (``motcua.services.kiosk``); this module turns
it into the Vietnamese a citizen reads and the SVG a screen shows.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

from flask_babel import get_translations
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from motcua import i18n
from motcua.errors import NotFound
from motcua.services import kiosk as kiosk_service
from motcua.services.tickets import TicketStatus
from printer.fonts import font_path
from printer.status import MESSAGES as PRINTER_MESSAGES

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


def ngettext_forms(singular: str, plural_: str) -> dict[str, str]:
    """A count's two forms for the page's script, ``{n}`` where the number goes.

    The script picks "one" for 1 and "other" for any other count: right for Vietnamese (one
    form) and English; a language with more forms would need its plural rule in the script.
    """
    translations = get_translations()
    return {
        "one": translations.ungettext(singular, plural_, 1) % {"num": "{n}"},
        "other": translations.ungettext(singular, plural_, 2) % {"num": "{n}"},
    }


def print_error_texts() -> dict[str, str]:
    """What a printer's error codes say in the page's language (job messages are stored in
    Vietnamese: the kiosk shows these instead when the citizen chose another language)."""
    if i18n.current_locale() == i18n.DEFAULT_LOCALE:
        return {}
    return {code: _(text) for code, text in PRINTER_MESSAGES.items()}


def kiosk_texts() -> dict[str, Any]:
    """The words the kiosk's script shows, in the page's language."""
    return {
        "waiting": _("Đang chờ"),
        "people": ngettext_forms("người", "người"),
        # Predicted waits are ranges (5–10 minutes) or "under 5 minutes": plural in English.
        "eta": _("Chờ {low}–{high} phút"),  # one line on a tile: the range says "about"
        "eta_short": _("Chờ dưới {n} phút"),
        "no_wait": _("Không phải chờ"),
        "ahead": ngettext_forms("Trước Ông/Bà còn %(num)s người", "Trước Ông/Bà còn %(num)s người"),
        "ahead_none": _("Ông/Bà là người tiếp theo"),
        "ahead_eta": _("dự kiến chờ khoảng {low}–{high} phút"),
        "ahead_eta_short": _("dự kiến chờ dưới {n} phút"),
        "counters": _("Quầy phục vụ: {list}"),
        "area": _("Lĩnh vực: {name}"),
        "priority": _("Ưu tiên: {label}"),
        "printing": _("Đang in vé…"),
        "printed": _("Vui lòng nhận vé ở khe máy in bên dưới"),
        "reprinting": _("Đang in lại vé…"),
        "failed": _("Không in được vé"),
        "failed_help": _(
            "Xin Ông/Bà ghi nhớ số hoặc chụp ảnh mã QR trên màn hình. Cán bộ đã được báo để hỗ trợ."
        ),
        "failed_help_ask": _(
            "Xin Ông/Bà ghi nhớ số hoặc chụp ảnh mã QR trên màn hình và báo cán bộ tại quầy."
        ),
        "sent": _(
            "Đã gửi vé tới máy in – vui lòng nhận vé ở khe bên dưới; nếu không có vé, "
            "xin ghi nhớ số trên màn hình"
        ),
        "off": _("Ki-ốt này không có máy in: xin Ông/Bà ghi nhớ số hoặc chụp ảnh mã QR."),
        "countdown": ngettext_forms(
            "Tự động trở về trang đầu sau %(num)s giây", "Tự động trở về trang đầu sau %(num)s giây"
        ),
        "closed_title": _("Ngoài giờ làm việc"),
        "offline_title": _("Không kết nối được máy chủ"),
        "offline_text": _(
            "Ki-ốt tạm thời không lấy được số. Xin Ông/Bà chờ trong giây lát rồi bấm “Thử lại”, "
            "hoặc báo cán bộ hướng dẫn."
        ),
        "error_title": _("Chưa lấy được số"),
        "server_error_text": _(
            "Hệ thống đang gặp trục trặc. Xin Ông/Bà bấm “Thử lại”; nếu vẫn không được, "
            "xin báo cán bộ hướng dẫn."
        ),
        "refused_text": _("Xin Ông/Bà báo cán bộ hướng dẫn để được hỗ trợ."),
        "hours": _("Giờ làm việc"),
        "appt_title": _("Chưa xác nhận được lịch hẹn"),
        "appt_normal": _("Lấy số thường: {name}"),
        "appt_empty": _("Xin nhập mã lịch hẹn."),
        "print_errors": print_error_texts(),
    }


def status_texts() -> dict[str, Any]:
    """The words the status page's script shows, in the page's language."""
    return {
        "wait_range": _("{low}–{high} phút"),
        "wait_short": _("dưới {n} phút"),
        "live": _("Trang tự cập nhật khi có thay đổi"),
        "offline": _("Đang mất kết nối – trang sẽ tự thử lại"),
        "called_title": _(
            "ĐẾN LƯỢT: %(code)s – mời đến quầy %(counter)s", code="{code}", counter="{counter}"
        ),
    }


def kiosk_home(kiosk: str | None, site_code: str | None = None) -> dict[str, Any]:
    """The kiosk's start screen (``kiosk_service.kiosk_home``) of a site, area names and
    priority categories in the page's language where they are motcua's defaults."""
    state = kiosk_service.kiosk_home(kiosk=kiosk, site_code=site_code)
    if i18n.current_locale() == i18n.DEFAULT_LOCALE:
        return state
    return {
        **state,
        "services": [{**s, "name": i18n.data_text(s["name"])} for s in state["services"]],
        "priority_categories": [
            {**c, "label": i18n.data_text(c["label"])} for c in state["priority_categories"]
        ],
    }


def _localized(ticket: Mapping[str, Any]) -> dict[str, Any]:
    """A ticket's area name and priority label in the page's language (defaults only)."""
    return {
        **ticket,
        "area_name": i18n.data_text(ticket.get("area_name")),
        "priority_label": i18n.data_text(ticket.get("priority_label")),
    }


def public_ticket(token: str) -> dict[str, Any]:
    """A ticket's public status with the words the page shows (``display``)."""
    ticket = kiosk_service.public_ticket(token)
    return {**_localized(ticket), "display": status_display(ticket)}


def ticket_snapshot(token: str) -> dict[str, Any]:
    """A status page's snapshot (ticket with its words, and the site ``seq``)."""
    snapshot = kiosk_service.ticket_snapshot(token)
    ticket = snapshot["ticket"]
    return {**snapshot, "ticket": {**_localized(ticket), "display": status_display(ticket)}}


def with_qr(answer: dict[str, Any]) -> dict[str, Any]:
    """An issue answer with the QR of its status address drawn as SVG (``qr_svg``)."""
    from printer.svg import qr_svg  # the QR encoder loads on the first tap, not at start

    ticket = _localized(answer["ticket"])
    return {**answer, "ticket": ticket, "qr_svg": qr_svg(ticket["status_url"])}


def ui_font_path(weight: int) -> Path:
    """The bundled Vietnamese font file (Be Vietnam Pro) that screens load from the app."""
    if weight not in UI_FONT_WEIGHTS:
        raise NotFound(font=weight)
    return font_path(weight)
