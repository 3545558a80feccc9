"""Region-scale catalogue data for the benchmarks: a fresh, migrated database of providers, offers
and sessions across Central Denmark Region, with schools and their bookings filling part of the
sessions; the same for the same seed and start day.

    .venv/bin/python bench/generate_catalogue.py --database-url sqlite:////tmp/bench-catalogue.db
    .venv/bin/python bench/generate_catalogue.py \
        --database-url postgresql+psycopg://postgres@127.0.0.1:5432/stem_bench

The database named by the URL is replaced: a SQLite file is deleted, a PostgreSQL database dropped
and created again (connecting to the server's `postgres` database). Never point it at real data.
"""

import argparse
import random
import sys
import time
import uuid
from datetime import UTC, date, datetime, timedelta
from enum import StrEnum
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import psycopg  # noqa: E402
from alembic import command  # noqa: E402
from alembic.config import Config  # noqa: E402
from psycopg import sql  # noqa: E402
from pydantic_core import PydanticUndefined  # noqa: E402
from sqlalchemy import Engine, insert, make_url, text  # noqa: E402

from app.accounts.models import (  # noqa: E402
    Organisation,
    OrganisationKind,
    ProviderKind,
    Role,
    SchoolLevel,
    User,
)
from app.bookings.models import Booking, BookingStatus  # noqa: E402
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
from app.geography import MUNICIPALITIES  # noqa: E402
from app.i18n import TIMEZONE  # noqa: E402

# Inhabitants (thousands) of each municipality: providers and their offers follow people.
POPULATION = {
    "Aarhus": 367,
    "Randers": 99,
    "Horsens": 99,
    "Viborg": 97,
    "Silkeborg": 96,
    "Herning": 90,
    "Skanderborg": 64,
    "Holstebro": 59,
    "Ringkøbing-Skjern": 56,
    "Favrskov": 49,
    "Hedensted": 47,
    "Skive": 46,
    "Syddjurs": 44,
    "Ikast-Brande": 42,
    "Norddjurs": 38,
    "Odder": 23,
    "Struer": 21,
    "Lemvig": 19,
    "Samsø": 4,
}
assert set(POPULATION) == set(MUNICIPALITIES)

TYPE_WEIGHTS = {
    OfferType.course: 40,
    OfferType.expert: 18,
    OfferType.company_week: 12,
    OfferType.mentoring: 12,
    OfferType.innovation_game: 10,
    OfferType.girls_day: 8,
}
TYPE_LABELS = {
    OfferType.course: "Forløb",
    OfferType.expert: "Besøg af en ekspert",
    OfferType.company_week: "Virksomhedsuge",
    OfferType.mentoring: "Ung til ung-vejledning",
    OfferType.innovation_game: "Innovationsspil",
    OfferType.girls_day: "Girls Day in Science",
}
STATUS_WEIGHTS = {
    OfferStatus.published: 85,
    OfferStatus.draft: 7,
    OfferStatus.unpublished: 4,
    OfferStatus.archived: 4,
}
FORMAT_WEIGHTS = {OfferFormat.at_provider: 50, OfferFormat.at_school: 35, OfferFormat.online: 15}
PROVIDER_KIND_WEIGHTS = {
    ProviderKind.company: 60,
    ProviderKind.college: 20,
    ProviderKind.university: 10,
    ProviderKind.science_centre: 10,
}

