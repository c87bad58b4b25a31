"""A motcua cluster on loopback for benchmarks: N gunicorn gevent processes, Redis, nginx.

The processes run the deploy kit's command (deploy/systemd/motcua@.service):
``gunicorn -k gevent -w 1 --worker-connections 10000 -b 127.0.0.1:PORT APP``; nginx runs the
kit's site (deploy/nginx/motcua.conf) with its listen address and upstream servers rewritten
to this cluster's ports; Redis (Debian's redis-server) is the Socket.IO message queue.

    with Cluster(workdir, "postgresql+psycopg://…", processes=2, nginx=True) as cluster:
        requests.get(cluster.base + "/healthz")
"""

from __future__ import annotations

import os
import re
import resource
import shutil
import socket
import subprocess
import sys
import time
from pathlib import Path
from types import TracebackType

ROOT = Path(__file__).resolve().parent.parent
BENCH = Path(__file__).resolve().parent
VENV_BIN = Path(sys.executable).parent
SECRET = "bench-" + "k" * 58

# What gunicorn serves: the production entry point (create_server(): gevent once gunicorn's
# gevent worker has patched the standard library, housekeeping, cache invalidations).
APPS = {"gevent": "motcua:create_server()"}


def free_port() -> int:
    """An unused TCP port on loopback."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _raise_fd_limit() -> None:
    """Children may open as many files as the hard limit allows (a socket is a file)."""
    _, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))


def wait_port(port: int, timeout: float = 30.0, path: str | None = None) -> None:
    """Wait until something accepts on the port (and answers GET path with 200)."""
    import http.client

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            if path is None:
                socket.create_connection(("127.0.0.1", port), timeout=1).close()
                return
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=2)
            conn.request("GET", path)
            if conn.getresponse().status == 200:
                return
        except OSError:
            pass
        time.sleep(0.2)
    raise RuntimeError(f"nothing answered on port {port}")


def reset_database(db_url: str) -> None:
    """An empty PostgreSQL schema (SQLite: remove the file)."""
    if db_url.startswith("sqlite:///"):
        Path(db_url[len("sqlite:///") :]).unlink(missing_ok=True)
        return
    import sqlalchemy as sa

    engine = sa.create_engine(db_url)
    with engine.begin() as conn:
        conn.exec_driver_sql("DROP SCHEMA public CASCADE; CREATE SCHEMA public")
    engine.dispose()


def server_env(db_url: str, queue: str | None) -> dict[str, str]:
    """The environment of a server process (as /etc/motcua/motcua.env would set it)."""
    env = dict(
        os.environ,
        FLASK_SQLALCHEMY_DATABASE_URI=db_url,
        FLASK_SECRET_KEY=SECRET,
        FLASK_PRINTER__BACKEND="dummy",
        FLASK_WORKING_HOURS="null",
        FLASK_PASSWORD_HASH_METHOD="pbkdf2:sha256:1000",
        PYTHONPATH=os.pathsep.join([str(ROOT), str(BENCH)]),
    )
    if queue:
        env["FLASK_SOCKETIO_MESSAGE_QUEUE"] = queue
    return env


def nginx_site(ports: list[int], listen: int) -> str:
    """deploy/nginx/motcua.conf with this cluster's listen port and upstream servers."""
    site = (ROOT / "deploy" / "nginx" / "motcua.conf").read_text()
    servers = "".join(f"    server 127.0.0.1:{p};\n" for p in ports)
    site = re.sub(r"(    server 127\.0\.0\.1:\d+;\n)+", servers, site)
    site = re.sub(r"    listen \[::\]:80 default_server;\n", "", site)
    return site.replace("listen 80 default_server;", f"listen 127.0.0.1:{listen};")


