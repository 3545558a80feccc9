"""Flash crowd: the moment a popular Girls Day session opens, many teachers book it at once through
the HTTP API; and, in the same run, what PostgreSQL itself can do for the same transaction.

    .venv/bin/python bench/flash_crowd.py \
        --database-url postgresql+psycopg://postgres@127.0.0.1:5432/stem_bench_flash \
        --workers 4 --clients 32 --teachers 50,200,1000

What it does, all on this machine and on loopback addresses only:

1. Replaces the database named by the URL with a fresh, migrated one (drop and create, connecting
   to the server's `postgres` database). Never point it at real data.
2. Creates the largest number of teachers asked for, each at their own school, and their API
   tokens, directly in the database; one provider with one published girls_day offer that needs
   no approval, and one session of it per round, each on its own day.
3. Starts `uvicorn app.main:app --workers N` on a free port, and fires the rounds with exactly
   `--clients` concurrent keep-alive HTTP connections from one asyncio process (a lean built-in
   HTTP/1.1 client, about 0.3 ms CPU per request; `--httpx` uses httpx.AsyncClient, about 3 ms,
   which the two cores then miss for the app): a warm-up (not reported); for each number of
   teachers a round whose capacity is `--capacity` (a share) of the pupils all its teachers ask
   for, so that some are accepted and the rest refused (409); and a round of the largest number
   of teachers with room for all, which measures accepted bookings per second. Each teacher asks
   once for one class of 15-28 pupils; the order is shuffled. Before each round every connection
   is opened (teachers looking at the session page); then all requests are released at once and
   each connection sends its next one as soon as it has an answer. Latency is from sending a
   request to its answer. Per round it also reports the CPU time the app (all uvicorn processes),
   PostgreSQL and the load generator used per request, how busy the machine was and how much of
   it other processes took, and how the client connections were spread over the workers.
4. Checks in SQL that no session is overbooked (pupils of pending and confirmed bookings at most
   the capacity), that the database holds exactly the accepted bookings, that no refused class
   would have fitted into the seats left, and that GET /api/v1/sessions/{id} says the same.
5. Stops uvicorn, then runs pgbench with bench/pgbench_book.sql (lock one row FOR UPDATE, insert
   one row, in one transaction) on scratch tables in the same database, and prints accepted
   bookings per second as a share of its tps, and which targets were met.

The whole run is bounded by --time-limit (default 300 s); uvicorn is stopped on every exit.
"""

import argparse
import asyncio
import contextlib
import ipaddress
import json
import os
import platform
import random
import re
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from glob import glob
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import httpx  # noqa: E402
import psycopg  # noqa: E402
from alembic import command  # noqa: E402
from alembic.config import Config  # noqa: E402
from psycopg import sql  # noqa: E402
from sqlalchemy import make_url, text  # noqa: E402
from sqlmodel import Session  # noqa: E402

from app.accounts import secrets  # noqa: E402
from app.accounts.models import (  # noqa: E402
    AuthSession,
    Organisation,
    OrganisationKind,
    ProviderKind,
    Role,
    SchoolLevel,
    SessionKind,
    User,
)
from app.catalogue.models import Offer, OfferSession, OfferStatus, OfferType  # noqa: E402
from app.db import make_engine  # noqa: E402

PGBENCH_SCRIPT = ROOT / "bench" / "pgbench_book.sql"
PUPILS = (15, 28)  # a class books this many pupils, chosen at random per request
TARGET_SHARE = 0.2  # accepted bookings per second, as a share of pgbench's tps
TARGET_P95_MS = 150.0
TARGET_CLIENTS = 32
SEED = 4


# --- the database -------------------------------------------------------------------------------


def database_host(url: str) -> str:
    """The URL's host: a name or address, or the directory of a Unix socket (`?host=/run/postgresql`)."""
    return make_url(url).host or _query_value(url, "host") or "127.0.0.1"


def _query_value(url: str, name: str) -> str | None:
    """One libpq parameter given in the URL's query; several (libpq's multi-host form) are refused,
    as the benchmark and its pgbench must talk to one server."""
    value = make_url(url).query.get(name)
    if isinstance(value, tuple):
        sys.exit(f"give one {name} in the database URL, not several ({', '.join(value)})")
    return value


def libpq_parts(url: str) -> dict:
    parsed = make_url(url)
    return {
        "host": database_host(url),
        "port": str(parsed.port or _query_value(url, "port") or 5432),
        "user": parsed.username or "postgres",
        "password": parsed.password,
        "dbname": parsed.database,
    }


def require_loopback(url: str) -> None:
    parsed = make_url(url)
    if parsed.get_backend_name() != "postgresql":
        sys.exit("flash_crowd.py measures PostgreSQL: give a postgresql+psycopg:// URL")
    host = database_host(url)
    try:
        loopback = host == "localhost" or host.startswith("/") or ipaddress.ip_address(host).is_loopback
    except ValueError:
        loopback = False
    if not loopback or not parsed.database:
        sys.exit(f"the database must be on this machine (a loopback address or a Unix socket) and named (got {host!r})")


def recreate_database(url: str) -> None:
    parsed = make_url(url)
    admin = parsed.set(drivername="postgresql", database="postgres").render_as_string(
        hide_password=False
    )
    name = sql.Identifier(parsed.database)
    with psycopg.connect(admin, autocommit=True) as connection:
        connection.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(name))
        connection.execute(sql.SQL("CREATE DATABASE {}").format(name))
    config = Config(str(ROOT / "alembic.ini"))
    config.set_main_option("script_location", str(ROOT / "migrations"))
    config.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    config.attributes["configure_logger"] = False
    command.upgrade(config, "head")


