"""One position's candidates side by side: the funnel, the distributions of the
scores, and a table sortable by any column, also as CSV.

The table has a row per invitation with a final submission, revoked or not:
those are what there is to compare. Its columns are the candidate, the total
score, each category of the exercise (as the graded reports name them, in
their order), the rubric total (the mean of `Review.total` over the final's
submitted reviews), how many reviews are submitted, and the standing decision.
A missing value (not graded yet, no review, no decision) sorts last in either
order; an unknown sort key or order is refused (`Invalid`) with the keys there are.

The rubric total shows to whoever may read the final's reviews on the
candidate's file (`rubric_reviews.hidden_reason`): not while one's own review
of it is open, and to a reviewer only once they have submitted one; drafts
never count. The number of submitted reviews shows to everyone, as on the file.

Seven queries whatever the number of candidates (the position, invitations,
finals, decisions, the finals' runs with their reports' digests, the reports,
reviews), two more on a blind position (`Identities`). The reports are read in
one query and parsed through `grading.load_report`, once per process.
"""

from __future__ import annotations

import csv
import io
import re
import statistics
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import cached_property
from typing import Final, Literal
from urllib.parse import urlencode

from markupsafe import Markup
from sqlmodel import Session, col, select
from worksample.db import (
    Blob,
    Decision,
    GradingRun,
    Invitation,
    Outcome,
    Position,
    Review,
    ReviewStatus,
    RunStatus,
    Submission,
    SubmissionKind,
    User,
)
from worksample.web import charts
from worksample.web.services.errors import Invalid
from worksample.web.services.grading import load_report
from worksample.web.services.identity import Identities
from worksample.web.services.positions import get_position
from worksample.web.services.rubric_reviews import hidden_reason

__all__ = [
    "Column",
    "Comparison",
    "Distribution",
    "Order",
    "Row",
    "compare",
    "csv_filename",
    "to_csv",
]

Order = Literal["asc", "desc"]
ORDERS: Final[dict[str, Order]] = {"asc": "asc", "desc": "desc"}
CATEGORY: Final = "category."  # the sort key of a category: "category.correctness"
DECISION_RANK: Final = {Outcome.advance: 0, Outcome.hold: 1, Outcome.reject: 2}
TONES: Final[dict[Outcome, charts.Tone]] = {
    Outcome.advance: "advance",
    Outcome.hold: "hold",
    Outcome.reject: "reject",
}
# A spreadsheet runs a cell that starts with one of these as a formula.
FORMULA_STARTS: Final = ("=", "+", "-", "@", "\t", "\r")


@dataclass(frozen=True)
class Row:
    invitation: Invitation
    name: str  # as this user may see it: a pseudonym on a blind position
    final: Submission
    run: GradingRun | None  # the final's latest
    total: float | None  # when graded
    categories: dict[str, float]
    rubric: float | None  # None too when hidden from this user
    rubric_hidden: str  # why this user may not see it yet; "" when they may
    reviews: int  # submitted
    decision: Decision | None  # the standing one

    @property
    def href(self) -> str:
        return f"/invitations/{self.invitation.id}"

    @property
    def tone(self) -> charts.Tone:
        return TONES[self.decision.outcome] if self.decision else "undecided"


@dataclass(frozen=True)
class Column:
    key: str  # the sort key
    title: str
    numeric: bool
    value: Callable[[Row], float | str | None]

    @property
    def default_order(self) -> Order:
        return "desc" if self.numeric else "asc"


@dataclass(frozen=True)
class Distribution:
    title: str  # also the measure in the chart's accessible summary
    description: str
    marks: list[charts.Mark]

    @property
    def median(self) -> float | None:
        return statistics.median(m.value for m in self.marks) if self.marks else None

    @cached_property
    def svg(self) -> Markup:
        return charts.dot_strip(self.marks, label=self.title)


@dataclass(frozen=True)
class Comparison:
    position: Position
    stages: list[charts.Stage]
    revoked: int
    columns: list[Column]
    rows: list[Row]  # in the asked order
    sort: str
    order: Order
    distributions: list[Distribution] = field(default_factory=list)

    @cached_property
    def funnel_svg(self) -> Markup:
        return charts.funnel(self.stages)

    @cached_property
    def legend_svg(self) -> Markup:
        return charts.legend()

    def sort_href(self, column: Column) -> str:
        """The header's link: the other order of the current column, else the column's own."""
        if column.key == self.sort:
            order: Order = "asc" if self.order == "desc" else "desc"
        else:
            order = column.default_order
        # A category's key is its name, which may hold spaces or "&".
        return "?" + urlencode({"sort": column.key, "order": order})

    @property
    def hidden_reasons(self) -> list[str]:
        return sorted({row.rubric_hidden for row in self.rows if row.rubric_hidden})

    def csv_href(self) -> str:
        query = urlencode({"sort": self.sort, "order": self.order})
        return f"/positions/{self.position.id}/compare.csv?{query}"


