"""The code browser, for staff of the submission's organisation (every role).

URLs (the helpers below build them; templates have them as globals):

- `/submissions/{id}/code/`: the tree, DESIGN.md rendered above it. The
  trailing slash makes relative links resolve: `code/` + `src/a.py` is that
  file's page, for the tree's links and a DESIGN.md's links alike.
- `/submissions/{id}/code/{path}`: one file (`?view=source` for a Markdown file's
  source); lines are anchors, `#L12`.
- `/submissions/{id}/diff`: against the exercise's starter kit.
- `/submissions/{a}/diff/{b}`: from upload a to upload b of the same invitation.
- `/submissions/{id}/archive`: the original archive, as an attachment.

Every page escapes what it shows; the download is the only route that answers
a submission's bytes, and only as `application/zip` with `attachment`.
"""

from __future__ import annotations

import re
from typing import Literal
from urllib.parse import quote

from fastapi import APIRouter, Request
from fastapi.responses import Response
from markupsafe import Markup
from worksample.db import Invitation
from worksample.web.deps import CurrentUser, RowId, SessionDep, SettingsDep
from worksample.web.rendering import render, templates
from worksample.web.services import candidates, code, diffs
from worksample.web.services.identity import Identities
from worksample.web.text import header_safe

router = APIRouter()


def tree_url(submission_id: int) -> str:
    return f"/submissions/{submission_id}/code/"


def file_url(submission_id: int, path: str, line: int | None = None) -> str:
    return f"/submissions/{submission_id}/code/{quote(path)}" + (f"#L{line}" if line else "")


def starter_diff_url(submission_id: int) -> str:
    return f"/submissions/{submission_id}/diff"


def upload_diff_url(before_id: int, after_id: int) -> str:
    return f"/submissions/{before_id}/diff/{after_id}"


def archive_url(submission_id: int) -> str:
    return f"/submissions/{submission_id}/archive"


# A 5,000-file tree is some 450 KiB of HTML that only its files decide (its
# links are relative), so it is rendered once per tree, not once per request.
_trees: code.Lru[str, Markup] = code.Lru(entries=512, max_bytes=32 << 20)


def tree_html(files: code.SubmissionFiles) -> Markup:
    html = _trees.get(files.tree_sha256)
    if html is None:
        html = Markup(templates.get_template("code/_tree.html").render(files=files))
        _trees.put(files.tree_sha256, html, len(html))
    return html


# A diff's files are the larger part of its page and depend only on the two
# trees and the uploads' ids (its links): rendered once per pair.
_diff_bodies: code.Lru[tuple[str, str, int, int], Markup] = code.Lru(
    entries=512, max_bytes=32 << 20
)


def diff_body(view: diffs.DiffView) -> Markup:
    before = view.before.submission.id or 0 if view.before else 0
    key = (*view.trees, before, view.after.submission.id or 0)
    html = _diff_bodies.get(key) if view.trees != ("", "") else None
    if html is None:
        html = Markup(templates.get_template("code/_diff_body.html").render(view=view))
        if view.trees != ("", ""):
            _diff_bodies.put(key, html, len(html))
    return html


templates.env.globals.update(
    diff_body=diff_body,
    tree_html=tree_html,
    tree_url=tree_url,
    file_url=file_url,
    starter_diff_url=starter_diff_url,
    upload_diff_url=upload_diff_url,
    archive_url=archive_url,
)


@router.get("/submissions/{submission_id}/code/")
async def tree_page(
    request: Request, db: SessionDep, user: CurrentUser, settings: SettingsDep, submission_id: RowId
) -> Response:
    view = code.tree_view(
        db, user=user, submission_id=submission_id, exercises_dir=settings.exercises_dir
    )
    return render(request, "code/tree.html", {"user": user, "view": view, "scope": view.scope})


@router.get("/submissions/{submission_id}/code/{path:path}")
async def file_page(
    request: Request,
    db: SessionDep,
    user: CurrentUser,
    settings: SettingsDep,
    submission_id: RowId,
    path: str,
    view: Literal["rendered", "source"] = "rendered",
) -> Response:
    shown = code.file_view(
        db,
        user=user,
        submission_id=submission_id,
        path=path,
        exercises_dir=settings.exercises_dir,
        source=view == "source",
    )
    notes: dict[int | None, list[candidates.NoteView]] = {}
    for note in candidates.notes_on(db, submission=shown.scope.submission, path=shown.entry.path):
        notes.setdefault(note.note.line, []).append(note)
    return render(
        request,
        "code/file.html",
        {"user": user, "view": shown, "scope": shown.scope, "line_notes": notes},
    )


@router.get("/submissions/{submission_id}/diff")
async def starter_diff_page(
    request: Request, db: SessionDep, user: CurrentUser, settings: SettingsDep, submission_id: RowId
) -> Response:
    view = diffs.diff_view(
        db, user=user, submission_id=submission_id, exercises_dir=settings.exercises_dir
    )
    return render(request, "code/diff.html", {"user": user, "view": view, "scope": view.after})


@router.get("/submissions/{submission_id}/diff/{to_submission_id}")
async def upload_diff_page(
    request: Request,
    db: SessionDep,
    user: CurrentUser,
    settings: SettingsDep,
    submission_id: RowId,
    to_submission_id: RowId,
) -> Response:
    view = diffs.diff_view(
        db,
        user=user,
        submission_id=submission_id,
        to_submission_id=to_submission_id,
        exercises_dir=settings.exercises_dir,
    )
    return render(request, "code/diff.html", {"user": user, "view": view, "scope": view.after})


@router.get("/submissions/{submission_id}/archive")
def archive_download(db: SessionDep, user: CurrentUser, submission_id: RowId) -> Response:
    submission, data = code.get_archive(db, user=user, submission_id=submission_id)
    invitation = db.get(Invitation, submission.invitation_id)
    assert invitation is not None  # a submission's foreign key
    name = Identities(db, user).filename(submission, invitation)  # a blind position's pseudonym
    disposition = attachment(name, fallback=f"submission-{submission_id}.zip")
    return Response(
        data, media_type="application/zip", headers={"Content-Disposition": disposition}
    )


_NOT_TOKEN = re.compile(r"[^A-Za-z0-9._-]+")


def attachment(filename: str, *, fallback: str) -> str:
    """`Content-Disposition` for a name from outside: a plain ASCII `filename`
    and the original as RFC 5987 `filename*`, both ending in `.zip`, without
    control or bidirectional characters (which would disguise the suffix) or
    folders."""
    name = header_safe(filename).replace("/", "_").replace("\\", "_").strip(" .") or fallback
    if not name.lower().endswith(".zip"):
        name += ".zip"
    plain = _NOT_TOKEN.sub("_", name).strip("._")[-100:].lstrip("._")
    if not plain.lower().endswith(".zip") or len(plain) <= len(".zip"):
        plain = fallback
    return f"attachment; filename=\"{plain}\"; filename*=UTF-8''{quote(name, safe='')}"
