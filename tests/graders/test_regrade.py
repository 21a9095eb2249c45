"""`worksample exercises regrade`: the comparison of two reports, and the command
end to end on mini-add (a folder of submissions, and the database's finals)."""

from __future__ import annotations

import json
import shutil
import sqlite3
import zipfile
from collections.abc import Iterator
from pathlib import Path

import pytest
from factories import (
    make_invitation,
    make_org,
    make_position,
    make_run,
    make_submission,
    make_submission_zip,
)
from rich.console import Console
from sqlmodel import Session
from typer.testing import CliRunner
from worksample.cli import app
from worksample.cli._regrade import (
    Baseline,
    ExerciseStamp,
    RegradeOutput,
    SubmissionRegrade,
    compare_reports,
    print_output,
)
from worksample.db import Blob, RunStatus, SubmissionKind, make_engine, migrate
from worksample.graders import Report, load_exercise
from worksample.graders import TestResult as Graded  # not collected as a test class
from worksample.settings import get_settings

HERE = Path(__file__).parent
MINI = HERE / "exercises" / "mini-add"
EXERCISE = load_exercise(MINI)
SCHEMA_1 = HERE / "reports" / "schema-1-off-by-one.json"
NEGATIVE = "hidden/test_hidden.py::test_add_negative"
SUM = "hidden/test_hidden.py::test_sum_command"
MISSING = "hidden/test_hidden.py::test_sum_of_missing_file_fails_cleanly"
SMALL = "starter/tests/test_public.py::test_add_small_numbers"


# --- the comparison, on reports made by hand ------------------------------------


@pytest.fixture(scope="module")
def graded() -> Report:
    """off-by-one as graded (schema 1, upgraded on load): test_add_negative failed."""
    return Report.model_validate_json(SCHEMA_1.read_bytes())


def with_tests(report: Report, score: float, **changes: dict[str, object] | None) -> Report:
    """`report` with some tests changed (by id, `None` drops one) and a new total."""
    tests: list[Graded] = []
    for t in report.tests:
        update = changes.pop(t.id.rsplit("::", 1)[1], {})
        if update is not None:
            tests.append(t.model_copy(update=update))
    tests += [Graded.model_validate(new) for new in changes.values()]
    return report.model_copy(update={"tests": tests, "score": score, "uncapped_score": score})


def test_the_same_grading_is_no_change(graded: Report) -> None:
    changes = compare_reports(graded, graded.model_copy(update={"uncapped_score": 62.5}))
    assert not changes.changed and changes.tests == [] and changes.delta == 0
    assert changes.uncapped_before == 62.5  # a schema 1 report's total is its uncapped total


def test_an_outcome_that_moves_is_named_with_its_new_failure(graded: Report) -> None:
    broken = with_tests(
        graded, 43.75, test_sum_command={"outcome": "failed", "message": "AssertionError: 9\nx"}
    )
    changes = compare_reports(graded, broken)
    assert changes.changed and changes.delta == -18.75
    [test] = changes.tests
    assert (test.id, test.change, test.outcome_before, test.outcome_after) == (
        SUM,
        "outcome",
        "passed",
        "failed",
    )
    assert test.message == "AssertionError: 9"
    back = compare_reports(broken, graded).tests[0]
    assert (back.outcome_after, back.message) == ("passed", "")  # a fix carries no message


def test_points_moved_between_passed_tests_are_shown_but_no_change(graded: Report) -> None:
    reweighted = with_tests(
        graded, 62.5, test_sum_command={"points": 25.0}, test_add_small_numbers={"points": 12.5}
    )
    changes = compare_reports(graded, reweighted)
    assert [(t.id, t.change) for t in changes.tests] == [(SUM, "points"), (SMALL, "points")]
    assert (changes.tests[0].points_before, changes.tests[0].points_after) == (18.75, 25.0)
    assert not changes.changed  # the candidate's total and outcomes are the same


def test_tests_added_to_and_removed_from_the_suite(graded: Report) -> None:
    added = graded.test(SUM).model_copy(update={"id": "hidden/test_new.py::test_new"}).model_dump()
    changed = with_tests(graded, 62.5, test_sum_of_missing_file_fails_cleanly=None, new=added)
    changes = compare_reports(graded, changed)
    assert [(t.id, t.change) for t in changes.tests] == [
        ("hidden/test_new.py::test_new", "added"),
        (MISSING, "removed"),
    ]
    assert changes.tests[0].outcome_before is None and changes.tests[1].outcome_after is None
    assert changes.changed


