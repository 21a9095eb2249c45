"""Reviewer agreement: one final's spread, a position's Krippendorff's alpha and
Cohen's kappa, the flagged disagreements and each reviewer's calibration, from
submitted reviews only and as the viewer may see them."""

from __future__ import annotations

from collections.abc import Sequence

import httpx
import pytest
from factories import MINI_ADD, make_invitation, make_org, make_position, make_submission, make_user
from fastapi.testclient import TestClient
from pages import sign_in, text
from sklearn.metrics import cohen_kappa_score  # type: ignore[import-untyped]
from sqlmodel import Session
from test_scale import counted
from worksample.db import (
    Invitation,
    Organisation,
    Position,
    Review,
    ReviewScore,
    ReviewStatus,
    Role,
    Submission,
    User,
    utcnow,
)
from worksample.graders import load_exercise
from worksample.web.services import agreement
from worksample.web.services.errors import NotFound
from worksample.web.services.identity import pseudonym

EXERCISE = load_exercise(MINI_ADD)
RUBRIC = EXERCISE.manifest.rubric
CRITERIA = [c.id for c in RUBRIC.criteria]  # mini-add: structure, errors
PAGE = "/positions/{position_id}/agreement"


def words(response: httpx.Response) -> str:
    """The page's text with its white space folded, for phrases across lines."""
    return " ".join(text(response).split())


def org_of(db_session: Session, user: User) -> Organisation:
    org = db_session.get(Organisation, user.org_id)
    assert org is not None
    return org


def final(db_session: Session, position: Position, name: str = "") -> Submission:
    named = {"candidate_name": name} if name else {}
    invitation, _ = make_invitation(db_session, position, **named)
    return make_submission(db_session, invitation)


def review(
    db_session: Session,
    sub: Submission,
    reviewer: User,
    levels: Sequence[int | None],
    *,
    submitted: bool = True,
) -> Review:
    """A review of `sub` with a level per criterion, in rubric order, scored
    against mini-add's real rubric snapshot as the review service takes it."""
    by_id = dict(zip(CRITERIA, levels, strict=True))
    row = Review(
        org_id=sub.org_id,
        invitation_id=sub.invitation_id,
        submission_id=sub.id or 0,
        reviewer_id=reviewer.id or 0,
        assigned_by=reviewer.id or 0,
        status=ReviewStatus.submitted if submitted else ReviewStatus.assigned,
        rubric=RUBRIC.model_dump_json(),
        exercise_hash=EXERCISE.content_hash,
        total=RUBRIC.total({k: v for k, v in by_id.items() if v}) if submitted else None,
        submitted_at=utcnow() if submitted else None,
    )
    db_session.add(row)
    db_session.flush()
    for cid, level in by_id.items():
        db_session.add(ReviewScore(review_id=row.id or 0, criterion=cid, level=level, comment="c"))
    db_session.commit()
    db_session.refresh(row)
    return row


def people(db_session: Session, org: Organisation, *names: str) -> list[User]:
    return [make_user(db_session, org, role=Role.reviewer, name=n) for n in names]


def score_finals(
    db_session: Session, position: Position, *by_reviewer: tuple[User, list[int]]
) -> list[Submission]:
    """Finals reviewed by each (reviewer, levels) given, the levels flattened
    over (final, criterion) in order."""
    count = len(by_reviewer[0][1]) // len(CRITERIA)
    finals = [final(db_session, position) for _ in range(count)]
    for reviewer, flat in by_reviewer:
        for n, sub in enumerate(finals):
            review(db_session, sub, reviewer, flat[n * len(CRITERIA) : (n + 1) * len(CRITERIA)])
    return finals


# --- the coefficients ----------------------------------------------------------------


def test_ordinal_alpha_of_a_hand_checked_case() -> None:
    # Units (1,1), (2,2), (1,2), (2,2): coincidences o11=2, o22=4, o12=o21=1;
    # n1=3, n2=5, n=8. With two values every metric is the same up to scale:
    # alpha = 1 - (n-1) * (o12+o21) / (2 * n1 * n2) = 1 - 7*2/30 = 8/15.
    units = [{1: 1, 2: 1}, {1: 2, 2: 2}, {1: 1, 2: 2}, {1: 2, 2: 2}]
    found = agreement.ordinal_alpha(units)
    assert found.value == pytest.approx(8 / 15)
    assert agreement.ordinal_alpha([{1: 4, 2: 4, 3: 4}, {1: 1, 2: 1}]).value == 1.0
    # One rating per unit is not agreement data; neither is a single value.
    lone = agreement.ordinal_alpha([{1: 3}, {2: 4}])
    assert lone.value is None and "two submitted reviews" in lone.reason
    flat = agreement.ordinal_alpha([{1: 3, 2: 3}, {1: 3, 2: 3, 3: 3}])
    assert flat.value is None and "no variation" in flat.reason


