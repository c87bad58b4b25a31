"""1-bit raster layout (a top-down canvas) and its tight ESC/POS raster encoding."""

from __future__ import annotations

import logging
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache

import qrcode
from escpos.printer import Dummy
from PIL import Image, ImageChops, ImageDraw, ImageFont
from qrcode.constants import ERROR_CORRECT_M

logger = logging.getLogger(__name__)

WHITE = 1
BLACK = 0

# Letters with the tallest stacked marks and the deepest descenders, so that every line of one
# font gets the same height whatever its content.
_METRICS_SAMPLE = "ẤẦẨẪẬỖỸÝỴgjpqyỵ"
_DASHES = {"-", "–", "—"}

# A blank run this tall or taller ends a raster band; shorter ones (the gap between a letter and
# its tone mark) stay inside the band. Two lines of one paragraph are two bands: each is cropped
# to its own ink (a band costs 8 bytes of header, 4 more for a new left margin).
_MIN_BAND_GAP = 2

# python-escpos splits images taller than this into several raster commands; so do we.
FRAGMENT_HEIGHT = 960
_INVERT = bytes(255 - value for value in range(256))

# QR symbols come from zxing-cpp's C++ encoder when it is installed (~0.3 ms, mask chosen by
# the ISO 18004 penalty rules). The pure-Python fallback, qrcode, costs ~9 ms with the same
# mask selection: most of a ticket's time budget, but correct.
try:
    from zxingcpp import BarcodeFormat as _ZxingFormat
    from zxingcpp import create_barcode as _zxing_create
except ImportError:  # zxing-cpp missing, or a version (< 2.3) without the writer API
    _zxing_create = None  # type: ignore[assignment]


@dataclass(frozen=True)
class Band:
    """A run of rows that holds ink (top, bottom exclusive), inked from byte `left_bytes` to
    byte `width_bytes` (exclusive) of each row."""

    top: int
    bottom: int
    width_bytes: int
    left_bytes: int = 0


