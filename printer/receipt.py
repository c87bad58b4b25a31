"""The queue ticket: plain data in, a 1-bit image and ESC/POS bytes out."""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass, fields
from datetime import datetime
from zoneinfo import ZoneInfo

from PIL import Image, ImageFont

from printer.fonts import load_font
from printer.raster import (
    Canvas,
    encode_raster,
    fit_module,
    line_width,
    qr_modules,
    scale_modules,
)
from printer.status import N_

logger = logging.getLogger(__name__)

LOCAL_TZ = ZoneInfo("Asia/Ho_Chi_Minh")
WIDTH_80MM = 576
WIDTH_58MM = 384


DEFAULT_HALL_NAME = "TRUNG TÂM PHỤC VỤ HÀNH CHÍNH CÔNG"
DEFAULT_FOOTER = N_("Cảm ơn Quý khách!")
QR_CAPTION = N_("Quét mã để xem lượt chờ và đánh giá")
QR_QUIET_MODULES = 4
QR_MIN_MODULE = 4  # dots: 0.5 mm at 203 dpi
QR_MIN_QUIET_MODULES = 2

# One render at a time: Pillow's FreeType fonts and the word caches are shared between
# threads (a web server renders tickets from several), and a render takes a few ms.
_RENDER_LOCK = threading.Lock()

TEST_PAGE_QR = "MOTCUA-PRINTER-TEST"
VIETNAMESE_UPPER = "A Ă Â B C D Đ E Ê G H I K L M N O Ô Ơ P Q R S T U Ư V X Y"
VIETNAMESE_LOWER = "a ă â b c d đ e ê g h i k l m n o ô ơ p q r s t u ư v x y"
# Each vowel with its five tones; groups are kept whole on the test page's lines.
VIETNAMESE_TONES = (
    "à á ả ã ạ",
    "ằ ắ ẳ ẵ ặ",
    "ầ ấ ẩ ẫ ậ",
    "è é ẻ ẽ ẹ",
    "ề ế ể ễ ệ",
    "ì í ỉ ĩ ị",
    "ò ó ỏ õ ọ",
    "ồ ố ổ ỗ ộ",
    "ờ ớ ở ỡ ợ",
    "ù ú ủ ũ ụ",
    "ừ ứ ử ữ ự",
    "ỳ ý ỷ ỹ ỵ",
    "Ầ Ấ Ẩ Ẫ Ậ",
    "Ằ Ắ Ẳ Ẵ Ặ",
    "Ề Ế Ể Ễ Ệ",
    "Ồ Ố Ổ Ỗ Ộ",
    "Ờ Ớ Ở Ỡ Ợ",
    "Ừ Ứ Ử Ữ Ự",
)


@dataclass(frozen=True)
class ReceiptWords:
    """The ticket's fixed words, Vietnamese by default; ``{…}`` marks where data goes.

    The caller passes a translation (the kiosk's language); this module knows no catalogue.
    """

    number: str = N_("SỐ THỨ TỰ")
    priority: str = N_("ƯU TIÊN – {label}")
    area: str = N_("Lĩnh vực: {name}")
    counters: str = N_("Quầy phục vụ: {list}")
    waiting: str = N_("Số người chờ trước Ông/Bà: {n}")
    issued: str = N_("Thời gian in vé: {time}")
    qr_caption: str = QR_CAPTION
    reprint: str = N_("IN LẠI")

    def translated(self, translate: Callable[[str], str]) -> ReceiptWords:
        """The same words passed through ``translate`` (a catalogue's gettext)."""
        return ReceiptWords(**{f.name: translate(getattr(self, f.name)) for f in fields(self)})


