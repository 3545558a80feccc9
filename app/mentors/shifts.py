"""Shifts: approved mentors on the dates of mentoring offers. Plain functions that take the
database session, the acting user and `now`; nothing here knows of HTTP.

A date's mentor places obey the booking engine's rules and locking. A mentor is put on a date
under the date's own lock, the one bookings take (PostgreSQL: SELECT ... FOR UPDATE; SQLite: the
write lock), so never more than `mentors_max` hold a place; and then under the lock of their own
profile, so one mentor's sign-ups run one at a time and never give them two overlapping shifts.
The unique index on (date, mentor) keeps a double click to one shift even without the locks."""

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum

from sqlalchemy import exists, func, or_
from sqlalchemy import select as sa_select
from sqlalchemy.exc import IntegrityError, OperationalError
from sqlmodel import Session, col, select

from app.accounts.models import Organisation, OrganisationKind, Role, User
from app.bookings import service as bookings
from app.bookings.models import Booking, BookingStatus
from app.catalogue.models import Offer, OfferSession, OfferStatus, OfferTheme, OfferType, Theme
from app.config import Settings, get_settings
from app.errors import Conflict, Forbidden, InvalidInput, NotFound
from app.i18n import TIMEZONE, _, language, local_datetime
from app.mentors import safeguarding
from app.mentors.conduct import CONDUCT_VERSION
from app.mentors.models import (
    MentorMunicipality,
    MentorProfile,
    MentorStatus,
    MentorTheme,
    Shift,
    ShiftStatus,
)
from app.notifications.service import notify

# Grades 0-10 are primary and lower secondary school (grundskole), 11-13 upper secondary.
PRIMARY_GRADE_MAX = 10
# A shift that holds one of the date's places: signed up, or done.
HOLDS_PLACE = (ShiftStatus.signed_up, ShiftStatus.completed)
# The bookings whose classes the mentors meet.
VISITING = (BookingStatus.pending, BookingStatus.confirmed, BookingStatus.completed)


class MentorLevel(StrEnum):
    upper_secondary = "upper_secondary"  # mentors pupils of grades 0-10
    higher_education = "higher_education"  # mentors upper-secondary pupils


def level_of(institution: Organisation) -> MentorLevel:
    return (
        MentorLevel.upper_secondary
        if institution.kind == OrganisationKind.school
        else MentorLevel.higher_education
    )


def _level_fits(level: MentorLevel):
    """SQL: the offer's grades are ones this level mentors. An offer whose grades span both
    primary and upper secondary takes mentors of both levels."""
    if level == MentorLevel.upper_secondary:
        return col(Offer.grade_min) <= PRIMARY_GRADE_MAX
    return col(Offer.grade_max) > PRIMARY_GRADE_MAX


def levels_of_offer(offer: Offer) -> list[OrganisationKind]:
    """The kinds of institution whose mentors may take the offer's dates."""
    return [
        kind
        for kind, level in ((OrganisationKind.school, MentorLevel.upper_secondary), (OrganisationKind.provider, MentorLevel.higher_education))
        if level_fits(offer, level)
    ]


def level_fits(offer: Offer, level: MentorLevel) -> bool:
    if level == MentorLevel.upper_secondary:
        return offer.grade_min <= PRIMARY_GRADE_MAX
    return offer.grade_max > PRIMARY_GRADE_MAX


def needs_certificate(offer: Offer) -> bool:
    return offer.grade_min <= safeguarding.GRADE_UNDER_15_MAX


def mentors_signed():
    """SQL: how many mentors hold a place on the date (OfferSession in the query)."""
    return (
        sa_select(func.count())
        .where(Shift.session_id == OfferSession.id, col(Shift.status).in_(HOLDS_PLACE))
        .scalar_subquery()
    )


def signed_counts(db: Session, session_ids: Sequence[int]) -> dict[int, int]:
    if not session_ids:
        return {}
    rows = db.exec(
        select(Shift.session_id, func.count())
        .where(col(Shift.session_id).in_(session_ids), col(Shift.status).in_(HOLDS_PLACE))
        .group_by(Shift.session_id)
    ).all()
    return dict(rows)


def _clashes(mentor_id: int, starts_at, ends_at):
    """SQL: the mentor has a shift at a time overlapping [starts_at, ends_at)."""
    other = OfferSession.__table__.alias("other_date")
    return exists().where(
        Shift.mentor_id == mentor_id,
        Shift.status == ShiftStatus.signed_up,
        Shift.session_id == other.c.id,
        other.c.starts_at < ends_at,
        other.c.ends_at > starts_at,
    )


