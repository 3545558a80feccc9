"""Demo history for the STEM barometer, added by app.demo.seed: three past calendar years and the
current one up to the day of seeding of completed activities, with their booking histories,
teachers' (and the demo provider's) evaluations and the coordinators' targets, so the barometer
tells a story: activity grows year on year, the girls' share rises, more schools take part, Girls
Day grows, youth-to-youth mentoring starts a year ago, and a couple of municipalities lag behind.

The dates are past dates of the demo's own published offers, made by the demo's own session rules
on the school days of each year (app.demo.Calendar: no weekends, school holidays or public
holidays). A few bookings were cancelled or declined; they do not count. It draws from a random
stream of its own, so the rest of the demo stays as it is, takes every date from `now`, and writes
in bulk inserts."""

import hashlib
import random
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from functools import cached_property
from itertools import accumulate

from sqlalchemy import bindparam, insert, update
from sqlmodel import Session, col, select

from app import demo
from app.accounts.models import Organisation, OrganisationKind, Role, SchoolLevel, User
from app.barometer.models import Target
from app.bookings.models import Booking, BookingEvent, BookingReminder, BookingStatus
from app.calendar.bounds import school_year_of
from app.catalogue.models import Offer, OfferFormat, OfferSession, OfferStatus, OfferType
from app.evaluations.models import Answer, EvaluationRequest, Question, QuestionKind, Respondent
from app.geography import MUNICIPALITIES, distance_km
from app.i18n import TIMEZONE
from app.mentors.models import Shift, ShiftStatus

HISTORY_SEED = demo.SEED + 15  # issue 15
YEARS_BACK = 3

# The story, by year: the oldest past year, the two after it, and the current year (scaled to the
# part of its school days gone by the day of seeding).
COMPLETED_BOOKINGS = [430, 510, 610, 700]  # besides Girls Day; mentoring among them
GIRLS_DAY_CLASSES = [18, 26, 36, 44]
GIRLS_SHARE = [0.36, 0.39, 0.415, 0.435]  # in mixed classes; Girls Day adds to it
# The share of the offers (and so of the providers) active by each year.
OFFERS_ACTIVE = [0.6, 0.74, 0.87, 1.0]
# When each school first takes part: in one of the years, or not yet.
SCHOOL_JOINS = [0.46, 0.12, 0.12, 0.08, 0.22]
# Municipalities whose schools book less each year while the region grows.
LAGGING = {"Lemvig": 0.7, "Norddjurs": 0.7}
MENTORING_BOOKED = 0.25  # of the past mentoring dates that had mentors
# The kinds of activity among the bookings besides Girls Day and mentoring.
TYPE_SHARES = {
    OfferType.course: 0.64,
    OfferType.expert: 0.14,
    OfferType.company_week: 0.12,
    OfferType.innovation_game: 0.1,
}
CANCELLED = 0.06
DECLINED = 0.04  # of those that need approval
# Evaluations: the teacher is asked about most completed bookings, and about 60 % answer.
TEACHER_ASKED, TEACHER_ANSWERS = 0.86, 0.7
PROVIDER_ASKED, PROVIDER_ANSWERS = 0.8, 0.75  # the demo provider's own staff
MENTOR_ANSWERS = 0.55
ANSWER_VALID = timedelta(days=30)
REMINDER_AFTER = timedelta(days=7)
PACT_YEAR = 2030

