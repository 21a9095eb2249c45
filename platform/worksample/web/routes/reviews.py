"""Placeholder: filled in by the rubric reviews work."""

from __future__ import annotations

from fastapi import APIRouter

router = APIRouter()
