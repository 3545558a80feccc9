"""Girls Day right the first time (issue 16): the form asks for girls only, shows the limits, an
open draw, the school's cap and a passed cancellation deadline before the teacher submits, and its
live "does the class fit" answer refuses what the booking would refuse (the same rule answers both)."""

from datetime import timedelta

import pytest
from sqlmodel import select

from app.bookings import service as bookings
from app.bookings.models import AllocationRound, Booking, BookingStatus, SchoolCap
from app.bookings.schemas import BookingIn
from app.calendar.bounds import school_year_of
from app.catalogue.models import Offer, OfferSession, OfferStatus, OfferType
from app.db import utcnow
from app.i18n import TIMEZONE
from tests.factories import error_summary, log_in, make_provider, make_school, make_user, post_form


def girls_day(db, *, days: int = 40, capacity: int = 60, min_pupils: int | None = 12, max_pupils: int | None = 28):
    """A published girls-only Girls Day offer for grades 7-9 and one date of it, `days` ahead."""
    offer = Offer(
        provider_id=make_provider(db).id,
        type=OfferType.girls_day,
        status=OfferStatus.published,
        title="Girls Day: Kod en robot",
        grade_min=7,
        grade_max=9,
        municipality="Aarhus",
        girls_only=True,
        min_pupils=min_pupils,
        max_pupils=max_pupils,
    )
    db.add(offer)
    db.flush()
    starts = utcnow().replace(microsecond=0) + timedelta(days=days)
    session = OfferSession(offer_id=offer.id, starts_at=starts, ends_at=starts + timedelta(hours=4), capacity_pupils=capacity)
    db.add(session)
    db.commit()
    return offer, session


def cap_of(db, session, max_bookings: int):
    year = school_year_of(session.starts_at.astimezone(TIMEZONE).date())
    db.add(SchoolCap(offer_type=OfferType.girls_day, school_year=year, max_bookings=max_bookings))
    db.commit()


def live(client, session, pupils) -> str:
    return client.get(f"/sessions/{session.id}/places?pupils={pupils}", headers={"HX-Request": "true"}).text


def test_the_reproduction_a_capped_school_is_told_by_the_live_check_not_after_submitting(client, db, settings):
    """The findings' reproduction: the live check said "plads til jeres 13 elever", then the cap refused."""
    _offer, session = girls_day(db)
    other_offer, other_session = girls_day(db)
    school = make_school(db)
    teacher = make_user(db, "teacher", organisation=school)
    bookings.book_session(db, teacher, BookingIn(session_id=other_session.id, class_name="8.a", grade=8, pupils=14), now=utcnow())
    cap_of(db, session, 1)
    log_in(client, db, teacher, settings)

    answer = live(client, session, 13)
    assert "Der er plads til jeres 13" not in answer
    assert "loftet på 1 booking" in answer  # the cap's own words, as the booking would refuse

    response = post_form(client, f"/sessions/{session.id}/book", {"class_name": "8.b", "grade": "8", "pupils": "13", "adults": "1"})
    assert response.status_code == 409 or response.status_code == 422
    assert "loftet på 1 booking" in response.text
    # and the form said so before: the school's use of its cap is on the form itself
    form = client.get(f"/sessions/{session.id}/book").text
    assert "loftet på 1 booking" in form


def test_the_reproduction_a_girls_only_form_asks_for_the_girls_and_books_them(client, db, settings):
    """The findings' reproduction: "Antal elever" 22 and "Heraf piger" 10 was refused after the
    live check said the class fits; the form now asks only for the number of girls."""
    _offer, session = girls_day(db)
    teacher = make_user(db, "teacher", organisation=make_school(db))
    log_in(client, db, teacher, settings)
    form = client.get(f"/sessions/{session.id}/book").text
    assert 'name="girls"' not in form and "Antal piger" in form
    assert "Heraf piger" not in form

    response = post_form(client, f"/sessions/{session.id}/book", {"class_name": "8.a", "grade": "8", "pupils": "22", "adults": "1"}, follow_redirects=False)
    assert response.status_code == 303, response.text
    booking = db.exec(select(Booking).where(Booking.session_id == session.id)).one()
    # pupils = girls, so the barometer counts every one of them as a girl (its girls' share)
    assert (booking.pupils, booking.girls) == (22, 22)


