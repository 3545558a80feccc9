"""Book an expert: a teacher proposes a time inside the expert's windows, area and lead time; the
provider accepts (a visit and a booking that needs approval), declines with a reason or proposes
another time; one expert is never in two overlapping visits, also when two accepts race."""

import threading
from datetime import UTC, date, datetime, time, timedelta

import pytest
from sqlmodel import Session, col, delete, select

from app.accounts.models import Organisation, User
from app.bookings import expert
from app.bookings import service as bookings
from app.bookings.expert import ProposalIn
from app.bookings.models import Booking, BookingEvent, BookingStatus, ExpertProposal, ProposalStatus
from app.catalogue.models import (
    AvailabilityWindow,
    Offer,
    OfferResource,
    OfferSession,
    OfferStatus,
    OfferTravelArea,
    OfferType,
    Resource,
    ResourceKind,
    SchoolHoliday,
    SessionResource,
)
from app.deps import get_now
from app.errors import Conflict, Forbidden, InvalidInput, NotFound
from app.i18n import TIMEZONE
from app.notifications.models import Notification, OutboxMessage
from tests.factories import api_headers, log_in, make_provider, make_school, make_user, post_form

NOW = datetime(2026, 9, 1, 8, 0, tzinfo=UTC)  # a Tuesday; with 10 days' notice the earliest day is Friday 11 September


def local(day: date, hour: int, minute: int = 0) -> datetime:
    return datetime.combine(day, time(hour, minute), TIMEZONE)


TUESDAY = date(2026, 9, 15)  # week 38
THURSDAY = date(2026, 9, 17)


def expert_offer(db, provider_org, *, title="Ingeniøren kommer", resources=(), areas=("Aarhus", "Odder"), **fields) -> Offer:
    values = dict(
        provider_id=provider_org.id, type=OfferType.expert, status=OfferStatus.published, title=title, grade_min=4, grade_max=9,
        municipality="Aarhus", min_pupils=10, max_pupils=30, lead_days=10, max_visits_per_week=2,
    )
    offer = Offer(**{**values, **fields})
    db.add(offer)
    db.flush()
    db.add_all([
        AvailabilityWindow(offer_id=offer.id, weekday=1, starts=time(9), ends=time(12)),
        AvailabilityWindow(offer_id=offer.id, weekday=3, starts=time(12), ends=time(15)),
        *[OfferTravelArea(offer_id=offer.id, municipality=m) for m in areas],
        *[OfferResource(offer_id=offer.id, resource_id=r.id) for r in resources],
    ])
    db.commit()
    return offer


@pytest.fixture
def world(db):
    provider_org = make_provider(db)
    staff = [make_user(db, "provider", organisation=provider_org) for _ in range(2)]
    anna = Resource(provider_id=provider_org.id, name="Anna, ingeniør", kind=ResourceKind.person)
    db.add(anna)
    db.commit()
    offer = expert_offer(db, provider_org, resources=[anna])
    teacher = make_user(db, "teacher", organisation=make_school(db, municipality="Aarhus"))
    return offer, staff, anna, teacher


def proposal_in(day=TUESDAY, starts=(9, 0), ends=(11, 0), **fields) -> ProposalIn:
    values = dict(class_name="7.a", grade=7, pupils=24, girls=12, starts_at=local(day, *starts), ends_at=local(day, *ends))
    return ProposalIn(**{**values, **fields})


def propose(db, teacher, offer, **fields) -> ExpertProposal:
    return expert.propose(db, teacher, offer.id, proposal_in(**fields), now=NOW)


def count(db, model, *where) -> int:
    return len(db.exec(select(model).where(*where)).all())


# --- proposing -----------------------------------------------------------------------------------


def test_a_proposal_inside_the_window_is_sent_to_the_providers_staff(db, world, send_outbox, mailbox):
    offer, staff, _anna, teacher = world
    proposal = propose(db, teacher, offer, message="Vi arbejder med energi")
    assert proposal.status == ProposalStatus.proposed and proposal.school_id == teacher.organisation_id
    assert proposal.starts_at == local(TUESDAY, 9).astimezone(UTC)
    for user in staff:
        (notice,) = db.exec(select(Notification).where(Notification.user_id == user.id)).all()
        assert notice.kind == "expert_proposed" and notice.link == f"/provider/proposals/{proposal.id}"
        assert "Vi arbejder med energi" in notice.body and "7.a" in notice.body
    send_outbox()
    assert {m["To"] for m in mailbox.messages} == {u.email for u in staff}
    # The same proposal sent twice (a double click) is one proposal.
    assert propose(db, teacher, offer, message="Vi arbejder med energi").id == proposal.id
    assert count(db, ExpertProposal, ExpertProposal.offer_id == offer.id) == 1


