"""Many people saving at the same moment, against a live server with two workers: each gets their
answer, never a 500. (SQLite refuses at once a transaction that read, then wants to write after
another wrote in between; the app takes SQLite's write lock first for requests that may write.)"""

from concurrent.futures import ThreadPoolExecutor

import httpx
from sqlmodel import Session, func, select

from app.accounts import service as accounts
from app.accounts.models import SessionKind
from app.catalogue.models import Offer
from app.config import Settings
from app.db import make_engine, utcnow
from tests.conftest import TEST_DATABASE_URL, fresh_database, running_portal, worker_database
from tests.factories import make_user


def test_providers_creating_offers_at_once_all_get_them(tmp_path):
    if TEST_DATABASE_URL:
        url = fresh_database(worker_database(TEST_DATABASE_URL, "writes"))
    else:
        url = fresh_database(str(tmp_path / "writes.db"))
    engine = make_engine(url)
    settings = Settings(environment="test")
    with Session(engine) as db:
        tokens = [
            accounts.start_session(db, make_user(db, "provider"), kind=SessionKind.api, now=utcnow(), settings=settings)
            for _ in range(30)
        ]
    try:
        with running_portal(url, workers=2) as base, ThreadPoolExecutor(30) as crowd:

            def create(token: str) -> int:
                body = {"type": "course", "title": "Robotter i 8. klasse"}
                headers = {"Authorization": f"Bearer {token}"}
                return httpx.post(f"{base}/api/v1/offers", json=body, headers=headers, timeout=60).status_code

            answers = list(crowd.map(create, tokens * 4))
        with Session(engine) as db:
            stored = db.exec(select(func.count()).select_from(Offer)).one()
    finally:
        engine.dispose()
    assert answers == [201] * 120
    assert stored == 120
