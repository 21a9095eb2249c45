"""Author tool: check a solution of this exercise on the host, WITHOUT a sandbox.

It runs the solution's code with your own rights: use it only on the solutions
in this folder (reference/, starter/, faulty/*, weak/*), never on a candidate's.

    python hidden/dev_check.py metrics reference
        train, predict both holdouts and evaluate on the host; print the holdout
        metrics next to the self-reported ones, wall times and peak RSS.
    python hidden/dev_check.py suite faulty/leaky_closure_date
        run the hidden suite and the public tests against the solution through a
        stand-in for the grader's `candidate` fixture (local subprocesses, /work and
        /tmp mapped into a temporary folder); print each test's outcome, the score,
        and how the failures compare with the solution's expected.toml.
    python hidden/dev_check.py all
        `suite` for reference/ (twice: the two gradings must agree), starter/ and
        every faulty/* and weak/*; exit status 1 if any expectation is not met. The
        score printed is capped by the manifest's knock-outs, the uncapped one beside it.

Paths are relative to the exercise folder. Run with the project's virtualenv
(`.venv/bin/python`), which has numpy, pandas, scikit-learn and pytest.
Differences from the real grader: no isolation, no limits enforced, memory is
the command's peak RSS (the grader measures the sandbox's cgroup, page cache
included), and imports are slower when bytecode is not cached.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import tomllib
from dataclasses import dataclass
from pathlib import Path
from types import SimpleNamespace
from typing import Any

EXERCISE = Path(__file__).resolve().parent.parent
PYTHON = sys.executable

# ------------------------------------------------------------- stand-in plugin
# Loaded into pytest with `-p dev_check` (see run_suite); mirrors the fixtures
# and markers of worksample.graders.plugin that this exercise's tests use.

_WRAPPER = r"""
import os, subprocess, sys
rss_file, argv = sys.argv[1], sys.argv[2:]
child = subprocess.Popen(argv)
_, status, usage = os.wait4(child.pid, 0)
open(rss_file, "w").write(str(usage.ru_maxrss * 1024))
code = os.waitstatus_to_exitcode(status)
sys.exit(code if code >= 0 else 128 - code)
"""


@dataclass(frozen=True)
class LocalRun:
    argv: list[str]
    exit_code: int | None
    stdout: bytes
    stderr: bytes
    timed_out: bool
    wall_s: float
    peak_memory_bytes: int | None
    oom_killed: bool = False

    @property
    def ok(self) -> bool:
        return self.exit_code == 0 and not self.timed_out

    def text(self, stream: str = "stdout") -> str:
        data: bytes = getattr(self, stream)
        return data.decode("utf-8", errors="replace")


class LocalCandidate:
    """The `candidate` fixture's surface, as local subprocesses in a temp folder."""

    def __init__(self, submission: Path, root: Path, call_timeout_s: float) -> None:
        self.root = root
        (root / "work").mkdir(parents=True)
        (root / "tmp").mkdir()
        shutil.copytree(submission, root / "work" / "submission")
        self.call_timeout_s = call_timeout_s
        self.log: list[LocalRun] = []

    def map(self, path: str) -> str:
        for prefix in ("/work", "/tmp"):
            if path == prefix or path.startswith(prefix + "/"):
                return str(self.root) + path
        return path

    def run(
        self,
        argv: list[str],
        *,
        timeout: float | None = None,
        stdin: bytes = b"",
        env: dict[str, str] | None = None,
        cwd: str = "/work/submission",
    ) -> LocalRun:
        mapped = [self.map(a) for a in argv]
        if mapped[0] in ("python", "python3"):
            mapped[0] = PYTHON
        rss_file = self.root / "tmp" / ".rss"
        rss_file.unlink(missing_ok=True)
        full_env = {
            "PATH": f"{Path(PYTHON).parent}:/usr/local/bin:/usr/bin:/bin",
            "HOME": str(self.root / "tmp"),
            "LANG": "C.UTF-8",
            "PYTHONDONTWRITEBYTECODE": "1",
            "PYTHONUNBUFFERED": "1",
            **(env or {}),
        }
        start = time.monotonic()
        process = subprocess.Popen(
            [PYTHON, "-c", _WRAPPER, str(rss_file), *mapped],
            cwd=self.map(cwd),
            env=full_env,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            start_new_session=True,
        )
        timed_out = False
        try:
            stdout, stderr = process.communicate(stdin, timeout=timeout or self.call_timeout_s)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            stdout, stderr = process.communicate()
            timed_out = True
        wall = time.monotonic() - start
        peak = int(rss_file.read_text()) if rss_file.exists() else None
        result = LocalRun(
            argv, None if timed_out else process.returncode, stdout, stderr, timed_out, wall, peak
        )
        self.log.append(result)
        return result

    def put_files(self, files: dict[str, bytes], dest: str = "/work/submission") -> None:
        for relative, content in files.items():
            path = Path(self.map(dest)) / relative
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_bytes(content)

    def get_file(self, path: str, max_bytes: int = 64 << 20) -> bytes:
        with open(self.map(path), "rb") as handle:  # FileNotFoundError as the real one
            return handle.read(max_bytes)


