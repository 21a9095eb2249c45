"""Log-in, sessions, links and what pages may contain."""

from __future__ import annotations

import re
import shutil
import threading
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from email import message_from_bytes
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import pytest
from factories import (
    MINI_ADD,
    PASSWORD,
    make_invitation,
    make_org,
    make_position,
    make_submission_zip,
    make_user,
)
from fastapi import FastAPI
from fastapi.testclient import TestClient
from infra import Inbox
from pages import csrf_of, log_in, open_link, sign_in, text, upload
from pydantic import SecretStr
from sqlalchemy import Engine
from sqlmodel import Session, SQLModel, select
from worksample.db import (
    GradingRun,
    Invitation,
    Organisation,
    OutboxMail,
    Role,
    User,
    WebSession,
    utcnow,
)
from worksample.settings import Settings
from worksample.web.assets import static_url
from worksample.web.deps import SESSION_COOKIE
from worksample.web.middleware import CSP
from worksample.web.security import token_hash
from worksample.web.services import auth
from worksample.web.services.demo import ADMIN_EMAIL, seed_demo
from worksample.worker import process_run

HIDDEN_TESTS = ("test_add_negative", "test_sum_command", "test_sum_of_missing_file_fails_cleanly")


def session_cookie(response: Any) -> str:
    """The Set-Cookie header of the session cookie, as sent."""
    headers = [h for h in response.headers.get_list("set-cookie") if h.startswith(SESSION_COOKIE)]
    assert len(headers) == 1, response.headers
    return str(headers[0])


# --- log-in ------------------------------------------------------------------------


def test_login_with_an_argon2id_hash(
    client: TestClient, settings: Settings, db_session: Session
) -> None:
    """The demo admin's password is hashed by the app itself."""
    seeded = seed_demo(
        db_session,
        settings=settings.model_copy(update={"demo_admin_password": SecretStr("s3cret")}),
        enqueue=lambda run_id: None,
    )
    assert seeded.admin_password == "s3cret"
    admin = db_session.exec(select(User).where(User.email == ADMIN_EMAIL)).one()
    assert admin.password_hash.startswith("$argon2id$")
    assert "s3cret" not in admin.password_hash
    response = log_in(client, ADMIN_EMAIL, "s3cret")
    assert response.status_code == 303
    assert response.headers["location"] == "/positions"
    assert client.get("/positions").status_code == 200


def test_wrong_password_and_unknown_email_read_the_same(client: TestClient, admin: User) -> None:
    wrong = log_in(client, admin.email, "not the password")
    unknown = log_in(client, "nobody@example.com", PASSWORD)
    for response in (wrong, unknown):
        assert response.status_code == 401
        assert "Wrong email or password." in text(response)
        assert SESSION_COOKIE not in response.cookies


# --- the log-in limit ----------------------------------------------------------

T0 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
ATTACKER, OFFICE = "198.51.100.66", "203.0.113.10"


def attempt(
    session: Session, email: str, password: str = "guess", *, ip: str = ATTACKER, at: datetime
) -> User | int | None:
    """A log-in at `at`: the user, None for a wrong password, or the seconds it
    was told to wait."""
    try:
        return auth.authenticate(session, email=email, password=password, ip=ip, now=at)
    except auth.TooManyAttempts as refused:
        return refused.retry_after


def s(seconds: float) -> timedelta:
    return timedelta(seconds=seconds)


def fail(
    session: Session, email: str, failures: int, *, ip: str = ATTACKER, start: datetime = T0
) -> datetime:
    """Wrong guesses for the pair, each as soon as it is let in; the last one's time."""
    at = start
    for done in range(failures):
        if done >= auth.PAIR_FREE_FAILURES:
            at += s(2 ** (done - auth.PAIR_FREE_FAILURES))
        assert attempt(session, email, ip=ip, at=at) is None
    return at


