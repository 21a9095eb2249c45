import pytest


@pytest.mark.category("correctness")
@pytest.mark.weight(2)
def test_add_negative(candidate):
    """`add(-5, 3)` called in the sandbox returns -2. A failure means addition goes wrong for
    negative operands.
    """
    out = candidate.call("solution:add", -5, 3)
    assert out.ok, f"add raised {out.error}"
    assert out.value == -2, f"add(-5, 3) returned {out.value!r}"


@pytest.mark.category("correctness")
def test_sum_command(summed):
    """`python3 solution.py sum data/numbers.txt` exits 0 and prints 10, the sum of the provided
    file. A failure means the command line is missing or sums wrongly.
    """
    assert summed.exit_code == 0, summed.text("stderr")
    assert summed.text().strip() == "10"


@pytest.mark.category("robustness")
def test_sum_of_missing_file_fails_cleanly(candidate):
    """The sum command on a file that does not exist exits with status 2 and no traceback. A failure
    means bad input crashes the program instead of giving its user a clean error.
    """
    r = candidate.run(["python3", "solution.py", "sum", "nope.txt"])
    assert r.exit_code == 2, f"exit code {r.exit_code}"
    assert "Traceback" not in r.text("stderr")
