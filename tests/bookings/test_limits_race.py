"""A capacity pool is never overbooked under concurrent requests: many teachers book two dates that
share one pool at the same moment, through the HTTP API of a live server (uvicorn, two worker
processes) on the test database (SQLite, or PostgreSQL when TEST_DATABASE_URL is set)."""

from datetime import timedelta

import httpx
import pytest
from sqlmodel import Session

from app.accounts import service as accounts
from app.accounts.models import SessionKind
from app.bookings import limits
from app.bookings.models import CapacityPool, CapacityPoolSession
from app.catalogue.models import Offer, OfferSession, OfferStatus, OfferType
from app.config import Settings
from app.db import make_engine, utcnow
from tests.bookings.test_concurrency import all_at_once
from tests.conftest import TEST_DATABASE_URL, fresh_database, running_portal, worker_database
from tests.factories import make_provider, make_school, make_user

TEACHERS = 30


@pytest.fixture(scope="module")
def live(tmp_path_factory):
    if TEST_DATABASE_URL:
        url = fresh_database(worker_database(TEST_DATABASE_URL, "pools"))
    else:
        url = fresh_database(str(tmp_path_factory.mktemp("pools") / "pools.db"))
    engine = make_engine(url)
    try:
        with running_portal(url, workers=2) as base:
            yield base, engine
    finally:
        engine.dispose()


def pooled_dates(engine, *, pupils: int | None, classes: int | None) -> tuple[int, list[int], list[str]]:
    """Two roomy dates of one offer sharing a pool, and bearer tokens of TEACHERS teachers, each at
    their own school."""
    settings = Settings(environment="test")
    with Session(engine) as db:
        provider = make_provider(db)
        offer = Offer(provider_id=provider.id, type=OfferType.course, status=OfferStatus.published, title="Robotter",
                      grade_min=0, grade_max=10, municipality="Aarhus", requires_approval=False)
        db.add(offer)
        db.flush()
        starts = utcnow() + timedelta(days=60)
        sessions = [
            OfferSession(offer_id=offer.id, starts_at=starts + timedelta(days=d), ends_at=starts + timedelta(days=d, hours=3),
                         capacity_pupils=1000)
            for d in (0, 1)
        ]
        pool = CapacityPool(provider_id=provider.id, name="Uge 45", capacity_pupils=pupils, capacity_classes=classes)
        db.add_all([*sessions, pool])
        db.flush()
        db.add_all([CapacityPoolSession(pool_id=pool.id, session_id=s.id) for s in sessions])
        db.commit()
        tokens = [
            accounts.start_session(db, make_user(db, "teacher", organisation=make_school(db)), kind=SessionKind.api,
                                   now=utcnow(), settings=settings)
            for _ in range(TEACHERS)
        ]
        return pool.id, [s.id for s in sessions], tokens


@pytest.mark.parametrize(("pupils", "classes", "held"), [(100, None, (100, 5)), (None, 3, (60, 3))])
def test_a_crowd_booking_two_dates_never_overbooks_their_pool(live, pupils, classes, held):
    base, engine = live
    pool_id, session_ids, tokens = pooled_dates(engine, pupils=pupils, classes=classes)

    def booking(token, session_id):
        return lambda: httpx.post(
            f"{base}/api/v1/bookings",
            json={"session_id": session_id, "class_name": "8.x", "grade": 8, "pupils": 20},
            headers={"Authorization": f"Bearer {token}"},
            timeout=30,
        )

    answers = all_at_once([booking(t, session_ids[n % 2]) for n, t in enumerate(tokens)])
    codes = sorted(r.status_code for r in answers)
    assert set(codes) <= {201, 409}, [r.text for r in answers if r.status_code not in (201, 409)]
    assert codes.count(201) == held[1], codes
    with Session(engine) as db:
        assert limits.pool_holdings(db, [pool_id], now=utcnow()) == {pool_id: held}