def _namespace(value: Any) -> Any:
    if isinstance(value, dict):
        return SimpleNamespace(**{k: _namespace(v) for k, v in value.items()})
    if isinstance(value, list):
        return [_namespace(v) for v in value]
    return value


def _manifest() -> dict[str, Any]:
    return tomllib.loads((EXERCISE / "exercise.toml").read_text())


def pytest_configure(config: Any) -> None:
    for line in (
        "category(name): scoring category of a test",
        "weight(n): relative weight of a test in its category",
        "public: a public test, shipped in the starter kit",
    ):
        config.addinivalue_line("markers", line)
    config._devcheck_outcomes = {}


def _marker_arg(item: Any, name: str, default: Any) -> Any:
    marker = item.get_closest_marker(name)
    return marker.args[0] if marker and marker.args else default


def pytest_collection_modifyitems(session: Any, config: Any, items: list[Any]) -> None:
    known = {c["name"] for c in _manifest()["categories"]}
    for item in items:
        category = _marker_arg(item, "category", None)
        public = item.get_closest_marker("public") is not None
        in_starter = item.nodeid.startswith("starter/")
        if category not in known:
            raise RuntimeError(f"{item.nodeid}: category {category!r} is not in the manifest")
        if public != in_starter:
            raise RuntimeError(f"{item.nodeid}: public marker does not match its location")


def pytest_runtest_makereport(item: Any, call: Any) -> None:
    outcomes = item.config._devcheck_outcomes
    entry = outcomes.setdefault(
        item.nodeid,
        {
            "category": _marker_arg(item, "category", None),
            "weight": _marker_arg(item, "weight", 1),
            "outcome": "passed",
            "message": "",
        },
    )
    if call.excinfo is not None and entry["outcome"] == "passed":
        entry["outcome"] = "failed" if call.when == "call" else "error"
        text = str(call.excinfo.value).strip()
        entry["message"] = text.splitlines()[0][:300] if text else call.excinfo.typename


def pytest_sessionfinish(session: Any) -> None:
    path = os.environ.get("DEVCHECK_RESULTS")
    if path:
        Path(path).write_text(json.dumps(session.config._devcheck_outcomes, indent=1))


def _sandbox_root() -> Path:
    return Path(os.environ["DEVCHECK_SANDBOX"])


try:
    import pytest as _pytest

    @_pytest.fixture(scope="session")
    def candidate() -> Any:
        manifest = _manifest()
        local = LocalCandidate(
            Path(os.environ["DEVCHECK_SUBMISSION"]),
            _sandbox_root(),
            float(manifest["sandbox"]["call_timeout_s"]),
        )
        yield local
        log = Path(os.environ["DEVCHECK_SANDBOX"]).parent / "calls.json"
        log.write_text(
            json.dumps(
                [
                    {
                        "argv": r.argv,
                        "exit": r.exit_code,
                        "wall_s": round(r.wall_s, 2),
                        "peak_mb": round(r.peak_memory_bytes / 2**20)
                        if r.peak_memory_bytes
                        else None,
                    }
                    for r in local.log
                ],
                indent=1,
            )
        )

    @_pytest.fixture(scope="session")
    def exercise() -> Any:
        return SimpleNamespace(
            root=EXERCISE, hidden_dir=EXERCISE / "hidden", manifest=_namespace(_manifest())
        )
except ImportError:  # the metrics mode needs no pytest
    pass


# --------------------------------------------------------------------- suite


