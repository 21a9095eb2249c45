"""Similarity evidence on real code: solutions of ml-churn-pipeline written for these tests.

The fixtures (tests/similarity/submissions/) are each a candidate's own
files, laid over the exercise's starter kit as a candidate's repository is:
alice (a scikit-learn pipeline), alice-renamed (alice with other names, layout
and comments), bob (hand-rolled encoding, gradient boosting, a hold-out split)
and carol (one-hot with pandas, a random forest) who copied bob's
`best_threshold`.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest
from typer.testing import CliRunner
from worksample.cli import app
from worksample.graders import read_directory
from worksample.similarity import (
    FLAGGED_SHARE,
    MIN_FRAGMENT,
    Comparison,
    Fingerprints,
    SimilarityIndex,
    compare,
    fingerprint_files,
    is_flagged,
    starter_fingerprints,
    tokenise_file,
)

ROOT = Path(__file__).resolve().parents[2]
EXERCISE = ROOT / "exercises" / "ml-churn-pipeline"
FIXTURES = Path(__file__).parent / "submissions"
NAMES = ("alice", "alice-renamed", "bob", "carol")


def starter_files() -> dict[str, bytes]:
    return dict(read_directory(EXERCISE / "starter").files)


def submission_files(name: str) -> dict[str, bytes]:
    return {**starter_files(), **read_directory(FIXTURES / name).files}


@pytest.fixture(scope="module")
def starter() -> frozenset[int]:
    return starter_fingerprints(starter_files())


@pytest.fixture(scope="module")
def prints(starter: frozenset[int]) -> dict[str, Fingerprints]:
    found = {n: fingerprint_files(submission_files(n), name=n, starter=starter) for n in NAMES}
    found["starter"] = fingerprint_files(starter_files(), name="starter", starter=starter)
    return found


def lines_of(path: Path, start: str, end: str) -> tuple[int, int]:
    """First and last line of a function: from its `def` line to the line holding `end`."""
    lines = path.read_text().splitlines()
    first = next(i for i, line in enumerate(lines, 1) if line.startswith(start))
    last = next(i for i, line in enumerate(lines, 1) if i > first and end in line)
    return first, last


def test_renamed_reformatted_recommented_copy_is_flagged(prints: dict[str, Fingerprints]) -> None:
    result = compare(prints["alice-renamed"], prints["alice"])
    assert result.share_a >= 0.8 and result.share_b >= 0.8, result
    assert is_flagged(result)
    # The copy's own module and its renamed counterpart are matched file to file.
    files = {f.path: f.share for f in result.files_a}
    assert files["solution/churn.py"] >= 0.8
    assert any(
        f.path_a == "solution/churn.py" and f.path_b == "solution/pipeline.py"
        for f in result.fragments
    )


@pytest.mark.parametrize(
    ("a", "b"), [("alice", "bob"), ("alice", "carol"), ("alice-renamed", "bob")]
)
def test_independent_solutions_on_the_same_starter_are_not_flagged(
    prints: dict[str, Fingerprints], a: str, b: str
) -> None:
    result = compare(prints[a], prints[b])
    assert max(result.share_a, result.share_b) < 0.1, result
    assert not is_flagged(result)
    assert len(result.fragments) <= 3  # a few shared idioms, shown as such


@pytest.mark.parametrize("other", NAMES)
def test_the_starter_alone_scores_zero(prints: dict[str, Fingerprints], other: str) -> None:
    assert prints["starter"].hashes == [] and prints["starter"].files == []
    for result in (
        compare(prints["starter"], prints[other]),
        compare(prints[other], prints["starter"]),
    ):
        assert (result.share_a, result.share_b, result.fragments) == (0.0, 0.0, [])


def test_starter_code_kept_by_every_candidate_is_not_evidence(
    prints: dict[str, Fingerprints],
) -> None:
    # Everyone keeps the starter's build_parser(); its lines are in no fragment.
    parser = lines_of(
        EXERCISE / "starter/solution/__main__.py", "def build_parser", "return parser"
    )
    starter_lines = (EXERCISE / "starter/solution/__main__.py").read_text().splitlines()
    body = starter_lines[parser[0] : parser[1] - 1]
    result = compare(prints["bob"], prints["carol"])
    for fragment in result.fragments:
        shown = fragment.text_a.splitlines()
        assert not any(line in shown for line in body if len(line.strip()) > 30), fragment


def test_a_copied_function_shows_as_a_fragment_on_both_sides(
    prints: dict[str, Fingerprints],
) -> None:
    in_carol = lines_of(
        FIXTURES / "carol/solution/__main__.py", "def best_threshold", "return float"
    )
    in_bob = lines_of(FIXTURES / "bob/solution/model.py", "def best_threshold", "return float")
    result = compare(prints["carol"], prints["bob"])
    covering = [
        f
        for f in result.fragments
        if f.path_a == "solution/__main__.py"
        and f.path_b == "solution/model.py"
        and f.lines_a[0] <= in_carol[0]
        and f.lines_a[1] >= in_carol[1]
        and f.lines_b[0] <= in_bob[0]
        and f.lines_b[1] >= in_bob[1]
    ]
    assert len(covering) == 1, result.fragments
    assert "def best_threshold" in covering[0].text_a and "def best_threshold" in covering[0].text_b
    # One function of several: evidence worth showing, not most of either file.
    assert result.share_a < FLAGGED_SHARE and not is_flagged(result)


def test_normalisation_drops_comments_docstrings_and_names() -> None:
    one = b'def f(x):\n    """Doc."""\n    return x + 1  # add\n'
    two = b"def other_name(value):\n\n    return (value\n        + 42)\n"
    a, b = tokenise_file("a.py", one), tokenise_file("b.py", two)
    assert a is not None and b is not None
    assert a.symbols == ["def", "N", "(", "N", ")", ":", "return", "N", "+", "0"]
    assert b.symbols == ["def", "N", "(", "N", ")", ":", "return", "(", "N", "+", "0", ")"]
    assert a.first_lines[-1] == 3 and b.first_lines[-2] == 4
    strings = tokenise_file("c.py", b'x = f"a{y!r}b" "c"\n')
    assert strings is not None and strings.symbols == ["N", "=", "S", "N", "S"]


def test_unknown_binary_and_data_files_are_skipped() -> None:
    assert tokenise_file("notes.unknownext", b"hello") is None
    assert tokenise_file("model.py", b"\x00\x01binary") is None
    assert tokenise_file("report.json", b'{"roc_auc": 0.8}') is None
    assert tokenise_file("latin1.py", "x = 'caf\xe9'\n".encode("latin-1")) is None
    other = tokenise_file("main.go", b"package main\n\nfunc main() { x := 1 }\n")
    assert other is not None and "func" in other.symbols


def test_fingerprints_round_trip_through_json(prints: dict[str, Fingerprints]) -> None:
    original = prints["carol"]
    again = Fingerprints.model_validate_json(original.model_dump_json())
    assert again == original
    assert compare(again, prints["bob"]) == compare(original, prints["bob"])


def test_fingerprints_of_other_parameters_are_refused(prints: dict[str, Fingerprints]) -> None:
    other = fingerprint_files(submission_files("bob"), name="bob", k=12, w=8)
    with pytest.raises(ValueError, match="different parameters"):
        compare(prints["alice"], other)
    with pytest.raises(ValueError, match="k=12"):
        SimilarityIndex().add(other)


def test_the_index_gives_what_pairwise_comparison_gives(prints: dict[str, Fingerprints]) -> None:
    order = ["starter", *NAMES]
    index = SimilarityIndex()
    for at, name in enumerate(order):
        results = index.add(prints[name])
        assert results == [compare(prints[name], prints[o]) for o in order[:at]]
    assert len(index) == len(order)


def test_short_fragments_count_in_the_shares_but_are_not_shown(
    prints: dict[str, Fingerprints],
) -> None:
    # alice and bob share an argument list and a save (one or two fingerprints each).
    result = compare(prints["alice"], prints["bob"])
    assert result.matched_a > 0 and result.share_a > 0
    assert result.fragments == []
    for pair in (("alice-renamed", "alice"), ("carol", "bob"), ("alice", "carol")):
        assert all(
            f.fingerprints >= MIN_FRAGMENT for f in compare(*map(prints.get, pair)).fragments
        )


def test_fragments_past_the_cap_are_the_shortest_left_out(
    prints: dict[str, Fingerprints], monkeypatch: pytest.MonkeyPatch
) -> None:
    every = compare(prints["alice-renamed"], prints["alice"]).fragments
    monkeypatch.setattr("worksample.similarity._comparison.MAX_FRAGMENTS", 1)
    capped = compare(prints["alice-renamed"], prints["alice"])
    assert len(every) > 1 and capped.fragments_left_out == len(every) - 1
    assert capped.fragments == [max(every, key=lambda f: f.fingerprints)]


def test_hashes_held_by_many_stored_submissions_are_no_evidence(
    prints: dict[str, Fingerprints], starter: frozenset[int]
) -> None:
    # With a limit of one, whatever two stored submissions hold is common.
    index = SimilarityIndex(common_min=1)
    index.add(prints["alice"])
    assert index.add(prints["alice-renamed"])[0].share_a >= 0.8  # one holder: evidence
    again = fingerprint_files(submission_files("alice"), name="again", starter=starter)
    assert index.common_above() == 1
    held_by_both = prints["alice"].hash_set & prints["alice-renamed"].hash_set
    for stored, result in zip(("alice", "alice-renamed"), index.add(again), strict=True):
        theirs = prints[stored].hash_set
        expected = sum(1 for h in again.hashes if h in theirs and h not in held_by_both)
        assert result.matched_a == expected < compare(again, prints[stored]).matched_a
        assert not is_flagged(result)  # what is left is alice's own tenth


def test_common_hashes_inside_a_copied_function_do_not_cut_its_fragment(
    prints: dict[str, Fingerprints], starter: frozenset[int]
) -> None:
    # A third submission holds the middle of bob's best_threshold: when carol
    # comes, those hashes are common (two holders), the rest of it is not.
    model = (FIXTURES / "bob/solution/model.py").read_text().splitlines()
    first, last = lines_of(FIXTURES / "bob/solution/model.py", "def best_threshold", "return float")
    middle = model[first + (last - first) // 4 : last - (last - first) // 4]
    part = fingerprint_files(
        {"solution/part.py": "\n".join(middle).encode()}, name="part", starter=starter
    )
    index = SimilarityIndex(common_min=1)
    index.add(part)
    index.add(prints["bob"])
    _, with_bob = index.add(prints["carol"])
    pairwise = compare(prints["carol"], prints["bob"])
    assert 0 < with_bob.matched_a < pairwise.matched_a
    whole = [f for f in pairwise.fragments if "def best_threshold" in f.text_a]
    assert [f for f in with_bob.fragments if "def best_threshold" in f.text_a] == whole


DIGEST = """
import hashlib, sys
from pathlib import Path
from worksample.graders import read_directory
from worksample.similarity import fingerprint_files, starter_fingerprints
starter = read_directory(Path(sys.argv[1])).files
files = {**starter, **read_directory(Path(sys.argv[2])).files}
fp = fingerprint_files(files, name="x", starter=starter_fingerprints(starter))
print(hashlib.sha256(fp.model_dump_json().encode()).hexdigest())
"""


def test_fingerprints_are_the_same_in_every_process() -> None:
    digests = set()
    for seed in ("1", "2", "random"):
        done = subprocess.run(
            [sys.executable, "-c", DIGEST, str(EXERCISE / "starter"), str(FIXTURES / "carol")],
            capture_output=True, text=True, check=True,
            env={**os.environ, "PYTHONHASHSEED": seed},
        )  # fmt: skip
        digests.add(done.stdout.strip())
    assert len(digests) == 1


def invoke(*args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(app, ["similarity", *args], env={"COLUMNS": "200"})
    return result.exit_code, result.stdout, result.stderr


def test_cli_prints_pairs_most_similar_first_with_fragments(tmp_path: Path) -> None:
    archive = tmp_path / "bob.zip"
    with zipfile.ZipFile(archive, "w") as zipped:  # a zip of the kit's folder, as uploaded
        for rel, data in submission_files("bob").items():
            zipped.writestr(f"ml-churn-pipeline/{rel}", data)
    paths = [str(FIXTURES / "alice"), str(archive), str(FIXTURES / "alice-renamed")]
    code, out, _ = invoke(str(EXERCISE), *paths)
    assert code == 0
    first_pair = out.split("\na: ")[1]
    assert first_pair.startswith(f"{FIXTURES / 'alice-renamed'}\nb: {FIXTURES / 'alice'}")
    assert "found in b" in first_pair and "fragment 1" in first_pair
    assert "b solution/pipeline.py:" in first_pair and "def build_model() -> Pipeline:" in out
    assert out.count("\na: ") == 3  # every pair, once


def test_cli_json_is_one_document_of_every_pair() -> None:
    code, out, _ = invoke("--json", str(EXERCISE), str(FIXTURES / "bob"), str(FIXTURES / "carol"))
    assert code == 0
    document = json.loads(out)
    assert document["exercise"] == "ml-churn-pipeline" and document["k"] == 20
    [pair] = [Comparison.model_validate(c) for c in document["comparisons"]]
    assert pair.a.endswith("carol") and pair.b.endswith("bob")
    assert any("def best_threshold" in f.text_a for f in pair.fragments)


def test_cli_refuses_a_missing_path_and_an_unknown_exercise(tmp_path: Path) -> None:
    code, _, err = invoke(str(EXERCISE), str(FIXTURES / "bob"), str(tmp_path / "nowhere"))
    assert code == 2 and f"{tmp_path / 'nowhere'}: no such file or folder" in err
    code, _, err = invoke("no-such-exercise", str(FIXTURES / "bob"), str(FIXTURES / "carol"))
    assert code == 2 and "no exercise 'no-such-exercise'" in err
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    (elsewhere / "main.py").write_text("print('hello')\n")
    code, _, err = invoke(str(EXERCISE), str(FIXTURES / "bob"), str(elsewhere))
    assert code == 2 and "solution/__main__.py" in err
