"""Booking through the pages, as a teacher and a coordinator use them without JavaScript."""

import re
from datetime import timedelta

from sqlmodel import col, select

from app.accounts.models import Organisation
from app.bookings import service as bookings
from app.bookings.models import Booking, BookingStatus
from app.bookings.schemas import BookingIn
from app.db import utcnow
from app.notifications.models import Notification
from tests.factories import (
    csrf,
    log_in,
    make_school,
    make_user,
    post_form,
    published_session,
)


def test_teacher_books_coordinator_approves_teacher_cancels(client, db, settings):
    offer, session = published_session(db)
    teacher = make_user(db, "teacher", organisation=make_school(db, municipality="Aarhus"))
    log_in(client, db, teacher, settings)
    offer_page = client.get(f"/offers/{offer.id}").text
    assert f"/sessions/{session.id}/book" in offer_page and "30 af 30" in offer_page

    form = client.get(f"/sessions/{session.id}/book").text
    key = re.search(r'name="idempotency_key" value="([^"]+)"', form).group(1)
    too_many = post_form(client, f"/sessions/{session.id}/book", {"class_name": "6.a", "grade": "6", "pupils": "31", "adults": "1", "idempotency_key": key})
    assert too_many.status_code == 422 and "venteliste" in too_many.text.lower()
    girls = post_form(client, f"/sessions/{session.id}/book", {"class_name": "6.a", "grade": "6", "pupils": "20", "girls": "21", "adults": "1", "idempotency_key": key})
    assert girls.status_code == 422 and 'href="#girls"' in girls.text and "Der kan ikke være flere piger end elever" in girls.text
    zero = post_form(client, f"/sessions/{session.id}/book", {"class_name": "6.a", "grade": "6", "pupils": "0", "adults": "1", "idempotency_key": key})
    assert zero.status_code == 422 and "Skriv et tal på mindst 1" in zero.text
    booked = post_form(client, f"/sessions/{session.id}/book", {"class_name": "6.a", "grade": "6", "pupils": "20", "girls": "11", "adults": "2", "idempotency_key": key})
    assert booked.status_code == 303
    again = post_form(client, f"/sessions/{session.id}/book", {"class_name": "6.a", "grade": "6", "pupils": "20", "girls": "11", "adults": "2", "idempotency_key": key})
    assert again.status_code == 303  # a second click books nothing more
    (booking,) = db.exec(select(Booking).where(Booking.school_id == teacher.organisation_id)).all()
    assert booking.status == BookingStatus.pending
    assert "Vandets kredsløb" in client.get("/bookings").text
    assert "10 af 30" in client.get(f"/offers/{offer.id}").text

    coordinator = make_user(db, "coordinator", municipality="Aarhus")
    log_in(client, db, coordinator, settings)
    queue = client.get("/bookings").text
    assert "6.a" in queue
    assert post_form(client, "/bookings/approve", {"booking_ids": [str(booking.id)]}).status_code == 303
    db.refresh(booking)
    assert booking.status == BookingStatus.confirmed
    # Decided already (another tab, another coordinator): the queue says so, and an error leads back.
    again = post_form(client, "/bookings/approve", {"booking_ids": [str(booking.id)]})
    assert again.headers["location"] == "/bookings?notice=bulk_none"
    assert post_form(client, "/bookings/approve", {}).headers["location"] == "/bookings?notice=bulk_none_chosen"
    refused = post_form(client, f"/bookings/{booking.id}/approve", headers={"Referer": "http://testserver/bookings?status=pending"})
    assert refused.status_code == 409 and 'href="/bookings?status=pending"' in refused.text
    elsewhere = post_form(client, f"/bookings/{booking.id}/approve", headers={"Referer": "http://testserver//evil.example/x"})
    assert "evil.example" not in elsewhere.text  # a path of two slashes would lead off the site

    log_in(client, db, teacher, settings)
    # to the step that tells the deadline, what goes and who is told (a dialog with JavaScript)
    assert f'href="/bookings/{booking.id}/cancel" class="danger" data-confirm-open' in client.get("/bookings").text
    assert f'href="/bookings/{booking.id}/cancel" class="button danger" data-confirm-open' in client.get(f"/bookings/{booking.id}").text
    assert post_form(client, f"/bookings/{booking.id}/cancel", {"reason": ""}).status_code == 303
    db.refresh(booking)
    assert booking.status == BookingStatus.cancelled


