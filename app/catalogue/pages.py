"""HTML pages of the catalogue: finding offers (everyone) and publishing them (providers)."""

from datetime import date, timedelta
from typing import Any
from urllib.parse import urlencode

from fastapi import APIRouter, Request
from fastapi.responses import Response
from starlette.datastructures import UploadFile

from app.accounts.models import Organisation, Role
from app.bookings import service as bookings
from app.calendar.bounds import school_year_of
from app.catalogue import holidays as school_holidays
from app.catalogue import resources, saved_searches
from app.catalogue import service as catalogue
from app.catalogue.calendar import sessions_calendar
from app.catalogue.emails import tell_saved_searches
from app.catalogue.filters import FILTER_NAMES, filters_from_query
from app.catalogue.models import (
    GRADE_MAX,
    GRADE_MIN,
    AvailabilityWindow,
    OfferFormat,
    OfferPicture,
    OfferStatus,
    OfferType,
    ResourceKind,
    Subject,
    Theme,
)
from app.catalogue.pictures import pictures_of
from app.catalogue.schemas import (
    MAX_RECURRING_SESSIONS,
    WAITLIST_OFFER_HOURS_MAX,
    HolidayIn,
    OfferCreate,
    OfferIn,
    RecurrenceIn,
    SessionIn,
    WindowIn,
)
from app.catalogue.text import render_description
from app.db import MAX_ID
from app.deps import (
    MaybeUser,
    Now,
    PageNumber,
    PageUser,
    PathId,
    ProviderPageUser,
    SessionDep,
    SettingsDep,
    StaffPageUser,
)
from app.errors import Conflict, InvalidInput, NotFound
from app.i18n import TIMEZONE, _
from app.web.forms import (
    FORM_ERROR,
    FormFields,
    PostedForm,
    form_errors,
    int_or_none,
    optional_choice,
    validate,
)
from app.web.templating import redirect, render

router = APIRouter()
PAGE_SIZE = 20
MAX_PICTURE_BYTES = 2 * 1024 * 1024
PICTURE_TYPES = {
    "image/jpeg": b"\xff\xd8\xff",
    "image/png": b"\x89PNG\r\n\x1a\n",
    "image/webp": b"RIFF",
}


# --- finding offers ----------------------------------------------------------------------------


