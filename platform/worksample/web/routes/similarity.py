"""Placeholder: filled in by the similarity work."""

from __future__ import annotations

from fastapi import APIRouter

router = APIRouter()
