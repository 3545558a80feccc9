"""Five years of bookings for bench/barometer.py: a fresh, migrated database with the catalogue of
bench/generate_catalogue.py (providers, schools, offers, the coming twelve months of dates and
their bookings) and, before it, `--bookings` booking rows (1,000,000) on past dates from 1 January
four years ago to yesterday, growing year by year; the same for the same seed and start day.

    .venv/bin/python bench/generate_bookings_history.py \
        --database-url postgresql+psycopg://postgres@127.0.0.1:5432/stem_bench_barometer

Past bookings are mostly completed, some still confirmed, the rest cancelled, declined, expired,
pending or waitlisted; half give a girls' count (Girls Day: all pupils are girls); about 5 % of
the rows are long courses booked as one (`course_id`: a row per weekly date, 3-6 of them, the
first row pointing at itself), some of them across New Year. Schools are in all 19 municipalities.

The database named by the URL is dropped and created again (connecting to the server's `postgres`
database); PostgreSQL only (rows by `COPY`, then `VACUUM ANALYZE`). Never point it at real data.
"""

import argparse
import random
import sys
import time
import uuid
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

import generate_catalogue as catalogue  # noqa: E402
from psycopg import sql  # noqa: E402
from sqlalchemy import make_url, text  # noqa: E402

from app.accounts.models import Organisation, User  # noqa: E402
from app.bookings.models import Booking, BookingStatus  # noqa: E402
from app.catalogue.models import (  # noqa: E402
    Offer,
    OfferSession,
    OfferStatus,
    OfferSubject,
    OfferTheme,
    OfferType,
)
from app.db import make_engine  # noqa: E402
from app.i18n import TIMEZONE  # noqa: E402

YEARS = 5
# Each year has this many times the bookings of the first (the portal grows).
GROWTH = [1.0, 1.15, 1.3, 1.45, 1.6]
PAST_STATUS_WEIGHTS = {
    BookingStatus.completed: 72,
    BookingStatus.confirmed: 6,  # held, not yet marked completed
    BookingStatus.cancelled: 10,
    BookingStatus.declined: 5,
    BookingStatus.expired: 3,
    BookingStatus.pending: 2,
    BookingStatus.waitlisted: 2,
}
COURSE_SHARE = 0.08  # of the classes, on long courses booked as one
HOLIDAY_MONTHS = {7}  # no activities in July


def school_day(rng: random.Random, first: date, last: date) -> date | None:
    for _ in range(20):
        day = first + timedelta(days=rng.randint(0, (last - first).days))
        if day.weekday() < 5 and day.month not in HOLIDAY_MONTHS:
            return day
    return None


def at(day: date, rng: random.Random) -> datetime:
    local = datetime(
        day.year, day.month, day.day, rng.choice([8, 9, 10, 12, 13]), rng.choice([0, 15, 30]),
        tzinfo=TIMEZONE,
    )
    return local.astimezone(UTC)


class Copier:
    """COPY rows of a table in the model's column order, defaults filled in, from tuples."""

    def __init__(self, model, columns: list[str]):
        defaults = catalogue.with_defaults(model, [{}])[0]
        self.table = model.__tablename__
        self.columns = columns + [c for c in defaults if c not in columns]
        self.tail = tuple(catalogue._plain(defaults[c]) for c in self.columns[len(columns):])

    def copy(self, connection, rows) -> int:
        names = sql.SQL(", ").join(map(sql.Identifier, self.columns))
        statement = sql.SQL("COPY {} ({}) FROM STDIN").format(sql.Identifier(self.table), names)
        n = 0
        with connection.cursor() as cursor, cursor.copy(statement) as copy:
            for row in rows:
                copy.write_row(row + self.tail)
                n += 1
        connection.commit()
        return n


SESSION_COLUMNS = ["id", "offer_id", "starts_at", "ends_at", "capacity_pupils", "capacity_classes",
                   "series", "cancelled_at", "created_at"]
