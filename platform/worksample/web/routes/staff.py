"""Hiring teams and reviewers: positions, invitations, submissions, reports."""

from __future__ import annotations

from typing import Annotated
from urllib.parse import unquote

from fastapi import APIRouter, Form, Request
from fastapi.responses import RedirectResponse, Response
from pydantic import ValidationError
from worksample.db import Role
from worksample.graders import list_exercise_dirs, load_exercise
from worksample.web.deps import (
    CsrfChecked,
    CurrentUser,
    RowId,
    SessionDep,
    SettingsDep,
    WebSessionDep,
)
from worksample.web.rendering import render
from worksample.web.routes.auth import safe_next
from worksample.web.services import (
    agreement,
    audit,
    candidates,
    decisions,
    grading,
    identity,
    invitations,
    mail,
    notices,
    positions,
    reviews,
    rubric_reviews,
    similarity,
)
from worksample.web.services.errors import Forbidden, Invalid
from worksample.web.services.identity import Identities

router = APIRouter()


def _exercises(settings: SettingsDep) -> list[tuple[str, str, str]]:
    found: list[tuple[str, str, str]] = []
    for path in list_exercise_dirs(settings.exercises_dir):
        ex = load_exercise(path)
        found.append((ex.id, ex.manifest.track, ex.manifest.title))
    return found


@router.get("/positions")
def positions_page(
    request: Request, db: SessionDep, user: CurrentUser, settings: SettingsDep
) -> Response:
    return render(
        request,
        "positions/list.html",
        {
            "user": user,
            "positions": positions.list_positions(db, user=user),
            "exercises": _exercises(settings),
            "form": {},
        },
    )


@router.post("/positions", dependencies=[CsrfChecked])
def create_position(
    request: Request,
    db: SessionDep,
    user: CurrentUser,
    settings: SettingsDep,
    title: Annotated[str, Form()],
    level: Annotated[str, Form()],
    exercise_id: Annotated[str, Form()],
    window_days: Annotated[str, Form()],
    practice_runs: Annotated[str, Form()],
    show_score: Annotated[bool, Form()] = False,
    blind: Annotated[bool, Form()] = False,
) -> Response:
    form = {
        "title": title,
        "level": level,
        "exercise_id": exercise_id,
        "window_days": window_days,
        "practice_runs": practice_runs,
        "show_score": show_score,
        "blind": blind,
    }
    try:
        data = positions.PositionCreate.model_validate(form)
        position = positions.create_position(
            db, user=user, data=data, exercises_dir=settings.exercises_dir
        )
    except (ValidationError, Invalid) as exc:
        errors = _errors(exc)
        return render(
            request,
            "positions/list.html",
            {
                "user": user,
                "positions": positions.list_positions(db, user=user),
                "exercises": _exercises(settings),
                "form": form,
                "errors": errors,
            },
            status_code=400,
        )
    return RedirectResponse(f"/positions/{position.id}", status_code=303)


@router.get("/positions/{position_id}")
def position_page(
    request: Request, db: SessionDep, user: CurrentUser, web: WebSessionDep, position_id: RowId
) -> Response:
    position = positions.get_position(db, user=user, position_id=position_id)
    return render(
        request,
        "positions/detail.html",
        {
            "user": user,
            "position": position,
            "rows": positions.pipeline(db, position=position),
            "form": {},
            "notice": notices.take(db, web),
        },
        partial="positions/_pipeline.html",
    )


@router.post("/positions/{position_id}/invitations", dependencies=[CsrfChecked])
def invite(
    request: Request,
    db: SessionDep,
    user: CurrentUser,
    settings: SettingsDep,
    web: WebSessionDep,
    position_id: RowId,
    candidate_email: Annotated[str, Form()],
    candidate_name: Annotated[str, Form()],
) -> Response:
    position = positions.get_position(db, user=user, position_id=position_id)
    form = {"candidate_email": candidate_email, "candidate_name": candidate_name}
    try:
        data = invitations.InvitationCreate.model_validate(form)
        invitations.invite(db, user=user, position=position, data=data, settings=settings, web=web)
    except (ValidationError, Invalid) as exc:
        return render(
            request,
            "positions/detail.html",
            {
                "user": user,
                "position": position,
                "form": form,
                "errors": _errors(exc),
                "rows": positions.pipeline(db, position=position),
            },
            status_code=400,
        )
    return RedirectResponse(f"/positions/{position_id}", status_code=303)


