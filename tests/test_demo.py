"""The demo data: one account per role, schools all over the region, offers of every type with
sessions on school days for the rest of the school year, bookings for every account to look at,
three past years of completed activities, evaluations and targets for the barometer;
what the README promises of it holds on whatever day it is seeded; and seeding twice adds nothing."""

from collections import defaultdict
from datetime import UTC, date, datetime, timedelta

import holidays
import pytest
from sqlalchemy import func
from sqlmodel import Session, col, select

from app import demo, demo_history
from app.accounts import secrets
from app.accounts.models import Organisation, OrganisationKind, Role, SchoolLevel, User
from app.barometer.models import Target
from app.bookings import service as bookings
from app.bookings.models import Booking, BookingEvent, BookingStatus
from app.calendar.bounds import school_year_of
from app.catalogue.holidays import standard_school_holidays
from app.catalogue.models import (
    Offer,
    OfferSession,
    OfferStatus,
    OfferSubject,
    OfferTheme,
    OfferType,
    SchoolHoliday,
    Theme,
)
from app.config import get_settings
from app.evaluations.models import Answer, EvaluationRequest, Question, QuestionKind, Respondent
from app.geography import MUNICIPALITIES
from app.i18n import TIMEZONE
from app.mentors import hours, shifts
from app.mentors.conduct import CONDUCT_VERSION, CONSENT_TEXT_VERSION
from app.mentors.models import (
    ChildCertificateCheck,
    GuardianConsent,
    MentorMunicipality,
    MentorProfile,
    MentorStatus,
    MentorTheme,
    Shift,
    ShiftStatus,
)
from app.mentors.safeguarding import VALID_FOR
from app.mentors.service import age_on, is_mentor_institution
from app.start import service as start

TABLES = (
    Organisation,
    User,
    Offer,
    OfferTheme,
    OfferSubject,
    OfferSession,
    Booking,
    SchoolHoliday,
    MentorProfile,
    Shift,
)

# Days over two school years on which the demo must keep its promises: around Christmas and New
# Year (one just before midnight in UTC, already the next day in Denmark), in the winter, Easter and
# autumn holidays, in a Girls Day week of each year, late in the spring, at the summer holiday's
# start, in the middle of it, and at the school year's turn.
SEEDING_DAYS = [
    datetime(2026, 12, 20, 9, tzinfo=UTC),
    datetime(2026, 12, 31, 23, 30, tzinfo=UTC),
    datetime(2027, 2, 16, 9, tzinfo=UTC),
    datetime(2027, 3, 24, 9, tzinfo=UTC),
    datetime(2027, 4, 27, 9, tzinfo=UTC),
    datetime(2027, 5, 20, 9, tzinfo=UTC),
    datetime(2027, 6, 30, 9, tzinfo=UTC),
    datetime(2027, 7, 15, 9, tzinfo=UTC),
    datetime(2027, 8, 1, 9, tzinfo=UTC),
    datetime(2027, 10, 19, 9, tzinfo=UTC),
    datetime(2027, 12, 24, 9, tzinfo=UTC),
    datetime(2028, 4, 25, 9, tzinfo=UTC),
]


def counts(db: Session) -> dict[str, int]:
    return {t.__name__: db.exec(select(func.count()).select_from(t)).one() for t in TABLES}


def account(db: Session, role: str) -> User:
    return db.exec(select(User).where(User.email == demo.ACCOUNTS[role])).one()