def test_the_api_still_refuses_boys_on_a_girls_only_date(db):
    _offer, session = girls_day(db)
    teacher = make_user(db, "teacher", organisation=make_school(db))
    with pytest.raises(Exception, match="girls only|kun for piger"):
        bookings.book_session(db, teacher, BookingIn(session_id=session.id, class_name="8.a", grade=8, pupils=22, girls=10), now=utcnow())
    booking = bookings.book_session(db, teacher, BookingIn(session_id=session.id, class_name="8.a", grade=8, pupils=14), now=utcnow())
    assert booking.girls == 14


def test_the_form_shows_the_group_size_before_anything_is_typed(client, db, settings):
    _offer, session = girls_day(db, min_pupils=12, max_pupils=28)
    teacher = make_user(db, "teacher", organisation=make_school(db))
    log_in(client, db, teacher, settings)
    form = client.get(f"/sessions/{session.id}/book").text
    assert "12-28 piger pr. booking" in form or "12–28 piger pr. booking" in form
    assert "Mindst 12" in live(client, session, 5)
    response = post_form(client, f"/sessions/{session.id}/book", {"class_name": "8.a", "grade": "8", "pupils": "5", "adults": "1"})
    assert response.status_code == 422 and "Mindst 12" in error_summary(response.text)["pupils"]


def test_an_open_draw_is_shown_and_the_entry_is_never_number_one_on_the_waiting_list(client, db, settings):
    offer, session = girls_day(db)
    closes = utcnow().replace(microsecond=0) + timedelta(days=10)
    db.add(AllocationRound(offer_id=offer.id, closes_at=closes, seed="s" * 64, created_at=utcnow()))
    db.commit()
    teacher = make_user(db, "teacher", organisation=make_school(db))
    log_in(client, db, teacher, settings)
    form = client.get(f"/sessions/{session.id}/book").text
    assert "lodtrækning" in form and "ikke efter først til mølle" in form
    assert "Der er plads til jeres" not in live(client, session, 14)
    assert "lodtrækningen" in live(client, session, 14)

    response = post_form(client, f"/sessions/{session.id}/book", {"class_name": "8.a", "grade": "8", "pupils": "14", "adults": "1"}, follow_redirects=False)
    assert response.status_code == 303, response.text
    booking = db.exec(select(Booking).where(Booking.session_id == session.id)).one()
    assert booking.status == BookingStatus.waitlisted and booking.round_id is not None
    assert bookings.waitlist_position(db, booking) is None
    page = client.get(f"/bookings/{booking.id}").text
    assert "på ventelisten" not in page and "Med i lodtrækningen" in page


def test_a_passed_free_cancellation_deadline_is_told_before_booking(client, db, settings):
    offer, session = girls_day(db, days=3)  # 10 weekdays to cancel without a reason: already passed
    teacher = make_user(db, "teacher", organisation=make_school(db))
    log_in(client, db, teacher, settings)
    form = client.get(f"/sessions/{session.id}/book").text
    assert "Fristen for at afbestille uden begrundelse udløb" in form
    offer.cancellation_weekdays = 0
    db.add(offer)
    db.commit()
    assert "Fristen for at afbestille uden begrundelse udløb" not in client.get(f"/sessions/{session.id}/book").text


@pytest.mark.parametrize("pupils", [5, 13, 14, 30, 70])
def test_the_live_check_and_the_booking_agree(client, db, settings, pupils):
    """Whatever the live check refuses, the booking refuses with the same words, and vice versa."""
    _offer, session = girls_day(db, capacity=60, min_pupils=12, max_pupils=28)
    school = make_school(db)
    teacher = make_user(db, "teacher", organisation=school)
    _o, other = girls_day(db)
    bookings.book_session(db, teacher, BookingIn(session_id=other.id, class_name="9.a", grade=9, pupils=14), now=utcnow())
    if pupils == 13:
        cap_of(db, session, 1)
    obstacle = bookings.booking_obstacle(db, teacher, session.id, pupils, now=utcnow())
    try:
        bookings.book_session(db, teacher, BookingIn(session_id=session.id, class_name="8.c", grade=8, pupils=pupils), now=utcnow())
        refused = None
    except bookings.DomainError as error:
        db.rollback()
        refused = error.message
    assert obstacle == refused
