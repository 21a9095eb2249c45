"""However a candidate zips the reference, it scores 100; a zip without it is refused.

The shapes candidates upload: the starter kit's folder with their work in it
(`<exercise-id>/solution/...`), the same repository from GitHub's "Download ZIP"
(`<repo>-main/solution/...`), and the package alone (`zip -r s.zip solution`).

Grading is the expensive part (an AI exercise takes about a minute), and intake
is deterministic: the kit's zip and GitHub's give the same `Submission.sha256`,
so one grading covers both; the package alone is another tree and is graded too.
The reference folder itself is graded by test_validate_exercises.py.
"""

from __future__ import annotations

import io
import zipfile
from pathlib import Path

import pytest
from worksample.graders import (
    Exercise,
    build_starter_kit,
    grade,
    list_exercise_dirs,
    load_exercise,
    read_directory,
    read_zip,
)

EXERCISES = Path(__file__).resolve().parents[2] / "exercises"

pytestmark = [pytest.mark.docker, pytest.mark.slow]


def zip_tree(files: dict[str, bytes], wrapper: str = "") -> bytes:
    buffer = io.BytesIO()
    prefix = f"{wrapper}/" if wrapper else ""
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, data in sorted(files.items()):
            archive.writestr(prefix + name, data)
    return buffer.getvalue()


def kit_with_reference(exercise: Exercise) -> dict[str, bytes]:
    """The downloaded kit's files (without its folder) with the reference over them."""
    with zipfile.ZipFile(io.BytesIO(build_starter_kit(exercise))) as kit:
        prefix = f"{exercise.id}/"
        files = {
            info.filename.removeprefix(prefix): kit.read(info)
            for info in kit.infolist()
            if not info.is_dir()
        }
    return files | read_directory(exercise.reference_dir).files


@pytest.mark.parametrize("path", list_exercise_dirs(EXERCISES), ids=lambda p: p.name)
def test_the_reference_scores_100_however_it_is_zipped(path: Path, tmp_path: Path) -> None:
    exercise = load_exercise(path)
    required = exercise.manifest.submission.required
    # The package alone: the reference's top-level folders that hold the required
    # paths. No exercise needs more (the grader puts its `grading.provided` files in).
    package_roots = {rel.split("/", 1)[0] for rel in required}
    reference = read_directory(exercise.reference_dir).files
    package = {rel: data for rel, data in reference.items() if rel.split("/")[0] in package_roots}
    repository = kit_with_reference(exercise)
    shapes = {
        "kit": zip_tree(repository, exercise.id),
        "github": zip_tree(repository, f"{exercise.id}-solution-main"),
        "package": zip_tree(package),
    }
    trees = {name: read_zip(data, required=required) for name, data in shapes.items()}
    assert trees["kit"].files == repository
    assert trees["github"].sha256 == trees["kit"].sha256
    assert trees["package"].files == package and set(package) >= set(required)

    for name in ("kit", "package"):
        upload = tmp_path / f"{name}.zip"
        upload.write_bytes(shapes[name])
        report = grade(exercise, upload)
        failed = [f"{t.id}: {t.message}" for t in report.tests if t.outcome != "passed"]
        assert (report.status, report.score) == ("graded", 100.0), (name, report.reason, failed)
        assert report.submission_sha256 == trees[name].sha256

    # The repository without its package: refused before any grading, saying why.
    unpackaged = {
        rel: data for rel, data in repository.items() if rel.split("/")[0] not in package_roots
    }
    upload = tmp_path / "no-solution.zip"
    upload.write_bytes(zip_tree(unpackaged, exercise.id))
    report = grade(exercise, upload)
    assert report.status == "rejected" and not report.tests
    assert required == ["solution/__main__.py"]  # what the candidate reads, below
    assert report.reason.startswith(
        'rejected: The submission must contain "solution/__main__.py" at its top level (or '
        "inside one folder that wraps everything), but its top level holds "
        f'"{exercise.id}/", which holds "DESIGN.md", "README.md", "conftest.py", "data/", '
    )
    assert report.reason.endswith(". Zip the starter kit's folder with your work in it.")
    assert '"solution/"' not in report.reason and '"wheels/"' in report.reason
