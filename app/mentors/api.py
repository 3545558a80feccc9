"""JSON API of youth-to-youth mentoring (see shared/API.md)."""

from typing import Any

from fastapi import APIRouter, Response

from app.accounts.models import Role
from app.deps import ApiUser, Now, SessionDep, SettingsDep
from app.errors import Forbidden
from app.i18n import _
from app.mentors import privacy
from app.mentors import service as mentors
from app.mentors.schemas import MentorSignedUp, MentorSignupIn

router = APIRouter(tags=["mentors"])


@router.post("/mentors/signup", status_code=201)
def sign_up(data: MentorSignupIn, db: SessionDep, now: Now, settings: SettingsDep) -> MentorSignedUp:
    """A new mentor: `awaiting_consent` under 18 (a guardian is asked), else `awaiting_approval`
    (their institution's staff or a coordinator decides)."""
    profile = mentors.sign_up(db, data, now=now, settings=settings)
    return MentorSignedUp(id=profile.user_id, status=profile.status)


@router.get("/me/data")
def my_data(db: SessionDep, user: ApiUser, response: Response) -> dict[str, Any]:
    """Everything the portal stores about the calling mentor (as the download on /mentor/privacy):
    account, profile, themes, reach, guardians' consents, child-certificate checks, shifts,
    inbox, e-mails sent, log-ins. Never a password's or a token's hash."""
    if user.role != Role.mentor:
        raise Forbidden(_("Only mentors can download their data here."))
    response.headers["Cache-Control"] = "private, no-store"
    return privacy.export(db, user)
