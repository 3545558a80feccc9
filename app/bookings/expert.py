"""Book an expert: a teacher proposes a time for a visit inside the expert's availability windows,
travel area and lead time; the provider accepts (the visit becomes a session and a booking that
needs the usual approval), declines with a reason, or proposes another time, which the teacher then
accepts or declines. Plain functions that take the database session, the acting user and `now`.

Accepting never double-books the expert: the proposal, the offer and then the visit's resources
(in id order) are locked (PostgreSQL: SELECT ... FOR UPDATE with a short lock timeout; SQLite: the
database write lock, BEGIN IMMEDIATE) before the resources' other visits and the weekly limit are
counted, and the session, its resources and the booking are written in that same transaction.

Decisions the issue leaves open:
- An offer without availability windows can be proposed at any time of a day (the provider answers
  every proposal anyway); one without travel areas travels to the whole region, as the catalogue
  shows it. A visit begins and ends on the same (Danish) day.
- The provider may propose another time outside its own windows and lead time (it knows its
  expert); the time must still be in the future, on one day, not on the school's holidays, within
  the weekly limit and with the expert free.
- A visit counts (towards the weekly limit and as the expert's busy time) while its session is not
  cancelled and its booking still holds its place or has taken place.
- `reason` holds the provider's word: why it declined, or a note with the time it proposes.
"""

from collections.abc import Sequence
from datetime import UTC, date, datetime, time, timedelta
from typing import Annotated, Self

from pydantic import AfterValidator, Field, model_validator
from pydantic_core import PydanticCustomError
from sqlalchemy import and_, exists, func, or_, text
from sqlmodel import Session, col, select

from app.accounts.models import Organisation, Role, User
from app.accounts.schemas import Form
from app.bookings import limits
from app.bookings.expert_notices import tell_proposer, tell_provider_staff
from app.bookings.models import Booking, BookingEvent, BookingStatus, ExpertProposal, ProposalStatus
from app.bookings.notices import tell_provider, tell_teacher
from app.bookings.schemas import check_reason
from app.bookings.service import (
    approval_deadline,
    check_class_is_free,
    check_offer_rules,
    holds_seats,
    lock_in_id_order,
)
from app.calendar.bounds import check_planned_moment
from app.catalogue.models import (
    GRADE_MAX,
    GRADE_MIN,
    AvailabilityWindow,
    Offer,
    OfferResource,
    OfferSession,
    OfferStatus,
    OfferType,
    Resource,
    SessionResource,
)
from app.catalogue.resources import availability
from app.catalogue.service import blackout_reason, resource_busy, resource_clash
from app.db import begin_write
from app.errors import Conflict, DomainError, Forbidden, InvalidInput, NotFound
from app.i18n import TIMEZONE, _, language, local_date
from app.text import MULTILINE
from app.web.labels import weekday_name

WAITING = (ProposalStatus.proposed, ProposalStatus.counter_proposed)


# --- what a teacher and a provider send ----------------------------------------------------------


def _danish_time_when_naive(value: datetime) -> datetime:
    return value.replace(tzinfo=TIMEZONE) if value.tzinfo is None else value


# Naive times are Danish (API.md).
Moment = Annotated[datetime, AfterValidator(_danish_time_when_naive)]


class ProposalIn(Form):
    """A teacher's proposal: when, and the class that would meet the expert."""

    starts_at: Moment
    ends_at: Moment
    class_name: Annotated[str, Field(min_length=1, max_length=50)]
    grade: Annotated[int, Field(ge=GRADE_MIN, le=GRADE_MAX)]
    pupils: Annotated[int, Field(ge=1, le=1000)]
    girls: Annotated[int, Field(ge=0, le=1000)] | None = None
    adults: Annotated[int, Field(ge=0, le=50)] = 1
    needs: Annotated[str, MULTILINE, Field(max_length=1000)] = ""
    contact_phone: Annotated[str, Field(max_length=30)] = ""
    message: Annotated[str, MULTILINE, Field(max_length=1000)] = ""

    @model_validator(mode="after")
    def girls_within_pupils(self) -> Self:
        if self.girls is not None and self.girls > self.pupils:
            raise PydanticCustomError("girls_above_pupils", "girls must not be more than pupils", {"field": "girls"})
        return self


