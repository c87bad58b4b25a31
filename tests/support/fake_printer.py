"""A fake network receipt printer on 127.0.0.1: records jobs, answers DLE EOT status queries."""

from __future__ import annotations

import socket
import threading
import time
from types import TracebackType

DLE_EOT = b"\x10\x04"

# Status bytes per state for DLE EOT 1 (printer), 2 (offline cause), 3 (error cause),
# 4 (paper sensor), as an Epson TM printer answers them. None: the printer never answers.
STATES: dict[str, dict[int, int] | None] = {
    "ok": {1: 0x12, 2: 0x12, 3: 0x12, 4: 0x12},
    "near_end": {1: 0x12, 2: 0x12, 3: 0x12, 4: 0x1E},
    "paper_out": {1: 0x1A, 2: 0x32, 3: 0x12, 4: 0x72},
    "cover_open": {1: 0x1A, 2: 0x16, 3: 0x12, 4: 0x12},
    "error": {1: 0x1A, 2: 0x52, 3: 0x1A, 4: 0x12},
    "garbage": {1: 0x00, 2: 0x00, 3: 0x00, 4: 0x00},
    "silent": None,
}


class FakePrinter:
    """A TCP server on an ephemeral port that behaves like an ESC/POS printer in `state`."""

    def __init__(self, state: str = "ok") -> None:
        """Listen on 127.0.0.1 and serve connections in background threads."""
        if state not in STATES:
            raise ValueError(f"unknown state {state!r}")
        self.state = state
        self.jobs: list[bytes] = []
        self.queries: list[int] = []
        self.connections = 0
        self.closed_connections = 0
        self._changed = threading.Condition()
        self._stop = threading.Event()
        self._server = socket.create_server(("127.0.0.1", 0))
        self._server.settimeout(0.1)
        self.port: int = self._server.getsockname()[1]
        self._threads: list[threading.Thread] = []
        self._accept_thread = threading.Thread(target=self._accept, daemon=True)
        self._accept_thread.start()

    @property
    def config(self) -> dict[str, object]:
        """Return a network backend config pointing at this printer."""
        return {"backend": "network", "host": "127.0.0.1", "port": self.port}

    def wait_for(self, closed_connections: int, timeout: float = 3.0) -> bool:
        """Wait until this many connections have been closed by the client."""
        deadline = time.monotonic() + timeout
        with self._changed:
            while self.closed_connections < closed_connections:
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    return False
                self._changed.wait(remaining)
        return True

    def close(self) -> None:
        """Stop serving and close every socket."""
        self._stop.set()
        self._accept_thread.join(2)
        for thread in self._threads:
            thread.join(2)
        self._server.close()

    def __enter__(self) -> FakePrinter:
        """Return the running printer."""
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        """Close the printer."""
        self.close()

    def _accept(self) -> None:
        while not self._stop.is_set():
            try:
                conn, _ = self._server.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            with self._changed:
                self.connections += 1
            thread = threading.Thread(target=self._serve, args=(conn,), daemon=True)
            self._threads.append(thread)
            thread.start()

    def _serve(self, conn: socket.socket) -> None:
        answers = STATES[self.state]
        buffer = bytearray()
        job = bytearray()
        querying = True  # status queries come first; after the first other byte, all is job
        conn.settimeout(0.1)
        with conn:
            while not self._stop.is_set():
                try:
                    chunk = conn.recv(65536)
                except TimeoutError:
                    continue
                except OSError:
                    break
                if not chunk:
                    break
                if not querying:
                    job += chunk
                    continue
                buffer += chunk
                while querying and buffer:
                    if buffer[:2] == DLE_EOT and len(buffer) >= 3:
                        n = buffer[2]
                        del buffer[:3]
                        with self._changed:
                            self.queries.append(n)
                        if answers is not None:
                            conn.sendall(bytes((answers.get(n, 0x12),)))
                    elif DLE_EOT.startswith(bytes(buffer[:2])) and len(buffer) < 3:
                        break  # a query cut in two by TCP: wait for the rest
                    else:
                        querying = False
                        job += buffer
                        buffer.clear()
        with self._changed:
            if job:
                self.jobs.append(bytes(job))
            self.closed_connections += 1
            self._changed.notify_all()


def closed_port() -> int:
    """Return a localhost port with nothing listening (connecting to it is refused)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]