def test_the_windows_edges_and_the_last_day_of_notice_are_inside(db, world):
    offer, _staff, _anna, teacher = world
    propose(db, teacher, offer, starts=(9, 0), ends=(12, 0))  # a whole Tuesday window
    offer.lead_days = 16  # Thursday 17 September is exactly 16 days after 1 September
    db.add(offer)
    db.commit()
    propose(db, teacher, offer, day=THURSDAY, starts=(12, 0), ends=(15, 0), class_name="8.b")


@pytest.mark.parametrize(
    ("fields", "field"),
    [
        ({"starts": (13, 0), "ends": (14, 0)}, "starts_at"),  # Tuesday afternoon: outside the window
        ({"day": date(2026, 9, 16)}, "starts_at"),  # a Wednesday: no window
        ({"starts": (11, 0), "ends": (12, 30)}, "starts_at"),  # runs past the window's end
        ({"day": date(2026, 9, 8)}, "starts_at"),  # a Tuesday, but only 7 days ahead (10 needed)
        ({"starts": (11, 0), "ends": (10, 0)}, "ends_at"),
        ({"day": date(2026, 8, 25)}, "starts_at"),  # in the past
        ({"grade": 11}, "grade"),
        ({"pupils": 5, "girls": 2}, "pupils"),  # the offer takes 10 to 30 pupils
        ({"pupils": 31}, "pupils"),
    ],
)
def test_times_and_classes_outside_the_offers_rules_are_refused_naming_the_field(db, world, fields, field):
    offer, _staff, _anna, teacher = world
    with pytest.raises(InvalidInput) as refused:
        propose(db, teacher, offer, **fields)
    assert refused.value.field == field and refused.value.message
    assert count(db, ExpertProposal, ExpertProposal.offer_id == offer.id) == 0


def test_the_refusal_says_when_the_expert_can_come(db, world):
    offer, _staff, _anna, teacher = world
    with pytest.raises(InvalidInput) as refused:
        propose(db, teacher, offer, starts=(13, 0), ends=(14, 0))
    assert "09:00–12:00" in refused.value.message and "12:00–15:00" in refused.value.message
    with pytest.raises(InvalidInput) as refused:
        propose(db, teacher, offer, day=date(2026, 9, 8))
    assert "11" in refused.value.message and "sep" in refused.value.message.lower()  # the earliest day: Friday 11 September


def test_a_visit_lasts_at_most_a_day(db, world):
    offer, _staff, _anna, teacher = world
    db.exec(delete(AvailabilityWindow).where(col(AvailabilityWindow.offer_id) == offer.id))
    db.commit()
    data = proposal_in().model_copy(update={"ends_at": local(TUESDAY + timedelta(days=1), 10)})
    with pytest.raises(InvalidInput) as refused:
        expert.propose(db, teacher, offer.id, data, now=NOW)
    assert refused.value.field == "ends_at"
    # Without windows the expert can be proposed any time of day.
    propose(db, teacher, offer, day=date(2026, 9, 16), starts=(16, 0), ends=(18, 0))


def test_the_expert_only_travels_to_its_areas(db, world):
    offer, staff, _anna, _teacher = world
    herning = make_user(db, "teacher", organisation=make_school(db, municipality="Herning"))
    with pytest.raises(Conflict) as refused:
        propose(db, herning, offer)
    assert "Herning" in refused.value.message and "Odder" in refused.value.message
    odder = make_user(db, "teacher", organisation=make_school(db, municipality="Odder"))
    propose(db, odder, offer)
    # An offer without travel areas goes to the whole region.
    everywhere = expert_offer(db, db.get(Organisation, offer.provider_id), title="Overalt", areas=())
    propose(db, herning, everywhere)


def test_holidays_are_closed(db, world):
    offer, _staff, _anna, teacher = world
    with pytest.raises(InvalidInput) as refused:  # Ascension Day 2027 is a Thursday
        propose(db, teacher, offer, day=date(2027, 5, 6), starts=(12, 0), ends=(14, 0))
    assert refused.value.field == "starts_at"
    db.add(SchoolHoliday(name="Skolens temadag", municipality="Aarhus", starts_on=TUESDAY, ends_on=TUESDAY))
    db.commit()
    with pytest.raises(InvalidInput) as refused:
        propose(db, teacher, offer)
    assert "Skolens temadag" in refused.value.message
    # The school's own municipality's holidays count: a school in Odder may have the day.
    odder = make_user(db, "teacher", organisation=make_school(db, municipality="Odder"))
    propose(db, odder, offer)