class CounterIn(Form):
    """The provider's other time, with a note to the teacher."""

    starts_at: Moment
    ends_at: Moment
    message: Annotated[str, MULTILINE, Field(max_length=1000)] = ""


# --- when the expert can come ----------------------------------------------------------------------


def _hm(moment: time) -> str:
    return moment.strftime("%H:%M")


def windows_in_words(windows: Sequence[AvailabilityWindow]) -> str:
    return ", ".join(f"{weekday_name(w.weekday)} {_hm(w.starts)}–{_hm(w.ends)}" for w in windows)


def earliest_day(offer: Offer, now: datetime) -> date:
    """The first day a teacher may propose: `lead_days` whole days after today (Danish time)."""
    return now.astimezone(TIMEZONE).date() + timedelta(days=offer.lead_days or 0)


def _week_bounds(moment: datetime) -> tuple[datetime, datetime]:
    """The ISO week (Monday to Monday, Danish time) a moment falls in, in UTC."""
    day = moment.astimezone(TIMEZONE).date()
    monday = day - timedelta(days=day.weekday())
    start = datetime.combine(monday, time(), TIMEZONE).astimezone(UTC)
    end = datetime.combine(monday + timedelta(days=7), time(), TIMEZONE).astimezone(UTC)
    return start, end


def _goes_ahead(now: datetime):
    """SQL: the session is a visit or date that still happens: not cancelled and, for an expert's
    visit, its booking still holds its place or has taken place (a cancelled, declined or expired
    visit frees the expert)."""
    live_booking = exists().where(
        col(Booking.session_id) == col(OfferSession.id),
        or_(holds_seats(now), col(Booking.status) == BookingStatus.completed),
    )
    return and_(col(OfferSession.cancelled_at).is_(None), or_(col(Offer.type) != OfferType.expert, live_booking))


def visits_in_week(db: Session, offer: Offer, moment: datetime, *, now: datetime) -> int:
    start, end = _week_bounds(moment)
    return db.exec(
        select(func.count())
        .select_from(OfferSession)
        .join(Offer, col(Offer.id) == col(OfferSession.offer_id))
        .where(OfferSession.offer_id == offer.id, OfferSession.starts_at >= start, OfferSession.starts_at < end, _goes_ahead(now))
    ).one()


def _check_week(db: Session, offer: Offer, starts_at: datetime, *, now: datetime) -> None:
    if offer.max_visits_per_week and visits_in_week(db, offer, starts_at, now=now) >= offer.max_visits_per_week:
        week = starts_at.astimezone(TIMEZONE).isocalendar().week
        raise Conflict(
            _("The expert already has as many visits as they take in week %(week)d. Propose a time in another week.")
            % {"week": week},
            field="starts_at",
        )


def _resource_clash(
    db: Session, offer: Offer, starts_at: datetime, ends_at: datetime, *, now: datetime
) -> tuple[Resource, OfferSession, str] | None:
    """The first of the offer's resources that is busy in another session at that time."""
    resource_ids = select(OfferResource.resource_id).where(OfferResource.offer_id == offer.id)
    return resource_clash(db, resource_ids, starts_at, ends_at, happens=_goes_ahead(now))


def _check_planned(starts_at: datetime, ends_at: datetime, *, now: datetime) -> None:
    """Both ends of a visit in the planning period: checked first, before anything converts them
    (a time next to year 9999 overflows in UTC, and the week after it does)."""
    check_planned_moment(starts_at, now=now, field="starts_at")
    check_planned_moment(ends_at, now=now, field="ends_at")


def _check_day(db: Session, starts_at: datetime, ends_at: datetime, municipality: str, *, now: datetime) -> None:
    """What holds for every visit, whoever proposes its time."""
    if ends_at <= starts_at:
        raise InvalidInput(_("The visit must end after it starts."), field="ends_at")
    if starts_at <= now:
        raise InvalidInput(_("Choose a time in the future."), field="starts_at")
    day = starts_at.astimezone(TIMEZONE).date()
    if ends_at.astimezone(TIMEZONE).date() != day:
        raise InvalidInput(_("A visit begins and ends on the same day."), field="ends_at")
    if reason := blackout_reason(db, day, municipality):
        raise InvalidInput(
            _("%(day)s is closed (%(reason)s). Choose another date.") % {"day": local_date(day, "medium"), "reason": reason},
            field="starts_at",
        )


