"""Median, 95th and 99th percentile time of one mentor's open shifts: the query
`mentors.shifts.open_shifts` in this process, then `GET /api/v1/shifts` and, when it answers, the
page `GET /mentor/shifts`, through a uvicorn it starts and stops itself, with httpx; for several
kinds of mentor. Prints Markdown tables for bench/README.md.

    .venv/bin/python bench/shifts.py \
        --database-url postgresql+psycopg://postgres@127.0.0.1:5432/stem_bench_mentors

Fill the database first with bench/generate_mentors.py. `--explain` prints PostgreSQL's plan of
the query (EXPLAIN ANALYZE) for each mentor. The script logs the mentors in: it adds an API token
and a web session for each to the database.
"""

import argparse
import os
import platform
import statistics
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

import httpx  # noqa: E402
from catalogue_query import free_port, load, table  # noqa: E402
from sqlalchemy import func, make_url, text  # noqa: E402
from sqlmodel import Session, col, select  # noqa: E402

from app.accounts import service as accounts  # noqa: E402
from app.accounts.models import Organisation, OrganisationKind, SessionKind, User  # noqa: E402
from app.config import get_settings  # noqa: E402
from app.db import make_engine, utcnow  # noqa: E402
from app.deps import SESSION_COOKIE  # noqa: E402
from app.i18n import TIMEZONE  # noqa: E402
from app.mentors import shifts  # noqa: E402
from app.mentors.models import (  # noqa: E402
    ChildCertificateCheck,
    MentorMunicipality,
    MentorProfile,
    MentorStatus,
    Shift,
    ShiftStatus,
)

TARGET_MS = 50.0
WARM_UP = 5


@dataclass
class Mentor:
    label: str
    user_id: int
    api_token: str = ""
    web_token: str = ""


def percentiles(times: list[float]) -> tuple[float, float, float]:
    cuts = statistics.quantiles(times, n=100, method="inclusive")
    return statistics.median(times), cuts[94], cuts[98]


def timed(call: Callable[[], object], runs: int) -> tuple[list[float], object]:
    """The times (ms) of `runs` calls after a warm-up, and the last result."""
    for _ in range(WARM_UP):
        result = call()
    times = []
    for _ in range(runs):
        started = time.perf_counter()
        result = call()
        times.append((time.perf_counter() - started) * 1000)
    return times, result


def pick_mentors(db: Session) -> list[Mentor]:
    """Approved mentors of different kinds: the most open shifts (an upper-secondary pupil in
    Aarhus reaching far), a higher-education student in Aarhus, a pupil in a small municipality,
    the mentor with the most coming shifts (the clash test's work), and one without a child
    certificate. The first approved mentor that fits each, by id, so every run times the same."""
    reach = dict(
        db.exec(
            select(MentorMunicipality.user_id, func.count()).group_by(
                col(MentorMunicipality.user_id)
            )
        ).all()
    )
    certified = set(db.exec(select(ChildCertificateCheck.mentor_id).distinct()).all())
    coming = dict(
        db.exec(
            select(Shift.mentor_id, func.count())
            .where(Shift.status == ShiftStatus.signed_up)
            .group_by(col(Shift.mentor_id))
        ).all()
    )
    rows = db.exec(
        select(MentorProfile.user_id, Organisation.kind, Organisation.municipality)
        .join(Organisation, Organisation.id == MentorProfile.institution_id)
        .where(MentorProfile.status == MentorStatus.approved)
        .order_by(col(MentorProfile.user_id))
    ).all()
    pupils = [r for r in rows if r.kind == OrganisationKind.school]
    students = [r for r in rows if r.kind == OrganisationKind.provider]
    chosen = [
        (
            "pupil, Aarhus, widest reach",
            max(
                (r for r in pupils if r.municipality == "Aarhus" and r.user_id in certified),
                key=lambda r: reach[r.user_id],
            ),
        ),
        ("student, Aarhus", next(r for r in students if r.municipality == "Aarhus")),
        (
            "pupil, small municipality",
            next(r for r in pupils if r.municipality in ("Lemvig", "Samsø", "Struer", "Odder")),
        ),
        ("most coming shifts", max(rows, key=lambda r: coming.get(r.user_id, 0))),
        ("pupil without certificate", next(r for r in pupils if r.user_id not in certified)),
    ]
    mentors = []
    for label, row in chosen:
        extra = f"{reach[row.user_id]} municipalities, {coming.get(row.user_id, 0)} coming shifts"
        mentors.append(Mentor(f"{label} ({extra})", row.user_id))
    return mentors


def log_in(db: Session, mentors: list[Mentor]) -> None:
    settings = get_settings()
    for mentor in mentors:
        user = db.get(User, mentor.user_id)
        now = utcnow()
        mentor.api_token = accounts.start_session(
            db, user, kind=SessionKind.api, now=now, settings=settings
        )
        mentor.web_token = accounts.start_session(
            db, user, kind=SessionKind.web, now=now, settings=settings
        )
    db.commit()


