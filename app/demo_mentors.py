"""Demo data of youth-to-youth mentoring, added by app.demo.seed: about 150 mentors at the region's
upper-secondary schools, universities and colleges in every state of their sign-up, mentors wanted
on the mentoring offers' dates and some of them taken, a year of past dates with the hours the
mentors gave, and a demo mentor who can take a shift at once.

It draws from a random stream of its own, so the rest of the demo stays the same whatever it
draws; and like the rest it takes every date from `now` and the demo calendar, so what the README
promises holds on whatever day it is seeded."""

import random
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta

from dateutil.relativedelta import relativedelta
from sqlalchemy import bindparam, insert, update
from sqlmodel import Session, col, select

from app import demo
from app.accounts.models import (
    Organisation,
    OrganisationKind,
    ProviderKind,
    Role,
    SchoolLevel,
    User,
)
from app.calendar.bounds import school_year_of
from app.catalogue.models import (
    Offer,
    OfferFormat,
    OfferSession,
    OfferStatus,
    OfferSubject,
    OfferTheme,
    OfferType,
    Subject,
    Theme,
)
from app.geography import MUNICIPALITIES, distance_km
from app.i18n import TIMEZONE
from app.mentors.conduct import CONDUCT_VERSION, CONSENT_TEXT_VERSION
from app.mentors.hours import date_minutes
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
from app.mentors.shifts import MentorLevel, level_fits, level_of, needs_certificate

MENTOR_SEED = demo.SEED + 14  # issue 14
# The mentors besides the demo account, by status (about 150 with it). Those awaiting a
# guardian's consent are minors at an upper-secondary school.
STATUS_COUNTS = {
    MentorStatus.approved: 114,
    MentorStatus.awaiting_approval: 18,
    MentorStatus.awaiting_consent: 10,
    MentorStatus.paused: 7,
}
HIGHER_EDUCATION_SHARE = 0.4
CERTIFIED_SHARE = 0.85  # of the approved: the rest wait for their institution to assess one
# Mentors a date wants (mentors_min, mentors_max), one pair per offer.
MENTOR_PLACES = [(1, 2), (1, 3), (2, 2), (2, 3)]
CONSENT_AGE = 18  # the settings' default: the demo does not read the settings
DEMO_MENTOR_INSTITUTION = "Holstebro Gymnasium og HF"
DEMO_MENTOR_PAST_SHIFTS = 6
# The demo mentor's open date starts at least this far ahead, so leaving it again is free too.
DEMO_OPEN_DATE_AHEAD = timedelta(days=7)

GIRLS = [
    "Freja",
    "Emma",
    "Ida",
    "Clara",
    "Alma",
    "Sofia",
    "Ella",
    "Karla",
    "Laura",
    "Maja",
    "Anna",
    "Josefine",
    "Mathilde",
    "Liva",
    "Nora",
    "Agnes",
    "Asta",
    "Frida",
    "Signe",
    "Cecilie",
    "Olivia",
    "Sara",
    "Marie",
    "Emilie",
    "Caroline",
    "Amalie",
    "Nanna",
    "Astrid",
    "Ellen",
    "Lærke",
]
BOYS = [
    "William",
    "Noah",
    "Oscar",
    "Lucas",
    "Carl",
    "Victor",
    "Malthe",
    "Alfred",
    "Emil",
    "Magnus",
    "Frederik",
    "Oliver",
    "Elias",
    "Aksel",
    "Johan",
    "Anton",
    "Villads",
    "Christian",
    "Sebastian",
    "Mathias",
    "Tobias",
    "Jonas",
    "Rasmus",
    "Mads",
    "Laurits",
    "Storm",
    "August",
    "Marius",
]
LAST_NAMES = demo.LAST_NAMES + [
    "Iversen",
    "Knudsen",
    "Mikkelsen",
    "Frederiksen",
    "Laursen",
    "Østergaard",
    "Damgaard",
    "Kjeldsen",
    "Nørgaard",
    "Søndergaard",
    "Ahmed",
    "Nguyen",
    "Yilmaz",
    "Hussein",
    "Kowalski",
]

