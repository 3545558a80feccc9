"""A long course whose dates are one course (Offer.all_dates_together) is booked as one: every
date still to come, in one transaction or none, and decided, cancelled and told of together."""

import re
from datetime import timedelta

import pytest
from sqlmodel import col, select

from app.accounts.models import Organisation
from app.bookings import service as bookings
from app.bookings.models import Booking, BookingStatus, SchoolCap
from app.bookings.notices import tell_about_new_bookings
from app.bookings.schemas import BookingIn
from app.catalogue.models import Offer, OfferSession, OfferStatus, OfferType
from app.db import utcnow
from app.errors import Conflict
from app.notifications.models import Notification
from tests.bookings.conftest import NOW
from tests.factories import api_headers, log_in, make_provider, make_school, make_user, post_form

FIRST = NOW + timedelta(days=30)


def offer_with_dates(db, title: str, together: bool, capacities: list[int], first=FIRST) -> list[OfferSession]:
    """A long course's weekly dates (two classes each), whose dates go `together` or not."""
    offer = Offer(provider_id=make_provider(db).id, type=OfferType.course, status=OfferStatus.published, title=title,
                  grade_min=5, grade_max=9, municipality="Aarhus", requires_approval=True, is_long=True, all_dates_together=together)
    db.add(offer)
    db.flush()
    dates = [
        OfferSession(offer_id=offer.id, starts_at=first + timedelta(weeks=n, hours=2 * together), ends_at=first + timedelta(weeks=n, hours=2 * together + 2),
                     capacity_pupils=capacity, capacity_classes=2, series=f"series-{title}")
        for n, capacity in enumerate(capacities)
    ]
    db.add_all(dates)
    db.commit()
    return dates


@pytest.fixture
def course(db):
    """A long course of three Tuesdays (50 pupils, 2 classes each; the last date 30 pupils), and a
    long course run three times (each date a run of its own)."""
    return offer_with_dates(db, "Ingeniør i skolen", True, [50, 50, 30]), offer_with_dates(db, "Værksted", False, [50, 50, 50])


def teacher(db):
    return make_user(db, "teacher", organisation=make_school(db))


def book(db, who, session, pupils, *, now=NOW, key=None, class_name="7.a"):
    data = BookingIn(session_id=session.id, class_name=class_name, grade=7, pupils=pupils)
    return bookings.book_session(db, who, data, now=now, idempotency_key=key)


def rows(db, booking: Booking) -> list[Booking]:
    return list(db.exec(select(Booking).where(Booking.course_id == booking.course_id).order_by(col(Booking.id))).all())


def test_booking_any_date_of_a_long_course_books_every_date_to_come(db, course):
    dates, _workshop = course
    lead = book(db, teacher(db), dates[1], 20)  # asked from the second date
    assert lead.session_id == dates[0].id and lead.course_id == lead.id
    booked = rows(db, lead)
    assert [b.session_id for b in booked] == [d.id for d in dates]
    assert {b.status for b in booked} == {BookingStatus.pending}
    assert len({b.hold_until for b in booked}) == 1  # one approval deadline for the course
    assert bookings.held(db, [d.id for d in dates], now=NOW) == {d.id: (20, 1) for d in dates}


def test_a_course_books_only_the_dates_still_to_come(db, course):
    dates, _workshop = course
    lead = book(db, teacher(db), dates[2], 20, now=dates[0].ends_at)
    assert [b.session_id for b in rows(db, lead)] == [dates[1].id, dates[2].id]


def test_all_dates_or_none(db, course):
    dates, _workshop = course
    book(db, teacher(db), dates[0], 20)  # 20 of 30 on the last date
    with pytest.raises(bookings.SessionFull) as full:
        book(db, teacher(db), dates[0], 15, class_name="8.b")
    assert "full" in full.value.message or "fuld" in full.value.message
    assert bookings.held(db, [d.id for d in dates], now=NOW) == {d.id: (20, 1) for d in dates}  # nothing half-made
    assert len(db.exec(select(Booking)).all()) == 3


