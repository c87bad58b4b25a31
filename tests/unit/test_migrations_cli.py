"""Migrations match the models; the motcua command works end to end."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from click.testing import CliRunner

from db import Base, db
from db.models import Counter, ServiceArea, User
from motcua import create_app
from motcua.cli import main
from tests.support.parts import postgres_url


def cli_app(uri: str) -> Any:
    """An app whose schema is made by the migrations, not create_all."""
    return create_app(
        {
            "TESTING": True,
            "SECRET_KEY": "t",
            "SQLALCHEMY_DATABASE_URI": uri,
            "PASSWORD_HASH_METHOD": "pbkdf2:sha256:1000",
        }
    )


def assert_schema_matches_models(app: Any) -> None:
    """No difference between the migrated schema and the models."""
    with app.app_context(), db.engine.connect() as conn:
        diff = compare_metadata(MigrationContext.configure(conn), Base.metadata)
    assert diff == []


def test_init_then_demo_on_sqlite(tmp_path: Path) -> None:
    """`motcua init` migrates and seeds areas; `motcua demo` adds the hall; both idempotent."""
    app = cli_app(f"sqlite:///{tmp_path / 'hall.sqlite3'}")
    runner = app.test_cli_runner()
    first = runner.invoke(args=["init"])
    assert first.exit_code == 0, first.output
    assert "Lĩnh vực mới thêm: 8" in first.output
    assert "Lĩnh vực mới thêm: 0" in runner.invoke(args=["init"]).output
    demo = runner.invoke(args=["demo"])
    assert demo.exit_code == 0, demo.output
    assert "canbo1" in demo.output and "Nguyễn Thị Lan" in demo.output
    assert runner.invoke(args=["demo"]).exit_code == 0
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count()).select_from(ServiceArea)) == 8
        assert db.session.scalar(sa.select(sa.func.count()).select_from(Counter)) == 6
        officers = db.session.scalar(
            sa.select(sa.func.count()).select_from(User).where(User.role == "officer")
        )
        assert officers == 6
    assert_schema_matches_models(app)


def test_migrations_match_models_on_postgresql() -> None:
    """The same migrations on a real PostgreSQL give exactly the models' schema."""
    url = postgres_url()
    app = cli_app(url)
    with app.app_context():
        with db.engine.begin() as conn:
            conn.exec_driver_sql("DROP SCHEMA public CASCADE; CREATE SCHEMA public;")
    try:
        result = app.test_cli_runner().invoke(args=["init"])
        assert result.exit_code == 0, result.output
        assert_schema_matches_models(app)
    finally:
        with app.app_context():
            db.session.remove()
            with db.engine.begin() as conn:
                conn.exec_driver_sql("DROP SCHEMA public CASCADE; CREATE SCHEMA public;")
            db.engine.dispose()


def test_user_add_with_password_stdin(tmp_path: Path) -> None:
    """`motcua user add` creates an account that can log in; a short password is refused."""
    app = cli_app(f"sqlite:///{tmp_path / 'u.sqlite3'}")
    runner = app.test_cli_runner()
    runner.invoke(args=["init"])
    ok = runner.invoke(
        args=[
            "user",
            "add",
            "lan.nt",
            "--role",
            "officer",
            "--name",
            "Nguyễn Thị Lan",
            "--password-stdin",
        ],
        input="mat-khau-dai\n",
    )
    assert ok.exit_code == 0, ok.output
    assert "Nguyễn Thị Lan" in ok.output and "cấp tỉnh" in ok.output
    scoped = runner.invoke(
        args=["user", "add", "qtv.main", "--role", "admin", "--name", "Quản trị điểm chính",
              "--site", "main", "--password-stdin"],
        input="mat-khau-dai\n",
    )  # fmt: skip
    assert scoped.exit_code == 0 and "(admin, main)" in scoped.output, scoped.output
    unknown = runner.invoke(
        args=["user", "add", "y", "--role", "leader", "--name", "Y", "--site", "khong-co",
              "--password-stdin"],
        input="mat-khau-dai\n",
    )  # fmt: skip
    assert unknown.exit_code != 0 and "khong-co" in unknown.output
    short = runner.invoke(
        args=["user", "add", "x", "--role", "admin", "--name", "X", "--password-stdin"],
        input="ngan\n",
    )
    assert short.exit_code != 0 and "ít nhất 8 ký tự" in short.output
    client = app.test_client()
    r = client.post("/api/v1/auth/token", json={"username": "lan.nt", "password": "mat-khau-dai"})
    assert r.status_code == 200


def test_console_script_help_lists_the_commands() -> None:
    """The installed `motcua` entry point offers serve, init, demo and user."""
    out = CliRunner(env={"FLASK_SECRET_KEY": "help-test"}).invoke(main, ["--help"]).output
    for command in ("serve", "init", "demo", "user"):
        assert command in out


