"""The deployment kit (deploy/): nginx site, systemd units and kiosk launchers are valid."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests.support.parts import missing_part

DEPLOY = Path(__file__).resolve().parents[2] / "deploy"


def nginx_config(prefix: Path, site: Path) -> Path:
    """A main nginx.conf in ``prefix`` that includes the site, as Debian's does."""
    temp = " ".join(
        f"{kind}_temp_path {prefix / kind};" for kind in ("client_body", "proxy", "fastcgi")
    )
    conf = prefix / "nginx.conf"
    conf.write_text(
        f"pid {prefix / 'nginx.pid'};\nerror_log {prefix / 'error.log'};\n"
        "events { worker_connections 1024; }\n"
        f"http {{ access_log off; {temp} uwsgi_temp_path {prefix / 'u'}; "
        f"scgi_temp_path {prefix / 's'};\ninclude {site}; }}\n"
    )
    return conf


def test_nginx_site_passes_nginx_t(tmp_path: Path) -> None:
    """`nginx -t` accepts deploy/nginx/motcua.conf inside an http block."""
    nginx = shutil.which("nginx") or ("/usr/sbin/nginx" if Path("/usr/sbin/nginx").exists() else "")
    if not nginx:
        missing_part("nginx not installed (apt-get install nginx; .ci/run does)")
    conf = nginx_config(tmp_path, DEPLOY / "nginx" / "motcua.conf")
    done = subprocess.run(
        [nginx, "-t", "-p", str(tmp_path), "-c", str(conf)], capture_output=True, text=True
    )
    assert done.returncode == 0, done.stderr
    assert "test is successful" in done.stderr


def test_nginx_site_fails_nginx_t_when_broken(tmp_path: Path) -> None:
    """The same check refuses a site with a typo: `nginx -t` is really reading it."""
    nginx = shutil.which("nginx") or ("/usr/sbin/nginx" if Path("/usr/sbin/nginx").exists() else "")
    if not nginx:
        missing_part("nginx not installed (apt-get install nginx; .ci/run does)")
    site = tmp_path / "broken.conf"
    text = (DEPLOY / "nginx" / "motcua.conf").read_text()
    site.write_text(text.replace("least_conn;", "least_con;"))
    done = subprocess.run(
        [nginx, "-t", "-p", str(tmp_path), "-c", str(nginx_config(tmp_path, site))],
        capture_output=True,
        text=True,
    )
    assert done.returncode != 0
    assert "least_con" in done.stderr


def test_systemd_units_verify(tmp_path: Path) -> None:
    """`systemd-analyze verify` finds no error or warning in the units (gunicorn from this venv)."""
    analyze = shutil.which("systemd-analyze")
    if not analyze:
        pytest.skip("systemd-analyze not available (no systemd on this machine)")
    gunicorn = Path(sys.executable).with_name("gunicorn")
    if not gunicorn.exists():
        pytest.skip("gunicorn not installed in this environment (pip install -e '.[prod]')")
    unit = (DEPLOY / "systemd" / "motcua@.service").read_text()
    assert "/opt/motcua/.venv/bin/gunicorn -k gevent -w 1 --worker-connections 10000" in unit
    (tmp_path / "motcua@.service").write_text(
        unit.replace("/opt/motcua/.venv/bin/gunicorn", str(gunicorn))
    )
    (tmp_path / "motcua@8001.service").symlink_to("motcua@.service")
    shutil.copy(DEPLOY / "systemd" / "motcua.target", tmp_path)
    done = subprocess.run(
        [analyze, "verify", "--man=no", "motcua@8001.service", "motcua.target"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
    )
    assert done.returncode == 0, done.stderr
    assert done.stderr.strip() == "", done.stderr


@pytest.mark.parametrize(
    ("script", "env", "url", "flag"),
    [
        ("kiosk.sh", {"MOTCUA_KIOSK": "sanh-2"}, "/kiosk/?kiosk=sanh-2", "--touch-events=enabled"),
        ("display.sh", {}, "/display/?", "--autoplay-policy=no-user-gesture-required"),
        ("tablet.sh", {"MOTCUA_COUNTER": "3"}, "/rating/?counter=3", "--touch-events=enabled"),
    ],
)
def test_kiosk_launchers_start_chromium_in_kiosk_mode(
    tmp_path: Path, script: str, env: dict[str, str], url: str, flag: str
) -> None:
    """Each launcher starts Chromium full screen on its page, with its own profile and flags."""
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    argv_file = tmp_path / "argv"
    # A stand-in browser: records its arguments, then ends the launcher's restart loop.
    fake = bin_dir / "chromium"
    fake.write_text(f'#!/bin/sh\nprintf "%s\\n" "$@" > {argv_file}\nkill $PPID\n')
    fake.chmod(0o755)
    done = subprocess.run(
        ["sh", str(DEPLOY / "kiosk" / script)],
        env={
            "PATH": f"{bin_dir}:/usr/bin:/bin",
            "HOME": str(tmp_path),
            "MOTCUA_SERVER": "http://hall.test:8080",
            "MOTCUA_WAIT_TRIES": "0",
            **env,
        },
        capture_output=True,
        text=True,
        timeout=20,
    )
    args = argv_file.read_text().splitlines()
    assert args[:2] == ["--kiosk", "http://hall.test:8080" + url], (args, done.stderr)
    assert flag in args
    profile = [a for a in args if a.startswith("--user-data-dir=")]
    assert profile == [f"--user-data-dir={tmp_path}/.config/motcua-{script[:-3]}"]


def test_trusted_proxy_gives_each_client_its_own_address(tmp_path: Path) -> None:
    """TRUSTED_PROXIES=1 (the kit's nginx): the client's address is X-Forwarded-For's, not
    nginx's; without it, the forwarded header is not believed."""
    from tests.conftest import build_app

    seen: dict[str, str | None] = {}
    for proxies in (0, 1):
        app = build_app(f"sqlite:///{tmp_path}/p{proxies}.sqlite3", TRUSTED_PROXIES=proxies)

        @app.get("/whoami-test")
        def whoami() -> str:
            from flask import request

            return str(request.remote_addr)

        reply = app.test_client().get(
            "/whoami-test",
            headers={"X-Forwarded-For": "192.168.1.77"},
            environ_base={"REMOTE_ADDR": "127.0.0.1"},
        )
        seen[str(proxies)] = reply.get_data(as_text=True)
    assert seen == {"0": "127.0.0.1", "1": "192.168.1.77"}
