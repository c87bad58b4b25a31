"""Queue-ticket printing: pure receipt layout, 1-bit raster rendering, backends, print spool.

Pure library code: nothing here imports Flask or the rest of the project.
"""

from printer.backends import PrinterStatus, PrintResult, print_job, read_status
from printer.raster import encode_raster
from printer.receipt import (
    WIDTH_58MM,
    WIDTH_80MM,
    Receipt,
    encode_receipt,
    encode_test_page,
    render_receipt,
    render_test_page,
)
from printer.spool import PrintSpool

__all__ = [
    "WIDTH_58MM",
    "WIDTH_80MM",
    "PrintResult",
    "PrintSpool",
    "PrinterStatus",
    "Receipt",
    "encode_raster",
    "encode_receipt",
    "encode_test_page",
    "print_job",
    "read_status",
    "render_receipt",
    "render_test_page",
]
