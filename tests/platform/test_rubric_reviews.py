"""Rubric reviews: taken on or assigned, scored criterion by criterion with a
comment each, independent until submitted, final once submitted; on the
candidate's file, the pipeline, the timeline, the queue and the audit trail."""

from __future__ import annotations

import json

import httpx
import pytest
from factories import make_invitation, make_org, make_position, make_submission, make_user
from fastapi.testclient import TestClient
from pages import sign_in, text
from sqlmodel import Session, select
from worksample.db import (
    AuditEvent,
    Invitation,
    Organisation,
    Review,
    ReviewScore,
    ReviewStatus,
    Role,
    SubmissionKind,
    User,
)

# mini-add's rubric (tests/graders/exercises/mini-add): "Shared logic" (structure,
# weight 2) and "Error handling" (errors, weight 1).
FULL = {
    "level.structure": "4",
    "comment.structure": "parse_lines() is its own function, tested.",
    "level.errors": "1",
    "comment.errors": "A missing file ends in a traceback.",
}


def _final(db_session: Session, admin: User, **position: object) -> Invitation:
    org = db_session.get(Organisation, admin.org_id)
    assert org is not None
    invitation, _ = make_invitation(
        db_session, make_position(db_session, org, **position), candidate_name="Ann Lee"
    )
    make_submission(db_session, invitation, kind=SubmissionKind.practice)
    make_submission(db_session, invitation)
    return invitation


def _colleague(db_session: Session, admin: User, role: Role, name: str) -> User:
    org = db_session.get(Organisation, admin.org_id)
    assert org is not None
    return make_user(db_session, org, role=role, name=name)


def take_on(client: TestClient, csrf: str, invitation: Invitation, **form: str) -> httpx.Response:
    return client.post(f"/invitations/{invitation.id}/reviews", data={"csrf_token": csrf, **form})


def post_review(client: TestClient, csrf: str, review_id: int, **form: str) -> httpx.Response:
    return client.post(f"/reviews/{review_id}", data={"csrf_token": csrf, **form})


def _review_of(db_session: Session, user: User) -> Review:
    db_session.expire_all()
    return db_session.exec(select(Review).where(Review.reviewer_id == user.id)).one()


def _taken_on_by_admin(client: TestClient, db_session: Session, admin: User) -> tuple[str, Review]:
    """The admin's session (its CSRF token) and their open review of a new final."""
    invitation = _final(db_session, admin)
    csrf = sign_in(client, db_session, admin)
    assert take_on(client, csrf, invitation).status_code == 303
    return csrf, _review_of(db_session, admin)


def test_a_reviewer_takes_on_a_final_scores_it_and_submits(
    client: TestClient, db_session: Session, admin: User
) -> None:
    invitation = _final(db_session, admin)
    reviewer = _colleague(db_session, admin, Role.reviewer, "Rafa Reviewer")
    csrf = sign_in(client, db_session, reviewer)
    answer = take_on(client, csrf, invitation)
    assert answer.status_code == 303
    review = _review_of(db_session, reviewer)
    assert answer.headers["location"] == f"/reviews/{review.id}"
    assert (review.status, review.assigned_by, review.total) == (
        ReviewStatus.assigned,
        reviewer.id,
        None,
    )
    assert [c["id"] for c in json.loads(review.rubric)["criteria"]] == ["structure", "errors"]
    assert len(review.exercise_hash) == 64

    form = text(client.get(f"/reviews/{review.id}"))
    assert "Shared logic" in form and "Error handling" in form
    assert "The sum command re-implements the addition add() does." in form  # an anchor
    assert "Do not reward extra features." in form  # the guidance
    assert form.count('type="radio"') == 8

    saved = post_review(client, csrf, review.id or 0, action="save", **{"level.structure": "3"})
    assert saved.status_code == 303
    assert "saved=1" in saved.headers["location"]
    assert "Draft saved" in text(client.get(saved.headers["location"]))
    assert _review_of(db_session, reviewer).status == ReviewStatus.assigned
    assert 'value="3" checked' in client.get(f"/reviews/{review.id}").text

    submitted = post_review(client, csrf, review.id or 0, action="submit", **FULL)
    assert submitted.status_code == 303
    done = _review_of(db_session, reviewer)
    assert done.status == ReviewStatus.submitted and done.submitted_at is not None
    assert done.total == pytest.approx(200 / 3, abs=1e-4)  # (2 x 100 + 1 x 0) / 3
    levels = {
        s.criterion: (s.level, s.comment)
        for s in db_session.exec(select(ReviewScore).where(ReviewScore.review_id == done.id))
    }
    assert levels == {
        "structure": (4, FULL["comment.structure"]),
        "errors": (1, FULL["comment.errors"]),
    }
    read = text(client.get(f"/reviews/{review.id}"))
    assert "66.7 / 100" in read and 'type="radio"' not in read
    assert FULL["comment.errors"] in read

    actions = [
        (e.action, e.actor, e.detail)
        for e in db_session.exec(select(AuditEvent).order_by(AuditEvent.id))  # type: ignore[arg-type]
        if e.action.startswith("review.")
    ]
    assert actions == [
        ("review.assign", reviewer.email, "self-assigned"),
        ("review.submit", reviewer.email, "rubric total 66.7"),
    ]
    queue = text(client.get("/reviews"))
    assert f'href="/reviews/{review.id}"' in queue and "66.7" in queue