EXPERT_SLOTS = [
    (time(8, 15), time(9, 45)),
    (time(10, 0), time(11, 30)),
    (time(12, 15), time(13, 45)),
]
CANCEL_REASONS = [
    "Klassen er på lejrskole den uge.",
    "Vi kan ikke skaffe transport den dag.",
    "Læreren er syg, og vi har ingen vikar.",
    "Skemaet er blevet lagt om.",
    "Vi har booket en anden dato i stedet.",
    "Prøverne er flyttet til den uge.",
]
DECLINE_REASONS = [
    "Vi har desværre ikke undervisere nok den dag.",
    "Forløbet passer ikke til klassetrinnet.",
    "Datoen er gået til en skole, der havde ventet længe.",
]
TEACHER_COMMENTS = [
    "Eleverne var meget engagerede hele dagen.",
    "Godt tilrettelagt, og underviserne var gode til at forklare.",
    "Flere af pigerne spurgte bagefter, hvordan man bliver ingeniør.",
    "Lidt for lang introduktion, men værkstedsdelen var fantastisk.",
    "Det var godt at se rigtige fagfolk på arbejde.",
    "Vi vil gerne komme igen næste år.",
    "Transporten tog lang tid, men det var det værd.",
    "Materialet til forberedelse var en stor hjælp.",
    "Nogle opgaver var for svære for de yngste elever.",
    "Eleverne taler stadig om forsøgene.",
]
PROVIDER_COMMENTS = [
    "En velforberedt klasse med mange gode spørgsmål.",
    "Klassen kom lidt for sent, men det gik fint.",
    "Eleverne arbejdede godt sammen i grupperne.",
    "Læreren havde forberedt klassen rigtig godt.",
]
MENTOR_COMMENTS = [
    "Eleverne stillede mange spørgsmål om gymnasiet.",
    "Det var sjovt at fortælle om min uddannelse.",
    "Klassen var lidt stille i starten, men det blev en god snak.",
]
# Scores of a scale question (5 down to 2), by year: a little better each year.
SCORES = [5, 4, 3, 2]
SCORE_WEIGHTS = [[46, 38, 13, 3], [49, 37, 12, 2], [52, 36, 10, 2], [55, 35, 9, 1]]


@dataclass
class _Date:
    """A past date (or a course's dates, booked together) and what is left of its places."""

    offer: Offer
    rows: list[dict]  # session rows: new ones to insert, or {"id": ...} of a past mentoring date
    pupils_left: int
    classes_left: int | None

    @property
    def starts_at(self) -> datetime:
        return self.rows[0]["starts_at"]

    @property
    def days(self) -> set[date]:
        found = set()
        for row in self.rows:
            first = row["starts_at"].astimezone(TIMEZONE).date()
            last = row["ends_at"].astimezone(TIMEZONE).date()
            found |= {first + timedelta(days=n) for n in range((last - first).days + 1)}
        return found


@dataclass
class _Booking:
    when: _Date
    school: Organisation
    teacher_id: int
    status: BookingStatus
    class_name: str
    grade: int
    pupils: int
    girls: int
    created_at: datetime
    year: int  # the index of its year in the story
    events: list[tuple[int | None, BookingStatus | None, BookingStatus, str, datetime]] = field(
        default_factory=list
    )
    ids: list[int] = field(default_factory=list)  # one per date
    lag: timedelta = timedelta(0)  # from a date's end to the worker marking it completed


@dataclass
class _People:
    coordinator: User
    provider: User  # the demo provider's account, who answers for Grundfos Lab
    teachers: dict[int, int]  # school id -> the teacher who books for it


def seed_history(db: Session, *, now: datetime) -> None:
    """The history (see the module's docstring), in bulk inserts."""
    rng = random.Random(HISTORY_SEED)
    today = now.astimezone(TIMEZONE).date()
    years = [today.year - YEARS_BACK + n for n in range(YEARS_BACK + 1)]
    people = _People(
        coordinator=_account(db, "coordinator"),
        provider=_account(db, "provider"),
        teachers=_teachers(db, rng, datetime(years[0] - 1, 6, 1, 12, tzinfo=TIMEZONE)),
    )
    schools = db.exec(
        select(Organisation)
        .where(Organisation.kind == OrganisationKind.school)
        .order_by(col(Organisation.id))
    ).all()
    picker = _SchoolPicker(rng, schools)
    offers = db.exec(
        select(Offer)
        .where(Offer.status == OfferStatus.published, Offer.type != OfferType.mentoring)
        .order_by(col(Offer.id))
    ).all()
    first_year = _first_years(rng, offers, people.provider.organisation_id)

    # Mentoring began a year ago: a share of its past dates had a class, chosen by a stream of
    # their own and counted in the year's bookings, so the years before are the same whatever
    # day the demo is seeded and the growth stays the story's.
    chosen = random.Random(HISTORY_SEED + 1)
    mentoring = [
        when
        for when in _past_mentoring_dates(db)
        if when.starts_at.astimezone(TIMEZONE).year in years and chosen.random() < MENTORING_BOOKED
    ]
    mentoring_in = defaultdict(int)
    for when in mentoring:
        mentoring_in[years.index(when.starts_at.astimezone(TIMEZONE).year)] += 1

    made: list[_Booking] = []
    book = _Booker(rng, picker, people, now, made)
    for index, year in enumerate(years):
        calendar = _year_calendar(year, today)
        share = 1.0
        if year == today.year:
            whole = _year_calendar(year, date(year + 1, 1, 1))
            share = len(calendar.school_days) / max(1, len(whole.school_days))
        active = [o for o in offers if first_year[o.id] <= index]
        dates = _dates(rng, active, calendar, now)
        book.index = index
        book.fill(dates[OfferType.girls_day], round(GIRLS_DAY_CLASSES[index] * share))
        experts = [o for o in active if o.type == OfferType.expert]
        wanted = round(COMPLETED_BOOKINGS[index] * share) - mentoring_in[index]
        book.fill_by_type(dates, experts, calendar, wanted)
    book.fill_mentoring(mentoring, years)

    _insert_sessions(db, rng, made)
    _insert_bookings(db, made, now)
    _insert_evaluations(db, rng, made, people, now)
    _insert_targets(db, made, people, schools, years, now)
    _backdate_offers(db, rng, made)  # last: it expires the offers it changes
    db.commit()


