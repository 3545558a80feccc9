"""Moving a date to another time keeps the rules that attaching a resource and booking a class keep:
a resource is never in two overlapping visits, a class never in two overlapping activities."""

import threading
import time as clock
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, date, datetime, time, timedelta

import pytest
from icalendar import Calendar
from sqlmodel import Session, col, delete, select

from app.accounts.models import Organisation, User
from app.bookings import service as bookings
from app.bookings.models import Booking, BookingStatus, CapacityPool, CapacityPoolSession
from app.bookings.schemas import BookingIn
from app.catalogue import resources
from app.catalogue import service as catalogue
from app.catalogue.models import Offer, OfferSession, Resource, ResourceKind, SessionResource
from app.catalogue.schemas import OfferCreate, SessionIn
from app.db import begin_write, utcnow
from app.errors import Conflict
from app.i18n import TIMEZONE
from app.notifications.models import OutboxMessage
from tests.factories import log_in, make_provider, make_school, make_user, post_form

NOW = datetime(2026, 9, 1, 8, 0, tzinfo=UTC)
DAY = date(2026, 10, 7)  # a Wednesday: never a Danish public holiday


def at(hour: int, day: date = DAY) -> datetime:
    return datetime.combine(day, time(hour), TIMEZONE)


def new_offer(db: Session, provider: User, title: str) -> Offer:
    data = OfferCreate(type="course", title=title, status="published", requires_approval=False)
    return catalogue.create_offer(db, provider, data, now=NOW)


def new_date(db: Session, offer: Offer, starts: datetime, ends: datetime, capacity: int = 60) -> OfferSession:
    session = OfferSession(offer_id=offer.id, starts_at=starts, ends_at=ends, capacity_pupils=capacity)
    db.add(session)
    db.commit()
    return session


def move(db: Session, provider: User, session: OfferSession, starts: datetime, ends: datetime, capacity_pupils: int = 60):
    data = SessionIn(starts_at=starts, ends_at=ends, capacity_pupils=capacity_pupils)
    return catalogue.update_session(db, provider, session.id, data, now=NOW)


def book(db: Session, teacher: User, session: OfferSession, class_name: str = "8.b", now: datetime = NOW) -> Booking:
    data = BookingIn(session_id=session.id, class_name=class_name, grade=8, pupils=20)
    return bookings.book_session(db, teacher, data, now=now)


def times_of(db: Session, session: OfferSession) -> tuple[datetime, datetime]:
    db.rollback()  # what a refused change left behind, read afresh
    db.refresh(session)
    return session.starts_at, session.ends_at


def test_a_date_cannot_move_onto_another_visit_of_its_resource(db):
    provider = make_user(db, "provider")
    robots, drones = new_offer(db, provider, "Robotter"), new_offer(db, provider, "Droner")
    lab = resources.create_resource(db, provider, name="Lab 2", kind=ResourceKind.room)
    first, second = new_date(db, robots, at(9), at(12)), new_date(db, drones, at(13), at(15))
    for session in (first, second):
        resources.attach_resource(db, provider, session.id, lab.id)

    with pytest.raises(Conflict) as clash:
        move(db, provider, second, at(11), at(13))
    assert clash.value.field == "starts_at"
    assert "Lab 2" in clash.value.message and "Robotter" in clash.value.message
    assert times_of(db, second) == (at(13), at(15))  # nothing saved

    catalogue.cancel_session(db, provider, first.id, now=NOW)  # a cancelled date frees its resources
    move(db, provider, second, at(11), at(13))
    assert times_of(db, second) == (at(11), at(13))


