"""Pages that list a position's candidates cost the same number of queries for
3 candidates as for 30: they were two queries per candidate (the pipeline of
200 took 5.8 s at p95 in benchmarks/web.py)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from factories import make_invitation, make_position, make_run, make_submission
from fastapi.testclient import TestClient
from pages import sign_in
from sqlalchemy import Engine, event
from sqlmodel import Session
from worksample.db import Organisation, Position, RunStatus, SubmissionKind, User


@contextmanager
def counted(engine: Engine) -> Iterator[list[str]]:
    statements: list[str] = []

    def record(conn, cursor, statement, parameters, context, executemany):  # type: ignore[no-untyped-def]
        statements.append(statement)

    event.listen(engine, "before_cursor_execute", record)
    try:
        yield statements
    finally:
        event.remove(engine, "before_cursor_execute", record)


def add_candidates(session: Session, position: Position, count: int) -> None:
    for _ in range(count):
        invitation, _ = make_invitation(session, position)
        make_submission(session, invitation, kind=SubmissionKind.practice)
        make_run(session, make_submission(session, invitation), status=RunStatus.graded, score=50)


def test_listing_pages_cost_the_same_queries_for_any_number_of_candidates(
    client: TestClient, db_session: Session, admin: User
) -> None:
    position = make_position(db_session, db_session.get(Organisation, admin.org_id))
    sign_in(client, db_session, admin)
    engine = client.app.state.engine  # type: ignore[attr-defined]
    costs: dict[int, dict[str, int]] = {}
    for total in (3, 30):
        add_candidates(db_session, position, 3 if total == 3 else 27)
        costs[total] = {}
        for page in (f"/positions/{position.id}", f"/positions/{position.id}/submissions"):
            with counted(engine) as statements:
                response = client.get(page)
            assert response.status_code == 200
            assert response.text.count("/runs/") >= total, page
            costs[total][page] = len(statements)
    assert costs[3] == costs[30], costs