def assert_the_readme_holds(db: Session, now: datetime) -> None:
    """Every promise of the README's demo section, checked as the people it promises it to would
    find it on the day `now`."""
    # One account per role, each logging in with the demo password.
    for role, email in demo.ACCOUNTS.items():
        user = db.exec(select(User).where(User.email == email)).one()
        assert user.role == Role(role) and user.is_active
        assert secrets.verify_password(user.password_hash, demo.PASSWORD)
    teacher, provider, coordinator = account(db, "teacher"), account(db, "provider"), account(db, "coordinator")
    assert db.get(Organisation, teacher.organisation_id).name == "Frederiksbjerg Skole"
    assert db.get(Organisation, provider.organisation_id).name == "Grundfos Lab"
    assert coordinator.municipality is None  # the whole region

    # About 160 schools in all 19 municipalities and 100 providers.
    organisations = db.exec(select(Organisation)).all()
    schools = [o for o in organisations if o.kind == OrganisationKind.school]
    assert 140 <= len(schools) <= 180
    assert {s.municipality for s in schools} == set(MUNICIPALITIES)
    assert 90 <= len([o for o in organisations if o.kind == OrganisationKind.provider]) <= 110

    # About 430 offers of every type, with some 4,000 dates through the school year, a year of
    # past mentoring dates, and the booked dates of three past years and this one.
    offers = {o.id: o for o in db.exec(select(Offer)).all()}
    assert 380 <= len(offers) <= 480
    assert {o.type for o in offers.values() if o.status == OfferStatus.published} == set(OfferType)
    sessions = db.exec(select(OfferSession)).all()
    today = now.astimezone(TIMEZONE).date()
    coming = [s for s in sessions if s.starts_at > now]
    past = [s for s in sessions if s.starts_at <= now]
    assert len(coming) >= 3000, len(coming)
    assert len([s for s in past if offers[s.offer_id].type == OfferType.mentoring]) >= 500, len(past)
    assert {offers[s.offer_id].type for s in past} == set(OfferType)
    booked = set(db.exec(select(Booking.session_id)).all())
    history_starts = date(today.year - demo_history.YEARS_BACK, 1, 1)

    # The usual school holidays, for the school years the dates fall in, and no date in them (nor
    # a past date in the holidays of its year).
    last_day = max(s.ends_at for s in sessions).astimezone(TIMEZONE).date()
    breaks = db.exec(select(SchoolHoliday).where(col(SchoolHoliday.municipality).is_(None))).all()
    years_with_breaks = {school_year_of(b.starts_on) for b in breaks}
    assert set(range(school_year_of(today), school_year_of(last_day) + 1)) <= years_with_breaks
    public = holidays.Denmark(years=range(history_starts.year, last_day.year + 1))
    closed = {b.starts_on + timedelta(days=n) for b in breaks for n in range((b.ends_on - b.starts_on).days + 1)}
    first_school_year = school_year_of(history_starts) - 1
    past_breaks = [b for year in range(first_school_year, school_year_of(today) + 1) for b in standard_school_holidays(year)]
    closed |= {start + timedelta(days=n) for _name, start, end in past_breaks for n in range((end - start).days + 1)}
    for session in sessions:
        starts = session.starts_at.astimezone(TIMEZONE)
        days = {starts.date() + timedelta(days=n) for n in range((session.ends_at - session.starts_at).days + 1)}
        if session.starts_at <= now:
            # The demo's past mentoring dates, or a booked date of the history.
            if offers[session.offer_id].type == OfferType.mentoring:
                assert today - timedelta(days=366) < starts.date() < today
            else:
                assert history_starts <= starts.date() < today and session.id in booked
            assert session.ends_at <= now
        else:
            assert starts.date() > today
        assert session.ends_at > session.starts_at
        assert starts.weekday() < 5 and not days & closed and not days & set(public)
        if session.booking_deadline:
            assert now < session.booking_deadline <= session.starts_at
        if offers[session.offer_id].type == OfferType.mentoring:
            assert 1 <= session.mentors_min <= 2 <= session.mentors_max <= 3
        else:
            assert session.mentors_min == session.mentors_max == 0
    # Girls Day: one campaign day ahead, a Thursday in April, as it was in the years before.
    girls_days = {
        s.starts_at.astimezone(TIMEZONE).date() for s in sessions if offers[s.offer_id].type == OfferType.girls_day
    }
    assert len([d for d in girls_days if d > today]) == 1
    assert all((d.month, d.weekday()) == (4, 3) for d in girls_days)
    assert len({d.year for d in girls_days if d < today}) >= demo_history.YEARS_BACK

    # The demo teacher's school has bookings.
    school_bookings, _ = bookings.list_bookings(db, teacher, limit=200)  # as the page shows them
    assert any(b.status == BookingStatus.pending for b in school_bookings)
    assert any(b.status == BookingStatus.confirmed for b in school_bookings)

    # The demo provider has a full date with two classes waiting: neither fits what is left.
    waiting, _ = bookings.list_bookings(db, provider, status=BookingStatus.waitlisted)
    (full_id,) = {b.session_id for b in waiting}
    assert len(waiting) == 2
    full = db.get(OfferSession, full_id)
    held_now = bookings.held(db, [full_id], now=now)[full_id]
    assert not any(bookings.fits(full, held_now, b.pupils) for b in waiting)

    # The coordinator has an approval queue, of bookings still waiting for their answer.
    queue, _ = bookings.list_bookings(db, coordinator, status=BookingStatus.pending)
    assert len(queue) >= 5
    assert all(b.hold_until is None or b.hold_until > now for b in queue)

    assert_the_start_pages_show_it(db, now)
    assert_the_mentors_are_there(db, now, offers, sessions)
    assert_the_history_tells_a_story(db, now, offers, sessions, closed | set(public))
    # Last, as it changes the data: the demo mentor takes the first open shift at once.
    mentor = account(db, "mentor")
    rows, total = shifts.open_shifts(db, mentor, now=now)
    assert total >= 1 and rows
    first = rows[0]
    assert first.mentors_signed < first.mentors_max and first.starts_at > now
    shift = shifts.sign_up(db, mentor, first.session_id, now=now)
    assert shift.status == ShiftStatus.signed_up


