"""Issue 14's browser journey of a youth-to-youth mentor, in a real Chromium against the live
server, axe-core on every page visited: a 16-year-old signs up, their guardian consents from the
link in the e-mail (sent by the real worker to the test SMTP server), a teacher of their gymnasium
approves them, they take a shift, the primary school's teacher sees them on the booking, and
after the date they download their certificate, which the test reads with pypdf.

Each person has a browser of their own. Elements are found by role, form action or field name,
and the checks are on data (names, numbers), not on wording, which the translations may change."""

import io
import re
import subprocess
import sys
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta
from urllib.parse import urlsplit

import pytest
from dateutil.relativedelta import relativedelta
from playwright.sync_api import Browser, Page, expect
from pypdf import PdfReader
from sqlmodel import Session, col, func, select

from app.accounts.models import Role, User
from app.bookings.models import Booking, BookingStatus
from app.catalogue.models import Offer, OfferSession
from app.db import make_engine, utcnow
from app.i18n import TIMEZONE, language
from app.mentors.certificate import hours_text
from app.mentors.hours import complete_past_shifts
from app.mentors.models import MentorProfile, MentorStatus, Shift, ShiftStatus
from app.notifications.models import OutboxMessage
from tests.browser.conftest import ROOT, assert_accessible
from tests.conftest import clock_env
from tests.factories import PASSWORD, make_institution, make_school, make_user, mentoring_date

pytestmark = pytest.mark.browser

DESKTOP = {"width": 1280, "height": 800}
PHONE = {"width": 390, "height": 844}
MUNICIPALITY = "Aarhus"
VISIT_MINUTES = 210  # 3.5 hours: a figure that cannot turn up on the certificate by chance


@dataclass
class Setting:
    """What the journey needs that is made directly in the database."""

    gymnasium_id: int
    gymnasium: str
    gym_teacher: str  # e-mail address
    session_id: int
    title: str
    school: str
    school_teacher: str  # e-mail address
    booking_id: int


@pytest.fixture
def setting(live_database_url) -> Setting:
    """A gymnasium in Aarhus with a teacher; a mentoring offer for grades 9-10 in Aarhus with one
    date (one or two mentors); a primary school's teacher's confirmed booking of that date."""
    engine = make_engine(live_database_url)
    with Session(engine) as db:
        gymnasium = make_institution(db, municipality=MUNICIPALITY)
        gym_teacher = make_user(db, Role.teacher, organisation=gymnasium)
        # Soon, so the date is on the first page of the mentor's free shifts beside the demo's.
        starts = datetime.combine(
            (utcnow() + timedelta(days=6)).astimezone(TIMEZONE).date(),
            datetime.min.time().replace(hour=9),
            TIMEZONE,
        )
        date_ = mentoring_date(db, starts_at=starts, grades=(9, 10), municipality=MUNICIPALITY)
        date_.ends_at = date_.starts_at + timedelta(minutes=VISIT_MINUTES)
        db.add(date_)
        offer = db.get(Offer, date_.offer_id)
        school = make_school(db, municipality=MUNICIPALITY)
        school_teacher = make_user(db, Role.teacher, organisation=school)
        booking = Booking(
            session_id=date_.id,
            school_id=school.id,
            teacher_id=school_teacher.id,
            status=BookingStatus.confirmed,
            class_name="9.b",
            grade=9,
            pupils=24,
        )
        db.add(booking)
        db.commit()
        found = Setting(
            gymnasium.id,
            gymnasium.name,
            gym_teacher.email,
            date_.id,
            offer.title,
            school.name,
            school_teacher.email,
            booking.id,
        )
    engine.dispose()
    return found