def test_booking_forms_are_only_for_teachers(client, db, settings):
    _offer, session = published_session(db)
    log_in(client, db, make_user(db, "provider"), settings)
    assert client.get(f"/sessions/{session.id}/book").status_code == 403
    client.cookies.clear()
    csrf(client)
    assert client.get(f"/sessions/{session.id}/book").status_code == 303


def test_provider_cancels_a_date_and_the_booked_teacher_is_told(client, db, settings, mailbox, send_outbox):
    offer, session = published_session(db)
    teacher = make_user(db, "teacher", organisation=make_school(db))
    log_in(client, db, teacher, settings)
    form = client.get(f"/sessions/{session.id}/book").text
    key = re.search(r'name="idempotency_key" value="([^"]+)"', form).group(1)
    post_form(client, f"/sessions/{session.id}/book", {"class_name": "5.a", "grade": "5", "pupils": "10", "adults": "1", "idempotency_key": key})

    provider = make_user(db, "provider", organisation=db.get(Organisation, offer.provider_id))
    log_in(client, db, provider, settings)
    dates = client.get(f"/provider/offers/{offer.id}/sessions").text
    assert f'href="/provider/sessions/{session.id}/cancel"' in dates  # a page that asks first, not a button that acts
    asks = client.get(f"/provider/sessions/{session.id}/cancel").text
    assert "1 klasse er booket" in asks and "Ja, aflys datoen" in asks
    assert post_form(client, f"/provider/sessions/{session.id}/cancel").status_code == 303
    (booking,) = db.exec(select(Booking).where(Booking.session_id == session.id)).all()
    db.refresh(booking)
    assert booking.status == BookingStatus.cancelled
    assert mailbox.to(teacher.email) == []  # written to the outbox, sent by the worker
    assert send_outbox() >= 1
    message = next(m for m in mailbox.to(teacher.email) if m["Subject"].startswith("Aflyst:"))
    assert "Vandets kredsløb" in message["Subject"] and "5.a" in message.get_body(("plain",)).get_content()
    assert "Aflyst af udbyderen" in client.get("/bookings?status=cancelled").text  # called off, not "afbestilt"


def test_a_class_on_the_waiting_list_of_a_cancelled_date_is_told_it_was_waiting(client, db, settings):
    offer, session = published_session(db, capacity=20)
    booked, waiting = (make_user(db, "teacher", organisation=make_school(db)) for _ in range(2))
    bookings.book_session(db, booked, BookingIn(session_id=session.id, class_name="5.a", grade=5, pupils=20), now=utcnow())
    bookings.book_session(db, waiting, BookingIn(session_id=session.id, class_name="6.b", grade=6, pupils=15, waitlist=True), now=utcnow())
    provider = make_user(db, "provider", organisation=db.get(Organisation, offer.provider_id))
    bookings.cancel_session_bookings(db, provider, session.id, now=utcnow())
    told = {n.user_id: n.body for n in db.exec(select(Notification).where(col(Notification.kind).like("date_cancelled%")))}
    assert "var booket til" not in told[waiting.id] and "6.b stod på ventelisten" in told[waiting.id]
    assert "5.a var booket til" in told[booked.id]


