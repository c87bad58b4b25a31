"""The ``motcua`` command: serve, init, demo, user add, expire."""

from __future__ import annotations

import logging
import sys
from typing import Any

import click
from flask import Flask, current_app
from flask.cli import FlaskGroup, ScriptInfo, with_appcontext

log = logging.getLogger(__name__)

INSTANCE_KEY = "motcua_instance"


def _chosen_instance() -> str | None:
    """The ``--instance`` folder given to this command line (None: MOTCUA_INSTANCE or default)."""
    ctx = click.get_current_context(silent=True)
    info = ctx.find_object(ScriptInfo) if ctx is not None else None
    return info.data.get(INSTANCE_KEY) if info is not None else None


def _create_app(*_: Any) -> Flask:
    from motcua import create_app

    return create_app(instance_path=_chosen_instance())


def _remember_instance(ctx: click.Context, _: click.Parameter, value: str | None) -> None:
    # Eager and kept on the ScriptInfo: FlaskGroup builds the app while it looks up the
    # subcommand, before the group's own callback runs.
    if value:
        ctx.ensure_object(ScriptInfo).data[INSTANCE_KEY] = value


@click.group(cls=FlaskGroup, create_app=_create_app, add_default_commands=False, load_dotenv=False)
@click.option(
    "--instance",
    type=click.Path(file_okay=False, path_type=str),
    callback=_remember_instance,
    expose_value=False,
    is_eager=True,
    help="Thư mục dữ liệu của máy (cấu hình, cơ sở dữ liệu SQLite, khóa bí mật, bản sao lưu, "
    "ảnh, bản in). Mặc định: biến môi trường MOTCUA_INSTANCE, hoặc thư mục instance cạnh "
    "phần mềm.",
)
def main() -> None:
    """motcua: queue tickets, calls and ratings for a one-stop hall."""


def _add_serve() -> None:
    # On the group itself, not on app.cli: finding an app command builds the app, and
    # `serve` must patch for gevent before the app exists.
    main.add_command(serve_command)


def init_database() -> dict[str, int]:
    """Create or upgrade the schema (migrations), then seed defaults if empty."""
    from flask_migrate import upgrade

    from motcua.services import catalog

    upgrade(directory=current_app.extensions["migrate"].directory)
    added = catalog.seed_default_areas()
    catalog.ensure_site(current_app.config["SITE_CODE"], "TRUNG TÂM PHỤC VỤ HÀNH CHÍNH CÔNG")
    return {"areas_added": added}


@click.command("init")
@with_appcontext
def init_command() -> None:
    """Create or upgrade the database and seed the default service areas."""
    result = init_database()
    click.echo(f"Cơ sở dữ liệu đã sẵn sàng. Lĩnh vực mới thêm: {result['areas_added']}.")
    _say_where_the_key_is()


def _say_where_the_key_is() -> None:
    """Tell the operator where the generated secret key lives (create_app made it)."""
    from pathlib import Path

    from motcua.config import SECRET_KEY_FILE

    path = Path(current_app.instance_path) / SECRET_KEY_FILE
    if path.exists():
        click.echo(
            f"Khóa bí mật của máy chủ: {path} (chỉ tài khoản chạy máy chủ đọc được; "
            "hãy sao lưu cùng dữ liệu)."
        )


@click.command("demo")
@with_appcontext
def demo_command() -> None:
    """Seed a demo hall (8 areas, 6 counters, 6 officers) and print the logins."""
    from motcua.services.demo import seed_demo

    init_database()
    _say_where_the_key_is()
    info = seed_demo()
    click.echo(f"Đã tạo dữ liệu mẫu. Đăng nhập (mật khẩu chung: {info['password']}):")
    for login in info["logins"]:
        click.echo(f"  {login['username']:<10} {login['role']:<8} {login['name']}")


