"""Shifts (issue 14): which dates a mentor sees, and the rules of taking and leaving one."""

from datetime import UTC, date, datetime, timedelta

import pytest
from icalendar import Calendar
from sqlmodel import func, select

from app.accounts.models import Organisation, Role
from app.bookings.models import Booking, BookingStatus
from app.calendar.booking_files import booking_file
from app.catalogue import service as catalogue
from app.catalogue.models import Offer, OfferTheme, Theme
from app.db import utcnow
from app.mentors import shifts
from app.mentors.models import MentorProfile, Shift, ShiftStatus
from app.notifications.models import Notification
from tests.factories import (
    api_headers,
    make_institution,
    make_mentor,
    make_user,
    mentoring_date,
)

NOW = datetime(2027, 3, 1, 9, tzinfo=UTC)
SOON = NOW + timedelta(days=20)


def soon() -> datetime:
    """For the API's tests, whose log-in tokens are made at the present time."""
    return utcnow().replace(microsecond=0) + timedelta(days=20)


def open_ids(db, mentor) -> list[int]:
    rows, total = shifts.open_shifts(db, mentor, now=NOW)
    assert total == len(rows)
    return [row.session_id for row in rows]


def test_a_mentor_sees_the_dates_of_their_level_reach_and_themes_without_clashes(db):
    pupil_mentor = make_mentor(db, reach=("Aarhus", "Skanderborg"), themes=("health",))
    student = make_mentor(db, institution=make_institution(db, higher_education=True), reach=("Aarhus",))
    primary = mentoring_date(db, starts_at=SOON, grades=(9, 10))
    upper = mentoring_date(db, starts_at=SOON + timedelta(days=1), grades=(11, 12))
    both = mentoring_date(db, starts_at=SOON + timedelta(days=2), grades=(9, 12))
    far = mentoring_date(db, starts_at=SOON + timedelta(days=3), municipality="Thisted")
    other_theme = mentoring_date(db, starts_at=SOON + timedelta(days=4))
    db.add(OfferTheme(offer_id=other_theme.offer_id, theme=Theme.ict))
    health = mentoring_date(db, starts_at=SOON + timedelta(days=5))
    db.add(OfferTheme(offer_id=health.offer_id, theme=Theme.health))
    past = mentoring_date(db, starts_at=NOW - timedelta(days=1))
    full = mentoring_date(db, starts_at=SOON + timedelta(days=6), mentors_max=1)
    db.commit()
    shifts.sign_up(db, make_mentor(db), full.id, now=NOW)

    assert open_ids(db, pupil_mentor) == [primary.id, both.id, health.id]
    assert open_ids(db, student) == [upper.id, both.id]
    assert far.id not in open_ids(db, student) and past.id not in open_ids(db, student)
    assert shifts.open_shifts(db, student, now=NOW, limit=1, offset=1)[0][0].session_id == both.id
    assert shifts.open_shifts(db, student, now=NOW, offset=5) == ([], 2)  # past the last page

    # A date at the same time as one of theirs is no longer offered, nor the one they took.
    clash = mentoring_date(db, starts_at=SOON + timedelta(hours=1))
    shifts.sign_up(db, pupil_mentor, primary.id, now=NOW)
    assert open_ids(db, pupil_mentor) == [both.id, health.id]
    assert clash.id not in open_ids(db, pupil_mentor)


def test_pupils_under_15_need_a_current_child_certificate(db):
    young = mentoring_date(db, starts_at=SOON, grades=(5, 7))
    later = mentoring_date(db, starts_at=SOON + timedelta(days=200), grades=(5, 7))
    without = make_mentor(db)
    with_certificate = make_mentor(db, certificate_until=(SOON + timedelta(days=100)).date())

    assert young.id not in open_ids(db, without)
    with pytest.raises(shifts.Conflict, match="under 15 år"):
        shifts.sign_up(db, without, young.id, now=NOW)
    assert open_ids(db, with_certificate) == [young.id]  # the later date is after it runs out
    with pytest.raises(shifts.Conflict, match="under 15 år"):
        shifts.sign_up(db, with_certificate, later.id, now=NOW)
    assert shifts.sign_up(db, with_certificate, young.id, now=NOW).status == ShiftStatus.signed_up