def _check_windows(db: Session, offer: Offer, starts_at: datetime, ends_at: datetime, *, now: datetime) -> None:
    """The teacher's time: at least the lead time ahead and inside one of the expert's windows."""
    first = earliest_day(offer, now)
    local_start, local_end = starts_at.astimezone(TIMEZONE), ends_at.astimezone(TIMEZONE)
    if local_start.date() < first:
        raise InvalidInput(
            _("The earliest day the expert can come is %(day)s.") % {"day": local_date(first, "medium")},
            field="starts_at",
        )
    windows, _areas = availability(db, offer.id)
    inside = any(
        w.weekday == local_start.weekday() and w.starts <= local_start.time() and local_end.time() <= w.ends
        for w in windows
    )
    if windows and not inside:
        raise InvalidInput(
            _("The expert can visit %(windows)s. Propose a time inside one of these.") % {"windows": windows_in_words(windows)},
            field="starts_at",
        )


def school_may_propose(db: Session, offer: Offer, school: Organisation) -> bool:
    """The expert travels to the school's municipality (for the page, before the form is filled)."""
    _windows, areas = availability(db, offer.id)
    return not areas or school.municipality in areas


def _check_area(db: Session, offer: Offer, school: Organisation) -> None:
    if not school_may_propose(db, offer, school):
        _windows, areas = availability(db, offer.id)
        raise Conflict(
            _("The expert does not travel to %(municipality)s, only to %(areas)s.")
            % {"municipality": school.municipality, "areas": ", ".join(areas)}
        )


# --- the teacher proposes ------------------------------------------------------------------------


def _expert_offer(db: Session, offer_id: int) -> Offer:
    offer = db.get(Offer, offer_id)
    if offer is None or offer.status != OfferStatus.published:
        raise NotFound(_("No such offer."))
    if not offer.on_request:
        raise Conflict(_("This activity has fixed dates: book one of them."))
    return offer


def propose(db: Session, teacher: User, offer_id: int, data: ProposalIn, *, now: datetime) -> ExpertProposal:
    """A teacher proposes a time for the expert's visit; the provider's staff are told."""
    if teacher.role != Role.teacher or teacher.organisation_id is None:
        raise Forbidden(_("Only teachers can propose a visit."))
    offer = _expert_offer(db, offer_id)
    school = db.get(Organisation, teacher.organisation_id)
    _check_planned(data.starts_at, data.ends_at, now=now)
    starts_at, ends_at = data.starts_at.astimezone(UTC), data.ends_at.astimezone(UTC)
    check_offer_rules(offer, data)
    _check_area(db, offer, school)
    _check_day(db, starts_at, ends_at, school.municipality, now=now)
    _check_windows(db, offer, starts_at, ends_at, now=now)
    # Told now rather than only when the provider accepts: checked again then, under the locks.
    _check_week(db, offer, starts_at, now=now)
    if _resource_clash(db, offer, starts_at, ends_at, now=now):
        raise Conflict(_("The expert is already busy at that time. Propose another time."), field="starts_at")

    twin = db.exec(
        select(ExpertProposal).where(
            ExpertProposal.offer_id == offer.id,
            ExpertProposal.school_id == school.id,
            func.lower(ExpertProposal.class_name) == data.class_name.lower(),
            ExpertProposal.starts_at == starts_at,
            ExpertProposal.ends_at == ends_at,
            col(ExpertProposal.status).in_(WAITING),
        )
    ).first()
    if twin is not None:
        return twin  # the same proposal sent twice (a double click): one is enough

    proposal = ExpertProposal(
        **data.model_dump(exclude={"starts_at", "ends_at"}),
        starts_at=starts_at,
        ends_at=ends_at,
        offer_id=offer.id,
        school_id=school.id,
        teacher_id=teacher.id,
        status=ProposalStatus.proposed,
        created_at=now,
        updated_at=now,
    )
    db.add(proposal)
    db.flush()
    tell_provider_staff(db, proposal, "proposed", now=now)
    db.commit()
    db.refresh(proposal)
    return proposal


# --- who sees which proposals --------------------------------------------------------------------


def _sees(db: Session, actor: User, proposal: ExpertProposal) -> bool:
    if actor.role == Role.teacher:
        return proposal.school_id == actor.organisation_id
    if actor.role == Role.provider:
        offer = db.get(Offer, proposal.offer_id)
        return offer is not None and offer.provider_id == actor.organisation_id
    return False