def test_a_course_run_several_times_is_booked_date_by_date(db, course):
    _dates, workshop = course
    booking = book(db, teacher(db), workshop[1], 20)
    assert booking.course_id is None and booking.session_id == workshop[1].id
    assert bookings.held(db, [d.id for d in workshop], now=NOW) == {workshop[1].id: (20, 1)}


def test_approving_declining_and_cancelling_treat_the_course_as_one(db, course):
    dates, _workshop = course
    coordinator = make_user(db, "coordinator")
    a, b = teacher(db), teacher(db)
    first = book(db, a, dates[0], 20)
    second = book(db, b, dates[0], 10)
    approved = bookings.approve_booking(db, coordinator, rows(db, first)[2].id, now=NOW)  # from any date
    assert {r.status for r in rows(db, approved)} == {BookingStatus.confirmed}
    bookings.decline_booking(db, coordinator, second.id, reason="Kun for 7. klasse", now=NOW)
    assert {r.status for r in rows(db, second)} == {BookingStatus.declined}
    with pytest.raises(Conflict):
        bookings.approve_booking(db, coordinator, rows(db, second)[1].id, now=NOW)
    bookings.cancel_booking(db, a, first.id, reason="", now=NOW)
    assert {r.status for r in rows(db, first)} == {BookingStatus.cancelled}
    assert bookings.held(db, [d.id for d in dates], now=NOW) == {}


def test_the_same_key_books_the_course_once(db, course):
    dates, _workshop = course
    who = teacher(db)
    first = book(db, who, dates[0], 20, key="k-1")
    again = book(db, who, dates[0], 20, key="k-1")  # a double click
    assert again.id == first.id
    with pytest.raises(Conflict):  # the key with another body
        book(db, who, dates[1], 20, key="k-1")
    assert len(db.exec(select(Booking)).all()) == 3


def test_the_teacher_is_told_once_and_a_course_counts_once_toward_a_cap(db, course):
    dates, _workshop = course
    who = teacher(db)
    db.add(SchoolCap(offer_type=OfferType.course, school_year=2026, max_bookings=2))
    db.commit()
    book(db, who, dates[0], 20)
    assert tell_about_new_bookings(db, now=NOW) == 1
    told = db.exec(select(Notification).where(Notification.user_id == who.id)).all()
    assert [n.kind for n in told] == ["booked"]
    book(db, who, dates[0], 10, class_name="8.b")  # the second course booking is within a cap of 2
    with pytest.raises(Conflict):
        book(db, who, dates[0], 5, class_name="9.c")


def test_a_course_not_approved_in_time_expires_on_every_date_and_is_told_once(db, course):
    dates, _workshop = course
    who = teacher(db)
    lead = book(db, who, dates[0], 20)
    assert bookings.expire_holds(db, now=lead.hold_until + timedelta(minutes=1)) == 3
    assert {r.status for r in rows(db, lead)} == {BookingStatus.expired}
    kinds = [n.kind for n in db.exec(select(Notification).where(Notification.user_id == who.id))]
    assert kinds == ["expired_pending"]


def test_the_pages_show_the_course_dates_when_booking_and_afterwards(client, db, settings):
    offer = Offer(provider_id=make_provider(db).id, type=OfferType.course, status=OfferStatus.published, title="Ingeniør i skolen",
                  grade_min=5, grade_max=9, municipality="Aarhus", requires_approval=True, is_long=True, all_dates_together=True)
    db.add(offer)
    db.flush()
    starts = utcnow() + timedelta(days=30)
    dates = [OfferSession(offer_id=offer.id, starts_at=starts + timedelta(weeks=n), ends_at=starts + timedelta(weeks=n, hours=3),
                          capacity_pupils=30, series="ingenior") for n in range(3)]
    db.add_all(dates)
    db.commit()
    who = teacher(db)
    log_in(client, db, who, settings)
    form = client.get(f"/sessions/{dates[1].id}/book").text
    assert "Et forløb med 3 datoer" in form and 'name="waitlist"' not in form
    key = re.search(r'name="idempotency_key" value="([^"]+)"', form).group(1)
    booked = post_form(client, f"/sessions/{dates[1].id}/book", {"class_name": "7.a", "grade": "7", "pupils": "20", "adults": "1", "idempotency_key": key})
    assert booked.status_code == 303
    lead = db.exec(select(Booking).where(Booking.session_id == dates[0].id)).one()
    page = client.get(f"/bookings/{lead.id}").text
    assert "Forløbets datoer" in page and page.count('href="/bookings/') >= 2  # the other dates' bookings
    too_many = post_form(client, f"/sessions/{dates[0].id}/book", {"class_name": "8.a", "grade": "8", "pupils": "15", "adults": "1", "idempotency_key": "x-2"})
    assert too_many.status_code == 422 and "alle forløbets datoer" in too_many.text