def assert_the_start_pages_show_it(db: Session, now: datetime) -> None:
    """The README's promises as each account's start page (`/`) shows them: the public home page a
    coming Girls Day and company weeks, the teacher the school's coming bookings, the provider its
    full date with two classes waiting, the coordinator the approval queue."""
    home = start.public_start(db, now=now)
    assert home.girls_day and home.company_weeks
    teacher_page = start.teacher_start(db, account(db, "teacher"), now=now)
    assert teacher_page.coming and all(row.session.starts_at > now for row in teacher_page.coming)
    provider_page = start.provider_start(db, account(db, "provider"), now=now)
    assert [(d.full, d.waiting) for d in provider_page.waiting] == [(True, 2)]
    staff_page = start.staff_start(db, account(db, "coordinator"), now=now, settings=get_settings())
    assert staff_page.awaiting_total >= 5 and staff_page.awaiting


def assert_the_mentors_are_there(db: Session, now: datetime, offers: dict[int, Offer], sessions: list[OfferSession]) -> None:
    """About 150 mentors of the region's upper-secondary schools, universities and colleges, in
    the states the README promises; mentoring dates part filled; a year of past hours; and the
    demo mentor approved, with hours, a certificate holding for a year and a coming shift."""
    today = now.astimezone(TIMEZONE).date()
    profiles = db.exec(select(MentorProfile)).all()
    assert 140 <= len(profiles) <= 160
    statuses = {status: [p for p in profiles if p.status == status] for status in MentorStatus}
    assert len(statuses[MentorStatus.approved]) >= 100
    assert len(statuses[MentorStatus.awaiting_consent]) >= 5
    assert len(statuses[MentorStatus.awaiting_approval]) >= 5
    assert len(statuses[MentorStatus.paused]) >= 3
    institutions = {p.institution_id: db.get(Organisation, p.institution_id) for p in profiles}
    assert all(is_mentor_institution(i) for i in institutions.values())
    assert {i.kind for i in institutions.values()} == {OrganisationKind.school, OrganisationKind.provider}
    users = {u.id: u for u in db.exec(select(User).where(User.role == Role.mentor)).all()}
    assert all(users[p.user_id].organisation_id == p.institution_id for p in profiles)

    # Minors: those awaiting consent have a guardian asked; those approved, a consent on record.
    consents = {c.mentor_id: c for c in db.exec(select(GuardianConsent)).all()}
    for profile in statuses[MentorStatus.awaiting_consent]:
        assert age_on(profile.birth_date, today) < 18 and profile.guardian_email
        assert profile.user_id not in consents
    approved_minors = [p for p in statuses[MentorStatus.approved] if age_on(p.birth_date, today) < 18]
    assert len(approved_minors) >= 5
    for profile in approved_minors:
        consent = consents[profile.user_id]
        assert consent.guardian_email == profile.guardian_email and consent.withdrawn_at is None
        assert consent.text_version == CONSENT_TEXT_VERSION and consent.consented_at <= now
    assert all(age_on(p.birth_date, today) >= 15 for p in profiles)

    # Most approved mentors have a child certificate assessed within the year and holding a year.
    checks = db.exec(select(ChildCertificateCheck)).all()
    latest = {}
    for check in sorted(checks, key=lambda c: c.assessed_on):
        latest[check.mentor_id] = check
    certified = [p for p in statuses[MentorStatus.approved] if p.user_id in latest]
    assert len(certified) >= 0.75 * len(statuses[MentorStatus.approved])
    for profile in certified:
        check = latest[profile.user_id]
        assert today - VALID_FOR < check.assessed_on <= today and check.valid_until == check.assessed_on + VALID_FOR

    # Shifts: coming dates part filled (some short, none over), no mentor on two dates at once,
    # and a year of completed shifts counting the date's length.
    by_id = {s.id: s for s in sessions}
    all_shifts = db.exec(select(Shift)).all()
    status_of = {p.user_id: p.status for p in profiles}
    held: dict[int, int] = {}
    for shift in all_shifts:
        session = by_id[shift.session_id]
        assert offers[session.offer_id].type == OfferType.mentoring
        if shift.status == ShiftStatus.completed:
            assert session.ends_at <= now
            assert shift.minutes == hours.date_minutes(session.starts_at, session.ends_at) > 0
        else:
            assert shift.status == ShiftStatus.signed_up and session.starts_at > now
            assert status_of[shift.mentor_id] == MentorStatus.approved
        held[session.id] = held.get(session.id, 0) + 1
    assert all(held[i] <= by_id[i].mentors_max for i in held)
    coming = [s for s in sessions if s.starts_at > now and offers[s.offer_id].status == OfferStatus.published and s.mentors_max]
    assert any(0 < held.get(s.id, 0) < s.mentors_min for s in coming)
    assert any(held.get(s.id, 0) == 0 for s in coming)
    assert any(held.get(s.id, 0) == s.mentors_max for s in coming)
    taken = sorted(
        ((shift.mentor_id, by_id[shift.session_id].starts_at, by_id[shift.session_id].ends_at) for shift in all_shifts),
    )
    for (mentor, _start, end), (next_mentor, next_start, _end) in zip(taken, taken[1:], strict=False):
        assert mentor != next_mentor or end <= next_start
    completed = [s for s in all_shifts if s.status == ShiftStatus.completed]
    assert sum(s.minutes for s in completed) / 60 >= 500

    # The demo mentor: approved at an upper-secondary school, the code of conduct accepted, a
    # child certificate holding a year from today, hours, and a coming shift.
    mentor = account(db, "mentor")
    profile = db.get(MentorProfile, mentor.id)
    assert profile.status == MentorStatus.approved and profile.conduct_version == CONDUCT_VERSION
    school = db.get(Organisation, profile.institution_id)
    assert school.school_level == SchoolLevel.upper_secondary and school.id == mentor.organisation_id
    assert shifts.certificate_until(db, mentor.id) == today + VALID_FOR
    assert hours.total(hours.hours_by_school_year(db, mentor.id)).visits >= 3
    assert len(hours.upcoming_shifts(db, mentor.id)) >= 1
    # They reach every municipality with coming mentoring dates for their level (primary and
    # lower-secondary classes),
    # take every theme, and a date a week or more ahead keeps a place free for them.
    reach = set(db.exec(select(MentorMunicipality.municipality).where(MentorMunicipality.user_id == mentor.id)).all())
    level = shifts.level_of(school)
    with_dates = {
        offers[s.offer_id].municipality
        for s in sessions
        if s.starts_at > now and offers[s.offer_id].type == OfferType.mentoring
        and offers[s.offer_id].status == OfferStatus.published and shifts.level_fits(offers[s.offer_id], level)
    }
    assert with_dates <= reach
    assert set(db.exec(select(MentorTheme.theme).where(MentorTheme.user_id == mentor.id)).all()) in (set(), set(Theme))
    free, _total = shifts.open_shifts(db, mentor, now=now, limit=500)
    assert any(d.starts_at >= now + timedelta(days=7) for d in free)