def get_proposal(db: Session, actor: User, proposal_id: int) -> ExpertProposal:
    """A proposal of the actor's school, or for the actor's provider; any other is reported missing."""
    proposal = db.get(ExpertProposal, proposal_id)
    if proposal is None or not _sees(db, actor, proposal):
        raise NotFound(_("No such proposal."))
    return proposal


def proposal_for_provider(db: Session, actor: User, proposal_id: int) -> ExpertProposal:
    proposal = get_proposal(db, actor, proposal_id)
    if actor.role != Role.provider:
        raise NotFound(_("No such proposal."))
    return proposal


def proposal_of_school(db: Session, actor: User, proposal_id: int) -> ExpertProposal:
    proposal = get_proposal(db, actor, proposal_id)
    if actor.role != Role.teacher:
        raise NotFound(_("No such proposal."))
    return proposal


Listed = tuple[ExpertProposal, Offer, Organisation]


def _listed(db: Session, condition, first: Sequence[ProposalStatus], limit: int) -> list[Listed]:
    """Proposals that wait for the actor first (longest waiting first), then those that wait for
    the other party, then the answered ones (latest first)."""
    query = (
        select(ExpertProposal, Offer, Organisation)
        .join(Offer, col(Offer.id) == col(ExpertProposal.offer_id))
        .join(Organisation, col(Organisation.id) == col(ExpertProposal.school_id))
        .where(condition)
    )
    found: list[Listed] = []
    for status in first:
        found += db.exec(
            query.where(ExpertProposal.status == status).order_by(col(ExpertProposal.created_at), col(ExpertProposal.id))
        ).all()
    found += db.exec(
        query.where(col(ExpertProposal.status).not_in(first))
        .order_by(col(ExpertProposal.updated_at).desc(), col(ExpertProposal.id).desc())
        .limit(limit)
    ).all()
    return found


def provider_proposals(db: Session, actor: User, *, limit: int = 100) -> list[Listed]:
    """The proposals for the provider's offers: those awaiting its answer first."""
    if actor.role != Role.provider:
        raise Forbidden(_("Only providers can answer proposals."))
    own = select(Offer.id).where(Offer.provider_id == actor.organisation_id)
    return _listed(db, col(ExpertProposal.offer_id).in_(own), (ProposalStatus.proposed, ProposalStatus.counter_proposed), limit)


def school_proposals(db: Session, actor: User, *, limit: int = 100) -> list[Listed]:
    """The proposals of the teacher's school: another time to answer first."""
    if actor.role != Role.teacher:
        raise Forbidden(_("Only teachers can propose a visit."))
    return _listed(db, ExpertProposal.school_id == actor.organisation_id, (ProposalStatus.counter_proposed, ProposalStatus.proposed), limit)


def list_proposals(
    db: Session, actor: User, *, status: ProposalStatus | None = None, limit: int = 50, offset: int = 0
) -> tuple[Sequence[ExpertProposal], int]:
    """The proposals the actor may see (for the API), newest first."""
    if actor.role == Role.teacher:
        query = select(ExpertProposal).where(ExpertProposal.school_id == actor.organisation_id)
    elif actor.role == Role.provider:
        own = select(Offer.id).where(Offer.provider_id == actor.organisation_id)
        query = select(ExpertProposal).where(col(ExpertProposal.offer_id).in_(own))
    else:
        raise Forbidden(_("Only teachers and providers have proposals."))
    if status:
        query = query.where(ExpertProposal.status == status)
    total = db.exec(select(func.count()).select_from(query.subquery())).one()
    items = db.exec(
        query.order_by(col(ExpertProposal.created_at).desc(), col(ExpertProposal.id).desc()).limit(limit).offset(offset)
    ).all()
    return items, total


# --- answers -------------------------------------------------------------------------------------


def _begin_locked(db: Session) -> None:
    begin_write(db)
    if db.get_bind().dialect.name == "postgresql":
        db.exec(text("SET LOCAL lock_timeout = '3s'"))