# Study lines by the kind of institution, each with the themes they lead to.
STX_LINES = [
    ("STX bioteknologi A, matematik A", [Theme.health, Theme.food]),
    ("STX fysik A, matematik A", [Theme.climate_energy, Theme.industry]),
    ("STX kemi A, biologi B", [Theme.health, Theme.food]),
    ("STX matematik A, fysik B, kemi B", [Theme.industry, Theme.ict]),
    ("STX biologi A, kemi B", [Theme.health, Theme.food]),
    ("STX geovidenskab A, matematik A", [Theme.climate_energy]),
    ("STX matematik A, informatik B", [Theme.ict]),
]
HTX_LINES = [
    ("HTX teknologi A, fysik A", [Theme.industry, Theme.climate_energy]),
    ("HTX bioteknologi A, matematik A", [Theme.health, Theme.food]),
    ("HTX programmering B, matematik A", [Theme.ict]),
    ("HTX kommunikation og IT A, matematik A", [Theme.ict]),
    ("HTX teknikfag A – energi og miljø", [Theme.climate_energy, Theme.industry]),
]
HHX_LINES = [
    ("HHX innovation B, matematik A", [Theme.industry, Theme.ict]),
    ("HHX informatik B, matematik A", [Theme.ict]),
]
HF_LINES = [
    ("HF biologi B, kemi B", [Theme.health, Theme.food]),
    ("HF naturvidenskabelig faggruppe, matematik B", [Theme.climate_energy, Theme.food]),
]
# Higher education, by a word in the institution's name; the first that matches.
HIGHER_LINES = [
    (
        "Fysik",
        [
            ("Bachelor i fysik", [Theme.climate_energy, Theme.ict]),
            ("Bachelor i nanoscience", [Theme.health, Theme.industry]),
        ],
    ),
    (
        "Kemi",
        [
            ("Bachelor i kemi", [Theme.health, Theme.industry]),
            ("Bachelor i medicinalkemi", [Theme.health]),
        ],
    ),
    (
        "Biologi",
        [
            ("Bachelor i biologi", [Theme.health, Theme.food]),
            ("Bachelor i molekylærbiologi", [Theme.health]),
        ],
    ),
    (
        "Datalogisk",
        [
            ("Bachelor i datalogi", [Theme.ict]),
            ("Bachelor i IT-produktudvikling", [Theme.ict, Theme.industry]),
        ],
    ),
    (
        "Fødevarer",
        [("Bachelor i molekylær ernæring og fødevareteknologi", [Theme.food, Theme.health])],
    ),
    (
        "Ingeniør",
        [
            ("Civilingeniør, bachelor i maskinteknik", [Theme.industry, Theme.climate_energy]),
            ("Civilingeniør, bachelor i elektroteknologi", [Theme.ict, Theme.industry]),
            ("Civilingeniør, bachelor i bioteknologi", [Theme.health, Theme.food]),
        ],
    ),
    ("Agroøkologi", [("Bachelor i agrobiologi", [Theme.food, Theme.climate_energy])]),
    (
        "Herning",
        [
            ("Diplomingeniør i elektronik", [Theme.ict, Theme.industry]),
            ("Bachelor i teknologibaseret forretningsudvikling", [Theme.industry]),
        ],
    ),
    (
        "VIA",
        [
            ("Bioanalytikeruddannelsen", [Theme.health]),
            ("Diplomingeniør i maskinteknik", [Theme.industry, Theme.climate_energy]),
            ("Ernærings- og sundhedsuddannelsen", [Theme.food, Theme.health]),
            ("Diplomingeniør i bygning", [Theme.climate_energy, Theme.industry]),
        ],
    ),
    (
        "Erhvervsakademi",
        [
            ("Datamatiker", [Theme.ict]),
            ("Produktionsteknolog", [Theme.industry]),
            ("Laborant", [Theme.health, Theme.food]),
        ],
    ),
    ("Maskinmester", [("Maskinmester", [Theme.climate_energy, Theme.industry])]),
    (
        "Tekniske",
        [
            ("Automationsteknolog", [Theme.industry, Theme.ict]),
            ("Energiteknolog", [Theme.climate_energy]),
        ],
    ),
    (
        "",
        [("Diplomingeniør i produktion", [Theme.industry]), ("Bachelor i matematik", [Theme.ict])],
    ),
]
WHY_STEM = [
    "Jeg har altid elsket at skille ting ad og finde ud af, hvordan de virker.",
    "En lærer i 8. klasse viste mig, at matematik kan løse rigtige problemer.",
    "Jeg vil gerne være med til at løse klimakrisen, og det kræver naturvidenskab.",
    "Jeg valgte bioteknologi, fordi jeg er nysgerrig på, hvordan kroppen fungerer.",
    "Programmering føles som at bygge med LEGO – bare uden grænser.",
    "Jeg var ikke sikker på, at jeg var god nok til matematik. Det var jeg.",
    "Min storesøster læser til ingeniør, og hendes projekter gjorde mig nysgerrig.",
    "Jeg kan lide, at der findes et svar, og at man selv kan teste det i laboratoriet.",
    "Jeg vil arbejde med mad og sundhed, og der er kemi i det hele.",
]
PAUSE_REASONS = [
    "Holder pause i eksamensperioden.",
    "Er på udveksling et semester.",
    "Holder pause, mens jeg skriver studieretningsprojekt.",
]
# Mentoring offers for upper-secondary classes, whose mentors are students of higher education:
# (title, themes, subjects).
UPPER_SECONDARY_OFFERS = [
    (
        "Ung til ung: Studieliv som ingeniørstuderende",
        [Theme.industry, Theme.climate_energy],
        [Subject.maths, Subject.physics_chemistry],
    ),
    (
        "Ung til ung: Hvad kan man blive med matematik A?",
        [Theme.ict, Theme.industry],
        [Subject.maths],
    ),
    (
        "Ung til ung: Fra gymnasiet til laboratoriet",
        [Theme.health, Theme.food],
        [Subject.biology, Subject.physics_chemistry],
    ),
    (
        "Ung til ung: Datalogi – studerende fortæller",
        [Theme.ict],
        [Subject.informatics, Subject.maths],
    ),
    ("Ung til ung: Sundhedsteknologi på studiet", [Theme.health], [Subject.biology]),
    (
        "Ung til ung: Studievalg i den grønne omstilling",
        [Theme.climate_energy],
        [Subject.physics_chemistry, Subject.maths],
    ),
    ("Ung til ung: Fødevarer, forskning og fremtid", [Theme.food], [Subject.biology]),
    (
        "Ung til ung: Erhvervsakademi eller universitet?",
        [Theme.industry, Theme.ict],
        [Subject.maths, Subject.informatics],
    ),
]


