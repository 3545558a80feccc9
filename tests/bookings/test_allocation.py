"""Fair allocation rounds: requests collected until a deadline take no seats, then one seeded,
logged, reproducible run spreads the places across schools and municipalities; the rest wait in
the run's order, and every teacher is told why."""

import json
import re
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, select

from app.accounts.models import Organisation
from app.bookings import allocation
from app.bookings import service as bookings
from app.bookings.models import AllocationRound, Booking, BookingEvent, BookingStatus, RoundStatus
from app.bookings.schemas import BookingIn
from app.catalogue.models import Offer, OfferSession, OfferStatus, OfferType
from app.db import get_db, make_engine
from app.deps import get_now
from app.errors import Conflict, Forbidden, InvalidInput, NotFound
from app.i18n import language
from app.notifications.models import Notification
from app.worker import run_once
from tests.conftest import fresh_database
from tests.factories import log_in, make_provider, make_school, make_user, post_form

NOW = datetime(2026, 10, 1, 8, 0, tzinfo=UTC)
CLOSES = NOW + timedelta(days=7)
AFTER = CLOSES + timedelta(minutes=1)


def girls_day(db, *, capacity_pupils=100, capacity_classes=None, requires_approval=True, dates=1):
    """A published Girls Day offer with its dates and its provider's staff member."""
    provider_org = make_provider(db)
    offer = Offer(provider_id=provider_org.id, type=OfferType.girls_day, status=OfferStatus.published, title="Girls Day",
                  grade_min=0, grade_max=10, municipality="Aarhus", requires_approval=requires_approval)
    db.add(offer)
    db.flush()
    sessions = []
    for n in range(dates):
        starts = NOW + timedelta(days=60 + n)
        sessions.append(OfferSession(offer_id=offer.id, starts_at=starts, ends_at=starts + timedelta(hours=4),
                                     capacity_pupils=capacity_pupils, capacity_classes=capacity_classes))
    db.add_all(sessions)
    db.commit()
    return offer, sessions, make_user(db, "provider", organisation=provider_org)


def teacher_at(db, municipality="Aarhus", *, language="en"):
    teacher = make_user(db, "teacher", organisation=make_school(db, municipality=municipality))
    teacher.language = language
    db.add(teacher)
    db.commit()
    return teacher


def request(db, teacher, session, pupils=20, class_name="7.a", *, now=NOW):
    data = BookingIn(session_id=session.id, class_name=class_name, grade=7, pupils=pupils)
    return bookings.book_session(db, teacher, data, now=now)


def opened(db, offer, provider, *, seed=None):
    allocation_round = allocation.open_round(db, provider, offer.id, CLOSES, now=NOW)
    if seed is not None:  # a fixed draw, so a test can speak of its order
        allocation_round.seed = seed
        db.add(allocation_round)
        db.commit()
    return allocation_round


def held(db, session):
    return bookings.held(db, [session.id], now=AFTER).get(session.id, (0, 0))


# --- opening and collecting ----------------------------------------------------------------------


def test_requests_during_a_round_wait_and_take_no_seats(db):
    offer, (session,), provider = girls_day(db, capacity_pupils=30)
    allocation_round = opened(db, offer, provider)
    assert allocation_round.status == RoundStatus.open and len(allocation_round.seed) == 32
    first = request(db, teacher_at(db), session, 25)
    second = request(db, teacher_at(db), session, 25)  # more than the 30 places: still a request
    for booking in (first, second):
        assert (booking.status, booking.round_id, booking.queue_rank) == (BookingStatus.waitlisted, allocation_round.id, None)
    assert held(db, session) == (0, 0)

    # A place freed meanwhile goes to nobody: the requests wait for the draw.
    bookings.cancel_booking(db, make_user(db, "coordinator"), first.id, reason="", now=NOW)
    db.refresh(second)
    assert second.status == BookingStatus.waitlisted

    # After the deadline, until the run, nobody can book.
    with pytest.raises(Conflict):
        request(db, teacher_at(db), session, now=CLOSES)


