"""JSON API of mentors' shifts (see shared/API.md, "Youth-to-youth mentors")."""

from fastapi import APIRouter

from app.accounts.models import Role
from app.accounts.schemas import Page
from app.deps import ApiUser, Limit, Now, Offset, PathId, SessionDep, SettingsDep
from app.errors import Forbidden
from app.i18n import _
from app.mentors import shifts
from app.mentors.schemas import LeaveIn, MyShift, MyShifts, OpenShift, ShiftSignupIn, ShiftTaken

router = APIRouter(tags=["mentors"])


@router.get("/shifts")
def open_shifts(db: SessionDep, mentor: ApiUser, now: Now, limit: Limit = 50, offset: Offset = 0) -> Page[OpenShift]:
    """The mentoring dates this approved mentor may take: their level, themes and reach, a place
    left, no clash with their other shifts; soonest first."""
    rows, total = shifts.open_shifts(db, mentor, now=now, limit=limit, offset=offset)
    return Page(items=[OpenShift.model_validate(row, from_attributes=True) for row in rows], total=total)


@router.post("/shifts/{session_id}/signup", status_code=201)
def sign_up(
    db: SessionDep, mentor: ApiUser, session_id: PathId, now: Now, data: ShiftSignupIn | None = None
) -> ShiftTaken:
    """Take a place on the date: 409 when it is full, already taken, or at the same time as
    another shift; 403 when not an approved mentor."""
    accepts = data.accepts_code_of_conduct if data else False
    shift = shifts.sign_up(db, mentor, session_id, now=now, accepts_code_of_conduct=accepts)
    return ShiftTaken(id=shift.id, session_id=shift.session_id, status=shift.status)


@router.post("/shifts/{session_id}/leave")
def leave(
    db: SessionDep, mentor: ApiUser, session_id: PathId, now: Now, settings: SettingsDep, data: LeaveIn | None = None
) -> ShiftTaken:
    """Leave the shift: a reason is required less than SHIFT_LEAVE_HOURS before the date."""
    shift = shifts.leave(db, mentor, session_id, reason=data.reason if data else "", now=now, settings=settings)
    return ShiftTaken(id=shift.id, session_id=shift.session_id, status=shift.status)


@router.get("/me/shifts")
def my_shifts(db: SessionDep, mentor: ApiUser) -> MyShifts:
    """The mentor's shifts, taken and done, with the hours each counts once completed."""
    if mentor.role != Role.mentor:
        raise Forbidden(_("Only youth-to-youth mentors have shifts."))
    rows = shifts.my_shifts(db, mentor)
    items = [
        MyShift(
            id=shift.id,
            session_id=session.id,
            title=offer.title,
            starts_at=session.starts_at,
            ends_at=session.ends_at,
            status=shift.status,
            hours=round(shift.minutes / 60, 2) if shift.minutes is not None else None,
        )
        for shift, session, offer in rows
    ]
    return MyShifts(items=items, total=len(items), hours_total=sum(item.hours or 0 for item in items))