@dataclass
class _Date:
    """A mentoring date and the mentors put on it here."""

    session_id: int
    offer: Offer
    themes: set[Theme]
    starts_at: datetime
    ends_at: datetime
    mentors_min: int
    mentors_max: int
    mentors: list["_Mentor"] = field(default_factory=list)
    # The offer's facts the rules ask, read once: filling the dates asks them some 300,000 times.
    municipality: str = field(init=False)
    levels: set[MentorLevel] = field(init=False)
    needs_certificate: bool = field(init=False)
    days: tuple[date, date] = field(init=False)

    def __post_init__(self) -> None:
        self.municipality = self.offer.municipality
        self.levels = {level for level in MentorLevel if level_fits(self.offer, level)}
        self.needs_certificate = needs_certificate(self.offer)
        self.days = (
            self.starts_at.astimezone(TIMEZONE).date(),
            self.ends_at.astimezone(TIMEZONE).date(),
        )

    @property
    def has_place(self) -> bool:
        return len(self.mentors) < self.mentors_max


@dataclass
class _Mentor:
    name: str
    email: str
    institution: Organisation
    status: MentorStatus
    birth_date: date
    study_programme: str
    finishing_year: int
    themes: set[Theme]
    reach: set[str]
    created_at: datetime
    decided_at: datetime | None = None
    paused_at: datetime | None = None
    status_reason: str = ""
    guardian: tuple[str, str] | None = None  # a minor's guardian: name and e-mail
    consented_at: datetime | None = None
    certificates: list[tuple[date, date]] = field(default_factory=list)  # assessed on, valid until
    why_stem: str = ""
    show_why_stem: bool = False
    email_verified: bool = True
    last_login_at: datetime | None = None
    user_id: int | None = None
    # The demo mentor's: a date they can take at once.
    open_date: _Date | None = None
    # The times the mentor is on a date, by day: no two shifts of one mentor overlap.
    busy: dict[date, list[tuple[datetime, datetime]]] = field(
        default_factory=lambda: defaultdict(list)
    )

    level: MentorLevel = field(init=False)

    def __post_init__(self) -> None:
        self.level = level_of(self.institution)

    def certified(self, first: date, last: date) -> bool:
        return any(assessed <= first and last <= until for assessed, until in self.certificates)

    def free(self, when: _Date) -> bool:
        return not any(
            start < when.ends_at and when.starts_at < end
            for day in set(when.days)
            for start, end in self.busy[day]
        )

    def may_take(self, when: _Date, *, now: datetime) -> bool:
        """Whether the shift rules let the mentor take the date: for a past date, as they stood
        then (approved, not yet paused)."""
        if when.starts_at > now:
            if self.status != MentorStatus.approved:
                return False
        elif (
            self.decided_at is None
            or self.decided_at > when.starts_at - timedelta(days=2)
            or (self.paused_at is not None and when.ends_at > self.paused_at)
        ):
            return False
        return (
            self.level in when.levels
            and when.municipality in self.reach
            and (not when.themes or bool(self.themes & when.themes))
            and (not when.needs_certificate or self.certified(*when.days))
            and self.free(when)
        )

    def take(self, when: _Date) -> None:
        when.mentors.append(self)
        for day in set(when.days):
            self.busy[day].append((when.starts_at, when.ends_at))


