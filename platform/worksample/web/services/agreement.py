"""Reviewer agreement: how far apart a final's rubric reviews are, and how well
a position's reviewers agree, overall and each against the others.

Only submitted reviews count; a draft is never shown to anyone but its author.
What a viewer is shown is computed from the reviews they may read on the
candidate's file (`rubric_reviews.hidden_reason`): a final of which their own
review is still open is left out of everything, and so, for a reviewer, is a
final they have not reviewed. The page says how many finals were left out.

A unit is one criterion of one final; its ratings are the submitted reviews'
levels (1 to 4) on it. Criteria are matched by id, the key reviews store levels
under, and named and ordered as the reviews' own rubric snapshots have them.

- `spread`: one final's criteria x reviewers, each criterion's lowest and
  highest level, flagged when they are `FLAG_APART` or more levels apart, and
  the rubric totals. None, and nothing to show, with fewer than two submitted
  reviews (one review has no spread; the file shows it as it is) or when the
  viewer may not read the reviews yet.
- `position_agreement`: Krippendorff's alpha, ordinal (levels are ordered, the
  distance between them is not known), over every unit with two or more
  ratings; quadratic-weighted Cohen's kappa when exactly two reviewers made the
  position's reviews; the flagged units; and per reviewer, on the units shared
  with others, how far their levels sit from the others' mean.

Two queries whatever the number of reviews (the reviews with their reviewers
and invitations, the submitted ones' levels), two more on a blind position
(`Identities`).
"""

from __future__ import annotations

import math
import statistics
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from functools import lru_cache
from typing import Final

from sqlalchemy import ColumnElement
from sqlmodel import Session, col, select
from worksample.db import (
    Invitation,
    Position,
    Review,
    ReviewScore,
    ReviewStatus,
    Submission,
    User,
)
from worksample.graders import Rubric
from worksample.web.services.errors import NotFound
from worksample.web.services.identity import Identities
from worksample.web.services.rubric_reviews import hidden_reason

__all__ = [
    "FLAG_APART",
    "LEVELS",
    "Agreement",
    "Calibration",
    "Coefficient",
    "CriterionSpread",
    "Disagreement",
    "Spread",
    "ordinal_alpha",
    "position_agreement",
    "quadratic_kappa",
    "spread",
]

LEVELS: Final = (1, 2, 3, 4)
FLAG_APART: Final = 2  # one level apart is judgment; two is reading the anchors differently
Unit = tuple[int, str]  # (submission id, criterion id)


@lru_cache(maxsize=256)
def _rubric(snapshot: str) -> Rubric:
    """A review's rubric snapshot, parsed once per distinct text."""
    return Rubric.model_validate_json(snapshot)


def _criteria(reviews: Iterable[Review]) -> dict[str, str]:
    """Criterion id -> name, in rubric order: the first snapshot's, then any
    criterion a later snapshot added."""
    names: dict[str, str] = {}
    for review in reviews:
        for criterion in _rubric(review.rubric).criteria:
            names.setdefault(criterion.id, criterion.name)
    return names


# --- one final ---------------------------------------------------------------


@dataclass(frozen=True)
class CriterionSpread:
    id: str
    name: str
    levels: list[int | None]  # one per reviewer of the Spread, in its order

    @property
    def rated(self) -> list[int]:
        return [level for level in self.levels if level is not None]

    @property
    def low(self) -> int:
        return min(self.rated)

    @property
    def high(self) -> int:
        return max(self.rated)

    @property
    def spread(self) -> int:
        return self.high - self.low

    @property
    def flagged(self) -> bool:
        return len(self.rated) >= 2 and self.spread >= FLAG_APART


@dataclass(frozen=True)
class Spread:
    """One final's submitted reviews side by side."""

    submission_id: int
    reviewers: list[str]  # names, in the order the reviews were submitted
    criteria: list[CriterionSpread]  # in rubric order; only those with a rating
    totals: list[float | None]  # the rubric totals, one per reviewer

    @property
    def flagged(self) -> list[CriterionSpread]:
        return [c for c in self.criteria if c.flagged]

    @property
    def rated_totals(self) -> list[float]:
        return [t for t in self.totals if t is not None]

    @property
    def flag_apart(self) -> int:
        return FLAG_APART

    @property
    def total_spread(self) -> float | None:
        found = self.rated_totals
        return max(found) - min(found) if len(found) >= 2 else None