@pytest.fixture
def person(browser: Browser, live_server) -> Iterator[Callable[[], Page]]:
    """A browser of its own for each person of the journey (as the conftest's `page`, at desktop
    width); at the end none of them may have logged a console error."""
    contexts, pages = [], []

    def new() -> Page:
        context = browser.new_context(
            base_url=live_server, bypass_csp=True, locale="da-DK", viewport=DESKTOP
        )
        page = context.new_page()
        errors: list[str] = []
        page.on(
            "console",
            lambda m: errors.append(m.text) if m.type == "error" and "422" not in m.text else None,
        )
        page.console_errors = errors  # type: ignore[attr-defined]
        contexts.append(context)
        pages.append(page)
        return page

    yield new
    try:
        assert {p.url: p.console_errors for p in pages if p.console_errors} == {}
    finally:
        for context in contexts:
            context.close()


def check(page: Page, *, phone: bool = False) -> None:
    """axe on the page at desktop width; with `phone`, also at 390 px, where nothing may be wider
    than the screen."""
    assert_accessible(page)
    if phone:
        page.set_viewport_size(PHONE)
        try:
            assert_accessible(page)
            width = page.evaluate("document.documentElement.scrollWidth")
            assert width <= PHONE["width"], (
                f"{page.url} is {width} px wide on a {PHONE['width']} px phone"
            )
        finally:
            page.set_viewport_size(DESKTOP)


def log_in(page: Page, email: str, password: str = PASSWORD, *, axe: bool = False) -> None:
    page.goto("/login")
    if axe:
        check(page)
    form = page.locator("form[action='/login']")
    form.locator("[name=email]").fill(email)
    form.locator("[name=password]").fill(password)
    form.locator("button[type=submit]").click()
    expect(page.locator("form[action='/logout']")).to_be_attached()


def nav(page: Page, href: str) -> None:
    """Follow the main menu's link to `href`."""
    page.get_by_role("navigation").first.locator(f"a[href='{href}']").click()
    expect(page).to_have_url(re.compile(re.escape(href) + r"(\?|$)"))


def run_worker(live_database_url: str, smtp_server) -> None:
    """The real worker, sending the outbox to the test SMTP server until it is empty: a pass sends
    at most 50 messages, and the demo's mentors have reminders of their own shifts to send."""
    engine = make_engine(live_database_url)
    try:
        for _ in range(30):
            _run_worker_once(live_database_url, smtp_server)
            with Session(engine) as db:
                if db.exec(select(func.count()).where(col(OutboxMessage.sent_at).is_(None))).one() == 0:
                    return
    finally:
        engine.dispose()
    raise AssertionError("the outbox did not empty")


