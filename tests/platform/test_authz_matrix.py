"""Who may do what: every route x every actor x own and other ids, plain and htmx.

The expected status of each cell is written out below. The route list comes
from the app itself: a new route that is not in the table fails
`test_every_route_is_in_the_matrix` until its row is added.

Actors are the three staff roles of "Own Org", anonymous, and the candidate of
one of Own Org's invitations. Scopes name whose ids go into the path: `own`
(Own Org's), `other` (Zebra Corp's, another organisation), `colleague`
(another candidate's of Own Org), and for links `revoked` and `bogus` tokens.
Besides the status, every cell checks that no byte of Zebra Corp's data comes
back, that Zebra Corp's rows never change, and that a refused request changes
nothing at all.
"""

from __future__ import annotations

import re
import zlib
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
from factories import (
    MINI_ADD,
    PASSWORD,
    make_invitation,
    make_org,
    make_position,
    make_run,
    make_submission,
    make_submission_zip,
    make_user,
)
from fastapi import FastAPI
from fastapi.routing import iter_route_contexts
from fastapi.testclient import TestClient
from infra import DB_KINDS, Database, Databases, make_settings
from pages import csrf_of
from sqlalchemy import Engine, text
from sqlmodel import Session, SQLModel
from starlette.routing import Mount
from worksample.db import (
    AuditEvent,
    OutboxMail,
    Review,
    ReviewStatus,
    Role,
    RunStatus,
    SimilarityPair,
    SubmissionKind,
    make_engine,
    utcnow,
)
from worksample.graders import load_exercise
from worksample.similarity import Comparison
from worksample.web.app import create_app
from worksample.web.assets import static_url
from worksample.web.deps import SESSION_COOKIE
from worksample.web.security import new_token
from worksample.web.services import auth

ACTORS = ("anonymous", "admin", "hiring_manager", "reviewer", "candidate")
OTHER_ORG_MARK = "zebra"  # in every name of the other organisation's rows