def spread(session: Session, *, user: User, submission: Submission) -> Spread | None:
    """The final's criteria x submitted reviews (two queries); None when there
    are fewer than two submitted reviews or `user` may not read them yet."""
    if submission.org_id != user.org_id:
        raise NotFound
    found = list(
        session.exec(
            select(Review, User)
            .join(User, col(User.id) == Review.reviewer_id)
            .where(Review.submission_id == submission.id)
            .order_by(col(Review.submitted_at), col(Review.id))
        )
    )
    own = next((r for r, _ in found if r.reviewer_id == user.id), None)
    submitted = [(r, u) for r, u in found if r.status == ReviewStatus.submitted]
    if len(submitted) < 2 or hidden_reason(user, own):
        return None
    levels = _levels(session, col(Review.submission_id) == submission.id)
    criteria = [
        CriterionSpread(cid, name, [levels.get((r.id or 0, cid)) for r, _ in submitted])
        for cid, name in _criteria(r for r, _ in submitted).items()
    ]
    return Spread(
        submission_id=submission.id or 0,
        reviewers=[u.name for _, u in submitted],
        criteria=[c for c in criteria if c.rated],
        totals=[r.total for r, _ in submitted],
    )


def _levels(session: Session, which: ColumnElement[bool]) -> dict[tuple[int, str], int]:
    """(review id, criterion id) -> level, of the submitted reviews `which`
    selects: by a join, not a list of ids that grows with the reviews."""
    scores = (
        select(ReviewScore)
        .join(Review, col(Review.id) == ReviewScore.review_id)
        .join(Invitation, col(Invitation.id) == Review.invitation_id)
        .where(which, Review.status == ReviewStatus.submitted)
    )
    return {(s.review_id, s.criterion): s.level for s in session.exec(scores) if s.level}


# --- the coefficients -----------------------------------------------------------


@dataclass(frozen=True)
class Coefficient:
    value: float | None
    reason: str = ""  # why there is no value

    @property
    def reading(self) -> str:
        """Krippendorff's guidance on alpha: rely on 0.80 and above, draw
        tentative conclusions only from 0.667 up."""
        if self.value is None:
            return ""
        if self.value >= 0.8:
            return "reliable"
        return "tentative" if self.value >= 0.667 else "unreliable"


def ordinal_alpha(units: Iterable[Mapping[int, int]]) -> Coefficient:
    """Krippendorff's alpha, ordinal, values 1 to 4, over units given as
    {rater: level}; units with fewer than two ratings carry no information
    about agreement and are left out, as alpha itself does."""
    pairable = [unit for unit in units if len(unit) >= 2]
    if not pairable:
        return Coefficient(None, "No criterion of any final has two submitted reviews yet.")
    values = {level for unit in pairable for level in unit.values()}
    if len(values) == 1:
        return Coefficient(
            None,
            f"Every rating is level {values.pop()}: with no variation alpha is 0/0 "
            "and says nothing about agreement yet.",
        )
    # Imported here: numpy and the coefficient cost a start-up every app
    # process would pay for one page.
    import krippendorff

    raters = sorted({rater for unit in pairable for rater in unit})
    data = [[unit.get(rater, math.nan) for unit in pairable] for rater in raters]
    value = krippendorff.alpha(
        reliability_data=data, level_of_measurement="ordinal", value_domain=list(LEVELS)
    )
    return Coefficient(float(value))


def quadratic_kappa(pairs: Sequence[tuple[int, int]]) -> Coefficient:
    """Cohen's kappa with quadratic weights over two raters' paired levels."""
    if not pairs:
        return Coefficient(None, "The two reviewers have no criterion of a final in common.")
    if len({level for pair in pairs for level in pair}) == 1:
        return Coefficient(None, "Every rating is the same level: kappa is 0/0.")
    # Imported here: scikit-learn takes seconds to import, and only this needs it.
    from sklearn.metrics import cohen_kappa_score  # type: ignore[import-untyped]

    first, second = zip(*pairs, strict=True)
    value = cohen_kappa_score(first, second, weights="quadratic", labels=list(LEVELS))
    return Coefficient(float(value))