def test_submitting_needs_every_level_and_comment_and_is_final(
    client: TestClient, db_session: Session, admin: User
) -> None:
    csrf, review = _taken_on_by_admin(client, db_session, admin)
    half = {"level.structure": "2", "comment.structure": "Mixed into one function."}
    refused = post_review(client, csrf, review.id or 0, action="submit", **half)
    assert refused.status_code == 400
    page = text(refused)
    assert "Error handling: choose a level" in page
    assert "Error handling: say why, in a comment" in page
    assert "Mixed into one function." in page  # what was typed is kept
    assert _review_of(db_session, admin).status == ReviewStatus.assigned

    odd = post_review(client, csrf, review.id or 0, action="save", **{"level.errors": "7"})
    assert odd.status_code == 400
    assert "the level is 1, 2, 3 or 4" in text(odd)

    assert post_review(client, csrf, review.id or 0, action="submit", **FULL).status_code == 303
    again = post_review(
        client, csrf, review.id or 0, action="submit", **FULL | {"level.errors": "4"}
    )
    assert again.status_code == 400
    assert "submitted, and final" in text(again)
    assert _review_of(db_session, admin).total == pytest.approx(200 / 3, abs=1e-4)


def test_a_manager_assigns_reviews_and_a_reviewer_may_only_take_one_on(
    client: TestClient, db_session: Session, admin: User
) -> None:
    invitation = _final(db_session, admin)
    reviewer = _colleague(db_session, admin, Role.reviewer, "Rafa Reviewer")
    other = _colleague(db_session, admin, Role.reviewer, "Olu Other")
    stranger = make_user(db_session, make_org(db_session), role=Role.reviewer)
    csrf = sign_in(client, db_session, admin)
    page = text(client.get(f"/invitations/{invitation.id}"))
    assert "Rafa Reviewer (reviewer)" in page  # the assign list
    answer = take_on(client, csrf, invitation, reviewer_id=str(reviewer.id))
    assert answer.status_code == 303
    assert answer.headers["location"] == f"/invitations/{invitation.id}#reviews"
    assigned = _review_of(db_session, reviewer)
    assert assigned.assigned_by == admin.id
    twice = take_on(client, csrf, invitation, reviewer_id=str(reviewer.id))
    assert twice.status_code == 400 and "Rafa Reviewer already has a review" in text(twice)
    foreign = take_on(client, csrf, invitation, reviewer_id=str(stranger.id))
    assert foreign.status_code == 400 and "active member of your organisation" in text(foreign)
    event = db_session.exec(select(AuditEvent).where(AuditEvent.action == "review.assign")).one()
    assert (event.actor, event.detail) == (admin.email, f"to {reviewer.email}")

    csrf = sign_in(client, db_session, reviewer)
    assert "Start your review" in text(client.get(f"/invitations/{invitation.id}"))
    assert f'href="/reviews/{assigned.id}"' in client.get("/reviews").text
    assert take_on(client, csrf, invitation, reviewer_id=str(other.id)).status_code == 403
    assert take_on(client, csrf, invitation).status_code == 400  # already has one


def test_nothing_to_review_before_a_final_and_other_organisations_are_not_found(
    client: TestClient, db_session: Session, admin: User
) -> None:
    org = db_session.get(Organisation, admin.org_id)
    assert org is not None
    waiting, _ = make_invitation(db_session, make_position(db_session, org))
    csrf = sign_in(client, db_session, admin)
    early = take_on(client, csrf, waiting)
    assert early.status_code == 400 and "no final submission to review yet" in text(early)
    assert "nothing to review" in text(client.get(f"/invitations/{waiting.id}"))

    elsewhere = make_org(db_session)
    theirs = _final(db_session, make_user(db_session, elsewhere))
    assert take_on(client, csrf, theirs).status_code == 404
    their_reviewer = make_user(db_session, elsewhere, role=Role.reviewer)
    assert take_on(client, sign_in(client, db_session, their_reviewer), theirs).status_code == 303
    their_review = _review_of(db_session, their_reviewer)
    csrf = sign_in(client, db_session, admin)
    assert client.get(f"/reviews/{their_review.id}").status_code == 404
    assert post_review(client, csrf, their_review.id or 0, action="save").status_code == 404