def test_a_waiting_teacher_is_offered_a_place_and_takes_it_on_the_booking_page(client, db, settings):
    offer, session = published_session(db, capacity=20)
    first = make_user(db, "teacher", organisation=make_school(db, municipality="Aarhus"))
    second = make_user(db, "teacher", organisation=make_school(db, municipality="Aarhus"))
    log_in(client, db, first, settings)
    post_form(client, f"/sessions/{session.id}/book", {"class_name": "5.a", "grade": "5", "pupils": "20", "adults": "1"})
    log_in(client, db, second, settings)
    waiting = post_form(client, f"/sessions/{session.id}/book", {"class_name": "5.b", "grade": "5", "pupils": "18", "adults": "1", "waitlist": "on"})
    assert waiting.status_code == 303 and waiting.headers["location"].endswith("notice=booked_waitlisted")
    page = client.get(waiting.headers["location"]).text
    assert "Står på venteliste" in page or "venteliste" in page.lower()
    assert "nr. 1 på ventelisten" in page

    log_in(client, db, first, settings)
    (mine,) = db.exec(select(Booking).where(Booking.school_id == first.organisation_id)).all()
    assert post_form(client, f"/bookings/{mine.id}/cancel", {"reason": ""}).status_code == 303

    log_in(client, db, second, settings)
    (theirs,) = db.exec(select(Booking).where(Booking.school_id == second.organisation_id)).all()
    inbox = client.get("/inbox").text
    assert "Der er en plads til jer" in inbox
    page = client.get(f"/bookings/{theirs.id}").text
    assert "Tag pladsen" in page and "Historik" in page
    taken = post_form(client, f"/bookings/{theirs.id}/accept")
    assert taken.status_code == 303
    db.refresh(theirs)
    assert theirs.status == BookingStatus.pending
    history = client.get(f"/bookings/{theirs.id}").text.split("Historik", 1)[1]
    # The whole story, oldest first: waiting, offered by the portal, accepted by the teacher.
    assert history.index("Står på venteliste") < history.index("Plads tilbudt") < history.rindex(second.name)
    calendar = client.get(f"/bookings/{theirs.id}.ics")
    assert calendar.status_code == 200 and b"BEGIN:VEVENT" in calendar.content


def test_coordinators_filter_bookings_by_type_municipality_and_date(client, db, settings):
    offer, session = published_session(db)
    aarhus = make_user(db, "teacher", organisation=make_school(db, municipality="Aarhus"))
    herning = make_user(db, "teacher", organisation=make_school(db, municipality="Herning"))
    for teacher, name in ((aarhus, "4.a"), (herning, "4.h")):
        log_in(client, db, teacher, settings)
        post_form(client, f"/sessions/{session.id}/book", {"class_name": name, "grade": "5", "pupils": "5", "adults": "1"})
    log_in(client, db, make_user(db, "coordinator"), settings)
    everyone = client.get("/bookings").text
    assert "4.a" in everyone and "4.h" in everyone
    # The filters are folded (on a phone the bookings come first), and open while one is chosen.
    assert '<details class="folded-filters">' in everyone
    only_herning = client.get("/bookings?municipality=Herning").text
    assert "4.h" in only_herning and "4.a" not in only_herning
    assert '<details class="folded-filters" open>' in only_herning and "(1 filter valgt)" in only_herning
    assert "4.a" not in client.get("/bookings?type=girls_day").text
    day = session.starts_at.date()
    assert "4.a" not in client.get(f"/bookings?starts_from={day + timedelta(days=2)}").text
    assert "4.a" in client.get(f"/bookings?starts_from={day - timedelta(days=1)}&starts_before={day + timedelta(days=1)}").text
    assert client.get("/bookings?starts_from=not-a-date&municipality=Atlantis").status_code == 200


def test_the_form_tells_live_whether_the_class_fits(client, db, settings):
    _offer, session = published_session(db, capacity=30)
    teacher = make_user(db, "teacher", organisation=make_school(db))
    log_in(client, db, teacher, settings)
    post_form(client, f"/sessions/{session.id}/book", {"class_name": "5.a", "grade": "5", "pupils": "20", "adults": "1"})
    fits = client.get(f"/sessions/{session.id}/places?pupils=10", headers={"HX-Request": "true"}).text
    assert "10 elever" in fits and "Der er plads til jeres 10 elever" in fits
    too_many = client.get(f"/sessions/{session.id}/places?pupils=11").text
    assert "venteliste" in too_many
    assert "plads til" not in client.get(f"/sessions/{session.id}/places?pupils=abc").text
    assert "plads til" not in client.get(f"/sessions/{session.id}/places?pupils=-3").text  # nothing to say of a minus
    form = client.get(f"/sessions/{session.id}/book").text  # the live region stays; only its contents change
    assert 'id="places" role="status" aria-live="polite"' in form and 'hx-swap="outerHTML"' not in form


