"""JSON API of "book an expert": proposals for an expert's visit and their answers.

`accept` and `decline` are answered by whoever's turn it is: the offer's provider answers a
teacher's proposal; the school's teachers answer the provider's other time."""

from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Depends
from pydantic import BaseModel, ConfigDict
from sqlmodel import Session

from app.accounts.models import Role, User
from app.accounts.schemas import Page
from app.bookings import expert
from app.bookings.models import ExpertProposal, ProposalStatus
from app.bookings.schemas import ReasonIn
from app.deps import ApiUser, Limit, Now, Offset, PathId, SessionDep
from app.errors import Forbidden, NotFound
from app.i18n import _

router = APIRouter(tags=["book an expert"])


class ProposalPublic(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    offer_id: int
    school_id: int
    teacher_id: int
    status: ProposalStatus
    starts_at: datetime
    ends_at: datetime
    class_name: str
    grade: int
    pupils: int
    girls: int | None
    adults: int
    needs: str
    contact_phone: str
    message: str
    # Why the provider declined, or its note with another time.
    reason: str
    # The booking an accepted proposal became.
    booking_id: int | None
    created_at: datetime
    updated_at: datetime


def _public(db: Session, proposal_id: int) -> ProposalPublic:
    return ProposalPublic.model_validate(db.get(ExpertProposal, proposal_id))


# Checked before the body is read, so a caller who may not act learns nothing from a 422.
def teacher_api_user(user: ApiUser) -> User:
    if user.role != Role.teacher:
        raise Forbidden(_("Only teachers can propose a visit."))
    return user


def visible_proposal(db: SessionDep, user: ApiUser, proposal_id: PathId) -> ExpertProposal:
    return expert.get_proposal(db, user, proposal_id)


TeacherApiUser = Annotated[User, Depends(teacher_api_user)]
VisibleProposal = Annotated[ExpertProposal, Depends(visible_proposal)]


@router.post("/offers/{offer_id}/proposals", status_code=201)
def propose(db: SessionDep, user: TeacherApiUser, now: Now, offer_id: PathId, data: expert.ProposalIn) -> ProposalPublic:
    """Propose a time for an expert's visit (naive times are Danish). 422 names the field that
    breaks the expert's windows, lead time, grades or group size; 409 when the expert does not
    travel to the school, is busy or has the week's visits already."""
    return _public(db, expert.propose(db, user, offer_id, data, now=now).id)


@router.get("/proposals")
def list_proposals(
    db: SessionDep, user: ApiUser, status: ProposalStatus | None = None, limit: Limit = 50, offset: Offset = 0
) -> Page[ProposalPublic]:
    """A teacher's school's proposals, or those for a provider's offers; newest first."""
    items, total = expert.list_proposals(db, user, status=status, limit=limit, offset=offset)
    return Page(items=[ProposalPublic.model_validate(p) for p in items], total=total)


@router.get("/proposals/{proposal_id}")
def get_proposal(proposal: VisibleProposal) -> ProposalPublic:
    return ProposalPublic.model_validate(proposal)


@router.post("/proposals/{proposal_id}/accept")
def accept(db: SessionDep, user: ApiUser, now: Now, proposal: VisibleProposal) -> ProposalPublic:
    """The provider accepts the teacher's time, or a teacher the provider's other time: the visit
    becomes a booking (`booking_id`). 409 names a resource that is busy then."""
    if user.role == Role.provider:
        expert.accept(db, user, proposal.id, now=now)
    else:
        expert.accept_counter(db, user, proposal.id, now=now)
    return _public(db, proposal.id)


@router.post("/proposals/{proposal_id}/decline")
def decline(db: SessionDep, user: ApiUser, now: Now, proposal: VisibleProposal, data: ReasonIn | None = None) -> ProposalPublic:
    """The provider declines with a `reason` (required), or a teacher declines the other time."""
    if user.role == Role.provider:
        expert.decline(db, user, proposal.id, data.reason if data else "", now=now)
    else:
        expert.decline_counter(db, user, proposal.id, now=now)
    return _public(db, proposal.id)


@router.post("/proposals/{proposal_id}/counter")
def counter(db: SessionDep, user: ApiUser, now: Now, proposal: VisibleProposal, data: expert.CounterIn) -> ProposalPublic:
    """The provider proposes another time, with a `message` to the teacher."""
    if user.role != Role.provider:
        raise NotFound(_("No such proposal."))
    expert.counter_propose(db, user, proposal.id, data.starts_at, data.ends_at, data.message, now=now)
    return _public(db, proposal.id)


@router.post("/proposals/{proposal_id}/withdraw")
def withdraw(db: SessionDep, user: ApiUser, now: Now, proposal: VisibleProposal) -> ProposalPublic:
    """A teacher of the school withdraws a proposal not yet accepted."""
    expert.withdraw(db, user, proposal.id, now=now)
    return _public(db, proposal.id)