def test_who_may_open_a_round_and_when(db):
    offer, _sessions, provider = girls_day(db)
    with pytest.raises(Forbidden):
        allocation.open_round(db, make_user(db, "provider"), offer.id, CLOSES, now=NOW)
    with pytest.raises(Forbidden):
        allocation.open_round(db, teacher_at(db), offer.id, CLOSES, now=NOW)
    with pytest.raises(InvalidInput):
        allocation.open_round(db, provider, offer.id, NOW - timedelta(minutes=1), now=NOW)
    with pytest.raises(InvalidInput):  # no date starts after it
        allocation.open_round(db, provider, offer.id, NOW + timedelta(days=90), now=NOW)
    # A municipality's coordinator acts on offers in their municipality only (security probe A2).
    with pytest.raises(Forbidden):
        allocation.open_round(db, make_user(db, "coordinator", municipality="Herning"), offer.id, CLOSES, now=NOW)
    coordinator_round = allocation.open_round(db, make_user(db, "coordinator", municipality="Aarhus"), offer.id, CLOSES, now=NOW)
    with pytest.raises(Forbidden):
        allocation.allocate_now(db, make_user(db, "coordinator", municipality="Herning"), offer.id, now=CLOSES + timedelta(minutes=1))
    # Nor are they listed to them; the region's staff and Aarhus' coordinator see it.
    assert allocation.visible_rounds(db, make_user(db, "coordinator", municipality="Herning")) == []
    for staff in (make_user(db, "coordinator"), make_user(db, "coordinator", municipality="Aarhus")):
        assert [r.id for r, _o, _n in allocation.visible_rounds(db, staff)] == [coordinator_round.id]
    with pytest.raises(Conflict):
        allocation.open_round(db, provider, offer.id, CLOSES, now=NOW)
    assert allocation.open_round_of(db, offer.id).id == coordinator_round.id


def test_a_round_runs_only_after_its_deadline_and_only_once(db):
    offer, _sessions, provider = girls_day(db)
    allocation_round = opened(db, offer, provider)
    with pytest.raises(Conflict):
        allocation.allocate(db, allocation_round.id, now=CLOSES - timedelta(seconds=1))
    allocation.allocate(db, allocation_round.id, now=AFTER)
    with pytest.raises(Conflict):
        allocation.allocate(db, allocation_round.id, now=AFTER)
    # The next round may open once the first has run.
    assert allocation.open_round(db, provider, offer.id, CLOSES + timedelta(days=1), now=AFTER).status == RoundStatus.open


# --- the run --------------------------------------------------------------------------------------


def test_seats_never_exceed_capacity_and_one_school_cannot_take_everything(db):
    offer, (session,), provider = girls_day(db, capacity_pupils=70, capacity_classes=3)
    allocation_round = opened(db, offer, provider)
    big_school = teacher_at(db)
    for n in range(6):  # one school asks for six classes ...
        request(db, big_school, session, 20, class_name=f"{n + 4}.a")
    others = [teacher_at(db) for _ in range(2)]  # ... two schools ask for one each
    for teacher in others:
        request(db, teacher, session, 20)

    allocation.allocate(db, allocation_round.id, now=AFTER)
    pupils, classes = held(db, session)
    assert pupils <= 70 and classes <= 3
    winners = db.exec(select(Booking).where(Booking.session_id == session.id, Booking.status == BookingStatus.pending)).all()
    assert sorted(b.school_id for b in winners) == sorted([big_school.organisation_id, *(t.organisation_id for t in others)])
    events = db.exec(select(BookingEvent).where(BookingEvent.booking_id == winners[0].id).order_by(col(BookingEvent.id))).all()
    assert (events[-1].to_status, events[-1].actor_id, events[-1].reason) == (BookingStatus.pending, None, f"allocation round {allocation_round.id}")
    assert winners[0].hold_until == AFTER + bookings.APPROVAL_TIME