def explain(db: Session, mentor: Mentor) -> None:
    """EXPLAIN ANALYZE of the page's query (not the count), as the app sends it."""
    captured = []

    def capture(conn, cursor, statement, parameters, context, executemany):
        if "ORDER BY offer_sessions.starts_at" in statement:
            captured.append((statement, parameters))

    from sqlalchemy import event

    engine = db.get_bind()
    event.listen(engine, "before_cursor_execute", capture)
    try:
        shifts.open_shifts(db, db.get(User, mentor.user_id), now=utcnow())
    finally:
        event.remove(engine, "before_cursor_execute", capture)
    statement, parameters = captured[-1]
    raw = db.connection().connection.driver_connection
    with raw.cursor() as cursor:
        cursor.execute("EXPLAIN (ANALYZE, BUFFERS) " + statement, parameters)
        plan = "\n".join(row[0] for row in cursor.fetchall())
    print(f"\n#### EXPLAIN ANALYZE, {mentor.label}\n\n```\n{plan}\n```")


def bench_query(url: str, mentors: list[Mentor], runs: int, show_plan: bool) -> None:
    engine = make_engine(url)
    rows = []
    for mentor in mentors:

        def call(mentor=mentor):
            with Session(engine) as db:
                return shifts.open_shifts(db, db.get(User, mentor.user_id), now=utcnow())

        times, (found, total) = timed(call, runs)
        median, p95, p99 = percentiles(times)
        verdict = "yes" if p95 < TARGET_MS else f"**no** (+{p95 - TARGET_MS:.1f} ms)"
        rows.append(
            [mentor.label, str(total), f"{median:.1f}", f"{p95:.1f}", f"{p99:.1f}", verdict]
        )
        if show_plan and engine.dialect.name == "postgresql":
            with Session(engine) as db:
                explain(db, mentor)
    engine.dispose()
    print(f"\n### shifts.open_shifts ({runs} calls each, a new database session per call)\n")
    print(
        table(
            ["mentor", "open", "median ms", "p95 ms", "p99 ms", f"p95 < {TARGET_MS:.0f} ms"], rows
        )
    )


def bench_http(url: str, mentors: list[Mentor], runs: int) -> None:
    port = free_port()
    env = {**os.environ, "DATABASE_URL": url}
    server = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "uvicorn",
            "app.main:app",
            "--port",
            str(port),
            "--log-level",
            "warning",
        ],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        with httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=30) as client:
            deadline = time.monotonic() + 30
            while True:
                if server.poll() is not None:
                    print(f"\nuvicorn stopped: {server.stderr.read()[-2000:]}")
                    return
                try:
                    if client.get("/healthz").status_code == 200:
                        break
                except httpx.TransportError:
                    pass
                if time.monotonic() > deadline:
                    print("\nuvicorn did not answer /healthz within 30 s; nothing timed")
                    return
                time.sleep(0.2)
            api = lambda m: client.get(  # noqa: E731
                "/api/v1/shifts", headers={"Authorization": f"Bearer {m.api_token}"}
            )
            page = lambda m: client.get("/mentor/shifts", cookies={SESSION_COOKIE: m.web_token})  # noqa: E731
            for name, request in (("GET /api/v1/shifts", api), ("GET /mentor/shifts", page)):
                status = request(mentors[0]).status_code
                if status != 200:
                    print(f"\n### {name}\n\nnot timed: it answers {status}")
                    continue
                rows, every = [], []
                for mentor in mentors:

                    def call(mentor=mentor, request=request):
                        response = request(mentor)
                        response.raise_for_status()
                        return response

                    times, response = timed(call, runs)
                    every += times
                    median, p95, p99 = percentiles(times)
                    rows.append(
                        [
                            mentor.label,
                            f"{median:.1f}",
                            f"{p95:.1f}",
                            f"{p99:.1f}",
                            f"{len(response.content) // 1024} KiB",
                        ]
                    )
                median, p95, p99 = percentiles(every)
                rows.append(
                    [
                        f"**all {len(every)} requests**",
                        f"{median:.1f}",
                        f"{p95:.1f}",
                        f"{p99:.1f}",
                        "",
                    ]
                )
                print(
                    f"\n### {name} ({runs} requests per mentor, one after another, one uvicorn worker)\n"
                )
                print(table(["mentor", "median ms", "p95 ms", "p99 ms", "size"], rows))
    finally:
        server.terminate()
        try:
            server.wait(timeout=10)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--database-url", required=True)
    parser.add_argument(
        "--runs", type=int, default=300, help="timed calls per mentor, after a warm-up"
    )
    parser.add_argument(
        "--explain", action="store_true", help="print the query's plan (PostgreSQL)"
    )
    parser.add_argument("--no-http", action="store_true", help="time only the query")
    args = parser.parse_args()

    today = datetime.now(TIMEZONE).date()
    backend = make_url(args.database_url).get_backend_name()
    engine = make_engine(args.database_url)
    with Session(engine) as db:
        mentors = pick_mentors(db)
        log_in(db, mentors)
        version = (
            db.exec(text("SELECT version()")).one()[0].split(" on ")[0]
            if backend == "postgresql"
            else ""
        )
    engine.dispose()
    print(
        f"## {backend} {version}, {today}, {os.cpu_count()} cores, Python {platform.python_version()}, {load()}"
    )
    bench_query(args.database_url, mentors, args.runs, args.explain)
    if not args.no_http:
        bench_http(args.database_url, mentors, args.runs)
    print(f"\n{load()} at the end")


if __name__ == "__main__":
    main()
