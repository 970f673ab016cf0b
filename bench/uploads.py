"""A web worker's memory under large uploads: 10 concurrent 50 MB videos, against a floor app.

    .venv/bin/python -m bench.uploads [--database-url postgresql://postgres@127.0.0.1:5432/test] [--size-mb 50]

Creates a throwaway schema, seeds it, starts two gunicorn servers of ONE worker each, 10 threads
(``gthread``): every upload of a round lands in the same process, the harshest case for its memory
(production's sync workers take one request each). Signal93 takes ``POST /api/v1/reports``
(multipart: the report's JSON and a video, a Vigies de l'Eau overflow) and stores the original in
its local media folder; the floor app (bench/floor_app.py) only parses the same body with werkzeug
and copies the file to disk. Each side gets 10 concurrent uploads of a distinct 50 MB MP4 (its
``moov`` differs: no content-addressed shortcut), in alternating rounds; the worker's resident
memory is sampled every 5 ms. Prints, per side, the resident memory before, the peak and the
growth (target for Signal93: under 100 MB), the ratio to the floor's growth, and the time a round
took.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import struct
import tempfile
import threading
import time
import uuid
from contextlib import ExitStack
from pathlib import Path

from bench.intake import CLIENT_ID, bodies, seeded_schema, serve

CONCURRENT = 10
BOUNDARY = "signal93-bench-boundary"


def box(kind: bytes, payload: bytes) -> bytes:
    return struct.pack(">I4s", 8 + len(payload), kind) + payload


class Video:
    """An MP4 of ``size`` bytes on disk (its media data), with a distinct ``moov`` per upload."""

    def __init__(self, folder: Path, size: int):
        self.head_size = len(self.head(0))
        self.mdat = folder / "mdat"
        with self.mdat.open("wb") as handle:
            handle.write(struct.pack(">I4s", size - self.head_size, b"mdat"))
            remaining = size - self.head_size - 8
            block = os.urandom(1 << 20)
            while remaining > 0:
                remaining -= handle.write(block[: min(len(block), remaining)])
        self.size = size

    @staticmethod
    def head(n: int) -> bytes:
        ftyp = box(b"ftyp", b"isom\x00\x00\x02\x00isommp41")
        moov = box(b"moov", box(b"mvhd", b"\x00" * 100) + box(b"udta", box(b"\xa9cmt", f"{n:016d}".encode())))
        return ftyp + moov


async def upload(port: int, path: str, report: bytes, video: Video, n: int) -> int:
    report = report.replace(CLIENT_ID.encode(), str(uuid.uuid4()).encode())
    preamble = (
        f'--{BOUNDARY}\r\nContent-Disposition: form-data; name="report"\r\n\r\n'.encode()
        + report
        + f'\r\n--{BOUNDARY}\r\nContent-Disposition: form-data; name="video"; filename="video.mp4"\r\n'
        f"Content-Type: video/mp4\r\n\r\n".encode()
        + video.head(n)
    )
    epilogue = f"\r\n--{BOUNDARY}--\r\n".encode()
    length = len(preamble) + (video.size - video.head_size) + len(epilogue)
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    writer.write(
        f"POST {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: multipart/form-data; boundary={BOUNDARY}\r\n"
        f"Content-Length: {length}\r\nConnection: close\r\n\r\n".encode()
        + preamble
    )
    with video.mdat.open("rb") as handle:
        while chunk := handle.read(1 << 20):
            writer.write(chunk)
            await writer.drain()
    writer.write(epilogue)
    await writer.drain()
    status_line = await reader.readline()
    answer = await reader.read()
    writer.close()
    status = int(status_line.split()[1])
    if status >= 300:
        raise RuntimeError(f"{path} answered {status}: {answer[-500:]!r}")
    return status


def rss(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) * 1024
    raise RuntimeError(f"no VmRSS for {pid}")


def worker_pid(master: int) -> int:
    deadline = time.time() + 30
    while time.time() < deadline:
        children = Path(f"/proc/{master}/task/{master}/children").read_text().split()
        if children:
            return int(children[0])
        time.sleep(0.1)
    raise RuntimeError("no gunicorn worker")


def measured_round(
    port: int, path: str, reports: list[bytes], video: Video, pid: int, first: int
) -> tuple[int, int, float]:
    """Resident memory before and at its peak, and the seconds taken, for CONCURRENT uploads."""
    before = rss(pid)
    peak, running = before, True

    def sample() -> None:
        nonlocal peak
        while running:
            peak = max(peak, rss(pid))
            time.sleep(0.005)

    sampler = threading.Thread(target=sample)
    sampler.start()
    start = time.perf_counter()

    async def all_uploads() -> None:
        await asyncio.gather(
            *(upload(port, path, reports[i % len(reports)], video, first + i) for i in range(CONCURRENT))
        )

    try:
        asyncio.run(all_uploads())
    finally:
        running = False
        sampler.join()
    return before, peak, time.perf_counter() - start


ONE_WORKER = ("--workers", "1", "--worker-class", "gthread", "--threads", str(CONCURRENT), "--timeout", "300")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--database-url", default="postgresql://postgres@127.0.0.1:5432/test")
    parser.add_argument("--size-mb", type=float, default=50.0, help="each video's size, in MB (10^6 bytes)")
    parser.add_argument("--rounds", type=int, default=2, help="alternating rounds; the worst of each side counts")
    args = parser.parse_args()

    reports = [
        json.dumps({**json.loads(body), "category": "debordement-avaloir", "attributes": {"pluie": "oui"}}).encode()
        for body in bodies(CONCURRENT)
    ]
    results: dict[str, list[tuple[int, int, float]]] = {"floor": [], "signal93": []}
    with seeded_schema(args.database_url) as (_, _, env), tempfile.TemporaryDirectory() as work, ExitStack() as stack:
        video = Video(Path(work), int(args.size_mb * 1_000_000))
        (Path(work) / "small").mkdir()
        small = Video(Path(work) / "small", 600_000)
        ours = worker_pid(serve(stack, "wsgi:app", 18095, env, ONE_WORKER))
        floor = worker_pid(serve(stack, "bench.floor_app:app", 18096, env, ONE_WORKER))
        for port, path in ((18095, "/api/v1/reports"), (18096, "/floor/upload")):  # warm-up: a small one each
            asyncio.run(upload(port, path, reports[0], small, 10**9 + port))
        for index in range(args.rounds):
            first = (index + 1) * 1000
            results["floor"].append(measured_round(18096, "/floor/upload", reports, video, floor, first))
            results["signal93"].append(measured_round(18095, "/api/v1/reports", reports, video, ours, first))
    mb = 1024 * 1024
    total = CONCURRENT * args.size_mb
    print(
        f"gunicorn, 1 gthread worker with {CONCURRENT} threads; {CONCURRENT} concurrent uploads of {args.size_mb:g} MB"
    )
    growth = {}
    for side, rounds in results.items():
        before, peak, seconds = max(rounds, key=lambda r: r[1] - r[0])
        growth[side] = (peak - before) / mb
        print(
            f"{side:9}: resident {before / mb:6.1f} MB before, peak {peak / mb:6.1f} MB, "
            f"growth {growth[side]:6.1f} MB; {total / seconds:6.1f} MB/s received"
        )
    print(f"signal93 growth: {growth['signal93']:.1f} MB (target < 100 MB) for {total:g} MB uploaded")
    print(f"ratio to the floor's growth: {growth['signal93'] / max(growth['floor'], 0.1):.2f}")


if __name__ == "__main__":
    main()