@router.get("/invitations/{invitation_id}")
async def candidate_file_page(
    request: Request, db: SessionDep, user: CurrentUser, settings: SettingsDep, invitation_id: RowId
) -> Response:
    return _candidate_file(request, db, user, settings, invitation_id)


def _candidate_file(
    request: Request,
    db: SessionDep,
    user: CurrentUser,
    settings: SettingsDep,
    invitation_id: int,
    *,
    errors: list[str] | None = None,
    form: dict[str, str] | None = None,
    decision_errors: list[str] | None = None,
    decision_form: dict[str, str] | None = None,
) -> Response:
    view = candidates.candidate_file(
        db, user=user, invitation_id=invitation_id, exercises_dir=settings.exercises_dir
    )
    panel = rubric_reviews.panel(db, user=user, invitation=view.invitation)
    return render(
        request,
        "candidates/file.html",
        {
            "user": user,
            "view": view,
            "errors": errors or [],
            "form": form or {},
            "decision_errors": decision_errors or [],
            "decision_form": decision_form or {},
            "reviews": panel,
            "similarity": similarity.for_invitation(db, user=user, invitation=view.invitation),
            "spread": agreement.spread(db, user=user, submission=panel.submission)
            if panel.submission
            else None,
            "messages": decisions.messages_for(
                db, view.invitation, view.position, name=Identities(db, user).name(view.invitation)
            )
            if user.role in positions.MANAGERS
            else {},
        },
        status_code=400 if errors or decision_errors else 200,
    )


# Before the invitation actions below, whose `{action}` would take "notes".
@router.post("/invitations/{invitation_id}/notes", dependencies=[CsrfChecked])
def add_note(
    request: Request,
    db: SessionDep,
    user: CurrentUser,
    settings: SettingsDep,
    invitation_id: RowId,
    body: Annotated[str, Form()],
    submission_id: Annotated[str, Form()] = "",
    path: Annotated[str, Form()] = "",
    line: Annotated[str, Form()] = "",
    test_id: Annotated[str, Form()] = "",
    back: Annotated[str, Form()] = "",
) -> Response:
    """A note from the candidate's file, a code page (a file and line) or the
    report (a test); back where it was written, or to the candidate's file."""
    invitation = invitations.get_invitation(db, user=user, invitation_id=invitation_id)
    # A file's path comes percent-encoded (file names may hold anything).
    form = {"body": body, "submission_id": submission_id, "path": unquote(path), "line": line}
    form |= {"test_id": test_id}
    try:
        data = candidates.NoteCreate.model_validate(
            {key: value or None for key, value in form.items() if key != "body"} | {"body": body}
        )
        candidates.add_note(db, user=user, invitation=invitation, data=data)
    except (ValidationError, Invalid) as exc:
        return _candidate_file(
            request, db, user, settings, invitation_id, errors=_errors(exc), form=form
        )
    target = safe_next(back, default=f"/invitations/{invitation_id}")
    if data.line and "#" not in target:
        target += f"#L{data.line}"  # back to the line the note is on
    return RedirectResponse(target, status_code=303)


@router.post("/invitations/{invitation_id}/reveal", dependencies=[CsrfChecked])
def reveal(request: Request, db: SessionDep, user: CurrentUser, invitation_id: RowId) -> Response:
    """A blind position's candidate, shown to this admin or hiring manager (audited)."""
    invitation = invitations.get_invitation(db, user=user, invitation_id=invitation_id)
    identity.reveal(db, user=user, invitation=invitation)
    return RedirectResponse(f"/invitations/{invitation_id}", status_code=303)


@router.post("/invitations/{invitation_id}/decision", dependencies=[CsrfChecked])
def decide(
    request: Request,
    db: SessionDep,
    user: CurrentUser,
    settings: SettingsDep,
    invitation_id: RowId,
    outcome: Annotated[str, Form()] = "",
    reason: Annotated[str, Form()] = "",
    tell_candidate: Annotated[str, Form()] = "",
    message: Annotated[str, Form()] = "",
) -> Response:
    """Advance, hold or reject (admins and hiring managers); back to the file."""
    invitation = invitations.get_invitation(db, user=user, invitation_id=invitation_id)
    positions.require_manager(user)
    position = positions.get_position(db, user=user, position_id=invitation.position_id)
    form = {"outcome": outcome, "reason": reason, "tell_candidate": tell_candidate}
    form |= {"message": message}
    try:
        data = decisions.DecisionCreate.model_validate(
            {"outcome": outcome, "reason": reason, "message": message}
            | {"tell_candidate": tell_candidate == "on"}
        )
    except ValidationError as exc:
        return _candidate_file(
            request, db, user, settings, invitation_id,
            decision_errors=_errors(exc), decision_form=form,
        )  # fmt: skip
    decisions.record_decision(
        db, user=user, invitation=invitation, position=position, data=data, settings=settings
    )
    return RedirectResponse(f"/invitations/{invitation_id}#decision", status_code=303)


