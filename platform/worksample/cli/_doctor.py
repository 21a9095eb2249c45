"""`worksample doctor`: is this machine ready to grade?"""

from __future__ import annotations

import os
import shutil

import typer
from rich.console import Console
from worksample.sandboxes import (
    TRACKS,
    DockerBackend,
    Engine,
    SandboxError,
    probe_network,
    run_probe,
)
from worksample.settings import get_settings

console = Console(emoji=False, soft_wrap=True)
MIN_FREE_GB = 5.0


def doctor() -> None:
    """Check the engine, the gradings' runtime, images, enforced limits and free disk."""
    settings = get_settings()
    failures = 0

    def line(ok: bool, what: str, detail: str) -> None:
        nonlocal failures
        failures += 0 if ok else 1
        mark = "[green]✓[/green]" if ok else "[red]✗[/red]"
        console.print(mark, end=" ")
        console.print(f"{what}: {detail}", markup=False)

    try:
        engine = Engine.connect(timeout=30)
    except SandboxError as exc:
        line(False, "engine", str(exc))
        raise typer.Exit(1) from exc
    info = engine.info()
    line(
        True,
        "engine",
        f"Docker {info.server_version} ({info.operating_system}, "
        f"cgroup v{info.cgroup_version}, {info.storage_driver})",
    )
    gvisor = [r.name for r in info.runtime_configs if r.gvisor]
    line(
        True,
        "runtimes",
        f"{', '.join(info.runtimes)} (default {info.default_runtime})"
        + ("" if gvisor else "; gVisor (runsc) not registered, optional"),
    )
    wanted = settings.docker_runtime
    backend: DockerBackend | None
    try:
        backend = engine.backend(wanted)
        line(
            True,
            "gradings' runtime",
            f"{wanted} (WORKSAMPLE_DOCKER_RUNTIME), registered"
            if wanted
            else f"the engine's default, {info.default_runtime} (WORKSAMPLE_DOCKER_RUNTIME unset)",
        )
    except SandboxError as exc:
        backend = None
        line(False, "gradings' runtime", f"{exc}; every grading would be an error")
    removed = engine.remove_leftovers()
    if removed:
        line(True, "leftovers", f"removed {removed} container(s)/network(s) of dead workers")
    iptables = shutil.which("iptables")
    line(
        iptables is not None and os.geteuid() == 0,
        "AI-track network isolation",
        "iptables as root: each grading's network is kept from the host's services"
        if iptables and os.geteuid() == 0
        else "needs iptables and root to keep AI-track networks from reaching this host",
    )
    probe_image = None
    for track in TRACKS:
        image = engine.find_image(track)
        if image is None:
            line(
                False,
                f"image {track}",
                f"missing or out of date (run: worksample images build --track {track})",
            )
        else:
            line(True, f"image {track}", f"{image.tag} ({image.id[:19]})")
            probe_image = probe_image or image.tag
    if probe_image and backend is not None:
        try:
            for check in run_probe(backend, probe_image, runtime=wanted):
                line(check.ok, f"sandbox {check.name}", check.detail)
            check = probe_network(backend, probe_image)
            line(
                check.ok, f"AI-track gradings under {wanted or info.default_runtime}", check.detail
            )
        except SandboxError as exc:
            line(False, "sandbox probe", str(exc))
    for label, path in (
        ("disk (docker)", info.docker_root_dir),
        ("disk (cache)", str(settings.cache_dir)),
    ):
        try:
            free = shutil.disk_usage(_existing(path)).free / 1e9
            line(free >= MIN_FREE_GB, label, f"{free:.1f} GB free at {path}")
        except OSError as exc:
            line(False, label, str(exc))
    if failures:
        console.print(f"[red]{failures} problem(s)[/red]")
        raise typer.Exit(1)
    console.print("[green]ready to grade[/green]")


def _existing(path: str) -> str:
    from pathlib import Path

    p = Path(path)
    while not p.exists() and p != p.parent:
        p = p.parent
    return str(p)
