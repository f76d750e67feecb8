"""Load test of `ferkit serve` on loopback: requests/s and latency percentiles of POST /v1/predict.

Starts `ferkit serve` in its own process, then for each concurrency runs that many client loops for a
fixed time, each posting a 640x480 JPEG holding one face (the bundled sample photo) and waiting for the
answer. A 503 is the server refusing work beyond its queue on purpose: the client waits the Retry-After
it was given, as a well-behaved client does, and the 503s are counted apart. Any other failure is an
error and fails the run. Writes benchmarks/results/service.json with the hardware and date.

    .venv/bin/python benchmarks/bench_service.py [--model small] [--detectors yunet,yunet-ort]
        [--concurrency 1,8,32] [--duration-s 20]
"""

from __future__ import annotations

import argparse
import asyncio
import collections
import json
import os
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime, timezone
from pathlib import Path

import cv2
import httpx
import numpy as np
import onnxruntime
from machine import hardware

from ferkit.inference import sample_image_path

REPO_ROOT = Path(__file__).resolve().parents[1]
DEFAULT_YUNET = REPO_ROOT / ".." / "shared" / "models" / "face_detection_yunet_2026may.onnx"
RESULT = REPO_ROOT / "benchmarks" / "results" / "service.json"
TARGET = {"concurrency": 8, "min_requests_per_s": 50.0, "max_p99_ms": 200.0}


def one_face_jpeg(width: int = 640, height: int = 480) -> bytes:
    """The sample portrait scaled to the frame's height and centred on a grey 640x480 background."""
    photo = cv2.imread(str(sample_image_path()))
    face = cv2.resize(photo, (height, height), interpolation=cv2.INTER_AREA)
    frame = np.full((height, width, 3), 200, np.uint8)
    left = (width - height) // 2
    frame[:, left:left + height] = face
    ok, jpeg = cv2.imencode(".jpg", frame, [cv2.IMWRITE_JPEG_QUALITY, 90])
    if not ok:
        raise RuntimeError("JPEG encoding failed")
    return jpeg.tobytes()


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@contextmanager
def running_server(serve_args: list[str]) -> Iterator[tuple[str, int]]:
    """`ferkit serve` on a free loopback port; yields (base URL, process id) once /readyz answers."""
    port = free_port()
    command = [sys.executable, "-m", "ferkit.apps.cli", "serve", "--host", "127.0.0.1", "--port", str(port),
               *serve_args]
    with tempfile.TemporaryFile() as log:
        process = subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT)
        url = f"http://127.0.0.1:{port}"
        try:
            deadline = time.monotonic() + 60
            while True:
                try:
                    if httpx.get(f"{url}/readyz").status_code == 200:
                        break
                except httpx.TransportError:
                    pass
                if process.poll() is not None or time.monotonic() > deadline:
                    log.seek(0)
                    raise RuntimeError(f"ferkit serve did not start:\n{log.read().decode()[-3000:]}")
                time.sleep(0.2)
            yield url, process.pid
        finally:
            process.terminate()
            process.wait(timeout=30)


def memory_mb(pid: int) -> dict[str, float]:
    """Resident memory of a process now, and its peak, from /proc."""
    fields = {}
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        key, _, value = line.partition(":")
        if key in ("VmRSS", "VmHWM"):
            fields[key] = round(int(value.split()[0]) / 1024, 1)
    return {"rss_mb": fields["VmRSS"], "peak_rss_mb": fields["VmHWM"]}


