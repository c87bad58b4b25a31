"""A cluster on loopback for tests: private PostgreSQL, Redis, N served processes, nginx.

Each part runs as a child of the test with its own temporary directory and free port, so a
test can stop and start any of them without touching a shared server. Missing parts (not
installed) skip locally and fail in CI (tests/support/parts.py).
"""

from __future__ import annotations

import glob
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

from tests.support.parts import missing_part

VENV_BIN = Path(sys.executable).parent


def _control_socket() -> list[str]:
    # gunicorn >= 27 opens a control socket at one fixed path per user: two servers on one
    # machine would share it.
    try:
        import gunicorn
    except ImportError:
        return []
    return ["--no-control-socket"] if gunicorn.version_info >= (27,) else []


CONTROL_SOCKET = _control_socket()


def free_port() -> int:
    """An ephemeral TCP port on loopback."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def wait_port(port: int, timeout: float = 20.0) -> None:
    """Until something accepts connections on the port."""
    deadline = time.monotonic() + timeout
    while True:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                return
        except OSError:
            if time.monotonic() > deadline:
                raise TimeoutError(f"nothing listens on {port}") from None
            time.sleep(0.05)


def require_binaries() -> tuple[str, str, str]:
    """The PostgreSQL bin directory, redis-server and nginx, or skip/fail."""
    pg_bins = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"))
    redis = shutil.which("redis-server")
    nginx = shutil.which("nginx") or ("/usr/sbin/nginx" if Path("/usr/sbin/nginx").exists() else "")
    if not pg_bins:
        missing_part("PostgreSQL server binaries not installed (apt-get install postgresql)")
    if not redis:
        missing_part("redis-server not installed (apt-get install redis-server)")
    if not nginx:
        missing_part("nginx not installed (apt-get install nginx)")
    if not (VENV_BIN / "gunicorn").exists():
        missing_part("gunicorn not installed (pip install -e '.[prod]')")
    try:
        import redis as _redis  # noqa: F401
    except ImportError:
        missing_part("the redis client is not installed (pip install -e '.[prod]')")
    return str(Path(pg_bins[-1]).parent), str(redis), str(nginx)


class PrivatePostgres:
    """A PostgreSQL instance of the test's own (initdb into a temporary directory)."""

    def __init__(self, bindir: str) -> None:
        # Not under pytest's tmp_path: its parents are private to the user running the
        # tests, and the server may have to run as the postgres user.
        root = self.root = Path(tempfile.mkdtemp(prefix="motcua-pg-"))
        self.bindir = bindir
        self.data = root / "pgdata"
        self.sockets = root / "pgsock"
        self.port = free_port()
        self.log = root / "postgres.log"
        self.sockets.mkdir()
        self._as_user: list[str] = []
        if os.geteuid() == 0:  # initdb refuses root: run the server as the postgres user
            self._as_user = ["runuser", "-u", "postgres", "--"]
            shutil.chown(root, "postgres")
            shutil.chown(self.sockets, "postgres")
        self._run("initdb", "-D", str(self.data), "-U", "motcua", "--auth=trust", "-E", "UTF8")

    def _run(self, tool: str, *args: str) -> None:
        subprocess.run(
            [*self._as_user, f"{self.bindir}/{tool}", *args], check=True, capture_output=True
        )

    @property
    def url(self) -> str:
        """The SQLAlchemy URL of its ``postgres`` database."""
        return f"postgresql+psycopg://motcua@127.0.0.1:{self.port}/postgres"

    def start(self) -> None:
        """Start and wait until it accepts connections."""
        options = (
            f"-p {self.port} -k {self.sockets} -c listen_addresses=127.0.0.1 "
            "-c fsync=off -c synchronous_commit=off -c full_page_writes=off"
        )
        self._run("pg_ctl", "-D", str(self.data), "-o", options, "-l", str(self.log), "-w", "start")

    def stop(self) -> None:
        """Stop at once (fast mode: connections are cut)."""
        self._run("pg_ctl", "-D", str(self.data), "-m", "fast", "-w", "stop")

    def remove(self) -> None:
        """Stop if running and delete its files."""
        if (self.data / "postmaster.pid").exists():
            self._run("pg_ctl", "-D", str(self.data), "-m", "immediate", "-w", "stop")
        shutil.rmtree(self.root, ignore_errors=True)


class Redis:
    """A redis-server of the test's own, without persistence."""

    def __init__(self, binary: str, root: Path) -> None:
        self.binary, self.root, self.port = binary, root, free_port()
        self.proc: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        """Its URL for SOCKETIO_MESSAGE_QUEUE."""
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> None:
        """Start and wait for the port."""
        self.proc = subprocess.Popen(
            [self.binary, "--port", str(self.port), "--bind", "127.0.0.1", "--save", ""]
            + ["--appendonly", "no", "--dir", str(self.root)],
            stdout=subprocess.DEVNULL,
        )
        wait_port(self.port)

    def stop(self) -> None:
        """Stop it (its subscribers are disconnected)."""
        if self.proc is not None:
            self.proc.terminate()
            self.proc.wait(timeout=10)
            self.proc = None