# "303|401": 303 for a plain request, 401 with `HX-Request: true`; one code: both.
MATRIX = """
method  path                                                  scope      anon     admin    manager  reviewer  candidate
GET     /                                                     -          303      303      303      303       303
GET     /healthz                                              -          200      200      200      200       200
GET     /favicon.ico                                          -          200      200      200      200       200
GET     /static/{asset}                                       asset      200      200      200      200       200
GET     /static/{asset}                                       stale      404      404      404      404       404
GET     /login                                                -          200      200      200      200       200
POST    /login                                                -          303      303      303      303       303
POST    /logout                                               -          303      303      303      303       303
GET     /positions                                            -          303|401  200      200      200       303|401
POST    /positions                                            -          403      303      303      403       303|401
GET     /positions/{position_id}                              own        303|401  200      200      200       303|401
GET     /positions/{position_id}                              other      303|401  404      404      404       303|401
GET     /positions/{position_id}/submissions                  own        303|401  200      200      200       303|401
GET     /positions/{position_id}/submissions                  other      303|401  404      404      404       303|401
GET     /positions/{position_id}/compare                      own        303|401  200      200      200       303|401
GET     /positions/{position_id}/compare                      other      303|401  404      404      404       303|401
GET     /positions/{position_id}/compare.csv                  own        303|401  200      200      200       303|401
GET     /positions/{position_id}/compare.csv                  other      303|401  404      404      404       303|401
GET     /positions/{position_id}/agreement                    own        303|401  200      200      200       303|401
GET     /positions/{position_id}/agreement                    other      303|401  404      404      404       303|401
POST    /positions/{position_id}/invitations                  own        403      303      303      403       303|401
POST    /positions/{position_id}/invitations                  other      403      404      404      404       303|401
GET     /invitations/{invitation_id}                          own        303|401  200      200      200       303|401
GET     /invitations/{invitation_id}                          other      303|401  404      404      404       303|401
POST    /invitations/{invitation_id}/notes                    own        403      303      303      303       303|401
POST    /invitations/{invitation_id}/notes                    other      403      404      404      404       303|401
POST    /invitations/{invitation_id}/decision                 own        403      303      303      403       303|401
POST    /invitations/{invitation_id}/decision                 other      403      404      404      404       303|401
POST    /invitations/{invitation_id}/reveal                   own        403      400      400      403       303|401
POST    /invitations/{invitation_id}/reveal                   other      403      404      404      404       303|401
POST    /invitations/{invitation_id}/resend                   own        403      303|200  303|200  403       303|401
POST    /invitations/{invitation_id}/resend                   other      403      404      404      404       303|401
POST    /invitations/{invitation_id}/extend                   own        403      303|200  303|200  403       303|401
POST    /invitations/{invitation_id}/extend                   other      403      404      404      404       303|401
POST    /invitations/{invitation_id}/revoke                   own        403      303|200  303|200  403       303|401
POST    /invitations/{invitation_id}/revoke                   other      403      404      404      404       303|401
POST    /invitations/{invitation_id}/archive                  own        403      400      400      400       303|401
POST    /invitations/{invitation_id}/archive                  other      403      404      404      404       303|401
GET     /runs/{run_id}                                        own        303|401  200      200      200       303|401
GET     /runs/{run_id}                                        other      303|401  404      404      404       303|401
GET     /runs/{run_id}/debrief                                own        303|401  400      400      400       303|401
GET     /runs/{run_id}/debrief                                other      303|401  404      404      404       303|401
POST    /runs/{run_id}/retry                                  own        403      303      303      403       303|401
POST    /runs/{run_id}/retry                                  other      403      404      404      404       303|401
GET     /submissions/{submission_id}/code/                    own        303|401  200      200      200       303|401
GET     /submissions/{submission_id}/code/                    other      303|401  404      404      404       303|401
GET     /submissions/{submission_id}/code/{path}              own        303|401  200      200      200       303|401
GET     /submissions/{submission_id}/code/{path}              other      303|401  404      404      404       303|401
GET     /submissions/{submission_id}/code/{path}              missing    303|401  404      404      404       303|401
GET     /submissions/{submission_id}/diff                     own        303|401  200      200      200       303|401
GET     /submissions/{submission_id}/diff                     other      303|401  404      404      404       303|401
GET     /submissions/{submission_id}/diff/{to_submission_id}  own        303|401  200      200      200       303|401
GET     /submissions/{submission_id}/diff/{to_submission_id}  other      303|401  404      404      404       303|401
GET     /submissions/{submission_id}/diff/{to_submission_id}  colleague  303|401  404      404      404       303|401
GET     /submissions/{submission_id}/diff/{to_submission_id}  mixed      303|401  404      404      404       303|401
GET     /submissions/{submission_id}/archive                  own        303|401  200      200      200       303|401
GET     /submissions/{submission_id}/archive                  other      303|401  404      404      404       303|401
GET     /reviews                                              -          303|401  200      200      200       303|401
POST    /invitations/{invitation_id}/reviews                  own        403      400      400      400       303|401
POST    /invitations/{invitation_id}/reviews                  final      403      303      400      400       303|401
POST    /invitations/{invitation_id}/reviews                  other      403      404      404      404       303|401
GET     /reviews/{review_id}                                  own        303|401  200      404      200       303|401
GET     /reviews/{review_id}                                  draft      303|401  404      200      404       303|401
GET     /reviews/{review_id}                                  other      303|401  404      404      404       303|401
POST    /reviews/{review_id}                                  own        403      403      403      400       303|401
POST    /reviews/{review_id}                                  draft      403      403      303      403       303|401
POST    /reviews/{review_id}                                  other      403      404      404      404       303|401
GET     /role-guide                                           -          303|401  200      200      200       303|401
GET     /exercises                                            -          303|401  200      200      200       303|401
GET     /exercises/mini-add                                   -          303|401  200      200      200       303|401
GET     /exercises/no-such-exercise                           -          303|401  404      404      404       303|401
GET     /exercises/mini-add/preview                           -          303|401  200      200      200       303|401
GET     /exercises/no-such-exercise/preview                   -          303|401  404      404      404       303|401
GET     /exercises/mini-add/kit                               -          303|401  200      200      200       303|401
GET     /exercises/no-such-exercise/kit                       -          303|401  404      404      404       303|401
GET     /similarity/{pair_id}                                 own        303|401  200      200      200       303|401
GET     /similarity/{pair_id}                                 other      303|401  404      404      404       303|401
POST    /similarity/{pair_id}/dismiss                         own        403      303      303      303       303|401
POST    /similarity/{pair_id}/dismiss                         other      403      404      404      404       303|401
GET     /outbox                                               -          303|401  200      403      403       303|401
GET     /audit                                                -          303|401  200      403      403       303|401
GET     /i/{token}                                            own        303      200      200      200       200
GET     /i/{token}                                            revoked    404      404      404      404       404
GET     /i/{token}                                            bogus      404      404      404      404       404
POST    /i/{token}                                            own        403      303      303      303       303
POST    /i/{token}                                            revoked    403      404      404      404       404
POST    /i/{token}                                            bogus      403      404      404      404       404
GET     /c                                                    -          403      403      403      403       200
POST    /c/start                                              -          403      403      403      403       303
GET     /c/kit                                                -          403      403      403      403       200
POST    /c/upload                                             -          403      403      403      403       303
GET     /c/runs/{run_id}                                      own        403      403      403      403       200
GET     /c/runs/{run_id}                                      colleague  403      403      403      403       404
GET     /c/runs/{run_id}                                      other      403      403      403      403       404
"""
SUBMITTED: dict[str, Any] = {
    "status": ReviewStatus.submitted,
    "total": 50.0,
    "submitted_at": utcnow(),
}
# Routes whose htmx answer is a partial, not a whole page.
PARTIALS = {
    "/positions/{position_id}",
    "/c/runs/{run_id}",
    "/invitations/{invitation_id}/resend",
    "/invitations/{invitation_id}/extend",
    "/invitations/{invitation_id}/revoke",
}
FORMS: dict[str, dict[str, str]] = {
    "/positions": {
        "title": "Data Engineer",
        "level": "Senior",
        "exercise_id": "mini-add",
        "window_days": "7",
        "practice_runs": "2",
    },
    "/positions/{position_id}/invitations": {
        "candidate_email": "new.person@example.com",
        "candidate_name": "New Person",
    },
    "/invitations/{invitation_id}/extend": {"days": "3"},
    "/invitations/{invitation_id}/notes": {"body": "Ask about the threshold."},
    "/invitations/{invitation_id}/decision": {"outcome": "advance", "reason": "Clear design."},
    "/c/upload": {"kind": "practice"},
    "/similarity/{pair_id}/dismiss": {"reason": "The brief's own sketch, read."},
}


