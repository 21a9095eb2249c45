"""The command-line contract from the brief: commands, files, exit codes."""

from __future__ import annotations

import numpy as np
import pytest

pytestmark = pytest.mark.category("contract")

SAME = 1e-6


def _clean_error(cli, what, *args):
    run = cli.python(*args, timeout=60)
    assert not run.timed_out, f"{what}: the command did not finish within 60 s"
    assert run.exit_code not in (0, None), f"{what}: exit status 0, expected an error"
    assert b"Traceback (most recent call last)" not in run.stderr, (
        f"{what}: a traceback instead of a clean error message: {run.text('stderr')[-800:]}"
    )
    assert run.stderr.strip(), f"{what}: non-zero exit but no message on stderr"


def test_train_writes_a_model(cli, training):
    """`train` exits 0 and leaves a non-empty model directory where `--model-dir` says. A failure
    means the first step of the CLI contract is broken, and every test that needs a trained model
    fails with it.
    """
    training.require()
    run = cli.candidate.run(
        [
            "python",
            "-c",
            "import os, sys; sys.exit(0 if os.listdir(sys.argv[1]) else 1)",
            training.model_dir,
        ],
        cwd="/tmp",
        timeout=30,
    )
    assert run.ok, f"train exited 0 but {training.model_dir} is missing or empty"


@pytest.mark.weight(2)
@pytest.mark.parametrize("name", ["a", "b"])
def test_prediction_file(holdout, churn_data, name):
    """`predict` on a hidden holdout (A, and the drifted B) writes the header
    `customer_id,churn_probability`, one row per input row with the ids in input order, and finite
    probabilities in [0, 1]. A failure means a scoring job downstream could not join or trust the
    output, whatever the model's quality.
    """
    probabilities = holdout(name).require()
    assert len(probabilities) == len(churn_data.holdouts[name].labels)


def test_report_has_required_metrics(evaluation):
    """`evaluate` writes a report.json holding `roc_auc`, `pr_auc`, `brier`, `threshold` and `f1` as
    finite numbers in [0, 1], the threshold strictly between 0 and 1. A failure means the
    candidate's own estimate of their model is missing or unusable, so the honest-evaluation tests
    cannot credit it either.
    """
    report = evaluation.require()
    assert 0.0 < report["threshold"] < 1.0, (
        f"threshold {report['threshold']} is not strictly between 0 and 1"
    )


def test_saved_model_is_self_contained(cli, churn_data, base_prediction):
    """The model directory, moved to another path with train.csv hidden, still predicts the `base`
    rows exactly as before. A failure means the model depends on its original path or reads the
    training data at prediction time, so it could not be shipped to a scoring job on its own.
    """
    expected = base_prediction.require()
    main, moved = cli.train("main").model_dir, "/work/grading/relocated-model"
    train_csv, hidden_csv = "/work/submission/data/train.csv", "/work/grading/train.csv.hidden"
    move = "import os, sys; os.rename(sys.argv[1], sys.argv[2])"
    hide = ["python", "-c", move, train_csv, hidden_csv]
    restore = ["python", "-c", move, hidden_csv, train_csv]
    assert cli.candidate.run(["python", "-c", move, main, moved], cwd="/tmp").ok
    assert cli.candidate.run(hide, cwd="/tmp").ok
    try:
        prediction = cli.predict("base_relocated", churn_data.base, model_dir=moved, model="main")
    finally:
        cli.candidate.run(restore, cwd="/tmp")
        cli.candidate.run(["python", "-c", move, moved, main], cwd="/tmp")
    got = prediction.require()
    gap = float(np.max(np.abs(got - expected)))
    assert gap <= SAME, f"the moved model predicts differently (largest change {gap:.6f})"


def test_missing_input_is_a_clean_error(cli, training):
    """`predict` with a data file that does not exist exits non-zero within 60 s with a message on
    stderr and no traceback. A failure means an operator's typo ends in a stack trace, or a silent
    success, instead of a message they can act on.
    """
    training.require()
    _clean_error(
        cli,
        "predict with a data file that does not exist",
        "predict",
        "--model-dir",
        training.model_dir,
        "--data",
        "/work/grading/inputs/no-such-file.csv",
        "--output",
        "/work/grading/outputs/no-such-file.csv",
    )


def test_missing_model_is_a_clean_error(cli, churn_data, training):
    """`predict` with a model directory that was never trained exits non-zero with a message on
    stderr and no traceback. A failure means a misconfigured job crashes, or scores with nothing,
    instead of saying the model is missing.
    """
    training.require()
    cli.candidate.put_files({"base.csv": churn_data.base.to_bytes()}, dest="/work/grading/inputs")
    _clean_error(
        cli,
        "predict with a model directory that was never trained",
        "predict",
        "--model-dir",
        "/work/grading/models/never-trained",
        "--data",
        "/work/grading/inputs/base.csv",
        "--output",
        "/work/grading/outputs/never-trained.csv",
    )
