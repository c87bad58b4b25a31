"""The benchmark's client processes: held Socket.IO connections and kiosks (bench_scale.py).

Kept light (the standard library and ``websockets``): a client process starts in a fraction
of a second, and the CPU it spends starting is not taken from the server being measured.
"""

from __future__ import annotations

import asyncio
import http.client
import json
import time
import uuid
from collections import Counter
from typing import Any

KIOSKS = 8
SERVICES = ("A", "B", "C", "D", "E", "F", "G", "H")
Spec = tuple[str, str, str | None]  # namespace, auth (JSON), cookie


def receipt_key(ticket: dict[str, Any]) -> str:
    """A call's key across sites: every site numbers from A001, so the site code comes first."""
    return f"{ticket.get('site_code')}/{ticket['code']}"


async def _hold_one(
    url: str, spec: Spec, record: bool, sem: asyncio.Semaphore, state: dict[str, Any]
) -> None:
    """Connect as the page does (namespace connect, then snapshot), then idle; note calls."""
    import websockets

    namespace, auth, cookie = spec
    async with sem:
        try:
            ws = await websockets.connect(
                url,
                additional_headers={"Cookie": cookie} if cookie else None,
                ping_interval=None,
                compression=None,
                open_timeout=60,
                max_size=None,
            )
            await asyncio.wait_for(ws.recv(), 60)  # Engine.IO open packet
            await ws.send(f"40{namespace},{auth}")
            while True:
                msg = await asyncio.wait_for(ws.recv(), 60)
                if msg == "2":
                    await ws.send("3")
                elif msg.startswith(f"40{namespace},"):
                    break
                elif msg.startswith(f"44{namespace},"):
                    raise RuntimeError(f"refused: {msg[:160]}")
            await ws.send(f'42{namespace},1["snapshot",{{}}]')
        except Exception as exc:  # noqa: BLE001  (counted and reported)
            state["failed"] += 1
            if len(state["why"]) < 5:
                state["why"].append(f"{namespace}: {exc!r}"[:200])
            return
    state["connected"] += 1
    called = f'42{namespace},["ticket_called",'
    own_site = json.loads(auth).get("site")  # a display bound to a site (phase_sites)
    try:
        async for msg in ws:
            if msg == "2":
                await ws.send("3")
            elif record and isinstance(msg, str) and msg.startswith(called):
                at = time.perf_counter()
                ticket = json.loads(msg[len(namespace) + 3 :])[1]["ticket"]
                state["receipts"].append((receipt_key(ticket), at))
                if own_site is not None and ticket.get("site_code") != own_site:
                    state["foreign"] += 1
    except Exception:  # noqa: BLE001  (a closed link: counted below)
        pass
    if not state["stopping"]:
        state["dropped"].append(time.perf_counter())


async def _hold_all(
    base: str, specs: list[Spec], record: bool, ready: Any, stop: Any, results: Any
) -> None:
    url = base.replace("http://", "ws://") + "/socket.io/?EIO=4&transport=websocket"
    state: dict[str, Any] = {
        "connected": 0,
        "failed": 0,
        "dropped": [],
        "why": [],
        "receipts": [],
        "foreign": 0,
        "stopping": False,
    }
    sem = asyncio.Semaphore(64)  # connections being opened at once, per client process
    started = time.perf_counter()
    tasks = [asyncio.create_task(_hold_one(url, s, record, sem, state)) for s in specs]
    while state["connected"] + state["failed"] < len(specs):
        await asyncio.sleep(0.05)
    ready.put((state["connected"], state["failed"], time.perf_counter() - started, state["why"]))
    loop = asyncio.get_running_loop()
    await loop.run_in_executor(None, stop.wait)
    state["stopping"] = True
    results.put((state["receipts"], state["dropped"], state["connected"], state["foreign"]))
    for task in tasks:
        task.cancel()


def hold_main(
    base: str, specs: list[Spec], record: bool, ready: Any, stop: Any, results: Any
) -> None:
    """A client process holding its share of the connections until ``stop`` is set."""
    asyncio.run(_hold_all(base, specs, record, ready, stop, results))


def kiosk_main(
    port: int,
    n: int,
    gap_s: float,
    offset: int,
    source: str | None,
    out: Any,
    stop: Any,
    ready: Any,
    go: Any,
) -> None:
    """One kiosk: n tickets (until ``stop`` when n is 0), one every gap_s; latencies, codes.

    It says ``ready`` once started, then waits for ``go``: the kiosks start together, after
    their processes' start-up, which is not part of what is measured.
    """
    ready.put(offset)
    go.wait()
    conn = http.client.HTTPConnection(
        "127.0.0.1", port, timeout=30, source_address=(source, 0) if source else None
    )
    latencies: list[float] = []
    codes: list[str] = []
    errors: Counter[str] = Counter()
    i = 0
    next_at = time.perf_counter() + gap_s * offset / KIOSKS  # kiosks not in phase
    while (i < n) if n else not stop.is_set():
        if gap_s:
            time.sleep(max(0.0, next_at - time.perf_counter()))
            next_at += gap_s
        body = json.dumps({"service": SERVICES[(offset + i) % len(SERVICES)]})
        headers = {"Content-Type": "application/json", "Idempotency-Key": str(uuid.uuid4())}
        t = time.perf_counter()
        try:
            try:
                conn.request("POST", "/api/v1/tickets", body=body, headers=headers)
                resp = conn.getresponse()
            except (BrokenPipeError, ConnectionResetError, http.client.RemoteDisconnected):
                # The server closed an idle keep-alive connection (gunicorn: after 2 s), as a
                # browser finds out too: it opens a new one and sends again. The idempotency
                # key makes the retry safe: the server never issues a second ticket for it.
                conn.close()
                conn.request("POST", "/api/v1/tickets", body=body, headers=headers)
                resp = conn.getresponse()
            data = resp.read()
        except OSError as exc:
            errors[type(exc).__name__] += 1
            conn.close()
            i += 1
            continue
        latencies.append(1000 * (time.perf_counter() - t))
        if resp.status == 201:
            ticket = json.loads(data)
            codes.append(f"{ticket['business_day']}/{ticket['code']}")
        else:
            errors[str(resp.status)] += 1
        i += 1
    out.put((latencies, codes, dict(errors)))
