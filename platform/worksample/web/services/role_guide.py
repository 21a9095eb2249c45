"""The role guide: questions about a position's product that recommend the ML
track, the AI track or both, and say why.

The questions, the points each answer gives a track, the thresholds and the
explanations are data, `worksample/web/role_guide.toml` (docs/role-guide.md),
parsed once per content into `RoleGuide` and checked on load: unknown fields,
duplicate ids, an answer that gives points without saying why, a track no
combination of answers can reach, a side note with an unknown placeholder.

The rule: a track's points are the sum over the answered questions of the
chosen answer's points for it. A track is recommended from
`thresholds.recommend_at` points. When both tracks reach it, the weaker one is
recommended too only with at least `thresholds.both_share` of the stronger
one's points (then the outcome is "both", a posting that mixes two jobs);
otherwise the stronger one alone, with the side note when the weaker one
reached the threshold. No track at the threshold: "unclear".
"""

from __future__ import annotations

import functools
import re
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator
from worksample.web.services.catalogue import ExerciseCard, list_catalogue
from worksample.web.services.errors import Invalid

GUIDE_FILE = Path(__file__).parents[1] / "role_guide.toml"
Track = Literal["ml", "ai"]
TRACKS: tuple[Track, ...] = ("ml", "ai")
TRACK_NAMES: dict[Track, str] = {"ml": "ML", "ai": "AI"}
Kind = Literal["ml", "ai", "both", "unclear"]
_ID = re.compile(r"^[a-z][a-z0-9_]{0,39}$")
_SIDE_NOTE_FIELDS = {"track", "points", "other", "other_points", "share"}


class RoleGuideError(Exception):
    """The role guide's file is invalid; the message names the file, the field and the fix."""


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


def _one_paragraph(value: str) -> str:
    return " ".join(value.split())


class Answer(_Strict):
    id: str = Field(description="The value the form sends; unique within its question.")
    label: str = Field(min_length=1, description="What the hiring manager reads.")
    ml: float = Field(0, ge=0, le=10, allow_inf_nan=False, description="Points to the ML track.")
    ai: float = Field(0, ge=0, le=10, allow_inf_nan=False, description="Points to the AI track.")
    why: str = Field("", description="One sentence: why this answer points where it does.")

    @field_validator("label", "why")
    @classmethod
    def _clean(cls, value: str) -> str:
        return _one_paragraph(value)

    @model_validator(mode="after")
    def _explained(self) -> Answer:
        if not _ID.match(self.id):
            raise ValueError(
                f"answer id {self.id!r} must be lowercase letters, digits and underscores, "
                "starting with a letter (at most 40)"
            )
        if not self.label:
            raise ValueError(f"answer {self.id!r}: label is empty")
        if (self.ml or self.ai) and not self.why:
            raise ValueError(
                f"answer {self.id!r} gives points but no `why`; say in one sentence why it "
                "points to that track (the recommendation quotes it)"
            )
        return self

    def points(self, track: Track) -> float:
        return self.ml if track == "ml" else self.ai


class Question(_Strict):
    id: str = Field(description="The form field's name; unique.")
    text: str = Field(min_length=1, description="The question.")
    help: str = Field("", description="Examples under the question, optional.")
    answers: list[Answer] = Field(min_length=2, max_length=6)

    @field_validator("text", "help")
    @classmethod
    def _clean(cls, value: str) -> str:
        return _one_paragraph(value)

    @model_validator(mode="after")
    def _unique(self) -> Question:
        if not _ID.match(self.id):
            raise ValueError(
                f"question id {self.id!r} must be lowercase letters, digits and underscores, "
                "starting with a letter (at most 40)"
            )
        if not self.text:
            raise ValueError(f"question {self.id!r}: text is empty")
        ids = [a.id for a in self.answers]
        twice = sorted({i for i in ids if ids.count(i) > 1})
        if twice:
            raise ValueError(f"question {self.id!r}: answer id(s) {', '.join(twice)} given twice")
        return self

    def answer(self, answer_id: str) -> Answer | None:
        return next((a for a in self.answers if a.id == answer_id), None)


class Outcome(_Strict):
    title: str = Field(min_length=1)
    text: str = Field(min_length=1)

    @field_validator("title", "text")
    @classmethod
    def _clean(cls, value: str) -> str:
        cleaned = _one_paragraph(value)
        if not cleaned:
            raise ValueError("is empty")
        return cleaned


class Outcomes(_Strict):
    ml: Outcome
    ai: Outcome
    both: Outcome
    unclear: Outcome


class Thresholds(_Strict):
    recommend_at: float = Field(gt=0, allow_inf_nan=False, description="Points to recommend.")
    both_share: float = Field(
        gt=0, le=1, description="The weaker track's least share of the stronger's for 'both'."
    )


class RoleGuide(_Strict):
    """`role_guide.toml`."""

    thresholds: Thresholds
    outcomes: Outcomes
    side_note: str = Field(min_length=1)
    questions: list[Question] = Field(min_length=2, max_length=12)

    @field_validator("side_note")
    @classmethod
    def _placeholders(cls, value: str) -> str:
        cleaned = _one_paragraph(value)
        known = ", ".join("{" + f + "}" for f in sorted(_SIDE_NOTE_FIELDS))
        try:
            cleaned.format(**{f: "1" for f in _SIDE_NOTE_FIELDS})
        except KeyError as exc:
            raise ValueError(f"unknown placeholder {{{exc.args[0]}}}; use {known}") from None
        except (IndexError, ValueError) as exc:
            raise ValueError(
                f"a placeholder cannot be filled in ({exc}); use {known}, and write a brace "
                "that is meant as text twice ({{ or }})"
            ) from None
        return cleaned

    @model_validator(mode="after")
    def _reachable(self) -> RoleGuide:
        ids = [q.id for q in self.questions]
        twice = sorted({i for i in ids if ids.count(i) > 1})
        if twice:
            raise ValueError(f"question id(s) {', '.join(twice)} given twice")
        for track in TRACKS:
            best = sum(max(a.points(track) for a in q.answers) for q in self.questions)
            if best < self.thresholds.recommend_at:
                raise ValueError(
                    f"the {TRACK_NAMES[track]} track can get at most {best:g} points, below "
                    f"thresholds.recommend_at = {self.thresholds.recommend_at:g}: no answers "
                    "could ever recommend it; raise its answers' points or lower the threshold"
                )
        return self

    def question(self, question_id: str) -> Question | None:
        return next((q for q in self.questions if q.id == question_id), None)


