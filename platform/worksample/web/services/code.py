"""The code browser: a submission's files as the grader reads them, shown safely, and diffs.

Files come from the stored archive through the grader's intake (`read_zip` with
the exercise's `required` paths), so the paths shown are the paths graded. The
intake's caps are roomier here (`BROWSE_LIMITS`): caps only refuse, they never
move a path, and an archive stored under other caps still opens. A tree read
once is kept in a small LRU keyed by the archive's sha256, so pages that list
many uploads stay fast.

Nothing from a submission reaches a page unescaped: source is highlighted by
Pygments (which escapes), Markdown is rendered by `render_markdown` (raw HTML
off, nh3 after), names go through `visible`, and bidirectional controls inside
contents are shown as `\\u202e`-style escapes (the "Trojan Source" trick).
What is shown is capped (`MAX_SHOWN_*`), so a 5 MB one-line file is a fast page.

For other pages: `submission_files(session, submission, exercises_dir=...)`;
what changed between two trees is in `diffs`.
"""

from __future__ import annotations

import functools
import hashlib
import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Generic, Literal, TypeVar
from urllib.parse import quote

from markupsafe import Markup, escape
from pygments import highlight
from pygments.formatters import HtmlFormatter
from pygments.lexer import Lexer
from pygments.lexers import TextLexer, get_lexer_for_filename
from pygments.util import ClassNotFound
from sqlalchemy import bindparam
from sqlalchemy import select as sa_select
from sqlmodel import Session, col, select
from worksample.db import Blob, Invitation, Position, Submission, User
from worksample.graders import (
    ExerciseError,
    IntakeLimits,
    SubmissionRejected,
    build_starter_kit,
    find_exercise,
    read_zip,
)
from worksample.web.rendering import render_markdown
from worksample.web.services.errors import Invalid, NotFound
from worksample.web.services.submissions import required_paths
from worksample.web.text import BIDI_CONTROLS, visible

__all__ = [
    "BROWSE_LIMITS",
    "CodeScope",
    "FileEntry",
    "FileView",
    "Lru",
    "SubmissionFiles",
    "TreeView",
    "file_view",
    "files_for",
    "get_archive",
    "get_scope",
    "get_upload_pair",
    "readable",
    "scopes_of",
    "starter_files",
    "submission_files",
    "tree_view",
]

_KiB = 1 << 10
_MiB = 1 << 20
BROWSE_LIMITS = IntakeLimits(max_members=20_000, max_depth=256, max_path_length=4096)
MAX_SHOWN_BYTES = 256 * _KiB  # of one file's page
MAX_SHOWN_LINES = 5_000
MAX_LINE_CHARS = 2_000
_SNIFF = 8 * _KiB  # a NUL in the first 8 KiB is a binary file, as for git
_CACHE_ENTRIES = 1024
_CACHE_BYTES = 128 * _MiB
_MARKDOWN = (".md", ".markdown")

FileKind = Literal["text", "invalid_utf8", "binary"]

# Shown, not obeyed: as text in Markdown's HTML (it may sit in an attribute) and
# as a marked span in highlighted source (whose markup has no attributes from content).
_BIDI_TEXT = {ord(c): f"\\u{ord(c):04x}" for c in BIDI_CONTROLS}
BIDI_SPAN = {
    ord(c): f'<mark class="bidi" title="bidirectional control character">\\u{ord(c):04x}</mark>'
    for c in BIDI_CONTROLS
}


# --- the files of an archive -----------------------------------------------------------


@dataclass(frozen=True)
class FileEntry:
    path: str
    name: str  # the last component, shown (`visible`)
    shown: str  # the whole path, shown
    href: str  # the path, percent-encoded for a URL
    size: int
    kind: FileKind
    doc: bool  # Markdown or a README

    @property
    def size_label(self) -> str:
        return size_label(self.size)

    @property
    def markdown(self) -> bool:
        return self.path.lower().endswith(_MARKDOWN)


