"""The extractive "model": answers from the passage in the prompt that best supports the question.

See docs/mock-llm.md for the contract exercise authors build on. In short:

* Passages are ``<doc id="ID">text</doc>`` blocks (delimited) and lines starting
  with ``[doc:ID]`` (running to the next ``[doc:`` or ``Question:`` line, a blank
  line or the end; not delimited), in system, user and tool messages. A tool result without such
  markup is one passage without an id.
* The question is taken from the last user message with its passages removed: a
  line starting ``Question:`` if any, else the last sentence ending in ``?``,
  else all that is left.
* Passages are ranked by BM25 over content words (lower-cased, stop words
  dropped, plural ``s`` stripped); the best one answers if it contains at least
  `min_coverage` of the question's distinct content words. The answer is its
  best-matching sentence (plus the sentence covering most of the words still
  missing, if any), verbatim, followed by `` [ID]``.
* Otherwise the reply is the `refusal` text.
"""

from __future__ import annotations

import math
import re
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from functools import lru_cache

from pydantic import BaseModel, ConfigDict, Field
from worksample.mockllm._conversation import Conversation, Reply, Turn

__all__ = [
    "DEFAULT_REFUSAL",
    "ExtractiveConfig",
    "Passage",
    "answer_question",
    "content_terms",
    "find_injection",
    "find_passages",
    "pick_question",
    "split_words",
    "term_counts",
]

DEFAULT_REFUSAL = "I cannot answer that from the provided documents."

_DOC_OPEN = re.compile(r"""<doc(?:\s+id\s*=\s*(?:"([^"]*)"|'([^']*)'))?\s*>""", re.I)
_DOC_CLOSE = re.compile(r"</doc\s*>", re.I)
_BRACKET = re.compile(
    r"^[ \t]*\[doc:([^\]\s]+)\][ \t]*(.*?)"
    r"(?=^[ \t]*\[doc:|^[ \t]*(?i:question)[ \t]*:|\n[ \t]*\n|\Z)",
    re.M | re.S,
)
_QUESTION_LINE = re.compile(r"^[ \t]*question[ \t]*:[ \t]*(.+)$", re.I | re.M)
_SENTENCE_END = re.compile(r"(?<=[.!?])\s+|\n+")
_WORD = re.compile(r"[^\W_]+")
_ASCII_WORD = re.compile(r"[a-z0-9]+")  # the same words in lower-cased ASCII text
_INJECTION = re.compile(
    r"ignore\s+(?:all\s+)?(?:the\s+)?(?:previous|prior|above|earlier)\s+instructions?"
    r"[\s,.;:]*(?:and\s+)?(?:instead\s+)?(?:reply|respond|answer|say|output|print|write)"
    r"(?:\s+(?:with|only))?\s*[:\-]?\s*(?:\"([^\"]+)\"|'([^']+)'|([^\s.!?,;]+))",
    re.I,
)
_GUARD = re.compile(
    r"\buntrusted\b|\b(?:as|are|is)\s+(?:only\s+|just\s+|plain\s+)?data\b"
    r"|\bnot\s+instructions\b|\b(?:do not|don't|never)\s+(?:follow|obey|execute)\b"
    r"|\bignore\s+(?:any\s+|all\s+)?instructions\b",
    re.I,
)
# fmt: off
_STOP_WORDS = frozenset((
    "a", "about", "above", "after", "again", "all", "also", "am", "an", "and", "any", "are",
    "as", "at", "be", "because", "been", "before", "being", "below", "between", "both", "but",
    "by", "can", "could", "did", "do", "does", "doing", "down", "during", "each", "few", "for",
    "from", "further", "had", "has", "have", "having", "he", "her", "here", "hers", "him",
    "his", "how", "i", "if", "in", "into", "is", "it", "its", "itself", "just", "me", "more",
    "most", "my", "no", "nor", "not", "now", "of", "off", "on", "once", "only", "or", "other",
    "our", "ours", "out", "over", "own", "same", "she", "should", "so", "some", "such", "than",
    "that", "the", "their", "theirs", "them", "then", "there", "these", "they", "this", "those",
    "through", "to", "too", "under", "until", "up", "very", "was", "we", "were", "what", "when",
    "where", "which", "while", "who", "whom", "why", "will", "with", "would", "you", "your",
    "yours", "many", "much", "often", "please", "tell", "give", "know", "according",
    "document", "documents", "passage", "passages", "context",
))
# fmt: on
_K1 = 1.2
_B = 0.75