def test_the_live_answer_tells_the_offers_limits_and_a_date_full_of_classes(client, db, settings):
    offer, session = published_session(db, capacity=100)
    offer.min_pupils, offer.max_pupils = 12, 28
    session.capacity_classes = 1
    db.add_all([offer, session])
    db.commit()
    teacher = make_user(db, "teacher", organisation=make_school(db))
    log_in(client, db, teacher, settings)
    assert "Mindst 12 elever pr. booking" in client.get(f"/sessions/{session.id}/places?pupils=5").text
    assert "Højst 28 elever pr. booking" in client.get(f"/sessions/{session.id}/places?pupils=40").text
    bookings.book_session(db, make_user(db, "teacher", organisation=make_school(db)), BookingIn(session_id=session.id, class_name="5.a", grade=5, pupils=20), now=utcnow())
    assert "Alle pladser til klasser er taget" in client.get(f"/sessions/{session.id}/places?pupils=20").text


def test_a_coordinator_declines_from_the_queue_with_a_reason_the_teacher_reads(client, db, settings):
    _offer, session = published_session(db)
    teacher = make_user(db, "teacher", organisation=make_school(db, municipality="Aarhus"))
    booking = bookings.book_session(db, teacher, BookingIn(session_id=session.id, class_name="6.a", grade=6, pupils=20), now=utcnow())
    log_in(client, db, make_user(db, "coordinator", municipality="Aarhus"), settings)
    assert f'id="decline-reason-{booking.id}"' in client.get("/bookings").text
    declined = post_form(client, f"/bookings/{booking.id}/decline", {"reason": "Kun for 7. klasse i år"})
    assert declined.status_code == 303
    db.refresh(booking)
    told = db.exec(select(Notification).where(Notification.user_id == teacher.id, Notification.kind == "declined")).one()
    assert booking.status == BookingStatus.declined and "Kun for 7. klasse i år" in told.body


def test_a_late_cancellation_without_a_reason_shows_the_booking_again_with_the_field_marked(client, db, settings):
    offer, session = published_session(db)
    offer.cancellation_weekdays = 45  # the date is 40 days away: the deadline has passed
    db.add(offer)
    db.commit()
    teacher = make_user(db, "teacher", organisation=make_school(db))
    booking = bookings.book_session(db, teacher, BookingIn(session_id=session.id, class_name="4.a", grade=4, pupils=20), now=utcnow())
    log_in(client, db, teacher, settings)
    assert "Fristen for at afbestille uden begrundelse udløb" in client.get(f"/bookings/{booking.id}").text
    refused = post_form(client, f"/bookings/{booking.id}/cancel", {"reason": ""})
    assert refused.status_code == 422 and 'aria-invalid="true"' in refused.text
    assert '<a href="#cancel-reason">Begrundelse for afbestilling: ' in refused.text  # the summary names the field
    assert "Vandets kredsløb" in refused.text  # the booking's own page, not an error page
    db.refresh(booking)
    assert booking.status == BookingStatus.pending  # nothing changed
    assert post_form(client, f"/bookings/{booking.id}/cancel", {"reason": "Bussen er aflyst"}).status_code == 303
    db.refresh(booking)
    assert booking.status == BookingStatus.cancelled and booking.late_cancellation


def test_before_the_deadline_the_booking_page_says_until_when_no_reason_is_needed(client, db, settings):
    _offer, session = published_session(db)
    teacher = make_user(db, "teacher", organisation=make_school(db))
    booking = bookings.book_session(db, teacher, BookingIn(session_id=session.id, class_name="4.a", grade=4, pupils=20), now=utcnow())
    log_in(client, db, teacher, settings)
    assert "I kan afbestille uden begrundelse indtil" in client.get(f"/bookings/{booking.id}").text