def _locked_proposal(db: Session, proposal: ExpertProposal, allowed: Sequence[ProposalStatus], message: str) -> ExpertProposal:
    """Begin the transaction, lock the proposal and check, under the lock, that it may change."""
    proposal_id = proposal.id
    _begin_locked(db)
    locked = lock_in_id_order(db, ExpertProposal, [proposal_id])
    if not locked or locked[0].status not in allowed:
        db.rollback()
        raise Conflict(message) if locked else NotFound(_("No such proposal."))
    return locked[0]


def _book_visit(db: Session, actor: User, proposal: ExpertProposal, *, now: datetime) -> Booking:
    """Make the accepted proposal a visit: a session with the offer's resources and a booking
    (pending approval, or confirmed when the offer needs none). Runs in the caller's transaction,
    which holds the proposal's lock; commits, or rolls back and raises leaving nothing behind."""
    try:
        locked = lock_in_id_order(db, Offer, [proposal.offer_id])  # serialises the offer's weekly count
        offer = locked[0] if locked else None
        if offer is None or offer.status != OfferStatus.published or not offer.on_request:
            raise Conflict(_("The offer is no longer published."))
        if proposal.starts_at <= now:
            raise Conflict(_("The proposed time has passed."))
        resource_ids = db.exec(select(OfferResource.resource_id).where(OfferResource.offer_id == offer.id)).all()
        lock_in_id_order(db, Resource, resource_ids)
        if clash := _resource_clash(db, offer, proposal.starts_at, proposal.ends_at, now=now):
            # The provider learns which of its visits is in the way; a teacher only that the expert is busy.
            busy = _("The expert is no longer free at that time. Propose another time.")
            raise resource_busy(*clash, field="starts_at") if actor.role == Role.provider else Conflict(busy, field="starts_at")
        _check_week(db, offer, proposal.starts_at, now=now)
        # The school's lock comes last, as in the booking service: one class, one activity at a time.
        lock_in_id_order(db, Organisation, [proposal.school_id])
        session = OfferSession(
            offer_id=offer.id,
            starts_at=proposal.starts_at,
            ends_at=proposal.ends_at,
            capacity_pupils=proposal.pupils,
            capacity_classes=1,
            created_at=now,
        )
        check_class_is_free(db, proposal.school_id, proposal, session)
        limits.check_school_cap(db, offer, session, proposal.school_id, now=now)

        db.add(session)
        db.flush()
        db.add_all([SessionResource(session_id=session.id, resource_id=r) for r in sorted(resource_ids)])
        status = BookingStatus.pending if offer.requires_approval else BookingStatus.confirmed
        booking = Booking(
            session_id=session.id,
            school_id=proposal.school_id,
            teacher_id=proposal.teacher_id,
            status=status,
            class_name=proposal.class_name,
            grade=proposal.grade,
            pupils=proposal.pupils,
            girls=proposal.girls,
            adults=proposal.adults,
            needs=proposal.needs,
            contact_phone=proposal.contact_phone,
            hold_until=approval_deadline(session, now) if status == BookingStatus.pending else None,
            created_at=now,
            updated_at=now,
        )
        db.add(booking)
        db.flush()
        db.add(BookingEvent(booking_id=booking.id, actor_id=actor.id, to_status=status, reason="expert visit accepted", at=now, told_at=now))
        proposal.status, proposal.booking_id, proposal.updated_at = ProposalStatus.accepted, booking.id, now
        db.add(proposal)
        tell_teacher(db, booking, "booked", now=now)
        if actor.role == Role.teacher:
            tell_provider(db, booking, "booked", now=now)
        db.commit()
    except DomainError:
        db.rollback()
        raise
    db.refresh(booking)
    return booking


def accept(db: Session, provider_user: User, proposal_id: int, *, now: datetime) -> Booking:
    """The provider accepts the teacher's time: it becomes a visit and a booking."""
    proposal = proposal_for_provider(db, provider_user, proposal_id)
    proposal = _locked_proposal(
        db, proposal, (ProposalStatus.proposed,), _("Only a proposal that awaits your answer can be accepted.")
    )
    return _book_visit(db, provider_user, proposal, now=now)


def accept_counter(db: Session, teacher: User, proposal_id: int, *, now: datetime) -> Booking:
    """The teacher accepts the time the provider proposed: it becomes a visit and a booking."""
    proposal = proposal_of_school(db, teacher, proposal_id)
    proposal = _locked_proposal(
        db, proposal, (ProposalStatus.counter_proposed,), _("The provider has not proposed another time to accept.")
    )
    return _book_visit(db, teacher, proposal, now=now)