def seed_mentors(db: Session, *, calendar: "demo.Calendar", now: datetime) -> None:
    """The mentoring part of the demo (see the module's docstring), in bulk inserts."""
    rng = random.Random(MENTOR_SEED)
    coordinator = db.exec(select(User).where(User.email == demo.ACCOUNTS["coordinator"])).one()
    demo_user = db.exec(select(User).where(User.email == demo.ACCOUNTS["mentor"])).one()
    offers = _mentoring_offers(db, rng, calendar, now)
    themes = _offer_themes(db, offers)
    future = _future_dates(db, rng, offers, themes, now)
    past = _past_dates(db, rng, offers, themes, now)

    institutions = _mentor_institutions(db)
    mentors = _mentors(rng, institutions, now)
    demo_mentor = _demo_mentor(db, demo_user, future, now)
    _put_demo_mentor_on_dates(demo_mentor, future, past, now)
    _fill_dates(rng, past, mentors, now, wanted=lambda d: rng.randint(d.mentors_min, d.mentors_max))
    _fill_dates(rng, future, mentors, now, wanted=lambda d: _future_wanted(rng, d, demo_mentor))

    _insert_mentors(db, mentors, coordinator, now)
    _insert_profile_details(db, [demo_mentor], coordinator, now)
    _insert_shifts(db, rng, past + future, now)
    db.commit()


# --- dates ----------------------------------------------------------------------------------------


def _mentoring_offers(
    db: Session, rng: random.Random, calendar: "demo.Calendar", now: datetime
) -> list[Offer]:
    """The demo's mentoring offers, most for primary and lower-secondary classes, and a few more
    from universities and colleges for upper-secondary classes, whose mentors are their students.
    The published ones were published over a year ago: they have a past year of dates."""
    providers = db.exec(
        select(Organisation)
        .where(
            Organisation.kind == OrganisationKind.provider,
            col(Organisation.provider_kind).in_([ProviderKind.university, ProviderKind.college]),
        )
        .order_by(col(Organisation.id))
    ).all()
    connection = db.connection()
    new = []
    for (title, themes, subjects), provider in zip(
        UPPER_SECONDARY_OFFERS, rng.sample(providers, len(UPPER_SECONDARY_OFFERS)), strict=True
    ):
        lat, lon = MUNICIPALITIES[provider.municipality]
        contact_first, contact_last = rng.choice(demo.FIRST_NAMES), rng.choice(demo.LAST_NAMES)
        offer = Offer(
            provider_id=provider.id,
            type=OfferType.mentoring,
            status=OfferStatus.published,
            title=title,
            summary=(
                f"Studerende fra {provider.name} besøger gymnasieklassen og fortæller om studievalg, "
                "studieliv og hvad naturvidenskab og teknik kan bruges til."
            ),
            description="\n".join(
                [
                    "To til tre studerende kommer ud på gymnasiet og fortæller om deres uddannelse – "
                    "hvorfor de valgte den, hvad der var svært, og hvad de vil bagefter.",
                    "",
                    "- Oplæg fra de studerende",
                    "- Samtaler i små grupper om studievalg",
                    "- Spørgsmål om alt fra SU til eksamen",
                    "",
                    f"- **Klassetrin:** {demo._grade_label(11, 13)}",
                    f"- **Fag:** {', '.join(demo.SUBJECT_NAMES[s] for s in subjects)}",
                    f"- **Tema:** {', '.join(demo.THEME_NAMES[t] for t in themes)}",
                ]
            ),
            grade_min=11,
            grade_max=rng.choice([12, 13, 13]),
            format=OfferFormat.online if rng.random() < 0.15 else OfferFormat.at_school,
            municipality=provider.municipality,
            latitude=round(lat + rng.uniform(-0.05, 0.05), 5),
            longitude=round(lon + rng.uniform(-0.05, 0.05), 5),
            contact_name=f"{contact_first} {contact_last}",
            contact_email=f"{demo._slug(contact_first)}.{demo._slug(contact_last)}@{demo._slug(provider.name)}.example",
            requires_approval=rng.random() < 0.7,
            cancellation_weekdays=rng.randint(5, 10),
            created_at=now,
            updated_at=now,
            published_at=now,
        )
        db.add(offer)
        new.append((offer, themes, subjects))
    db.flush()
    connection.execute(
        insert(OfferTheme.__table__),
        [{"offer_id": o.id, "theme": t} for o, ts, _s in new for t in ts],
    )
    connection.execute(
        insert(OfferSubject.__table__),
        [{"offer_id": o.id, "subject": s} for o, _t, ss in new for s in ss],
    )
    sessions = []
    for offer, themes, subjects in new:
        plan = demo._OfferPlan(offer, None, themes, subjects, rng.getrandbits(32))
        sessions += [{"offer_id": offer.id, **row} for row in demo._sessions(plan, calendar, now)]
    connection.execute(insert(OfferSession.__table__), sessions)

    offers = db.exec(
        select(Offer).where(Offer.type == OfferType.mentoring).order_by(col(Offer.id))
    ).all()
    for offer in offers:
        if offer.status == OfferStatus.published:
            offer.created_at = now - timedelta(days=rng.randint(380, 480))
            offer.published_at = offer.updated_at = offer.created_at + timedelta(
                days=rng.randint(1, 10)
            )
    return list(offers)