def _account(db: Session, role: str) -> User:
    return db.exec(select(User).where(User.email == demo.ACCOUNTS[role])).one()


# --- who books ------------------------------------------------------------------------------------


def _teachers(db: Session, rng: random.Random, since: datetime) -> dict[int, int]:
    """A teacher who books for each school: the demo's own where it has one (their account now
    as old as the history), else a new one who cannot log in (no password)."""
    found: dict[int, int] = {}
    for user in db.exec(select(User).where(User.role == Role.teacher).order_by(col(User.id))).all():
        if user.organisation_id is not None and user.organisation_id not in found:
            found[user.organisation_id] = user.id
            user.created_at = min(user.created_at, since)
            db.add(user)
    taken = set(db.exec(select(User.email)).all())
    rows = []
    schools = db.exec(
        select(Organisation)
        .where(Organisation.kind == OrganisationKind.school)
        .order_by(col(Organisation.id))
    ).all()
    for school in schools:
        first, last = rng.choice(demo.FIRST_NAMES), rng.choice(demo.LAST_NAMES)
        if school.id in found:
            continue
        email = f"{demo._slug(first)}.{demo._slug(last)}@{demo._slug(school.name)}.example"
        if email in taken:
            continue
        taken.add(email)
        rows.append(
            {
                "email": email,
                "name": f"{first} {last}",
                "phone": "",
                "role": Role.teacher,
                "organisation_id": school.id,
                "municipality": None,
                "password_hash": None,
                "is_active": True,
                "language": "da",
                "created_at": since - timedelta(days=rng.randint(0, 300)),
                "last_login_at": None,
            }
        )
    table = User.__table__
    ids = (
        db.connection()
        .execute(insert(table).returning(table.c.id, sort_by_parameter_order=True), rows)
        .scalars()
        .all()
    )
    for row, user_id in zip(rows, ids, strict=True):
        found[row["organisation_id"]] = user_id
    return found


class _SchoolPicker:
    """Draws the school of a booking: one that takes part that year, of the class's level,
    likelier near the provider when the class travels; the lagging municipalities less each year."""

    def __init__(self, rng: random.Random, schools: list[Organisation]) -> None:
        self.rng = rng
        self.schools = schools
        choices = list(range(len(SCHOOL_JOINS)))
        self.joins = {}
        for school in schools:
            joined = rng.choices(choices, weights=SCHOOL_JOINS)[0]
            if school.name == "Frederiksbjerg Skole":
                joined = 0  # the demo teacher's school has a history to look at
            self.joins[school.id] = joined
        self.size = {s.id: rng.uniform(0.6, 1.6) for s in schools}
        self.distance = {
            (a, b): distance_km(MUNICIPALITIES[a], MUNICIPALITIES[b])
            for a in MUNICIPALITIES
            for b in MUNICIPALITIES
        }
        self._cumulative: dict[tuple, list[float]] = {}

    def pick(self, offer: Offer, level: SchoolLevel, index: int) -> Organisation | None:
        travels = offer.format == OfferFormat.at_provider
        key = (offer.municipality, travels, level, index)
        if key not in self._cumulative:
            weights = []
            for school in self.schools:
                weight = 0.0
                if school.school_level == level and self.joins[school.id] <= index:
                    distance = self.distance[offer.municipality, school.municipality]
                    weight = self.size[school.id] / (1 + distance / (25 if travels else 60))
                    weight *= LAGGING.get(school.municipality, 1.0) ** index
                weights.append(weight)
            self._cumulative[key] = list(accumulate(weights))
        cumulative = self._cumulative[key]
        if not cumulative or cumulative[-1] <= 0:
            return None
        return self.rng.choices(self.schools, cum_weights=cumulative)[0]


