"""Rubric reviews: the reviewer's queue, the review form, assigning a review.

`POST /invitations/{id}/reviews` is registered before the staff router's
`/invitations/{id}/{action}` (app.py), which would otherwise take it.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Form, Request
from fastapi.responses import RedirectResponse, Response
from worksample.db import Invitation
from worksample.web.deps import CsrfChecked, CurrentUser, RowId, SessionDep, SettingsDep
from worksample.web.rendering import render
from worksample.web.services import invitations, rubric_reviews
from worksample.web.services.errors import Invalid, NotFound

router = APIRouter()


@router.get("/reviews")
def queue_page(request: Request, db: SessionDep, user: CurrentUser) -> Response:
    return render(
        request,
        "reviews/queue.html",
        {
            "user": user,
            "rows": rubric_reviews.queue(db, user=user),
            "waiting": rubric_reviews.waiting(db, user=user),
        },
    )


@router.post("/invitations/{invitation_id}/reviews", dependencies=[CsrfChecked])
def assign(
    request: Request,
    db: SessionDep,
    user: CurrentUser,
    settings: SettingsDep,
    invitation_id: RowId,
    reviewer_id: Annotated[str, Form()] = "",
) -> Response:
    """Take the final on (no reviewer given) or, for a manager, give it to a colleague."""
    invitation = invitations.get_invitation(db, user=user, invitation_id=invitation_id)
    chosen: int | None = None
    if reviewer_id.strip():
        if not reviewer_id.strip().isdigit():
            raise Invalid("choose a reviewer from the list")
        chosen = int(reviewer_id)
    review = rubric_reviews.assign(
        db,
        user=user,
        invitation=invitation,
        exercises_dir=settings.exercises_dir,
        reviewer_id=chosen,
    )
    if review.reviewer_id == user.id:
        return RedirectResponse(f"/reviews/{review.id}", status_code=303)
    return RedirectResponse(f"/invitations/{invitation_id}#reviews", status_code=303)


def _page(
    request: Request,
    db: SessionDep,
    user: CurrentUser,
    view: rubric_reviews.ReviewView,
    *,
    errors: list[str] | None = None,
    draft: rubric_reviews.Draft | None = None,
) -> Response:
    invitation = db.get(Invitation, view.review.invitation_id)
    if invitation is None:
        raise NotFound
    return render(
        request,
        "reviews/review.html",
        {
            "user": user,
            "view": view,
            "inv": invitation,
            "run": rubric_reviews.latest_run(db, view.review.submission_id),
            "editable": view.review.reviewer_id == user.id and not view.submitted,
            "errors": errors or [],
            "draft": draft,
        },
        status_code=400 if errors else 200,
    )


@router.get("/reviews/{review_id}")
def review_page(request: Request, db: SessionDep, user: CurrentUser, review_id: RowId) -> Response:
    view = rubric_reviews.get_review(db, user=user, review_id=review_id)
    return _page(request, db, user, view)


@router.post("/reviews/{review_id}", dependencies=[CsrfChecked])
async def review_save(
    request: Request, db: SessionDep, user: CurrentUser, review_id: RowId
) -> Response:
    """Keep the draft ("save") or submit it ("submit"); back to the review."""
    form = await request.form()
    levels = {
        key.removeprefix("level."): str(value)
        for key, value in form.items()
        if key.startswith("level.")
    }
    comments = {
        key.removeprefix("comment."): str(value)
        for key, value in form.items()
        if key.startswith("comment.")
    }
    draft = rubric_reviews.Draft(levels, comments, str(form.get("summary", "")))
    submit = form.get("action") == "submit"
    try:
        view = rubric_reviews.save(db, user=user, review_id=review_id, draft=draft, submit=submit)
    except Invalid as exc:
        db.rollback()
        view = rubric_reviews.get_review(db, user=user, review_id=review_id)
        return _page(request, db, user, view, errors=str(exc).split("; "), draft=draft)
    anchor = "" if submit else "?saved=1"
    return RedirectResponse(f"/reviews/{view.review.id}{anchor}", status_code=303)