def test_only_teachers_propose_and_only_for_published_expert_offers(db, world):
    offer, staff, _anna, teacher = world
    with pytest.raises(Forbidden):
        propose(db, staff[0], offer)
    course = Offer(provider_id=offer.provider_id, type=OfferType.course, status=OfferStatus.published, title="Kursus",
                   grade_min=0, grade_max=10, municipality="Aarhus")
    draft = expert_offer(db, db.get(Organisation, offer.provider_id), title="Kladde", status=OfferStatus.draft)
    db.add(course)
    db.commit()
    with pytest.raises(Conflict):
        propose(db, teacher, course)
    with pytest.raises(NotFound):
        propose(db, teacher, draft)


# --- accepting -----------------------------------------------------------------------------------


def test_accepting_makes_a_pending_booking_in_a_session_of_its_own_with_the_experts(db, world):
    offer, staff, anna, teacher = world
    proposal = propose(db, teacher, offer, needs="Kørestol", contact_phone="12345678")
    booking = expert.accept(db, staff[0], proposal.id, now=NOW)

    assert booking.status == BookingStatus.pending and booking.hold_until == NOW + bookings.APPROVAL_TIME
    assert (booking.school_id, booking.teacher_id, booking.class_name, booking.pupils, booking.girls, booking.needs) == (
        teacher.organisation_id, teacher.id, "7.a", 24, 12, "Kørestol"
    )
    session = db.get(OfferSession, booking.session_id)
    assert (session.offer_id, session.starts_at, session.ends_at) == (offer.id, proposal.starts_at, proposal.ends_at)
    assert (session.capacity_pupils, session.capacity_classes) == (24, 1)
    assert [r.resource_id for r in db.exec(select(SessionResource).where(SessionResource.session_id == session.id))] == [anna.id]
    (event,) = db.exec(select(BookingEvent).where(BookingEvent.booking_id == booking.id)).all()
    assert (event.actor_id, event.from_status, event.to_status) == (staff[0].id, None, BookingStatus.pending)
    db.refresh(proposal)
    assert proposal.status == ProposalStatus.accepted and proposal.booking_id == booking.id
    (told,) = db.exec(select(Notification).where(Notification.user_id == teacher.id)).all()
    assert told.kind == "booked" and told.booking_id == booking.id
    # Accepted once: a second click changes nothing.
    with pytest.raises(Conflict):
        expert.accept(db, staff[1], proposal.id, now=NOW)
    assert count(db, OfferSession, OfferSession.offer_id == offer.id) == 1


def test_an_offer_without_approval_confirms_at_once(db, world):
    offer, staff, _anna, teacher = world
    offer.requires_approval = False
    db.add(offer)
    db.commit()
    booking = expert.accept(db, staff[0], propose(db, teacher, offer).id, now=NOW)
    assert booking.status == BookingStatus.confirmed and booking.hold_until is None


def test_one_expert_is_never_in_two_overlapping_visits(db, world):
    offer, staff, anna, teacher = world
    provider_org = db.get(Organisation, offer.provider_id)
    other_offer = expert_offer(db, provider_org, title="Robotter i klassen", resources=[anna])
    other_teacher = make_user(db, "teacher", organisation=make_school(db, municipality="Aarhus"))
    first = propose(db, teacher, offer)  # Tuesday 9-11
    second = propose(db, other_teacher, other_offer, starts=(10, 0), ends=(12, 0))  # both wait: nobody is busy yet
    expert.accept(db, staff[0], first.id, now=NOW)

    with pytest.raises(Conflict) as clash:
        expert.accept(db, staff[0], second.id, now=NOW)
    assert "Anna, ingeniør" in clash.value.message and "Ingeniøren kommer" in clash.value.message
    # Nothing half-made: no session, no booking, the proposal still waits.
    assert count(db, OfferSession, OfferSession.offer_id == other_offer.id) == 0
    assert count(db, Booking, Booking.school_id == other_teacher.organisation_id) == 0
    db.refresh(second)
    assert second.status == ProposalStatus.proposed and second.booking_id is None
    # A teacher proposing that time now is told the expert is busy (without the other school's details).
    with pytest.raises(Conflict) as busy:
        propose(db, other_teacher, other_offer, starts=(10, 0), ends=(12, 0), class_name="9.c")
    assert "Ingeniøren kommer" not in busy.value.message

    # A cancelled visit frees the expert.
    db.refresh(first)
    bookings.cancel_booking(db, make_user(db, "coordinator"), first.booking_id, reason="", now=NOW)
    booking = expert.accept(db, staff[0], second.id, now=NOW)
    assert db.get(OfferSession, booking.session_id).offer_id == other_offer.id