def seed_teachers(engine, count: int) -> list[str]:
    """`count` teachers, each at their own school, and a bearer token for each."""
    now = datetime.now(UTC)
    with Session(engine) as db:
        schools = [
            Organisation(
                name=f"Flash skole {i}",
                kind=OrganisationKind.school,
                municipality="Aarhus",
                school_level=SchoolLevel.primary,
            )
            for i in range(count)
        ]
        db.add_all(schools)
        db.flush()
        teachers = [
            User(
                email=f"flash-teacher-{i}@example.dk",
                name=f"Lærer {i}",
                role=Role.teacher,
                organisation_id=school.id,
            )
            for i, school in enumerate(schools)
        ]
        db.add_all(teachers)
        db.flush()
        tokens = [secrets.new_token() for _ in teachers]
        db.add_all(
            AuthSession(
                token_hash=secrets.token_hash(token),
                user_id=teacher.id,
                kind=SessionKind.api,
                created_at=now,
                expires_at=now + timedelta(days=1),
            )
            for token, teacher in zip(tokens, teachers, strict=True)
        )
        db.commit()
    return tokens


def seed_offer(engine) -> int:
    with Session(engine) as db:
        provider = Organisation(
            name="Flash Girls Day A/S",
            kind=OrganisationKind.provider,
            municipality="Aarhus",
            provider_kind=ProviderKind.company,
        )
        db.add(provider)
        db.flush()
        offer = Offer(
            provider_id=provider.id,
            type=OfferType.girls_day,
            status=OfferStatus.published,
            title="Girls Day i naturvidenskab",
            grade_min=7,
            grade_max=10,
            municipality="Aarhus",
            girls_only=True,
            requires_approval=False,
        )
        db.add(offer)
        db.commit()
        return offer.id


def seed_session(engine, offer_id: int, capacity: int, day: int) -> int:
    """A session of the offer `day` days ahead (one day per round, so a class never clashes)."""
    starts = datetime.now(UTC).replace(hour=8, minute=0, second=0, microsecond=0)
    starts += timedelta(days=60 + day)
    with Session(engine) as db:
        session = OfferSession(
            offer_id=offer_id,
            starts_at=starts,
            ends_at=starts + timedelta(hours=6),
            capacity_pupils=capacity,
        )
        db.add(session)
        db.commit()
        return session.id


def held_in_sql(engine, session_id: int) -> tuple[int, int, int]:
    """Capacity, pupils of pending and confirmed bookings, and all bookings of the session."""
    with engine.connect() as connection:
        row = connection.execute(
            text(
                "SELECT s.capacity_pupils,"
                " COALESCE(SUM(b.pupils) FILTER (WHERE b.status IN ('pending', 'confirmed')), 0),"
                " COUNT(b.id)"
                " FROM offer_sessions s LEFT JOIN bookings b ON b.session_id = s.id"
                " WHERE s.id = :id GROUP BY s.id"
            ),
            {"id": session_id},
        ).one()
    return int(row[0]), int(row[1]), int(row[2])


def server_version(engine) -> str:
    with engine.connect() as connection:
        return connection.execute(text("SHOW server_version")).scalar_one().split()[0]


# --- the server ---------------------------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


# One uvicorn worker on a listening socket it inherits (see Server's reuse_port).
REUSE_PORT_WORKER = (
    "import socket, sys, uvicorn; "
    "config = uvicorn.Config('app.main:app', log_level='warning'); "
    "uvicorn.Server(config).run(sockets=[socket.socket(fileno=int(sys.argv[1]))])"
)


