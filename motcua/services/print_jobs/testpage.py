"""The printer test page, printed at once by hand (CLI, admin), under the printer's lease."""

from __future__ import annotations

import time
from typing import Any

from flask import current_app

from motcua.services.print_jobs import jobs, printers, worker
from motcua.timeutil import ensure_now, local
from printer.backends import PACE_KEY, PrintResult, job_budget, print_job
from printer.status import MESSAGES

LEASE_WAIT_S = 10.0


def print_test_page(kiosk: str | None = None) -> PrintResult:
    """Print the test page on a kiosk's printer now (synchronously); returns a PrintResult."""
    from printer.receipt import encode_test_page

    app = current_app._get_current_object()  # type: ignore[attr-defined]
    kiosk = printers.check_kiosk_name(kiosk)
    cfg = printers.printer_config(kiosk)
    data = encode_test_page(
        int(cfg.get("width_px", 576)),
        profile=cfg.get("profile"),
        note=f"Ki-ốt: {kiosk or 'mặc định'}",
    )
    stamp = local(ensure_now(None)).strftime("%Y%m%d-%H%M%S")
    key, holder = printers.printer_key(kiosk, app), worker.holder_id()
    deadline = time.monotonic() + LEASE_WAIT_S
    while (pace := jobs.acquire_lease(key, holder, job_budget(cfg, len(data)))) is None:
        if time.monotonic() > deadline:  # a worker is printing a long queue on it
            return PrintResult(False, f"test-page-{stamp}", "busy", MESSAGES["busy"])
        time.sleep(0.2)
    try:
        config: dict[str, Any] = {**cfg, PACE_KEY: pace}
        return print_job(config, data, job_name=f"test-page-{stamp}")
    finally:
        jobs.release_lease(key, holder)
