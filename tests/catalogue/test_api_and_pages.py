"""The catalogue through the JSON API, the pages and the calendar feed."""

from datetime import UTC, datetime, timedelta

import icalendar
import pytest
from sqlmodel import func, select

from app.catalogue.models import Offer, OfferSession
from app.deps import get_now
from app.i18n import TIMEZONE
from tests.factories import (
    api_headers,
    error_summary,
    future_weekday,
    log_in,
    make_provider,
    make_school,
    make_user,
    post_form,
    published_session,
)


def test_provider_publishes_through_the_api_and_everyone_finds_it(client, db, settings):
    provider = make_user(db, "provider", organisation=make_provider(db, municipality="Skive"))
    headers = api_headers(db, provider, settings)
    created = client.post(
        "/api/v1/offers",
        headers=headers,
        json={
            "type": "girls_day",
            "title": "Girls Day på værkstedet",
            "description": "Hands-on",
            "themes": ["industry"],
            "grade_min": 6,
            "grade_max": 9,
            "status": "published",
        },
    )
    assert created.status_code == 201, created.text
    offer = created.json()
    assert (
        offer["girls_only"] is True
        and offer["municipality"] == "Skive"
        and offer["requires_approval"] is True
    )

    starts = future_weekday()
    session = client.post(
        f"/api/v1/offers/{offer['id']}/sessions",
        headers=headers,
        json={
            "starts_at": starts.isoformat(),
            "ends_at": (starts + timedelta(hours=5)).isoformat(),
            "capacity_pupils": 40,
            "capacity_classes": 2,
        },
    )
    assert session.status_code == 201, session.text
    body = client.get(f"/api/v1/sessions/{session.json()['id']}").json()
    assert (
        body["held_pupils"] == 0
        and body["capacity_classes"] == 2
        and body["offer_id"] == offer["id"]
    )

    listing = client.get(
        "/api/v1/offers", params={"type": "girls_day", "municipality": "Skive", "grade": 7}
    ).json()
    assert (
        listing["total"] == 1 and listing["items"][0]["sessions"][0]["id"] == session.json()["id"]
    )
    assert client.get("/api/v1/offers", params={"theme": "food"}).json()["total"] == 0
    assert client.get(f"/api/v1/offers/{offer['id']}").json()["title"] == "Girls Day på værkstedet"


def test_api_bad_input_names_the_field_and_saves_nothing(client, db, settings):
    provider = make_user(db, "provider")
    headers = api_headers(db, provider, settings)
    before = db.exec(select(func.count()).select_from(Offer)).one()
    cases = [
        ({"type": "picnic", "title": "X"}, "type"),
        ({"type": "course", "title": ""}, "title"),
        ({"type": "course", "title": "X", "grade_min": 9, "grade_max": 3}, "grade_max"),
        ({"type": "course", "title": "X", "min_pupils": 30, "max_pupils": 10}, "max_pupils"),
        ({"type": "course", "title": "X", "themes": ["space"]}, "themes"),
        ({"type": "course", "title": "X", "municipality": "Odense"}, "municipality"),
    ]
    for body, field in cases:
        response = client.post("/api/v1/offers", headers=headers, json=body)
        assert response.status_code == 422, body
        if field:
            assert any(field in map(str, e["loc"]) for e in response.json()["detail"]), (
                response.json()
            )
    assert db.exec(select(func.count()).select_from(Offer)).one() == before

    offer = client.post(
        "/api/v1/offers", headers=headers, json={"type": "course", "title": "Ok"}
    ).json()
    starts = future_weekday()
    for body, field in [
        (
            {
                "starts_at": starts.isoformat(),
                "ends_at": (starts - timedelta(hours=1)).isoformat(),
                "capacity_pupils": 5,
            },
            "ends_at",
        ),
        (
            {
                "starts_at": starts.isoformat(),
                "ends_at": (starts + timedelta(hours=1)).isoformat(),
                "capacity_pupils": 0,
            },
            "capacity_pupils",
        ),
        (
            {"starts_at": "2020-01-01T09:00", "ends_at": "2020-01-01T10:00", "capacity_pupils": 5},
            "starts_at",
        ),
    ]:
        response = client.post(f"/api/v1/offers/{offer['id']}/sessions", headers=headers, json=body)
        assert response.status_code == 422
        assert field in str(response.json()["detail"])
    assert db.exec(select(func.count()).select_from(OfferSession)).one() == 0
    assert client.get("/api/v1/offers", params={"municipality": "Odense"}).status_code == 422


