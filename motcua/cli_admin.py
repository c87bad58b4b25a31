"""``motcua backup [PATH]`` and ``motcua restore PATH --yes``: the hall's data, safe.

SQLite: a consistent copy of the live database through SQLite's online backup API (safe while
the server runs; WAL included), checked with ``PRAGMA integrity_check``. PostgreSQL: ``pg_dump
--format=custom`` / ``pg_restore --clean``. A restore first backs up what it replaces, then
upgrades the restored schema to the current migrations.
"""

from __future__ import annotations

import datetime as dt
import logging
import shutil
import sqlite3
import subprocess
from pathlib import Path
from typing import Any

import click
import sqlalchemy as sa
from flask import current_app
from flask.cli import with_appcontext
from sqlalchemy.engine import URL, make_url

log = logging.getLogger(__name__)

PG_TIMEOUT_S = 3600


class BackupError(click.ClickException):
    """A backup or restore that could not be done (Vietnamese message)."""


def _url() -> URL:
    return make_url(current_app.config["SQLALCHEMY_DATABASE_URI"])


def _sqlite_path(url: URL) -> Path:
    if not url.database or url.database == ":memory:":
        raise BackupError("Cơ sở dữ liệu SQLite trong bộ nhớ không sao lưu được.")
    return Path(url.database)


def default_backup_path(suffix: str, label: str = "motcua") -> Path:
    """<instance>/backups/<label>-YYYYmmdd-HHMMSS.<suffix> (hall time)."""
    from motcua.timeutil import local, utcnow

    stamp = local(utcnow()).strftime("%Y%m%d-%H%M%S")
    folder = Path(current_app.instance_path) / "backups"
    folder.mkdir(parents=True, exist_ok=True)
    return folder / f"{label}-{stamp}.{suffix}"


def sqlite_backup(source: Path, target: Path) -> None:
    """Copy a live SQLite database consistently (online backup API), then check the copy."""
    if not source.exists():
        raise BackupError(f"Không thấy tệp cơ sở dữ liệu {source}.")
    target.parent.mkdir(parents=True, exist_ok=True)
    partial = target.with_name(target.name + ".part")
    partial.unlink(missing_ok=True)
    src = sqlite3.connect(f"file:{source}?mode=ro", uri=True, timeout=30)
    dst = sqlite3.connect(partial)
    try:
        src.backup(dst, pages=1024)
        dst.execute("PRAGMA journal_mode=DELETE")  # one self-contained file
        ok = dst.execute("PRAGMA integrity_check").fetchone()[0]
    finally:
        dst.close()
        src.close()
    if ok != "ok":
        partial.unlink(missing_ok=True)
        raise BackupError(f"Bản sao lưu bị lỗi ({ok}); chưa ghi tệp.")
    partial.replace(target)


def _check_sqlite_backup(path: Path) -> None:
    """Refuse a file that is not a motcua SQLite database in good shape."""
    try:
        conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
        try:
            ok = conn.execute("PRAGMA integrity_check").fetchone()[0]
            tables = {r[0] for r in conn.execute("SELECT name FROM sqlite_master")}
        finally:
            conn.close()
    except sqlite3.DatabaseError as exc:
        raise BackupError(f"Tệp {path} không phải cơ sở dữ liệu SQLite: {exc}") from exc
    if ok != "ok" or not {"alembic_version", "tickets", "users"} <= tables:
        raise BackupError(f"Tệp {path} không phải bản sao lưu motcua hợp lệ.")


def sqlite_restore(backup: Path, live: Path) -> None:
    """Replace the live database's content with a backup's (online backup API, in place);
    a live file that does not exist yet (a fresh instance) is created."""
    _check_sqlite_backup(backup)
    live.parent.mkdir(parents=True, exist_ok=True)
    src = sqlite3.connect(f"file:{backup}?mode=ro", uri=True)
    dst = sqlite3.connect(live, timeout=30)
    try:
        src.backup(dst)
    finally:
        dst.close()
        src.close()


def _pg_args(url: URL) -> tuple[list[str], dict[str, str]]:
    """libpq connection options and environment (the password never on the command line)."""
    args = ["--host", url.host or "localhost", "--port", str(url.port or 5432)]
    if url.username:
        args += ["--username", url.username]
    env = {"PGPASSWORD": url.password or "", "PGCONNECT_TIMEOUT": "10", "LC_ALL": "C.UTF-8"}
    return args, env


def _pg_tool(name: str) -> str:
    tool = shutil.which(name)
    if tool is None:
        raise BackupError(f"Không tìm thấy {name}: hãy cài postgresql-client.")
    return tool


