"""Memory peak and OOM kills of a container, read from the host's cgroup files.

The harness inside the container could report these too, but the candidate
controls that process; the host's cgroup files are out of its reach. They are
readable only when the engine runs on this host (the normal case: every worker
host has its own engine). Elsewhere the figures are None, never invented.
"""

from __future__ import annotations

from pathlib import Path

_V1_ROOT = Path("/sys/fs/cgroup/memory")
_V2_ROOT = Path("/sys/fs/cgroup")


class MemoryCgroup:
    """One container's memory cgroup (v1 or v2), if this host can see it."""

    def __init__(self, path: Path, version: int) -> None:
        self.path = path
        self.version = version

    @classmethod
    def find(cls, container_id: str) -> MemoryCgroup | None:
        for root, version in ((_V1_ROOT, 1), (_V2_ROOT, 2)):
            for rel in (f"docker/{container_id}", f"system.slice/docker-{container_id}.scope"):
                path = root / rel
                marker = "memory.max_usage_in_bytes" if version == 1 else "memory.current"
                if (path / marker).exists():
                    return cls(path, version)
        return None

    def reset_peak(self) -> None:
        name = "memory.max_usage_in_bytes" if self.version == 1 else "memory.peak"
        try:
            (self.path / name).write_text("0")
        except OSError:
            pass  # not root, or a v2 kernel before 6.12: the peak stays session-wide

    def peak_bytes(self) -> int | None:
        name = "memory.max_usage_in_bytes" if self.version == 1 else "memory.peak"
        try:
            return int((self.path / name).read_text().strip())
        except (OSError, ValueError):
            return None

    def oom_kills(self) -> int | None:
        name = "memory.oom_control" if self.version == 1 else "memory.events"
        try:
            text = (self.path / name).read_text()
        except OSError:
            return None
        for line in text.splitlines():
            key, _, value = line.partition(" ")
            if key == "oom_kill":
                return int(value)
        return None