COUNTED = (BookingStatus.confirmed, BookingStatus.completed)


def ask_questions(db: Session, now: datetime) -> None:
    """A question of every kind for every kind of activity, unless the migrations gave some."""
    if db.exec(select(Question).where(col(Question.retired_at).is_(None))).first():
        return
    for offer_type in OfferType:
        for position, kind in enumerate(QuestionKind):
            text = f"{kind.value} ({offer_type.value})"
            db.add(Question(offer_type=offer_type, kind=kind, text_da=text, text_en=text, position=position,
                            created_at=now - timedelta(days=2000)))
    db.commit()


def yearly_figures(db: Session) -> dict[int, dict]:
    """The barometer's figures by the counting rule, straight from the bookings: a booking counts
    in the year its (first) date starts when it is confirmed or completed; a long course once."""
    figures: dict[int, dict] = defaultdict(lambda: {"bookings": 0, "pupils": 0, "girls": 0, "schools": set(),
                                                    "girls_day": 0, "by_municipality": defaultdict(int)})
    rows = db.exec(
        select(Booking, OfferSession, Offer, Organisation)
        .join(OfferSession, col(OfferSession.id) == col(Booking.session_id))
        .join(Offer, col(Offer.id) == col(OfferSession.offer_id))
        .join(Organisation, col(Organisation.id) == col(Booking.school_id))
    ).all()
    for booking, session, offer, school in rows:
        if booking.status not in COUNTED or booking.course_id not in (None, booking.id):
            continue
        year = figures[session.starts_at.astimezone(TIMEZONE).year]
        year["bookings"] += 1
        year["pupils"] += booking.pupils
        year["girls"] += booking.girls or 0
        year["schools"].add(booking.school_id)
        year["girls_day"] += offer.type == OfferType.girls_day
        year["by_municipality"][school.municipality] += 1
    return figures