# --- dates ----------------------------------------------------------------------------------------


class _YearCalendar(demo.Calendar):
    """The demo's calendar, knowing its school days and whole weeks by heart: every offer's
    dates of the year are drawn from the same one."""

    @cached_property
    def _open(self) -> frozenset[date]:
        span = (self.last_day - self.first_day).days + 1
        days = (self.first_day + timedelta(days=n) for n in range(span))
        return frozenset(d for d in days if demo.Calendar.is_school_day(self, d))

    def is_school_day(self, day: date) -> bool:
        return day in self._open

    @cached_property
    def _whole_weeks(self) -> list[date]:
        return demo.Calendar.whole_weeks(self)

    def whole_weeks(self) -> list[date]:
        return list(self._whole_weeks)


def _year_calendar(year: int, today: date) -> _YearCalendar:
    """The school days of a calendar year, up to the day before `today`."""
    first, last = date(year, 1, 1), min(date(year, 12, 31), today - timedelta(days=1))
    school_years = list(range(school_year_of(first), school_year_of(max(first, last)) + 1))
    return _YearCalendar.spanning(first, last, school_years)


def _first_years(rng: random.Random, offers: list[Offer], demo_provider_id: int) -> dict[int, int]:
    """The year of the story each offer was first held: the demo provider's from the start."""
    steps = [b - a for a, b in zip([0.0, *OFFERS_ACTIVE], OFFERS_ACTIVE, strict=False)]
    years = list(range(len(OFFERS_ACTIVE)))
    return {
        offer.id: 0
        if offer.provider_id == demo_provider_id
        else rng.choices(years, weights=steps)[0]
        for offer in offers
    }


def _dates(
    rng: random.Random, offers: list[Offer], calendar: "demo.Calendar", now: datetime
) -> dict[OfferType, list[_Date]]:
    """The year's dates of the active offers, by the demo's own rules for their kind (a course
    booked as a whole runs twice a year)."""
    found: dict[OfferType, list[_Date]] = defaultdict(list)
    for offer in offers:
        runs = 2 if offer.all_dates_together else 1
        for _run in range(runs):
            plan = demo._OfferPlan(offer, None, [], [], rng.getrandbits(32))
            try:
                rows = demo._sessions(plan, calendar, now)
            except ValueError:
                rows = []  # Girls Day has not come yet this year
            if not rows:
                continue
            groups = [rows] if offer.all_dates_together else [[row] for row in rows]
            for group in groups:
                capacity = group[0]["capacity_pupils"]
                found[offer.type].append(
                    _Date(offer, group, capacity, group[0]["capacity_classes"])
                )
    return found


def _past_mentoring_dates(db: Session) -> list[_Date]:
    """The demo's past mentoring dates (app.demo_mentors) whose mentors completed their shifts."""
    rows = db.exec(
        select(OfferSession, Offer)
        .join(Offer, col(Offer.id) == col(OfferSession.offer_id))
        .where(
            col(OfferSession.id).in_(
                select(Shift.session_id).where(Shift.status == ShiftStatus.completed)
            )
        )
        .order_by(col(OfferSession.starts_at), col(OfferSession.id))
    ).all()
    return [
        _Date(
            offer,
            [{"id": s.id, "starts_at": s.starts_at, "ends_at": s.ends_at}],
            s.capacity_pupils,
            s.capacity_classes,
        )
        for s, offer in rows
    ]


# --- bookings -------------------------------------------------------------------------------------


