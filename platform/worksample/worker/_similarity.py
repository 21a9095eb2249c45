"""Similarity evidence, taken after a final submission is graded.

`fingerprint_final` runs right after a run's grade is stored (`process_run`).
For a graded final (not a practice run, not a rejected or failed grading) it
fingerprints the archive the grader read (`worksample.similarity`, the
exercise's starter excluded), stores a `SimilarityPrint`, and compares it with
the prints already stored for the same exercise in the same organisation.

- Incremental, bounded: the comparison reads the stored prints (a few kB each,
  zlib JSON), never another archive, and it is done once, when a final
  arrives. The prints are fed to a `SimilarityIndex` in the order they were
  stored, the new one last, so code held by many of the earlier finals is
  left out as common, as the library does for a batch (its `add` rule: the
  figures of a pair depend on what was stored before it).
- The starter excluded is the kit as candidates download it
  (`build_starter_kit`, read by the same intake as an upload), not only the
  exercise's `starter/` folder: the kit also holds generated files
  (`worksample.toml`) that every upload carries, which would otherwise make a
  final that is the kit alone 100% "found" in every other final.
- Which pairs are stored: every pair the library flags (`is_flagged`: the
  smaller side's share at `FLAGGED_SHARE` or above), and a pair below the flag
  whose longest fragment holds at least `NOTABLE_FRAGMENT` shared fingerprints
  (about ten lines written alike: one copied function in otherwise own work,
  15 fingerprints on the fixtures of tests/similarity). A pair below the flag
  with only shorter fragments is not stored: on those fixtures, independent
  solutions share fragments of exactly `MIN_FRAGMENT` (3) fingerprints, a
  metrics dict the brief asks for, which would list every candidate against
  every other on the candidate's file in a small organisation (with more
  than `COMMON_MIN` finals such code becomes common and is left out anyway).
- `a` is the final fingerprinted later, `b` the earlier one (normally the later
  and the earlier upload; a final whose grading was retried after an error
  may be fingerprinted after a later one).
- Idempotent: a final that already has a print of the current `SCHEME` is
  left as it is (a re-grade adds nothing); a print of an older scheme is taken
  again, and pairs already stored for the final stay, with any dismissal.
- One at a time per exercise and organisation: on PostgreSQL a transaction-
  scoped advisory lock; on SQLite the print's insert takes the database's
  write lock before the stored prints are read. So two workers finishing
  finals of one exercise at once cannot miss the pair between them.
- Never changes the grade: the run is finished and committed before, and any
  failure here is logged and swallowed.
"""

from __future__ import annotations

import hashlib
import logging
import zlib
from functools import lru_cache

from sqlalchemy import Engine, or_, text
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, select
from worksample.db import (
    Blob,
    GradingRun,
    Invitation,
    Position,
    RunStatus,
    SimilarityPair,
    SimilarityPrint,
    Submission,
    SubmissionKind,
)
from worksample.graders import build_starter_kit, find_exercise, read_zip
from worksample.settings import Settings
from worksample.similarity import (
    MIN_FRAGMENT,
    SCHEME,
    Comparison,
    Fingerprints,
    SimilarityIndex,
    fingerprint_files,
    is_flagged,
    starter_fingerprints,
)

__all__ = ["NOTABLE_FRAGMENT", "fingerprint_final", "worth_storing"]

log = logging.getLogger("worksample.similarity")
NOTABLE_FRAGMENT = 2 * MIN_FRAGMENT  # shared fingerprints: a pair below the flag is kept for it


def fingerprint_final(engine: Engine, *, settings: Settings, run_id: int) -> None:
    """Fingerprint the final submission of a graded run and store the pairs worth a
    look; nothing for any other run. Never raises: a failure is logged."""
    try:
        _fingerprint_final(engine, settings, run_id)
    except IntegrityError as exc:
        # Most likely another worker storing this final's print at the same moment
        # (SQLite takes no advisory lock); that one stores the pairs.
        log.warning("run %s: similarity evidence not stored: %s", run_id, exc.orig)
    except Exception:
        log.exception("run %s: similarity evidence not taken (the grade stands)", run_id)


def worth_storing(comparison: Comparison) -> bool:
    """Flagged, or holding a fragment long enough to be evidence (the module's rule)."""
    return is_flagged(comparison) or any(
        f.fingerprints >= NOTABLE_FRAGMENT for f in comparison.fragments
    )


def _encode(model: Fingerprints | Comparison) -> bytes:
    return zlib.compress(model.model_dump_json().encode())


def _decode_print(data: bytes) -> Fingerprints:
    return Fingerprints.model_validate_json(zlib.decompress(data))


