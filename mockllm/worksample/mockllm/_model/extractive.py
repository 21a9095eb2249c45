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
from functools import lru_cache
from typing import NamedTuple

from pydantic import BaseModel, ConfigDict, Field
from worksample.mockllm._model.conversation import Conversation, Reply, Turn
from worksample.mockllm._model.memo import memo_short

__all__ = [
    "DEFAULT_REFUSAL",
    "ExtractiveConfig",
    "Passage",
    "Reading",
    "answer_question",
    "content_terms",
    "find_injection",
    "find_passages",
    "pick_question",
    "read_turns",
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
# In lower-cased ASCII text the words are what is left between characters other than
# a-z and 0-9: str.translate and str.split find them three times faster than _WORD.
_ASCII_NON_WORD = str.maketrans(
    {
        chr(code): " "
        for code in range(128)
        if not chr(code).isdigit() and not "a" <= chr(code) <= "z"
    }
)
# Linear in the text: one run of blanks before the payload is matched by one `\s*`
# (``\s*[:\-]?\s*`` would try every split of a long run between its two halves, and a
# prompt of "... reply", a megabyte of spaces and a full stop took hours).
_INJECTION = re.compile(
    r"ignore\s+(?:all\s+)?(?:the\s+)?(?:previous|prior|above|earlier)\s+instructions?"
    r"[\s,.;:]*(?:and\s+)?(?:instead\s+)?(?:reply|respond|answer|say|output|print|write)"
    r"(?:\s+(?:with|only))?\s*(?:[:\-]\s*)?(?:\"([^\"]+)\"|'([^']+)'|([^\s.!?,;]+))",
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

# Passages are memoised up to this many characters; longer ones are read afresh.
PASSAGE_MEMO_CHARS = 16_384


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


class PassageStats(NamedTuple):
    """What the model reads off a passage's text, whoever asks: once per passage."""

    counts: Counter[str]
    """Its content words (see `term_counts`)."""
    length: int
    """How many content words, counting repeats."""
    says_ignore: bool
    """Whether ``"ignore"`` is in its lower-cased text (see `_may_inject`)."""


class Passage(NamedTuple):
    """A unit of context the model can answer from (a named tuple: one is made for each
    passage of every request)."""

    id: str | None
    text: str
    delimited: bool
    """True for ``<doc>...</doc>`` blocks: the only ones that can fence off an injection."""
    stats: PassageStats


def _stem_word(word: str) -> str:
    if len(word) > 4 and word.endswith("ies"):
        return word[:-3] + "y"
    if len(word) > 3 and word.endswith("s") and not word.endswith(("ss", "us", "is")):
        return word[:-1]
    return word


# Words are memoised up to MEMO_WORD_CHARS letters (the memo stays bounded in
# bytes); the length check is inline because these run once per word.
MEMO_WORD_CHARS = 64
_stem_memo = lru_cache(maxsize=65_536)(_stem_word)


def _stem(word: str) -> str:
    return _stem_memo(word) if len(word) <= MEMO_WORD_CHARS else _stem_word(word)


def split_words(text: str) -> list[str]:
    """The lower-cased words (runs of letters and digits) of `text`."""
    lowered = text.lower()
    if lowered.isascii():
        return lowered.translate(_ASCII_NON_WORD).split()
    return _WORD.findall(lowered)


def content_terms(text: str) -> list[str]:
    """The content words of `text`: lower-cased, stop words dropped, plural ``s`` stripped."""
    return [
        (_stem_memo(w) if len(w) <= MEMO_WORD_CHARS else _stem_word(w))
        for w in split_words(text)
        if w not in _STOP_WORDS
    ]


def term_counts(text: str) -> Counter[str]:
    """``Counter(content_terms(text))``, counting each distinct word once."""
    counts: Counter[str] = Counter()
    for word, count in Counter(split_words(text)).items():
        if word not in _STOP_WORDS:
            stem = _stem_memo(word) if len(word) <= MEMO_WORD_CHARS else _stem_word(word)
            counts[stem] += count
    return counts


def _passage_stats(text: str) -> PassageStats:
    counts = term_counts(text)
    return PassageStats(counts, sum(counts.values()), "ignore" in text.lower())


# Passages recur across the requests of a run (the same corpus): their statistics are
# memoised, up to PASSAGE_MEMO_CHARS characters (the check is inline: once per passage).
_stats_memo = lru_cache(maxsize=4_096)(_passage_stats)


def _passage(doc_id: str | None, text: str, delimited: bool) -> Passage:
    stats = _stats_memo(text) if len(text) <= PASSAGE_MEMO_CHARS else _passage_stats(text)
    return Passage(doc_id, text, delimited, stats)


@memo_short(4_096, max_chars=PASSAGE_MEMO_CHARS)
def _passage_sentences(text: str) -> tuple[tuple[str, frozenset[str]], ...]:
    sentences = [s.strip() for s in _SENTENCE_END.split(text) if s.strip()]
    return tuple((s, frozenset(content_terms(s))) for s in sentences)


def _doc_blocks(text: str) -> Iterator[tuple[int, int, str | None, int, int]]:
    """(start, end, id, body start, body end) of each ``<doc>`` block: the shortest one
    from each opening tag, as ``<doc ...>(.*?)</doc>`` would find, in a tenth of the
    time on long prompts."""
    if "<" not in text:
        return
    find_open, find_close = _DOC_OPEN.search, _DOC_CLOSE.search
    position = 0
    while (opening := find_open(text, position)) is not None:
        closing = find_close(text, opening.end())
        if closing is None:
            return
        doc_id, quoted = opening.groups()
        position = closing.end()
        yield (
            opening.start(), position, quoted if doc_id is None else doc_id, opening.end(),
            closing.start(),
        )  # fmt: skip


class Reading(NamedTuple):
    """One message read for the model: its passages, what is left, and `bare` (the
    message without the bodies of its ``<doc>`` blocks, for the injection check)."""

    passages: list[Passage]
    rest: str
    bare: str


def _read(text: str) -> Reading:
    passages: list[Passage] = []
    pieces: list[str] = []
    outside: list[str] = []
    last = cut = 0
    for start, end, doc_id, opened, closed in _doc_blocks(text):
        pieces.append(text[last:start])
        outside.append(text[cut:opened])
        last, cut = end, closed
        passages.append(_passage(doc_id or None, text[opened:closed].strip(), True))
    rest = bare = text
    if passages:
        pieces.append(text[last:])
        rest = "\n\n".join(pieces)
        # Tags end in ">" and start with "<": joined by a line break, no word is made
        # up that was not in the message.
        outside.append(text[cut:])
        bare = "\n".join(outside)
    if "[doc:" in rest:
        for match in _BRACKET.finditer(rest):
            passages.append(_passage(match.group(1), match.group(2).strip(), False))
        rest = _BRACKET.sub("", rest)
    return Reading(passages, rest, bare)


def find_passages(text: str) -> tuple[list[Passage], str]:
    """The passages marked up in `text`, and what is left of `text` without them."""
    passages, rest, _ = _read(text)
    return passages, rest


def read_turns(conversation: Conversation) -> list[Reading | None]:
    """Each turn read once (None for the assistant's), for `answer_question` and
    `find_injection` to share."""
    return [None if t.role == "assistant" else _read(t.text) for t in conversation.turns]


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


def _conversation_passages(
    conversation: Conversation, readings: list[Reading | None]
) -> tuple[list[Passage], str]:
    passages: list[Passage] = []
    question = ""
    last_user = max((i for i, t in enumerate(conversation.turns) if t.role == "user"), default=-1)
    for index, turn in enumerate(conversation.turns):
        reading = readings[index]
        if reading is None:
            continue
        found, rest, _ = reading
        if not found and turn.role == "tool" and turn.text.strip():
            found = [_passage(None, turn.text.strip(), False)]
        passages.extend(found)
        if index == last_user:
            question = pick_question(rest)
    return passages, question


def _best_passage(
    passages: list[Passage], question_terms: set[str]
) -> tuple[Passage, set[str]] | None:
    stats = [p.stats for p in passages]
    total = len(stats)
    average = (sum([s.length for s in stats]) / total) or 1.0
    # The question terms each passage holds, in the order of `question_terms` (the
    # order the scores are summed in).
    terms = tuple(question_terms)
    df = dict.fromkeys(terms, 0)
    held = []
    for counts, _, _ in stats:
        found = [t for t in terms if t in counts]
        for term in found:
            df[term] += 1
        held.append(found)
    idf = {term: math.log(1.0 + (total - n + 0.5) / (n + 0.5)) for term, n in df.items()}
    k1 = _K1 + 1.0
    best: int | None = None
    best_score = 0.0
    for index, found in enumerate(held):
        if not found:
            continue
        count, length, _ = stats[index]
        norm = _K1 * (1.0 - _B + _B * length / average)
        score = sum([idf[t] * count[t] * k1 / (count[t] + norm) for t in found])
        if score > 0.0 and (best is None or score > best_score):
            best, best_score = index, score
    if best is None:
        return None
    return passages[best], set(held[best])


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


def answer_question(
    conversation: Conversation,
    config: ExtractiveConfig,
    readings: list[Reading | None] | None = None,
) -> Reply:
    """The extractive answer to the conversation's question, or the refusal (`readings`:
    from `read_turns`, if already made)."""
    passages, question = _conversation_passages(
        conversation, read_turns(conversation) if readings is None else readings
    )
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


def _may_inject(turn: Turn, reading: Reading | None) -> bool:
    """``"ignore" in turn.text.lower()``: with a reading, from the memo of each passage
    and the (short) rest; "ignore" never spans a tag or the blanks a passage is
    stripped of, and only ASCII letters lower-case to its letters."""
    if reading is None:
        return "ignore" in turn.text.lower()
    return "ignore" in reading.bare.lower() or any(
        p.stats.says_ignore for p in reading.passages if p.delimited
    )


def _injection_in(turn: Turn, reading: Reading | None) -> list[tuple[str, bool]]:
    if not _may_inject(turn, reading):
        return []
    matches = list(_INJECTION.finditer(turn.text))
    if not matches:
        return []
    fenced = [(start, end) for start, end, _, _, _ in _doc_blocks(turn.text)]
    found = []
    for match in matches:
        payload = next(g for g in match.groups() if g is not None)
        inside = any(start <= match.start() and match.end() <= end for start, end in fenced)
        found.append((payload, inside))
    return found


def find_injection(
    conversation: Conversation, readings: list[Reading | None] | None = None
) -> str | None:
    """The payload of the first live prompt injection, if any (`readings`: from
    `read_turns`, if already made).

    An injection is text matching "ignore (all) previous/prior/above/earlier
    instructions (and) reply/respond/answer/say/output/print/write (with) X" in a
    user or tool message; X is a quoted string or the next word. It is inert only
    when it lies inside a ``<doc>...</doc>`` block AND the system prompt tells the
    model to treat documents as data (see `_GUARD`); otherwise it is live and the
    mock replies exactly X.
    """
    guarded: bool | None = None  # looked up at the first fenced injection: rare
    for index, turn in enumerate(conversation.turns):
        if turn.role not in ("user", "tool"):
            continue
        for payload, inside in _injection_in(turn, None if readings is None else readings[index]):
            if inside and guarded is None:
                guarded = bool(_GUARD.search(conversation.system_text))
            if not (inside and guarded):
                return payload
    return None
