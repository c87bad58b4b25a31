"""The ticket's QR as an inline SVG: the very symbol the paper ticket carries, for screens."""

from __future__ import annotations

from printer.raster import qr_image

QUIET_MODULES = 4  # the QR standard's quiet zone


def qr_svg(data: str, quiet: int = QUIET_MODULES) -> str:
    """The QR of ``data`` as an SVG string, one path of dark runs (crisp at any size)."""
    modules = qr_image(data, 1)  # 1 pixel per module, no quiet zone; 0 = dark
    width = modules.width
    pixels = modules.convert("L").tobytes()  # one byte a module: 0 dark, 255 light
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
            runs.append(f"M{start + quiet},{y + quiet}h{x - start}v1h-{x - start}z")
    size = width + 2 * quiet
    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {size} {size}" '
        f'shape-rendering="crispEdges" role="img" aria-label="QR">'
        f'<rect width="{size}" height="{size}" fill="#fff"/>'
        f'<path d="{"".join(runs)}" fill="#000"/></svg>'
    )