def _fingerprint_final(engine: Engine, settings: Settings, run_id: int) -> None:
    with Session(engine) as session:
        row = session.exec(
            select(GradingRun, Submission, Position)
            .join(Submission, col(Submission.id) == GradingRun.submission_id)
            .join(Invitation, col(Invitation.id) == Submission.invitation_id)
            .join(Position, col(Position.id) == Invitation.position_id)
            .where(col(GradingRun.id) == run_id)
        ).first()
        if row is None:
            return
        run, submission, position = row
        if (
            run.status != RunStatus.graded
            or run.public_only
            or submission.kind != SubmissionKind.final
        ):
            return
        if _current_print(session, submission.id or 0):
            return
        blob = session.get(Blob, submission.archive_blob_id)
        if blob is None:
            return
        archive, submission_id = blob.data, submission.id or 0
        org_id, exercise_id = submission.org_id, position.exercise_id
    # The slow part (Pygments), outside any transaction.
    exercise = find_exercise(settings.exercises_dir, exercise_id)
    required = tuple(exercise.manifest.submission.required)
    fingerprints = fingerprint_files(
        read_zip(archive, required=required).files,
        # A label without the candidate's name: blind positions.
        name=f"submission {submission_id}",
        starter=_starter(build_starter_kit(exercise), required),
    )
    with Session(engine) as session:
        _serialise(session, org_id, exercise_id)
        if _current_print(session, submission_id):
            return
        _store_print(session, org_id, exercise_id, submission_id, fingerprints)
        stored = 0
        if fingerprints.hashes:  # starter code alone has none, and matches nothing
            stored = _store_pairs(session, org_id, exercise_id, submission_id, fingerprints)
        session.commit()
    log.info(
        "submission %s: %s fingerprints, %s pair(s) stored",
        submission_id,
        len(fingerprints.hashes),
        stored,
    )


def _current_print(session: Session, submission_id: int) -> bool:
    found = session.exec(
        select(SimilarityPrint.scheme).where(SimilarityPrint.submission_id == submission_id)
    ).first()
    return found == SCHEME


def _serialise(session: Session, org_id: int, exercise_id: str) -> None:
    """Hold the exercise's lock in this organisation until the transaction ends
    (PostgreSQL); SQLite serialises writers by itself (see the module's docstring)."""
    if session.get_bind().dialect.name != "postgresql":
        return
    digest = hashlib.blake2b(f"similarity:{org_id}:{exercise_id}".encode(), digest_size=8)
    key = int.from_bytes(digest.digest(), "big", signed=True)
    session.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": key})


def _store_print(
    session: Session, org_id: int, exercise_id: str, submission_id: int, fingerprints: Fingerprints
) -> None:
    found = session.exec(
        select(SimilarityPrint).where(SimilarityPrint.submission_id == submission_id)
    ).first()
    row = found or SimilarityPrint(
        org_id=org_id, exercise_id=exercise_id, submission_id=submission_id, scheme=SCHEME,
        fingerprints=0, data=b"",
    )  # fmt: skip
    row.scheme, row.fingerprints, row.data = SCHEME, len(fingerprints.hashes), _encode(fingerprints)
    session.add(row)
    session.flush()  # on SQLite, the write lock from here on


def _store_pairs(
    session: Session, org_id: int, exercise_id: str, submission_id: int, fingerprints: Fingerprints
) -> int:
    earlier = session.exec(
        select(SimilarityPrint.submission_id, SimilarityPrint.data)
        .where(
            SimilarityPrint.org_id == org_id,
            SimilarityPrint.exercise_id == exercise_id,
            SimilarityPrint.scheme == SCHEME,
            SimilarityPrint.submission_id != submission_id,
        )
        .order_by(col(SimilarityPrint.id))
    ).all()
    index = _StoredIndex()
    for _, data in earlier:
        index.load(_decode_print(data))
    comparisons = index.add(fingerprints)
    known = _paired_with(session, submission_id)
    stored = 0
    for (other_id, _), comparison in zip(earlier, comparisons, strict=True):
        if other_id in known or not worth_storing(comparison):
            continue
        session.add(
            SimilarityPair(
                org_id=org_id,
                exercise_id=exercise_id,
                a_id=submission_id,
                b_id=other_id,
                share_a=comparison.share_a,
                share_b=comparison.share_b,
                fragments=len(comparison.fragments),
                flagged=is_flagged(comparison),
                data=_encode(comparison),
            )
        )
        stored += 1
    return stored


def _paired_with(session: Session, submission_id: int) -> set[int]:
    """The finals already in a pair with this one, either way round."""
    rows = session.exec(
        select(SimilarityPair.a_id, SimilarityPair.b_id).where(
            or_(
                col(SimilarityPair.a_id) == submission_id,
                col(SimilarityPair.b_id) == submission_id,
            )
        )
    )
    return {b if a == submission_id else a for a, b in rows}


class _StoredIndex(SimilarityIndex):
    """An index that also takes stored fingerprints without comparing them: they
    were compared with what came before them when they arrived."""

    def load(self, fingerprints: Fingerprints) -> None:
        if (fingerprints.k, fingerprints.w, fingerprints.scheme) != (self.k, self.w, SCHEME):
            raise ValueError(f"{fingerprints.name}: fingerprinted with other parameters")
        # What `SimilarityIndex.add` does after its comparisons.
        at = len(self._stored)
        self._stored.append(fingerprints)
        for h in fingerprints.hash_set:
            self._postings[h].append(at)


@lru_cache(maxsize=16)
def _starter(kit: bytes, required: tuple[str, ...]) -> frozenset[int]:
    """The kit's k-gram hashes, placed as an upload's files are; once per kit
    (`build_starter_kit` keeps its bytes, so the key's hash is computed once)."""
    return starter_fingerprints(read_zip(kit, required=required).files)
