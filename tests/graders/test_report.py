"""The Report as stored: older reports load, points add up, descriptions read well."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from worksample.graders import Report
from worksample.graders._report import SCHEMA_VERSION, first_sentence

HERE = Path(__file__).parent
# A real grading of mini-add's faulty/off-by-one, with exactly the fields of schema 1.
SCHEMA_1 = HERE / "reports" / "schema-1-off-by-one.json"


def test_a_schema_1_report_loads_with_its_points_worked_out() -> None:
    raw = SCHEMA_1.read_text()
    assert '"points"' not in raw and '"description"' not in raw.split('"tests"')[1]
    report = Report.model_validate_json(raw)
    assert report.schema_version == 1 and SCHEMA_VERSION == 3
    assert report.score == 62.5
    by_id = {t.id: t for t in report.tests}
    # correctness is 75 of 100 over weights 2 + 1 + 1 (its public test included).
    assert by_id["hidden/test_hidden.py::test_add_negative"].points == 37.5
    assert by_id["hidden/test_hidden.py::test_sum_command"].points == 18.75
    assert by_id["hidden/test_hidden.py::test_sum_of_missing_file_fails_cleanly"].points == 25.0
    assert [t.id for t in report.losses] == ["hidden/test_hidden.py::test_add_negative"]
    assert sum(t.points_lost for t in report.tests) == pytest.approx(100 - report.score, abs=1e-3)
    assert sum(t.points_earned for t in report.tests) == pytest.approx(report.score, abs=1e-3)
    # What schema 1 never had stays empty rather than invented.
    assert all(t.description == "" and t.summary == "" for t in report.tests)
    assert all(c.debrief == [] for c in report.categories)
    assert report.budgets == {} and report.llm_image is None
    assert report.knockouts == [] and report.uncapped_score is None and report.capped_by == 0
    assert report.tests[0].calls and report.tests[0].calls[0].timeout_s is None
    assert report.image is not None and report.image.digest == report.image.id
    assert report.image.digest_source == "image-id"


def test_a_loaded_report_dumps_and_loads_unchanged() -> None:
    report = Report.model_validate_json(SCHEMA_1.read_text())
    dumped = report.model_dump_json()
    assert Report.model_validate_json(dumped) == report
    tests = json.loads(dumped)["tests"]
    assert tests[0]["points_lost"] == 37.5 and tests[0]["points_earned"] == 0.0  # for JSON readers


@pytest.mark.parametrize(
    ("text", "sentence"),
    [
        ("ROC-AUC is at least 0.79. A failure means...", "ROC-AUC is at least 0.79."),
        ("`train` on train.csv exits 0.\nMore.", "`train` on train.csv exits 0."),
        ("Wrapped\n    over lines. Then more.", "Wrapped over lines."),
        ("Did it stop? It did.", "Did it stop?"),
        ("No full stop at all", "No full stop at all"),
        ("First paragraph\n\nSecond. Paragraph.", "First paragraph"),
        ("", ""),
    ],
)
def test_the_summary_is_the_first_sentence(text: str, sentence: str) -> None:
    assert first_sentence(text) == sentence
