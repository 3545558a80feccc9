"""Saved searches that e-mail teachers about new offers, and coordinators' school holidays."""

from datetime import UTC, date, datetime

import pytest
from sqlmodel import select

from app.catalogue import holidays as school_holidays
from app.catalogue.models import SavedSearch, SchoolHoliday
from app.deps import get_now
from app.errors import InvalidInput
from app.notifications.models import Notification
from tests.factories import api_headers, log_in, make_provider, make_school, make_user, post_form

# In school year 2026/27: holidays may be set from 1 August 2025 to 31 July 2032.
NOW = datetime(2026, 9, 1, 8, 0, tzinfo=UTC)


@pytest.fixture
def fixed_clock(app):
    app.dependency_overrides[get_now] = lambda: NOW


def test_teacher_is_e_mailed_about_a_new_offer_that_matches_a_saved_search(
    client, db, settings, mailbox, send_outbox
):
    teacher = make_user(db, "teacher", organisation=make_school(db, municipality="Randers"))
    log_in(client, db, teacher, settings)
    saved = post_form(
        client,
        "/catalogue/saved",
        {"name": "Girls Day for 8.", "query": "type=girls_day&grade=8&page=2"},
    )
    assert saved.status_code == 303
    (search,) = db.exec(select(SavedSearch).where(SavedSearch.user_id == teacher.id)).all()
    assert search.query == "grade=8&type=girls_day"  # no page number; a stable order
    assert "Girls Day for 8." in client.get("/catalogue/saved").text

    provider = make_user(db, "provider", organisation=make_provider(db))
    headers = api_headers(db, provider, settings)
    client.post(
        "/api/v1/offers",
        headers=headers,
        json={"type": "course", "title": "Andet", "status": "published"},
    )
    send_outbox()
    assert mailbox.messages == []
    client.post(
        "/api/v1/offers",
        headers=headers,
        json={
            "type": "girls_day",
            "title": "Ikke for 8.",
            "grade_min": 10,
            "grade_max": 13,
            "status": "published",
        },
    )
    send_outbox()
    assert mailbox.messages == []
    created = client.post(
        "/api/v1/offers",
        headers=headers,
        json={
            "type": "girls_day",
            "title": "Girls Day med droner",
            "grade_min": 7,
            "grade_max": 9,
            "status": "published",
        },
    ).json()
    told = db.exec(select(Notification).where(Notification.user_id == teacher.id)).one()
    assert told.kind == "saved_search" and told.link == f"/offers/{created['id']}"  # in the inbox at once
    send_outbox()  # the worker sends it
    (message,) = mailbox.to(teacher.email)
    assert "Girls Day for 8." in message["Subject"]
    assert f"/offers/{created['id']}" in message.get_content()

    # Publishing a draft in the pages tells the teacher too, but only the first time.
    draft = client.post(
        "/api/v1/offers",
        headers=headers,
        json={"type": "girls_day", "title": "Kladde", "grade_min": 8, "grade_max": 8},
    ).json()
    mailbox.messages.clear()
    log_in(client, db, provider, settings)
    post_form(client, f"/provider/offers/{draft['id']}/status", {"status": "published"})
    post_form(client, f"/provider/offers/{draft['id']}/status", {"status": "unpublished"})
    post_form(client, f"/provider/offers/{draft['id']}/status", {"status": "published"})
    send_outbox()
    assert len(mailbox.to(teacher.email)) == 1


def test_saved_searches_belong_to_their_teacher(client, db, settings):
    teacher = make_user(db, "teacher")
    log_in(client, db, teacher, settings)
    refused = post_form(client, "/catalogue/saved", {"name": "", "query": "type=expert"})
    assert refused.status_code == 422 and "Giv søgningen et navn." in refused.text
    # The name field is on the catalogue page: no link to a field this page lacks, but a way back.
    assert 'href="#name"' not in refused.text and 'href="/catalogue?type=expert"' in refused.text
    post_form(client, "/catalogue/saved", {"name": "Eksperter", "query": "type=expert"})
    (search,) = db.exec(select(SavedSearch).where(SavedSearch.user_id == teacher.id)).all()

    other = make_user(db, "teacher")
    log_in(client, db, other, settings)
    assert post_form(client, f"/catalogue/saved/{search.id}/delete").status_code == 404
    log_in(client, db, teacher, settings)
    assert post_form(client, f"/catalogue/saved/{search.id}/delete").status_code == 303
    assert db.get(SavedSearch, search.id) is None


