"""Two booking paths, one set of rules, proved equal (PostgreSQL only).

On PostgreSQL a simple booking (no allocation round, no school cap, nobody waiting, not a course
booked as one) is decided by the database function `book_under_locks_v2`
(app/bookings/locked_part.py); everything else, and everything on SQLite, by the service's Python
path (`service._book_under_locks`). The rules are written twice, so this test runs each story twice,
each time on a fresh copy of its world:

- once as production does, the function deciding what it can;
- once with the function switched off: `locked_part.book` replaced by a stand-in that books
  nothing and answers `limited` ("an allocation round, a school cap or a waiting list applies"),
  the answer on which the service hands a booking to its Python path. So app/ needs no switch of
  its own, and the second run decides every booking as SQLite does.

A story is a list of steps through the public service functions: bookings (class sizes at random
or at the very edge of the free places, names that are one class, waiting list on or off,
Idempotency-Keys, the same request sent again), cancellations (by the teacher, a colleague, a
teacher of another school, the coordinator, the provider; with or without a reason), approvals,
declines, taking an offered place, a date's capacity changed (catalogue.update_session) or the date
cancelled, a school cap set, and time passing (by hours, or to the very moment a booking deadline
passes, a date begins or a hold runs out; optionally with the worker's expiry job). After each
step both runs must agree on the answer (the booking as the service returned it, or the refusal's
class, field and message), and then on every booking's state, hold and history, the seats held
(`service.held`), the classes waiting and the pools' holdings. The clock is the test's (`now`).

Stories written out (EXAMPLES) take the function to each edge of its rules; drawn ones mix them.
Breaking one rule in either path, e.g. the function letting in one pupil too many or not counting
a pending booking, or the Python path forgetting a pool, fails the test at the step where the paths
part. The test also checks that the function itself decided, every way it can.

The people are made once per test, in a transaction rolled back at its end; each run of each
example builds its offer and dates in a savepoint of that transaction and rolls it back."""

from collections import Counter
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from types import SimpleNamespace
from typing import NamedTuple

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st
from sqlalchemy import Connection
from sqlmodel import Session, col, select

from app.accounts.models import User
from app.bookings import limits, locked_part, service
from app.bookings.models import (
    Booking,
    BookingEvent,
    BookingStatus,
    CapacityPool,
    CapacityPoolSession,
    SchoolCap,
)
from app.bookings.schemas import BookingIn
from app.catalogue import service as catalogue
from app.catalogue.models import Offer, OfferSession, OfferStatus, OfferType
from app.catalogue.schemas import SessionIn
from app.errors import DomainError
from tests.factories import make_provider, make_school, make_user

NOW = datetime(2026, 9, 1, 8, 0, tzinfo=UTC)
START = NOW + timedelta(days=20)  # a Monday, no holiday; past the cancellation deadline within a story
S = BookingStatus
EDGES = {"free": 0, "free - 1": -1, "free + 1": 1, "held": 0, "held - 1": -1, "held + 1": 1}

SETTINGS = settings(
    max_examples=40,  # per offer kind (with approval, without): some fifteen seconds each
    deadline=None,
    derandomize=True,  # the same stories every run: a failure is seen again, and the time is known
    database=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)


# --- the steps ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Book:
    teacher: int  # 0..5; 0 and 1 teach at the same school
    date: int  # modulo the world's dates
    pupils: int | str  # or "free", "free - 1", "free + 1": the places free on the date (and in its pool) then
    class_name: str
    waitlist: bool
    key: str | None


@dataclass(frozen=True)
class Again:
    """An earlier Book step (the nth, modulo how many there were) sent again as it was."""

    nth: int


@dataclass(frozen=True)
class Cancel:
    nth: int  # the nth active booking (modulo), or the nth of all when none is active
    by: str
    reason: str


@dataclass(frozen=True)
class Approve:
    nth: int  # the nth pending booking, or of all


@dataclass(frozen=True)
class Decline:
    nth: int  # the nth pending or waitlisted booking, or of all
    by_provider: bool


@dataclass(frozen=True)
class Accept:
    nth: int  # the nth offered place, or of all


@dataclass(frozen=True)
class Capacity:
    date: int
    pupils: int | str  # or "held", "held - 1", "held + 1": the pupils the date holds then
    classes: int | None


@dataclass(frozen=True)
class CancelDate:
    date: int


@dataclass(frozen=True)
class Wait:
    hours: int
    worker: bool  # the worker's expiry job runs at the new time


