"""The shared calendar: who sees which sessions, the month, week and agenda pages, htmx fragments,
and the per-user calendar feed read back with a real iCalendar parser."""

import re
from datetime import UTC, date, datetime, time, timedelta
from urllib.parse import parse_qs, urlsplit

import icalendar
import pytest

from app.calendar import service as calendar
from app.calendar.pages import NEW_FEED_COOKIE
from app.calendar.service import View
from app.catalogue import service as catalogue
from app.catalogue.schemas import OfferCreate, SessionIn
from app.catalogue.service import CatalogueFilters
from app.deps import get_now
from app.i18n import TIMEZONE
from tests.factories import log_in, make_provider, make_school, make_user, post_form

NOW = datetime(2026, 9, 1, 8, 0, tzinfo=UTC)  # Tuesday 1 September 2026, 10:00 in Denmark


def local(day: date, hour: int, minute: int = 0) -> datetime:
    return datetime.combine(day, time(hour, minute), TIMEZONE)


def new_offer(db, provider, title, **fields):
    data = {"type": "course", "title": title, "status": "published", "grade_min": 7, "grade_max": 9, **fields}
    return catalogue.create_offer(db, provider, OfferCreate(**data), now=NOW)


def new_session(db, provider, offer, starts_at, hours=3, **fields):
    data = SessionIn(starts_at=starts_at, ends_at=starts_at + timedelta(hours=hours), capacity_pupils=28, **fields)
    return catalogue.add_session(db, provider, offer.id, data, now=NOW)


class World:
    """Two providers in two municipalities, with sessions of every kind a calendar must tell apart."""

    def __init__(self, db):
        self.aarhus = make_user(db, "provider", organisation=make_provider(db, municipality="Aarhus"))
        self.herning = make_user(db, "provider", organisation=make_provider(db, municipality="Herning"))
        self.robots = new_offer(db, self.aarhus, "Robotter i skolen", themes=["ict"])
        self.draft = new_offer(db, self.aarhus, "Kladde om kemi", status="draft")
        self.wind = new_offer(db, self.herning, "Vindmøller for de små", grade_min=2, grade_max=4, themes=["climate_energy"])
        self.open = new_session(db, self.aarhus, self.robots, local(date(2026, 10, 1), 9))
        self.early = new_session(db, self.aarhus, self.robots, local(date(2026, 9, 10), 9))  # past by 15 September
        self.cancelled = new_session(db, self.aarhus, self.robots, local(date(2026, 10, 6), 9))
        catalogue.cancel_session(db, self.aarhus, self.cancelled.id, now=NOW)
        self.drafted = new_session(db, self.aarhus, self.draft, local(date(2026, 10, 7), 9))
        self.herning_session = new_session(db, self.herning, self.wind, local(date(2026, 10, 2), 10))
        self.deadline_passed = new_session(
            db, self.herning, self.wind, local(date(2026, 10, 20), 10), booking_deadline=local(date(2026, 9, 12), 12)
        )


@pytest.fixture
def world(db):
    return World(db)


@pytest.fixture
def fixed_clock(app):
    app.dependency_overrides[get_now] = lambda: NOW
    return NOW


def seen(db, viewer, *, now=NOW, filters=None, first=date(2026, 9, 1), last=date(2026, 12, 31)) -> set[int]:
    shown = calendar.Period(View.agenda, first, last, first, last)
    entries = calendar.calendar_entries(db, viewer, shown.starts_at, shown.ends_at, filters=filters, now=now)
    return {e.session.id for e in entries}


# --- periods -----------------------------------------------------------------------------------


def test_a_month_grid_runs_monday_to_sunday_and_its_neighbours_are_whole_months():
    november = calendar.period(View.month, date(2026, 11, 23))
    assert (november.first, november.last) == (date(2026, 11, 1), date(2026, 11, 30))
    assert (november.previous, november.next) == (date(2026, 10, 1), date(2026, 12, 1))
    assert november.weeks[0][0] == date(2026, 10, 26) and november.weeks[-1][-1] == date(2026, 12, 6)
    assert all(len(week) == 7 and week[0].weekday() == 0 for week in november.weeks)
    december = calendar.period(View.month, date(2026, 12, 31))
    assert december.next == date(2027, 1, 1)