def certificate_until(db: Session, mentor_id: int):
    """The last day the mentor's child-certificate assessment holds, or None. For an approved
    mentor and a date ahead the latest assessment's end is the whole rule: a long pause has
    already shortened the assessments it voided (safeguarding.end_after_long_pause)."""
    return safeguarding.certificates_valid_until(db, [mentor_id]).get(mentor_id)


@dataclass(frozen=True)
class OpenDate:
    """A mentoring date a mentor may take, as the list of them shows it."""

    session_id: int
    offer_id: int
    title: str
    municipality: str
    starts_at: datetime
    ends_at: datetime
    mentors_min: int
    mentors_max: int
    mentors_signed: int


def open_shifts(
    db: Session, mentor: User, *, now: datetime, limit: int = 50, offset: int = 0
) -> tuple[list[OpenDate], int]:
    """The dates an approved mentor may take: of published mentoring offers, not begun nor
    cancelled, with a place left; of their level, in a municipality they reach, in one of their
    themes (any, if they chose none; or an offer without themes), at a time they have no other
    shift; for pupils under 15 only while their child certificate holds. Soonest first, with how
    many there are in all."""
    profile = _approved_profile(db, mentor)
    institution = db.get(Organisation, profile.institution_id)
    # What is the mentor's own is read first, so that the one query that counts and pages the
    # dates weighs each date against constants rather than against the mentor's rows again.
    themes = set(db.exec(select(MentorTheme.theme).where(MentorTheme.user_id == mentor.id)).all())
    reach = db.exec(select(MentorMunicipality.municipality).where(MentorMunicipality.user_id == mentor.id)).all()
    busy = db.exec(
        select(OfferSession.starts_at, OfferSession.ends_at)
        .join(Shift, Shift.session_id == OfferSession.id)
        .where(Shift.mentor_id == mentor.id, Shift.status == ShiftStatus.signed_up, OfferSession.ends_at > now)
    ).all()
    until = certificate_until(db, mentor.id)
    certificate_ok = col(Offer.grade_min) > safeguarding.GRADE_UNDER_15_MAX
    if until is not None:
        last_start = datetime.combine(until + timedelta(days=1), datetime.min.time(), TIMEZONE)
        certificate_ok = or_(certificate_ok, col(OfferSession.ends_at) <= last_start)
    conditions = [
        Offer.type == OfferType.mentoring,
        Offer.status == OfferStatus.published,
        col(Offer.municipality).in_(reach),
        _level_fits(level_of(institution)),
        col(OfferSession.cancelled_at).is_(None),
        OfferSession.starts_at > now,
        OfferSession.mentors_max > mentors_signed(),
        certificate_ok,
        *(~((OfferSession.starts_at < ends) & (OfferSession.ends_at > starts)) for starts, ends in busy),
    ]
    if themes and themes != set(Theme):  # with every theme (or none chosen) every offer fits
        conditions.append(
            or_(
                ~exists().where(OfferTheme.offer_id == Offer.id),
                exists().where(OfferTheme.offer_id == Offer.id, col(OfferTheme.theme).in_(themes)),
            )
        )
    # Only the columns the list shows: the window's count runs over every date that fits.
    rows = db.exec(
        select(
            OfferSession.id,
            OfferSession.offer_id,
            Offer.title,
            Offer.municipality,
            OfferSession.starts_at,
            OfferSession.ends_at,
            OfferSession.mentors_min,
            OfferSession.mentors_max,
            mentors_signed(),
            func.count().over(),
        )
        .join(Offer, Offer.id == OfferSession.offer_id)
        .where(*conditions)
        .order_by(col(OfferSession.starts_at), col(OfferSession.id))
        .limit(limit)
        .offset(offset)
    ).all()
    if not rows:  # none at all, or a page past the last: there the window's total is not to be had
        return [], open_shifts(db, mentor, now=now, limit=1)[1] if offset else 0
    return [OpenDate(*row[:-1]) for row in rows], rows[0][-1]


def _approved_profile(db: Session, mentor: User) -> MentorProfile:
    profile = db.get(MentorProfile, mentor.id) if mentor.role == Role.mentor else None
    if profile is None or profile.status != MentorStatus.approved:
        raise Forbidden(_("Only an approved mentor can take shifts."))
    return profile


