"""A provider makes company weeks, Monday to Friday, with the weekly rule in a real browser; reloading
the page after submitting shows it again (no 405); a teacher sees each week as one date. Axe on every
page, at desktop width and on a 390 px phone."""

import re
from datetime import timedelta

import pytest
from playwright.sync_api import expect
from sqlmodel import Session, col, select

from app import demo
from app.accounts.models import User
from app.catalogue.models import Offer, OfferSession, OfferStatus, OfferType
from app.db import make_engine, utcnow
from app.i18n import TIMEZONE
from tests.browser.conftest import assert_accessible
from tests.browser.test_login import log_in, log_out

pytestmark = pytest.mark.browser
WIDTHS = {"desktop": {"width": 1280, "height": 900}, "phone": {"width": 390, "height": 844}}


@pytest.fixture
def company_week(live_database_url, request) -> int:
    """A published company week of the demo provider, with no dates yet."""
    engine = make_engine(live_database_url)
    with Session(engine) as db:
        provider = db.exec(select(User).where(User.email == demo.ACCOUNTS["provider"])).one()
        offer = Offer(provider_id=provider.organisation_id, type=OfferType.company_week, status=OfferStatus.published,
                      title=f"Virksomhedsuge: Byg en vindmølle ({request.node.callspec.id})", summary="En uge i værkstedet",
                      grade_min=7, grade_max=9, municipality="Favrskov", is_long=True, published_at=utcnow())
        db.add(offer)
        db.commit()
        offer_id = offer.id
    engine.dispose()
    return offer_id


def sessions_of(live_database_url, offer_id: int) -> list[OfferSession]:
    engine = make_engine(live_database_url)
    with Session(engine) as db:
        sessions = db.exec(
            select(OfferSession).where(OfferSession.offer_id == offer_id).order_by(col(OfferSession.starts_at))
        ).all()
    engine.dispose()
    return list(sessions)


def fits_the_phone(page) -> None:
    assert page.evaluate("document.documentElement.scrollWidth") <= WIDTHS["phone"]["width"]


@pytest.mark.parametrize("width", sorted(WIDTHS))
def test_company_weeks_by_the_weekly_rule_reload_and_show_as_one_date(page, live_database_url, company_week, width):
    page.set_viewport_size(WIDTHS[width])
    today = utcnow().astimezone(TIMEZONE).date()
    monday = today + timedelta(days=70 - today.weekday())
    log_in(page, demo.ACCOUNTS["provider"])
    page.goto(f"/provider/offers/{company_week}/sessions")
    assert_accessible(page)

    rule = page.locator("form[action$='/sessions/recurring']")
    rule.get_by_label("Mandag").check()
    rule.get_by_label("Starter kl.").fill("08:00")
    rule.get_by_label("Slutter kl.").fill("15:00")
    rule.get_by_label("Første dato").fill(monday.isoformat())
    rule.get_by_label("Sidste dato").fill((monday + timedelta(days=25)).isoformat())  # four weeks, to a Friday
    rule.get_by_label("Antal dage pr. dato").fill("5")
    rule.get_by_label("Pladser til elever").fill("28")
    rule.get_by_role("button", name="Tilføj datoer").click()

    expect(page).to_have_url(re.compile(rf"/provider/offers/{company_week}/sessions\?notice=session_added"))
    made = sessions_of(live_database_url, company_week)
    assert made, "no week was made"
    notice = "Datoerne er tilføjet." if len(made) > 1 else "Datoen er tilføjet."
    expect(page.get_by_text(notice)).to_be_visible()
    for session in made:  # Monday 8 to Friday 15, in one date
        starts, ends = session.starts_at.astimezone(TIMEZONE), session.ends_at.astimezone(TIMEZONE)
        assert (starts.weekday(), starts.hour, ends.weekday(), ends.hour) == (0, 8, 4, 15)
        assert ends.date() - starts.date() == timedelta(days=4)
    if width == "phone":
        fits_the_phone(page)
    assert_accessible(page)

    # Reloading the page after the form shows the page again, not "405 Method Not Allowed".
    reloaded = page.reload()
    assert reloaded is not None and reloaded.status == 200
    expect(page.get_by_text(notice)).to_be_visible()
    assert len(sessions_of(live_database_url, company_week)) == len(made)  # nothing posted anew
    log_out(page)

    log_in(page, demo.ACCOUNTS["teacher"])
    page.goto(f"/offers/{company_week}")
    dates = page.locator("table").filter(has=page.locator("a[href^='/sessions/']")).locator("tbody tr")
    expect(dates).to_have_count(len(made))  # one row a week, not one a day
    first = dates.first
    expect(first.locator("td").nth(0)).to_contain_text(str(made[0].starts_at.astimezone(TIMEZONE).day) + ".")
    expect(first.locator("td").nth(1)).to_contain_text(str(made[0].ends_at.astimezone(TIMEZONE).day) + ".")
    expect(first.locator("td").nth(1)).to_contain_text("15.00")
    if width == "phone":
        fits_the_phone(page)
    assert_accessible(page)
    assert page.console_errors == []  # type: ignore[attr-defined]