# What offers are about, by theme: some mention robots, so the text search has something to find.
TOPICS = {
    Theme.food: [
        "fremtidens fødevarer",
        "madspild",
        "mejeriets kemi",
        "bæredygtigt landbrug",
        "insekter som mad",
        "fermentering",
        "robotter i stalden",
        "plantebaseret protein",
    ],
    Theme.climate_energy: [
        "vindmøller",
        "solceller",
        "grøn brint",
        "CO2-regnskab",
        "varmepumper",
        "fjernvarme",
        "batterier",
        "klimatilpasning",
    ],
    Theme.industry: [
        "robotter på fabrikken",
        "3D-print",
        "automatisering",
        "fremtidens produktion",
        "materialer og styrke",
        "lean og logistik",
        "svejsning",
        "sensorer",
    ],
    Theme.ict: [
        "robotprogrammering",
        "apps",
        "kunstig intelligens",
        "cybersikkerhed",
        "spiludvikling",
        "micro:bit",
        "dataanalyse",
        "droner",
    ],
    Theme.health: [
        "kroppens kemi",
        "medicinudvikling",
        "sundhedsteknologi",
        "bakterier og vira",
        "hjertet",
        "søvn og skærme",
        "proteser",
        "velfærdsrobotter",
    ],
}
VERBS = ["Byg", "Design", "Undersøg", "Programmér", "Opdag", "Test", "Eksperimentér med", "Forstå"]
SENTENCES = [
    "Eleverne arbejder i små grupper med en opgave fra virkeligheden.",
    "Vi sørger for materialer, og eleverne tager resultaterne med hjem.",
    "Forløbet slutter med en kort præsentation for klassen.",
    "En rollemodel fortæller om sit arbejde og sin uddannelse.",
    "Aktiviteten kan tilpasses klassens niveau og forkundskaber.",
    "Læreren får et forberedelsesmateriale en uge før.",
    "Husk praktisk tøj; vi er både inde og ude.",
    "Vi viser, hvordan faget bruges i en lokal virksomhed.",
    "Eleverne får prøvet rigtigt udstyr under vejledning.",
    "Der er frokostpause midt på dagen; medbring madpakke.",
]
STREETS = ["Industrivej", "Søndergade", "Vestergade", "Teknologiparken", "Havnevej", "Stationsvej"]
COMPANY_WORDS = [
    "Tech",
    "Energi",
    "Food",
    "Robotics",
    "Medico",
    "Data",
    "Agro",
    "Metal",
    "Bio",
    "Vind",
]

BOOKING_STATUS_WEIGHTS = {
    BookingStatus.confirmed: 75,
    BookingStatus.pending: 15,
    BookingStatus.cancelled: 7,
    BookingStatus.declined: 3,
}

BATCH = 10_000


def pick(rng: random.Random, weights: dict):
    return rng.choices(list(weights), weights=list(weights.values()))[0]


def recreate_database(url: str) -> None:
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        path = Path(parsed.database or "")
        if not parsed.database or parsed.database == ":memory:":
            raise SystemExit("give a SQLite file, not an in-memory database")
        for suffix in ("", "-wal", "-shm", "-journal"):
            Path(f"{path}{suffix}").unlink(missing_ok=True)
        return
    admin = parsed.set(drivername="postgresql", database="postgres").render_as_string(
        hide_password=False
    )
    with psycopg.connect(admin, autocommit=True) as connection:
        name = sql.Identifier(parsed.database)
        connection.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(name))
        connection.execute(sql.SQL("CREATE DATABASE {}").format(name))


def migrate(url: str) -> None:
    config = Config(str(ROOT / "alembic.ini"))
    config.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    config.attributes["configure_logger"] = False
    command.upgrade(config, "head")


def jitter(rng: random.Random, point: tuple[float, float]) -> tuple[float, float]:
    """A place within about 8 km of the municipality's main town."""
    lat, lon = point
    return round(lat + rng.uniform(-0.07, 0.07), 5), round(lon + rng.uniform(-0.12, 0.12), 5)


def make_providers(rng: random.Random, count: int, now: datetime) -> list[dict]:
    names = list(POPULATION)
    # Every municipality has at least one provider; the rest follow the population.
    municipalities = names + rng.choices(
        names, weights=list(POPULATION.values()), k=max(0, count - len(names))
    )
    providers = []
    for i, municipality in enumerate(municipalities[:count], start=1):
        kind = pick(rng, PROVIDER_KIND_WEIGHTS)
        label = {
            ProviderKind.company: f"{rng.choice(COMPANY_WORDS)}{rng.choice(COMPANY_WORDS).lower()}",
            ProviderKind.college: f"{municipality} Erhvervsskole",
            ProviderKind.university: f"Aarhus Universitet, afdeling {i}",
            ProviderKind.science_centre: f"Science Center {municipality}",
        }[kind]
        providers.append(
            {
                "id": i,
                "name": f"{label} ({i})",
                "kind": OrganisationKind.provider,
                "municipality": municipality,
                "school_level": None,
                "provider_kind": kind,
                "address": f"{rng.choice(STREETS)} {rng.randint(1, 120)}, {municipality}",
                "created_at": now - timedelta(days=rng.randint(30, 900)),
            }
        )
    return providers


