"""What every page of the UI shares: the templates, the token rule and the error page.

Reading needs nothing; a change needs the token, sent as ``Authorization: Bearer <token>`` or as
the cookie the login form sets (HttpOnly, SameSite=Strict: another site's form cannot use it).
Without ``--token-file`` the UI is read-only and every change is refused with 403.
"""

from __future__ import annotations

import hmac
import html
import json
from urllib.parse import parse_qs

import jinja2
from fastapi import Request
from fastapi.responses import HTMLResponse
from markupsafe import Markup

import sqlml
from sqlml.errors import ModelNotFoundError, NotFoundError
from sqlml.report.figures import fmt

COOKIE = "sqlml_ui_token"
READ_ONLY = "sqlml ui is read-only: start it with --token-file FILE to allow changes."
NEEDS_TOKEN = "This change needs the token: log in at /login, or send Authorization: Bearer <token>."

TEMPLATES = jinja2.Environment(loader=jinja2.PackageLoader("sqlml.ui", "templates"), autoescape=True, trim_blocks=True, lstrip_blocks=True)


def cell(value) -> Markup:
    """A value as table text: numbers to 4 significant digits, lists joined, mappings as JSON."""
    if isinstance(value, (list, tuple)):
        return Markup(html.escape(", ".join(map(str, value))))
    if isinstance(value, dict):
        return Markup(html.escape(json.dumps(value, default=str, sort_keys=True)))
    return Markup(fmt(value))  # fmt escapes text itself


TEMPLATES.filters["fmt"] = cell


class Refused(Exception):
    """A request the UI answers with an error page: ``status`` and the message to show."""

    def __init__(self, status: int, message: str, hint: str | None = None):
        super().__init__(message)
        self.status, self.message, self.hint = status, message, hint


class Access:
    """Who may change things: holders of ``token``; nobody when it is None."""

    def __init__(self, token: str | None):
        self.token = token

    def can_write(self, request: Request) -> bool:
        """Whether the request carries the token (header or cookie)."""
        if not self.token:
            return False
        header = request.headers.get("authorization", "")
        return self.matches(header[7:].strip() if header[:7].lower() == "bearer " else request.cookies.get(COOKIE, ""))

    def matches(self, given: str) -> bool:
        """Whether ``given`` is the token (compared in constant time)."""
        return bool(self.token) and hmac.compare_digest(given.encode(), self.token.encode())

    def require_write(self, request: Request) -> None:
        """Refuse (403) a change from a request without the token.

        Raises:
            Refused: read-only, or no valid token.
        """
        if not self.token:
            raise Refused(403, READ_ONLY)
        if not self.can_write(request):
            raise Refused(403, NEEDS_TOKEN)


async def form(request: Request) -> dict[str, list[str]]:
    """A posted ``application/x-www-form-urlencoded`` body (the only kind the pages send)."""
    return parse_qs((await request.body()).decode("utf-8", "replace"), keep_blank_values=True)


def page(request: Request, template: str, status: int = 200, **context) -> HTMLResponse:
    """Render a page; every page knows whether the visitor may change things."""
    access: Access = request.app.state.access
    html = TEMPLATES.get_template(template).render(
        can_write=access.can_write(request), writable=bool(access.token), version=sqlml.__version__, **context
    )
    return HTMLResponse(html, status_code=status)


def error_page(request: Request, error: Exception) -> HTMLResponse:
    """The page for a refused request or a sqlml error (404 for what does not exist)."""
    if isinstance(error, Refused):
        status, message, hint = error.status, error.message, error.hint
    else:
        status = 404 if isinstance(error, (NotFoundError, ModelNotFoundError)) else 400
        message, hint = str(error), None
    return page(request, "error.html", status=status, message=message, hint=hint)