# --- a position ----------------------------------------------------------------------


@dataclass(frozen=True)
class Disagreement:
    """A unit whose levels are `FLAG_APART` or more apart."""

    invitation_id: int
    name: str  # the candidate, as the viewer may see them
    criterion: str  # its name
    levels: list[tuple[str, int]]  # (reviewer, level), in reviewer name order

    @property
    def spread(self) -> int:
        found = [level for _, level in self.levels]
        return max(found) - min(found)

    @property
    def href(self) -> str:
        return f"/invitations/{self.invitation_id}"


@dataclass(frozen=True)
class Calibration:
    """One reviewer against the others, on what they reviewed in common."""

    reviewer: str
    reviews: int  # their submitted reviews counted here
    shared: int  # units they rated that someone else rated too
    signed: float | None  # mean of (their level - the others' mean level)
    absolute: float | None  # mean of |their level - the others' mean level|
    shared_finals: int  # finals with a rubric total of theirs and another's
    own_total: float | None  # their mean rubric total on those
    others_total: float | None  # the others' mean rubric total on the same finals

    @property
    def total_difference(self) -> float | None:
        if self.own_total is None or self.others_total is None:
            return None
        return self.own_total - self.others_total


@dataclass(frozen=True)
class CriterionAlpha:
    name: str
    alpha: Coefficient
    ratings: int


@dataclass(frozen=True)
class Agreement:
    position: Position
    alpha: Coefficient
    kappa: Coefficient | None  # None: not exactly two reviewers
    kappa_pair: tuple[str, str] | None
    kappa_pairs: int  # the paired units kappa rests on
    criteria: list[CriterionAlpha]
    reviews: int  # the submitted reviews the coefficient rests on
    finals: int  # the finals with two or more submitted reviews
    ratings: int  # the levels in those units
    units: int  # (final, criterion) with two or more ratings
    reviewers: int
    left_open: int  # finals left out: the viewer's own review is still open
    left_unread: int  # finals left out: a reviewer who has not reviewed them
    disagreements: list[Disagreement]
    calibration: list[Calibration]

    @property
    def left_out(self) -> int:
        return self.left_open + self.left_unread

    @property
    def flag_apart(self) -> int:
        return FLAG_APART