def _offer_themes(db: Session, offers: list[Offer]) -> dict[int, set[Theme]]:
    found: dict[int, set[Theme]] = defaultdict(set)
    rows = db.exec(
        select(OfferTheme).where(col(OfferTheme.offer_id).in_([o.id for o in offers]))
    ).all()
    for row in rows:
        found[row.offer_id].add(row.theme)
    return found


def _future_dates(
    db: Session,
    rng: random.Random,
    offers: list[Offer],
    themes: dict[int, set[Theme]],
    now: datetime,
) -> list[_Date]:
    """Every coming date of a mentoring offer wants mentors: one pair (least, most) per offer.
    Those of published offers are returned, soonest first, to be filled."""
    places = {offer.id: rng.choice(MENTOR_PLACES) for offer in offers}
    table = OfferSession.__table__
    connection = db.connection()
    connection.execute(
        update(table)
        .where(table.c.offer_id == bindparam("offer"))
        .values(mentors_min=bindparam("least"), mentors_max=bindparam("most")),
        [
            {"offer": offer_id, "least": least, "most": most}
            for offer_id, (least, most) in places.items()
        ],
    )
    published = {offer.id: offer for offer in offers if offer.status == OfferStatus.published}
    rows = connection.execute(
        select(table.c.id, table.c.offer_id, table.c.starts_at, table.c.ends_at)
        .where(
            table.c.offer_id.in_(list(published)),
            table.c.cancelled_at.is_(None),
            table.c.starts_at > now,
        )
        .order_by(table.c.starts_at, table.c.id)
    ).all()
    return [
        _Date(
            session_id, published[offer_id], themes[offer_id], starts_at, ends_at, *places[offer_id]
        )
        for session_id, offer_id, starts_at, ends_at in rows
    ]


def _past_dates(
    db: Session,
    rng: random.Random,
    offers: list[Offer],
    themes: dict[int, set[Theme]],
    now: datetime,
) -> list[_Date]:
    """A year of past dates of the published mentoring offers, on the school days of that year,
    made by the same weekly rules as the coming ones."""
    calendar = demo.Calendar.past_year(now)
    rows = []
    for offer in offers:
        if offer.status != OfferStatus.published:
            continue
        least, most = rng.choice(MENTOR_PLACES)
        plan = demo._OfferPlan(offer, None, [], [], rng.getrandbits(32))
        for row in demo._sessions(plan, calendar, now):
            created = max(
                offer.published_at, row["starts_at"] - timedelta(days=rng.randint(30, 90))
            )
            rows.append(
                {
                    **row,
                    "offer_id": offer.id,
                    "mentors_min": least,
                    "mentors_max": most,
                    "created_at": created,
                }
            )
    rows.sort(key=lambda r: (r["starts_at"], r["offer_id"]))
    table = OfferSession.__table__
    ids = (
        db.connection()
        .execute(insert(table).returning(table.c.id, sort_by_parameter_order=True), rows)
        .scalars()
        .all()
    )
    by_id = {offer.id: offer for offer in offers}
    return [
        _Date(
            session_id,
            by_id[row["offer_id"]],
            themes[row["offer_id"]],
            row["starts_at"],
            row["ends_at"],
            row["mentors_min"],
            row["mentors_max"],
        )
        for session_id, row in zip(ids, rows, strict=True)
    ]


# --- mentors --------------------------------------------------------------------------------------


def _mentor_institutions(db: Session) -> list[Organisation]:
    """The upper-secondary schools, universities and colleges mentors come from."""
    return list(
        db.exec(
            select(Organisation)
            .where(
                (
                    (col(Organisation.kind) == OrganisationKind.school)
                    & (col(Organisation.school_level) == SchoolLevel.upper_secondary)
                )
                | col(Organisation.provider_kind).in_(
                    [ProviderKind.university, ProviderKind.college]
                )
            )
            .order_by(col(Organisation.id))
        ).all()
    )


