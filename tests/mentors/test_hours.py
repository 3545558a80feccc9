"""A mentor's hours: shifts completed after their date (also over several days, never on a
cancelled one, once however many workers run), travel time added by the mentor and confirmed by
the provider's staff, hours per school year, and the pages for both."""

import threading
from datetime import UTC, datetime, timedelta

import pytest
from sqlmodel import Session, col, select

from app.accounts.models import Role
from app.bookings.models import Booking, BookingStatus
from app.catalogue.models import Offer, OfferSession, OfferStatus, OfferType
from app.db import make_engine
from app.deps import get_now
from app.errors import Conflict, InvalidInput, NotFound
from app.i18n import TIMEZONE
from app.mentors import hours
from app.mentors.models import Shift, ShiftStatus
from tests.conftest import TEST_DATABASE_URL, fresh_database, worker_database
from tests.factories import log_in, make_mentor, make_provider, make_school, make_user, post_form

NOW = datetime(2026, 3, 2, 12, 0, tzinfo=UTC)  # a Monday


def local(*args) -> datetime:
    return datetime(*args, tzinfo=TIMEZONE)


def mentoring_date(db, starts_at, ends_at, *, provider=None, title="Ung til ung: fysik", cancelled=False) -> OfferSession:
    offer = Offer(
        provider_id=(provider or make_provider(db)).id,
        type=OfferType.mentoring,
        status=OfferStatus.published,
        title=title,
        grade_min=7,
        grade_max=9,
        municipality="Aarhus",
    )
    db.add(offer)
    db.flush()
    session = OfferSession(
        offer_id=offer.id,
        starts_at=starts_at,
        ends_at=ends_at,
        capacity_pupils=30,
        mentors_min=1,
        mentors_max=3,
        cancelled_at=starts_at - timedelta(days=3) if cancelled else None,
    )
    db.add(session)
    db.commit()
    return session


def shift(db, session, mentor, *, status=ShiftStatus.signed_up, travel=0, confirmed=False) -> Shift:
    row = Shift(
        session_id=session.id,
        mentor_id=mentor.id,
        status=status,
        travel_minutes=travel,
        travel_confirmed_at=NOW - timedelta(days=40) if confirmed else None,
        created_at=NOW - timedelta(days=60),
        updated_at=NOW - timedelta(days=60),
    )
    db.add(row)
    db.commit()
    return row


def reloaded(db, row: Shift) -> Shift:
    db.expire_all()
    return db.get(Shift, row.id)


# --- how a date counts ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("starts", "ends", "minutes"),
    [
        pytest.param(local(2026, 2, 4, 9, 0), local(2026, 2, 4, 12, 15), 195, id="one morning"),
        pytest.param(local(2026, 2, 4, 8, 0), local(2026, 2, 4, 19, 0), 480, id="a long day counts a working day"),
        pytest.param(local(2026, 2, 2, 8, 0), local(2026, 2, 6, 14, 0), 5 * 360, id="a company week, 08-14 daily"),
        pytest.param(local(2026, 3, 27, 8, 0), local(2026, 3, 30, 14, 0), 4 * 360, id="a week across summer time"),
        pytest.param(local(2026, 2, 2, 7, 0), local(2026, 2, 3, 17, 0), 2 * 480, id="two long days"),
        # 18-24 (6 h), a whole day (8 h at most), 0-10 (8 h at most).
        pytest.param(local(2026, 2, 2, 18, 0), local(2026, 2, 4, 10, 0), 360 + 480 + 480, id="a camp with nights"),
    ],
)
def test_a_date_counts_its_length_at_most_a_working_day_a_day(starts, ends, minutes):
    assert hours.date_minutes(starts, ends) == minutes


# --- completing shifts ------------------------------------------------------------------------------


def test_a_shift_is_completed_after_its_date_with_its_length(db):
    mentor = make_mentor(db)
    past = mentoring_date(db, NOW - timedelta(hours=5), NOW - timedelta(hours=2))
    running = mentoring_date(db, NOW - timedelta(hours=1), NOW + timedelta(hours=1))
    done, busy = shift(db, past, mentor), shift(db, running, mentor)

    assert hours.complete_past_shifts(db, now=NOW) == 1

    done, busy = reloaded(db, done), reloaded(db, busy)
    assert (done.status, done.minutes, done.updated_at) == (ShiftStatus.completed, 180, NOW)
    assert (busy.status, busy.minutes) == (ShiftStatus.signed_up, None)
    # Run again (the next pass, or another worker): nothing more, nothing counted twice.
    assert hours.complete_past_shifts(db, now=NOW) == 0
    assert reloaded(db, done).minutes == 180