def run_suite(solution: Path, workdir: Path) -> dict[str, Any]:
    """The hidden suite and the public tests against `solution`; outcomes by test id."""
    mirror = workdir / "exercise"
    shutil.copytree(EXERCISE / "hidden", mirror / "hidden")
    shutil.copytree(EXERCISE / "starter" / "tests", mirror / "starter" / "tests")
    shutil.copytree(EXERCISE / "starter" / "data", mirror / "starter" / "data")
    shutil.copy(EXERCISE / "exercise.toml", mirror / "exercise.toml")
    submission = workdir / "submission"
    shutil.copytree(solution, submission, ignore=shutil.ignore_patterns("expected.toml"))
    results = workdir / "results.json"
    env = {
        **os.environ,
        "PYTHONPATH": str(EXERCISE / "hidden"),
        "PYTEST_DISABLE_PLUGIN_AUTOLOAD": "1",
        "DEVCHECK_SUBMISSION": str(submission),
        "DEVCHECK_SANDBOX": str(workdir / "sandbox"),
        "DEVCHECK_RESULTS": str(results),
    }
    start = time.monotonic()
    completed = subprocess.run(
        [
            PYTHON,
            "-m",
            "pytest",
            "-p",
            "dev_check",
            "-p",
            "no:cacheprovider",
            "-q",
            "--rootdir",
            str(mirror),
            "-c",
            os.devnull,
            "hidden",
            "starter/tests",
        ],
        cwd=mirror,
        env=env,
        capture_output=True,
        text=True,
    )
    elapsed = time.monotonic() - start
    if not results.exists():
        sys.exit(f"pytest did not run:\n{completed.stdout}\n{completed.stderr}")
    outcomes = json.loads(results.read_text())
    calls = json.loads((workdir / "calls.json").read_text())
    return {"outcomes": outcomes, "elapsed_s": elapsed, "calls": calls}


def score(outcomes: dict[str, Any]) -> tuple[float, dict[str, float]]:
    categories = {c["name"]: c["weight"] for c in _manifest()["categories"]}
    total_weight = sum(categories.values())
    by_category: dict[str, float] = {}
    for name, weight in categories.items():
        tests = [o for o in outcomes.values() if o["category"] == name]
        possible = sum(o["weight"] for o in tests)
        earned = sum(o["weight"] for o in tests if o["outcome"] == "passed")
        by_category[name] = 100 * weight / total_weight * (earned / possible if possible else 0)
    return sum(by_category.values()), by_category


def knockouts(outcomes: dict[str, Any]) -> list[tuple[str, float]]:
    """The manifest's [[critical]] items these outcomes trigger, as (id, cap)."""
    failed = {k for k, o in outcomes.items() if o["outcome"] != "passed"}
    return [
        (c["id"], c["cap"])
        for c in _manifest().get("critical", [])
        if failed & set(c.get("tests", []))
        or any(o["category"] == c.get("category") for k, o in outcomes.items() if k in failed)
    ]


def expected_failures(solution: Path) -> set[str] | None:
    path = solution / "expected.toml"
    if not path.exists():
        return None
    return set(tomllib.loads(path.read_text())["fails"])


def report_suite(solution: Path, result: dict[str, Any], *, verbose: bool = True) -> bool:
    outcomes = result["outcomes"]
    uncapped, by_category = score(outcomes)
    triggered = knockouts(outcomes)
    total = min([uncapped, *(cap for _, cap in triggered)])
    failed = {k for k, o in outcomes.items() if o["outcome"] != "passed"}
    capped = "".join(f", knock-out {i} (cap {cap:g})" for i, cap in triggered)
    print(
        f"== {solution.relative_to(EXERCISE)}: score {total:.1f} (uncapped {uncapped:.1f}"
        f"{capped}; {', '.join(f'{k} {v:.1f}' for k, v in by_category.items())}); "
        f"suite {result['elapsed_s']:.0f} s"
    )
    if verbose:
        for node, o in sorted(outcomes.items()):
            if o["outcome"] != "passed":
                print(f"   {o['outcome'].upper():6} {node}: {o['message']}")
        train = [c for c in result["calls"] if "train" in c["argv"]]
        for c in train:
            print(f"   train: {c['wall_s']} s, peak RSS {c['peak_mb']} MB")
    expected = expected_failures(solution)
    good = True
    if solution.name == "reference" and total < 100:
        print("   !! the reference must score 100")
        good = False
    if solution.name == "starter":
        limit = _manifest()["validate"]["starter_max_score"]
        if total > limit:
            print(f"   !! the starter scores {total:.1f} > {limit}")
            good = False
    if expected is not None:
        if unknown := expected - set(outcomes):
            print(f"   !! expected.toml names tests that do not exist: {sorted(unknown)}")
        if missing := expected - failed:
            print(f"   !! expected to fail but passed: {sorted(missing)}")
        if extra := failed - expected:
            print(f"   !! failed but not in expected.toml: {sorted(extra)}")
        good = good and expected == failed
    return good


# ------------------------------------------------------------------- metrics


