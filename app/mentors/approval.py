"""Deciding on mentors: who may (coordinators, and the staff of the mentor's own institution), the
queue they see, and the decisions: approve, reject, pause, resume, retire. Plain functions on the
database session, no HTTP. Each decision is one transaction: the new status, who decided and
when, the mentor told in their language (inbox and e-mail), and their future shifts dropped when
they may no longer take them."""

from datetime import datetime
from typing import NamedTuple

from sqlalchemy import ColumnElement, func, true
from sqlmodel import Session, col, select

from app.accounts.models import Organisation, OrganisationKind, Role, User
from app.config import get_settings
from app.db import begin_write
from app.errors import Conflict, Forbidden, InvalidInput, NotFound, TooLong
from app.i18n import _, language
from app.mentors import (  # modules, not names: safeguarding imports this one too
    safeguarding,
    shifts,
)
from app.mentors.models import MentorProfile, MentorStatus
from app.mentors.service import is_mentor_institution
from app.notifications.service import notify

REASON_MAX_LENGTH = 500  # MentorProfile.status_reason

# The states each decision may start from (approving a paused mentor resumes them).
APPROVABLE = frozenset({MentorStatus.awaiting_approval, MentorStatus.paused})
REJECTABLE = frozenset({MentorStatus.awaiting_consent, MentorStatus.awaiting_approval})
RETIRABLE = frozenset(
    {MentorStatus.awaiting_consent, MentorStatus.awaiting_approval, MentorStatus.approved, MentorStatus.paused}
)
# No longer allowed to take shifts: their future ones are dropped.
STOPPED = frozenset({MentorStatus.rejected, MentorStatus.paused, MentorStatus.retired})


class Mentor(NamedTuple):
    profile: MentorProfile
    user: User
    institution: Organisation


def _institution_of_staff(db: Session, actor: User) -> int | None:
    """The mentor institution the actor works for: a teacher of an upper-secondary school, a
    provider user of a university or college; None for anyone else."""
    if actor.role not in (Role.teacher, Role.provider) or actor.organisation_id is None:
        return None
    organisation = db.get(Organisation, actor.organisation_id)
    kind = OrganisationKind.school if actor.role == Role.teacher else OrganisationKind.provider
    if organisation is None or organisation.kind != kind or not is_mentor_institution(organisation):
        return None
    return organisation.id


def may_decide_on_mentors(db: Session, actor: User) -> bool:
    """Whether the actor decides on any mentors at all (the queue, and its menu link)."""
    return actor.is_staff or _institution_of_staff(db, actor) is not None


def _scope(db: Session, actor: User) -> ColumnElement[bool]:
    """The mentors the actor decides on, as a condition on MentorProfile and the institution."""
    if actor.is_regional_staff:
        return true()
    if actor.role == Role.coordinator:
        return col(Organisation.municipality) == actor.municipality
    institution_id = _institution_of_staff(db, actor)
    if institution_id is None:
        raise Forbidden(
            _("Only coordinators and the staff of the mentor's school, university or college decide on mentors.")
        )
    return col(MentorProfile.institution_id) == institution_id


def _query(db: Session, actor: User):
    return (
        select(MentorProfile, User, Organisation)
        .join(User, col(User.id) == col(MentorProfile.user_id))
        .join(Organisation, col(Organisation.id) == col(MentorProfile.institution_id))
        .where(_scope(db, actor), col(User.id) != actor.id)  # never on oneself
    )


def list_mentors(
    db: Session, actor: User, *, status: MentorStatus | None = None, limit: int = 50, offset: int = 0
) -> tuple[list[Mentor], int]:
    """The mentors the actor decides on, the longest waiting first, and how many there are."""
    query = _query(db, actor)
    if status is not None:
        query = query.where(col(MentorProfile.status) == status)
    total = db.exec(select(func.count()).select_from(query.subquery())).one()
    rows = db.exec(
        query.order_by(col(MentorProfile.created_at), col(MentorProfile.user_id)).limit(limit).offset(offset)
    ).all()
    return [Mentor(*row) for row in rows], total


def get_mentor(db: Session, actor: User, mentor_id: int, *, lock: bool = False) -> Mentor:
    """A mentor the actor decides on; any other is NotFound, so that nobody learns who exists.
    `lock`: the mentor's profile row, locked until the transaction ends (for a decision)."""
    query = _query(db, actor).where(col(MentorProfile.user_id) == mentor_id)
    if lock:
        begin_write(db)  # SQLite: the write lock first; PostgreSQL: the row's lock below
        query = query.with_for_update(of=MentorProfile).execution_options(populate_existing=True)
    row = db.exec(query).first()
    if row is None:
        raise NotFound(_("No such mentor."))
    return Mentor(*row)


def _check_reason(reason: str, *, required: bool) -> str:
    reason = reason.strip()
    if required and not reason:
        raise InvalidInput(_("Write the reason: the mentor is told."), field="reason")
    if len(reason) > REASON_MAX_LENGTH:
        raise TooLong(REASON_MAX_LENGTH, field="reason")
    return reason