@pytest.mark.parametrize("seed", ["a", "b", "c", "d"])
def test_schools_with_fewer_places_this_school_year_come_first(db, seed):
    # The busy school has a confirmed booking of another offer this school year (its date is in
    # the same August-July year as the Girls Day).
    other_offer, (other_date,), _provider = girls_day(db, requires_approval=False)
    busy = teacher_at(db)
    request(db, busy, other_date, 10, class_name="9.x")
    offer, (session,), provider = girls_day(db, capacity_classes=1)
    allocation_round = opened(db, offer, provider, seed=seed)
    busy_request = request(db, busy, session, 20)
    fresh_request = request(db, teacher_at(db), session, 20)

    allocation.allocate(db, allocation_round.id, now=AFTER)
    db.refresh(busy_request)
    db.refresh(fresh_request)
    assert fresh_request.status == BookingStatus.pending and busy_request.status == BookingStatus.waitlisted
    facts = {d["booking_id"]: d for d in allocation.round_log(db.get(AllocationRound, allocation_round.id))["decisions"]}
    assert facts[busy_request.id]["school_places"] == 1 and facts[fresh_request.id]["school_places"] == 0


@pytest.mark.parametrize("seed", ["a", "b", "c", "d", "e"])
def test_places_spread_across_municipalities(db, seed):
    offer, (session,), provider = girls_day(db, capacity_classes=2)
    allocation_round = opened(db, offer, provider, seed=seed)
    for municipality in ("Aarhus", "Aarhus", "Aarhus", "Herning"):
        request(db, teacher_at(db, municipality), session, 20)
    allocation.allocate(db, allocation_round.id, now=AFTER)
    winners = db.exec(
        select(Organisation.municipality)
        .join(Booking, col(Booking.school_id) == col(Organisation.id))
        .where(Booking.session_id == session.id, Booking.status == BookingStatus.pending)
    ).all()
    assert sorted(winners) == ["Aarhus", "Herning"]
    loser = db.exec(select(Booking).where(Booking.round_id == allocation_round.id, Booking.status == BookingStatus.waitlisted)).first()
    with language("en"):
        why = allocation.explain(db, make_user(db, "admin"), loser, now=AFTER).sentences
    assert any(s.startswith("Schools in Aarhus had already won 1 place") for s in why)


def test_losers_wait_in_the_runs_order_and_a_cancellation_offers_the_first(db):
    offer, (session,), provider = girls_day(db, capacity_classes=2)
    allocation_round = opened(db, offer, provider)
    requested = [request(db, teacher_at(db), session, 20) for _ in range(5)]
    allocation.allocate(db, allocation_round.id, now=AFTER)
    for booking in requested:
        db.refresh(booking)
    assert sorted(b.queue_rank for b in requested) == [1, 2, 3, 4, 5]
    winners = sorted((b for b in requested if b.status == BookingStatus.pending), key=lambda b: b.queue_rank)
    losers = sorted((b for b in requested if b.status == BookingStatus.waitlisted), key=lambda b: b.queue_rank)
    assert [b.queue_rank for b in winners] == [1, 2] and len(losers) == 3
    assert [bookings.waitlist_position(db, b) for b in losers] == [1, 2, 3]
    log = allocation.round_log(db.get(AllocationRound, allocation_round.id))
    assert [d["booking_id"] for d in log["decisions"]] == [b.id for b in winners + losers]
    # With equal schools and municipalities, the turns follow the seeded draw.
    assert [d["booking_id"] for d in log["decisions"]] == log["draw"]

    bookings.cancel_booking(db, make_user(db, "coordinator"), winners[0].id, reason="", now=AFTER)
    for booking in losers:
        db.refresh(booking)
    assert [b.status for b in losers] == [BookingStatus.offered, BookingStatus.waitlisted, BookingStatus.waitlisted]


