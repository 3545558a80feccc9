"""The catalogue's filters as they appear in an address: parsed leniently, so that an old, edited or
saved link still shows offers instead of an error."""

from collections.abc import Mapping

from app.calendar.bounds import day_from_address
from app.catalogue.models import GRADE_MAX, GRADE_MIN, OfferFormat, OfferType, Subject, Theme
from app.catalogue.service import CatalogueFilters
from app.geography import MUNICIPALITIES
from app.web.forms import int_or_none, optional_choice


def filters_from_query(
    params: Mapping[str, str], origin: tuple[float, float] | None
) -> CatalogueFilters:
    """The filters of a query; distance filters only when there is an origin (a teacher's school)."""
    length = params.get("length")
    date_from, date_to = day_from_address(params.get("from")), day_from_address(params.get("to"))
    if date_from and date_to and date_to < date_from:
        date_from, date_to = date_to, date_from  # the dates typed in the wrong order: the range is meant
    return CatalogueFilters(
        q=(params.get("q") or "").strip()[:100] or None,
        type=optional_choice(OfferType, params.get("type")),
        theme=optional_choice(Theme, params.get("theme")),
        subject=optional_choice(Subject, params.get("subject")),
        grade=int_or_none(params.get("grade"), GRADE_MIN, GRADE_MAX),
        municipality=params.get("municipality")
        if params.get("municipality") in MUNICIPALITIES
        else None,
        format=optional_choice(OfferFormat, params.get("format")),
        long={"long": True, "short": False}.get(length or ""),
        girls_only=params.get("girls") == "1",
        free_places=params.get("free") == "1",
        date_from=date_from,
        date_to=date_to,
        origin=origin,
        max_km=int_or_none(params.get("km"), 1, 500) if origin else None,
        sort="nearest" if params.get("sort") == "nearest" and origin else "soonest",
    )


FILTER_NAMES = (
    "q",
    "type",
    "theme",
    "subject",
    "grade",
    "municipality",
    "format",
    "length",
    "girls",
    "free",
    "from",
    "to",
    "km",
    "sort",
)
