"""Comparisons of fingerprints: shares, matched fragments, and the incremental index
(steps 5 to 7 of the package's docstring)."""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Collection, Iterable
from dataclasses import dataclass

from pydantic import BaseModel, ConfigDict, Field
from worksample.similarity._fingerprints import SCHEME, Fingerprints, K, W

# Share of the smaller side found in the other at which a pair is worth a look first:
# past half, most of what one candidate wrote (starter excluded) is also in the
# other's files. The fixtures' independent solutions stay under 0.1.
FLAGGED_SHARE = 0.5
MIN_FRAGMENT = 3  # shared fingerprints in a fragment: fewer is an idiom, not evidence
MAX_FRAGMENTS = 20  # per pair, the longest: more is for the files side by side
COMMON_SHARE = 0.1  # a hash in more than this share of the stored submissions is common
COMMON_MIN = 10  # ... and in more than this many of them
_MAX_PAIRS_PER_HASH = 8  # repeated code matches a few times, not quadratically


class FileShare(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    path: str
    fingerprints: int
    matched: int = Field(description="Fingerprints of this file found in the other submission.")
    share: float = Field(description="matched / fingerprints: the share of the file covered.")


class Fragment(BaseModel):
    """Lines of one submission matched in the other, both sides for display."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    path_a: str
    lines_a: tuple[int, int] = Field(description="First and last line, 1-based, inclusive.")
    path_b: str
    lines_b: tuple[int, int]
    fingerprints: int = Field(description="Shared fingerprints inside the fragment.")
    text_a: str
    text_b: str


class Comparison(BaseModel):
    """How much of `a` is found in `b` and the reverse, with the matched fragments.

    Evidence for a person, not a verdict (see the package's docstring)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    a: str
    b: str
    share_a: float = Field(description="Share of a's fingerprints found in b.")
    share_b: float = Field(description="Share of b's fingerprints found in a.")
    matched_a: int
    matched_b: int
    files_a: list[FileShare]
    files_b: list[FileShare]
    fragments: list[Fragment] = Field(
        description=f"Of at least {MIN_FRAGMENT} fingerprints, the longest {MAX_FRAGMENTS}, "
        "by a's path and first line."
    )
    fragments_left_out: int = Field(0, description=f"Fragments past the longest {MAX_FRAGMENTS}.")


def compare(a: Fingerprints, b: Fingerprints) -> Comparison:
    """`a` against `b`: shares both ways, per file, and the matched fragments."""
    if (a.scheme, a.k, a.w) != (b.scheme, b.k, b.w):
        raise ValueError(
            f"{a.name} and {b.name} were fingerprinted with different parameters "
            f"(scheme, k, w) {(a.scheme, a.k, a.w)} and {(b.scheme, b.k, b.w)}; "
            "fingerprint both again"
        )
    return _compare(a, b, a.hash_set & b.hash_set, frozenset())


def is_flagged(comparison: Comparison, threshold: float = FLAGGED_SHARE) -> bool:
    """True when the smaller side's share (the larger of the two) reaches `threshold`:
    a pair to read first. A sorting aid for reviewers, not a finding."""
    return max(comparison.share_a, comparison.share_b) >= threshold


class SimilarityIndex:
    """Fingerprints taken one submission at a time, each compared with all stored so far.

    An inverted index (hash -> stored submissions that have it) finds, for the
    new submission, the hashes it shares with each stored one, leaving out the
    common hashes (in more than `common_above()` of them); only pairs that share
    something are compared, the rest get a comparison with nothing matched.
    Until more than `common_min` submissions are stored nothing is common and
    `add` gives exactly what `compare` gives.
    """

    def __init__(
        self,
        *,
        k: int = K,
        w: int = W,
        common_share: float = COMMON_SHARE,
        common_min: int = COMMON_MIN,
    ) -> None:
        self.k, self.w = k, w
        self.common_share, self.common_min = common_share, common_min
        self._stored: list[Fingerprints] = []
        self._postings: dict[int, list[int]] = defaultdict(list)

    def __len__(self) -> int:
        return len(self._stored)

    def common_above(self) -> float:
        """A hash held by more than this many stored submissions is common: matching it
        is no evidence (one in ten candidates writes it without the others)."""
        return max(self.common_min, self.common_share * len(self._stored))

    def add(self, fingerprints: Fingerprints) -> list[Comparison]:
        """Store `fingerprints`; return its comparison with every submission stored
        before it, in the order they were added, common hashes left out."""
        if (fingerprints.k, fingerprints.w, fingerprints.scheme) != (self.k, self.w, SCHEME):
            raise ValueError(
                f"{fingerprints.name}: fingerprinted with k={fingerprints.k}, "
                f"w={fingerprints.w}, scheme {fingerprints.scheme}; this index holds "
                f"k={self.k}, w={self.w}, scheme {SCHEME}"
            )
        distinct = fingerprints.hash_set
        limit = self.common_above()
        shared: dict[int, list[int]] = defaultdict(list)  # stored submission -> hashes
        common: set[int] = set()
        for h in distinct:
            posting = self._postings.get(h)
            if not posting:
                continue
            if len(posting) > limit:
                common.add(h)
                continue
            for at in posting:
                shared[at].append(h)
        frozen = frozenset(common)
        results = [
            _compare(fingerprints, stored, shared.get(at, ()), frozen)
            for at, stored in enumerate(self._stored)
        ]
        at = len(self._stored)
        self._stored.append(fingerprints)
        for h in distinct:
            self._postings[h].append(at)
        return results


def _compare(
    a: Fingerprints, b: Fingerprints, shared: Collection[int], common: frozenset[int]
) -> Comparison:
    """The comparison counting only the `shared` hashes as matched; `common` hashes of
    `a` join the fragments of a pair worth a look but never make one."""
    hits_a = _hits(a, shared)
    hits_b = _hits(b, shared)
    matched_a, matched_b = sum(hits_a.values()), sum(hits_b.values())
    fragments: list[Fragment] = []
    left_out = 0
    if matched_a >= MIN_FRAGMENT and matched_b >= MIN_FRAGMENT:  # else no fragment can be
        runs = [r for r in _runs(a, b, shared) if len(r.members) >= MIN_FRAGMENT]
        if runs and common:
            # Common hashes inside a copied passage cut it in pieces: once one piece
            # is long enough, the runs are made again of every hash the two share,
            # and a run must hold enough of the uncommon ones.
            runs = [
                r
                for r in _runs(a, b, a.hash_set & b.hash_set)
                if _uncommon(a, r.members, common) >= MIN_FRAGMENT
            ]
        runs.sort(key=lambda r: (-len(r.members), r.file_a, r.lines_a))
        left_out = max(0, len(runs) - MAX_FRAGMENTS)
        kept = sorted(runs[:MAX_FRAGMENTS], key=lambda r: (r.file_a, r.lines_a, r.lines_b))
        fragments = [_fragment(a, b, run) for run in kept]
    return Comparison(
        a=a.name,
        b=b.name,
        share_a=_share(matched_a, len(a.hashes)),
        share_b=_share(matched_b, len(b.hashes)),
        matched_a=matched_a,
        matched_b=matched_b,
        files_a=_file_shares(a, hits_a),
        files_b=_file_shares(b, hits_b),
        fragments=fragments,
        fragments_left_out=left_out,
    )


def _uncommon(a: Fingerprints, members: set[int], common: frozenset[int]) -> int:
    return sum(1 for i in members if a.hashes[i] not in common)


def _hits(fps: Fingerprints, shared: Collection[int]) -> Counter[int]:
    """File index -> fingerprints of that file whose hash is in `shared`."""
    hits: Counter[int] = Counter()
    positions, file = fps.positions, fps.file
    for h in shared:
        for i in positions[h]:
            hits[file[i]] += 1
    return hits


def _share(matched: int, total: int) -> float:
    return matched / total if total else 0.0


def _file_shares(fps: Fingerprints, hits: Counter[int]) -> list[FileShare]:
    return [
        FileShare(
            path=source.path, fingerprints=total, matched=hits[i], share=_share(hits[i], total)
        )
        for i, (source, total) in enumerate(zip(fps.files, fps.per_file, strict=True))
    ]


@dataclass
class _Run:
    """Matched fingerprints of one file of a and one of b, close together in both."""

    file_a: int
    file_b: int
    token_a: tuple[int, int]  # first token of the first and of the last k-gram
    token_b: tuple[int, int]
    lines_a: tuple[int, int]
    lines_b: tuple[int, int]
    members: set[int]  # fingerprint indices in a


def _runs(a: Fingerprints, b: Fingerprints, shared: Iterable[int]) -> list[_Run]:
    pairs = sorted(
        (a.file[i], b.file[j], a.tokens[i], b.tokens[j], i, j)
        for h in shared
        for i in a.positions[h]
        for j in b.positions[h][:_MAX_PAIRS_PER_HASH]
    )
    gap = a.k + a.w  # consecutive fingerprints of a shared run are at most w tokens apart
    runs: list[_Run] = []
    open_runs: list[_Run] = []  # runs of the current pair of files that may still grow
    for fa, fb, ta, tb, i, j in pairs:
        if open_runs and (open_runs[0].file_a, open_runs[0].file_b) != (fa, fb):
            open_runs = []
        open_runs = [r for r in open_runs if ta <= r.token_a[1] + gap]
        run = next(
            (r for r in reversed(open_runs) if r.token_b[0] - gap <= tb <= r.token_b[1] + gap),
            None,
        )
        la, lb = (a.first_line[i], a.last_line[i]), (b.first_line[j], b.last_line[j])
        if run is None:
            run = _Run(fa, fb, (ta, ta), (tb, tb), la, lb, {i})
            runs.append(run)
            open_runs.append(run)
            continue
        run.token_a = (run.token_a[0], max(run.token_a[1], ta))
        run.token_b = (min(run.token_b[0], tb), max(run.token_b[1], tb))
        run.lines_a = (min(run.lines_a[0], la[0]), max(run.lines_a[1], la[1]))
        run.lines_b = (min(run.lines_b[0], lb[0]), max(run.lines_b[1], lb[1]))
        run.members.add(i)
    return _merge_adjacent(runs)


def _merge_adjacent(runs: Iterable[_Run]) -> list[_Run]:
    """Runs whose line ranges overlap or touch in both files, as one."""
    merged: list[_Run] = []
    for run in sorted(runs, key=lambda r: (r.file_a, r.file_b, r.lines_a, r.lines_b)):
        for prev in reversed(merged[-4:]):
            if (
                (prev.file_a, prev.file_b) == (run.file_a, run.file_b)
                and run.lines_a[0] <= prev.lines_a[1] + 1
                and run.lines_b[0] <= prev.lines_b[1] + 1
                and prev.lines_b[0] <= run.lines_b[1] + 1
            ):
                prev.lines_a = (prev.lines_a[0], max(prev.lines_a[1], run.lines_a[1]))
                prev.lines_b = (
                    min(prev.lines_b[0], run.lines_b[0]),
                    max(prev.lines_b[1], run.lines_b[1]),
                )
                prev.members |= run.members
                break
        else:
            merged.append(run)
    return merged


def _fragment(a: Fingerprints, b: Fingerprints, run: _Run) -> Fragment:
    source_a, source_b = a.files[run.file_a], b.files[run.file_b]
    return Fragment(
        path_a=source_a.path,
        lines_a=run.lines_a,
        path_b=source_b.path,
        lines_b=run.lines_b,
        fingerprints=len(run.members),
        text_a="\n".join(source_a.lines[run.lines_a[0] - 1 : run.lines_a[1]]),
        text_b="\n".join(source_b.lines[run.lines_b[0] - 1 : run.lines_b[1]]),
    )
