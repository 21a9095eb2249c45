"""Web latency: the candidate's and the reviewer's pages under load.

    .venv/bin/python benchmarks/web.py [--clients 50] [--seconds 10] [--workers 1,2]

For each web process count, starts `worksample serve --workers N` on a free
loopback port with a fresh data folder and the small test exercise, drives one
candidate through a practice run and a graded final (real Docker grading),
fills the position up to --submissions graded submissions (copies of that
final for made-up candidates, each with a line of its own so that no two share
a cache entry, and one of 5,000 files, written into the server's SQLite file),
waits for the demo's own background gradings to finish, then:

- opens each made-up candidate's file, code tree and starter-kit diff once,
  one request at a time (first views: nothing about them is cached yet), and
- loads each page (the status partial, the report, the candidate's file, the
  code tree and a file, both diffs, the pipeline; the candidate's file and the
  starter-kit diff also across all candidates in turn) from --clients
  keep-alive connections for --seconds (after 2 s of warm-up), and prints
  p50/p95/p99 latency and requests/s beside a static file served by the same
  processes (the baseline), with the ratio to it.

The load comes from wrk (Debian: `apt-get install wrk`), a C program: a Python
load generator on the same two cores spent more CPU than the server and
measured itself. Every request goes to 127.0.0.1 only.
Goal (README): p95 under 50 ms for both pages on 2 cores.
"""

from __future__ import annotations

import argparse
import hashlib
import io
import json
import os
import re
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import zipfile
from dataclasses import dataclass
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


@dataclass(frozen=True)
class Prepared:
    run_id: int  # the final's run, graded
    position_id: int
    invitation_id: int
    practice_id: int  # the submission ids of the candidate's two uploads
    final_id: int
    staff: dict[str, str]  # cookies
    candidate: dict[str, str]


def zipped(files: dict[str, str]) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        for name, content in files.items():
            zf.writestr(name, content)
    return buf.getvalue()


def wait_for_gradings(base: str, cand: httpx.Client, run_id: str) -> None:
    deadline = time.monotonic() + 600  # behind the demo's own gradings
    while "badge graded" not in cand.get(f"/c/runs/{run_id}").text:
        if time.monotonic() > deadline:
            sys.exit("the benchmark's submission was not graded in 600 s")
        time.sleep(0.5)


def prepare(base: str, data_dir: str) -> Prepared:
    """A candidate with a practice run and a graded final, through the pages."""
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
    position_id = int(position.rsplit("/", 1)[1])
    staff.post(
        f"{position}/invitations",
        data={
            "csrf_token": token,
            "candidate_email": "bench@example.com",
            "candidate_name": "Bench",
        },
    )
    outbox = staff.get("/outbox").text
    link = re.findall(r"/i/[\w-]+", outbox)[0]  # the newest mail first
    cand = httpx.Client(base_url=base)
    cand.get(link)
    ctoken = csrf(cand.get("/c").text)
    cand.post("/c/start", data={"csrf_token": ctoken})
    reference = (ROOT / "tests/graders/exercises/mini-add/reference/solution.py").read_text()
    uploads = {
        "practice": zipped({"solution.py": reference.replace("a + b", "a - b")}),
        "final": zipped({"solution.py": reference, "DESIGN.md": "# Design\n\nOne line.\n"}),
    }
    run_ids = []
    for kind, data in uploads.items():
        run = cand.post(
            "/c/upload",
            data={"csrf_token": ctoken, "kind": kind, "confirm": "true"},
            files={"archive": ("s.zip", data, "application/zip")},
        )
        run_ids.append(run.headers["location"].rsplit("/", 1)[1])
    wait_for_gradings(base, cand, run_ids[-1])
    from sqlmodel import Session, col, select
    from worksample.db import Invitation, Submission, make_engine

    engine = make_engine(f"sqlite:///{Path(data_dir).resolve() / 'worksample.db'}")
    with Session(engine) as session:
        invitation = session.exec(
            select(Invitation).where(Invitation.candidate_email == "bench@example.com")
        ).one()
        practice, final = session.exec(
            select(Submission.id)
            .where(Submission.invitation_id == invitation.id)
            .order_by(col(Submission.id))
        ).all()
    engine.dispose()
    return Prepared(
        int(run_ids[-1]), position_id, invitation.id or 0, practice or 0, final or 0,
        dict(staff.cookies), dict(cand.cookies),
    )  # fmt: skip


@dataclass(frozen=True)
class Filled:
    copies: list[tuple[int, int]]  # (invitation id, submission id) of each made-up candidate
    many_files: int  # a submission of 5,000 files


