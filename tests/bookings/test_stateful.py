"""The booking engine as a state machine: Hypothesis books, cancels, approves, declines, accepts
offered places, expires holds, completes, changes capacities and moves the clock in random
order, against the service functions on the test database (SQLite, or PostgreSQL with
TEST_DATABASE_URL), and after every step checks what must always be true:

- the seats held (counted by `service.held`, and recounted here from the rows) never exceed a
  session's pupils or classes, nor a capacity pool shared by the sessions;
- every booking's history is a chain of legal transitions (LEGAL, from the issue's states) that
  ends in its current state;
- a pending booking or an offered place has a hold deadline, a confirmed booking none;
- where the offer forbids passing, nobody on the waiting list was served before an earlier class
  that still waits; and after a step that frees seats, no waiting class that fits is left waiting.

Each step also predicts the service's answer (a new booking's state, or which refusal) from the
rows, so a wrong answer fails at the step that gave it.

Changing capacity: a provider may raise or lower a session's pupil capacity, but never below what
is held at that moment (the catalogue's update_session refuses that, see the test at the end), so
the capacity invariant holds at every step.

The people are made once per test, in a transaction rolled back at its end; each example builds
its offer and dates in a savepoint of that transaction and rolls it back."""

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from types import SimpleNamespace

import pytest
from hypothesis import HealthCheck, event, settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    Bundle,
    RuleBasedStateMachine,
    initialize,
    invariant,
    multiple,
    precondition,
    rule,
    run_state_machine_as_test,
)
from sqlalchemy import Connection
from sqlmodel import Session, col, select

from app.accounts.models import User
from app.bookings import reminders, service
from app.bookings.models import (
    Booking,
    BookingEvent,
    BookingStatus,
    CapacityPool,
    CapacityPoolSession,
)
from app.bookings.schemas import BookingIn
from app.catalogue import service as catalogue
from app.catalogue.models import Offer, OfferSession, OfferStatus, OfferType
from app.catalogue.schemas import SessionIn
from app.errors import Conflict, DomainError, InvalidInput
from tests.factories import make_provider, make_school, make_user

S = BookingStatus
# Every state change a booking may make (None: the booking is made).
LEGAL: dict[BookingStatus | None, set[BookingStatus]] = {
    None: {S.pending, S.confirmed, S.waitlisted},
    S.pending: {S.confirmed, S.declined, S.cancelled, S.expired},
    S.confirmed: {S.cancelled, S.completed},
    # pending/confirmed straight from the list: a fair allocation round's draw.
    S.waitlisted: {S.offered, S.declined, S.cancelled, S.pending, S.confirmed},
    S.offered: {S.pending, S.confirmed, S.cancelled, S.expired},
    S.declined: set(),
    S.cancelled: set(),
    S.expired: set(),
    S.completed: set(),
}
ACTIVE = {S.pending, S.confirmed, S.offered, S.waitlisted}

NOW = datetime(2026, 9, 1, 8, 0, tzinfo=UTC)
START = NOW + timedelta(days=20)  # past the cancellation deadline (ten weekdays) within the run

SETTINGS = settings(
    max_examples=25,
    stateful_step_count=30,
    deadline=None,
    database=None,  # nothing replayed from disk: a failure prints the steps that led to it
    suppress_health_check=[HealthCheck.too_slow],
)


@dataclass
class People:
    """Who acts, made once per test: a provider, six teachers at five schools, a coordinator."""

    provider_org: int
    provider: int
    teachers: list[int]
    coordinator: int


# What the model reads of a booking.
_MODELLED = ("id", "session_id", "school_id", "class_name", "status", "pupils", "hold_until", "created_at")


