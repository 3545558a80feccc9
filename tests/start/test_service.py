"""What each role's start page lists (app.start.service), on the real database: only what is the
user's, only what is still to come or still open, the most urgent first."""

from datetime import timedelta

from sqlmodel import Session

from app.accounts.models import Organisation, Role, User
from app.bookings.models import Booking, BookingStatus, ExpertProposal, ProposalStatus
from app.catalogue.models import Offer, OfferSession, OfferStatus, OfferType
from app.db import utcnow
from app.evaluations.models import EvaluationRequest, Respondent
from app.mentors.models import Shift, ShiftStatus
from app.notifications.models import OutboxMessage
from app.start import service as start
from tests.factories import (
    make_mentor,
    make_provider,
    make_school,
    make_user,
    mentoring_date,
    published_session,
)


def book(db: Session, session: OfferSession, teacher: User, status: BookingStatus, *, hold_until=None, **extra) -> Booking:
    booking = Booking(
        session_id=session.id, school_id=teacher.organisation_id, teacher_id=teacher.id, status=status,
        class_name=extra.pop("class_name", "8.a"), grade=8, pupils=extra.pop("pupils", 20), hold_until=hold_until, **extra,
    )
    db.add(booking)
    db.commit()
    return booking


def another_date(db: Session, offer: Offer, days: int, capacity: int = 30) -> OfferSession:
    starts = utcnow() + timedelta(days=days)
    session = OfferSession(offer_id=offer.id, starts_at=starts, ends_at=starts + timedelta(hours=2), capacity_pupils=capacity)
    db.add(session)
    db.commit()
    return session


def test_a_teacher_sees_the_schools_coming_bookings_soonest_first_and_places_to_take(db):
    now = utcnow()
    offer, later = published_session(db)
    sooner = another_date(db, offer, 10)
    past = another_date(db, offer, -3)
    teacher = make_user(db, Role.teacher)
    colleague = make_user(db, Role.teacher, organisation=db.get(Organisation, teacher.organisation_id))
    other_school = make_user(db, Role.teacher)
    on_later = book(db, later, colleague, BookingStatus.confirmed)
    on_sooner = book(db, sooner, teacher, BookingStatus.pending, hold_until=now + timedelta(days=2))
    book(db, past, teacher, BookingStatus.completed)
    book(db, sooner, teacher, BookingStatus.cancelled, class_name="8.b")
    book(db, sooner, other_school, BookingStatus.confirmed)
    offered = book(db, later, teacher, BookingStatus.offered, hold_until=now + timedelta(hours=30), class_name="8.c")
    book(db, later, teacher, BookingStatus.offered, hold_until=now - timedelta(hours=1), class_name="8.d")  # ran out

    page = start.teacher_start(db, teacher, now=now)

    assert [row.booking.id for row in page.coming] == [on_sooner.id, on_later.id, offered.id]
    assert [row.booking.id for row in page.to_take] == [offered.id]
    assert page.to_take[0].offer.title == "Vandets kredsløb"