def test_the_weekly_limit_counts_the_visits_that_go_ahead(db, world):
    offer, staff, _anna, teacher = world
    offer.max_visits_per_week = 1
    db.add(offer)
    db.commit()
    # Two proposals for week 38 while it is empty; the limit is checked again when accepting.
    tuesday = propose(db, teacher, offer)
    thursday = propose(db, teacher, offer, day=THURSDAY, starts=(12, 0), ends=(14, 0), class_name="8.b")
    booking = expert.accept(db, staff[0], tuesday.id, now=NOW)
    with pytest.raises(Conflict) as full:
        expert.accept(db, staff[0], thursday.id, now=NOW)
    assert "38" in full.value.message
    assert count(db, OfferSession, OfferSession.offer_id == offer.id) == 1
    with pytest.raises(Conflict) as full:
        propose(db, teacher, offer, day=THURSDAY, starts=(12, 0), ends=(14, 0), class_name="9.a")
    assert full.value.field == "starts_at"
    propose(db, teacher, offer, day=THURSDAY + timedelta(days=7), starts=(12, 0), ends=(14, 0), class_name="9.a")  # next week
    # A declined visit does not count.
    bookings.decline_booking(db, make_user(db, "coordinator"), booking.id, reason="Ingen bus", now=NOW)
    expert.accept(db, staff[0], thursday.id, now=NOW)


def test_a_class_is_not_in_two_activities_at_once(db, world):
    offer, staff, anna, teacher = world
    course = Offer(provider_id=offer.provider_id, type=OfferType.course, status=OfferStatus.published, title="Kursus",
                   grade_min=0, grade_max=10, municipality="Aarhus")
    db.add(course)
    db.flush()
    session = OfferSession(offer_id=course.id, starts_at=local(TUESDAY, 8), ends_at=local(TUESDAY, 10), capacity_pupils=30)
    db.add(session)
    db.commit()
    proposal = propose(db, teacher, offer)
    bookings.book_session(db, teacher, bookings.BookingIn(session_id=session.id, class_name="7.A", grade=7, pupils=20), now=NOW)
    with pytest.raises(Conflict) as clash:
        expert.accept(db, staff[0], proposal.id, now=NOW)
    assert "7.a" in clash.value.message
    assert count(db, OfferSession, OfferSession.offer_id == offer.id) == 0


# --- declining and other times -------------------------------------------------------------------


def test_declining_needs_a_reason_and_tells_the_teacher(db, world):
    offer, staff, _anna, teacher = world
    proposal = propose(db, teacher, offer)
    for reason in ("", "   "):
        with pytest.raises(InvalidInput) as refused:
            expert.decline(db, staff[0], proposal.id, reason, now=NOW)
        assert refused.value.field == "reason"
    declined = expert.decline(db, staff[0], proposal.id, "Anna er på kursus", now=NOW)
    assert declined.status == ProposalStatus.declined and declined.reason == "Anna er på kursus"
    (told,) = db.exec(select(Notification).where(Notification.user_id == teacher.id)).all()
    assert told.kind == "expert_declined" and "Anna er på kursus" in told.body
    with pytest.raises(Conflict):
        expert.accept(db, staff[0], proposal.id, now=NOW)


def test_the_teacher_accepts_the_providers_other_time(db, world):
    offer, staff, anna, teacher = world
    proposal = propose(db, teacher, offer)
    wednesday = date(2026, 9, 16)
    # Outside the expert's own windows is fine for the provider; the past and holidays are not.
    with pytest.raises(InvalidInput):
        expert.counter_propose(db, staff[0], proposal.id, local(date(2026, 8, 31), 9), local(date(2026, 8, 31), 11), "", now=NOW)
    with pytest.raises(InvalidInput):  # Christmas Day
        expert.counter_propose(db, staff[0], proposal.id, local(date(2026, 12, 25), 9), local(date(2026, 12, 25), 11), "", now=NOW)
    countered = expert.counter_propose(db, staff[0], proposal.id, local(wednesday, 13), local(wednesday, 15), "Anna kan om onsdagen", now=NOW)
    assert countered.status == ProposalStatus.counter_proposed and countered.starts_at == local(wednesday, 13).astimezone(UTC)
    (told,) = db.exec(select(Notification).where(Notification.user_id == teacher.id)).all()
    assert told.kind == "expert_counter_proposed" and told.link == "/proposals" and "Anna kan om onsdagen" in told.body

    with pytest.raises(Conflict):  # it is the teacher's turn now
        expert.accept(db, staff[0], proposal.id, now=NOW)
    colleague = make_user(db, "teacher", organisation=db.get(Organisation, teacher.organisation_id))
    booking = expert.accept_counter(db, colleague, proposal.id, now=NOW)
    assert booking.status == BookingStatus.pending and booking.teacher_id == teacher.id
    session = db.get(OfferSession, booking.session_id)
    assert session.starts_at == local(wednesday, 13).astimezone(UTC)
    assert db.exec(select(SessionResource.resource_id).where(SessionResource.session_id == session.id)).all() == [anna.id]
    assert count(db, Notification, Notification.user_id == staff[0].id, Notification.kind == "provider_booked") == 1


