"""Many people saving at the same moment, against a live server with two workers: each gets their
answer, never a 500. PostgreSQL saves them all. SQLite lets one write at a time and refuses at
once a transaction that read and then writes after another wrote in between: those are told
"busy, try again" (503, Retry-After), and nothing of them is saved."""

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

BUSY = (503, "5", "Many are using the portal right now. Please try again in a moment.")


def test_providers_creating_offers_at_once_get_them_or_are_told_to_try_again(tmp_path):
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

            def create(token: str) -> tuple:
                body = {"type": "course", "title": "Robotter i 8. klasse"}
                answer = httpx.post(f"{base}/api/v1/offers", json=body, headers={"Authorization": f"Bearer {token}"}, timeout=60)
                if answer.status_code == 201:
                    return (201,)
                return answer.status_code, answer.headers.get("retry-after"), answer.json().get("detail")

            answers = list(crowd.map(create, tokens * 4))
        with Session(engine) as db:
            stored = db.exec(select(func.count()).select_from(Offer)).one()
    finally:
        engine.dispose()
    assert set(answers) <= {(201,), BUSY}
    assert stored == answers.count((201,))
    if TEST_DATABASE_URL:
        assert stored == 120
