"""The provider's date tools: a weekly rule that makes dates of several days (a company week), the
same default booking deadline for a date added by hand as for the rule's, and duplicating an offer."""

from datetime import UTC, date, datetime, time, timedelta

import icalendar
import pytest
from sqlmodel import func, select

from app.barometer import service as barometer
from app.bookings import service as bookings
from app.bookings.models import BookingStatus
from app.bookings.schemas import BookingIn
from app.calendar import service as calendar
from app.calendar.booking_files import booking_file
from app.catalogue import resources
from app.catalogue import service as catalogue
from app.catalogue.models import (
    AvailabilityWindow,
    Offer,
    OfferPicture,
    OfferStatus,
    OfferTravelArea,
    ResourceKind,
    SchoolHoliday,
)
from app.catalogue.schemas import OfferCreate, RecurrenceIn, SessionIn
from app.errors import InvalidInput, NotFound
from app.i18n import TIMEZONE
from tests.factories import make_provider, make_school, make_user

NOW = datetime(2026, 9, 1, 8, 0, tzinfo=UTC)  # Tuesday 1 September 2026


def local(day: date, hour: int) -> datetime:
    return datetime.combine(day, time(hour), TIMEZONE)


@pytest.fixture
def provider(db):
    return make_user(db, "provider", organisation=make_provider(db, municipality="Herning"))


def company_week_offer(db, provider, **fields):
    data = {"type": "company_week", "title": "Virksomhedsuge hos Vestas", "status": "published",
            "grade_min": 7, "grade_max": 9, "requires_approval": False, **fields}
    return catalogue.create_offer(db, provider, OfferCreate(**data), now=NOW)


def company_weeks(**fields) -> RecurrenceIn:
    """Every Monday for five days, 8 to 15, in October 2026."""
    rule = {"weekdays": [0], "days": 5, "starts": time(8), "ends": time(15), "first_date": date(2026, 10, 1),
            "last_date": date(2026, 10, 30), "capacity_pupils": 28, "deadline_days": 7, **fields}
    return RecurrenceIn(**rule)


def holidays(db):
    db.add(SchoolHoliday(name="Efterårsferie", starts_on=date(2026, 10, 12), ends_on=date(2026, 10, 16)))
    # One day in the middle of a week, in the offer's municipality only: the whole week is closed.
    db.add(SchoolHoliday(name="Lokal dag", municipality="Herning", starts_on=date(2026, 10, 21), ends_on=date(2026, 10, 21)))
    db.commit()


# --- a weekly rule of dates that last several days ---------------------------------------------


def test_a_weekly_rule_makes_company_weeks_from_monday_morning_to_friday_afternoon(db, provider):
    offer = company_week_offer(db, provider)
    holidays(db)
    made, skipped = catalogue.add_recurring_sessions(db, provider, offer.id, company_weeks(), now=NOW)
    spans = [(s.starts_at.astimezone(TIMEZONE), s.ends_at.astimezone(TIMEZONE)) for s in made]
    assert spans == [
        (local(date(2026, 10, 5), 8), local(date(2026, 10, 9), 15)),
        (local(date(2026, 10, 26), 8), local(date(2026, 10, 30), 15)),
    ]
    # A holiday on any day of a week closes the week; it is named with the week's first day.
    assert skipped == [(date(2026, 10, 12), "Efterårsferie"), (date(2026, 10, 19), "Lokal dag")]
    assert all(
        s.booking_deadline == s.starts_at.astimezone(TIMEZONE) - timedelta(days=7) for s in made
    )


def test_a_week_that_would_end_after_the_period_is_not_made(db, provider):
    offer = company_week_offer(db, provider)
    made, _skipped = catalogue.add_recurring_sessions(
        db, provider, offer.id, company_weeks(last_date=date(2026, 10, 29)), now=NOW
    )
    assert [s.starts_at.astimezone(TIMEZONE).date() for s in made] == [
        date(2026, 10, 5), date(2026, 10, 12), date(2026, 10, 19)
    ]


def test_a_date_of_several_days_may_end_earlier_in_the_day_than_it_starts(db, provider):
    offer = company_week_offer(db, provider)
    rule = company_weeks(weekdays=[3], days=2, starts=time(16), ends=time(12), last_date=date(2026, 10, 9))
    made, _skipped = catalogue.add_recurring_sessions(db, provider, offer.id, rule, now=NOW)
    assert [(s.starts_at.astimezone(TIMEZONE), s.ends_at.astimezone(TIMEZONE)) for s in made] == [
        (local(date(2026, 10, 1), 16), local(date(2026, 10, 2), 12)),
        (local(date(2026, 10, 8), 16), local(date(2026, 10, 9), 12)),
    ]


