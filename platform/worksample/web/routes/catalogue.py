"""Hiring teams: the role guide, the exercise catalogue, and an exercise
previewed as its candidates see it. Every staff role; exercises are the
installation's, not an organisation's."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, Request
from fastapi.responses import Response
from worksample.db import utcnow
from worksample.graders import build_starter_kit
from worksample.web.deps import CurrentUser, SettingsDep
from worksample.web.rendering import render
from worksample.web.services import catalogue, role_guide

router = APIRouter()

# The manifest's rule for ids: anything else names no exercise (a 404).
ExerciseId = Annotated[str, Path(pattern=r"^[a-z][a-z0-9-]{1,62}$")]


@router.get("/role-guide")
def role_guide_page(request: Request, user: CurrentUser, settings: SettingsDep) -> Response:
    """The questions as a GET form; once some are answered, the recommended
    track(s), why, and the exercises that fit (htmx swaps that part alone)."""
    view = role_guide.guide_view(
        params=request.query_params,
        exercises_dir=settings.exercises_dir,
        data_dir=settings.data_dir,
    )
    return render(
        request,
        "catalogue/role_guide.html",
        {"user": user, "view": view, "track_names": role_guide.TRACK_NAMES},
        partial="catalogue/_recommendation.html",
    )


@router.get("/exercises")
def catalogue_page(request: Request, user: CurrentUser, settings: SettingsDep) -> Response:
    found = catalogue.list_catalogue(
        exercises_dir=settings.exercises_dir, data_dir=settings.data_dir
    )
    return render(request, "catalogue/list.html", {"user": user, "catalogue": found})


@router.get("/exercises/{exercise_id}")
def exercise_page(
    request: Request, user: CurrentUser, settings: SettingsDep, exercise_id: ExerciseId
) -> Response:
    detail = catalogue.exercise_detail(
        exercises_dir=settings.exercises_dir, data_dir=settings.data_dir, exercise_id=exercise_id
    )
    return render(request, "catalogue/detail.html", {"user": user, "detail": detail})


@router.get("/exercises/{exercise_id}/preview")
def preview_page(
    request: Request, user: CurrentUser, settings: SettingsDep, exercise_id: ExerciseId
) -> Response:
    """The candidate's own page and template, for an invitation whose clock has
    just started: the brief, an example deadline, the kit; uploads disabled."""
    preview = catalogue.candidate_preview(
        exercises_dir=settings.exercises_dir, exercise_id=exercise_id, now=utcnow()
    )
    return render(
        request,
        "candidate/home.html",
        {
            "user": user,
            "preview": True,
            "kit_url": f"/exercises/{preview.exercise.id}/kit",
            "invitation": preview.invitation,
            "position": preview.position,
            "exercise": preview.exercise,
            "brief": preview.brief,
            "items": [],
            "practice_left": preview.position.practice_runs,
            "has_final": False,
            "closed": False,
            "error": "",
            "max_upload_mb": settings.max_upload_mb,
        },
    )


@router.get("/exercises/{exercise_id}/kit")
def kit(user: CurrentUser, settings: SettingsDep, exercise_id: ExerciseId) -> Response:
    """The starter kit exactly as candidates download it (the same builder)."""
    exercise = catalogue.get_exercise(exercises_dir=settings.exercises_dir, exercise_id=exercise_id)
    return Response(
        build_starter_kit(exercise),
        media_type="application/zip",
        headers={"Content-Disposition": f'attachment; filename="{exercise.id}-starter.zip"'},
    )