def decline(db: Session, provider_user: User, proposal_id: int, reason: str, *, now: datetime) -> ExpertProposal:
    """The provider declines, saying why; the teacher is told."""
    reason = reason.strip()
    if not reason:
        raise InvalidInput(_("Tell the teacher why you decline."), field="reason")
    check_reason(reason)
    proposal = proposal_for_provider(db, provider_user, proposal_id)
    proposal = _locked_proposal(db, proposal, WAITING, _("The proposal has already been answered."))
    proposal.status, proposal.reason, proposal.updated_at = ProposalStatus.declined, reason, now
    db.add(proposal)
    tell_proposer(db, proposal, "declined", now=now)
    db.commit()
    db.refresh(proposal)
    return proposal


def counter_propose(
    db: Session, provider_user: User, proposal_id: int, starts_at: datetime, ends_at: datetime, message: str, *, now: datetime
) -> ExpertProposal:
    """The provider proposes another time (see the module's docstring for what it must meet); the
    teacher is told and accepts or declines it."""
    proposal = proposal_for_provider(db, provider_user, proposal_id)
    offer = db.get(Offer, proposal.offer_id)
    school = db.get(Organisation, proposal.school_id)
    starts_at, ends_at = _danish_time_when_naive(starts_at), _danish_time_when_naive(ends_at)
    _check_planned(starts_at, ends_at, now=now)
    starts_at, ends_at = starts_at.astimezone(UTC), ends_at.astimezone(UTC)
    message = message.strip()
    check_reason(message, field="message")  # kept in the proposal's reason
    _check_day(db, starts_at, ends_at, school.municipality, now=now)
    _check_week(db, offer, starts_at, now=now)
    if clash := _resource_clash(db, offer, starts_at, ends_at, now=now):
        raise resource_busy(*clash, field="starts_at")
    proposal = _locked_proposal(db, proposal, WAITING, _("The proposal has already been answered."))
    proposal.status = ProposalStatus.counter_proposed
    proposal.starts_at, proposal.ends_at, proposal.reason, proposal.updated_at = starts_at, ends_at, message, now
    db.add(proposal)
    tell_proposer(db, proposal, "counter_proposed", now=now)
    db.commit()
    db.refresh(proposal)
    return proposal


def decline_counter(db: Session, teacher: User, proposal_id: int, *, now: datetime) -> ExpertProposal:
    """The teacher turns down the provider's other time; the provider's staff are told."""
    proposal = proposal_of_school(db, teacher, proposal_id)
    proposal = _locked_proposal(
        db, proposal, (ProposalStatus.counter_proposed,), _("The provider has not proposed another time to decline.")
    )
    proposal.status, proposal.updated_at = ProposalStatus.declined, now
    db.add(proposal)
    tell_provider_staff(db, proposal, "counter_declined", now=now)
    db.commit()
    db.refresh(proposal)
    return proposal


def withdraw(db: Session, teacher: User, proposal_id: int, *, now: datetime) -> ExpertProposal:
    """The school takes back a proposal that is not yet a booking; the provider's staff are told."""
    proposal = proposal_of_school(db, teacher, proposal_id)
    proposal = _locked_proposal(db, proposal, WAITING, _("The proposal has already been answered."))
    proposal.status, proposal.updated_at = ProposalStatus.withdrawn, now
    db.add(proposal)
    tell_provider_staff(db, proposal, "withdrawn", now=now)
    db.commit()
    db.refresh(proposal)
    return proposal


def close_passed_proposals(db: Session, *, now: datetime) -> int:
    """A proposal still waiting for an answer when its time has come can no longer happen: it is
    declined, and the teacher told so, rather than left waiting for ever (run by the worker)."""
    passed = db.exec(
        select(ExpertProposal).where(col(ExpertProposal.status).in_(WAITING), ExpertProposal.starts_at <= now)
    ).all()
    for proposal in passed:
        teacher = db.get(User, proposal.teacher_id)
        with language(teacher.language):
            proposal.reason = _("Nobody answered before the proposed time.")
        proposal.status, proposal.updated_at = ProposalStatus.declined, now
        db.add(proposal)
        tell_proposer(db, proposal, "declined", now=now)
    db.commit()
    return len(passed)
