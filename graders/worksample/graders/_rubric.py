"""The `[rubric]` of an exercise's manifest: how human reviewers judge the work
the hidden suite cannot (the reasoning in DESIGN.md, the shape of the code,
production thinking), and the rubric total of a review.

Each criterion has four behavioural anchors, weakest first: what work at that
level looks like, in the exercise's own terms. docs/authoring.md says how to
write them; validation refuses what a reviewer could not use.
"""

from __future__ import annotations

import re
from collections.abc import Mapping

from pydantic import BaseModel, ConfigDict, Field, ValidationInfo, field_validator

RUBRIC_CRITERIA = (2, 8)  # fewer is no rubric; more and reviewers stop reading the anchors
RUBRIC_LEVELS = 4  # even, so a reviewer cannot park every criterion in the middle
_CRITERION_ID = re.compile(r"^[a-z][a-z0-9_]{0,39}$")
# "1: ..." or "Level 2 - ...": the position in `levels` is the level, so a label
# in the text says it twice and goes wrong when anchors are reordered.
_LEVEL_LABEL = re.compile(r"^(level\s*)?[1-4]\s*[:.)\-\u2013\u2014]", re.IGNORECASE)


class Criterion(BaseModel):
    """One `[[rubric.criteria]]`: a thing reviewers judge by reading the work, and
    what work at each of the four levels looks like."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    id: str = Field(description="Stable key of the criterion (reviews store levels under it).")
    name: str = Field(description="What reviewers see.")
    weight: float = Field(gt=0, allow_inf_nan=False, description="Relative weight in the total.")
    looks_at: str = Field(description="Where in the work a reviewer looks, and for what.")
    levels: tuple[str, str, str, str] = Field(
        description="Behavioural anchors for levels 1 (weakest) to 4 (strongest)."
    )

    @field_validator("id")
    @classmethod
    def _slug(cls, value: str) -> str:
        if not _CRITERION_ID.match(value):
            raise ValueError(
                f"criterion id {value!r} must be lowercase letters, digits and underscores, "
                "starting with a letter (at most 40)"
            )
        return value

    @field_validator("name", "looks_at")
    @classmethod
    def _one_line(cls, value: str, info: ValidationInfo) -> str:
        cleaned = " ".join(value.split())
        if not cleaned:
            raise ValueError(f"criterion {info.data.get('id', '?')!r}: {info.field_name} is empty")
        return cleaned

    @field_validator("levels", mode="before")
    @classmethod
    def _anchors(cls, value: object, info: ValidationInfo) -> object:
        # Before pydantic's own tuple check, so a wrong count gets these words.
        cid = info.data.get("id", "?")
        if not isinstance(value, list | tuple):
            return value  # pydantic says it wants a list
        if len(value) != RUBRIC_LEVELS:
            raise ValueError(
                f"criterion {cid!r} has {len(value)} level(s); give exactly {RUBRIC_LEVELS} "
                "behavioural anchors, weakest first, each saying what work at that level looks "
                'like (levels = ["DESIGN.md does not mention ...", ..., "DESIGN.md names ..."])'
            )
        if not all(isinstance(a, str) for a in value):
            return value  # pydantic names the item that is not a string
        cleaned = [" ".join(a.split()) for a in value]
        for n, anchor in enumerate(cleaned, start=1):
            if not anchor:
                raise ValueError(f"criterion {cid!r}: level {n} is empty")
            label = _LEVEL_LABEL.match(anchor)
            if label:
                raise ValueError(
                    f"criterion {cid!r}: level {n} starts with the label {label.group(0)!r}; "
                    "the position in the list is the level, so give the anchor alone"
                )
        for n, anchor in enumerate(cleaned, start=1):
            if anchor in cleaned[: n - 1]:
                first = cleaned.index(anchor) + 1
                raise ValueError(
                    f"criterion {cid!r}: levels {first} and {n} are the same anchor; "
                    "each level says what sets its work apart"
                )
        return tuple(cleaned)


class Rubric(BaseModel):
    """`[rubric]`: how a human reviewer judges the work the hidden suite cannot."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    guidance: str = Field(description="For reviewers: how to use the rubric, what not to reward.")
    criteria: list[Criterion] = Field(
        default_factory=list,
        validate_default=True,  # so `[rubric]` without criteria gets the same message
        description="2 to 8 criteria, each with four level anchors.",
    )

    @field_validator("guidance")
    @classmethod
    def _paragraphs(cls, text: str) -> str:
        # Paragraphs survive (reviewers read them as such); line breaks inside one do not.
        paragraphs = [" ".join(p.split()) for p in re.split(r"\n\s*\n", text)]
        cleaned = "\n\n".join(p for p in paragraphs if p)
        if not cleaned:
            raise ValueError(
                "guidance is empty; tell reviewers how to use the rubric and what not to reward"
            )
        return cleaned

    @field_validator("criteria")
    @classmethod
    def _criteria(cls, criteria: list[Criterion]) -> list[Criterion]:
        low, high = RUBRIC_CRITERIA
        if not low <= len(criteria) <= high:
            raise ValueError(
                f"the rubric has {len(criteria)} criteria; give {low} to {high} "
                "[[rubric.criteria]] tables, each a thing reviewers judge by reading the work"
            )
        for attr in ("id", "name"):
            values = [getattr(c, attr) for c in criteria]
            duplicates = sorted({v for v in values if values.count(v) > 1})
            if duplicates:
                named = ", ".join(map(repr, duplicates))
                raise ValueError(f"duplicate criterion {attr}(s) {named}")
        return criteria

    def criterion(self, criterion_id: str) -> Criterion | None:
        return next((c for c in self.criteria if c.id == criterion_id), None)

    def total(self, levels: Mapping[str, int]) -> float:
        """The rubric total, 0 to 100: the weighted mean over the criteria of
        (level - 1) / 3 * 100, rounded to 4 decimals. `levels` gives every
        criterion's level, 1 to 4, by id; a missing, unknown or out-of-range level
        is a ValueError rather than a total that quietly leaves something out."""
        ids = [c.id for c in self.criteria]
        problems = []
        missing = [i for i in ids if i not in levels]
        if missing:
            problems.append(f"no level for {', '.join(missing)}")
        unknown = sorted(set(levels) - set(ids))
        if unknown:
            problems.append(f"no criterion {', '.join(unknown)} in the rubric")
        if problems:
            raise ValueError("; ".join(problems))
        for cid, level in levels.items():
            if isinstance(level, bool) or not isinstance(level, int):
                raise ValueError(f"rubric level of {cid} is {level!r}; give 1, 2, 3 or 4")
            if not 1 <= level <= RUBRIC_LEVELS:
                raise ValueError(f"rubric level of {cid} is {level!r}; give 1, 2, 3 or 4")
        top = RUBRIC_LEVELS - 1
        weighted = sum(c.weight * (levels[c.id] - 1) / top * 100 for c in self.criteria)
        return round(weighted / sum(c.weight for c in self.criteria), 4)