@dataclass(frozen=True)
class Until:
    """The clock moves on to the very moment a rule changes its mind about a date (if that is
    still to come): its booking deadline, its start, or the end of the first hold in it."""

    moment: str
    date: int
    worker: bool


@dataclass(frozen=True)
class Cap:
    """A coordinator caps the bookings per school of the offer's kind this school year (for the
    region); from then on the function hands every booking over to the Python path."""

    most: int


a_book = st.builds(
    Book,
    teacher=st.integers(0, 5),
    date=st.integers(0, 1),
    # The edges are where two paths would differ, if anywhere: a third of the bookings try them.
    pupils=st.integers(1, 40) | st.integers(1, 40) | st.sampled_from(["free", "free - 1", "free + 1"]),
    class_name=st.sampled_from(["7.a", "7.A", "7.b", "8.a", "9.c"]),  # "7.a" and "7.A" are one class
    waitlist=st.sampled_from([False, True, False]),
    key=st.sampled_from([None, None, "k1", "k2"]),
)
nth = st.integers(0, 7)
KINDS = {
    "book": a_book,
    "again": st.builds(Again, nth=nth),
    "cancel": st.builds(
        Cancel, nth=nth, by=st.sampled_from(["teacher", "colleague", "stranger", "coordinator", "provider"]), reason=st.sampled_from(["", "Sygdom"])
    ),
    "approve": st.builds(Approve, nth=nth),
    "decline": st.builds(Decline, nth=nth, by_provider=st.booleans()),
    "accept": st.builds(Accept, nth=nth),
    "capacity": st.builds(
        Capacity, date=st.integers(0, 1), pupils=st.integers(5, 70) | st.sampled_from(["held", "held - 1", "held + 1"]), classes=st.none() | st.integers(1, 4)
    ),
    "wait": st.builds(Wait, hours=st.sampled_from([1, 24 * 6, 49, 24]), worker=st.booleans()),
    "until": st.builds(Until, moment=st.sampled_from(["deadline", "start", "hold"]), date=st.integers(0, 1), worker=st.booleans()),
    "cancel date": st.builds(CancelDate, date=st.integers(0, 1)),
    "cap": st.builds(Cap, most=st.integers(0, 2)),
}
# A kind first, then its step: about half the steps are bookings (the function decides only
# those); a cap is seldom set (the function then hands every booking over). Hypothesis draws the
# first and the last of a list more often than the rest: bookings.
a_step = st.sampled_from(
    ["book"] * 5
    + ["again", "cancel", "approve", "capacity", "until", "wait", "cancel date", "decline", "cancel", "approve", "until", "accept", "capacity", "cap"]
    + ["book"] * 5
).flatmap(KINDS.__getitem__)
a_world = st.fixed_dictionaries(
    {
        "may_pass": st.booleans(),
        "offer_hours": st.sampled_from([1, 48]),
        # (pupils, classes, booking deadline in days before the start) per date
        "dates": st.lists(
            st.tuples(st.integers(10, 60), st.sampled_from([None, 3, None, 1, None, 2]), st.none() | st.integers(3, 18)),
            min_size=1,
            max_size=2,
        ),
        "overlap": st.booleans(),  # the two dates overlap: a class cannot be in both
        "pool": st.none() | st.none() | st.tuples(st.none() | st.integers(15, 90), st.sampled_from([None, 2, 3, None, 1])),
    }
)


def small_world(**changes) -> dict:
    """A world for the stories written out below: one date of 30 pupils, no limits besides."""
    return {"may_pass": False, "offer_hours": 48, "dates": [(30, None, None)], "overlap": False, "pool": None, **changes}


def examples(*stories):
    def decorate(test):
        for story_world, steps in reversed(stories):
            test = example(world=story_world, steps=steps)(test)
        return test

    return decorate