def test_a_teacher_accepting_another_time_when_the_expert_got_busy_is_told_so(db, world):
    offer, staff, anna, teacher = world
    other_offer = expert_offer(db, db.get(Organisation, offer.provider_id), title="Robotter i klassen", resources=[anna])
    proposal = propose(db, teacher, offer)
    expert.counter_propose(db, staff[0], proposal.id, local(THURSDAY, 13), local(THURSDAY, 14), "", now=NOW)
    rival = propose(db, make_user(db, "teacher", organisation=make_school(db)), other_offer, day=THURSDAY, starts=(12, 0), ends=(14, 0))
    expert.accept(db, staff[0], rival.id, now=NOW)
    with pytest.raises(Conflict) as busy:
        expert.accept_counter(db, teacher, proposal.id, now=NOW)
    assert "Robotter" not in busy.value.message  # the provider's other visits are not the school's business
    db.refresh(proposal)
    assert proposal.status == ProposalStatus.counter_proposed
    assert count(db, Booking, Booking.school_id == teacher.organisation_id) == 0


def test_a_proposal_nobody_answered_in_time_is_closed_and_the_teacher_told(db, world):
    offer, staff, _anna, teacher = world
    waiting = propose(db, teacher, offer)
    answered = propose(db, teacher, offer, class_name="8.b", day=THURSDAY, starts=(12, 0), ends=(14, 0))
    expert.accept(db, staff[0], answered.id, now=NOW)
    assert expert.close_passed_proposals(db, now=waiting.starts_at - timedelta(minutes=1)) == 0
    assert expert.close_passed_proposals(db, now=waiting.starts_at) == 1
    db.refresh(waiting)
    assert waiting.status == ProposalStatus.declined and "Ingen svarede" in waiting.reason
    assert count(db, Notification, Notification.user_id == teacher.id, Notification.kind == "expert_declined") == 1
    assert expert.close_passed_proposals(db, now=waiting.starts_at + timedelta(days=3)) == 0  # the accepted one stays


def test_the_teacher_declines_the_other_time_or_withdraws(db, world):
    offer, staff, _anna, teacher = world
    proposal = propose(db, teacher, offer)
    with pytest.raises(Conflict):  # there is no other time to decline yet
        expert.decline_counter(db, teacher, proposal.id, now=NOW)
    expert.counter_propose(db, staff[0], proposal.id, local(THURSDAY, 13), local(THURSDAY, 14), "", now=NOW)
    declined = expert.decline_counter(db, teacher, proposal.id, now=NOW)
    assert declined.status == ProposalStatus.declined
    assert count(db, Notification, Notification.user_id == staff[1].id, Notification.kind == "expert_counter_declined") == 1

    another = propose(db, teacher, offer, class_name="8.b")
    assert expert.withdraw(db, teacher, another.id, now=NOW).status == ProposalStatus.withdrawn
    assert count(db, Notification, Notification.user_id == staff[0].id, Notification.kind == "expert_withdrawn") == 1
    with pytest.raises(Conflict):
        expert.withdraw(db, teacher, another.id, now=NOW)
    with pytest.raises(Conflict):
        expert.accept(db, staff[0], another.id, now=NOW)


def test_other_providers_and_schools_are_told_the_proposal_does_not_exist(db, world):
    offer, staff, _anna, teacher = world
    proposal = propose(db, teacher, offer)
    stranger = make_user(db, "provider")
    other_teacher = make_user(db, "teacher")
    coordinator = make_user(db, "coordinator")
    for attempt in (
        lambda: expert.accept(db, stranger, proposal.id, now=NOW),
        lambda: expert.decline(db, stranger, proposal.id, "Nej", now=NOW),
        lambda: expert.counter_propose(db, stranger, proposal.id, local(THURSDAY, 13), local(THURSDAY, 14), "", now=NOW),
        lambda: expert.accept(db, teacher, proposal.id, now=NOW),  # a teacher cannot accept its own proposal
        lambda: expert.withdraw(db, other_teacher, proposal.id, now=NOW),
        lambda: expert.accept_counter(db, staff[0], proposal.id, now=NOW),
        lambda: expert.get_proposal(db, coordinator, proposal.id),
    ):
        with pytest.raises(NotFound):
            attempt()
    db.refresh(proposal)
    assert proposal.status == ProposalStatus.proposed


