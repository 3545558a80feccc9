"""Median and 95th-percentile time of the catalogue search, and of the catalogue page, for typical
filter combinations; prints Markdown tables for bench/README.md.

    .venv/bin/python bench/catalogue_query.py --database-url sqlite:////tmp/bench-catalogue.db

Fill the database first with bench/generate_catalogue.py. The query is timed in this process, one
new database session per call as a request would have; the page through a uvicorn it starts and
stops itself, with httpx.
"""

import argparse
import os
import platform
import socket
import statistics
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import httpx  # noqa: E402
from sqlalchemy import make_url  # noqa: E402
from sqlmodel import Session  # noqa: E402

from app.catalogue.models import OfferType, Theme  # noqa: E402
from app.catalogue.service import CatalogueFilters, search_offers  # noqa: E402
from app.db import make_engine, utcnow  # noqa: E402
from app.geography import MUNICIPALITIES  # noqa: E402
from app.i18n import TIMEZONE  # noqa: E402

TARGET_MS = 50.0
WARM_UP = 3


@dataclass
class Case:
    label: str
    filters: CatalogueFilters
    params: dict[str, str | int] = field(default_factory=dict)
    offset: int = 0


def next_month(today: date) -> tuple[date, date]:
    first = (today.replace(day=1) + timedelta(days=32)).replace(day=1)
    last = (first + timedelta(days=32)).replace(day=1) - timedelta(days=1)
    return first, last


def cases(today: date) -> list[Case]:
    first, last = next_month(today)
    return [
        Case("no filter", CatalogueFilters()),
        Case('q="robot"', CatalogueFilters(q="robot"), {"q": "robot"}),
        Case("type=girls_day", CatalogueFilters(type=OfferType.girls_day), {"type": "girls_day"}),
        Case(
            "theme=climate_energy, grade=8",
            CatalogueFilters(theme=Theme.climate_energy, grade=8),
            {"theme": "climate_energy", "grade": 8},
        ),
        Case(
            "municipality=Herning, free places",
            CatalogueFilters(municipality="Herning", free_places=True),
            {"municipality": "Herning", "free": 1},
        ),
        Case(
            f"dates {first}..{last}",
            CatalogueFilters(date_from=first, date_to=last),
            {"from": first.isoformat(), "to": last.isoformat()},
        ),
        # The page takes the origin from a logged-in teacher's school; anonymously it has none.
        Case(
            "from Aarhus, max 30 km, nearest",
            CatalogueFilters(origin=MUNICIPALITIES["Aarhus"], max_km=30, sort="nearest"),
            {"sort": "nearest"},
        ),
        Case("no filter, page 2 (offset 20)", CatalogueFilters(), {"page": 2}, offset=20),
    ]


def timed(call: Callable[[], object], runs: int) -> tuple[float, float, object]:
    """Median and 95th percentile (ms) of `runs` calls after a warm-up, and the last result."""
    for _ in range(WARM_UP):
        result = call()
    times = []
    for _ in range(runs):
        started = time.perf_counter()
        result = call()
        times.append((time.perf_counter() - started) * 1000)
    p95 = statistics.quantiles(times, n=100, method="inclusive")[94] if runs > 1 else times[0]
    return statistics.median(times), p95, result


def table(header: list[str], rows: list[list[str]]) -> str:
    lines = [
        "| " + " | ".join(header) + " |",
        "|" + "|".join("---" if i == 0 else "--:" for i in range(len(header))) + "|",
    ]
    lines += ["| " + " | ".join(row) + " |" for row in rows]
    return "\n".join(lines)


def bench_query(url: str, runs: int, today: date) -> None:
    engine = make_engine(url)
    rows = []
    for case in cases(today):

        def call(case=case):
            with Session(engine) as db:
                return search_offers(db, case.filters, now=utcnow(), limit=20, offset=case.offset)

        median, p95, (hits, total) = timed(call, runs)
        verdict = "yes" if p95 < TARGET_MS else f"**no** (+{p95 - TARGET_MS:.1f} ms)"
        rows.append(
            [case.label, f"{median:.1f}", f"{p95:.1f}", str(total), str(len(hits)), verdict]
        )
    engine.dispose()
    print(f"\n### search_offers ({runs} runs each)\n")
    print(
        table(["filter", "median ms", "p95 ms", "total", "hits", f"p95 < {TARGET_MS:.0f} ms"], rows)
    )


def load() -> str:
    """The machine's load average: other work on the same cores shows up in the figures."""
    one, five, _ = os.getloadavg()
    return f"load average {one:.1f} (1 min) / {five:.1f} (5 min)"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def bench_page(url: str, runs: int, today: date) -> None:
    port = free_port()
    base = f"http://127.0.0.1:{port}"
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
        with httpx.Client(base_url=base, timeout=30) as client:
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
                    print("\nuvicorn did not answer /healthz within 30 s; page not timed")
                    return
                time.sleep(0.2)
            if client.get("/catalogue").status_code == 404:
                print("\n### GET /catalogue\n\npage not available")
                return
            rows = []
            for case in cases(today):

                def call(case=case):
                    response = client.get("/catalogue", params=case.params)
                    response.raise_for_status()
                    return response

                median, p95, response = timed(call, runs)
                query = "&".join(f"{k}={v}" for k, v in case.params.items())
                rows.append(
                    [
                        case.label,
                        f"`?{query}`" if query else "",
                        f"{median:.1f}",
                        f"{p95:.1f}",
                        f"{len(response.content) // 1024} KiB",
                    ]
                )
        print(f"\n### GET /catalogue ({runs} runs each, one uvicorn worker)\n")
        print(table(["filter", "query string", "median ms", "p95 ms", "size"], rows))
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
        "--runs", type=int, default=200, help="timed calls per filter, after a warm-up"
    )
    parser.add_argument("--no-page", action="store_true", help="time only the query, not the page")
    args = parser.parse_args()

    today = datetime.now(TIMEZONE).date()
    backend = make_url(args.database_url).get_backend_name()
    python = platform.python_version()
    print(f"## {backend}, {today}, {os.cpu_count()} cores, Python {python}, {load()}")
    bench_query(args.database_url, args.runs, today)
    if not args.no_page:
        bench_page(args.database_url, args.runs, today)
    print(f"\n{load()} at the end")


if __name__ == "__main__":
    main()
