"""The pages every Danish public web site publishes about itself, linked from every page's footer:
the privacy policy (privatlivspolitik), the cookies it sets, and the accessibility statement
(tilgængelighedserklæring) in the structure of the Digitaliseringsstyrelsen's template."""

from datetime import date

from fastapi import APIRouter, Request
from fastapi.responses import Response

from app.deps import SESSION_COOKIE, MaybeUser
from app.web.csrf import csrf_cookie
from app.web.middleware import LANGUAGE_COOKIE
from app.web.templating import render

router = APIRouter()

# When the accessibility statement was last reviewed against the pages (WCAG 2.1 AA, EN 301 549):
# the law asks for the date; it changes when the statement is reviewed again, not with the clock.
STATEMENT_REVIEWED = date(2026, 12, 7)


@router.get("/privacy")
def privacy_policy(request: Request, user: MaybeUser) -> Response:
    return render(request, "about/privacy.html")


@router.get("/cookies")
def cookies(request: Request, user: MaybeUser) -> Response:
    secure = request.app.state.settings.is_production
    return render(
        request,
        "about/cookies.html",
        {
            "session_cookie": SESSION_COOKIE,
            "csrf_cookie": csrf_cookie(secure),
            "language_cookie": LANGUAGE_COOKIE,
        },
    )


@router.get("/accessibility")
def accessibility_statement(request: Request, user: MaybeUser) -> Response:
    return render(request, "about/accessibility.html", {"reviewed": STATEMENT_REVIEWED})
