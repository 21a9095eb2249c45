"""The code browser: a submission's tree, its files, diffs and the archive, for staff.

Each test builds the archive it needs, stores it with the factories (as an
upload would be stored) and reads the pages as a signed-in member of staff.
"""

from __future__ import annotations

import base64
import io
import os
import re
import zipfile
from dataclasses import dataclass
from urllib.parse import quote

import pytest
from factories import (
    MINI_ADD,
    make_invitation,
    make_org,
    make_position,
    make_submission,
    make_submission_zip,
    make_user,
)
from fastapi import FastAPI
from fastapi.testclient import TestClient
from pages import enter_as_candidate, sign_in, text
from sqlmodel import Session
from worksample.db import Invitation, Organisation, Role, Submission, SubmissionKind, User
from worksample.web.services.code import submission_files
from worksample.web.services.diffs import FileChange, changes
from worksample.web.services.errors import Invalid

SOLUTION = (MINI_ADD / "reference" / "solution.py").read_bytes()
DESIGN = b"# Design of the adder\n\nIt **adds**.\n\n<script>alert('design')</script>\n"


@dataclass
class Staff:
    client: TestClient
    session: Session
    invitation: Invitation
    app: FastAPI

    def submit(self, files: dict[str, str | bytes], **overrides: object) -> Submission:
        data = make_submission_zip(files)
        return make_submission(self.session, self.invitation, data=data, **overrides)

    def get(self, url: str, **headers: str) -> str:
        response = self.client.get(url, headers=headers)
        assert response.status_code == 200, f"{url}: {response.status_code} {response.text[:300]}"
        assert "Content-Security-Policy" in response.headers
        return response.text


@pytest.fixture
def staff(
    client: TestClient, db_session: Session, org: Organisation, admin: User, app: FastAPI
) -> Staff:
    invitation, _ = make_invitation(db_session, make_position(db_session, org))
    sign_in(client, db_session, admin)
    return Staff(client, db_session, invitation, app)


def files_of(page: str) -> list[str]:
    """The file links of a tree page, in order."""
    tree = page[page.index('<div class="tree">') :]
    return re.findall(r'<li><a href="([^"]+)">', tree)


def test_tree_renders_design_first_then_documents_then_files(staff: Staff) -> None:
    sub = staff.submit(
        {
            "solution.py": SOLUTION,
            "docs/notes.md": "# Notes\n",
            "README.md": "# Read me\n",
            "DESIGN.md": DESIGN,
            "src/zz.py": "x = 1\n",
        }
    )
    page = staff.get(f"/submissions/{sub.id}/code/")
    design = page.index("<h1>Design of the adder</h1>")
    assert "<strong>adds</strong>" in page
    assert design < page.index("<h2>Documents</h2>") < page.index('<div class="tree">')
    documents = page[page.index("<h2>Documents</h2>") : page.index('<div class="tree">')]
    assert re.findall(r'<a href="([^"]+)">', documents) == [
        "DESIGN.md",
        "README.md",
        "docs/notes.md",
    ]
    # Relative links from the tree's URL (it ends in /code/) open each file's page.
    top, docs, src = ["DESIGN.md", "README.md", "solution.py"], ["docs/notes.md"], ["src/zz.py"]
    assert files_of(page) == top + docs + src
    # Raw HTML in Markdown is text, not markup.
    assert "&lt;script&gt;alert('design')&lt;/script&gt;" in page
    assert "<script>alert" not in page
    assert "hx-disable" in page
    assert re.search(r'<link rel="stylesheet" href="/static/code\.[0-9a-f]{12}\.css">', page)
    # Without the slash, the router sends the browser to the tree's URL.
    moved = staff.client.get(f"/submissions/{sub.id}/code")
    assert moved.headers["location"].endswith(f"/submissions/{sub.id}/code/")


def test_tree_shows_the_paths_the_grader_grades(staff: Staff) -> None:
    # A zip of the kit's folder: intake strips the wrapper for `required = ["solution.py"]`.
    sub = staff.submit({"mini-add/solution.py": SOLUTION, "mini-add/README.md": "hi\n"})
    page = staff.get(f"/submissions/{sub.id}/code/")
    assert files_of(page) == ["README.md", "solution.py"]
    assert "no DESIGN.md" in page


def test_file_page_highlights_source_with_line_anchors(staff: Staff) -> None:
    sub = staff.submit({"solution.py": SOLUTION})
    page = staff.get(f"/submissions/{sub.id}/code/solution.py")
    assert (
        '<span class="kn">import</span><span class="w"> </span><span class="nn">sys</span>' in page
    )
    assert '<span class="k">def</span><span class="w"> </span><span class="nf">add</span>' in page
    lines = SOLUTION.decode().splitlines()
    assert f'<tr id="L{len(lines)}"><td class="ln"><a href="#L{len(lines)}">' in page
    assert f'id="L{len(lines) + 1}"' not in page
    assert "22 lines" in text(staff.client.get(f"/submissions/{sub.id}/code/solution.py"))