class Canvas:
    """A white 1-bit canvas of fixed width on which blocks are stacked from the top down."""

    def __init__(self, width: int, margin: int, initial_height: int = 1600) -> None:
        """Create a canvas `width` dots wide with `margin` dots kept free on both sides."""
        if width <= 0 or width % 8:
            raise ValueError(f"width must be a positive multiple of 8 dots, got {width}")
        self.width = width
        self.margin = margin
        self.y = 0
        self.image = Image.new("1", (width, initial_height), WHITE)
        self._draw = ImageDraw.Draw(self.image)
        self._draw.fontmode = "1"

    @property
    def text_width(self) -> int:
        """Return the width available to text between the margins."""
        return self.width - 2 * self.margin

    def _ensure(self, height: int) -> None:
        if self.y + height <= self.image.height:
            return
        grown = Image.new("1", (self.width, max(self.image.height * 2, self.y + height)), WHITE)
        grown.paste(self.image, (0, 0))
        self.image = grown
        self._draw = ImageDraw.Draw(self.image)
        self._draw.fontmode = "1"

    def space(self, dots: int) -> None:
        """Leave `dots` blank rows."""
        self._ensure(dots)
        self.y += dots

    def text(
        self,
        text: str,
        font: ImageFont.FreeTypeFont,
        *,
        line_gap: int = 4,
        inverted: bool = False,
        pad: int = 0,
    ) -> tuple[str, ...]:
        """Draw `text` centred, wrapped at word boundaries; return the lines drawn."""
        lines = wrap_text(text, font, self.text_width - 2 * pad)
        if not lines:
            return lines
        top, bottom = line_metrics(font)
        line_height = bottom - top
        block = len(lines) * line_height + (len(lines) - 1) * line_gap + 2 * pad
        self._ensure(block)
        if inverted:
            # As wide as the text and its padding, not the paper: black dots are bytes too.
            inked = max(render_line(line, font)[2] for line in lines) + 2 * (pad + 8)
            left = max(self.margin, (self.width - inked) // 2)
            self._draw.rectangle(
                (left, self.y, self.width - left - 1, self.y + block - 1),
                fill=BLACK,
            )
        y = self.y + pad
        ink = WHITE if inverted else BLACK
        for line in lines:
            mask, origin, width = render_line(line, font)
            x = (self.width - width) // 2 - origin
            self.image.paste(ink, (x, y, x + mask.width, y + mask.height), mask)
            y += line_height + line_gap
        self.y += block
        return lines

    def big_text(self, text: str, font: ImageFont.FreeTypeFont) -> None:
        """Draw one line of large text centred, as tall as its own ink (no line spacing)."""
        mask, _, _ = compose_glyphs(unicodedata.normalize("NFC", text), font)
        box = mask.getbbox()
        if box is None:
            return
        ink = mask.crop(box)
        self._ensure(ink.height)
        x = (self.width - ink.width) // 2
        self.image.paste(BLACK, (x, self.y, x + ink.width, self.y + ink.height), ink)
        self.y += ink.height

    def boxed_text(self, text: str, font: ImageFont.FreeTypeFont, border: int = 3) -> None:
        """Draw `text` centred inside a rectangular frame `border` dots thick."""
        pad = border + 6
        start = self.y
        lines = self.text(text, font, pad=pad)
        width = max(round(font.getlength(line)) for line in lines) + 2 * (pad + 8)
        left = (self.width - width) // 2
        self._draw.rectangle(
            (left, start, left + width - 1, self.y - 1), outline=BLACK, width=border
        )

    def image_centered(self, image: Image.Image) -> None:
        """Paste a 1-bit image centred horizontally at the current row."""
        self._ensure(image.height)
        self.image.paste(image, ((self.width - image.width) // 2, self.y))
        self.y += image.height

    def rule(self, thickness: int = 2, dash: int = 0) -> None:
        """Draw a horizontal rule between the margins, dashed when `dash` > 0."""
        self._ensure(thickness)
        right = self.width - self.margin - 1
        if dash <= 0:
            self._draw.rectangle((self.margin, self.y, right, self.y + thickness - 1), fill=BLACK)
        else:
            for x in range(self.margin, right, 2 * dash):
                x1 = min(x + dash - 1, right)
                self._draw.rectangle((x, self.y, x1, self.y + thickness - 1), fill=BLACK)
        self.y += thickness

    def finish(self, bottom_margin: int = 0) -> Image.Image:
        """Return the canvas cropped to what was drawn (plus `bottom_margin` blank rows)."""
        self.space(bottom_margin)
        return self.image.crop((0, 0, self.width, self.y))


@lru_cache(maxsize=64)
def line_metrics(font: ImageFont.FreeTypeFont) -> tuple[int, int]:
    """Return (top, bottom) of a line relative to the baseline, covering Vietnamese marks."""
    _, top, _, bottom = font.getbbox(_METRICS_SAMPLE, anchor="ls")
    return int(top), int(bottom)


@lru_cache(maxsize=4096)
def render_word(word: str, font: ImageFont.FreeTypeFont) -> tuple[Image.Image, int, int]:
    """Return a word's ink as a 1-bit mask one line high, the x of its origin, its advance.

    Lines are composed from cached words: FreeType's hinted monochrome rendering of Be Vietnam
    Pro costs ~70 us a glyph, and nearly every word of a ticket repeats from one to the next.
    Words with digits (codes, times, dates) change from ticket to ticket: they are composed
    from cached glyphs instead.
    """
    if len(word) > 1 and any(char.isdigit() for char in word):
        return compose_glyphs(word, font)
    top, bottom = line_metrics(font)
    box = font.getbbox(word, anchor="ls")
    left, right = int(box[0]), int(box[2])
    origin = max(0, -left)
    advance = round(font.getlength(word))
    width = max(1, origin + max(right, advance))
    mask = Image.new("1", (width, bottom - top), 0)
    draw = ImageDraw.Draw(mask)
    draw.fontmode = "1"
    draw.text((origin, -top), word, font=font, anchor="ls", fill=1)
    return mask, origin, advance


def compose_glyphs(text: str, font: ImageFont.FreeTypeFont) -> tuple[Image.Image, int, int]:
    """Like `render_word`, built from cached single glyphs placed where the shaper puts them.

    Each glyph's pen position is the advance of the text before it (kerning included), so
    the result matches a whole-string rendering within a dot.
    """
    top, bottom = line_metrics(font)
    placed = [
        (render_word(char, font), round(font.getlength(text[:i]))) for i, char in enumerate(text)
    ]
    origin = max(max(0, glyph_origin - pen) for (_, glyph_origin, _), pen in placed)
    advance = round(font.getlength(text))
    right = max(origin + pen - glyph_origin + mask.width for (mask, glyph_origin, _), pen in placed)
    composed = Image.new("1", (max(right, origin + advance, 1), bottom - top), 0)
    for (mask, glyph_origin, _), pen in placed:
        left = origin + pen - glyph_origin
        composed.paste(1, (left, 0, left + mask.width, mask.height), mask)
    return composed, origin, advance


@lru_cache(maxsize=256)
def render_line(line: str, font: ImageFont.FreeTypeFont) -> tuple[Image.Image, int, int]:
    """Return a line's ink as a 1-bit mask composed from its words, its origin x and width.

    Cached too: the heading, the labels and the footer are the same line on every ticket.
    """
    words = [render_word(word, font) for word in line.split(" ")]
    space = _space(font)
    origin = max(word_origin - offset for (_, word_origin, _), offset in _offsets(words, space))
    width = line_width(line, font)
    right = max(
        offset - word_origin + mask.width
        for (mask, word_origin, _), offset in _offsets(words, space)
    )
    line_mask = Image.new("1", (origin + max(right, width), words[0][0].height), 0)
    for (mask, word_origin, _), offset in _offsets(words, space):
        left = origin + offset - word_origin
        line_mask.paste(1, (left, 0, left + mask.width, mask.height), mask)
    return line_mask, origin, width


def _offsets(
    words: list[tuple[Image.Image, int, int]], space: int
) -> list[tuple[tuple[Image.Image, int, int], int]]:
    """Pair each rendered word with the x of its origin along the line."""
    pairs = []
    x = 0
    for word in words:
        pairs.append((word, x))
        x += word[2] + space
    return pairs


@lru_cache(maxsize=64)
def _space(font: ImageFont.FreeTypeFont) -> int:
    return round(font.getlength(" "))


def line_width(line: str, font: ImageFont.FreeTypeFont) -> int:
    """Return the width in dots of a line as `Canvas.text` composes it (word by word)."""
    words = line.split(" ")
    return sum(render_word(word, font)[2] for word in words) + _space(font) * (len(words) - 1)


@lru_cache(maxsize=1024)
def wrap_text(text: str, font: ImageFont.FreeTypeFont, max_width: int) -> tuple[str, ...]:
    """Split `text` into as few lines as fit in `max_width` dots, balanced in length."""
    lines = _wrap_greedy(text, font, max_width)
    if len(lines) < 2:
        return lines
    # Narrow the measure as long as the line count holds, so that a heading breaks as
    # "TRUNG TÂM PHỤC VỤ / HÀNH CHÍNH CÔNG" rather than leaving one word alone on a line.
    low, high = max_width // len(lines), max_width
    best = lines
    while high - low > 2:
        middle = (low + high) // 2
        candidate = _wrap_greedy(text, font, middle)
        if len(candidate) == len(lines):
            best, high = candidate, middle
        else:
            low = middle
    return best


def _wrap_greedy(text: str, font: ImageFont.FreeTypeFont, max_width: int) -> tuple[str, ...]:
    text = unicodedata.normalize("NFC", " ".join(text.split()))
    if not text:
        return ()
    # A dash stays at the end of the line before it, never at the start of a line.
    words: list[str] = []
    for word in text.split(" "):
        if word in _DASHES and words:
            words[-1] = f"{words[-1]} {word}"
        else:
            words.append(word)
    lines: list[str] = []
    current = ""
    for word in words:
        candidate = f"{current} {word}" if current else word
        if line_width(candidate, font) <= max_width:
            current = candidate
            continue
        if current:
            lines.append(current)
        current = ""
        # A single word wider than the line (a long code or address) is broken by characters.
        for char in word:
            if current and line_width(current + char, font) > max_width:
                lines.append(current)
                current = ""
            current += char
    if current:
        lines.append(current)
    return tuple(lines)


def qr_modules(data: str) -> Image.Image:
    """Return the QR symbol (level M) for `data` at one dot per module, without quiet zone."""
    return _qr_modules_zxing(data) if _zxing_create is not None else _qr_modules_qrcode(data)


def fit_module(modules: int, module: int, max_width: int, quiet: int = 4) -> int:
    """Return `module`, or less if `modules` plus `quiet` on each side exceed `max_width` dots."""
    return max(1, min(module, max_width // (modules + 2 * quiet)))


def qr_image(data: str, module: int, max_width: int | None = None, quiet: int = 4) -> Image.Image:
    """Return a 1-bit QR symbol for `data` without quiet zone, `module` dots a module.

    With `max_width`, modules shrink so that the symbol plus `quiet` modules on each side fit.
    """
    symbol = qr_modules(data)
    if max_width is not None:
        module = fit_module(symbol.width, module, max_width, quiet)
    return scale_modules(symbol, module)


def scale_modules(symbol: Image.Image, module: int) -> Image.Image:
    """Return a one-dot-per-module symbol enlarged to `module` dots a module."""
    size = (symbol.width * module, symbol.height * module)
    return symbol.resize(size, Image.Resampling.NEAREST)


def _qr_modules_zxing(data: str) -> Image.Image:
    barcode = _zxing_create(data, _ZxingFormat.QRCode, ec_level="M")
    modules = barcode.to_image(scale=1, add_quiet_zones=False)
    height, width = modules.shape
    return Image.frombytes("L", (width, height), bytes(memoryview(modules))).convert("1")  # type: ignore[arg-type]


def _qr_modules_qrcode(data: str) -> Image.Image:
    code = qrcode.QRCode(error_correction=ERROR_CORRECT_M, border=0, box_size=1)
    code.add_data(data)
    code.make(fit=True)
    matrix = code.get_matrix()
    size = len(matrix)
    pixels = bytes(BLACK if dark else 255 for row in matrix for dark in row)
    return Image.frombytes("L", (size, size), pixels).convert("1")


def find_bands(image: Image.Image, min_gap: int = _MIN_BAND_GAP) -> list[Band]:
    """Split a 1-bit image into bands of inked rows separated by >= `min_gap` blank rows."""
    if image.mode != "1":
        raise ValueError("expected a 1-bit image")
    # Ink as non-zero pixels. Greyscale first: ImageChops.invert mangles 1-bit images, and
    # packing 1-bit pixels to bytes is the slowest step of all.
    ink = ImageChops.invert(image.convert("L"))
    _, inked_rows = ink.getprojection()
    spans: list[tuple[int, int]] = []
    top = -1
    last_ink = -1
    for y, inked in enumerate(inked_rows):
        if not inked:
            continue
        if top < 0:
            top = y
        elif y - last_ink > min_gap:
            spans.append((top, last_ink + 1))
            top = y
        last_ink = y
    if top >= 0:
        spans.append((top, last_ink + 1))
    bands = []
    for top, bottom in spans:
        box = ink.crop((0, top, image.width, bottom)).getbbox()
        left, right = (box[0], box[2]) if box else (0, 8)
        bands.append(Band(top, bottom, (right + 7) // 8, left // 8))
    return bands


def new_dummy(width_px: int, profile: str | None) -> Dummy:
    """Return a python-escpos Dummy printer for `profile` that accepts images `width_px` wide."""
    printer = Dummy(profile=profile)
    data = dict(printer.profile.profile_data)
    media = dict(data.get("media") or {})
    width = dict(media.get("width") or {})
    known = width.get("pixels")
    if isinstance(known, int) and width_px > known:
        raise ValueError(
            f"image is {width_px} dots wide but profile {profile!r} prints {known} dots"
        )
    # A profile without a known width makes python-escpos print() a warning on every image.
    width["pixels"] = width_px if not isinstance(known, int) else known
    media["width"] = width
    data["media"] = media
    printer.profile.profile_data = data
    return printer


def raster_block(image: Image.Image, fragment_height: int = FRAGMENT_HEIGHT) -> bytes:
    """Return `GS v 0` raster commands for a 1-bit image (1 bit = black dot), split if tall.

    Byte for byte what python-escpos `image()` sends for the same image (the tests check it),
    without its per-call conversions through RGBA and greyscale, which cost ~0.4 ms a band.
    """
    if image.mode != "1":
        image = image.convert("1")
    if image.width % 8:
        padded = Image.new("1", ((image.width + 7) // 8 * 8, image.height), WHITE)
        padded.paste(image, (0, 0))
        image = padded
    width_bytes = image.width // 8
    rows = image.tobytes().translate(_INVERT)
    blocks: list[bytes] = []
    for top in range(0, image.height, fragment_height):
        height = min(fragment_height, image.height - top)
        blocks.append(
            b"\x1dv0\x00"
            + width_bytes.to_bytes(2, "little")
            + height.to_bytes(2, "little")
            + rows[top * width_bytes : (top + height) * width_bytes]
        )
    return b"".join(blocks)


@lru_cache(maxsize=256)
def _blank_rows(height: int) -> bytes:
    return raster_block(Image.new("1", (8, height), WHITE))


def left_margin(dots: int) -> bytes:
    """``GS L nL nH``: the left margin, in the printer's horizontal motion units (dots on
    203 dpi ESC/POS printers, whose default unit is their dot pitch)."""
    return b"\x1dL" + dots.to_bytes(2, "little")


def encode_raster(
    image: Image.Image,
    profile: str | None = None,
    cut: bool = True,
    bands: Sequence[Band] | None = None,
    trim_left: bool = True,
) -> bytes:
    """Encode a 1-bit image as ESC/POS: init, `GS v 0` bands cropped to their ink, cut.

    With `trim_left`, each band also loses its blank left part and is placed by a `GS L` left
    margin (4 bytes) instead. A printer that ignores `GS L` prints every band flush left:
    the ticket looks left-aligned, nothing is cut off and the QR still reads. Without it, the
    left whitespace stays inside the image (the right side is always cropped).
    """
    printer = new_dummy(image.width, profile)
    printer.hw("INIT")
    head = printer.output
    printer.clear()
    if cut:
        printer.cut()
    tail = printer.output

    if bands is None:
        bands = find_bands(image)
    body: list[bytes] = []
    previous_bottom = bands[0].top if bands else 0
    margin = 0
    for band in bands:
        gap = band.top - previous_bottom
        if gap > 0:
            # Blank rows as a one-byte-wide raster: dot-exact on every printer, unlike ESC J,
            # whose motion unit differs between models.
            body.append(_blank_rows(gap))
        left = band.left_bytes if trim_left else 0
        if left * 8 != margin:
            margin = left * 8
            body.append(left_margin(margin))
        box = (left * 8, band.top, band.width_bytes * 8, band.bottom)
        body.append(raster_block(image.crop(box)))
        previous_bottom = band.bottom
    if margin:
        body.append(left_margin(0))
    return bytes(head + b"".join(body) + tail)


def decode_raster(data: bytes, width_px: int | None = None) -> Image.Image | None:
    """Rebuild the printed picture from the `GS v 0` blocks of ESC/POS bytes (for previews).

    `GS L` left margins place the blocks; other commands are skipped byte by byte; blocks are
    stacked top-down, as the printer does. Returns None when the bytes hold no raster image.
    """
    blocks: list[tuple[int, Image.Image]] = []
    margin = 0
    i = 0
    while i < len(data):
        if data.startswith(b"\x1dL", i) and i + 4 <= len(data):
            margin = int.from_bytes(data[i + 2 : i + 4], "little")
            i += 4
            continue
        if data.startswith(b"\x1dv0", i) and i + 8 <= len(data):
            width_bytes = int.from_bytes(data[i + 4 : i + 6], "little")
            height = int.from_bytes(data[i + 6 : i + 8], "little")
            end = i + 8 + width_bytes * height
            if width_bytes and height and end <= len(data):
                payload = data[i + 8 : end].translate(_INVERT)
                blocks.append((margin, Image.frombytes("1", (width_bytes * 8, height), payload)))
                i = end
                continue
        i += 1
    if not blocks:
        return None
    width = max([width_px or 0, *(left + block.width for left, block in blocks)])
    page = Image.new("1", (width, sum(block.height for _, block in blocks)), WHITE)
    y = 0
    for left, block in blocks:
        page.paste(block, (left, y))
        y += block.height
    return page