class ExtractiveConfig(BaseModel):
    """Knobs of the extractive model (a scenario's ``[extractive]`` table)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    min_coverage: float = Field(default=0.5, gt=0.0, le=1.0)
    """Share of the question's distinct content words the best passage must contain."""
    refusal: str = DEFAULT_REFUSAL
    """The reply when no passage supports an answer."""
    injection: bool = True
    """Whether the mock obeys live prompt injections (see `find_injection`)."""
    cite: bool = True
    """Whether answers end with `` [ID]`` for passages that have an id."""


@dataclass(frozen=True, slots=True)
class Passage:
    """A unit of context the model can answer from."""

    id: str | None
    text: str
    delimited: bool
    """True for ``<doc>...</doc>`` blocks: the only ones that can fence off an injection."""


@lru_cache(maxsize=65_536)
def _stem(word: str) -> str:
    if len(word) > 4 and word.endswith("ies"):
        return word[:-3] + "y"
    if len(word) > 3 and word.endswith("s") and not word.endswith(("ss", "us", "is")):
        return word[:-1]
    return word


def split_words(text: str) -> list[str]:
    """The lower-cased words (runs of letters and digits) of `text`."""
    lowered = text.lower()
    return (_ASCII_WORD if lowered.isascii() else _WORD).findall(lowered)


def content_terms(text: str) -> list[str]:
    """The content words of `text`: lower-cased, stop words dropped, plural ``s`` stripped."""
    return [_stem(w) for w in split_words(text) if w not in _STOP_WORDS]


def term_counts(text: str) -> Counter[str]:
    """``Counter(content_terms(text))``, counting each distinct word once."""
    counts: Counter[str] = Counter()
    for word, count in Counter(split_words(text)).items():
        if word not in _STOP_WORDS:
            counts[_stem(word)] += count
    return counts


@lru_cache(maxsize=4_096)
def _passage_counts(text: str) -> tuple[Counter[str], int]:
    # Passages recur across the requests of a run (the same corpus): memoised.
    counts = term_counts(text)
    return counts, sum(counts.values())


@lru_cache(maxsize=4_096)
def _passage_sentences(text: str) -> tuple[tuple[str, frozenset[str]], ...]:
    sentences = [s.strip() for s in _SENTENCE_END.split(text) if s.strip()]
    return tuple((s, frozenset(content_terms(s))) for s in sentences)


def _doc_blocks(text: str) -> Iterator[tuple[int, int, str | None, str]]:
    """(start, end, id, body) of each ``<doc>`` block: the shortest one from each opening
    tag, as ``<doc ...>(.*?)</doc>`` would find, in a tenth of the time on long prompts."""
    position = 0
    while (opening := _DOC_OPEN.search(text, position)) is not None:
        closing = _DOC_CLOSE.search(text, opening.end())
        if closing is None:
            return
        doc_id = opening.group(1) if opening.group(1) is not None else opening.group(2)
        yield opening.start(), closing.end(), doc_id, text[opening.end() : closing.start()]
        position = closing.end()


def find_passages(text: str) -> tuple[list[Passage], str]:
    """The passages marked up in `text`, and what is left of `text` without them."""
    passages: list[Passage] = []
    pieces: list[str] = []
    last = 0
    for start, end, doc_id, body in _doc_blocks(text):
        pieces.append(text[last:start])
        last = end
        passages.append(Passage(id=doc_id or None, text=body.strip(), delimited=True))
    pieces.append(text[last:])
    rest = "\n\n".join(pieces) if passages else text
    if "[doc:" in rest:
        for match in _BRACKET.finditer(rest):
            passages.append(
                Passage(id=match.group(1), text=match.group(2).strip(), delimited=False)
            )
        rest = _BRACKET.sub("", rest)
    return passages, rest


def pick_question(text: str) -> str:
    """The question in a user message from which the passages were removed."""
    lines = _QUESTION_LINE.findall(text)
    if lines:
        return str(lines[-1]).strip()
    sentences = [s.strip() for s in _SENTENCE_END.split(text) if s.strip()]
    asked = [s for s in sentences if s.endswith("?")]
    if asked:
        return asked[-1]
    return " ".join(sentences)


