"""Similarity evidence between submissions: winnowed fingerprints of normalised tokens.

The figures here are evidence for a person to read next to the code, never a
verdict: two candidates may share code because the task leaves one natural way
to write it, because both followed the same tutorial, or because one copied the
other. `compare` reports how much of each submission is found in the other and
the matched fragments side by side; deciding what they mean is the reviewer's
job. `is_flagged` is a helper for sorting a list, not part of the comparison.

This package is platform code, for reviewers: it is not part of
`worksample.graders`, whose package ships to candidates in the starter kit's
wheel, so candidates are not handed the detector's rules and thresholds.

The method is MOSS's: Schleimer, Wilkerson and Aiken, "Winnowing: local
algorithms for document fingerprinting", SIGMOD 2003 (`_fingerprints.py`, 1 to
4; `_comparison.py`, 5 to 7).

1. Tokens. Each file is lexed by Pygments, the lexer chosen by file name, so any
   language Pygments knows works; a file with no lexer, a plain-text or data
   lexer, that is not UTF-8, holds a NUL or is over `MAX_FILE_BYTES` is
   skipped. Comments, whitespace and (for Python) docstrings are dropped; every
   identifier (`Name.*`) becomes `N`, every string literal `S` (adjacent string
   pieces, f-string parts and implicit concatenations, one `S`), every number
   `0`, other literals `L`; keywords, operators and punctuation are kept as
   written. Renaming, reformatting and recommenting therefore change nothing.
   Each token keeps its first and last line.
2. k-grams. Every run of `K` consecutive tokens of one file is hashed with
   blake2b (stable across processes and machines, unlike `hash()`), to 63 bits
   so that a hash fits a signed 64-bit database column.
3. Winnowing. In every window of `W` consecutive k-gram hashes the minimum is
   selected (on a tie, the one already selected: robust winnowing); the
   selected hashes with their positions are the fingerprints, about 2/(W+1) of
   the k-grams. Guarantee: any run of at least `W + K - 1` tokens shared by two
   files gives at least one shared fingerprint; no run shorter than `K` ever
   does (the noise threshold).
4. Starter code. `starter_fingerprints` hashes every k-gram of the starter kit
   (not only the winnowed ones, so a boundary never lets one through), and
   `fingerprint_files` drops the fingerprints found there: the starter alone
   has no fingerprints and scores zero against anything. The starter's files
   come again in every submission: a file's winnowed k-grams are kept in a
   small LRU by content (64 files), so each is tokenised once per process;
   Pygments is nearly all of the time of fingerprinting.
5. Shares. `share_a` is the share of a's fingerprints whose hash b also has
   (with b's per file, `files_a`); the denominator is all of a's fingerprints,
   starter excluded.
6. Fragments. Shared fingerprints close together in both files (at most
   `K + W` tokens apart, MOSS's runs) make a fragment, shown on both sides. A
   fragment of fewer than `MIN_FRAGMENT` = 3 shared fingerprints (about 40
   tokens, five lines) is not shown, though it counts in the shares: on the
   test fixtures' independent solutions every one- and two-fingerprint
   fragment is an idiom (an argument list, a `mkdir(parents=True,
   exist_ok=True)` then a save), while a copied 15-line function holds 15
   fingerprints and a renamed copy's longest fragment 107. Fragments are built
   only for a pair with at least `MIN_FRAGMENT` matched fingerprints on both
   sides (a cheaper pair cannot hold one), and at most `MAX_FRAGMENTS` = 20 per
   pair are kept, the longest (by shared fingerprints), then shown by a's path
   and line; `fragments_left_out` says how many more there were.
7. Common code (`SimilarityIndex`). Compared one by one, many submissions of
   one exercise share idioms the starter does not hold: past normalisation, a
   loop over a frame's rows or a metrics dict is 20 tokens everyone writes.
   As MOSS does (its `-m`, default 10), the index leaves out a hash held by
   more than `COMMON_MIN` = 10 of the stored submissions and more than
   `COMMON_SHARE` = 10% of them: what one candidate in ten writes without the
   others is no evidence against any one of them, while the minimum keeps a
   small batch unfiltered (`add` then gives exactly what `compare` gives) and
   leaves a ring of up to ten candidates sharing one source in sight. A common
   hash counts as unmatched on both sides, but stays in the denominator (it is
   still the candidate's code): shares can only fall, never rise. Inside a
   pair worth a look, common hashes do join a fragment (a copied passage is not
   cut into pieces where it holds an idiom), but a fragment needs
   `MIN_FRAGMENT` uncommon ones, and the runs are made again with the common
   hashes only for a pair that has a run of `MIN_FRAGMENT` uncommon ones
   without them (on the benchmark's 100 first finals, one pair in five; a
   gate of `MIN_FRAGMENT` matched fingerprints alone lets nearly every pair
   through). The limit is the index's at the time of
   `add`: a pair's figures depend on what was stored before it, and the first
   pairs of a batch are not filtered at all.

Why K = 20 and W = 16: a line of Python is 6 to 10 tokens here, so a k-gram is
two to three lines. Shorter k-grams match idiom: on the test fixtures'
independently written solutions, K = 12 or 16 gives 4 to 15 matched fragments
per pair, K = 20 one to three, while a renamed and reformatted copy still shows
about 90% of its fingerprints. W = 16 keeps one fingerprint per 8.5 tokens and
guarantees that any shared run of 35 tokens (four or five lines) is found.
"""

from __future__ import annotations

from worksample.similarity._comparison import (
    COMMON_MIN,
    COMMON_SHARE,
    FLAGGED_SHARE,
    MAX_FRAGMENTS,
    MIN_FRAGMENT,
    Comparison,
    FileShare,
    Fragment,
    SimilarityIndex,
    compare,
    is_flagged,
)
from worksample.similarity._fingerprints import (
    MAX_FILE_BYTES,
    SCHEME,
    Fingerprints,
    K,
    SourceFile,
    TokenStream,
    W,
    fingerprint_files,
    starter_fingerprints,
    tokenise_file,
)

__all__ = [
    "COMMON_MIN",
    "COMMON_SHARE",
    "FLAGGED_SHARE",
    "MAX_FILE_BYTES",
    "MAX_FRAGMENTS",
    "MIN_FRAGMENT",
    "SCHEME",
    "Comparison",
    "FileShare",
    "Fingerprints",
    "Fragment",
    "K",
    "SimilarityIndex",
    "SourceFile",
    "TokenStream",
    "W",
    "compare",
    "fingerprint_files",
    "is_flagged",
    "starter_fingerprints",
    "tokenise_file",
]