def _run_worker_once(live_database_url: str, smtp_server) -> None:
    """The real worker, once."""
    controller, _box = smtp_server
    env = {
        "DATABASE_URL": live_database_url,
        "SMTP_HOST": "127.0.0.1",
        "SMTP_PORT": str(controller.port),
        "PATH": "/usr/bin:/bin",
        **clock_env(),
    }
    done = subprocess.run(
        [sys.executable, "-m", "app", "worker", "--once"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr


def link_in(mailbox, address: str, path: str) -> str:
    """The path of the one link to `path…` in the e-mail(s) to `address`. The live server runs with
    the default BASE_URL (its port is chosen when it starts), so the link's host is not the live
    server's: the test opens the link's path on the live server."""
    links = [
        found
        for message in mailbox.to(address)
        for found in re.findall(
            r"https?://\S+", message.get_body(preferencelist=("plain",)).get_content()
        )
        if urlsplit(found).path.startswith(path)
    ]
    assert len(links) == 1, (address, path, [m["Subject"] for m in mailbox.messages])
    return urlsplit(links[0]).path


def test_a_16_year_old_mentor_from_sign_up_to_certificate(
    person, setting, live_database_url, smtp_server, mailbox
):
    today = utcnow().astimezone(TIMEZONE).date()  # the server's clock (TEST_TODAY too: tests/clock)
    born = today - relativedelta(years=16, months=3)  # 16 on any day of the year
    run = uuid.uuid4().hex[:8]
    first, surname = "Sofie", f"Mentorsen{run}"
    name, email, guardian = (
        f"{first} {surname}",
        f"sofie.{run}@example.dk",
        f"foraelder.{run}@example.dk",
    )
    password = "sofie har en lang adgangskode"
    study_line = "STX, bioteknologi A"
    why = f"Jeg vil forstå, hvordan celler virker ({run})."

    # --- the mentor signs up, on the page the public menu links to --------------------------------
    mentor = person()
    mentor.goto("/")
    nav(mentor, "/mentors/signup")
    check(mentor, phone=True)
    form = mentor.locator("form[action='/mentors/signup']")
    form.locator("[name=name]").fill(name)
    form.locator("[name=email]").fill(email)
    form.locator("[name=password]").fill(password)
    form.locator("[name=birth_date]").fill(born.isoformat())
    form.locator("[name=guardian_email]").fill(guardian)
    form.locator("select[name=institution_id]").select_option(str(setting.gymnasium_id))
    form.locator("[name=study_programme]").fill(study_line)
    form.locator("[name=finishing_year]").fill(str(today.year + 2))
    form.locator(f"input[name=municipalities][value='{MUNICIPALITY}']").check()
    form.locator("[name=why_stem]").fill(why)
    form.locator("[name=show_why_stem]").check()
    form.locator("[name=accepts_code_of_conduct]").check()
    form.locator("button[type=submit]").click()
    expect(mentor).to_have_url(
        re.compile(r"/mentors/signup/done\?guardian=1$")
    )  # a minor: the guardian is asked
    check(mentor, phone=True)

    engine = make_engine(live_database_url)
    with Session(engine) as db:
        user = db.exec(select(User).where(User.email == email)).one()
        mentor_id = user.id
        profile = db.get(MentorProfile, mentor_id)
        assert (profile.status, profile.birth_date, profile.guardian_email) == (
            MentorStatus.awaiting_consent,
            born,
            guardian,
        )

    # --- the worker mails the guardian; the guardian consents from the link ------------------------
    run_worker(live_database_url, smtp_server)
    guardian_page = person()
    guardian_page.goto(link_in(mailbox, guardian, "/mentors/consent/"))
    expect(guardian_page.get_by_role("heading", level=1)).to_contain_text(name)
    check(guardian_page, phone=True)
    consent = guardian_page.locator("form[method=post]:has([name=guardian_name])")
    consent.locator("[name=guardian_name]").fill(f"Hanne {surname}")
    consent.locator("[name=consents]").check()
    consent.locator("button[type=submit]").click()
    expect(guardian_page).to_have_url(re.compile(r"/mentors/consent-given$"))
    check(guardian_page)

    # The mentor confirms their own address from their e-mail too.
    mentor.goto(link_in(mailbox, email, "/mentors/verify/"))
    expect(mentor.get_by_role("main")).to_contain_text(email)
    check(mentor)

    # --- a teacher of the gymnasium approves the mentor from the queue ------------------------------
    teacher = person()
    log_in(teacher, setting.gym_teacher)
    nav(teacher, "/mentors")
    check(teacher)
    row = teacher.get_by_role("row").filter(has=teacher.get_by_role("link", name=name))
    expect(row).to_contain_text(setting.gymnasium)
    expect(row).to_contain_text(study_line)
    row.get_by_role("link", name=name).click()
    expect(teacher).to_have_url(re.compile(rf"/mentors/{mentor_id}$"))
    check(teacher)
    teacher.locator(f"form[action='/mentors/{mentor_id}/approve'] button[type=submit]").click()
    expect(teacher).to_have_url(re.compile(rf"/mentors/{mentor_id}\?notice=approved$"))
    expect(teacher.locator(f"form[action='/mentors/{mentor_id}/approve']")).to_have_count(0)
    check(teacher)

    # --- the mentor logs in, opens the approval from the inbox and takes the shift -----------------
    log_in(mentor, email, password, axe=True)
    nav(mentor, "/inbox")
    check(mentor)
    # The one message with a link: the approval, which leads to the free shifts.
    mentor.locator("form[action^='/inbox/'][action$='/open'] button[type=submit]").click()
    expect(mentor).to_have_url(re.compile(r"/mentor/shifts$"))
    check(mentor, phone=True)
    mentor.locator(f"a[href='/mentor/shifts/{setting.session_id}']").first.click()
    expect(mentor).to_have_url(re.compile(rf"/mentor/shifts/{setting.session_id}$"))
    expect(mentor.get_by_role("heading", level=1)).to_have_text(setting.title)
    check(mentor, phone=True)
    take = mentor.locator(f"form[action='/mentor/shifts/{setting.session_id}/signup']")
    conduct = take.locator("[name=accepts_code_of_conduct]")
    if conduct.count():  # only when the code of conduct changed since the sign-up
        conduct.check()
    take.locator("button[type=submit]").click()
    expect(mentor).to_have_url(re.compile(rf"/mentor/shifts/{setting.session_id}\?notice=taken$"))
    expect(
        mentor.locator(f"form[action='/mentor/shifts/{setting.session_id}/leave']")
    ).to_be_attached()
    # The visit's details now: the school and the class.
    expect(mentor.get_by_role("main")).to_contain_text(setting.school)
    expect(mentor.get_by_role("main")).to_contain_text("9.b")
    check(mentor, phone=True)

    # --- the primary school's teacher sees the mentor on the booking -------------------------------
    school_teacher = person()
    log_in(school_teacher, setting.school_teacher)
    nav(school_teacher, "/bookings")
    check(school_teacher)
    school_teacher.locator(f"a[href='/bookings/{setting.booking_id}']").first.click()
    expect(school_teacher).to_have_url(re.compile(rf"/bookings/{setting.booking_id}$"))
    main = school_teacher.get_by_role("main")
    mentor_item = main.locator("li").filter(has_text=setting.gymnasium)
    expect(mentor_item).to_have_count(1)
    expect(mentor_item).to_contain_text(first)
    expect(mentor_item).to_contain_text(study_line)
    expect(mentor_item).to_contain_text(why)  # they chose to show it
    # A school never sees the mentor's surname, e-mail address or date of birth.
    for hidden in (surname, email, born.isoformat()):
        expect(main).not_to_contain_text(hidden)
    check(school_teacher)

    # --- after the date -----------------------------------------------------------------------
    # The server's clock is never faked: the date is moved into the past in the database (it began
    # three days ago, as long as before), and the hours job the worker runs is run with a `now`
    # after it, as the worker would.
    with Session(engine) as db:
        date_ = db.get(OfferSession, setting.session_id)
        date_.starts_at = datetime.combine(
            today - timedelta(days=3), datetime.min.time().replace(hour=9), TIMEZONE
        )
        date_.ends_at = date_.starts_at + timedelta(minutes=VISIT_MINUTES)
        db.add(date_)
        db.commit()
        assert complete_past_shifts(db, now=utcnow()) >= 1
        shift = db.exec(
            select(Shift).where(
                Shift.session_id == setting.session_id, Shift.mentor_id == mentor_id
            )
        ).one()
        assert (shift.status, shift.minutes) == (ShiftStatus.completed, VISIT_MINUTES)
        with language(db.get(User, mentor_id).language):
            hours = hours_text(VISIT_MINUTES)  # "3,5" in Danish
    engine.dispose()

    nav(mentor, "/mentor/hours")
    check(mentor)
    visit = mentor.get_by_role("row").filter(has_text=setting.title)
    expect(visit).to_have_count(1)
    expect(visit).to_contain_text(setting.school)
    expect(visit).to_contain_text(hours)
    with mentor.expect_download() as download:
        mentor.locator("a[href='/mentor/certificate.pdf']").click()
    with open(download.value.path(), "rb") as file:
        pdf = PdfReader(io.BytesIO(file.read()))
    text = " ".join(" ".join((p.extract_text() or "").split()) for p in pdf.pages)
    assert name in text
    assert setting.gymnasium in text
    assert setting.title in text
    assert setting.school in text
    # The visit's row ends with its hours (the date, the activity and provider, the school, hours).
    assert re.search(re.escape(setting.school) + r"\s+" + re.escape(hours) + r"\b", text), text
