"""Trusted grading: submission intake, the hidden suite's pytest plugin, scoring, reports.

`worksample.graders.plugin` is the pytest plugin; it is loaded by name, so it
is a public module of its own rather than re-exported here.
"""

from worksample.graders._candidate import Candidate
from worksample.graders._exercise import (
    Exercise,
    ExerciseError,
    Manifest,
    SubmissionRules,
    content_hash,
    find_exercise,
    list_exercise_dirs,
    load_exercise,
)
from worksample.graders._grade import grade, grader_version
from worksample.graders._intake import (
    IntakeLimits,
    Submission,
    SubmissionRejected,
    read_directory,
    read_submission,
    read_zip,
)
from worksample.graders._kit import build_starter_kit, kit_requirements, kit_settings, kit_wheel
from worksample.graders._options import GradingOptions
from worksample.graders._report import Report, TestResult
from worksample.graders._rubric import Criterion, Rubric
from worksample.graders._validate import Finding, validate_exercise

__all__ = [
    "Candidate",
    "Criterion",
    "Exercise",
    "ExerciseError",
    "Finding",
    "GradingOptions",
    "IntakeLimits",
    "Manifest",
    "Report",
    "Rubric",
    "Submission",
    "SubmissionRejected",
    "SubmissionRules",
    "TestResult",
    "build_starter_kit",
    "content_hash",
    "find_exercise",
    "grade",
    "grader_version",
    "kit_requirements",
    "kit_settings",
    "kit_wheel",
    "list_exercise_dirs",
    "load_exercise",
    "read_directory",
    "read_submission",
    "read_zip",
    "validate_exercise",
]