def test_a_date_cannot_move_onto_another_activity_of_a_class_booked_in_it(db):
    school = make_school(db, name="Vestergårdsskolen")
    teacher = make_user(db, "teacher", organisation=school)
    provider = make_user(db, "provider")
    elsewhere = new_offer(db, make_user(db, "provider"), "Droner")  # another provider's activity
    first = new_date(db, elsewhere, at(9), at(12))
    second = new_date(db, new_offer(db, provider, "Robotter"), at(13), at(15))
    booked_first = book(db, teacher, first)
    book(db, teacher, second)
    # The same class name at another school is another class.
    book(db, make_user(db, "teacher", organisation=make_school(db)), new_date(db, elsewhere, at(15), at(17)))

    with pytest.raises(Conflict) as clash:
        move(db, provider, second, at(11), at(13))
    assert clash.value.field == "starts_at"
    assert "8.b" in clash.value.message and "Vestergårdsskolen" in clash.value.message
    assert "Droner" not in clash.value.message  # another provider's activity is not this one's business
    assert times_of(db, second) == (at(13), at(15))  # nothing saved

    move(db, provider, second, at(14), at(16))  # onto the other school's 8.b: no clash

    bookings.cancel_booking(db, teacher, booked_first.id, reason="", now=NOW)  # only active bookings count
    move(db, provider, second, at(11), at(13))
    assert times_of(db, second) == (at(11), at(13))


def test_a_waiting_class_counts_too(db):
    teacher = make_user(db, "teacher")
    provider = make_user(db, "provider")
    offer = new_offer(db, provider, "Robotter")
    first, second = new_date(db, offer, at(9), at(12)), new_date(db, offer, at(13), at(15), capacity=20)
    book(db, teacher, first)
    book(db, make_user(db, "teacher"), second, "7.a")  # the second date is full
    waiting = bookings.book_session(
        db, teacher, BookingIn(session_id=second.id, class_name="8.b", grade=8, pupils=20, waitlist=True), now=NOW
    )
    assert waiting.status == BookingStatus.waitlisted
    with pytest.raises(Conflict):
        move(db, provider, second, at(11), at(13), capacity_pupils=20)


def test_a_move_that_overlaps_nothing_else_is_saved(db):
    """The date's own resources and classes at its old time are no clash, nor another date's that
    ends when this one begins."""
    teacher = make_user(db, "teacher")
    provider = make_user(db, "provider")
    offer = new_offer(db, provider, "Robotter")
    lab = resources.create_resource(db, provider, name="Lab 2", kind=ResourceKind.room)
    first, second = new_date(db, offer, at(9), at(12)), new_date(db, offer, at(13), at(15))
    for session in (first, second):
        resources.attach_resource(db, provider, session.id, lab.id)
        book(db, teacher, session)

    move(db, provider, second, at(14), at(16))  # overlaps its own old time only
    assert times_of(db, second) == (at(14), at(16))
    move(db, provider, second, at(12), at(14))  # begins when the first ends
    assert times_of(db, second) == (at(12), at(14))
    move(db, provider, second, at(9, DAY + timedelta(days=7)), at(12, DAY + timedelta(days=7)))
    assert times_of(db, second) == (at(9, DAY + timedelta(days=7)), at(12, DAY + timedelta(days=7)))


def test_the_classes_of_a_moved_date_are_told_with_the_calendar_file_at_the_new_time(db, mailbox, send_outbox):
    provider = make_user(db, "provider")
    offer = new_offer(db, provider, "Robotter")
    session = new_date(db, offer, at(9), at(12), capacity=20)
    booked, waiting = make_user(db, "teacher"), make_user(db, "teacher")
    confirmed = book(db, booked, session)
    listed = bookings.book_session(db, waiting, BookingIn(session_id=session.id, class_name="7.c", grade=7, pupils=15, waitlist=True), now=NOW)
    send_outbox(NOW)  # the bookings' own e-mails
    mailbox.messages.clear()

    move(db, provider, session, at(10), at(13), capacity_pupils=20)
    for booking in (confirmed, listed):
        history = bookings.history(db, booking)
        assert (history[-1][0].from_status, history[-1][0].to_status) == (booking.status, booking.status)
        assert history[-1][0].reason == "the provider moved the date"
    assert send_outbox(NOW) == 2
    for teacher, status in ((booked, "CONFIRMED"), (waiting, "TENTATIVE")):
        (mail,) = mailbox.to(teacher.email)
        assert mail["Subject"] == "Nyt tidspunkt: Robotter"
        assert "flyttet Robotter" in mail.get_body(("plain",)).get_content()
        (attachment,) = [part for part in mail.iter_attachments() if part.get_content_type() == "text/calendar"]
        (event,) = Calendar.from_ical(attachment.get_content()).walk("VEVENT")
        assert event.decoded("dtstart") == at(10) and event.decoded("dtend") == at(13)
        assert event["status"] == status and event["sequence"] == 1  # newer than the booking's first file