def assert_the_history_tells_a_story(
    db: Session, now: datetime, offers: dict[int, Offer], sessions: list[OfferSession], closed: set[date]
) -> None:
    """Three past years of completed activities: more bookings, a larger girls' share and more
    schools each year, on school days only; cancelled and declined ones, which do not count; long
    courses booked as one; evaluations answered; and the coordinators' targets."""
    today = now.astimezone(TIMEZONE).date()
    years = [today.year - demo_history.YEARS_BACK + n for n in range(demo_history.YEARS_BACK)]
    figures = yearly_figures(db)
    past = [figures[year] for year in years]
    assert all(f["bookings"] > 0 for f in past)
    for before, after in zip(past, past[1:], strict=False):
        assert after["bookings"] > before["bookings"]
        assert after["girls"] / after["pupils"] > before["girls"] / before["pupils"]
        assert len(after["schools"]) > len(before["schools"])
        assert after["girls_day"] > before["girls_day"]
    assert set(past[0]["by_municipality"]) == set(MUNICIPALITIES)
    # A couple of municipalities lag behind: their share of the bookings falls.
    lagging = [sum(f["by_municipality"][m] for m in demo_history.LAGGING) / f["bookings"] for f in past]
    assert lagging[-1] < lagging[0]

    by_id = {s.id: s for s in sessions}
    history = db.exec(
        select(Booking).join(OfferSession, col(OfferSession.id) == col(Booking.session_id)).where(OfferSession.ends_at <= now)
    ).all()
    statuses = {b.status for b in history}
    assert {BookingStatus.completed, BookingStatus.cancelled, BookingStatus.declined} <= statuses
    assert statuses <= {BookingStatus.completed, BookingStatus.cancelled, BookingStatus.declined}
    events = defaultdict(list)
    steps = select(BookingEvent.booking_id, BookingEvent.from_status, BookingEvent.to_status, BookingEvent.at,
                   BookingEvent.told_at)
    for event in db.exec(steps.order_by(col(BookingEvent.at), col(BookingEvent.id))).all():
        events[event.booking_id].append(event)
    courses = defaultdict(list)
    for booking in history:
        session = by_id[booking.session_id]
        starts = session.starts_at.astimezone(TIMEZONE)
        days = {starts.date() + timedelta(days=n) for n in range((session.ends_at - session.starts_at).days + 1)}
        assert starts.weekday() < 5 and not days & closed, (starts, offers[session.offer_id].type)
        assert session.ends_at <= now
        assert 1 <= booking.pupils <= 28 and 0 <= booking.girls <= booking.pupils
        if offers[session.offer_id].girls_only:
            assert booking.girls == booking.pupils
        else:
            assert booking.pupils >= 20
        if booking.course_id is not None:
            courses[booking.course_id].append(session.starts_at)
        # The booking's history ends in its state, every step told and none in the future.
        steps = events[booking.id]
        assert steps and steps[0].from_status is None and steps[-1].to_status == booking.status
        assert all(e.told_at == e.at <= now for e in steps)
        assert all(a.to_status == b.from_status for a, b in zip(steps, steps[1:], strict=False))
    # Long courses booked as one, over several dates, whose first date is the course's own row.
    assert courses and all(len(dates) >= 2 for dates in courses.values())
    assert all(min(dates) == by_id[db.get(Booking, head).session_id].starts_at for head, dates in courses.items())

    # Evaluations: about 60 % of the completed bookings have their teacher's answers (a course's
    # on its last date), the demo provider's staff and mentors answered some; an unanswered request
    # has expired. Scores of 1 to 5, mostly 4 and 5, comments, and class polls within the class.
    completed = {b.id: b for b in history if b.status == BookingStatus.completed and b.course_id in (None, b.id)}
    last_dates = {head: max(db.exec(select(Booking.id).where(Booking.course_id == head)).all()) for head in courses}
    requests = db.exec(select(EvaluationRequest)).all()
    answered = [r for r in requests if r.answered_at is not None]
    assert all(r.expires_at <= now for r in requests if r.answered_at is None)
    assert all(r.sent_at <= r.answered_at <= min(now, r.expires_at) for r in answered)
    by_teacher = {r.booking_id for r in answered if r.respondent == Respondent.teacher}
    evaluated = {last_dates.get(b.id, b.id) for b in completed.values()}
    assert by_teacher <= evaluated
    assert 0.45 <= len(by_teacher) / len(completed) <= 0.75, len(by_teacher) / len(completed)
    provider = account(db, "provider")
    assert any(r.respondent == Respondent.provider and r.user_id == provider.id for r in answered)
    assert any(r.respondent == Respondent.mentor for r in answered)
    rows = db.exec(select(Answer, Question, EvaluationRequest, Booking)
                   .join(Question, col(Question.id) == col(Answer.question_id))
                   .join(EvaluationRequest, col(EvaluationRequest.id) == col(Answer.request_id))
                   .join(Booking, col(Booking.id) == col(EvaluationRequest.booking_id))).all()
    assert {a.request_id for a, _q, _r, _b in rows} == {r.id for r in answered}
    scores = [a.score for a, q, _r, _b in rows if q.kind == QuestionKind.scale]
    assert scores and all(1 <= s <= 5 for s in scores)
    assert sum(s >= 4 for s in scores) / len(scores) > 0.75
    assert any(a.text for a, _q, _r, _b in rows)
    polls = [(a, r, b) for a, q, r, b in rows if q.kind == QuestionKind.class_poll]
    assert polls and all(r.respondent == Respondent.teacher for _a, r, _b in polls)
    assert all(a.girls <= b.girls and a.boys <= b.pupils - b.girls for a, _r, b in polls)

    # Targets set by the coordinator: the girls' share this year, region-wide and by municipality.
    coordinator = account(db, "coordinator")
    targets = db.exec(select(Target)).all()
    assert all(t.set_by_id == coordinator.id and t.set_at <= now for t in targets)
    (girls,) = [t for t in targets if t.indicator == "girls_share" and t.year == today.year and t.municipality is None]
    assert girls.value == 45  # in per cent, as coordinators write it
    assert any(t.indicator == "schools_reached" and t.municipality for t in targets)


