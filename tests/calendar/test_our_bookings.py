"""The teacher's calendar (issue 16): "only our bookings" as a toggle on the page and the default
of the personal feed, the agenda by default on a phone, and a booking that is not yet approved
pencilled in (STATUS:TENTATIVE) in every calendar file: the feed, the e-mail's and the download."""

from datetime import date

import icalendar
import pytest
from sqlmodel import select

from app.bookings import service as bookings
from app.bookings.models import BookingStatus
from app.bookings.notices import booking_calendar, calendar_file, tell_about_new_bookings
from app.bookings.schemas import BookingIn
from app.calendar import service as calendar
from app.deps import get_now
from app.notifications.models import OutboxMessage
from tests.calendar.test_calendar import NOW, World, local, new_session
from tests.factories import log_in, make_school, make_user, post_form

PHONE_AGENT = "Mozilla/5.0 (iPhone; CPU iPhone OS 17_0 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.0 Mobile/15E148 Safari/604.1"


@pytest.fixture
def world(db):
    return World(db)


@pytest.fixture
def fixed_clock(app):
    app.dependency_overrides[get_now] = lambda: NOW
    return NOW


@pytest.fixture
def booked(db, world):
    """A teacher whose school has a pending booking of the robots on 1 October."""
    teacher = make_user(db, "teacher", organisation=make_school(db, municipality="Aarhus"))
    booking = bookings.book_session(db, teacher, BookingIn(session_id=world.open.id, class_name="8.a", grade=8, pupils=20), now=NOW)
    assert booking.status == BookingStatus.pending
    return teacher, booking


def feed_events(client, token) -> dict[str, icalendar.Event]:
    parsed = icalendar.Calendar.from_ical(client.get(f"/calendar/feed/{token}.ics").content)
    return {str(e["UID"]): e for e in parsed.walk("VEVENT")}


def test_a_teachers_feed_holds_only_the_schools_bookings_by_default(client, db, settings, world, booked, fixed_clock):
    teacher, _booking = booked
    log_in(client, db, teacher, settings)
    assert 'id="feed-show-ours" name="show" value="ours" checked' in client.get("/calendar").text
    post_form(client, "/calendar/feed/new")
    assert calendar.feed_of(db, teacher).query == "show=ours"  # the choice is kept with the feed
    made = calendar.create_feed(db, teacher, query="", now=NOW)  # a feed made before the choice existed
    assert set(feed_events(client, made)) == {f"session-{world.open.id}@stem-portal"}

    everything = calendar.create_feed(db, teacher, query="show=all", now=NOW)
    assert len(feed_events(client, everything)) > 1  # the open dates too, when chosen


def test_the_feed_choice_all_keeps_the_filters(client, db, settings, world, booked, fixed_clock):
    teacher, _booking = booked
    log_in(client, db, teacher, settings)
    post_form(client, "/calendar/feed/new", {"back": "view=month&grade=3", "show": "all"})
    query = calendar.feed_of(db, teacher).query
    assert "grade=3" in query and "show=all" in query


def test_only_our_bookings_is_a_toggle_on_the_page(client, db, settings, world, booked, fixed_clock):
    teacher, _booking = booked
    log_in(client, db, teacher, settings)
    everything = client.get("/calendar?view=agenda&date=2026-09-01").text
    assert "Vindmøller for de små" in everything and 'id="calendar-show-all" aria-current="page"' in everything
    ours = client.get("/calendar?view=agenda&date=2026-09-01&show=ours").text
    assert "Vindmøller for de små" not in ours and "Robotter i skolen" in ours
    assert 'id="calendar-show-ours" aria-current="page"' in ours
    assert "show=ours" in ours.split('id="calendar-next"')[0].rsplit("<a ", 1)[1]  # moving on keeps the toggle
    assert "0 filtre valgt" not in ours and "1 filter valgt" not in ours  # the toggle is no filter


def test_others_have_no_toggle_and_get_everything(client, db, settings, world, fixed_clock):
    log_in(client, db, make_user(db, "coordinator"), settings)
    html = client.get("/calendar?view=agenda&date=2026-09-01&show=ours").text
    assert 'id="calendar-show-ours"' not in html and "Vindmøller for de små" in html
    assert not calendar.shows_only_bookings(None, "ours", default="ours")


def test_a_phone_gets_the_agenda_by_default_and_a_desktop_the_month(client, db, fixed_clock):
    assert 'data-view="month"' in client.get("/calendar").text
    phone = client.get("/calendar", headers={"User-Agent": PHONE_AGENT})
    assert 'data-view="agenda"' in phone.text
    assert "User-Agent" in phone.headers["Vary"] and "Sec-CH-UA-Mobile" in phone.headers["Vary"]
    assert 'data-view="agenda"' in client.get("/calendar", headers={"Sec-CH-UA-Mobile": "?1"}).text
    assert 'data-view="month"' in client.get("/calendar?view=month", headers={"User-Agent": PHONE_AGENT}).text  # a choice wins


def test_a_pending_booking_is_tentative_in_the_feed_the_download_and_the_mail(client, db, settings, world, booked, fixed_clock):
    teacher, booking = booked
    token = calendar.create_feed(db, teacher, query="", now=NOW)
    assert str(feed_events(client, token)[f"session-{world.open.id}@stem-portal"]["STATUS"]) == "TENTATIVE"

    (event,) = icalendar.Calendar.from_ical(calendar_file(db, booking, now=NOW)).walk("VEVENT")
    assert str(event["STATUS"]) == "TENTATIVE" and "TRANSP" not in event  # the time is as good as taken
    log_in(client, db, teacher, settings)
    download = client.get(f"/bookings/{booking.id}.ics")
    (event,) = icalendar.Calendar.from_ical(download.content).walk("VEVENT")
    assert str(event["STATUS"]) == "TENTATIVE"

    coordinator = make_user(db, "coordinator")
    bookings.approve_booking(db, coordinator, booking.id, now=NOW)
    (event,) = icalendar.Calendar.from_ical(calendar_file(db, booking, now=NOW)).walk("VEVENT")
    assert str(event["STATUS"]) == "CONFIRMED"
    assert str(feed_events(client, token)[f"session-{world.open.id}@stem-portal"]["STATUS"]) == "CONFIRMED"


def test_the_e_mails_calendar_file_says_tentative_while_pending(db, world, booked, settings):
    teacher, booking = booked
    tell_about_new_bookings(db, now=NOW)
    db.commit()
    message = db.exec(select(OutboxMessage).where(OutboxMessage.to_address == teacher.email)).first()
    (event,) = icalendar.Calendar.from_ical(booking_calendar(db, message)).walk("VEVENT")
    assert str(event["STATUS"]) == "TENTATIVE"


def test_a_days_entries_in_only_our_bookings_are_the_schools(db, world, booked):
    teacher, _booking = booked
    new_session(db, world.aarhus, world.robots, local(date(2026, 10, 1), 13))
    first, last = date(2026, 9, 1), date(2026, 12, 31)
    shown = calendar.Period(calendar.View.agenda, first, last, first, last)
    ours = calendar.calendar_entries(db, teacher, shown.starts_at, shown.ends_at, now=NOW, only_booked=True)
    assert [e.session.id for e in ours] == [world.open.id] and all(e.booking for e in ours)