BOOKING_COLUMNS = ["id", "session_id", "school_id", "teacher_id", "status", "class_name", "grade",
                   "pupils", "girls", "adults", "course_id", "created_at", "updated_at"]


def history(rng, offers, teachers, first_session_id, first_booking_id, total, today):
    """Sessions and bookings of each past year, a year at a time: yields (sessions, bookings)."""
    first_year = today.year - YEARS + 1
    spans = []
    for i, year in enumerate(range(first_year, today.year + 1)):
        last = min(date(year, 12, 31), today - timedelta(days=1))
        share = ((last - date(year, 1, 1)).days + 1) / 365
        spans.append((year, last, GROWTH[i] * share))
    quotas = [round(total * w / sum(s[2] for s in spans)) for *_, w in spans]
    quotas[-1] = total - sum(quotas[:-1])

    bookable = [o for o in offers if o["status"] in (OfferStatus.published, OfferStatus.archived)]
    weights = [rng.lognormvariate(0, 0.9) for _ in bookable]
    courses = [o for o in bookable if o["type"] == OfferType.course and o["all_dates_together"]]
    session_id, booking_id = first_session_id, first_booking_id

    def booking(session, teacher, status, grade, pupils, girls, course_id, created):
        return (booking_id, session, teacher["organisation_id"], teacher["id"], status.value,
                f"{grade}.{rng.choice('abcd')}", grade, pupils, girls, rng.randint(1, 2),
                course_id, created, created)

    for (year, last, _w), quota in zip(spans, quotas, strict=True):
        sessions, bookings = [], []
        start = date(year, 1, 1)
        while len(bookings) < quota:
            teacher = rng.choice(teachers)
            status = catalogue.pick(rng, PAST_STATUS_WEIGHTS)
            if rng.random() < COURSE_SHARE / 4:  # a course series, ~4 dates, 1-2 classes on it
                offer = rng.choice(courses)
                day = school_day(rng, start, last)
                if day is None:
                    continue
                dates = [day + timedelta(weeks=k) for k in range(rng.randint(3, 6))]
                dates = [d for d in dates if d <= last or (year < today.year and d < today)]
                series = str(uuid.UUID(int=rng.getrandbits(128), version=4))
                ids = []
                for d in dates:
                    starts = at(d, rng)
                    sessions.append((session_id, offer["id"], starts, starts + timedelta(hours=6),
                                     60, 2, series, None, starts - timedelta(days=90)))
                    ids.append(session_id)
                    session_id += 1
                for _ in range(rng.randint(1, 2)):
                    teacher = rng.choice(teachers)
                    grade = rng.randint(offer["grade_min"], offer["grade_max"])
                    pupils = rng.randint(18, 28)
                    girls = rng.randint(0, pupils) if rng.random() < 0.5 else None
                    created = sessions[-len(ids)][2] - timedelta(days=rng.randint(10, 80))
                    course_id = booking_id
                    for sid in ids:
                        bookings.append(booking(sid, teacher, status, grade, pupils, girls,
                                                course_id, created))
                        booking_id += 1
                continue
            offer = rng.choices(bookable, weights=weights)[0]
            day = school_day(rng, start, last)
            if day is None:
                continue
            starts = at(day, rng)
            girls_day = offer["type"] == OfferType.girls_day
            hours = rng.randint(30, 100) if offer["is_long"] else rng.randint(1, 6)
            sessions.append((session_id, offer["id"], starts, starts + timedelta(hours=hours),
                             100 if girls_day else 60, None, None,
                             starts - timedelta(days=5) if rng.random() < 0.02 else None,
                             starts - timedelta(days=90)))
            for _ in range(rng.randint(2, 6) if girls_day else rng.randint(1, 3)):
                teacher = rng.choice(teachers)
                grade = rng.randint(offer["grade_min"], offer["grade_max"])
                pupils = rng.randint(18, 28) if not girls_day else rng.randint(6, 14)
                if girls_day:
                    girls = pupils
                else:
                    girls = rng.randint(0, pupils) if rng.random() < 0.5 else None
                created = starts - timedelta(days=rng.randint(10, 120))
                bookings.append(booking(session_id, teacher, catalogue.pick(rng, PAST_STATUS_WEIGHTS),
                                        grade, pupils, girls, None, created))
                booking_id += 1
            session_id += 1
        yield year, sessions, bookings


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--database-url", required=True)
    parser.add_argument("--bookings", type=int, default=1_000_000, help="past booking rows")
    parser.add_argument("--offers", type=int, default=20_000)
    parser.add_argument("--sessions", type=int, default=200_000, help="coming sessions")
    parser.add_argument("--schools", type=int, default=350)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--today", type=date.fromisoformat, default=None)
    args = parser.parse_args()
    if make_url(args.database_url).get_backend_name() != "postgresql":
        raise SystemExit("PostgreSQL only")

    started = time.perf_counter()
    today = args.today or datetime.now(TIMEZONE).date()
    now = datetime.combine(today, datetime.min.time(), TIMEZONE).astimezone(UTC)
    rng = random.Random(args.seed)

    catalogue.recreate_database(args.database_url)
    catalogue.migrate(args.database_url)
    print(f"migrated in {time.perf_counter() - started:.1f} s", flush=True)

    providers = catalogue.make_providers(rng, 300, now)
    offers, themes, subjects = catalogue.make_offers(rng, args.offers, providers, now)
    for offer in offers:  # half the long courses are booked as one (a row per date)
        offer["all_dates_together"] = (
            offer["type"] == OfferType.course and offer["is_long"] and rng.random() < 0.5
        )
    sessions = catalogue.make_sessions(rng, args.sessions, offers, today, now)
    schools, teachers = catalogue.make_schools(rng, args.schools, len(providers) + 1, now)
    bookings = catalogue.make_bookings(rng, 0.35, sessions, offers, teachers, now)

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
        catalogue.copy_rows(engine, model.__table__, catalogue.with_defaults(model, rows))
    print(f"catalogue: {len(sessions)} coming sessions, {len(bookings)} bookings, "
          f"{time.perf_counter() - started:.1f} s", flush=True)

    session_copier = Copier(OfferSession, SESSION_COLUMNS)
    booking_copier = Copier(Booking, BOOKING_COLUMNS)
    raw = engine.raw_connection()
    past_sessions = past_bookings = 0
    try:
        connection = raw.driver_connection
        for year, year_sessions, year_bookings in history(
            rng, offers, teachers, len(sessions) + 1, len(bookings) + 1, args.bookings, today
        ):
            past_sessions += session_copier.copy(connection, year_sessions)
            past_bookings += booking_copier.copy(connection, year_bookings)
            print(f"  {year}: {len(year_sessions)} sessions, {len(year_bookings)} bookings, "
                  f"{time.perf_counter() - started:.1f} s", flush=True)
    finally:
        raw.close()

    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
        for table in ("organisations", "users", "offers", "offer_sessions", "bookings"):
            sequence = f"pg_get_serial_sequence('{table}', 'id')"
            connection.execute(text(f"SELECT setval({sequence}, (SELECT max(id) FROM {table}))"))
        connection.execute(text("VACUUM ANALYZE"))
        size = connection.execute(
            text("SELECT pg_size_pretty(pg_database_size(current_database()))")
        ).scalar_one()
    engine.dispose()
    print(
        f"done in {time.perf_counter() - started:.1f} s: {len(schools)} schools, {len(offers)} "
        f"offers, {past_sessions} past sessions with {past_bookings} bookings from "
        f"{today.year - YEARS + 1}-01-01 to {today - timedelta(days=1)}, {len(sessions)} coming "
        f"sessions with {len(bookings)} bookings; database {size}"
    )


if __name__ == "__main__":
    main()
