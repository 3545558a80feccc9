"""JSON API of youth-to-youth mentoring (see shared/API.md)."""

from fastapi import APIRouter

from app.deps import Now, SessionDep, SettingsDep
from app.mentors import service as mentors
from app.mentors.schemas import MentorSignedUp, MentorSignupIn

router = APIRouter(tags=["mentors"])


@router.post("/mentors/signup", status_code=201)
def sign_up(data: MentorSignupIn, db: SessionDep, now: Now, settings: SettingsDep) -> MentorSignedUp:
    """A new mentor: `awaiting_consent` under 18 (a guardian is asked), else `awaiting_approval`
    (their institution's staff or a coordinator decides)."""
    profile = mentors.sign_up(db, data, now=now, settings=settings)
    return MentorSignedUp(id=profile.user_id, status=profile.status)
