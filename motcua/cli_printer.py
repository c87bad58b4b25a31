"""``motcua printer test|status``: check the kiosks' ticket printers from a shell."""

from __future__ import annotations

import click
from flask.cli import with_appcontext

# States in which a kiosk still works: printable (printer.backends.PRINTABLE_STATES) or no printer.
READY_STATES = ("online", "paper_near_end", "unknown", "off")


@click.group("printer")
def printer_group() -> None:
    """Kiosk ticket printers: print a test page, show each printer's state."""


@printer_group.command("test")
@click.option("--kiosk", default=None, help="Kiosk name (PRINTERS key); default: PRINTER")
@with_appcontext
def printer_test(kiosk: str | None) -> None:
    """Print a test page (Vietnamese letters, a QR, full-width frame) on a kiosk's printer."""
    from motcua.errors import DomainError
    from motcua.services import print_jobs

    try:
        result = print_jobs.print_test_page(kiosk)
    except DomainError as exc:
        raise click.ClickException(str(exc.message)) from exc
    config = print_jobs.printer_config(kiosk)
    backend = config.get("backend")
    # Where it really went: the file backend reports the folder it wrote to.
    written = result.status.detail if result.status is not None else ""
    where = written if backend == "file" else config.get("host", "")
    name = kiosk or "mặc định"
    if not result.ok:
        raise click.ClickException(f"Máy in {name}: {result.message} ({result.error_code})")
    if result.confirmed:
        click.echo(f"Đã in trang thử trên máy in {name} ({backend} {where}).")
    else:  # the printer cannot confirm: the page went out, nothing more is known
        click.echo(f"Đã gửi trang thử tới máy in {name} ({backend} {where}); máy không xác nhận.")


@printer_group.command("status")
@with_appcontext
def printer_status() -> None:
    """Show each configured printer's state; exit 1 when one cannot print."""
    from motcua.services import print_jobs

    rows = print_jobs.printer_statuses()
    failing = 0
    for row in rows:
        status = row["status"]
        state = status.get("state", "error")
        failing += state not in READY_STATES
        message = status.get("message") or status.get("error", "")
        detail = f" ({status['detail']})" if status.get("detail") else ""
        click.echo(
            f"{row['kiosk'] or '(mặc định)':<16} {row['backend']:<8} {state:<15} {message}{detail}"
        )
    if failing:
        raise SystemExit(1)
