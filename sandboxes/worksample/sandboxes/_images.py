"""Sandbox images: content-hashed, built without a registry when there is none.

An image's tag is a hash of everything that goes into it (Dockerfile,
pinned requirements, harness, and the id of the base image actually used),
so an unchanged image is never rebuilt and a report can name the exact
image it was graded with.
"""

from __future__ import annotations

import hashlib
import os
import re
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from importlib.resources import as_file, files
from importlib.resources.abc import Traversable
from pathlib import Path

import docker
import docker.errors
from worksample.sandboxes._errors import SandboxError

IMAGES_DIR = Path(__file__).with_name("images")
HARNESS_FILE = Path(__file__).with_name("harness") / "ws_harness.py"
TRACKS = ("ml", "ai")
MOCKLLM = "mockllm"
IMAGE_NAMES = (*TRACKS, MOCKLLM)


def _python_files(folder: Traversable, prefix: str) -> Iterator[tuple[str, Traversable]]:
    """(``prefix`` + relative path, file) of every ``.py`` file under `folder`."""
    for entry in sorted(folder.iterdir(), key=lambda e: e.name):
        if entry.is_dir():
            yield from _python_files(entry, f"{prefix}{entry.name}/")
        elif entry.is_file() and entry.name.endswith(".py"):
            yield f"{prefix}{entry.name}", entry


def _context_files(name: str) -> dict[str, Traversable]:
    """Build-context path -> source file, for the image called `name`."""
    if name == MOCKLLM:
        # The mock ships its own build files as package data, wherever it is installed.
        package = files("worksample.mockllm")
        return {
            "Dockerfile": package / "image" / "Dockerfile",
            "requirements.txt": package / "image" / "requirements.txt",
            **dict(_python_files(package, "pkg/worksample/mockllm/")),
        }
    return {
        "Dockerfile": IMAGES_DIR / "Dockerfile",
        "requirements.txt": IMAGES_DIR / name / "requirements.txt",
        "ws_harness.py": HARNESS_FILE,
    }


DEFAULT_BASE = "python:3.11-slim-bookworm"
LOCAL_BASE = "worksample/base:bookworm-py311"
REPOSITORY = "worksample/sandbox-{track}"
LABEL_TRACK = "org.worksample.track"
LABEL_INPUTS = "org.worksample.inputs"
LABEL_BASE = "org.worksample.base"

Progress = Callable[[str], None]


@dataclass(frozen=True)
class ImageInfo:
    track: str
    tag: str
    id: str
    base: str
    built: bool


def inputs_hash(track: str) -> str:
    """Hash of the files an image is made of (not yet its base)."""
    if track not in IMAGE_NAMES:
        raise SandboxError(f"unknown image {track!r}: expected one of {', '.join(IMAGE_NAMES)}")
    digest = hashlib.sha256()
    for rel, path in sorted(_context_files(track).items()):
        digest.update(rel.encode() + b"\0" + path.read_bytes() + b"\0")
    return digest.hexdigest()


def find_image(client: docker.DockerClient, track: str) -> ImageInfo | None:
    """The newest built image of `track` whose inputs match the files here."""
    wanted = inputs_hash(track)
    images = client.images.list(
        filters={"label": [f"{LABEL_TRACK}={track}", f"{LABEL_INPUTS}={wanted}"]}
    )
    if not images:
        return None
    image = max(images, key=lambda i: str(i.attrs.get("Created", "")))
    tags = [t for t in image.tags if t.startswith(REPOSITORY.format(track=track) + ":")]
    return ImageInfo(
        track=track,
        tag=tags[0] if tags else str(image.id),
        id=str(image.id),
        base=(image.labels or {}).get(LABEL_BASE, "?"),
        built=False,
    )


def build_image(
    client: docker.DockerClient,
    track: str,
    *,
    base_image: str = DEFAULT_BASE,
    cache_dir: Path,
    progress: Progress = lambda _: None,
) -> ImageInfo:
    """Build the image of `track` unless one made of the same files exists.

    An existing image is kept whatever base it was made on: a later change of
    the upstream base does not silently change what candidates are graded in.
    """
    files_hash = inputs_hash(track)
    existing_image = find_image(client, track)
    if existing_image is not None:
        return existing_image
    base_ref, base_id = ensure_base(client, base_image, cache_dir=cache_dir, progress=progress)
    tag_hash = hashlib.sha256(f"{files_hash}\0{base_id}".encode()).hexdigest()[:16]
    tag = f"{REPOSITORY.format(track=track)}:{tag_hash}"
    try:
        existing = client.images.get(tag)
        return ImageInfo(track=track, tag=tag, id=str(existing.id), base=base_ref, built=False)
    except docker.errors.ImageNotFound:
        pass
    with as_file(_context_files(track)["requirements.txt"]) as requirements:
        wheelhouse = download_wheels(requirements, cache_dir / "wheelhouse" / track, progress)
    with tempfile.TemporaryDirectory(prefix=f"ws-image-{track}-") as tmp:
        context = Path(tmp)
        for rel, source in _context_files(track).items():
            (context / rel).parent.mkdir(parents=True, exist_ok=True)
            (context / rel).write_bytes(source.read_bytes())
        shutil.copytree(wheelhouse, context / "wheelhouse")
        progress(f"building {tag} from {base_ref}")
        log: list[str] = []
        for chunk in client.api.build(
            path=str(context),
            tag=tag,
            buildargs={"BASE_IMAGE": base_ref},
            labels={LABEL_TRACK: track, LABEL_INPUTS: files_hash, LABEL_BASE: base_ref},
            rm=True,
            forcerm=True,
            decode=True,
        ):
            if "error" in chunk:
                tail = "".join(log[-20:])
                raise SandboxError(f"building the {track} image failed: {chunk['error']}\n{tail}")
            if "stream" in chunk:
                log.append(chunk["stream"])
                line = chunk["stream"].strip()
                if line.startswith("Step "):
                    progress(line)
    image = client.images.get(tag)
    return ImageInfo(track=track, tag=tag, id=str(image.id), base=base_ref, built=True)