# Stories written out, run before the drawn ones: each takes the function to an edge of a rule
# that random stories seldom reach exactly.
EXAMPLES = examples(
    (  # the booking deadline: still open at the very moment, closed an hour on
        small_world(dates=[(30, None, 5)]),
        [Book(0, 0, 10, "7.a", False, None), Until("deadline", 0, False), Book(2, 0, "free", "7.a", False, None), Wait(1, False), Book(3, 0, 1, "8.a", False, None)],
    ),
    (  # the start: a date that has begun takes nobody
        small_world(),
        [Book(0, 0, 10, "7.a", False, None), Until("start", 0, True), Book(2, 0, 5, "7.a", True, None)],
    ),
    (  # a cancelled date takes nobody; its classes are free for the other date
        small_world(dates=[(30, None, None), (20, 2, None)], overlap=True),
        [Book(0, 0, 10, "7.a", False, "k1"), CancelDate(0), Book(2, 0, 5, "7.b", True, None), Book(0, 1, 10, "7.A", False, "k2"), Again(0)],
    ),
    (  # a pending booking's hold runs out at its very deadline: its places are free then, not before
        small_world(),
        [Book(0, 0, "free", "7.a", False, None), Until("hold", 0, False), Book(2, 0, "free", "7.a", True, None), Book(3, 0, "free + 1", "7.a", True, None)],
    ),
    (  # a pool of one class over two dates: the second is full while the first holds a class, free once it is cancelled
        small_world(dates=[(30, None, None), (30, 2, None)], pool=(None, 1)),
        [Book(0, 0, 10, "7.a", False, None), Book(2, 1, 10, "7.a", False, None), Cancel(0, "teacher", "Sygdom"), Book(2, 1, 10, "7.a", False, None),
         Book(3, 1, 5, "8.b", True, None)],
    ),
    (  # places to the edge: the date's pupils, after a capacity change down to what is held
        small_world(dates=[(30, 2, None)]),
        [Book(0, 0, "free - 1", "7.a", False, None), Book(2, 0, "free + 1", "7.a", False, None), Book(2, 0, "free", "7.a", False, "k1"),
         Again(2), Book(3, 0, 1, "8.a", True, None), Capacity(0, "held", None), Book(4, 0, 1, "9.c", False, None)],
    ),
    (  # places to the edge: the date's classes, with pupils to spare
        small_world(dates=[(30, 2, None)]),
        [Book(0, 0, 5, "7.a", False, None), Book(2, 0, 5, "7.a", False, None), Book(3, 0, 5, "7.a", False, None), Book(3, 0, 5, "7.a", True, None)],
    ),
    (  # the same class twice: "7.a" and "7.A", by two colleagues, on overlapping dates; a cap ends it
        small_world(dates=[(30, None, None), (30, None, None)], overlap=True),
        [Book(0, 0, 10, "7.a", False, None), Book(1, 1, 10, "7.A", False, None), Book(1, 1, 10, " 7.a ", False, None), Cap(1),
         Book(2, 0, 10, "7.a", True, None)],
    ),
)


# --- one run of a story ---------------------------------------------------------------------------


@dataclass
class People:
    provider_org: int
    provider: int
    teachers: list[int]
    coordinator: int


class Paths:
    """What the function decided, over the whole test: the comparison means something only if it
    booked and refused, for each of its reasons, some of the time."""

    def __init__(self) -> None:
        self.counts: Counter[str] = Counter()

    def decided(self, outcome: locked_part.Outcome) -> None:
        if outcome.id is not None:
            self.counts[f"booked {outcome.status}"] += 1
        elif outcome.limited:
            self.counts["handed over"] += 1
        else:  # the reason the service gives (the first it checks), or no room
            reasons = [name for name in ("twin", "cancelled", "begun", "too_late", "clash") if getattr(outcome, name)]
            self.counts[f"refused: {(reasons or ['full'])[0]}"] += 1


def function_off(db, params):
    """`locked_part.book` switched off: it books nothing and hands over, as it does when an
    allocation round, a school cap or a waiting list applies; the service then decides in Python."""
    return locked_part.Outcome(
        cancelled=False, begun=False, too_late=False, clash=False, limited=True, twin=None, id=None, status=None, hold_until=None
    )


def counting(paths: Paths):
    real = locked_part.book

    def book(db, params):
        outcome = real(db, params)
        paths.decided(outcome)
        return outcome

    return book