def test_the_published_secret_is_refused_in_every_mode(tmp_path: Path) -> None:
    """The old default key is refused in production and out of it; a test app sets its own."""
    import pytest

    uri = f"sqlite:///{tmp_path / 'p.db'}"
    for production in (True, False):
        with pytest.raises(RuntimeError, match="published SECRET_KEY"):
            create_app(
                {
                    "ENV_PRODUCTION": production,
                    "SECRET_KEY": "dev-insecure-change-me",
                    "SQLALCHEMY_DATABASE_URI": uri,
                }
            )
    with pytest.raises(RuntimeError, match="SECRET_KEY"):
        create_app({"SQLALCHEMY_DATABASE_URI": uri})


def test_an_instance_without_a_key_generates_its_own(tmp_path: Path) -> None:
    """No key configured: a random key in <instance>/secret_key, mode 0600, kept across starts."""
    import stat

    from motcua.config import resolve_secret_key

    first = resolve_secret_key(None, tmp_path, testing=False)
    path = tmp_path / "secret_key"
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert len(first) >= 60 and path.read_text().strip() == first
    assert resolve_secret_key("", tmp_path, testing=False) == first  # the next start
    assert resolve_secret_key("mine", tmp_path, testing=False) == "mine"  # configured wins
    other = tmp_path / "other"
    other.mkdir()
    assert resolve_secret_key(None, other, testing=False) != first  # each instance its own


def test_motcua_serve_answers_http_and_websocket(tmp_path: Path) -> None:
    """The real `motcua serve` process: HTTP answers and a Socket.IO client connects."""
    import os
    import socket
    import subprocess
    import sys
    import time
    import urllib.request

    import socketio

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    env = dict(
        os.environ,
        FLASK_SQLALCHEMY_DATABASE_URI=f"sqlite:///{tmp_path / 'serve.sqlite3'}",
        FLASK_PASSWORD_HASH_METHOD="pbkdf2:sha256:1000",
        FLASK_SECRET_KEY="serve-test",
    )
    exe = str(Path(sys.executable).parent / "motcua")
    subprocess.run([exe, "init"], env=env, check=True, capture_output=True, cwd=tmp_path)
    server = subprocess.Popen(
        [exe, "serve", "--host", "127.0.0.1", "--port", str(port)],
        env=env,
        cwd=tmp_path,
        stdout=subprocess.DEVNULL,
        stderr=(tmp_path / "serve.log").open("wb"),
    )
    try:
        deadline = time.monotonic() + 45  # a loaded CI host: the suite runs beside it
        body = b""
        while time.monotonic() < deadline:
            try:
                body = urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=2).read()
                break
            except OSError:
                time.sleep(0.2)
        assert body == b'{"ok":true}\n', (tmp_path / "serve.log").read_text()[-2000:]
        client = socketio.Client()
        client.connect(
            f"http://127.0.0.1:{port}",
            namespaces=["/display"],
            transports=["websocket"],
            wait_timeout=10,
        )
        assert client.transport() == "websocket"
        client.disconnect()
    finally:
        server.terminate()
        server.wait(timeout=10)


def test_demo_names_the_unit_of_the_site_init_created(tmp_path: Path) -> None:
    """`motcua init` then `motcua demo`: the hall's unit (PHƯỜNG …) is on the site."""
    from db.models import Site

    app = cli_app(f"sqlite:///{tmp_path / 'unit.sqlite3'}")
    runner = app.test_cli_runner()
    assert runner.invoke(args=["init"]).exit_code == 0
    assert runner.invoke(args=["demo"]).exit_code == 0
    with app.app_context():
        site = db.session.scalar(sa.select(Site))
        assert (site.name, site.unit_name) == (
            "TRUNG TÂM PHỤC VỤ HÀNH CHÍNH CÔNG",
            "PHƯỜNG BA ĐÌNH",
        )
    assert app.test_client().get("/favicon.ico").status_code == 204


def test_server_app_freezes_its_startup_objects_unless_told_not_to(tmp_path: Path) -> None:
    """A server's app (no test config) leaves its start-up objects to gc.freeze: GC_FREEZE."""
    import os
    import subprocess
    import sys

    probe = "import gc\nfrom motcua import create_app\ncreate_app()\nprint(gc.get_freeze_count())\n"

    def frozen(**extra: str) -> int:
        env = dict(
            os.environ,
            FLASK_SQLALCHEMY_DATABASE_URI=f"sqlite:///{tmp_path / 'gc.sqlite3'}",
            FLASK_SECRET_KEY="gc-test",
            **extra,
        )
        out = subprocess.run(
            [sys.executable, "-c", probe],
            env=env,
            cwd=tmp_path,
            check=True,
            capture_output=True,
            text=True,
        )
        return int(out.stdout.strip().splitlines()[-1])

    assert frozen() > 50_000  # the app and its libraries, not a handful
    assert frozen(FLASK_GC_FREEZE="false") == 0
