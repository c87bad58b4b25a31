"""``motcua session …``: plan a Saturday or mobile session, make its kit, open it on a laptop,
log walk-ins, write the records and import them back at the hall."""

from __future__ import annotations

import datetime as dt
import json
import secrets
from pathlib import Path
from typing import Any

import click
from flask import current_app
from flask.cli import with_appcontext

from motcua.errors import DomainError

CONFIG_MARKER = "# Written by `motcua session open`"


def _fail(exc: DomainError) -> click.ClickException:
    details = exc.details or {}
    extra = "".join(f"\n  - {m}" for m in (details.get("errors") or {}).values())
    return click.ClickException(f"{exc.message}{extra}")


def _split(value: str) -> list[str]:
    return [part.strip() for part in (value or "").split(",") if part.strip()]


@click.group("session")
def session_group() -> None:
    """Saturday and mobile sessions ("Ngày thứ 7 vì dân", điểm tiếp nhận, lưu động)."""


@session_group.command("plan")
@click.option(
    "--kind",
    type=click.Choice(["saturday_hall", "reception_point", "mobile"]),
    required=True,
    help="saturday_hall = Thứ Bảy tại Trung tâm; reception_point = điểm tiếp nhận; "
    "mobile = lưu động",
)
@click.option("--place", required=True, help="Địa điểm, ví dụ: Nhà văn hóa thôn Đông")
@click.option("--date", "day", required=True, type=click.DateTime(["%Y-%m-%d", "%d/%m/%Y"]))
@click.option("--hours", default="07:30-11:30", show_default=True, help="Giờ làm việc")
@click.option("--areas", required=True, help="Lĩnh vực (mã hoặc chữ cái), ví dụ: A,B")
@click.option("--officers", required=True, help="Tên đăng nhập cán bộ trực, ví dụ: canbo1,canbo2")
@click.option("--counters", type=int, default=None, help="Số quầy (mặc định: số cán bộ)")
@click.option("--code", default=None, help="Mã phiên (mặc định: tự đặt, ví dụ ld-20261128)")
@click.option("--note", default="", help="Ghi chú")
@click.option("--printer-width", type=int, default=None, help="384 (58 mm) hoặc 576 (80 mm)")
@with_appcontext
def plan_command(
    kind: str,
    place: str,
    day: dt.datetime,
    hours: str,
    areas: str,
    officers: str,
    counters: int | None,
    code: str | None,
    note: str,
    printer_width: int | None,
) -> None:
    """Plan a session (a reception point or mobile session gets a site of its own)."""
    from motcua.services import sessions

    try:
        view = sessions.plan_session(
            kind,
            place,
            day.date(),
            areas=_split(areas),
            officers=_split(officers),
            hours=hours,
            counters=counters,
            code=code,
            note=note,
            printer={"width_px": printer_width} if printer_width else None,
            actor="cli",
        )
    except DomainError as exc:
        raise _fail(exc) from exc
    click.echo(
        f"Đã lập phiên {view.code}: {view.kind_label}, {view.place}, ngày {view.date:%d/%m/%Y}, "
        f"{view.hours}."
    )
    click.echo(f"  Lĩnh vực: {', '.join(view.area_names)}")
    click.echo(f"  Cán bộ trực: {', '.join(view.officer_names)}")
    if view.kind != sessions.SATURDAY_HALL:
        click.echo(f"  Điểm tiếp nhận riêng: {view.site_code}, {view.counters} quầy")
        click.echo(f"Tiếp theo: motcua session kit {view.code}")


@session_group.command("list")
@click.option("--from", "start", type=click.DateTime(["%Y-%m-%d", "%d/%m/%Y"]), default=None)
@click.option("--to", "end", type=click.DateTime(["%Y-%m-%d", "%d/%m/%Y"]), default=None)
@click.option("--json", "as_json", is_flag=True, help="In ra dạng JSON")
@with_appcontext
def list_command(start: dt.datetime | None, end: dt.datetime | None, as_json: bool) -> None:
    """List the planned sessions (newest first)."""
    from motcua.services import sessions

    views = sessions.list_sessions(
        start=start.date() if start else None, end=end.date() if end else None
    )
    if as_json:
        click.echo(json.dumps([v.as_dict() for v in views], ensure_ascii=False, indent=1))
        return
    if not views:
        click.echo("Chưa có phiên nào.")
    for v in views:
        imported = f"đã nhập {v.last_import_at:%d/%m/%Y %H:%M}" if v.last_import_at else ""
        click.echo(
            f"{v.code:<18} {v.date:%d/%m/%Y} {v.kind_label:<22} {v.place}  "
            f"[{', '.join(v.areas)}] bộ cài đặt: {v.kits} {imported}".rstrip()
        )


