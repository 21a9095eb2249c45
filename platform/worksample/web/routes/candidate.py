"""Candidates: the invitation link, the brief, the kit, uploads, live status."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, File, Form, HTTPException, Request, UploadFile
from fastapi.responses import RedirectResponse, Response
from starlette.concurrency import run_in_threadpool
from worksample.db import Invitation, Position, SubmissionKind, WebSession, utcnow
from worksample.graders import Report, build_starter_kit, find_exercise
from worksample.web.deps import (
    CsrfChecked,
    CurrentCandidate,
    RowId,
    SessionDep,
    SettingsDep,
    VisitorDep,
    WebSessionDep,
)
from worksample.web.rendering import render
from worksample.web.routes._cookies import set_session_cookie
from worksample.web.services import auth, invitations, submissions
from worksample.web.services.errors import Invalid
from worksample.web.services.grading import load_report

router = APIRouter()


INVALID_LINK = "This link is not valid (it may have been revoked or replaced)."


@router.get("/i/{token}")
def redeem(
    request: Request, db: SessionDep, settings: SettingsDep, visitor: VisitorDep, token: str
) -> Response:
    """Open an invitation link. A browser already signed in (staff, or another
    candidate) is asked first: a page elsewhere can send any browser here, and
    must not silently swap an admin's session for an attacker's candidate, or
    lead a candidate to upload into someone else's invitation."""
    invitation = invitations.redeem(db, token=token)
    if invitation is None:
        raise HTTPException(404, INVALID_LINK)
    if visitor is None:
        return _enter(request, db, settings, invitation, replaces=None)
    if visitor.session.invitation_id == invitation.id:
        return RedirectResponse("/c", status_code=303)  # already in: nothing to swap
    position = db.get(Position, invitation.position_id)
    return render(
        request,
        "candidate/switch.html",
        {
            "user": visitor.user,
            "invitation": visitor.invitation,
            "current_position": visitor.position,
            "opening": invitation,
            "opening_position": position,
            "token": token,
        },
    )


@router.post("/i/{token}", dependencies=[CsrfChecked])
def redeem_confirmed(
    request: Request, db: SessionDep, settings: SettingsDep, web: WebSessionDep, token: str
) -> Response:
    """The confirmation: a same-site form carrying the current session's CSRF
    token (a cross-site POST has neither). The session it replaces is revoked."""
    invitation = invitations.redeem(db, token=token)
    if invitation is None:
        raise HTTPException(404, INVALID_LINK)
    return _enter(request, db, settings, invitation, replaces=web)


def _enter(
    request: Request,
    db: SessionDep,
    settings: SettingsDep,
    invitation: Invitation,
    *,
    replaces: WebSession | None,
) -> Response:
    invitations.mark_opened(db, invitation)
    established = auth.start_session(db, invitation=invitation, replaces=replaces)
    # Redirect to a URL without the token, so it stays out of history and logs.
    response = RedirectResponse("/c", status_code=303)
    set_session_cookie(
        response, request, settings, established.token, int(auth.CANDIDATE_SESSION.total_seconds())
    )
    return response


def _position(db: SessionDep, invitation: CurrentCandidate) -> Position:
    position = db.get(Position, invitation.position_id)
    assert position is not None
    return position


@router.get("/c")
def home(
    request: Request, db: SessionDep, settings: SettingsDep, invitation: CurrentCandidate
) -> Response:
    return _home(request, db, settings, invitation)


def _home(
    request: Request,
    db: SessionDep,
    settings: SettingsDep,
    invitation: CurrentCandidate,
    error: str = "",
    status_code: int = 200,
) -> Response:
    position = _position(db, invitation)
    exercise = find_exercise(settings.exercises_dir, position.exercise_id)
    return render(
        request,
        "candidate/home.html",
        {
            "invitation": invitation,
            "position": position,
            "exercise": exercise,
            "brief": (exercise.root / "brief.md").read_text(encoding="utf-8"),
            "items": submissions.list_for_invitation(db, invitation=invitation),
            "practice_left": submissions.practice_left(invitation, position),
            "has_final": submissions.has_final(db, invitation=invitation),
            "closed": utcnow() > invitation.deadline_at,
            "error": error,
            "max_upload_mb": settings.max_upload_mb,
        },
        status_code=status_code,
    )


@router.post("/c/start", dependencies=[CsrfChecked])
def start(db: SessionDep, invitation: CurrentCandidate) -> Response:
    submissions.start_clock(db, invitation=invitation)
    return RedirectResponse("/c", status_code=303)


@router.get("/c/kit")
def kit(db: SessionDep, settings: SettingsDep, invitation: CurrentCandidate) -> Response:
    if invitation.started_at is None:
        raise HTTPException(409, "Start the clock first.")
    position = _position(db, invitation)
    exercise = find_exercise(settings.exercises_dir, position.exercise_id)
    return Response(
        build_starter_kit(exercise),
        media_type="application/zip",
        headers={"Content-Disposition": f'attachment; filename="{exercise.id}-starter.zip"'},
    )


@router.post("/c/upload", dependencies=[CsrfChecked])
async def upload(
    request: Request,
    db: SessionDep,
    settings: SettingsDep,
    invitation: CurrentCandidate,
    archive: Annotated[UploadFile, File()],
    kind: Annotated[SubmissionKind, Form()],
    confirm: Annotated[bool, Form()] = False,
) -> Response:
    max_bytes = settings.max_upload_mb << 20
    data = await archive.read(max_bytes + 1)
    position = _position(db, invitation)
    required = submissions.required_paths(settings.exercises_dir, position.exercise_id)
    try:
        # Reading the zip and storing it is blocking work: off the event loop,
        # so one large upload does not stall every other request.
        run = await run_in_threadpool(
            submissions.accept_upload,
            db,
            invitation=invitation,
            position=position,
            filename=archive.filename or "",
            data=data,
            kind=kind,
            confirmed=confirm,
            max_bytes=max_bytes,
            required=required,
        )
    except Invalid as exc:
        return _home(request, db, settings, invitation, error=str(exc), status_code=400)
    request.app.state.queue.enqueue(run.id)
    return RedirectResponse(f"/c/runs/{run.id}", status_code=303)


# `async def` though it queries synchronously: htmx polls this page while a run
# is under way, and a thread hop would cost more than its two indexed queries.
@router.get("/c/runs/{run_id}")
async def run_page(
    request: Request, db: SessionDep, invitation: CurrentCandidate, run_id: RowId
) -> Response:
    own = submissions.get_own_run(db, invitation=invitation, run_id=run_id)
    run, submission = own.run, own.submission
    position = _position(db, invitation)
    report = load_report(db, run, digest=own.report_digest)
    return render(
        request,
        "candidate/run.html",
        {
            "invitation": invitation,
            "position": position,
            "run": run,
            "submission": submission,
            "public_tests": _public_tests(report),
            "score": report.score if (report and position.show_score) else None,
        },
        partial="candidate/_status.html",
    )


def _public_tests(report: Report | None) -> list[dict[str, str]]:
    """Only tests the exercise marks public; hidden names and messages never leave."""
    if report is None:
        return []
    return [
        {
            "name": t.name,
            "outcome": t.outcome,
            "message": t.message.splitlines()[0] if t.message else "",
        }
        for t in report.tests
        if t.public
    ]
