"""The ticket, judged from the real ESC/POS bytes decoded back into an image."""

from __future__ import annotations

import dataclasses
from datetime import UTC, datetime, timedelta, timezone

import pytest
import zxingcpp
from escpos.printer import Dummy
from PIL import Image, ImageChops, ImageDraw

from printer.fonts import load_font
from printer.raster import find_bands, raster_block, wrap_text
from printer.receipt import (
    QR_QUIET_MODULES,
    TEST_PAGE_QR,
    VIETNAMESE_LOWER,
    VIETNAMESE_TONES,
    VIETNAMESE_UPPER,
    WIDTH_58MM,
    WIDTH_80MM,
    Receipt,
    encode_receipt,
    encode_test_page,
    render_receipt,
    render_test_page,
)
from tests.support.escpos_decode import decode

# 08:15:03 on 21/11/2026 in Hà Nội.
ISSUED = datetime(2026, 11, 21, 1, 15, 3, tzinfo=UTC)
LONG_AREA = (
    "Hỗ trợ dịch vụ công trực tuyến – Trả kết quả, đăng ký biến động đất đai, "
    "chứng thực bản sao từ bản chính và xác nhận tình trạng hôn nhân"
)


def make_receipt(**overrides: object) -> Receipt:
    """A typical ticket; keyword arguments replace fields."""
    fields: dict[str, object] = {
        "hall_name": "Trung tâm Phục vụ hành chính công",
        "unit_name": "Phường Ba Đình",
        "code": "A012",
        "area_name": "Tư pháp – Hộ tịch",
        "counters": ["01", "02"],
        "waiting": 5,
        "issued_at": ISSUED,
        "status_url": "https://hall.example.vn/t/8f3a2c1d9b7e",
    }
    fields.update(overrides)
    return Receipt(**fields)  # type: ignore[arg-type]


def ink_rows(image: Image.Image) -> tuple[int, int]:
    """Return the first and last+1 rows holding ink."""
    box = ImageChops.invert(image.convert("L")).getbbox()
    assert box is not None, "the image is blank"
    return box[1], box[3]


def printed(receipt: Receipt, width: int = WIDTH_80MM) -> Image.Image:
    """Encode the ticket and decode the bytes back into the paper image."""
    decoded = decode(encode_receipt(receipt, width))
    assert decoded.cuts == 1
    return decoded.page(width)


def same(a: Image.Image, b: Image.Image) -> bool:
    """Return True when two 1-bit images are pixel-identical."""
    return (
        a.size == b.size and ImageChops.difference(a.convert("L"), b.convert("L")).getbbox() is None
    )


def diff_rows(a: Image.Image, b: Image.Image) -> tuple[int, int] | None:
    """Return the rows (top, bottom) where two same-width images differ, None if identical."""
    height = max(a.height, b.height)
    pad_a = Image.new("L", (a.width, height), 255)
    pad_a.paste(a.convert("L"), (0, 0))
    pad_b = Image.new("L", (b.width, height), 255)
    pad_b.paste(b.convert("L"), (0, 0))
    box = ImageChops.difference(pad_a, pad_b).getbbox()
    return None if box is None else (box[1], box[3])


@pytest.mark.parametrize("width", [WIDTH_80MM, WIDTH_58MM])
def test_decoded_bytes_reproduce_the_rendered_ticket(width: int) -> None:
    """The printer receives exactly the rendered ticket, only blank rows trimmed."""
    receipt = make_receipt()
    rendered = render_receipt(receipt, width)
    assert rendered.mode == "1"
    assert rendered.width == width
    top, bottom = ink_rows(rendered)
    paper = printed(receipt, width)
    assert paper.width == width
    assert same(paper, rendered.crop((0, top, width, bottom)))


@pytest.mark.parametrize("width", [WIDTH_80MM, WIDTH_58MM])
def test_qr_on_paper_reads_back_with_a_full_quiet_zone(width: int) -> None:
    """The QR decoded from the printed bytes is the status URL, with >= 4 white modules around."""
    receipt = make_receipt(status_url="https://hall.example.vn/t/01JD8X9ZK3QW")
    paper = printed(receipt, width)
    results = zxingcpp.read_barcodes(paper.convert("L"))
    assert [r.text for r in results] == [receipt.status_url]
    qr = results[0]
    assert qr.format == zxingcpp.BarcodeFormat.QRCode
    modules = 17 + 4 * int(qr.extra["Version"])
    left, top = qr.position.top_left.x, qr.position.top_left.y
    right, bottom = qr.position.bottom_right.x, qr.position.bottom_right.y
    module = round((right - left) / modules)
    assert module >= 4  # 0.5 mm: worn thermal heads still make a readable symbol
    quiet = QR_QUIET_MODULES * module
    around = paper.crop((left - quiet, top - quiet, right + quiet + 1, bottom + quiet + 1))
    symbol = Image.new("1", around.size, 1)
    symbol.paste(paper.crop((left, top, right + 1, bottom + 1)), (quiet, quiet))
    assert same(around, symbol), "ink inside the quiet zone"


