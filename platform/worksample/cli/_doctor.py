"""`worksample doctor`: is this machine ready to grade?"""

from __future__ import annotations

import os
import shutil

import typer
from rich.console import Console
from worksample.sandboxes import (
    TRACKS,
    DockerBackend,
    SandboxError,
    connect_engine,
    find_image,
    run_probe,
)
from worksample.settings import get_settings

console = Console(emoji=False, soft_wrap=True)
MIN_FREE_GB = 5.0


def doctor() -> None:
    """Check the engine, runtimes, images, enforced limits and free disk."""
    settings = get_settings()
    failures = 0

    def line(ok: bool, what: str, detail: str) -> None:
        nonlocal failures
        failures += 0 if ok else 1
        mark = "[green]✓[/green]" if ok else "[red]✗[/red]"
        console.print(mark, end=" ")
        console.print(f"{what}: {detail}", markup=False)

    try:
        client = connect_engine(timeout=30)
    except SandboxError as exc:
        line(False, "engine", str(exc))
        raise typer.Exit(1) from exc
    info = client.info()
    line(
        True,
        "engine",
        f"Docker {info.get('ServerVersion')} ({info.get('OperatingSystem')}, "
        f"cgroup v{info.get('CgroupVersion', '?')}, {info.get('Driver')})",
    )
    runtimes = sorted((info.get("Runtimes") or {}).keys())
    wanted = settings.docker_runtime
    line(
        wanted is None or wanted in runtimes,
        "runtimes",
        f"{', '.join(runtimes)}; sandboxes use {wanted or 'runc (default)'}"
        + ("" if "runsc" in runtimes else "; gVisor (runsc) not installed, optional"),
    )
    removed = DockerBackend(client).remove_leftovers()
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
        image = find_image(client, track)
        if image is None:
            line(
                False,
                f"image {track}",
                f"missing or out of date (run: worksample images build --track {track})",
            )
        else:
            line(True, f"image {track}", f"{image.tag} ({image.id[:19]})")
            probe_image = probe_image or image.tag
    if probe_image:
        try:
            for check in run_probe(DockerBackend(client, runtime=wanted), probe_image):
                line(check.ok, f"sandbox {check.name}", check.detail)
        except SandboxError as exc:
            line(False, "sandbox probe", str(exc))
    for label, path in (
        ("disk (docker)", info.get("DockerRootDir") or "/var/lib/docker"),
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
