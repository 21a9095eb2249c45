"""Similarity evidence as reviewers read it: pairs of finals that share code.

The worker stores the pairs (worker/_similarity.py: a final's fingerprints
against the earlier finals of the same exercise in the same organisation, the
starter kit excluded); this module only reads them and records a reviewer's
dismissal. Any staff role of the organisation may read a pair and dismiss it,
with a reason, in the audit trail; another organisation's pair is not found.

The figures are evidence to read with the code, never a verdict (the
package's docstring, `worksample.similarity`). Names are for `who` (blind
positions): nothing here reads a candidate's name or email, and a stored
comparison labels its sides "submission <id>".
"""

from __future__ import annotations

import zlib
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import ClassVar

from markupsafe import Markup, escape
from sqlalchemy import or_
from sqlmodel import Session, col, select
from worksample.db import (
    Invitation,
    SimilarityPair,
    SimilarityPrint,
    Submission,
    SubmissionKind,
    User,
    utcnow,
)
from worksample.similarity import (
    COMMON_MIN,
    COMMON_SHARE,
    FLAGGED_SHARE,
    Comparison,
    FileShare,
    Fragment,
)
from worksample.web.services import audit, code
from worksample.web.services.code import BIDI_SPAN, CodeScope, scopes_of
from worksample.web.services.errors import Invalid, NotFound

__all__ = [
    "MAX_REASON",
    "FragmentView",
    "InvitationSimilarity",
    "PairSummary",
    "PairView",
    "dismiss",
    "for_invitation",
    "get_pair",
]

MAX_REASON = 2000  # the column's length

# --- the candidate's file ---------------------------------------------------------------


@dataclass(frozen=True)
class PairSummary:
    """A pair as one of its candidates' file shows it."""

    pair: SimilarityPair
    other: CodeScope  # the other candidate's final
    share_this: float  # of this candidate's code (starter excluded) found in the other's
    share_other: float  # of the other's found in this candidate's

    @property
    def dismissed(self) -> bool:
        return self.pair.dismissed_at is not None


@dataclass(frozen=True)
class InvitationSimilarity:
    final: Submission | None  # the candidate's final, if any
    fingerprints: int | None  # of the final, starter excluded; None: not taken (yet)
    pairs: list[PairSummary]  # flagged first, then by the larger share; dismissed last
    flag_share: ClassVar[float] = FLAGGED_SHARE

    @property
    def open_flags(self) -> int:
        return sum(1 for p in self.pairs if p.pair.flagged and not p.dismissed)


def for_invitation(session: Session, *, user: User, invitation: Invitation) -> InvitationSimilarity:
    """The pairs touching this candidate's final, for the partial on the
    candidate's file (the caller has checked the invitation is the user's
    organisation's); in three indexed queries."""
    head = session.exec(
        select(Submission, SimilarityPrint.fingerprints)
        .outerjoin(SimilarityPrint, col(SimilarityPrint.submission_id) == Submission.id)
        .where(
            Submission.invitation_id == invitation.id,
            Submission.kind == SubmissionKind.final,
            Submission.org_id == user.org_id,
        )
    ).first()
    if head is None:
        return InvitationSimilarity(None, None, [])
    final, fingerprints = head
    final_id = final.id or 0
    pairs = session.exec(
        select(SimilarityPair).where(
            SimilarityPair.org_id == user.org_id,
            or_(col(SimilarityPair.a_id) == final_id, col(SimilarityPair.b_id) == final_id),
        )
    ).all()
    others = scopes_of(session, user, [p.b_id if p.a_id == final_id else p.a_id for p in pairs])
    summaries = []
    for pair in pairs:
        mine_is_a = pair.a_id == final_id
        other = others.get(pair.b_id if mine_is_a else pair.a_id)
        if other is None:  # cannot be: both sides are the organisation's
            continue
        this, theirs = (pair.share_a, pair.share_b) if mine_is_a else (pair.share_b, pair.share_a)
        summaries.append(PairSummary(pair, other, this, theirs))
    summaries.sort(
        key=lambda s: (s.dismissed, not s.pair.flagged, -max(s.share_this, s.share_other))
    )
    return InvitationSimilarity(final, fingerprints, summaries)


# --- one pair --------------------------------------------------------------------------


@dataclass(frozen=True)
class FragmentView:
    fragment: Fragment
    lines_a: tuple[Markup, ...]  # highlighted as the code browser does, one per line
    lines_b: tuple[Markup, ...]