def test_a_pair_backs_off_with_doubling_delays_up_to_a_cap(
    db_session: Session, admin: User
) -> None:
    at = fail(db_session, admin.email, auth.PAIR_FREE_FAILURES)
    for delay in (1, 2, 4, 8, 16, 32, 64, 128, 256, 512, 900, 900):
        # Right after a failure, and just before the delay is up: refused and
        # told how long is left (rounded up); asking does not prolong the wait.
        assert attempt(db_session, admin.email, at=at) == delay
        assert attempt(db_session, admin.email, at=at + s(delay - 0.5)) == 1
        at += s(delay)
        assert attempt(db_session, admin.email, at=at) is None


def test_the_right_password_during_the_wait_is_refused_unchecked(
    db_session: Session, admin: User, monkeypatch: pytest.MonkeyPatch
) -> None:
    last = fail(db_session, admin.email, auth.PAIR_FREE_FAILURES + 3)  # now waits 8 s
    checked: list[str] = []
    verify = auth.verify_password

    def recording_verify(password: str, password_hash: str | None) -> bool:
        checked.append(password)
        return verify(password, password_hash)

    monkeypatch.setattr(auth, "verify_password", recording_verify)
    wrong = attempt(db_session, admin.email, at=last + s(1))
    right = attempt(db_session, admin.email, PASSWORD, at=last + s(1))
    # The same answer as a wrong guess, and no password was compared.
    assert wrong == right == 7
    assert checked == []
    assert attempt(db_session, admin.email, PASSWORD, at=last + s(8)) == admin
    assert checked == [PASSWORD]


def test_a_success_resets_the_pair(db_session: Session, admin: User) -> None:
    at = fail(db_session, admin.email, auth.PAIR_FREE_FAILURES)
    assert attempt(db_session, admin.email, PASSWORD, at=at + s(1)) == admin
    # The failures before the success no longer count: five free ones again.
    at = fail(db_session, admin.email, auth.PAIR_FREE_FAILURES, start=at + s(2))
    assert attempt(db_session, admin.email, at=at) == 1


def test_failures_elsewhere_never_slow_the_owner_down(app: FastAPI, admin: User) -> None:
    """The lock-out attack: anyone who knows an admin's email guesses on."""
    attacker = TestClient(app, follow_redirects=False, client=(ATTACKER, 50000))
    statuses = []
    while 429 not in statuses and len(statuses) < 12:
        statuses.append(log_in(attacker, admin.email, "guess").status_code)
    assert statuses[: auth.PAIR_FREE_FAILURES] == [401] * auth.PAIR_FREE_FAILURES
    assert statuses[-1] == 429
    owner = TestClient(app, follow_redirects=False, client=(OFFICE, 50000))
    assert log_in(owner, admin.email).status_code == 303


def test_one_address_trying_many_emails_backs_off(
    db_session: Session, admin: User, org: Organisation
) -> None:
    own = make_user(db_session, org, role=Role.reviewer)
    for i in range(auth.IP_FREE_FAILURES):
        assert attempt(db_session, f"user{i}@example.com", at=T0 + s(i)) is None
        if i == 9:  # an account of the attacker's own buys no fresh guesses
            assert attempt(db_session, own.email, PASSWORD, at=T0 + s(i)) == own
    at = T0 + s(auth.IP_FREE_FAILURES - 1)
    assert attempt(db_session, "another@example.com", at=at) == 1
    assert attempt(db_session, admin.email, PASSWORD, at=at) == 1
    assert attempt(db_session, "another@example.com", at=at + s(1)) is None
    assert attempt(db_session, "yet.another@example.com", at=at + s(1)) == 2
    # Another address is not slowed; and the window passes.
    assert attempt(db_session, admin.email, PASSWORD, ip=OFFICE, at=at) == admin
    later = at + auth.IP_WINDOW + s(2)
    assert attempt(db_session, admin.email, PASSWORD, at=later) == admin