def test_a_week_starts_on_monday_even_across_the_new_year():
    week = calendar.period(View.week, date(2027, 1, 1))  # a Friday in ISO week 53 of 2026
    assert (week.first, week.last) == (date(2026, 12, 28), date(2027, 1, 3))
    assert week.first.isocalendar().week == 53
    assert (week.previous, week.next) == (date(2026, 12, 21), date(2027, 1, 4))


def test_the_agenda_is_the_next_sixty_days_and_days_are_danish_days():
    agenda = calendar.period(View.agenda, date(2026, 10, 25))  # summer time ends that night
    assert (agenda.first, agenda.last, agenda.next) == (date(2026, 10, 25), date(2026, 12, 23), date(2026, 12, 24))
    assert agenda.starts_at == datetime(2026, 10, 24, 22, 0, tzinfo=UTC)
    assert calendar.period(View.week, date(2026, 10, 26)).starts_at == datetime(2026, 10, 25, 23, 0, tzinfo=UTC)


# --- who sees what -----------------------------------------------------------------------------


def test_teachers_and_the_public_see_only_sessions_that_can_still_be_booked(db, world):
    later = datetime(2026, 9, 15, 8, 0, tzinfo=UTC)
    expected = {world.open.id, world.herning_session.id}
    assert seen(db, make_user(db, "teacher"), now=later) == expected
    assert seen(db, None, now=later) == expected
    assert seen(db, make_user(db, "mentor"), now=later) == expected
    # Before its deadline and its start, the early session can still be booked.
    assert world.early.id in seen(db, None, now=NOW) and world.deadline_passed.id in seen(db, None, now=NOW)


def test_teachers_filter_with_the_catalogues_filters(db, world):
    teacher = make_user(db, "teacher")
    assert seen(db, teacher, filters=CatalogueFilters(grade=3)) == {world.herning_session.id, world.deadline_passed.id}
    assert seen(db, teacher, filters=CatalogueFilters(grade=8, theme="ict")) == {world.open.id, world.early.id}
    assert seen(db, teacher, filters=CatalogueFilters(q="vindmøller", municipality="Herning")) == {
        world.herning_session.id, world.deadline_passed.id
    }
    assert seen(db, teacher, filters=CatalogueFilters(girls_only=True)) == set()


def test_a_provider_sees_every_session_of_its_own_offers_drafts_and_cancelled_included(db, world):
    later = datetime(2026, 9, 15, 8, 0, tzinfo=UTC)
    own = {world.open.id, world.early.id, world.cancelled.id, world.drafted.id}
    assert seen(db, world.aarhus, now=later) == own
    assert seen(db, world.herning, now=later) == {world.herning_session.id, world.deadline_passed.id}
    assert seen(db, make_user(db, "provider"), now=later) == set()


def test_coordinators_see_the_published_sessions_of_the_region_or_their_municipality(db, world):
    later = datetime(2026, 9, 15, 8, 0, tzinfo=UTC)
    published = {world.open.id, world.early.id, world.herning_session.id, world.deadline_passed.id}
    assert seen(db, make_user(db, "coordinator"), now=later) == published
    assert seen(db, make_user(db, "admin"), now=later) == published
    assert seen(db, make_user(db, "coordinator", municipality="Herning"), now=later) == {
        world.herning_session.id, world.deadline_passed.id
    }
    assert seen(db, make_user(db, "coordinator", municipality="Aarhus"), now=later) == {world.open.id, world.early.id}
    assert seen(db, make_user(db, "coordinator", municipality="Skive"), now=later) == set()


def test_the_period_takes_sessions_that_overlap_it_and_a_long_session_is_on_every_day(db, world):
    week = new_offer(db, world.aarhus, "Virksomhedsuge", type="company_week")
    monday = new_session(db, world.aarhus, week, local(date(2026, 10, 26), 8), hours=4 * 24 + 7)
    shown = calendar.period(View.week, date(2026, 10, 29))
    entries = calendar.calendar_entries(db, None, shown.starts_at, shown.ends_at, now=NOW)
    assert [e.session.id for e in entries] == [monday.id]
    by_day = calendar.entries_by_day(entries, shown.first, shown.last)
    assert sorted(by_day) == [date(2026, 10, 26) + timedelta(days=n) for n in range(5)]
    # Seen from the Thursday alone, the session began before the period and is still running.
    thursday = calendar.period(View.agenda, date(2026, 10, 29))
    assert monday.id in {e.session.id for e in calendar.calendar_entries(db, None, thursday.starts_at, thursday.ends_at, now=NOW)}
    assert entries[0].free_pupils == entries[0].session.capacity_pupils == 28