def test_confirmed_travel_counts_and_unconfirmed_does_not(db):
    mentor = make_mentor(db)
    confirmed = shift(db, mentoring_date(db, NOW - timedelta(hours=5), NOW - timedelta(hours=2)), mentor, travel=45, confirmed=True)
    waiting = shift(db, mentoring_date(db, NOW - timedelta(days=2, hours=5), NOW - timedelta(days=2, hours=3)), mentor, travel=30)

    assert hours.complete_past_shifts(db, now=NOW) == 2

    assert reloaded(db, confirmed).minutes == 180 + 45
    assert reloaded(db, waiting).minutes == 120


def test_a_date_of_several_days_counts_each_day(db):
    mentor = make_mentor(db)
    week = mentoring_date(db, local(2026, 2, 23, 8, 0), local(2026, 2, 27, 14, 30))
    row = shift(db, week, mentor)

    hours.complete_past_shifts(db, now=NOW)

    assert reloaded(db, row).minutes == 5 * 390


def test_a_cancelled_date_is_not_completed_but_removed(db):
    mentor = make_mentor(db)
    cancelled = mentoring_date(db, NOW - timedelta(hours=5), NOW - timedelta(hours=2), cancelled=True)
    row = shift(db, cancelled, mentor)

    assert hours.complete_past_shifts(db, now=NOW) == 0

    row = reloaded(db, row)
    assert (row.status, row.minutes) == (ShiftStatus.removed, None)
    assert hours.hours_by_school_year(db, mentor.id) == []


def test_only_shifts_still_signed_up_are_completed(db):
    mentor, other = make_mentor(db), make_mentor(db)
    past = mentoring_date(db, NOW - timedelta(hours=5), NOW - timedelta(hours=2))
    gone = shift(db, past, mentor, status=ShiftStatus.left)
    taken_off = shift(db, past, other, status=ShiftStatus.removed)

    assert hours.complete_past_shifts(db, now=NOW) == 0
    assert reloaded(db, gone).status == ShiftStatus.left
    assert reloaded(db, taken_off).status == ShiftStatus.removed


@pytest.fixture(scope="module")
def committed_engine(tmp_path_factory):
    """A database of its own whose data is committed, for several connections at once."""
    if TEST_DATABASE_URL:
        url = fresh_database(worker_database(TEST_DATABASE_URL, "hours_race"))
    else:
        url = fresh_database(str(tmp_path_factory.mktemp("hours_race") / "race.db"))
    engine = make_engine(url)
    yield engine
    engine.dispose()


def test_two_workers_at_once_complete_each_shift_once(committed_engine):
    with Session(committed_engine) as db:
        provider = make_provider(db)
        mentors = [make_mentor(db) for _ in range(6)]
        shift_ids = []
        for number in range(8):
            date = mentoring_date(
                db, NOW - timedelta(days=number + 1, hours=4), NOW - timedelta(days=number + 1, hours=1), provider=provider
            )
            shift_ids += [shift(db, date, mentor, travel=20, confirmed=True).id for mentor in mentors]

    barrier = threading.Barrier(2)
    counts: list[int] = []

    def worker() -> None:
        with Session(committed_engine) as db:
            barrier.wait()
            counts.append(hours.complete_past_shifts(db, now=NOW))

    threads = [threading.Thread(target=worker) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)

    assert sum(counts) == len(shift_ids), counts
    with Session(committed_engine) as db:
        rows = db.exec(select(Shift).where(col(Shift.id).in_(shift_ids))).all()
    assert {(r.status, r.minutes) for r in rows} == {(ShiftStatus.completed, 180 + 20)}


# --- travel ---------------------------------------------------------------------------------------------


def test_a_mentor_adds_travel_and_the_providers_staff_confirm_it(db):
    provider = make_provider(db)
    staff = make_user(db, Role.provider, organisation=provider)
    mentor = make_mentor(db)
    row = shift(db, mentoring_date(db, NOW - timedelta(hours=5), NOW - timedelta(hours=2), provider=provider), mentor)
    hours.complete_past_shifts(db, now=NOW)

    hours.add_travel(db, mentor, row.id, 50, now=NOW)
    row = reloaded(db, row)
    assert (row.travel_minutes, row.travel_confirmed_at, row.minutes) == (50, None, 180)
    assert [t.shift_id for t in hours.travel_to_confirm(db, staff)] == [row.id]

    hours.confirm_travel(db, staff, row.id, now=NOW + timedelta(hours=1))
    row = reloaded(db, row)
    assert (row.travel_confirmed_at, row.minutes) == (NOW + timedelta(hours=1), 230)
    assert hours.travel_to_confirm(db, staff) == []

    # A new figure must be confirmed again; until then it counts without travel.
    hours.add_travel(db, mentor, row.id, 70, now=NOW + timedelta(hours=2))
    row = reloaded(db, row)
    assert (row.travel_minutes, row.travel_confirmed_at, row.minutes) == (70, None, 180)