@dataclass(frozen=True)
class Folder:
    shown: str  # "" for the top level
    files: tuple[FileEntry, ...]


@dataclass(frozen=True, eq=False)
class SubmissionFiles:
    """One archive's files as intake placed them, with what the pages show of them."""

    archive_sha256: str
    tree_sha256: str  # intake's hash of the tree: the same files, the same hash
    files: Mapping[str, bytes]  # path -> bytes, in intake's order
    entries: Mapping[str, FileEntry]
    folders: tuple[Folder, ...]  # depth first, a folder before its subfolders
    docs: tuple[FileEntry, ...]  # DESIGN.md first, then READMEs and Markdown, shallow first
    design: FileEntry | None
    design_html: Markup | None
    total_bytes: int
    problem: str | None = None  # why the archive could not be read (then no files)
    note: str | None = None  # why the paths may not be the graded ones


def size_label(size: int) -> str:
    if size < _KiB:
        return f"{size} B"
    if size < _MiB:
        return f"{size / _KiB:.1f} KiB"
    return f"{size / _MiB:.1f} MiB"


def kind_of(data: bytes) -> FileKind:
    if b"\x00" in data[:_SNIFF]:
        return "binary"
    if data.isascii():
        return "text"
    try:
        data.decode()
    except UnicodeDecodeError:
        return "invalid_utf8"
    return "text"


def _is_doc(name: str) -> bool:
    lower = name.lower()
    return lower.endswith(_MARKDOWN) or lower.startswith("readme")


def _build(
    archive_sha256: str,
    tree_sha256: str,
    files: Mapping[str, bytes],
    *,
    problem: str | None = None,
    note: str | None = None,
) -> SubmissionFiles:
    entries: dict[str, FileEntry] = {}
    by_folder: dict[str, list[FileEntry]] = {}
    for path, data in files.items():
        folder, _, name = path.rpartition("/")
        entry = FileEntry(
            path, visible(name), visible(path), quote(path), len(data), kind_of(data), _is_doc(name)
        )
        entries[path] = entry
        by_folder.setdefault(folder, []).append(entry)
    folders = tuple(
        Folder(visible(folder), tuple(sorted(found, key=lambda e: e.path)))
        for folder, found in sorted(by_folder.items(), key=lambda item: item[0].split("/"))
    )
    design = _find_design(entries)
    docs = sorted((e for e in entries.values() if e.doc and e is not design), key=_doc_order)
    return SubmissionFiles(
        archive_sha256=archive_sha256,
        tree_sha256=tree_sha256,
        files=files,
        entries=entries,
        folders=folders,
        docs=(design, *docs) if design else tuple(docs),
        design=design,
        design_html=_design_html(design, files),
        total_bytes=sum(len(data) for data in files.values()),
        problem=problem,
        note=note,
    )


def _doc_order(entry: FileEntry) -> tuple[int, bool, str]:
    """Shallow first; in a folder, READMEs first."""
    name = entry.path.rsplit("/", 1)[-1].lower()
    return entry.path.count("/"), not name.startswith("readme"), entry.path


def _find_design(entries: Mapping[str, FileEntry]) -> FileEntry | None:
    if "DESIGN.md" in entries:
        return entries["DESIGN.md"]
    found = [e for e in entries.values() if e.path.split("/")[-1].lower() == "design.md"]
    return min(found, key=lambda e: (e.path.count("/"), e.path), default=None)


def _design_html(design: FileEntry | None, files: Mapping[str, bytes]) -> Markup | None:
    if design is None or design.kind == "binary" or design.size > MAX_SHOWN_BYTES:
        return None
    return _markdown(files[design.path].decode(errors="replace"))


def _markdown(text: str) -> Markup:
    # Sanitised by render_markdown; the escapes added hold no markup.
    return Markup(render_markdown(text).translate(_BIDI_TEXT))