def fill_position(data_dir: str, prepared: Prepared, total: int) -> Filled:
    """`total` submissions in the benchmark's position: the candidate's own, and
    for made-up candidates copies of its graded final, each with a line of its
    own (so no two share a cache entry), plus one of 5,000 files; written
    straight into the server's SQLite file (grading 200 would take an hour)."""
    from sqlmodel import Session, select
    from worksample.db import Blob, GradingRun, Invitation, Submission, make_engine

    engine = make_engine(f"sqlite:///{Path(data_dir).resolve() / 'worksample.db'}")
    copies = []
    with Session(engine) as session:
        final = session.get(Submission, prepared.final_id)
        run = session.get(GradingRun, prepared.run_id)
        invitation = session.get(Invitation, prepared.invitation_id)
        blob = session.get(Blob, final.archive_blob_id) if final else None
        assert final and run and invitation and blob
        with zipfile.ZipFile(io.BytesIO(blob.data)) as zf:
            files = {name: zf.read(name).decode() for name in zf.namelist()}
        have = len(session.exec(select(Submission.id).join(Invitation).where(
            Invitation.position_id == prepared.position_id)).all())  # fmt: skip
        many = {**files} | {f"pkg{n % 50:02d}/mod{n:04d}.py": f"N = {n}\n" for n in range(5000)}
        variants = [
            {**files, "solution.py": files["solution.py"] + f"# candidate {n}\n"}
            for n in range(total - have - 1)
        ] + [many]
        for n, variant in enumerate(variants):
            other = Invitation(
                org_id=invitation.org_id, position_id=invitation.position_id,
                candidate_email=f"bench.{n}@example.com", candidate_name=f"Bench {n}",
                token_hash=f"bench-{n:060d}", deadline_at=invitation.deadline_at,
                started_at=invitation.started_at,
            )  # fmt: skip
            session.add(other)
            session.flush()
            data = zipped(variant)
            sha = hashlib.sha256(data).hexdigest()
            copy = Blob(sha256=sha, size=len(data), media_type=blob.media_type, data=data)
            session.add(copy)
            session.flush()
            sub = Submission(
                org_id=final.org_id, invitation_id=other.id or 0, kind=final.kind,
                archive_blob_id=copy.id or 0, filename=final.filename, sha256=sha,
                size=len(data),
            )  # fmt: skip
            session.add(sub)
            session.flush()
            session.add(GradingRun(
                org_id=run.org_id, submission_id=sub.id or 0, public_only=False,
                status=run.status, attempts=1, score=run.score,
                report_blob_id=run.report_blob_id, finished_at=run.finished_at,
            ))  # fmt: skip
            copies.append((other.id or 0, sub.id or 0))
        session.commit()
    engine.dispose()
    return Filled(copies[:-1], copies[-1][1])


def wait_until_idle(data_dir: str) -> None:
    """Until the demo's background gradings are done: they would share the cores."""
    from sqlmodel import Session, col, select
    from worksample.db import GradingRun, RunStatus, make_engine

    engine = make_engine(f"sqlite:///{Path(data_dir).resolve() / 'worksample.db'}")
    deadline = time.monotonic() + 900
    busy = col(GradingRun.status).in_([RunStatus.queued, RunStatus.running])
    with Session(engine) as session:
        while session.exec(select(GradingRun.id).where(busy)).first() is not None:
            if time.monotonic() > deadline:
                sys.exit("the demo's gradings did not finish in 15 minutes")
            time.sleep(1)
            session.expire_all()
    engine.dispose()


ROTATE = """
paths = {%s}
i = 0
request = function()
  i = i %% #paths + 1
  return wrk.format(nil, paths[i])
end
"""


def wrk(
    base: str,
    paths: str | list[str],
    *,
    clients: int,
    seconds: float,
    headers: dict[str, str],
    scratch: Path,
) -> dict[str, float]:
    """One row: a path, or a list of paths taken in turn (a Lua `request`)."""
    script = scratch / "row.lua"
    rotate = "" if isinstance(paths, str) else ROTATE % ", ".join(f'"{p}"' for p in paths)
    script.write_text(rotate + WRK_REPORT)
    first = paths if isinstance(paths, str) else paths[0]
    command = ["wrk", "-t1", f"-c{clients}", f"-d{seconds}s", "--timeout", "10s", "-s", str(script)]
    for name, value in headers.items():
        command += ["-H", f"{name}: {value}"]
    out = subprocess.run(
        [*command, base + first], check=True, capture_output=True, text=True
    ).stdout
    result: dict[str, float] = json.loads(out.strip().splitlines()[-1])
    if result["errors"]:
        sys.exit(f"{first}: {result['errors']:.0f} errors (non-2xx or socket) under load")
    return result