class Server:
    """uvicorn with several workers, in its own process group so that all of it can be stopped.

    `reuse_port`: instead of `uvicorn --workers N`, whose workers share one listening socket (a burst
    of new connections mostly goes to whichever worker wakes first), start N single uvicorn
    processes, each on its own socket bound to the same port with SO_REUSEPORT: the kernel then
    spreads new connections evenly over them."""

    def __init__(self, url: str, workers: int, *, reuse_port: bool = False) -> None:
        self.port = free_port()
        self.base = f"http://127.0.0.1:{self.port}"
        self.log = tempfile.TemporaryFile(mode="w+")  # noqa: SIM115 (closed in stop)
        env = {**os.environ, "DATABASE_URL": url, "ENVIRONMENT": "production"}
        self.workers: list[subprocess.Popen] = []  # with reuse_port: every worker process
        if reuse_port:
            self.process = self._start_reuse_port(workers, env)
            return
        self.process = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "uvicorn",
                "app.main:app",
                "--host",
                "127.0.0.1",
                "--port",
                str(self.port),
                "--workers",
                str(workers),
                "--log-level",
                "warning",
            ],
            cwd=ROOT,
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=self.log,
            start_new_session=True,
        )

    def _start_reuse_port(self, workers: int, env: dict) -> subprocess.Popen:
        first = None
        try:
            for _ in range(workers):
                first = self._start_reuse_port_worker(env, first)
        except BaseException:
            if first is not None:  # stop those already started
                os.killpg(first.pid, signal.SIGKILL)
            raise
        return first

    def _start_reuse_port_worker(self, env: dict, first: subprocess.Popen | None) -> subprocess.Popen:
        """Start one more worker on its own socket; returns the first worker (the group's leader)."""
        with socket.socket() as sock:
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
            sock.bind(("127.0.0.1", self.port))
            sock.listen(2048)
            process = subprocess.Popen(
                [sys.executable, "-c", REUSE_PORT_WORKER, str(sock.fileno())],
                cwd=ROOT,
                env=env,
                stdout=subprocess.DEVNULL,
                stderr=self.log,
                pass_fds=[sock.fileno()],
                # All in the first one's process group, so that stop() stops them all.
                process_group=0 if first is None else first.pid,
            )
        self.workers.append(process)
        return first or process

    def wait_ready(self, seconds: float = 60) -> None:
        deadline = time.monotonic() + seconds
        while True:
            if self.process.poll() is not None:
                raise RuntimeError(f"uvicorn stopped:\n{self.tail()}")
            try:
                if httpx.get(f"{self.base}/healthz", timeout=5).status_code == 200:
                    return
            except httpx.TransportError:
                pass
            if time.monotonic() > deadline:
                raise RuntimeError(f"uvicorn did not answer /healthz in {seconds:.0f} s")
            time.sleep(0.2)

    def tail(self) -> str:
        self.log.seek(0)
        return self.log.read()[-3000:]

    def worker_of_client_ports(self) -> dict[int, str]:
        """Which worker process (pid) serves each open client connection, by the client's port
        (from ss)."""
        if not shutil.which("ss"):
            return {}
        out = subprocess.run(
            ["ss", "-Htnp", "state", "established", f"( sport = :{self.port} )"],
            capture_output=True,
            text=True,
            timeout=10,
        ).stdout
        return {
            int(port): pid
            for port, pid in re.findall(r"\S+:\d+\s+\S+:(\d+)\s+users:\(\(\"[^\"]*\",pid=(\d+)", out)
        }

    def connections_per_worker(self) -> list[int]:
        """How the open client connections are spread over the worker processes."""
        counts = Counter(self.worker_of_client_ports().values())
        return sorted(counts.values(), reverse=True)

    def cpu_seconds(self) -> float:
        """CPU time used so far by uvicorn and its worker processes."""
        return cpu_seconds(processes_in_group(self.process.pid))

    def stop(self) -> None:
        if self.process.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait(timeout=5)
        # Workers left behind by a hard stop would keep database connections open.
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.process.pid, signal.SIGKILL)
        for worker in self.workers:  # reaped now, or their CPU time would count as pgbench's
            worker.wait(timeout=5)
        self.log.close()


# --- CPU accounting: on a shared 2-core machine the figures only mean something next to it -----

TICK = os.sysconf("SC_CLK_TCK")


def _stat(pid: str) -> list[str] | None:
    try:
        raw = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    name_end = raw.rindex(")")
    return [raw[raw.index("(") + 1 : name_end], *raw[name_end + 2 :].split()]


def processes_in_group(group: int) -> list[str]:
    pids = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit() and (fields := _stat(entry.name)) and int(fields[3]) == group:
            pids.append(entry.name)
    return pids


def cpu_seconds(pids: list[str]) -> float:
    """utime + stime of these processes (fields 14 and 15 of /proc/PID/stat)."""
    total = 0
    for pid in pids:
        if fields := _stat(pid):
            total += int(fields[12]) + int(fields[13])
    return total / TICK


class DatabaseCpu:
    """CPU time PostgreSQL spends for one database: its backends, which come and go and so are
    polled while it runs, and the server's own processes (postmaster, WAL writer, checkpointer).
    Backends of other databases on the same server count as other processes."""

    def __init__(self, database: str, interval: float = 0.2) -> None:
        self.database, self.interval = database, interval
        self.first: dict[str, float] = {}
        self.last: dict[str, float] = {}
        self.done = threading.Event()
        self.thread = threading.Thread(target=self._run, daemon=True)

    def _processes(self) -> dict[str, float]:
        found = {}
        for entry in Path("/proc").iterdir():
            if not entry.name.isdigit() or not (fields := _stat(entry.name)):
                continue
            if fields[0] != "postgres":
                continue
            try:
                words = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode().split()
            except OSError:
                continue
            # A backend's title: "postgres: [cluster:] user database host(port) state".
            at = next(
                (i for i, w in enumerate(words) if re.search(r"\(\d+\)$|^\[local\]$", w)), None
            )
            if at is not None and words[at - 1] != self.database:
                continue
            found[entry.name] = (int(fields[12]) + int(fields[13])) / TICK
        return found

    def _poll(self, *, initial: bool = False) -> None:
        for pid, seconds in self._processes().items():
            # A backend born after the start has used all its CPU time since the start.
            self.first.setdefault(pid, seconds if initial else 0.0)
            self.last[pid] = seconds

    def _run(self) -> None:
        while not self.done.wait(self.interval):
            self._poll()

    def __enter__(self) -> "DatabaseCpu":
        self._poll(initial=True)
        self.thread.start()
        return self

    def __exit__(self, *_exc) -> None:
        self.done.set()
        self.thread.join()
        self._poll()

    @property
    def seconds(self) -> float:
        return sum(self.last[pid] - self.first[pid] for pid in self.last)