@click.command("serve")
@click.option("--host", default="0.0.0.0", show_default=True)
@click.option("--port", default=5000, show_default=True, type=int)
def serve_command(host: str, port: int) -> None:
    """Run the server (gevent: thousands of screens and phones in one process)."""
    from gevent import monkey

    if not monkey.is_module_patched("threading"):  # launch.py patches first; else here
        monkey.patch_all()
    from gevent.pywsgi import WSGIHandler, WSGIServer

    from motcua import create_server

    class Handler(WSGIHandler):
        """pywsgi's handler, but a connection that was a websocket is not read again.

        Once a websocket ends, the client's last frames are still in flight: read as the
        next HTTP request of a kept-alive connection they would be logged as garbage.
        """

        def run_application(self) -> None:
            super().run_application()
            if self.environ.get("HTTP_UPGRADE", "").lower() == "websocket":
                self.close_connection = True

    # Built after the patching, so that every lock the app makes is cooperative.
    app = create_server(instance_path=_chosen_instance())
    click.echo(f"motcua đang chạy tại http://{host}:{port}/  (Ctrl+C để dừng)")
    # The WSGI server Flask-SocketIO's run() uses in gevent mode (websockets through
    # simple-websocket), without run()'s refusal to start inside a `flask` CLI command.
    server = WSGIServer((host, port), app, log=None, handler_class=Handler)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        server.stop(timeout=2)


@click.command("expire")
@with_appcontext
def expire_command() -> None:
    """Expire tickets still open from earlier business days."""
    from motcua.services import tickets

    click.echo(f"Đã đóng {tickets.expire_stale()} số thứ tự của các ngày trước.")


@click.command("purge")
@click.option("--days", type=click.IntRange(min=1), help="Giữ N ngày (mặc định: RETENTION_DAYS).")
@with_appcontext
def purge_command(days: int | None) -> None:
    """Erase dossier codes, notes and comments older than the retention (RETENTION_DAYS)."""
    from motcua.services import privacy

    result = privacy.purge(days=days, actor="cli")
    click.echo(
        f"Đã xóa dữ liệu cá nhân trước ngày {result.kept_from:%d/%m/%Y}: "
        f"{result.tickets} số thứ tự, {result.events} ghi chú, {result.ratings} góp ý."
    )


@click.group("user")
def user_group() -> None:
    """Manage accounts."""


@user_group.command("add")
@click.argument("username")
@click.option("--role", type=click.Choice(["officer", "leader", "admin"]), required=True)
@click.option("--name", "full_name", required=True, help="Họ và tên")
@click.option("--position", default="", help="Chức vụ")
@click.option("--password-stdin", is_flag=True, help="Read the password from standard input")
@click.option(
    "--site",
    "sites",
    multiple=True,
    help="Mã điểm tiếp nhận được giao (lặp lại cho nhiều điểm); không có: cấp tỉnh",
)
@with_appcontext
def user_add(
    username: str,
    role: str,
    full_name: str,
    position: str,
    password_stdin: bool,
    sites: tuple[str, ...],
) -> None:
    """Create an account (asks for the password unless --password-stdin); ``--site`` scopes it
    to those sites (a site administrator, leader or officer), none: province-wide."""
    from motcua.errors import DomainError
    from motcua.services import accounts

    if password_stdin:
        password = sys.stdin.readline().rstrip("\n")
    else:
        password = click.prompt("Mật khẩu", hide_input=True, confirmation_prompt=True)
    try:
        user = accounts.create_user(
            username,
            full_name=full_name,
            role=role,
            password=password,
            position=position,
            site_codes=sites,
        )
    except DomainError as exc:
        raise click.ClickException(str(exc.message)) from exc
    where = ", ".join(sorted({s.strip().lower() for s in sites})) if sites else "cấp tỉnh"
    click.echo(f"Đã tạo tài khoản {user.username} ({user.role}, {where}): {user.full_name}")


def register_cli(app: Flask) -> None:
    """Attach the commands to the app (``flask --app motcua …`` works too)."""
    for command in (init_command, demo_command, expire_command, purge_command, user_group):
        app.cli.add_command(command)
    from motcua.cli_printer import printer_group
    from motcua.cli_session import session_group

    app.cli.add_command(printer_group)
    app.cli.add_command(session_group)
    from motcua.cli_admin import backup_command, restore_command

    app.cli.add_command(backup_command)
    app.cli.add_command(restore_command)
    from motcua.cli_doctor import doctor_command

    app.cli.add_command(doctor_command)


_add_serve()