def make_offers(rng: random.Random, count: int, providers: list[dict], now: datetime):
    # A few providers publish a lot, most only a handful.
    activity = [rng.paretovariate(1.5) for _ in providers]
    offers, themes, subjects = [], [], []
    all_themes, all_subjects = list(Theme), list(Subject)
    for offer_id in range(1, count + 1):
        provider = rng.choices(providers, weights=activity)[0]
        municipality = (
            provider["municipality"] if rng.random() < 0.9 else rng.choice(list(MUNICIPALITIES))
        )
        latitude, longitude = jitter(rng, MUNICIPALITIES[municipality])
        offer_type = pick(rng, TYPE_WEIGHTS)
        status = pick(rng, STATUS_WEIGHTS)
        offer_themes = rng.sample(all_themes, rng.choice([1, 1, 1, 2, 2, 3]))
        offer_subjects = rng.sample(all_subjects, rng.choice([1, 1, 2, 2, 3]))
        if offer_type == OfferType.innovation_game or rng.random() < 0.25:
            grade_min = rng.randint(11, 13)
        else:
            grade_min = rng.randint(0, 10)
        grade_max = rng.randint(grade_min, min(13, grade_min + 4))
        topic = rng.choice(TOPICS[offer_themes[0]])
        fmt = (
            OfferFormat.at_school
            if offer_type in (OfferType.expert, OfferType.mentoring)
            else pick(rng, FORMAT_WEIGHTS)
        )
        created = now - timedelta(days=rng.randint(1, 700), minutes=rng.randint(0, 1440))
        expert = offer_type == OfferType.expert
        offers.append(
            {
                "id": offer_id,
                "provider_id": provider["id"],
                "type": offer_type,
                "status": status,
                "title": f"{rng.choice(VERBS)} {topic}"[:200],
                "summary": f"{TYPE_LABELS[offer_type]} om {topic} for {grade_min}.-{grade_max}. "
                f"klasse. {rng.choice(SENTENCES)}",
                "description": " ".join(rng.sample(SENTENCES, rng.randint(3, 8))),
                "grade_min": grade_min,
                "grade_max": grade_max,
                "format": fmt,
                "is_long": offer_type == OfferType.company_week
                or (offer_type == OfferType.course and rng.random() < 0.3),
                "girls_only": offer_type == OfferType.girls_day,
                "address": provider["address"],
                "municipality": municipality,
                "latitude": latitude,
                "longitude": longitude,
                "language": "da" if rng.random() < 0.9 else "en",
                "pupils_bring": "Madpakke og praktisk tøj." if rng.random() < 0.5 else "",
                "accessibility": "Lokalerne er tilgængelige for kørestolsbrugere."
                if rng.random() < 0.6
                else "",
                "contact_name": f"Kontaktperson {offer_id}",
                "contact_email": f"kontakt{offer_id}@example.dk",
                "contact_phone": f"+45 {rng.randint(20000000, 99999999)}",
                "requires_approval": rng.random() < 0.8,
                "cancellation_weekdays": rng.choice([5, 10, 10, 15]),
                "min_pupils": rng.choice([None, 10, 15]),
                "max_pupils": rng.choice([None, 28, 30, 60]),
                "lead_days": rng.randint(10, 21) if expert else None,
                "max_visits_per_week": rng.randint(1, 3) if expert else None,
                "picture_version": 0,
                "created_at": created,
                "updated_at": created + timedelta(days=rng.randint(0, 30)),
                "published_at": created + timedelta(days=1)
                if status != OfferStatus.draft
                else None,
            }
        )
        themes += [{"offer_id": offer_id, "theme": t} for t in offer_themes]
        subjects += [{"offer_id": offer_id, "subject": s} for s in offer_subjects]
    return offers, themes, subjects


