"""CSRF protection for the pages: every unsafe request must repeat a token, in a hidden form field or
(for htmx) the X-CSRF-Token header, that another site cannot know.

The token is an HMAC, under the server's secret key, of a random nonce kept in a cookie and of the
browser's session cookie (a signed double-submit cookie, bound to the session): another site can
make a browser send the cookies but cannot read them, and one that can plant cookies (a sibling
subdomain, a man in the middle on plain HTTP) still cannot make a token the server accepts without
the key and the victim's session. The nonce is new at every log-in and log-out, and in production
the cookie carries the `__Host-` prefix (Secure, no Domain: no subdomain can set it)."""

import hashlib
import hmac
import secrets

from fastapi import Request

from app.deps import SESSION_COOKIE
from app.errors import Forbidden
from app.i18n import _

CSRF_FIELD = "csrf_token"
CSRF_HEADER = "X-CSRF-Token"
SAFE_METHODS = {"GET", "HEAD", "OPTIONS"}


def csrf_cookie(secure: bool) -> str:
    # Browsers refuse a __Host- cookie that is not Secure, so plain-HTTP development goes without.
    return "__Host-stem_csrf" if secure else "stem_csrf"


def token_for(secret_key: str, nonce: str, session: str | None) -> str:
    message = f"{nonce}|{session or ''}".encode()
    return hmac.new(secret_key.encode(), message, hashlib.sha256).hexdigest()


def _secure(request: Request) -> bool:
    return request.app.state.settings.is_production


def _nonce(request: Request) -> str:
    if not hasattr(request.state, "csrf_nonce"):
        cookie = request.cookies.get(csrf_cookie(_secure(request)))
        request.state.csrf_nonce = cookie or secrets.token_urlsafe(32)
    return request.state.csrf_nonce


def csrf_token(request: Request) -> str:
    """The token for the visitor's forms; `set_csrf_cookie` stores a new nonce on the response."""
    session = getattr(request.state, "csrf_session", request.cookies.get(SESSION_COOKIE))
    return token_for(request.app.state.settings.secret_key, _nonce(request), session)


def rotate_csrf(request: Request, *, session: str | None) -> None:
    """At log-in and log-out: a new nonce, and the session the next pages' tokens belong to."""
    request.state.csrf_nonce = secrets.token_urlsafe(32)
    request.state.csrf_session = session


def set_csrf_cookie(request: Request, response) -> None:
    nonce = getattr(request.state, "csrf_nonce", None)
    secure = _secure(request)
    if nonce and nonce != request.cookies.get(csrf_cookie(secure)):
        response.set_cookie(
            csrf_cookie(secure),
            nonce,
            httponly=True,
            samesite="lax",
            secure=secure,
            path="/",
            max_age=60 * 60 * 24 * 30,
        )


async def verify_csrf(request: Request) -> None:
    """Router dependency for every page route: refuse unsafe requests without the right token."""
    if request.method in SAFE_METHODS:
        return
    sent = request.headers.get(CSRF_HEADER)
    if sent is None:
        form = await request.form()
        value = form.get(CSRF_FIELD)
        sent = value if isinstance(value, str) else None
    has_nonce = request.cookies.get(csrf_cookie(_secure(request)))
    if not has_nonce or not sent or not hmac.compare_digest(csrf_token(request), sent):
        raise Forbidden(
            _("The form had expired. Go back, reload the page and try again."), field=CSRF_FIELD
        )
