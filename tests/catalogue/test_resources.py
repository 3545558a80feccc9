"""Resources are never in two overlapping sessions; on-request offers have availability."""

import threading
from datetime import UTC, datetime, time, timedelta

import pytest
from sqlmodel import Session, select

from app.accounts.models import Organisation, User
from app.catalogue import resources
from app.catalogue import service as catalogue
from app.catalogue.models import Offer, OfferSession, ResourceKind, SessionResource
from app.catalogue.schemas import OfferCreate
from app.errors import Conflict, InvalidInput, NotFound
from tests.factories import log_in, make_user, post_form

NOW = datetime(2026, 9, 1, 8, 0, tzinfo=UTC)


def session_at(db, offer, hours_from_now: int, length: int = 3) -> OfferSession:
    starts = NOW + timedelta(days=30, hours=hours_from_now)
    session = OfferSession(
        offer_id=offer.id,
        starts_at=starts,
        ends_at=starts + timedelta(hours=length),
        capacity_pupils=20,
    )
    db.add(session)
    db.commit()
    return session


def test_a_resource_cannot_be_in_two_overlapping_sessions(db):
    provider = make_user(db, "provider")
    offer = catalogue.create_offer(
        db, provider, OfferCreate(type="course", title="Robotter"), now=NOW
    )
    other_offer = catalogue.create_offer(
        db, provider, OfferCreate(type="course", title="Droner"), now=NOW
    )
    lab = resources.create_resource(db, provider, name="Lab 2", kind=ResourceKind.room)
    first = session_at(db, offer, 0)
    overlapping = session_at(db, other_offer, 1, length=1)
    later = session_at(db, other_offer, 3)  # starts when the first ends: no clash

    resources.attach_resource(db, provider, first.id, lab.id)
    with pytest.raises(Conflict) as clash:
        resources.attach_resource(db, provider, overlapping.id, lab.id)
    assert "Lab 2" in clash.value.message and "Robotter" in clash.value.message
    resources.attach_resource(db, provider, later.id, lab.id)
    assert set(resources.resources_by_session(db, [first.id, later.id])) == {first.id, later.id}

    catalogue.cancel_session(db, provider, first.id, now=NOW)
    resources.attach_resource(db, provider, overlapping.id, lab.id)  # a cancelled session frees it


def test_resources_belong_to_their_provider(db):
    provider = make_user(db, "provider")
    lab = resources.create_resource(db, provider, name="Lab", kind=ResourceKind.room)
    stranger = make_user(db, "provider")
    with pytest.raises(NotFound):
        resources.delete_resource(db, stranger, lab.id)
    with pytest.raises(InvalidInput):
        resources.create_resource(db, provider, name="  ", kind=ResourceKind.person)


def test_availability_windows_and_travel_areas(db):
    provider = make_user(db, "provider")
    expert = catalogue.create_offer(
        db, provider, OfferCreate(type="expert", title="Ingeniør", lead_days=10), now=NOW
    )
    course = catalogue.create_offer(
        db, provider, OfferCreate(type="course", title="Kursus"), now=NOW
    )
    resources.add_window(db, provider, expert.id, weekday=1, starts=time(9), ends=time(12))
    with pytest.raises(InvalidInput):
        resources.add_window(db, provider, expert.id, weekday=2, starts=time(12), ends=time(9))
    with pytest.raises(InvalidInput):
        resources.add_window(db, provider, course.id, weekday=2, starts=time(9), ends=time(12))
    resources.set_travel_areas(db, provider, expert.id, ["Aarhus", "Odder", "Aarhus"])
    with pytest.raises(InvalidInput):
        resources.set_travel_areas(db, provider, expert.id, ["Odense"])
    windows, areas = resources.availability(db, expert.id)
    assert [(w.weekday, w.starts) for w in windows] == [(1, time(9))] and areas == [
        "Aarhus",
        "Odder",
    ]