@pytest.mark.parametrize("now", SEEDING_DAYS, ids=lambda now: now.date().isoformat())
def test_the_demo_keeps_its_promises_whatever_day_it_is_seeded(db, now):
    ask_questions(db, now)
    assert demo.seed(db, now=now) is True
    assert_the_readme_holds(db, now)


def test_seed_makes_a_living_portal(db):
    now = datetime(2026, 11, 23, 12, tzinfo=UTC)
    ask_questions(db, now)
    assert demo.seed(db, now=now) is True
    assert_the_readme_holds(db, now)

    organisations = db.exec(select(Organisation)).all()
    schools = [o for o in organisations if o.kind == OrganisationKind.school]
    for level in SchoolLevel:
        assert any(s.school_level == level for s in schools)
    providers = [o for o in organisations if o.kind == OrganisationKind.provider]
    names = [o.name for o in schools + providers]
    assert len(names) == len(set(names))
    # The browser tests search organisations for these.
    assert [n for n in names if "viborg" in n.lower()] == ["Viborg Katedralskole"]
    assert "Aarhus Universitet, Institut for Fysik" in names
    assert len([n for n in names if "aarhus" in n.lower()]) < 50  # all on the first page

    offers = db.exec(select(Offer)).all()
    published = [o for o in offers if o.status == OfferStatus.published]
    assert len(published) > 0.8 * len(offers)
    assert all(o.girls_only for o in published if o.type == OfferType.girls_day)
    by_id = {o.id: o for o in offers}
    themed = set(db.exec(select(OfferTheme.offer_id)).all())
    with_subjects = set(db.exec(select(OfferSubject.offer_id)).all())
    assert themed == with_subjects == set(by_id)

    sessions = db.exec(select(OfferSession)).all()
    with_sessions = {s.offer_id for s in sessions if s.starts_at > now}  # a past visit has a date
    assert not [o for o in offers if o.type == OfferType.expert and o.id in with_sessions]
    assert all(o.lead_days and o.max_visits_per_week for o in offers if o.type == OfferType.expert)
    for session in sessions:
        if by_id[session.offer_id].type == OfferType.company_week:
            starts, ends = session.starts_at.astimezone(TIMEZONE), session.ends_at.astimezone(TIMEZONE)
            assert (starts.weekday(), starts.hour, ends.weekday(), ends.hour) == (0, 8, 4, 15)