class BookingMachine(RuleBasedStateMachine):
    # Set by the test: a connection inside a transaction that it rolls back, and who acts.
    connection: Connection
    people: People
    bookings = Bundle("bookings")

    def __init__(self) -> None:
        super().__init__()
        # Each example in a savepoint of its own, rolled back when it ends.
        self.savepoint = self.connection.begin_nested()
        self.db = Session(bind=self.connection, join_transaction_mode="create_savepoint")
        self.now = NOW
        self.keys: dict[tuple[int, str], tuple[str, int]] = {}  # (teacher, key) → (request, booking)
        self.ids: set[int] = set()
        self.last_rows: list[Booking] = []

    def teardown(self) -> None:
        self.db.close()
        self.savepoint.rollback()

    # --- the world ------------------------------------------------------------------------------

    @initialize(
        requires_approval=st.booleans(),
        may_pass=st.booleans(),
        offer_hours=st.sampled_from([1, 48]),
        capacities=st.tuples(st.integers(10, 60), st.integers(10, 60)),
        classes=st.none() | st.integers(1, 4),
        pool=st.none() | st.integers(15, 90),
    )
    def world(self, requires_approval, may_pass, offer_hours, capacities, classes, pool):
        db = self.db
        self.provider = db.get(User, self.people.provider)
        self.teachers = [db.get(User, t) for t in self.people.teachers]
        self.coordinator = db.get(User, self.people.coordinator)
        self.offer = Offer(
            provider_id=self.people.provider_org,
            type=OfferType.course,
            status=OfferStatus.published,
            title="Robotter",
            grade_min=5,
            grade_max=9,
            municipality="Aarhus",
            requires_approval=requires_approval,
            waitlist_may_pass=may_pass,
            waitlist_offer_hours=offer_hours,
        )
        db.add(self.offer)
        db.flush()
        # Two dates that overlap, so that one class cannot be in both.
        self.sessions = [
            OfferSession(
                offer_id=self.offer.id,
                starts_at=START + timedelta(hours=2 * n),
                ends_at=START + timedelta(hours=2 * n + 4),
                capacity_pupils=capacity,
                capacity_classes=classes,
            )
            for n, capacity in enumerate(capacities)
        ]
        db.add_all(self.sessions)
        db.flush()
        self.pool = None
        if pool is not None:
            self.pool = CapacityPool(provider_id=self.people.provider_org, name="Ugens pladser", capacity_pupils=pool)
            db.add(self.pool)
            db.flush()
            db.add_all([CapacityPoolSession(pool_id=self.pool.id, session_id=s.id) for s in self.sessions])
        db.commit()
        self.session_ids = [s.id for s in self.sessions]

    # --- what the rows say ----------------------------------------------------------------------

    def rows(self) -> list[Booking]:
        """Our bookings as they are in the database now."""
        query = select(Booking).where(col(Booking.session_id).in_(self.session_ids)).order_by(col(Booking.id))
        return list(self.db.exec(query.execution_options(populate_existing=True)).all())

    def holds(self, booking: Booking) -> bool:
        return booking.status == S.confirmed or (
            booking.status in (S.pending, S.offered) and (booking.hold_until is None or booking.hold_until > self.now)
        )

    def held(self, rows: list[Booking], session_ids: set[int]) -> tuple[int, int]:
        holding = [b for b in rows if b.session_id in session_ids and self.holds(b)]
        return sum(b.pupils for b in holding), len(holding)

    def fits(self, rows: list[Booking], session: OfferSession, pupils: int) -> bool:
        held_pupils, held_classes = self.held(rows, {session.id})
        if held_pupils + pupils > session.capacity_pupils:
            return False
        if session.capacity_classes is not None and held_classes + 1 > session.capacity_classes:
            return False
        if self.pool is not None:
            pool_pupils, _classes = self.held(rows, {s.id for s in self.sessions})
            return pool_pupils + pupils <= self.pool.capacity_pupils
        return True

    def queue(self, rows: list[Booking], session: OfferSession) -> list[Booking]:
        return sorted((b for b in rows if b.session_id == session.id and b.status == S.waitlisted), key=lambda b: (b.created_at, b.id))

    def room(self, session: OfferSession) -> int:
        """The most pupils one class can ever have on the date."""
        return min(session.capacity_pupils, self.pool.capacity_pupils if self.pool else session.capacity_pupils)

    def heads(self, waiting: list[Booking], session: OfferSession) -> list[Booking]:
        """The waiting classes whose turn comes first: all of them where the list may be passed,
        else the first that could ever have a place (a larger one holds up nobody)."""
        return waiting if self.offer.waitlist_may_pass else [b for b in waiting if b.pupils <= self.room(session)][:1]

    def blocking(self, rows: list[Booking], session: OfferSession) -> bool:
        """Someone waits whom a newcomer may not pass."""
        return not self.offer.waitlist_may_pass and bool(self.heads(self.queue(rows, session), session))

    def promoted(self, rows: list[Booking], session: OfferSession) -> list[Booking]:
        """The rows as they will be once the date's list is moved (copies; the rows stay as they are)."""
        rows = [SimpleNamespace(**{name: getattr(b, name) for name in _MODELLED}) for b in rows]
        for booking in self.queue(rows, session):
            if self.fits(rows, session, booking.pupils):
                booking.status, booking.hold_until = S.offered, self.now + timedelta(hours=1)
            elif not (self.offer.waitlist_may_pass or booking.pupils > self.room(session)):
                break
        return rows

    def session_of(self, booking: Booking) -> OfferSession:
        return next(s for s in self.sessions if s.id == booking.session_id)

    def promoted_with(self, booking: Booking) -> list[OfferSession]:
        """The dates whose waiting lists move on when the booking frees seats: its own, and those
        sharing a capacity pool with it."""
        return list(self.sessions) if self.pool is not None else [self.session_of(booking)]

    def started(self, session: OfferSession) -> bool:
        return session.starts_at <= self.now

    def refused(self) -> None:
        """What a request does when the service refuses it: its transaction is rolled back."""
        self.db.rollback()

    # --- rules ----------------------------------------------------------------------------------

    def request(self, teacher: int, session: int, pupils: int, class_name: str, waitlist: bool, key: str | None) -> int | None:
        """Book as a teacher, predicting the answer from the rows first; the new booking's id."""
        teacher, session = self.teachers[teacher], self.sessions[session]
        data = BookingIn(session_id=session.id, class_name=class_name, grade=7, pupils=pupils, waitlist=waitlist)
        rows = self.rows()
        clash = any(  # the two dates overlap each other, so any active booking of the class clashes
            b.school_id == teacher.organisation_id and b.class_name.lower() == class_name.lower() and b.status in ACTIVE
            for b in rows
        )
        replay = self.keys.get((teacher.id, key)) if key else None
        queue = self.queue(rows, session)
        if queue:  # the list is moved first: it has the places before a newcomer
            rows = self.promoted(rows, session)
        if replay is not None:
            expected = replay[1] if replay[0] == data.model_dump_json() else Conflict
        elif pupils > self.room(session):  # could never have a place: refused, not put on the list
            expected = InvalidInput
        elif self.started(session) or clash:
            expected = Conflict
        elif self.fits(rows, session, pupils) and not self.blocking(rows, session):  # nobody jumps the list
            expected = S.pending if self.offer.requires_approval else S.confirmed
        elif waitlist:
            expected = S.waitlisted
        else:
            expected = service.SessionFull
        try:
            booking = service.book_session(self.db, teacher, data, now=self.now, idempotency_key=key)
        except DomainError as error:
            self.refused()
            event(f"book: {type(error).__name__}")
            assert isinstance(expected, type) and isinstance(error, expected), (expected, error)
            return None
        if isinstance(expected, int):  # the same request again: the first answer, nothing new
            event("book: the same request again")
            assert booking.id == expected
            return None
        event(f"book: {booking.status}")
        assert booking.status == expected, (booking.status, expected)
        assert booking.id not in self.ids
        if booking.status == S.pending:
            assert booking.hold_until == min(self.now + service.APPROVAL_TIME, session.starts_at)
        self.ids.add(booking.id)
        if key:
            self.keys[(teacher.id, key)] = (data.model_dump_json(), booking.id)
        if queue:
            self.assert_waiting_lists_served([session])
        return booking.id

    a_request = st.tuples(
        st.integers(0, 5),  # teacher
        st.integers(0, 1),  # date
        st.integers(1, 30),  # pupils
        st.sampled_from(["7.a", "7.A", "7.b", "8.a", "8.b", "9.c"]),  # "7.a" and "7.A" are one class
        st.booleans(),  # join the waiting list when full
        st.sampled_from([None, None, None, "k1", "k2"]),  # idempotency key
    )

    @rule(target=bookings, request=a_request)
    def book(self, request):
        booking_id = self.request(*request)
        return multiple() if booking_id is None else booking_id

    @rule(target=bookings, requests=st.lists(a_request, min_size=2, max_size=4))
    def rush(self, requests):
        """Several classes book, one after another, as when a popular date opens."""
        return multiple(*filter(None, (self.request(*r) for r in requests)))

    def pick(self, booking_id: int, prefer: bool, states: set[BookingStatus]) -> Booking:
        """The drawn booking, or, when `prefer`, the first of ours in one of `states` (if any), so
        that decisions are not mostly refusals."""
        if prefer and (fitting := [b for b in self.rows() if b.status in states]):
            return fitting[0]
        booking = self.db.get(Booking, booking_id)
        self.db.refresh(booking)
        return booking

    @rule(
        booking_id=bookings,
        prefer=st.booleans(),
        actor=st.sampled_from(["teacher", "colleague", "coordinator", "provider"]),
        reason=st.sampled_from(["", "Sygdom"]),
    )
    def cancel(self, booking_id, prefer, actor, reason):
        booking = self.pick(booking_id, prefer, ACTIVE)
        teacher = next(t for t in self.teachers if t.id == booking.teacher_id)
        if actor == "colleague":
            teacher = next((t for t in self.teachers if t.organisation_id == teacher.organisation_id and t.id != teacher.id), teacher)
        user = {"coordinator": self.coordinator, "provider": self.provider}.get(actor, teacher)
        before = booking.status
        try:
            service.cancel_booking(self.db, user, booking.id, reason=reason, now=self.now)
        except InvalidInput:  # a late cancellation needs a reason
            self.refused()
            event("cancel: late, without a reason")
            assert user.role == "teacher" and before in (S.pending, S.confirmed) and not reason
            return
        except Conflict:
            self.refused()
            assert before not in ACTIVE
            return
        assert before in ACTIVE
        event(f"cancel: {before}")
        self.assert_waiting_lists_served(self.promoted_with(booking))

    @rule(booking_id=bookings, prefer=st.booleans())
    def approve(self, booking_id, prefer):
        booking = self.pick(booking_id, prefer, {S.pending})
        may = booking.status == S.pending and booking.hold_until > self.now
        try:
            approved = service.approve_booking(self.db, self.coordinator, booking.id, now=self.now)
        except Conflict:
            self.refused()
            assert not may
            return
        assert may and approved.status == S.confirmed
        event("approved")

    @rule(booking_id=bookings, prefer=st.booleans(), by_provider=st.booleans())
    def decline(self, booking_id, prefer, by_provider):
        booking = self.pick(booking_id, prefer, {S.pending, S.waitlisted})
        before = booking.status
        try:
            service.decline_booking(self.db, self.provider if by_provider else self.coordinator, booking.id, reason="Nej", now=self.now)
        except Conflict:
            self.refused()
            assert before not in (S.pending, S.waitlisted)
            return
        assert before in (S.pending, S.waitlisted)
        event(f"declined: {before}")
        self.assert_waiting_lists_served(self.promoted_with(booking))

    @rule(booking_id=bookings, prefer=st.booleans())
    def accept_offered_place(self, booking_id, prefer):
        booking = self.pick(booking_id, prefer, {S.offered})
        teacher = next(t for t in self.teachers if t.id == booking.teacher_id)
        may = booking.status == S.offered and booking.hold_until > self.now
        try:
            accepted = service.accept_offered_place(self.db, teacher, booking.id, now=self.now)
        except Conflict:
            self.refused()
            assert not may
            return
        assert may and accepted.status == (S.pending if self.offer.requires_approval else S.confirmed)
        event("accepted an offered place")

    def stale(self, rows: list[Booking]) -> dict[int, int]:
        return {b.id: b.session_id for b in rows if b.status in (S.pending, S.offered) and b.hold_until <= self.now}

    # When something is stale, as seen by the invariant after the last step (no query per choice).
    @precondition(lambda self: self.stale(self.last_rows))
    @rule()
    def expire(self):
        """The worker's expiry job, at the current clock."""
        stale = self.stale(self.rows())
        assert service.expire_holds(self.db, now=self.now) >= len(stale)
        assert all(self.db.get(Booking, b).status == S.expired for b in stale)
        event(f"expired: {min(len(stale), 3)}{'+' if len(stale) >= 3 else ''}")
        self.assert_waiting_lists_served([s for s in self.sessions if s.id in stale.values() or self.pool is not None])

    @rule(session=st.integers(0, 1), capacity=st.integers(1, 80))
    def change_capacity(self, session, capacity):
        """The provider changes the date's capacity, as the date's page does: never below what it
        holds now, and places it adds go to the waiting list first."""
        session = self.sessions[session]
        held_pupils, _classes = self.held(self.rows(), {session.id})
        data = SessionIn(starts_at=session.starts_at, ends_at=session.ends_at, capacity_pupils=capacity, capacity_classes=session.capacity_classes)
        try:
            catalogue.update_session(self.db, self.provider, session.id, data, now=self.now)
        except InvalidInput:
            self.refused()
            assert capacity < held_pupils or self.started(session)
            event("capacity: refused")
            return
        assert capacity >= held_pupils and not self.started(session) and session.capacity_pupils == capacity
        event("capacity: changed")
        self.assert_waiting_lists_served([session])

    @rule(hours=st.sampled_from([1, 6, 24, 47, 49, 24 * 7, 24 * 8]), worker=st.booleans())
    def advance_clock(self, hours, worker):
        """Time passes; the worker may run its expiry and completion jobs at the new time."""
        self.now += timedelta(hours=hours)
        if worker:
            stale = self.stale(self.rows())
            service.expire_holds(self.db, now=self.now)
            assert all(self.db.get(Booking, b).status == S.expired for b in stale)
            ended = [b.id for b in self.rows() if b.status == S.confirmed and self.session_of(b).ends_at <= self.now]
            reminders.complete_and_ask_for_evaluation(self.db, now=self.now)
            assert all(self.db.get(Booking, b).status == S.completed for b in ended)
            if ended:
                event("completed")

    # --- what must always be true ---------------------------------------------------------------

    @invariant()
    def what_must_always_be_true(self):
        """One invariant that reads the rows once and checks them all (each read costs a query)."""
        if not hasattr(self, "sessions"):
            return  # before the world is built
        rows = self.last_rows = self.rows()
        assert {b.id for b in rows} == self.ids  # a refused request leaves nothing behind
        events = self.db.exec(select(BookingEvent).where(col(BookingEvent.booking_id).in_(self.ids)).order_by(col(BookingEvent.id))).all()
        self.assert_seats_held_within_capacity(rows)
        self.assert_histories_legal(rows, events)
        self.assert_holds_have_deadlines(rows)
        self.assert_nobody_passed_the_head_of_the_list(rows, events)

    def assert_seats_held_within_capacity(self, rows: list[Booking]) -> None:
        counted = service.held(self.db, self.session_ids, now=self.now)
        for session in self.sessions:
            pupils, classes = self.held(rows, {session.id})
            assert counted.get(session.id, (0, 0)) == (pupils, classes), "service.held disagrees with the rows"
            assert pupils <= session.capacity_pupils, f"{pupils} pupils held in date {session.id} of {session.capacity_pupils}"
            assert session.capacity_classes is None or classes <= session.capacity_classes
        if self.pool is not None:
            assert self.held(rows, {s.id for s in self.sessions})[0] <= self.pool.capacity_pupils

    def assert_histories_legal(self, rows: list[Booking], events: list[BookingEvent]) -> None:
        for booking in rows:
            steps = [(e.from_status, e.to_status) for e in events if e.booking_id == booking.id]
            assert steps and steps[0][0] is None, steps
            # Each step starts where the last one ended, is a legal one, and the last is where it is.
            assert all(reached == source for (_, reached), (source, _) in zip(steps, steps[1:], strict=False)), steps
            assert all(to in LEGAL[source] for source, to in steps), steps
            assert steps[-1][1] == booking.status, (steps, booking.status)

    def assert_holds_have_deadlines(self, rows: list[Booking]) -> None:
        for booking in rows:
            if booking.status in (S.pending, S.offered):
                assert booking.hold_until is not None, booking
            if booking.status == S.confirmed:
                assert booking.hold_until is None, booking

    def assert_nobody_passed_the_head_of_the_list(self, rows: list[Booking], events: list[BookingEvent]) -> None:
        """Where the offer forbids passing, every class ever offered a place from the list was
        ahead of every class still waiting (joining the list puts a class at its end)."""
        if self.offer.waitlist_may_pass:
            return
        offered = {e.booking_id for e in events if e.to_status == S.offered}
        for session in self.sessions:
            head = self.heads(self.queue(rows, session), session)
            served = [b for b in rows if b.id in offered and b.session_id == session.id]
            if head and served:
                assert max((b.created_at, b.id) for b in served) < (head[0].created_at, head[0].id)

    def assert_waiting_lists_served(self, sessions: list[OfferSession]) -> None:
        """After seats were freed (and the list promoted): no waiting class that fits is left
        waiting, or, where passing is forbidden, the head of the list does not fit."""
        rows = self.rows()
        for session in sessions:
            if self.started(session):
                continue
            stuck = [b.id for b in self.heads(self.queue(rows, session), session) if self.fits(rows, session, b.pupils)]
            if any(b.session_id == session.id and b.status == S.offered for b in rows):
                event("a waiting class has a place offered")
            assert not stuck, f"waiting classes {stuck} fit in date {session.id} but were not offered the place"


