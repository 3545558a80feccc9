"""The offer's waiting-list settings, chosen by its provider: whether a later class that fits may
pass the head of the list that does not (`waitlist_may_pass`), and how many hours a freed place is
held for a waiting class (`waitlist_offer_hours`); set in the offer form and the API, and honoured
when the waiting list moves."""

import re
from datetime import timedelta

import pytest
from sqlmodel import func, select

from app.bookings import service as bookings
from app.bookings.models import BookingStatus
from app.bookings.schemas import BookingIn
from app.catalogue.models import Offer
from app.db import utcnow
from tests.factories import api_headers, error_summary, future_weekday, log_in, make_user, post_form

OFFER_FORM = {
    "type": "course",
    "title": "Vandrensning",
    "grade_min": "4",
    "grade_max": "9",
    "format": "at_provider",
    "language": "da",
    "cancellation_weekdays": "10",
}
HOURS_LABEL = "Timer en ledig plads holdes til en klasse fra ventelisten"
BAD_HOURS = [
    ("0", "Skriv et tal på mindst 1."),
    ("10000", "Skriv et tal på højst 336."),
    ("abc", "Skriv et helt tal."),
]


def offer_count(db) -> int:
    return db.exec(select(func.count()).select_from(Offer)).one()


def created_offer(db, response) -> Offer:
    assert response.status_code == 303, response.text
    offer = db.get(Offer, int(response.headers["location"].split("/")[3]))
    db.refresh(offer)
    return offer


# --- the offer form ------------------------------------------------------------------------------


def test_the_offer_form_sets_the_waiting_list_settings(client, db, settings):
    log_in(client, db, make_user(db, "provider"), settings)
    blank = client.get("/provider/offers/new").text
    # A new offer starts from the model's defaults: passing allowed, 48 hours.
    assert re.search(r'<input id="waitlist_may_pass"[^>]* checked', blank)
    assert re.search(r'<input id="waitlist_offer_hours"[^>]* value="48"', blank)
    assert HOURS_LABEL in blank

    ticked = created_offer(
        db,
        post_form(
            client,
            "/provider/offers/new",
            {**OFFER_FORM, "waitlist_may_pass": "1", "waitlist_offer_hours": "12"},
        ),
    )
    assert (ticked.waitlist_may_pass, ticked.waitlist_offer_hours) == (True, 12)

    # An unchecked box sends nothing, which means no.
    unticked = created_offer(
        db, post_form(client, "/provider/offers/new", {**OFFER_FORM, "waitlist_offer_hours": "24"})
    )
    assert (unticked.waitlist_may_pass, unticked.waitlist_offer_hours) == (False, 24)


def test_editing_an_offer_changes_its_waiting_list_settings_and_its_page_tells_teachers(
    client, db, settings
):
    log_in(client, db, make_user(db, "provider"), settings)
    offer = created_offer(
        db,
        post_form(
            client,
            "/provider/offers/new",
            {**OFFER_FORM, "waitlist_may_pass": "1", "waitlist_offer_hours": "12"},
        ),
    )
    form = client.get(f"/provider/offers/{offer.id}/edit").text
    assert re.search(r'<input id="waitlist_may_pass"[^>]* checked', form)
    assert re.search(r'<input id="waitlist_offer_hours"[^>]* value="12"', form)
    page = client.get(f"/offers/{offer.id}").text
    assert "pladsen holdes til jer i 12 timer." in page
    assert "får den første klasse på listen, der kan være der, pladsen" in page  # the rule in plain words

    saved = post_form(
        client, f"/provider/offers/{offer.id}/edit", {**OFFER_FORM, "waitlist_offer_hours": "72"}
    )
    assert saved.status_code == 303, saved.text
    db.refresh(offer)
    assert (offer.waitlist_may_pass, offer.waitlist_offer_hours) == (False, 72)
    form = client.get(f"/provider/offers/{offer.id}/edit").text
    assert not re.search(r'<input id="waitlist_may_pass"[^>]* checked', form)
    page = client.get(f"/offers/{offer.id}").text
    assert "pladsen holdes til jer i 72 timer." in page
    assert "får klasserne på listen den i rækkefølge" in page

    post_form(
        client, f"/provider/offers/{offer.id}/edit", {**OFFER_FORM, "waitlist_offer_hours": "1"}
    )
    assert "holdes til jer i 1 time." in client.get(f"/offers/{offer.id}").text