def test_a_change_that_keeps_the_time_checks_no_overlap(db):
    """Only a new time is checked: dates that overlapped before the rule (or were made to by hand)
    can still have their capacity changed."""
    provider = make_user(db, "provider")
    offer = new_offer(db, provider, "Robotter")
    lab = resources.create_resource(db, provider, name="Lab 2", kind=ResourceKind.room)
    first, second = new_date(db, offer, at(9), at(12)), new_date(db, offer, at(11), at(13))
    db.add_all([SessionResource(session_id=s.id, resource_id=lab.id) for s in (first, second)])
    db.commit()
    assert move(db, provider, second, at(11), at(13), capacity_pupils=30).capacity_pupils == 30


def test_the_page_says_in_danish_why_a_date_cannot_move(client, db, settings):
    day = (utcnow() + timedelta(days=30)).astimezone(TIMEZONE).date()
    day += timedelta(days=(2 - day.weekday()) % 7)  # a Wednesday
    school = make_school(db, name="Vestergårdsskolen")
    teacher = make_user(db, "teacher", organisation=school)
    provider = make_user(db, "provider")
    offer = new_offer(db, provider, "Robotter")
    lab = resources.create_resource(db, provider, name="Lab 2", kind=ResourceKind.room)
    first, second = new_date(db, offer, at(9, day), at(12, day)), new_date(db, offer, at(13, day), at(15, day))
    for session in (first, second):
        resources.attach_resource(db, provider, session.id, lab.id)
        book(db, teacher, session, now=utcnow())
    log_in(client, db, provider, settings)
    form = {"date": day.isoformat(), "starts": "11:00", "ends": "13:00", "capacity_pupils": "60"}

    page = post_form(client, f"/provider/sessions/{second.id}/edit", form)
    assert page.status_code == 422
    assert '<li><a href="#date">Dato: Lab 2 er allerede optaget i »Robotter« fra ' in page.text

    resources.detach_resource(db, provider, second.id, lab.id)
    page = post_form(client, f"/provider/sessions/{second.id}/edit", form)
    assert page.status_code == 422
    assert (
        '<li><a href="#date">Dato: Klassen 8.b fra Vestergårdsskolen er allerede booket til en anden '
        "aktivitet på det nye tidspunkt.</a></li>"
    ) in page.text
    assert times_of(db, second) == (at(13, day), at(15, day))  # nothing saved


@contextmanager
def committed_dates(engine, title: str, *, lab: bool = False, pool: bool = False) -> Iterator[dict[str, int]]:
    """Committed data for tests with two connections: a provider's offer with two dates on DAY,
    9-12 ("moved", with class 8.b of a school booked) and 13-15 ("other"), with a resource on the
    first (`lab`) or a capacity pool over both (`pool`); yields their ids and removes it all after."""
    ids: dict[str, int] = {}
    try:
        with Session(engine) as setup:
            school, provider_org = make_school(setup), make_provider(setup)
            teacher = make_user(setup, "teacher", organisation=school)
            provider = make_user(setup, "provider", organisation=provider_org)
            ids.update(school=school.id, provider_org=provider_org.id, teacher=teacher.id, provider=provider.id)
            offer = new_offer(setup, provider, title)
            moved, other = new_date(setup, offer, at(9), at(12)), new_date(setup, offer, at(13), at(15))
            ids.update(offer=offer.id, moved=moved.id, other=other.id)
            if lab:
                room = resources.create_resource(setup, provider, name="Fælleslab", kind=ResourceKind.room)
                resources.attach_resource(setup, provider, moved.id, room.id)
                ids["lab"] = room.id
            if pool:
                shared = CapacityPool(provider_id=provider_org.id, name="Ugens pladser", capacity_pupils=200)
                setup.add(shared)
                setup.flush()
                setup.add_all([CapacityPoolSession(pool_id=shared.id, session_id=s.id) for s in (moved, other)])
                setup.commit()
                ids["pool"] = shared.id
            book(setup, teacher, moved)
        yield ids
    finally:
        with Session(engine) as db:  # children first
            dates = [ids[key] for key in ("moved", "other") if key in ids]
            db.exec(delete(Booking).where(col(Booking.session_id).in_(dates)))
            if "pool" in ids:
                db.exec(delete(CapacityPoolSession).where(CapacityPoolSession.pool_id == ids["pool"]))
            if "teacher" in ids:  # what a move told the teacher must not wait in later tests' outbox
                db.exec(delete(OutboxMessage).where(OutboxMessage.to_address == db.get(User, ids["teacher"]).email))
            db.commit()
            for model, key in (
                (CapacityPool, "pool"), (Offer, "offer"), (Resource, "lab"), (User, "teacher"), (User, "provider"),
                (Organisation, "school"), (Organisation, "provider_org"),
            ):  # fmt: skip
                if key in ids:
                    db.delete(db.get(model, ids[key]))
                    db.commit()