def sign_up(
    db: Session, mentor: User, session_id: int, *, now: datetime, accepts_code_of_conduct: bool = False
) -> Shift:
    """The mentor takes a place on a date (see the module's docstring). A mentor who has not
    accepted the current code of conduct accepts it here, or is refused naming the field."""
    profile = _approved_profile(db, mentor)
    if profile.conduct_version != CONDUCT_VERSION:
        if not accepts_code_of_conduct:
            raise InvalidInput(
                _("Read and accept the code of conduct before you take a shift."),
                field="accepts_code_of_conduct",
            )
        profile.conduct_version, profile.conduct_accepted_at = CONDUCT_VERSION, now
        db.add(profile)
    return _put_on_date(db, profile, session_id, assigned_by_id=mentor.id, now=now)


def assign(db: Session, actor: User, session_id: int, mentor_id: int, *, now: datetime) -> Shift:
    """The provider's staff put an approved mentor on one of their dates, by the same rules."""
    own_date(db, actor, session_id)
    profile = db.get(MentorProfile, mentor_id)
    if profile is None or profile.status != MentorStatus.approved:
        raise InvalidInput(_("Choose an approved mentor."), field="mentor_id")
    shift = _put_on_date(db, profile, session_id, assigned_by_id=actor.id, now=now)
    _tell_mentor(db, shift, "assigned", now=now)
    db.commit()
    return shift


def _put_on_date(
    db: Session, profile: MentorProfile, session_id: int, *, assigned_by_id: int, now: datetime
) -> Shift:
    mentor_id = profile.user_id
    found = db.exec(
        select(OfferSession, Offer).join(Offer).where(OfferSession.id == session_id)
    ).first()
    if found is None or found[1].type != OfferType.mentoring:
        raise NotFound(_("No such mentoring date."))
    session, offer = found
    institution = db.get(Organisation, profile.institution_id)
    if not level_fits(offer, level_of(institution)):
        raise Conflict(_("This date is for pupils of another level than the ones you mentor."))
    if needs_certificate(offer):
        until = certificate_until(db, mentor_id)
        if until is None or until < session.ends_at.astimezone(TIMEZONE).date():
            raise Conflict(
                _("The pupils of this date are under 15: your institution must first assess your child certificate.")
            )

    session = bookings.lock_session(db, session_id)  # begins the transaction; as a booking does
    if get_settings().booking_locks:
        try:
            profile = db.exec(
                select(MentorProfile)
                .where(MentorProfile.user_id == mentor_id)
                .with_for_update()
                .execution_options(populate_existing=True)
            ).one()
        except OperationalError as error:
            bookings._lock_not_had(db, error)
    if profile.status != MentorStatus.approved:
        raise Forbidden(_("Only an approved mentor can take shifts."))
    if session.cancelled_at is not None:
        raise Conflict(_("This date has been cancelled."))
    if session.starts_at <= now:
        raise Conflict(_("This date has already begun."))
    mine = db.exec(
        select(Shift.id).where(
            Shift.session_id == session_id,
            Shift.mentor_id == mentor_id,
            col(Shift.status).in_(HOLDS_PLACE),
        )
    ).first()
    if mine is not None:
        raise Conflict(_("You are already signed up for this date."))
    if db.exec(select(_clashes(mentor_id, session.starts_at, session.ends_at))).one():
        raise Conflict(_("You have another shift at the same time."))
    if signed_counts(db, [session_id]).get(session_id, 0) >= session.mentors_max:
        raise Conflict(_("This date has all the mentors it needs."))
    shift = Shift(
        session_id=session_id,
        mentor_id=mentor_id,
        status=ShiftStatus.signed_up,
        assigned_by_id=assigned_by_id,
        created_at=now,
        updated_at=now,
    )
    db.add(shift)
    try:
        db.commit()
    except IntegrityError:  # the same mentor's twin request, without the locks (tests' control run)
        db.rollback()
        raise Conflict(_("You are already signed up for this date.")) from None
    return shift


def leave(db: Session, mentor: User, session_id: int, *, reason: str, now: datetime, settings: Settings) -> Shift:
    """The mentor leaves a shift: freely until `shift_leave_hours` before the date, later only
    with a reason; the provider's staff are told."""
    shift = db.exec(
        select(Shift).where(
            Shift.session_id == session_id, Shift.mentor_id == mentor.id, Shift.status == ShiftStatus.signed_up
        )
    ).first()
    if shift is None:
        raise NotFound(_("You are not signed up for this date."))
    session = db.get(OfferSession, session_id)
    if session.starts_at <= now:
        raise Conflict(_("This date has already begun."))
    reason = reason.strip()
    if not reason and session.starts_at - now < timedelta(hours=settings.shift_leave_hours):
        raise InvalidInput(
            _("Less than %(hours)d hours before the date, tell the provider why you leave.")
            % {"hours": settings.shift_leave_hours},
            field="reason",
        )
    _end(db, shift, ShiftStatus.left, reason, now=now)
    _tell_provider(db, shift, now=now)
    db.commit()
    return shift