def test_earlier_waiting_list_keeps_its_place_ahead_of_the_round(db):
    offer, (session,), provider = girls_day(db, capacity_classes=1, requires_approval=False)
    request(db, teacher_at(db), session, 20)
    early = bookings.book_session(db, teacher_at(db), BookingIn(session_id=session.id, class_name="6.b", grade=6, pupils=20, waitlist=True), now=NOW)
    allocation_round = opened(db, offer, provider)
    late = request(db, teacher_at(db), session, 20)
    allocation.allocate(db, allocation_round.id, now=AFTER)
    db.refresh(early)
    db.refresh(late)
    assert (early.status, late.status) == (BookingStatus.waitlisted, BookingStatus.waitlisted)
    assert bookings.waitlist_position(db, early) == 1 and bookings.waitlist_position(db, late) == 2


def test_the_run_is_reproducible_from_its_log(db):
    offer, sessions, provider = girls_day(db, capacity_pupils=60, capacity_classes=3, dates=2)
    allocation_round = opened(db, offer, provider)
    for n, municipality in enumerate(["Aarhus", "Herning", "Skive", "Aarhus", "Herning", "Aarhus", "Viborg"] * 2):
        request(db, teacher_at(db, municipality), sessions[n % 2], 15 + n % 10, class_name=f"{n}.a")
    allocation.allocate(db, allocation_round.id, now=AFTER)

    log = json.loads(db.get(AllocationRound, allocation_round.id).log)
    assert log["seed"] == allocation_round.seed
    assert log["draw"] == allocation.draw_order(log["seed"], sorted(r["booking_id"] for r in log["requests"]))
    assert allocation.replay(log) == [(d["booking_id"], d["outcome"]) for d in log["decisions"]]
    outcomes = {d["outcome"] for d in log["decisions"]}
    assert outcomes == {"granted", "full"}
    for decision in log["decisions"]:
        booking = db.get(Booking, decision["booking_id"])
        assert booking.status == decision["status"] and booking.queue_rank == decision["queue_rank"]


def test_the_same_seed_on_the_same_world_gives_the_same_result(db):
    def world():
        offer, (session,), provider = girls_day(db, capacity_classes=3)
        allocation_round = opened(db, offer, provider, seed="same seed")
        for municipality in ["Aarhus", "Aarhus", "Herning", "Skive", "Herning"]:
            request(db, teacher_at(db, municipality), session, 20)
        allocation.allocate(db, allocation_round.id, now=AFTER)
        requests = db.exec(select(Booking).where(Booking.round_id == allocation_round.id).order_by(col(Booking.id))).all()
        return [(b.status, b.queue_rank) for b in requests]

    assert world() == world()


def test_every_teacher_is_told_what_they_got_and_why(db, mailbox, send_outbox):
    offer, (session,), provider = girls_day(db, capacity_classes=1)
    allocation_round = opened(db, offer, provider)
    winner_teacher, loser_teacher = teacher_at(db), teacher_at(db, language="da")
    first = request(db, winner_teacher, session, 20)
    second = request(db, loser_teacher, session, 20)
    send_outbox(NOW)  # each is told the request came in
    allocation.allocate(db, allocation_round.id, now=AFTER)
    db.refresh(first)
    db.refresh(second)
    if first.status != BookingStatus.pending:
        first, second = second, first
        winner_teacher, loser_teacher = loser_teacher, winner_teacher
    for booking in (first, second):
        assert booking.allocation_note and len(booking.allocation_note) <= 500
        assert re.search(r"\b[12]\b", booking.allocation_note)  # its numbers in the draw

    # The page explains it in the viewer's language, from the log's facts.
    with language("en"):
        explained = allocation.explain(db, make_user(db, "admin"), second, now=AFTER)
    assert explained.state == "allocated" and explained.waiting_position == 1 and explained.total == 2
    assert any("waiting list as no. 1" in s for s in explained.sentences)
    assert any("no places this school year" in s for s in explained.sentences)
    assert not any("municipalit" in s for s in explained.sentences)  # all requests came from one

    send_outbox(AFTER)  # and after the draw
    assert len(mailbox.to(winner_teacher.email)) == 2 and len(mailbox.to(loser_teacher.email)) == 2
    told = db.exec(select(Notification).where(Notification.booking_id == second.id, Notification.kind == "allocation_waitlisted")).one()
    assert told.link == f"/bookings/{second.id}/allocation"