class LockWatch:
    """Samples the queue at row locks in one database while a round runs: how many requests wait,
    and what the transaction they wait for is doing: waiting for the app to send its next
    statement ("idle in transaction"), flushing WAL at commit, or running a statement."""

    QUERY = """
        SELECT w.pid, b.pid, b.state, b.wait_event_type, b.wait_event
        FROM pg_stat_activity w
        CROSS JOIN LATERAL unnest(pg_blocking_pids(w.pid)) AS blocking (pid)
        JOIN pg_stat_activity b ON b.pid = blocking.pid
        WHERE w.datname = %s AND w.wait_event_type = 'Lock'
    """

    def __init__(self, url: str, interval: float = 0.05) -> None:
        self.parts = {k: v for k, v in libpq_parts(url).items() if v}
        self.interval = interval
        self.samples = 0
        self.waiting = 0  # waiters summed over the samples
        self.holder: dict[str, int] = {"app": 0, "wal": 0, "sql": 0}
        self.done = threading.Event()
        self.thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        with psycopg.connect(**self.parts, autocommit=True) as connection:
            while not self.done.wait(self.interval):
                rows = connection.execute(self.QUERY, (self.parts["dbname"],)).fetchall()
                waiters = {row[0] for row in rows}
                self.samples += 1
                self.waiting += len(waiters)
                for pid, state, kind, event in {row[1:] for row in rows}:
                    if pid in waiters:
                        continue  # queued behind the first waiter, not the holder of the row
                    if (state or "").startswith("idle in transaction"):
                        self.holder["app"] += 1
                    elif kind == "IO" and (event or "").startswith("WAL"):
                        self.holder["wal"] += 1
                    else:
                        self.holder["sql"] += 1

    def __enter__(self) -> "LockWatch":
        self.thread.start()
        return self

    def __exit__(self, *_exc) -> None:
        self.done.set()
        self.thread.join(timeout=10)

    def summary(self) -> tuple[str, str]:
        """Mean requests waiting at a row lock; what the holder did while others waited."""
        if not self.samples:
            return "?", "?"
        seen = sum(self.holder.values())
        if not seen:
            return f"{self.waiting / self.samples:.1f}", "–"
        share = {k: v / seen for k, v in self.holder.items()}
        return (
            f"{self.waiting / self.samples:.1f}",
            f"{share['app']:.0%} / {share['sql']:.0%} / {share['wal']:.0%}",
        )