def make_sessions(
    rng: random.Random, count: int, offers: list[dict], today: date, now: datetime
) -> list[dict]:
    """Sessions on school days of the next 12 months; Girls Day offers share four campaign days."""
    dated = [o for o in offers if o["type"] != OfferType.expert]
    # Some offers have no dates yet; the rest have a skewed number of them.
    weights = [0.0 if rng.random() < 0.05 else rng.lognormvariate(0, 0.9) for _ in dated]
    owners = sorted(rng.choices(range(len(dated)), weights=weights, k=count))
    campaign_days = sorted(today + timedelta(days=rng.randint(20, 360)) for _ in range(4))
    series_of: dict[int, str] = {}
    sessions = []
    for index in owners:
        offer = dated[index]
        if offer["type"] == OfferType.girls_day:
            day = rng.choice(campaign_days)
        else:
            day = today + timedelta(days=rng.randint(1, 365))
        while day.weekday() >= 5:
            day += timedelta(days=1)
        starts_at = datetime(
            day.year,
            day.month,
            day.day,
            rng.choice([8, 9, 10, 12, 13]),
            rng.choice([0, 0, 15, 30]),
            tzinfo=TIMEZONE,
        )
        if offer["is_long"]:
            ends_at = starts_at + timedelta(days=rng.randint(1, 4), hours=6)
        else:
            ends_at = starts_at + timedelta(hours=rng.randint(1, 6))
        if index not in series_of and rng.random() < 0.6:
            series_of[index] = str(uuid.UUID(int=rng.getrandbits(128), version=4))
        sessions.append(
            {
                "offer_id": offer["id"],
                "starts_at": starts_at.astimezone(UTC),
                "ends_at": ends_at.astimezone(UTC),
                "capacity_pupils": rng.choice([24, 28, 30, 50, 60, 100]),
                "capacity_classes": rng.choice([None, 1, 2, 4]),
                "booking_deadline": (starts_at - timedelta(days=7)).astimezone(UTC)
                if rng.random() < 0.5
                else None,
                "series": series_of.get(index),
                "note": "",
                "cancelled_at": now if rng.random() < 0.03 else None,
                "created_at": now - timedelta(days=rng.randint(0, 60)),
            }
        )
    # Providers add an offer's dates together, in date order: ids follow that.
    sessions.sort(key=lambda s: (s["offer_id"], s["starts_at"]))
    return [{"id": i, **session} for i, session in enumerate(sessions, start=1)]


def make_schools(rng: random.Random, count: int, first_id: int, now: datetime):
    """Schools where the pupils live, each with one teacher who books for it."""
    names = list(POPULATION)
    municipalities = names + rng.choices(
        names, weights=list(POPULATION.values()), k=max(0, count - len(names))
    )
    schools, teachers = [], []
    for i, municipality in enumerate(municipalities[:count]):
        school_id = first_id + i
        upper = rng.random() < 0.15
        schools.append(
            {
                "id": school_id,
                "name": f"{municipality} {'Gymnasium' if upper else 'Skole'} ({school_id})",
                "kind": OrganisationKind.school,
                "municipality": municipality,
                "school_level": SchoolLevel.upper_secondary if upper else SchoolLevel.primary,
                "provider_kind": None,
                "address": f"Skolevej {rng.randint(1, 60)}, {municipality}",
                "created_at": now - timedelta(days=rng.randint(30, 900)),
            }
        )
        teachers.append(
            {
                "id": i + 1,
                "email": f"laerer{school_id}@skole.example.dk",
                "name": f"Lærer {school_id}",
                "role": Role.teacher,
                "organisation_id": school_id,
                "created_at": now - timedelta(days=rng.randint(1, 300)),
            }
        )
    return schools, teachers


def make_bookings(
    rng: random.Random, share: float, sessions: list[dict], offers: list[dict], teachers, now
) -> list[dict]:
    """Classes booked into a share of the open sessions; a quarter of those are booked full, so the
    free-places filter has sessions to leave out."""
    grades = {o["id"]: (o["grade_min"], o["grade_max"]) for o in offers}
    bookings: list[dict] = []
    for session in sessions:
        if session["cancelled_at"] is not None or rng.random() >= share:
            continue
        capacity = session["capacity_pupils"]
        full = rng.random() < 0.25
        held = 0
        for _ in range(rng.randint(1, 3) if not full else 8):
            pupils = min(rng.randint(18, 28), capacity - held)
            if pupils <= 0:
                break
            status = BookingStatus.confirmed if full else pick(rng, BOOKING_STATUS_WEIGHTS)
            if status in (BookingStatus.confirmed, BookingStatus.pending):
                held += pupils
            teacher = rng.choice(teachers)
            grade = rng.randint(*grades[session["offer_id"]])
            created = now - timedelta(days=rng.randint(0, 90))
            bookings.append(
                {
                    "id": len(bookings) + 1,
                    "session_id": session["id"],
                    "school_id": teacher["organisation_id"],
                    "teacher_id": teacher["id"],
                    "status": status,
                    "class_name": f"{grade}.{rng.choice('abcd')}",
                    "grade": grade,
                    "pupils": pupils,
                    "girls": rng.randint(0, pupils) if rng.random() < 0.5 else None,
                    "adults": rng.randint(1, 2),
                    "hold_until": now + timedelta(days=rng.randint(3, 14))
                    if status == BookingStatus.pending
                    else None,
                    "created_at": created,
                    "updated_at": created,
                }
            )
    return bookings


