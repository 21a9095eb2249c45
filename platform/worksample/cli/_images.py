"""`worksample images`: build and list the sandbox images."""

from __future__ import annotations

from typing import Annotated

import typer
from rich.console import Console
from worksample.sandboxes import IMAGE_NAMES, Engine, SandboxError
from worksample.settings import get_settings

app = typer.Typer(help="Build and list the sandbox images.", no_args_is_help=True)
console = Console(stderr=True, emoji=False, soft_wrap=True)


def _tracks(track: str) -> list[str]:
    if track == "all":
        return list(IMAGE_NAMES)
    if track not in IMAGE_NAMES:
        raise typer.BadParameter(
            f"expected one of {', '.join((*IMAGE_NAMES, 'all'))}, got {track!r}"
        )
    return [track]


@app.command("build")
def build(
    track: Annotated[str, typer.Option(help="ml, ai, mockllm or all.")] = "all",
    base_image: Annotated[
        str | None, typer.Option(help="Base image (default: WORKSAMPLE_BASE_IMAGE).")
    ] = None,
) -> None:
    """Build the images of TRACK; an image whose inputs are unchanged is kept."""
    settings = get_settings()
    try:
        engine = Engine.connect()
        for name in _tracks(track):
            info = engine.build_image(
                name,
                base_image=base_image or settings.base_image,
                cache_dir=settings.cache_dir,
                progress=lambda line: console.print("  " + line[:120], style="dim", markup=False),
            )
            verb = "built" if info.built else "up to date"
            console.print(f"[green]✓[/green] {name}: {info.tag} ({verb}; base {info.base})")
    except SandboxError as exc:
        console.print(f"[red]✗[/red] {exc}")
        raise typer.Exit(1) from exc


@app.command("list")
def list_images() -> None:
    """Show the current image of each track."""
    try:
        engine = Engine.connect()
    except SandboxError as exc:
        console.print(f"[red]✗[/red] {exc}")
        raise typer.Exit(1) from exc
    for name in IMAGE_NAMES:
        info = engine.find_image(name)
        if info is None:
            typer.echo(f"{name}\tmissing (run: worksample images build --track {name})")
        else:
            typer.echo(f"{name}\t{info.tag}\t{info.id}")