def _study_lines(institution: Organisation) -> list[tuple[str, list[Theme]]]:
    if institution.kind == OrganisationKind.provider:
        return next(lines for word, lines in HIGHER_LINES if word in institution.name)
    if "HTX" in institution.name:
        return HTX_LINES
    if "Handelsgymnasium" in institution.name:
        return HHX_LINES
    if "HF" in institution.name and "Gymnasium" not in institution.name:
        return HF_LINES
    return STX_LINES


def _reach(rng: random.Random, municipality: str) -> set[str]:
    """The mentor's own municipality and a few of the nearest ones."""
    here = MUNICIPALITIES[municipality]
    nearest = sorted(
        (m for m in MUNICIPALITIES if m != municipality),
        key=lambda m: distance_km(here, MUNICIPALITIES[m]),
    )
    return {municipality, *nearest[: rng.choice([1, 2, 2, 3, 4])]}


def _age_on(birth: date, day: date) -> int:
    return day.year - birth.year - ((day.month, day.day) < (birth.month, birth.day))


def _mentors(rng: random.Random, institutions: list[Organisation], now: datetime) -> list[_Mentor]:
    today = now.astimezone(TIMEZONE).date()
    schools = [i for i in institutions if i.kind == OrganisationKind.school]
    higher = [i for i in institutions if i.kind == OrganisationKind.provider]
    statuses = [status for status, count in STATUS_COUNTS.items() for _ in range(count)]
    rng.shuffle(statuses)
    mentors = []
    for number, status in enumerate(statuses, start=1):
        at_school = (
            status == MentorStatus.awaiting_consent or rng.random() >= HIGHER_EDUCATION_SHARE
        )
        institution = rng.choice(schools if at_school else higher)
        if status == MentorStatus.awaiting_consent:
            age = rng.choice([15, 16, 16, 17])
        elif at_school:
            age = rng.choice([16, 17, 17, 18, 18, 19])
        else:
            age = rng.randint(19, 26)
        birth = today - relativedelta(years=age) - timedelta(days=rng.randint(1, 360))
        # Signed up at 15 or older: a minor's wait is short, an approved mentor's up to two years.
        old_enough = (today - (birth + relativedelta(years=15))).days
        if status == MentorStatus.awaiting_consent:
            days_ago = rng.randint(1, 12)
        elif status == MentorStatus.awaiting_approval:
            days_ago = rng.randint(1, 20)
        else:
            days_ago = rng.randint(30, max(31, min(720, old_enough - 1)))
        created = now - timedelta(days=days_ago, minutes=rng.randint(0, 600))
        first = rng.choice(GIRLS if rng.random() < 0.55 else BOYS)
        last = rng.choice(LAST_NAMES)
        email = f"{demo._slug(first)}.{demo._slug(last)}{number}@demo.stem.dk"
        line, line_themes = rng.choice(_study_lines(institution))
        themes = set(line_themes)
        if rng.random() < 0.35:
            themes.add(rng.choice(list(Theme)))
        this_year = school_year_of(today)
        mentor = _Mentor(
            name=f"{first} {last}",
            email=email,
            institution=institution,
            status=status,
            birth_date=birth,
            study_programme=line,
            finishing_year=this_year + 1 + rng.randint(0, 2 if at_school else 4),
            themes=themes,
            reach=_reach(rng, institution.municipality),
            created_at=created,
            why_stem=rng.choice(WHY_STEM) if rng.random() < 0.7 else "",
            email_verified=status != MentorStatus.awaiting_approval or rng.random() < 0.7,
        )
        mentor.show_why_stem = bool(mentor.why_stem) and rng.random() < 0.6
        if _age_on(birth, created.astimezone(TIMEZONE).date()) < CONSENT_AGE:
            parent = rng.choice(demo.FIRST_NAMES)
            mentor.guardian = (
                f"{parent} {last}",
                f"{demo._slug(parent)}.{demo._slug(last)}{number}@foraelder.example",
            )
            if status != MentorStatus.awaiting_consent:
                mentor.consented_at = created + timedelta(hours=rng.randint(2, 96))
        if status in (MentorStatus.approved, MentorStatus.paused):
            mentor.decided_at = (mentor.consented_at or created) + timedelta(
                days=rng.randint(1, 10)
            )
            mentor.last_login_at = now - timedelta(
                days=rng.randint(0, 45), minutes=rng.randint(0, 600)
            )
            if rng.random() < CERTIFIED_SHARE:
                mentor.certificates = _yearly_certificates(
                    mentor.decided_at.astimezone(TIMEZONE).date(), today
                )
        else:
            mentor.last_login_at = created + timedelta(minutes=rng.randint(5, 60))
        if status == MentorStatus.paused:
            # Paused at least ten days ago, some time after they were approved.
            approved_for = (now - mentor.decided_at).days
            mentor.paused_at = now - timedelta(
                days=rng.randint(10, max(10, min(150, approved_for - 5)))
            )
            mentor.status_reason = rng.choice(PAUSE_REASONS)
            mentor.last_login_at = min(mentor.last_login_at, mentor.paused_at)
        mentors.append(mentor)
    return mentors


