"""The issue's "done when" for bookings, in a real browser: a teacher books a Girls Day slot, a
coordinator approves it, and the teacher gets the e-mail with the calendar file (sent by the worker
from the outbox to the test SMTP server)."""

import subprocess
import sys
from datetime import timedelta

import pytest
from icalendar import Calendar
from playwright.sync_api import expect
from sqlmodel import Session, select

from app import demo
from app.accounts.models import User
from app.catalogue.models import Offer, OfferSession, OfferStatus, OfferType
from app.db import make_engine, utcnow
from tests.browser.conftest import ROOT, assert_accessible
from tests.browser.test_login import log_in, log_out
from tests.conftest import clock_env

pytestmark = pytest.mark.browser
TITLE = "Girls Day hos Vindmøllefabrikken"


@pytest.fixture
def girls_day_session(live_database_url) -> int:
    engine = make_engine(live_database_url)
    with Session(engine) as db:
        provider = db.exec(select(User).where(User.email == demo.ACCOUNTS["provider"])).one()
        offer = Offer(provider_id=provider.organisation_id, type=OfferType.girls_day, status=OfferStatus.published, title=TITLE,
                      summary="Byg en vindmølle", grade_min=6, grade_max=10, municipality="Aarhus", girls_only=True,
                      requires_approval=True, published_at=utcnow())
        db.add(offer)
        db.flush()
        starts = (utcnow() + timedelta(days=60)).replace(hour=8, minute=0, second=0, microsecond=0)
        session = OfferSession(offer_id=offer.id, starts_at=starts, ends_at=starts + timedelta(hours=4), capacity_pupils=60)
        db.add(session)
        db.commit()
        session_id = session.id
    engine.dispose()
    return session_id


def test_teacher_books_girls_day_coordinator_approves_teacher_gets_calendar_mail(
    page, girls_day_session, live_database_url, smtp_server, mailbox
):
    log_in(page, demo.ACCOUNTS["teacher"])
    page.goto(f"/catalogue?type=girls_day&q={TITLE.split()[-1]}")
    page.get_by_role("link", name=TITLE).first.click()
    expect(page.locator("h1")).to_have_text(TITLE)
    page.locator(f'a[href="/sessions/{girls_day_session}/book"]').click()
    expect(page.locator("h1")).to_contain_text(TITLE)
    assert_accessible(page)
    page.get_by_label("Klassetrin").select_option("8")
    page.get_by_label("Antal piger").fill("14")  # a girls-only offer asks for the girls only
    page.get_by_role("button", name="Book", exact=True).click()
    expect(page.locator(".error-summary")).to_be_focused()  # a keyboard user starts at what to mend
    summary = page.locator(".error-summary a[href='#class_name']")  # which names the field of each message
    expect(summary).to_have_text("Klasse: Udfyld dette felt.")
    page.get_by_label("Klasse", exact=True).fill("8.c")
    page.get_by_role("button", name="Book", exact=True).click()
    expect(page.get_by_text("Afventer godkendelse").first).to_be_visible()
    assert_accessible(page)  # the booking's own page, with its history
    log_out(page)

    log_in(page, demo.ACCOUNTS["coordinator"])
    page.goto("/bookings")
    row = page.get_by_role("row").filter(has_text="8.c").filter(has_text=TITLE)
    assert_accessible(page)
    row.get_by_role("button", name="Godkend").click()
    expect(page.get_by_text("Bookingen er godkendt.")).to_be_visible()
    expect(page.locator(".notice")).to_be_focused()  # the keyboard goes on from what happened
    assert_accessible(page)

    controller, _box = smtp_server
    env = {"DATABASE_URL": live_database_url, "SMTP_HOST": "127.0.0.1", "SMTP_PORT": str(controller.port), "PATH": "/usr/bin:/bin", **clock_env()}
    done = subprocess.run([sys.executable, "-m", "app", "worker", "--once"], cwd=ROOT, env=env, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    approved = [m for m in mailbox.to(demo.ACCOUNTS["teacher"]) if m["Subject"] == f"Godkendt: {TITLE}"]
    assert len(approved) == 1
    (attachment,) = [part for part in approved[0].iter_attachments() if part.get_content_type() == "text/calendar"]
    (event,) = Calendar.from_ical(attachment.get_content()).walk("VEVENT")
    assert str(event["summary"]) == TITLE
    assert "8.c" in approved[0].get_body(preferencelist=("plain",)).get_content()


@pytest.fixture
def long_course_dates(live_database_url) -> list[int]:
    """A long course of three Tuesdays that go together, of the demo provider."""
    engine = make_engine(live_database_url)
    with Session(engine) as db:
        provider = db.exec(select(User).where(User.email == demo.ACCOUNTS["provider"])).one()
        offer = Offer(provider_id=provider.organisation_id, type=OfferType.course, status=OfferStatus.published, title="Ingeniør i skolen",
                      grade_min=6, grade_max=9, municipality="Aarhus", requires_approval=True, is_long=True, all_dates_together=True,
                      published_at=utcnow())
        db.add(offer)
        db.flush()
        first = (utcnow() + timedelta(days=70)).replace(hour=8, minute=0, second=0, microsecond=0)
        dates = [OfferSession(offer_id=offer.id, starts_at=first + timedelta(weeks=n), ends_at=first + timedelta(weeks=n, hours=3),
                              capacity_pupils=56) for n in range(3)]
        db.add_all(dates)
        db.commit()
        ids = [d.id for d in dates]
    engine.dispose()
    return ids


def test_teacher_books_a_long_course_and_gets_all_its_dates(page, long_course_dates):
    log_in(page, demo.ACCOUNTS["teacher"])
    page.goto(f"/sessions/{long_course_dates[1]}/book")
    expect(page.get_by_text("Et forløb med 3 datoer")).to_be_visible()
    assert_accessible(page)
    page.get_by_label("Klasse", exact=True).fill("7.k")
    page.get_by_label("Klassetrin").select_option("7")
    page.get_by_label("Antal elever").fill("22")
    page.get_by_label("Antal elever").press("Enter")  # the keyboard sends the form
    expect(page.get_by_text("Forløbets datoer")).to_be_visible()
    expect(page.locator("dd ul li")).to_have_count(3)
    assert_accessible(page)
