"""Similarity evidence in the platform: the worker's step after a final is graded,
the candidate's file, the pair's page and its dismissal.

Finals are real archives of ml-churn-pipeline, zipped as a candidate zips the
kit (`candidate_zip`: the kit's folder with the candidate's files over it),
from tests/similarity/submissions: alice, alice-renamed (alice with other
names, layout and comments), bob (written on his own) and carol (her own
work, but bob's `best_threshold` copied into it). Their runs are stored as
graded, then the worker's step runs on them as it does after a grading; the
grading itself is real (local backend, mini-add) where the step is checked
inside `process_run`.
"""

from __future__ import annotations

import logging
import re
import threading
import zlib
from collections.abc import Callable
from pathlib import Path

import pytest
from factories import (
    EXERCISES,
    MINI_ADD,
    make_invitation,
    make_org,
    make_position,
    make_run,
    make_submission,
    make_submission_zip,
    make_user,
)
from fastapi.testclient import TestClient
from infra import Database, make_settings
from pages import sign_in, text
from sqlalchemy import Engine
from sqlmodel import Session, select
from worksample.db import (
    AuditEvent,
    GradingRun,
    Invitation,
    Organisation,
    Position,
    Role,
    RunStatus,
    SimilarityPair,
    SimilarityPrint,
    Submission,
    SubmissionKind,
    User,
    utcnow,
)
from worksample.graders import find_exercise
from worksample.settings import Settings
from worksample.web.services.demo import candidate_zip
from worksample.web.services.identity import pseudonym
from worksample.worker import process_run
from worksample.worker._similarity import fingerprint_final

ROOT = Path(__file__).resolve().parents[2]
CHURN = "ml-churn-pipeline"
FIXTURES = ROOT / "tests" / "similarity" / "submissions"
NOT_A_VERDICT = "Shared code is evidence to read, not a verdict."


@pytest.fixture
def settings(db: Database, tmp_path: Path) -> Settings:
    """The repository's exercises: ml-churn-pipeline's kit is what is excluded."""
    return make_settings(db, tmp_path / "var", exercises_dir=ROOT / "exercises")


@pytest.fixture
def churn(db_session: Session, org: Organisation) -> Position:
    return make_position(db_session, org, title="ML Engineer", exercise_id=CHURN)


Final = Callable[..., GradingRun]
Copied = tuple[GradingRun, GradingRun, SimilarityPair]


@pytest.fixture
def final(db_session: Session, settings: Settings) -> Final:
    """A candidate of `position` whose final (the kit with `work` over it, or the kit
    alone) is graded; its run."""
    exercise = find_exercise(settings.exercises_dir, CHURN)

    def make(position: Position, work: str | None, **invitation: str) -> GradingRun:
        candidate, _ = make_invitation(db_session, position, **invitation)
        data = candidate_zip(exercise, FIXTURES / work if work else None)
        submission = make_submission(db_session, candidate, data=data, filename=f"{work}.zip")
        return make_run(
            db_session, submission, status=RunStatus.graded, score=80.0, finished_at=utcnow()
        )

    return make


def own_org(session: Session, position: Position) -> Organisation:
    found = session.get(Organisation, position.org_id)
    assert found is not None
    return found


def fingerprint(engine: Engine, settings: Settings, *runs: GradingRun) -> None:
    for run in runs:
        fingerprint_final(engine, settings=settings, run_id=run.id or 0)


def submission_of(session: Session, run: GradingRun) -> Submission:
    found = session.get(Submission, run.submission_id)
    assert found is not None
    return found


def invitation_of(session: Session, run: GradingRun) -> Invitation:
    found = session.get(Invitation, submission_of(session, run).invitation_id)
    assert found is not None
    return found


def pairs(session: Session) -> dict[tuple[int, int], SimilarityPair]:
    session.expire_all()
    return {(p.a_id, p.b_id): p for p in session.exec(select(SimilarityPair))}


def prints(session: Session) -> dict[int, SimilarityPrint]:
    session.expire_all()
    return {p.submission_id: p for p in session.exec(select(SimilarityPrint))}


# --- the worker's step -------------------------------------------------------------------