@router.get("/catalogue")
def catalogue_page(
    request: Request, db: SessionDep, user: MaybeUser, now: Now, page: PageNumber = 1
) -> Response:
    origin = catalogue.school_origin(db, user)
    filters = filters_from_query(request.query_params, origin)
    hits, total = catalogue.search_offers(
        db, filters, now=now, limit=PAGE_SIZE, offset=(page - 1) * PAGE_SIZE
    )
    kept = {k: request.query_params[k] for k in FILTER_NAMES if request.query_params.get(k)}
    return render(
        request,
        "catalogue/index.html",
        {
            "hits": hits,
            "pictures": pictures_of(db, [hit.offer for hit in hits]),
            "total": total,
            "page": page,
            "pages": max(1, -(-total // PAGE_SIZE)),
            "params": kept,
            "query_without_page": urlencode(kept),
            "has_origin": origin is not None,
            "offer_types": list(OfferType),
            "themes": list(Theme),
            "subjects": list(Subject),
            "formats": list(OfferFormat),
            "grades": range(GRADE_MIN, GRADE_MAX + 1),
        },
        block="results",
    )


@router.get("/offers/{offer_id}")
def offer_page(
    request: Request,
    db: SessionDep,
    user: MaybeUser,
    offer_id: PathId,
    now: Now,
    notice: str | None = None,
) -> Response:
    offer = catalogue.visible_offer(db, user, offer_id)
    provider = db.get(Organisation, offer.provider_id)
    themes, subjects = catalogue.themes_and_subjects(db, [offer.id])
    sessions = [s for s in catalogue.sessions_of(db, offer.id, now=now) if s.cancelled_at is None]
    held = bookings.held(db, [s.id for s in sessions], now=now)
    own = (
        user is not None
        and user.role == Role.provider
        and user.organisation_id == offer.provider_id
    )
    return render(
        request,
        "catalogue/offer.html",
        {
            "offer": offer,
            "provider": provider,
            "themes": themes[offer.id],
            "subjects": subjects[offer.id],
            "sessions": sessions,
            "free": {s.id: max(0, s.capacity_pupils - held.get(s.id, (0, 0))[0]) for s in sessions},
            "description": render_description(offer.description),
            "own": own,
            "notice": notice,
            "picture": pictures_of(db, [offer])[offer.id],
        },
    )


@router.get("/offers/{offer_id}/picture/{version}")
def offer_picture(db: SessionDep, user: MaybeUser, offer_id: PathId, version: int) -> Response:
    catalogue.visible_offer(db, user, offer_id)
    picture = db.get(OfferPicture, offer_id)
    if picture is None:
        raise NotFound(_("No such picture."))
    return Response(
        picture.content,
        media_type=picture.content_type,
        headers={"Cache-Control": "public, max-age=31536000, immutable"},
    )


# --- publishing offers (providers) -------------------------------------------------------------


def _offer_form_context(offer=None) -> dict[str, Any]:
    return {
        "offer": offer,
        "offer_types": list(OfferType),
        "themes": list(Theme),
        "subjects": list(Subject),
        "formats": list(OfferFormat),
        "grades": range(GRADE_MIN, GRADE_MAX + 1),
        "most_offer_hours": WAITLIST_OFFER_HOURS_MAX,
    }


def _offer_data(form: FormFields) -> dict[str, Any]:
    """Checkboxes arrive as several values or not at all; an unchecked box means no."""
    data = {
        **form,
        "themes": form.getlist("themes"),
        "subjects": form.getlist("subjects"),
    }
    for box in (
        "is_long",
        "all_dates_together",
        "girls_only",
        "requires_approval",
        "waitlist_may_pass",
    ):
        data[box] = box in form
    return data


@router.get("/provider/offers")
def my_offers(
    request: Request, db: SessionDep, user: ProviderPageUser, notice: str | None = None
) -> Response:
    offers = catalogue.provider_offers(db, user)
    return render(request, "catalogue/my_offers.html", {"offers": offers, "notice": notice})


@router.get("/provider/offers/new")
def new_offer_form(request: Request, db: SessionDep, user: ProviderPageUser) -> Response:
    organisation = db.get(Organisation, user.organisation_id)
    values = {
        "type": "course",
        "grade_min": 0,
        "grade_max": 10,
        "requires_approval": True,
        "municipality": organisation.municipality,
        "cancellation_weekdays": 10,
        "waitlist_may_pass": True,
        "waitlist_offer_hours": 48,
        "contact_name": user.name,
        "contact_email": user.email,
        "contact_phone": user.phone,
    }
    return render(
        request,
        "catalogue/offer_form.html",
        {"values": values, "errors": {}, **_offer_form_context()},
    )


@router.post("/provider/offers/new")
def create_offer(
    request: Request, db: SessionDep, user: ProviderPageUser, form: PostedForm, now: Now
) -> Response:
    data, errors = validate(OfferCreate, _offer_data(form))
    if data is not None:
        offer = catalogue.create_offer(db, user, data, now=now)
        return redirect(request, f"/provider/offers/{offer.id}/sessions?notice=created")
    context = {"values": _offer_data(form), "errors": errors, **_offer_form_context()}
    return render(request, "catalogue/offer_form.html", context, status_code=422)


@router.get("/provider/offers/{offer_id}/edit")
def edit_offer_form(
    request: Request, db: SessionDep, user: PageUser, offer_id: PathId, notice: str | None = None
) -> Response:
    offer = catalogue.own_offer(db, user, offer_id)
    themes, subjects = catalogue.themes_and_subjects(db, [offer.id])
    values = {**offer.model_dump(), "themes": themes[offer.id], "subjects": subjects[offer.id]}
    return render(
        request,
        "catalogue/offer_form.html",
        {"values": values, "errors": {}, "notice": notice, **_offer_form_context(offer)},
    )


@router.post("/provider/offers/{offer_id}/duplicate")
def duplicate_offer(request: Request, db: SessionDep, user: PageUser, offer_id: PathId, now: Now) -> Response:
    """A copy to start the next offer from: nothing is lost, so no confirmation step."""
    copy = catalogue.duplicate_offer(db, user, offer_id, now=now)
    return redirect(request, f"/provider/offers/{copy.id}/edit?notice=offer_duplicated")


@router.post("/provider/offers/{offer_id}/edit")
def update_offer(
    request: Request, db: SessionDep, user: PageUser, form: PostedForm, offer_id: PathId, now: Now
) -> Response:
    offer = catalogue.own_offer(db, user, offer_id)
    data, errors = validate(OfferIn, _offer_data(form))
    if data is not None:
        try:
            catalogue.update_offer(db, user, offer_id, data, now=now)
            return redirect(request, f"/offers/{offer_id}?notice=saved")
        except InvalidInput as error:
            db.rollback()
            errors = form_errors(error)
    context = {"values": _offer_data(form), "errors": errors, **_offer_form_context(offer)}
    return render(request, "catalogue/offer_form.html", context, status_code=422)


@router.post("/provider/offers/{offer_id}/status")
def change_offer_status(
    request: Request,
    db: SessionDep,
    user: PageUser,
    form: PostedForm,
    offer_id: PathId,
    now: Now,
    settings: SettingsDep,
) -> Response:
    catalogue.own_offer(db, user, offer_id)
    status = optional_choice(OfferStatus, form.get("status"))
    if status is None:
        raise InvalidInput(_("Choose what to do with the offer."), field="status")
    offer = catalogue.change_status(db, user, offer_id, status, now=now)
    if status == OfferStatus.published and offer.published_at == now:
        tell_saved_searches(db, settings, offer, now=now)
    target = "/provider/offers" if status == OfferStatus.archived else f"/offers/{offer_id}"
    return redirect(request, f"{target}?notice={status.value}")


@router.post("/provider/offers/{offer_id}/picture")
async def upload_picture(
    request: Request, db: SessionDep, user: PageUser, offer_id: PathId
) -> Response:
    form = await request.form()
    upload = form.get("picture")
    error = None
    content = b""
    if not isinstance(upload, UploadFile) or not upload.filename:
        error = _("Choose a picture to upload.")
    else:
        content = await upload.read(MAX_PICTURE_BYTES + 1)
        kind = next((t for t, magic in PICTURE_TYPES.items() if content.startswith(magic)), None)
        if len(content) > MAX_PICTURE_BYTES:
            error = _("The picture is too large. Use a picture of at most 2 MB.")
        elif kind is None or (kind == "image/webp" and content[8:12] != b"WEBP"):
            error = _("The file is not a picture. Use a JPEG, PNG or WebP file.")
    offer = catalogue.own_offer(db, user, offer_id)
    if error:
        raise InvalidInput(error, field="picture")
    alt_text = str(form.get("alt_text") or "")[:300]
    catalogue.set_picture(db, user, offer.id, content=content, content_type=kind, alt_text=alt_text)
    return redirect(request, f"/provider/offers/{offer_id}/sessions?notice=saved")


@router.get("/provider/offers/{offer_id}/sessions")
def offer_sessions(
    request: Request,
    db: SessionDep,
    user: PageUser,
    offer_id: PathId,
    now: Now,
    notice: str | None = None,
) -> Response:
    offer = catalogue.own_offer(db, user, offer_id)
    query = request.query_params
    count = int_or_none(query.get("count"), 1, MAX_RECURRING_SESSIONS) or 1
    days = int_or_none(query.get("days"), 1, 31) or 1
    # The dates a weekly rule skipped come back through the redirect; why is worked out again.
    skipped = []
    for raw in query.getlist("skipped")[:MAX_RECURRING_SESSIONS]:
        try:
            day = date.fromisoformat(raw)
        except ValueError:
            continue
        if reason := catalogue.why_skipped(db, offer, day, days, now=now):
            skipped.append((day, reason))
    return _sessions_page(request, db, offer, now, notice=notice, count=count, skipped=skipped)


def _sessions_page(
    request, db, offer, now, *, notice=None, count=1, errors=None, values=None, form_name=None, skipped=None
) -> Response:
    tomorrow = (now + timedelta(days=1)).date()
    defaults = {
        "date": tomorrow.isoformat(),
        "starts": "09:00",
        "ends": "12:00",
        "capacity_pupils": 28,
        "first_date": tomorrow.isoformat(),
        "last_date": (tomorrow + timedelta(days=90)).isoformat(),
        "every_weeks": 1,
        "days": 1,
        "deadline_days": catalogue.DEFAULT_DEADLINE_DAYS,
    }
    sessions = catalogue.sessions_of(db, offer.id, now=now)
    windows, travel_areas = resources.availability(db, offer.id)
    return render(
        request,
        "catalogue/sessions.html",
        {
            "offer": offer,
            "sessions": sessions,
            "session_resources": resources.resources_by_session(db, [s.id for s in sessions]),
            "resources": resources.list_resources(db, request.state.user),
            "windows": windows,
            "offer_resources": [r.id for r in resources.offer_resources(db, offer.id)],
            "travel_areas": travel_areas,
            "notice": notice,
            "count": count,
            "default_deadline_days": catalogue.DEFAULT_DEADLINE_DAYS,
            "errors": errors or {},
            "values": {**defaults, **(values or {})},
            "form_name": form_name,
            "skipped": skipped or [],
            "picture": db.get(OfferPicture, offer.id) is not None,
        },
        status_code=422 if errors else 200,
    )


SESSION_FIELDS = {"starts_at": "date", "ends_at": "ends", "booking_deadline": "deadline"}


def _session_from_form(form: dict[str, Any]) -> tuple[SessionIn | None, dict[str, str]]:
    """The date form's fields (a day, times, an optional last day) as a session, with errors
    named after the form's own fields."""
    day, starts, ends = form.get("date"), form.get("starts"), form.get("ends")
    last_day = form.get("last_day") or day
    data, errors = validate(
        SessionIn,
        {
            "starts_at": f"{day}T{starts}" if day and starts else None,
            "ends_at": f"{last_day}T{ends}" if last_day and ends else None,
            "capacity_pupils": form.get("capacity_pupils"),
            "capacity_classes": form.get("capacity_classes"),
            "mentors_min": form.get("mentors_min") or None,
            "mentors_max": form.get("mentors_max") or None,
            "booking_deadline": f"{form['deadline']}T23:59" if form.get("deadline") else None,
            "open_on_holiday": "open_on_holiday" in form,
        },
    )
    return data, {SESSION_FIELDS.get(k, k): v for k, v in errors.items()}


@router.post("/provider/offers/{offer_id}/sessions")
def add_session(
    request: Request, db: SessionDep, user: PageUser, form: PostedForm, offer_id: PathId, now: Now
) -> Response:
    offer = catalogue.own_offer(db, user, offer_id)
    data, errors = _session_from_form(form)
    if data is not None:
        if data.booking_deadline is None:
            # Left empty: the same default as for the dates a weekly rule makes.
            deadline = catalogue.deadline_before(data.starts_at, catalogue.DEFAULT_DEADLINE_DAYS, now=now)
            data = data.model_copy(update={"booking_deadline": deadline})
        try:
            catalogue.add_session(db, user, offer.id, data, now=now)
            return redirect(request, f"/provider/offers/{offer.id}/sessions?notice=session_added")
        except InvalidInput as error:
            errors = form_errors(error, SESSION_FIELDS)
    return _sessions_page(request, db, offer, now, errors=errors, values=form, form_name="single")


@router.get("/provider/sessions/{session_id}/edit")
def edit_session_form(
    request: Request, db: SessionDep, user: PageUser, session_id: PathId
) -> Response:
    session, offer = catalogue.own_session(db, user, session_id)
    starts, ends = session.starts_at.astimezone(TIMEZONE), session.ends_at.astimezone(TIMEZONE)
    values = {
        "date": starts.date().isoformat(),
        "starts": starts.strftime("%H:%M"),
        "last_day": ends.date().isoformat() if ends.date() != starts.date() else "",
        "ends": ends.strftime("%H:%M"),
        "capacity_pupils": session.capacity_pupils,
        "capacity_classes": session.capacity_classes,
        "mentors_min": session.mentors_min,
        "mentors_max": session.mentors_max,
        "deadline": session.booking_deadline.astimezone(TIMEZONE).date().isoformat()
        if session.booking_deadline
        else "",
    }
    return render(
        request,
        "catalogue/session_form.html",
        {"session": session, "offer": offer, "values": values, "errors": {}},
    )


@router.post("/provider/sessions/{session_id}/edit")
def update_session(
    request: Request, db: SessionDep, user: PageUser, form: PostedForm, session_id: PathId, now: Now
) -> Response:
    session, offer = catalogue.own_session(db, user, session_id)
    data, errors = _session_from_form(form)
    if data is not None:
        try:
            catalogue.update_session(db, user, session.id, data, now=now)
            return redirect(request, f"/provider/offers/{offer.id}/sessions?notice=saved")
        except (InvalidInput, Conflict) as error:
            db.rollback()
            errors = form_errors(error, SESSION_FIELDS)
    context = {"session": session, "offer": offer, "values": form, "errors": errors}
    return render(request, "catalogue/session_form.html", context, status_code=422)


@router.post("/provider/offers/{offer_id}/sessions/recurring")
def add_recurring_sessions(
    request: Request, db: SessionDep, user: PageUser, form: PostedForm, offer_id: PathId, now: Now
) -> Response:
    offer = catalogue.own_offer(db, user, offer_id)
    values = {**form, "weekdays": form.getlist("weekdays")}
    if not str(values.get("deadline_days") or "").strip():
        # Left empty: the same default as for a date added by hand.
        values["deadline_days"] = catalogue.DEFAULT_DEADLINE_DAYS
    data, errors = validate(RecurrenceIn, values)
    if data is not None:
        try:
            made, skipped = catalogue.add_recurring_sessions(db, user, offer.id, data, now=now)
        except InvalidInput as error:
            errors = form_errors(error)
        else:
            # Redirect, so that reloading the page shows it again rather than posting anew (a 405).
            query = urlencode(
                [("notice", "session_added"), ("count", len(made)), ("days", data.days)]
                + [("skipped", day.isoformat()) for day, _reason in skipped]
            )
            return redirect(request, f"/provider/offers/{offer.id}/sessions?{query}")
    return _sessions_page(
        request, db, offer, now, errors=errors, values=values, form_name="recurring"
    )


@router.get("/provider/sessions/{session_id}/cancel")
def confirm_cancel_session(request: Request, db: SessionDep, user: PageUser, session_id: PathId) -> Response:
    """Before a date is called off: who will be told, and a way back."""
    session, offer = catalogue.own_session(db, user, session_id)
    booked, waiting = bookings.classes_to_tell(db, session.id)
    context = {"session": session, "offer": offer, "booked": booked, "waiting": waiting}
    return render(request, "catalogue/session_cancel.html", context)


@router.post("/provider/sessions/{session_id}/cancel")
def cancel_session(
    request: Request,
    db: SessionDep,
    user: PageUser,
    session_id: PathId,
    now: Now,
) -> Response:
    session, _offer = catalogue.own_session(db, user, session_id)
    catalogue.cancel_session(db, user, session_id, now=now)
    return redirect(
        request, f"/provider/offers/{session.offer_id}/sessions?notice=session_cancelled"
    )


@router.get("/offers/{offer_id}/calendar.ics")
def offer_calendar(
    request: Request, db: SessionDep, user: MaybeUser, offer_id: PathId, now: Now
) -> Response:
    offer = catalogue.visible_offer(db, user, offer_id)
    rows = [(s, offer) for s in catalogue.sessions_of(db, offer.id, now=now)]
    body = sessions_calendar(
        offer.title, rows, base_url=request.app.state.settings.base_url, now=now
    )
    return Response(body, media_type="text/calendar; charset=utf-8")


# --- saved searches (teachers) -------------------------------------------------------------------


@router.get("/catalogue/saved")
def saved_search_list(
    request: Request, db: SessionDep, user: PageUser, notice: str | None = None
) -> Response:
    return render(
        request,
        "catalogue/saved.html",
        {"searches": saved_searches.saved_searches(db, user), "notice": notice},
    )


@router.post("/catalogue/saved")
def save_search(
    request: Request, db: SessionDep, user: PageUser, form: PostedForm, now: Now
) -> Response:
    query = form.get("query", "")
    try:
        saved_searches.save_search(db, user, name=form.get("name", ""), query=query, now=now)
    except InvalidInput as error:
        return render(
            request,
            "catalogue/saved.html",
            {
                "searches": saved_searches.saved_searches(db, user),
                # The name field is on the catalogue page: the error is the form's, with a way back.
                "errors": {FORM_ERROR: error.message},
                "query": query,
            },
            status_code=422,
        )
    return redirect(request, "/catalogue/saved?notice=search_saved")


@router.post("/catalogue/saved/{search_id}/delete")
def delete_saved_search(
    request: Request, db: SessionDep, user: PageUser, search_id: PathId
) -> Response:
    saved_searches.delete_search(db, user, search_id)
    return redirect(request, "/catalogue/saved?notice=search_deleted")


# --- school holidays (coordinators) --------------------------------------------------------------


def _holidays_page(request, db, user, now, *, values=None, errors=None, notice=None) -> Response:
    year = school_year_of(now.astimezone(TIMEZONE).date())
    return render(
        request,
        "catalogue/holidays.html",
        {
            "holidays": school_holidays.list_holidays(
                db, user, from_date=now.astimezone(TIMEZONE).date()
            ),
            "values": values or {"municipality": user.municipality or ""},
            "errors": errors or {},
            "notice": notice,
            "school_years": [year, year + 1],
        },
        status_code=422 if errors else 200,
    )


@router.get("/admin/holidays")
def holidays_page(
    request: Request, db: SessionDep, user: StaffPageUser, now: Now, notice: str | None = None
) -> Response:
    return _holidays_page(request, db, user, now, notice=notice)


@router.post("/admin/holidays")
def add_holiday(
    request: Request, db: SessionDep, user: StaffPageUser, form: PostedForm, now: Now
) -> Response:
    data, errors = validate(HolidayIn, form)
    if data is not None:
        try:
            school_holidays.add_holiday(db, user, **data.model_dump(), now=now)
            return redirect(request, "/admin/holidays?notice=saved")
        except InvalidInput as error:
            errors = form_errors(error)
    return _holidays_page(request, db, user, now, values=form, errors=errors)


@router.post("/admin/holidays/standard")
def add_standard_holidays(
    request: Request, db: SessionDep, user: StaffPageUser, form: PostedForm, now: Now
) -> Response:
    year = int_or_none(form.get("school_year"), 2000, 2100)
    if year is None:
        raise InvalidInput(_("Choose a school year."), field="school_year")
    school_holidays.add_standard_holidays(db, user, year, user.municipality, now=now)
    return redirect(request, "/admin/holidays?notice=saved")


@router.get("/admin/holidays/{holiday_id}/delete")
def confirm_delete_holiday(request: Request, db: SessionDep, user: StaffPageUser, holiday_id: PathId) -> Response:
    """Before a holiday is deleted: which one, and what it changes."""
    holiday = school_holidays.get_holiday(db, user, holiday_id)
    return render(request, "catalogue/holiday_delete.html", {"holiday": holiday})


@router.post("/admin/holidays/{holiday_id}/delete")
def delete_holiday(
    request: Request, db: SessionDep, user: StaffPageUser, holiday_id: PathId
) -> Response:
    school_holidays.delete_holiday(db, user, holiday_id)
    return redirect(request, "/admin/holidays?notice=deleted")


# --- resources and availability (providers) ------------------------------------------------------


def _resources_page(request, db, user, *, values=None, errors=None, notice=None) -> Response:
    return render(
        request,
        "catalogue/resources.html",
        {
            "resources": resources.list_resources(db, user),
            "kinds": list(ResourceKind),
            "values": values or {},
            "errors": errors or {},
            "notice": notice,
        },
        status_code=422 if errors else 200,
    )


@router.get("/provider/resources")
def resources_page(
    request: Request, db: SessionDep, user: ProviderPageUser, notice: str | None = None
) -> Response:
    return _resources_page(request, db, user, notice=notice)


@router.post("/provider/resources")
def create_resource(
    request: Request, db: SessionDep, user: ProviderPageUser, form: PostedForm
) -> Response:
    kind = optional_choice(ResourceKind, form.get("kind"))
    try:
        if kind is None:
            raise InvalidInput(_("Choose one of the options in the list."), field="kind")
        resources.create_resource(db, user, name=form.get("name", ""), kind=kind)
    except InvalidInput as error:
        return _resources_page(
            request, db, user, values=form, errors=form_errors(error)
        )
    return redirect(request, "/provider/resources?notice=created")


@router.post("/provider/resources/{resource_id}/delete")
def delete_resource(
    request: Request, db: SessionDep, user: ProviderPageUser, resource_id: PathId
) -> Response:
    resources.delete_resource(db, user, resource_id)
    return redirect(request, "/provider/resources?notice=deleted")


@router.post("/provider/sessions/{session_id}/resources")
def attach_resource(
    request: Request, db: SessionDep, user: PageUser, form: PostedForm, session_id: PathId, now: Now
) -> Response:
    session, offer = catalogue.own_session(db, user, session_id)
    resource_id = int_or_none(form.get("resource_id"), 1, MAX_ID)
    try:
        if resource_id is None:
            raise InvalidInput(_("Choose one of the options in the list."), field="resource_id")
        resources.attach_resource(db, user, session.id, resource_id)
    except (InvalidInput, Conflict) as error:
        db.rollback()
        response = _sessions_page(
            request,
            db,
            offer,
            now,
            errors={"resource_id": error.message},
            values={"session_id": session.id},  # the date whose resource the error is about
            form_name="resources",
        )
        response.status_code = error.status_code
        return response
    return redirect(request, f"/provider/offers/{offer.id}/sessions?notice=saved")


@router.post("/provider/sessions/{session_id}/resources/{resource_id}/delete")
def detach_resource(
    request: Request, db: SessionDep, user: PageUser, session_id: PathId, resource_id: PathId
) -> Response:
    session, offer = catalogue.own_session(db, user, session_id)
    resources.detach_resource(db, user, session.id, resource_id)
    return redirect(request, f"/provider/offers/{offer.id}/sessions?notice=saved")


@router.post("/provider/offers/{offer_id}/availability")
def add_availability(
    request: Request, db: SessionDep, user: PageUser, form: PostedForm, offer_id: PathId, now: Now
) -> Response:
    offer = catalogue.own_offer(db, user, offer_id)
    data, errors = validate(WindowIn, form)
    if data is not None:
        try:
            resources.add_window(db, user, offer.id, **data.model_dump())
            return redirect(request, f"/provider/offers/{offer.id}/sessions?notice=saved")
        except InvalidInput as error:
            errors = form_errors(error)
    return _sessions_page(
        request, db, offer, now, errors=errors, values=form, form_name="availability"
    )


@router.post("/provider/availability/{window_id}/delete")
def delete_availability(
    request: Request, db: SessionDep, user: PageUser, window_id: PathId
) -> Response:
    window = db.get(AvailabilityWindow, window_id)
    resources.delete_window(db, user, window_id)
    return redirect(request, f"/provider/offers/{window.offer_id}/sessions?notice=deleted")


@router.post("/provider/offers/{offer_id}/travel-areas")
def set_travel_areas(
    request: Request, db: SessionDep, user: PageUser, form: PostedForm, offer_id: PathId
) -> Response:
    offer = catalogue.own_offer(db, user, offer_id)
    resources.set_travel_areas(db, user, offer.id, form.getlist("municipalities"))
    return redirect(request, f"/provider/offers/{offer.id}/sessions?notice=saved")


@router.post("/provider/offers/{offer_id}/resources")
def set_offer_resources(
    request: Request, db: SessionDep, user: PageUser, form: PostedForm, offer_id: PathId
) -> Response:
    offer = catalogue.own_offer(db, user, offer_id)
    ids = [n for raw in form.getlist("resource_ids") if (n := int_or_none(raw, 1, MAX_ID))]
    resources.set_offer_resources(db, user, offer.id, ids)
    return redirect(request, f"/provider/offers/{offer.id}/sessions?notice=saved")