class Run:
    """One run of a story on a fresh world, in a savepoint of the test's transaction."""

    def __init__(self, connection: Connection, people: People, world: dict) -> None:
        self.savepoint = connection.begin_nested()
        self.db = db = Session(bind=connection, join_transaction_mode="create_savepoint")
        self.now = NOW
        self.provider = db.get(User, people.provider)
        self.coordinator = db.get(User, people.coordinator)
        self.teachers = [db.get(User, t) for t in people.teachers]
        self.names = {people.provider: "provider", people.coordinator: "coordinator"} | {t: f"teacher {n}" for n, t in enumerate(people.teachers)}
        self.requests: list[Book] = []
        self.offer = Offer(
            provider_id=people.provider_org,
            type=OfferType.course,
            status=OfferStatus.published,
            title="Robotter",
            grade_min=5,
            grade_max=9,
            municipality="Aarhus",
            requires_approval=world["requires_approval"],
            waitlist_may_pass=world["may_pass"],
            waitlist_offer_hours=world["offer_hours"],
        )
        db.add(self.offer)
        db.flush()
        self.sessions = []
        for n, (pupils, classes, deadline_days) in enumerate(world["dates"]):
            starts = START + (timedelta(hours=2 * n) if world["overlap"] else timedelta(days=n))
            self.sessions.append(
                OfferSession(
                    offer_id=self.offer.id,
                    starts_at=starts,
                    ends_at=starts + timedelta(hours=4),
                    capacity_pupils=pupils,
                    capacity_classes=classes,
                    booking_deadline=starts - timedelta(days=deadline_days) if deadline_days else None,
                )
            )
        db.add_all(self.sessions)
        db.flush()
        self.pool = None
        if world["pool"] is not None:
            pupils, classes = world["pool"]
            self.pool = CapacityPool(provider_id=people.provider_org, name="Ugens pladser", capacity_pupils=pupils, capacity_classes=classes)
            db.add(self.pool)
            db.flush()
            db.add_all([CapacityPoolSession(pool_id=self.pool.id, session_id=s.id) for s in self.sessions])
        db.commit()
        self.session_ids = [s.id for s in self.sessions]

    def close(self) -> None:
        self.db.close()
        self.savepoint.rollback()

    # --- what the rows say, in terms both runs share (no ids: each run has its own) ---------------

    def rows(self) -> list[Booking]:
        query = select(Booking).where(col(Booking.session_id).in_(self.session_ids)).order_by(col(Booking.id))
        rows = list(self.db.exec(query.execution_options(populate_existing=True)).all())
        self.made = [b.id for b in rows]
        return rows

    def number(self, booking_id: int | None) -> int | None:
        """A booking by the order it was made in (ids differ between the runs), as of the last rows()."""
        return None if booking_id is None else self.made.index(booking_id)

    def booking(self, booking: Booking | SimpleNamespace) -> "Row":
        return Row(
            n=self.number(booking.id),
            date=self.session_ids.index(booking.session_id),
            teacher=self.names[booking.teacher_id],
            status=booking.status.value,
            hold_until=instant(booking.hold_until),
            class_name=booking.class_name,
            pupils=booking.pupils,
            key=booking.idempotency_key,
            reason=booking.reason,
            late=booking.late_cancellation,
            created_at=instant(booking.created_at),
            updated_at=instant(booking.updated_at),
            # The rest, as a whole (ids mapped; the request's hash covers its date's id, which differs).
            rest=(
                booking.school_id, booking.grade, booking.girls, booking.adults, booking.needs, booking.contact_phone, booking.round_id,
                booking.queue_rank, booking.allocation_note, self.number(booking.course_id), booking.request_hash is not None,
            ),
        )

    def state(self) -> dict:
        db, ids = self.db, self.session_ids
        rows = self.rows()
        events = db.exec(
            select(BookingEvent).where(col(BookingEvent.booking_id).in_([b.id for b in rows])).order_by(col(BookingEvent.id))
        ).all()
        held = service.held(db, ids, now=self.now)
        waiting = service.waiting(db, ids)
        dates = db.exec(select(OfferSession).where(col(OfferSession.id).in_(ids)).order_by(col(OfferSession.id)).execution_options(populate_existing=True)).all()
        return {
            "bookings": [self.booking(b) for b in rows],
            "held": [held.get(i, (0, 0)) for i in ids],
            "waiting": [waiting.get(i, 0) for i in ids],
            "pool": limits.pool_holdings(db, [self.pool.id], now=self.now).get(self.pool.id, (0, 0)) if self.pool else None,
            "dates": [(d.capacity_pupils, d.capacity_classes, instant(d.cancelled_at)) for d in dates],
            "history": [
                (self.number(e.booking_id), self.names.get(e.actor_id), e.from_status, e.to_status, e.reason, instant(e.at), instant(e.told_at))
                for e in events
            ],
        }

    def free(self, session: OfferSession) -> int:
        """The pupils the date has room for now, in itself and in its pool."""
        self.db.refresh(session)
        free = session.capacity_pupils - service.held(self.db, [session.id], now=self.now).get(session.id, (0, 0))[0]
        if self.pool is not None and self.pool.capacity_pupils is not None:
            free = min(free, self.pool.capacity_pupils - limits.pool_holdings(self.db, [self.pool.id], now=self.now).get(self.pool.id, (0, 0))[0])
        return free

    def moment(self, moment: str, session: OfferSession) -> datetime | None:
        if moment == "deadline":
            return session.booking_deadline
        if moment == "start":
            return session.starts_at
        holds = [b.hold_until for b in self.rows() if b.session_id == session.id and b.status in (S.pending, S.offered) and b.hold_until]
        return min(holds, default=None)

    def pick(self, n: int, states: set[BookingStatus] | None) -> Booking | None:
        rows = self.rows()
        candidates = [b for b in rows if states and b.status in states] or rows
        return candidates[n % len(candidates)] if candidates else None

    def teacher_of(self, booking: Booking, by: str) -> User:
        teacher = next(t for t in self.teachers if t.id == booking.teacher_id)
        if by == "colleague":
            return next((t for t in self.teachers if t.organisation_id == teacher.organisation_id and t.id != teacher.id), teacher)
        if by == "stranger":
            return next(t for t in self.teachers if t.organisation_id != teacher.organisation_id)
        return {"coordinator": self.coordinator, "provider": self.provider}.get(by, teacher)

    # --- a step -------------------------------------------------------------------------------------

    def step(self, step) -> tuple:
        """Take the step; its answer as both runs can compare it (the rows are compared after)."""
        try:
            answer = self.act(step)
        except DomainError as error:
            self.db.rollback()  # what a request does when the service refuses it
            return ("refused", type(error).__name__, error.field, error.message)
        # The answer as the service gave it (reading the rows again would refresh those objects).
        answer = tuple(SimpleNamespace(**part.model_dump()) if isinstance(part, Booking) else part for part in answer)
        self.rows()  # the order of the bookings, the one just made included
        return tuple(self.booking(part) if isinstance(part, SimpleNamespace) else part for part in answer)

    def act(self, step) -> tuple:
        db, now = self.db, self.now
        if isinstance(step, Again):
            if not self.requests:
                return ("nothing to send again",)
            step = self.requests[step.nth % len(self.requests)]
        if isinstance(step, Book):
            session = self.sessions[step.date % len(self.sessions)]
            if isinstance(step.pupils, str):
                step = replace(step, pupils=max(1, self.free(session) + EDGES[step.pupils]))
            self.requests.append(step)  # as sent: Again sends it so again
            data = BookingIn(session_id=session.id, class_name=step.class_name, grade=7, pupils=step.pupils, waitlist=step.waitlist)
            booking = service.book_session(db, self.teachers[step.teacher], data, now=now, idempotency_key=step.key)
            return ("booked", booking)
        if isinstance(step, Capacity | CancelDate):
            session = self.sessions[step.date % len(self.sessions)]
            if isinstance(step, CancelDate):
                cancelled = catalogue.cancel_session(db, self.provider, session.id, now=now)
                return ("date cancelled", *sorted(cancelled, key=lambda b: b.id))
            pupils = step.pupils
            if isinstance(pupils, str):
                pupils = max(1, service.held(db, [session.id], now=now).get(session.id, (0, 0))[0] + EDGES[pupils])
            data = SessionIn(
                starts_at=session.starts_at,
                ends_at=session.ends_at,
                capacity_pupils=pupils,
                capacity_classes=step.classes,
                booking_deadline=session.booking_deadline,
            )
            changed = catalogue.update_session(db, self.provider, session.id, data, now=now)
            return ("capacity changed", changed.capacity_pupils, changed.capacity_classes)
        if isinstance(step, Wait | Until):
            if isinstance(step, Wait):
                self.now += timedelta(hours=step.hours)
            elif (moment := self.moment(step.moment, self.sessions[step.date % len(self.sessions)])) and moment > self.now:
                self.now = moment
            return ("waited", instant(self.now), service.expire_holds(db, now=self.now) if step.worker else None)
        if isinstance(step, Cap):
            db.add(SchoolCap(offer_type=OfferType.course, school_year=2026, max_bookings=step.most))
            db.commit()
            return ("capped",)
        states = {Cancel: service.ACTIVE, Approve: {S.pending}, Decline: {S.pending, S.waitlisted}, Accept: {S.offered}}[type(step)]
        booking = self.pick(step.nth, set(states))
        if booking is None:
            return ("no booking yet",)
        if isinstance(step, Cancel):
            done = service.cancel_booking(db, self.teacher_of(booking, step.by), booking.id, reason=step.reason, now=now)
        elif isinstance(step, Approve):
            done = service.approve_booking(db, self.coordinator, booking.id, now=now)
        elif isinstance(step, Decline):
            done = service.decline_booking(db, self.provider if step.by_provider else self.coordinator, booking.id, reason="Nej", now=now)
        else:
            done = service.accept_offered_place(db, self.teacher_of(booking, "teacher"), booking.id, now=now)
        return (type(step).__name__, done)