def test_never_more_than_the_most_mentors_nor_one_mentor_twice_at_once(db):
    date_ = mentoring_date(db, starts_at=SOON, mentors_max=2)
    same_time = mentoring_date(db, starts_at=SOON + timedelta(minutes=30))
    first, second, third = (make_mentor(db) for _ in range(3))
    shifts.sign_up(db, first, date_.id, now=NOW)
    with pytest.raises(shifts.Conflict, match="allerede tilmeldt"):
        shifts.sign_up(db, first, date_.id, now=NOW)
    with pytest.raises(shifts.Conflict, match="anden vagt på samme tidspunkt"):
        shifts.sign_up(db, first, same_time.id, now=NOW)
    shifts.sign_up(db, second, date_.id, now=NOW)
    with pytest.raises(shifts.Conflict, match="alle de mentorer"):
        shifts.sign_up(db, third, date_.id, now=NOW)
    assert shifts.signed_counts(db, [date_.id]) == {date_.id: 2}


@pytest.mark.parametrize("status", ["awaiting_consent", "awaiting_approval", "paused", "rejected", "retired"])
def test_only_an_approved_mentor_takes_shifts(db, status):
    date_ = mentoring_date(db, starts_at=SOON)
    with pytest.raises(shifts.Forbidden):
        shifts.sign_up(db, make_mentor(db, status=status), date_.id, now=NOW)
    with pytest.raises(shifts.Forbidden):
        shifts.open_shifts(db, make_mentor(db, status=status), now=NOW)
    assert db.exec(select(func.count()).select_from(Shift)).one() == 0


def test_the_code_of_conduct_is_accepted_before_the_first_shift(db):
    date_ = mentoring_date(db, starts_at=SOON)
    mentor = make_mentor(db, conduct=False)
    with pytest.raises(shifts.InvalidInput) as refused:
        shifts.sign_up(db, mentor, date_.id, now=NOW)
    assert refused.value.field == "accepts_code_of_conduct"
    shifts.sign_up(db, mentor, date_.id, now=NOW, accepts_code_of_conduct=True)
    profile = db.get(MentorProfile, mentor.id)
    assert profile.conduct_version and profile.conduct_accepted_at == NOW


def test_leaving_is_free_until_the_deadline_then_needs_a_reason_and_tells_the_provider(db, settings):
    early = mentoring_date(db, starts_at=NOW + timedelta(days=4))
    offer = db.get(Offer, early.offer_id)
    late = mentoring_date(db, starts_at=NOW + timedelta(hours=settings.shift_leave_hours - 1), offer=offer)
    mentor = make_mentor(db)
    provider_user = make_user(db, Role.provider, organisation=db.get(Organisation, offer.provider_id))
    for date_ in (early, late):
        shifts.sign_up(db, mentor, date_.id, now=NOW)

    assert shifts.leave(db, mentor, early.id, reason="", now=NOW, settings=settings).status == ShiftStatus.left
    with pytest.raises(shifts.InvalidInput) as refused:
        shifts.leave(db, mentor, late.id, reason="  ", now=NOW, settings=settings)
    assert refused.value.field == "reason"
    shifts.leave(db, mentor, late.id, reason="Syg", now=NOW, settings=settings)
    told = db.exec(select(Notification).where(Notification.user_id == provider_user.id).order_by(Notification.id)).all()
    assert [n.kind for n in told] == ["mentor_left", "mentor_left"] and "Syg" in told[1].body
    # The place is free again, and the mentor can come back.
    assert shifts.signed_counts(db, [late.id]) == {}
    shifts.sign_up(db, mentor, late.id, now=NOW)


def _offer_provider(db, session) -> int:
    return db.get(Offer, session.offer_id).provider_id