def ensure_base(
    client: docker.DockerClient,
    base_image: str,
    *,
    cache_dir: Path,
    progress: Progress = lambda _: None,
) -> tuple[str, str]:
    """(reference, image id) of the base: the configured one, else a local Debian."""
    for ref in (base_image,):
        try:
            return ref, str(client.images.get(ref).id)
        except docker.errors.ImageNotFound:
            pass
    repository, _, tag = base_image.rpartition(":") if ":" in base_image else (base_image, "", "")
    try:
        progress(f"pulling {base_image}")
        image = client.images.pull(repository or base_image, tag=tag or None)
        return base_image, str(image.id)
    except docker.errors.APIError as exc:
        progress(f"cannot pull {base_image} ({_short(exc)}); using a locally made Debian base")
    try:
        return LOCAL_BASE, str(client.images.get(LOCAL_BASE).id)
    except docker.errors.ImageNotFound:
        pass
    make_local_base(client, cache_dir=cache_dir, progress=progress)
    return LOCAL_BASE, str(client.images.get(LOCAL_BASE).id)


def make_local_base(
    client: docker.DockerClient, *, cache_dir: Path, progress: Progress = lambda _: None
) -> None:
    """Debian 12 with Python 3.11, made by debootstrap and imported as an image."""
    if shutil.which("debootstrap") is None:
        raise SandboxError(
            "no base image can be pulled and debootstrap is missing: "
            "install it (apt-get install debootstrap) or make a registry reachable"
        )
    if os.geteuid() != 0:
        raise SandboxError("making a local base image with debootstrap needs root")
    mirror = debian_mirror()
    rootfs = cache_dir / "base-rootfs"
    shutil.rmtree(rootfs, ignore_errors=True)
    rootfs.parent.mkdir(parents=True, exist_ok=True)
    progress(f"debootstrap bookworm from {mirror} (about a minute)")
    _check(
        [
            "debootstrap",
            "--variant=minbase",
            "--include=python3,python3-venv,python3-pip,ca-certificates",
            "bookworm",
            str(rootfs),
            mirror,
        ],
        "debootstrap",
    )
    tarball = cache_dir / "base-rootfs.tar"
    try:
        _check(["tar", "-C", str(rootfs), "-cf", str(tarball), "."], "tar")
        progress(f"importing {LOCAL_BASE}")
        repository, _, tag = LOCAL_BASE.partition(":")
        client.api.import_image_from_file(
            str(tarball),
            repository=repository,
            tag=tag,
            changes=[
                "ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
                "ENV LANG=C.UTF-8",
            ],
        )
    finally:
        tarball.unlink(missing_ok=True)
        shutil.rmtree(rootfs, ignore_errors=True)


def download_wheels(requirements: Path, dest: Path, progress: Progress) -> Path:
    """cp311 manylinux wheels for `requirements`, cached by its content."""
    stamp = dest / ".requirements"
    wanted = requirements.read_bytes()
    if stamp.exists() and stamp.read_bytes() == wanted:
        return dest
    shutil.rmtree(dest, ignore_errors=True)
    dest.mkdir(parents=True)
    machine = os.uname().machine
    progress(f"downloading wheels for {dest.name} into {dest}")
    _check(
        [
            sys.executable,
            "-m",
            "pip",
            "download",
            "--quiet",
            "--disable-pip-version-check",
            "--only-binary=:all:",
            # Every requirements.txt pins all that its image installs; the mock's would
            # otherwise bring in PyTorch (the model package's metadata asks for it).
            "--no-deps",
            "--python-version",
            "3.11",
            "--implementation",
            "cp",
            "--platform",
            f"manylinux_2_28_{machine}",
            "--platform",
            f"manylinux_2_17_{machine}",
            "--platform",
            f"manylinux2014_{machine}",
            "-r",
            str(requirements),
            "-d",
            str(dest),
        ],
        "pip download",
    )
    stamp.write_bytes(wanted)
    return dest


def debian_mirror() -> str:
    sources = [Path("/etc/apt/sources.list"), *Path("/etc/apt/sources.list.d").glob("*")]
    for path in sources:
        try:
            text = path.read_text()
        except OSError:
            continue
        match = re.search(r"^URIs:\s*(\S+/debian)\s*$", text, re.M) or re.search(
            r"^deb\s+(?:\[[^]]*\]\s+)?(\S+/debian)\s+bookworm\b", text, re.M
        )
        if match:
            return match.group(1)
    return "http://deb.debian.org/debian"


def _check(argv: list[str], what: str) -> None:
    proc = subprocess.run(argv, capture_output=True, text=True, check=False)
    if proc.returncode != 0:
        raise SandboxError(f"{what} failed ({proc.returncode}): {proc.stderr.strip()[-2000:]}")


def _short(exc: Exception) -> str:
    text = str(exc)
    return text if len(text) < 160 else text[:157] + "..."