def test_markdown_is_rendered_with_a_source_view(staff: Staff) -> None:
    sub = staff.submit({"solution.py": SOLUTION, "DESIGN.md": DESIGN})
    page = staff.get(f"/submissions/{sub.id}/code/DESIGN.md")
    assert "<h1>Design of the adder</h1>" in page and "View source" in page
    source = staff.get(f"/submissions/{sub.id}/code/DESIGN.md?view=source")
    assert "<h1>Design" not in source
    assert '<td class="src"><span class="gh"># Design of the adder</span>' in source
    assert "&lt;script&gt;" in source and "<script>alert" not in source


def test_hostile_names_and_contents_are_escaped(staff: Staff) -> None:
    evil_name = "<script>alert(1)<img src=x>.py"
    bidi_name = "notes\u202egpj.py"
    sub = staff.submit(
        {
            "solution.py": SOLUTION,
            evil_name: '<script>alert(2)</script>\n<img src=x onerror="alert(3)">\n',
            bidi_name: "ok = 1  # \u202e reversed\n",
            "DESIGN.md": '<div hx-get="/logout">x</div>\n[a](javascript:alert(4))\n',
        }
    )
    tree = staff.get(f"/submissions/{sub.id}/code/")
    assert "<script>alert" not in tree and "\u202e" not in tree
    assert "&lt;script&gt;alert(1)&lt;img src=x&gt;.py" in tree
    assert "notes\\u202egpj.py" in tree
    assert quote(evil_name) in tree
    # Raw HTML stays text and links keep safe schemes; htmx would not act on either.
    assert "<div hx-get" not in tree and "&lt;div hx-get" in tree
    assert 'href="javascript:' not in tree
    evil = staff.get(f"/submissions/{sub.id}/code/{quote(evil_name)}")
    assert "<script>alert" not in evil and "<img" not in evil
    assert "&lt;script&gt;" in evil
    bidi = staff.get(f"/submissions/{sub.id}/code/{quote(bidi_name)}")
    assert "\u202e" not in bidi
    assert '<mark class="bidi" title="bidirectional control character">\\u202e</mark>' in bidi
    # Every container of submission content is out of htmx's reach.
    diff = staff.get(f"/submissions/{sub.id}/diff")
    assert "<script>alert" not in diff and "\u202e" not in diff
    for page in (tree, evil, bidi, diff):
        assert re.search(r'<main id="main">\s*<div hx-disable>.*</div>\s*</main>', page, re.S)


def test_binary_and_invalid_utf8_are_labelled(staff: Staff) -> None:
    png = b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + bytes(range(256)) * 49
    sub = staff.submit(
        {"solution.py": SOLUTION, "plot.png": png, "latin1.txt": "café\n".encode("latin-1")}
    )
    tree = staff.get(f"/submissions/{sub.id}/code/")
    png_row = '<a href="plot.png">plot.png</a> <span class="size">12.3 KiB</span>'
    assert f'{png_row} <span class="badge">binary</span>' in tree
    assert '<span class="badge">not UTF-8</span>' in tree
    binary = text(staff.client.get(f"/submissions/{sub.id}/code/plot.png"))
    assert "Binary file, 12.3 KiB, not shown." in binary and "IHDR" not in binary
    latin = text(staff.client.get(f"/submissions/{sub.id}/code/latin1.txt"))
    assert "Not valid UTF-8" in latin and "caf\ufffd" in latin


def test_a_huge_one_line_file_is_cut_with_a_note(staff: Staff) -> None:
    line = base64.b64encode(os.urandom(3_750_000))  # 5 MB on one line, incompressible
    sub = staff.submit({"solution.py": SOLUTION, "blob.txt": line})
    response = staff.client.get(f"/submissions/{sub.id}/code/blob.txt")
    page = text(response)
    assert response.status_code == 200
    assert len(response.content) < 20_000
    assert "The file is 4.8 MiB: the first 256.0 KiB are shown" in page
    assert f"… {256 * 1024 - 2000:,} more characters" in page
    assert "Lines longer than 2,000 characters are cut." in page


def test_a_long_file_shows_its_first_lines(staff: Staff) -> None:
    body = "".join(f"x{n} = {n}\n" for n in range(1, 7001))
    sub = staff.submit({"solution.py": SOLUTION, "long.py": body})
    page = text(staff.client.get(f"/submissions/{sub.id}/code/long.py"))
    assert 'id="L5000"' in page and 'id="L5001"' not in page
    assert "The first 5,000 of 7,000 lines are shown." in page