def test_reviews_stay_independent_until_each_is_submitted(
    client: TestClient, db_session: Session, admin: User
) -> None:
    invitation = _final(db_session, admin)
    first = _colleague(db_session, admin, Role.reviewer, "Ada First")
    second = _colleague(db_session, admin, Role.reviewer, "Bo Second")
    bystander = _colleague(db_session, admin, Role.reviewer, "Cy Bystander")
    file_url = f"/invitations/{invitation.id}"

    csrf_first = sign_in(client, db_session, first)
    take_on(client, csrf_first, invitation)
    first_review = _review_of(db_session, first)
    csrf_second = sign_in(client, db_session, second)
    take_on(client, csrf_second, invitation)
    second_review = _review_of(db_session, second)
    draft = {"level.errors": "2", "comment.errors": "SECOND-DRAFT-WORDS"}
    post_review(client, csrf_second, second_review.id or 0, action="save", **draft)

    csrf_first = sign_in(client, db_session, first)
    mine = FULL | {"comment.structure": "FIRST-REVIEW-WORDS"}
    assert (
        post_review(client, csrf_first, first_review.id or 0, action="submit", **mine).status_code
        == 303
    )
    page = text(client.get(file_url))
    assert "1 submitted · 1 in progress" in page
    assert "SECOND-DRAFT-WORDS" not in page  # a draft is its author's alone
    assert client.get(f"/reviews/{second_review.id}").status_code == 404

    sign_in(client, db_session, second)  # their own review still open: nothing of the first's
    page = text(client.get(file_url))
    assert "Your own review is still open" in page
    assert "FIRST-REVIEW-WORDS" not in page and "66.7" not in page and "Ada First" not in page
    assert client.get(f"/reviews/{first_review.id}").status_code == 404

    sign_in(client, db_session, bystander)  # a reviewer without a review sees only the count
    page = text(client.get(file_url))
    assert "1 submitted" in page and "66.7" not in page
    assert client.get(f"/reviews/{first_review.id}").status_code == 404
    assert "Review this final" in page

    sign_in(client, db_session, admin)  # a manager without a review reads the submitted ones
    page = text(client.get(file_url))
    assert "Ada First" in page and "66.7" in page and "SECOND-DRAFT-WORDS" not in page
    assert "FIRST-REVIEW-WORDS" in text(client.get(f"/reviews/{first_review.id}"))
    assert client.get(f"/reviews/{second_review.id}").status_code == 404

    csrf_second = sign_in(client, db_session, second)
    theirs = FULL | {"level.structure": "2", "comment.structure": "SECOND-FINAL-WORDS"}
    post_review(client, csrf_second, second_review.id or 0, action="submit", **theirs)
    page = text(client.get(file_url))
    assert "Ada First" in page and "66.7" in page  # now the first's shows
    assert "FIRST-REVIEW-WORDS" in text(client.get(f"/reviews/{first_review.id}"))
    sign_in(client, db_session, first)
    assert "SECOND-FINAL-WORDS" in text(client.get(f"/reviews/{second_review.id}"))
    assert post_review(client, csrf_first, second_review.id or 0, action="save").status_code == 403

    timeline = page[page.index("<h2>Timeline</h2>") :]
    assert timeline.count("Took on a review") == 2 and timeline.count("Review submitted") == 2
    pipeline = text(client.get(f"/positions/{invitation.position_id}"))
    assert "2 of 2 submitted" in pipeline


def test_a_review_is_scored_against_the_rubric_it_was_assigned_with(
    client: TestClient, db_session: Session, admin: User
) -> None:
    csrf, review = _taken_on_by_admin(client, db_session, admin)
    rubric = json.loads(review.rubric)
    rubric["criteria"][0]["name"] = "Shared logic (as it was)"
    review.rubric = json.dumps(rubric)
    db_session.add(review)
    db_session.commit()
    assert "Shared logic (as it was)" in text(client.get(f"/reviews/{review.id}"))
    assert post_review(client, csrf, review.id or 0, action="submit", **FULL).status_code == 303


def test_the_queue_offers_finals_waiting_for_a_review(
    client: TestClient, db_session: Session, admin: User
) -> None:
    invitation = _final(db_session, admin, title="Queue Analyst")
    reviewer = _colleague(db_session, admin, Role.reviewer, "Rafa Reviewer")
    csrf = sign_in(client, db_session, reviewer)
    queue = text(client.get("/reviews"))
    assert "No reviews assigned to you yet." in queue
    assert "Ann Lee" in queue and "Queue Analyst" in queue
    take_on(client, csrf, invitation)
    queue = text(client.get("/reviews"))
    assert "Nothing waiting." in queue and "to do" in queue