def test_the_booking_engine_keeps_its_promises(engine):
    with engine.connect() as connection:
        transaction = connection.begin()
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
            machine = type("BookingMachineOnTheTestDatabase", (BookingMachine,), {"connection": connection, "people": people})
            run_state_machine_as_test(machine, settings=SETTINGS)
        finally:
            transaction.rollback()


def test_raising_the_capacity_offers_the_new_places_to_the_waiting_list(db):
    """Found while choosing the state machine's capacity rule: with a waiting list, new bookings
    must queue (nobody jumps it), so places added by a provider must go to the list, or they stay
    empty until somebody happens to cancel."""
    provider = make_provider(db)
    offer = Offer(provider_id=provider.id, type=OfferType.course, status=OfferStatus.published, title="Robotter",
                  grade_min=5, grade_max=9, municipality="Aarhus", requires_approval=False)
    db.add(offer)
    db.flush()
    session = OfferSession(offer_id=offer.id, starts_at=START, ends_at=START + timedelta(hours=4), capacity_pupils=20)
    db.add(session)
    db.commit()
    first, second = (make_user(db, "teacher", organisation=make_school(db)) for _ in range(2))
    service.book_session(db, first, BookingIn(session_id=session.id, class_name="7.a", grade=7, pupils=20), now=NOW)
    waiting = service.book_session(db, second, BookingIn(session_id=session.id, class_name="7.a", grade=7, pupils=10, waitlist=True), now=NOW)
    assert waiting.status == S.waitlisted

    owner = make_user(db, "provider", organisation=provider)
    catalogue.update_session(
        db, owner, session.id, SessionIn(starts_at=session.starts_at, ends_at=session.ends_at, capacity_pupils=30), now=NOW
    )
    db.refresh(waiting)
    assert waiting.status == S.offered