def test_five_thousand_files_and_deep_paths(staff: Staff) -> None:
    files: dict[str, str | bytes] = {"solution.py": SOLUTION}
    files |= {f"pkg{n % 50:02d}/mod{n:04d}.py": f"N = {n}\n" for n in range(5000)}
    deep = "/".join(f"d{n}" for n in range(100)) + "/leaf.py"
    files[deep] = "deep = True\n"
    sub = staff.submit(files)
    page = staff.get(f"/submissions/{sub.id}/code/")
    listed = files_of(page)
    assert len(listed) == 5002
    assert listed[:3] == ["solution.py", deep, "pkg00/mod0000.py"]
    assert listed.index("pkg00/mod4950.py") < listed.index("pkg01/mod0001.py")
    assert page.count("<details open>") == 52  # the top level, the deep folder, 50 packages
    leaf = staff.get(f"/submissions/{sub.id}/code/{quote(deep)}")
    assert '<span class="n">deep</span>' in leaf


def _starter(path: str) -> bytes:
    return (MINI_ADD / "starter" / path).read_bytes()


def test_diff_against_the_starter_kit_groups_files(staff: Staff) -> None:
    sub = staff.submit(
        {
            "mini-add/solution.py": SOLUTION,
            "mini-add/README.md": _starter("README.md"),
            "mini-add/conftest.py": _starter("conftest.py"),
            "mini-add/data/numbers.txt": _starter("data/numbers.txt"),
            "mini-add/NOTES.md": "one\ntwo\n",
        }
    )
    page = text(staff.client.get(f"/submissions/{sub.id}/diff"))
    changed, removed = page.index("Changed and added"), page.index("<h3>Removed</h3>")
    identical = page.index("3 files identical to the starter kit")
    assert changed < removed < identical
    first = page[changed:removed]
    assert re.findall(r'<span class="badge (\w+)">', first) == ["added", "changed"]
    assert "NOTES.md" in first and "+2" in first
    assert '<tr class="added"><td class="ln"></td><td class="ln"><a href=' in first
    removed_row = '<tr class="removed"><td class="ln">2</td><td class="ln"></td><td class="src">'
    assert f"{removed_row}    raise NotImplementedError</td></tr>" in first
    gone = page[removed:identical]
    for path in ("requirements-kit.txt", "tests/test_public.py", "worksample.toml", "wheels/"):
        assert path in gone
    assert "Binary file" in gone  # the kit's wheel
    rest = page[identical - 200 :]
    assert '<details class="identical"><summary>' in rest and "README.md" in rest


def test_diff_between_two_uploads_counts_lines(staff: Staff) -> None:
    first = staff.submit(
        {"solution.py": "a\nb\nc\n", "old.txt": "x\n"}, kind=SubmissionKind.practice
    )
    second = staff.submit({"solution.py": "a\nB\nc\nd\n", "new.txt": "y\nz\n"})
    page = text(staff.client.get(f"/submissions/{first.id}/diff/{second.id}"))
    assert f"Changes from upload #{first.id} to upload #{second.id}" in page
    assert '<span class="plus">+4</span> <span class="minus">\N{MINUS SIGN}2</span>' in page
    head = page[page.index("Changed and added") :]
    assert re.findall(r'<span class="badge (\w+)">', head)[:3] == ["added", "changed", "removed"]
    assert f'href="/submissions/{second.id}/code/solution.py#L2">2</a>' in page
    tree = text(staff.client.get(f"/submissions/{second.id}/code/"))
    assert f'href="/submissions/{first.id}/diff/{second.id}">changes from #{first.id}' in tree


def test_a_diff_across_invitations_is_not_found(staff: Staff) -> None:
    mine = staff.submit({"solution.py": SOLUTION})
    other, _ = make_invitation(staff.session, make_position(staff.session, _org(staff)))
    theirs = make_submission(staff.session, other)
    for url in (
        f"/submissions/{mine.id}/diff/{theirs.id}",
        f"/submissions/{theirs.id}/diff/{mine.id}",
    ):
        assert staff.client.get(url).status_code == 404


def _org(staff: Staff) -> Organisation:
    found = staff.session.get(Organisation, staff.invitation.org_id)
    assert found is not None
    return found


def test_archive_download_is_an_attachment(staff: Staff) -> None:
    sub = staff.submit({"solution.py": SOLUTION}, filename='résumé "final"\u202egpj.zip')
    response = staff.client.get(f"/submissions/{sub.id}/archive")
    assert response.status_code == 200
    assert response.headers["content-type"] == "application/zip"
    assert response.headers["x-content-type-options"] == "nosniff"
    assert response.headers["content-disposition"] == (
        'attachment; filename="r_sum_final_gpj.zip"; '
        "filename*=UTF-8''r%C3%A9sum%C3%A9%20%22final%22%20gpj.zip"
    )
    assert zipfile.ZipFile(io.BytesIO(response.content)).read("solution.py") == SOLUTION