def test_a_renamed_copy_is_flagged_and_an_independent_final_is_not(
    db_session: Session, engine: Engine, settings: Settings, churn: Position, final: Final
) -> None:
    alice, bob, copy = final(churn, "alice"), final(churn, "bob"), final(churn, "alice-renamed")
    fingerprint(engine, settings, alice, bob, copy)
    assert set(prints(db_session)) == {alice.submission_id, bob.submission_id, copy.submission_id}
    assert all(p.fingerprints > 100 and p.scheme == 1 for p in prints(db_session).values())
    found = pairs(db_session)
    # Only the copy against its source: bob shares nothing but idioms with either.
    assert list(found) == [(copy.submission_id, alice.submission_id)]
    pair = found[(copy.submission_id, alice.submission_id)]
    assert pair.flagged and pair.share_a >= 0.8 and pair.share_b >= 0.8
    assert pair.fragments >= 1 and pair.org_id == churn.org_id and pair.exercise_id == CHURN
    assert pair.dismissed_at is None


def test_a_copied_function_in_own_work_is_kept_below_the_flag(
    db_session: Session, engine: Engine, settings: Settings, churn: Position, final: Final
) -> None:
    alice, bob, carol = final(churn, "alice"), final(churn, "bob"), final(churn, "carol")
    fingerprint(engine, settings, alice, bob, carol)
    found = pairs(db_session)
    # carol and alice share a metrics dict of three fingerprints, an idiom: not kept.
    assert list(found) == [(carol.submission_id, bob.submission_id)]
    pair = found[(carol.submission_id, bob.submission_id)]
    assert not pair.flagged and pair.fragments == 1 and max(pair.share_a, pair.share_b) < 0.5


def test_the_kit_alone_is_not_flagged_against_anyone(
    db_session: Session, engine: Engine, settings: Settings, churn: Position, final: Final
) -> None:
    """The kit as downloaded is excluded, its generated worksample.toml included:
    a final that is the kit alone has no fingerprints and matches nothing."""
    alice, kit, other_kit = final(churn, "alice"), final(churn, None), final(churn, None)
    fingerprint(engine, settings, alice, kit, other_kit)
    assert prints(db_session)[kit.submission_id].fingerprints == 0
    assert pairs(db_session) == {}


def test_a_second_run_or_grading_adds_nothing(
    db_session: Session, engine: Engine, settings: Settings, churn: Position, final: Final
) -> None:
    alice, copy = final(churn, "alice"), final(churn, "alice-renamed")
    fingerprint(engine, settings, alice, copy)
    before = (
        {k: (p.id, p.data) for k, p in prints(db_session).items()},
        {k: (p.id, p.data) for k, p in pairs(db_session).items()},
    )
    regrade = make_run(
        db_session, submission_of(db_session, copy), status=RunStatus.graded, score=90.0,
        finished_at=utcnow(),
    )  # fmt: skip
    fingerprint(engine, settings, copy, alice, regrade)
    after = (
        {k: (p.id, p.data) for k, p in prints(db_session).items()},
        {k: (p.id, p.data) for k, p in pairs(db_session).items()},
    )
    assert after == before and len(before[1]) == 1


def test_only_graded_finals_are_fingerprinted(
    db_session: Session, engine: Engine, settings: Settings, churn: Position, final: Final
) -> None:
    exercise = find_exercise(settings.exercises_dir, CHURN)
    candidate, _ = make_invitation(db_session, churn)
    practice = make_submission(
        db_session, candidate, kind=SubmissionKind.practice,
        data=candidate_zip(exercise, FIXTURES / "alice"),
    )  # fmt: skip
    practice_run = make_run(db_session, practice, status=RunStatus.graded, score=50.0)
    rejected = final(churn, "alice")
    rejected.status = RunStatus.rejected
    db_session.add(rejected)
    db_session.commit()
    errored = final(churn, "alice-renamed")
    errored.status = RunStatus.error
    db_session.add(errored)
    db_session.commit()
    fingerprint(engine, settings, practice_run, rejected, errored)
    fingerprint_final(engine, settings=settings, run_id=10**9)  # no such run: nothing
    assert prints(db_session) == {}


