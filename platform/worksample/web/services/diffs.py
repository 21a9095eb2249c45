"""What changed between two trees of files: counts for the candidate's file, diffs for the pages.

`changes(before, after)` lists added, removed and changed files with their line
counts; `diff_view` is the diff page between an upload and its exercise's
starter kit, or between two uploads of one invitation. Both are kept in small
LRUs keyed by the intake's tree hashes: an upload never changes, so the same two
trees always give the same diff, and a page that is opened again costs two
indexed queries and no difflib.

difflib's time grows faster than its input, so each call has a budget of lines
it may compare (`MAX_DIFF_INPUT_LINES`, `MAX_CALL_DIFF_LINES`); beyond it the
counts are the lines each side lacks, and the page says so.
"""

from __future__ import annotations

import difflib
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from markupsafe import Markup, escape
from sqlmodel import Session
from worksample.db import User
from worksample.web.services.code import (
    BIDI_SPAN,
    CodeScope,
    FileEntry,
    Lru,
    SubmissionFiles,
    cut_line,
    cut_note,
    files_for,
    get_scope,
    get_upload_pair,
    kind_of,
    readable,
    size_label,
    starter_files,
)

__all__ = ["DiffRow", "DiffView", "FileChange", "FileDiff", "changes", "diff_view"]

MAX_FILE_DIFF_LINES = 5_000  # rows of one file's diff
MAX_PAGE_DIFF_LINES = 20_000  # rows of a diff page, all files together
MAX_PAGE_DIFF_FILES = 300  # files whose diff a page shows; the rest are listed
# difflib's time grows faster than its input (a quarter second for 20,000 lines
# of an adversarial few hundred distinct ones): beyond these, lines are counted.
MAX_DIFF_INPUT_LINES = 20_000  # of one file, both sides
MAX_CALL_DIFF_LINES = 200_000  # of one `changes()` or one diff page, all files

ChangeKind = Literal["added", "removed", "changed"]


@dataclass(frozen=True)
class FileChange:
    path: str
    kind: ChangeKind
    added_lines: int
    removed_lines: int  # both 0 for binary files


def _lines(data: bytes) -> list[str]:
    """Lines as the file page numbers them (Pygments' rule: \\r\\n and \\r are \\n)."""
    text = data.decode(errors="replace").replace("\r\n", "\n").replace("\r", "\n")
    lines = text.split("\n")
    if lines[-1] == "":
        lines.pop()
    return lines


class _Budget:
    """The lines difflib may still compare in one call."""

    def __init__(self) -> None:
        self.left = MAX_CALL_DIFF_LINES

    def take(self, lines: int) -> bool:
        if lines > MAX_DIFF_INPUT_LINES or lines > self.left:
            return False
        self.left -= lines
        return True


def _compare(
    a: list[str], b: list[str], budget: _Budget
) -> tuple[difflib.SequenceMatcher[str] | None, int, int]:
    """difflib's matcher and (added, removed); None past the budget, and the
    counts are then the lines each side has that the other has not."""
    if not budget.take(len(a) + len(b)):
        ca, cb = Counter(a), Counter(b)
        return None, sum((cb - ca).values()), sum((ca - cb).values())
    matcher = difflib.SequenceMatcher(None, a, b)
    ops = matcher.get_opcodes()  # kept by the matcher for the hunks
    added = sum(j2 - j1 for tag, _, _, j1, j2 in ops if tag in ("insert", "replace"))
    removed = sum(i2 - i1 for tag, i1, i2, _, _ in ops if tag in ("delete", "replace"))
    return matcher, added, removed


def _change(path: str, old: bytes | None, new: bytes | None, budget: _Budget) -> FileChange:
    binary = (old is not None and kind_of(old) == "binary") or (
        new is not None and kind_of(new) == "binary"
    )
    if old is None:
        return FileChange(path, "added", 0 if binary else len(_lines(new or b"")), 0)
    if new is None:
        return FileChange(path, "removed", 0, 0 if binary else len(_lines(old)))
    if binary:
        return FileChange(path, "changed", 0, 0)
    _, added, removed = _compare(_lines(old), _lines(new), budget)
    return FileChange(path, "changed", added, removed)