def remove(db: Session, actor: User, shift_id: int, *, reason: str, now: datetime) -> Shift:
    """The provider's staff take a mentor off one of their dates; the mentor is told."""
    shift = db.get(Shift, shift_id)
    if shift is None or shift.status != ShiftStatus.signed_up:
        raise NotFound(_("No such shift."))
    own_date(db, actor, shift.session_id)
    _end(db, shift, ShiftStatus.removed, reason.strip(), now=now)
    _tell_mentor(db, shift, "removed", now=now)
    db.commit()
    return shift


def drop_future_shifts(db: Session, mentor_id: int, *, now: datetime, reason: str) -> int:
    """The mentor leaves every date not yet begun (paused, retired, consent withdrawn, account
    deleted); the providers are told. In the caller's transaction, which commits."""
    shifts = db.exec(
        select(Shift)
        .join(OfferSession, OfferSession.id == Shift.session_id)
        .where(Shift.mentor_id == mentor_id, Shift.status == ShiftStatus.signed_up, OfferSession.starts_at > now)
    ).all()
    for shift in shifts:
        _end(db, shift, ShiftStatus.left, reason, now=now)
        _tell_provider(db, shift, now=now)
    return len(shifts)


def end_on_cancelled_date(db: Session, session_id: int, *, now: datetime) -> int:
    """The provider called the date off: its mentors are off it and told. (Should this not run,
    the worker's hours job still ends shifts of a cancelled date once it is past.)"""
    shifts = db.exec(select(Shift).where(Shift.session_id == session_id, Shift.status == ShiftStatus.signed_up)).all()
    for shift in shifts:
        _end(db, shift, ShiftStatus.removed, "", now=now)
        _tell_mentor(db, shift, "date_cancelled", now=now)
    db.commit()
    return len(shifts)


def _end(db: Session, shift: Shift, status: ShiftStatus, reason: str, *, now: datetime) -> None:
    shift.status, shift.leave_reason, shift.updated_at = status, reason[:500], now
    db.add(shift)


def own_date(db: Session, actor: User, session_id: int) -> tuple[OfferSession, Offer]:
    """A date of one of the actor's own mentoring offers (the provider's staff); else not found."""
    found = db.exec(select(OfferSession, Offer).join(Offer).where(OfferSession.id == session_id)).first()
    if (
        found is None
        or found[1].type != OfferType.mentoring
        or actor.role != Role.provider
        or found[1].provider_id != actor.organisation_id
    ):
        raise NotFound(_("No such mentoring date."))
    return found


def _tell_provider(db: Session, shift: Shift, *, now: datetime) -> None:
    session = db.get(OfferSession, shift.session_id)
    offer = db.get(Offer, session.offer_id)
    mentor = db.get(User, shift.mentor_id)
    staff = db.exec(
        select(User).where(User.organisation_id == offer.provider_id, User.role == Role.provider, User.is_active)
    ).all()
    for user in staff:
        with language(user.language):
            facts = {
                "name": first_name(mentor.name),
                "title": offer.title,
                "when": local_datetime(session.starts_at, "medium"),
                "reason": shift.leave_reason or "-",
            }
            notify(
                db,
                user,
                kind="mentor_left",
                subject=_("A mentor left: %(title)s, %(when)s") % facts,
                body=_("%(name)s no longer comes to %(title)s on %(when)s. Reason: %(reason)s") % facts,
                link=f"/provider/sessions/{session.id}/mentors",
                now=now,
                base_url=get_settings().base_url,
            )


def _tell_mentor(db: Session, shift: Shift, kind: str, *, now: datetime) -> None:
    session = db.get(OfferSession, shift.session_id)
    offer = db.get(Offer, session.offer_id)
    mentor = db.get(User, shift.mentor_id)
    with language(mentor.language):
        facts = {"title": offer.title, "when": local_datetime(session.starts_at, "medium"), "reason": shift.leave_reason or "-"}
        if kind == "assigned":
            subject = _("New shift: %(title)s, %(when)s") % facts
            body = _("The provider has put you on %(title)s on %(when)s.") % facts
        elif kind == "date_cancelled":
            subject = _("Called off: %(title)s, %(when)s") % facts
            body = _("The provider has called off %(title)s on %(when)s, so your shift is off too.") % facts
        else:
            subject = _("Taken off a shift: %(title)s, %(when)s") % facts
            body = _("The provider has taken you off %(title)s on %(when)s. Reason: %(reason)s") % facts
        notify(
            db,
            mentor,
            kind=f"shift_{kind}",
            subject=subject,
            body=body,
            link=f"/mentor/shifts/{session.id}",
            now=now,
            base_url=get_settings().base_url,
        )