def test_the_provider_assigns_and_removes_mentors_on_their_own_dates_only(db):
    date_ = mentoring_date(db, starts_at=SOON)
    staff = make_user(db, Role.provider)
    staff.organisation_id = _offer_provider(db, date_)
    db.add(staff)
    db.commit()
    other_staff = make_user(db, Role.provider)
    mentor = make_mentor(db)

    with pytest.raises(shifts.NotFound):
        shifts.assign(db, other_staff, date_.id, mentor.id, now=NOW)
    with pytest.raises(shifts.InvalidInput):
        shifts.assign(db, staff, date_.id, make_mentor(db, status="paused").id, now=NOW)
    shift = shifts.assign(db, staff, date_.id, mentor.id, now=NOW)
    assert shift.assigned_by_id == staff.id
    with pytest.raises(shifts.NotFound):
        shifts.remove(db, other_staff, shift.id, reason="", now=NOW)
    shifts.remove(db, staff, shift.id, reason="Aflyst klasse", now=NOW)
    kinds = db.exec(select(Notification.kind).where(Notification.user_id == mentor.id)).all()
    assert kinds == ["shift_assigned", "shift_removed"]


def test_dropping_future_shifts_keeps_the_past(db):
    mentor = make_mentor(db)
    ahead = mentoring_date(db, starts_at=SOON)
    done = mentoring_date(db, starts_at=NOW - timedelta(days=3))
    db.add(Shift(session_id=done.id, mentor_id=mentor.id, status=ShiftStatus.completed, minutes=120, created_at=NOW, updated_at=NOW))
    db.commit()
    shifts.sign_up(db, mentor, ahead.id, now=NOW)
    assert shifts.drop_future_shifts(db, mentor.id, now=NOW, reason="Pause") == 1
    db.commit()
    statuses = {s.session_id: s.status for s in db.exec(select(Shift).where(Shift.mentor_id == mentor.id))}
    assert statuses == {ahead.id: ShiftStatus.left, done.id: ShiftStatus.completed}


# --- the API --------------------------------------------------------------------------------


def test_the_api_lists_takes_and_leaves_shifts(client, db, settings):
    mentor = make_mentor(db)
    date_ = mentoring_date(db, starts_at=soon(), mentors_min=2, mentors_max=3)
    headers = api_headers(db, mentor, settings)

    listed = client.get("/api/v1/shifts", headers=headers)
    assert listed.status_code == 200, listed.text
    listed = listed.json()
    assert listed["total"] == 1
    item = listed["items"][0]
    assert (item["session_id"], item["mentors_min"], item["mentors_max"], item["mentors_signed"]) == (date_.id, 2, 3, 0)

    taken = client.post(f"/api/v1/shifts/{date_.id}/signup", headers=headers)
    assert taken.status_code == 201, taken.text
    assert taken.json()["status"] == "signed_up"
    again = client.post(f"/api/v1/shifts/{date_.id}/signup", headers=headers)
    assert again.status_code == 409
    session = client.get(f"/api/v1/sessions/{date_.id}").json()
    assert (session["mentors_min"], session["mentors_max"], session["mentors_signed"]) == (2, 3, 1)

    mine = client.get("/api/v1/me/shifts", headers=headers).json()
    assert [(s["session_id"], s["status"], s["hours"]) for s in mine["items"]] == [(date_.id, "signed_up", None)]
    left = client.post(f"/api/v1/shifts/{date_.id}/leave", headers=headers, json={"reason": ""})
    assert left.status_code == 200 and left.json()["status"] == "left"
    assert client.get("/api/v1/me/shifts", headers=headers).json()["total"] == 0


def test_the_api_refuses_naming_the_reason(client, db, settings):
    date_ = mentoring_date(db, starts_at=soon())
    waiting = make_mentor(db, status="awaiting_approval")
    teacher = make_user(db, Role.teacher)
    assert client.post(f"/api/v1/shifts/{date_.id}/signup", headers=api_headers(db, waiting, settings)).status_code == 403
    assert client.get("/api/v1/shifts", headers=api_headers(db, teacher, settings)).status_code == 403
    assert client.post("/api/v1/shifts/999999/signup", headers=api_headers(db, make_mentor(db), settings)).status_code == 404
    unaccepted = api_headers(db, make_mentor(db, conduct=False), settings)
    refused = client.post(f"/api/v1/shifts/{date_.id}/signup", headers=unaccepted)
    assert refused.status_code == 422 and "accepts_code_of_conduct" in refused.text
    accepted = client.post(f"/api/v1/shifts/{date_.id}/signup", headers=unaccepted, json={"accepts_code_of_conduct": True})
    assert accepted.status_code == 201
    late = mentoring_date(db, starts_at=utcnow() + timedelta(hours=5))
    mentor = make_mentor(db)
    headers = api_headers(db, mentor, settings)
    assert client.post(f"/api/v1/shifts/{late.id}/signup", headers=headers).status_code == 201
    no_reason = client.post(f"/api/v1/shifts/{late.id}/leave", headers=headers)
    assert no_reason.status_code == 422 and "reason" in no_reason.text