def test_a_knockout_that_now_applies_is_a_change_at_the_same_total(graded: Report) -> None:
    knocked = graded.model_validate(
        graded.model_dump()
        | {
            "score": 62.5,
            "uncapped_score": 70.0,
            "knockouts": [{"id": "negative", "label": "adds wrongly", "cap": 62.5, "tests": []}],
        }
    )
    changes = compare_reports(graded, knocked)
    assert changes.delta == 0 and changes.changed
    assert [k.id for k in changes.knockouts_after] == ["negative"]


def test_a_rejection_is_a_status_change_without_test_changes(graded: Report) -> None:
    rejected = Report.model_validate(
        graded.model_dump(exclude={"tests", "categories", "score", "submission_sha256"})
        | {"status": "rejected", "reason": "rejected: not a zip archive"}
    )
    changes = compare_reports(graded, rejected)
    assert changes.changed and changes.tests == [] and changes.delta is None
    assert not changes.submission_changed  # a rejected tree has no digest to compare
    assert not compare_reports(rejected, rejected).changed


def test_different_files_are_said_to_be_the_submissions_change(graded: Report) -> None:
    other = graded.model_copy(update={"submission_sha256": "0" * 64})
    assert compare_reports(graded, other).submission_changed


def test_the_text_names_each_kind_of_move(graded: Report) -> None:
    added = graded.test(SUM).model_copy(update={"id": "hidden/test_new.py::test_new"}).model_dump()
    after = with_tests(
        graded, 62.5, test_sum_command={"points": 25.0}, test_add_small_numbers=None, new=added
    ).model_copy(update={"backend": "local"})
    knockout = {"id": "neg", "label": "adds wrongly", "cap": 62.5, "tests": [NEGATIVE]}
    after = Report.model_validate(
        after.model_dump() | {"schema_version": 3, "uncapped_score": 70.0, "knockouts": [knockout]}
    )
    output = RegradeOutput(
        exercise=ExerciseStamp.of(after),
        source="folder",
        folder="subs",
        backend="local",
        updated=False,
        submissions=[
            SubmissionRegrade(
                name="off-by-one",
                result="changed",
                status="graded",
                reason="",
                score=62.5,
                changes=compare_reports(graded, after),
            )
        ],
    )
    console = Console(width=200, record=True)
    with console.capture() as captured:
        print_output(output, console)
    assert captured.get().splitlines()[2:] == [
        "off-by-one     62.50 → 62.50     changed",
        "    before the knock-outs' caps 62.50 → 70.00",
        "    knock-out neg now applies: adds wrongly (cap 62.5)",
        f"    {SUM}  passed, points 18.75 → 25.00",
        "    hidden/test_new.py::test_new  added to the suite: passed, 18.75 points",
        f"    {SMALL}  removed from the suite: was passed, 18.75 points",
        "    graded on the docker backend before, on local now",
        "1 submission, 1 changed",
        "baselines kept (--update)",
    ]


# --- the command on a folder of submissions -------------------------------------


def regrade(*args: str | Path) -> tuple[int, str, str]:
    result = CliRunner().invoke(app, ["exercises", "regrade", *map(str, args)])
    return result.exit_code, result.stdout, result.stderr


def said(out: str) -> list[str]:
    """The output's lines with their runs of spaces (alignment) made one."""
    return [" ".join(line.split()) for line in out.splitlines()]


def zip_of(folder: Path, archive: Path) -> Path:
    with zipfile.ZipFile(archive, "w") as zipped:
        for path in sorted(folder.iterdir()):
            zipped.write(path, path.name)
    return archive


@pytest.fixture(scope="module")
def recorded(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, str]:
    """Three submissions of mini-add and their baselines, recorded once (locally)."""
    folder = tmp_path_factory.mktemp("regrade") / "submissions"
    folder.mkdir()
    shutil.copytree(MINI / "reference", folder / "reference")
    shutil.copytree(MINI / "faulty" / "off-by-one", folder / "off-by-one")
    zip_of(MINI / "weak" / "careless", folder / "careless.zip")
    code, out, err = regrade(MINI, "--against", folder, "--backend", "local")
    assert code == 0, err
    return folder, out