@dataclass(frozen=True)
class Row:
    method: str
    path: str
    scope: str
    codes: dict[str, tuple[int, int]]  # actor -> (plain, htmx)


def parse(table: str) -> list[Row]:
    rows = []
    for line in table.strip().splitlines()[1:]:
        method, path, scope, *cells = line.split()
        assert len(cells) == len(ACTORS), line
        codes = {}
        for actor, cell in zip(ACTORS, cells, strict=True):
            plain, _, htmx = cell.partition("|")
            codes[actor] = (int(plain), int(htmx or plain))
        rows.append(Row(method, path, scope, codes))
    return rows


ROWS = parse(MATRIX)
CELLS = [
    pytest.param(row, actor, hx, id=f"{row.method} {row.path} {row.scope} {actor}{' hx' * hx}")
    for row in ROWS
    for actor in ACTORS
    for hx in (False, True)
]


# --- the world every cell starts from ---------------------------------------------


@dataclass
class World:
    template: Database  # seeded; each mutating cell gets a fresh copy of it
    sessions: dict[str, tuple[str, str]]  # actor -> (session token, CSRF token)
    ids: dict[str, dict[str, Any]]  # scope -> path parameters
    reviewer_email: str
    other_org_id: int
    data_dir: Path


def similarity_pair(a: Any, b: Any) -> SimilarityPair:
    """Two finals the worker found alike (figures made up; no fragments)."""
    comparison = Comparison(
        a=f"submission {a.id}", b=f"submission {b.id}", share_a=0.9, share_b=0.8,
        matched_a=9, matched_b=8, files_a=[], files_b=[], fragments=[],
    )  # fmt: skip
    return SimilarityPair(
        org_id=a.org_id, exercise_id="mini-add", a_id=a.id, b_id=b.id, share_a=0.9,
        share_b=0.8, fragments=0, flagged=True,
        data=zlib.compress(comparison.model_dump_json().encode()),
    )  # fmt: skip