# --- the pages ---------------------------------------------------------------------------------


def day_cell(html: str, day: date) -> str:
    found = re.search(rf'<td data-date="{day.isoformat()}"[^>]*>(.*?)</td>', html, re.S)
    assert found, f"no cell for {day}"
    return found.group(1)


def test_the_month_grid_shows_a_session_on_its_danish_day(client, db, world, fixed_clock):
    # 00:30 on Saturday 3 October in Denmark is still Friday 2 October in UTC.
    new_session(db, world.aarhus, world.robots, local(date(2026, 10, 3), 0, 30), hours=2)
    page = client.get("/calendar?view=month&date=2026-10-15")
    assert page.status_code == 200
    html = page.text
    assert "<caption" in html and 'scope="col"' in html and "Oktober 2026" in html
    assert f'href="/offers/{world.robots.id}"' in day_cell(html, date(2026, 10, 1))
    assert "09.00" in day_cell(html, date(2026, 10, 1))
    assert f'href="/offers/{world.wind.id}"' in day_cell(html, date(2026, 10, 2))
    assert f'href="/offers/{world.robots.id}"' not in day_cell(html, date(2026, 10, 2))
    assert "00.30" in day_cell(html, date(2026, 10, 3))
    # Drafts and cancelled sessions are for their provider only.
    assert "Kladde om kemi" not in html and f'href="/offers/{world.robots.id}"' not in day_cell(html, date(2026, 10, 6))
    # The week column and the rows: 1 October 2026 is a Thursday in ISO week 40.
    assert re.search(r'<th scope="row">.*?date=2026-09-28.*?40</a></th>', html)


def test_today_is_marked_for_screen_readers_and_the_month_is_the_default(client, db, fixed_clock):
    html = client.get("/calendar").text
    assert re.search(r'<td data-date="2026-09-01"[^>]*aria-current="date"', html)
    assert html.count('aria-current="date"') == 1
    assert 'aria-current="page"' in html and 'id="calendar-view-month"' in html


def test_the_provider_sees_its_drafts_with_how_full_each_session_is(client, db, settings, world, fixed_clock):
    log_in(client, db, world.aarhus, settings)
    client.cookies.set("stem_lang", "en")
    html = client.get("/calendar?view=month&date=2026-10-01").text
    assert "Kladde om kemi" in day_cell(html, date(2026, 10, 7)) and "Draft" in day_cell(html, date(2026, 10, 7))
    assert "28 of 28 places free" in day_cell(html, date(2026, 10, 1))
    assert "Cancelled" in day_cell(html, date(2026, 10, 6))
    assert "Vindmøller" not in html


def test_the_week_view_lists_every_day_with_the_iso_week_number(client, db, world, fixed_clock):
    html = client.get("/calendar?view=week&date=2026-10-01").text
    assert re.search(r'<h2 id="calendar-title">[^<]*40', html)
    days = re.findall(r'<h3 id="day-(\d{4}-\d\d-\d\d)"', html)
    assert days == [(date(2026, 9, 28) + timedelta(days=n)).isoformat() for n in range(7)]
    thursday = html.split('id="day-2026-10-01"')[1].split("<h3")[0]
    assert "Robotter i skolen" in thursday and "09.00" in thursday and "12.00" in thursday
    assert 'date=2026-09-21' in html and 'date=2026-10-05' in html  # previous and next week


def test_the_agenda_lists_the_next_sixty_days_in_order(client, db, world, fixed_clock):
    new_session(db, world.aarhus, world.robots, local(date(2026, 12, 1), 9))  # after the 60 days
    html = client.get("/calendar?view=agenda&date=2026-09-20").text
    assert html.index("Robotter i skolen") < html.index("Vindmøller for de små")
    assert re.findall(r'<h3 id="day-([\d-]+)"', html) == ["2026-10-01", "2026-10-02", "2026-10-20"]