@pytest.fixture
def submissions(recorded: tuple[Path, str], tmp_path: Path) -> Path:
    """A copy of the recorded folder, for a test to change."""
    return Path(shutil.copytree(recorded[0], tmp_path / "submissions"))


def baseline(folder: Path, name: str) -> Baseline:
    return Baseline.model_validate_json((folder / ".regrade" / f"{name}.json").read_bytes())


def broken_exercise(tmp_path: Path) -> Path:
    """mini-add whose sum test now expects 11: every submission fails it."""
    copy = Path(shutil.copytree(MINI, tmp_path / "mini-add"))
    suite = copy / "hidden" / "test_hidden.py"
    suite.write_text(suite.read_text().replace('== "10"', '== "11"'))
    return copy


@pytest.mark.slow
def test_the_first_run_records_a_baseline_per_submission(recorded: tuple[Path, str]) -> None:
    folder, out = recorded
    assert said(out) == [
        f"Regrade of mini-add 1.0 ({EXERCISE.content_hash[:12]}): 3 submissions in {folder}, "
        "local backend (NOT sandboxed)",
        "careless.zip 37.50 baseline recorded",
        "off-by-one 40.00 baseline recorded",
        "reference 100.00 baseline recorded",
        "3 submissions, 0 changed, 3 baselines recorded",
    ]
    kept = baseline(folder, "off-by-one")
    assert (kept.submission, kept.exercise.version) == ("off-by-one", "1.0")
    assert kept.exercise.content_hash == EXERCISE.content_hash
    assert kept.report.score == 40 and kept.report.knockouts[0].id == "negative_sums"
    assert sorted(p.name for p in (folder / ".regrade").iterdir()) == [
        "careless.zip.json",
        "off-by-one.json",
        "reference.json",
    ]


@pytest.mark.slow
def test_a_rerun_of_the_same_exercise_changes_nothing(submissions: Path) -> None:
    before = {p.name: p.read_bytes() for p in (submissions / ".regrade").iterdir()}
    code, out, _ = regrade(MINI, "--against", submissions, "--backend", "local")
    assert code == 0, out
    assert said(out)[1:] == [
        f"against baselines of 1.0 ({EXERCISE.content_hash[:12]}): the same exercise",
        "careless.zip 37.50 → 37.50 unchanged",
        "off-by-one 40.00 → 40.00 unchanged",
        "reference 100.00 → 100.00 unchanged",
        "3 submissions, 0 changed",
        "baselines kept (--update)",
    ]
    assert {p.name: p.read_bytes() for p in (submissions / ".regrade").iterdir()} == before


@pytest.mark.slow
def test_a_broken_test_shows_per_submission_and_test_and_update_keeps_it(
    submissions: Path, tmp_path: Path
) -> None:
    changed = broken_exercise(tmp_path)
    code, out, _ = regrade(changed, "--against", submissions, "--backend", "local", "--json")
    assert code == 1
    document = json.loads(out)  # exactly one JSON document
    assert document["exercise"]["content_hash"] == load_exercise(changed).content_hash
    assert (document["source"], document["backend"], document["updated"]) == (
        "folder",
        "local",
        False,
    )
    assert document["summary"] == {
        "submissions": 3,
        "changed": 3,
        "recorded": 0,
        "largest_change": {"name": "careless.zip", "delta": -18.75},  # the first of a tie
    }
    by_name = {s["name"]: s for s in document["submissions"]}
    reference = by_name["reference"]
    assert (reference["result"], reference["score"]) == ("changed", 81.25)
    [moved] = [t for t in reference["changes"]["tests"] if t["change"] == "outcome"]
    assert moved == {
        "id": SUM,
        "change": "outcome",
        "outcome_before": "passed",
        "outcome_after": "failed",
        "points_before": 18.75,
        "points_after": 18.75,
        "message": "AssertionError: assert '10' == '11'",
    }
    assert reference["changes"]["exercise_before"]["content_hash"] == EXERCISE.content_hash
    off = by_name["off-by-one"]["changes"]
    assert (off["score_before"], off["score_after"]) == (40.0, 40.0)  # capped both times
    assert (off["uncapped_before"], off["uncapped_after"]) == (62.5, 43.75)
    assert baseline(submissions, "reference").exercise.content_hash == EXERCISE.content_hash

    code, out, _ = regrade(changed, "--against", submissions, "--backend", "local", "--update")
    assert code == 1
    failure = ["passed → failed", "AssertionError: assert '10' == '11'"]
    assert said(out)[2:] == [
        "careless.zip 37.50 → 18.75 changed -18.75",
        f"{SUM} {failure[0]}",
        failure[1],
        "off-by-one 40.00 → 40.00 changed",
        "before the knock-outs' caps 62.50 → 43.75",
        f"{SUM} {failure[0]}",
        failure[1],
        "reference 100.00 → 81.25 changed -18.75",
        f"{SUM} {failure[0]}",
        failure[1],
        "3 submissions, 3 changed; largest change careless.zip -18.75",
        "baselines replaced",
    ]
    assert f"\n    {SUM}  passed → failed\n      AssertionError" in out  # indented under its own
    kept = baseline(submissions, "reference")
    assert kept.exercise.content_hash == load_exercise(changed).content_hash
    assert kept.report.score == 81.25