def test_drafts_are_not_public(client, db, settings):
    provider = make_user(db, "provider")
    headers = api_headers(db, provider, settings)
    draft = client.post(
        "/api/v1/offers", headers=headers, json={"type": "course", "title": "Hemmelig"}
    ).json()
    assert client.get(f"/api/v1/offers/{draft['id']}").status_code == 404
    assert client.get(f"/offers/{draft['id']}").status_code == 404
    assert client.get(f"/api/v1/offers/{draft['id']}", headers=headers).status_code == 200
    assert "/offers/" + str(draft["id"]) not in client.get("/catalogue?q=Hemmelig").text


def test_provider_creates_an_offer_with_dates_in_the_pages(client, db, settings):
    provider = make_user(db, "provider")
    log_in(client, db, provider, settings)
    refused = post_form(
        client,
        "/provider/offers/new",
        {"type": "course", "title": "", "grade_min": "9", "grade_max": "2"},
    )
    assert refused.status_code == 422 and 'id="title-error"' in refused.text
    grades = post_form(client, "/provider/offers/new", {"type": "course", "title": "Robotter", "grade_min": "9", "grade_max": "2"})
    assert 'id="grade_max-error"' in grades.text and "Til-klassetrinnet kan ikke være lavere" in grades.text
    created = post_form(
        client,
        "/provider/offers/new",
        {
            "type": "company_week",
            "title": "Virksomhedsuge: fremtidens mad",
            "themes": ["food", "health"],
            "grade_min": "7",
            "grade_max": "9",
            "format": "at_provider",
            "language": "da",
            "cancellation_weekdays": "10",
            "requires_approval": "1",
        },
    )
    assert created.status_code == 303, created.text
    offer_id = int(created.headers["location"].split("/")[3])
    starts = future_weekday(40)
    monday = starts - timedelta(days=2)
    added = post_form(
        client,
        f"/provider/offers/{offer_id}/sessions",
        {
            "date": monday.date().isoformat(),
            "starts": "08:00",
            "last_day": (monday + timedelta(days=4)).date().isoformat(),
            "ends": "15:00",
            "capacity_pupils": "28",
            "capacity_classes": "1",
        },
    )
    assert added.status_code == 303, added.text
    bad = post_form(
        client,
        f"/provider/offers/{offer_id}/sessions",
        {
            "date": monday.date().isoformat(),
            "starts": "15:00",
            "ends": "08:00",
            "capacity_pupils": "0",
        },
    )
    assert bad.status_code == 422 and 'id="capacity_pupils-error"' in bad.text
    assert (
        post_form(
            client, f"/provider/offers/{offer_id}/status", {"status": "published"}
        ).status_code
        == 303
    )

    client.cookies.clear()
    page = client.get("/catalogue", params={"type": "company_week", "theme": "food", "grade": "8"})
    assert "Virksomhedsuge: fremtidens mad" in page.text
    offer_page = client.get(f"/offers/{offer_id}")
    assert offer_page.status_code == 200 and "Virksomhedsuge" in offer_page.text


def test_teacher_sees_distance_from_their_school(client, db, settings):
    provider = make_user(db, "provider", organisation=make_provider(db, municipality="Lemvig"))
    headers = api_headers(db, provider, settings)
    client.post(
        "/api/v1/offers",
        headers=headers,
        json={"type": "course", "title": "Havets energi", "status": "published"},
    )
    teacher = make_user(db, "teacher", organisation=make_school(db, municipality="Aarhus"))
    log_in(client, db, teacher, settings)
    near = client.get("/catalogue", params={"km": "25"}).text
    assert "Havets energi" not in near
    far = client.get("/catalogue", params={"km": "500", "sort": "nearest"}).text
    assert "Havets energi" in far and "km" in far