def test_a_position_reproduces_krippendorffs_published_example_and_sklearns_kappa(
    db_session: Session, admin: User
) -> None:
    # Krippendorff, "Computing Krippendorff's Alpha-Reliability" (2011), A:
    # binary data, two observers, ten units, alpha = 0.095. With two values an
    # ordinal alpha is the binary one; here levels 2 and 3 on 5 finals x 2 criteria.
    observer_a = [0, 1, 0, 0, 0, 0, 0, 0, 1, 0]
    observer_b = [1, 1, 1, 0, 0, 1, 0, 0, 0, 0]
    org = org_of(db_session, admin)
    position = make_position(db_session, org)
    ann, bo = people(db_session, org, "Ann", "Bo")
    score_finals(
        db_session, position, (ann, [v + 2 for v in observer_a]), (bo, [v + 2 for v in observer_b])
    )
    view = agreement.position_agreement(db_session, user=admin, position=position)
    assert view.alpha.value is not None and round(view.alpha.value, 3) == 0.095
    counts = (view.reviews, view.finals, view.units, view.ratings, view.reviewers)
    assert counts == (10, 5, 10, 20, 2)
    assert view.alpha.reading == "unreliable"
    assert view.kappa is not None and view.kappa_pair == ("Ann", "Bo") and view.kappa_pairs == 10
    expected = cohen_kappa_score(observer_a, observer_b, weights="quadratic")
    assert view.kappa.value == pytest.approx(expected)


def test_kappa_matches_sklearn_on_the_same_pairs_and_needs_exactly_two_reviewers(
    db_session: Session, admin: User
) -> None:
    org = org_of(db_session, admin)
    position = make_position(db_session, org)
    ann, bo, cy = people(db_session, org, "Ann", "Bo", "Cy")
    ann_levels, bo_levels = [1, 2, 4, 3, 2, 2, 4, 4], [1, 3, 3, 3, 1, 2, 2, 4]
    finals = score_finals(db_session, position, (ann, ann_levels), (bo, bo_levels))
    view = agreement.position_agreement(db_session, user=admin, position=position)
    assert view.kappa is not None and view.kappa.value == pytest.approx(
        cohen_kappa_score(ann_levels, bo_levels, weights="quadratic", labels=[1, 2, 3, 4])
    )
    # A third reviewer on one final: kappa is for two, alpha takes any number.
    review(db_session, finals[0], cy, [1, 2])
    view = agreement.position_agreement(db_session, user=admin, position=position)
    assert view.kappa is None and view.reviewers == 3 and view.alpha.value is not None


def test_perfect_agreement_is_one_and_no_variation_is_not_enough_data(
    db_session: Session, admin: User
) -> None:
    org = org_of(db_session, admin)
    position = make_position(db_session, org)
    ann, bo, cy = people(db_session, org, "Ann", "Bo", "Cy")
    same = [1, 4, 3, 2]
    score_finals(db_session, position, (ann, same), (bo, same), (cy, same))
    view = agreement.position_agreement(db_session, user=admin, position=position)
    assert view.alpha.value == 1.0 and view.alpha.reading == "reliable"
    assert view.disagreements == []

    flat = make_position(db_session, org)
    score_finals(db_session, flat, (ann, [3, 3]), (bo, [3, 3]))
    view = agreement.position_agreement(db_session, user=admin, position=flat)
    assert view.alpha.value is None and "Every rating is level 3" in view.alpha.reason
    assert view.kappa is not None and view.kappa.value is None


# --- one final ---------------------------------------------------------------------------


def test_a_criterion_two_levels_apart_is_flagged_and_one_apart_is_not(
    db_session: Session, admin: User
) -> None:
    org = org_of(db_session, admin)
    position = make_position(db_session, org)
    ann, bo = people(db_session, org, "Ann", "Bo")
    sub = final(db_session, position, "Lee Park")
    review(db_session, sub, ann, [1, 2])
    review(db_session, sub, bo, [3, 3])
    found = agreement.spread(db_session, user=admin, submission=sub)
    assert found is not None
    assert found.reviewers == ["Ann", "Bo"]
    structure, errors = found.criteria
    assert (structure.name, structure.levels, structure.low, structure.high) == (
        "Shared logic", [1, 3], 1, 3,
    )  # fmt: skip
    assert structure.flagged and structure.spread == 2
    assert not errors.flagged and errors.spread == 1
    assert [c.id for c in found.flagged] == ["structure"]
    assert found.totals == [
        RUBRIC.total({"structure": 1, "errors": 2}),
        RUBRIC.total({"structure": 3, "errors": 3}),
    ]
    assert found.total_spread == pytest.approx(found.totals[1] - found.totals[0])  # type: ignore[operator]

    view = agreement.position_agreement(db_session, user=admin, position=position)
    (flagged,) = view.disagreements
    assert (flagged.name, flagged.criterion, flagged.levels, flagged.spread) == (
        "Lee Park", "Shared logic", [("Ann", 1), ("Bo", 3)], 2,
    )  # fmt: skip
    assert flagged.href == f"/invitations/{sub.invitation_id}"


