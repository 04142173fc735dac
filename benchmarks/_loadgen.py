"""A small HTTP/1.1 load generator (a separate process from the server under test).

Open loop: requests are scheduled at a fixed rate and latency is measured from the scheduled
time, so a slow server cannot hide its queueing (no coordinated omission). Closed loop: N
connections send back to back, for the throughput ceiling. Keep-alive connections, raw
asyncio streams (a full HTTP client costs more CPU than the server on 2 cores).

    python benchmarks/_loadgen.py --port 8000 --key KEY --paths paths.txt --rate 500 --seconds 20
prints one JSON object: sent, ok, errors, achieved rps, p50/p90/p99/max latency in ms.
"""

from __future__ import annotations

import argparse
import asyncio
import random
import time
from pathlib import Path

import orjson


class Conn:
    def __init__(self, host: str, port: int, headers: bytes) -> None:
        self.host, self.port, self.headers = host, port, headers
        self.reader: asyncio.StreamReader | None = None
        self.writer: asyncio.StreamWriter | None = None

    async def get(self, path: str) -> int:
        if self.writer is None:
            self.reader, self.writer = await asyncio.open_connection(self.host, self.port)
        assert self.reader is not None
        self.writer.write(b"GET " + path.encode() + b" HTTP/1.1\r\n" + self.headers + b"\r\n")
        head = await self.reader.readuntil(b"\r\n\r\n")
        status = int(head[9:12])
        length = 0
        for line in head.split(b"\r\n"):
            if line[:15].lower() == b"content-length:":
                length = int(line[15:])
        if length:
            await self.reader.readexactly(length)
        return status


def _summary(lat: list[float], sent: int, errors: int, seconds: float) -> dict[str, float]:
    lat.sort()

    def pct(p: float) -> float:
        return round(lat[min(len(lat) - 1, int(p * len(lat)))] * 1000, 2) if lat else 0.0

    return {
        "sent": sent,
        "ok": len(lat),
        "errors": errors,
        "rps": round(len(lat) / seconds, 1),
        "p50_ms": pct(0.50),
        "p90_ms": pct(0.90),
        "p99_ms": pct(0.99),
        "max_ms": round(lat[-1] * 1000, 2) if lat else 0.0,
    }


async def open_loop(
    host: str, port: int, headers: bytes, paths: list[str], rate: float, seconds: float
) -> dict[str, float]:
    pool: asyncio.Queue[Conn] = asyncio.Queue()
    for _ in range(64):
        pool.put_nowait(Conn(host, port, headers))
    lat: list[float] = []
    errors = 0

    async def one(path: str, scheduled: float) -> None:
        nonlocal errors
        conn = await pool.get()
        try:
            status = await conn.get(path)
            if status == 200:
                lat.append(time.perf_counter() - scheduled)
            else:
                errors += 1
        except (OSError, asyncio.IncompleteReadError, ValueError):
            errors += 1
            conn = Conn(host, port, headers)
        finally:
            pool.put_nowait(conn)

    start = time.perf_counter()
    n = int(rate * seconds)
    tasks = []
    for i in range(n):
        scheduled = start + i / rate
        delay = scheduled - time.perf_counter()
        if delay > 0:
            await asyncio.sleep(delay)
        tasks.append(asyncio.create_task(one(random.choice(paths), scheduled)))
    await asyncio.gather(*tasks)
    return _summary(lat, n, errors, time.perf_counter() - start)


async def closed_loop(
    host: str,
    port: int,
    headers: bytes,
    paths: list[str],
    conns: int,
    seconds: float,
    sweeps: int = 0,
) -> dict[str, float]:
    """Random paths for ``seconds``; or, with ``sweeps``, every path in order that many
    times (a warm-up that reaches every path, whatever the time it takes)."""
    lat: list[float] = []
    errors = 0
    sent = 0
    stop = time.perf_counter() + seconds
    todo = iter(paths * sweeps) if sweeps else None

    def next_path() -> str | None:
        if todo is None:
            return random.choice(paths) if time.perf_counter() < stop else None
        return next(todo, None)

    async def worker() -> None:
        nonlocal errors, sent
        conn = Conn(host, port, headers)
        while (path := next_path()) is not None:
            t = time.perf_counter()
            sent += 1
            try:
                status = await conn.get(path)
            except (OSError, asyncio.IncompleteReadError, ValueError):
                errors += 1
                conn = Conn(host, port, headers)
                continue
            if status == 200:
                lat.append(time.perf_counter() - t)
            else:
                errors += 1

    start = time.perf_counter()
    await asyncio.gather(*(worker() for _ in range(conns)))
    return _summary(lat, sent, errors, time.perf_counter() - start)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--host", default="127.0.0.1")
    ap.add_argument("--port", type=int, required=True)
    ap.add_argument("--key", default="")
    ap.add_argument("--paths", required=True, help="file with one request path per line")
    ap.add_argument("--rate", type=float, help="open loop at this many requests/s")
    ap.add_argument("--conns", type=int, default=16, help="closed loop connections")
    ap.add_argument("--seconds", type=float, default=15)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--sweeps", type=int, default=0, help="closed loop: each path N times")
    a = ap.parse_args()
    random.seed(a.seed)
    paths = [p for p in Path(a.paths).read_text().splitlines() if p]
    headers = f"Host: {a.host}\r\n".encode()
    if a.key:
        headers += f"Authorization: Bearer {a.key}\r\n".encode()
    if a.rate:
        out = asyncio.run(open_loop(a.host, a.port, headers, paths, a.rate, a.seconds))
    else:
        out = asyncio.run(closed_loop(a.host, a.port, headers, paths, a.conns, a.seconds, a.sweeps))
    print(orjson.dumps(out).decode())


if __name__ == "__main__":
    main()