def compare(
    session: Session,
    *,
    user: User,
    who: Identities,
    position_id: int,
    sort: str = "total",
    order: str | None = None,
) -> Comparison:
    """The position's comparison as `user` may see it; another organisation's
    position is not found, an unknown `sort` or `order` is `Invalid`."""
    position = get_position(session, user=user, position_id=position_id)
    invitations = list(
        session.exec(
            select(Invitation)
            .where(Invitation.position_id == position.id)
            .order_by(col(Invitation.id))
        )
    )
    ids = [inv.id for inv in invitations]
    finals: dict[int, Submission] = {}
    decisions: dict[int, Decision] = {}
    if ids:
        for sub in session.exec(
            select(Submission).where(
                col(Submission.invitation_id).in_(ids), Submission.kind == SubmissionKind.final
            )
        ):
            finals[sub.invitation_id] = sub
        for decision in session.exec(
            select(Decision).where(col(Decision.invitation_id).in_(ids)).order_by(col(Decision.id))
        ):
            decisions[decision.invitation_id] = decision  # the latest stands
    final_ids = [sub.id for sub in finals.values()]
    runs: dict[int, tuple[GradingRun, str | None]] = {}
    submitted: dict[int, list[float | None]] = {}
    own: dict[int, Review] = {}  # this user's review of each final
    reports_read: list[Blob] = []  # until the rows are made
    if final_ids:
        for found_run, found_digest in session.exec(
            select(GradingRun, col(Blob.sha256))
            .outerjoin(Blob, col(Blob.id) == GradingRun.report_blob_id)
            .where(col(GradingRun.submission_id).in_(final_ids))
            .order_by(col(GradingRun.id))
        ):
            runs[found_run.submission_id] = (found_run, found_digest)  # the latest wins
        # load_report reads a report it has not parsed yet with `session.get`, a
        # query per report: read them all in one, and it finds them in the session.
        # Held in a list: the session keeps only weak references to its rows.
        blob_ids = [
            run.report_blob_id
            for run, _ in runs.values()
            if run.status == RunStatus.graded and run.report_blob_id is not None
        ]
        if blob_ids:
            reports_read += session.exec(select(Blob).where(col(Blob.id).in_(blob_ids)))
        for found_review in session.exec(
            select(Review).where(col(Review.submission_id).in_(final_ids))
        ):
            if found_review.status == ReviewStatus.submitted:
                submitted.setdefault(found_review.submission_id, []).append(found_review.total)
            if found_review.reviewer_id == user.id:
                own[found_review.submission_id] = found_review

    rows: list[Row] = []
    categories: dict[str, tuple[str, float]] = {}  # name -> (description, weight), in order
    for inv in invitations:
        final = finals.get(inv.id or 0)
        if final is None:
            continue
        run, digest = runs.get(final.id or 0, (None, None))
        total, scores = None, {}
        if run is not None and run.status == RunStatus.graded:
            report = load_report(session, run, digest=digest)
            total = run.score
            if report is not None:
                total = report.score if report.score is not None else total
                for category in report.categories:
                    categories.setdefault(category.name, (category.description, category.weight))
                    scores[category.name] = category.score
        totals = [t for t in submitted.get(final.id or 0, []) if t is not None]
        hidden = hidden_reason(user, own.get(final.id or 0)) if totals else ""
        rubric = statistics.fmean(totals) if totals and not hidden else None
        rows.append(
            Row(inv, who.name(inv), final, run, total, scores, rubric, hidden,
                len(submitted.get(final.id or 0, [])), decisions.get(inv.id or 0))
        )  # fmt: skip

    columns = _columns(categories)
    by_key = {column.key: column for column in columns}
    if sort not in by_key:
        keys = ", ".join(by_key)
        raise Invalid(f"Unknown sort key {sort!r}: sort by one of {keys}.")
    if order is not None and order not in ORDERS:
        raise Invalid(f"Unknown order {order!r}: sort in asc or desc order.")
    chosen = by_key[sort]
    direction = ORDERS[order] if order is not None else chosen.default_order

    return Comparison(
        position=position,
        stages=_stages(invitations, finals, runs, submitted, decisions),
        revoked=sum(inv.revoked_at is not None for inv in invitations),
        columns=columns,
        rows=_sorted(rows, chosen, direction),
        sort=sort,
        order=direction,
        distributions=_distributions(columns, categories, rows),
    )