def _conversation_passages(conversation: Conversation) -> tuple[list[Passage], str]:
    passages: list[Passage] = []
    question = ""
    last_user = max((i for i, t in enumerate(conversation.turns) if t.role == "user"), default=-1)
    for index, turn in enumerate(conversation.turns):
        if turn.role == "assistant":
            continue
        found, rest = find_passages(turn.text)
        if not found and turn.role == "tool" and turn.text.strip():
            found = [Passage(id=None, text=turn.text.strip(), delimited=False)]
        passages.extend(found)
        if index == last_user:
            question = pick_question(rest)
    return passages, question


def _best_passage(
    passages: list[Passage], question_terms: set[str]
) -> tuple[Passage, set[str]] | None:
    counts, lengths = zip(*(_passage_counts(p.text) for p in passages), strict=True)
    average = (sum(lengths) / len(lengths)) or 1.0
    total = len(passages)
    idf = {
        term: math.log(1.0 + (total - df + 0.5) / (df + 0.5))
        for term in question_terms
        for df in [sum(1 for c in counts if term in c)]
    }
    best: tuple[float, int] | None = None
    for index, (count, length) in enumerate(zip(counts, lengths, strict=True)):
        norm = _K1 * (1.0 - _B + _B * length / average)
        score = sum(
            idf[t] * count[t] * (_K1 + 1.0) / (count[t] + norm)
            for t in question_terms
            if t in count
        )
        if score > 0.0 and (best is None or score > best[0]):
            best = (score, index)
    if best is None:
        return None
    index = best[1]
    return passages[index], question_terms.intersection(counts[index])


def _answer_sentences(passage: Passage, question_terms: set[str]) -> str:
    split = _passage_sentences(passage.text)
    sentences = [sentence for sentence, _ in split]
    covered = [question_terms & terms for _, terms in split]
    first = max(range(len(sentences)), key=lambda i: (len(covered[i]), -i))
    chosen = [first]
    missing = question_terms - covered[first]
    if missing:
        gains = [(len(missing & covered[i]), -i) for i in range(len(sentences)) if i != first]
        if gains and max(gains)[0] > 0:
            chosen.append(-max(gains)[1])
    return " ".join(sentences[i] for i in sorted(chosen))


def answer_question(conversation: Conversation, config: ExtractiveConfig) -> Reply:
    """The extractive answer to the conversation's question, or the refusal."""
    passages, question = _conversation_passages(conversation)
    question_terms = set(content_terms(question))
    refusal = Reply(text=config.refusal, source="extractive")
    if not passages or not question_terms:
        return refusal
    found = _best_passage(passages, question_terms)
    if found is None:
        return refusal
    passage, matched = found
    if len(matched) < config.min_coverage * len(question_terms):
        return refusal
    text = _answer_sentences(passage, question_terms)
    if passage.id is not None and config.cite:
        return Reply(text=f"{text} [{passage.id}]", source="extractive", citations=(passage.id,))
    return Reply(text=text, source="extractive")


def _injection_in(turn: Turn) -> list[tuple[str, bool]]:
    if "ignore" not in turn.text.lower():
        return []
    matches = list(_INJECTION.finditer(turn.text))
    if not matches:
        return []
    fenced = [(start, end) for start, end, _, _ in _doc_blocks(turn.text)]
    found = []
    for match in matches:
        payload = next(g for g in match.groups() if g is not None)
        inside = any(start <= match.start() and match.end() <= end for start, end in fenced)
        found.append((payload, inside))
    return found


def find_injection(conversation: Conversation) -> str | None:
    """The payload of the first live prompt injection, if any.

    An injection is text matching "ignore (all) previous/prior/above/earlier
    instructions (and) reply/respond/answer/say/output/print/write (with) X" in a
    user or tool message; X is a quoted string or the next word. It is inert only
    when it lies inside a ``<doc>...</doc>`` block AND the system prompt tells the
    model to treat documents as data (see `_GUARD`); otherwise it is live and the
    mock replies exactly X.
    """
    guarded = bool(_GUARD.search(conversation.system_text))
    for turn in conversation.turns:
        if turn.role not in ("user", "tool"):
            continue
        for payload, inside in _injection_in(turn):
            if not (inside and guarded):
                return payload
    return None
