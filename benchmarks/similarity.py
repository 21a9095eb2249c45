"""Similarity evidence: fingerprint 200 finals and compare each with all before it.

    .venv/bin/python benchmarks/similarity.py [--finals 200] [--lines 1000] [--seed 1]
        [--processes N]

Generates --finals synthetic submissions of about --lines lines of Python each,
on the starter of exercises/ml-churn-pipeline. Each final is written by an
"author" of its own (seeded): a habit of typed or untyped signatures, its own
mix of statement kinds (assignments, loops, while loops, conditions with and
without `else`, try/except, `with open`, comprehensions, early returns,
asserts, calls), a few helper classes, its own spread of function lengths, so
that finals differ in structure as well as in names (names are normalised
away, so names alone change nothing). Copies, each renamed and recommented:
every tenth final takes a 60-line chunk of an earlier one; every 50th (from the
25th) is a whole earlier final, reformatted too.

One run, two passes:
  tokenise   Pygments tokens, normalised, of every final, in this process (the
             baseline: the least any token-based comparison does)
  similarity `fingerprint_files` of every final in a pool of --processes
             (default: every core), then `SimilarityIndex.add` of each in turn
             in this process: 200 x 199 / 2 comparisons, fragments included
and prints wall times, the ratio to the baseline, peak resident memory (this
process and the largest worker) and what was found: copied chunks with a
fragment of 40+ lines, whole copies flagged, and pairs flagged that are no copy.
Goal (README): similarity under 30 s on 2 cores.
"""

from __future__ import annotations

import argparse
import multiprocessing
import os
import random
import resource
import time
from collections.abc import Callable
from pathlib import Path

from worksample.graders import read_directory
from worksample.similarity import (
    Fingerprints,
    SimilarityIndex,
    fingerprint_files,
    is_flagged,
    starter_fingerprints,
    tokenise_file,
)

ROOT = Path(__file__).resolve().parents[1]
STARTER = ROOT / "exercises" / "ml-churn-pipeline" / "starter"
WORDS = [
    "customer",
    "row",
    "frame",
    "value",
    "total",
    "count",
    "score",
    "model",
    "data",
    "label",
    "feature",
    "index",
    "item",
    "result",
    "record",
    "batch",
    "window",
    "limit",
    "weight",
    "rate",
    "mean",
    "churn",
    "plan",
    "fee",
    "device",
    "session",
    "login",
    "ticket",
    "payment",
    "region",
    "channel",
    "tenure",
    "threshold",
    "report",
    "output",
    "path",
    "config",
]
KINDS = ("assign", "for", "while", "if", "ifelse", "try", "with", "comp", "ret", "assert", "call")


