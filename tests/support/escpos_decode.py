"""A small, strict ESC/POS decoder for tests: text through `ESC t` code pages, `GS v 0` images.

It is written independently of `printer/` so that it can judge that package's output: every
command it does not know raises, so a stray byte in a job fails the test that decodes it.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from PIL import Image

ESC, GS, DLE = 0x1B, 0x1D, 0x10

# ESC t n -> Python codec, per Epson's code page table (TCVN-3, pages 30/31, has no codec).
CODE_PAGES: dict[int, str] = {
    0: "cp437",
    2: "cp850",
    3: "cp860",
    4: "cp863",
    5: "cp865",
    16: "cp1252",
    17: "cp866",
    18: "cp852",
    19: "cp858",
    45: "cp1250",
    46: "cp1251",
    47: "cp1253",
    48: "cp1254",
    49: "cp1255",
    50: "cp1256",
    51: "cp1257",
    52: "cp1258",
}

# ESC commands with a fixed number of argument bytes.
_ESC_ARGS = {
    ord("@"): 0,
    ord("2"): 0,
    ord("3"): 1,
    ord("!"): 1,
    ord("-"): 1,
    ord("E"): 1,
    ord("G"): 1,
    ord("M"): 1,
    ord("R"): 1,
    ord("a"): 1,
    ord("d"): 1,
    ord("J"): 1,
    ord("t"): 1,
    ord("{"): 1,
    ord("p"): 3,
}
_GS_ARGS = {ord("!"): 1, ord("B"): 1, ord("b"): 1, ord("W"): 2, ord("H"): 1, ord("r"): 1}


class DecodeError(ValueError):
    """The bytes hold a command this decoder does not know."""


@dataclass
class Decoded:
    """What a printer would do with the bytes: raster blocks, text, and the commands seen."""

    images: list[Image.Image] = field(default_factory=list)
    offsets: list[int] = field(default_factory=list)  # each image's left margin (GS L), dots
    text: str = ""
    commands: list[str] = field(default_factory=list)
    code_pages: list[int] = field(default_factory=list)
    cuts: int = 0
    status_queries: list[int] = field(default_factory=list)

    def page(self, width: int | None = None) -> Image.Image:
        """Stack the raster blocks top-down at their left margins, as paper would show them."""
        if not self.images:
            raise DecodeError("no raster image in the bytes")
        offsets = self.offsets or [0] * len(self.images)
        page_width = max(
            [width or 0, *(x + image.width for x, image in zip(offsets, self.images, strict=True))]
        )
        page = Image.new("1", (page_width, sum(image.height for image in self.images)), 1)
        y = 0
        for x, image in zip(offsets, self.images, strict=True):
            page.paste(image, (x, y))
            y += image.height
        return page


def decode(data: bytes) -> Decoded:
    """Walk ESC/POS bytes and return the images, text and commands they hold."""
    out = Decoded()
    code_page = 0
    margin = 0
    pending = bytearray()
    chunks: list[str] = []

    def flush_text() -> None:
        if pending:
            codec = CODE_PAGES.get(code_page)
            chunks.append(pending.decode(codec, "replace") if codec else "\ufffd" * len(pending))
            pending.clear()

    i = 0
    n = len(data)
    while i < n:
        byte = data[i]
        if byte == ESC:
            if i + 1 >= n:
                raise DecodeError(f"truncated ESC at {i}")
            command = data[i + 1]
            if command not in _ESC_ARGS:
                raise DecodeError(f"unknown ESC 0x{command:02x} at {i}")
            args = data[i + 2 : i + 2 + _ESC_ARGS[command]]
            if command == ord("t"):
                flush_text()
                code_page = args[0]
                out.code_pages.append(code_page)
            elif command == ord("@"):
                flush_text()
                code_page = 0
                margin = 0
            out.commands.append(f"ESC {chr(command)}")
            i += 2 + _ESC_ARGS[command]
        elif byte == GS:
            if i + 1 >= n:
                raise DecodeError(f"truncated GS at {i}")
            command = data[i + 1]
            if command == ord("v"):
                if data[i + 2] != ord("0") or i + 8 > n:
                    raise DecodeError(f"bad GS v at {i}")
                width_bytes = data[i + 4] | data[i + 5] << 8
                height = data[i + 6] | data[i + 7] << 8
                end = i + 8 + width_bytes * height
                if end > n:
                    raise DecodeError(f"raster block at {i} runs past the end")
                # ESC/POS: bit 1 = black dot. Pillow "1": bit 1 = white. Flip every bit.
                raw = bytes(255 - b for b in data[i + 8 : end])
                out.images.append(Image.frombytes("1", (width_bytes * 8, height), raw))
                out.offsets.append(margin)
                out.commands.append("GS v 0")
                i = end
            elif command == ord("V"):
                mode = data[i + 2]
                out.cuts += 1
                out.commands.append("GS V")
                i += 4 if mode in (65, 66) else 3
            elif command == ord("L"):
                if i + 4 > n:
                    raise DecodeError(f"truncated GS L at {i}")
                margin = data[i + 2] | data[i + 3] << 8
                out.commands.append("GS L")
                i += 4
            elif command == ord("(") and data[i + 2 : i + 3] == b"H":
                size = data[i + 3] | data[i + 4] << 8  # GS ( H: process ID request
                out.commands.append("GS ( H")
                i += 5 + size
            elif command in _GS_ARGS:
                out.commands.append(f"GS {chr(command)}")
                i += 2 + _GS_ARGS[command]
            else:
                raise DecodeError(f"unknown GS 0x{command:02x} at {i}")
        elif byte == DLE:
            if data[i + 1 : i + 2] != b"\x04":
                raise DecodeError(f"unknown DLE at {i}")
            out.status_queries.append(data[i + 2])
            out.commands.append("DLE EOT")
            i += 3
        elif byte == 0x0A or byte >= 0x20:
            pending.append(byte)
            i += 1
        elif byte in (0x0D, 0x09):
            i += 1
        else:
            raise DecodeError(f"unexpected control byte 0x{byte:02x} at {i}")
    flush_text()
    out.text = "".join(chunks)
    return out
