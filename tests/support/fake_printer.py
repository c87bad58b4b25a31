"""A fake network receipt printer on 127.0.0.1: records jobs, answers as an ESC/POS printer.

It reads the stream command by command (raster blocks skipped by their length), answers
``DLE EOT n`` at once (real-time), and ``GS ( H`` fn 48 (process ID) and ``GS r 1`` in order,
after everything before them, as an Epson TM does. Faults of the kind seen in halls:

- ``stall``: answers the status queries, then never reads again (a jammed printer whose
  buffer fills; the operating system still swallows a whole ticket);
- ``close_after``: closes the link after that many bytes of the job;
- ``paper_out_after_job``: takes the whole job, then runs out of paper: the in-order answers
  never come and ``DLE EOT`` says paper out;
- ``confirms=False``: ignores ``GS ( H`` and ``GS r`` (printers that cannot confirm);
- ``answer_delay``: every status answer comes this many seconds late (a busy printer).
"""

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

# Fixed-length commands: prefix -> total length (raster and GS ( x are read by their length).
_FIXED = {
    b"\x1b@": 2,
    b"\x1bd": 3,
    b"\x1bJ": 3,
    b"\x1ba": 3,
    b"\x1dL": 4,
    b"\x1dP": 4,
    b"\x1dr": 3,
    b"\x10\x04": 3,
}


class FakePrinter:
    """A TCP server on an ephemeral port that behaves like an ESC/POS printer in `state`."""

    def __init__(
        self,
        state: str = "ok",
        *,
        stall: bool = False,
        close_after: int | None = None,
        paper_out_after_job: bool = False,
        confirms: bool = True,
        answer_delay: float = 0.0,
    ) -> None:
        """Listen on 127.0.0.1 and serve connections in background threads."""
        if state not in STATES:
            raise ValueError(f"unknown state {state!r}")
        self.state = state
        self.stall = stall
        self.close_after = close_after
        self.paper_out_after_job = paper_out_after_job
        self.confirms = confirms
        self.answer_delay = answer_delay
        self.jobs: list[bytes] = []
        self.queries: list[int] = []
        self.confirmations = 0
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

    def _answer(self, conn: socket.socket, n: int, paper_out: bool) -> None:
        answers = STATES["paper_out" if paper_out else self.state]
        with self._changed:
            self.queries.append(n)
        if answers is None:
            return
        if self.answer_delay:
            time.sleep(self.answer_delay)
        conn.sendall(bytes((answers.get(n, 0x12),)))

    def _serve(self, conn: socket.socket) -> None:
        buffer = bytearray()
        job = bytearray()
        paper_out = False
        stalled = False
        conn.settimeout(0.1)
        with conn:
            while not self._stop.is_set():
                if stalled:
                    time.sleep(0.05)  # never read again: the client's bytes pile up
                    continue
                try:
                    chunk = conn.recv(4096)
                except TimeoutError:
                    continue
                except OSError:
                    break
                if not chunk:
                    break
                buffer += chunk
                try:
                    while buffer:
                        size = _command_size(buffer)
                        if size is None or size > len(buffer):
                            break  # wait for the rest of the command
                        command = bytes(buffer[:size])
                        del buffer[:size]
                        if command.startswith(DLE_EOT):
                            self._answer(conn, command[2], paper_out)
                            if self.stall and not job:
                                stalled = len(self.queries) >= 2  # after DLE EOT 1 and 4
                            continue
                        job += command
                        if self.close_after is not None and len(job) >= self.close_after:
                            raise ConnectionAbortedError
                        if command.startswith((b"\x1d(H", b"\x1dr")):
                            self._in_order(conn, command, paper_out)
                        if self.paper_out_after_job and command.startswith(b"\x1dV"):
                            paper_out = True
                except ConnectionAbortedError:
                    break
        with self._changed:
            if job:
                self.jobs.append(bytes(job))
            self.closed_connections += 1
            self._changed.notify_all()

    def _in_order(self, conn: socket.socket, command: bytes, paper_out: bool) -> None:
        """Answer GS ( H fn 48 and GS r 1 once everything before them is 'printed'."""
        if not self.confirms or paper_out:
            return  # out of paper the printer stops: data after it is held, never answered
        with self._changed:
            self.confirmations += 1
        if command.startswith(b"\x1d(H") and command[5:7] == b"\x30\x30":
            conn.sendall(b"\x37\x22" + command[7:11] + b"\x00")
        elif command.startswith(b"\x1dr"):
            conn.sendall(b"\x00")  # paper present, not near its end


def _command_size(buffer: bytearray) -> int | None:
    """Bytes of the command at the start of ``buffer`` (None: not enough bytes to tell)."""
    head = bytes(buffer[:3])
    if head.startswith(b"\x1dv0"):
        if len(buffer) < 8:
            return None
        return 8 + (buffer[4] | buffer[5] << 8) * (buffer[6] | buffer[7] << 8)
    if head.startswith(b"\x1d(") and len(head) == 3:
        if len(buffer) < 5:
            return None
        return 5 + (buffer[3] | buffer[4] << 8)
    if head.startswith(b"\x1dV"):
        if len(buffer) < 3:
            return None
        return 4 if buffer[2] in (65, 66) else 3
    for prefix, size in _FIXED.items():
        if head.startswith(prefix):
            return size
    if len(head) < 2 and head[:1] in (b"\x1b", b"\x1d", b"\x10"):
        return None
    return 1  # a plain byte


def closed_port() -> int:
    """Return a localhost port with nothing listening (connecting to it is refused)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]
