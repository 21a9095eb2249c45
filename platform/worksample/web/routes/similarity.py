"""Similarity evidence, for staff of the pair's organisation (every role).

- `/similarity/{id}`: two finals that share code, the matched fragments side by
  side, how much of each is found in the other, and what that means.
- `POST /similarity/{id}/dismiss`: read and not a concern, with a reason.

The candidate's file lists a candidate's pairs (`candidates/_similarity.html`).
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Form, Request
from fastapi.responses import RedirectResponse, Response
from worksample.web.deps import CsrfChecked, CurrentUser, RowId, SessionDep, SettingsDep
from worksample.web.rendering import render, templates
from worksample.web.services import similarity
from worksample.web.services.errors import Invalid

router = APIRouter()


def pair_url(pair_id: int) -> str:
    return f"/similarity/{pair_id}"


templates.env.globals.update(similarity_url=pair_url)


@router.get("/similarity/{pair_id}")
def pair_page(
    request: Request, db: SessionDep, user: CurrentUser, settings: SettingsDep, pair_id: RowId
) -> Response:
    return _pair_page(request, db, user, settings, pair_id)


@router.post("/similarity/{pair_id}/dismiss", dependencies=[CsrfChecked])
def dismiss(
    request: Request,
    db: SessionDep,
    user: CurrentUser,
    settings: SettingsDep,
    pair_id: RowId,
    reason: Annotated[str, Form()] = "",
) -> Response:
    try:
        similarity.dismiss(db, user=user, pair_id=pair_id, reason=reason)
    except Invalid as exc:
        return _pair_page(request, db, user, settings, pair_id, errors=[str(exc)], reason=reason)
    return RedirectResponse(f"{pair_url(pair_id)}#dismissal", status_code=303)


def _pair_page(
    request: Request,
    db: SessionDep,
    user: CurrentUser,
    settings: SettingsDep,
    pair_id: int,
    *,
    errors: list[str] | None = None,
    reason: str = "",
) -> Response:
    view = similarity.get_pair(db, user=user, pair_id=pair_id, exercises_dir=settings.exercises_dir)
    return render(
        request,
        "similarity/pair.html",
        {"user": user, "view": view, "errors": errors or [], "reason": reason},
        status_code=400 if errors else 200,
    )
