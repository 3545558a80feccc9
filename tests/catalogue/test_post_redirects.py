"""Post/Redirect/Get on every catalogue page: a form that worked answers 303 to a page, so reloading
that page shows it again instead of posting anew (or a 405 on a POST-only address). The provider's
date forms also share one default booking deadline."""

from dataclasses import dataclass
from datetime import time, timedelta

import pytest
from fastapi.routing import APIRoute
from sqlmodel import col, select

from app.catalogue import pages, resources, saved_searches
from app.catalogue import service as catalogue
from app.catalogue.models import OfferSession, ResourceKind, SchoolHoliday
from app.catalogue.schemas import OfferCreate, SessionIn
from app.db import utcnow
from app.i18n import TIMEZONE
from tests.factories import csrf, future_weekday, log_in, make_provider, make_user, post_form


@dataclass
class World:
    provider: object
    teacher: object
    coordinator: object
    offer: object
    expert: object
    session: object
    resource: object
    attached: object
    window: object
    search: object
    holiday: object


@pytest.fixture
def world(db):
    now = utcnow()
    provider = make_user(db, "provider", organisation=make_provider(db, municipality="Aarhus"))
    offer = catalogue.create_offer(db, provider, OfferCreate(type="course", title="Robotter", status="published"), now=now)
    expert = catalogue.create_offer(db, provider, OfferCreate(type="expert", title="Ekspert", lead_days=5), now=now)
    starts = future_weekday(40)
    session = catalogue.add_session(
        db, provider, offer.id, SessionIn(starts_at=starts, ends_at=starts + timedelta(hours=3), capacity_pupils=20), now=now
    )
    resource = resources.create_resource(db, provider, name="Lokale 1", kind=ResourceKind.room)
    attached = resources.create_resource(db, provider, name="Robotsæt", kind=ResourceKind.equipment)
    resources.attach_resource(db, provider, session.id, attached.id)
    window = resources.add_window(db, provider, expert.id, weekday=2, starts=time(9), ends=time(12))
    teacher = make_user(db, "teacher")
    search = saved_searches.save_search(db, teacher, name="Robotter", query="q=robot", now=now)
    holiday = SchoolHoliday(name="Lokal dag", municipality="Aarhus", starts_on=starts.date(), ends_on=starts.date())
    db.add(holiday)
    db.commit()
    return World(provider, teacher, make_user(db, "coordinator"), offer, expert, session, resource, attached, window, search, holiday)


def offer_form(title: str) -> dict:
    return {"type": "course", "title": title, "grade_min": "4", "grade_max": "9", "format": "at_provider",
            "language": "da", "cancellation_weekdays": "10", "waitlist_offer_hours": "48"}


def date_form(starts) -> dict:
    return {"date": starts.date().isoformat(), "starts": "09:00", "ends": "12:00", "capacity_pupils": "24"}


def weekly_form(starts) -> dict:
    return {"weekdays": str(starts.weekday()), "starts": "09:00", "ends": "12:00", "days": "1",
            "first_date": (starts + timedelta(days=7)).date().isoformat(),
            "last_date": (starts + timedelta(days=21)).date().isoformat(), "every_weeks": "1", "capacity_pupils": "24"}


# Every POST page of the catalogue: who posts, to where, what (a form that works).
SUCCESSES = {
    "/provider/offers/new": lambda w: ("provider", "/provider/offers/new", offer_form("Nyt")),
    "/provider/offers/{offer_id}/duplicate": lambda w: ("provider", f"/provider/offers/{w.offer.id}/duplicate", {}),
    "/provider/offers/{offer_id}/edit": lambda w: ("provider", f"/provider/offers/{w.offer.id}/edit", offer_form("Robotter 2")),
    "/provider/offers/{offer_id}/status": lambda w: ("provider", f"/provider/offers/{w.offer.id}/status", {"status": "unpublished"}),
    "/provider/offers/{offer_id}/picture": lambda w: ("provider", f"/provider/offers/{w.offer.id}/picture", {"alt_text": "En robot"}),
    "/provider/offers/{offer_id}/sessions": lambda w: (
        "provider", f"/provider/offers/{w.offer.id}/sessions", date_form(w.session.starts_at + timedelta(days=7))),
    "/provider/sessions/{session_id}/edit": lambda w: (
        "provider", f"/provider/sessions/{w.session.id}/edit", {**date_form(w.session.starts_at.astimezone(TIMEZONE)), "open_on_holiday": "on"}),
    "/provider/offers/{offer_id}/sessions/recurring": lambda w: (
        "provider", f"/provider/offers/{w.offer.id}/sessions/recurring", weekly_form(w.session.starts_at.astimezone(TIMEZONE))),
    "/provider/sessions/{session_id}/cancel": lambda w: ("provider", f"/provider/sessions/{w.session.id}/cancel", {}),
    "/catalogue/saved": lambda w: ("teacher", "/catalogue/saved", {"name": "Kemi", "query": "q=kemi"}),
    "/catalogue/saved/{search_id}/delete": lambda w: ("teacher", f"/catalogue/saved/{w.search.id}/delete", {}),
    "/admin/holidays": lambda w: ("coordinator", "/admin/holidays", {
        "name": "Fridag", "starts_on": (w.holiday.starts_on + timedelta(days=1)).isoformat(),
        "ends_on": (w.holiday.starts_on + timedelta(days=1)).isoformat()}),
    "/admin/holidays/standard": lambda w: ("coordinator", "/admin/holidays/standard", {"school_year": str(_school_year())}),
    "/admin/holidays/{holiday_id}/delete": lambda w: ("coordinator", f"/admin/holidays/{w.holiday.id}/delete", {}),
    "/provider/resources": lambda w: ("provider", "/provider/resources", {"name": "Lokale 2", "kind": "room"}),
    "/provider/resources/{resource_id}/delete": lambda w: ("provider", f"/provider/resources/{w.resource.id}/delete", {}),
    "/provider/sessions/{session_id}/resources": lambda w: (
        "provider", f"/provider/sessions/{w.session.id}/resources", {"resource_id": str(w.resource.id)}),
    "/provider/sessions/{session_id}/resources/{resource_id}/delete": lambda w: (
        "provider", f"/provider/sessions/{w.session.id}/resources/{w.attached.id}/delete", {}),
    "/provider/offers/{offer_id}/availability": lambda w: (
        "provider", f"/provider/offers/{w.expert.id}/availability", {"weekday": "3", "starts": "09:00", "ends": "12:00"}),
    "/provider/availability/{window_id}/delete": lambda w: ("provider", f"/provider/availability/{w.window.id}/delete", {}),
    "/provider/offers/{offer_id}/travel-areas": lambda w: (
        "provider", f"/provider/offers/{w.expert.id}/travel-areas", {"municipalities": ["Aarhus", "Skive"]}),
    "/provider/offers/{offer_id}/resources": lambda w: (
        "provider", f"/provider/offers/{w.expert.id}/resources", {"resource_ids": [str(w.resource.id)]}),
}


