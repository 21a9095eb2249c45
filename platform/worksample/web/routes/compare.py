"""Placeholder: filled in by the compare work."""

from __future__ import annotations

from fastapi import APIRouter

router = APIRouter()