def test_a_mentoring_date_takes_one_mentor_unless_told_and_others_none(client, db, settings):
    date_ = mentoring_date(db, starts_at=soon())
    staff = make_user(db, Role.provider)
    staff.organisation_id = _offer_provider(db, date_)
    db.add(staff)
    db.commit()
    headers = api_headers(db, staff, settings)
    starts = (soon() + timedelta(days=7)).replace(hour=9)
    made = client.post(
        f"/api/v1/offers/{date_.offer_id}/sessions",
        headers=headers,
        json={"starts_at": starts.isoformat(), "ends_at": (starts + timedelta(hours=2)).isoformat(), "capacity_pupils": 25},
    )
    assert made.status_code == 201, made.text
    assert (made.json()["mentors_min"], made.json()["mentors_max"]) == (1, 1)
    wrong = client.post(
        f"/api/v1/offers/{date_.offer_id}/sessions",
        headers=headers,
        json={
            "starts_at": (starts + timedelta(days=1)).isoformat(),
            "ends_at": (starts + timedelta(days=1, hours=2)).isoformat(),
            "capacity_pupils": 25,
            "mentors_min": 3,
            "mentors_max": 2,
        },
    )
    assert wrong.status_code == 422 and "mentors_max" in wrong.text


def test_birth_dates_never_reach_the_session_answer(client, db):
    date_ = mentoring_date(db, starts_at=soon())
    mentor = make_mentor(db)
    db.get(MentorProfile, mentor.id).birth_date = date(2009, 1, 1)
    db.commit()
    shifts.sign_up(db, mentor, date_.id, now=utcnow())
    answer = client.get(f"/api/v1/sessions/{date_.id}").text
    assert "2009" not in answer and mentor.email not in answer


def test_a_date_called_off_takes_its_mentors_off_and_tells_them(db):
    date_ = mentoring_date(db, starts_at=SOON)
    staff = make_user(db, Role.provider)
    staff.organisation_id = _offer_provider(db, date_)
    db.add(staff)
    db.commit()
    mentor = make_mentor(db)
    shifts.sign_up(db, mentor, date_.id, now=NOW)
    catalogue.cancel_session(db, staff, date_.id, now=NOW)
    assert db.exec(select(Shift.status)).all() == [ShiftStatus.removed]
    assert db.exec(select(Notification.kind).where(Notification.user_id == mentor.id)).all() == ["shift_date_cancelled"]


def test_the_bookings_calendar_file_names_the_mentors_as_schools_see_them(db):
    date_ = mentoring_date(db, starts_at=SOON)
    teacher = make_user(db, Role.teacher)
    booking = Booking(session_id=date_.id, school_id=teacher.organisation_id, teacher_id=teacher.id, class_name="9.a",
                      grade=9, pupils=20, status=BookingStatus.confirmed, created_at=NOW, updated_at=NOW)
    db.add(booking)
    db.commit()
    mentor = make_mentor(db)
    mentor.name = "Sara Sørensen"
    db.commit()
    shifts.sign_up(db, mentor, date_.id, now=NOW)
    calendar = Calendar.from_ical(booking_file(db, booking, organizer="portal@example.dk", base_url="http://x", now=NOW))
    description = str(calendar.walk("VEVENT")[0]["DESCRIPTION"])
    assert "Sara, Gymnasium" in description and "STX, fysik A" in description
    assert "Sørensen" not in description and mentor.email not in description