@dataclass(frozen=True)
class Reason:
    why: str
    ml: float
    ai: float


@dataclass(frozen=True)
class Recommendation:
    kind: Kind
    tracks: tuple[Track, ...]  # recommended, strongest first; none when unclear
    points: dict[Track, float]
    outcome: Outcome
    reasons: list[Reason]  # the chosen answers that gave points, most points first
    side_note: str | None
    answered: int


def load_role_guide(path: Path = GUIDE_FILE) -> RoleGuide:
    """The guide in `path`, parsed once per content."""
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        raise RoleGuideError(f"{path}: file is missing") from None
    return _parse(str(path), data)


@functools.lru_cache(maxsize=8)
def _parse(where: str, data: bytes) -> RoleGuide:
    try:
        raw = tomllib.loads(data.decode("utf-8"))
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise RoleGuideError(f"{where}: not valid TOML: {exc}") from None
    try:
        return RoleGuide.model_validate(raw)
    except ValidationError as exc:
        problems = [f"{where}: {_location(err['loc'])}: {_message(err)}" for err in exc.errors()]
        raise RoleGuideError("\n".join(problems)) from None


def _location(loc: tuple[int | str, ...]) -> str:
    return ".".join(str(part) for part in loc) or "(top level)"


def _message(err: object) -> str:
    assert isinstance(err, dict)
    if err.get("type") == "extra_forbidden":
        return "unknown field (see docs/role-guide.md for the fields the guide takes)"
    if err.get("type") == "missing":
        return "required field is missing"
    if err.get("type") == "value_error" and "error" in (err.get("ctx") or {}):
        return str(err["ctx"]["error"])
    return str(err.get("msg", "invalid"))


def read_answers(guide: RoleGuide, params: Mapping[str, str]) -> dict[str, str]:
    """The answers in a request's query: question id to answer id. Other
    parameters are ignored, an empty one is an unanswered question; an answer
    the question does not have is refused with the ones it has."""
    answers: dict[str, str] = {}
    for question in guide.questions:
        value = params.get(question.id, "")
        if not value:
            continue
        if question.answer(value) is None:
            choices = ", ".join(a.id for a in question.answers)
            raise Invalid(
                f"question {question.id!r} has no answer {value!r}; choose one of {choices}"
            )
        answers[question.id] = value
    return answers


def recommend(guide: RoleGuide, answers: Mapping[str, str]) -> Recommendation:
    """The recommendation for `answers` (question id to answer id, as
    `read_answers` gives them), by the rule in this module's docstring."""
    chosen = []
    for question in guide.questions:
        answer = question.answer(answers.get(question.id, ""))
        if answer is not None:
            chosen.append(answer)
    points: dict[Track, float] = {t: sum(a.points(t) for a in chosen) for t in TRACKS}
    ranked = sorted(TRACKS, key=lambda t: -points[t])  # stable: ML first on a tie
    top, other = ranked
    at = guide.thresholds.recommend_at
    side_note = None
    kind: Kind
    tracks: tuple[Track, ...]
    if points[top] < at:
        kind, tracks = "unclear", ()
    elif points[other] >= at and points[other] >= guide.thresholds.both_share * points[top]:
        kind, tracks = "both", (top, other)
    else:
        kind, tracks = top, (top,)
        if points[other] >= at:
            side_note = guide.side_note.format(
                track=TRACK_NAMES[top],
                points=f"{points[top]:g}",
                other=TRACK_NAMES[other],
                other_points=f"{points[other]:g}",
                share=f"{guide.thresholds.both_share:.0%}",
            )
    reasons = sorted(
        (Reason(a.why, a.ml, a.ai) for a in chosen if a.ml or a.ai),
        key=lambda r: -max(r.ml, r.ai),
    )
    return Recommendation(
        kind=kind,
        tracks=tracks,
        points=points,
        outcome=getattr(guide.outcomes, kind),
        reasons=reasons,
        side_note=side_note,
        answered=len(chosen),
    )


@dataclass(frozen=True)
class GuideView:
    guide: RoleGuide
    answers: dict[str, str]
    recommendation: Recommendation | None  # None until a question is answered
    exercises: list[ExerciseCard]  # those of the recommended tracks; all when unclear


def guide_view(
    *,
    params: Mapping[str, str],
    exercises_dir: Path,
    data_dir: Path,
    guide: RoleGuide | None = None,
) -> GuideView:
    """The role guide's page: the questions, and once some are answered the
    recommendation with the installed exercises that fit it."""
    guide = guide or load_role_guide()
    answers = read_answers(guide, params)
    if not answers:
        return GuideView(guide, answers, None, [])
    recommendation = recommend(guide, answers)
    cards = list_catalogue(exercises_dir=exercises_dir, data_dir=data_dir).cards
    wanted = recommendation.tracks or TRACKS
    fitting = sorted(
        (c for c in cards if c.track in wanted),
        key=lambda c: (wanted.index(c.track), c.effort_hours, c.title),
    )
    return GuideView(guide, answers, recommendation, fitting)
