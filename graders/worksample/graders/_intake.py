"""Submission intake: a zip archive or a folder in, a validated in-memory tree of files out.

Nothing is ever written to disk here; the grader copies `Submission.files` into
the sandbox itself. Every refusal is a `SubmissionRejected` whose `reason` is a
sentence the candidate can act on and names the offending member.

Rules, for zips and folders alike:

- Paths: no absolute paths, drive letters, `..` components, backslashes, NUL or
  other control characters, names that are not UTF-8; at most `max_path_length`
  UTF-8 bytes and `max_depth` components. Two members may not name the same file,
  not even after normalising (`a/./b` is `a/b`), nor differ only in letter case or
  Unicode normal form (they would overwrite each other on macOS and Windows), nor
  may a file also be a folder.
- Only regular files: symlinks, devices, FIFOs and sockets are refused.
- Size caps: `max_members`, `max_file_bytes`, `max_total_bytes`, and for zips
  `max_archive_bytes` and `max_ratio`, all checked while reading.
- Junk is dropped silently without its contents being read (in a zip, after its
  name passed the path checks; in a folder, junk folders are not entered): the
  folders and files of `_files.SKIP_FOLDERS` and `SKIP_FILES` anywhere (`.git`,
  `__pycache__`, `__MACOSX`, virtual environments, tool caches, `.DS_Store`, ...)
  and `*.pyc`, `*.pyo`. The same list serves kits, local runs and content hashes.

Zips only: sizes are never taken from headers. Each member is inflated here in
chunks and refused as soon as a cap is passed or it holds more than its header
declares; a member holding less, failing its CRC, encrypted, using a method other
than stored or deflate, or whose local data overlaps another entry (David
Fifield's non-recursive zip bomb) is refused too. Directory entries are ignored.
Tar, gzip, bzip2 and xz files are recognised by their magic bytes and refused.

Where the tree starts. An exercise names the files a submission must hold
(`required`, e.g. `solution/__main__.py`, from its manifest's `[submission]`):

- if every required path is in the tree as uploaded, the tree is kept as is (a zip
  of `solution/` alone keeps its folder);
- else, if a single top-level folder wraps every file and the required paths are
  all in it, that folder is stripped, once: GitHub's "Download ZIP" of a repository
  (`repo-main/solution/...`) or a zip of the starter kit's folder
  (`ml-churn-pipeline/solution/...`) both become `solution/...`;
- else the submission is refused with the paths expected and what its top level
  holds (and the wrapping folder's top level, if there is one).

With `required` empty (an exercise that names no paths) a zip's single wrapping
folder is always stripped (`my-solution/src/a.py` becomes `src/a.py`) and a folder
is kept as is. A tree left with no files once junk is dropped is refused, except a
folder read without `required`.
"""

from __future__ import annotations

import hashlib
import io
import os
import re
import stat
import struct
import unicodedata
import zipfile
import zlib
from collections.abc import Iterable, Iterator, Mapping, Sequence
from itertools import pairwise
from pathlib import Path
from typing import BinaryIO

from pydantic import BaseModel, ConfigDict, Field
from worksample.graders._files import is_skipped, walk_tree

__all__ = [
    "IntakeLimits",
    "Submission",
    "SubmissionRejected",
    "place_required",
    "read_directory",
    "read_submission",
    "read_zip",
]

_KiB = 1 << 10
_MiB = 1 << 20
_CHUNK = 64 * _KiB