@pytest.mark.slow
def test_an_unreadable_zip_gets_its_line_and_its_status_change_counts(submissions: Path) -> None:
    for path in (submissions / "reference", submissions / "off-by-one"):
        shutil.rmtree(path)
    (submissions / "careless.zip").write_bytes(b"not a zip at all")
    code, out, err = regrade(MINI, "--against", submissions, "--backend", "local")
    assert code == 1
    assert said(out)[2:4] == [
        "careless.zip 37.50 → rejected changed",
        "rejected: The upload is not a zip archive; please upload a zip file.",
    ]
    assert "kept " in err and "off-by-one.json: its submission is gone" in err
    assert baseline(submissions, "careless.zip").report.status == "graded"  # no --update


@pytest.mark.docker
def test_the_docker_backend_against_local_baselines(submissions: Path) -> None:
    for path in (submissions / "careless.zip", submissions / "off-by-one"):
        shutil.rmtree(path) if path.is_dir() else path.unlink()
    code, out, _ = regrade(MINI, "--against", submissions, "--backend", "docker")
    assert code == 0, out
    assert said(out)[0].endswith("1 submission in " + f"{submissions}, docker backend")
    assert said(out)[2:4] == [
        "reference 100.00 → 100.00 unchanged",
        "graded on the local backend before, on docker now",
    ]


def test_bad_input_exits_2_with_the_reason(tmp_path: Path) -> None:
    assert regrade(MINI, "--against", tmp_path / "nope")[0::2] == (
        2,
        f"{tmp_path / 'nope'}: no such folder\n",
    )
    (tmp_path / "notes.txt").write_text("not a submission")
    code, _, err = regrade(MINI, "--against", tmp_path)
    assert (code, err) == (
        2,
        f"skipped notes.txt: neither a .zip nor a folder\n"
        f"{tmp_path}: no submissions (each a .zip or a sub-folder)\n",
    )
    assert regrade(MINI)[0::2] == (2, "give either --against FOLDER or --stored\n")
    assert regrade(MINI, "--against", tmp_path, "--stored")[0] == 2
    assert regrade(MINI, "--stored", "--update")[0::2] == (
        2,
        "--update with --stored: the database is never written\n",
    )
    assert regrade("no-such-exercise", "--against", tmp_path)[0] == 2


def test_a_bad_baseline_is_refused_before_anything_is_graded(tmp_path: Path) -> None:
    shutil.copytree(MINI / "reference", tmp_path / "reference")
    kept = tmp_path / ".regrade" / "reference.json"
    kept.parent.mkdir()
    kept.write_text("{}")
    code, _, err = regrade(MINI, "--against", tmp_path, "--backend", "local")
    assert code == 2
    assert err.startswith(f"{kept}: not a baseline (") and "delete it to record a new" in err
    kept.write_text(
        json.dumps(
            {
                "submission": "reference",
                "exercise": {"id": "x", "version": "1", "content_hash": "0"},
                "recorded_at": "2025-01-01T00:00:00Z",
                "report": json.loads(SCHEMA_1.read_text()),
            }
        )
    )
    code, _, err = regrade(MINI, "--against", tmp_path, "--backend", "local")
    assert (code, err.split(";")[0]) == (2, f"{kept}: a baseline of exercise 'x', not 'mini-add'")


