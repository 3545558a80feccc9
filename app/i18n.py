"""Languages: Danish first, English available. Messages are English msgids with a Danish catalog."""

from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from datetime import date, datetime
from functools import cache
from gettext import GNUTranslations, NullTranslations
from io import BytesIO
from pathlib import Path
from zoneinfo import ZoneInfo

from babel import Locale
from babel.dates import format_date, format_datetime, format_time
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from babel.numbers import format_decimal

LANGUAGES = ("da", "en")
DEFAULT_LANGUAGE = "da"
TIMEZONE = ZoneInfo("Europe/Copenhagen")
CATALOG_DIR = Path(__file__).resolve().parent.parent / "translations"

_current: ContextVar[str] = ContextVar("language", default=DEFAULT_LANGUAGE)


@cache
def translations(language: str) -> NullTranslations:
    """The catalog for a language, compiled in memory from its .po file (no build step to forget)."""
    po_path = CATALOG_DIR / language / "LC_MESSAGES" / "messages.po"
    if not po_path.exists():
        return NullTranslations()
    with po_path.open("rb") as f:
        catalog = read_po(f, locale=language)
    buffer = BytesIO()
    write_mo(buffer, catalog)
    buffer.seek(0)
    return GNUTranslations(buffer)


def current_language() -> str:
    return _current.get()


def set_language(language: str) -> None:
    _current.set(language if language in LANGUAGES else DEFAULT_LANGUAGE)


@contextmanager
def language(code: str) -> Iterator[None]:
    """Speak another language for a while, e.g. to write an e-mail in its recipient's language."""
    token = _current.set(code if code in LANGUAGES else DEFAULT_LANGUAGE)
    try:
        yield
    finally:
        _current.reset(token)


def gettext(message: str) -> str:
    return translations(_current.get()).gettext(message)


def ngettext(singular: str, plural: str, n: int) -> str:
    return translations(_current.get()).ngettext(singular, plural, n)


_ = gettext


def pick_language(*, cookie: str | None, accept_language: str | None, api: bool) -> str:
    """Pages speak Danish until the visitor picks English; the API follows Accept-Language."""
    if api:
        first = (accept_language or "").split(",")[0].split(";")[0].strip().lower()[:2]
        return first if first in LANGUAGES else "en"
    return cookie if cookie in LANGUAGES else DEFAULT_LANGUAGE


# How dates, times and numbers are written in each language: English as in Britain (27 Jan 2027,
# 08:30), which readers in Denmark expect more than American forms (Jan 27, 2027, 8:30 AM).
_FORMATS_LOCALE = {"da": "da_DK", "en": "en_GB"}


def formats_locale() -> Locale:
    return Locale.parse(_FORMATS_LOCALE.get(_current.get(), _current.get()))


def local_number(value: float, digits: int = 1) -> str:
    """A number as the language writes it: 74,5 in Danish, 74.5 in English."""
    return format_decimal(round(value, digits), locale=formats_locale())


def local_datetime(value: datetime, format: str = "medium") -> str:
    """The date in Babel's `format` ("short", "medium", "long", "full") and the time of day without
    seconds or zone ("27. jan. 2027 08.30"): activities start on the minute, all in one zone."""
    locale = formats_locale()
    pattern = locale.datetime_formats[format].format(locale.time_formats["short"].pattern, locale.date_formats[format].pattern)
    return format_datetime(value, pattern, tzinfo=TIMEZONE, locale=locale)


def local_time(value: datetime) -> str:
    """The time of day in Copenhagen: "08.30", "08:30"."""
    return format_time(value, "short", tzinfo=TIMEZONE, locale=formats_locale())


def local_span(starts: datetime, ends: datetime, format: str = "medium") -> str:
    """When an activity runs: "onsdag den 2. december 2026 08.15–11.30" on one day, both ends in
    full over several."""
    if starts.astimezone(TIMEZONE).date() == ends.astimezone(TIMEZONE).date():
        return f"{local_datetime(starts, format)}–{local_time(ends)}"
    return f"{local_datetime(starts, format)} – {local_datetime(ends, format)}"


def local_date(value: date | datetime, format: str = "long") -> str:
    if isinstance(value, datetime):
        value = value.astimezone(TIMEZONE).date()
    return format_date(value, format, locale=formats_locale())