class _Booker:
    """Books classes on past dates within their places, one class at one thing at a time."""

    def __init__(
        self,
        rng: random.Random,
        picker: _SchoolPicker,
        people: _People,
        now: datetime,
        made: list[_Booking],
    ) -> None:
        self.rng, self.picker, self.people, self.now, self.made = rng, picker, people, now, made
        self.index = 0  # the year of the story being booked
        self.busy: set[tuple[int, str, date]] = set()  # (school, class, day)
        self.visits: set[tuple[int, datetime]] = set()  # an expert's visits

    def fill(self, dates: list[_Date], wanted: int) -> None:
        """Book `wanted` completed classes (and a few cancelled or declined) on these dates."""
        done, tries = 0, 0
        while dates and done < wanted and tries < wanted * 20:
            tries += 1
            done += self.book(self.rng.choice(dates)) == BookingStatus.completed

    def fill_by_type(
        self,
        dates: dict[OfferType, list[_Date]],
        experts: list[Offer],
        calendar: "demo.Calendar",
        wanted: int,
    ) -> None:
        kinds = [k for k in TYPE_SHARES if dates[k] or (k == OfferType.expert and experts)]
        if not kinds or not calendar.school_days:
            return
        weights = [TYPE_SHARES[k] for k in kinds]
        done, tries = 0, 0
        while done < wanted and tries < wanted * 20:
            tries += 1
            kind = self.rng.choices(kinds, weights=weights)[0]
            if kind == OfferType.expert:
                when = self.expert_visit(self.rng.choice(experts), calendar)
            else:
                when = self.rng.choice(dates[kind])
            if when is not None:
                done += self.book(when) == BookingStatus.completed

    def fill_mentoring(self, dates: list[_Date], years: list[int]) -> None:
        for when in dates:
            self.index = years.index(when.starts_at.astimezone(TIMEZONE).year)
            self.book(when, status=BookingStatus.completed)

    def expert_visit(self, offer: Offer, calendar: "demo.Calendar") -> _Date | None:
        """A visit the provider accepted at a time the teacher proposed: a date of its own."""
        day = self.rng.choice(calendar.school_days)
        start, end = self.rng.choice(EXPERT_SLOTS)
        if (offer.id, demo._at(day, start)) in self.visits:
            return None
        self.visits.add((offer.id, demo._at(day, start)))
        row = {
            "starts_at": demo._at(day, start),
            "ends_at": demo._at(day, end),
            "capacity_pupils": 28,
            "capacity_classes": 1,
            "booking_deadline": None,
            "series": None,
            "note": "",
            "cancelled_at": None,
            "created_at": self.now,
        }
        return _Date(offer, [row], 28, 1)

    def book(self, when: _Date, *, status: BookingStatus | None = None) -> BookingStatus | None:
        rng, offer = self.rng, when.offer
        if when.classes_left == 0:
            return None
        grade = rng.randint(offer.grade_min, offer.grade_max)
        level = SchoolLevel.upper_secondary if grade >= 11 else SchoolLevel.primary
        school = self.picker.pick(offer, level, self.index)
        if school is None:
            return None
        if offer.girls_only:
            pupils = girls = rng.randint(7, 15)  # the girls of a class
        else:
            pupils = min(rng.randint(20, 28), max(20, when.pupils_left))  # a smaller class fits
            if offer.max_pupils:
                pupils = min(pupils, offer.max_pupils)
            pupils = max(pupils, offer.min_pupils or 1)
            spread = (pupils * 0.25) ** 0.5
            girls = round(rng.gauss(pupils * GIRLS_SHARE[self.index], spread))
            girls = max(0, min(pupils, girls))
        if pupils > when.pupils_left:
            return None
        days = when.days
        for letter in "abcdefgh":
            class_name = f"{grade}.{letter}"
            if not any((school.id, class_name, day) in self.busy for day in days):
                break
        else:
            return None
        if status is None:
            draw = rng.random()
            status = BookingStatus.completed
            if draw < CANCELLED:
                status = BookingStatus.cancelled
            elif draw < CANCELLED + DECLINED and offer.requires_approval:
                status = BookingStatus.declined
        booking = _Booking(
            when,
            school,
            self.people.teachers[school.id],
            status,
            class_name,
            grade,
            pupils,
            girls,
            created_at=self._created(when),
            year=self.index,
        )
        self._history(booking)
        if status == BookingStatus.completed:
            when.pupils_left -= pupils
            if when.classes_left is not None:
                when.classes_left -= 1
            self.busy |= {(school.id, class_name, day) for day in days}
        self.made.append(booking)
        return status

    def _created(self, when: _Date) -> datetime:
        ahead = timedelta(days=self.rng.randint(12, 110))
        if when.offer.type == OfferType.girls_day:
            ahead = timedelta(days=self.rng.randint(14, 60))
        day = (when.starts_at - ahead).astimezone(TIMEZONE).date()
        at = datetime.combine(day, time(self.rng.randint(7, 21), self.rng.randint(0, 59)), TIMEZONE)
        return min(at, self.now - timedelta(hours=1))

    def _history(self, booking: _Booking) -> None:
        """The booking's events as the booking rules and the worker would have written them."""
        rng, offer = self.rng, booking.when.offer
        teacher, coordinator = booking.teacher_id, self.people.coordinator.id
        created, starts = booking.created_at, booking.when.starts_at
        events = booking.events
        decided = min(created + timedelta(hours=rng.randint(3, 120)), starts - timedelta(hours=20))
        decided = max(decided, created + timedelta(minutes=5))
        if booking.status == BookingStatus.declined:
            events.append((teacher, None, BookingStatus.pending, "", created))
            reason = rng.choice(DECLINE_REASONS)
            events.append(
                (coordinator, BookingStatus.pending, BookingStatus.declined, reason, decided)
            )
            return
        if offer.requires_approval:
            events.append((teacher, None, BookingStatus.pending, "", created))
            events.append(
                (coordinator, BookingStatus.pending, BookingStatus.confirmed, "", decided)
            )
        else:
            events.append((teacher, None, BookingStatus.confirmed, "", created))
            decided = created
        if booking.status == BookingStatus.cancelled:
            span = (starts - timedelta(days=10) - decided).total_seconds()
            cancelled = decided + timedelta(seconds=rng.uniform(0, max(span, 3600)))
            reason = rng.choice(CANCEL_REASONS)
            events.append(
                (teacher, BookingStatus.confirmed, BookingStatus.cancelled, reason, cancelled)
            )
            return
        booking.lag = timedelta(minutes=rng.randint(1, 20))  # the worker's next round
        done = max(row["ends_at"] for row in booking.when.rows) + booking.lag
        events.append(
            (
                None,
                BookingStatus.confirmed,
                BookingStatus.completed,
                "the activity took place",
                done,
            )
        )