def _columns(categories: dict[str, tuple[str, float]]) -> list[Column]:
    def category(name: str) -> Callable[[Row], float | None]:
        return lambda row: row.categories.get(name)

    return [
        Column("candidate", "Candidate", False, lambda row: row.name.casefold()),
        Column("total", "Total", True, lambda row: row.total),
        *(Column(CATEGORY + name, name, True, category(name)) for name in categories),
        Column("rubric", "Rubric total", True, lambda row: row.rubric),
        Column("reviews", "Reviews", True, lambda row: row.reviews),
        Column(
            "decision", "Decision", False,
            lambda row: DECISION_RANK[row.decision.outcome] if row.decision else None,
        ),
    ]  # fmt: skip


def _sorted(rows: list[Row], column: Column, order: Order) -> list[Row]:
    """By `column`, ties by the name shown (never the hidden one), missing values last."""
    by_name = sorted(rows, key=lambda row: (row.name.casefold(), row.invitation.id or 0))
    present = [row for row in by_name if column.value(row) is not None]
    missing = [row for row in by_name if column.value(row) is None]
    # Python's sort is stable in either direction: ties stay in name order.
    present.sort(key=lambda row: column.value(row) or 0, reverse=order == "desc")
    return present + missing


def _stages(
    invitations: list[Invitation],
    finals: dict[int, Submission],
    runs: dict[int, tuple[GradingRun, str | None]],
    submitted: dict[int, list[float | None]],
    decisions: dict[int, Decision],
) -> list[charts.Stage]:
    """Each stage counts the invitations that reached it, revoked ones included."""
    graded = sum(
        1
        for sub in finals.values()
        if (found := runs.get(sub.id or 0)) and found[0].status == RunStatus.graded
    )
    counts = [
        ("invited", len(invitations)),
        ("started", sum(inv.started_at is not None for inv in invitations)),
        ("submitted", len(finals)),
        ("graded", graded),
        ("reviewed", sum(1 for sub in finals.values() if submitted.get(sub.id or 0))),
        ("decided", len(decisions)),
    ]
    return [charts.Stage(label, count, len(invitations)) for label, count in counts]


def _distributions(
    columns: list[Column], categories: dict[str, tuple[str, float]], rows: list[Row]
) -> list[Distribution]:
    """A chart per score column: the total, each category, the rubric total."""
    described = {
        "total": ("Total score", "The hidden suite's score of each graded final."),
        "rubric": ("Rubric total", "The mean of each final's submitted reviews' rubric totals."),
    }
    for name, (description, weight) in categories.items():
        described[CATEGORY + name] = (f"Category {name}", f"{description} (weight {weight:g})")
    found = []
    for column in columns:
        if column.key not in described:
            continue
        title, description = described[column.key]
        marks = [
            charts.Mark(row.name, value, row.href, row.tone)
            for row in rows
            if isinstance(value := column.value(row), float | int)
        ]
        found.append(Distribution(title, description, marks))
    return found


def to_csv(view: Comparison) -> str:
    """The table's rows and columns in its order. Numbers are written as numbers;
    a text cell a spreadsheet would run as a formula gets a leading apostrophe."""
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow([_cell(column.title) for column in view.columns])
    for row in view.rows:
        writer.writerow([_csv_value(column, row) for column in view.columns])
    return out.getvalue()


def _csv_value(column: Column, row: Row) -> str | int | float:
    if column.key == "candidate":
        return _cell(row.name)
    if column.key == "decision":
        return row.decision.outcome.value if row.decision else ""
    value = column.value(row)
    if value is None:
        return ""
    return float(f"{value:.2f}") if isinstance(value, float) else value


def _cell(text: str) -> str:
    return "'" + text if text.startswith(FORMULA_STARTS) else text


_NOT_SLUG = re.compile(r"[^a-z0-9]+")


def csv_filename(position: Position) -> str:
    """ASCII only, from the title (the position's, never a candidate's)."""
    slug = _NOT_SLUG.sub("-", position.title.lower()).strip("-")[:60].strip("-")
    return f"{slug + '-' if slug else ''}comparison-{position.id}.csv"