def test_links_move_by_month_carry_the_filters_and_swap_only_the_calendar_with_htmx(client, db, world, fixed_clock):
    html = client.get("/calendar?view=month&date=2026-10-15&grade=8&type=course&from=2026-01-01").text
    nav = re.search(r'<a href="([^"]+)" hx-get="([^"]+)" hx-target="#calendar" hx-swap="outerHTML" hx-push-url="true" id="calendar-next"', html)
    assert nav and nav.group(1) == nav.group(2)
    query = parse_qs(urlsplit(nav.group(1).replace("&amp;", "&")).query)
    assert query == {"view": ["month"], "date": ["2026-11-01"], "grade": ["8"], "type": ["course"]}
    assert 'id="calendar-previous"' in html and "date=2026-09-01" in html


def test_an_htmx_request_for_the_calendar_gets_only_the_calendar(client, db, world, fixed_clock):
    headers = {"HX-Request": "true", "HX-Target": "calendar"}
    fragment = client.get("/calendar?view=month&date=2026-11-01", headers=headers)
    assert fragment.status_code == 200
    assert fragment.text.lstrip().startswith('<div id="calendar"')
    assert "<html" not in fragment.text and "<h1" not in fragment.text and "site-header" not in fragment.text
    # The period is announced in the live region outside the calendar.
    assert re.search(r'<div id="calendar-status" hx-swap-oob="innerHTML">November 2026</div>', fragment.text)
    assert "HX-Target" in fragment.headers["vary"]
    whole = client.get("/calendar?view=month&date=2026-11-01", headers={"HX-Request": "true"})
    assert "<html" in whole.text and 'hx-swap-oob' not in whole.text


@pytest.mark.parametrize(
    "query",
    ["date=2026-13-45", "date=yesterday", "date=0001-01-01", "date=99999-01-01", "view=year", "view=month&date=", "view=%3Cb%3E&date=2026-02-30"],
)
def test_bad_dates_and_views_show_this_month_rather_than_an_error(client, db, fixed_clock, query):
    page = client.get(f"/calendar?{query}")
    assert page.status_code == 200
    assert 'id="calendar-title">September 2026<' in page.text
    assert '<table class="calendar-month">' in page.text


def test_english_dates_and_danish_weeks(client, db, fixed_clock):
    client.cookies.set("stem_lang", "en")
    html = client.get("/calendar?view=month&date=2026-10-01").text
    headers = re.findall(r'<th scope="col"><span aria-hidden="true">(\w+)</span>', html)
    assert headers == ["Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"]
    assert "October 2026" in html


# --- the per-user feed -------------------------------------------------------------------------


def feed_token_from(html: str) -> str:
    found = re.search(r"http://testserver/calendar/feed/([A-Za-z0-9_-]+)\.ics", html)
    assert found, "the new feed address is not on the page"
    return found.group(1)


def events(body: bytes) -> dict[str, icalendar.Event]:
    parsed = icalendar.Calendar.from_ical(body)
    return {str(e["SUMMARY"]): e for e in parsed.walk("VEVENT")}


def test_a_teacher_subscribes_and_the_feed_is_in_danish_time(client, db, settings, world, fixed_clock):
    new_session(db, world.aarhus, world.robots, local(date(2026, 12, 1), 9))
    teacher = make_user(db, "teacher", organisation=make_school(db, municipality="Aarhus"))
    log_in(client, db, teacher, settings)
    made = post_form(client, "/calendar/feed/new", {"back": "view=week&date=2026-10-01&grade=8&notice=x&evil=1", "show": "all"})
    assert made.status_code == 303
    location = made.headers["location"]
    assert parse_qs(urlsplit(location).query) == {
        "view": ["week"], "date": ["2026-10-01"], "grade": ["8"], "notice": ["feed_created"]
    }
    assert location.startswith("/calendar?") and "feed/" not in location  # the secret is not in the address

    page = client.get(location)
    token = feed_token_from(page.text)
    assert 'readonly value="http://testserver/calendar/feed/' in page.text
    # Shown once: the next view of the calendar no longer has it.
    assert NEW_FEED_COOKIE not in client.cookies
    assert "/calendar/feed/" + token not in client.get("/calendar").text

    client.cookies.clear()  # calendar programs do not log in
    feed = client.get(f"/calendar/feed/{token}.ics")
    assert feed.status_code == 200 and feed.headers["content-type"].startswith("text/calendar")
    found = events(feed.content)
    # The feed keeps the filter it was made with: grade 8 has robots, not wind turbines for grades 2-4.
    assert set(found) == {"Robotter i skolen"}
    robot_events = [e for e in icalendar.Calendar.from_ical(feed.content).walk("VEVENT") if str(e["SUMMARY"]) == "Robotter i skolen"]
    starts = sorted(e["DTSTART"].dt for e in robot_events)
    assert [s.date() for s in starts] == [date(2026, 9, 10), date(2026, 10, 1), date(2026, 12, 1)]
    for start, offset in zip(starts, (timedelta(hours=2), timedelta(hours=2), timedelta(hours=1)), strict=True):
        assert str(start.tzinfo) == "Europe/Copenhagen"
        assert (start.hour, start.minute) == (9, 0)
        assert start.utcoffset() == offset  # summer time in September and October, winter time in December
    assert all(e["DTSTART"].params["TZID"] == "Europe/Copenhagen" for e in robot_events)
    assert icalendar.Calendar.from_ical(feed.content).walk("VTIMEZONE")