# --- rows -----------------------------------------------------------------------------------------


def _insert_sessions(db: Session, rng: random.Random, made: list[_Booking]) -> None:
    """The dates that were booked; each made some weeks before its day."""
    first_booked: dict[int, tuple[_Date, datetime]] = {}
    for booking in made:
        if "id" not in booking.when.rows[0]:
            when, booked = first_booked.get(id(booking.when), (booking.when, booking.created_at))
            first_booked[id(when)] = (when, min(booked, booking.created_at))
    rows = []
    for when, booked in first_booked.values():
        created = min(booked, when.starts_at - timedelta(days=rng.randint(30, 120)))
        for row in when.rows:
            rows.append((when, row, created - timedelta(days=rng.randint(1, 20))))
    if not rows:
        return
    table = OfferSession.__table__
    values = [
        {**row, "offer_id": when.offer.id, "created_at": created} for when, row, created in rows
    ]
    ids = (
        db.connection()
        .execute(insert(table).returning(table.c.id, sort_by_parameter_order=True), values)
        .scalars()
        .all()
    )
    for (_when, row, _created), session_id in zip(rows, ids, strict=True):
        row["id"] = session_id


def _backdate_offers(db: Session, rng: random.Random, made: list[_Booking]) -> None:
    """An offer with a history was created and published before its first booked date."""
    first: dict[int, datetime] = {}
    for booking in made:
        offer = booking.when.offer
        if offer.type == OfferType.mentoring:
            continue
        first[offer.id] = min(first.get(offer.id, booking.created_at), booking.created_at)
    offers = {b.when.offer.id: b.when.offer for b in made}
    rows = []
    for offer_id, booked in sorted(first.items()):
        created = booked - timedelta(days=rng.randint(40, 90), hours=rng.randint(0, 8))
        if offers[offer_id].created_at > created:
            published = created + timedelta(days=rng.randint(1, 10))
            rows.append({"offer": offer_id, "created": created, "published": published})
    if rows:
        table = Offer.__table__
        db.connection().execute(
            update(table)
            .where(table.c.id == bindparam("offer"))
            .values(created_at=bindparam("created"), published_at=bindparam("published")),
            rows,
        )
        for row in rows:
            db.expire(offers[row["offer"]])