def test_a_request_drawn_before_the_worker_told_of_it_is_told_the_result_only(db, mailbox, send_outbox):
    """"Request received, we write to you after the draw" would come after the draw's result."""
    offer, (session,), provider = girls_day(db, capacity_classes=1)
    allocation_round = opened(db, offer, provider)
    teachers = teacher_at(db), teacher_at(db)
    for teacher in teachers:
        request(db, teacher, session, 20)
    allocation.allocate(db, allocation_round.id, now=AFTER)
    send_outbox(AFTER)
    told = sorted([m["Subject"] for m in mailbox.to(teacher.email)] for teacher in teachers)
    assert told == [["Booking received: Girls Day"], ["The draw for Girls Day"]]  # one message each


def test_explanations_before_the_draw_and_for_other_bookings(db):
    offer, (session,), provider = girls_day(db)
    plain = request(db, teacher_at(db), session)
    allocation_round = opened(db, offer, provider)
    teacher = teacher_at(db)
    waiting = request(db, teacher, session)
    assert allocation.explain(db, teacher, waiting, now=NOW).state == "collecting"
    assert allocation.explain(db, teacher, waiting, now=AFTER).state == "drawing"
    assert allocation.explain(db, make_user(db, "coordinator"), plain, now=NOW).state == "none"
    with pytest.raises(NotFound):
        allocation.explain(db, teacher_at(db), waiting, now=NOW)  # another school's booking
    assert allocation_round.status == RoundStatus.open


def test_due_rounds_are_allocated_by_the_job(db):
    offer, (session,), provider = girls_day(db)
    due = opened(db, offer, provider)
    request(db, teacher_at(db), session)
    later_offer, _dates, later_provider = girls_day(db)
    not_due = allocation.open_round(db, later_provider, later_offer.id, CLOSES + timedelta(days=1), now=NOW)
    assert allocation.allocate_due_rounds(db, now=AFTER) == 1
    assert db.get(AllocationRound, due.id).status == RoundStatus.allocated
    assert db.get(AllocationRound, not_due.id).status == RoundStatus.open
    assert allocation.allocate_due_rounds(db, now=AFTER) == 0


def test_the_worker_runs_the_job(tmp_path, settings):
    """The worker's pass, on a database of its own (it opens its own sessions)."""
    engine = make_engine(fresh_database(str(tmp_path / "worker.db")))
    try:
        with Session(engine) as db:
            offer, (session,), provider = girls_day(db)
            opened(db, offer, provider)
            request(db, teacher_at(db), session)
        done = run_once(engine, settings, now=AFTER)
        assert done["allocated"] == 1
        with Session(engine) as db:
            assert db.exec(select(Booking.status)).all() == [BookingStatus.pending]
    finally:
        engine.dispose()


# --- the pages ------------------------------------------------------------------------------------


