"""Resource limits of one sandbox session."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field


class Limits(BaseModel):
    """What one grading's container may use. Every field has a safe default."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    memory_mb: int = Field(1024, ge=32, le=65536, description="Memory, swap included.")
    cpus: float = Field(1.0, gt=0, le=64, description="CPU quota in cores.")
    pids: int = Field(128, ge=8, le=4096, description="Processes and threads at once.")
    work_mb: int = Field(512, ge=8, le=16384, description="Size of the /work tmpfs.")
    tmp_mb: int = Field(128, ge=8, le=16384, description="Size of the /tmp tmpfs.")
    fsize_mb: int = Field(256, ge=1, le=16384, description="Largest file a process may write.")
    nofile: int = Field(256, ge=32, le=65536, description="Open files per process.")
    call_timeout_s: float = Field(60.0, gt=0, le=3600, description="Default per-call timeout.")
    output_bytes: int = Field(
        1 << 20, ge=1024, le=64 << 20, description="Kept per stream and call; the rest is counted."
    )
