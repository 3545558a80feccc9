"""The app's CPU per booking, measured in-process: `POST /api/v1/bookings` called one after another
straight on the ASGI app (no HTTP server, no load generator, no other request), on the PostgreSQL
async path the app uses in production, and timed with the process's CPU clock.

The flash crowd (flash_crowd.py) shows what the whole machine does under load, but its figures
move by a third between runs as the shared machine's speed varies. This one leaves out uvicorn and
the kernel's HTTP side and measures only the app's own work, so two versions of the code can be
compared by running it alternately in two checkouts (`git worktree`): a difference of a tenth of a
millisecond shows.
"""

import argparse
import asyncio
import os
import statistics
import sys
import time
from pathlib import Path

import flash_crowd  # the same teachers, offer and session as the flash crowd (bench/ is on sys.path)

ROOT = Path(__file__).resolve().parent.parent


async def book_all(app, tokens: list[str], session_id: int) -> list[float]:
    """Book once per token; the CPU seconds of each booking."""
    body = (
        f'{{"session_id": {session_id}, "class_name": "8.a", "grade": 8, "pupils": 20, "girls": 20,'
        f' "waitlist": false}}'
    ).encode()
    cpu = []
    for token in tokens:
        scope = {
            "type": "http",
            "asgi": {"version": "3.0"},
            "http_version": "1.1",
            "method": "POST",
            "scheme": "http",
            "path": "/api/v1/bookings",
            "raw_path": b"/api/v1/bookings",
            "root_path": "",
            "query_string": b"",
            "headers": [
                (b"host", b"127.0.0.1"),
                (b"authorization", f"Bearer {token}".encode()),
                (b"content-type", b"application/json"),
                (b"content-length", str(len(body)).encode()),
            ],
            "client": ("127.0.0.1", 50000),
            "server": ("127.0.0.1", 8000),
            "state": {},
        }
        messages = [{"type": "http.request", "body": body, "more_body": False}]
        sent: list[dict] = []

        async def receive(messages=messages):
            return messages.pop() if messages else await asyncio.Event().wait()

        async def send(message, sent=sent):
            sent.append(message)

        started = time.process_time()
        await app(scope, receive, send)
        cpu.append(time.process_time() - started)
        if sent[0]["status"] != 201:
            raise RuntimeError(f"booking answered {sent[0]['status']}: {sent[-1].get('body', b'')[:200]!r}")
    return cpu


async def measure(url: str, bookings: int, warm_up: int) -> list[float]:
    engine = flash_crowd.make_engine(url)
    tokens = flash_crowd.seed_teachers(engine, bookings + warm_up)
    session_id = flash_crowd.seed_session(engine, flash_crowd.seed_offer(engine), 10**8, 0)
    engine.dispose()
    os.environ.update({"DATABASE_URL": url, "ENVIRONMENT": "production"})
    from app.main import create_app

    app = create_app()
    async with app.router.lifespan_context(app):
        await book_all(app, tokens[:warm_up], session_id)
        return await book_all(app, tokens[warm_up:], session_id)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--database-url",
        default="postgresql+psycopg://postgres@127.0.0.1:5432/stem_bench_cpu",
        help="a PostgreSQL database on a loopback address; it is dropped and created again",
    )
    parser.add_argument("--bookings", type=int, default=2000)
    parser.add_argument("--warm-up", type=int, default=200)
    args = parser.parse_args()
    flash_crowd.require_loopback(args.database_url)
    flash_crowd.recreate_database(args.database_url)
    os.chdir(ROOT)  # the app finds its templates and translations from here
    import uvloop  # the event loop uvicorn runs the app on

    cpu = uvloop.run(measure(args.database_url, args.bookings, args.warm_up))
    cpu_ms = sorted(1000 * c for c in cpu)
    print(
        f"{ROOT}: {len(cpu_ms)} bookings, app CPU per booking: mean {statistics.fmean(cpu_ms):.2f} ms,"
        f" median {statistics.median(cpu_ms):.2f} ms, p95 {cpu_ms[int(0.95 * len(cpu_ms))]:.2f} ms"
        f" ({flash_crowd.load()})"
    )


if __name__ == "__main__":
    sys.exit(main())
