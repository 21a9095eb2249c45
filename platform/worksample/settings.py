"""Settings of every worksample process: one class, environment prefix WORKSAMPLE_."""

from __future__ import annotations

import os
from functools import lru_cache
from pathlib import Path

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict


def _default_cache_dir() -> Path:
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "worksample"


class Settings(BaseSettings):
    """Read from the environment (`WORKSAMPLE_<NAME>`); every field is documented in README."""

    model_config = SettingsConfigDict(env_prefix="WORKSAMPLE_", extra="ignore")

    cache_dir: Path = Field(
        default_factory=_default_cache_dir,
        description="Wheelhouses and the scratch space of image builds.",
    )
    base_image: str = Field(
        "python:3.11-slim-bookworm",
        description="Base of the sandbox images; made locally (Debian) when it cannot be pulled.",
    )
    docker_runtime: str | None = Field(
        None, description="OCI runtime for sandboxes, e.g. `runsc` for gVisor; default runc."
    )
    exercises_dir: Path = Field(
        Path(__file__).resolve().parents[2] / "exercises",
        description="Folder holding one sub-folder per exercise.",
    )


@lru_cache
def get_settings() -> Settings:
    return Settings()
