"""The language switch (the start page is app.start)."""

from typing import Annotated

from fastapi import APIRouter, Form, Request
from fastapi.responses import Response

from app.accounts import service as accounts
from app.deps import MaybeUser, SessionDep
from app.i18n import LANGUAGES
from app.web.middleware import LANGUAGE_COOKIE
from app.web.templating import redirect

router = APIRouter()


def safe_next(url: str | None, default: str = "/") -> str:
    """Only ever go on to a page of this site, never to another host; and only to an address of
    printable ASCII, as a browser sends it (percent-encoded), which is safe in a Location or
    HX-Location header: a control character or a raw non-ASCII one there is a broken (or, a TAB
    ignored by the browser, another host's) address."""
    if (
        url
        and url.startswith("/")
        and not url.startswith("//")
        and "\\" not in url
        and all("!" <= character <= "~" for character in url)
    ):
        return url
    return default


@router.post("/language")
def choose_language(
    request: Request,
    db: SessionDep,
    user: MaybeUser,
    language: Annotated[str, Form()],
    next: Annotated[str | None, Form()] = None,
) -> Response:
    chosen = language if language in LANGUAGES else "da"
    if user is not None:
        accounts.set_language(db, user, chosen)
    response = redirect(request, safe_next(next))
    response.set_cookie(
        LANGUAGE_COOKIE,
        chosen,
        max_age=60 * 60 * 24 * 365,
        samesite="lax",
        secure=request.app.state.settings.is_production,
    )
    return response
