"""How fast the STEM barometer answers on five years of bookings while bookings keep being made:
p50/p95/p99 of the public page and of GET /api/v1/barometer for a year, a municipality and a kind,
the first (cold) request of each apart from the warm reads; and how long one count takes (the
cache bypassed), with PostgreSQL's plan of the slowest counting statement. Prints Markdown tables
for bench/README.md.

    .venv/bin/python bench/barometer.py \
        --database-url postgresql+psycopg://postgres@127.0.0.1:5432/stem_bench_barometer

Fill the database first with bench/generate_bookings_history.py. The script starts and stops a
uvicorn itself (`--workers`), a thread that writes confirmed bookings into this year's sessions
directly in the database at `--rate` per second, and, after the cold requests, a thread that runs
the worker's job `barometer.service.refresh_stale` every `--refresh-interval` seconds (the
worker's default pass interval, 5 s). Its own rows (bookings it wrote, figures stored) stay in the
database: regenerate it for a clean run.
"""

import argparse
import os
import platform
import socket
import statistics
import subprocess
import sys
import threading
import time
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import httpx  # noqa: E402
from sqlalchemy import event, text  # noqa: E402
from sqlmodel import Session  # noqa: E402

from app.barometer import service  # noqa: E402
from app.config import get_settings  # noqa: E402
from app.db import make_engine, utcnow  # noqa: E402
from app.i18n import TIMEZONE  # noqa: E402

TARGET_MS = 200.0


def percentiles(times: list[float]) -> tuple[float, float, float]:
    if len(times) < 2:
        return times[0], times[0], times[0]
    q = statistics.quantiles(times, n=100, method="inclusive")
    return statistics.median(times), q[94], q[98]


def table(header: list[str], rows: list[list[str]]) -> str:
    lines = [
        "| " + " | ".join(header) + " |",
        "|" + "|".join("---" if i == 0 else "--:" for i in range(len(header))) + "|",
    ]
    return "\n".join(lines + ["| " + " | ".join(row) + " |" for row in rows])


def load() -> str:
    one, five, _ = os.getloadavg()
    return f"load average {one:.1f} (1 min) / {five:.1f} (5 min)"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def shapes(year: int, municipality: str, kind: str) -> list[tuple[str, dict]]:
    return [
        (f"year={year}", {"year": year}),
        (f"year={year}, municipality={municipality}", {"year": year, "municipality": municipality}),
        (f"year={year}, type={kind}", {"year": year, "type": kind}),
    ]


# --- counting, the cache bypassed -------------------------------------------------------------


class StatementTimer:
    """Each SQL statement the engine runs, with its parameters and time."""

    def __init__(self, engine):
        self.log: list[tuple[float, str, object]] = []
        self.on = False
        event.listen(engine, "before_cursor_execute", self._before)
        event.listen(engine, "after_cursor_execute", self._after)

    def _before(self, conn, cursor, statement, parameters, context, executemany):
        conn.info["started"] = time.perf_counter()

    def _after(self, conn, cursor, statement, parameters, context, executemany):
        if self.on:
            ms = (time.perf_counter() - conn.info.pop("started")) * 1000
            self.log.append((ms, statement, parameters))


def cold_counts(engine, cases, runs: int, timer: StatementTimer | None = None) -> dict[str, list[float]]:
    found = {}
    for label, params in cases:
        times = []
        for _ in range(runs):
            if timer is not None:
                timer.log.clear()
                timer.on = True
            with Session(engine) as db:
                started = time.perf_counter()
                service.figures(db, now=utcnow(), max_age_minutes=0, **params)
                times.append((time.perf_counter() - started) * 1000)
            if timer is not None:
                timer.on = False
        found[label] = times
        if timer is not None:
            found[label + "#statements"] = list(timer.log)
    return found


def explain(engine, statement: str, parameters) -> str:
    raw = engine.raw_connection()
    try:
        with raw.driver_connection.cursor() as cursor:
            cursor.execute("EXPLAIN (ANALYZE, BUFFERS) " + statement, parameters)
            plan = "\n".join(row[0] for row in cursor.fetchall())
        raw.driver_connection.rollback()
    finally:
        raw.close()
    return plan


# --- load: bookings being made, the worker's refresh job ----------------------------------------