def run_metrics(solution: Path, workdir: Path) -> None:
    import numpy as np
    from sklearn.metrics import (
        average_precision_score,
        brier_score_loss,
        f1_score,
        roc_auc_score,
    )

    submission = workdir / "work" / "submission"
    shutil.copytree(solution, submission, ignore=shutil.ignore_patterns("expected.toml"))
    (submission / "data").mkdir(exist_ok=True)
    shutil.copy(EXERCISE / "starter" / "data" / "train.csv", submission / "data" / "train.csv")
    local = LocalCandidate.__new__(LocalCandidate)  # the submission is already in place
    local.root, local.call_timeout_s, local.log = workdir, 900.0, []
    (workdir / "tmp").mkdir(exist_ok=True)

    def step(*args: str) -> LocalRun:
        run = local.run(["python", "-m", "solution", *args])
        peak = f"{run.peak_memory_bytes / 2**20:.0f} MB" if run.peak_memory_bytes else "?"
        print(f"{args[0]:9} exit {run.exit_code}  {run.wall_s:6.1f} s  peak RSS {peak}")
        if not run.ok:
            print(run.text("stderr")[-2000:])
        return run

    step("train", "--data", "data/train.csv", "--model-dir", "/work/model")
    for name in ("a", "b"):
        shutil.copy(EXERCISE / "hidden" / "data" / f"holdout_{name}.csv", workdir / "work")
        step(
            "predict",
            "--model-dir",
            "/work/model",
            "--data",
            f"/work/holdout_{name}.csv",
            "--output",
            f"/work/pred_{name}.csv",
        )
    step("evaluate", "--data", "data/train.csv", "--report", "/work/report.json")
    report = json.loads((workdir / "work" / "report.json").read_text())
    print(f"{'':10}{'roc_auc':>9}{'pr_auc':>9}{'brier':>9}{'f1@thr':>9}")
    print(
        f"{'reported':10}{report['roc_auc']:9.4f}{report['pr_auc']:9.4f}"
        f"{report['brier']:9.4f}{report['f1']:9.4f}   threshold {report['threshold']:.4f}"
    )
    for name in ("a", "b"):
        labels_path = EXERCISE / "hidden" / "data" / f"holdout_{name}_labels.csv"
        labels = dict(line.split(",") for line in labels_path.read_text().split()[1:])
        rows = [
            line.split(",")
            for line in (workdir / "work" / f"pred_{name}.csv").read_text().split()[1:]
        ]
        y = np.array([int(labels[r[0]]) for r in rows])
        p = np.array([float(r[1]) for r in rows])
        f1 = f1_score(y, p >= report["threshold"])
        print(
            f"{'holdout ' + name:10}{roc_auc_score(y, p):9.4f}"
            f"{average_precision_score(y, p):9.4f}{brier_score_loss(y, p):9.4f}{f1:9.4f}"
            f"   rows {len(rows)}, churn {y.mean():.3f}"
        )


# ---------------------------------------------------------------------- main


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("mode", choices=["metrics", "suite", "all"])
    parser.add_argument("solution", nargs="?", help="folder relative to the exercise")
    parser.add_argument("--keep", action="store_true", help="keep the temporary folders")
    args = parser.parse_args()
    if args.mode != "all" and not args.solution:
        parser.error("name a solution folder")

    def scratch() -> Path:
        return Path(tempfile.mkdtemp(prefix="churn-devcheck-"))

    if args.mode == "metrics":
        work = scratch()
        run_metrics(EXERCISE / args.solution, work)
        if not args.keep:
            shutil.rmtree(work)
        return 0

    if args.mode == "suite":
        solutions = [EXERCISE / args.solution]
    else:
        known_bad = [
            p
            for kind in ("faulty", "weak")
            for p in sorted((EXERCISE / kind).iterdir())
            if p.is_dir()
        ]
        solutions = [
            EXERCISE / "reference",
            EXERCISE / "reference",
            EXERCISE / "starter",
            *known_bad,
        ]
    all_good = True
    reference_outcomes: list[dict[str, str]] = []
    for solution in solutions:
        work = scratch()
        result = run_suite(solution, work)
        all_good &= report_suite(solution, result)
        if solution.name == "reference":
            reference_outcomes.append({k: o["outcome"] for k, o in result["outcomes"].items()})
        if not args.keep:
            shutil.rmtree(work)
    if len(reference_outcomes) == 2 and reference_outcomes[0] != reference_outcomes[1]:
        print("!! two gradings of the reference differ")
        all_good = False
    print("ALL GOOD" if all_good else "SOME EXPECTATIONS NOT MET")
    return 0 if all_good else 1


if __name__ == "__main__":
    sys.exit(main())