class Server:
    """One served process: gunicorn -k gevent -w 1 on motcua:create_server()."""

    def __init__(self, name: str, root: Path, env: dict[str, str]) -> None:
        self.name, self.root, self.env = name, root, env
        self.port = free_port()
        self.log = root / f"server-{name}.log"
        self.proc: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        """Its own address (bypassing nginx)."""
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> None:
        """Start and wait until /healthz answers."""
        with self.log.open("ab") as log:
            self.proc = subprocess.Popen(
                [str(VENV_BIN / "gunicorn"), "-k", "gevent", "-w", "1"]
                + ["--worker-connections", "1000", "--graceful-timeout", "2"]
                + ["-b", f"127.0.0.1:{self.port}", *CONTROL_SOCKET, "motcua:create_server()"],
                env=self.env,
                cwd=self.root,
                stdout=log,
                stderr=log,
                start_new_session=True,
            )
        deadline = time.monotonic() + 30
        while True:
            try:
                urllib.request.urlopen(f"{self.url}/healthz", timeout=2).read()
                return
            except OSError:
                if self.proc.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError(self.log.read_text()[-3000:]) from None
                time.sleep(0.1)

    def kill(self) -> None:
        """kill -9 of the whole process group (gunicorn's arbiter and its worker)."""
        if self.proc is not None:
            os.killpg(self.proc.pid, signal.SIGKILL)
            self.proc.wait(timeout=10)
            self.proc = None

    def stop(self) -> None:
        """A clean stop (SIGTERM), then kill -9 after a few seconds."""
        if self.proc is None:
            return
        self.proc.terminate()
        try:
            self.proc.wait(timeout=8)
        except subprocess.TimeoutExpired:
            self.kill()
        self.proc = None


NGINX_CONF = """
daemon off;
{user}
worker_processes 1;
pid {root}/nginx.pid;
error_log {root}/nginx-error.log warn;
events {{ worker_connections 1024; }}
http {{
  access_log off;
  client_body_temp_path {root}/nginx-body;
  proxy_temp_path {root}/nginx-proxy;
  fastcgi_temp_path {root}/nginx-fastcgi;
  uwsgi_temp_path {root}/nginx-uwsgi;
  scgi_temp_path {root}/nginx-scgi;
  map $http_upgrade $connection_upgrade {{ default upgrade; '' close; }}
  upstream motcua {{
    least_conn;
{servers}
  }}
  # The same proxy with the last server first and the others as backups: a client opened
  # here sits on that server while it lives and, after it dies, reconnects to another
  # through nginx, as a client that least_conn happened to place there would.
  upstream motcua_last {{
{pinned}
  }}
  server {{
    listen 127.0.0.1:{port};
    location / {{
      proxy_pass http://motcua;
{proxy}
    }}
  }}
  server {{
    listen 127.0.0.1:{pinned_port};
    location / {{
      proxy_pass http://motcua_last;
{proxy}
    }}
  }}
}}
"""
PROXY_SETTINGS = """      proxy_http_version 1.1;
      proxy_set_header Upgrade $http_upgrade;
      proxy_set_header Connection $connection_upgrade;
      proxy_set_header Host $host;
      proxy_set_header X-Forwarded-For $proxy_add_x_forwarded_for;
      proxy_connect_timeout 1s;
      proxy_read_timeout 1h;
      proxy_next_upstream error timeout http_502;"""


class Nginx:
    """nginx in front of the servers (websocket upgrade, least_conn, no sticky sessions)."""

    def __init__(self, binary: str, root: Path, upstreams: list[int]) -> None:
        self.binary, self.root, self.port = binary, root, free_port()
        self.pinned_port = free_port()
        servers = "\n".join(
            f"    server 127.0.0.1:{p} max_fails=1 fail_timeout=3s;" for p in upstreams
        )
        *others, last = upstreams
        pinned = "\n".join(
            [f"    server 127.0.0.1:{last} max_fails=1 fail_timeout=3s;"]
            + [f"    server 127.0.0.1:{p} backup;" for p in others]
        )
        user = "user root;" if os.geteuid() == 0 else ""
        self.conf = root / "nginx.conf"
        self.conf.write_text(
            NGINX_CONF.format(
                root=root,
                port=self.port,
                servers=servers,
                user=user,
                pinned=pinned,
                pinned_port=self.pinned_port,
                proxy=PROXY_SETTINGS,
            )
        )
        self.proc: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        """The cluster's one address."""
        return f"http://127.0.0.1:{self.port}"

    @property
    def last_url(self) -> str:
        """The same nginx, placing new clients on the last server while it lives."""
        return f"http://127.0.0.1:{self.pinned_port}"

    def start(self) -> None:
        """Start in the foreground (a child of the test) and wait for the port."""
        self.proc = subprocess.Popen(
            [self.binary, "-p", str(self.root), "-c", str(self.conf), "-e", "stderr"],
            stderr=(self.root / "nginx-start.log").open("wb"),
        )
        wait_port(self.port)

    def stop(self) -> None:
        """Stop it."""
        if self.proc is not None:
            self.proc.terminate()
            self.proc.wait(timeout=10)
            self.proc = None