def _insert_bookings(db: Session, made: list[_Booking], now: datetime) -> None:
    """The bookings, a row per date (a course's rows point at its first), their events (all told)
    and, for the completed, the record that the teacher was asked how it went."""
    made.sort(key=lambda b: (b.created_at, b.when.starts_at))
    rows = []
    for booking in made:
        last_event = booking.events[-1]
        for row in booking.when.rows:
            # A course's dates are completed one by one, each when it has ended.
            row["done_at"] = row["ends_at"] + booking.lag
            if booking.status == BookingStatus.completed:
                last_event = (*booking.events[-1][:4], row["done_at"])
            rows.append(
                {
                    "session_id": row["id"],
                    "school_id": booking.school.id,
                    "teacher_id": booking.teacher_id,
                    "status": booking.status,
                    "class_name": booking.class_name,
                    "grade": booking.grade,
                    "pupils": booking.pupils,
                    "girls": booking.girls,
                    "adults": 2 if booking.pupils > 24 else 1,
                    "needs": "",
                    "contact_phone": "",
                    "hold_until": None,
                    "late_cancellation": False,
                    "reason": last_event[3] if booking.status != BookingStatus.completed else "",
                    "round_id": None,
                    "queue_rank": None,
                    "allocation_note": "",
                    "course_id": None,
                    "idempotency_key": None,
                    "request_hash": None,
                    "created_at": booking.created_at,
                    "updated_at": last_event[4],
                }
            )
    table = Booking.__table__
    connection = db.connection()
    ids = iter(
        connection.execute(insert(table).returning(table.c.id, sort_by_parameter_order=True), rows)
        .scalars()
        .all()
    )
    courses = []
    for booking in made:
        booking.ids = [next(ids) for _row in booking.when.rows]
        if booking.when.offer.all_dates_together:
            courses += [{"row": i, "course": booking.ids[0]} for i in booking.ids]
    if courses:
        connection.execute(
            update(table)
            .where(table.c.id == bindparam("row"))
            .values(course_id=bindparam("course")),
            courses,
        )
    events, asked = [], []
    for booking in made:
        completed = booking.status == BookingStatus.completed
        for booking_id, row in zip(booking.ids, booking.when.rows, strict=True):
            steps = booking.events
            if completed:
                steps = [*steps[:-1], (*steps[-1][:4], row["done_at"])]
            events += [
                {
                    "booking_id": booking_id,
                    "actor_id": actor,
                    "from_status": before,
                    "to_status": after,
                    "reason": reason,
                    "at": at,
                    "told_at": at,
                }
                for actor, before, after, reason, at in steps
            ]
            if completed:
                asked.append(
                    {"booking_id": booking_id, "kind": "evaluation", "sent_at": row["done_at"]}
                )
    connection.execute(insert(BookingEvent.__table__), events)
    connection.execute(insert(BookingReminder.__table__), asked)


def _insert_evaluations(
    db: Session, rng: random.Random, made: list[_Booking], people: _People, now: datetime
) -> None:
    """Most teachers were asked how it went and about 60 % answered; the demo provider's staff
    answered for its own activities, and mentors for their visits. Answers to the active questions
    of the activity's kind, if there are any. A course is asked about once, on its last date (as
    app.evaluations does). A request not answered is one whose link has expired: an open one
    would be reminded of by the worker with a link signed by the portal's key, which the demo does
    not read."""
    questions: dict[OfferType, list[Question]] = defaultdict(list)
    for question in db.exec(
        select(Question)
        .where(col(Question.retired_at).is_(None))
        .order_by(col(Question.position), col(Question.id))
    ).all():
        questions[question.offer_type].append(question)
    if not questions:
        return
    mentors: dict[int, list[int]] = defaultdict(list)
    for session_id, mentor_id in db.exec(
        select(Shift.session_id, Shift.mentor_id)
        .where(Shift.status == ShiftStatus.completed)
        .order_by(col(Shift.session_id), col(Shift.mentor_id))
    ).all():
        mentors[session_id].append(mentor_id)
    requests, answers = [], []
    for booking in made:
        asked = questions.get(booking.when.offer.type)
        if booking.status != BookingStatus.completed or not asked:
            continue
        sent = booking.events[-1][4]
        whom = []
        if rng.random() < TEACHER_ASKED:
            whom.append((booking.teacher_id, Respondent.teacher, TEACHER_ANSWERS))
        if (
            booking.when.offer.provider_id == people.provider.organisation_id
            and rng.random() < PROVIDER_ASKED
        ):
            whom.append((people.provider.id, Respondent.provider, PROVIDER_ANSWERS))
        for mentor_id in mentors.get(booking.when.rows[-1]["id"], []):
            whom.append((mentor_id, Respondent.mentor, MENTOR_ANSWERS))
        for user_id, respondent, answers_share in whom:
            quick = rng.random() < 0.6
            delay = (
                timedelta(hours=rng.randint(1, 40)) if quick else timedelta(days=rng.uniform(2, 20))
            )
            answered = sent + delay if rng.random() < answers_share else None
            if answered is not None and (answered > now or delay > ANSWER_VALID):
                answered = None
            if answered is None and sent + ANSWER_VALID > now:
                continue  # see above
            reminded = sent + REMINDER_AFTER
            if reminded > now or (answered is not None and answered <= reminded):
                reminded = None
            token = hashlib.sha256(rng.getrandbits(256).to_bytes(32, "big")).hexdigest()
            requests.append(
                {
                    "booking_id": booking.ids[-1],
                    "user_id": user_id,
                    "respondent": respondent,
                    "token_hash": token,
                    "expires_at": sent + ANSWER_VALID,
                    "sent_at": sent,
                    "reminded_at": reminded,
                    "answered_at": answered,
                }
            )
            answers.append(
                _answers(rng, asked, booking, respondent) if answered is not None else []
            )
    if not requests:
        return
    table = EvaluationRequest.__table__
    ids = (
        db.connection()
        .execute(insert(table).returning(table.c.id, sort_by_parameter_order=True), requests)
        .scalars()
        .all()
    )
    rows = [
        {"request_id": request_id, **answer}
        for request_id, given in zip(ids, answers, strict=True)
        for answer in given
    ]
    if rows:
        db.connection().execute(insert(Answer.__table__), rows)