def test_without_questions_the_history_has_no_evaluations(db):
    now = datetime(2027, 3, 2, 9, tzinfo=UTC)
    for question in db.exec(select(Question)).all():
        db.delete(question)
    db.commit()
    assert demo.seed(db, now=now) is True
    assert yearly_figures(db)[now.year - 1]["bookings"] > 0
    assert db.exec(select(func.count()).select_from(EvaluationRequest)).one() == 0


def test_seeding_twice_adds_nothing(db):
    now = datetime(2027, 1, 11, 8, tzinfo=UTC)
    assert demo.seed(db, now=now) is True
    after_first = counts(db)
    assert demo.seed(db, now=now + timedelta(days=3)) is False
    assert counts(db) == after_first
    accounts = select(func.count()).where(col(User.email).in_(demo.ACCOUNTS.values()))
    assert db.exec(accounts).one() == 5


def test_the_calendar_skips_holidays_and_ends_before_summer():
    calendar = demo.Calendar.starting(datetime(2026, 11, 23, 12, tzinfo=UTC))
    assert (calendar.first_day, calendar.last_day) == (date(2026, 11, 24), date(2027, 6, 25))
    assert calendar.school_years == [2026, 2027]
    days = set(calendar.school_days)
    assert date(2026, 11, 24) in days
    assert not days & {date(2026, 12, 21) + timedelta(days=n) for n in range(12)}  # Christmas
    assert not days & {date(2027, 2, 15) + timedelta(days=n) for n in range(5)}  # winter week 7
    assert not days & {date(2027, 3, 22) + timedelta(days=n) for n in range(8)}  # Easter
    assert date(2027, 5, 6) not in days  # Ascension Day
    assert calendar.girls_day() == date(2027, 4, 29)
    assert date(2027, 5, 3) not in calendar.whole_weeks()  # Ascension Day that week
    # Seeded late in the spring, the sessions run until the summer holiday of the next year.
    assert demo.Calendar.starting(datetime(2027, 5, 20, tzinfo=UTC)).last_day == date(2028, 6, 23)


def test_seeded_in_the_summer_holiday_the_dates_start_after_it():
    calendar = demo.Calendar.starting(datetime(2027, 7, 15, 9, tzinfo=UTC))
    assert calendar.last_day == date(2028, 6, 23)
    assert calendar.school_days[0] == date(2027, 8, 10)  # the Tuesday after the holiday ends
    assert calendar.girls_day() == date(2028, 4, 27)
