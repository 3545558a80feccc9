"""Youth-to-youth mentoring at region scale for bench/shifts.py: a fresh, migrated database with the
catalogue of bench/generate_catalogue.py around it (its other offer types, dates and bookings),
5,000 mentors at upper-secondary schools, universities and colleges, 20,000 coming mentoring dates
in every municipality, for every level and theme, some of their places taken, and a past year of
mentoring dates with completed shifts; the same for the same seed and start day.

    .venv/bin/python bench/generate_mentors.py \
        --database-url postgresql+psycopg://postgres@127.0.0.1:5432/stem_bench_mentors

The database named by the URL is replaced: a SQLite file is deleted, a PostgreSQL database dropped
and created again (connecting to the server's `postgres` database). Never point it at real data.
"""

import argparse
import random
import sys
import time
from collections import defaultdict
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

import generate_catalogue as catalogue  # noqa: E402
from sqlalchemy import text  # noqa: E402

from app.accounts.models import (  # noqa: E402
    Organisation,
    OrganisationKind,
    ProviderKind,
    Role,
    SchoolLevel,
    User,
)
from app.bookings.models import Booking  # noqa: E402
from app.catalogue.models import (  # noqa: E402
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
from app.db import make_engine  # noqa: E402
from app.geography import MUNICIPALITIES, distance_km  # noqa: E402
from app.i18n import TIMEZONE  # noqa: E402
from app.mentors.conduct import CONDUCT_VERSION, CONSENT_TEXT_VERSION  # noqa: E402
from app.mentors.models import (  # noqa: E402
    ChildCertificateCheck,
    GuardianConsent,
    MentorMunicipality,
    MentorProfile,
    MentorStatus,
    MentorTheme,
    Shift,
    ShiftStatus,
)
from app.mentors.safeguarding import GRADE_UNDER_15_MAX  # noqa: E402
from app.mentors.shifts import PRIMARY_GRADE_MAX  # noqa: E402

STATUS_WEIGHTS = {
    MentorStatus.approved: 80,
    MentorStatus.awaiting_approval: 8,
    MentorStatus.awaiting_consent: 5,
    MentorStatus.paused: 5,
    MentorStatus.retired: 2,
}
# Grade ranges of mentoring offers: mostly primary and lower secondary (upper-secondary mentors),
# a quarter upper secondary (students of higher education), a few spanning both.
GRADE_WEIGHTS = {
    (0, 3): 3,
    (4, 6): 6,
    (5, 7): 6,
    (7, 9): 14,
    (8, 9): 10,
    (8, 10): 14,
    (9, 10): 10,
    (9, 11): 6,
    (10, 12): 4,
    (11, 12): 9,
    (11, 13): 12,
    (12, 13): 6,
}
MENTOR_PLACES = [(1, 2), (1, 3), (2, 2), (2, 3), (2, 4)]
SLOTS = [((8, 15), (9, 45)), ((10, 0), (11, 30)), ((12, 15), (13, 45)), ((9, 0), (12, 0))]
# How many mentors a coming date has, as a share of its most: none, some, full.
FILL_WEIGHTS = {0.0: 4, 0.5: 4, 1.0: 2}
# The most shifts one mentor takes in a year ahead (or did in the past one): about one a week of
# the school year, an eager mentor; few come near it.
MAX_SHIFTS_A_YEAR = 36
GIRLS = ["Freja", "Emma", "Ida", "Clara", "Alma", "Sofia", "Ella", "Karla", "Laura", "Maja"]
BOYS = ["William", "Noah", "Oscar", "Lucas", "Carl", "Victor", "Malthe", "Alfred", "Emil", "Magnus"]
LAST = ["Nielsen", "Jensen", "Hansen", "Pedersen", "Andersen", "Christensen", "Larsen", "Sørensen"]
LINES = {
    "upper_secondary": [
        "STX bioteknologi A",
        "STX fysik A",
        "HTX teknologi A",
        "HHX informatik B",
        "HF biologi B",
    ],
    "higher_education": [
        "Bachelor i datalogi",
        "Civilingeniør i maskinteknik",
        "Bioanalytiker",
        "Datamatiker",
    ],
}


def weekday_on_or_after(day: date) -> date:
    while day.weekday() >= 5:
        day += timedelta(days=1)
    return day


def make_mentoring_offers(
    rng: random.Random, count: int, providers: list[dict], first_id: int, now: datetime
):
    """Mentoring offers, mostly of universities and colleges; the place is the provider's, or
    anywhere in the region by population, so every municipality has some."""
    weights = [
        3 if p["provider_kind"] in (ProviderKind.university, ProviderKind.college) else 1
        for p in providers
    ]
    names = list(catalogue.POPULATION)
    offers, themes, subjects = [], [], []
    for offer_id in range(first_id, first_id + count):
        provider = rng.choices(providers, weights=weights)[0]
        if rng.random() < 0.6:
            municipality = provider["municipality"]
        else:
            municipality = rng.choices(names, weights=list(catalogue.POPULATION.values()))[0]
        grade_min, grade_max = catalogue.pick(rng, GRADE_WEIGHTS)
        status = rng.choices(
            [OfferStatus.published, OfferStatus.draft, OfferStatus.archived], weights=[90, 5, 5]
        )[0]
        offer_themes = (
            [] if rng.random() < 0.05 else rng.sample(list(Theme), rng.choice([1, 1, 2, 2, 3]))
        )
        created = now - timedelta(days=rng.randint(380, 700))
        latitude, longitude = catalogue.jitter(rng, MUNICIPALITIES[municipality])
        offers.append(
            {
                "id": offer_id,
                "provider_id": provider["id"],
                "type": OfferType.mentoring,
                "status": status,
                "title": f"Ung til ung {offer_id}",
                "summary": "Unge mentorer fortæller om deres vej til en STEM-uddannelse.",
                "description": "Oplæg, samtaler i små grupper og spørgsmål.",
                "grade_min": grade_min,
                "grade_max": grade_max,
                "format": OfferFormat.online if rng.random() < 0.1 else OfferFormat.at_school,
                "municipality": municipality,
                "latitude": latitude,
                "longitude": longitude,
                "contact_name": f"Kontaktperson {offer_id}",
                "contact_email": f"kontakt{offer_id}@example.dk",
                "requires_approval": rng.random() < 0.7,
                "created_at": created,
                "updated_at": created,
                "published_at": created + timedelta(days=1)
                if status != OfferStatus.draft
                else None,
            }
        )
        themes += [{"offer_id": offer_id, "theme": t} for t in offer_themes]
        subjects += [{"offer_id": offer_id, "subject": rng.choice(list(Subject))}]
    return offers, themes, subjects


def make_mentoring_dates(
    rng: random.Random,
    offers: list[dict],
    coming: int,
    past: int,
    first_id: int,
    today: date,
    now: datetime,
) -> list[dict]:
    """`coming` dates over the next twelve months and `past` over the last twelve, on weekdays,
    each offer with one (least, most) mentors; 2 % of the coming ones cancelled."""
    places = {o["id"]: rng.choice(MENTOR_PLACES) for o in offers}
    activity = [rng.lognormvariate(0, 0.8) for _ in offers]
    rows = []
    for count, sign in ((coming, 1), (past, -1)):
        for offer in rng.choices(offers, weights=activity, k=count):
            day = weekday_on_or_after(today + timedelta(days=sign * rng.randint(1, 365)))
            if sign < 0 and day >= today:
                day -= timedelta(days=7)
            (start_h, start_m), (end_h, end_m) = rng.choice(SLOTS)
            starts_at = datetime(day.year, day.month, day.day, start_h, start_m, tzinfo=TIMEZONE)
            ends_at = datetime(day.year, day.month, day.day, end_h, end_m, tzinfo=TIMEZONE)
            least, most = places[offer["id"]]
            rows.append(
                {
                    "offer_id": offer["id"],
                    "starts_at": starts_at.astimezone(UTC),
                    "ends_at": ends_at.astimezone(UTC),
                    "capacity_pupils": 30,
                    "capacity_classes": 1,
                    "booking_deadline": None,
                    "series": None,
                    "note": "",
                    "mentors_min": least,
                    "mentors_max": most,
                    "cancelled_at": now if sign > 0 and rng.random() < 0.02 else None,
                    "created_at": min(now, starts_at.astimezone(UTC) - timedelta(days=30)),
                }
            )
    rows.sort(key=lambda r: (r["offer_id"], r["starts_at"]))
    return [{"id": i, **row} for i, row in enumerate(rows, start=first_id)]


def nearest(municipality: str) -> list[str]:
    here = MUNICIPALITIES[municipality]
    return sorted(
        (m for m in MUNICIPALITIES if m != municipality),
        key=lambda m: distance_km(here, MUNICIPALITIES[m]),
    )


def make_mentors(
    rng: random.Random,
    count: int,
    institutions: list[dict],
    first_id: int,
    today: date,
    now: datetime,
):
    """Mentors, their themes and reach, guardians' consents and child-certificate checks (the
    current one assessed within the year, for 85 % of the approved, and the one before it)."""
    users, profiles, themes, reach, consents, checks = [], [], [], [], [], []
    for user_id in range(first_id, first_id + count):
        institution = rng.choice(institutions)
        at_school = institution["kind"] == OrganisationKind.school
        status = catalogue.pick(rng, STATUS_WEIGHTS)
        age = rng.choice([15, 16, 17, 17, 18, 19]) if at_school else rng.randint(19, 27)
        if status == MentorStatus.awaiting_consent:
            age = min(age, 17)
        birth = today - timedelta(days=age * 365 + rng.randint(10, 350))
        minor = age < 18
        created = now - timedelta(
            days=rng.randint(1, 20) if status.startswith("awaiting") else rng.randint(30, 700)
        )
        decided = created + timedelta(days=rng.randint(1, 10))
        paused_at = (
            now - timedelta(days=rng.randint(5, 100)) if status == MentorStatus.paused else None
        )
        first = rng.choice(GIRLS if rng.random() < 0.55 else BOYS)
        users.append(
            {
                "id": user_id,
                "email": f"mentor{user_id}@example.dk",
                "name": f"{first} {rng.choice(LAST)}",
                "role": Role.mentor,
                "organisation_id": institution["id"],
                "created_at": created,
                "last_login_at": now - timedelta(days=rng.randint(0, 60)),
            }
        )
        guardian = f"vaerge{user_id}@example.dk" if minor else None
        profiles.append(
            {
                "user_id": user_id,
                "institution_id": institution["id"],
                "birth_date": birth,
                "study_programme": rng.choice(
                    LINES["upper_secondary" if at_school else "higher_education"]
                ),
                "finishing_year": today.year + rng.randint(0, 3),
                "why_stem": "Jeg kan lide at forstå, hvordan ting virker.",
                "show_why_stem": rng.random() < 0.5,
                "guardian_email": guardian,
                "status": status,
                "decided_at": None if status.startswith("awaiting") else decided,
                "email_verified_at": created,
                "conduct_version": CONDUCT_VERSION,
                "conduct_accepted_at": created,
                "paused_at": paused_at,
                "created_at": created,
                "updated_at": decided,
            }
        )
        themes += [
            {"user_id": user_id, "theme": t}
            for t in rng.sample(list(Theme), rng.choice([1, 2, 2, 3, 5]))
        ]
        places = [
            institution["municipality"],
            *nearest(institution["municipality"])[: rng.choice([0, 1, 2, 2, 3, 4, 6])],
        ]
        reach += [{"user_id": user_id, "municipality": m} for m in places]
        if minor and status != MentorStatus.awaiting_consent:
            consents.append(
                {
                    "mentor_id": user_id,
                    "guardian_name": f"Værge {user_id}",
                    "guardian_email": guardian,
                    "text_version": CONSENT_TEXT_VERSION,
                    "consented_at": created + timedelta(hours=rng.randint(1, 72)),
                }
            )
        if status == MentorStatus.approved and rng.random() < 0.85:
            assessed = today - timedelta(days=rng.randint(0, 360))
            for back in (0, 1):
                on = assessed - timedelta(days=365 * back)
                checks.append(
                    {
                        "mentor_id": user_id,
                        "assessed_on": on,
                        "valid_until": on + timedelta(days=365),
                        "created_at": datetime.combine(
                            on, datetime.min.time(), TIMEZONE
                        ).astimezone(UTC),
                    }
                )
    return users, profiles, themes, reach, consents, checks


def make_shifts(
    rng: random.Random,
    dates: list[dict],
    offers: list[dict],
    offer_theme_rows: list[dict],
    profiles: list[dict],
    institutions: dict[int, dict],
    mentor_theme_rows: list[dict],
    reach: list[dict],
    checks: list[dict],
    now: datetime,
) -> list[dict]:
    """Mentors on dates by the shift rules (level, reach, themes, certificate, no clash): coming
    dates none, some or all of their places taken; past dates completed with their length."""
    offer_of = {o["id"]: o for o in offers}
    offer_themes: dict[int, set] = defaultdict(set)
    for row in offer_theme_rows:
        offer_themes[row["offer_id"]].add(row["theme"])
    mentor_themes: dict[int, set] = defaultdict(set)
    for row in mentor_theme_rows:
        mentor_themes[row["user_id"]].add(row["theme"])
    certificates: dict[int, list] = defaultdict(list)
    for row in checks:
        certificates[row["mentor_id"]].append((row["assessed_on"], row["valid_until"]))
    # Approved (or, for past dates, approved then) mentors by each place they reach and their level.
    pools: dict[tuple[str, bool], list[int]] = defaultdict(list)
    status = {p["user_id"]: p for p in profiles}
    for row in reach:
        profile = status[row["user_id"]]
        if profile["decided_at"] is None:
            continue
        upper = institutions[profile["institution_id"]]["kind"] == OrganisationKind.school
        pools[(row["municipality"], upper)].append(row["user_id"])
    busy: dict[tuple[int, date], list] = defaultdict(list)
    counted: dict[tuple[int, bool], int] = defaultdict(int)
    shifts = []
    for when in dates:
        offer = offer_of[when["offer_id"]]
        if offer["status"] != OfferStatus.published or when["cancelled_at"] is not None:
            continue
        past = when["ends_at"] <= now
        share = catalogue.pick(rng, FILL_WEIGHTS)
        wanted = (
            rng.randint(when["mentors_min"], when["mentors_max"])
            if past
            else round(share * when["mentors_max"])
        )
        if not wanted:
            continue
        day = when["starts_at"].astimezone(TIMEZONE).date()
        pool = []
        if offer["grade_min"] <= PRIMARY_GRADE_MAX:
            pool += pools[(offer["municipality"], True)]
        if offer["grade_max"] > PRIMARY_GRADE_MAX:
            pool += pools[(offer["municipality"], False)]
        taken: list[int] = []
        for _ in range(wanted * 8):
            if len(taken) == wanted or not pool:
                break
            mentor = rng.choice(pool)
            profile = status[mentor]
            if mentor in taken or (not past and profile["status"] != MentorStatus.approved):
                continue
            if past and (
                profile["decided_at"] > when["starts_at"]
                or (profile["paused_at"] and profile["paused_at"] < when["ends_at"])
            ):
                continue
            wants = offer_themes[offer["id"]]
            if wants and not wants & mentor_themes[mentor]:
                continue
            if offer["grade_min"] <= GRADE_UNDER_15_MAX and not any(
                a <= day <= u for a, u in certificates[mentor]
            ):
                continue
            if any(s < when["ends_at"] and when["starts_at"] < e for s, e in busy[(mentor, day)]):
                continue
            if counted[(mentor, past)] >= MAX_SHIFTS_A_YEAR:
                continue
            counted[(mentor, past)] += 1
            busy[(mentor, day)].append((when["starts_at"], when["ends_at"]))
            taken.append(mentor)
        minutes = int((when["ends_at"] - when["starts_at"]).total_seconds() // 60)
        for mentor in taken:
            created = when["starts_at"] - timedelta(days=rng.randint(3, 40))
            created = max(min(created, now), status[mentor]["decided_at"])
            shifts.append(
                {
                    "id": len(shifts) + 1,
                    "session_id": when["id"],
                    "mentor_id": mentor,
                    "status": ShiftStatus.completed if past else ShiftStatus.signed_up,
                    "assigned_by_id": mentor,
                    "minutes": minutes if past else None,
                    "created_at": created,
                    "updated_at": when["ends_at"] if past else created,
                }
            )
    return shifts


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--database-url", required=True, help="SQLAlchemy URL of the database to (re)create"
    )
    parser.add_argument("--mentors", type=int, default=5_000)
    parser.add_argument("--dates", type=int, default=20_000, help="coming mentoring dates")
    parser.add_argument(
        "--past-dates", type=int, default=10_000, help="mentoring dates of the past year"
    )
    parser.add_argument("--mentoring-offers", type=int, default=2_000)
    parser.add_argument("--offers", type=int, default=18_000, help="other offers of the catalogue")
    parser.add_argument("--sessions", type=int, default=180_000, help="their dates")
    parser.add_argument("--providers", type=int, default=300)
    parser.add_argument("--schools", type=int, default=350)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument(
        "--today",
        type=date.fromisoformat,
        default=None,
        help="default: today; fix it to repeat a run",
    )
    args = parser.parse_args()

    started = time.perf_counter()
    today = args.today or datetime.now(TIMEZONE).date()
    now = datetime.combine(today, datetime.min.time(), TIMEZONE).astimezone(UTC)
    rng = random.Random(args.seed)

    catalogue.recreate_database(args.database_url)
    catalogue.migrate(args.database_url)
    print(f"migrated in {time.perf_counter() - started:.1f} s", flush=True)

    # The catalogue around the mentoring offers, as bench/generate_catalogue.py makes it, without
    # its mentoring offers (those are made here, with mentors wanted).
    providers = catalogue.make_providers(rng, args.providers, now)
    offers, offer_themes, offer_subjects = catalogue.make_offers(rng, args.offers, providers, now)
    for offer in offers:
        if offer["type"] == OfferType.mentoring:
            offer["type"] = OfferType.course
    sessions = catalogue.make_sessions(rng, args.sessions, offers, today, now)
    schools, teachers = catalogue.make_schools(rng, args.schools, len(providers) + 1, now)
    bookings = catalogue.make_bookings(rng, 0.35, sessions, offers, teachers, now)

    mentoring, mentoring_themes, mentoring_subjects = make_mentoring_offers(
        rng, args.mentoring_offers, providers, len(offers) + 1, now
    )
    dates = make_mentoring_dates(
        rng, mentoring, args.dates, args.past_dates, len(sessions) + 1, today, now
    )
    institutions = [
        o
        for o in providers + schools
        if o["school_level"] == SchoolLevel.upper_secondary
        or o["provider_kind"] in (ProviderKind.university, ProviderKind.college)
    ]
    users, profiles, themes, reach, consents, checks = make_mentors(
        rng, args.mentors, institutions, len(teachers) + 1, today, now
    )
    shifts = make_shifts(
        rng,
        dates,
        mentoring,
        mentoring_themes,
        profiles,
        {o["id"]: o for o in institutions},
        themes,
        reach,
        checks,
        now,
    )
    print(f"generated the rows in {time.perf_counter() - started:.1f} s", flush=True)

    engine = make_engine(args.database_url)
    for model, rows in [
        (Organisation, providers + schools),
        (User, teachers + users),
        (Offer, offers + mentoring),
        (OfferTheme, offer_themes + mentoring_themes),
        (OfferSubject, offer_subjects + mentoring_subjects),
        (OfferSession, sessions + dates),
        (Booking, bookings),
        (MentorProfile, profiles),
        (MentorTheme, themes),
        (MentorMunicipality, reach),
        (GuardianConsent, [{"id": i, **row} for i, row in enumerate(consents, start=1)]),
        (ChildCertificateCheck, [{"id": i, **row} for i, row in enumerate(checks, start=1)]),
        (Shift, shifts),
    ]:
        catalogue.copy_rows(engine, model.__table__, catalogue.with_defaults(model, rows))
        print(f"  {model.__tablename__}: {len(rows)} rows", flush=True)

    if engine.dialect.name == "postgresql":
        with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
            for table in (
                "organisations",
                "users",
                "offers",
                "offer_sessions",
                "bookings",
                "guardian_consents",
                "child_certificate_checks",
                "shifts",
            ):
                sequence = f"pg_get_serial_sequence('{table}', 'id')"
                connection.execute(
                    text(f"SELECT setval({sequence}, (SELECT max(id) FROM {table}))")
                )
            # What autovacuum would do shortly after a load like this one.
            connection.execute(text("VACUUM ANALYZE"))
    engine.dispose()

    coming = sum(d["starts_at"] > now for d in dates)
    taken = sum(s["status"] == ShiftStatus.signed_up for s in shifts)
    print(
        f"done in {time.perf_counter() - started:.1f} s: {len(users)} mentors "
        f"({sum(p['status'] == MentorStatus.approved for p in profiles)} approved), {len(mentoring)} mentoring "
        f"offers with {coming} coming and {len(dates) - coming} past dates, {taken} coming and "
        f"{len(shifts) - taken} completed shifts; around them {len(offers)} other offers, "
        f"{len(sessions)} sessions, {len(bookings)} bookings"
    )


if __name__ == "__main__":
    main()