def machine_cpu() -> tuple[float, float]:
    """Busy and total CPU seconds of the whole machine, all cores, since boot."""
    values = [int(v) for v in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
    idle = values[3] + values[4]
    return (sum(values[:8]) - idle) / TICK, sum(values[:8]) / TICK


@dataclass
class Cpu:
    """CPU seconds used during a round: by the app, the load generator, PostgreSQL, and all."""

    app: float = 0.0
    client: float = 0.0
    postgres: float = 0.0
    busy: float = 0.0
    total: float = 0.0

    @classmethod
    def now(cls, server: "Server") -> "Cpu":
        own = os.times()
        busy, total = machine_cpu()
        return cls(server.cpu_seconds(), own.user + own.system, 0.0, busy, total)

    def __sub__(self, other: "Cpu") -> "Cpu":
        return Cpu(*(getattr(self, f) - getattr(other, f) for f in self.__dataclass_fields__))


# --- the load -----------------------------------------------------------------------------------


@dataclass
class Answer:
    status: int
    ms: float
    done_at: float  # seconds after the round began
    pupils: int
    detail: str = ""
    port: int = 0  # the client's port of the connection it came on (0: not known)


@dataclass
class Round:
    label: str
    teachers: int
    capacity: int
    session_id: int
    answers: list[Answer] = field(default_factory=list)
    seconds: float = 0.0
    held: int = 0
    bookings_in_db: int = 0
    api_held: int | None = None
    connections: list[int] = field(default_factory=list)
    workers: dict[int, str] = field(default_factory=dict)  # client port -> worker pid
    cpu: Cpu = field(default_factory=Cpu)
    locks: tuple[str, str] = ("?", "?")

    def by_status(self, status: int) -> list[Answer]:
        return [a for a in self.answers if a.status == status]

    @property
    def accepted(self) -> list[Answer]:
        return self.by_status(201)

    @property
    def refused(self) -> list[Answer]:
        return self.by_status(409)

    @property
    def errors(self) -> list[Answer]:
        return [a for a in self.answers if a.status not in (201, 409)]

    @property
    def accepted_per_second(self) -> float:
        """Accepted bookings over the time from the release until the last one was answered."""
        accepted = self.accepted
        if not accepted:
            return 0.0
        return len(accepted) / max(a.done_at for a in accepted)

    @property
    def overbooked(self) -> int:
        return max(0, self.held - self.capacity)

    @property
    def wrongly_refused(self) -> int:
        """Refused classes that would fit into the seats still free at the end: seats are never
        given back in this run, so a refusal is right only if the class does not fit even now."""
        free = self.capacity - self.held
        return sum(1 for a in self.refused if a.pupils <= free)


class RawConnection:
    """One keep-alive HTTP/1.1 connection, written for this benchmark: a lean client costs less of
    the two cores that the app and the database need (httpx: about 3 ms CPU per request here)."""

    def __init__(self, host: str, port: int, *, keep_alive: bool = True) -> None:
        self.host, self.port, self.keep_alive = host, port, keep_alive
        self.client_port = 0  # this end's port, which tells the worker serving the connection
        self.reader: asyncio.StreamReader | None = None
        self.writer: asyncio.StreamWriter | None = None

    async def request(
        self, method: str, path: str, body: bytes | None = None, token: str = ""
    ) -> tuple[int, str]:
        if self.writer is None:
            self.reader, self.writer = await asyncio.open_connection(self.host, self.port)
            self.client_port = self.writer.get_extra_info("sockname")[1]
        head = f"{method} {path} HTTP/1.1\r\nHost: {self.host}:{self.port}\r\n"
        if not self.keep_alive and method == "POST":
            head += "Connection: close\r\n"
        if token:
            head += f"Authorization: Bearer {token}\r\n"
        if body is not None:
            head += f"Content-Type: application/json\r\nContent-Length: {len(body)}\r\n"
        try:
            self.writer.write(head.encode() + b"\r\n" + (body or b""))
            header = await self.reader.readuntil(b"\r\n\r\n")
            lines = header.decode("latin-1").split("\r\n")
            status = int(lines[0].split(" ", 2)[1])
            fields = dict(
                (name.strip().lower(), value.strip())
                for name, _, value in (line.partition(":") for line in lines[1:] if line)
            )
            if "content-length" not in fields:
                raise RuntimeError(f"no Content-Length in the answer: {header[:200]!r}")
            content = await self.reader.readexactly(int(fields["content-length"]))
            if fields.get("connection", "").lower() == "close":
                self.close()
            return status, content.decode("utf-8", "replace")
        except BaseException:
            self.close()  # never reuse a connection in an unknown state
            raise

    def close(self) -> None:
        if self.writer is not None:
            self.writer.close()
        self.reader = self.writer = None


class HttpxConnection:
    """The same through httpx.AsyncClient, one client (and so one connection) per clients' slot."""

    client_port = 0  # not known: httpx keeps its socket to itself

    def __init__(self, base: str) -> None:
        self.client = httpx.AsyncClient(
            base_url=base, timeout=30, limits=httpx.Limits(max_connections=1)
        )

    async def request(
        self, method: str, path: str, body: bytes | None = None, token: str = ""
    ) -> tuple[int, str]:
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        if body is not None:
            headers["Content-Type"] = "application/json"
        response = await self.client.request(method, path, content=body, headers=headers)
        return response.status_code, response.text

    def close(self) -> None:
        pass

    async def aclose(self) -> None:
        await self.client.aclose()


async def fire(
    connections: list, session_id: int, tokens: list[str], pupils: list[int]
) -> tuple[list[Answer], float]:
    """All requests released at once; each connection sends its next request as soon as its
    previous one is answered, so exactly len(connections) requests are in flight."""
    jobs = list(zip(tokens, pupils, strict=True))
    answers: list[Answer] = []
    started = time.perf_counter()

    async def worker(connection) -> None:
        while jobs:
            token, size = jobs.pop()
            body = (
                f'{{"session_id": {session_id}, "class_name": "8.a", "grade": 8, "pupils": {size},'
                f' "girls": {size}, "waitlist": false}}'
            ).encode()
            sent = time.perf_counter()
            try:
                status, detail = await asyncio.wait_for(
                    connection.request("POST", "/api/v1/bookings", body, token), timeout=30
                )
            except (
                TimeoutError,
                OSError,
                EOFError,
                RuntimeError,
                ValueError,
                httpx.HTTPError,
            ) as error:
                status, detail = 0, f"{type(error).__name__}: {error}"
            now = time.perf_counter()
            answers.append(
                Answer(status, (now - sent) * 1000, now - started, size, detail[:200], connection.client_port)
            )

    await asyncio.gather(*(worker(c) for c in connections))
    return answers, time.perf_counter() - started


async def open_connections(connections: list, session_id: int) -> None:
    """Every client opens its connection by looking at the session, as teachers wait for it."""
    answers = await asyncio.gather(
        *(c.request("GET", f"/api/v1/sessions/{session_id}") for c in connections)
    )
    for status, text_ in answers:
        if status != 200:
            raise RuntimeError(f"GET /api/v1/sessions/{session_id}: {status} {text_[:200]}")


async def run_rounds(
    server: Server,
    engine,
    offer_id: int,
    tokens: list[str],
    plan: list[tuple[str, int, float]],
    clients: int,
    round_seconds: float,
    use_httpx: bool,
    keep_alive: bool,
) -> list[Round]:
    rng = random.Random(SEED)
    database = engine.url.database
    url = engine.url.render_as_string(hide_password=False)
    if use_httpx:
        connections = [HttpxConnection(server.base) for _ in range(clients)]
    else:
        connections = [
            RawConnection("127.0.0.1", server.port, keep_alive=keep_alive) for _ in range(clients)
        ]
    rounds = []
    try:
        for day, (label, teachers, share) in enumerate(plan):
            order = rng.sample(range(len(tokens)), teachers)
            pupils = [rng.randint(*PUPILS) for _ in order]
            capacity = max(1, round(share * sum(pupils)))
            session_id = seed_session(engine, offer_id, capacity, day)
            await open_connections(connections, session_id)
            workers = server.worker_of_client_ports()
            spread = sorted(Counter(workers.values()).values(), reverse=True)
            cpu_before = Cpu.now(server)
            with DatabaseCpu(database) as database_cpu, LockWatch(str(url)) as locks:
                answers, seconds = await asyncio.wait_for(
                    fire(connections, session_id, [tokens[i] for i in order], pupils),
                    timeout=round_seconds,
                )
            cpu = Cpu.now(server) - cpu_before
            cpu.postgres = database_cpu.seconds
            capacity_sql, held, bookings = held_in_sql(engine, session_id)
            status, body = await connections[0].request("GET", f"/api/v1/sessions/{session_id}")
            api_held = json.loads(body).get("held_pupils") if status == 200 else None
            rounds.append(
                Round(label, teachers, capacity_sql, session_id, answers, seconds, held, bookings,
                      api_held, spread, workers, cpu, locks.summary())
            )  # fmt: skip
            result = rounds[-1]
            print(
                f"  {label}: {teachers} teachers, capacity {capacity}: {len(result.accepted)} accepted,"
                f" {len(result.refused)} refused, {len(result.errors)} errors in {seconds:.2f} s;"
                f" client connections per worker {spread or '?'}",
                flush=True,
            )
    finally:
        for connection in connections:
            connection.close()
            if use_httpx:
                await connection.aclose()
    return rounds


# --- pgbench ------------------------------------------------------------------------------------


def find_pgbench() -> str | None:
    found = shutil.which("pgbench")
    if found:
        return found
    candidates = sorted(glob("/usr/lib/postgresql/*/bin/pgbench"))
    return candidates[-1] if candidates else None


def run_pgbench(
    url: str, clients: int, threads: int, seconds: int
) -> tuple[float, float, str, str]:
    """tps and mean latency (ms) of bench/pgbench_book.sql on fresh scratch tables."""
    pgbench = find_pgbench()
    if pgbench is None:
        raise RuntimeError(
            "pgbench not found: apt-get install postgresql-client (or postgresql-contrib)"
        )
    parts = libpq_parts(url)
    with psycopg.connect(**{k: v for k, v in parts.items() if v}, autocommit=True) as connection:
        connection.execute("DROP TABLE IF EXISTS pgbench_flash_booking, pgbench_flash_session")
        connection.execute(
            "CREATE TABLE pgbench_flash_session (id int PRIMARY KEY, capacity_pupils int NOT NULL)"
        )
        connection.execute("INSERT INTO pgbench_flash_session VALUES (1, 2000000000)")
        connection.execute(
            "CREATE TABLE pgbench_flash_booking (id bigserial PRIMARY KEY,"
            " session_id int NOT NULL REFERENCES pgbench_flash_session (id),"
            " pupils int NOT NULL, created_at timestamptz NOT NULL DEFAULT now())"
        )
    env = {**os.environ}
    if parts["password"]:
        env["PGPASSWORD"] = parts["password"]
    arguments = [
        pgbench, "-h", parts["host"], "-p", parts["port"], "-U", parts["user"],
        "-c", str(clients), "-j", str(threads), "-T", str(seconds), "-n",
        "-f", str(PGBENCH_SCRIPT), parts["dbname"],
    ]  # fmt: skip
    before = (os.times(), machine_cpu())
    with DatabaseCpu(parts["dbname"]) as database_cpu:
        done = subprocess.run(
            arguments, capture_output=True, text=True, env=env, timeout=seconds + 60, check=False
        )
    after = (os.times(), machine_cpu())
    pgbench_cpu = sum(after[0][2:4]) - sum(before[0][2:4])
    busy, total = after[1][0] - before[1][0], after[1][1] - before[1][1]
    postgres_cpu = database_cpu.seconds
    cpu = (
        f"machine CPU busy {busy / total:.0%}; of all cores PostgreSQL {postgres_cpu / total:.0%},"
        f" pgbench {pgbench_cpu / total:.0%}, other processes"
        f" {max(0.0, busy - postgres_cpu - pgbench_cpu) / total:.0%}"
    )
    if done.returncode != 0:
        raise RuntimeError(f"pgbench failed ({done.returncode}):\n{done.stderr[-2000:]}")
    tps = re.search(r"tps = ([\d.]+) \(without initial connection time\)", done.stdout)
    latency = re.search(r"latency average = ([\d.]+) ms", done.stdout)
    if tps is None:
        raise RuntimeError(f"no tps in pgbench's output:\n{done.stdout}")
    command_line = " ".join(
        a if a != str(PGBENCH_SCRIPT) else "bench/pgbench_book.sql" for a in arguments[1:]
    )
    mean = float(latency.group(1)) if latency else float("nan")
    return float(tps.group(1)), mean, command_line, cpu


# --- the report ---------------------------------------------------------------------------------


def percentiles(values: list[float]) -> tuple[float, float, float] | None:
    if not values:
        return None
    if len(values) == 1:
        return values[0], values[0], values[0]
    cuts = statistics.quantiles(values, n=100, method="inclusive")
    return statistics.median(values), cuts[94], cuts[98]


def show(values: list[float]) -> str:
    found = percentiles(values)
    return "–" if found is None else " / ".join(f"{v:.0f}" for v in found)


def table(header: list[str], rows: list[list[str]]) -> str:
    lines = [
        "| " + " | ".join(header) + " |",
        "|" + "|".join("---" if i == 0 else "--:" for i in range(len(header))) + "|",
    ]
    return "\n".join(lines + ["| " + " | ".join(row) + " |" for row in rows])


def error_summary(result: Round) -> str:
    if not result.errors:
        return "0"
    counts: dict[int, int] = {}
    for answer in result.errors:
        counts[answer.status] = counts.get(answer.status, 0) + 1
    return ", ".join(f"{n}× {status or 'no answer'}" for status, n in sorted(counts.items()))


def p95_by_worker(result: Round) -> str:
    """The p95 latency of all requests a worker served, busiest worker first: with long-lived
    connections, the worker that was given the most of them answers slowest."""
    served: dict[str, list[float]] = {}
    for answer in result.answers:
        if answer.port in result.workers:
            served.setdefault(result.workers[answer.port], []).append(answer.ms)
    connections = Counter(result.workers.values())
    parts = [
        f"{percentiles(ms)[1]:.0f} ({connections[pid]})"
        for pid, ms in sorted(served.items(), key=lambda item: -connections[item[0]])
    ]
    return " / ".join(parts) or "?"


def report(rounds: list[Round], clients: int) -> None:
    rows = []
    for r in rounds:
        rows.append(
            [
                r.label,
                str(r.teachers),
                str(clients),
                str(len(r.accepted)),
                str(len(r.refused)),
                error_summary(r),
                f"{len(r.answers) / r.seconds:.0f}",
                f"{r.accepted_per_second:.0f}",
                show([a.ms for a in r.accepted]),
                show([a.ms for a in r.refused]),
                f"{r.held} / {r.capacity}",
                str(r.overbooked) if r.overbooked == 0 else f"**{r.overbooked}**",
            ]
        )
    print()
    print(
        table(
            [
                "round", "teachers", "clients", "accepted", "refused (409)", "errors",
                "requests/s", "accepted/s", "accepted ms p50 / p95 / p99",
                "refused ms p50 / p95 / p99", "held / capacity pupils", "overbooked",
            ],
            rows,
        )
    )  # fmt: skip
    print()
    cpu_rows = []
    for r in rounds:
        n = len(r.answers)
        other = r.cpu.busy - r.cpu.app - r.cpu.client - r.cpu.postgres
        cpu_rows.append(
            [
                r.label,
                f"{r.cpu.busy / r.cpu.total:.0%}" if r.cpu.total else "?",
                f"{1000 * r.cpu.app / n:.1f}",
                f"{1000 * r.cpu.postgres / n:.1f}",
                f"{1000 * r.cpu.client / n:.1f}",
                f"{max(0.0, other) / r.cpu.total:.0%}" if r.cpu.total else "?",
                " + ".join(map(str, r.connections)) or "?",
                p95_by_worker(r),
                *r.locks,
            ]
        )
    print(
        table(
            [
                "round", "machine CPU busy", "app ms CPU/request", "PostgreSQL ms CPU/request",
                "load generator ms CPU/request", "other processes, share of all cores",
                "client connections per uvicorn worker",
                "p95 ms of the requests each worker served (its connections)",
                "requests waiting at the row lock (mean)",
                "while they wait, the lock holder: waits for the app / runs SQL / flushes WAL",
            ],
            cpu_rows,
        )
    )  # fmt: skip
    print()
    for r in rounds:
        problems = []
        if len(r.accepted) != r.bookings_in_db:
            problems.append(f"{len(r.accepted)} accepted but {r.bookings_in_db} bookings stored")
        if r.api_held != r.held:
            problems.append(f"the API says {r.api_held} pupils held, SQL {r.held}")
        if r.wrongly_refused:
            problems.append(f"{r.wrongly_refused} refused classes would have fitted")
        for answer in r.errors[:3]:
            problems.append(f"error {answer.status}: {answer.detail}")
        if problems:
            print(f"- {r.label}: " + "; ".join(problems))
    checks = all(
        len(r.accepted) == r.bookings_in_db and r.api_held == r.held and not r.wrongly_refused
        for r in rounds
    )
    print(
        "- consistency: "
        + (
            "every accepted booking is stored and no other; the API's held pupils match SQL;"
            " no refused class would have fitted into the seats left"
            if checks
            else "**problems above**"
        )
    )


def verdict(rounds: list[Round], clients: int, tps: float | None, throughput: Round) -> None:
    lines = []
    if tps:
        share = throughput.accepted_per_second / tps
        met = share >= TARGET_SHARE
        lines.append(
            f"- accepted/s ({throughput.label}) {throughput.accepted_per_second:.0f} = "
            f"{share:.1%} of pgbench's {tps:.0f} tps; target ≥ {TARGET_SHARE:.0%}: "
            + ("**met**" if met else "**not met**")
        )
    else:
        lines.append("- share of the pgbench ceiling: not measured")
    worst = max(
        (
            (p[1], r.label, kind)
            for r in rounds
            for kind, answers in (("accepted", r.accepted), ("refused", r.refused))
            if (p := percentiles([a.ms for a in answers]))
        ),
        default=None,
    )
    if clients != TARGET_CLIENTS:
        lines.append(f"- p95 < {TARGET_P95_MS:.0f} ms at {TARGET_CLIENTS} clients: not measured "
                     f"(this run used {clients} clients)")  # fmt: skip
    elif worst is not None:
        p95, label, kind = worst
        met = p95 < TARGET_P95_MS
        lines.append(
            f"- p95 < {TARGET_P95_MS:.0f} ms at {clients} clients: worst p95 {p95:.0f} ms "
            f"({kind}, {label}): " + ("**met**" if met else "**not met**")
        )
    overbooked = sum(r.overbooked for r in rounds)
    lines.append(
        f"- overbooking: {overbooked} pupils over capacity in {len(rounds)} rounds: "
        + ("**met** (0)" if overbooked == 0 else "**not met**")
    )
    errors = sum(len(r.errors) for r in rounds)
    lines.append(f"- errors (neither 201 nor 409): {errors}")
    print("\n".join(lines))


def load() -> str:
    one, five, _ = os.getloadavg()
    return f"load average {one:.1f} (1 min) / {five:.1f} (5 min)"


def cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown CPU"


# --- main ---------------------------------------------------------------------------------------


class OutOfTime(Exception):
    pass


def on_alarm(_signum, _frame) -> None:
    raise OutOfTime()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--database-url",
        default="postgresql+psycopg://postgres@127.0.0.1:5432/stem_bench_flash",
        help="a PostgreSQL database on a loopback address; it is dropped and created again",
    )
    parser.add_argument(
        "--workers", type=int, default=len(os.sched_getaffinity(0)), help="uvicorn worker processes (default: one per core)"
    )
    parser.add_argument("--clients", type=int, default=32, help="concurrent HTTP connections")
    parser.add_argument(
        "--teachers", default="50,200,1000", help="teachers per round, comma-separated"
    )
    parser.add_argument(
        "--capacity",
        type=float,
        default=0.5,
        help="capacity of a limited round, as a share of the pupils its teachers ask for",
    )
    parser.add_argument(
        "--no-throughput-round",
        action="store_true",
        help="skip the round with room for everyone (the accepted-bookings-per-second round)",
    )
    parser.add_argument(
        "--httpx",
        action="store_true",
        help="send the bookings with httpx.AsyncClient instead of the lean built-in client",
    )
    parser.add_argument(
        "--new-connections",
        action="store_true",
        help="open a new connection for every booking (Connection: close) instead of keeping the"
        " clients' connections open; the kernel then spreads requests, not connections, over the"
        " uvicorn workers",
    )
    parser.add_argument(
        "--reuse-port",
        action="store_true",
        help="one uvicorn process per worker, each on its own SO_REUSEPORT socket, instead of"
        " `uvicorn --workers`: the kernel spreads the connections evenly over the workers",
    )
    parser.add_argument("--pgbench-clients", type=int, default=TARGET_CLIENTS)
    parser.add_argument("--pgbench-seconds", type=int, default=15)
    parser.add_argument("--pgbench-threads", type=int, default=2)
    parser.add_argument("--time-limit", type=int, default=300, help="seconds for the whole run")
    args = parser.parse_args()

    require_loopback(args.database_url)
    teachers = [int(n) for n in args.teachers.split(",") if n.strip()]
    if not teachers or min(teachers) < 1 or args.clients < 1 or not 0 < args.capacity <= 1:
        parser.error(
            "give positive numbers of teachers and clients, and a capacity share in (0, 1]"
        )
    signal.signal(signal.SIGALRM, on_alarm)
    signal.alarm(args.time_limit)
    started = time.monotonic()

    most = max(teachers)
    plan = [("warm-up", min(most, 4 * args.clients), 1.0)]
    plan += [(f"limited {n}", n, args.capacity) for n in teachers]
    if not args.no_throughput_round:
        plan.append((f"room for all {most}", most, 1.0))

    recreate_database(args.database_url)
    engine = make_engine(args.database_url)
    print(
        f"## {datetime.now().astimezone():%Y-%m-%d %H:%M %Z}, {os.cpu_count()} cores ({cpu_model()}),"
        f" Python {platform.python_version()}, PostgreSQL {server_version(engine)},"
        f" uvicorn --workers {args.workers}{' (SO_REUSEPORT)' if args.reuse_port else ''},"
        f" {args.clients} clients; {load()}",
        flush=True,
    )
    tokens = seed_teachers(engine, most)
    offer_id = seed_offer(engine)
    print(
        f"  seeded {most} teachers with API tokens in {time.monotonic() - started:.1f} s",
        flush=True,
    )

    server = Server(args.database_url, args.workers, reuse_port=args.reuse_port)
    tps = latency = None
    rounds: list[Round] = []
    try:
        server.wait_ready()
        rounds = asyncio.run(
            run_rounds(
                server,
                engine,
                offer_id,
                tokens,
                plan,
                args.clients,
                args.time_limit / 2,
                args.httpx,
                not args.new_connections,
            )
        )
    except OutOfTime:
        print(f"\nout of time after {args.time_limit} s", file=sys.stderr)
    finally:
        server.stop()
        engine.dispose()
    measured = rounds[1:]  # without the warm-up
    if not measured:
        sys.exit("no round finished")
    try:
        tps, latency, pgbench_command, pgbench_cpu = run_pgbench(
            args.database_url, args.pgbench_clients, args.pgbench_threads, args.pgbench_seconds
        )
    except (RuntimeError, OutOfTime, subprocess.TimeoutExpired) as error:
        print(f"\npgbench: {error}", file=sys.stderr)
    signal.alarm(0)

    report(measured, args.clients)
    if tps:
        print(
            f"\npgbench ceiling (lock one row FOR UPDATE + insert one, one transaction): "
            f"**{tps:.0f} tps**, mean latency {latency:.1f} ms — `pgbench {pgbench_command}`;"
            f" {pgbench_cpu}\n"
        )
    throughput = (
        measured[-1]
        if not args.no_throughput_round
        else max(measured, key=lambda r: r.accepted_per_second)
    )
    verdict(measured, args.clients, tps, throughput)
    print(f"\n{load()} at the end; the run took {time.monotonic() - started:.0f} s")


if __name__ == "__main__":
    main()
