"""Trusted grading: submission intake, the hidden suite's pytest plugin, scoring, reports."""

from worksample.graders._intake import (
    IntakeLimits,
    Submission,
    SubmissionRejected,
    read_directory,
    read_submission,
    read_zip,
)

__all__ = [
    "IntakeLimits",
    "Submission",
    "SubmissionRejected",
    "read_directory",
    "read_submission",
    "read_zip",
]
