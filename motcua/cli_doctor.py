"""``motcua doctor``: check this machine before the hall opens (exit 1 on any failure)."""

from __future__ import annotations

import click
from flask import current_app
from flask.cli import with_appcontext

COLOURS = {"OK": "green", "WARN": "yellow", "FAIL": "red"}


@click.command("doctor")
@click.option(
    "--no-ntp", is_flag=True, help="Do not ask timedatectl whether the clock is synchronised"
)
@with_appcontext
def doctor_command(no_ntp: bool) -> None:
    """Check the database, printers, font, voice, clock, secret key and message queue."""
    from motcua.services import doctor

    app = current_app._get_current_object()  # type: ignore[attr-defined]
    results = doctor.run_checks(app, timedatectl=None if no_ntp else "timedatectl")
    for result in results:
        tag = click.style(f"[{result.level.value:<4}]", fg=COLOURS[result.level.value], bold=True)
        click.echo(f"{tag} {result.name}: {result.message}")
        if result.fix and result.level is not doctor.Level.OK:
            click.echo(f"       → {result.fix}")
    level = doctor.worst(results)
    fails = sum(r.level is doctor.Level.FAIL for r in results)
    warns = sum(r.level is doctor.Level.WARN for r in results)
    if level is doctor.Level.FAIL:
        click.echo(f"Có {fails} lỗi cần sửa và {warns} cảnh báo.")
        raise SystemExit(1)
    if level is doctor.Level.WARN:
        click.echo(f"Sẵn sàng, có {warns} cảnh báo nên xem.")
    else:
        click.echo("Mọi thứ sẵn sàng.")
