"""Safer, quicker staff work (issue 16, item 5): the approval queue most urgent first, a reason to
decline (one booking or many, nothing half-saved), and a step that says what will happen before a
booking or a date is cancelled or a limit or a holiday deleted."""

import re
from datetime import date, timedelta

from sqlmodel import select

from app.accounts.models import Organisation
from app.bookings import service as bookings
from app.bookings.models import BookingStatus, SchoolCap
from app.bookings.schemas import BookingIn
from app.catalogue.models import OfferType, SchoolHoliday
from app.db import utcnow
from app.errors import InvalidInput
from app.notifications.models import Notification
from tests.factories import log_in, make_school, make_user, post_form, published_session


def _book(db, session, n: int):
    teachers = [make_user(db, "teacher", organisation=make_school(db, municipality="Aarhus")) for _ in range(n)]
    return [
        bookings.book_session(db, t, BookingIn(session_id=session.id, class_name=f"{i + 4}.a", grade=5, pupils=3), now=utcnow())
        for i, t in enumerate(teachers)
    ]


def test_the_queue_shows_the_booking_whose_approval_deadline_comes_first_at_the_top(client, db, settings):
    _offer, session = published_session(db)
    made = _book(db, session, 3)
    # The one booked last must be decided first (its date is near, say), the first booked last.
    for booking, hours in zip(made, (30, 20, 2), strict=True):
        booking.hold_until = utcnow() + timedelta(hours=hours)
        db.add(booking)
    db.commit()
    coordinator = make_user(db, "coordinator", municipality="Aarhus")
    items, _total = bookings.list_bookings(db, coordinator, status=BookingStatus.pending, most_urgent_first=True)
    assert [b.id for b in items] == [made[2].id, made[1].id, made[0].id]

    log_in(client, db, coordinator, settings)
    queue = client.get("/bookings").text
    order = [int(i) for i in re.findall(r'name="booking_ids" value="(\d+)"', queue)]
    assert order == [made[2].id, made[1].id, made[0].id]
    assert "De mest presserende først" in queue  # the page says what the order is
    assert 'class="bulk-bar"' in queue and 'data-select-all="booking_ids" hidden' in queue


def test_a_decline_without_a_reason_is_refused_and_nothing_changes(client, db, settings):
    offer, session = published_session(db)
    (booking,) = _book(db, session, 1)
    coordinator = make_user(db, "coordinator", municipality="Aarhus")
    for blank in ("", "   "):
        try:
            bookings.decline_booking(db, coordinator, booking.id, reason=blank, now=utcnow())
        except InvalidInput as error:
            db.rollback()
            assert error.field == "reason"
        else:
            raise AssertionError("declined without a reason")
    events = len(bookings.history(db, booking))

    log_in(client, db, coordinator, settings)
    refused = post_form(client, f"/bookings/{booking.id}/decline", {"reason": " "})
    assert refused.status_code == 422 and 'id="decline-reason-error"' in refused.text
    assert "Skriv til læreren, hvorfor bookingen afvises." in refused.text
    db.refresh(booking)
    assert booking.status == BookingStatus.pending and len(bookings.history(db, booking)) == events
    assert not db.exec(select(Notification).where(Notification.kind == "declined")).first()


def test_a_bulk_decline_needs_a_reason_and_then_declines_every_chosen_booking(client, db, settings):
    _offer, session = published_session(db)
    made = _book(db, session, 3)
    log_in(client, db, make_user(db, "coordinator", municipality="Aarhus"), settings)
    chosen = [str(made[0].id), str(made[1].id)]
    back = "status=pending&type=course"

    refused = post_form(client, "/bookings/decline", {"booking_ids": chosen, "reason": "", "back": back})
    assert refused.status_code == 422
    assert re.search(r'<p class="field-error" id="bulk-reason-error">.*Skriv til læreren', refused.text)
    assert 'aria-describedby="bulk-reason-error" aria-invalid="true"' in refused.text
    for booking_id in chosen:  # still ticked, so one more try needs only the reason
        assert f'value="{booking_id}" id="pick-{booking_id}" checked' in refused.text
    assert f'value="{made[2].id}" id="pick-{made[2].id}">' in refused.text
    assert f'name="back" value="{back.replace("&", "&amp;")}"' in refused.text
    for booking in made:
        db.refresh(booking)
        assert booking.status == BookingStatus.pending  # nothing half-saved

    done = post_form(client, "/bookings/decline", {"booking_ids": chosen, "reason": "Kun for 7. klasse", "back": back})
    assert done.headers["location"] == "/bookings?status=pending&type=course&notice=bulk_declined"
    for booking in made:
        db.refresh(booking)
    assert [b.status for b in made] == [BookingStatus.declined, BookingStatus.declined, BookingStatus.pending]
    assert made[0].reason == "Kun for 7. klasse"
    assert post_form(client, "/bookings/decline", {"reason": "x"}).headers["location"] == "/bookings?notice=bulk_decline_none_chosen"
    again = post_form(client, "/bookings/decline", {"booking_ids": chosen, "reason": "x"})
    assert again.headers["location"] == "/bookings?notice=bulk_decline_none"


