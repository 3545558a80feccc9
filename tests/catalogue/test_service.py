"""Catalogue rules: publishing offers, dates with holidays, recurring dates, and finding offers."""

from datetime import UTC, date, datetime, time, timedelta

import pytest

from app.catalogue import service as catalogue
from app.catalogue.filters import filters_from_query
from app.catalogue.models import OfferFormat, OfferStatus, OfferType, SchoolHoliday, Theme
from app.catalogue.schemas import OfferCreate, OfferIn, RecurrenceIn, SessionIn
from app.errors import Conflict, Forbidden, InvalidInput, NotFound
from app.i18n import TIMEZONE
from tests.factories import make_provider, make_user

NOW = datetime(2026, 9, 1, 8, 0, tzinfo=UTC)


def local(day: date, hour: int) -> datetime:
    return datetime.combine(day, time(hour), TIMEZONE)


@pytest.fixture
def provider(db):
    return make_user(db, "provider", organisation=make_provider(db, municipality="Herning"))


def new_offer(db, provider, **fields):
    data = {"type": "course", "title": "Robotter i skolen", "status": "published", **fields}
    return catalogue.create_offer(db, provider, OfferCreate(**data), now=NOW)


def test_offer_takes_the_providers_municipality_and_position(db, provider):
    offer = new_offer(db, provider, themes=["ict", "ict", "industry"])
    assert offer.municipality == "Herning" and offer.latitude is not None
    themes, _subjects = catalogue.themes_and_subjects(db, [offer.id])
    assert themes[offer.id] == [Theme.ict, Theme.industry] or sorted(themes[offer.id]) == [
        Theme.ict,
        Theme.industry,
    ]
    assert offer.status == OfferStatus.published and offer.published_at == NOW


def test_girls_day_is_always_for_girls_and_a_company_week_is_long(db, provider):
    assert new_offer(db, provider, type="girls_day").girls_only is True
    assert new_offer(db, provider, type="company_week").is_long is True


def test_only_providers_publish_and_only_their_own_offers(db, provider):
    teacher = make_user(db, "teacher")
    with pytest.raises(Forbidden):
        catalogue.create_offer(db, teacher, OfferCreate(type="course", title="X"), now=NOW)
    offer = new_offer(db, provider)
    other = make_user(db, "provider")
    with pytest.raises(NotFound):
        catalogue.update_offer(
            db, other, offer.id, OfferIn(type="course", title="Stjålet"), now=NOW
        )


def test_status_changes_follow_the_offer_life(db, provider):
    offer = new_offer(db, provider, status="draft")
    assert (
        catalogue.change_status(db, provider, offer.id, OfferStatus.published, now=NOW).published_at
        == NOW
    )
    catalogue.change_status(db, provider, offer.id, OfferStatus.archived, now=NOW)
    with pytest.raises(Conflict):
        catalogue.change_status(db, provider, offer.id, OfferStatus.published, now=NOW)


def test_drafts_are_hidden_from_everyone_but_their_provider_and_staff(db, provider):
    offer = new_offer(db, provider, status="draft")
    with pytest.raises(NotFound):
        catalogue.visible_offer(db, None, offer.id)
    with pytest.raises(NotFound):
        catalogue.visible_offer(db, make_user(db, "teacher"), offer.id)
    assert catalogue.visible_offer(db, provider, offer.id).id == offer.id
    assert catalogue.visible_offer(db, make_user(db, "coordinator"), offer.id).id == offer.id


@pytest.mark.parametrize(
    ("fields", "field"),
    [
        (
            {"starts_at": local(date(2026, 8, 20), 9), "ends_at": local(date(2026, 8, 20), 12)},
            "starts_at",
        ),  # past
        (
            {"starts_at": local(date(2026, 10, 1), 12), "ends_at": local(date(2026, 10, 1), 9)},
            "ends_at",
        ),
        (
            {"starts_at": local(date(2026, 12, 25), 9), "ends_at": local(date(2026, 12, 25), 12)},
            "starts_at",
        ),  # Christmas
    ],
)
def test_bad_session_dates_name_the_field(db, provider, fields, field):
    offer = new_offer(db, provider)
    with pytest.raises(InvalidInput) as refused:
        catalogue.add_session(
            db, provider, offer.id, SessionIn(capacity_pupils=20, **fields), now=NOW
        )
    assert refused.value.field == field


def test_capacity_must_be_positive():
    with pytest.raises(ValueError, match="capacity_pupils"):
        SessionIn(starts_at=NOW, ends_at=NOW + timedelta(hours=1), capacity_pupils=0)