@pytest.mark.parametrize("taken", ["resource", "class"])
def test_a_move_waits_for_a_resource_or_class_being_taken_at_that_moment(engine, taken):
    """Committed data, two connections: while another transaction is giving the resource (or the
    class) to a date at the new time, the move waits for it and then sees it; it never slips in
    between (the move locks the date, then its resources, then its classes' schools, the order
    attaching a resource and booking a class keep)."""
    outcome: list[str] = []

    def move_onto_other() -> None:
        with Session(engine) as db:
            actor, session = db.get(User, ids["provider"]), db.get(OfferSession, ids["moved"])
            try:
                move(db, actor, session, at(12), at(14))
                outcome.append("moved")
            except Conflict:
                outcome.append("refused")

    with committed_dates(engine, "Samtidig", lab=True) as ids:
        with Session(engine) as taking:
            begin_write(taking)
            if taken == "resource":  # as attach_resource does
                taking.exec(select(Resource).where(Resource.id == ids["lab"]).with_for_update()).one()
                taking.add(SessionResource(session_id=ids["other"], resource_id=ids["lab"]))
            else:  # as a booking does, under the school's lock
                taking.exec(select(Organisation).where(Organisation.id == ids["school"]).with_for_update()).one()
                taking.add(
                    Booking(
                        session_id=ids["other"], school_id=ids["school"], teacher_id=ids["teacher"],
                        status=BookingStatus.confirmed, class_name="8.b", grade=8, pupils=20,
                    )
                )  # fmt: skip
            taking.flush()
            mover = threading.Thread(target=move_onto_other)
            mover.start()
            clock.sleep(1)
            assert outcome == []  # the move waits
            taking.commit()
        mover.join(30)
        assert outcome == ["refused"]
        with Session(engine) as db:
            assert db.get(OfferSession, ids["moved"]).starts_at == at(9)


def test_a_move_takes_the_pools_lock_before_a_schools_as_a_booking_does(engine):
    """Committed data, two connections (PostgreSQL's row locks): while a booking of another date in
    the same pool holds the pool, a move of this date waits for it with the school of the class
    booked here still free; taking the school first (as it once did) let the two wait for each
    other in a circle, which PostgreSQL ends by failing one of them."""
    if engine.dialect.name != "postgresql":
        pytest.skip("SQLite has one writer: no row locks, no circle")
    outcome: list[str] = []

    def move_later() -> None:
        with Session(engine) as db:
            move(db, db.get(User, ids["provider"]), db.get(OfferSession, ids["moved"]), at(10), at(13))
            outcome.append("moved")

    with committed_dates(engine, "Puljen", pool=True) as ids:
        with Session(engine) as booking:  # a booking of the other date, between its pool's lock and its school's
            booking.exec(select(OfferSession).where(OfferSession.id == ids["other"]).with_for_update()).one()
            booking.exec(select(CapacityPool).where(CapacityPool.id == ids["pool"]).with_for_update()).one()
            mover = threading.Thread(target=move_later)
            mover.start()
            clock.sleep(1)  # the move has its date's lock and waits for the pool's
            # The school is still free for the booking to take: the move did not take it first.
            booking.exec(select(Organisation).where(Organisation.id == ids["school"]).with_for_update(nowait=True)).one()
            assert outcome == []
            booking.commit()
        mover.join(30)
        assert outcome == ["moved"]
