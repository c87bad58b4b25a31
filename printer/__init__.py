"""Queue-ticket printing: pure receipt layout, 1-bit raster rendering, backends, job protocol.

Pure library code: nothing here imports Flask or the rest of the project. The names below load
on first use (PEP 562): importing ``printer.backends`` alone (the admin form, the device checks)
must not pull in the raster encoder and python-escpos, which take most of a second.
"""

from __future__ import annotations

import importlib
from typing import Any

_EXPORTS = {
    "PrinterStatus": "printer.backends",
    "PrintResult": "printer.backends",
    "print_job": "printer.backends",
    "read_status": "printer.backends",
    "encode_raster": "printer.raster",
    "WIDTH_58MM": "printer.receipt",
    "WIDTH_80MM": "printer.receipt",
    "Receipt": "printer.receipt",
    "encode_receipt": "printer.receipt",
    "encode_test_page": "printer.receipt",
    "render_receipt": "printer.receipt",
    "render_test_page": "printer.receipt",
}

__all__ = sorted(_EXPORTS)


def __getattr__(name: str) -> Any:
    """Load an exported name from its module on first use."""
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module 'printer' has no attribute {name!r}")
    return getattr(importlib.import_module(module), name)
