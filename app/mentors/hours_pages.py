"""HTML pages of a mentor's hours: the mentor's hours and travel time, the certificate and its
public check, and the provider's staff confirming travel time."""

from typing import Annotated

from fastapi import APIRouter, Path, Request
from fastapi.responses import Response

from app.accounts.models import User
from app.deps import (
    MentorPageUser,
    Now,
    PageUser,
    PathId,
    ProviderPageUser,
    SessionDep,
    SettingsDep,
)
from app.errors import InvalidInput
from app.i18n import _
from app.mentors import certificate, hours
from app.web.forms import PostedForm
from app.web.templating import redirect, render

router = APIRouter()


# Longer than any code we make (certificate.CODE_LENGTH), so an address cut or padded by hand is
# "not found" rather than "not valid"; no longer, so nothing large is ever hashed.
CertificateCode = Annotated[str, Path(min_length=1, max_length=64)]


def notice_text(code: str | None) -> str | None:
    return {
        "travel_saved": _("Your travel time is saved. It counts once the provider has confirmed it."),
        "travel_confirmed": _("The travel time is confirmed and counts in the mentor's hours."),
    }.get(code or "")


# --- the mentor ------------------------------------------------------------------------------------


def _hours_page(
    request: Request, db, user: User, *, errors: dict[int, str] | None = None, values: dict[int, str] | None = None,
    notice: str | None = None, status_code: int = 200,
) -> Response:
    years = hours.hours_by_school_year(db, user.id)
    errors = errors or {}
    # The error summary links to each refused travel field (ids "travel-<shift>", as the page's).
    summary = {f"travel-{shift_id}": message for shift_id, message in errors.items()}
    return render(
        request,
        "mentors/hours.html",
        {
            "years": list(reversed(years)),
            "total": hours.total(years),
            "visits": list(reversed(hours.visits(db, user.id))),
            "upcoming": hours.upcoming_shifts(db, user.id),
            "errors": errors,
            "summary": summary,
            "summary_labels": dict.fromkeys(summary, _("Travel time")),
            "values": values or {},
            "notice": notice_text(notice),
            "hours_text": certificate.hours_text,
            "travel_max": hours.TRAVEL_MAX,
        },
        status_code=status_code,
    )


@router.get("/mentor/hours")
def my_hours(request: Request, db: SessionDep, user: MentorPageUser, notice: str | None = None) -> Response:
    return _hours_page(request, db, user, notice=notice)


@router.post("/mentor/hours/{shift_id}/travel")
def add_travel(
    request: Request, db: SessionDep, user: MentorPageUser, form: PostedForm, shift_id: PathId, now: Now
) -> Response:
    typed = form.get("minutes", "")
    try:
        minutes = int(typed)
    except ValueError:
        minutes = None
    try:
        if minutes is None:
            hours.own_shift(db, user, shift_id)  # another's shift is not found, whatever was typed
            raise InvalidInput(_("Write a whole number.") if typed else _("Fill in this field."), field="minutes")
        hours.add_travel(db, user, shift_id, minutes, now=now)
    except InvalidInput as error:
        db.rollback()
        return _hours_page(
            request, db, user, errors={shift_id: error.message}, values={shift_id: typed}, status_code=422
        )
    return redirect(request, "/mentor/hours?notice=travel_saved")


@router.get("/mentor/certificate.pdf")
def certificate_pdf(db: SessionDep, user: MentorPageUser, now: Now, settings: SettingsDep) -> Response:
    pdf = certificate.certificate_pdf(
        db, user, now=now, base_url=settings.base_url, secret_key=settings.secret_key
    )
    return Response(
        pdf,
        media_type="application/pdf",
        headers={"Content-Disposition": 'attachment; filename="mentor-certificate.pdf"'},
    )


# --- anyone: the certificate's check ----------------------------------------------------------


@router.get("/mentors/certificates/{code}")
def check_certificate(request: Request, db: SessionDep, settings: SettingsDep, code: CertificateCode) -> Response:
    found = certificate.checked_certificate(db, settings.secret_key, code)
    response = render(
        request,
        "mentors/certificate_check.html",
        {"certificate": found, "hours_text": certificate.hours_text},
        status_code=200 if found else 404,
    )
    # A person's hours: reachable by the printed address, never listed by a search engine.
    response.headers["X-Robots-Tag"] = "noindex"
    return response


# --- the provider's staff -----------------------------------------------------------------------------


@router.get("/provider/mentor-travel")
def travel_to_confirm(request: Request, db: SessionDep, user: ProviderPageUser, notice: str | None = None) -> Response:
    return render(
        request,
        "mentors/travel.html",
        {"rows": hours.travel_to_confirm(db, user), "notice": notice_text(notice)},
    )


@router.post("/provider/shifts/{shift_id}/travel/confirm")
def confirm_travel(request: Request, db: SessionDep, user: PageUser, shift_id: PathId, now: Now) -> Response:
    hours.confirm_travel(db, user, shift_id, now=now)
    return redirect(request, "/provider/mentor-travel?notice=travel_confirmed")
