"""The start page at `/` for each role and the public, as HTML: the content is there, every list
has its way on, and log-in lands there."""

from datetime import timedelta

from app.accounts.models import Role
from app.bookings.models import Booking, BookingStatus
from app.catalogue.models import OfferType
from app.db import utcnow
from tests.factories import PASSWORD, log_in, make_mentor, make_user, post_form, published_session


def test_the_public_home_page_tells_how_to_take_part(client):
    page = client.get("/")
    assert page.status_code == 200
    for link in ('href="/catalogue?type=girls_day"', 'href="/catalogue?type=company_week"', 'href="/barometer"',
                 'href="/login"', 'href="/mentors/signup"'):
        assert link in page.text


def test_the_public_home_page_shows_coming_company_weeks_as_cards_with_a_picture(client, db):
    offer, session = published_session(db, capacity=30)
    offer.type = OfferType.company_week
    db.commit()
    page = client.get("/").text
    card = page.split('id="highlight-company-weeks"')[1].split("</ul>")[0]
    assert f'href="/offers/{offer.id}">Vandets kredsløb</a>' in card
    assert 'class="card-picture" src="/static/img/offers/' in card and 'alt="' in card
    assert "30 ledige pladser" in card


def test_a_teacher_lands_on_the_start_page_with_the_schools_next_booking(client, db, settings):
    offer, session = published_session(db)
    teacher = make_user(db, Role.teacher)
    db.add(Booking(session_id=session.id, school_id=teacher.organisation_id, teacher_id=teacher.id,
                   status=BookingStatus.confirmed, class_name="8.a", grade=8, pupils=20))
    db.commit()
    answer = post_form(client, "/login", {"email": teacher.email, "password": PASSWORD}, follow_redirects=False)
    assert answer.status_code == 303 and answer.headers["location"] == "/"
    page = client.get("/")
    assert offer.title in page.text and "8.a" in page.text
    assert 'href="/bookings"' in page.text


def test_a_coordinator_sees_how_many_await_approval(client, db, settings):
    _offer, session = published_session(db)
    teacher = make_user(db, Role.teacher)
    for name in ("8.a", "8.b"):
        db.add(Booking(session_id=session.id, school_id=teacher.organisation_id, teacher_id=teacher.id,
                       status=BookingStatus.pending, class_name=name, grade=8, pupils=10,
                       hold_until=utcnow() + timedelta(days=2)))
    db.commit()
    log_in(client, db, make_user(db, Role.coordinator), settings)
    client.cookies.set("stem_language", "da")
    page = client.get("/")
    assert "2 afventer godkendelse" in page.text
    assert 'href="/bookings?status=pending"' in page.text and 'href="/admin/outbox"' in page.text


def test_a_provider_and_a_mentor_see_their_start_pages(client, db, settings):
    offer, _session = published_session(db)
    provider = make_user(db, Role.provider)
    provider.organisation_id = offer.provider_id
    db.add(provider)
    db.commit()
    log_in(client, db, provider, settings)
    page = client.get("/")
    assert offer.title in page.text and 'href="/provider/proposals"' in page.text

    client.cookies.clear()
    log_in(client, db, make_mentor(db), settings)
    page = client.get("/")
    assert 'href="/mentor/shifts"' in page.text and 'href="/mentor/hours"' in page.text


def test_the_development_mail_page_shows_the_emails_written_and_never_in_production(client, db, settings, app):
    from app.notifications.models import OutboxMessage

    db.add(OutboxMessage(to_address="laerer@example.dk", subject="Din booking er modtaget", body="Hej, link: /bookings/1"))
    db.commit()
    log_in(client, db, make_user(db, Role.admin), settings)
    page = client.get("/dev/mail")
    assert page.status_code == 200
    assert "Din booking er modtaget" in page.text and "laerer@example.dk" in page.text

    app.state.settings = settings.model_copy(update={"environment": "production", "secret_key": "x" * 40})
    try:
        assert client.get("/dev/mail").status_code == 404
    finally:
        app.state.settings = settings