def test_the_capacity_cannot_drop_below_the_places_already_held(db):
    """Nobody loses a place they were given: lowering a date below what its bookings hold is
    refused, naming the field; down to exactly what is held is fine."""
    provider = make_provider(db)
    offer = Offer(provider_id=provider.id, type=OfferType.course, status=OfferStatus.published, title="Robotter",
                  grade_min=5, grade_max=9, municipality="Aarhus", requires_approval=False)
    db.add(offer)
    db.flush()
    session = OfferSession(offer_id=offer.id, starts_at=START, ends_at=START + timedelta(hours=4), capacity_pupils=60, capacity_classes=3)
    db.add(session)
    db.commit()
    for pupils in (20, 15):
        teacher = make_user(db, "teacher", organisation=make_school(db))
        service.book_session(db, teacher, BookingIn(session_id=session.id, class_name="7.a", grade=7, pupils=pupils), now=NOW)
    owner = make_user(db, "provider", organisation=provider)

    def change(pupils, classes=None):
        data = SessionIn(starts_at=session.starts_at, ends_at=session.ends_at, capacity_pupils=pupils, capacity_classes=classes)
        return catalogue.update_session(db, owner, session.id, data, now=NOW)

    with pytest.raises(InvalidInput) as too_few:
        change(34)
    assert too_few.value.field == "capacity_pupils" and "35" in too_few.value.message
    with pytest.raises(InvalidInput) as too_few_classes:
        change(60, 1)
    assert too_few_classes.value.field == "capacity_classes"
    db.rollback()
    db.refresh(session)
    assert (session.capacity_pupils, session.capacity_classes) == (60, 3)  # nothing half-saved
    assert (change(35, 2).capacity_pupils, session.capacity_classes) == (35, 2)
