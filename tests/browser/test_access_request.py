"""Issue 16's way in, in a real Chromium against the live server, axe-core on every page visited at
desktop width and 390 px: a visitor on an offer page is shown how to log in to book and how to ask
for an account; a teacher asks for an account at their school, confirms the address from the
e-mail (sent by the real worker to the test SMTP server), a colleague approves, and the new
teacher chooses a password and logs in; a company registers, and a coordinator approves it."""

import re
import uuid

import pytest
from playwright.sync_api import Page, expect
from sqlmodel import Session, select

from app.access_requests.schemas import cvr_is_valid
from app.catalogue.models import Offer, OfferSession, OfferStatus
from app.db import make_engine, utcnow
from tests.browser import test_mentor_journey as journey
from tests.browser.test_mentor_journey import check, link_in, log_in, run_worker
from tests.factories import make_provider, make_school, make_user

pytestmark = pytest.mark.browser
person = journey.person  # a browser of its own for each person


def a_cvr() -> str:
    """A CVR number that passes the modulus-11 check and that no other run has used."""
    while True:
        candidate = str(uuid.uuid4().int)[:8]
        if candidate[0] != "0" and cvr_is_valid(candidate):
            return candidate


def choose_and_submit(page: Page, action: str) -> None:
    page.locator(f"form[action='{action}'] button[type=submit]").click()


def test_a_teacher_asks_for_an_account_and_a_colleague_approves(person, live_database_url, smtp_server, mailbox):
    run = uuid.uuid4().hex[:8]
    school_name, email = f"Adgangsskolen {run}", f"nina.{run}@skole.dk"
    engine = make_engine(live_database_url)
    with Session(engine) as db:
        school = make_school(db, municipality="Aarhus", name=school_name)
        colleague = make_user(db, "teacher", organisation=school, email=f"kollega.{run}@skole.dk")
        colleague_email = colleague.email
        offer_id = db.exec(
            select(Offer.id)
            .join(OfferSession, OfferSession.offer_id == Offer.id)
            .where(Offer.status == OfferStatus.published, OfferSession.starts_at > utcnow())
        ).first()
    engine.dispose()

    visitor = person()
    visitor.goto(f"/offers/{offer_id}")
    log_in_link = visitor.locator("a[href^='/login?next=']").first
    expect(log_in_link).to_be_visible()
    check(visitor, phone=True)
    visitor.locator("a[href='/request-account']").first.click()
    expect(visitor).to_have_url(re.compile(r"/request-account$"))
    check(visitor, phone=True)
    # The search works without JavaScript as a GET form; with htmx the list comes as one types.
    visitor.locator("#q").fill(school_name)
    visitor.locator("form[role=search] button[type=submit]").click()
    chosen = visitor.locator("#organisation_results a[href*='organisation_id=']")
    expect(chosen).to_have_count(1)
    check(visitor, phone=True)
    chosen.click()
    expect(visitor.locator("input[name=organisation_id]")).to_be_attached()
    check(visitor, phone=True)
    # Sent empty: the messages stand beside the fields, and the page stays accessible.
    choose_and_submit(visitor, "/request-account")
    expect(visitor.locator(".error-summary")).to_be_visible()
    check(visitor, phone=True)
    visitor.locator("[name=name]").fill(f"Nina Ny {run}")
    visitor.locator("[name=email]").fill(email)
    visitor.locator("[name=message]").fill("Jeg underviser i fysik/kemi.")
    choose_and_submit(visitor, "/request-account")
    expect(visitor).to_have_url(re.compile(r"/request-account/sent$"))
    check(visitor, phone=True)

    run_worker(live_database_url, smtp_server)
    visitor.goto(link_in(mailbox, email, "/request-account/verify/"))
    expect(visitor.locator("h1")).to_be_visible()
    check(visitor, phone=True)

    approver = person()
    log_in(approver, colleague_email)
    approver.goto("/access-requests")
    check(approver, phone=True)
    approver.locator("table a", has_text=f"Nina Ny {run}").click()
    check(approver, phone=True)
    # Declining needs a reason: sent without one, the page says so.
    approver.locator("form[action$='/decline'] button[type=submit]").click()
    expect(approver.locator(".error-summary")).to_be_visible()
    check(approver, phone=True)
    approver.locator("form[action$='/approve'] button[type=submit]").click()
    expect(approver.locator(".notice")).to_be_visible()
    check(approver, phone=True)

    run_worker(live_database_url, smtp_server)
    newcomer = person()
    newcomer.goto(link_in(mailbox, email, "/invitation/"))
    check(newcomer, phone=True)
    password = "nina vælger en lang adgangskode"
    newcomer.locator("[name=password]").fill(password)
    newcomer.locator("[name=password_repeat]").fill(password)
    newcomer.locator("form[method=post] button[type=submit]").last.click()
    expect(newcomer.locator("form[action='/login']")).to_be_visible()
    log_in(newcomer, email, password)


def test_a_company_registers_and_a_coordinator_approves(person, live_database_url, smtp_server, mailbox):
    run = uuid.uuid4().hex[:8]
    email, cvr = f"chef.{run}@firma.dk", a_cvr()
    engine = make_engine(live_database_url)
    with Session(engine) as db:
        coordinator = make_user(db, "coordinator", email=f"koordinator.{run}@region.dk")
        coordinator_email = coordinator.email
        make_provider(db)  # not needed by the journey; keeps a provider organisation in the list
    engine.dispose()

    company = person()
    company.goto("/login")
    company.locator("a[href='/register-company']").click()
    check(company, phone=True)
    company.locator("[name=cvr]").fill("12345678")  # fails the modulus-11 check
    choose_and_submit(company, "/register-company")
    expect(company.locator("#cvr-error")).to_be_visible()
    check(company, phone=True)
    company.locator("[name=company_name]").fill(f"Lys og Lyd {run} ApS")
    company.locator("[name=cvr]").fill(cvr)
    company.locator("[name=address]").fill("Havnegade 1, 8000 Aarhus C")
    company.locator("[name=municipality]").select_option("Aarhus")
    company.locator("[name=name]").fill(f"Carl Chef {run}")
    company.locator("[name=email]").fill(email)
    company.locator("[name=phone]").fill("12 34 56 78")
    choose_and_submit(company, "/register-company")
    expect(company).to_have_url(re.compile(r"/request-account/sent$"))
    run_worker(live_database_url, smtp_server)
    company.goto(link_in(mailbox, email, "/request-account/verify/"))
    check(company, phone=True)

    coordinator_page = person()
    log_in(coordinator_page, coordinator_email)
    coordinator_page.goto("/access-requests")
    coordinator_page.locator("table a", has_text=f"Carl Chef {run}").click()
    expect(coordinator_page.locator("dd", has_text=cvr)).to_be_visible()
    check(coordinator_page, phone=True)
    coordinator_page.locator("form[action$='/approve'] button[type=submit]").click()
    expect(coordinator_page.locator(".notice")).to_be_visible()
    run_worker(live_database_url, smtp_server)
    assert link_in(mailbox, email, "/invitation/")