def test_catalogue_keeps_working_with_odd_filters(client):
    for query in (
        "grade=99",
        "type=spaceship",
        "from=not-a-date",
        "km=5",
        "page=3",
        "q=" + "x" * 500,
    ):
        assert client.get(f"/catalogue?{query}").status_code == 200, query


def test_offer_calendar_feed_parses_with_danish_times(client, db, settings):
    provider = make_user(db, "provider")
    headers = api_headers(db, provider, settings)
    offer = client.post(
        "/api/v1/offers",
        headers=headers,
        json={"type": "course", "title": "Solceller", "status": "published"},
    ).json()
    starts = future_weekday()
    client.post(
        f"/api/v1/offers/{offer['id']}/sessions",
        headers=headers,
        json={
            "starts_at": starts.isoformat(),
            "ends_at": (starts + timedelta(hours=3)).isoformat(),
            "capacity_pupils": 20,
        },
    )
    response = client.get(f"/offers/{offer['id']}/calendar.ics")
    assert response.headers["content-type"].startswith("text/calendar")
    calendar = icalendar.Calendar.from_ical(response.content)
    (event,) = calendar.walk("VEVENT")
    start = event.decoded("dtstart")
    assert str(start.tzinfo) == "Europe/Copenhagen" and start.hour == 9 and start == starts
    assert str(event["summary"]) == "Solceller"
    assert calendar.walk("VTIMEZONE"), "the feed must carry its time zone"


def test_picture_upload_is_checked(client, db, settings):
    provider = make_user(db, "provider")
    headers = api_headers(db, provider, settings)
    offer = client.post(
        "/api/v1/offers",
        headers=headers,
        json={"type": "course", "title": "Billede", "status": "published"},
    ).json()
    log_in(client, db, provider, settings)
    from tests.factories import csrf

    token = csrf(client)
    url = f"/provider/offers/{offer['id']}/picture"
    not_image = client.post(
        url,
        data={"csrf_token": token},
        files={"picture": ("x.png", b"<svg onload=alert(1)>", "image/png")},
    )
    assert not_image.status_code == 422
    too_big = client.post(
        url,
        data={"csrf_token": token},
        files={"picture": ("x.png", b"\x89PNG\r\n\x1a\n" + b"0" * (3 * 1024 * 1024), "image/png")},
    )
    assert too_big.status_code == 422
    png = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64
    ok = client.post(
        url,
        data={"csrf_token": token, "alt_text": "Elever ved en robot"},
        files={"picture": ("x.png", png, "image/png")},
    )
    assert ok.status_code == 303, ok.text[-1500:]
    picture = client.get(f"/offers/{offer['id']}/picture/1")
    assert picture.content == png and picture.headers["content-type"] == "image/png"


