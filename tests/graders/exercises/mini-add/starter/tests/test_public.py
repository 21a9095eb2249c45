import pytest

pytestmark = [pytest.mark.public, pytest.mark.category("correctness")]


def test_add_small_numbers(candidate):
    """`add(1, 2)` returns 3. A failure means the simplest call into the solution does not work."""
    out = candidate.call("solution:add", 1, 2)
    assert out.ok, out.error
    assert out.value == 3