def position_agreement(
    session: Session, *, user: User, position: Position, who: Identities | None = None
) -> Agreement:
    """The position's agreement as `user` may see it (see the module's docstring);
    another organisation's position is not found."""
    if position.org_id != user.org_id:
        raise NotFound
    who = who or Identities(session, user)
    found = list(
        session.exec(
            select(Review, User, Invitation)
            .join(User, col(User.id) == Review.reviewer_id)
            .join(Invitation, col(Invitation.id) == Review.invitation_id)
            .where(Invitation.position_id == position.id, Review.org_id == user.org_id)
            .order_by(col(Review.id))
        )
    )
    mine = {r.submission_id: r for r, _, _ in found if r.reviewer_id == user.id}
    found = [row for row in found if row[0].status == ReviewStatus.submitted]
    finals = {r.submission_id for r, _, _ in found}
    hidden = {sub_id for sub_id in finals if hidden_reason(user, mine.get(sub_id))}
    left_open = sum(1 for sub_id in hidden if sub_id in mine)
    shown = [(r, u, inv) for r, u, inv in found if r.submission_id not in hidden]
    levels = _levels(session, col(Invitation.position_id) == position.id) if shown else {}
    names = _criteria(r for r, _, _ in shown)
    people = {u.id or 0: u.name for _, u, _ in shown}

    units: dict[Unit, dict[int, int]] = {}
    for review, _, _ in shown:
        for cid in names:
            level = levels.get((review.id or 0, cid))
            if level is not None:
                units.setdefault((review.submission_id, cid), {})[review.reviewer_id] = level
    pairable = {unit: rated for unit, rated in units.items() if len(rated) >= 2}
    paired_finals = {sub_id for sub_id, _ in pairable}
    counted = [r for r, _, _ in shown if r.submission_id in paired_finals]

    kappa, pair, pairs = None, None, 0
    raters = sorted({r.reviewer_id for r in counted})
    if len(raters) == 2:
        a, b = raters
        both = [(rated[a], rated[b]) for rated in pairable.values() if a in rated and b in rated]
        kappa, pair, pairs = quadratic_kappa(both), (people[a], people[b]), len(both)

    invitations = {r.submission_id: inv for r, _, inv in shown}
    return Agreement(
        position=position,
        alpha=ordinal_alpha(pairable.values()),
        kappa=kappa,
        kappa_pair=pair,
        kappa_pairs=pairs,
        criteria=[
            CriterionAlpha(
                name,
                ordinal_alpha(rated for (_, c), rated in pairable.items() if c == cid),
                sum(len(rated) for (_, c), rated in pairable.items() if c == cid),
            )
            for cid, name in names.items()
        ],
        reviews=len(counted),
        finals=len(paired_finals),
        ratings=sum(len(rated) for rated in pairable.values()),
        units=len(pairable),
        reviewers=len(raters),
        left_open=left_open,
        left_unread=len(hidden) - left_open,
        disagreements=_disagreements(pairable, names, people, invitations, who),
        calibration=_calibration(shown, pairable, people),
    )


def _disagreements(
    pairable: Mapping[Unit, Mapping[int, int]],
    names: Mapping[str, str],
    people: Mapping[int, str],
    invitations: Mapping[int, Invitation],
    who: Identities,
) -> list[Disagreement]:
    """The flagged units, widest first, then by candidate and rubric order."""
    order = {cid: n for n, cid in enumerate(names)}
    found = []
    for (sub_id, cid), rated in pairable.items():
        if max(rated.values()) - min(rated.values()) < FLAG_APART:
            continue
        inv = invitations[sub_id]
        levels = sorted(((people[r], level) for r, level in rated.items()), key=_by_name)
        found.append((order[cid], Disagreement(inv.id or 0, who.name(inv), names[cid], levels)))
    found.sort(key=lambda f: (-f[1].spread, f[1].name.casefold(), f[1].invitation_id, f[0]))
    return [d for _, d in found]


def _by_name(item: tuple[str, int]) -> str:
    return item[0].casefold()


def _calibration(
    shown: Sequence[tuple[Review, User, Invitation]],
    pairable: Mapping[Unit, Mapping[int, int]],
    people: Mapping[int, str],
) -> list[Calibration]:
    """Each reviewer's levels and totals against the others' on shared work,
    by reviewer name. A positive difference: more generous than the others."""
    totals: dict[int, dict[int, float]] = {}  # final -> reviewer -> total
    for review, _, _ in shown:
        if review.total is not None:
            totals.setdefault(review.submission_id, {})[review.reviewer_id] = review.total
    rows = []
    for rater, name in people.items():
        gaps = [
            level - statistics.fmean(v for r, v in rated.items() if r != rater)
            for rated in pairable.values()
            if (level := rated.get(rater)) is not None
        ]
        own, others = [], []
        for by_rater in totals.values():
            rest = [t for r, t in by_rater.items() if r != rater]
            if rater in by_rater and rest:
                own.append(by_rater[rater])
                others.append(statistics.fmean(rest))
        rows.append(
            Calibration(
                reviewer=name,
                reviews=sum(1 for r, _, _ in shown if r.reviewer_id == rater),
                shared=len(gaps),
                signed=statistics.fmean(gaps) if gaps else None,
                absolute=statistics.fmean(abs(g) for g in gaps) if gaps else None,
                shared_finals=len(own),
                own_total=statistics.fmean(own) if own else None,
                others_total=statistics.fmean(others) if others else None,
            )
        )
    return sorted(rows, key=lambda row: row.reviewer.casefold())
