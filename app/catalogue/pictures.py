"""The picture an offer is shown with on its card and its page: the provider's own when they have
uploaded one, or else one of the project's drawings (static/img/offers), chosen by the offer's kind
and first theme, so that no card is without a picture and no schema holds the choice."""

from collections.abc import Sequence
from dataclasses import dataclass

from sqlmodel import Session, col, select

from app.catalogue.models import Offer, OfferPicture, OfferTheme, OfferType, Theme
from app.i18n import _

STOCK_DIR = "/static/img/offers"

# Kinds whose drawing says what they are better than a theme could: a girls' day, a mentor, an
# expert's visit. The others (a company week, an innovation game, a course) are shown by their theme.
SHOWN_BY_KIND = {OfferType.girls_day, OfferType.mentoring, OfferType.expert}


@dataclass(frozen=True)
class Picture:
    src: str
    alt: str  # in the reader's language
    own: bool = False  # the provider's upload, not a drawing of the project


def _drawing(name: str, alt: str) -> Picture:
    return Picture(STOCK_DIR + "/" + name + ".svg", alt)


def _kind_pictures() -> dict[OfferType, Picture]:
    return {
        OfferType.company_week: _drawing("company-week", _("Drawing: a class on its way into a factory")),
        OfferType.innovation_game: _drawing("innovation-game", _("Drawing: a light bulb among sticky notes with ideas")),
        OfferType.girls_day: _drawing("girls-day", _("Drawing: a girl with a microscope and a flask")),
        OfferType.expert: _drawing("expert", _("Drawing: a visiting expert beside a board with a chart")),
        OfferType.mentoring: _drawing("mentoring", _("Drawing: an older pupil explains an equation to a younger one")),
        OfferType.course: _drawing("course", _("Drawing: books, a calendar and a pencil")),
    }


def _theme_pictures() -> dict[Theme, Picture]:
    return {
        Theme.food: _drawing("food", _("Drawing: a plate of vegetables and an ear of grain")),
        Theme.climate_energy: _drawing("climate-energy", _("Drawing: wind turbines under the sun and a solar panel")),
        Theme.industry: _drawing("industry", _("Drawing: a robot arm and a gear")),
        Theme.ict: _drawing("ict", _("Drawing: a laptop with code")),
        Theme.health: _drawing("health", _("Drawing: a heart with a pulse line and a first-aid cross")),
    }


def stock_picture(offer_type: OfferType, themes: Sequence[Theme]) -> Picture:
    """The project's drawing for an offer of this kind and these themes (the first, in the order of
    the Theme list, so the same offer always gets the same drawing)."""
    if offer_type not in SHOWN_BY_KIND and themes:
        first = min(themes, key=list(Theme).index)
        return _theme_pictures()[first]
    return _kind_pictures()[offer_type]


def pictures_of(db: Session, offers: Sequence[Offer]) -> dict[int, Picture]:
    """Each offer's picture, in two queries whatever the number of offers."""
    ids = [o.id for o in offers if o.id is not None]
    if not ids:
        return {}
    themes: dict[int, list[Theme]] = {}
    for offer_id, theme in db.exec(
        select(OfferTheme.offer_id, OfferTheme.theme).where(col(OfferTheme.offer_id).in_(ids))
    ):
        themes.setdefault(offer_id, []).append(theme)
    uploaded = [o.id for o in offers if o.picture_version]
    alts = (
        dict(
            db.exec(
                select(OfferPicture.offer_id, OfferPicture.alt_text).where(
                    col(OfferPicture.offer_id).in_(uploaded)
                )
            ).all()
        )
        if uploaded
        else {}
    )
    pictures = {}
    for offer in offers:
        assert offer.id is not None
        if offer.picture_version and offer.id in alts:
            pictures[offer.id] = Picture(
                f"/offers/{offer.id}/picture/{offer.picture_version}", alts[offer.id] or "", own=True
            )
        else:
            pictures[offer.id] = stock_picture(offer.type, themes.get(offer.id, []))
    return pictures