def test_lists_show_what_waits_for_each_first(db, world):
    offer, staff, _anna, teacher = world
    first = propose(db, teacher, offer)
    countered = propose(db, teacher, offer, class_name="8.b")
    answered = propose(db, teacher, offer, class_name="9.c")
    expert.decline(db, staff[0], answered.id, "Nej tak", now=NOW)
    expert.counter_propose(db, staff[0], countered.id, local(THURSDAY, 13), local(THURSDAY, 14), "", now=NOW)
    assert [p.id for p, _o, _s in expert.provider_proposals(db, staff[1])] == [first.id, countered.id, answered.id]
    assert [p.id for p, _o, _s in expert.school_proposals(db, teacher)] == [countered.id, first.id, answered.id]
    assert expert.provider_proposals(db, make_user(db, "provider")) == []
    assert expert.school_proposals(db, make_user(db, "teacher")) == []
    with pytest.raises(Forbidden):
        expert.school_proposals(db, staff[0])


# --- pages and API -------------------------------------------------------------------------------


@pytest.fixture
def fixed_clock(app):
    app.dependency_overrides[get_now] = lambda: NOW


def test_the_whole_flow_through_the_pages(client, db, settings, world, fixed_clock):
    offer, staff, _anna, teacher = world
    log_in(client, db, teacher, settings)
    assert f'href="/offers/{offer.id}/propose"' in client.get(f"/offers/{offer.id}").text
    form = client.get(f"/offers/{offer.id}/propose")
    assert form.status_code == 200 and "09:00–12:00" in form.text and "Odder" in form.text

    fields = {"class_name": "6.a", "grade": "6", "pupils": "22", "girls": "10", "adults": "2", "message": "Hej Anna"}
    outside = post_form(client, f"/offers/{offer.id}/propose", {**fields, "date": "2026-09-15", "starts": "13:00", "ends": "14:00"})
    assert outside.status_code == 422 and "09:00–12:00" in outside.text and 'aria-invalid="true"' in outside.text
    missing = post_form(client, f"/offers/{offer.id}/propose", {**fields, "date": "2026-09-15"})
    assert missing.status_code == 422 and 'id="starts-error"' in missing.text
    sent = post_form(client, f"/offers/{offer.id}/propose", {**fields, "date": "2026-09-15", "starts": "09:30", "ends": "11:30"})
    assert sent.status_code == 303 and sent.headers["location"] == "/proposals?notice=proposal_sent"
    (proposal,) = db.exec(select(ExpertProposal).where(ExpertProposal.offer_id == offer.id)).all()
    assert proposal.starts_at == local(TUESDAY, 9, 30).astimezone(UTC) and proposal.adults == 2
    proposals = client.get("/proposals").text
    assert "6.a" in proposals and '<a href="/proposals" aria-current="page">Ekspertbesøg</a>' in proposals  # in the teacher's menu, marked as the page shown

    log_in(client, db, staff[0], settings)
    assert f"/provider/proposals/{proposal.id}" in client.get("/provider/proposals").text
    page = client.get(f"/provider/proposals/{proposal.id}")
    assert page.status_code == 200 and "Hej Anna" in page.text
    no_reason = post_form(client, f"/provider/proposals/{proposal.id}/decline", {"reason": ""})
    assert no_reason.status_code == 422 and 'id="reason-error"' in no_reason.text
    past = post_form(client, f"/provider/proposals/{proposal.id}/counter", {"date": "2026-08-20", "starts": "13:00", "ends": "14:00"})
    assert past.status_code == 422 and 'id="date-error"' in past.text
    countered = post_form(
        client, f"/provider/proposals/{proposal.id}/counter", {"date": "2026-09-16", "starts": "13:00", "ends": "14:30", "message": "Onsdag?"}
    )
    assert countered.status_code == 303

    log_in(client, db, teacher, settings)
    mine = client.get("/proposals").text
    assert f'action="/proposals/{proposal.id}/accept"' in mine and "Onsdag?" in mine
    assert post_form(client, f"/proposals/{proposal.id}/accept").status_code == 303
    db.refresh(proposal)
    booking = db.get(Booking, proposal.booking_id)
    assert booking.status == BookingStatus.pending and booking.pupils == 22
    assert db.get(OfferSession, booking.session_id).starts_at == local(date(2026, 9, 16), 13).astimezone(UTC)


def test_a_clash_on_accepting_is_explained_on_the_proposals_page(client, db, settings, world, fixed_clock):
    offer, staff, anna, teacher = world
    other_offer = expert_offer(db, db.get(Organisation, offer.provider_id), title="Robotter i klassen", resources=[anna])
    first = propose(db, teacher, offer)
    second = propose(db, make_user(db, "teacher", organisation=make_school(db)), other_offer, starts=(10, 0), ends=(12, 0))
    expert.accept(db, staff[0], first.id, now=NOW)
    log_in(client, db, staff[1], settings)
    response = post_form(client, f"/provider/proposals/{second.id}/accept")
    assert response.status_code == 409 and "Anna, ingeniør" in response.text and 'role="alert"' in response.text
    # The teacher's own pages refuse other schools' proposals.
    log_in(client, db, teacher, settings)
    assert post_form(client, f"/proposals/{second.id}/withdraw").status_code == 404