def test_a_teacher_sees_evaluations_still_open_and_times_to_answer(db):
    now = utcnow()
    offer, session = published_session(db)
    teacher = make_user(db, Role.teacher)
    booking = book(db, session, teacher, BookingStatus.completed)
    second = book(db, session, teacher, BookingStatus.completed, class_name="9.a")
    third = book(db, session, teacher, BookingStatus.completed, class_name="9.b")
    open_one = EvaluationRequest(booking_id=booking.id, user_id=teacher.id, respondent=Respondent.teacher,
                                 token_hash="a" * 64, expires_at=now + timedelta(days=9), sent_at=now)
    answered = EvaluationRequest(booking_id=second.id, user_id=teacher.id, respondent=Respondent.teacher,
                                 token_hash="b" * 64, expires_at=now + timedelta(days=9), sent_at=now, answered_at=now)
    expired = EvaluationRequest(booking_id=third.id, user_id=teacher.id, respondent=Respondent.teacher,
                                token_hash="c" * 64, expires_at=now - timedelta(days=1), sent_at=now - timedelta(days=40))
    db.add_all([open_one, answered, expired])
    expert_offer = Offer(provider_id=offer.provider_id, type=OfferType.expert, status=OfferStatus.published,
                         title="Ekspert på besøg", grade_min=1, grade_max=9, municipality="Aarhus")
    db.add(expert_offer)
    db.flush()
    for status in (ProposalStatus.counter_proposed, ProposalStatus.proposed):
        db.add(ExpertProposal(offer_id=expert_offer.id, school_id=teacher.organisation_id, teacher_id=teacher.id,
                              status=status, starts_at=now + timedelta(days=20), ends_at=now + timedelta(days=20, hours=2),
                              class_name="7.a", grade=7, pupils=20))
    db.commit()

    page = start.teacher_start(db, teacher, now=now)

    assert [e.request.id for e in page.evaluations] == [open_one.id]
    assert page.evaluations[0].title == "Vandets kredsløb"
    assert [p.status for p, _offer, _school in page.times] == [ProposalStatus.counter_proposed]


def test_suggestions_fit_the_schools_municipality_and_grade_and_leave_out_what_it_booked(db):
    now = utcnow()
    teacher = make_user(db, Role.teacher, organisation=make_school(db, municipality="Herning"))
    provider = make_provider(db, municipality="Herning")

    def offer(title, municipality="Herning", grades=(4, 9)):
        made = Offer(provider_id=provider.id, type=OfferType.course, status=OfferStatus.published, title=title,
                     grade_min=grades[0], grade_max=grades[1], municipality=municipality)
        db.add(made)
        db.commit()
        return made, another_date(db, made, 20)

    fits, _ = offer("Robotter i Herning")
    offer("Robotter i Aarhus", municipality="Aarhus")
    offer("For de mindste", grades=(0, 2))
    booked, booked_date = offer("Allerede booket")
    book(db, booked_date, teacher, BookingStatus.confirmed)  # grade 8: the school's latest booking

    suggested = start.suggestions(db, teacher, now=now)

    assert (suggested.municipality, suggested.grade) == ("Herning", 8)
    assert [hit.offer.title for hit in suggested.hits] == [fits.title]


def test_a_provider_sees_its_next_dates_how_full_and_what_waits(db):
    now = utcnow()
    offer, session = published_session(db, capacity=40)
    provider_user = make_user(db, Role.provider, organisation=db.get(Organisation, offer.provider_id))
    full = another_date(db, offer, 5, capacity=20)
    teacher = make_user(db, Role.teacher)
    book(db, full, teacher, BookingStatus.confirmed, pupils=20)
    book(db, full, teacher, BookingStatus.waitlisted, pupils=18, class_name="8.b")
    book(db, session, teacher, BookingStatus.pending, pupils=25, hold_until=now + timedelta(days=3), class_name="8.c")
    published_session(db)  # another provider's date: not listed
    db.add(ExpertProposal(offer_id=offer.id, school_id=teacher.organisation_id, teacher_id=teacher.id,
                          starts_at=now + timedelta(days=20), ends_at=now + timedelta(days=20, hours=2),
                          class_name="7.a", grade=7, pupils=20))
    db.commit()

    page = start.provider_start(db, provider_user, now=now)

    assert [(d.session.id, d.pupils, d.waiting, d.full) for d in page.dates] == [(full.id, 20, 1, True), (session.id, 25, 0, False)]
    assert [d.session.id for d in page.waiting] == [full.id]
    assert page.pending_total == 1 and page.pending[0].booking.class_name == "8.c"
    assert len(page.proposals) == 1