def test_dates_booked_as_one_course_and_an_expert_have_no_waiting_list_on_their_page(client, db, settings):
    log_in(client, db, make_user(db, "provider"), settings)
    one_course = created_offer(
        db,
        post_form(
            client,
            "/provider/offers/new",
            {**OFFER_FORM, "type": "company_week", "all_dates_together": "1"},
        ),
    )
    expert = created_offer(
        db, post_form(client, "/provider/offers/new", {**OFFER_FORM, "type": "expert"})
    )
    dates = created_offer(db, post_form(client, "/provider/offers/new", OFFER_FORM))
    for offer in (one_course, expert):
        assert "pladsen holdes til jer" not in client.get(f"/offers/{offer.id}").text
    assert (
        "pladsen holdes til jer i 48 timer."
        in client.get(f"/offers/{dates.id}").text
    )


@pytest.mark.parametrize(("hours", "message"), BAD_HOURS)
def test_the_offer_form_refuses_bad_hours_in_danish_and_saves_nothing(
    client, db, settings, hours, message
):
    log_in(client, db, make_user(db, "provider"), settings)
    before = offer_count(db)
    refused = post_form(
        client,
        "/provider/offers/new",
        {**OFFER_FORM, "waitlist_may_pass": "1", "waitlist_offer_hours": hours},
    )
    assert refused.status_code == 422
    assert error_summary(refused.text) == {"waitlist_offer_hours": f"{HOURS_LABEL}: {message}"}
    assert 'id="waitlist_offer_hours-error"' in refused.text
    # What was typed is kept for correcting it.
    assert re.search(rf'<input id="waitlist_offer_hours"[^>]* value="{hours}"', refused.text)
    assert offer_count(db) == before

    offer = created_offer(db, post_form(client, "/provider/offers/new", OFFER_FORM))
    kept = (offer.title, offer.waitlist_offer_hours)
    edited = post_form(
        client,
        f"/provider/offers/{offer.id}/edit",
        {**OFFER_FORM, "title": "Ændret", "waitlist_offer_hours": hours},
    )
    assert edited.status_code == 422
    assert error_summary(edited.text) == {"waitlist_offer_hours": f"{HOURS_LABEL}: {message}"}
    db.refresh(offer)
    assert (offer.title, offer.waitlist_offer_hours) == kept


# --- the JSON API --------------------------------------------------------------------------------


def test_the_api_creates_and_changes_the_waiting_list_settings(client, db, settings):
    headers = api_headers(db, make_user(db, "provider"), settings)
    plain = client.post(
        "/api/v1/offers", headers=headers, json={"type": "course", "title": "Standard"}
    )
    assert plain.status_code == 201, plain.text
    assert (plain.json()["waitlist_may_pass"], plain.json()["waitlist_offer_hours"]) == (True, 48)

    created = client.post(
        "/api/v1/offers",
        headers=headers,
        json={
            "type": "course",
            "title": "Strikt kø",
            "themes": ["climate_energy"],
            "status": "published",
            "waitlist_may_pass": False,
            "waitlist_offer_hours": 24,
        },
    )
    assert created.status_code == 201, created.text
    body = created.json()
    assert (body["waitlist_may_pass"], body["waitlist_offer_hours"]) == (False, 24)
    offer_id = body["id"]
    shown = client.get(f"/api/v1/offers/{offer_id}").json()  # public once published
    assert (shown["waitlist_may_pass"], shown["waitlist_offer_hours"]) == (False, 24)

    # PATCH changes what it is sent and keeps the rest.
    patched = client.patch(
        f"/api/v1/offers/{offer_id}", headers=headers, json={"waitlist_offer_hours": 6}
    )
    assert patched.status_code == 200, patched.text
    body = patched.json()
    assert (body["waitlist_may_pass"], body["waitlist_offer_hours"]) == (False, 6)
    assert (body["title"], body["themes"], body["status"]) == (
        "Strikt kø",
        ["climate_energy"],
        "published",
    )
    patched = client.patch(
        f"/api/v1/offers/{offer_id}", headers=headers, json={"waitlist_may_pass": True}
    )
    assert (patched.json()["waitlist_may_pass"], patched.json()["waitlist_offer_hours"]) == (
        True,
        6,
    )
    offer = db.get(Offer, offer_id)
    db.refresh(offer)
    assert (offer.waitlist_may_pass, offer.waitlist_offer_hours) == (True, 6)

    # PUT replaces the whole offer, these fields too.
    put = client.put(
        f"/api/v1/offers/{offer_id}",
        headers=headers,
        json={
            "type": "course",
            "title": "Strikt kø",
            "waitlist_may_pass": False,
            "waitlist_offer_hours": 336,
        },
    )
    assert put.status_code == 200, put.text
    assert (put.json()["waitlist_may_pass"], put.json()["waitlist_offer_hours"]) == (False, 336)

    # Another provider's offer cannot be changed, nor seen to exist.
    stranger = api_headers(db, make_user(db, "provider"), settings)
    assert (
        client.patch(
            f"/api/v1/offers/{offer_id}", headers=stranger, json={"waitlist_offer_hours": 1}
        ).status_code
        == 404
    )
    db.refresh(offer)
    assert offer.waitlist_offer_hours == 336