@dataclass(frozen=True)
class PairView:
    pair: SimilarityPair
    comparison: Comparison
    a: CodeScope  # the later final (fingerprinted second)
    b: CodeScope
    fragments: list[FragmentView]
    dismissed_by: str | None  # the staff member's name
    # The library's rules, for the page's words on what the figures mean.
    flag_share: ClassVar[float] = FLAGGED_SHARE
    common_min: ClassVar[int] = COMMON_MIN
    common_share: ClassVar[float] = COMMON_SHARE

    @property
    def files_a(self) -> list[FileShare]:
        return [f for f in self.comparison.files_a if f.matched]

    @property
    def files_b(self) -> list[FileShare]:
        return [f for f in self.comparison.files_b if f.matched]


def _get(session: Session, user: User, pair_id: int) -> SimilarityPair:
    pair = session.get(SimilarityPair, pair_id)
    if pair is None or pair.org_id != user.org_id:
        raise NotFound  # another organisation's id, too
    return pair


def get_pair(session: Session, *, user: User, pair_id: int, exercises_dir: Path) -> PairView:
    """A pair of the user's organisation (any staff role) with its fragments,
    highlighted; another organisation's is not found."""
    pair = _get(session, user, pair_id)
    scopes = scopes_of(session, user, [pair.a_id, pair.b_id])
    if pair.a_id not in scopes or pair.b_id not in scopes:
        raise NotFound
    comparison = Comparison.model_validate_json(zlib.decompress(pair.data))
    a, b = scopes[pair.a_id], scopes[pair.b_id]
    lines = _Highlighted(session, user, exercises_dir)
    fragments = [
        FragmentView(
            fragment,
            lines.of(a, fragment.path_a, fragment.lines_a, fragment.text_a),
            lines.of(b, fragment.path_b, fragment.lines_b, fragment.text_b),
        )
        for fragment in comparison.fragments
    ]
    dismissed_by = None
    if pair.dismissed_by is not None:
        staff = session.get(User, pair.dismissed_by)
        dismissed_by = staff.name if staff else "a former colleague"
    return PairView(pair, comparison, a, b, fragments, dismissed_by)


class _Highlighted:
    """Lines of a submission's file as its code page shows them (Pygments over the
    whole file, bidirectional controls marked), each file highlighted once."""

    def __init__(self, session: Session, user: User, exercises_dir: Path) -> None:
        self.session, self.user, self.exercises_dir = session, user, exercises_dir
        self._files: dict[tuple[int, str], tuple[Markup, ...]] = {}

    def of(
        self, scope: CodeScope, path: str, lines: tuple[int, int], text: str
    ) -> tuple[Markup, ...]:
        key = (scope.submission.id or 0, path)
        if key not in self._files:
            try:
                shown = code.file_view(
                    self.session, user=self.user, submission_id=key[0], path=path,
                    exercises_dir=self.exercises_dir, source=True,
                ).lines  # fmt: skip
            except (NotFound, Invalid):  # the exercise's paths changed since: as stored
                shown = ()
            self._files[key] = shown
        first, last = lines
        shown = self._files[key][first - 1 : last]
        if len(shown) == last - first + 1:
            return shown
        # Beyond what the code page shows (a cut file): the stored text, escaped.
        return tuple(Markup(str(escape(line)).translate(BIDI_SPAN)) for line in text.split("\n"))


# --- dismissing ------------------------------------------------------------------------


def dismiss(session: Session, *, user: User, pair_id: int, reason: str) -> SimilarityPair:
    """Mark a pair as read and not a concern, with the reason (any staff role);
    recorded in the audit trail. The pair stays, dismissed, for the record."""
    pair = _get(session, user, pair_id)
    reason = reason.strip()
    if not reason:
        raise Invalid(
            "Say why you dismiss this pair: the reason stays with it for the team to read."
        )
    if len(reason) > MAX_REASON:
        raise Invalid(f"The reason is longer than {MAX_REASON} characters.")
    if pair.dismissed_at is not None:
        raise Invalid("This pair has already been dismissed.")
    now: datetime = utcnow()
    pair.dismissed_by, pair.dismissed_reason, pair.dismissed_at = user.id, reason, now
    session.add(pair)
    audit.record(
        session,
        org_id=user.org_id,
        actor=user.email,
        action="similarity.dismiss",
        target=f"similarity:{pair.id}",
        # Submission ids, not names: the trail must not undo a blind position.
        detail=f"submissions {pair.a_id} and {pair.b_id}: {reason}",
    )
    session.commit()
    session.refresh(pair)
    return pair