# Keyed by intake's tree hashes: the same two trees, the same changes.
_changes: Lru[tuple[str, str], tuple[FileChange, ...]] = Lru(entries=4096, max_bytes=0)


def changes(before: SubmissionFiles | None, after: SubmissionFiles) -> list[FileChange]:
    """Added, removed and changed files (identical ones left out), sorted by path
    (UTF-8 order, as intake sorts); `before=None` (a first upload): all added."""
    key = (before.tree_sha256 if before else "", after.tree_sha256)
    found = _changes.get(key)
    if found is None:
        old, budget = before.files if before else {}, _Budget()
        found = tuple(
            _change(path, old.get(path), after.files.get(path), budget)
            for path in sorted(old.keys() | after.files.keys(), key=str.encode)
            if old.get(path) != after.files.get(path)
        )
        _changes.put(key, found, 0)
    return list(found)


# --- the diff pages --------------------------------------------------------------------


@dataclass(frozen=True)
class DiffRow:
    kind: Literal["hunk", "context", "added", "removed"]
    old: int | None
    new: int | None
    text: Markup


@dataclass(frozen=True)
class FileDiff:
    change: FileChange
    entry: FileEntry  # the newer side's, or the older one's for a removed file
    rows: tuple[DiffRow, ...]
    notes: tuple[str, ...]


@dataclass(frozen=True)
class DiffView:
    before: CodeScope | None  # None: the starter kit
    after: CodeScope
    changed: tuple[FileDiff, ...] = ()  # changed and added, by path
    removed: tuple[FileDiff, ...] = ()
    identical: tuple[FileEntry, ...] = ()
    added_lines: int = 0
    removed_lines: int = 0
    problem: str | None = None
    notes: tuple[str, ...] = ()
    trees: tuple[str, str] = ("", "")  # the two trees' hashes: with the ids, what the page shows


def _row(
    kind: Literal["context", "added", "removed"], old: int | None, new: int | None, line: str
) -> DiffRow:
    shown, full = cut_line(line)
    text = Markup(str(escape(shown)).translate(BIDI_SPAN))  # escaped, then the spans added
    return DiffRow(kind, old, new, text + cut_note(full) if full else text)


def _span(start: int, stop: int) -> str:
    """A hunk header's range, as `difflib.unified_diff` writes it (`-0,0` for none)."""
    length = stop - start
    if length == 1:
        return str(start + 1)
    return f"{start + 1 if length else start},{length}"


def _hunks(
    matcher: difflib.SequenceMatcher[str], a: list[str], b: list[str], budget: int
) -> list[DiffRow]:
    """Rows of a unified diff with three lines of context, as `difflib.unified_diff`."""
    rows: list[DiffRow] = []
    for group in matcher.get_grouped_opcodes(3):
        i1, i2, j1, j2 = group[0][1], group[-1][2], group[0][3], group[-1][4]
        header = f"@@ -{_span(i1, i2)} +{_span(j1, j2)} @@"
        rows.append(DiffRow("hunk", None, None, Markup(escape(header))))
        for tag, x1, x2, y1, y2 in group:
            if tag == "equal":
                rows += [_row("context", x1 + k + 1, y1 + k + 1, a[x1 + k]) for k in range(x2 - x1)]
                continue
            rows += [_row("removed", k + 1, None, a[k]) for k in range(x1, x2)]
            rows += [_row("added", None, k + 1, b[k]) for k in range(y1, y2)]
        if len(rows) >= budget:
            return rows[:budget]
    return rows