async def load(url: str, body: bytes, concurrency: int, duration_s: float) -> dict:
    """`concurrency` client loops posting `body` for `duration_s`; latency of every 200, count of every status."""
    latencies: list[float] = []
    server_ms: dict[str, list[float]] = collections.defaultdict(list)
    statuses: collections.Counter[str] = collections.Counter()
    limits = httpx.Limits(max_connections=concurrency, max_keepalive_connections=concurrency)
    headers = {"content-type": "image/jpeg"}
    async with httpx.AsyncClient(base_url=url, limits=limits, timeout=30.0) as client:
        deadline = time.perf_counter() + duration_s

        async def user() -> None:
            while time.perf_counter() < deadline:
                start = time.perf_counter()
                try:
                    response = await client.post("/v1/predict", content=body, headers=headers)
                except httpx.HTTPError as exc:
                    statuses[type(exc).__name__] += 1
                    continue
                statuses[str(response.status_code)] += 1
                if response.status_code == 200:
                    latencies.append(time.perf_counter() - start)
                    for key, value in response.json()["timing_ms"].items():
                        server_ms[key].append(value)
                elif response.status_code == 503:
                    await asyncio.sleep(float(response.headers.get("retry-after", "1")))

        start = time.perf_counter()
        await asyncio.gather(*(user() for _ in range(concurrency)))
        elapsed = time.perf_counter() - start
    ms = np.array(latencies) * 1000.0
    return {
        "concurrency": concurrency,
        "duration_s": round(elapsed, 2),
        "requests_ok": len(latencies),
        "requests_per_s": round(len(latencies) / elapsed, 1),
        "latency_ms": {f"p{q}": round(float(np.percentile(ms, q)), 1) for q in (50, 95, 99)} if len(ms) else {},
        "server_mean_ms": {k: round(float(np.mean(v)), 2) for k, v in server_ms.items()},
        "statuses": dict(statuses),
        "deliberate_503": statuses.get("503", 0),
        "errors": sum(n for status, n in statuses.items() if status not in ("200", "503")),
    }


def measure_server(args: argparse.Namespace, detector: str, body: bytes) -> dict:
    """Start `ferkit serve` with `detector`, warm it up, load it at each concurrency; runs and memory."""
    serve_args = ["--model", args.model, "--detector", detector, "--yunet-path", str(args.yunet_path),
                  "--workers", str(args.workers), "--queue-size", str(args.queue_size)]
    runs = []
    with running_server(serve_args) as (url, pid):
        memory_idle = memory_mb(pid)
        for _ in range(args.warmup):
            httpx.post(f"{url}/v1/predict", content=body, headers={"content-type": "image/jpeg"}).raise_for_status()
        for concurrency in (int(c) for c in args.concurrency.split(",")):
            run = asyncio.run(load(url, body, concurrency, args.duration_s))
            run["server_memory_after"] = memory_mb(pid)
            runs.append(run)
            print(json.dumps({"detector": detector, **run}), flush=True)
    at_target = next((r for r in runs if r["concurrency"] == TARGET["concurrency"]), None)
    met = bool(at_target and at_target["requests_per_s"] > TARGET["min_requests_per_s"]
               and at_target["latency_ms"]["p99"] < TARGET["max_p99_ms"])
    return {"detector": detector, "serve_args": serve_args, "memory_idle": memory_idle, "runs": runs,
            "target_met": met}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", default="small", help="model for ferkit serve (default: the bundled 'small')")
    parser.add_argument("--detectors", default="yunet,yunet-ort", help="comma-separated; one server run each")
    parser.add_argument("--yunet-path", type=Path, default=DEFAULT_YUNET, help="YuNet .onnx (no download)")
    parser.add_argument("--concurrency", default="1,8,32", help="comma-separated client counts")
    parser.add_argument("--duration-s", type=float, default=20.0, help="seconds of load per concurrency")
    parser.add_argument("--warmup", type=int, default=20, help="requests sent before measuring")
    parser.add_argument("--workers", type=int, default=2, help="ferkit serve --workers")
    parser.add_argument("--queue-size", type=int, default=16, help="ferkit serve --queue-size")
    parser.add_argument("--out", type=Path, default=RESULT)
    args = parser.parse_args(argv)

    body = one_face_jpeg()
    load_before = os.getloadavg()[0]
    servers = [measure_server(args, detector, body) for detector in args.detectors.split(",")]
    result = {
        "benchmark": "ferkit serve: POST /v1/predict, one 640x480 JPEG with one face, loopback",
        "date": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        "hardware": hardware(onnxruntime=onnxruntime.__version__, opencv=cv2.__version__),
        "load_average_1m": {"before": round(load_before, 2), "after": round(os.getloadavg()[0], 2)},
        "command": "benchmarks/bench_service.py " + " ".join(argv if argv is not None else sys.argv[1:]),
        "client": "httpx.AsyncClient, closed loop: each client waits for its answer; on 503 waits Retry-After",
        "image_bytes": len(body),
        "target": TARGET,
        "servers": servers,
    }
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(result, indent=2) + "\n")
    print(f"wrote {args.out}")
    return 1 if any(run["errors"] for server in servers for run in server["runs"]) else 0


if __name__ == "__main__":
    sys.exit(main())
