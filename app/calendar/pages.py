"""HTML pages of the shared calendar (month, week, agenda) and the per-user calendar feed."""

from datetime import date
from typing import Any
from urllib.parse import parse_qsl, urlencode

from babel.dates import format_date, format_interval, get_day_names
from fastapi import APIRouter, Request
from fastapi.responses import Response

from app.accounts import secrets
from app.accounts.models import Role, User
from app.calendar import service as calendar
from app.calendar.bounds import day_from_address
from app.calendar.service import CalendarEntry, Period, View
from app.catalogue.filters import filters_from_query
from app.catalogue.models import GRADE_MAX, GRADE_MIN, OfferFormat, OfferType, Subject, Theme
from app.catalogue.service import school_origin
from app.deps import MaybeUser, Now, PageUser, SessionDep
from app.errors import NotFound
from app.i18n import TIMEZONE, _, formats_locale
from app.web.forms import PostedForm
from app.web.templating import redirect, render

router = APIRouter()

# Holds a new feed token from the POST that made it to the page that shows it, once, so the secret
# never appears in an address (history, logs, Referer).
NEW_FEED_COOKIE = "stem_new_calendar_feed"
# The catalogue's filters that make sense in a calendar: not its dates (the view chooses them),
# free places (all of them, until bookings exist), order or paging.
CALENDAR_FILTERS = (
    "q",
    "type",
    "theme",
    "subject",
    "grade",
    "municipality",
    "format",
    "length",
    "girls",
    "km",
)
MONTH_CELL_LIMIT = 3
AGENDA_LIMIT = 200


def _view(value: str | None, *, phone: bool = False) -> View:
    """The view in the address; without one, the month (the agenda on a phone, where a month's
    grid is too narrow to read)."""
    default = View.agenda if phone else View.month
    try:
        return View(value or default)
    except ValueError:
        return default


def _is_phone(request: Request) -> bool:
    """A phone, as the browser says (the client hint Chromium sends, or "Mobi" in the user agent,
    the token every mobile browser's has): decided on the server so that it works without
    JavaScript. The answer varies by these headers (PHONE_HEADERS)."""
    if request.headers.get("sec-ch-ua-mobile") == "?1":
        return True
    return "Mobi" in request.headers.get("user-agent", "")


PHONE_HEADERS = "Sec-CH-UA-Mobile, User-Agent"


def _anchor(value: str | None, today: date) -> date:
    """The date in the address; anything else (missing, malformed, absurd) means today."""
    return day_from_address(value) or today


def _kept_filters(params) -> dict[str, str]:
    return {k: str(params[k])[:100] for k in CALENDAR_FILTERS if params.get(k)}


def calendar_url(view: View, day: date, filters: dict[str, str]) -> str:
    return "/calendar?" + urlencode({"view": view.value, "date": day.isoformat(), **filters})


def _title(shown: Period) -> str:
    locale = formats_locale()
    if shown.view == View.month:
        title = format_date(shown.first, "LLLL y", locale=locale)
        return title[:1].upper() + title[1:]
    interval = format_interval(shown.first, shown.last, "yMMMMd", locale=locale)
    if shown.view == View.week:
        return _("Week %(num)d: %(dates)s") % {
            "num": shown.first.isocalendar().week,
            "dates": interval,
        }
    return _("Agenda: %(dates)s") % {"dates": interval}


def _intro(user: User | None) -> str:
    if user is None or user.role == Role.mentor:
        return _("Sessions of published offers that can still be booked.")
    if user.role == Role.teacher:
        return _(
            "Sessions that can still be booked and fit your filters, and your school's bookings."
        )
    if user.role == Role.provider:
        return _(
            "Every session of your organisation's offers, drafts included, with how many places are free."
        )
    if user.municipality:
        return _("Sessions of published offers in %(municipality)s.") % {
            "municipality": user.municipality
        }
    return _("Sessions of all published offers in the region.")


def _agenda_days(
    entries: list[CalendarEntry], shown: Period
) -> tuple[list[tuple[date, list[CalendarEntry]]], date | None]:
    """Days with their entries, each entry once on the day it starts (or the first day shown), cut
    after the day on which AGENDA_LIMIT is reached; with the day to continue from when cut."""
    by_day: dict[date, list[CalendarEntry]] = {}
    for entry in entries:
        by_day.setdefault(max(entry.local_starts_at.date(), shown.first), []).append(entry)
    days, count = [], 0
    for day in sorted(by_day):
        if count >= AGENDA_LIMIT:
            return days, day
        days.append((day, by_day[day]))
        count += len(by_day[day])
    return days, None


def _notice(code: str | None) -> str | None:
    return {
        "feed_created": _(
            "A new address for your calendar feed has been made. Any older address no longer works."
        ),
        "feed_revoked": _("Your calendar feed has been stopped. Its address no longer works."),
    }.get(code or "")


def _feed_url(request: Request, token: str) -> str:
    return f"{request.app.state.settings.base_url}/calendar/feed/{token}.ics"