class BookingWriter(threading.Thread):
    """Confirmed bookings into random sessions of this year, each its own transaction, at `rate`
    per second (on a schedule, so a slow insert is caught up)."""

    def __init__(self, engine, rate: float):
        super().__init__(daemon=True)
        self.engine, self.rate = engine, rate
        self.stop = threading.Event()
        self.written = 0
        self.times: list[float] = []
        self.seconds = 0.0

    def run(self) -> None:
        import random

        rng = random.Random(7)
        this_year = datetime.now(TIMEZONE).year
        start, end = service.period_bounds(this_year, False)
        with self.engine.connect() as c:
            sessions = c.execute(
                text("SELECT s.id, o.grade_min, o.grade_max FROM offer_sessions s JOIN offers o "
                     "ON o.id = s.offer_id WHERE s.starts_at >= :a AND s.starts_at < :b AND "
                     "s.cancelled_at IS NULL"), {"a": start, "b": end}).all()
            teachers = c.execute(text("SELECT id, organisation_id FROM users WHERE role = 'teacher'")).all()
        raw = self.engine.raw_connection()
        connection = raw.driver_connection
        connection.autocommit = True
        began = time.monotonic()
        try:
            while not self.stop.is_set():
                due = began + self.written / self.rate
                pause = due - time.monotonic()
                if pause > 0:
                    time.sleep(pause)
                session_id, low, high = rng.choice(sessions)
                teacher_id, school_id = rng.choice(teachers)
                grade = rng.randint(low, high)
                pupils = rng.randint(18, 28)
                now = datetime.now(UTC)
                t = time.perf_counter()
                connection.execute(
                    "INSERT INTO bookings (session_id, school_id, teacher_id, status, class_name, "
                    "grade, pupils, girls, adults, needs, contact_phone, late_cancellation, reason, "
                    "allocation_note, created_at, updated_at) VALUES (%s, %s, %s, 'confirmed', %s, "
                    "%s, %s, %s, 1, '', '', false, '', '', %s, %s)",
                    (session_id, school_id, teacher_id, f"{grade}.x", grade, pupils,
                     rng.randint(0, pupils), now, now),
                )
                self.times.append((time.perf_counter() - t) * 1000)
                self.written += 1
        finally:
            self.seconds = time.monotonic() - began
            raw.close()


class Refresher(threading.Thread):
    """The worker's barometer job, as `python -m app worker` runs it every pass."""

    def __init__(self, engine, interval: float, max_age_minutes: int):
        super().__init__(daemon=True)
        self.engine, self.interval, self.max_age = engine, interval, max_age_minutes
        self.stop = threading.Event()
        self.passes: list[tuple[int, float]] = []

    def run(self) -> None:
        while not self.stop.is_set():
            started = time.perf_counter()
            with Session(self.engine) as db:
                counted = service.refresh_stale(db, now=utcnow(), max_age_minutes=self.max_age)
            self.passes.append((counted, (time.perf_counter() - started) * 1000))
            self.stop.wait(self.interval)


# --- HTTP --------------------------------------------------------------------------------------


def start_uvicorn(url: str, workers: int, max_age: int) -> tuple[subprocess.Popen, str]:
    port = free_port()
    env = {**os.environ, "DATABASE_URL": url, "BAROMETER_MAX_AGE_MINUTES": str(max_age)}
    server = subprocess.Popen(
        [sys.executable, "-m", "uvicorn", "app.main:app", "--port", str(port), "--workers",
         str(workers), "--log-level", "warning"],
        cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True,
    )
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 60
    while True:
        if server.poll() is not None:
            raise SystemExit(f"uvicorn stopped: {server.stderr.read()[-2000:]}")
        try:
            if httpx.get(base + "/healthz").status_code == 200:
                return server, base
        except httpx.TransportError:
            pass
        if time.monotonic() > deadline:
            server.kill()
            raise SystemExit("uvicorn did not answer /healthz within 60 s")
        time.sleep(0.3)


def stop(server: subprocess.Popen) -> None:
    server.terminate()
    try:
        server.wait(timeout=15)
    except subprocess.TimeoutExpired:
        server.kill()
        server.wait()


