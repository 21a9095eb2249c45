"""What an attacker's test of the running platform broke (issue 12), each as the
attack that broke it: ids past 64 bits, an unexpected error, a leaked link
after "resend", a magic link that swapped a signed-in browser's session, and a
line break in a title that reached an email header.

The practice-run race is in test_uploads.py, next to the final-upload race;
the log-in limit in test_auth.py.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from email import message_from_bytes
from email.policy import default as default_policy

import httpx
import pytest
from factories import make_invitation, make_position, make_run, make_submission, make_user
from fastapi import FastAPI, Request
from fastapi.routing import iter_route_contexts
from fastapi.testclient import TestClient
from infra import Inbox, live_server
from pages import csrf_of, enter_as_candidate, invite, open_link, sign_in, text
from sqlalchemy import Engine
from sqlmodel import Session, select
from worksample.db import Invitation, Organisation, OutboxMail, Position, Role, User, WebSession
from worksample.web.deps import SESSION_COOKIE
from worksample.web.middleware import CSP, PERMISSIONS_POLICY
from worksample.web.security import token_hash

HEADERS = {
    "content-security-policy": CSP,
    "x-content-type-options": "nosniff",
    "referrer-policy": "no-referrer",
    "x-frame-options": "DENY",
    "permissions-policy": PERMISSIONS_POLICY,
    "cross-origin-opener-policy": "same-origin",
}


def assert_hardened(response: httpx.Response, where: str) -> None:
    for name, value in HEADERS.items():
        assert response.headers.get(name) == value, (
            f"{where}: {name} is {response.headers.get(name)!r}"
        )
    assert "server" not in response.headers, f"{where}: Server: {response.headers['server']}"


def session_revoked(engine: Engine, token: str) -> bool:
    with Session(engine) as session:
        web = session.exec(select(WebSession).where(WebSession.token_hash == token_hash(token)))
        return web.one().revoked


# --- ids past what the database holds -----------------------------------------------

ODD_IDS = [str(2**63), str(2**64 + 5), "99999999999999999999999999", "0", "-1"]


def id_routes(app: FastAPI) -> list[tuple[str, str]]:
    """Every route of the app with a numeric id in its path, from the app itself."""
    found = []
    for context in iter_route_contexts(app.routes):
        path = str(context.path)
        if re.search(r"\{\w+_id\}", path):
            found += [(m, path) for m in sorted(context.methods or ()) if m != "HEAD"]
    return found


@pytest.mark.parametrize("odd", ODD_IDS)
def test_ids_past_64_bits_are_not_found(
    client: TestClient, app: FastAPI, db_session: Session, admin: User, odd: str
) -> None:
    """They answered a bare 500 (the drivers overflow), without the security headers."""
    routes = id_routes(app)
    assert len(routes) >= 7, routes  # positions, invitations, runs, the candidate's runs
    position = make_position(db_session, db_session.get(Organisation, admin.org_id))
    invitation, _ = make_invitation(db_session, position)
    staff = TestClient(app, follow_redirects=False, raise_server_exceptions=False)
    staff_csrf = sign_in(staff, db_session, admin)
    candidate = TestClient(app, follow_redirects=False, raise_server_exceptions=False)
    candidate_csrf = enter_as_candidate(candidate, db_session, invitation)
    for method, path in routes:
        browser, csrf = (
            (candidate, candidate_csrf) if path.startswith("/c/") else (staff, staff_csrf)
        )
        url = re.sub(r"\{\w+_id\}", odd, path).replace("{action}", "resend")
        if method == "GET":
            response = browser.get(url)
        else:
            response = browser.post(url, data={"csrf_token": csrf, "days": "3"})
        assert response.status_code == 404, (
            f"{method} {url}: {response.status_code} {response.text[:200]}"
        )
        assert "No such page here." in text(response), url
        assert response.headers["content-type"].startswith("text/html"), url
        assert_hardened(response, f"{method} {url}")


# --- an error nothing expected ------------------------------------------------------


@pytest.mark.parametrize("db", ["sqlite"], indirect=True)
def test_an_unexpected_error_gets_the_error_page_with_every_header(
    make_app: Callable[..., FastAPI], caplog: pytest.LogCaptureFixture
) -> None:
    app = make_app()

    @app.get("/boom")
    def boom() -> None:
        raise RuntimeError("something nobody expected")

    with caplog.at_level("ERROR", logger="worksample.web"):
        response = TestClient(app, raise_server_exceptions=False).get("/boom")
    assert response.status_code == 500
    assert response.headers["content-type"].startswith("text/html")
    assert "Something went wrong on our side." in text(response)
    assert "something nobody expected" not in response.text  # no internals to the visitor
    assert_hardened(response, "GET /boom")
    assert "unhandled error on GET /boom" in caplog.text
    assert "something nobody expected" in caplog.text  # the traceback, for the operator


@pytest.mark.parametrize("db", ["sqlite"], indirect=True)
def test_every_response_carries_the_headers_from_a_real_server(
    make_app: Callable[..., FastAPI], db_session: Session, admin: User
) -> None:
    """Through uvicorn as `worksample serve` runs it: pages, redirects, a 404, a
    huge id, a 500, static files; none names the server software."""
    app = make_app()

    @app.get("/boom")
    def boom() -> None:
        raise RuntimeError("boom")

    with live_server(app) as base, httpx.Client(base_url=base, follow_redirects=False) as browser:
        for path, status in [
            ("/login", 200),
            ("/", 303),
            ("/positions", 303),
            ("/healthz", 200),
            ("/no/such/page", 404),
            (f"/runs/{2**63}", 303),  # anonymous: to the log-in page first
            ("/boom", 500),
            ("/favicon.ico", None),
        ]:
            response = browser.get(path)
            if status is not None:
                assert response.status_code == status, path
            assert_hardened(response, path)
            assert "strict-transport-security" not in response.headers, path  # plain HTTP


@pytest.mark.parametrize("db", ["sqlite"], indirect=True)
def test_hsts_and_secure_cookies_only_behind_a_trusted_proxy(
    make_app: Callable[..., FastAPI],
) -> None:
    """X-Forwarded-* is believed from the configured proxies only: uvicorn used to
    believe it from any loopback client, and the log-in limit read the address."""
    proxied = {"X-Forwarded-Proto": "https", "X-Forwarded-For": "203.0.113.9"}

    def visit(client_ip: str, **settings: object) -> httpx.Response:
        app = make_app(**settings)

        @app.get("/whoami")
        def whoami(request: Request) -> dict[str, str]:
            return {
                "ip": request.client.host if request.client else "",
                "scheme": request.url.scheme,
            }

        browser = TestClient(app, client=(client_ip, 40000), follow_redirects=False)
        return browser.get("/whoami", headers=proxied)

    untrusted = visit("127.0.0.1")
    assert untrusted.json() == {"ip": "127.0.0.1", "scheme": "http"}
    assert "strict-transport-security" not in untrusted.headers
    trusted = visit("10.0.0.7", trusted_proxies="10.0.0.0/24")
    assert trusted.json() == {"ip": "203.0.113.9", "scheme": "https"}
    assert trusted.headers["strict-transport-security"] == "max-age=31536000; includeSubDomains"
    elsewhere = visit("10.0.1.7", trusted_proxies="10.0.0.0/24")
    assert elsewhere.json() == {"ip": "10.0.1.7", "scheme": "http"}


# --- resend ends what the old link opened --------------------------------------------


def test_resend_ends_every_session_the_old_link_opened(
    client: TestClient, app: FastAPI, db_session: Session, admin: User, engine: Engine
) -> None:
    position = make_position(db_session, db_session.get(Organisation, admin.org_id))
    invitation, old_link = make_invitation(db_session, position)
    leaked = TestClient(app, follow_redirects=False)  # whoever got hold of the old link
    open_link(leaked, old_link)
    leaked_token = leaked.cookies[SESSION_COOKIE]
    assert leaked.get("/c").status_code == 200
    staff = TestClient(app, follow_redirects=False)
    csrf = sign_in(staff, db_session, admin)
    assert (
        staff.post(f"/invitations/{invitation.id}/resend", data={"csrf_token": csrf}).status_code
        == 303
    )
    refused = leaked.get("/c")
    assert refused.status_code == 403
    assert "Open the personal link from your invitation email." in text(refused)
    assert session_revoked(engine, leaked_token)
    assert leaked.get(f"/i/{old_link}").status_code == 404
    # The candidate's new link works, and their clock is where it was.
    page = staff.get(f"/positions/{position.id}")
    new_link = re.search(r"/i/([\w-]+)", text(page))
    assert new_link, "the new link is shown to whoever resent it"
    candidate = TestClient(app, follow_redirects=False)
    open_link(candidate, new_link.group(1))
    assert "Download the starter kit" in text(candidate.get("/c"))


def test_extending_a_revoked_invitation_is_refused(
    client: TestClient, db_session: Session, admin: User
) -> None:
    position = make_position(db_session, db_session.get(Organisation, admin.org_id))
    invitation, _ = make_invitation(db_session, position, revoked=True)
    deadline = invitation.deadline_at
    csrf = sign_in(client, db_session, admin)
    refused = client.post(
        f"/invitations/{invitation.id}/extend", data={"csrf_token": csrf, "days": "7"}
    )
    assert refused.status_code == 400
    assert "this invitation is revoked" in text(refused)
    db_session.refresh(invitation)
    assert invitation.deadline_at == deadline


# --- a magic link does not silently swap a signed-in browser ---------------------------


@pytest.mark.parametrize("signed_in_as", ["admin", "another candidate"])
def test_a_link_opened_while_signed_in_asks_first(
    app: FastAPI, db_session: Session, admin: User, engine: Engine, signed_in_as: str
) -> None:
    """A page elsewhere sends the browser to the attacker's invitation link: the
    admin's session used to be replaced by the attacker's candidate, unasked."""
    position = make_position(db_session, db_session.get(Organisation, admin.org_id))
    _, attackers_link = make_invitation(db_session, position, candidate_name="Mallory Example")
    browser = TestClient(app, follow_redirects=False)
    if signed_in_as == "admin":
        csrf, home = sign_in(browser, db_session, admin), "/positions"
    else:
        mine, _ = make_invitation(db_session, position, candidate_name="Ann Example")
        csrf, home = enter_as_candidate(browser, db_session, mine), "/c"
    token = browser.cookies[SESSION_COOKIE]

    asked = browser.get(f"/i/{attackers_link}")
    assert asked.status_code == 200
    page = text(asked)
    assert "Open this invitation?" in page
    assert "Mallory Example" in page
    assert SESSION_COOKIE not in asked.cookies  # nothing replaced yet
    assert browser.get(home).status_code == 200
    assert f'action="/i/{attackers_link}"' in asked.text
    assert csrf_of(asked) == csrf

    # A cross-site form posts without the page's token (and, SameSite=Lax, without the cookie).
    forged = browser.post(f"/i/{attackers_link}")
    assert forged.status_code == 403
    cookieless = TestClient(app, follow_redirects=False).post(
        f"/i/{attackers_link}", data={"csrf_token": csrf}
    )
    assert cookieless.status_code == 403
    assert SESSION_COOKIE not in cookieless.cookies
    assert browser.get(home).status_code == 200
    assert not session_revoked(engine, token)

    # Confirmed from the page: in as the link's candidate, the old session revoked.
    confirmed = browser.post(f"/i/{attackers_link}", data={"csrf_token": csrf})
    assert confirmed.status_code == 303
    assert confirmed.headers["location"] == "/c"
    assert "Mallory Example" in text(browser.get("/c"))
    assert session_revoked(engine, token)
    stale = TestClient(app, follow_redirects=False, cookies={SESSION_COOKIE: token})
    assert stale.get(home).status_code in (303, 403)


def test_a_candidate_reopening_their_own_link_is_not_asked(
    client: TestClient, db_session: Session, admin: User, engine: Engine
) -> None:
    position = make_position(db_session, db_session.get(Organisation, admin.org_id))
    _, link = make_invitation(db_session, position)
    open_link(client, link)
    token = client.cookies[SESSION_COOKIE]
    again = client.get(f"/i/{link}")
    assert again.status_code == 303
    assert again.headers["location"] == "/c"
    assert SESSION_COOKIE not in again.cookies
    assert not session_revoked(engine, token)


def test_a_bad_link_on_the_confirmation_post_is_not_found(
    client: TestClient, db_session: Session, admin: User
) -> None:
    csrf = sign_in(client, db_session, admin)
    response = client.post("/i/not-a-link", data={"csrf_token": csrf})
    assert response.status_code == 404
    assert "This link is not valid" in text(response)
    assert client.get("/positions").status_code == 200


# --- control characters in what reaches a header ---------------------------------------


@pytest.mark.parametrize(
    ("field", "value", "char"),
    [
        ("title", "ML Engineer\r\nBcc: everyone@example.com", "U+000D"),
        ("title", "ML Engineer\nSenior", "U+000A"),
        ("level", "Senior\t", "U+0009"),
        ("title", "ML \u202eEngineer", "U+202E"),
        ("title", "ML\u2028Engineer", "U+2028"),
    ],
)
def test_control_characters_in_a_position_are_refused(
    client: TestClient, db_session: Session, admin: User, field: str, value: str, char: str
) -> None:
    csrf = sign_in(client, db_session, admin)
    form = {"title": "ML Engineer", "level": "Senior", "exercise_id": "mini-add"}
    form |= {"window_days": "7", "practice_runs": "2", "csrf_token": csrf, field: value}
    response = client.post("/positions", data=form)
    assert response.status_code == 400, response.text[:300]
    assert (
        f"{field}: must be one line of plain text: it holds the control character {char}"
        in text(response)
    )
    assert db_session.exec(select(Position)).all() == []


def test_control_characters_in_a_candidate_name_are_refused(
    client: TestClient, db_session: Session, admin: User
) -> None:
    position = make_position(db_session, db_session.get(Organisation, admin.org_id))
    csrf = sign_in(client, db_session, admin)
    response = invite(client, csrf, position.id, "Ann\r\nX")
    assert response.status_code == 400
    assert "candidate_name: must be one line of plain text" in text(response)
    assert db_session.exec(select(Invitation)).all() == []


def test_a_title_with_a_line_break_from_before_the_check_still_mails(
    make_app: Callable[..., FastAPI],
    db_session: Session,
    admin: User,
    smtp: tuple[Inbox, int],
) -> None:
    """A row stored before titles were checked crashed every invitation once SMTP
    was configured (the email library refuses the header: a bare 500)."""
    inbox, port = smtp
    app = make_app(smtp_host="127.0.0.1", smtp_port=port)
    org = db_session.get(Organisation, admin.org_id)
    position = make_position(db_session, org, title="ML Engineer\r\nBcc: everyone@example.com")
    staff = TestClient(app, follow_redirects=False)
    csrf = sign_in(staff, db_session, admin)
    invited = invite(staff, csrf, position.id, "Ann")
    assert invited.status_code == 303, invited.text[:300]
    assert inbox.received.wait(10)
    message = message_from_bytes(inbox.messages[0], policy=default_policy)
    assert message["Subject"] == "Your exercise for ML Engineer  Bcc: everyone@example.com"
    assert message["Bcc"] is None
    assert db_session.exec(select(OutboxMail)).one().status == "sent"


# --- a new invitation's link for whoever made it ---------------------------------------


@pytest.mark.parametrize("role", [Role.admin, Role.hiring_manager])
def test_a_new_invitation_shows_its_link_to_its_maker_once(
    client: TestClient, db_session: Session, admin: User, role: Role
) -> None:
    """Without SMTP the link is only in the outbox, which hiring managers cannot open."""
    maker = (
        admin
        if role == Role.admin
        else make_user(db_session, db_session.get(Organisation, admin.org_id), role=role)
    )
    position = make_position(db_session, db_session.get(Organisation, admin.org_id))
    csrf = sign_in(client, db_session, maker)
    invited = invite(client, csrf, position.id, "Ann Example")
    assert invited.status_code == 303
    page = text(client.get(invited.headers["location"]))
    assert "The personal link of Ann Example" in page
    found = re.search(r"http://testserver/i/([\w-]+)", page)
    assert found, page
    invitation = db_session.exec(select(Invitation)).one()
    assert invitation.token_hash == token_hash(found.group(1))
    # Once: the next view of the page does not show it again.
    assert "/i/" not in text(client.get(invited.headers["location"]))
    # And the link opens the invitation.
    candidate = TestClient(client.app, follow_redirects=False)
    open_link(candidate, found.group(1))
    assert "Ann Example" in text(candidate.get("/c"))


def test_the_link_is_not_kept_once_emailed(
    make_app: Callable[..., FastAPI], db_session: Session, admin: User, smtp: tuple[Inbox, int]
) -> None:
    _, port = smtp
    app = make_app(smtp_host="127.0.0.1", smtp_port=port)
    position = make_position(db_session, db_session.get(Organisation, admin.org_id))
    staff = TestClient(app, follow_redirects=False)
    csrf = sign_in(staff, db_session, admin)
    invited = invite(staff, csrf, position.id, "Ann")
    assert invited.status_code == 303
    page = text(staff.get(invited.headers["location"]))
    assert "A personal link has been emailed to <strong>Ann</strong>" in page
    assert "/i/" not in page


# --- names from archives, shown as they are --------------------------------------------


def test_bidirectional_controls_in_file_names_are_shown_escaped(
    client: TestClient, db_session: Session, admin: User
) -> None:
    """An upload named `invoice\u202egpj.zip` read as "invoicepiz.jpg"."""
    position = make_position(db_session, db_session.get(Organisation, admin.org_id))
    invitation, _ = make_invitation(db_session, position)
    submission = make_submission(db_session, invitation, filename="invoice\u202egpj.zip")
    run = make_run(db_session, submission)
    sign_in(client, db_session, admin)
    page = client.get(f"/runs/{run.id}").text
    assert "\u202e" not in page
    assert "invoice\\u202egpj.zip" in page


def test_candidate_content_is_out_of_htmx_reach(
    client: TestClient, db_session: Session, admin: User
) -> None:
    """An injected `hx-get` would run despite the CSP; the report quotes the
    submission inside `hx-disable`."""
    position = make_position(db_session, db_session.get(Organisation, admin.org_id))
    invitation, _ = make_invitation(db_session, position)
    run = make_run(db_session, make_submission(db_session, invitation), reason="x")
    sign_in(client, db_session, admin)
    page = client.get(f"/runs/{run.id}").text
    main = page.split('<main id="main">', 1)[1]
    assert main.index("<div hx-disable>") < main.index("submission solution.zip")