@pytest.mark.parametrize(
    ("fields", "field"),
    [
        ({"weekdays": [0, 2]}, "days"),  # Monday and Wednesday weeks of five days run into each other
        ({"first_date": date(2026, 10, 5), "last_date": date(2026, 10, 8)}, "last_date"),  # shorter than a week
        ({"days": 1, "starts": time(15), "ends": time(8)}, "ends"),  # one day, ending before it starts
        ({"first_date": date(2026, 10, 30), "last_date": date(2026, 10, 1)}, "last_date"),
    ],
)
def test_a_rule_that_cannot_make_sound_dates_is_refused_at_its_field(db, provider, fields, field):
    offer = company_week_offer(db, provider)
    with pytest.raises(InvalidInput) as refused:
        catalogue.add_recurring_sessions(db, provider, offer.id, company_weeks(**fields), now=NOW)
    assert refused.value.field == field
    assert catalogue.sessions_of(db, offer.id, now=NOW) == []


@pytest.mark.parametrize("days", [0, 32])
def test_the_number_of_days_is_bounded(days):
    with pytest.raises(ValueError, match="days"):
        company_weeks(days=days)


def test_a_date_by_hand_over_a_holiday_is_refused_on_any_of_its_days(db, provider):
    offer = company_week_offer(db, provider)
    holidays(db)
    # From Friday before the autumn holiday to its Monday: the Monday is closed.
    over = SessionIn(starts_at=local(date(2026, 10, 9), 8), ends_at=local(date(2026, 10, 12), 15), capacity_pupils=20)
    with pytest.raises(InvalidInput) as refused:
        catalogue.add_session(db, provider, offer.id, over, now=NOW)
    assert refused.value.field == "starts_at" and "12.10.2026" in refused.value.message
    assert "Efterårsferie" in refused.value.message
    opened = catalogue.add_session(db, provider, offer.id, over.model_copy(update={"open_on_holiday": True}), now=NOW)
    assert opened.id is not None
    # A date that ends at midnight does not touch the next day.
    before = SessionIn(starts_at=local(date(2026, 10, 10), 20), ends_at=local(date(2026, 10, 12), 0), capacity_pupils=20)
    assert catalogue.add_session(db, provider, offer.id, before, now=NOW).id is not None


def test_the_skipped_reason_is_told_again_after_the_redirect(db, provider):
    offer = company_week_offer(db, provider)
    holidays(db)
    assert catalogue.why_skipped(db, offer, date(2026, 10, 19), 5, now=NOW) == "Lokal dag"
    assert catalogue.why_skipped(db, offer, date(2026, 10, 19), 2, now=NOW) is None
    assert catalogue.why_skipped(db, offer, date(2026, 9, 1), 1, now=NOW) is not None  # today: in the past


def test_a_booked_company_week_is_one_date_in_the_calendar_and_counts_once(db, provider):
    offer = company_week_offer(db, provider)
    made, _skipped = catalogue.add_recurring_sessions(
        db, provider, offer.id, company_weeks(last_date=date(2026, 10, 9)), now=NOW
    )
    [week] = made
    teacher = make_user(db, "teacher", organisation=make_school(db, municipality="Herning"))
    booking = bookings.book_session(
        db, teacher, BookingIn(session_id=week.id, class_name="8.a", grade=8, pupils=24, girls=12), now=NOW
    )
    assert booking.status == BookingStatus.confirmed
    first, last = date(2026, 10, 1), date(2026, 10, 31)
    period = calendar.Period(calendar.View.month, first, last, first, last)
    entries = calendar.calendar_entries(db, teacher, period.starts_at, period.ends_at, now=NOW)
    mine = [e for e in entries if e.booking is not None]
    assert [e.session.id for e in mine] == [week.id]  # one entry for the week, not five
    by_day = calendar.entries_by_day(entries, first, last)
    assert sorted(day for day, day_entries in by_day.items() if any(e.booking for e in day_entries)) == [
        date(2026, 10, 5) + timedelta(days=n) for n in range(5)
    ]
    # Its calendar file is one event from Monday 8 to Friday 15.
    event = icalendar.Calendar.from_ical(
        booking_file(db, booking, organizer="stem@example.dk", base_url="http://test", now=NOW)
    ).walk("VEVENT")
    assert len(event) == 1
    assert event[0].decoded("dtstart") == local(date(2026, 10, 5), 8)
    assert event[0].decoded("dtend") == local(date(2026, 10, 9), 15)
    # The barometer counts one company week and one class, not a booking per day.
    figures = barometer.count(db, barometer.filters(year=2026), now=NOW)["totals"]
    assert (figures["company_weeks"], figures["bookings"], figures["pupils"]) == (1, 1, 24)


# --- the default booking deadline --------------------------------------------------------------


def test_the_default_deadline_is_a_week_before_unless_that_has_passed():
    starts = local(date(2026, 10, 5), 8)
    assert catalogue.deadline_before(starts, catalogue.DEFAULT_DEADLINE_DAYS, now=NOW) == local(date(2026, 9, 28), 8)
    assert catalogue.deadline_before(local(date(2026, 9, 4), 8), 7, now=NOW) is None


# --- duplicating an offer ----------------------------------------------------------------------