def test_no_spread_below_two_submitted_reviews_and_drafts_never_count(
    db_session: Session, admin: User
) -> None:
    org = org_of(db_session, admin)
    position = make_position(db_session, org)
    ann, bo, cy = people(db_session, org, "Ann", "Bo", "Cy")
    sub = final(db_session, position)
    assert agreement.spread(db_session, user=admin, submission=sub) is None  # none
    review(db_session, sub, ann, [2, 2])
    review(db_session, sub, cy, [4, 4], submitted=False)  # a draft, far off
    assert agreement.spread(db_session, user=admin, submission=sub) is None  # one submitted
    review(db_session, sub, bo, [2, 3])
    found = agreement.spread(db_session, user=admin, submission=sub)
    assert found is not None and found.reviewers == ["Ann", "Bo"] and found.flagged == []
    view = agreement.position_agreement(db_session, user=admin, position=position)
    assert (view.reviews, view.reviewers, view.ratings) == (2, 2, 4)
    assert view.disagreements == []
    assert "Cy" not in [c.reviewer for c in view.calibration]
    assert view.left_out == 0  # the draft is Cy's, not the viewer's


def test_a_viewer_with_an_open_review_does_not_see_that_final(
    client: TestClient, db_session: Session, admin: User
) -> None:
    org = org_of(db_session, admin)
    position = make_position(db_session, org)
    ann, bo, cy = people(db_session, org, "Ann", "Bo", "Cy")
    open_one = final(db_session, position, "Open One")
    other = final(db_session, position, "Kim Lund")
    for sub in (open_one, other):
        review(db_session, sub, ann, [1, 1])
        review(db_session, sub, bo, [4, 4])
    review(db_session, open_one, cy, [None, 2], submitted=False)  # Cy's own, still open

    assert agreement.spread(db_session, user=cy, submission=open_one) is None
    assert agreement.spread(db_session, user=cy, submission=other) is None  # a reviewer's, unread
    assert agreement.spread(db_session, user=admin, submission=open_one) is not None
    view = agreement.position_agreement(db_session, user=cy, position=position)
    assert (view.left_open, view.left_unread, view.reviews) == (1, 1, 0)
    assert view.disagreements == [] and view.alpha.value is None

    # Once Cy has submitted a review of `other`, it shows; `open_one` still does not.
    review(db_session, other, cy, [2, 3])
    view = agreement.position_agreement(db_session, user=cy, position=position)
    assert (view.left_open, view.left_unread, view.finals, view.reviews) == (1, 0, 1, 3)
    assert {d.name for d in view.disagreements} == {"Kim Lund"}
    sign_in(client, db_session, cy)
    page = words(client.get(PAGE.format(position_id=position.id)))
    assert "1 final left out" in page and "your own review of it is still open" in page
    assert "Open One" not in page and "Kim Lund" in page


def test_calibration_says_who_scores_higher_and_lower_than_the_others(
    db_session: Session, admin: User
) -> None:
    org = org_of(db_session, admin)
    position = make_position(db_session, org)
    easy, hard, solo = people(db_session, org, "Easy", "Hard", "Solo")
    score_finals(db_session, position, (easy, [3, 4, 2, 3]), (hard, [2, 3, 1, 1]))
    alone = final(db_session, position)
    review(db_session, alone, solo, [1, 1])  # nobody to compare with
    view = agreement.position_agreement(db_session, user=admin, position=position)
    rows = {row.reviewer: row for row in view.calibration}
    assert (rows["Easy"].shared, rows["Easy"].signed, rows["Easy"].absolute) == (4, 1.25, 1.25)
    assert (rows["Hard"].shared, rows["Hard"].signed, rows["Hard"].absolute) == (4, -1.25, 1.25)
    assert rows["Easy"].total_difference is not None and rows["Easy"].total_difference > 0
    assert rows["Hard"].total_difference == pytest.approx(-rows["Easy"].total_difference)
    assert rows["Easy"].own_total == rows["Hard"].others_total
    assert (rows["Solo"].reviews, rows["Solo"].shared, rows["Solo"].signed) == (1, 0, None)
    assert rows["Solo"].total_difference is None
    assert view.finals == 2  # the final with one review is not agreement data


# --- the page --------------------------------------------------------------------------------