REAL_URL = "http://192.168.1.10:8000/t/Xk3_pQ7-vW2zAb9cDe0fGh1i"  # a 24-character token


def test_80mm_ticket_is_tight() -> None:
    """Typical 80 mm ticket <= 20 KB; the worst of the usual (priority reprint, the longest
    default area name) <= 26 KB; each band placed by GS L and cropped to its own ink."""
    typical = make_receipt(status_url=REAL_URL)
    data = encode_receipt(typical)
    assert len(data) <= 20 * 1024
    worst = make_receipt(
        status_url=REAL_URL,
        reprint=True,
        priority_label="Người khuyết tật",
        area_name="Hỗ trợ dịch vụ công trực tuyến – Trả kết quả",
    )
    assert len(encode_receipt(worst)) <= 26 * 1024
    decoded = decode(data)
    assert "GS L" in decoded.commands and min(decoded.offsets) == 8  # the paper's margin
    assert all(image.width <= WIDTH_80MM - 8 for image in decoded.images)


def test_the_code_is_printed_large_and_only_it_changes_with_the_code() -> None:
    """Two tickets that differ in code differ only in one tall band: the large code."""
    first = printed(make_receipt(code="A012"))
    second = printed(make_receipt(code="B345"))
    rows = diff_rows(first, second)
    assert rows is not None
    bands = find_bands(first)
    code_band = max(bands, key=lambda band: band.bottom - band.top)
    assert code_band.top <= rows[0] and rows[1] <= code_band.bottom
    # At 203 dpi, 100 dots is 12.5 mm: readable from a few metres.
    assert code_band.bottom - code_band.top >= 100
    ink = ImageChops.invert(
        first.crop((0, code_band.top, first.width, code_band.bottom)).convert("L")
    )
    box = ink.getbbox()
    assert box is not None and box[2] - box[0] > first.width // 2


def glyph_ink(char: str, size: int) -> Image.Image:
    """Return the ink of one ExtraBold character drawn alone, cropped to its bounding box."""
    alone = Image.new("1", (3 * size, 3 * size), 1)
    draw = ImageDraw.Draw(alone)
    draw.fontmode = "1"
    draw.text((size, 2 * size), char, font=load_font(size, 800), anchor="ls", fill=0)
    box = ImageChops.invert(alone.convert("L")).getbbox()
    assert box is not None
    return alone.crop(box)


def glyph_columns(band: Image.Image) -> list[Image.Image]:
    """Split a band of large characters at blank columns; return each character's ink."""
    ink = ImageChops.invert(band.convert("L"))
    inked_columns, _ = ink.getprojection()
    glyphs = []
    start = None
    for x, inked in enumerate([*inked_columns, 0]):
        if inked and start is None:
            start = x
        elif not inked and start is not None:
            box = ink.crop((start, 0, x, band.height)).getbbox()
            assert box is not None
            glyphs.append(band.crop((start, box[1], x, box[3])))
            start = None
    return glyphs


@pytest.mark.parametrize("code", ["A012", "C1024"])
def test_code_band_holds_the_code_glyph_by_glyph(code: str) -> None:
    """The large band shows the code's characters, each the exact ExtraBold glyph, in order."""
    paper = printed(make_receipt(code=code))
    code_band = max(find_bands(paper), key=lambda band: band.bottom - band.top)
    glyphs = glyph_columns(paper.crop((0, code_band.top, paper.width, code_band.bottom)))
    assert len(glyphs) == len(code)
    # The font size is not known here: try each size whose first glyph has the right size.
    sizes = [size for size in range(100, 260) if glyph_ink(code[0], size).size == glyphs[0].size]
    assert any(
        all(same(glyph_ink(char, size), ink) for char, ink in zip(code, glyphs, strict=True))
        for size in sizes
    ), f"the large band is not {code}"


def test_each_line_changes_only_its_own_rows() -> None:
    """Changing the waiting count or the time changes one text line, not the rest."""
    base = printed(make_receipt())
    more = printed(make_receipt(waiting=6))
    later = printed(make_receipt(issued_at=ISSUED + timedelta(seconds=1)))
    waiting_rows = diff_rows(base, more)
    time_rows = diff_rows(base, later)
    assert waiting_rows is not None and time_rows is not None
    line_height = 40  # one 25 px text line with its Vietnamese marks
    assert waiting_rows[1] - waiting_rows[0] <= line_height
    assert time_rows[1] - time_rows[0] <= line_height
    assert waiting_rows[1] <= time_rows[0], "waiting count is printed above the time"