def test_one_date_of_a_series_can_be_changed_on_its_own(client, db, settings):
    provider = make_user(db, "provider")
    headers = api_headers(db, provider, settings)
    offer = client.post(
        "/api/v1/offers",
        headers=headers,
        json={"type": "course", "title": "Ugentlig", "status": "published"},
    ).json()
    starts = future_weekday()
    log_in(client, db, provider, settings)
    made = post_form(
        client,
        f"/provider/offers/{offer['id']}/sessions/recurring",
        {
            "weekdays": "2",
            "starts": "09:00",
            "ends": "11:00",
            "first_date": starts.date().isoformat(),
            "last_date": (starts + timedelta(days=21)).date().isoformat(),
            "every_weeks": "1",
            "capacity_pupils": "24",
        },
    )
    assert made.status_code == 303
    sessions = db.exec(
        select(OfferSession)
        .where(OfferSession.offer_id == offer["id"])
        .order_by(OfferSession.starts_at)
    ).all()
    assert len(sessions) >= 3 and len({s.series for s in sessions}) == 1
    second = sessions[1]
    page = client.get(f"/provider/sessions/{second.id}/edit")
    assert page.status_code == 200 and 'value="09:00"' in page.text
    day = second.starts_at.astimezone(TIMEZONE).date().isoformat()
    bad = post_form(
        client,
        f"/provider/sessions/{second.id}/edit",
        {"date": day, "starts": "13:00", "ends": "12:00", "capacity_pupils": "30"},
    )
    assert bad.status_code == 422 and 'id="ends-error"' in bad.text
    ok = post_form(
        client,
        f"/provider/sessions/{second.id}/edit",
        {"date": day, "starts": "12:00", "ends": "14:00", "capacity_pupils": "30"},
    )
    assert ok.status_code == 303
    db.refresh(second)
    assert second.starts_at.astimezone(TIMEZONE).hour == 12 and second.capacity_pupils == 30
    db.refresh(sessions[0])
    assert (
        sessions[0].starts_at.astimezone(TIMEZONE).hour == 9 and sessions[0].capacity_pupils == 24
    )


# --- dates at the ends of the calendar, and the API's contract ----------------------------------


def test_the_catalogue_page_ignores_a_date_at_the_ends_of_the_calendar(client, db, settings):
    offer, _session = published_session(db)
    teacher = make_user(db, "teacher")
    for viewer in (None, teacher):
        if viewer:
            log_in(client, db, viewer, settings)
        for query in ("from=0001-01-01", "to=9999-12-31", "from=9999-12-31&to=0001-01-01"):
            page = client.get(f"/catalogue?{query}")
            # Shown as without that filter, as an unknown kind of activity is.
            assert page.status_code == 200 and offer.title in page.text, (viewer, query)


def test_the_offers_api_refuses_a_date_at_the_ends_of_the_calendar_naming_it(client, db):
    published_session(db)
    for name, value in (("from", "0001-01-01"), ("to", "9999-12-31")):
        refused = client.get("/api/v1/offers", params={name: value})
        assert refused.status_code == 422, refused.text
        assert [e["loc"] for e in refused.json()["detail"]] == [["query", name]]
    backwards = client.get("/api/v1/offers", params={"from": "2030-03-01", "to": "2030-02-01"})
    assert backwards.status_code == 422 and backwards.json()["detail"][0]["loc"] == ["query", "to"]
    assert client.get("/api/v1/offers", params={"from": "2000-01-01", "to": "2099-12-31"}).json()["total"] == 1


def test_an_unknown_municipality_is_named_as_a_query_parameter(client):
    refused = client.get("/api/v1/offers", params={"municipality": "Atlantis"})
    assert refused.status_code == 422
    assert [e["loc"] for e in refused.json()["detail"]] == [["query", "municipality"]]


def test_a_new_offer_through_the_api_is_a_draft_or_published_nothing_else(client, db, settings):
    headers = api_headers(db, make_user(db, "provider"), settings)
    before = db.exec(select(func.count()).select_from(Offer)).one()
    for status in ("archived", "unpublished"):
        refused = client.post("/api/v1/offers", headers=headers, json={"type": "course", "title": "X", "status": status})
        assert refused.status_code == 422, refused.text
        assert [e["loc"] for e in refused.json()["detail"]] == [["body", "status"]]
    assert db.exec(select(func.count()).select_from(Offer)).one() == before
    made = [
        client.post("/api/v1/offers", headers=headers, json={"type": "course", "title": "X", **extra}).json()["status"]
        for extra in ({}, {"status": "draft"}, {"status": "published"})
    ]
    assert made == ["draft", "draft", "published"]