@router.post("/invitations/{invitation_id}/{action}", dependencies=[CsrfChecked])
def invitation_action(
    request: Request,
    db: SessionDep,
    user: CurrentUser,
    settings: SettingsDep,
    web: WebSessionDep,
    invitation_id: RowId,
    action: str,
    days: Annotated[int, Form()] = 7,
) -> Response:
    invitation = invitations.get_invitation(db, user=user, invitation_id=invitation_id)
    if action == "resend":
        invitations.resend(db, user=user, invitation=invitation, settings=settings, web=web)
    elif action == "revoke":
        invitations.revoke(db, user=user, invitation=invitation)
    elif action == "extend":
        invitations.extend(db, user=user, invitation=invitation, days=days)
    else:
        raise Invalid(f"unknown action {action!r}")
    position = positions.get_position(db, user=user, position_id=invitation.position_id)
    if request.headers.get("hx-request") == "true":
        return render(
            request,
            "positions/_pipeline.html",
            {
                "user": user,
                "position": position,
                "rows": positions.pipeline(db, position=position),
                "notice": notices.take(db, web),
            },
        )
    return RedirectResponse(f"/positions/{position.id}", status_code=303)


@router.get("/positions/{position_id}/submissions")
def submissions_page(
    request: Request, db: SessionDep, user: CurrentUser, position_id: RowId
) -> Response:
    position = positions.get_position(db, user=user, position_id=position_id)
    return render(
        request,
        "reviews/submissions.html",
        {
            "user": user,
            "position": position,
            "rows": reviews.submissions_for_position(db, position=position),
        },
    )


# `async def` though it queries synchronously: two indexed queries, and the
# parsed report is kept in memory; a thread hop would cost more.
@router.get("/runs/{run_id}")
async def report_page(
    request: Request, db: SessionDep, user: CurrentUser, run_id: RowId
) -> Response:
    view = reviews.report_for_staff(db, user=user, run_id=run_id)
    notes: dict[str | None, list[candidates.NoteView]] = {}
    for note in candidates.notes_on(db, submission=view.submission):
        notes.setdefault(note.note.test_id, []).append(note)
    return render(request, "reviews/report.html", {"user": user, "view": view, "notes": notes})


@router.get("/runs/{run_id}/debrief")
async def debrief_page(
    request: Request, db: SessionDep, user: CurrentUser, run_id: RowId
) -> Response:
    """For the follow-up interview: per category below full marks, the exercise's
    prompts and what the failed tests check; printable."""
    view = reviews.report_for_staff(db, user=user, run_id=run_id)
    if view.report is None or view.report.status != "graded":
        raise Invalid("this submission has no graded report yet")
    return render(request, "reviews/debrief.html", {"user": user, "view": view})


@router.post("/runs/{run_id}/retry", dependencies=[CsrfChecked])
def retry(request: Request, db: SessionDep, user: CurrentUser, run_id: RowId) -> Response:
    run = grading.retry_run(db, user=user, run_id=run_id)
    request.app.state.queue.enqueue(run.id)
    return RedirectResponse(f"/runs/{run_id}", status_code=303)


@router.get("/outbox")
def outbox_page(request: Request, db: SessionDep, user: CurrentUser) -> Response:
    _admin(user)
    return render(
        request,
        "admin/outbox.html",
        {"user": user, "mails": mail.list_outbox(db, org_id=user.org_id)},
    )


@router.get("/audit")
def audit_page(request: Request, db: SessionDep, user: CurrentUser) -> Response:
    _admin(user)
    return render(
        request,
        "admin/audit.html",
        {"user": user, "events": audit.list_events(db, org_id=user.org_id)},
    )


def _admin(user: CurrentUser) -> None:
    if user.role != Role.admin:
        raise Forbidden("only admins may see this page")


def _errors(exc: Exception) -> list[str]:
    if isinstance(exc, ValidationError):
        return [
            f"{'.'.join(str(p) for p in e['loc'])}: {e['msg'].removeprefix('Value error, ')}"
            for e in exc.errors()
        ]
    return [str(exc)]