def test_the_provider_says_whether_the_dates_go_together_and_only_a_long_course_can(client, db, settings):
    provider = make_user(db, "provider", organisation=make_provider(db))
    headers = api_headers(db, provider, settings)
    body = {"type": "course", "title": "Ingeniør i skolen", "grade_min": 5, "grade_max": 9, "all_dates_together": True}
    long_course = client.post("/api/v1/offers", headers=headers, json={**body, "is_long": True})
    short = client.post("/api/v1/offers", headers=headers, json=body)
    assert long_course.status_code == short.status_code == 201
    assert long_course.json()["all_dates_together"] is True and short.json()["all_dates_together"] is False
    assert db.get(Offer, long_course.json()["id"]).all_dates_together


def test_a_course_whose_first_date_was_cancelled_still_expires_with_one_message(db, course):
    dates, _workshop = course
    who = teacher(db)
    lead = book(db, who, dates[0], 20)
    owner = make_user(db, "provider", organisation=db.get(Organisation, db.get(Offer, dates[0].offer_id).provider_id))
    bookings.cancel_session_bookings(db, owner, dates[0].id, now=NOW)
    assert bookings.expire_holds(db, now=lead.hold_until + timedelta(minutes=1)) == 2
    kinds = [n.kind for n in db.exec(select(Notification).where(Notification.user_id == who.id))]
    assert kinds == ["date_cancelled", "expired_pending"]


def test_a_course_is_one_row_in_the_lists_of_bookings_the_first_date_the_filters_let_through(db, course):
    dates, workshop = course
    coordinator = make_user(db, "coordinator")
    who = teacher(db)
    lead = book(db, who, dates[0], 20)
    single = book(db, teacher(db), workshop[1], 15)
    items, total = bookings.list_bookings(db, coordinator, status=BookingStatus.pending, course_once=True)
    assert [b.id for b in items] == [lead.id, single.id] and total == 2
    assert bookings.course_lengths(db, items) == {lead.id: 3}
    per_date, per_date_total = bookings.list_bookings(db, coordinator, status=BookingStatus.pending)
    assert len(per_date) == per_date_total == 4  # the API's list keeps a row per date
    owner = make_user(db, "provider", organisation=db.get(Organisation, db.get(Offer, dates[0].offer_id).provider_id))
    bookings.cancel_session_bookings(db, owner, dates[0].id, now=NOW)  # the course's first date is called off
    items, total = bookings.list_bookings(db, coordinator, status=BookingStatus.pending, course_once=True)
    assert [b.session_id for b in items] == [dates[1].id, workshop[1].id] and total == 2


def test_the_approval_queue_shows_a_course_once_and_approving_it_approves_every_date(client, db, settings):
    dates = offer_with_dates(db, "Ingeniør i skolen", True, [50, 50, 30], first=utcnow() + timedelta(days=30))
    lead = book(db, teacher(db), dates[0], 20, now=utcnow())
    coordinator = make_user(db, "coordinator")
    log_in(client, db, coordinator, settings)
    queue = client.get("/bookings").text
    assert queue.count('name="booking_ids"') == 1 and "et forløb på 3 datoer" in queue.lower()
    approved = post_form(client, "/bookings/approve", {"booking_ids": str(lead.id)})
    assert approved.status_code == 303, approved.text
    assert approved.headers["location"].endswith("notice=bulk_approved"), approved.headers["location"]
    assert {r.status for r in rows(db, lead)} == {BookingStatus.confirmed}