def seed(engine: Engine) -> tuple[dict[str, tuple[str, str]], dict[str, dict[str, Any]], str, int]:
    with Session(engine) as s:
        own = make_org(s, name="Own Org")
        other = make_org(s, name="Zebra Corp")
        staff = {role: make_user(s, own, role=role) for role in Role}
        for role in Role:
            make_user(s, other, role=role, name=f"Zebra {role.value}")
        position = make_position(s, own)
        their_position = make_position(s, other, title="Zebra Secret Position")
        mine, _ = make_invitation(s, position)
        colleague, _ = make_invitation(s, position)
        _, link = make_invitation(s, position, started=False)
        _, revoked_link = make_invitation(s, position, revoked=True)
        theirs, _ = make_invitation(
            s, their_position, candidate_name="Zed Zebra", candidate_email="zed@zebra.example"
        )
        my_practice = make_submission(
            s,
            mine,
            kind=SubmissionKind.practice,
            data=make_submission_zip({"solution.py": "def add(a, b):\n    return a - b\n"}),
        )
        my_submission = make_submission(s, mine)
        my_run = make_run(s, my_submission, status=RunStatus.error, reason="lost")
        colleague_submission = make_submission(s, colleague, kind=SubmissionKind.practice)
        colleague_run = make_run(s, colleague_submission, status=RunStatus.graded)
        their_submission = make_submission(s, theirs)
        their_run = make_run(s, their_submission, status=RunStatus.error, reason="zebra failure")
        s.add(
            OutboxMail(
                org_id=other.id or 0,
                to="zed@zebra.example",
                subject="Zebra invitation",
                body="zebra",
                status="outbox",
            )
        )
        s.add(AuditEvent(org_id=other.id or 0, actor="zebra", action="zebra", target="zebra"))
        pal, _ = make_invitation(s, position)
        my_pair = similarity_pair(my_submission, make_submission(s, pal))
        their_pair = similarity_pair(
            their_submission, make_submission(s, make_invitation(s, their_position)[0])
        )
        s.add_all([my_pair, their_pair])
        s.flush()
        # The reviewer's submitted review of the final, the hiring manager's
        # draft of it (so the reviewer's is hidden from them), a Zebra review.
        exercise = load_exercise(MINI_ADD)
        rubric = exercise.manifest.rubric.model_dump_json()
        their_reviewer = make_user(s, other, role=Role.reviewer, name="Zebra reviewing")
        reviews = {
            scope: Review(
                org_id=sub.org_id,
                invitation_id=sub.invitation_id,
                submission_id=sub.id or 0,
                reviewer_id=by.id or 0,
                assigned_by=by.id or 0,
                rubric=rubric,
                exercise_hash=exercise.content_hash,
                **done,
            )
            for scope, sub, by, done in (
                ("own", my_submission, staff[Role.reviewer], SUBMITTED),
                ("draft", my_submission, staff[Role.hiring_manager], {}),
                ("other", their_submission, their_reviewer, SUBMITTED),
            )
        }
        s.add_all(reviews.values())
        s.commit()
        sessions = {}
        for role, user in staff.items():
            made = auth.start_session(s, user=user)
            sessions[role.value] = (made.token, made.session.csrf_token)
        made = auth.start_session(s, invitation=mine)
        sessions["candidate"] = (made.token, made.session.csrf_token)
        ids = {
            "own": {
                "review_id": reviews["own"].id,
                "position_id": position.id,
                "invitation_id": colleague.id,
                "run_id": my_run.id,
                "token": link,
                "submission_id": my_submission.id,
                "to_submission_id": my_practice.id,
                "path": "solution.py",
                "pair_id": my_pair.id,
            },
            "other": {
                "review_id": reviews["other"].id,
                "position_id": their_position.id,
                "invitation_id": theirs.id,
                "run_id": their_run.id,
                "submission_id": their_submission.id,
                "to_submission_id": their_submission.id,
                "path": "solution.py",
                "pair_id": their_pair.id,
            },
            "colleague": {
                "run_id": colleague_run.id,
                "submission_id": my_submission.id,
                "to_submission_id": colleague_submission.id,
            },
            "final": {"invitation_id": mine.id},
            "draft": {"review_id": reviews["draft"].id},
            "missing": {"submission_id": my_submission.id, "path": "no/such/file.py"},
            "mixed": {"submission_id": my_submission.id, "to_submission_id": their_submission.id},
            "revoked": {"token": revoked_link},
            "bogus": {"token": new_token()},
            "asset": {"asset": static_url("style.css").removeprefix("/static/")},
            "stale": {"asset": "style.css"},  # unhashed
        }
        return sessions, ids, staff[Role.reviewer].email, other.id or 0


