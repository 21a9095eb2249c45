"""Templates: one helper picks the page or its partial from `HX-Request`."""

from __future__ import annotations

import hashlib
import re
from pathlib import Path
from typing import Any

import nh3
from fastapi import Request
from fastapi.responses import HTMLResponse
from fastapi.templating import Jinja2Templates
from markdown_it import MarkdownIt
from worksample.web.services.identity import Identities
from worksample.web.text import visible

templates = Jinja2Templates(directory=str(Path(__file__).with_name("templates")))
# The templates ship with the package: no need to stat each one per request.
templates.env.auto_reload = False
_markdown = MarkdownIt("commonmark", {"html": False}).enable("table")


def render_markdown(text: str) -> str:
    """Markdown to HTML, then sanitised: raw HTML is off and nh3 keeps only safe tags."""
    return nh3.clean(_markdown.render(text), link_rel="noopener noreferrer nofollow")


templates.env.filters["markdown"] = render_markdown
templates.env.filters["visible"] = visible


def test_anchor(test_id: str) -> str:
    """A fragment id for a test's row: readable, and unique by a short hash."""
    slug = re.sub(r"[^A-Za-z0-9_-]+", "-", test_id.rsplit("::", 1)[-1]).strip("-")
    return f"t-{slug[:60]}-{hashlib.sha256(test_id.encode()).hexdigest()[:6]}"


templates.env.filters["test_anchor"] = test_anchor


def render(
    request: Request,
    page: str,
    context: dict[str, Any],
    *,
    partial: str | None = None,
    status_code: int = 200,
) -> HTMLResponse:
    web = getattr(request.state, "web_session", None)
    context = {"csrf_token": web.csrf_token if web else "", **context}
    user, session = context.get("user"), getattr(request.state, "db", None)
    if user is not None and session is not None and "who" not in context:
        context["who"] = Identities(session, user)  # what staff pages may show of a candidate
    name = partial if partial and request.headers.get("hx-request") == "true" else page
    response = templates.TemplateResponse(request, name, context, status_code=status_code)
    response.headers["Vary"] = "HX-Request"
    return response