def _run(cmd: list[str], env: dict[str, str]) -> None:
    result = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=PG_TIMEOUT_S)
    if result.returncode != 0:
        raise BackupError(f"{Path(cmd[0]).name} báo lỗi: {result.stderr.strip()[:500]}")


def pg_backup(url: URL, target: Path) -> None:
    """pg_dump in custom format."""
    args, env = _pg_args(url)
    target.parent.mkdir(parents=True, exist_ok=True)
    partial = target.with_name(target.name + ".part")
    _run(
        [_pg_tool("pg_dump"), *args, "--format=custom", "--file", str(partial), url.database or ""],
        env,
    )
    partial.replace(target)


def pg_restore(url: URL, backup: Path) -> None:
    """pg_restore --clean into the configured database."""
    args, env = _pg_args(url)
    _run(
        [
            _pg_tool("pg_restore"),
            *args,
            "--clean",
            "--if-exists",
            "--no-owner",
            "--single-transaction",
            "--dbname",
            url.database or "",
            str(backup),
        ],
        env,
    )


def backup_database(path: Path | None = None) -> Path:
    """Back up the configured database to ``path`` (default: instance/backups); return it."""
    url = _url()
    if url.get_backend_name() == "sqlite":
        target = path or default_backup_path("sqlite3")
        sqlite_backup(_sqlite_path(url), target)
    elif url.get_backend_name() == "postgresql":
        target = path or default_backup_path("dump")
        pg_backup(url, target)
    else:
        raise BackupError(f"Chưa hỗ trợ sao lưu {url.get_backend_name()}.")
    _audit("backup", str(target))
    return target


def _holds_data(url: URL) -> bool:
    """Whether the configured database exists and has tables (a fresh instance has none)."""
    from db import db

    if url.get_backend_name() == "sqlite":
        path = _sqlite_path(url)
        if not path.exists() or path.stat().st_size == 0:
            return False
    return bool(sa.inspect(db.engine).get_table_names())


def restore_database(path: Path) -> Path | None:
    """Restore a backup over the configured database; returns the safety copy made first
    (None onto a fresh instance: there is nothing to keep)."""
    from flask_migrate import upgrade

    from db import db
    from motcua.services import catalog_cache, settings

    if not path.is_file():
        raise BackupError(f"Không thấy tệp {path}.")
    url = _url()
    if url.get_backend_name() == "sqlite":
        _check_sqlite_backup(path)  # before anything is touched
    safety = backup_database(None) if _holds_data(url) else None
    db.session.remove()
    db.engine.dispose()
    if url.get_backend_name() == "sqlite":
        sqlite_restore(path, _sqlite_path(url))
    else:
        pg_restore(url, path)
    db.engine.dispose()
    upgrade(directory=current_app.extensions["migrate"].directory)
    catalog_cache.invalidate()
    settings.invalidate()
    _audit("restore", str(path), {"safety_copy": str(safety) if safety else None})
    return safety


def _audit(action: str, target: str, details: dict[str, Any] | None = None) -> None:
    from motcua.services import audit

    try:
        audit.log(action, actor="cli", target=target[:200], details=details)
    except Exception:  # the data is safe; a missing audit table (old schema) must not hide it
        log.warning("could not record %s in the audit log", action, exc_info=True)


@click.command("backup")
@click.argument("path", required=False, type=click.Path(dir_okay=False, path_type=Path))
@with_appcontext
def backup_command(path: Path | None) -> None:
    """Back up the database (SQLite online copy or pg_dump) to PATH or instance/backups/."""
    started = dt.datetime.now()
    target = backup_database(path)
    size = target.stat().st_size / 1024 / 1024
    seconds = (dt.datetime.now() - started).total_seconds()
    click.echo(f"Đã sao lưu dữ liệu vào {target} ({size:.1f} MB, {seconds:.1f} giây).")


@click.command("restore")
@click.argument("path", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--yes", is_flag=True, help="Xác nhận: dữ liệu hiện tại sẽ bị thay thế.")
@with_appcontext
def restore_command(path: Path, yes: bool) -> None:
    """Replace all data with a backup (stop the server first); needs --yes."""
    if not yes:
        raise click.ClickException(
            "Khôi phục sẽ thay thế TOÀN BỘ dữ liệu hiện tại bằng bản sao lưu. "
            "Hãy dừng máy chủ rồi chạy lại với --yes để xác nhận."
        )
    safety = restore_database(path)
    if safety is None:
        click.echo(f"Đã khôi phục dữ liệu từ {path} vào máy chủ mới.")
    else:
        click.echo(f"Đã khôi phục dữ liệu từ {path}. Dữ liệu trước đó được lưu ở {safety}.")
    click.echo("Hãy khởi động lại máy chủ.")