def _read(data: bytes, required: Sequence[str]) -> SubmissionFiles:
    archive_sha256 = hashlib.sha256(data).hexdigest()
    try:
        tree = read_zip(data, BROWSE_LIMITS, required=required)
    except SubmissionRejected as exc:
        if not required:
            return _build(archive_sha256, "", {}, problem=exc.reason)
        try:  # the exercise's paths changed since the upload: show it as uploaded
            tree = read_zip(data, BROWSE_LIMITS)
        except SubmissionRejected as again:
            return _build(archive_sha256, "", {}, problem=again.reason)
        note = f"The grader would not place these files for the exercise now: {exc.reason}"
        return _build(archive_sha256, tree.sha256, tree.files, note=note)
    return _build(archive_sha256, tree.sha256, tree.files)


K = TypeVar("K")
V = TypeVar("V")


class Lru(Generic[K, V]):
    """A few recent values, bounded by count and by their total size."""

    def __init__(self, *, entries: int, max_bytes: int) -> None:
        self.entries, self.max_bytes = entries, max_bytes
        self._items: OrderedDict[K, tuple[V, int]] = OrderedDict()
        self._bytes = 0
        self._lock = threading.Lock()

    def get(self, key: K) -> V | None:
        with self._lock:
            found = self._items.get(key)
            if found is None:
                return None
            self._items.move_to_end(key)
            return found[0]

    def put(self, key: K, value: V, size: int) -> None:
        if size > self.max_bytes:
            return
        with self._lock:
            if key in self._items:
                return
            self._items[key] = (value, size)
            self._bytes += size
            while len(self._items) > self.entries or self._bytes > self.max_bytes:
                _, (_, dropped) = self._items.popitem(last=False)
                self._bytes -= dropped


_trees: Lru[tuple[str, tuple[str, ...]], SubmissionFiles] = Lru(
    entries=_CACHE_ENTRIES, max_bytes=_CACHE_BYTES
)


def _files_of(digest: str, required: Sequence[str], load: Callable[[], bytes]) -> SubmissionFiles:
    key = (digest, tuple(required))
    found = _trees.get(key)
    if found is None:
        raw = load()
        found = _read(raw, required)
        _trees.put(key, found, found.total_bytes + len(raw))
    return found


_required = required_paths  # the upload's own rule, cached by the manifest's stat


def _archive_files(
    session: Session, submission: Submission, exercise_id: str, exercises_dir: Path
) -> SubmissionFiles:
    def load() -> bytes:
        blob = session.get(Blob, submission.archive_blob_id)
        return blob.data if blob else b""

    return _files_of(submission.sha256, _required(exercises_dir, exercise_id), load)


def submission_files(
    session: Session, submission: Submission, *, exercises_dir: Path, exercise_id: str = ""
) -> SubmissionFiles:
    """The files of an upload, placed as the grader places them for its exercise
    (hence `exercises_dir`: `settings.exercises_dir`). Kept in an LRU by the
    archive's sha256: a hit reads neither the archive nor the database but one
    indexed row (none when the caller knows the `exercise_id`). An archive intake
    refuses raises `Invalid`, saying why."""
    exercise_id = (
        exercise_id
        or session.exec(
            select(Position.exercise_id)
            .join(Invitation, col(Invitation.position_id) == Position.id)
            .where(Invitation.id == submission.invitation_id)
        ).one()
    )
    return readable(_archive_files(session, submission, exercise_id, exercises_dir))


def readable(files: SubmissionFiles) -> SubmissionFiles:
    if files.problem is not None:
        raise Invalid(f"The archive cannot be read: {files.problem}")
    return files


# Loading an exercise reads and hashes all its files (its content hash is the
# kit's cache key): a diff page would do that on every view. A kit is trusted
# for a few seconds instead, so an author's edit shows within that time.
STARTER_TTL_S = 10.0
_kits: dict[tuple[Path, str], tuple[float, SubmissionFiles | str]] = {}


