"""CSRF protection for the pages: a random token in a cookie that every unsafe request must repeat,
in a hidden form field or (for htmx) the X-CSRF-Token header. Another site can make a browser send
the cookie, but cannot read it to repeat it."""

import hmac
import secrets

from fastapi import Request

from app.errors import Forbidden
from app.i18n import _

CSRF_COOKIE = "stem_csrf"
CSRF_FIELD = "csrf_token"
CSRF_HEADER = "X-CSRF-Token"
SAFE_METHODS = {"GET", "HEAD", "OPTIONS"}


def csrf_token(request: Request) -> str:
    """The visitor's token, made on first use; `set_csrf_cookie` stores a new one on the response."""
    if not hasattr(request.state, "csrf_token"):
        request.state.csrf_token = request.cookies.get(CSRF_COOKIE) or secrets.token_urlsafe(32)
    return request.state.csrf_token


def set_csrf_cookie(request: Request, response, *, secure: bool) -> None:
    token = getattr(request.state, "csrf_token", None)
    if token and token != request.cookies.get(CSRF_COOKIE):
        response.set_cookie(
            CSRF_COOKIE,
            token,
            httponly=True,
            samesite="lax",
            secure=secure,
            max_age=60 * 60 * 24 * 30,
        )


async def verify_csrf(request: Request) -> None:
    """Router dependency for every page route: refuse unsafe requests without the right token."""
    if request.method in SAFE_METHODS:
        return
    expected = request.cookies.get(CSRF_COOKIE)
    sent = request.headers.get(CSRF_HEADER)
    if sent is None:
        form = await request.form()
        value = form.get(CSRF_FIELD)
        sent = value if isinstance(value, str) else None
    if not expected or not sent or not hmac.compare_digest(expected, sent):
        raise Forbidden(
            _("The form had expired. Go back, reload the page and try again."), field=CSRF_FIELD
        )
