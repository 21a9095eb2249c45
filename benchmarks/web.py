"""Web latency: the candidate status partial and the report page under load.

    .venv/bin/python benchmarks/web.py [--clients 50] [--requests 2000]

Starts `worksample serve` on a free loopback port with a fresh data folder and
the small test exercise, drives one candidate through to a graded submission
(real Docker grading), then sends --requests requests per endpoint from
--clients concurrent clients on 127.0.0.1 and prints p50/p95/p99 and requests/s
beside a static file served by the same process (the baseline).
Goal (README): p95 under 50 ms for both pages on 2 cores.
"""

from __future__ import annotations

import argparse
import asyncio
import io
import os
import re
import socket
import subprocess
import sys
import tempfile
import time
import zipfile
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parents[1]
PASSWORD = "bench-password"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def csrf(html: str, name: str = "csrf-token") -> str:
    match = re.search(rf'name="{name}" (?:content|value)="([^"]+)"', html)
    assert match, "no CSRF token on the page"
    return match.group(1)


def prepare(base: str) -> tuple[str, dict[str, str], dict[str, str]]:
    """(run id, staff cookies, candidate cookies) for one graded submission."""
    staff = httpx.Client(base_url=base)
    page = staff.get("/login").text
    staff.post(
        "/login",
        data={
            "email": "admin@demo.example",
            "password": PASSWORD,
            "csrf_token": csrf(page, "csrf_token"),
        },
    )
    page = staff.get("/positions").text
    token = csrf(page)
    position = staff.post(
        "/positions",
        data={
            "csrf_token": token,
            "title": "Bench",
            "level": "Mid",
            "exercise_id": "mini-add",
            "window_days": "7",
            "practice_runs": "1",
        },
    ).headers["location"]
    staff.post(
        f"{position}/invitations",
        data={
            "csrf_token": token,
            "candidate_email": "bench@example.com",
            "candidate_name": "Bench",
        },
    )
    outbox = staff.get("/outbox").text
    link = re.findall(r"/i/[\w-]+", outbox)[0]
    cand = httpx.Client(base_url=base)
    cand.get(link)
    ctoken = csrf(cand.get("/c").text)
    cand.post("/c/start", data={"csrf_token": ctoken})
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        reference = ROOT / "tests/graders/exercises/mini-add/reference/solution.py"
        zf.writestr("solution.py", reference.read_text())
    run = cand.post(
        "/c/upload",
        data={"csrf_token": ctoken, "kind": "final", "confirm": "true"},
        files={"archive": ("s.zip", buf.getvalue(), "application/zip")},
    )
    run_id = run.headers["location"].rsplit("/", 1)[1]
    deadline = time.monotonic() + 120
    while "badge graded" not in cand.get(f"/c/runs/{run_id}").text:
        if time.monotonic() > deadline:
            sys.exit("the benchmark's submission was not graded in 120 s")
        time.sleep(0.5)
    return run_id, dict(staff.cookies), dict(cand.cookies)


async def load(
    base: str, path: str, cookies: dict[str, str], headers: dict[str, str], clients: int, total: int
) -> tuple[list[float], float]:
    latencies: list[float] = []
    queue: asyncio.Queue[int] = asyncio.Queue()
    for i in range(total):
        queue.put_nowait(i)
    limits = httpx.Limits(max_connections=clients, max_keepalive_connections=clients)
    async with httpx.AsyncClient(
        base_url=base, cookies=cookies, headers=headers, limits=limits, timeout=30
    ) as client:

        async def worker() -> None:
            while not queue.empty():
                queue.get_nowait()
                start = time.perf_counter()
                response = await client.get(path)
                latencies.append(time.perf_counter() - start)
                assert response.status_code == 200, (path, response.status_code)

        started = time.perf_counter()
        await asyncio.gather(*(worker() for _ in range(clients)))
        elapsed = time.perf_counter() - started
    return latencies, elapsed


def pct(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(p * len(ordered)))] * 1e3


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--clients", type=int, default=50)
    parser.add_argument("--requests", type=int, default=2000)
    args = parser.parse_args()
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    with tempfile.TemporaryDirectory() as data:
        env = {
            **os.environ,
            "WORKSAMPLE_DATA_DIR": data,
            "WORKSAMPLE_EXERCISES_DIR": str(ROOT / "tests/graders/exercises"),
            "WORKSAMPLE_DEMO_ADMIN_PASSWORD": PASSWORD,
        }
        server = subprocess.Popen(
            [str(Path(sys.executable).with_name("worksample")), "serve", "--port", str(port)],
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        try:
            for _ in range(300):
                try:
                    if httpx.get(base + "/healthz").status_code == 200:
                        break
                except httpx.HTTPError:
                    time.sleep(0.1)
            run_id, staff, cand = prepare(base)
            rows = [
                ("static file (baseline)", "/static/style.css", {}, {}),
                ("candidate status partial", f"/c/runs/{run_id}", cand, {"HX-Request": "true"}),
                ("report page", f"/runs/{run_id}", staff, {}),
            ]
            print(f"{args.clients} clients, {args.requests} requests each, loopback")
            print(f"{'':26} {'p50 ms':>7} {'p95 ms':>7} {'p99 ms':>7} {'req/s':>7} {'x base':>7}")
            base_rps = 0.0
            for name, path, cookies, headers in rows:
                latencies, elapsed = asyncio.run(
                    load(base, path, cookies, headers, args.clients, args.requests)
                )
                rps = len(latencies) / elapsed
                base_rps = base_rps or rps
                print(
                    f"{name:26} {pct(latencies, 0.5):7.1f} {pct(latencies, 0.95):7.1f} "
                    f"{pct(latencies, 0.99):7.1f} {rps:7.0f} {rps / base_rps:7.2f}"
                )
        finally:
            server.terminate()
            server.wait(timeout=30)


if __name__ == "__main__":
    main()