def test_a_reason_sent_twice_declines_with_the_last_one(client, db, settings, world, fixed_clock):
    offer, staff, _anna, teacher = world
    proposal = propose(db, teacher, offer)
    log_in(client, db, staff[0], settings)
    declined = post_form(client, f"/provider/proposals/{proposal.id}/decline", {"reason": ["Syg", "Anna er på kursus"]})
    assert declined.status_code == 303
    db.refresh(proposal)
    assert (proposal.status, proposal.reason) == (ProposalStatus.declined, "Anna er på kursus")
    (told,) = db.exec(select(Notification).where(Notification.user_id == teacher.id)).all()
    assert "Anna er på kursus" in told.body and "Syg" not in told.body


def test_the_api_names_the_field_and_follows_the_turns(client, db, settings, world, fixed_clock):
    offer, staff, _anna, teacher = world
    as_teacher = api_headers(db, teacher, settings)
    url = f"/api/v1/offers/{offer.id}/proposals"
    body = {"starts_at": "2026-09-15T09:00:00", "ends_at": "2026-09-15T11:00:00", "class_name": "7.a", "grade": 7, "pupils": 24}

    def field_of(response):
        return [tuple(e["loc"]) for e in response.json()["detail"]]

    outside = client.post(url, headers=as_teacher, json={**body, "starts_at": "2026-09-15T13:00:00", "ends_at": "2026-09-15T14:00:00"})
    assert outside.status_code == 422 and field_of(outside) == [("body", "starts_at")]
    too_many_girls = client.post(url, headers=as_teacher, json={**body, "girls": 25})
    assert too_many_girls.status_code == 422 and field_of(too_many_girls) == [("body", "girls")]
    no_class = client.post(url, headers=as_teacher, json={k: v for k, v in body.items() if k != "class_name"})
    assert no_class.status_code == 422 and ("body", "class_name") in field_of(no_class)
    not_a_time = client.post(url, headers=as_teacher, json={**body, "starts_at": "tirsdag"})
    assert not_a_time.status_code == 422 and ("body", "starts_at") in field_of(not_a_time)

    created = client.post(url, headers=as_teacher, json=body)
    assert created.status_code == 201, created.text
    proposal = created.json()
    # Naive times are Danish: 09:00 in September is 07:00 UTC.
    assert proposal["status"] == "proposed" and datetime.fromisoformat(proposal["starts_at"]) == datetime(2026, 9, 15, 7, tzinfo=UTC)
    listed = client.get("/api/v1/proposals", headers=as_teacher).json()
    assert listed["total"] == 1 and listed["items"][0]["id"] == proposal["id"]

    as_provider = api_headers(db, staff[0], settings)
    pid = proposal["id"]
    assert client.get("/api/v1/proposals?status=proposed", headers=as_provider).json()["total"] == 1
    no_reason = client.post(f"/api/v1/proposals/{pid}/decline", headers=as_provider, json={})
    assert no_reason.status_code == 422 and field_of(no_reason) == [("body", "reason")]
    bad_counter = client.post(f"/api/v1/proposals/{pid}/counter", headers=as_provider, json={"starts_at": "2026-09-16T13:00:00"})
    assert bad_counter.status_code == 422 and ("body", "ends_at") in field_of(bad_counter)
    stranger = api_headers(db, make_user(db, "provider"), settings)
    assert client.post(f"/api/v1/proposals/{pid}/accept", headers=stranger).status_code == 404
    assert client.post(f"/api/v1/proposals/{pid}/counter", headers=stranger, json={}).status_code == 404
    assert client.post(url, headers=as_provider, json=body).status_code == 403

    countered = client.post(
        f"/api/v1/proposals/{pid}/counter", headers=as_provider,
        json={"starts_at": "2026-09-16T13:00:00+02:00", "ends_at": "2026-09-16T14:00:00+02:00", "message": "Onsdag?"},
    )
    assert countered.status_code == 200 and countered.json()["status"] == "counter_proposed"
    assert client.post(f"/api/v1/proposals/{pid}/accept", headers=as_provider).status_code == 409  # the teacher's turn
    accepted = client.post(f"/api/v1/proposals/{pid}/accept", headers=as_teacher)
    assert accepted.status_code == 200 and accepted.json()["status"] == "accepted"
    booking = client.get(f"/api/v1/bookings/{accepted.json()['booking_id']}", headers=as_teacher).json()
    assert booking["status"] == "pending" and booking["class_name"] == "7.a"


# --- two accepts at the same moment --------------------------------------------------------------