def test_travel_added_before_the_date_and_confirmed_counts_at_completion(db):
    provider = make_provider(db)
    staff = make_user(db, Role.provider, organisation=provider)
    mentor = make_mentor(db)
    row = shift(db, mentoring_date(db, NOW + timedelta(days=3), NOW + timedelta(days=3, hours=2), provider=provider), mentor)

    hours.add_travel(db, mentor, row.id, 40, now=NOW)
    hours.confirm_travel(db, staff, row.id, now=NOW)
    hours.complete_past_shifts(db, now=NOW + timedelta(days=4))

    assert reloaded(db, row).minutes == 120 + 40


def test_the_same_travel_again_keeps_the_confirmation(db):
    provider = make_provider(db)
    staff = make_user(db, Role.provider, organisation=provider)
    mentor = make_mentor(db)
    row = shift(db, mentoring_date(db, NOW + timedelta(days=3), NOW + timedelta(days=3, hours=2), provider=provider), mentor)
    hours.add_travel(db, mentor, row.id, 40, now=NOW)
    hours.confirm_travel(db, staff, row.id, now=NOW)

    hours.add_travel(db, mentor, row.id, 40, now=NOW)  # a double click

    assert reloaded(db, row).travel_confirmed_at == NOW


@pytest.mark.parametrize("minutes", [-1, 601])
def test_travel_is_from_0_to_600_minutes(db, minutes):
    mentor = make_mentor(db)
    row = shift(db, mentoring_date(db, NOW + timedelta(days=3), NOW + timedelta(days=3, hours=2)), mentor)

    with pytest.raises(InvalidInput) as refused:
        hours.add_travel(db, mentor, row.id, minutes, now=NOW)

    assert refused.value.field == "minutes"
    assert reloaded(db, row).travel_minutes == 0


def test_a_mentor_cannot_add_travel_to_anothers_shift_or_one_they_left(db):
    mentor, other = make_mentor(db), make_mentor(db)
    date = mentoring_date(db, NOW + timedelta(days=3), NOW + timedelta(days=3, hours=2))
    theirs = shift(db, date, other)
    left = shift(db, date, mentor, status=ShiftStatus.left)

    with pytest.raises(NotFound):
        hours.add_travel(db, mentor, theirs.id, 30, now=NOW)
    with pytest.raises(NotFound):
        hours.add_travel(db, mentor, 10**6, 30, now=NOW)
    with pytest.raises(Conflict):
        hours.add_travel(db, mentor, left.id, 30, now=NOW)
    assert reloaded(db, theirs).travel_minutes == 0


def test_only_the_offers_own_provider_confirms_travel(db):
    provider = make_provider(db)
    mentor = make_mentor(db)
    row = shift(db, mentoring_date(db, NOW + timedelta(days=3), NOW + timedelta(days=3, hours=2), provider=provider), mentor, travel=30)
    another_provider = make_user(db, Role.provider, organisation=make_provider(db))

    for outsider in (another_provider, mentor, make_user(db, Role.teacher), make_user(db, Role.admin)):
        with pytest.raises(NotFound):
            hours.confirm_travel(db, outsider, row.id, now=NOW)
        assert hours.travel_to_confirm(db, outsider) == []
    assert reloaded(db, row).travel_confirmed_at is None


def test_there_is_nothing_to_confirm_without_travel(db):
    provider = make_provider(db)
    staff = make_user(db, Role.provider, organisation=provider)
    row = shift(db, mentoring_date(db, NOW + timedelta(days=3), NOW + timedelta(days=3, hours=2), provider=provider), make_mentor(db))

    with pytest.raises(Conflict):
        hours.confirm_travel(db, staff, row.id, now=NOW)


# --- hours per school year and visits ------------------------------------------------------------


def test_the_school_year_changes_on_1_august_danish_time(db):
    mentor = make_mentor(db)
    # 31 July 23:00 in Copenhagen is still the old school year; 1 August 00:30 there (31 July
    # 22:30 in UTC) the new one.
    for starts in (local(2025, 7, 31, 10, 0), local(2025, 7, 31, 23, 0), local(2025, 8, 1, 0, 30), local(2025, 9, 10, 9, 0)):
        shift(db, mentoring_date(db, starts, starts + timedelta(minutes=45)), mentor)
    hours.complete_past_shifts(db, now=NOW)

    years = hours.hours_by_school_year(db, mentor.id)

    assert [(y.label, y.visits, y.minutes) for y in years] == [("2024/25", 2, 90), ("2025/26", 2, 90)]
    assert (hours.total(years).visits, hours.total(years).minutes) == (4, 180)


