import pytest

pytestmark = [pytest.mark.public, pytest.mark.category("answers")]

PASSAGES = [
    {"id": "hours", "text": "The office opens at 9 am on weekdays."},
    {"id": "pets", "text": "Dogs are welcome in the office on Fridays."},
]


def test_answers_with_a_citation(candidate):
    """Asked when the office opens, `ask` answers "9 am" and cites only the hours passage. A failure
    means answers are not grounded in, or not attributed to, the passages given.
    """
    out = candidate.call("solution:ask", "When does the office open?", PASSAGES)
    assert out.ok, out.error
    assert "9 am" in out.value["answer"]
    assert out.value["citations"] == ["hours"]