def _decide(
    db: Session,
    actor: User,
    mentor_id: int,
    status: MentorStatus,
    *,
    allowed_from: frozenset[MentorStatus],
    refusal: str,
    reason: str = "",
    now: datetime,
) -> MentorProfile:
    mentor = get_mentor(db, actor, mentor_id, lock=True)
    profile = mentor.profile
    was = profile.status
    if status == MentorStatus.approved and was == MentorStatus.awaiting_consent:
        raise Conflict(
            _("A parent or guardian has not yet given their consent. The mentor can be approved once they have.")
        )
    if was not in allowed_from:
        raise Conflict(refusal)
    if was == MentorStatus.paused and status == MentorStatus.approved:
        safeguarding.end_after_long_pause(db, profile, now=now)
        profile.paused_at = None
    if status == MentorStatus.paused:
        profile.paused_at = now
    profile.status, profile.status_reason = status, reason
    profile.decided_by_id, profile.decided_at, profile.updated_at = actor.id, now, now
    db.add(profile)
    if status in STOPPED:
        shifts.drop_future_shifts(db, mentor_id, now=now, reason=reason or f"the mentor was {status.value}")
    _tell_mentor(db, mentor.user, status, resumed=was == MentorStatus.paused, reason=reason, now=now)
    db.commit()
    return profile


def _tell_mentor(
    db: Session, mentor: User, status: MentorStatus, *, resumed: bool, reason: str, now: datetime
) -> None:
    with language(mentor.language):
        if status == MentorStatus.approved and resumed:
            subject = _("Your mentoring continues")
            body = _("Your pause as a youth-to-youth mentor is over: you can take shifts again.")
        elif status == MentorStatus.approved:
            subject = _("You are approved as a mentor")
            body = _("You are approved as a youth-to-youth mentor: you can take shifts now.")
        elif status == MentorStatus.rejected:
            subject = _("Your sign-up as a mentor was not approved")
            body = _("Your sign-up as a youth-to-youth mentor was not approved.")
        elif status == MentorStatus.paused:
            subject = _("Your mentoring is paused")
            body = _("You are paused as a youth-to-youth mentor. Your future shifts are cancelled.")
        else:
            subject = _("Your time as a mentor has ended")
            body = _("You are no longer a youth-to-youth mentor, and your future shifts are cancelled. Thank you!")
        if reason:
            body += "\n\n" + _("Reason: %(reason)s") % {"reason": reason}
        body += "\n\n" + _("Kind regards\nThe STEM portal")
        notify(
            db,
            mentor,
            kind=f"mentor_{status.value}",
            subject=subject,
            body=body,
            now=now,
            link="/mentor/shifts" if status == MentorStatus.approved else "",  # the open shifts
            base_url=get_settings().base_url,
        )


def approve_mentor(db: Session, actor: User, mentor_id: int, *, now: datetime) -> MentorProfile:
    """Approve a mentor awaiting approval (or resume a paused one). A Conflict while a guardian's
    consent is missing."""
    return _decide(
        db, actor, mentor_id, MentorStatus.approved, allowed_from=APPROVABLE, now=now,
        refusal=_("Only a mentor who awaits approval or is paused can be approved."),
    )


def reject_mentor(db: Session, actor: User, mentor_id: int, *, reason: str, now: datetime) -> MentorProfile:
    """Reject a sign-up, with the reason the mentor is told (required)."""
    reason = _check_reason(reason, required=True)
    return _decide(
        db, actor, mentor_id, MentorStatus.rejected, allowed_from=REJECTABLE, reason=reason, now=now,
        refusal=_("Only a mentor who awaits consent or approval can be rejected."),
    )


def pause_mentor(db: Session, actor: User, mentor_id: int, *, reason: str = "", now: datetime) -> MentorProfile:
    """Pause an approved mentor: no shifts until resumed; after six months their child
    certificate must be assessed again (safeguarding.certificate_holds)."""
    reason = _check_reason(reason, required=False)
    return _decide(
        db, actor, mentor_id, MentorStatus.paused, allowed_from=frozenset({MentorStatus.approved}),
        reason=reason, now=now, refusal=_("Only an approved mentor can be paused."),
    )


def resume_mentor(db: Session, actor: User, mentor_id: int, *, now: datetime) -> MentorProfile:
    return _decide(
        db, actor, mentor_id, MentorStatus.approved, allowed_from=frozenset({MentorStatus.paused}),
        now=now, refusal=_("Only a paused mentor can resume."),
    )


def retire_mentor(db: Session, actor: User, mentor_id: int, *, reason: str = "", now: datetime) -> MentorProfile:
    """End a mentor's time in the programme; their past hours stay."""
    reason = _check_reason(reason, required=False)
    return _decide(
        db, actor, mentor_id, MentorStatus.retired, allowed_from=RETIRABLE, reason=reason, now=now,
        refusal=_("This mentor has already left the programme or was not approved."),
    )