# --- the command on the database's final submissions ----------------------------


def rows(path: Path) -> dict[str, list[tuple[object, ...]]]:
    with sqlite3.connect(path) as db:
        tables = [t for (t,) in db.execute("SELECT name FROM sqlite_master WHERE type='table'")]
        return {t: db.execute(f'SELECT * FROM "{t}" ORDER BY 1').fetchall() for t in tables}


@pytest.fixture
def database(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    path = tmp_path / "worksample.db"
    monkeypatch.setenv("WORKSAMPLE_DATABASE_URL", f"sqlite:///{path}")
    get_settings.cache_clear()
    yield path
    get_settings.cache_clear()


@pytest.mark.slow
def test_stored_finals_are_regraded_read_only_and_named_by_ids(
    database: Path, recorded: tuple[Path, str]
) -> None:
    migrate(f"sqlite:///{database}")
    reference = baseline(recorded[0], "reference").report  # as the worker stored it
    older = with_tests(reference, 81.25, test_sum_command={"outcome": "failed"})
    engine = make_engine(f"sqlite:///{database}")
    with Session(engine) as session:
        org = make_org(session)
        position = make_position(session, org)
        elsewhere = make_position(session, org, exercise_id="ml-churn-pipeline")
        ids = []
        for stored in (reference, older, None):
            invitation, _ = make_invitation(session, position, candidate_name="Ada Lovelace")
            archive = make_submission_zip() if stored else b"not a zip"  # no report: still queued
            final = make_submission(session, invitation, data=archive, filename="ada-lovelace.zip")
            ids.append(invitation.id)
            make_submission(session, invitation, kind=SubmissionKind.practice)
            if stored is not None:
                data = stored.model_dump_json().encode()
                blob = Blob(
                    sha256="0" * 64, size=len(data), media_type="application/json", data=data
                )
                session.add(blob)
                session.commit()
                make_run(session, final, status=RunStatus.graded, report_blob_id=blob.id)
                make_run(session, final, status=RunStatus.error)  # later, and without a report
        other, _ = make_invitation(session, elsewhere)
        make_submission(session, other, data=make_submission_zip())
        position_id = position.id
    engine.dispose()
    before = rows(database)

    code, out, err = regrade(MINI, "--stored", "--backend", "local")
    assert code == 1, err
    lines = out.splitlines()
    assert lines[0].endswith(
        "): 3 final submissions in the database, local backend (NOT sandboxed)"
    )
    first, second, third = (f"invitation {i} (position {position_id})" for i in ids)
    assert lines[1] == "against stored reports of 1.0 " + f"({EXERCISE.content_hash[:12]})" + (
        ": the same exercise"
    )
    assert lines[2].startswith(first) and lines[2].endswith("100.00 → 100.00    unchanged")
    assert lines[3].startswith(second) and lines[3].endswith("81.25 → 100.00    changed +18.75")
    assert lines[4] == f"    {SUM}  failed → passed"
    assert lines[5].startswith(third) and lines[5].endswith("rejected  no stored report to compare")
    assert lines[6] == "    rejected: The upload is not a zip archive; please upload a zip file."
    assert lines[7] == f"3 submissions, 1 changed; largest change {second} +18.75"
    for personal in ("Ada", "Lovelace", "ada-lovelace", "@example.com"):
        assert personal not in out and personal not in err
    assert rows(database) == before  # not a row written

    code, out, _ = regrade(MINI, "--stored", "--backend", "local", "--json")
    document = json.loads(out)
    assert code == 1 and document["source"] == "stored" and document["folder"] is None
    found = [(s["invitation_id"], s["position_id"], s["result"]) for s in document["submissions"]]
    assert found == [
        (ids[0], position_id, "unchanged"),
        (ids[1], position_id, "changed"),
        (ids[2], position_id, "no-report"),
    ]


def test_stored_without_a_database_is_refused_and_creates_none(database: Path) -> None:
    code, _, err = regrade(MINI, "--stored")
    assert (code, err) == (2, f"no database at {database}: set WORKSAMPLE_DATABASE_URL\n")
    assert not database.exists()