def first_name(name: str) -> str:
    """What schools and providers see of a mentor's name."""
    return name.split()[0] if name.strip() else ""


def my_shifts(db: Session, mentor: User) -> list[tuple[Shift, OfferSession, Offer]]:
    """The mentor's shifts, taken and done, newest date first."""
    rows = db.exec(
        select(Shift, OfferSession, Offer)
        .join(OfferSession, OfferSession.id == Shift.session_id)
        .join(Offer, Offer.id == OfferSession.offer_id)
        .where(Shift.mentor_id == mentor.id, col(Shift.status).in_(HOLDS_PLACE))
        .order_by(col(OfferSession.starts_at).desc())
    ).all()
    return [tuple(row) for row in rows]


def coming_shifts(db: Session, mentor: User, *, limit: int = 10) -> list:
    """The next dates the mentor has taken and not yet done, soonest first: rows of (session_id,
    title, municipality, starts_at, ends_at)."""
    return list(
        db.exec(
            select(OfferSession.id.label("session_id"), Offer.title, Offer.municipality, OfferSession.starts_at, OfferSession.ends_at)
            .join(Shift, Shift.session_id == OfferSession.id)
            .join(Offer, Offer.id == OfferSession.offer_id)
            .where(Shift.mentor_id == mentor.id, Shift.status == ShiftStatus.signed_up)
            .order_by(col(OfferSession.starts_at))
            .limit(limit)
        ).all()
    )


def mentors_on(db: Session, session_ids: Sequence[int]) -> dict[int, list[tuple[Shift, User, MentorProfile, Organisation]]]:
    """Who is on each date: what schools and providers may see is the caller's to pick (first
    name, institution, study line)."""
    if not session_ids:
        return {}
    rows = db.exec(
        select(Shift, User, MentorProfile, Organisation)
        .join(User, User.id == Shift.mentor_id)
        .join(MentorProfile, MentorProfile.user_id == User.id)
        .join(Organisation, Organisation.id == MentorProfile.institution_id)
        .where(col(Shift.session_id).in_(session_ids), col(Shift.status).in_(HOLDS_PLACE))
        .order_by(col(Shift.created_at))
    ).all()
    found: dict[int, list] = {}
    for row in rows:
        found.setdefault(row[0].session_id, []).append(tuple(row))
    return found


def short_of_mentors(db: Session, *, now: datetime, within: timedelta) -> list[tuple[OfferSession, Offer, int]]:
    """Mentoring dates beginning within `within` that still lack `mentors_min` mentors."""
    signed = mentors_signed()
    rows = db.exec(
        select(OfferSession, Offer, signed.label("signed"))
        .join(Offer, Offer.id == OfferSession.offer_id)
        .where(
            Offer.type == OfferType.mentoring,
            Offer.status == OfferStatus.published,
            col(OfferSession.cancelled_at).is_(None),
            OfferSession.starts_at > now,
            OfferSession.starts_at <= now + within,
            OfferSession.mentors_min > signed,
        )
        .order_by(col(OfferSession.starts_at))
    ).all()
    return [tuple(row) for row in rows]



def visit(db: Session, mentor: User, session_id: int) -> tuple[OfferSession, Offer, Organisation, Shift | None, list]:
    """What a mentor sees of a mentoring date: the date, its offer and provider, their own shift on
    it; and only when they have one, the classes booked (school, address, grade, size, the
    teacher's name and phone) — a school's contact details are for those who come."""
    found = db.exec(select(OfferSession, Offer).join(Offer).where(OfferSession.id == session_id)).first()
    if found is None or found[1].type != OfferType.mentoring or mentor.role != Role.mentor:
        raise NotFound(_("No such mentoring date."))
    session, offer = found
    shift = db.exec(
        select(Shift).where(
            Shift.session_id == session_id, Shift.mentor_id == mentor.id, col(Shift.status).in_(HOLDS_PLACE)
        )
    ).first()
    if shift is None and offer.status != OfferStatus.published:
        raise NotFound(_("No such mentoring date."))
    classes = []
    if shift is not None:
        classes = [
            tuple(row)
            for row in db.exec(
                select(Booking, Organisation, User)
                .join(Organisation, Organisation.id == Booking.school_id)
                .join(User, User.id == Booking.teacher_id)
                .where(Booking.session_id == session_id, col(Booking.status).in_(VISITING))
                .order_by(col(Booking.id))
            ).all()
        ]
    return session, offer, db.get(Organisation, offer.provider_id), shift, classes