def starter_files(exercises_dir: Path, exercise_id: str) -> SubmissionFiles | str:
    """The starter kit as a candidate downloads it, read by the same intake as an
    upload of it (so `<exercise>/solution.py` in the kit is `solution.py`, as in
    the upload); or why there is none on this host. Read again after
    `STARTER_TTL_S` seconds."""
    key, now = (exercises_dir, exercise_id), time.monotonic()
    found = _kits.get(key)
    if found is not None and found[0] > now:
        return found[1]
    kit = _starter_files(exercises_dir, exercise_id)
    if len(_kits) > 256:  # exercise ids come from positions, but stay bounded
        _kits.clear()
    _kits[key] = (now + STARTER_TTL_S, kit)
    return kit


def _starter_files(exercises_dir: Path, exercise_id: str) -> SubmissionFiles | str:
    try:
        exercise = find_exercise(exercises_dir, exercise_id)
        kit = build_starter_kit(exercise)
    except ExerciseError as exc:
        return f"The exercise's starter kit is not available on this host: {exc}"
    required = exercise.manifest.submission.required
    return _files_of(hashlib.sha256(kit).hexdigest(), required, lambda: kit)


# --- who may see which submission --------------------------------------------------------


@dataclass(frozen=True)
class CodeScope:
    submission: Submission
    invitation: Invitation
    position: Position


_SCOPE_ROWS = (
    sa_select(Submission, Invitation, Position)
    .join(Invitation, col(Invitation.id) == Submission.invitation_id)
    .join(Position, col(Position.id) == Invitation.position_id)
    .where(
        col(Submission.id).in_(bindparam("ids", expanding=True)),
        col(Submission.org_id) == bindparam("org_id"),
    )
)


def scopes_of(session: Session, user: User, ids: Sequence[int]) -> dict[int, CodeScope]:
    """The code browser's scope of each of `ids` in the user's organisation (one query)."""
    rows = session.execute(_SCOPE_ROWS, {"ids": list(ids), "org_id": user.org_id})
    return {s.id or 0: CodeScope(s, i, p) for s, i, p in rows}


def get_scope(session: Session, *, user: User, submission_id: int) -> CodeScope:
    """A submission of the user's organisation (any staff role), with its
    invitation and position; another organisation's id is not found."""
    found = scopes_of(session, user, [submission_id]).get(submission_id)
    if found is None:
        raise NotFound
    return found


def get_upload_pair(
    session: Session, *, user: User, before_id: int, after_id: int
) -> tuple[CodeScope, CodeScope]:
    """Two uploads of one invitation; any other pair is not found."""
    found = scopes_of(session, user, [before_id, after_id])
    if before_id not in found or after_id not in found:
        raise NotFound
    before, after = found[before_id], found[after_id]
    if before.invitation.id != after.invitation.id:
        raise NotFound
    return before, after


def get_archive(session: Session, *, user: User, submission_id: int) -> tuple[Submission, bytes]:
    scope = get_scope(session, user=user, submission_id=submission_id)
    blob = session.get(Blob, scope.submission.archive_blob_id)
    if blob is None:
        raise NotFound
    return scope.submission, blob.data


def _uploads(session: Session, invitation: Invitation) -> list[Submission]:
    return list(
        session.exec(
            select(Submission)
            .where(Submission.invitation_id == invitation.id)
            .order_by(col(Submission.id))
        )
    )


# --- pages -----------------------------------------------------------------------------


@dataclass(frozen=True)
class TreeView:
    scope: CodeScope
    files: SubmissionFiles
    uploads: list[Submission]  # of the same invitation, oldest first


def tree_view(session: Session, *, user: User, submission_id: int, exercises_dir: Path) -> TreeView:
    scope = get_scope(session, user=user, submission_id=submission_id)
    files = files_for(session, scope, exercises_dir)
    return TreeView(scope, files, _uploads(session, scope.invitation))


@dataclass(frozen=True)
class FileView:
    scope: CodeScope
    entry: FileEntry
    lines: tuple[Markup, ...]  # highlighted, one per line shown
    markdown: Markup | None  # rendered, when the file is shown as Markdown
    total_lines: int
    notes: tuple[str, ...]  # what is cut or replaced


