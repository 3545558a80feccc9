"""The shift pages (issue 14): a mentor finds, takes and leaves a shift and reads the visit; the
provider's staff put mentors on a date and take them off."""

from datetime import timedelta

from sqlmodel import select

from app.accounts.models import Organisation, Role
from app.bookings.models import Booking, BookingStatus
from app.catalogue.models import Offer
from app.db import utcnow
from app.mentors.models import MentorProfile, Shift, ShiftStatus
from app.notifications.models import OutboxMessage
from tests.factories import log_in, make_mentor, make_school, make_user, mentoring_date, post_form


def staff_of(db, date_):
    offer = db.get(Offer, date_.offer_id)
    return make_user(db, Role.provider, organisation=db.get(Organisation, offer.provider_id))


def test_a_mentor_takes_a_shift_accepting_the_code_of_conduct_and_sees_the_visit(client, db, settings):
    date_ = mentoring_date(db, mentors_min=2)
    school = make_school(db)
    school.address = "Skolevej 1, 8000 Aarhus C"
    teacher = make_user(db, Role.teacher, organisation=school)
    teacher.phone = "+45 12 34 56 78"
    db.add(Booking(session_id=date_.id, school_id=school.id, teacher_id=teacher.id, class_name="8.b", grade=8,
                   pupils=24, status=BookingStatus.confirmed, created_at=utcnow(), updated_at=utcnow()))
    db.commit()
    mentor = make_mentor(db, conduct=False)
    client.headers["Accept-Language"] = "da"
    log_in(client, db, mentor, settings)

    listing = client.get("/mentor/shifts")
    assert listing.status_code == 200 and f"/mentor/shifts/{date_.id}" in listing.text and "0 af 2" in listing.text
    before = client.get(f"/mentor/shifts/{date_.id}")
    assert "alene med elever" in before.text  # the code of conduct, repeated on every shift page
    assert "+45 12 34 56 78" not in before.text  # the school's contact is for those who come

    refused = post_form(client, f"/mentor/shifts/{date_.id}/signup")
    assert refused.status_code == 422 and "adfærdskodeks" in refused.text.lower()
    assert db.exec(select(Shift)).all() == []
    taken = post_form(client, f"/mentor/shifts/{date_.id}/signup", {"accepts_code_of_conduct": "1"})
    assert taken.status_code == 303
    taken = client.get(taken.headers["location"])
    assert "1 af 2" in taken.text
    assert "Skolevej 1" in taken.text and "+45 12 34 56 78" in taken.text and "8.b" in taken.text

    again = post_form(client, f"/mentor/shifts/{date_.id}/signup")
    assert again.status_code == 409
    left = post_form(client, f"/mentor/shifts/{date_.id}/leave")
    assert left.status_code == 303
    assert db.exec(select(Shift.status)).all() == [ShiftStatus.left]


def test_leaving_late_asks_for_a_reason_in_danish(client, db, settings):
    date_ = mentoring_date(db, starts_at=utcnow().replace(microsecond=0) + timedelta(hours=30))
    mentor = make_mentor(db)
    client.headers["Accept-Language"] = "da"
    log_in(client, db, mentor, settings)
    assert post_form(client, f"/mentor/shifts/{date_.id}/signup").status_code == 303
    refused = post_form(client, f"/mentor/shifts/{date_.id}/leave", {"reason": " "})
    assert refused.status_code == 422 and "timer før" in refused.text
    assert db.exec(select(Shift.status)).all() == [ShiftStatus.signed_up]
    assert post_form(client, f"/mentor/shifts/{date_.id}/leave", {"reason": "Syg"}).status_code == 303


def test_a_mentor_waiting_for_approval_is_told_so(client, db, settings):
    mentoring_date(db)
    log_in(client, db, make_mentor(db, status="awaiting_approval"), settings)
    client.headers["Accept-Language"] = "da"
    page = client.get("/mentor/shifts")
    assert page.status_code == 200 and "godkendt" in page.text and "/mentor/shifts/" not in page.text


def test_the_provider_puts_a_mentor_on_their_date_and_takes_them_off(client, db, settings):
    date_ = mentoring_date(db)
    staff = staff_of(db, date_)
    mentor = make_mentor(db)
    log_in(client, db, staff, settings)
    page = client.get(f"/provider/sessions/{date_.id}/mentors")
    assert page.status_code == 200 and mentor.name.split()[0] in page.text
    assert mentor.email not in page.text
    assert post_form(client, f"/provider/sessions/{date_.id}/mentors", {"mentor_id": "abc"}).status_code == 422
    assert post_form(client, f"/provider/sessions/{date_.id}/mentors", {"mentor_id": str(mentor.id)}).status_code == 303
    shift = db.exec(select(Shift)).one()
    assert (shift.mentor_id, shift.assigned_by_id) == (mentor.id, staff.id)
    assert post_form(client, f"/provider/shifts/{shift.id}/remove", {"reason": "Ændret plan"}).status_code == 303
    db.refresh(shift)
    assert shift.status == ShiftStatus.removed

    other = make_user(db, Role.provider)
    log_in(client, db, other, settings)
    assert client.get(f"/provider/sessions/{date_.id}/mentors").status_code == 404


def test_a_mentor_asks_for_the_links_again_but_not_every_minute(client, db, settings):
    mentor = make_mentor(db, status="awaiting_consent")
    profile = db.get(MentorProfile, mentor.id)
    profile.guardian_email = "mor@example.dk"
    db.commit()
    log_in(client, db, mentor, settings)
    page = client.get("/mentor/shifts")
    assert 'action="/mentor/verify/resend"' in page.text and 'action="/mentor/consent/resend"' in page.text

    assert post_form(client, "/mentor/verify/resend").status_code == 303
    assert post_form(client, "/mentor/verify/resend").status_code == 422  # a few minutes ago
    assert post_form(client, "/mentor/consent/resend").status_code == 303
    assert post_form(client, "/mentor/consent/resend").status_code == 422
    sent = db.exec(select(OutboxMessage.to_address).order_by(OutboxMessage.id)).all()
    assert sent == [mentor.email, "mor@example.dk"]