def test_clash_is_explained_on_the_page(client, db, settings):
    provider = make_user(db, "provider")
    offer = catalogue.create_offer(
        db, provider, OfferCreate(type="course", title="Robotter"), now=NOW
    )
    lab = resources.create_resource(db, provider, name="Lab 2", kind=ResourceKind.room)
    first, second = session_at(db, offer, 0), session_at(db, offer, 1)
    resources.attach_resource(db, provider, first.id, lab.id)
    log_in(client, db, provider, settings)
    response = post_form(
        client, f"/provider/sessions/{second.id}/resources", {"resource_id": str(lab.id)}
    )
    assert response.status_code == 409 and "Lab 2" in response.text and "Robotter" in response.text


def test_a_name_too_long_for_a_resource_says_so(client, db, settings):
    provider = make_user(db, "provider")
    log_in(client, db, provider, settings)
    refused = post_form(client, "/provider/resources", {"kind": "person", "name": "x" * 201})
    assert refused.status_code == 422
    assert '<a href="#name">Navn: Brug højst 200 tegn.</a>' in refused.text
    assert resources.list_resources(db, provider) == []
    assert post_form(client, "/provider/resources", {"kind": "person", "name": "x" * 200}).status_code == 303


def test_concurrent_attachments_of_one_resource_let_only_one_win(engine):
    """Two providers' staff attach the same room to overlapping sessions at the same moment, on
    separate connections with committed data: exactly one may succeed."""
    with Session(engine) as setup:
        provider = make_user(setup, "provider")
        offer = catalogue.create_offer(
            setup, provider, OfferCreate(type="course", title="Samtidig"), now=NOW
        )
        lab = resources.create_resource(setup, provider, name="Fælleslab", kind=ResourceKind.room)
        sessions = [session_at(setup, offer, 0).id, session_at(setup, offer, 1).id]
        provider_id, lab_id, offer_id, organisation_id = (
            provider.id,
            lab.id,
            offer.id,
            provider.organisation_id,
        )
    barrier = threading.Barrier(2)
    outcomes: list[str] = []

    def attach(session_id: int) -> None:
        with Session(engine) as db:
            actor = db.get(User, provider_id)
            barrier.wait()
            try:
                resources.attach_resource(db, actor, session_id, lab_id)
                outcomes.append("attached")
            except Conflict:
                outcomes.append("clash")

    threads = [threading.Thread(target=attach, args=(s,)) for s in sessions]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    try:
        assert sorted(outcomes) == ["attached", "clash"]
        with Session(engine) as db:
            assert (
                len(
                    db.exec(
                        select(SessionResource).where(SessionResource.resource_id == lab_id)
                    ).all()
                )
                == 1
            )
    finally:
        with Session(engine) as db:  # committed data: clean up, children first
            for model, model_id in (
                (Offer, offer_id),
                (resources.Resource, lab_id),
                (User, provider_id),
                (Organisation, organisation_id),
            ):
                db.delete(db.get(model, model_id))
                db.commit()


def test_an_expert_offer_names_who_goes_on_its_visits(db):
    provider = make_user(db, "provider")
    expert = catalogue.create_offer(db, provider, OfferCreate(type="expert", title="Ingeniør"), now=NOW)
    course = catalogue.create_offer(db, provider, OfferCreate(type="course", title="Kursus"), now=NOW)
    anna = resources.create_resource(db, provider, name="Anna, ingeniør", kind=ResourceKind.person)
    resources.set_offer_resources(db, provider, expert.id, [anna.id, anna.id])
    assert [r.name for r in resources.offer_resources(db, expert.id)] == ["Anna, ingeniør"]
    with pytest.raises(InvalidInput):
        resources.set_offer_resources(db, provider, course.id, [anna.id])
    stranger = make_user(db, "provider")
    foreign = resources.create_resource(db, stranger, name="Fremmed", kind=ResourceKind.person)
    with pytest.raises(NotFound):
        resources.set_offer_resources(db, provider, expert.id, [foreign.id])
