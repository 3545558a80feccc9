"""HTML pages of a mentor's own data: what the portal stores and who sees it, the download of all
of it, and deleting the account."""

import json
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import Response
from sqlmodel import Session

from app.accounts.models import Organisation, User
from app.deps import SESSION_COOKIE, MentorPageUser, Now, SessionDep
from app.i18n import TIMEZONE
from app.mentors import privacy
from app.mentors.models import MentorProfile
from app.web.csrf import rotate_csrf
from app.web.forms import PostedForm
from app.web.templating import redirect, render

router = APIRouter()
# A whole person's data, a minor's perhaps: for no shared cache and not the browser's disk.
PRIVATE = {"Cache-Control": "private, no-store"}


def _page(
    request: Request, db: Session, user: User, values: dict[str, Any], errors: dict[str, str]
) -> Response:
    profile = db.get(MentorProfile, user.id)
    institution = db.get(Organisation, user.organisation_id) if user.organisation_id else None
    response = render(
        request,
        "mentors/privacy.html",
        {"profile": profile, "institution": institution, "values": values, "errors": errors},
        status_code=422 if errors else 200,
    )
    response.headers.update(PRIVATE)
    return response


@router.get("/mentor/privacy")
def privacy_page(request: Request, db: SessionDep, user: MentorPageUser) -> Response:
    return _page(request, db, user, {}, {})


@router.get("/mentor/data.json")
def download_data(db: SessionDep, user: MentorPageUser, now: Now) -> Response:
    data = privacy.export(db, user)
    day = now.astimezone(TIMEZONE).date().isoformat()
    return Response(
        content=json.dumps(data, ensure_ascii=False, indent=2),
        media_type="application/json; charset=utf-8",
        headers={
            **PRIVATE,
            "Content-Disposition": f'attachment; filename="stem-portal-data-{day}.json"',
        },
    )


@router.post("/mentor/delete")
def delete_account(
    request: Request, db: SessionDep, user: MentorPageUser, form: PostedForm, now: Now
) -> Response:
    confirmed = form.get("confirm") == "1"
    errors = privacy.deletion_refusals(user, password=form.get("password", ""), confirmed=confirmed)
    if errors:
        return _page(request, db, user, {"confirm": confirmed}, errors)
    privacy.delete_account(db, user, now=now)
    # The sessions went with the account; the browser forgets its cookie, and its forms' tokens
    # belong to nobody now.
    rotate_csrf(request, session=None)
    response = redirect(request, "/mentor/goodbye", reload=True)
    response.delete_cookie(SESSION_COOKIE)
    return response


@router.get("/mentor/goodbye")
def goodbye(request: Request) -> Response:
    """After the deletion: the person is no longer logged in, so the page is everyone's."""
    return render(request, "mentors/goodbye.html")