def test_a_new_address_revokes_the_old_and_stopping_the_feed_revokes_it(client, db, settings, fixed_clock):
    teacher = make_user(db, "teacher")
    log_in(client, db, teacher, settings)
    post_form(client, "/calendar/feed/new")
    first = feed_token_from(client.get("/calendar").text)
    post_form(client, "/calendar/feed/new")
    second = feed_token_from(client.get("/calendar").text)
    assert first != second
    assert client.get(f"/calendar/feed/{first}.ics").status_code == 404
    assert client.get(f"/calendar/feed/{second}.ics").status_code == 200

    stopped = post_form(client, "/calendar/feed/revoke", {"back": "view=agenda"})
    assert stopped.status_code == 303 and stopped.headers["location"] == "/calendar?view=agenda&notice=feed_revoked"
    assert client.get(f"/calendar/feed/{second}.ics").status_code == 404
    assert calendar.feed_of(db, teacher) is None


def test_unknown_tokens_and_deactivated_users_get_404(client, db, fixed_clock):
    assert client.get("/calendar/feed/not-a-token.ics").status_code == 404
    assert client.get(f"/calendar/feed/{'x' * 500}.ics").status_code == 404
    teacher = make_user(db, "teacher")
    token = calendar.create_feed(db, teacher, query="", now=NOW)
    assert client.get(f"/calendar/feed/{token}.ics").status_code == 200
    teacher.is_active = False
    db.add(teacher)
    db.commit()
    assert client.get(f"/calendar/feed/{token}.ics").status_code == 404


def test_only_a_hash_of_the_token_is_stored(db):
    teacher = make_user(db, "teacher")
    token = calendar.create_feed(db, teacher, query="grade=8", now=NOW)
    feed = calendar.feed_of(db, teacher)
    assert feed.token_hash != token and token not in feed.token_hash and len(feed.token_hash) == 64
    found_feed, owner = calendar.feed_by_token(db, token)
    assert found_feed.token_hash == feed.token_hash and owner.id == teacher.id
    assert calendar.feed_by_token(db, token + "x") is None


def test_a_providers_feed_has_its_drafts_and_its_cancelled_sessions_marked(client, db, world, fixed_clock):
    token = calendar.create_feed(db, world.aarhus, query="", now=NOW)
    parsed = icalendar.Calendar.from_ical(client.get(f"/calendar/feed/{token}.ics").content)
    by_uid = {str(e["UID"]): e for e in parsed.walk("VEVENT")}
    assert f"session-{world.drafted.id}@stem-portal" in by_uid
    assert str(by_uid[f"session-{world.cancelled.id}@stem-portal"]["STATUS"]) == "CANCELLED"
    assert f"session-{world.herning_session.id}@stem-portal" not in by_uid


def test_the_calendar_page_offers_the_feed_only_to_logged_in_users(client, db, settings, fixed_clock):
    assert 'action="/calendar/feed/new"' not in client.get("/calendar").text
    log_in(client, db, make_user(db, "coordinator", municipality="Aarhus"), settings)
    client.cookies.set("stem_lang", "en")
    html = client.get("/calendar").text
    assert 'action="/calendar/feed/new"' in html and 'action="/calendar/feed/revoke"' not in html
    assert "Sessions of published offers in Aarhus." in html