class Cluster:
    """Server processes (+ Redis, + nginx) on loopback; ``base`` is where clients go."""

    def __init__(
        self,
        workdir: Path,
        db_url: str,
        processes: int = 1,
        nginx: bool = False,
        redis: bool | None = None,
        async_mode: str = "gevent",
    ) -> None:
        self.workdir, self.db_url, self.async_mode = workdir, db_url, async_mode
        self.ports = [free_port() for _ in range(processes)]
        self.use_nginx = nginx
        self.use_redis = processes > 1 if redis is None else redis
        self.procs: list[subprocess.Popen[bytes]] = []
        self.servers: list[subprocess.Popen[bytes]] = []
        self.queue: str | None = None
        self.nginx_port: int | None = None

    @property
    def base(self) -> str:
        """The URL clients use: nginx's, or the only process's."""
        port = self.nginx_port if self.use_nginx else self.ports[0]
        return f"http://127.0.0.1:{port}"

    def __enter__(self) -> Cluster:
        try:
            self.start()
        except BaseException:
            self.stop()
            raise
        return self

    def __exit__(
        self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()

    def start(self) -> None:
        """Redis, the server processes, then nginx; returns when all answer."""
        if self.use_redis:
            port = free_port()
            redis_server = shutil.which("redis-server")
            if not redis_server:
                raise RuntimeError("redis-server not installed (apt-get install redis-server)")
            self.procs.append(
                subprocess.Popen(
                    [redis_server, "--port", str(port), "--bind", "127.0.0.1", "--save", ""]
                    + ["--appendonly", "no", "--loglevel", "warning"],
                    stdout=subprocess.DEVNULL,
                )
            )
            wait_port(port)
            self.queue = f"redis://127.0.0.1:{port}/0"
        env = server_env(self.db_url, self.queue)
        for port in self.ports:
            cmd = [str(VENV_BIN / "gunicorn"), "-k", "gevent", "-w", "1"]
            cmd += ["--worker-connections", "10000", "-b", f"127.0.0.1:{port}"]
            cmd += ["--log-level", "warning", APPS[self.async_mode]]
            proc = subprocess.Popen(cmd, cwd=self.workdir, env=env, preexec_fn=_raise_fd_limit)
            self.procs.append(proc)
            self.servers.append(proc)
        for port in self.ports:
            wait_port(port, path="/healthz")
        if self.use_nginx:
            self._start_nginx()

    def _start_nginx(self) -> None:
        nginx = shutil.which("nginx") or "/usr/sbin/nginx"
        if not Path(nginx).exists():
            raise RuntimeError("nginx not installed (apt-get install nginx)")
        prefix = self.workdir / "nginx"
        prefix.mkdir(exist_ok=True)
        self.nginx_port = free_port()
        (prefix / "access.log").unlink(missing_ok=True)  # upstream_split: this cluster's only
        (prefix / "motcua.conf").write_text(nginx_site(self.ports, self.nginx_port))
        temp = " ".join(
            f"{kind}_temp_path {prefix / kind};"
            for kind in ("client_body", "proxy", "fastcgi", "uwsgi", "scgi")
        )
        user = "user root;\n" if os.geteuid() == 0 else ""
        (prefix / "nginx.conf").write_text(
            f"{user}daemon off;\nworker_processes 2;\nworker_rlimit_nofile 40000;\n"
            f"pid {prefix / 'nginx.pid'};\nerror_log {prefix / 'error.log'} warn;\n"
            "events { worker_connections 20000; }\n"
            "http {\n"
            "  log_format upstream '$upstream_addr $status';\n"
            f"  access_log {prefix / 'access.log'} upstream buffer=64k flush=1s;\n"
            f"  {temp}\n"
            f"  include {prefix / 'motcua.conf'};\n"
            "}\n"
        )
        self.procs.append(
            subprocess.Popen(
                [nginx, "-p", str(prefix), "-c", str(prefix / "nginx.conf")],
                preexec_fn=_raise_fd_limit,
            )
        )
        wait_port(self.nginx_port, path="/healthz")

    def upstream_split(self) -> dict[str, int]:
        """Requests nginx passed to each process so far (from its access log)."""
        log = self.workdir / "nginx" / "access.log"
        split: dict[str, int] = {}
        if log.exists():
            for line in log.read_text().splitlines():
                addr = line.split(" ", 1)[0]
                split[addr] = split.get(addr, 0) + 1
        return split

    def worker_pids(self) -> list[int]:
        """The gunicorn worker process of each server (the one that holds connections)."""
        pids = []
        for proc in self.servers:
            try:
                children = Path(f"/proc/{proc.pid}/task/{proc.pid}/children").read_text().split()
            except OSError:
                children = []
            pids.extend(int(c) for c in children)
        return pids

    def stop(self) -> None:
        """Stop everything this cluster started (nginx first, Redis last)."""
        for proc in reversed(self.procs):
            if proc.poll() is None:
                proc.terminate()
        for proc in reversed(self.procs):
            try:
                proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
        self.procs.clear()


def rss_mb(pid: int) -> float:
    """Resident memory of a process, MB (VmRSS from /proc)."""
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return float("nan")