def test_visits_name_the_school_of_a_confirmed_booking(db):
    provider = make_provider(db, name="Aarhus Universitet")
    mentor = make_mentor(db)
    date = mentoring_date(db, NOW - timedelta(days=3, hours=3), NOW - timedelta(days=3), provider=provider, title="Kemi i 8.")
    school, cancelled_school = make_school(db, name="Skjoldhøjskolen"), make_school(db, name="Aflyst Skole")
    for where, status in ((school, BookingStatus.confirmed), (cancelled_school, BookingStatus.cancelled)):
        teacher = make_user(db, Role.teacher, organisation=where)
        db.add(Booking(session_id=date.id, school_id=where.id, teacher_id=teacher.id, status=status, class_name="8.a", grade=8, pupils=22))
    db.commit()
    shift(db, date, mentor)
    shift(db, mentoring_date(db, NOW + timedelta(days=5), NOW + timedelta(days=5, hours=2)), mentor)
    hours.complete_past_shifts(db, now=NOW)

    (visit,) = hours.visits(db, mentor.id)

    assert (visit.title, visit.provider, visit.school, visit.minutes) == ("Kemi i 8.", "Aarhus Universitet", "Skjoldhøjskolen", 180)
    assert [v.status for v in hours.upcoming_shifts(db, mentor.id)] == [ShiftStatus.signed_up]


# --- the pages ---------------------------------------------------------------------------------------


@pytest.fixture
def fixed_clock(app):
    app.dependency_overrides[get_now] = lambda: NOW
    return NOW


def test_the_mentor_sees_their_hours_and_adds_travel(client, db, settings, fixed_clock):
    mentor = make_mentor(db)
    past = shift(db, mentoring_date(db, NOW - timedelta(days=3, hours=3), NOW - timedelta(days=3), title="Fysik på HTX"), mentor)
    coming = shift(db, mentoring_date(db, NOW + timedelta(days=3), NOW + timedelta(days=3, hours=2), title="Biologi"), mentor)
    hours.complete_past_shifts(db, now=NOW)
    log_in(client, db, mentor, settings)

    page = client.get("/mentor/hours")
    assert page.status_code == 200
    assert "Fysik på HTX" in page.text and "Biologi" in page.text and "2025/26" in page.text
    assert 'href="/mentor/certificate.pdf"' in page.text

    answer = post_form(client, f"/mentor/hours/{coming.id}/travel", {"minutes": "35"})
    assert answer.status_code == 303
    assert answer.headers["location"] == "/mentor/hours?notice=travel_saved"
    assert reloaded(db, coming).travel_minutes == 35

    refused = post_form(client, f"/mentor/hours/{past.id}/travel", {"minutes": "601"})
    assert refused.status_code == 422
    assert f'id="travel-{past.id}-error"' in refused.text
    assert reloaded(db, past).travel_minutes == 0
    assert post_form(client, f"/mentor/hours/{past.id}/travel", {"minutes": "ten"}).status_code == 422


def test_a_mentor_cannot_reach_anothers_shift_and_others_have_no_hours(client, db, settings, fixed_clock):
    mentor, other = make_mentor(db), make_mentor(db)
    theirs = shift(db, mentoring_date(db, NOW + timedelta(days=3), NOW + timedelta(days=3, hours=2)), other)
    log_in(client, db, mentor, settings)

    assert post_form(client, f"/mentor/hours/{theirs.id}/travel", {"minutes": "30"}).status_code == 404
    assert reloaded(db, theirs).travel_minutes == 0

    log_in(client, db, make_user(db, Role.teacher), settings)
    assert client.get("/mentor/hours").status_code == 403


def test_the_providers_staff_see_only_the_mentors_first_name_and_confirm(client, db, settings, fixed_clock):
    provider = make_provider(db)
    staff = make_user(db, Role.provider, organisation=provider)
    mentor = make_mentor(db)
    mentor.name = "Freja Kjærgaard Holm"
    db.add(mentor)
    db.commit()
    row = shift(db, mentoring_date(db, NOW + timedelta(days=3), NOW + timedelta(days=3, hours=2), provider=provider, title="Matematik"), mentor, travel=25)
    log_in(client, db, staff, settings)

    page = client.get("/provider/mentor-travel")
    assert page.status_code == 200
    assert "Freja" in page.text and "Matematik" in page.text
    assert "Kjærgaard" not in page.text and mentor.email not in page.text

    answer = post_form(client, f"/provider/shifts/{row.id}/travel/confirm")
    assert answer.status_code == 303
    assert reloaded(db, row).travel_confirmed_at == NOW

    log_in(client, db, make_user(db, Role.provider, organisation=make_provider(db)), settings)
    assert "Freja" not in client.get("/provider/mentor-travel").text
    assert post_form(client, f"/provider/shifts/{row.id}/travel/confirm").status_code == 404
