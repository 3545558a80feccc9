"""Safeguarding of the pupils mentors meet: the child certificate (børneattest) a mentor needs for
dates with pupils under 15. The institution or the programme orders it from the police and
assesses it; the portal records only that it was assessed, by whom, and until when it holds, never
the certificate itself or a CPR number. Plain functions on the database session, no HTTP."""

from collections.abc import Iterable
from datetime import date, datetime, time, timedelta

from dateutil.relativedelta import relativedelta
from sqlalchemy import ColumnElement, and_, exists, func, not_
from sqlmodel import Session, col, select

from app.accounts.models import User
from app.errors import InvalidInput
from app.i18n import TIMEZONE, _, local_date
from app.mentors import approval  # who may decide on a mentor (it imports this module too)
from app.mentors.models import ChildCertificateCheck, MentorProfile

# Grades are 0-10 (primary, folkeskole) and 11-13 (upper secondary, 1.-3. g). The portal knows a
# class's grade, not its pupils' ages: the programme counts grades 0-8 as pupils under 15, so a
# date for any of these grades needs mentors whose child certificate holds on the day.
GRADE_UNDER_15_MAX = 8

# The law: a child certificate is renewed every year, and again after a pause of six months.
VALID_FOR = relativedelta(years=1)
PAUSE_LIMIT = relativedelta(months=6)


def _local_day(moment: datetime) -> date:
    return moment.astimezone(TIMEZONE).date()


def _local_midnight(day: date) -> datetime:
    return datetime.combine(day, time.min, TIMEZONE)


def certificate_clause(mentor_id: ColumnElement[int] | int, day: date) -> ColumnElement[bool]:
    """SQL for `certificate_holds`: EXISTS an assessment of the mentor (a column, to filter many
    mentors in one query, or an id) that holds on `day`. The rule is `certificate_holds`'s."""
    check = ChildCertificateCheck
    six_months_before = day - PAUSE_LIMIT
    # Paused (since a day) at least six months before `day`, and assessed before that too: both
    # ends of the pause are then six months or more behind `day`.
    voided_by_pause = and_(
        col(MentorProfile.paused_at).is_not(None),
        col(MentorProfile.paused_at) < _local_midnight(six_months_before + timedelta(days=1)),
        col(check.assessed_on) <= six_months_before,
    )
    return exists(
        select(col(check.id))
        .join(MentorProfile, col(MentorProfile.user_id) == col(check.mentor_id))
        .where(
            col(check.mentor_id) == mentor_id,
            col(check.assessed_on) <= day,
            col(check.valid_until) >= day,
            not_(voided_by_pause),
        )
    )


def certificate_holds(db: Session, mentor_id: int, day: date) -> bool:
    """Whether the mentor's child certificate holds on `day` (a date of a class under 15).

    The rule: an assessment holds from the day it was assessed (`assessed_on`, the day the
    institution read the certificate: what the law counts, not `created_at`, the day it was typed
    in) until its `valid_until`, at most a year later (renewed yearly). A pause of six months
    voids it:

    - while the mentor is paused (`paused_at` set), an assessment no longer holds from six months
      after the later of the pause's first day and the day it was assessed;
    - when the mentor resumes after such a pause, `end_after_long_pause` ends the assessments the
      pause voided: their `valid_until` becomes the day before they stopped holding, so the record
      says until when each held, and `paused_at` is cleared.

    So for an approved (not paused) mentor and a day from today on, it holds exactly when the
    latest `valid_until` (`certificates_valid_until`) is that day or later: a cheap test for many
    dates at once. (An assessment typed in after a long pause but assessed before it is not
    ended: whoever records it sees the mentor's status; the form asks for the day it was assessed.)"""
    return db.exec(select(certificate_clause(mentor_id, day))).one()


def certificates_valid_until(db: Session, mentor_ids: Iterable[int]) -> dict[int, date]:
    """The last day each mentor's latest assessment holds until (past days too: "expired on")."""
    ids = list(mentor_ids)
    if not ids:
        return {}
    rows = db.exec(
        select(col(ChildCertificateCheck.mentor_id), func.max(col(ChildCertificateCheck.valid_until)))
        .where(col(ChildCertificateCheck.mentor_id).in_(ids))
        .group_by(col(ChildCertificateCheck.mentor_id))
    ).all()
    return dict(rows)


def end_after_long_pause(db: Session, profile: MentorProfile, *, now: datetime) -> None:
    """On resuming: end the assessments that the pause (since `profile.paused_at`) voided, those
    paused over for six months or more since they were assessed (see `certificate_holds`). In the
    caller's transaction."""
    if profile.paused_at is None:
        return
    paused_on, today = _local_day(profile.paused_at), _local_day(now)
    checks = db.exec(
        select(ChildCertificateCheck).where(ChildCertificateCheck.mentor_id == profile.user_id)
    ).all()
    for check in checks:
        voided_on = max(paused_on, check.assessed_on) + PAUSE_LIMIT
        if voided_on <= today and check.valid_until >= voided_on:
            check.valid_until = voided_on - timedelta(days=1)
            db.add(check)


def record_assessment(
    db: Session,
    actor: User,
    mentor_id: int,
    *,
    assessed_on: date,
    valid_until: date | None = None,
    now: datetime,
) -> ChildCertificateCheck:
    """Record that `actor` (who may decide on the mentor) assessed the mentor's child certificate
    on `assessed_on` (not in the future), holding until `valid_until` (by default, and at most, a
    year later). Refused naming the field; nothing is saved then."""
    mentor = approval.get_mentor(db, actor, mentor_id)  # whether the actor may, first
    today = _local_day(now)
    if assessed_on > today:
        raise InvalidInput(_("The day of the assessment cannot be in the future."), field="assessed_on")
    latest = assessed_on + VALID_FOR
    valid_until = valid_until or latest
    if valid_until < assessed_on:
        raise InvalidInput(_("The last day cannot be before the day of the assessment."), field="valid_until")
    if valid_until > latest:
        raise InvalidInput(
            _("A child certificate holds for at most a year: choose %(day)s or earlier.")
            % {"day": local_date(latest)},
            field="valid_until",
        )
    check = ChildCertificateCheck(
        mentor_id=mentor.profile.user_id,
        assessed_by_id=actor.id,
        assessed_on=assessed_on,
        valid_until=valid_until,
        created_at=now,
    )
    db.add(check)
    db.commit()
    return check