def test_the_api_refuses_a_session_in_year_9999_and_saves_nothing(client, db, settings):
    headers = api_headers(db, make_user(db, "provider"), settings)
    offer = client.post("/api/v1/offers", headers=headers, json={"type": "course", "title": "Ok"}).json()
    refused = client.post(
        f"/api/v1/offers/{offer['id']}/sessions",
        headers=headers,
        json={"starts_at": "9999-12-31T23:00:00-05:00", "ends_at": "9999-12-31T23:30:00-05:00", "capacity_pupils": 20},
    )
    assert refused.status_code == 422, refused.text
    assert [e["loc"] for e in refused.json()["detail"]] == [["body", "starts_at"]]
    assert db.exec(select(func.count()).select_from(OfferSession)).one() == 0


def test_the_dates_page_refuses_a_date_beyond_the_planning_period_in_danish(app, client, db, settings):
    app.dependency_overrides[get_now] = lambda: datetime(2026, 11, 23, 12, 0, tzinfo=UTC)  # school year 2026/27
    provider = make_user(db, "provider")
    log_in(client, db, provider, settings)
    offer = client.post(
        "/api/v1/offers", headers=api_headers(db, provider, settings), json={"type": "course", "title": "Ok"}
    ).json()
    message = "Vælg en dato fra 1. aug. 2025 til 31. jul. 2032."  # a school year back, five ahead
    refused = post_form(
        client,
        f"/provider/offers/{offer['id']}/sessions",
        {"date": "9999-12-31", "starts": "09:00", "ends": "11:00", "capacity_pupils": "20"},
    )
    assert refused.status_code == 422
    assert error_summary(refused.text) == {"date": f"Dato: {message}"}
    assert db.exec(select(func.count()).select_from(OfferSession)).one() == 0


def test_a_weekly_rule_beyond_the_planning_period_makes_no_dates(client, db, settings):
    provider = make_user(db, "provider")
    log_in(client, db, provider, settings)
    offer = client.post(
        "/api/v1/offers", headers=api_headers(db, provider, settings), json={"type": "course", "title": "Ok"}
    ).json()
    refused = post_form(
        client,
        f"/provider/offers/{offer['id']}/sessions/recurring",
        {
            "weekdays": ["0", "1", "2", "3", "4"],
            "starts": "09:00",
            "ends": "11:00",
            "first_date": "9999-11-01",
            "last_date": "9999-12-31",
            "every_weeks": "8",
            "capacity_pupils": "20",
        },
    )
    assert refused.status_code == 422
    assert error_summary(refused.text)["weekly-first_date"].startswith("Første dato: Vælg en dato fra ")
    assert db.exec(select(func.count()).select_from(OfferSession)).one() == 0


@pytest.mark.parametrize(
    ("starts", "ends"), [("09:00+01:00", "12:00"), ("09:00", "12:00+01:00"), ("09:00Z", "12:00+02:00")]
)
def test_a_time_of_day_with_a_utc_offset_is_refused_with_the_field_named(client, db, settings, starts, ends):
    """Weekly dates and an expert's hours are Danish wall-clock times: one time with an offset and
    one without could not be compared (a 500)."""
    provider = make_user(db, "provider")
    headers = api_headers(db, provider, settings)
    course = client.post("/api/v1/offers", headers=headers, json={"type": "course", "title": "Uge"}).json()
    expert = client.post("/api/v1/offers", headers=headers, json={"type": "expert", "title": "Ekspert"}).json()
    log_in(client, db, provider, settings)
    day = future_weekday().date()
    weekly = post_form(
        client,
        f"/provider/offers/{course['id']}/sessions/recurring",
        {"weekdays": "1", "starts": starts, "ends": ends, "first_date": day.isoformat(),
         "last_date": (day + timedelta(days=28)).isoformat(), "capacity_pupils": "10"},
    )
    assert weekly.status_code == 422
    fields = error_summary(weekly.text)
    assert set(fields) & {"weekly-starts", "weekly-ends"} and "09.30" in " ".join(fields.values())
    window = post_form(client, f"/provider/offers/{expert['id']}/availability", {"weekday": "1", "starts": starts, "ends": ends})
    assert window.status_code == 422 and "09.30" in window.text
    assert db.exec(select(func.count()).select_from(OfferSession).where(OfferSession.offer_id == course["id"])).one() == 0