def _school_year() -> int:
    today = utcnow().astimezone(TIMEZONE).date()
    return today.year if today.month >= 8 else today.year - 1


def test_every_post_page_of_the_catalogue_is_listed_here():
    posts = {r.path for r in pages.router.routes if isinstance(r, APIRoute) and "POST" in r.methods}
    assert posts == set(SUCCESSES)


@pytest.mark.parametrize("route", sorted(SUCCESSES))
def test_a_post_that_works_redirects_to_a_page_that_reloads(client, db, settings, world, route):
    role, url, data = SUCCESSES[route](world)
    log_in(client, db, getattr(world, role), settings)
    if route.endswith("/picture"):
        png = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64
        response = client.post(url, data={**data, "csrf_token": csrf(client)}, files={"picture": ("x.png", png, "image/png")})
    else:
        response = post_form(client, url, data)
    assert response.status_code == 303, response.text[-2000:]
    target = response.headers["location"]
    assert target.startswith("/")
    reloaded = client.get(target)
    assert reloaded.status_code == 200
    assert 'role="status"' in reloaded.text  # says what happened


def test_the_weekly_rule_redirects_with_how_many_dates_and_which_were_skipped(client, db, settings, world):
    log_in(client, db, world.provider, settings)
    starts = world.session.starts_at.astimezone(TIMEZONE)
    form = {**weekly_form(starts), "first_date": starts.date().isoformat()}  # the first is the local holiday
    response = post_form(client, f"/provider/offers/{world.offer.id}/sessions/recurring", form)
    assert response.status_code == 303
    page = client.get(response.headers["location"])
    assert "Datoerne er tilføjet." in page.text
    assert "Lokal dag" in page.text and "Disse datoer blev sprunget over" in page.text
    # Reloading the address shows the same page again.
    assert client.get(response.headers["location"]).status_code == 200
    one = post_form(client, f"/provider/offers/{world.offer.id}/sessions", date_form(starts + timedelta(days=28)))
    assert "Datoen er tilføjet." in client.get(one.headers["location"]).text


def test_a_date_by_hand_and_the_weekly_rule_get_the_same_default_deadline(client, db, settings, world):
    log_in(client, db, world.provider, settings)
    starts = world.session.starts_at.astimezone(TIMEZONE) + timedelta(days=7)
    by_hand = post_form(client, f"/provider/offers/{world.offer.id}/sessions", {**date_form(starts), "deadline": ""})
    assert by_hand.status_code == 303
    rule = {**weekly_form(starts), "first_date": (starts + timedelta(days=7)).date().isoformat(), "deadline_days": ""}
    assert post_form(client, f"/provider/offers/{world.offer.id}/sessions/recurring", rule).status_code == 303
    made = db.exec(
        select(OfferSession).where(OfferSession.offer_id == world.offer.id, col(OfferSession.id) != world.session.id)
    ).all()
    assert len(made) >= 3
    week = timedelta(days=catalogue.DEFAULT_DEADLINE_DAYS)
    assert all(s.booking_deadline == s.starts_at.astimezone(TIMEZONE) - week for s in made)
    # A deadline the provider writes is kept.
    chosen = (starts + timedelta(days=35)).date()
    post_form(client, f"/provider/offers/{world.offer.id}/sessions",
              {**date_form(starts + timedelta(days=42)), "deadline": chosen.isoformat()})
    last = db.exec(select(OfferSession).where(OfferSession.offer_id == world.offer.id).order_by(col(OfferSession.starts_at).desc())).first()
    assert last.booking_deadline.astimezone(TIMEZONE).date() == chosen


def test_the_copy_of_an_offer_opens_in_its_edit_form(client, db, settings, world):
    log_in(client, db, world.provider, settings)
    page = client.get(f"/offers/{world.offer.id}")
    assert f'action="/provider/offers/{world.offer.id}/duplicate"' in page.text
    response = post_form(client, f"/provider/offers/{world.offer.id}/duplicate")
    assert response.status_code == 303
    edit = client.get(response.headers["location"])
    assert 'value="Kopi af Robotter"' in edit.text and "Dette er en kopi af tilbuddet" in edit.text
    copy_id = int(response.headers["location"].split("/")[3])
    assert catalogue.sessions_of(db, copy_id, now=utcnow(), include_past=True) == []