def _answers(
    rng: random.Random, questions: list[Question], booking: _Booking, respondent: Respondent
) -> list[dict]:
    given = []
    comments = {
        Respondent.teacher: TEACHER_COMMENTS,
        Respondent.provider: PROVIDER_COMMENTS,
        Respondent.mentor: MENTOR_COMMENTS,
    }[respondent]
    for question in questions:
        answer = {
            "question_id": question.id,
            "score": None,
            "text": None,
            "girls": None,
            "boys": None,
        }
        if question.kind == QuestionKind.scale:
            answer["score"] = rng.choices(SCORES, weights=SCORE_WEIGHTS[booking.year])[0]
        elif question.kind == QuestionKind.yes_no:
            answer["score"] = 1 if rng.random() < 0.9 else 0
        elif question.kind == QuestionKind.text:
            if rng.random() > 0.3:
                continue  # optional, and mostly left empty
            answer["text"] = rng.choice(comments)
        elif question.kind == QuestionKind.class_poll:
            if respondent != Respondent.teacher:
                continue  # only the teacher knows the class
            boys = booking.pupils - booking.girls
            answer["girls"] = round(booking.girls * rng.uniform(0.3, 0.75))
            answer["boys"] = round(boys * rng.uniform(0.2, 0.6))
        given.append(answer)
    return given


def _insert_targets(
    db: Session,
    made: list[_Booking],
    people: _People,
    schools: list[Organisation],
    years: list[int],
    now: datetime,
) -> None:
    """The coordinators' targets: last year's and this year's for the region, the pact's for
    2030, and the schools the lagging municipalities should reach this year. A share is written in
    per cent, as coordinators write it (app.barometer.targets)."""
    last_year, this_year = years[-2], years[-1]
    counted = [b for b in made if b.status == BookingStatus.completed and b.year == len(years) - 2]
    reached = len({b.school.id for b in counted})

    def set_at(year: int) -> datetime:
        return min(datetime(year, 1, 12, 10, tzinfo=TIMEZONE), now - timedelta(hours=1))

    targets = [
        ("girls_share", last_year, None, 42, "Flere piger i STEM-aktiviteterne"),
        ("girls_share", this_year, None, 45, "Flere piger i STEM-aktiviteterne"),
        ("schools_reached", this_year, None, min(len(schools), round(reached * 1.12)), ""),
        ("bookings", this_year, None, round(len(counted) * 1.15, -1), ""),
    ]
    if this_year < PACT_YEAR:
        targets.append(
            ("girls_share", PACT_YEAR, None, 50, "Pagtens mål: lige mange piger og drenge")
        )
    for municipality in LAGGING:
        here = [s for s in schools if s.municipality == municipality]
        note = "Alle kommunens skoler skal have mindst ét STEM-besøg"
        targets.append(("schools_reached", this_year, municipality, len(here), note))
    rows = [
        {
            "indicator": indicator,
            "year": year,
            "municipality": municipality,
            "value": float(value),
            "note": note,
            "set_by_id": people.coordinator.id,
            "set_at": set_at(min(year, this_year)),
        }
        for indicator, year, municipality, value, note in targets
    ]
    db.connection().execute(insert(Target.__table__), rows)