class Author:
    """One candidate's habits: what kinds of statement they write, and how."""

    def __init__(self, rng: random.Random) -> None:
        self.rng = rng
        self.typed = rng.random() < 0.5
        self.weights = [rng.random() ** 2 for _ in KINDS]  # a few favourite kinds each
        self.length = (rng.randint(3, 8), rng.randint(10, 30))
        self.classes = rng.random() < 0.4

    def name(self) -> str:
        return "_".join(self.rng.sample(WORDS, self.rng.choice((1, 2, 2, 3))))

    def expression(self, names: list[str]) -> str:
        rng = self.rng
        a, b = rng.choice(names), rng.choice(names)
        return rng.choice(
            (
                f"{a} + {b}",
                f"{a} * {rng.randint(2, 99)}",
                f"{a} - {b} / {rng.randint(2, 9)}",
                f"{self.name()}({a}, {b})",
                f"{self.name()}({a})",
                f"{a}.{self.name()}()",
                f"{a}.get({self.name()!r}, {rng.randint(0, 9)})",
                f"[{a} for {b} in {self.name()} if {b}]",
                f"{{{b}: {a} for {b} in {self.name()}}}",
                f"sum({b} * {a} for {b} in {self.name()})",
                f"len({a}) - {rng.random():.3f}",
                f"{a}[{rng.randint(0, 5)}:{b}]",
                f"{a} if {b} else {rng.randint(0, 9)}",
                f"sorted({a}, key=lambda {b}: {b}[{rng.randint(0, 3)}])",
                f"({a}, {b}, {rng.randint(0, 9)})",
                f"f'{{{a}}}-{{{b}}}'",
                f"not {a} or {b} is None",
            )
        )

    def statement(self, names: list[str], indent: str) -> list[str]:
        rng, target = self.rng, self.name()
        kind = rng.choices(KINDS, self.weights)[0]
        pick = rng.choice(names)
        names.append(target)
        expr = self.expression
        if kind == "for":
            return [f"{indent}for {target} in {pick}:", f"{indent}    {pick} = {expr(names)}"]
        if kind == "while":
            return [f"{indent}while {pick} < {rng.randint(1, 99)}:",
                    f"{indent}    {pick} += {expr(names)}"]  # fmt: skip
        if kind == "if":
            return [f"{indent}if {pick} > {rng.randint(0, 50)}:",
                    f"{indent}    {target} = {expr(names)}"]  # fmt: skip
        if kind == "ifelse":
            return [f"{indent}if {pick} == {rng.randint(0, 50)}:",
                    f"{indent}    {target} = {expr(names)}", f"{indent}else:",
                    f"{indent}    {target} = {pick}"]  # fmt: skip
        if kind == "try":
            return [f"{indent}try:", f"{indent}    {target} = {expr(names)}",
                    f"{indent}except {rng.choice(('KeyError', 'ValueError', 'OSError'))}:",
                    f"{indent}    {target} = {rng.choice(('None', '0', '[]'))}"]  # fmt: skip
        if kind == "with":
            return [f"{indent}with open({pick}) as {target}:",
                    f"{indent}    {self.name()} = {target}.read().split()"]  # fmt: skip
        if kind == "comp":
            return [f"{indent}{target} = [{expr(names)} for {pick} in {self.name()}]"]
        if kind == "ret":
            return [f"{indent}if not {pick}:", f"{indent}    return {expr(names)}"]
        if kind == "assert":
            return [f"{indent}assert {pick} >= {rng.randint(0, 9)}, {self.name()!r}"]
        if kind == "call":
            return [f"{indent}# {self.name()} before {self.name()}",
                    f"{indent}{self.name()}({expr(names)})"]  # fmt: skip
        return [f"{indent}{target} = {expr(names)}"]

    def function(self, indent: str = "") -> list[str]:
        rng = self.rng
        params = [self.name() for _ in range(rng.randint(1, 4))]
        if self.typed:
            hints = [f"{p}: {rng.choice(('int', 'float', 'list', 'dict', 'str'))}" for p in params]
            head = (
                f"{indent}def {self.name()}({', '.join(hints)}) -> {rng.choice(('int', 'float'))}:"
            )
        else:
            head = f"{indent}def {self.name()}({', '.join(params)}):"
        lines = [head, f'{indent}    """{self.name()} of {params[0]}."""']
        names = list(params)
        for _ in range(rng.randint(*self.length)):
            lines += self.statement(names, indent + "    ")
        return [*lines, f"{indent}    return {rng.choice(names)}", ""]

    def final(self, lines: int) -> list[str]:
        body = ["import math", "import sys", "", ""]
        while len(body) < lines:
            if self.classes and self.rng.random() < 0.2:
                body += [f"class {self.name().title().replace('_', '')}:", ""]
                for _ in range(self.rng.randint(2, 4)):
                    body += self.function("    ")
                body.append("")
            else:
                body += [*self.function(), ""]
        return body


def renamed(lines: list[str]) -> list[str]:
    """Other names, other comments, other layout: what normalisation undoes."""
    swaps = (("count", "n"), ("total", "acc"), ("score", "points"), ("# ", "# note: "))
    out = []
    for line in lines:
        for old, new in swaps:
            line = line.replace(old, new)
        out.append(line.replace(", ", ",").replace(" = ", "="))
    return out