@pytest.mark.parametrize("width", [WIDTH_80MM, WIDTH_58MM])
def test_long_area_names_wrap_and_are_never_cut(width: int) -> None:
    """A long area name adds lines; nothing is dropped and no ink reaches the paper edge."""
    short = render_receipt(make_receipt(), width)
    long = render_receipt(make_receipt(area_name=LONG_AREA), width)
    assert long.width == width
    assert long.height > short.height + 2 * 25
    margin = max(4, width // 72)
    edges = ImageChops.invert(long.convert("L"))
    assert edges.crop((0, 0, margin, long.height)).getbbox() is None
    assert edges.crop((width - margin, 0, width, long.height)).getbbox() is None
    font = load_font(25, 600)
    lines = wrap_text(f"Lĩnh vực: {LONG_AREA}", font, width - 2 * margin)
    assert len(lines) >= 2
    assert " ".join(lines).split() == f"Lĩnh vực: {LONG_AREA}".split()
    assert all(font.getlength(line) <= width - 2 * margin + 2 for line in lines)


def test_a_word_longer_than_the_line_is_broken_not_cut() -> None:
    """A single word wider than the paper is split by characters, keeping every character."""
    font = load_font(25, 400)
    word = "X" * 80
    lines = wrap_text(word, font, 200)
    assert len(lines) > 1
    assert "".join(lines) == word
    assert all(font.getlength(line) <= 200 for line in lines)


def test_a_dash_never_starts_a_line() -> None:
    """In "Tư pháp – Hộ tịch" the dash stays with the word before it."""
    font = load_font(25, 600)
    for width in range(120, 400, 7):
        lines = wrap_text("Lĩnh vực: Tư pháp – Hộ tịch", font, width)
        assert not any(line.startswith("–") for line in lines)


def test_priority_ticket_has_an_inverted_band() -> None:
    """A priority ticket carries a black band as wide as its label; a normal one does not."""

    def longest_black_run(image: Image.Image) -> int:
        """Return the longest run of black pixels in one row."""
        grey = image.convert("L")
        best = 0
        for y in range(0, grey.height, 2):
            run = 0
            for x in range(grey.width):
                run = run + 1 if grey.getpixel((x, y)) == 0 else 0
                best = max(best, run)
        return best

    normal = printed(make_receipt())
    priority = printed(make_receipt(priority_label="Người cao tuổi"))
    # "ƯU TIÊN – Người cao tuổi" is about 300 dots: the band runs past it on both sides.
    assert longest_black_run(priority) >= 340
    assert longest_black_run(normal) < 200
    assert priority.height > normal.height


def test_reprint_is_marked() -> None:
    """A reprint differs from the original only by the mark above the heading."""
    original = printed(make_receipt())
    reprint = printed(make_receipt(reprint=True))
    assert reprint.height > original.height
    shift = reprint.height - original.height
    # Everything below the mark is the original ticket.
    assert same(reprint.crop((0, shift, WIDTH_80MM, reprint.height)), original)


def test_time_is_printed_in_hanoi_time() -> None:
    """issued_at in UTC prints as Asia/Ho_Chi_Minh wall time; naive datetimes are refused."""
    assert make_receipt().issued_local == "21/11/2026 08:15:03"
    tokyo = ISSUED.astimezone(timezone(timedelta(hours=9)))
    assert make_receipt(issued_at=tokyo).issued_local == "21/11/2026 08:15:03"
    with pytest.raises(ValueError):
        make_receipt(issued_at=datetime(2026, 11, 21, 8, 15, 3))


def test_receipt_is_frozen_plain_data() -> None:
    """Receipt is an immutable dataclass."""
    receipt = make_receipt()
    with pytest.raises(dataclasses.FrozenInstanceError):
        receipt.code = "B001"  # type: ignore[misc]
    assert receipt.footer == "Cảm ơn Quý khách!"
    assert receipt.reprint is False


def test_font_has_every_vietnamese_letter() -> None:
    """Each Vietnamese letter has its own glyph (none falls back to the missing-glyph box)."""
    letters = set((VIETNAMESE_UPPER + VIETNAMESE_LOWER + "".join(VIETNAMESE_TONES)).split())
    letters |= {letter.upper() for letter in letters}
    for weight in (400, 500, 600, 700, 800):
        font = load_font(25, weight)
        missing = bytes(font.getmask("\U000f0000"))
        for letter in sorted(letters):
            mask = font.getmask(letter)
            assert mask.getbbox() is not None, letter
            assert bytes(mask) != missing, f"{letter!r} missing at weight {weight}"


def test_test_page_shows_edges_letters_and_a_qr() -> None:
    """The test page marks both paper edges, and its QR reads back from the bytes."""
    for width in (WIDTH_80MM, WIDTH_58MM):
        paper = decode(encode_test_page(width)).page(width)
        assert same(paper, render_test_page(width))
        grey = paper.convert("L")
        assert all(grey.getpixel((0, y)) == 0 for y in range(paper.height))
        assert all(grey.getpixel((width - 1, y)) == 0 for y in range(paper.height))
        assert [r.text for r in zxingcpp.read_barcodes(grey)] == [TEST_PAGE_QR]


def test_raster_block_matches_python_escpos_image() -> None:
    """Our GS v 0 fast path sends the same bytes as python-escpos image() for a band."""
    band = render_receipt(make_receipt()).crop((0, 0, 400, 200))
    printer = Dummy()
    printer.profile.profile_data = {
        **printer.profile.profile_data,
        "media": {"width": {"pixels": 576}},
    }
    printer.image(band)
    assert raster_block(band) == printer.output


def test_profile_width_is_enforced() -> None:
    """A ticket wider than the profile's printable width is refused, a fitting one encodes."""
    with pytest.raises(ValueError):
        encode_receipt(make_receipt(), WIDTH_80MM, profile="TM-T88V")  # 512 dots
    data = encode_receipt(make_receipt(), WIDTH_58MM, profile="NT-5890K")  # 384 dots
    assert decode(data).page(WIDTH_58MM).width == WIDTH_58MM


def test_encoding_writes_nothing_to_stdout(capsys: pytest.CaptureFixture[str]) -> None:
    """python-escpos print()s for profiles without a width; the encoder must not let it."""
    encode_receipt(make_receipt())
    encode_test_page()
    assert capsys.readouterr().out == ""


def test_decoder_follows_code_pages_for_text() -> None:
    """The test decoder reads text through ESC t, as python-escpos' text mode sends it."""
    printer = Dummy()
    printer.text("Xin chào Quý khách\n")
    decoded = decode(printer.output)
    assert decoded.code_pages, "python-escpos selected no code page"
    assert decoded.text == "Xin chào Quý khách\n"


def test_qr_without_zxing_cpp_falls_back_to_qrcode(monkeypatch: pytest.MonkeyPatch) -> None:
    """Without zxing-cpp's writer the pure-Python qrcode path draws a symbol that reads back."""
    import printer.raster

    monkeypatch.setattr(printer.raster, "_zxing_create", None)
    receipt = make_receipt(status_url="https://hall.example.vn/t/fallback-42")
    paper = printed(receipt)
    assert [r.text for r in zxingcpp.read_barcodes(paper.convert("L"))] == [receipt.status_url]


@pytest.mark.parametrize("width", [WIDTH_80MM, WIDTH_58MM])
def test_predicted_wait_is_one_line_of_its_own_that_fits_the_paper(width: int) -> None:
    """The wait range ("Dự kiến chờ: khoảng 10–15 phút") adds one line and fits on one."""
    plain = printed(make_receipt(), width)
    longest = "Dự kiến chờ: khoảng 100–120 phút"
    with_wait = printed(make_receipt(wait_text=longest), width)
    shorter = printed(make_receipt(wait_text="Dự kiến chờ: dưới 5 phút"), width)
    rows = diff_rows(with_wait, shorter)
    assert rows is not None
    line_height = 40  # one 25 px text line with its Vietnamese marks (less on 58 mm)
    assert rows[1] - rows[0] <= line_height, "the wait wraps onto a second line"
    assert 0 < with_wait.height - plain.height <= line_height + 8  # the line and a half gap
    assert with_wait.height == shorter.height


def test_a_long_status_url_still_fits_and_reads_on_58mm() -> None:
    """A long URL makes a bigger symbol; on 58 mm its modules shrink so it fits and reads."""
    url = "https://motcua.phuongbadinh.hanoi.gov.vn/kiosk/ticket/" + "3f9c1a2b7d4e" * 12
    receipt = make_receipt(status_url=url)
    paper = printed(receipt, WIDTH_58MM)
    assert paper.width == WIDTH_58MM
    assert [r.text for r in zxingcpp.read_barcodes(paper.convert("L"))] == [url]


def test_empty_footer_is_left_out() -> None:
    """An empty footer prints nothing instead of a blank line or a crash."""
    with_footer = render_receipt(make_receipt())
    without = render_receipt(make_receipt(footer=""))
    assert without.height < with_footer.height
    assert without.width == WIDTH_80MM