def test_two_accepts_racing_for_one_expert_let_only_one_win(engine):
    """Two of the provider's staff accept overlapping visits of two offers that both need Anna, at
    the same moment on separate connections with committed data: exactly one visit is made."""
    with Session(engine) as setup:
        provider_org = make_provider(setup)
        staff = [make_user(setup, "provider", organisation=provider_org) for _ in range(2)]
        anna = Resource(provider_id=provider_org.id, name="Anna", kind=ResourceKind.person)
        setup.add(anna)
        setup.commit()
        offers = [expert_offer(setup, provider_org, title=t, resources=[anna]) for t in ("Energi", "Robotter")]
        teachers = [make_user(setup, "teacher", organisation=make_school(setup)) for _ in range(2)]
        proposals = [
            propose(setup, teachers[0], offers[0]).id,
            propose(setup, teachers[1], offers[1], starts=(10, 0), ends=(12, 0)).id,
        ]
        ids = {
            "staff": [u.id for u in staff], "teachers": [u.id for u in teachers], "offers": [o.id for o in offers],
            "schools": [u.organisation_id for u in teachers], "provider": provider_org.id, "anna": anna.id,
        }
    barrier = threading.Barrier(2)
    outcomes: list[str] = []

    def accept(staff_id: int, proposal_id: int) -> None:
        with Session(engine) as db:
            actor = db.get(User, staff_id)
            barrier.wait()
            try:
                expert.accept(db, actor, proposal_id, now=NOW)
                outcomes.append("accepted")
            except Conflict as clash:
                outcomes.append("clash" if "Anna" in clash.message else clash.message)

    threads = [threading.Thread(target=accept, args=pair) for pair in zip(ids["staff"], proposals, strict=True)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    try:
        assert sorted(outcomes) == ["accepted", "clash"]
        with Session(engine) as db:
            assert count(db, SessionResource, SessionResource.resource_id == ids["anna"]) == 1
            assert count(db, OfferSession, col(OfferSession.offer_id).in_(ids["offers"])) == 1
            assert count(db, Booking, col(Booking.school_id).in_(ids["schools"])) == 1
            statuses = sorted(db.get(ExpertProposal, p).status for p in proposals)
            assert statuses == [ProposalStatus.accepted, ProposalStatus.proposed]
    finally:
        with Session(engine) as db:  # committed data: clean up, children first
            users = ids["staff"] + ids["teachers"]
            emails = [db.get(User, u).email for u in users]
            db.exec(delete(OutboxMessage).where(col(OutboxMessage.to_address).in_(emails)))
            db.exec(delete(ExpertProposal).where(col(ExpertProposal.offer_id).in_(ids["offers"])))
            db.exec(delete(Booking).where(col(Booking.school_id).in_(ids["schools"])))
            db.exec(delete(Offer).where(col(Offer.id).in_(ids["offers"])))
            db.exec(delete(Resource).where(col(Resource.id) == ids["anna"]))
            db.exec(delete(User).where(col(User.id).in_(users)))
            db.exec(delete(Organisation).where(col(Organisation.id).in_([*ids["schools"], ids["provider"]])))
            db.commit()


def test_a_visit_in_year_9999_is_refused_with_the_field_named_not_a_server_error(client, db, settings, world, fixed_clock):
    offer, staff, _anna, teacher = world
    log_in(client, db, teacher, settings)
    fields = {"class_name": "8a", "grade": "8", "pupils": "20", "adults": "1"}
    # A Tuesday inside the expert's window: the week after it lies beyond year 9999.
    page = post_form(client, f"/offers/{offer.id}/propose", {**fields, "date": "9999-12-28", "starts": "09:00", "ends": "11:00"})
    assert page.status_code == 422
    assert '<li><a href="#date">Dag: Vælg en dato fra 1. aug. 2025 til 31. jul. 2032.</a></li>' in page.text

    far = {"starts_at": "9999-12-31T23:00:00-05:00", "ends_at": "9999-12-31T23:30:00-05:00"}
    proposed = client.post(
        f"/api/v1/offers/{offer.id}/proposals",
        headers=api_headers(db, teacher, settings),
        json={**far, "class_name": "8a", "grade": 8, "pupils": 20},
    )
    assert proposed.status_code == 422 and [e["loc"] for e in proposed.json()["detail"]] == [["body", "starts_at"]]
    assert db.exec(select(ExpertProposal).where(ExpertProposal.offer_id == offer.id)).all() == []

    proposal = expert.propose(db, teacher, offer.id, proposal_in(), now=NOW)
    countered = client.post(f"/api/v1/proposals/{proposal.id}/counter", headers=api_headers(db, staff[0], settings), json=far)
    assert countered.status_code == 422 and [e["loc"] for e in countered.json()["detail"]] == [["body", "starts_at"]]
    db.refresh(proposal)
    assert proposal.status == ProposalStatus.proposed and proposal.starts_at == local(TUESDAY, 9).astimezone(UTC)