def test_a_decision_from_a_filtered_queue_comes_back_to_it_at_the_notice(client, db, settings):
    """The coordinator who filtered the queue (a type, a period) finds it filtered after approving
    or declining, with focus on the notice that says what was done; nothing else of the address
    the form carried comes along."""
    _offer, session = published_session(db)
    teachers = [make_user(db, "teacher", organisation=make_school(db, municipality="Aarhus")) for _ in range(3)]
    made = [
        bookings.book_session(db, t, BookingIn(session_id=session.id, class_name="7.a", grade=7, pupils=5), now=utcnow())
        for t in teachers
    ]
    coordinator = make_user(db, "coordinator", municipality="Aarhus")
    log_in(client, db, coordinator, settings)
    filtered = "status=pending&type=course&notice=booking_approved&next=%2F%2Fevil.example"
    queue = client.get(f"/bookings?{filtered}")
    assert f'name="back" value="{filtered.replace("&", "&amp;")}"' in queue.text
    assert re.search(r'<div class="notice" role="status" tabindex="-1" autofocus>', queue.text)

    approved = post_form(client, f"/bookings/{made[0].id}/approve", {"back": filtered})
    declined = post_form(client, f"/bookings/{made[1].id}/decline", {"back": filtered, "reason": "Fuldt"})
    bulk = post_form(client, "/bookings/approve", {"back": filtered, "booking_ids": [str(made[2].id)]})
    assert approved.headers["location"] == "/bookings?status=pending&type=course&notice=booking_approved"
    assert declined.headers["location"] == "/bookings?status=pending&type=course&notice=booking_declined"
    assert bulk.headers["location"] == "/bookings?status=pending&type=course&notice=bulk_approved"


def test_bulk_approval_approves_every_chosen_booking_of_the_coordinators_municipality(client, db, settings):
    _offer, session = published_session(db)
    local = [make_user(db, "teacher", organisation=make_school(db, municipality="Aarhus")) for _ in range(2)]
    elsewhere = make_user(db, "teacher", organisation=make_school(db, municipality="Skive"))
    made = [
        bookings.book_session(db, t, BookingIn(session_id=session.id, class_name="7.a", grade=7, pupils=5), now=utcnow())
        for t in (*local, elsewhere)
    ]
    log_in(client, db, make_user(db, "coordinator", municipality="Aarhus"), settings)
    both = post_form(client, "/bookings/approve", {"booking_ids": [str(made[0].id), str(made[1].id)]})
    assert both.headers["location"] == "/bookings?notice=bulk_approved"
    foreign = post_form(client, "/bookings/approve", {"booking_ids": [str(made[2].id)]})
    assert foreign.headers["location"] == "/bookings?notice=bulk_none"  # not theirs to approve
    for booking in made:
        db.refresh(booking)
    assert [b.status for b in made] == [BookingStatus.confirmed, BookingStatus.confirmed, BookingStatus.pending]


def test_a_reason_sent_twice_is_read_as_its_last_value(client, db, settings):
    offer, session = published_session(db)
    teachers = [make_user(db, "teacher", organisation=make_school(db)) for _ in range(2)]
    cancelled, declined = (
        bookings.book_session(db, t, BookingIn(session_id=session.id, class_name="4.a", grade=4, pupils=5), now=utcnow())
        for t in teachers
    )
    log_in(client, db, teachers[0], settings)
    assert post_form(client, f"/bookings/{cancelled.id}/cancel", {"reason": ["Syg", "Bussen er aflyst"]}).status_code == 303
    log_in(client, db, make_user(db, "provider", organisation=db.get(Organisation, offer.provider_id)), settings)
    assert post_form(client, f"/bookings/{declined.id}/decline", {"reason": ["Fuldt", "Kun 7. klasse"]}).status_code == 303
    db.refresh(cancelled)
    db.refresh(declined)
    assert (cancelled.status, cancelled.reason) == (BookingStatus.cancelled, "Bussen er aflyst")
    assert (declined.status, declined.reason) == (BookingStatus.declined, "Kun 7. klasse")