def make_finals(
    count: int, lines: int, seed: int
) -> tuple[list[dict[str, bytes]], dict[int, int], dict[int, int]]:
    rng = random.Random(seed)
    starter = dict(read_directory(STARTER).files)
    sources: list[list[str]] = []
    chunks: dict[int, int] = {}  # copy -> the final it took a chunk of
    whole: dict[int, int] = {}  # copy -> original
    for at in range(count):
        source = Author(random.Random(rng.random())).final(lines)
        if at % 50 == 25:
            whole[at] = rng.randrange(at)
            source = renamed(sources[whole[at]])
        elif at and at % 10 == 0:  # 60 lines of an earlier final, renamed
            chunks[at] = rng.randrange(at)
            donor = sources[chunks[at]]
            start = rng.randrange(4, len(donor) - 60)
            source[len(source) // 2 : len(source) // 2] = renamed(donor[start : start + 60])
        sources.append(source)
    finals = [{**starter, "solution/work.py": ("\n".join(s) + "\n").encode()} for s in sources]
    return finals, chunks, whole


FINALS: list[dict[str, bytes]] = []  # for the pool's forked workers: nothing to pickle over
STARTER_HASHES: frozenset[int] = frozenset()


def fingerprint_final(at: int) -> Fingerprints:
    return fingerprint_files(FINALS[at], name=str(at), starter=STARTER_HASHES)


def timed(run: Callable[[], object]) -> float:
    start = time.perf_counter()
    run()
    return time.perf_counter() - start


def main() -> None:
    global STARTER_HASHES
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--finals", type=int, default=200)
    parser.add_argument("--lines", type=int, default=1000)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--processes", type=int, default=os.cpu_count() or 1)
    args = parser.parse_args()
    finals, chunks, whole = make_finals(args.finals, args.lines, args.seed)
    FINALS[:] = finals
    lines = sum(f["solution/work.py"].count(b"\n") for f in finals) / len(finals)

    tokens = 0

    def tokenise_all() -> None:
        nonlocal tokens
        for files in finals:
            for path, data in files.items():
                stream = tokenise_file(path, data)
                tokens += len(stream.symbols) if stream else 0

    tokenise = timed(tokenise_all)

    prints: list[Fingerprints] = []
    start = time.perf_counter()
    STARTER_HASHES = starter_fingerprints(dict(read_directory(STARTER).files))
    with multiprocessing.get_context("fork").Pool(args.processes) as pool:
        prints = pool.map(fingerprint_final, range(len(finals)), chunksize=4)
    fingerprinting = time.perf_counter() - start
    index = SimilarityIndex()
    comparisons = fragments = 0
    long: set[tuple[int, int]] = set()  # pairs with a fragment of 40+ lines
    flagged: set[tuple[int, int]] = set()
    for at, fingerprints in enumerate(prints):
        for before, result in enumerate(index.add(fingerprints)):
            comparisons += 1
            fragments += len(result.fragments)
            if is_flagged(result):
                flagged.add((at, before))
            if any(f.lines_a[1] - f.lines_a[0] >= 40 for f in result.fragments):
                long.add((at, before))
    similarity = time.perf_counter() - start
    own = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    workers = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024

    each = len(finals)
    fps = sum(len(p.hashes) for p in prints) / each
    copies, chunk_pairs = set(whole.items()), set(chunks.items())
    print(f"{each} finals of {lines:.0f} lines, {tokens / each:.0f} tokens and {fps:.0f} "
          f"fingerprints each; {comparisons} comparisons, {fragments} fragments shown")  # fmt: skip
    print(f"{'pass':28} {'s':>8} {'ratio':>6}")
    print(f"{'tokenise (1 process)':28} {tokenise:8.2f} {1:6.2f}")
    print(f"{f'  fingerprint ({args.processes} processes)':28} {fingerprinting:8.2f} "
          f"{fingerprinting / tokenise:6.2f}")  # fmt: skip
    compared = similarity - fingerprinting
    print(f"{'  compare (index, 1 process)':28} {compared:8.2f} {compared / tokenise:6.2f}")
    print(f"{'similarity':28} {similarity:8.2f} {similarity / tokenise:6.2f}")
    print(f"peak resident memory: {own:.0f} MiB this process, {workers:.0f} MiB largest worker")
    print(
        f"copied chunks: {len(chunk_pairs & long)} of {len(chunks)} with a fragment of "
        f"40+ lines; whole copies flagged: {len(copies & flagged)} of {len(copies)}; "
        f"other pairs flagged: {len(flagged - copies)}; other pairs with a fragment of "
        f"40+ lines: {len(long - chunk_pairs - copies)}"
    )
    print(f"goal: similarity under 30 s: {'ok' if similarity < 30 else 'over'}")


if __name__ == "__main__":
    main()