def full_offer(db, provider) -> Offer:
    offer = catalogue.create_offer(
        db,
        provider,
        OfferCreate(
            type="course", title="Robotter i skolen", summary="Byg en robot", description="**Kom og byg**",
            themes=["ict", "industry"], subjects=["maths", "informatics"], grade_min=4, grade_max=7,
            format="at_school", is_long=True, all_dates_together=True, girls_only=True, address="Vej 1",
            municipality="Aarhus", language="da", pupils_bring="Madpakke", accessibility="Elevator",
            contact_name="Kim", contact_email="kim@example.dk", contact_phone="12345678",
            requires_approval=False, waitlist_may_pass=False, waitlist_offer_hours=24,
            cancellation_weekdays=5, min_pupils=10, max_pupils=30, status="published",
        ),
        now=NOW,
    )
    catalogue.set_picture(db, provider, offer.id, content=b"\x89PNG\r\n\x1a\n", content_type="image/png", alt_text="En robot")
    catalogue.add_session(
        db, provider, offer.id,
        SessionIn(starts_at=local(date(2026, 10, 6), 9), ends_at=local(date(2026, 10, 6), 12), capacity_pupils=20),
        now=NOW,
    )
    return offer


SETTINGS_OF_THE_ORIGINAL_ONLY = {"id", "status", "title", "created_at", "updated_at", "published_at"}


def test_a_copy_has_every_setting_as_a_draft_without_dates(db, provider):
    offer = full_offer(db, provider)
    later = NOW + timedelta(hours=1)
    copy = catalogue.duplicate_offer(db, provider, offer.id, now=later)
    assert copy.id != offer.id and copy.title == "Kopi af Robotter i skolen"
    assert (copy.status, copy.published_at, copy.created_at, copy.updated_at) == (OfferStatus.draft, None, later, later)
    assert copy.model_dump(exclude=SETTINGS_OF_THE_ORIGINAL_ONLY) == offer.model_dump(exclude=SETTINGS_OF_THE_ORIGINAL_ONLY)
    themes, subjects = catalogue.themes_and_subjects(db, [offer.id, copy.id])
    assert sorted(themes[copy.id]) == sorted(themes[offer.id]) and len(themes[copy.id]) == 2
    assert sorted(subjects[copy.id]) == sorted(subjects[offer.id]) and len(subjects[copy.id]) == 2
    picture = db.get(OfferPicture, copy.id)
    assert (picture.content, picture.alt_text) == (b"\x89PNG\r\n\x1a\n", "En robot")
    # Not its dates (nor so their bookings); the original keeps its own.
    assert catalogue.sessions_of(db, copy.id, now=NOW, include_past=True) == []
    assert len(catalogue.sessions_of(db, offer.id, now=NOW)) == 1
    assert db.get(Offer, offer.id).status == OfferStatus.published


def test_a_copy_is_titled_in_the_offers_language_and_fits_the_title_column(db, provider):
    offer = catalogue.create_offer(db, provider, OfferCreate(type="course", title="R" * 200, language="en"), now=NOW)
    copy = catalogue.duplicate_offer(db, provider, offer.id, now=NOW)
    assert copy.title.startswith("Copy of RRR") and len(copy.title) == 200


def test_a_copy_of_an_expert_keeps_when_and_where_the_expert_goes(db, provider):
    offer = catalogue.create_offer(db, provider, OfferCreate(type="expert", title="Spørg en ingeniør", lead_days=10, max_visits_per_week=2), now=NOW)
    resources.add_window(db, provider, offer.id, weekday=2, starts=time(9), ends=time(14))
    resources.set_travel_areas(db, provider, offer.id, ["Aarhus", "Skive"])
    engineer = resources.create_resource(db, provider, name="Ingeniør Ida", kind=ResourceKind.person)
    resources.set_offer_resources(db, provider, offer.id, [engineer.id])
    copy = catalogue.duplicate_offer(db, provider, offer.id, now=NOW)
    windows, areas = resources.availability(db, copy.id)
    assert [(w.weekday, w.starts, w.ends) for w in windows] == [(2, time(9), time(14))]
    assert areas == ["Aarhus", "Skive"]
    assert [r.id for r in resources.offer_resources(db, copy.id)] == [engineer.id]
    assert (copy.lead_days, copy.max_visits_per_week) == (10, 2)
    # The original's rows stay its own.
    assert db.exec(select(func.count()).select_from(AvailabilityWindow).where(AvailabilityWindow.offer_id == offer.id)).one() == 1
    assert db.exec(select(func.count()).select_from(OfferTravelArea).where(OfferTravelArea.offer_id == offer.id)).one() == 2


@pytest.mark.parametrize("role", ["other provider", "teacher", "coordinator", "admin", "mentor"])
def test_nobody_but_the_offers_provider_can_copy_it(db, provider, role):
    offer = full_offer(db, provider)
    actor = make_user(db, "provider") if role == "other provider" else make_user(db, role)
    offers_before = db.exec(select(func.count()).select_from(Offer)).one()
    with pytest.raises(NotFound):
        catalogue.duplicate_offer(db, actor, offer.id, now=NOW)
    assert db.exec(select(func.count()).select_from(Offer)).one() == offers_before