@session_group.command("kit")
@click.argument("session")
@click.option("-o", "--output", type=click.Path(dir_okay=False, path_type=Path), default=None)
@with_appcontext
def kit_command(session: str, output: Path | None) -> None:
    """Write the session's kit for the laptop (keep it safe: it holds password hashes)."""
    from motcua.services import sessions

    try:
        kit = sessions.make_kit(session, actor="cli")
    except DomainError as exc:
        raise _fail(exc) from exc
    path = output or Path(kit.file_name)
    path.write_bytes(kit.data)
    path.chmod(0o600)
    click.echo(f"Đã ghi bộ cài đặt phiên {kit.session_code} vào {path}")
    click.echo("Chép tệp này sang máy tính xách tay rồi chạy: motcua session open <tệp>")
    click.echo("Lưu ý: tệp chứa mật khẩu đã mã hóa của cán bộ; xóa tệp sau khi cài đặt.")


def _write_config(path: Path, values: dict[str, Any], force: bool) -> None:
    """Write the laptop's config.py (only over one written by this command, unless forced)."""
    if path.exists() and not force and CONFIG_MARKER not in path.read_text(encoding="utf-8"):
        raise click.ClickException(
            f"{path} đã có cấu hình khác. Chạy lại với --force để thay thế, "
            "hoặc --config để ghi vào tệp khác."
        )
    lines = [f"{CONFIG_MARKER} for session {values.get('SESSION_CODE')}.", ""]
    for key, value in values.items():
        lines.append(f"{key} = {value!r}")
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")