@pytest.mark.parametrize("role", list(Role))
def test_every_staff_role_reads_and_other_orgs_are_not_found(
    client: TestClient, db_session: Session, role: Role
) -> None:
    own, other = make_org(db_session), make_org(db_session)
    mine, _ = make_invitation(db_session, make_position(db_session, own))
    theirs, _ = make_invitation(db_session, make_position(db_session, other))
    sub, their_sub = make_submission(db_session, mine), make_submission(db_session, theirs)
    sign_in(client, db_session, make_user(db_session, own, role=role))
    pages = ["code/", "code/solution.py", "diff", "archive"]
    for page in pages:
        assert client.get(f"/submissions/{sub.id}/{page}").status_code == 200, page
        assert client.get(f"/submissions/{their_sub.id}/{page}").status_code == 404, page
    for missing in ("code/nope.py", "code/solution.py/x", "code/SOLUTION.PY"):
        assert client.get(f"/submissions/{sub.id}/{missing}").status_code == 404, missing
    assert client.get(f"/submissions/{2**63}/code/").status_code == 404


@pytest.mark.parametrize("db", ["sqlite"], indirect=True)
def test_anonymous_and_candidates_are_sent_to_log_in(
    client: TestClient, db_session: Session, org: Organisation
) -> None:
    invitation, _ = make_invitation(db_session, make_position(db_session, org))
    sub = make_submission(db_session, invitation)
    for url in (f"/submissions/{sub.id}/code/", f"/submissions/{sub.id}/archive"):
        assert client.get(url).headers["location"].startswith("/login?next=")
        assert client.get(url, headers={"HX-Request": "true"}).status_code == 401
    enter_as_candidate(client, db_session, invitation)
    assert client.get(f"/submissions/{sub.id}/archive").status_code == 303


def test_changes_counts_lines(staff: Staff) -> None:
    first = staff.submit(
        {"solution.py": "a\nb\nc\n", "gone.txt": "1\n2\n", "same.txt": "s\n", "pic.bin": b"\0\1"},
        kind=SubmissionKind.practice,
    )
    second = staff.submit(
        {"solution.py": "a\nB\nc\nd", "new.txt": "1\n2\n3\n", "same.txt": "s\n", "pic.bin": b"\0\2"}
    )
    exercises = staff.app.state.settings.exercises_dir
    before = submission_files(staff.session, first, exercises_dir=exercises)
    after = submission_files(staff.session, second, exercises_dir=exercises)
    assert submission_files(staff.session, second, exercises_dir=exercises) is after  # cached
    assert changes(before, after) == [
        FileChange("gone.txt", "removed", 0, 2),
        FileChange("new.txt", "added", 3, 0),
        FileChange("pic.bin", "changed", 0, 0),
        FileChange("solution.py", "changed", 2, 1),
    ]
    assert changes(None, before) == [
        FileChange("gone.txt", "added", 2, 0),
        FileChange("pic.bin", "added", 0, 0),
        FileChange("same.txt", "added", 1, 0),
        FileChange("solution.py", "added", 3, 0),
    ]


def test_an_archive_intake_refuses_says_why(staff: Staff) -> None:
    sub = make_submission(staff.session, staff.invitation, data=b"PK\x03\x04 not a zip")
    page = text(staff.client.get(f"/submissions/{sub.id}/code/"))
    assert "The archive cannot be read: The upload is not a zip archive" in page
    assert f'href="/submissions/{sub.id}/archive"' in page
    assert staff.client.get(f"/submissions/{sub.id}/code/solution.py").status_code == 400
    exercises = staff.app.state.settings.exercises_dir
    with pytest.raises(Invalid, match="The archive cannot be read"):
        submission_files(staff.session, sub, exercises_dir=exercises)


def test_files_too_long_to_diff_are_counted(staff: Staff) -> None:
    old = "".join(f"line {n}\n" for n in range(15_000))
    new = "".join(f"line {n}\n" for n in range(5_000, 20_000))
    first = staff.submit({"solution.py": SOLUTION, "big.txt": old}, kind=SubmissionKind.practice)
    second = staff.submit({"solution.py": SOLUTION, "big.txt": new})
    page = text(staff.client.get(f"/submissions/{first.id}/diff/{second.id}"))
    assert "Too long to diff here: the line counts are the lines each side lacks." in page
    assert '<span class="plus">+5000</span> <span class="minus">\N{MINUS SIGN}5000</span>' in page
    assert '<tr class="added">' not in page
