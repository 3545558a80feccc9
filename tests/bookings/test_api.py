"""POST /api/v1/bookings: the token's teacher, a booking already made with the same key, and the
session are read together (bookings.service.book_session_with_token); each answer still comes
out as the general rules say."""

import pytest

from app.catalogue.models import OfferStatus
from app.deps import get_now
from tests.bookings.conftest import NOW
from tests.factories import api_headers, make_user


@pytest.fixture
def fixed_clock(app):
    app.dependency_overrides[get_now] = lambda: NOW


def body(session, **changes) -> dict:
    return {"session_id": session.id, "class_name": "7.a", "grade": 7, "pupils": 20, **changes}


def test_a_teacher_books_through_the_api(client, db, settings, world, fixed_clock):
    _offer, session, teachers = world
    headers = api_headers(db, teachers[0], settings)
    made = client.post("/api/v1/bookings", headers=headers, json=body(session))
    assert made.status_code == 201
    booking = made.json()
    assert (booking["status"], booking["pupils"], booking["session_id"]) == ("pending", 20, session.id)
    assert client.get(f"/api/v1/bookings/{booking['id']}", headers=headers).json()["id"] == booking["id"]


def test_only_a_token_of_a_teacher_books(client, db, settings, world, fixed_clock):
    _offer, session, _teachers = world
    provider = make_user(db, "provider")
    without = client.post("/api/v1/bookings", json=body(session))
    unknown = client.post("/api/v1/bookings", headers={"Authorization": "Bearer no-such-token"}, json=body(session))
    as_provider = client.post("/api/v1/bookings", headers=api_headers(db, provider, settings), json=body(session))
    assert without.status_code == unknown.status_code == 401
    assert unknown.headers["www-authenticate"] == "Bearer"
    assert as_provider.status_code == 403 and as_provider.json()["detail"] == "Only teachers can book."


def test_a_session_that_does_not_exist_or_breaks_the_offers_rules_is_named(client, db, settings, world, fixed_clock):
    _offer, session, teachers = world
    headers = api_headers(db, teachers[0], settings)
    missing = client.post("/api/v1/bookings", headers=headers, json=body(session, session_id=999_999))
    too_many = client.post("/api/v1/bookings", headers=headers, json=body(session, pupils=31))  # the offer takes 30
    assert missing.status_code == 404 and missing.json()["detail"] == "No such session."
    assert too_many.status_code == 422 and too_many.json()["detail"][0]["loc"] == ["body", "pupils"]


def test_a_key_sent_again_answers_with_the_first_booking_even_after_the_offer_changed(client, db, settings, world, fixed_clock):
    offer, session, teachers = world
    headers = {**api_headers(db, teachers[0], settings), "Idempotency-Key": "form-1"}
    first = client.post("/api/v1/bookings", headers=headers, json=body(session))
    offer.status = OfferStatus.unpublished  # a retry must still learn what its first try did
    db.add(offer)
    db.commit()
    again = client.post("/api/v1/bookings", headers=headers, json=body(session))
    other_body = client.post("/api/v1/bookings", headers=headers, json=body(session, pupils=21))
    fresh_key = client.post("/api/v1/bookings", headers={**headers, "Idempotency-Key": "form-2"}, json=body(session))
    assert first.status_code == again.status_code == 201 and again.json()["id"] == first.json()["id"]
    assert other_body.status_code == 409
    assert other_body.json()["detail"] == "This request key was already used for a different booking."
    assert fresh_key.status_code == 404  # a new request meets the unpublished offer
    listed = client.get("/api/v1/bookings", headers=headers).json()
    assert listed["total"] == 1


def test_true_is_not_a_number(client, db, settings, world, fixed_clock):
    _offer, session, teachers = world
    headers = api_headers(db, teachers[0], settings)
    for field in ("pupils", "grade", "session_id", "girls", "adults"):
        refused = client.post("/api/v1/bookings", headers=headers, json=body(session, **{field: True}))
        assert refused.status_code == 422, (field, refused.text)
        assert [(e["loc"], e["type"]) for e in refused.json()["detail"]] == [(["body", field], "int_type")]
    assert client.get("/api/v1/bookings", headers=headers).json()["total"] == 0
