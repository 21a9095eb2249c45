"""Sandbox overhead: what running `python3 -c pass` costs each way, in one run.

    .venv/bin/python benchmarks/sandbox_overhead.py [--rounds 20] [--runtime runsc]

Rows (median wall time of --rounds runs, and ratio to the bare host run):
  bare host        subprocess `python3 -c pass` on this machine
  one-shot         worksample session start + one call + teardown (all hardening on)
  warm call        one more call in an open worksample session
  epicbox one-shot the same command through epicbox (its own venv, urllib3<2);
                   only under the engine's default runtime (epicbox cannot choose one)

epicbox is installed on first use into .cache/bench-epicbox. The goal the
README states: one-shot no slower than epicbox, warm call < 10 ms above bare.
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import time
from pathlib import Path

from worksample.sandboxes import Engine, Limits, SandboxError

ROOT = Path(__file__).resolve().parents[1]
EPICBOX_VENV = ROOT / ".cache" / "bench-epicbox"
COMMAND = ["python3", "-c", "pass"]
# The real interpreter, not a shell shim (pyenv's shims cost ~100 ms a start).
HOST_PYTHON = str(Path(sys.base_prefix) / "bin" / "python3")

EPICBOX_SCRIPT = """
import json, sys, time, epicbox
image, rounds = sys.argv[1], int(sys.argv[2])
epicbox.configure(profiles=[epicbox.Profile("py", image, user="10001")])
times = []
for _ in range(rounds + 1):
    t = time.perf_counter()
    result = epicbox.run("py", "python3 -c pass", limits={"cputime": 5, "memory": 256})
    times.append(time.perf_counter() - t)
    assert result["exit_code"] == 0, result
print(json.dumps(times[1:]))
"""


def timed(fn: object, rounds: int) -> list[float]:
    assert callable(fn)
    fn()  # warm-up, not counted
    times = []
    for _ in range(rounds):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return times


def ensure_epicbox() -> Path:
    python = EPICBOX_VENV / "bin" / "python"
    if not python.exists():
        subprocess.run([sys.executable, "-m", "venv", str(EPICBOX_VENV)], check=True)
    probe = subprocess.run([str(python), "-c", "import epicbox"], capture_output=True)
    if probe.returncode != 0:
        subprocess.run(
            [str(python), "-m", "pip", "install", "-q", "epicbox==1.1.0", "urllib3<2"],
            check=True,
        )
    return python


def epicbox_times(image: str, rounds: int) -> list[float]:
    epicbox_python = ensure_epicbox()
    out = subprocess.run(
        [str(epicbox_python), "-c", EPICBOX_SCRIPT, image, str(rounds)],
        check=True,
        capture_output=True,
        text=True,
    )
    times: list[float] = json.loads(out.stdout)
    return times


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=20)
    parser.add_argument("--runtime", default=None, help="OCI runtime (default: the engine's)")
    args = parser.parse_args()
    try:
        engine = Engine.connect()
        info = engine.require_image("ml")
        backend = engine.backend(args.runtime)
    except SandboxError as exc:
        sys.exit(str(exc))
    limits = Limits()

    rows: dict[str, list[float]] = {}
    bare_argv = [HOST_PYTHON, *COMMAND[1:]]
    rows["bare host"] = timed(lambda: subprocess.run(bare_argv, check=True), args.rounds)

    def one_shot() -> None:
        with backend.open_session(image=info.tag, limits=limits) as session:
            assert session.run(COMMAND).exit_code == 0

    rows["one-shot"] = timed(one_shot, args.rounds)
    with backend.open_session(image=info.tag, limits=limits) as session:
        rows["warm call"] = timed(lambda: session.run(COMMAND), args.rounds)
        print(f"runtime: {session.runtime}")
    if args.runtime is None:
        rows["epicbox one-shot"] = epicbox_times(info.tag, args.rounds)

    bare = statistics.median(rows["bare host"])
    print(f"{'':18} {'median ms':>10} {'p90 ms':>8} {'x bare':>7} {'+ms vs bare':>12}")
    for name, times in rows.items():
        med = statistics.median(times)
        p90 = sorted(times)[int(0.9 * (len(times) - 1))]
        print(
            f"{name:18} {med * 1e3:10.1f} {p90 * 1e3:8.1f} {med / bare:7.2f} "
            f"{(med - bare) * 1e3:12.1f}"
        )
    if "epicbox one-shot" in rows:
        ours = statistics.median(rows["one-shot"])
        theirs = statistics.median(rows["epicbox one-shot"])
        print(f"one-shot vs epicbox: {ours / theirs:.2f}x")


if __name__ == "__main__":
    main()
