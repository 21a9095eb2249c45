"""A position's candidates side by side: the comparison page and its table as CSV.

No htmx here: the sort links are plain links to the whole page, so there is
no partial, and an htmx request gets the page too.
"""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import Response
from worksample.web.deps import CurrentUser, RowId, SessionDep
from worksample.web.rendering import render
from worksample.web.services import comparison
from worksample.web.services.identity import Identities

router = APIRouter()

# Excel reads a CSV without a byte order mark in the machine's code page,
# garbling "Tomás"; spreadsheets and Python's "utf-8-sig" skip it.
BOM = "\ufeff"


@router.get("/positions/{position_id}/compare")
def compare_page(
    request: Request,
    db: SessionDep,
    user: CurrentUser,
    position_id: RowId,
    sort: str = "total",
    order: str | None = None,
) -> Response:
    who = Identities(db, user)  # the page's, so the names are looked up once
    view = comparison.compare(
        db, user=user, who=who, position_id=position_id, sort=sort, order=order
    )
    return render(request, "positions/compare.html", {"user": user, "view": view, "who": who})


@router.get("/positions/{position_id}/compare.csv")
def compare_csv(
    db: SessionDep,
    user: CurrentUser,
    position_id: RowId,
    sort: str = "total",
    order: str | None = None,
) -> Response:
    view = comparison.compare(
        db, user=user, who=Identities(db, user), position_id=position_id, sort=sort, order=order
    )
    filename = comparison.csv_filename(view.position)  # plain ASCII, nothing to quote
    return Response(
        BOM + comparison.to_csv(view),
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="{filename}"'},
    )
