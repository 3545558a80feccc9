"""The footer's pages (privacy policy, cookies, accessibility statement) and the offers' pictures."""

import re

from app.catalogue.models import OfferType, Theme
from app.catalogue.pictures import pictures_of, stock_picture
from app.i18n import language
from app.web.middleware import LANGUAGE_COOKIE
from tests.factories import published_session


def test_every_page_links_to_the_footer_pages(client):
    page = client.get("/catalogue").text
    footer = page[page.index('<footer class="site-footer">') :]
    for href in ("/privacy", "/cookies", "/accessibility"):
        assert f'href="{href}"' in footer
    assert "mailto:stem@rm.dk" in footer


def test_the_footer_pages_are_in_danish(client):
    client.cookies.set(LANGUAGE_COOKIE, "da")
    privacy = client.get("/privacy")
    assert privacy.status_code == 200
    assert "<h1>Privatlivspolitik</h1>" in privacy.text
    assert "Datatilsynet" in privacy.text

    cookies = client.get("/cookies").text
    # Only the cookies the portal needs: the session, the forms' CSRF protection and the language.
    assert re.findall(r"<code>([^<]+)</code>", cookies) == ["stem_session", "stem_csrf", "stem_lang"]
    assert "samtykke" in cookies

    statement = client.get("/accessibility").text
    assert "<h1>Tilgængelighedserklæring</h1>" in statement
    # The Digitaliseringsstyrelsen's structure: scope, compliance, known issues, feedback, complaints.
    for heading in ("Hvad erklæringen dækker", "Hvor tilgængelig portalen er", "Kendte problemer", "Fortæl os om et problem", "Klager"):
        assert f"<h2>{heading}</h2>" in statement
    assert "Digitaliseringsstyrelsen" in statement and "was.digst.dk" in statement
    # Breadcrumbs from the front page
    assert '<nav class="breadcrumbs wrap" aria-label="Du er her">' in statement


def test_every_kind_and_theme_has_a_drawing_with_a_description(db):
    with language("da"):
        for kind in OfferType:
            for themes in ([], *([t] for t in Theme)):
                picture = stock_picture(kind, themes)
                assert picture.src.startswith("/static/img/offers/") and picture.alt.startswith("Tegning: ")
    # A girls' day is shown as one whatever its theme; a company week by its theme.
    assert stock_picture(OfferType.girls_day, [Theme.ict]).src.endswith("girls-day.svg")
    assert stock_picture(OfferType.company_week, [Theme.ict, Theme.food]).src.endswith("food.svg")


def test_catalogue_cards_show_a_picture_and_dates_as_chips(client, db):
    offer, session = published_session(db, capacity=30)
    client.cookies.set(LANGUAGE_COOKIE, "da")
    with language("da"):
        picture = pictures_of(db, [offer])[offer.id]
    assert picture.src.endswith("/course.svg")  # a course without a theme
    page = client.get("/catalogue").text
    assert f'<img class="card-picture" src="{picture.src}" alt="{picture.alt}"' in page
    chip = re.search(r'<span class="date-chip">(.*?)</span>', page).group(1)
    assert "30 ledige pladser" in chip and re.search(r"\d\d[.:]\d\d–\d\d[.:]\d\d", chip)  # with the times
    assert f'src="{picture.src}"' in client.get(f"/offers/{offer.id}").text