def test_pages_open_collect_allocate_and_explain(app, client, db, settings):
    client.cookies.set("stem_lang", "en", domain="testserver.local")
    app.dependency_overrides[get_now] = lambda: NOW
    offer, (session,), provider = girls_day(db, capacity_classes=1)
    log_in(client, db, provider, settings)
    assert f"/offers/{offer.id}/rounds" in client.get(f"/offers/{offer.id}").text
    page = client.get(f"/offers/{offer.id}/rounds")
    assert page.status_code == 200 and 'name="closes_on"' in page.text
    refused = post_form(client, f"/offers/{offer.id}/rounds", {"closes_on": "2026-09-01", "closes_time": "12:00"})
    assert refused.status_code == 422 and "future" in refused.text
    opened_page = post_form(client, f"/offers/{offer.id}/rounds", {"closes_on": "2026-10-08", "closes_time": "12:00"})
    assert opened_page.status_code == 303
    allocation_round = allocation.open_round_of(db, offer.id)
    assert allocation_round.closes_at == datetime(2026, 10, 8, 10, 0, tzinfo=UTC)  # Danish summer time

    teachers = [teacher_at(db), teacher_at(db)]
    for n, teacher in enumerate(teachers):
        log_in(client, db, teacher, settings)
        assert "allocated by a draw" in client.get(f"/offers/{offer.id}").text
        booked = post_form(client, f"/sessions/{session.id}/book", {"class_name": f"{n}.a", "grade": "7", "pupils": "20", "adults": "1"})
        assert booked.status_code == 303
    requests = db.exec(select(Booking).where(Booking.round_id == allocation_round.id).order_by(col(Booking.id))).all()
    assert len(requests) == 2
    log_in(client, db, teachers[0], settings)
    assert "Places are allocated by a draw after" in client.get(f"/bookings/{requests[0].id}/allocation").text
    assert client.get(f"/bookings/{requests[1].id}/allocation").status_code == 404  # another school's

    log_in(client, db, provider, settings)
    assert "0.a" in client.get(f"/offers/{offer.id}/rounds").text
    assert post_form(client, f"/offers/{offer.id}/rounds/allocate").status_code == 409  # not yet
    app.dependency_overrides[get_now] = lambda: datetime(2026, 10, 8, 10, 1, tzinfo=UTC)
    assert post_form(client, f"/offers/{offer.id}/rounds/allocate").status_code == 303
    log_page = client.get(f"/offers/{offer.id}/rounds").text
    assert "1 of 2 requests got a place" in log_page and allocation_round.seed in log_page
    assert "Date full: waiting list no. 1" in log_page
    assert "Girls Day" in client.get("/rounds").text

    for teacher, booking in zip(teachers, requests, strict=True):
        log_in(client, db, teacher, settings)
        why = client.get(f"/bookings/{booking.id}/allocation").text
        assert "Your request was drawn as no." in why and "How the draw works" in why


def test_the_database_itself_keeps_one_open_round_per_offer(db):
    offer, _dates, provider = girls_day(db)
    first = opened(db, offer, provider)
    db.add(AllocationRound(offer_id=offer.id, closes_at=first.closes_at, seed="x"))
    with pytest.raises(IntegrityError):
        db.commit()
    db.rollback()
    first.status = RoundStatus.allocated
    db.add(first)
    db.commit()
    db.add(AllocationRound(offer_id=offer.id, closes_at=first.closes_at, seed="y"))
    db.commit()  # a new round once the last one is done


def test_an_error_after_a_rollback_still_shows_its_page_with_the_menu(app, client, db, settings):
    """Running a round before its deadline is refused after a rollback. In production the request's
    session is then closed before the error page is drawn (the app fixture's is not; this one is),
    so the page must not need the logged-in user's expired attributes."""

    def closing_session():
        session = Session(bind=db.connection(), join_transaction_mode="create_savepoint")
        try:
            yield session
        finally:
            session.close()

    offer, _sessions, provider = girls_day(db)
    opened(db, offer, provider)
    coordinator = make_user(db, "coordinator")
    log_in(client, db, coordinator, settings)
    app.dependency_overrides[get_db] = closing_session
    app.dependency_overrides[get_now] = lambda: NOW
    refused = post_form(client, f"/offers/{offer.id}/rounds/allocate")
    assert refused.status_code == 409
    assert "Runden samler tilmeldinger indtil" in refused.text and 'href="/admin/users"' in refused.text  # the message, and the staff's menu