def _yearly_certificates(first: date, today: date) -> list[tuple[date, date]]:
    """Assessed when approved and again every year since: the last within the past year."""
    checks, assessed = [], first
    while assessed <= today:
        checks.append((assessed, assessed + VALID_FOR))
        assessed += VALID_FOR
    return checks


def _demo_mentor(db: Session, user: User, future: list[_Date], now: datetime) -> _Mentor:
    """The demo mentor account: an adult pupil of an upper-secondary school, approved over a year
    ago, who reaches every municipality with dates for their level and mentors in every theme;
    their child certificate was assessed a year ago and again today, so it holds for a year."""
    today = now.astimezone(TIMEZONE).date()
    institution = db.exec(
        select(Organisation).where(Organisation.name == DEMO_MENTOR_INSTITUTION)
    ).one()
    assert user.organisation_id == institution.id
    created = now - timedelta(days=420)
    user.created_at, user.last_login_at = created, now - timedelta(days=3)
    db.add(user)
    level = level_of(institution)
    return _Mentor(
        name=user.name,
        email=user.email,
        institution=institution,
        status=MentorStatus.approved,
        birth_date=today - relativedelta(years=19) - timedelta(days=100),
        study_programme="STX bioteknologi A, matematik A",
        finishing_year=school_year_of(today) + 1,
        themes=set(Theme),
        reach={institution.municipality}
        | {d.offer.municipality for d in future if level_fits(d.offer, level)},
        created_at=created,
        decided_at=created + timedelta(days=5),
        certificates=[(today - VALID_FOR, today), (today, today + VALID_FOR)],
        why_stem="Jeg fandt ud af i biologitimerne, at jeg vil forske i medicin – og at det er sjovt.",
        show_why_stem=True,
        last_login_at=now - timedelta(days=3),
        user_id=user.id,
    )