def http_cases(year: int, municipality: str, kind: str) -> list[tuple[str, str, dict, list]]:
    """(label, path, params, filters whose stored figures the request reads)."""
    trend = [service.Filters(year=y) for y in range(year - 4, year + 1)]
    return [
        (f"`GET /barometer?year={year}` (page)", "/barometer", {"year": year}, trend),
        (f"`GET /api/v1/barometer?year={year}`", "/api/v1/barometer", {"year": year},
         [service.Filters(year=year)]),
        (f"`…?year={year}&municipality={municipality}`", "/api/v1/barometer",
         {"year": year, "municipality": municipality},
         [service.Filters(year=year, municipality=municipality)]),
        (f"`…?year={year}&type={kind}`", "/api/v1/barometer", {"year": year, "type": kind},
         [service.filters(year=year, type=kind)]),
    ]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--database-url", required=True)
    parser.add_argument("--year", type=int, default=None, help="default: this year")
    parser.add_argument("--municipality", default="Aarhus")
    parser.add_argument("--type", default="girls_day")
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--runs", type=int, default=300, help="warm requests per case")
    parser.add_argument("--duration", type=float, default=None,
                        help="seconds of warm requests instead of --runs (to outlast the max age)")
    parser.add_argument("--cold-runs", type=int, default=3, help="counts per shape, cache bypassed")
    parser.add_argument("--rate", type=float, default=20.0, help="bookings written per second")
    parser.add_argument("--refresh-interval", type=float, default=5.0)
    parser.add_argument("--max-age-minutes", type=int, default=None,
                        help="BAROMETER_MAX_AGE_MINUTES for the app and the job (default: settings, 15)")
    parser.add_argument("--try-index", action="append", default=[],
                        help="CREATE INDEX name ON ...: time the counts with it, then drop it")
    parser.add_argument("--no-http", action="store_true")
    args = parser.parse_args()

    max_age = args.max_age_minutes
    if max_age is None:
        max_age = get_settings().barometer_max_age_minutes
    year = args.year or datetime.now(TIMEZONE).year
    engine = make_engine(args.database_url)
    with engine.connect() as c:
        version = c.execute(text("SHOW server_version")).scalar_one()
        n_bookings = c.execute(text("SELECT count(*) FROM bookings")).scalar_one()
    print(f"## PostgreSQL {version}, {n_bookings} bookings, {os.cpu_count()} cores, Python "
          f"{platform.python_version()}, {datetime.now(UTC):%Y-%m-%d %H:%M} UTC, {load()}")

    # One count per shape, the cache bypassed (max_age_minutes=0), no other load.
    cases = shapes(year, args.municipality, args.type)
    timer = StatementTimer(engine)
    counts = cold_counts(engine, cases, args.cold_runs, timer)
    rows, slowest = [], (0.0, "", None, "")
    for label, _params in cases:
        times = counts[label]
        statements = counts[label + "#statements"]
        ms, statement, parameters = max(statements, key=lambda s: s[0])
        if ms > slowest[0]:
            slowest = (ms, statement, parameters, label)
        rows.append([label, f"{statistics.median(times):.0f}", f"{max(times):.0f}",
                     str(len(statements)), f"{ms:.0f}"])
    print(f"\n### One count, the cache bypassed ({args.cold_runs} each, no other load)\n")
    print(table(["shape", "median ms", "max ms", "statements", "slowest statement ms"], rows))
    ms, statement, parameters, label = slowest
    print(f"\nThe slowest statement ({label}, {ms:.0f} ms in the last count), EXPLAIN (ANALYZE, BUFFERS):\n")
    print("```\n" + statement + "\n```\n\n```\n" + explain(engine, statement, parameters) + "\n```")

    for index in args.try_index:
        name = index.split()[2] if index.split()[1].upper() == "INDEX" else index.split()[3]
        with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as c:
            started = time.perf_counter()
            c.execute(text(index))
            built = time.perf_counter() - started
            c.execute(text("ANALYZE bookings"))
        try:
            with_index = cold_counts(engine, cases, args.cold_runs)
            print(f"\n### With `{index}` (built in {built:.1f} s)\n")
            print(table(["shape", "median ms before", "median ms with it"], [
                [label, f"{statistics.median(counts[label]):.0f}",
                 f"{statistics.median(with_index[label]):.0f}"] for label, _ in cases]))
        finally:
            with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as c:
                c.execute(text(f"DROP INDEX IF EXISTS {name}"))
    if args.no_http:
        return

    # Through uvicorn, with bookings being made.
    server, base = start_uvicorn(args.database_url, args.workers, max_age)
    writer = BookingWriter(make_engine(args.database_url), args.rate)
    refresher = Refresher(make_engine(args.database_url), args.refresh_interval, max_age)
    requests = http_cases(year, args.municipality, args.type)
    try:
        writer.start()
        time.sleep(2)
        cold_rows = []
        with httpx.Client(base_url=base, timeout=120) as client:
            for label, path, params, read in requests:
                with engine.begin() as c:  # forget what this request reads
                    for f in read:
                        c.execute(text("DELETE FROM barometer_figures WHERE key = :k"),
                                  {"k": service.figures_key(f)})
                started = time.perf_counter()
                client.get(path, params=params).raise_for_status()
                cold_rows.append([label, str(len(read)), f"{(time.perf_counter() - started) * 1000:.0f}"])
            refresher.start()
            times: dict[str, list[float]] = {label: [] for label, *_ in requests}
            oldest = 0.0
            began = time.monotonic()
            for _ in range(3):
                for _label, path, params, _read in requests:
                    client.get(path, params=params).raise_for_status()
            rounds = 0
            while (rounds < args.runs if args.duration is None
                   else time.monotonic() - began < args.duration):
                rounds += 1
                for label, path, params, _read in requests:
                    started = time.perf_counter()
                    response = client.get(path, params=params)
                    response.raise_for_status()
                    times[label].append((time.perf_counter() - started) * 1000)
                    if path.startswith("/api"):
                        as_of = datetime.fromisoformat(response.json()["as_of"])
                        oldest = max(oldest, (datetime.now(UTC) - as_of).total_seconds())
            seconds = time.monotonic() - began
    finally:
        writer.stop.set()
        refresher.stop.set()
        stop(server)
        writer.join(timeout=10)
        refresher.join(timeout=120)

    print(f"\n### Cold: the first request after its stored figures were deleted ({args.workers} "
          f"uvicorn workers, bookings being written)\n")
    print(table(["request", "figures counted", "ms"], cold_rows))
    print(f"\n### Warm: {rounds} requests each, round robin, one client, {args.workers} uvicorn "
          f"workers, BAROMETER_MAX_AGE_MINUTES={max_age}, over {seconds:.0f} s\n")
    rows = []
    everything = []
    for label, *_ in requests:
        p50, p95, p99 = percentiles(times[label])
        everything += times[label]
        slow = sum(t >= TARGET_MS for t in times[label])
        rows.append([label, f"{p50:.1f}", f"{p95:.1f}", f"{p99:.1f}", f"{max(times[label]):.0f}",
                     str(slow), "yes" if p95 < TARGET_MS else "**no**"])
    p50, p95, p99 = percentiles(everything)
    rows.append([f"**all {len(everything)}**", f"{p50:.1f}", f"{p95:.1f}", f"{p99:.1f}",
                 f"{max(everything):.0f}", str(sum(t >= TARGET_MS for t in everything)),
                 "yes" if p95 < TARGET_MS else "**no**"])
    print(table(["request", "p50 ms", "p95 ms", "p99 ms", "max ms", f"≥ {TARGET_MS:.0f} ms",
                 f"p95 < {TARGET_MS:.0f} ms"], rows))
    w50, w95, _ = percentiles(writer.times or [0.0])
    print(f"\nBookings written meanwhile: {writer.written} ({writer.written / max(writer.seconds, 1e-9):.1f}/s over "
          f"{writer.seconds:.0f} s; insert p50 {w50:.1f} ms, p95 {w95:.1f} ms). Refresh job: {len(refresher.passes)} "
          f"passes, {sum(n for n, _ in refresher.passes)} figures counted, the longest pass "
          f"{max((ms for _, ms in refresher.passes), default=0):.0f} ms "
          f"({[(n, round(ms)) for n, ms in refresher.passes if n]}). Oldest `as_of` served: "
          f"{oldest:.0f} s. {load()} at the end.")


if __name__ == "__main__":
    main()