def test_a_coordinator_sees_the_queue_most_urgent_first_short_dates_and_failed_mail(db, settings):
    now = utcnow()
    _offer, session = published_session(db)
    teacher = make_user(db, Role.teacher)
    later = book(db, session, teacher, BookingStatus.pending, hold_until=now + timedelta(days=5), class_name="8.a")
    urgent = book(db, session, teacher, BookingStatus.pending, hold_until=now + timedelta(hours=20), class_name="8.b")
    book(db, session, teacher, BookingStatus.confirmed, class_name="8.c")
    herning_teacher = make_user(db, Role.teacher, organisation=make_school(db, municipality="Herning"))
    book(db, session, herning_teacher, BookingStatus.pending, hold_until=now + timedelta(hours=1), class_name="9.x")
    short = mentoring_date(db, starts_at=now + timedelta(days=5), mentors_min=2)
    db.add(Shift(session_id=short.id, mentor_id=make_mentor(db).id, status=ShiftStatus.signed_up, created_at=now, updated_at=now))
    mentoring_date(db, starts_at=now + timedelta(days=5), mentors_min=1, municipality="Herning")
    db.add(OutboxMessage(to_address="x@example.dk", subject="Hej", body="...", attempts=3, last_error="refused"))
    db.commit()

    region = make_user(db, Role.coordinator)
    page = start.staff_start(db, region, now=now, settings=settings)
    assert page.awaiting_total == 3
    assert [row.booking.class_name for row in page.awaiting] == ["9.x", urgent.class_name, later.class_name]
    assert {(s.id, signed) for s, _o, signed in page.short_of_mentors} >= {(short.id, 1)}
    assert page.undelivered >= 1

    aarhus = make_user(db, Role.coordinator, municipality="Aarhus")
    page = start.staff_start(db, aarhus, now=now, settings=settings)
    assert [row.booking.id for row in page.awaiting] == [urgent.id, later.id] and page.awaiting_total == 2
    assert {o.municipality for _s, o, _n in page.short_of_mentors} == {"Aarhus"}
    assert page.undelivered is None  # the region's mail is the secretariat's


def test_a_mentor_sees_coming_shifts_open_shifts_and_hours(db):
    now = utcnow()
    mentor = make_mentor(db)
    taken = mentoring_date(db, starts_at=now + timedelta(days=8))
    mentoring_date(db, starts_at=now + timedelta(days=12))
    db.add(Shift(session_id=taken.id, mentor_id=mentor.id, status=ShiftStatus.signed_up, created_at=now, updated_at=now))
    done = mentoring_date(db, starts_at=now - timedelta(days=30), hours=2)
    db.add(Shift(session_id=done.id, mentor_id=mentor.id, status=ShiftStatus.completed, minutes=120, created_at=now, updated_at=now))
    db.commit()

    page = start.mentor_start(db, mentor, now=now)

    assert [c.session_id for c in page.coming] == [taken.id]
    assert page.open_total >= 1
    assert (page.done.visits, page.done.minutes) == (1, 120)

    waiting = make_mentor(db, status="awaiting_approval")
    page = start.mentor_start(db, waiting, now=now)
    assert page.status == "awaiting_approval" and page.coming == [] and page.open_total == 0


def test_the_public_sees_girls_day_and_company_weeks_and_this_years_figures(db, settings):
    now = utcnow()
    provider = make_provider(db)
    for offer_type, title in ((OfferType.girls_day, "Piger i felten"), (OfferType.company_week, "Uge hos os")):
        offer = Offer(provider_id=provider.id, type=offer_type, status=OfferStatus.published, title=title,
                      grade_min=7, grade_max=9, municipality="Aarhus", girls_only=offer_type == OfferType.girls_day)
        db.add(offer)
        db.commit()
        another_date(db, offer, 15)

    page = start.public_start(db, now=now)

    assert "Piger i felten" in [hit.offer.title for hit in page.girls_day]
    assert "Uge hos os" in [hit.offer.title for hit in page.company_weeks]
    assert page.year == now.year and set(page.figures) == set(start.HEADLINE_FIGURES)
    assert page.as_of is not None