def _put_demo_mentor_on_dates(
    mentor: _Mentor, future: list[_Date], past: list[_Date], now: datetime
) -> None:
    """Some past shifts (hours), one coming shift, and an open date the mentor can take at once:
    its place is kept free by `_future_wanted`, and it is on no day of their other shift."""
    fitting = [d for d in future if mentor.may_take(d, now=now) and d.mentors_max >= 2]
    ahead = [d for d in fitting if d.starts_at >= now + DEMO_OPEN_DATE_AHEAD]
    mentor.open_date = (ahead or fitting)[0]
    coming = [d for d in fitting if d.days[0] > mentor.open_date.days[1]]
    if coming:
        mentor.take(coming[min(len(coming) - 1, 5)])
    done = [d for d in past if mentor.may_take(d, now=now)]
    step = max(1, len(done) // DEMO_MENTOR_PAST_SHIFTS)
    for when in done[::step][:DEMO_MENTOR_PAST_SHIFTS]:
        mentor.take(when)


def _future_wanted(rng: random.Random, when: _Date, demo_mentor: _Mentor) -> int:
    """How many mentors a coming date gets: many none yet, some short of their least, a few full;
    the demo mentor's open date keeps a place."""
    most = when.mentors_max
    wanted = rng.choices(range(most + 1), weights=[4, 4, 2, 1][: most + 1])[0]
    return min(wanted, most - 1) if when is demo_mentor.open_date else wanted


def _fill_dates(
    rng: random.Random, dates: list[_Date], mentors: list[_Mentor], now: datetime, *, wanted
) -> None:
    """Put mentors on dates by the shift rules (level, reach, themes, certificate, no clash)."""
    reaching: dict[str, list[_Mentor]] = defaultdict(list)
    for mentor in mentors:
        for place in sorted(mentor.reach):
            reaching[place].append(mentor)
    for when in dates:
        count = wanted(when) - len(when.mentors)
        if count <= 0:
            continue
        candidates = [m for m in reaching[when.municipality] if m.may_take(when, now=now)]
        for mentor in rng.sample(candidates, min(count, len(candidates))):
            mentor.take(when)


# --- rows -------------------------------------------------------------------------------------


def _insert_mentors(db: Session, mentors: list[_Mentor], coordinator: User, now: datetime) -> None:
    """The mentors' accounts (who cannot log in: no password), then their profiles."""
    table = User.__table__
    rows = [
        {
            "email": m.email,
            "name": m.name,
            "phone": "",
            "role": Role.mentor,
            "organisation_id": m.institution.id,
            "municipality": None,
            "password_hash": None,
            "is_active": True,
            "language": "da",
            "created_at": m.created_at,
            "last_login_at": m.last_login_at,
        }
        for m in mentors
    ]
    ids = (
        db.connection()
        .execute(insert(table).returning(table.c.id, sort_by_parameter_order=True), rows)
        .scalars()
        .all()
    )
    for mentor, user_id in zip(mentors, ids, strict=True):
        mentor.user_id = user_id
    _insert_profile_details(db, mentors, coordinator, now)


def _insert_profile_details(
    db: Session, mentors: list[_Mentor], coordinator: User, now: datetime
) -> None:
    """Profiles, themes, reach, guardians' consents and child-certificate checks."""
    profiles, themes, reach, consents, checks = [], [], [], [], []
    for m in mentors:
        decided = m.decided_at if m.status in (MentorStatus.approved, MentorStatus.paused) else None
        profiles.append(
            {
                "user_id": m.user_id,
                "institution_id": m.institution.id,
                "birth_date": m.birth_date,
                "study_programme": m.study_programme,
                "finishing_year": m.finishing_year,
                "why_stem": m.why_stem,
                "show_why_stem": m.show_why_stem,
                "guardian_email": m.guardian[1] if m.guardian else None,
                "status": m.status,
                "status_reason": m.status_reason,
                "decided_by_id": coordinator.id if decided else None,
                "decided_at": m.paused_at or decided,
                "email_verified_at": m.created_at + timedelta(minutes=3)
                if m.email_verified
                else None,
                "conduct_version": CONDUCT_VERSION,
                "conduct_accepted_at": m.created_at,
                "paused_at": m.paused_at,
                "created_at": m.created_at,
                "updated_at": m.paused_at or decided or m.consented_at or m.created_at,
            }
        )
        themes += [{"user_id": m.user_id, "theme": t} for t in sorted(m.themes)]
        reach += [{"user_id": m.user_id, "municipality": place} for place in sorted(m.reach)]
        if m.guardian and m.consented_at:
            consents.append(
                {
                    "mentor_id": m.user_id,
                    "guardian_name": m.guardian[0],
                    "guardian_email": m.guardian[1],
                    "text_version": CONSENT_TEXT_VERSION,
                    "consented_at": m.consented_at,
                    "withdrawn_at": None,
                }
            )
        for assessed, until in m.certificates:
            checks.append(
                {
                    "mentor_id": m.user_id,
                    "assessed_by_id": coordinator.id,
                    "assessed_on": assessed,
                    "valid_until": until,
                    "created_at": max(m.created_at, datetime.combine(assessed, time(10), TIMEZONE)),
                }
            )
    connection = db.connection()
    for model, rows in (
        (MentorProfile, profiles),
        (MentorTheme, themes),
        (MentorMunicipality, reach),
        (GuardianConsent, consents),
        (ChildCertificateCheck, checks),
    ):
        if rows:
            connection.execute(insert(model.__table__), rows)


def _insert_shifts(db: Session, rng: random.Random, dates: list[_Date], now: datetime) -> None:
    """Past dates' shifts are completed with the date's length as their hours (no travel); coming
    ones are signed up, taken by the mentors themselves."""
    rows = []
    for when in dates:
        done = when.ends_at <= now
        for mentor in when.mentors:
            taken = when.starts_at - timedelta(days=rng.randint(5, 60))
            taken = min(max(taken, mentor.decided_at), now - timedelta(minutes=rng.randint(5, 600)))
            rows.append(
                {
                    "session_id": when.session_id,
                    "mentor_id": mentor.user_id,
                    "status": ShiftStatus.completed if done else ShiftStatus.signed_up,
                    "assigned_by_id": mentor.user_id,
                    "travel_minutes": 0,
                    "travel_confirmed_at": None,
                    "minutes": date_minutes(when.starts_at, when.ends_at) if done else None,
                    "leave_reason": "",
                    "reminded_week_at": max(taken, when.starts_at - timedelta(days=7))
                    if done
                    else None,
                    "reminded_day_at": max(taken, when.starts_at - timedelta(days=1))
                    if done
                    else None,
                    "created_at": taken,
                    "updated_at": when.ends_at if done else taken,
                }
            )
    if rows:
        db.connection().execute(insert(Shift.__table__), rows)