@dataclass(frozen=True)
class Receipt:
    """Everything printed on one queue ticket; no personal data."""

    hall_name: str
    unit_name: str | None
    code: str
    area_name: str
    counters: list[str]
    waiting: int
    issued_at: datetime
    status_url: str
    footer: str = DEFAULT_FOOTER
    priority_label: str | None = None
    reprint: bool = False
    words: ReceiptWords = ReceiptWords()
    wait_text: str | None = None  # the predicted wait, in words ("Dự kiến chờ: 10–15 phút")

    def __post_init__(self) -> None:
        """Reject data that would print a wrong ticket."""
        if self.issued_at.tzinfo is None or self.issued_at.utcoffset() is None:
            raise ValueError("issued_at must be timezone-aware")
        if not self.code.strip():
            raise ValueError("code must not be empty")
        if self.waiting < 0:
            raise ValueError("waiting must be >= 0")
        if not self.status_url:
            raise ValueError("status_url must not be empty")

    @property
    def issued_local(self) -> str:
        """Return the issue time in Asia/Ho_Chi_Minh as dd/mm/YYYY HH:MM:SS."""
        return self.issued_at.astimezone(LOCAL_TZ).strftime("%d/%m/%Y %H:%M:%S")


@dataclass(frozen=True)
class _Style:
    """Sizes in dots for one paper width."""

    margin: int
    heading: int
    label: int
    code: int
    body: int
    caption: int
    qr_module: int
    gap: int

    @classmethod
    def for_width(cls, width_px: int) -> _Style:
        # Text shrinks less than the paper: a 58 mm ticket wraps more rather than going tiny.
        text_scale = min(1.0, (width_px / WIDTH_80MM) ** 0.5)
        return cls(
            margin=max(4, width_px // 72),
            heading=round(25 * text_scale),
            label=round(26 * text_scale),
            code=round(160 * width_px / WIDTH_80MM),
            body=round(25 * text_scale),
            caption=round(21 * text_scale),
            qr_module=4,
            gap=round(12 * text_scale),
        )


def _code_font(code: str, style: _Style, max_width: int) -> ImageFont.FreeTypeFont:
    """Return the largest ExtraBold font (<= style.code) at which `code` fits on one line."""
    size = style.code
    font = load_font(size, 800)
    length = font.getlength(code)
    if length > max_width:
        size = max(12, int(size * max_width / length))
        font = load_font(size, 800)
        while size > 12 and font.getlength(code) > max_width:
            size -= 2
            font = load_font(size, 800)
    return font


def _qr(canvas: Canvas, data: str, module: int) -> None:
    """Draw a centred QR with its quiet zone of blank rows above and below."""
    symbol = qr_modules(data)
    quiet = QR_QUIET_MODULES
    fitted = fit_module(symbol.width, module, canvas.text_width, quiet)
    if fitted < min(module, QR_MIN_MODULE):
        # A long URL on 58 mm: the paper's own margins can stand in for part of the quiet
        # zone at the sides; modules under 4 dots (0.5 mm) read badly from worn heads.
        quiet = QR_MIN_QUIET_MODULES
        fitted = fit_module(symbol.width, module, canvas.text_width, quiet)
    canvas.space(quiet * fitted)
    canvas.image_centered(scale_modules(symbol, fitted))
    canvas.space(quiet * fitted)


def render_receipt(receipt: Receipt, width_px: int = WIDTH_80MM) -> Image.Image:
    """Render the ticket as a 1-bit image exactly `width_px` dots wide (576 = 80 mm)."""
    with _RENDER_LOCK:
        return _render_receipt(receipt, width_px)


def _render_receipt(receipt: Receipt, width_px: int) -> Image.Image:
    style = _Style.for_width(width_px)
    canvas = Canvas(width_px, style.margin)
    heading = load_font(style.heading, 700)
    label = load_font(style.label, 600)
    body = load_font(style.body, 500)
    body_bold = load_font(style.body, 600)
    caption = load_font(style.caption, 500)

    words = receipt.words
    if receipt.reprint:
        canvas.boxed_text(words.reprint, label, border=3)
        canvas.space(style.gap)
    canvas.text(receipt.hall_name.upper(), heading, line_gap=2)
    if receipt.unit_name:
        canvas.space(2)
        canvas.text(receipt.unit_name.upper(), heading, line_gap=2)
    canvas.space(style.gap)
    canvas.rule(thickness=2, dash=6)
    canvas.space(style.gap)
    canvas.text(words.number, label)
    canvas.space(style.gap + 4)
    canvas.big_text(receipt.code, _code_font(receipt.code, style, canvas.text_width))
    canvas.space(style.gap + 6)
    if receipt.priority_label:
        canvas.text(
            _fill(words.priority, label=receipt.priority_label), label, inverted=True, pad=6
        )
        canvas.space(style.gap)
    canvas.text(_fill(words.area, name=receipt.area_name), body_bold, line_gap=2)
    canvas.space(style.gap // 2)
    if receipt.counters:
        canvas.text(_fill(words.counters, list=", ".join(receipt.counters)), body)
        canvas.space(style.gap // 2)
    canvas.text(_fill(words.waiting, n=str(receipt.waiting)), body)
    canvas.space(style.gap // 2)
    if receipt.wait_text:
        canvas.text(receipt.wait_text, body)
        canvas.space(style.gap // 2)
    canvas.text(_fill(words.issued, time=receipt.issued_local), body)

    _qr(canvas, receipt.status_url, style.qr_module)
    canvas.text(words.qr_caption, caption)
    if receipt.footer.strip():
        canvas.space(style.gap)
        canvas.text(receipt.footer, body_bold)
    return canvas.finish(bottom_margin=2)


def _fill(template: str, **values: str) -> str:
    """Put data into a word template ("Lĩnh vực: {name}"); braces in the data stay as they are."""
    out = template
    for key, value in values.items():
        out = out.replace("{" + key + "}", value)
    return out


def encode_receipt(
    receipt: Receipt,
    width_px: int = WIDTH_80MM,
    profile: str | None = None,
    cut: bool = True,
) -> bytes:
    """Render the ticket and encode it as ESC/POS raster bytes (python-escpos profile name)."""
    return encode_raster(render_receipt(receipt, width_px), profile=profile, cut=cut)


def render_test_page(width_px: int = WIDTH_80MM, note: str | None = None) -> Image.Image:
    """Render a printer test page: full-width frame, Vietnamese letters with tones, a QR."""
    with _RENDER_LOCK:
        return _render_test_page(width_px, note)


def _render_test_page(width_px: int, note: str | None) -> Image.Image:
    style = _Style.for_width(width_px)
    canvas = Canvas(width_px, style.margin)
    heading = load_font(style.heading, 700)
    body = load_font(style.body, 500)
    caption = load_font(style.caption, 500)
    mm = round(width_px / 8)  # 203 dpi is 8 dots per mm

    canvas.rule(thickness=3)
    canvas.space(style.gap)
    canvas.text("KIỂM TRA MÁY IN", heading)
    canvas.text(f"Khổ in: {mm} mm – {width_px} điểm", body)
    canvas.space(style.gap)
    canvas.text(VIETNAMESE_UPPER, body)
    canvas.text(VIETNAMESE_LOWER, body)
    line = ""
    for group in VIETNAMESE_TONES:
        candidate = f"{line} | {group}" if line else group
        if line and line_width(candidate, caption) > canvas.text_width:
            canvas.text(line, caption)
            candidate = group
        line = candidate
    canvas.text(line, caption)
    canvas.space(style.gap)
    canvas.text("Xin mời công dân có số thứ tự A012 đến quầy số 2", body)
    if note:
        canvas.text(note, caption)
    _qr(canvas, TEST_PAGE_QR, style.qr_module)
    canvas.text("Khung phải đủ hai cạnh trái và phải", caption)
    canvas.space(style.gap)
    canvas.rule(thickness=3)
    image = canvas.finish()
    # Edge marks down both sides show at a glance whether the printer prints the full width.
    for x in (0, width_px - 3):
        image.paste(0, (x, 0, x + 3, image.height))
    return image


def encode_test_page(
    width_px: int = WIDTH_80MM,
    profile: str | None = None,
    cut: bool = True,
    note: str | None = None,
) -> bytes:
    """Encode the printer test page as ESC/POS raster bytes."""
    return encode_raster(render_test_page(width_px, note), profile=profile, cut=cut)