def _file_diff(
    change: FileChange,
    old: bytes | None,
    new: bytes | None,
    entry: FileEntry,
    rows_left: int,
    budget: _Budget,
) -> FileDiff:
    sides = [data for data in (old, new) if data is not None]
    kinds = {kind_of(data) for data in sides}
    if "binary" in kinds:
        sizes = " → ".join(size_label(len(data)) for data in sides)
        return FileDiff(change, entry, (), (f"Binary file, {sizes}, not shown.",))
    notes = []
    if "invalid_utf8" in kinds:
        notes.append("Not valid UTF-8: shown with � for the bytes that are not.")
    if rows_left <= 0:
        notes.append("Not shown: the page's limit of diffs is reached; open the file.")
        return FileDiff(change, entry, (), tuple(notes))
    a, b = _lines(old or b""), _lines(new or b"")
    matcher, added, removed = _compare(a, b, budget)
    if matcher is None:
        notes.append("Too long to diff here: the line counts are the lines each side lacks.")
        return FileDiff(change, entry, (), tuple(notes))
    change = FileChange(change.path, change.kind, added, removed)  # as the rows show
    rows = _hunks(matcher, a, b, min(rows_left, MAX_FILE_DIFF_LINES))
    if not rows and change.kind == "changed":
        notes.append("No line differs once line endings are made the same.")
    elif len(rows) >= min(rows_left, MAX_FILE_DIFF_LINES):
        notes.append(f"The diff is cut after {len(rows):,} lines.")
    return FileDiff(change, entry, tuple(rows), tuple(notes))


@dataclass(frozen=True)
class _Body:
    """What a diff page shows of two trees, whichever uploads hold them."""

    changed: tuple[FileDiff, ...]
    removed: tuple[FileDiff, ...]
    identical: tuple[FileEntry, ...]
    added_lines: int
    removed_lines: int
    notes: tuple[str, ...]
    size: int  # about what it takes in memory, for the LRU


_bodies: Lru[tuple[str, str], _Body] = Lru(entries=512, max_bytes=32 << 20)


def _diff(
    before: SubmissionFiles, after: SubmissionFiles, scopes: tuple[CodeScope | None, CodeScope]
) -> DiffView:
    key = (before.tree_sha256, after.tree_sha256)
    body = _bodies.get(key)
    if body is None:
        body = _body(before, after)
        _bodies.put(key, body, body.size)
    return DiffView(
        *scopes,
        changed=body.changed,
        removed=body.removed,
        identical=body.identical,
        added_lines=body.added_lines,
        removed_lines=body.removed_lines,
        notes=body.notes,
        trees=key,
    )


def _body(before: SubmissionFiles, after: SubmissionFiles) -> _Body:
    changed: list[FileDiff] = []
    removed: list[FileDiff] = []
    rows_left, budget = MAX_PAGE_DIFF_LINES, _Budget()
    for number, change in enumerate(changes(before, after)):
        old, new = before.files.get(change.path), after.files.get(change.path)
        entry = after.entries.get(change.path) or before.entries[change.path]
        shown_rows = rows_left if number < MAX_PAGE_DIFF_FILES else 0
        shown = _file_diff(change, old, new, entry, shown_rows, budget)
        rows_left -= len(shown.rows)
        (removed if change.kind == "removed" else changed).append(shown)
    identical = tuple(
        entry
        for path, entry in after.entries.items()
        if before.files.get(path) == after.files[path]
    )
    all_changes = [d.change for d in (*changed, *removed)]
    size = sum(len(r.text) + 100 for d in (*changed, *removed) for r in d.rows)
    return _Body(
        changed=tuple(changed),
        removed=tuple(removed),
        identical=identical,
        added_lines=sum(c.added_lines for c in all_changes),
        removed_lines=sum(c.removed_lines for c in all_changes),
        notes=tuple(n for n in (before.note, after.note) if n),
        size=size + 200 * len(identical),
    )


def diff_view(
    session: Session,
    *,
    user: User,
    submission_id: int,
    exercises_dir: Path,
    to_submission_id: int | None = None,
) -> DiffView:
    """`submission_id` against its exercise's starter kit, or, with
    `to_submission_id`, the changes from one upload to another of the same invitation."""
    if to_submission_id is None:
        after = get_scope(session, user=user, submission_id=submission_id)
        kit = starter_files(exercises_dir, after.position.exercise_id)
        if isinstance(kit, str):
            return DiffView(None, after, problem=kit)
        return _diff(kit, readable(files_for(session, after, exercises_dir)), (None, after))
    first, second = get_upload_pair(
        session, user=user, before_id=submission_id, after_id=to_submission_id
    )
    return _diff(
        readable(files_for(session, first, exercises_dir)),
        readable(files_for(session, second, exercises_dir)),
        (first, second),
    )