def test_a_holiday_can_be_opened_on_purpose(db, provider):
    offer = new_offer(db, provider)
    session = catalogue.add_session(
        db,
        provider,
        offer.id,
        SessionIn(
            starts_at=local(date(2026, 12, 25), 9),
            ends_at=local(date(2026, 12, 25), 12),
            capacity_pupils=20,
            open_on_holiday=True,
        ),
        now=NOW,
    )
    assert session.starts_at == local(date(2026, 12, 25), 9)


def test_school_holidays_of_the_municipality_are_closed(db, provider):
    db.add(
        SchoolHoliday(
            name="Efterårsferie",
            municipality="Herning",
            starts_on=date(2026, 10, 12),
            ends_on=date(2026, 10, 16),
        )
    )
    db.add(
        SchoolHoliday(
            name="Lokal dag",
            municipality="Aarhus",
            starts_on=date(2026, 11, 4),
            ends_on=date(2026, 11, 4),
        )
    )
    db.commit()
    assert catalogue.blackout_reason(db, date(2026, 10, 14), "Herning") == "Efterårsferie"
    assert catalogue.blackout_reason(db, date(2026, 11, 4), "Herning") is None
    assert catalogue.blackout_reason(db, date(2026, 11, 4), "Aarhus") == "Lokal dag"


def test_naive_times_are_danish_time():
    session = SessionIn(starts_at="2026-10-01T09:00", ends_at="2026-10-01T12:00", capacity_pupils=5)
    assert session.starts_at.astimezone(UTC).hour == 7  # summer time


def test_recurring_sessions_skip_holidays_and_are_all_or_nothing(db, provider):
    offer = new_offer(db, provider)
    db.add(
        SchoolHoliday(
            name="Efterårsferie",
            municipality=None,
            starts_on=date(2026, 10, 12),
            ends_on=date(2026, 10, 16),
        )
    )
    db.commit()
    rule = RecurrenceIn(
        weekdays=[1],
        starts=time(9),
        ends=time(12),
        first_date=date(2026, 9, 1),
        last_date=date(2026, 10, 27),
        capacity_pupils=25,
        deadline_days=7,
    )
    made, skipped = catalogue.add_recurring_sessions(db, provider, offer.id, rule, now=NOW)
    tuesdays = [s.starts_at.astimezone(TIMEZONE).date() for s in made]
    assert date(2026, 10, 13) not in tuesdays and (date(2026, 10, 13), "Efterårsferie") in skipped
    assert all(d.weekday() == 1 for d in tuesdays)
    assert len({s.series for s in made}) == 1
    # A week before at the same Danish wall-clock time, also across the change to winter time.
    # (A deadline already passed is left out.)
    with_deadline = [s for s in made if s.booking_deadline]
    assert len(with_deadline) == len(made) - 1
    assert all(
        s.booking_deadline == s.starts_at.astimezone(TIMEZONE) - timedelta(days=7)
        for s in with_deadline
    )


@pytest.mark.parametrize(
    ("rule", "field"),
    [
        (
            {"first_date": date(2026, 9, 5), "last_date": date(2026, 9, 6), "weekdays": [1]},
            "weekdays",
        ),  # no Tuesday
        (
            {
                "first_date": date(2026, 9, 1),
                "last_date": date(2028, 9, 1),
                "weekdays": [0, 1, 2, 3, 4],
            },
            "last_date",
        ),
        (
            {"first_date": date(2026, 9, 10), "last_date": date(2026, 9, 1), "weekdays": [1]},
            "last_date",
        ),
    ],
)
def test_recurrence_rules_that_make_nothing_or_too_much_are_refused(db, provider, rule, field):
    offer = new_offer(db, provider)
    data = RecurrenceIn(starts=time(9), ends=time(12), capacity_pupils=20, **rule)
    with pytest.raises(InvalidInput) as refused:
        catalogue.add_recurring_sessions(db, provider, offer.id, data, now=NOW)
    assert refused.value.field == field
    assert catalogue.sessions_of(db, offer.id, now=NOW) == []


def test_expert_offers_have_no_fixed_dates(db, provider):
    offer = new_offer(db, provider, type="expert", lead_days=10)
    with pytest.raises(InvalidInput):
        catalogue.add_session(
            db,
            provider,
            offer.id,
            SessionIn(
                starts_at=local(date(2026, 10, 1), 9),
                ends_at=local(date(2026, 10, 1), 10),
                capacity_pupils=5,
            ),
            now=NOW,
        )


def search(db, **filters):
    hits, total = catalogue.search_offers(db, catalogue.CatalogueFilters(**filters), now=NOW)
    return [h.offer.title for h in hits], total