def test_a_reason_over_1000_characters_is_refused_on_the_booking_page_and_nothing_changes(client, db, settings):
    offer, session = published_session(db)
    teacher = make_user(db, "teacher", organisation=make_school(db))
    booking = bookings.book_session(db, teacher, BookingIn(session_id=session.id, class_name="4.a", grade=4, pupils=5), now=utcnow())
    events = len(bookings.history(db, booking))

    log_in(client, db, teacher, settings)
    too_long = post_form(client, f"/bookings/{booking.id}/cancel", {"reason": "R" * 1001})
    assert too_long.status_code == 422 and "Vandets kredsløb" in too_long.text  # the booking's own page
    assert '<a href="#cancel-reason">Begrundelse for afbestilling: Brug højst 1000 tegn.</a>' in too_long.text

    log_in(client, db, make_user(db, "provider", organisation=db.get(Organisation, offer.provider_id)), settings)
    too_long = post_form(client, f"/bookings/{booking.id}/decline", {"reason": "R" * 1001})
    assert too_long.status_code == 422 and "Vandets kredsløb" in too_long.text
    assert '<a href="#decline-reason">Begrundelse for afvisning: Brug højst 1000 tegn.</a>' in too_long.text
    assert 'id="cancel-reason-error"' not in too_long.text  # marked on the form that was sent only

    db.refresh(booking)
    assert (booking.status, booking.reason) == (BookingStatus.pending, "")
    assert len(bookings.history(db, booking)) == events
    assert post_form(client, f"/bookings/{booking.id}/decline", {"reason": "R" * 1000}).status_code == 303


def test_bulk_approval_skips_ids_too_large_for_the_database(client, db, settings):
    _offer, session = published_session(db)
    teachers = [make_user(db, "teacher", organisation=make_school(db, municipality="Aarhus")) for _ in range(2)]
    chosen, other = (
        bookings.book_session(db, t, BookingIn(session_id=session.id, class_name="7.a", grade=7, pupils=5), now=utcnow())
        for t in teachers
    )
    log_in(client, db, make_user(db, "coordinator", municipality="Aarhus"), settings)
    huge = ["9223372036854775808", str(10**20), str(2**31), "-1", "abc"]
    none = post_form(client, "/bookings/approve", {"booking_ids": huge})
    assert none.status_code == 303 and none.headers["location"] == "/bookings?notice=bulk_none"
    assert "Ingen af de valgte bookinger kunne godkendes" in client.get(none.headers["location"]).text
    partly = post_form(client, "/bookings/approve", {"booking_ids": [*huge, str(chosen.id)]})
    assert partly.headers["location"] == "/bookings?notice=bulk_partly"
    db.refresh(chosen)
    db.refresh(other)
    assert (chosen.status, other.status) == (BookingStatus.confirmed, BookingStatus.pending)


def test_the_booking_list_ignores_a_date_at_the_ends_of_the_calendar(client, db, settings):
    offer, session = published_session(db)
    teacher = make_user(db, "teacher", organisation=make_school(db, municipality="Aarhus"))
    data = BookingIn(session_id=session.id, class_name="6.q", grade=6, pupils=20)
    bookings.book_session(db, teacher, data, now=utcnow())
    provider = make_user(db, "provider", organisation=db.get(Organisation, offer.provider_id))
    coordinator = make_user(db, "coordinator")
    for user in (teacher, provider, coordinator):
        log_in(client, db, user, settings)
        for query in ("starts_from=0001-01-01", "starts_before=9999-12-31", "starts_from=9999-12-31&starts_before=0001-01-01"):
            page = client.get(f"/bookings?{query}")
            # Shown as without that filter, as an unknown state or kind of activity is.
            assert page.status_code == 200 and "6.q" in page.text, (user.role, query)