@functools.lru_cache(maxsize=512)
def _lexer_class(name: str) -> type[Lexer]:
    try:
        return type(get_lexer_for_filename(name))
    except ClassNotFound:
        lexer: type[Lexer] = TextLexer
        return lexer


@functools.lru_cache(maxsize=128)  # of texts up to MAX_SHOWN_BYTES
def _highlight(text: str, name: str) -> tuple[str, ...]:
    lexer = _lexer_class(name)(stripnl=False, ensurenl=True)
    out = highlight(text, lexer, HtmlFormatter(nowrap=True)).translate(BIDI_SPAN)
    lines = out.split("\n")
    expected = text.count("\n") + 1
    if len(lines) > expected and lines[-1] == "":
        lines.pop()
    if len(lines) != expected:  # a lexer that moved lines: plain text, numbered right
        return tuple(str(escape(line)).translate(BIDI_SPAN) for line in text.split("\n"))
    return tuple(lines)


def cut_line(line: str) -> tuple[str, int]:
    return (line, 0) if len(line) <= MAX_LINE_CHARS else (line[:MAX_LINE_CHARS], len(line))


def cut_note(count: int) -> Markup:
    return Markup('<em class="cut">… {} more characters</em>').format(f"{count - MAX_LINE_CHARS:,}")


def file_view(
    session: Session,
    *,
    user: User,
    submission_id: int,
    path: str,
    exercises_dir: Path,
    source: bool = False,
) -> FileView:
    """One file of a submission; a path not in it is not found."""
    scope = get_scope(session, user=user, submission_id=submission_id)
    files = readable(files_for(session, scope, exercises_dir))
    entry = files.entries.get(path)
    if entry is None:
        raise NotFound
    data = files.files[path]
    total = data.count(b"\n") + (0 if not data or data.endswith(b"\n") else 1)
    if entry.kind == "binary":
        return FileView(scope, entry, (), None, total, ())
    notes: list[str] = []
    if entry.kind == "invalid_utf8":
        notes.append("Not valid UTF-8: the bytes that are not are shown as �.")
    head = data[:MAX_SHOWN_BYTES]
    # A cut may split a character: valid files lose its first bytes, nothing else.
    text = head.decode(errors="ignore" if entry.kind == "text" else "replace")
    if entry.markdown and not source and len(data) <= MAX_SHOWN_BYTES:
        return FileView(scope, entry, (), _markdown(text), total, tuple(notes))
    lines = text.replace("\r\n", "\n").replace("\r", "\n").split("\n")
    if len(data) > MAX_SHOWN_BYTES:
        notes.append(
            f"The file is {entry.size_label}: the first {size_label(MAX_SHOWN_BYTES)} are shown; "
            "download the archive for the rest."
        )
        if entry.markdown and not source:
            notes.append("Too large to render as Markdown: its source is shown.")
    elif lines and lines[-1] == "":
        lines.pop()
    if len(lines) > MAX_SHOWN_LINES:
        notes.append(f"The first {MAX_SHOWN_LINES:,} of {total:,} lines are shown.")
        lines = lines[:MAX_SHOWN_LINES]
    cut = [cut_line(line) for line in lines]
    if any(full for _, full in cut):
        notes.append(f"Lines longer than {MAX_LINE_CHARS:,} characters are cut.")
    shown = _highlight("\n".join(line for line, _ in cut), path.rsplit("/", 1)[-1]) if cut else ()
    out = tuple(
        # Pygments escapes what it highlights.
        Markup(html) + cut_note(full) if full else Markup(html)
        for html, (_, full) in zip(shown, cut, strict=True)
    )
    return FileView(scope, entry, out, None, total, tuple(notes))


def files_for(session: Session, scope: CodeScope, exercises_dir: Path) -> SubmissionFiles:
    return _archive_files(session, scope.submission, scope.position.exercise_id, exercises_dir)