def test_cancelling_a_booking_first_says_what_goes_and_who_is_told(client, db, settings):
    offer, session = published_session(db)
    (booking,) = _book(db, session, 1)
    teacher = make_user(db, "teacher", organisation=make_school(db))
    booking.teacher_id, booking.school_id = teacher.id, teacher.organisation_id
    db.add(booking)
    db.commit()
    log_in(client, db, teacher, settings)
    step = client.get(f"/bookings/{booking.id}/cancel")
    assert step.status_code == 200
    text = step.text
    assert "<h1 id=\"confirm-title\">Afbestil bookingen?</h1>" in text
    assert "Vandets kredsløb" in text and "4.a" in text and "afbestilles" in text
    assert "Skolens lærer og udbyderen får besked i indbakken og på e-mail." in text
    assert f'<form method="post" action="/bookings/{booking.id}/cancel"' in text
    assert '<button type="submit" class="danger">Afbestil booking</button>' in text
    assert f'<a href="/bookings/{booking.id}" data-confirm-cancel>Fortryd</a>' in text
    db.refresh(booking)
    assert booking.status == BookingStatus.pending  # looking is not cancelling

    # The POST acts alone, as before (the API and hand-made clients do not need the step).
    assert post_form(client, f"/bookings/{booking.id}/cancel", {"reason": ""}).status_code == 303
    db.refresh(booking)
    assert booking.status == BookingStatus.cancelled
    assert client.get(f"/bookings/{booking.id}/cancel").status_code == 409  # nothing left to cancel


def test_deleting_a_limit_or_a_holiday_and_cancelling_a_date_ask_first(client, db, settings):
    cap = SchoolCap(offer_type=OfferType.girls_day, school_year=2030, municipality="Aarhus", max_bookings=2)
    holiday = SchoolHoliday(name="Vinterferie", municipality=None, starts_on=date(2030, 2, 11), ends_on=date(2030, 2, 15))
    db.add_all([cap, holiday])
    db.commit()
    log_in(client, db, make_user(db, "coordinator"), settings)

    caps = client.get("/admin/caps").text
    assert f'href="/admin/caps/{cap.id}/delete" class="danger" data-confirm-open' in caps
    assert f'action="/admin/caps/{cap.id}/delete"' not in caps  # no button that deletes at once
    step = client.get(f"/admin/caps/{cap.id}/delete").text
    assert "Slet loftet?" in step and "Loftet på 2 bookinger pr. skole af typen Girls Day in Science i skoleåret 2030/31 (Aarhus) slettes." in step and "Aarhus" in step
    assert "Ingen får besked." in step and 'href="/admin/caps" data-confirm-cancel>Fortryd</a>' in step
    assert db.get(SchoolCap, cap.id) is not None
    assert post_form(client, f"/admin/caps/{cap.id}/delete").headers["location"] == "/admin/caps?notice=deleted"
    assert db.get(SchoolCap, cap.id) is None

    holidays = client.get("/admin/holidays").text
    assert f'href="/admin/holidays/{holiday.id}/delete" class="danger" data-confirm-open' in holidays
    step = client.get(f"/admin/holidays/{holiday.id}/delete").text
    assert "Slet ferien?" in step and "Vinterferie" in step and "hele regionen" in step
    assert '<button type="submit" class="danger">Slet ferien</button>' in step
    assert post_form(client, f"/admin/holidays/{holiday.id}/delete").status_code == 303
    assert db.get(SchoolHoliday, holiday.id) is None

    offer, session = published_session(db)
    _book(db, session, 1)
    log_in(client, db, make_user(db, "provider", organisation=db.get(Organisation, offer.provider_id)), settings)
    dates = client.get(f"/provider/offers/{offer.id}/sessions").text
    assert f'href="/provider/sessions/{session.id}/cancel" class="danger" data-confirm-open' in dates
    step = client.get(f"/provider/sessions/{session.id}/cancel").text
    assert "1 klasse er booket." in step and "hver lærer får besked" in step
    assert f'href="/provider/offers/{offer.id}/sessions" data-confirm-cancel>Fortryd</a>' in step


def test_another_municipalitys_limit_has_no_confirmation_page_for_a_coordinator(client, db, settings):
    cap = SchoolCap(offer_type=OfferType.course, school_year=2030, municipality="Aarhus", max_bookings=2)
    db.add(cap)
    db.commit()
    log_in(client, db, make_user(db, "coordinator", municipality="Herning"), settings)
    assert client.get(f"/admin/caps/{cap.id}/delete").status_code == 404