@router.get("/calendar")
def calendar_page(
    request: Request, db: SessionDep, user: MaybeUser, now: Now, notice: str | None = None
) -> Response:
    params = request.query_params
    today = now.astimezone(TIMEZONE).date()
    view = _view(params.get("view"), phone=_is_phone(request))
    anchor = _anchor(params.get("date"), today)
    shown = calendar.period(view, anchor)
    filtered = _kept_filters(params)
    origin = school_origin(db, user)
    filters = filters_from_query(filtered, origin)
    only_ours = calendar.shows_only_bookings(user, params.get("show"), default="all")
    # The toggle is kept in every link of the page, like the filters (it is not one: not counted).
    kept = {**filtered, "show": "ours"} if only_ours else filtered
    entries = calendar.calendar_entries(
        db, user, shown.starts_at, shown.ends_at, filters=filters, now=now, only_booked=only_ours
    )

    context: dict[str, Any] = {
        "view": view,
        "period": shown,
        "anchor": anchor,
        "today": today,
        "title": _title(shown),
        "intro": _intro(user),
        "params": filtered,
        "only_ours": only_ours,
        "can_show_ours": user is not None and user.role == Role.teacher,
        "show_urls": {"all": calendar_url(view, anchor, filtered), "ours": calendar_url(view, anchor, {**filtered, "show": "ours"})},
        "has_origin": origin is not None,
        "show_capacity": user is not None and (user.role == Role.provider or user.is_staff),
        "fragment": request.headers.get("HX-Target") == "calendar",
        "notice_message": _notice(notice),
        "day_names": get_day_names("wide", locale=formats_locale()),
        "short_day_names": get_day_names("abbreviated", locale=formats_locale()),
        "month_cell_limit": MONTH_CELL_LIMIT,
        "urls": {
            "previous": calendar_url(view, shown.previous, kept),
            "next": calendar_url(view, shown.next, kept),
            "today": calendar_url(view, today, kept),
            **{v.value: calendar_url(v, anchor, kept) for v in View},
        },
        "week_url": lambda day: calendar_url(View.week, day, kept),
        "offer_types": list(OfferType),
        "themes": list(Theme),
        "subjects": list(Subject),
        "formats": list(OfferFormat),
        "grades": range(GRADE_MIN, GRADE_MAX + 1),
        "back": urlencode({"view": view.value, "date": anchor.isoformat(), **kept}),
    }
    if view == View.agenda:
        context["agenda_days"], continue_from = _agenda_days(entries, shown)
        context["continue_url"] = (
            calendar_url(View.agenda, continue_from, kept) if continue_from else None
        )
        context["continue_from"] = continue_from
    else:
        context["by_day"] = calendar.entries_by_day(entries, shown.first, shown.last)

    new_token = request.cookies.get(NEW_FEED_COOKIE)
    feed = calendar.feed_of(db, user) if user else None
    if feed and new_token and secrets.token_hash(new_token) == feed.token_hash:
        context["new_feed_url"] = _feed_url(request, new_token)
        context["new_feed_webcal"] = "webcal://" + context["new_feed_url"].split("://", 1)[1]
    context["feed"] = feed

    response = render(request, "calendar/index.html", context, block="calendar")
    response.headers["Vary"] = ", ".join(filter(None, [response.headers.get("Vary"), PHONE_HEADERS]))
    if new_token:
        response.delete_cookie(NEW_FEED_COOKIE, path="/calendar")
    return response


def _back_to(form: dict[str, Any]) -> dict[str, str]:
    """The calendar the form was posted from (view, date and filters), nothing else."""
    back = dict(parse_qsl(str(form.get("back") or "")))
    return {k: back[k][:100] for k in ("view", "date", "show", *CALENDAR_FILTERS) if back.get(k)}


@router.post("/calendar/feed/new")
def new_feed(
    request: Request, db: SessionDep, user: PageUser, form: PostedForm, now: Now
) -> Response:
    back = _back_to(form)
    # A teacher's feed holds the school's bookings only, unless the teacher chose the open dates
    # too (then those that fit the filters shown): a calendar program shows all it is given.
    show = "all" if form.get("show") == "all" else "ours"
    filters = urlencode({**{k: v for k, v in back.items() if k in CALENDAR_FILTERS}, "show": show})
    token = calendar.create_feed(db, user, query=filters, now=now)
    response = redirect(request, "/calendar?" + urlencode({**back, "notice": "feed_created"}))
    response.set_cookie(
        NEW_FEED_COOKIE,
        token,
        max_age=600,
        path="/calendar",
        httponly=True,
        samesite="lax",
        secure=request.app.state.settings.is_production,
    )
    return response


@router.post("/calendar/feed/revoke")
def revoke_feed(request: Request, db: SessionDep, user: PageUser, form: PostedForm) -> Response:
    calendar.revoke_feed(db, user)
    response = redirect(
        request, "/calendar?" + urlencode({**_back_to(form), "notice": "feed_revoked"})
    )
    response.delete_cookie(NEW_FEED_COOKIE, path="/calendar")
    return response


@router.get("/calendar/feed/{feed_token}.ics")
def user_feed(request: Request, db: SessionDep, feed_token: str, now: Now) -> Response:
    """The per-user feed. No log-in: calendar programs cannot log in, so the token is the secret."""
    found = calendar.feed_by_token(db, feed_token)
    if found is None:
        raise NotFound(_("No such calendar feed. It may have been replaced by a new address."))
    feed, owner = found
    query = dict(parse_qsl(feed.query))
    filters = filters_from_query(query, school_origin(db, owner))
    # A feed made before the choice existed holds the bookings only too: that is the default.
    only_ours = calendar.shows_only_bookings(owner, query.get("show"), default="ours")
    body = calendar.feed_calendar(
        db, owner, filters, base_url=request.app.state.settings.base_url, now=now, only_booked=only_ours
    )
    return Response(
        body,
        media_type="text/calendar; charset=utf-8",
        headers={"Cache-Control": "private, max-age=900", "X-Robots-Tag": "noindex"},
    )
