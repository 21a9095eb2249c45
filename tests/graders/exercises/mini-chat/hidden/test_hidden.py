import pytest

pytestmark = pytest.mark.category("answers")

PASSAGES = [
    {"id": "parking", "text": "Staff park in the north garage. Visitors park on level 2."},
    {"id": "lunch", "text": "Lunch is served from noon in the canteen."},
]


def test_uses_the_model_once_with_delimited_documents(candidate, mock_llm):
    """Asked where visitors park, `ask` cites only the parking passage, calls the model exactly once
    and sends the passages as delimited `<doc id=...>` blocks. A failure means documents are not
    passed as data the model can cite, or the model is called more than needed.
    """
    mock_llm.reset()
    out = candidate.call("solution:ask", "Where do visitors park?", PASSAGES)
    assert out.ok, out.error
    assert out.value["citations"] == ["parking"]
    chats = mock_llm.requests(endpoint="chat.completions")
    assert len(chats) == 1, f"{len(chats)} chat requests"
    assert '<doc id="parking">' in str(chats[0].body)


def test_refuses_without_support(candidate):
    """A question no passage answers gets an answer without citations. A failure means the pipeline
    cites documents that do not support what it says.
    """
    out = candidate.call("solution:ask", "What is the wifi password?", PASSAGES)
    assert out.ok, out.error
    assert out.value["citations"] == []