def test_finals_of_another_organisation_or_exercise_are_not_compared(
    db_session: Session, engine: Engine, settings: Settings, churn: Position, final: Final
) -> None:
    theirs = make_position(db_session, make_org(db_session), exercise_id=CHURN)
    alice = final(churn, "alice")
    copy_elsewhere = final(theirs, "alice-renamed")
    fingerprint(engine, settings, alice, copy_elsewhere)
    assert len(prints(db_session)) == 2 and pairs(db_session) == {}
    # Another position of the same exercise in the same organisation is compared.
    second = make_position(db_session, own_org(db_session, churn), exercise_id=CHURN)
    copy = final(second, "alice-renamed")
    fingerprint(engine, settings, copy)
    assert list(pairs(db_session)) == [(copy.submission_id, alice.submission_id)]


def test_two_workers_at_once_store_the_pair_between_them_once(
    db_session: Session, engine: Engine, settings: Settings, churn: Position, final: Final
) -> None:
    alice, copy = final(churn, "alice"), final(churn, "alice-renamed")
    errors: list[BaseException] = []

    def step(run: GradingRun) -> None:
        try:
            fingerprint_final(engine, settings=settings, run_id=run.id or 0)
        except BaseException as exc:  # pragma: no cover - the step never raises
            errors.append(exc)

    threads = [threading.Thread(target=step, args=(run,)) for run in (alice, copy)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert errors == [] and len(prints(db_session)) == 2
    found = pairs(db_session)
    assert len(found) == 1 and next(iter(found.values())).flagged


# --- inside process_run: a real grading ---------------------------------------------------


def graded_final(
    db_session: Session, org: Organisation, solution: Path, position: Position | None = None
) -> int:
    """A mini-add final, queued for `process_run` to grade; its run's id."""
    candidate, _ = make_invitation(db_session, position or make_position(db_session, org))
    submission = make_submission(db_session, candidate, data=make_submission_zip(solution=solution))
    return make_run(db_session, submission).id or 0


def test_process_run_fingerprints_a_graded_final(
    db_session: Session, engine: Engine, settings: Settings, org: Organisation
) -> None:
    local = settings.model_copy(update={"exercises_dir": EXERCISES})
    position = make_position(db_session, org)
    runs = [
        graded_final(db_session, org, MINI_ADD / path / "solution.py", position=position)
        for path in ("reference", "faulty/off-by-one")
    ]
    for run_id in runs:
        assert process_run(engine, settings=local, run_id=run_id, worker="test").status == "done"
    db_session.expire_all()
    graded = [db_session.get(GradingRun, run_id) for run_id in runs]
    assert [r.status if r else None for r in graded] == [RunStatus.graded, RunStatus.graded]
    (pair,) = pairs(db_session).values()
    ids = [r.submission_id for r in graded if r]
    assert pair.flagged and (pair.a_id, pair.b_id) == (ids[1], ids[0])  # the later one is a


def test_a_failure_in_fingerprinting_leaves_the_grade_untouched(
    db_session: Session,
    engine: Engine,
    settings: Settings,
    org: Organisation,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    local = settings.model_copy(update={"exercises_dir": EXERCISES})

    def broken(*args: object, **kwargs: object) -> None:
        raise RuntimeError("tokeniser exploded")

    monkeypatch.setattr("worksample.worker._similarity.fingerprint_files", broken)
    run_id = graded_final(db_session, org, MINI_ADD / "reference" / "solution.py")
    with caplog.at_level(logging.ERROR, logger="worksample.similarity"):
        outcome = process_run(engine, settings=local, run_id=run_id, worker="test")
    assert outcome.status == "done"
    db_session.expire_all()
    run = db_session.get(GradingRun, run_id)
    assert run is not None
    assert (run.status, run.score, run.reason, run.attempts) == (RunStatus.graded, 100.0, "", 1)
    assert run.report_blob_id is not None and run.lease_until is None
    assert prints(db_session) == {}
    assert any(
        "similarity evidence not taken" in r.getMessage() and r.exc_info for r in caplog.records
    )


# --- the pages -----------------------------------------------------------------------------


@pytest.fixture
def copied(
    db_session: Session, engine: Engine, settings: Settings, churn: Position, final: Final
) -> Copied:
    """alice's final and her renamed copy's, in one organisation, and their flagged pair."""
    alice = final(churn, "alice", candidate_name="Alice Original")
    copy = final(churn, "alice-renamed", candidate_name="Rena Copy")
    fingerprint(engine, settings, alice, copy)
    (pair,) = pairs(db_session).values()
    return alice, copy, pair


def test_the_candidates_file_lists_the_pairs_of_the_final(
    client: TestClient, db_session: Session, admin: User, copied: Copied
) -> None:
    alice, copy, pair = copied
    sign_in(client, db_session, admin)
    page = text(client.get(f"/invitations/{invitation_of(db_session, alice).id}"))
    section = page[page.index('id="similarity"') :]
    assert "1 flagged" in section and "Rena Copy" in section
    assert f'href="/similarity/{pair.id}"' in section and NOT_A_VERDICT in section
    # From alice's side: the share of hers found in the copy, then the reverse.
    assert f"{100 * pair.share_b:.0f}%" in section
    page = text(client.get(f"/invitations/{invitation_of(db_session, copy).id}"))
    assert "Alice Original" in page[page.index('id="similarity"') :]


def test_the_candidates_file_says_when_nothing_was_found_or_compared(
    client: TestClient,
    db_session: Session,
    engine: Engine,
    settings: Settings,
    admin: User,
    churn: Position,
    final: Final,
) -> None:
    sign_in(client, db_session, admin)
    nothing_yet, _ = make_invitation(db_session, churn)
    assert "once it is graded" in text(client.get(f"/invitations/{nothing_yet.id}"))
    bob = final(churn, "bob")
    assert "Not compared yet" in text(
        client.get(f"/invitations/{invitation_of(db_session, bob).id}")
    )
    kit = final(churn, None)
    fingerprint(engine, settings, bob, kit)
    page = text(client.get(f"/invitations/{invitation_of(db_session, kit).id}"))
    assert "no code of its own beyond the kit" in page


def test_the_pair_page_shows_the_fragments_side_by_side(
    client: TestClient, db_session: Session, admin: User, copied: Copied
) -> None:
    alice, copy, pair = copied
    sign_in(client, db_session, admin)
    response = client.get(f"/similarity/{pair.id}")
    assert response.status_code == 200
    page = text(response)
    assert "Rena Copy" in page and "Alice Original" in page
    assert NOT_A_VERDICT in page and "not found" in page  # the limits, too
    for share in (pair.share_a, pair.share_b):
        assert f'{100 * share:.0f}<span class="muted">%</span>' in response.text
    # Both files, with line ranges and links to the lines in the code browser.
    assert "solution/churn.py" in page and "solution/pipeline.py" in page
    assert re.search(r"lines \d+\u2013\d+", page)
    assert f"/submissions/{copy.submission_id}/code/solution/churn.py#L" in page
    assert f"/submissions/{alice.submission_id}/code/solution/pipeline.py#L" in page
    # Highlighted as the code browser highlights: Pygments' spans, escaped.
    assert '<span class="k">def</span>' in response.text
    assert response.headers["Content-Security-Policy"]
    # The form to dismiss it, with the session's CSRF token.
    assert 'action="/similarity/' in response.text and 'name="reason"' in response.text


def test_dismissing_needs_a_reason_and_is_in_the_audit_trail(
    client: TestClient, db_session: Session, org: Organisation, copied: Copied
) -> None:
    *_, pair = copied
    reviewer = make_user(db_session, org, role=Role.reviewer)
    csrf = sign_in(client, db_session, reviewer)
    url = f"/similarity/{pair.id}/dismiss"
    for blank in ("", "   \n "):
        refused = client.post(url, data={"csrf_token": csrf, "reason": blank})
        assert refused.status_code == 400
        assert "Say why you dismiss this pair" in text(refused)
        assert 'role="alert"' in refused.text and "Fragments side by side" in refused.text
    assert client.post(url, data={"reason": "no token"}).status_code == 403
    db_session.refresh(pair)
    assert pair.dismissed_at is None
    dismissals = select(AuditEvent).where(AuditEvent.action == "similarity.dismiss")
    assert db_session.exec(dismissals).all() == []

    reason = "Both follow the brief's pipeline sketch; asked in the interview."
    done = client.post(url, data={"csrf_token": csrf, "reason": f"  {reason} "})
    assert done.status_code == 303
    assert done.headers["location"] == f"/similarity/{pair.id}#dismissal"
    db_session.refresh(pair)
    assert (pair.dismissed_by, pair.dismissed_reason) == (reviewer.id, reason)
    assert pair.dismissed_at is not None and pair.flagged  # kept, for the record
    (event,) = db_session.exec(dismissals)
    assert (event.actor, event.target) == (reviewer.email, f"similarity:{pair.id}")
    assert event.org_id == org.id
    assert reason in event.detail
    page = text(client.get(f"/similarity/{pair.id}"))
    assert f"by {reviewer.name}" in page and reason in page and 'name="reason"' not in page
    again = client.post(url, data={"csrf_token": csrf, "reason": "twice"})
    assert again.status_code == 400 and "already been dismissed" in text(again)


def test_the_dismissed_pair_shows_as_such_on_the_file(
    client: TestClient, db_session: Session, admin: User, copied: Copied
) -> None:
    alice, _, pair = copied
    csrf = sign_in(client, db_session, admin)
    client.post(f"/similarity/{pair.id}/dismiss", data={"csrf_token": csrf, "reason": "Read."})
    section = text(client.get(f"/invitations/{invitation_of(db_session, alice).id}"))
    section = section[section.index('id="similarity"') :]
    assert "dismissed" in section and "1 flagged" not in section


def test_another_organisations_pair_is_not_found(
    client: TestClient, db_session: Session, copied: Copied
) -> None:
    *_, pair = copied
    stranger = make_user(db_session, make_org(db_session, name="Zebra Corp"), role=Role.admin)
    csrf = sign_in(client, db_session, stranger)
    assert client.get(f"/similarity/{pair.id}").status_code == 404
    answer = client.post(
        f"/similarity/{pair.id}/dismiss", data={"csrf_token": csrf, "reason": "not mine"}
    )
    assert answer.status_code == 404 and "Alice" not in answer.text
    assert client.get("/similarity/999999").status_code == 404
    db_session.refresh(pair)
    assert pair.dismissed_at is None


def test_blind_positions_show_pseudonyms_on_the_pair_and_the_file(
    client: TestClient,
    db_session: Session,
    engine: Engine,
    settings: Settings,
    org: Organisation,
    final: Final,
) -> None:
    """Both positions blind: the pair's page and each file name the other
    candidate by pseudonym, and the stored comparison holds no name."""
    blind = make_position(db_session, org, exercise_id=CHURN, blind=True)
    also_blind = make_position(db_session, org, exercise_id=CHURN, blind=True)
    alice = final(blind, "alice", candidate_name="Zelda Quokka", candidate_email="z@secret.example")
    copy = final(also_blind, "alice-renamed", candidate_name="Fenwick Otter")
    fingerprint(engine, settings, alice, copy)
    (pair,) = pairs(db_session).values()
    names = [pseudonym(invitation_of(db_session, run)) for run in (alice, copy)]
    sign_in(client, db_session, make_user(db_session, org, role=Role.reviewer))
    pages = [
        client.get(f"/similarity/{pair.id}"),
        client.get(f"/invitations/{invitation_of(db_session, alice).id}"),
        client.get(f"/invitations/{invitation_of(db_session, copy).id}"),
    ]
    for response in pages:
        assert response.status_code == 200
        assert not re.search(r"zelda|quokka|fenwick|otter|secret\.example", response.text, re.I)
    assert all(name in text(pages[0]) for name in names)
    assert names[1] in text(pages[1]) and names[0] in text(pages[2])
    stored = [p.data for p in db_session.exec(select(SimilarityPair))]
    stored += [p.data for p in db_session.exec(select(SimilarityPrint))]
    assert len(stored) == 3
    assert not any(re.search(rb"Zelda|Fenwick", zlib.decompress(data)) for data in stored)
