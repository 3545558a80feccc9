"""Seats are never overbooked under concurrent requests: many teachers book one session at the same
moment through the HTTP API of a live server (uvicorn, two worker processes) on the test database
(PostgreSQL in CI's second run, SQLite in the first)."""

import threading
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta
from pathlib import Path

import httpx
import pytest
from sqlmodel import Session, select

from app.accounts import service as accounts
from app.accounts.models import SessionKind
from app.bookings.models import Booking
from app.catalogue.models import Offer, OfferSession, OfferStatus, OfferType
from app.config import Settings
from app.db import make_engine, utcnow
from tests.conftest import TEST_DATABASE_URL, fresh_database, running_portal, worker_database
from tests.factories import make_provider, make_school, make_user

ROOT = Path(__file__).resolve().parents[2]
TEACHERS = 40


@pytest.fixture(scope="module")
def live(tmp_path_factory):
    if TEST_DATABASE_URL:
        url = fresh_database(worker_database(TEST_DATABASE_URL, "live"))
    else:
        url = fresh_database(str(tmp_path_factory.mktemp("live") / "live.db"))
    engine = make_engine(url)
    try:
        with running_portal(url, workers=2) as base:
            yield base, engine
    finally:
        engine.dispose()


def popular_session(
    engine, *, capacity: int, requires_approval: bool = False
) -> tuple[int, list[str]]:
    """A published session and bearer tokens of TEACHERS teachers, each at their own school."""
    settings = Settings(environment="test")
    with Session(engine) as db:
        provider = make_provider(db)
        offer = Offer(
            provider_id=provider.id,
            type=OfferType.girls_day,
            status=OfferStatus.published,
            title="Girls Day",
            grade_min=0,
            grade_max=13,
            municipality="Aarhus",
            requires_approval=requires_approval,
            girls_only=True,
        )
        db.add(offer)
        db.flush()
        starts = utcnow() + timedelta(days=60)
        session = OfferSession(
            offer_id=offer.id,
            starts_at=starts,
            ends_at=starts + timedelta(hours=4),
            capacity_pupils=capacity,
        )
        db.add(session)
        db.commit()
        tokens = []
        for _ in range(TEACHERS):
            teacher = make_user(db, "teacher", organisation=make_school(db))
            tokens.append(
                accounts.start_session(
                    db, teacher, kind=SessionKind.api, now=utcnow(), settings=settings
                )
            )
        return session.id, tokens


def all_at_once(requests):
    """Run the callables together, released by one barrier, and return their answers."""
    barrier = threading.Barrier(len(requests))

    def run(request):
        barrier.wait()
        return request()

    with ThreadPoolExecutor(len(requests)) as pool:
        return list(pool.map(run, requests))


def test_a_flash_crowd_never_overbooks(live):
    base, engine = live
    session_id, tokens = popular_session(engine, capacity=100)
    body = {"session_id": session_id, "class_name": "8.x", "grade": 8, "pupils": 24, "girls": 24}

    def booking(token):
        return lambda: httpx.post(
            f"{base}/api/v1/bookings",
            json=body,
            headers={"Authorization": f"Bearer {token}"},
            timeout=30,
        )

    answers = all_at_once([booking(t) for t in tokens])
    codes = sorted(r.status_code for r in answers)
    assert codes.count(201) == 4, codes  # 4 × 24 = 96 ≤ 100 < 5 × 24
    assert set(codes) <= {201, 409, 503}, codes
    session = httpx.get(f"{base}/api/v1/sessions/{session_id}").json()
    assert session["held_pupils"] == 96 <= session["capacity_pupils"]
    with Session(engine) as db:
        assert (
            sum(b.pupils for b in db.exec(select(Booking).where(Booking.session_id == session_id)))
            == 96
        )


def test_a_double_click_books_once(live):
    base, engine = live
    session_id, tokens = popular_session(engine, capacity=500)
    headers = {"Authorization": f"Bearer {tokens[0]}", "Idempotency-Key": "double-click-1"}
    body = {"session_id": session_id, "class_name": "6.a", "grade": 6, "pupils": 20, "girls": 20}
    answers = all_at_once(
        [lambda: httpx.post(f"{base}/api/v1/bookings", json=body, headers=headers, timeout=30)] * 10
    )
    assert {r.status_code for r in answers} == {201}
    assert len({r.json()["id"] for r in answers}) == 1
    different = httpx.post(
        f"{base}/api/v1/bookings", json={**body, "pupils": 21, "girls": 21}, headers=headers
    )
    assert different.status_code == 409


def test_cancellations_and_waiting_list_under_load(live):
    """Half the teachers book or queue while the other half's bookings are cancelled: the seats
    held never exceed the capacity, and the waiting list is served."""
    base, engine = live
    session_id, tokens = popular_session(engine, capacity=60)
    body = {"session_id": session_id, "class_name": "9.a", "grade": 9, "pupils": 20, "girls": 20}
    first = [
        httpx.post(f"{base}/api/v1/bookings", json=body, headers={"Authorization": f"Bearer {t}"})
        for t in tokens[:3]
    ]
    assert [r.status_code for r in first] == [201, 201, 201]

    def queue(token):
        return lambda: httpx.post(
            f"{base}/api/v1/bookings",
            json={**body, "waitlist": True},
            headers={"Authorization": f"Bearer {token}"},
            timeout=30,
        )

    def cancel(token, booking_id):
        return lambda: httpx.post(
            f"{base}/api/v1/bookings/{booking_id}/cancel",
            json={"reason": ""},
            headers={"Authorization": f"Bearer {token}"},
            timeout=30,
        )

    answers = all_at_once(
        [queue(t) for t in tokens[3:13]]
        + [cancel(t, r.json()["id"]) for t, r in zip(tokens[:3], first, strict=True)]
    )
    assert all(r.status_code in (200, 201) for r in answers), [
        r.text for r in answers if r.status_code >= 300
    ]
    session = httpx.get(f"{base}/api/v1/sessions/{session_id}").json()
    assert session["held_pupils"] == 60  # the three freed places went to the queue
    assert session["waiting"] == 7


def test_one_class_is_never_in_two_overlapping_activities_booked_at_once(live):
    base, engine = live
    first_session, tokens = popular_session(engine, capacity=500)
    with Session(engine) as db:
        first = db.get(OfferSession, first_session)
        other = OfferSession(
            offer_id=first.offer_id,
            starts_at=first.starts_at + timedelta(hours=1),
            ends_at=first.ends_at + timedelta(hours=1),
            capacity_pupils=500,
        )
        db.add(other)
        db.commit()
        second_session = other.id
    for trial, token in enumerate(tokens[:5]):
        body = {"class_name": f"7.{trial}", "grade": 7, "pupils": 20, "girls": 20}
        answers = all_at_once(
            [
                lambda s=s, b=body, t=token: httpx.post(
                    f"{base}/api/v1/bookings",
                    json={**b, "session_id": s},
                    headers={"Authorization": f"Bearer {t}"},
                    timeout=30,
                )
                for s in (first_session, second_session)
            ]
        )
        assert sorted(r.status_code for r in answers) == [201, 409], [r.text for r in answers]