def with_defaults(model, rows: list[dict]) -> list[dict]:
    """Rows with every column the model gives a default for, so a new column with a default
    does not break the generator."""
    base = {}
    for name, info in model.model_fields.items():
        if name not in model.__table__.columns:
            continue
        if info.default_factory is not None:
            base[name] = info.default_factory()
        elif info.default is not PydanticUndefined:
            base[name] = info.default
    return [{**base, **row} for row in rows]


def copy_rows(engine: Engine, table, rows: list[dict]) -> None:
    """Insert rows: COPY on PostgreSQL, batched executemany in one transaction elsewhere."""
    if not rows:
        return
    columns = list(rows[0])
    if engine.dialect.name == "postgresql":
        raw = engine.raw_connection()
        try:
            connection = raw.driver_connection
            names = sql.SQL(", ").join(map(sql.Identifier, columns))
            statement = sql.SQL("COPY {} ({}) FROM STDIN").format(sql.Identifier(table.name), names)
            with connection.cursor() as cursor, cursor.copy(statement) as copy:
                for row in rows:
                    copy.write_row([_plain(row[c]) for c in columns])
            connection.commit()
        finally:
            raw.close()
        return
    with engine.begin() as connection:
        for start in range(0, len(rows), BATCH):
            connection.execute(insert(table), rows[start : start + BATCH])


def _plain(value):
    return value.value if isinstance(value, StrEnum) else value


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--database-url", required=True, help="SQLAlchemy URL of the database to (re)create"
    )
    parser.add_argument("--offers", type=int, default=20_000)
    parser.add_argument("--sessions", type=int, default=200_000)
    parser.add_argument("--providers", type=int, default=300)
    parser.add_argument("--schools", type=int, default=350)
    parser.add_argument(
        "--booked", type=float, default=0.35, help="share of the sessions that have bookings"
    )
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument(
        "--today",
        type=date.fromisoformat,
        default=None,
        help="first day of the 12 months of sessions (default: today); fix it to repeat a run",
    )
    args = parser.parse_args()

    started = time.perf_counter()
    today = args.today or datetime.now(TIMEZONE).date()
    now = datetime.combine(today, datetime.min.time(), TIMEZONE).astimezone(UTC)
    rng = random.Random(args.seed)

    recreate_database(args.database_url)
    migrate(args.database_url)
    print(f"migrated in {time.perf_counter() - started:.1f} s", flush=True)

    providers = make_providers(rng, args.providers, now)
    offers, themes, subjects = make_offers(rng, args.offers, providers, now)
    sessions = make_sessions(rng, args.sessions, offers, today, now)
    schools, teachers = make_schools(rng, args.schools, len(providers) + 1, now)
    bookings = make_bookings(rng, args.booked, sessions, offers, teachers, now)
    print(f"generated the rows in {time.perf_counter() - started:.1f} s", flush=True)

    engine = make_engine(args.database_url)
    for model, rows in [
        (Organisation, providers + schools),
        (User, teachers),
        (Offer, offers),
        (OfferTheme, themes),
        (OfferSubject, subjects),
        (OfferSession, sessions),
        (Booking, bookings),
    ]:
        copy_rows(engine, model.__table__, with_defaults(model, rows))
        print(f"  {model.__tablename__}: {len(rows)} rows", flush=True)

    if engine.dialect.name == "postgresql":
        with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
            for table in ("organisations", "users", "offers", "offer_sessions", "bookings"):
                sequence = f"pg_get_serial_sequence('{table}', 'id')"
                connection.execute(
                    text(f"SELECT setval({sequence}, (SELECT max(id) FROM {table}))")
                )
            # What autovacuum would do shortly after a load like this one; done now so the first
            # benchmark run does not race it.
            connection.execute(text("VACUUM ANALYZE"))
    # SQLite is left without ANALYZE statistics, as the app leaves it: its query plans are the
    # ones a real SQLite portal gets.
    engine.dispose()

    published = sum(o["status"] == OfferStatus.published for o in offers)
    print(
        f"done in {time.perf_counter() - started:.1f} s: {len(providers)} providers, "
        f"{len(offers)} offers ({published} published), {len(sessions)} sessions from {today} on, "
        f"{len(schools)} schools, {len(bookings)} bookings"
    )


if __name__ == "__main__":
    main()
