"""Locate and load a TrueType font that covers every Vietnamese letter."""

from __future__ import annotations

import logging
from functools import lru_cache
from pathlib import Path

from PIL import ImageFont

logger = logging.getLogger(__name__)

FAMILY = "Be Vietnam Pro"

# Weights we use, with the system fonts to fall back to when the PyPI font package is missing.
# DejaVu and Noto both cover Vietnamese (Debian: fonts-dejavu-core, fonts-noto-core).
_FALLBACKS: dict[int, tuple[str, ...]] = {
    400: (
        "/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf",
        "/usr/share/fonts/truetype/noto/NotoSans-Regular.ttf",
    ),
    500: (
        "/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf",
        "/usr/share/fonts/truetype/noto/NotoSans-Medium.ttf",
        "/usr/share/fonts/truetype/noto/NotoSans-Regular.ttf",
    ),
    600: (
        "/usr/share/fonts/truetype/dejavu/DejaVuSans-Bold.ttf",
        "/usr/share/fonts/truetype/noto/NotoSans-SemiBold.ttf",
        "/usr/share/fonts/truetype/noto/NotoSans-Bold.ttf",
    ),
    700: (
        "/usr/share/fonts/truetype/dejavu/DejaVuSans-Bold.ttf",
        "/usr/share/fonts/truetype/noto/NotoSans-Bold.ttf",
    ),
    800: (
        "/usr/share/fonts/truetype/dejavu/DejaVuSans-Bold.ttf",
        "/usr/share/fonts/truetype/noto/NotoSans-ExtraBold.ttf",
        "/usr/share/fonts/truetype/noto/NotoSans-Bold.ttf",
    ),
}


class FontNotFoundError(RuntimeError):
    """No font covering Vietnamese could be found."""


@lru_cache(maxsize=16)
def font_path(weight: int = 400) -> Path:
    """Return the path of a Vietnamese-capable TTF of a weight (400, 500, 600, 700, 800)."""
    try:
        import fontpkg

        return Path(fontpkg.path(FAMILY, weight=weight, nearest=True))
    except ImportError:
        logger.warning("fontpkg-be-vietnam-pro is not installed; using a system font")
    except Exception:  # fontpkg raises its own errors when the family is not registered
        logger.warning("Be Vietnam Pro not found through fontpkg; using a system font")
    for candidate in _FALLBACKS.get(weight, _FALLBACKS[400]):
        path = Path(candidate)
        if path.is_file():
            return path
    raise FontNotFoundError(
        "No Vietnamese font found: install fontpkg-be-vietnam-pro (or fonts-dejavu-core)"
    )


@lru_cache(maxsize=64)
def load_font(size: int, weight: int = 400) -> ImageFont.FreeTypeFont:
    """Return a cached FreeType font of the given pixel size and weight."""
    return ImageFont.truetype(str(font_path(weight)), size)