@pytest.fixture(scope="module", params=DB_KINDS)
def world(
    request: pytest.FixtureRequest,
    databases: Databases,
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[World]:
    template = databases.create(request.param)
    engine = make_engine(template.url)
    try:
        sessions, ids, reviewer, other_org = seed(engine)
        if template.kind == "sqlite":
            with engine.connect() as conn:  # everything into the file that gets copied
                conn.execute(text("PRAGMA wal_checkpoint(TRUNCATE)"))
    finally:
        engine.dispose()  # a PostgreSQL template must have no connections
    world = World(template, sessions, ids, reviewer, other_org, tmp_path_factory.mktemp("matrix"))
    yield world
    databases.drop(template)


@pytest.fixture(scope="module")
def shared_app(world: World, databases: Databases) -> Iterator[FastAPI]:
    """One app on one copy of the world, for the cells that must change nothing:
    reads, and refusals (each asserts that it changed nothing)."""
    db = databases.create(world.template.kind, template=world.template)
    app = create_app(make_settings(db, world.data_dir / "shared"), start_worker=False)
    yield app
    app.state.engine.dispose()
    databases.drop(db)


# --- the cells ------------------------------------------------------------------


def send(client: TestClient, world: World, row: Row, actor: str, hx: bool) -> httpx.Response:
    url = row.path.format(**world.ids.get(row.scope, {}))
    headers = {"HX-Request": "true"} if hx else {}
    token, csrf = world.sessions.get(actor, ("", ""))
    if token:
        client.cookies.set(SESSION_COOKIE, token)
    if row.method == "GET":
        return client.get(url, headers=headers)
    if row.path == "/login":
        login_csrf = csrf_of(client.get("/login"))
        form = {"email": world.reviewer_email, "password": PASSWORD}
        return client.post(url, data={**form, "csrf_token": login_csrf}, headers=headers)
    data = dict(FORMS.get(row.path, {}))
    if csrf:
        data["csrf_token"] = csrf  # htmx sends the form's fields and the header
        if hx:
            headers["X-CSRF-Token"] = csrf
    files = None
    if row.path == "/c/upload":
        files = {"archive": ("solution.zip", make_submission_zip(), "application/zip")}
    return client.post(url, data=data, files=files, headers=headers)


def snapshot(engine: Engine, *, org_id: int | None = None) -> dict[str, list[tuple[Any, ...]]]:
    """Every row (of one organisation, if given) but the session and log-in tables."""
    rows: dict[str, list[tuple[Any, ...]]] = {}
    with engine.connect() as conn:
        for table in SQLModel.metadata.sorted_tables:
            if table.name in ("websession", "loginattempt"):
                continue
            query = table.select().order_by(*table.primary_key.columns)
            if org_id is not None:
                if "org_id" not in table.columns:
                    continue
                query = query.where(table.columns["org_id"] == org_id)
            rows[table.name] = [tuple(r) for r in conn.execute(query)]
    return rows


def refused(row: Row, actor: str, hx: bool) -> bool:
    plain, htmx = row.codes[actor]
    login_required = (plain, htmx) == (303, 401)
    return login_required or row.codes[actor][hx] in (400, 401, 403, 404)


@pytest.mark.parametrize(("row", "actor", "hx"), CELLS)
def test_matrix(
    world: World, shared_app: FastAPI, databases: Databases, row: Row, actor: str, hx: bool
) -> None:
    expected = row.codes[actor][hx]
    if row.method == "GET" or refused(row, actor, hx):
        engine = shared_app.state.engine
        before = snapshot(engine) if row.method != "GET" else {}
        # No `with`: the shared app's lifespan (and its engine) outlive the cell.
        response = send(TestClient(shared_app, follow_redirects=False), world, row, actor, hx)
        check(response, row, actor, hx, expected)
        if row.method != "GET":
            assert snapshot(engine) == before, f"refused {row.method} {row.path} changed rows"
        return
    # A request that is let through changes things: on a copy of its own.
    db = databases.create(world.template.kind, template=world.template)
    app = create_app(make_settings(db, world.data_dir / Path(db.name).name), start_worker=False)
    try:
        before = snapshot(app.state.engine, org_id=world.other_org_id)
        response = send(TestClient(app, follow_redirects=False), world, row, actor, hx)
        check(response, row, actor, hx, expected)
        after = snapshot(app.state.engine, org_id=world.other_org_id)
        assert after == before, f"{row.method} {row.path} as {actor} changed Zebra Corp's rows"
    finally:
        app.state.engine.dispose()
        databases.drop(db)


def check(response: httpx.Response, row: Row, actor: str, hx: bool, expected: int) -> None:
    where = f"{row.method} {row.path} [{row.scope}] as {actor}{' (htmx)' if hx else ''}"
    assert response.status_code == expected, (
        f"{where}: {response.status_code}, expected {expected}\n{response.text[:400]}"
    )
    assert OTHER_ORG_MARK not in response.text.lower(), f"{where}: another org's data leaked"
    if row.codes[actor] == (303, 401) and not hx:
        assert response.headers["location"].startswith("/login?next=%2F"), where
    if expected == 401:
        assert response.headers["HX-Redirect"] == "/login", where
    if expected == 200 and row.path in PARTIALS:
        whole_page = "<html" in response.text
        assert whole_page is not hx, f"{where}: htmx gets the partial, a browser the page"


# --- the table covers the app ---------------------------------------------------------


def route_patterns(app: FastAPI) -> list[tuple[str, str]]:
    found = []
    for context in iter_route_contexts(app.routes):
        route = context.original_route
        if isinstance(route, Mount):
            found.append(("GET", f"{route.path}/{{path}}"))
            continue
        found += [(m, str(context.path)) for m in sorted(context.methods or ()) if m != "HEAD"]
    return found


def _regex(pattern: str) -> re.Pattern[str]:
    return re.compile(re.sub(r"\\\{[^}]+\\\}", "[^/]+", re.escape(pattern)))


@pytest.mark.parametrize("db", ["sqlite"], indirect=True)
def test_every_route_is_in_the_matrix(app: FastAPI) -> None:
    routes = route_patterns(app)
    covered: dict[tuple[str, str], set[str]] = {route: set() for route in routes}
    for row in ROWS:
        matches = [
            (method, pattern)
            for method, pattern in routes
            if method == row.method and _regex(pattern).fullmatch(row.path)
        ]
        # Where patterns overlap (`/notes` and `/{action}`, a Mount and a route
        # under it), the one with the most literal text wins, as the app's own
        # route order has it.
        assert matches, f"matrix row {row.method} {row.path} matches no route of the app"
        best = max(matches, key=lambda m: len(re.sub(r"\{[^}]+\}", "", m[1])))
        covered[best].add(row.scope)
    missing = [f"{m} {p}" for (m, p), scopes in covered.items() if not scopes]
    assert not missing, f"routes missing from the authorisation matrix: {missing}"
    for (method, pattern), scopes in covered.items():
        if re.search(r"\{(position_id|invitation_id|run_id|submission_id|review_id)\}", pattern):
            assert {"own", "other"} <= scopes, f"{method} {pattern} needs own and other ids"