def test_parallel_guesses_get_no_extra_free_passes(engine: Engine, admin: User) -> None:
    guesses = 12
    start = threading.Barrier(guesses)
    outcomes: list[User | int | None] = []

    def guess() -> None:
        with Session(engine) as session:
            start.wait()
            outcomes.append(attempt(session, admin.email, at=T0))

    threads = [threading.Thread(target=guess) for _ in range(guesses)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(outcomes, key=str) == sorted(
        [None] * auth.PAIR_FREE_FAILURES + [1] * (guesses - auth.PAIR_FREE_FAILURES), key=str
    )


def test_a_refusal_says_how_long_to_wait(
    client: TestClient, admin: User, db_session: Session
) -> None:
    # Ten failures from the test client's address, the last one just now:
    # the next attempt waits 32 s (the route's clock is the real one).
    fail(db_session, admin.email, 10, ip="testclient", start=utcnow() - s(31))
    refused = log_in(client, admin.email)
    assert refused.status_code == 429
    match = re.search(r"Too many failed attempts\. Try again in (\d+) seconds\.", text(refused))
    assert match, text(refused)
    assert refused.headers["Retry-After"] == match[1]
    assert 20 <= int(match[1]) <= 32
    assert SESSION_COOKIE not in refused.cookies
    assert "Wrong email or password" not in text(refused)


@pytest.mark.parametrize(
    ("seconds", "words"),
    [
        (1, "1 second"),
        (8, "8 seconds"),
        (59, "59 seconds"),
        (60, "1 minute"),
        (61, "2 minutes"),
        (900, "15 minutes"),
    ],
)
def test_the_wait_in_words(seconds: int, words: str) -> None:
    message = f"Too many failed attempts. Try again in {words}."
    assert str(auth.TooManyAttempts(seconds)) == message


def test_login_without_the_form_token_is_refused(client: TestClient, admin: User) -> None:
    response = client.post("/login", data={"email": admin.email, "password": PASSWORD})
    assert response.status_code == 403
    assert "The form expired; please try again." in text(response)


def test_login_rotates_the_session(client: TestClient, admin: User, engine: Engine) -> None:
    planted = "a-token-an-attacker-chose"
    client.cookies.set(SESSION_COOKIE, planted)
    first = log_in(client, admin.email)
    token = first.cookies[SESSION_COOKIE]
    assert token != planted
    # A browser holding a valid session logs in again: it gets a new token,
    # and the old one stops working.
    browser = TestClient(client.app, follow_redirects=False, cookies={SESSION_COOKIE: token})
    second = log_in(browser, admin.email)
    assert second.status_code == 303
    assert second.cookies[SESSION_COOKIE] != token
    stale = TestClient(client.app, follow_redirects=False, cookies={SESSION_COOKIE: token})
    assert stale.get("/positions").status_code == 303
    with Session(engine) as session:
        old = session.exec(select(WebSession).where(WebSession.token_hash == token_hash(token)))
        assert old.one().revoked


def test_cookie_flags(make_app: Callable[..., FastAPI], admin: User, db_session: Session) -> None:
    plain = TestClient(make_app(), follow_redirects=False)
    cookie = session_cookie(log_in(plain, admin.email))
    assert "HttpOnly" in cookie
    assert "SameSite=lax" in cookie
    assert "Path=/" in cookie
    assert "Secure" not in cookie
    # Behind a TLS-terminating proxy: believed from a configured proxy only.
    for trusted, secure in ((None, False), ("10.0.0.0/24", True)):
        app = make_app(trusted_proxies=trusted) if trusted else make_app()
        proxied = TestClient(app, client=("10.0.0.7", 40000), follow_redirects=False)
        token = csrf_of(proxied.get("/login"))
        response = proxied.post(
            "/login",
            data={"email": admin.email, "password": PASSWORD, "csrf_token": token},
            headers={"X-Forwarded-Proto": "https"},
        )
        assert ("Secure" in session_cookie(response)) is secure, trusted
    # Forced by the settings, and for candidates' sessions too.
    forced = TestClient(make_app(cookie_secure=True), follow_redirects=False)
    assert "Secure" in session_cookie(log_in(forced, admin.email))
    _, link = make_invitation(db_session, make_position(db_session, make_org(db_session)))
    redeemed = forced.get(f"/i/{link}")
    cookie = session_cookie(redeemed)
    assert "Secure" in cookie
    assert "HttpOnly" in cookie
    assert "SameSite=lax" in cookie


@pytest.mark.parametrize("sent_as", ["form", "htmx header"])
def test_logout_revokes_the_server_side_session(
    client: TestClient, admin: User, sent_as: str
) -> None:
    token = log_in(client, admin.email).cookies[SESSION_COOKIE]
    csrf = csrf_of(client.get("/positions"))
    if sent_as == "form":
        response = client.post("/logout", data={"csrf_token": csrf})
    else:
        response = client.post("/logout", headers={"X-CSRF-Token": csrf, "HX-Request": "true"})
    assert response.status_code == 303
    assert response.headers["location"] == "/login"
    # The cookie is gone from the browser, and a copy of it is worth nothing.
    replay = TestClient(client.app, follow_redirects=False, cookies={SESSION_COOKIE: token})
    assert replay.get("/positions").status_code == 303
    assert replay.get("/positions").headers["location"].startswith("/login")


def test_a_forged_logout_leaves_the_session_alive(client: TestClient, admin: User) -> None:
    token = log_in(client, admin.email).cookies[SESSION_COOKIE]
    response = client.post("/logout", data={"csrf_token": "forged"})
    assert response.status_code == 303
    still = TestClient(client.app, follow_redirects=False, cookies={SESSION_COOKIE: token})
    assert still.get("/positions").status_code == 200


@pytest.mark.parametrize(
    ("next_path", "lands_on"),
    [
        ("/positions/7", "/positions/7"),
        ("https://evil.example/", "/positions"),
        ("//evil.example/", "/positions"),
        ("/\\evil.example/", "/positions"),
        ("/\t/evil.example/", "/positions"),
        ("javascript:alert(1)", "/positions"),
        ("", "/positions"),
    ],
)
def test_next_never_leaves_the_site(
    client: TestClient, admin: User, next_path: str, lands_on: str
) -> None:
    response = log_in(client, admin.email, next=next_path)
    assert response.status_code == 303
    assert response.headers["location"] == lands_on


def test_login_page_carries_next_from_the_redirect(client: TestClient) -> None:
    redirect = client.get("/positions/3/submissions")
    assert redirect.headers["location"] == "/login?next=%2Fpositions%2F3%2Fsubmissions"
    page = client.get(redirect.headers["location"])
    assert 'name="next" value="/positions/3/submissions"' in page.text


# --- candidates' links ---------------------------------------------------------------


def every_stored_value(engine: Engine) -> str:
    """Every column of every row, as text: what a database leak would expose."""
    dump = []
    with engine.connect() as conn:
        for table in SQLModel.metadata.sorted_tables:
            for row in conn.execute(table.select()):
                dump += [v.decode("latin-1") if isinstance(v, bytes) else str(v) for v in row]
    return "\n".join(dump)


def test_links_are_stored_hashed(
    make_app: Callable[..., FastAPI],
    admin: User,
    org: Organisation,
    db_session: Session,
    engine: Engine,
    smtp: tuple[Inbox, int],
) -> None:
    inbox, port = smtp
    app = make_app(smtp_host="127.0.0.1", smtp_port=port)
    staff = TestClient(app, follow_redirects=False)
    csrf = sign_in(staff, db_session, admin)
    position = make_position(db_session, org)
    invited = staff.post(
        f"/positions/{position.id}/invitations",
        data={"csrf_token": csrf, "candidate_email": "ann@example.com", "candidate_name": "Ann"},
    )
    assert invited.status_code == 303
    assert inbox.received.wait(10)
    body = message_from_bytes(inbox.messages[0]).get_payload(decode=True)
    assert isinstance(body, bytes)
    found = re.search(r"http://testserver/i/([\w-]+)", body.decode())
    assert found, body
    token = found.group(1)
    stored = every_stored_value(engine)
    assert token not in stored, "the raw link token is in the database"
    invitation = db_session.exec(select(Invitation).where(Invitation.candidate_name == "Ann"))
    assert invitation.one().token_hash == token_hash(token)
    mail = db_session.exec(select(OutboxMail)).one()
    assert mail.status == "sent"
    assert "[personal link: sent by email, not kept]" in mail.body
    # The link works, of course.
    candidate = TestClient(app, follow_redirects=False)
    assert candidate.get(f"/i/{token}").status_code == 303


def test_redeem_redirects_to_a_url_without_the_token(
    client: TestClient, db_session: Session
) -> None:
    _, token = make_invitation(db_session, make_position(db_session, make_org(db_session)))
    response = client.get(f"/i/{token}")
    assert response.status_code == 303
    assert response.headers["location"] == "/c"
    assert token not in response.headers["location"]
    assert response.headers["referrer-policy"] == "no-referrer"
    assert client.get("/c").status_code == 200


def test_revoked_and_replaced_links_give_404(
    client: TestClient, db_session: Session, admin: User, org: Organisation
) -> None:
    position = make_position(db_session, org)
    revoked, revoked_token = make_invitation(db_session, position)
    replaced, replaced_token = make_invitation(db_session, position)
    staff = TestClient(client.app, follow_redirects=False)
    csrf = sign_in(staff, db_session, admin)
    for invitation, action in ((revoked, "revoke"), (replaced, "resend")):
        done = staff.post(f"/invitations/{invitation.id}/{action}", data={"csrf_token": csrf})
        assert done.status_code == 303
    for token in (revoked_token, replaced_token):
        response = client.get(f"/i/{token}")
        assert response.status_code == 404
        assert "This link is not valid" in text(response)
        assert SESSION_COOKIE not in response.cookies


# --- what pages carry ----------------------------------------------------------------


def test_security_headers_on_every_page(
    client: TestClient, db_session: Session, admin: User, org: Organisation
) -> None:
    assert "'unsafe-inline'" not in CSP
    assert "frame-ancestors 'none'" in CSP
    _, link = make_invitation(db_session, make_position(db_session, org))
    candidate = TestClient(client.app, follow_redirects=False)
    candidate_csrf = open_link(candidate, link)
    run_page = upload(candidate, candidate_csrf, make_submission_zip()).headers["location"]
    staff = TestClient(client.app, follow_redirects=False)
    sign_in(staff, db_session, admin)
    pages = [
        (client, "/login"),
        (client, "/"),
        (client, "/positions"),
        (client, "/no/such/page"),
        (client, "/healthz"),
        (client, static_url("style.css")),
        (client, static_url("htmx.min.js")),
        (client, "/favicon.ico"),
        (staff, "/positions"),
        (staff, "/outbox"),
        (staff, "/audit"),
        (staff, "/positions/999999"),
        (candidate, "/c"),
        (candidate, run_page),
        (candidate, "/c/kit"),
        (candidate, "/positions"),
    ]
    for browser, path in pages:
        for headers in ({}, {"HX-Request": "true"}):
            response = browser.get(path, headers=headers)
            assert response.headers["content-security-policy"] == CSP, path
            assert response.headers["x-content-type-options"] == "nosniff", path
            assert response.headers["referrer-policy"] == "no-referrer", path
            if response.headers.get("content-type", "").startswith("text/html"):
                # What the CSP would block must not be needed: no inline
                # script, style attribute or event handler.
                assert not re.search(r"<script(?![^>]*\bsrc=)", response.text), path
                assert not re.search(r"\sstyle=|\son[a-z]+=", response.text), path


def test_markdown_brief_is_sanitised(
    make_app: Callable[..., FastAPI], db_session: Session, tmp_path: Path
) -> None:
    exercises = tmp_path / "exercises"
    shutil.copytree(MINI_ADD, exercises / "mini-add")
    (exercises / "mini-add" / "brief.md").write_text(
        "# Add numbers\n\n"
        "<script>alert('brief')</script>\n\n"
        '<img src="x" onerror="alert(1)">\n\n'
        '<a href="javascript:alert(2)">raw link</a>\n\n'
        "[click me](javascript:alert(3)) and [data](data:text/html;base64,PHNjcmlwdD4=)\n\n"
        "[the docs](https://example.com/docs)\n"
    )
    app = make_app(exercises_dir=exercises)
    position = make_position(db_session, make_org(db_session))
    _, link = make_invitation(db_session, position)
    candidate = TestClient(app, follow_redirects=False)
    open_link(candidate, link)
    page = candidate.get("/c").text
    brief = page[page.index('<article class="card brief">') :]
    tags = Tags.of(brief[: brief.index("</article>")])
    assert ("h1", ()) in tags
    for tag, attributes in tags:
        assert tag in ("article", "h1", "p", "a"), tag
        for name, value in attributes:
            assert not name.startswith("on"), (tag, name)
            assert not re.match(r"\s*(javascript|data):", value or "", re.IGNORECASE), value
    assert (
        "a",
        (("href", "https://example.com/docs"), ("rel", "noopener noreferrer nofollow")),
    ) in tags
    # The markup is shown as text, inert.
    assert "<script>alert('brief')</script>" in text(candidate.get("/c"))


class Tags(HTMLParser):
    """The elements of an HTML fragment with their attributes, not its text."""

    def __init__(self) -> None:
        super().__init__()
        self.found: list[tuple[str, tuple[tuple[str, str | None], ...]]] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.found.append((tag, tuple(attrs)))

    @classmethod
    def of(cls, fragment: str) -> list[tuple[str, tuple[tuple[str, str | None], ...]]]:
        parser = cls()
        parser.feed(fragment)
        return parser.found


def test_hidden_test_names_never_reach_candidates(
    client: TestClient,
    db_session: Session,
    engine: Engine,
    settings: Settings,
    admin: User,
    org: Organisation,
) -> None:
    """Graded for real (local backend), with failing hidden tests and the score shown."""
    position = make_position(db_session, org, show_score=True)
    _, link = make_invitation(db_session, position)
    csrf = open_link(client, link)
    faulty = make_submission_zip(solution=MINI_ADD / "faulty" / "off-by-one" / "solution.py")
    practice = upload(client, csrf, faulty)
    final = upload(client, csrf, faulty, kind="final", confirm=True)
    run_pages = [practice.headers["location"], final.headers["location"]]
    for path in run_pages:
        run_id = int(path.rsplit("/", 1)[1])
        outcome = process_run(engine, settings=settings, run_id=run_id, worker="test")
        assert outcome.status == "done"
    final_run = db_session.get(GradingRun, int(run_pages[1].rsplit("/", 1)[1]))
    assert final_run is not None and final_run.score is not None and final_run.score < 100
    seen = []
    for path in ["/c", *run_pages]:
        for headers in ({}, {"HX-Request": "true"}):
            response = client.get(path, headers=headers)
            assert response.status_code == 200
            seen.append(response.text)
    candidate_pages = "\n".join(seen)
    assert "test_add_small_numbers" in candidate_pages  # public results are shown
    assert f"{final_run.score:.1f} / 100" in candidate_pages  # and the score, as allowed
    for secret in (*HIDDEN_TESTS, "hidden/", "add(-5, 3) returned"):
        assert secret not in candidate_pages, f"{secret!r} reached a candidate page"
    # The same report on the staff side does name them: the check above has teeth.
    staff = TestClient(client.app, follow_redirects=False)
    sign_in(staff, db_session, admin)
    report = staff.get(run_pages[1].removeprefix("/c")).text
    assert all(name in report for name in HIDDEN_TESTS)
    assert "add(-5, 3) returned -1" in text(staff.get(run_pages[1].removeprefix("/c")))


def test_no_api_schema_or_docs_are_published(client: TestClient) -> None:
    # There is no JSON API yet; nothing describes the app's routes to strangers.
    for path in ("/openapi.json", "/docs", "/redoc"):
        assert client.get(path).status_code == 404, path
