"""How well a position's reviewers agree: one page, no partial (its figures are
of the whole position, so an htmx request gets the page too)."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import Response
from worksample.web.deps import CurrentUser, RowId, SessionDep
from worksample.web.rendering import render
from worksample.web.services import agreement, positions
from worksample.web.services.identity import Identities

router = APIRouter()


@router.get("/positions/{position_id}/agreement")
def agreement_page(
    request: Request, db: SessionDep, user: CurrentUser, position_id: RowId
) -> Response:
    position = positions.get_position(db, user=user, position_id=position_id)
    who = Identities(db, user)  # the page's, so the names are looked up once
    view = agreement.position_agreement(db, user=user, position=position, who=who)
    return render(request, "positions/agreement.html", {"user": user, "view": view, "who": who})
