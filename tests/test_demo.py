"""The demo data: one account per role, schools all over the region, offers of every type with
sessions on school days for the rest of the school year; and seeding twice adds nothing."""

from datetime import UTC, date, datetime, timedelta

import holidays
from sqlalchemy import func
from sqlmodel import Session, col, select

from app import demo
from app.accounts.models import Organisation, OrganisationKind, Role, SchoolLevel, User
from app.catalogue.models import (
    Offer,
    OfferSession,
    OfferStatus,
    OfferSubject,
    OfferTheme,
    OfferType,
)
from app.geography import MUNICIPALITIES
from app.i18n import TIMEZONE

TABLES = (Organisation, User, Offer, OfferTheme, OfferSubject, OfferSession)


def counts(db: Session) -> dict[str, int]:
    return {t.__name__: db.exec(select(func.count()).select_from(t)).one() for t in TABLES}


def test_seed_makes_a_living_portal(db):
    before = datetime.now(UTC)
    assert demo.seed(db) is True

    for role, email in demo.ACCOUNTS.items():
        user = db.exec(select(User).where(User.email == email)).one()
        assert user.role == Role(role)
        assert user.password_hash
    teacher = db.exec(select(User).where(User.email == demo.ACCOUNTS["teacher"])).one()
    provider = db.exec(select(User).where(User.email == demo.ACCOUNTS["provider"])).one()
    assert db.get(Organisation, teacher.organisation_id).name == "Frederiksbjerg Skole"
    assert db.get(Organisation, provider.organisation_id).name == "Grundfos Lab"

    organisations = db.exec(select(Organisation)).all()
    schools = [o for o in organisations if o.kind == OrganisationKind.school]
    assert {s.municipality for s in schools} == set(MUNICIPALITIES)
    for level in SchoolLevel:
        assert any(s.school_level == level for s in schools)
    providers = [o for o in organisations if o.kind == OrganisationKind.provider]
    assert len(providers) >= 90
    names = [o.name for o in schools + providers]
    assert len(names) == len(set(names))
    # The browser tests search organisations for these.
    assert [n for n in names if "viborg" in n.lower()] == ["Viborg Katedralskole"]
    assert "Aarhus Universitet, Institut for Fysik" in names
    assert len([n for n in names if "aarhus" in n.lower()]) < 50  # all on the first page

    offers = db.exec(select(Offer)).all()
    assert len(offers) >= 300
    published = [o for o in offers if o.status == OfferStatus.published]
    assert {o.type for o in published} == set(OfferType)
    assert len(published) > 0.8 * len(offers)
    assert all(o.girls_only for o in published if o.type == OfferType.girls_day)
    by_id = {o.id: o for o in offers}
    themed = set(db.exec(select(OfferTheme.offer_id)).all())
    with_subjects = set(db.exec(select(OfferSubject.offer_id)).all())
    assert themed == with_subjects == set(by_id)

    sessions = db.exec(select(OfferSession)).all()
    assert len(sessions) >= 3000
    with_sessions = {s.offer_id for s in sessions}
    assert not [o for o in offers if o.type == OfferType.expert and o.id in with_sessions]
    assert all(o.lead_days and o.max_visits_per_week for o in offers if o.type == OfferType.expert)
    public_holidays = holidays.Denmark(years=range(before.year, before.year + 3))
    for session in sessions:
        starts = session.starts_at.astimezone(TIMEZONE)
        assert session.starts_at > before
        assert session.ends_at > session.starts_at
        assert starts.date() not in public_holidays
        assert starts.weekday() < 5
        assert starts.isocalendar().week not in (7, 42)
        assert (1, 2) < (starts.month, starts.day) < (12, 21)  # not in the Christmas holiday
        if session.booking_deadline:
            assert before < session.booking_deadline <= session.starts_at
        if by_id[session.offer_id].type == OfferType.company_week:
            ends = session.ends_at.astimezone(TIMEZONE)
            assert (starts.weekday(), starts.hour, ends.weekday(), ends.hour) == (0, 8, 4, 15)
    girls_days = {
        s.starts_at.astimezone(TIMEZONE).date()
        for s in sessions
        if by_id[s.offer_id].type == OfferType.girls_day
    }
    assert len(girls_days) == 1


def test_every_demo_account_has_bookings_to_look_at(db):
    from app.bookings.models import Booking, BookingStatus

    demo.seed(db)
    teacher = db.exec(select(User).where(User.email == demo.ACCOUNTS["teacher"])).one()
    provider = db.exec(select(User).where(User.email == demo.ACCOUNTS["provider"])).one()
    bookings = db.exec(select(Booking)).all()
    assert any(b.teacher_id == teacher.id for b in bookings)
    assert sum(b.status == BookingStatus.pending for b in bookings) >= 5  # the coordinator's queue
    own_sessions = select(OfferSession.id).join(Offer).where(Offer.provider_id == provider.organisation_id)
    waiting = db.exec(select(Booking).where(col(Booking.session_id).in_(own_sessions), Booking.status == BookingStatus.waitlisted)).all()
    assert len(waiting) == 2


def test_seeding_twice_adds_nothing(db):
    assert demo.seed(db) is True
    after_first = counts(db)
    assert demo.seed(db) is False
    assert counts(db) == after_first
    accounts = select(func.count()).where(col(User.email).in_(demo.ACCOUNTS.values()))
    assert db.exec(accounts).one() == 5


def test_the_calendar_skips_holidays_and_ends_before_summer():
    calendar = demo.Calendar.starting(datetime(2026, 11, 23, 12, tzinfo=UTC))
    assert (calendar.first_day, calendar.last_day) == (date(2026, 11, 24), date(2027, 6, 25))
    days = set(calendar.school_days)
    assert date(2026, 11, 24) in days
    assert not days & {date(2026, 12, 21) + timedelta(days=n) for n in range(13)}  # Christmas
    assert not days & {date(2027, 2, 15) + timedelta(days=n) for n in range(5)}  # winter week 7
    assert date(2027, 3, 26) not in days  # Good Friday
    assert date(2027, 5, 6) not in days  # Ascension Day
    assert calendar.girls_day() == date(2027, 4, 29)
    assert date(2027, 5, 3) not in calendar.whole_weeks()  # Ascension Day that week
    # Seeded late in the spring, the sessions run until the summer holiday of the next year.
    assert demo.Calendar.starting(datetime(2027, 5, 20, tzinfo=UTC)).last_day == date(2028, 6, 23)