@pytest.mark.parametrize("hours", [0, 10000, "abc", 1.5, None])
def test_the_api_refuses_bad_hours_naming_the_field_and_saves_nothing(client, db, settings, hours):
    headers = api_headers(db, make_user(db, "provider"), settings)
    before = offer_count(db)
    refused = client.post(
        "/api/v1/offers",
        headers=headers,
        json={"type": "course", "title": "X", "waitlist_offer_hours": hours},
    )
    assert refused.status_code == 422
    assert ["body", "waitlist_offer_hours"] in [e["loc"] for e in refused.json()["detail"]]
    assert offer_count(db) == before

    offer_id = client.post(
        "/api/v1/offers", headers=headers, json={"type": "course", "title": "Ok"}
    ).json()["id"]
    for method in (client.patch, client.put):
        refused = method(
            f"/api/v1/offers/{offer_id}",
            headers=headers,
            json={"type": "course", "title": "Ændret", "waitlist_offer_hours": hours},
        )
        assert refused.status_code == 422, refused.text
        assert ["body", "waitlist_offer_hours"] in [e["loc"] for e in refused.json()["detail"]]
    offer = db.get(Offer, offer_id)
    db.refresh(offer)
    assert (offer.title, offer.waitlist_offer_hours) == ("Ok", 48)


def test_the_api_refuses_a_may_pass_that_is_not_yes_or_no(client, db, settings):
    headers = api_headers(db, make_user(db, "provider"), settings)
    # JSON's true and false only, as the schema says: not a word, nor 1 or "yes" either.
    for value in ("maybe", 1, "yes"):
        refused = client.post(
            "/api/v1/offers",
            headers=headers,
            json={"type": "course", "title": "X", "waitlist_may_pass": value},
        )
        assert refused.status_code == 422
        assert [(e["loc"], e["type"]) for e in refused.json()["detail"]] == [
            (["body", "waitlist_may_pass"], "bool_type")
        ]


# --- the waiting list honours them ---------------------------------------------------------------


def test_the_waiting_list_follows_the_providers_settings(client, db, settings):
    """A provider forbids passing through the API: a freed place that the head of the list does not
    fit stays free. Allowed again, the next class that fits gets it, held for the provider's hours."""
    provider = make_user(db, "provider")
    headers = api_headers(db, provider, settings)
    offer_id = client.post(
        "/api/v1/offers",
        headers=headers,
        json={
            "type": "course",
            "title": "Kø-regler",
            "status": "published",
            "requires_approval": False,
            "waitlist_may_pass": False,
            "waitlist_offer_hours": 6,
        },
    ).json()["id"]
    starts = future_weekday()
    session_ids = [
        client.post(
            f"/api/v1/offers/{offer_id}/sessions",
            headers=headers,
            json={
                "starts_at": (starts + timedelta(days=7 * week)).isoformat(),
                "ends_at": (starts + timedelta(days=7 * week, hours=3)).isoformat(),
                "capacity_pupils": 50,
            },
        ).json()["id"]
        for week in (0, 1)
    ]
    teachers = [make_user(db, "teacher") for _ in range(4)]
    now = utcnow()

    def book(teacher, session_id, pupils, waitlist=False):
        data = BookingIn(
            session_id=session_id, class_name="6.a", grade=6, pupils=pupils, waitlist=waitlist
        )
        return bookings.book_session(db, teacher, data, now=now)

    def cancel_the_first_of_a_full_date(session_id):
        """20 of 50 places booked, then 30 (full); a class of 30 and one of 15 wait; the 20 are
        cancelled: the head of the list does not fit them, the class behind it does."""
        first = book(teachers[0], session_id, 20)
        book(teachers[1], session_id, 30)
        head = book(teachers[2], session_id, 30, waitlist=True)
        behind = book(teachers[3], session_id, 15, waitlist=True)
        assert (head.status, behind.status) == (BookingStatus.waitlisted, BookingStatus.waitlisted)
        bookings.cancel_booking(db, teachers[0], first.id, reason="", now=now)
        db.refresh(head)
        db.refresh(behind)
        return head, behind

    head, behind = cancel_the_first_of_a_full_date(session_ids[0])
    assert (head.status, behind.status) == (BookingStatus.waitlisted, BookingStatus.waitlisted)

    allowed = client.patch(
        f"/api/v1/offers/{offer_id}", headers=headers, json={"waitlist_may_pass": True}
    )
    assert allowed.status_code == 200, allowed.text
    head, behind = cancel_the_first_of_a_full_date(session_ids[1])
    assert (head.status, behind.status) == (BookingStatus.waitlisted, BookingStatus.offered)
    assert behind.hold_until == now + timedelta(hours=6)