def first_views(base: str, cookies: dict[str, str], paths: dict[str, list[str]]) -> None:
    """Each page opened once, one after another: nothing about it is cached yet
    in the process that answers (two processes: the other may have it)."""
    print(f"\nfirst views, one client, one request at a time{'':4} {'p50 ms':>7} {'p95 ms':>7} "
          f"{'max ms':>7} {'n':>5}")  # fmt: skip
    with httpx.Client(base_url=base, cookies=cookies) as client:
        for name, urls in paths.items():
            took = []
            for url in urls:
                start = time.perf_counter()
                response = client.get(url)
                took.append((time.perf_counter() - start) * 1000)
                if response.status_code != 200:
                    sys.exit(f"{url}: {response.status_code}")
            p95 = statistics.quantiles(took, n=20)[-1] if len(took) > 1 else took[0]
            print(f"{name:50} {statistics.median(took):7.1f} {p95:7.1f} {max(took):7.1f} "
                  f"{len(took):5d}")  # fmt: skip


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


def measure(workers: int, args: argparse.Namespace, scratch: Path) -> None:
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
            prepared = prepare(base, data)
            filled = fill_position(data, prepared, args.submissions)
            wait_until_idle(data)
            run_id, staff, cand = prepared.run_id, prepared.staff, prepared.candidate
            p = prepared
            # Static files live under URLs that carry their content hash.
            stylesheet = re.search(
                r'href="(/static/style\.[0-9a-f]+\.css)"', httpx.get(base + "/login").text
            )
            assert stylesheet, "no hashed stylesheet on /login"
            reviewer = {"Cookie": f"ws_session={staff['ws_session']}"}
            others, n = filled.copies, len(filled.copies)
            files = [f"/invitations/{i}" for i, _ in others]
            kit_diffs = [f"/submissions/{s}/diff" for _, s in others]
            first_views(base, staff, {
                f"candidate's file, {n} candidates": files,
                f"code: tree, {n} submissions": [f"/submissions/{s}/code/" for _, s in others],
                f"diff: the starter kit, {n} submissions": kit_diffs,
                "code: tree of 5,000 files": [f"/submissions/{filled.many_files}/code/"],
            })  # fmt: skip
            rows: list[tuple[str, str | list[str], dict[str, str]]] = [
                ("static file (baseline)", stylesheet.group(1), {}),
                ("candidate status partial", f"/c/runs/{run_id}",
                 {"Cookie": f"ws_session={cand['ws_session']}", "HX-Request": "true"}),
                ("report page", f"/runs/{run_id}", reviewer),
                ("candidate's file", f"/invitations/{p.invitation_id}", reviewer),
                (f"  the same, {n} in turn", files, reviewer),
                ("code: tree + DESIGN.md", f"/submissions/{p.final_id}/code/", reviewer),
                ("code: tree of 5,000 files", f"/submissions/{filled.many_files}/code/", reviewer),
                ("code: a file", f"/submissions/{p.final_id}/code/solution.py", reviewer),
                ("diff: the starter kit", f"/submissions/{p.final_id}/diff", reviewer),
                (f"  the same, {n} in turn", kit_diffs, reviewer),
                ("diff: practice to final", f"/submissions/{p.practice_id}/diff/{p.final_id}",
                 reviewer),
                (f"pipeline ({args.submissions} candidates)", f"/positions/{p.position_id}",
                 reviewer),
            ]  # fmt: skip
            print(f"\nworksample serve --workers {workers}: {args.clients} connections, "
                  f"{args.seconds} s per row")  # fmt: skip
            print(f"{'':30} {'p50 ms':>7} {'p95 ms':>7} {'p99 ms':>7} {'req/s':>7} {'x base':>7}")
            base_rps = 0.0
            for name, paths, headers in rows:
                options = {"clients": args.clients, "headers": headers, "scratch": scratch}
                wrk(base, paths, seconds=2, **options)
                r = wrk(base, paths, seconds=args.seconds, **options)
                rps = r["requests"] / (r["us"] / 1e6)
                base_rps = base_rps or rps
                print(f"{name:30} {r['p50']:7.1f} {r['p95']:7.1f} {r['p99']:7.1f} {rps:7.0f} "
                      f"{rps / base_rps:7.2f}")  # fmt: skip
        finally:
            server.terminate()
            server.wait(timeout=30)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--clients", type=int, default=50)
    parser.add_argument("--seconds", type=int, default=10)
    parser.add_argument("--workers", default="1,2", help="web process counts to measure")
    parser.add_argument(
        "--submissions", type=int, default=200, help="submissions in the measured position"
    )
    args = parser.parse_args()
    if shutil.which("wrk") is None:
        sys.exit("benchmarks/web.py needs wrk, a C load generator: apt-get install wrk")
    load = os.getloadavg()
    print(f"{os.cpu_count()} cores, load average {load[0]:.2f} {load[1]:.2f} {load[2]:.2f}")
    with tempfile.TemporaryDirectory() as scratch:
        for workers in (int(w) for w in args.workers.split(",")):
            measure(workers, args, Path(scratch))


if __name__ == "__main__":
    main()