class Row(NamedTuple):
    """A booking as both runs can compare it: by the order it was made in (ids differ), its date by
    its place in the world, its teacher by name."""

    n: int
    date: int
    teacher: str
    status: str
    hold_until: str | None
    class_name: str
    pupils: int
    key: str | None
    reason: str
    late: bool
    created_at: str
    updated_at: str
    rest: tuple


def instant(moment: datetime | None) -> str | None:
    """A moment with the offset it is given in: the same instant in another zone is a difference
    (what the function path hands back is made from what PostgreSQL returned)."""
    return None if moment is None else moment.isoformat()


def tell(steps: list, step: int) -> str:
    return "\n".join(f"{'>>' if n == step else '  '} {n}: {s}" for n, s in enumerate(steps))


def run_story(connection: Connection, people: People, world: dict, steps: list, book) -> list[tuple]:
    """The story on a fresh world with `locked_part.book` as given: per step, (answer, state)."""
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(locked_part, "book", book)
        run = Run(connection, people, world)
        try:
            return [(run.step(step), run.state()) for step in steps]
        finally:
            run.close()


@pytest.mark.parametrize("requires_approval", [False, True], ids=["confirmed at once", "needs approval"])
def test_the_function_and_the_python_path_decide_alike(engine, requires_approval):
    if engine.dialect.name != "postgresql":
        pytest.skip("the database function's path is PostgreSQL's; SQLite always takes the Python path")
    paths = Paths()
    with engine.connect() as connection:
        transaction = connection.begin()
        # Not UTC, so a time handed over in the connection's zone differs from one read as UTC
        # (the function's hold_until once did); undone when the transaction rolls back.
        connection.exec_driver_sql("SET LOCAL TIME ZONE 'Europe/Copenhagen'")
        try:
            with Session(bind=connection, join_transaction_mode="create_savepoint") as db:
                provider = make_provider(db)
                schools = [make_school(db) for _ in range(5)]
                people = People(
                    provider_org=provider.id,
                    provider=make_user(db, "provider", organisation=provider).id,
                    # Two colleagues at the first school: they share its classes.
                    teachers=[make_user(db, "teacher", organisation=schools[n]).id for n in (0, 0, 1, 2, 3, 4)],
                    coordinator=make_user(db, "coordinator").id,
                )

            @SETTINGS
            @given(world=a_world, steps=st.lists(a_step, min_size=8, max_size=30))
            @EXAMPLES
            def the_paths_agree(world, steps):
                world = {**world, "requires_approval": requires_approval}
                with_function = run_story(connection, people, world, steps, counting(paths))
                without = run_story(connection, people, world, steps, function_off)
                for n, ((answer, state), (python_answer, python_state)) in enumerate(zip(with_function, without, strict=True)):
                    assert answer == python_answer, f"the answers differ at step {n}:\n{tell(steps, n)}\nfunction: {answer}\nPython:   {python_answer}"
                    for part in state:
                        assert state[part] == python_state[part], (
                            f"{part} differ after step {n}:\n{tell(steps, n)}\nfunction: {state[part]}\nPython:   {python_state[part]}"
                        )

            the_paths_agree()
        finally:
            transaction.rollback()
    # The comparison is worth something only if the function itself decided, every way it can
    # (but for a twin, which takes two requests at the same moment).
    admitted = "booked pending" if requires_approval else "booked confirmed"
    decisions = [admitted, "booked waitlisted", "handed over"] + [f"refused: {why}" for why in ("full", "clash", "cancelled", "too_late", "begun")]
    assert all(paths.counts[decision] for decision in decisions), paths.counts
    assert paths.counts[admitted] >= 10, paths.counts
