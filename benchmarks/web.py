"""Web latency: the candidate status partial and the report page under load.

    .venv/bin/python benchmarks/web.py [--clients 50] [--seconds 10] [--workers 1,2]

For each web process count, starts `worksample serve --workers N` on a free
loopback port with a fresh data folder and the small test exercise, drives one
candidate through to a graded submission (real Docker grading), then loads
each page from --clients keep-alive connections for --seconds (after 2 s of
warm-up) and prints p50/p95/p99 latency and requests/s beside a static file
served by the same processes (the baseline), with the ratio to it.

The load comes from wrk (Debian: `apt-get install wrk`), a C program: a Python
load generator on the same two cores spent more CPU than the server and
measured itself. Every request goes to 127.0.0.1 only.
Goal (README): p95 under 50 ms for both pages on 2 cores.
"""

from __future__ import annotations

import argparse
import io
import json
import os
import re
import shutil
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
WRK_REPORT = """
done = function(summary, latency, requests)
  io.write(string.format('{"p50": %f, "p95": %f, "p99": %f, "requests": %d, "us": %d, '
    .. '"errors": %d}\\n', latency:percentile(50) / 1000, latency:percentile(95) / 1000,
    latency:percentile(99) / 1000, summary.requests, summary.duration,
    summary.errors.connect + summary.errors.read + summary.errors.write
    + summary.errors.status + summary.errors.timeout))
end
"""


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


def wrk(
    url: str, *, clients: int, seconds: float, headers: dict[str, str], script: Path
) -> dict[str, float]:
    command = ["wrk", "-t1", f"-c{clients}", f"-d{seconds}s", "--timeout", "10s", "-s", str(script)]
    for name, value in headers.items():
        command += ["-H", f"{name}: {value}"]
    out = subprocess.run([*command, url], check=True, capture_output=True, text=True).stdout
    result: dict[str, float] = json.loads(out.strip().splitlines()[-1])
    if result["errors"]:
        sys.exit(f"{url}: {result['errors']:.0f} errors (non-2xx or socket) under load")
    return result


def serve(workers: int, port: int, data: str) -> subprocess.Popen[bytes]:
    env = {
        **os.environ,
        "WORKSAMPLE_DATA_DIR": data,
        "WORKSAMPLE_EXERCISES_DIR": str(ROOT / "tests/graders/exercises"),
        "WORKSAMPLE_DEMO_ADMIN_PASSWORD": PASSWORD,
    }
    command = [str(Path(sys.executable).with_name("worksample")), "serve", "--port", str(port)]
    return subprocess.Popen(
        [*command, "--workers", str(workers)],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )


def measure(workers: int, args: argparse.Namespace, script: Path) -> None:
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    with tempfile.TemporaryDirectory() as data:
        server = serve(workers, port, data)
        try:
            for _ in range(300):
                try:
                    if httpx.get(base + "/healthz").status_code == 200:
                        break
                except httpx.HTTPError:
                    time.sleep(0.1)
            run_id, staff, cand = prepare(base)
            # Static files live under URLs that carry their content hash.
            stylesheet = re.search(
                r'href="(/static/style\.[0-9a-f]+\.css)"', httpx.get(base + "/login").text
            )
            assert stylesheet, "no hashed stylesheet on /login"
            rows = [
                ("static file (baseline)", stylesheet.group(1), {}),
                ("candidate status partial", f"/c/runs/{run_id}",
                 {"Cookie": f"ws_session={cand['ws_session']}", "HX-Request": "true"}),
                ("report page", f"/runs/{run_id}", {"Cookie": f"ws_session={staff['ws_session']}"}),
            ]  # fmt: skip
            print(f"\nworksample serve --workers {workers}: {args.clients} connections, "
                  f"{args.seconds} s per row")  # fmt: skip
            print(f"{'':26} {'p50 ms':>7} {'p95 ms':>7} {'p99 ms':>7} {'req/s':>7} {'x base':>7}")
            base_rps = 0.0
            for name, path, headers in rows:
                wrk(base + path, clients=args.clients, seconds=2, headers=headers, script=script)
                r = wrk(base + path, clients=args.clients, seconds=args.seconds, headers=headers,
                        script=script)  # fmt: skip
                rps = r["requests"] / (r["us"] / 1e6)
                base_rps = base_rps or rps
                print(f"{name:26} {r['p50']:7.1f} {r['p95']:7.1f} {r['p99']:7.1f} {rps:7.0f} "
                      f"{rps / base_rps:7.2f}")  # fmt: skip
        finally:
            server.terminate()
            server.wait(timeout=30)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--clients", type=int, default=50)
    parser.add_argument("--seconds", type=int, default=10)
    parser.add_argument("--workers", default="1,2", help="web process counts to measure")
    args = parser.parse_args()
    if shutil.which("wrk") is None:
        sys.exit("benchmarks/web.py needs wrk, a C load generator: apt-get install wrk")
    load = os.getloadavg()
    print(f"{os.cpu_count()} cores, load average {load[0]:.2f} {load[1]:.2f} {load[2]:.2f}")
    with tempfile.TemporaryDirectory() as scratch:
        script = Path(scratch) / "report.lua"
        script.write_text(WRK_REPORT)
        for workers in (int(w) for w in args.workers.split(",")):
            measure(workers, args, script)


if __name__ == "__main__":
    main()