_METHOD_NAMES = {9: "deflate64", 12: "bzip2", 14: "lzma", 93: "zstandard", 95: "xz", 98: "ppmd"}
_TAR_REFUSAL = (
    "The upload is a tar archive or a compressed file (.tar, .tar.gz, .tgz, .tar.bz2, .tar.xz). "
    "Tar archives are not accepted because their extraction has had repeated security "
    "bypasses; please upload a zip instead."
)
_OTHER_FORMATS = ((0, b"Rar!\x1a\x07", "a RAR archive"), (0, b"7z\xbc\xaf\x27\x1c", "a 7z archive"))
_TAR_MAGIC = ((0, b"\x1f\x8b"), (0, b"BZh"), (0, b"\xfd7zXZ\x00"), (257, b"ustar"))
# What `zipfile` raises on a malformed archive: a refusal, never a crash.
_ZIP_ERRORS = (zipfile.BadZipFile, ValueError, struct.error, EOFError, OSError, NotImplementedError)
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")
_DRIVE = re.compile(r"[A-Za-z]:")
_LISTED = 10  # top-level names of the upload a refusal quotes


class IntakeLimits(BaseModel):
    """Caps on one submission. The defaults fit a take-home exercise with a little data."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    max_archive_bytes: int = Field(50 * _MiB, ge=1, description="Size of the zip file itself.")
    max_members: int = Field(
        2000, ge=1, description="Entries in the zip, or files and folders walked in a folder."
    )
    max_file_bytes: int = Field(20 * _MiB, ge=1, description="Uncompressed size of one file.")
    max_total_bytes: int = Field(100 * _MiB, ge=1, description="Uncompressed size of all files.")
    max_ratio: float = Field(
        100.0, ge=1, description="Largest uncompressed/compressed ratio of one zip member."
    )
    ratio_floor_bytes: int = Field(
        1 * _MiB,
        ge=0,
        description="A member inflating to no more than this is never refused for its ratio, "
        "so small files of repetitive text are fine.",
    )
    max_path_length: int = Field(255, ge=1, description="UTF-8 bytes of one relative path.")
    max_depth: int = Field(20, ge=1, description="Components of one path (`a/b.py` has 2).")


_DEFAULT_LIMITS = IntakeLimits()


class Submission(BaseModel):
    """A validated tree of regular files, keyed by relative POSIX path."""

    model_config = ConfigDict(
        extra="forbid", frozen=True, ser_json_bytes="base64", val_json_bytes="base64"
    )

    files: dict[str, bytes] = Field(repr=False, description="Path -> content, sorted by path.")
    total_bytes: int = Field(description="Sum of the file sizes.")
    sha256: str = Field(description="Hash of the canonical serialisation of the tree.")

    @classmethod
    def from_files(cls, files: Mapping[str, bytes]) -> Submission:
        ordered = dict(sorted(files.items(), key=lambda item: item[0].encode()))
        total = sum(len(data) for data in ordered.values())
        return cls(files=ordered, total_bytes=total, sha256=_hash_tree(ordered))


class SubmissionRejected(Exception):
    """The submission breaks an intake rule; `reason` tells the candidate what to fix."""

    def __init__(self, reason: str, *, member: str | None = None) -> None:
        super().__init__(reason)
        self.reason = reason
        self.member = member

    def __str__(self) -> str:
        return f"rejected: {self.reason}"


def read_submission(
    path: Path, limits: IntakeLimits = _DEFAULT_LIMITS, *, required: Sequence[str] = ()
) -> Submission:
    """Read a folder or a zip file at `path` (symlinks are not followed).

    `required`: relative POSIX paths of files the tree must hold (the module's rules).
    """
    mode = os.lstat(path).st_mode
    if stat.S_ISDIR(mode):
        return read_directory(path, limits, required=required)
    if not stat.S_ISREG(mode):
        raise SubmissionRejected("The upload is not a regular file or folder.")
    with open(path, "rb") as stream:
        return read_zip(stream, limits, required=required)


def read_zip(
    data: bytes | BinaryIO, limits: IntakeLimits = _DEFAULT_LIMITS, *, required: Sequence[str] = ()
) -> Submission:
    """Validate a zip archive and return its files, without extracting anything."""
    raw = _read_capped(data, limits.max_archive_bytes)
    if len(raw) > limits.max_archive_bytes:
        raise SubmissionRejected(
            f"The archive is larger than the {_size(limits.max_archive_bytes)} limit; leave out "
            "data sets, virtual environments and build output."
        )
    _refuse_other_formats(raw)
    cd_start, count = _walk_central_directory(raw, limits.max_members)
    if count > limits.max_members:
        raise SubmissionRejected(
            f"The archive holds more than {limits.max_members} entries; leave out generated "
            "folders such as .git, node_modules or virtual environments."
        )
    try:
        with zipfile.ZipFile(io.BytesIO(raw)) as archive:
            infos = archive.infolist()
            parsed_start = archive.start_dir
    except _ZIP_ERRORS as exc:
        raise SubmissionRejected(f"The archive is damaged and cannot be read ({exc}).") from exc
    if len(infos) != count or parsed_start != cd_start:
        raise SubmissionRejected("The archive is damaged: its table of contents is inconsistent.")
    if not infos:
        raise SubmissionRejected("The archive is empty.")

    locals_ = [_local_header(raw, info) for info in infos]
    _refuse_overlaps(infos, locals_, cd_start)

    tree = _Tree(limits)
    for info, (data_start, local_name) in zip(infos, locals_, strict=True):
        name, name_bytes = _decode_name(info)
        parts = _split_name(name, limits)
        if local_name != name_bytes:
            raise _damaged(name, "its two recorded names differ")
        if _is_directory(info) or is_skipped(parts):
            continue
        _check_zip_member(info, name)
        path = "/".join(parts)
        tree.claim(path, name)
        tree.add(path, _inflate_member(raw, info, data_start, name, tree))
    if required:
        return Submission.from_files(_place(tree.files, required))
    return Submission.from_files(_strip_wrapper(tree.files))


def place_required(submission: Submission, required: Sequence[str]) -> Submission:
    """A tree intake already validated, placed for an exercise's `required` paths
    (the module's rules), or a rejection naming them."""
    if not required:
        return submission
    placed = _place(dict(submission.files), required)
    return submission if placed == submission.files else Submission.from_files(placed)


def read_directory(
    path: Path, limits: IntakeLimits = _DEFAULT_LIMITS, *, required: Sequence[str] = ()
) -> Submission:
    """Validate a folder and return its files; symlinks are refused, never followed."""
    if not stat.S_ISDIR(os.lstat(path).st_mode):
        raise SubmissionRejected("The submission is not a folder.")
    tree = _Tree(limits)
    for members, item in enumerate(walk_tree(Path(path)), start=1):
        name = item.rel
        if members > limits.max_members:
            raise SubmissionRejected(
                f"The folder holds more than {limits.max_members} files and folders; leave "
                "out generated folders such as node_modules or virtual environments."
            )
        _split_name(name, limits)
        entry = item.entry
        if entry.is_symlink():
            raise SubmissionRejected(
                f"{_show(name)} is a symbolic link; replace it with the file itself.",
                member=name,
            )
        if entry.is_dir(follow_symlinks=False):
            continue
        if entry.is_file(follow_symlinks=False):
            tree.claim(name, name)
            tree.add(name, _read_regular_file(item.path, name, tree))
        else:
            raise _special(name)
    if required:
        return Submission.from_files(_place(tree.files, required))
    return Submission.from_files(tree.files)


class _Tree:
    """Files collected so far, with what is needed to spot collisions between them."""

    def __init__(self, limits: IntakeLimits) -> None:
        self.limits = limits
        self.files: dict[str, bytes] = {}
        self.total = 0
        self._claimed: dict[str, tuple[str, str]] = {}  # collision key -> (path, member)
        self._folders: dict[str, str] = {}  # collision key of a parent folder -> member

    def claim(self, path: str, member: str) -> None:
        key = unicodedata.normalize("NFC", path).casefold()
        if key in self._claimed:
            other_path, other = self._claimed[key]
            if other == member:
                problem = "appears twice in the archive"
            elif other_path == path:
                problem = f"and {_show(other)} name the same file"
            else:
                problem = (
                    f"and {_show(other)} differ only in letter case or Unicode form, so they "
                    "would overwrite each other on macOS and Windows; rename one"
                )
            raise SubmissionRejected(f"{_show(member)} {problem}.", member=member)
        if key in self._folders:
            raise _file_and_folder(member, self._folders[key])
        parts = key.split("/")
        for depth in range(1, len(parts)):
            folder = "/".join(parts[:depth])
            if folder in self._claimed:
                raise _file_and_folder(self._claimed[folder][1], member)
            self._folders.setdefault(folder, member)
        self._claimed[key] = (path, member)

    def check_size(self, member: str, size: int) -> None:
        if size > self.limits.max_file_bytes:
            raise SubmissionRejected(
                f"{_show(member)} is larger than the {_size(self.limits.max_file_bytes)} limit "
                "for one file; leave it out.",
                member=member,
            )
        if self.total + size > self.limits.max_total_bytes:
            raise SubmissionRejected(
                f"{_show(member)} takes the submission over the "
                f"{_size(self.limits.max_total_bytes)} limit for all files together; leave out "
                "data sets and build output.",
                member=member,
            )

    def add(self, path: str, data: bytes) -> None:
        self.files[path] = data
        self.total += len(data)


def _split_name(name: str, limits: IntakeLimits) -> tuple[str, ...]:
    """The normalised components of a member name, or a rejection saying what is wrong."""
    problem = None
    if "\x00" in name:
        problem = "has a NUL character in its name"
    elif _CONTROL.search(name):
        problem = "has a control character in its name"
    elif "\\" in name:
        problem = "has a backslash in its name; folders must be separated by '/'"
    elif name.startswith("/"):
        problem = "is an absolute path; paths must be relative to the submission folder"
    elif _DRIVE.match(name):
        problem = "starts with a drive letter; paths must be relative to the submission folder"
    parts = tuple(part for part in name.split("/") if part not in ("", "."))
    if problem is None and ".." in parts:
        problem = "escapes the submission folder"
    elif problem is None and not parts:
        problem = "has an empty name"
    if problem is None:
        try:
            encoded = "/".join(parts).encode()
        except UnicodeEncodeError:
            problem = "has a name that is not valid UTF-8"
        else:
            if len(encoded) > limits.max_path_length:
                problem = f"has a path longer than {limits.max_path_length} bytes"
            elif len(parts) > limits.max_depth:
                problem = f"is nested deeper than {limits.max_depth} folders"
    if problem is not None:
        raise SubmissionRejected(f"{_show(name)} {problem}.", member=name)
    return parts


def _read_capped(data: bytes | BinaryIO, cap: int) -> bytes:
    """At most `cap + 1` bytes, so that "too large" is known without reading everything."""
    if isinstance(data, bytes):
        return bytes(data[: cap + 1])
    chunks: list[bytes] = []
    got = 0
    while got <= cap:
        chunk = data.read(min(_CHUNK, cap + 1 - got))
        if not chunk:
            break
        chunks.append(chunk)
        got += len(chunk)
    return b"".join(chunks)


def _refuse_other_formats(raw: bytes) -> None:
    if any(raw[at : at + len(magic)] == magic for at, magic in _TAR_MAGIC):
        raise SubmissionRejected(_TAR_REFUSAL)
    for at, magic, what in _OTHER_FORMATS:
        if raw[at : at + len(magic)] == magic:
            raise SubmissionRejected(f"The upload is {what}; please upload a zip instead.")
    # A zip must start with a member or, when empty, with its end record: no self-extracting
    # stubs or polyglots that other tools would read differently.
    if raw[:4] not in (b"PK\x03\x04", b"PK\x05\x06"):
        raise SubmissionRejected("The upload is not a zip archive; please upload a zip file.")


def _walk_central_directory(raw: bytes, stop_after: int) -> tuple[int, int]:
    """Start of the central directory and its entry count, counting at most `stop_after + 1`.

    Done by hand before `zipfile` builds an object per entry, so that a small archive
    cannot make us allocate millions of them.
    """
    eocd = raw.rfind(b"PK\x05\x06", max(0, len(raw) - 22 - 0xFFFF))
    if eocd < 0 or eocd + 22 > len(raw):
        raise SubmissionRejected("The upload is not a zip archive; it may be truncated.")
    (cd_size,) = struct.unpack_from("<I", raw, eocd + 12)
    end = eocd
    if eocd >= 20 and raw[eocd - 20 : eocd - 16] == b"PK\x06\x07":  # Zip64 locator
        end = eocd - 20 - 56
        if end < 0 or raw[end : end + 4] != b"PK\x06\x06":
            raise SubmissionRejected("The archive is damaged: its Zip64 end record is missing.")
        (cd_size,) = struct.unpack_from("<Q", raw, end + 40)
    start = end - cd_size
    if start < 0:
        raise SubmissionRejected("The archive is damaged: its table of contents is missing.")
    count, at = 0, start
    while at < end and count <= stop_after:
        if raw[at : at + 4] != b"PK\x01\x02" or at + 46 > end:
            raise SubmissionRejected("The archive is damaged: its table of contents is broken.")
        name_len, extra_len, comment_len = struct.unpack_from("<HHH", raw, at + 28)
        at += 46 + name_len + extra_len + comment_len
        count += 1
    return start, count


def _local_header(raw: bytes, info: zipfile.ZipInfo) -> tuple[int, bytes]:
    """Where a member's data starts, and the name its local header records."""
    at = info.header_offset
    if at < 0 or raw[at : at + 4] != b"PK\x03\x04" or at + 30 > len(raw):
        raise _damaged(info.orig_filename, "its local header is missing")
    name_len, extra_len = struct.unpack_from("<HH", raw, at + 26)
    return at + 30 + name_len + extra_len, raw[at + 30 : at + 30 + name_len]


def _refuse_overlaps(
    infos: list[zipfile.ZipInfo], locals_: list[tuple[int, bytes]], cd_start: int
) -> None:
    """Each member's header and data must sit apart from every other's and before the
    central directory; overlapping them is how a tiny zip unpacks to terabytes."""
    spans = sorted(
        (info.header_offset, start + info.compress_size, _decode_name(info)[0])
        for info, (start, _) in zip(infos, locals_, strict=True)
    )
    for (_, end, first), (begin, _, second) in pairwise(spans):
        if begin < end:
            raise SubmissionRejected(
                f"{_show(second)} overlaps {_show(first)} inside the archive, a trick used by "
                "zip bombs; re-create the zip with a standard tool.",
                member=second,
            )
    if spans and spans[-1][1] > cd_start:
        raise _damaged(spans[-1][2], "its data runs into the archive's table of contents")


def _decode_name(info: zipfile.ZipInfo) -> tuple[str, bytes]:
    """The member name and its bytes as stored; old tools write UTF-8 without the flag."""
    if info.flag_bits & 0x800:
        return info.orig_filename, info.orig_filename.encode()
    stored = info.orig_filename.encode("cp437")
    try:
        return stored.decode(), stored
    except UnicodeDecodeError:
        return info.orig_filename, stored


def _is_directory(info: zipfile.ZipInfo) -> bool:
    return info.orig_filename.endswith("/") or stat.S_ISDIR(info.external_attr >> 16)


def _check_zip_member(info: zipfile.ZipInfo, name: str) -> None:
    file_type = stat.S_IFMT(info.external_attr >> 16)
    if file_type == stat.S_IFLNK:
        raise SubmissionRejected(
            f"{_show(name)} is a symbolic link; replace it with the file itself.", member=name
        )
    if file_type not in (0, stat.S_IFREG):
        raise _special(name)
    if info.flag_bits & 0x1 or info.compress_type == 99:
        raise SubmissionRejected(
            f"{_show(name)} is encrypted; upload an archive without a password.", member=name
        )
    if info.compress_type not in (zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED) or (
        info.flag_bits & 0x20
    ):
        method = _METHOD_NAMES.get(info.compress_type, "unknown")
        raise SubmissionRejected(
            f"{_show(name)} uses compression method {info.compress_type} ({method}), which is "
            "not accepted; re-create the zip with the standard deflate method.",
            member=name,
        )


def _inflate_member(
    raw: bytes, info: zipfile.ZipInfo, data_start: int, name: str, tree: _Tree
) -> bytes:
    limits = tree.limits
    ratio_cap = max(limits.ratio_floor_bytes, int(limits.max_ratio * info.compress_size))
    compressed = memoryview(raw)[data_start : data_start + info.compress_size]
    out = bytearray()
    for chunk in _inflate(compressed, info.compress_type, name):
        size = len(out) + len(chunk)
        tree.check_size(name, size)
        if size > ratio_cap:
            raise SubmissionRejected(
                f"{_show(name)} expands more than {limits.max_ratio:g} times when decompressed, "
                "which looks like a zip bomb; leave it out.",
                member=name,
            )
        if size > info.file_size:
            raise _damaged(
                name, f"it holds more than the {info.file_size} bytes its header declares"
            )
        out += chunk
    if len(out) != info.file_size:
        raise _damaged(name, f"it holds {len(out)} bytes but its header declares {info.file_size}")
    if zlib.crc32(out) != info.CRC:
        raise _damaged(name, "its checksum does not match its contents")
    return bytes(out)


def _inflate(compressed: memoryview, method: int, name: str) -> Iterator[bytes]:
    """Decompressed data in chunks of at most `_CHUNK` bytes, whatever the headers say."""
    if method == zipfile.ZIP_STORED:
        for at in range(0, len(compressed), _CHUNK):
            yield bytes(compressed[at : at + _CHUNK])
        return
    inflater = zlib.decompressobj(-zlib.MAX_WBITS)
    at, pending = 0, b""
    try:
        while not inflater.eof:
            if not pending:
                if at >= len(compressed):
                    raise _damaged(name, "its compressed data ends early")
                pending = bytes(compressed[at : at + _CHUNK])
                at += len(pending)
            chunk = inflater.decompress(pending, _CHUNK)
            pending = inflater.unconsumed_tail
            if chunk:
                yield chunk
    except zlib.error as exc:
        raise _damaged(name, f"its compressed data is corrupt ({exc})") from exc
    if inflater.unused_data or at < len(compressed):
        raise _damaged(name, "its compressed size does not match its data")


def _read_regular_file(path: Path, name: str, tree: _Tree) -> bytes:
    # O_NOFOLLOW and the fstat close the gap between listing the folder and opening the
    # file, in which it could be swapped for a symlink or a FIFO.
    flags = os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_NONBLOCK", 0)
    try:
        fd = os.open(path, flags | getattr(os, "O_BINARY", 0))
    except OSError as exc:
        raise SubmissionRejected(
            f"{_show(name)} cannot be read ({exc.strerror}).", member=name
        ) from exc
    with open(fd, "rb") as stream:
        if not stat.S_ISREG(os.fstat(fd).st_mode):
            raise _special(name)
        out = bytearray()
        while chunk := stream.read(_CHUNK):
            tree.check_size(name, len(out) + len(chunk))
            out += chunk
    return bytes(out)


def _strip_wrapper(files: dict[str, bytes]) -> dict[str, bytes]:
    """Drop one folder that wraps every file, as GitHub's "Download ZIP" adds."""
    _refuse_empty(files)
    wrapper = _wrapper(files)
    return files if wrapper is None else _unwrap(files, wrapper)


def _place(files: dict[str, bytes], required: Sequence[str]) -> dict[str, bytes]:
    """The tree as the exercise expects it: as uploaded if it holds every required path,
    else without the one folder that wraps everything if that makes them all appear."""
    _refuse_empty(files)
    if all(path in files for path in required):
        return files
    wrapper = _wrapper(files)
    if wrapper is not None:
        inner = _unwrap(files, wrapper)
        if all(path in inner for path in required):
            return inner
    listing = _top_level(files)
    if wrapper is not None:
        listing += f", which holds {_top_level(_unwrap(files, wrapper))}"
    raise SubmissionRejected(
        f"The submission must contain {_join(map(_show, required))} at its top level (or "
        f"inside one folder that wraps everything), but its top level holds {listing}. Zip "
        "the starter kit's folder with your work in it."
    )


def _refuse_empty(files: dict[str, bytes]) -> None:
    if not files:
        raise SubmissionRejected(
            "The submission holds no files (folders, .git, __pycache__ and macOS metadata "
            "are ignored)."
        )


def _wrapper(files: dict[str, bytes]) -> str | None:
    """The one top-level folder that holds every file, if there is one."""
    tops = {path.split("/", 1)[0] for path in files}
    if len(tops) != 1 or any("/" not in path for path in files):
        return None
    return tops.pop()


def _unwrap(files: dict[str, bytes], wrapper: str) -> dict[str, bytes]:
    return {path[len(wrapper) + 1 :]: data for path, data in files.items()}


def _top_level(files: dict[str, bytes]) -> str:
    """The names at the top of a tree, folders with a trailing slash, quoted and capped."""
    names = sorted({path.split("/", 1)[0] + ("/" if "/" in path else "") for path in files})
    shown = [_show(name) for name in names[:_LISTED]]
    if len(names) > _LISTED:
        shown.append(f"{len(names) - _LISTED} more")
    return _join(shown)


def _join(items: Iterable[str]) -> str:
    listed = list(items)
    return listed[0] if len(listed) == 1 else f"{', '.join(listed[:-1])} and {listed[-1]}"


def _hash_tree(files: Mapping[str, bytes]) -> str:
    """SHA-256 of the files sorted by UTF-8 path, each as length-prefixed path and content,
    so that the same tree hashes the same whatever archive or order it came in."""
    digest = hashlib.sha256(b"worksample-tree-v1\n")
    for path in sorted(files, key=str.encode):
        encoded = path.encode()
        digest.update(struct.pack(">Q", len(encoded)) + encoded)
        digest.update(struct.pack(">Q", len(files[path])))
        digest.update(files[path])
    return digest.hexdigest()


def _show(name: str) -> str:
    """A member name quoted for a message: control characters escaped, long names cut."""
    shown = "".join(char if char.isprintable() else f"\\x{ord(char):02x}" for char in name)
    if len(shown) > 160:
        shown = f"{shown[:80]}…{shown[-60:]}"
    return f'"{shown}"'


def _size(count: int) -> str:
    if count % _MiB == 0:
        return f"{count // _MiB} MiB"
    if count % _KiB == 0:
        return f"{count // _KiB} KiB"
    return f"{count} bytes"


def _damaged(name: str, problem: str) -> SubmissionRejected:
    return SubmissionRejected(
        f"{_show(name)} is damaged: {problem}; re-create the zip with a standard tool.",
        member=name,
    )


def _special(name: str) -> SubmissionRejected:
    return SubmissionRejected(
        f"{_show(name)} is a special file (device, FIFO or socket); only regular files are "
        "accepted.",
        member=name,
    )


def _file_and_folder(file_member: str, inner_member: str) -> SubmissionRejected:
    return SubmissionRejected(
        f"{_show(file_member)} is a file but {_show(inner_member)} uses it as a folder.",
        member=file_member,
    )