@session_group.command("open")
@click.argument("kit", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option(
    "--database",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    help="Tệp SQLite mới cho phiên (mặc định: instance/phien-<mã>.sqlite3)",
)
@click.option(
    "--config",
    "config_path",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    help="Nơi ghi cấu hình (mặc định: instance/config.py)",
)
@click.option("--no-config", is_flag=True, help="Không ghi tệp cấu hình; chỉ in ra")
@click.option("--force", is_flag=True, help="Ghi đè tệp cấu hình đã có")
@click.option(
    "--public-url",
    default=None,
    help="Địa chỉ của máy này trong mạng, in trong mã QR của phiếu "
    "(ví dụ http://192.168.1.20:5000). Mặc định: tìm theo địa chỉ mạng của máy và hỏi lại.",
)
@click.option(
    "--port",
    type=click.IntRange(1, 65535),
    default=5000,
    show_default=True,
    help="Cổng mà `motcua serve` sẽ chạy (dùng cho địa chỉ tìm được)",
)
@click.option("--yes", "-y", is_flag=True, help="Dùng địa chỉ tìm được, không hỏi lại")
@with_appcontext
def open_command(
    kit: Path,
    database: Path | None,
    config_path: Path | None,
    no_config: bool,
    force: bool,
    public_url: str | None,
    port: int,
    yes: bool,
) -> None:
    """On the laptop: install the kit into a fresh SQLite database and configure this machine."""
    from flask_migrate import upgrade

    from motcua import create_app
    from motcua.services import sessions

    data = kit.read_bytes()
    try:
        payload = sessions.read_kit(data)
    except DomainError as exc:
        raise _fail(exc) from exc
    code = payload["session"]["code"]
    instance = Path(current_app.instance_path)
    database = (database or instance / f"phien-{code}.sqlite3").resolve()
    config_path = config_path or instance / "config.py"
    if not no_config and config_path.exists() and not force:
        if CONFIG_MARKER not in config_path.read_text(encoding="utf-8"):
            raise click.ClickException(
                f"{config_path} đã có cấu hình khác. Chạy lại với --force để thay thế, "
                "hoặc --config để ghi vào tệp khác."
            )
    address = _laptop_address(public_url, port, yes)
    uri = f"sqlite:///{database}"
    laptop = create_app(
        {
            "SQLALCHEMY_DATABASE_URI": uri,
            "SECRET_KEY": current_app.config["SECRET_KEY"],
            "PASSWORD_HASH_METHOD": current_app.config.get("PASSWORD_HASH_METHOD"),
        },
        instance_path=instance,
    )
    with laptop.app_context():
        upgrade(directory=laptop.extensions["migrate"].directory)
        try:
            values = sessions.install_kit(data, public_base_url=address)
        except DomainError as exc:
            raise _fail(exc) from exc
        finally:
            from db import db

            db.session.remove()
            db.engine.dispose()
    values = {
        "SQLALCHEMY_DATABASE_URI": uri,
        "SECRET_KEY": secrets.token_urlsafe(32),
        **values,
    }
    info = payload["session"]
    click.echo(f"Đã cài đặt phiên {code} ({info['place']}, ngày {info['date']}) vào {database}.")
    click.echo(f"  Cán bộ đăng nhập được: {', '.join(o['username'] for o in payload['officers'])}")
    click.echo(f"  Mã QR trên phiếu trỏ về máy này: {address}")
    if no_config:
        for key, value in values.items():
            click.echo(f"{key} = {value!r}")
        return
    _write_config(config_path, values, force=True)
    click.echo(f"Đã ghi cấu hình máy vào {config_path}. Chạy: motcua serve")


def _laptop_address(public_url: str | None, port: int, yes: bool) -> str:
    """The laptop's own PUBLIC_BASE_URL: given, or found from its LAN address and confirmed."""
    from motcua.services import lan

    if public_url:
        try:
            return lan.clean_base_url(public_url)
        except DomainError as exc:
            raise _fail(exc) from exc
    host = lan.lan_address()
    found = lan.base_url(host, port) if host else None
    if yes:
        if found is None:
            raise click.ClickException(
                "Không tìm thấy địa chỉ mạng của máy này. Hãy kết nối mạng của điểm tiếp nhận "
                "hoặc ghi rõ địa chỉ bằng --public-url http://<địa chỉ>:<cổng>."
            )
        return found
    if found:
        click.echo(
            f"Điện thoại của công dân sẽ mở phiếu qua địa chỉ {found} (địa chỉ của máy này "
            "trong mạng hiện tại). Nhấn Enter để dùng, hoặc gõ địa chỉ khác."
        )
    else:
        click.echo("Không tìm thấy địa chỉ mạng của máy này: hãy gõ địa chỉ mà điện thoại mở được.")
    while True:
        typed = click.prompt("Địa chỉ in trong mã QR", default=found)
        try:
            return lan.clean_base_url(typed)
        except DomainError as exc:
            click.echo(str(exc.message))


@session_group.command("walkin")
@click.option("--area", required=True, help="Lĩnh vực (mã hoặc chữ cái)")
@click.option("--officer", required=True, help="Tên đăng nhập cán bộ tiếp nhận")
@click.option("--dossier", default=None, help="Mã hồ sơ (nếu có)")
@click.option("--rating", type=int, default=None, help="Mức đánh giá của công dân (3 = cao nhất)")
@click.option("--counter", type=int, default=None, help="Số quầy")
@with_appcontext
def walkin_command(
    area: str, officer: str, dossier: str | None, rating: int | None, counter: int | None
) -> None:
    """Log one served transaction without a ticket (home visits, mobile registration)."""
    from motcua.services import walkin

    try:
        view = walkin.record_walkin(
            area, officer=officer, dossier_code=dossier, rating=rating, counter_number=counter
        )
    except DomainError as exc:
        raise _fail(exc) from exc
    rated = f", đánh giá mức {view.rating}" if view.rating else ""
    click.echo(f"Đã ghi lượt {view.code} ({view.area_name}) do {view.officer} tiếp nhận{rated}.")


@session_group.command("records")
@click.argument("session", required=False)
@click.option("-o", "--output", type=click.Path(dir_okay=False, path_type=Path), default=None)
@with_appcontext
def records_command(session: str | None, output: Path | None) -> None:
    """On the laptop: write the signed bundle of the session's tickets, events and ratings."""
    from motcua.services import session_records

    try:
        bundle = session_records.export_records(session)
    except DomainError as exc:
        raise _fail(exc) from exc
    path = output or Path(bundle.file_name)
    path.write_bytes(bundle.data)
    c = bundle.counts
    click.echo(
        f"Đã ghi dữ liệu phiên {bundle.session_code} vào {path}: {c['tickets']} số thứ tự, "
        f"{c['events']} sự kiện, {c['ratings']} đánh giá."
    )
    click.echo("Mang tệp về Trung tâm và chạy: motcua session import <tệp>")


@session_group.command("import")
@click.argument("bundle", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--dry-run", is_flag=True, help="Chỉ kiểm tra, không ghi gì")
@with_appcontext
def import_command(bundle: Path, dry_run: bool) -> None:
    """At the hall: merge a session's bundle (twice is harmless; conflicts are listed)."""
    from motcua.services import session_records

    try:
        result = session_records.import_records(bundle.read_bytes(), dry_run=dry_run, actor="cli")
    except DomainError as exc:
        raise _fail(exc) from exc
    a, u = result.added, result.unchanged
    verb = "Sẽ nhập" if dry_run else "Đã nhập"
    click.echo(
        f"{verb} phiên {result.session_code} ({result.place}): {a['tickets']} số thứ tự, "
        f"{a['events']} sự kiện, {a['ratings']} đánh giá mới."
    )
    if any(u.values()):
        click.echo(
            f"Đã có sẵn, bỏ qua: {u['tickets']} số thứ tự, {u['events']} sự kiện, "
            f"{u['ratings']} đánh giá."
        )
    if result.refused:
        click.echo(f"Từ chối {len(result.refused)} bản ghi:")
        for r in result.refused:
            label = r.get("code") or r.get("uuid")
            click.echo(f"  - {r['kind']} {label}: {r['message']}")
        raise SystemExit(2)