def test_search_filters_and_sorting(db, provider):
    aarhus_provider = make_user(
        db, "provider", organisation=make_provider(db, municipality="Aarhus")
    )
    week = new_offer(
        db,
        provider,
        type="company_week",
        title="Virksomhedsuge om vind",
        themes=["climate_energy"],
        grade_min=7,
        grade_max=9,
    )
    girls = new_offer(
        db,
        aarhus_provider,
        type="girls_day",
        title="Girls Day: kodning",
        themes=["ict"],
        grade_min=5,
        grade_max=13,
        format="at_provider",
    )
    new_offer(db, provider, type="expert", title="Spørg en ingeniør", themes=["industry"])
    new_offer(db, provider, title="Skjult kladde", status="draft")
    for offer, day in ((week, date(2026, 10, 5)), (girls, date(2026, 9, 24))):
        catalogue.add_session(
            db,
            provider if offer is week else aarhus_provider,
            offer.id,
            SessionIn(starts_at=local(day, 9), ends_at=local(day, 14), capacity_pupils=30),
            now=NOW,
        )

    titles, total = search(db)
    assert total == 3 and "Skjult kladde" not in titles
    assert titles[:2] == [
        "Girls Day: kodning",
        "Virksomhedsuge om vind",
    ]  # soonest first; no dates last
    assert search(db, q="vind")[0] == ["Virksomhedsuge om vind"]
    assert search(db, type=OfferType.girls_day)[0] == ["Girls Day: kodning"]
    assert search(db, theme=Theme.ict)[0] == ["Girls Day: kodning"]
    assert search(db, grade=8)[1] == 3 and search(db, grade=12)[0] == [
        "Girls Day: kodning",
        "Spørg en ingeniør",
    ]
    assert search(db, girls_only=True)[0] == ["Girls Day: kodning"]
    assert search(db, municipality="Aarhus")[0] == ["Girls Day: kodning"]
    assert search(db, long=True)[0] == ["Virksomhedsuge om vind"]
    assert search(db, format=OfferFormat.at_provider)[1] == 3
    assert set(search(db, date_from=date(2026, 10, 1), date_to=date(2026, 10, 31))[0]) == {
        "Virksomhedsuge om vind",
        "Spørg en ingeniør",
    }
    backwards = filters_from_query({"from": "2026-10-31", "to": "2026-10-01"}, None)  # typed the wrong way round
    assert (backwards.date_from, backwards.date_to) == (date(2026, 10, 1), date(2026, 10, 31))
    aarhus = (56.1567, 10.2108)
    nearest = catalogue.search_offers(
        db, catalogue.CatalogueFilters(origin=aarhus, sort="nearest"), now=NOW
    )[0]
    assert nearest[0].offer.title == "Girls Day: kodning" and nearest[0].distance_km < 10
    assert search(db, origin=aarhus, max_km=30)[0] == ["Girls Day: kodning"]


def test_search_shows_the_next_three_open_dates(db, provider):
    offer = new_offer(db, provider)
    for week in range(5):
        day = date(2026, 9, 8) + timedelta(weeks=week)
        catalogue.add_session(
            db,
            provider,
            offer.id,
            SessionIn(starts_at=local(day, 9), ends_at=local(day, 12), capacity_pupils=20),
            now=NOW,
        )
    first = catalogue.sessions_of(db, offer.id, now=NOW)[0]
    catalogue.cancel_session(db, provider, first.id, now=NOW)
    (hit,), _total = catalogue.search_offers(db, catalogue.CatalogueFilters(), now=NOW)
    assert [s.starts_at.date() for s in hit.next_sessions] == [
        date(2026, 9, 15),
        date(2026, 9, 22),
        date(2026, 9, 29),
    ]


def test_new_dates_stay_within_the_planning_period(db, provider):
    # NOW is in school year 2026/27: dates may be set up to the end of school year 2031/32.
    offer = new_offer(db, provider)
    last_day = date(2032, 7, 27)  # a Tuesday

    def session_on(day: date) -> SessionIn:
        return SessionIn(starts_at=local(day, 9), ends_at=local(day, 12), capacity_pupils=20)

    assert catalogue.add_session(db, provider, offer.id, session_on(last_day), now=NOW).id
    for day in (date(2032, 8, 3), date(9999, 12, 28)):
        with pytest.raises(InvalidInput) as refused:
            catalogue.add_session(db, provider, offer.id, session_on(day), now=NOW)
        assert refused.value.field == "starts_at"
    rule = RecurrenceIn(
        weekdays=[1], starts=time(9), ends=time(12), capacity_pupils=20,
        first_date=date(9999, 11, 1), last_date=date(9999, 12, 31),
    )
    with pytest.raises(InvalidInput) as refused:
        catalogue.add_recurring_sessions(db, provider, offer.id, rule, now=NOW)
    assert refused.value.field == "first_date"
    assert len(catalogue.sessions_of(db, offer.id, now=NOW)) == 1
