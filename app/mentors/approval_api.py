"""JSON API of deciding on mentors and of their child certificates (see shared/API.md)."""

from fastapi import APIRouter

from app.deps import ApiUser, Limit, Now, Offset, PathId, SessionDep
from app.mentors import approval, safeguarding
from app.mentors.models import MentorProfile, MentorStatus
from app.mentors.schemas import (
    CertificateIn,
    CertificateRecorded,
    MentorDecided,
    MentorList,
    MentorListItem,
    MentorReasonIn,
    MentorRejectIn,
)

router = APIRouter(tags=["mentors"])


def _decided(profile: MentorProfile) -> MentorDecided:
    return MentorDecided(id=profile.user_id, status=profile.status)


@router.get("/mentors")
def list_mentors(
    db: SessionDep, user: ApiUser, status: MentorStatus | None = None, limit: Limit = 50, offset: Offset = 0
) -> MentorList:
    """The mentors the caller decides on (coordinators: all, or their municipality's institutions';
    a school's teachers and a university's or college's staff: their own), the longest waiting
    first. The e-mail address is shown to coordinators and administrators only."""
    mentors, total = approval.list_mentors(db, user, status=status, limit=limit, offset=offset)
    until = safeguarding.certificates_valid_until(db, (m.profile.user_id for m in mentors))
    items = [
        MentorListItem(
            id=m.profile.user_id,
            name=m.user.name,
            status=m.profile.status,
            institution_id=m.institution.id,
            institution_name=m.institution.name,
            study_programme=m.profile.study_programme,
            created_at=m.profile.created_at,
            certificate_valid_until=until.get(m.profile.user_id),
            email=m.user.email if user.is_staff else None,
        )
        for m in mentors
    ]
    return MentorList(items=items, total=total)


@router.post("/mentors/{mentor_id}/approve")
def approve(db: SessionDep, user: ApiUser, mentor_id: PathId, now: Now) -> MentorDecided:
    """Approve a mentor awaiting approval (or resume a paused one); 409 while a guardian's consent
    is missing."""
    return _decided(approval.approve_mentor(db, user, mentor_id, now=now))


@router.post("/mentors/{mentor_id}/reject")
def reject(db: SessionDep, user: ApiUser, mentor_id: PathId, now: Now, data: MentorRejectIn) -> MentorDecided:
    """Reject a sign-up; the reason is told to the mentor."""
    return _decided(approval.reject_mentor(db, user, mentor_id, reason=data.reason, now=now))


@router.post("/mentors/{mentor_id}/pause")
def pause(
    db: SessionDep, user: ApiUser, mentor_id: PathId, now: Now, data: MentorReasonIn | None = None
) -> MentorDecided:
    """Pause an approved mentor; their future shifts are dropped."""
    reason = data.reason if data else ""
    return _decided(approval.pause_mentor(db, user, mentor_id, reason=reason, now=now))


@router.post("/mentors/{mentor_id}/resume")
def resume(db: SessionDep, user: ApiUser, mentor_id: PathId, now: Now) -> MentorDecided:
    return _decided(approval.resume_mentor(db, user, mentor_id, now=now))


@router.post("/mentors/{mentor_id}/retire")
def retire(
    db: SessionDep, user: ApiUser, mentor_id: PathId, now: Now, data: MentorReasonIn | None = None
) -> MentorDecided:
    """End a mentor's time in the programme; their future shifts are dropped."""
    reason = data.reason if data else ""
    return _decided(approval.retire_mentor(db, user, mentor_id, reason=reason, now=now))


@router.post("/mentors/{mentor_id}/certificate", status_code=201)
def record_certificate(
    db: SessionDep, user: ApiUser, mentor_id: PathId, now: Now, data: CertificateIn
) -> CertificateRecorded:
    """Record that the mentor's child certificate (børneattest) was assessed, and until when it
    holds (by default and at most a year). Never send the certificate or a CPR number."""
    check = safeguarding.record_assessment(
        db, user, mentor_id, assessed_on=data.assessed_on, valid_until=data.valid_until, now=now
    )
    return CertificateRecorded(
        id=check.id, mentor_id=check.mentor_id, assessed_on=check.assessed_on, valid_until=check.valid_until
    )