def test_standard_school_holidays_follow_the_danish_school_year():
    names = {
        name: (start, end) for name, start, end in school_holidays.standard_school_holidays(2026)
    }
    assert len(names) == 5
    autumn = min(names.values())
    assert autumn == (date(2026, 10, 12), date(2026, 10, 16))  # week 42
    assert date(2027, 3, 28) in [d for pair in names.values() for d in pair] or any(
        start <= date(2027, 3, 28) <= end for start, end in names.values()
    )  # Easter Sunday 2027


def test_coordinators_manage_holidays_in_their_own_municipality(client, db, settings, fixed_clock):
    coordinator = make_user(db, "coordinator", municipality="Skive")
    log_in(client, db, coordinator, settings)
    foreign = post_form(
        client,
        "/admin/holidays",
        {
            "name": "Fridag",
            "municipality": "Aarhus",
            "starts_on": "2027-05-03",
            "ends_on": "2027-05-03",
        },
    )
    assert foreign.status_code == 422 and 'class="error-summary"' in foreign.text
    backwards = post_form(
        client,
        "/admin/holidays",
        {
            "name": "Fridag",
            "municipality": "Skive",
            "starts_on": "2027-05-03",
            "ends_on": "2027-05-01",
        },
    )
    assert backwards.status_code == 422 and 'id="ends_on-error"' in backwards.text
    ok = post_form(
        client,
        "/admin/holidays",
        {
            "name": "Skivedag",
            "municipality": "Skive",
            "starts_on": "2027-05-03",
            "ends_on": "2027-05-03",
        },
    )
    assert ok.status_code == 303

    assert post_form(client, "/admin/holidays/standard", {"school_year": "2026"}).status_code == 303
    assert (
        post_form(client, "/admin/holidays/standard", {"school_year": "2026"}).status_code == 303
    )  # twice: no doubles
    rows = db.exec(select(SchoolHoliday).where(SchoolHoliday.municipality == "Skive")).all()
    assert len(rows) == 6
    assert "Skivedag" in client.get("/admin/holidays").text

    region_wide = SchoolHoliday(
        name="Regional", municipality=None, starts_on=date(2027, 6, 1), ends_on=date(2027, 6, 1)
    )
    db.add(region_wide)
    db.commit()
    assert post_form(client, f"/admin/holidays/{region_wide.id}/delete").status_code == 404


def test_a_saved_search_with_a_date_at_the_ends_of_the_calendar_does_not_break_publishing(client, db, settings):
    teacher = make_user(db, "teacher")
    log_in(client, db, teacher, settings)
    post_form(client, "/catalogue/saved", {"name": "Alt", "query": "type=course&from=0001-01-01&to=9999-12-31"})
    provider = make_user(db, "provider")
    published = client.post(
        "/api/v1/offers",
        headers=api_headers(db, provider, settings),
        json={"type": "course", "title": "Robotter", "status": "published"},
    )
    assert published.status_code == 201, published.text
    # The dates are ignored, as the catalogue page ignores them: the search matches.
    assert db.exec(select(Notification).where(Notification.user_id == teacher.id)).one().kind == "saved_search"


def test_holidays_outside_the_planning_period_are_refused_and_not_saved(client, db, settings, fixed_clock):
    coordinator = make_user(db, "coordinator")
    log_in(client, db, coordinator, settings)
    message = "Vælg en dato fra 1. aug. 2025 til 31. jul. 2032."
    for day in ("0001-01-01", "2025-07-31", "2032-08-01", "9999-12-25"):
        refused = post_form(client, "/admin/holidays", {"name": "Fridag", "starts_on": day, "ends_on": day})
        assert refused.status_code == 422
        assert f'<li><a href="#starts_on">Første dag: {message}</a></li>' in refused.text
    far = post_form(client, "/admin/holidays/standard", {"school_year": "2099"})
    assert far.status_code == 422
    assert db.exec(select(SchoolHoliday)).all() == []


def test_the_command_line_is_held_to_the_same_planning_period(db):
    with pytest.raises(InvalidInput) as refused:
        school_holidays.add_standard_holidays(db, None, 2099, now=NOW)
    assert refused.value.field == "school_year"
    assert school_holidays.add_standard_holidays(db, None, 2031, now=NOW) == 5  # five school years ahead
    with pytest.raises(InvalidInput) as refused:
        school_holidays.add_standard_holidays(db, None, 2032, now=NOW)
    assert refused.value.field == "school_year"
    assert len(db.exec(select(SchoolHoliday)).all()) == 5
