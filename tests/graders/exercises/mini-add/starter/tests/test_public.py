import pytest

pytestmark = [pytest.mark.public, pytest.mark.category("correctness")]


def test_add_small_numbers(candidate):
    out = candidate.call("solution:add", 1, 2)
    assert out.ok, out.error
    assert out.value == 3