def test_the_page_explains_shows_n_disagreements_and_calibration(
    client: TestClient, db_session: Session, admin: User
) -> None:
    org = org_of(db_session, admin)
    position = make_position(db_session, org, title="Data Engineer")
    ann, bo = people(db_session, org, "Ann", "Bo")
    sub = final(db_session, position, "Lee Park")
    review(db_session, sub, ann, [1, 3])
    review(db_session, sub, bo, [4, 3])
    sign_in(client, db_session, admin)
    for headers in ({}, {"HX-Request": "true"}):
        response = client.get(PAGE.format(position_id=position.id), headers=headers)
        assert response.status_code == 200 and "<html" in response.text
    page = words(response)
    assert "Krippendorff's alpha" in page and "is agreement no better than chance" in page
    assert "0.67" in page and "tentative" in page
    assert "From 2 submitted reviews of 1 final by 2 reviewers: 4 ratings" in page
    assert "Cohen's kappa (quadratic weights) between Ann and Bo" in page
    flagged = page[page.index('id="disagreements"') : page.index('id="calibration"')]
    assert f'href="/invitations/{sub.invitation_id}"' in flagged and "Lee Park" in flagged
    assert "Shared logic" in flagged and "Error handling" not in flagged
    calibration = page[page.index('id="calibration"') :]
    assert "+1.50" in calibration and "-1.50" in calibration


def test_the_spread_partial_marks_flagged_rows(db_session: Session, admin: User) -> None:
    from worksample.web.rendering import templates

    org = org_of(db_session, admin)
    position = make_position(db_session, org)
    ann, bo = people(db_session, org, "Ann", "Bo")
    sub = final(db_session, position)
    review(db_session, sub, ann, [1, 2])
    review(db_session, sub, bo, [4, 3])
    found = agreement.spread(db_session, user=admin, submission=sub)
    html = templates.get_template("reviews/_spread.html").render(spread=found)
    rows = html.split("<tr")
    (structure,) = [r for r in rows if "Shared logic" in r]
    (errors,) = [r for r in rows if "Error handling" in r]
    assert 'class="flagged"' in structure and "flagged</span>" in structure
    assert "flagged" not in errors
    assert "Ann" in html and "Bo" in html and "Rubric total" in html
    assert templates.get_template("reviews/_spread.html").render(spread=None).strip() == ""


def test_another_organisations_position_and_submission_are_not_found(
    client: TestClient, db_session: Session, admin: User
) -> None:
    theirs = make_position(db_session, make_org(db_session, name="Zebra Corp"))
    sub = final(db_session, theirs)
    sign_in(client, db_session, admin)
    assert client.get(PAGE.format(position_id=theirs.id)).status_code == 404
    mine = make_position(db_session, org_of(db_session, admin))  # nothing reviewed yet
    empty = words(client.get(PAGE.format(position_id=mine.id)))
    assert "Krippendorff's alpha: <strong>not enough data</strong>" in empty
    assert "No criterion of any final has two submitted reviews yet." in empty
    with pytest.raises(NotFound):
        agreement.position_agreement(db_session, user=admin, position=theirs)
    with pytest.raises(NotFound):
        agreement.spread(db_session, user=admin, submission=sub)


def test_a_blind_position_shows_pseudonyms(
    client: TestClient, db_session: Session, admin: User
) -> None:
    org = org_of(db_session, admin)
    position = make_position(db_session, org, blind=True)
    ann, bo = people(db_session, org, "Ann", "Bo")
    sub = final(db_session, position, "Zelda Quokka-Fenwick")
    review(db_session, sub, ann, [1, 1])
    review(db_session, sub, bo, [4, 4])
    invitation = db_session.get(Invitation, sub.invitation_id)
    assert invitation is not None
    sign_in(client, db_session, admin)
    page = text(client.get(PAGE.format(position_id=position.id)))
    assert pseudonym(invitation) in page and "Zelda" not in page


def test_the_page_costs_the_same_queries_for_any_number_of_reviews(
    client: TestClient, db_session: Session, admin: User
) -> None:
    org = org_of(db_session, admin)
    position = make_position(db_session, org, blind=True)
    ann, bo, cy = people(db_session, org, "Ann", "Bo", "Cy")
    sign_in(client, db_session, admin)
    engine = client.app.state.engine  # type: ignore[attr-defined]
    costs = []
    for count in (2, 12):
        for _ in range(count - (2 if count == 12 else 0)):
            sub = final(db_session, position)
            for n, who in enumerate((ann, bo, cy)):
                review(db_session, sub, who, [1 + n, 4 - n])
        with counted(engine) as statements:
            assert client.get(PAGE.format(position_id=position.id)).status_code == 200
        costs.append(len(statements))
    assert costs[0] == costs[1], costs
