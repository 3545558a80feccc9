"""Public pages of youth-to-youth mentoring: signing up, verifying the e-mail address, and a
guardian's consent and its withdrawal. Thin: the rules are app.mentors.service and .consent."""

from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import Response
from sqlmodel import Session, col, or_, select

from app.accounts.models import Organisation, OrganisationKind, ProviderKind, SchoolLevel
from app.catalogue.models import Theme
from app.config import Settings
from app.deps import Now, SessionDep, SettingsDep
from app.errors import InvalidInput
from app.geography import MUNICIPALITY_NAMES
from app.i18n import _, current_language
from app.mentors import consent
from app.mentors import service as mentors
from app.mentors.conduct import CONSENT_TEXT_VERSION, conduct_rules, consent_sections
from app.mentors.models import MentorStatus
from app.mentors.schemas import MentorSignupIn
from app.web.forms import FormFields, PostedForm, form_errors, validate
from app.web.templating import redirect, render

router = APIRouter()

# The sign-up form's fields, in the order the page shows them (and its error summary lists them).
SIGNUP_FIELDS = (
    "name",
    "email",
    "password",
    "birth_date",
    "guardian_email",
    "institution_id",
    "study_programme",
    "finishing_year",
    "themes",
    "municipalities",
    "why_stem",
    "show_why_stem",
    "accepts_code_of_conduct",
)
LISTS = ("themes", "municipalities")
CHECKBOXES = ("show_why_stem", "accepts_code_of_conduct")


def _institution_groups(db: Session) -> list[tuple[str, list[tuple[int, str]]]]:
    """The institutions mentors come from, for the <optgroup>s of the page's list."""
    candidates = db.exec(
        select(Organisation)
        .where(
            or_(
                col(Organisation.school_level) == SchoolLevel.upper_secondary,
                col(Organisation.provider_kind).in_(
                    [ProviderKind.university, ProviderKind.college]
                ),
            )
        )
        .order_by(col(Organisation.name))
    ).all()
    chosen = [o for o in candidates if mentors.is_mentor_institution(o)]
    groups = [
        (_("Upper-secondary schools"), [o for o in chosen if o.kind == OrganisationKind.school]),
        (
            _("Universities and colleges"),
            [o for o in chosen if o.kind == OrganisationKind.provider],
        ),
    ]
    return [
        (name, [(o.id, f"{o.name} ({o.municipality})") for o in items])
        for name, items in groups
        if items
    ]


def _signup_page(
    request: Request,
    db: Session,
    settings: Settings,
    values: dict[str, Any],
    errors: dict[str, str],
) -> Response:
    order = {name: i for i, name in enumerate(SIGNUP_FIELDS)}
    errors = dict(sorted(errors.items(), key=lambda item: order.get(item[0], -1)))
    context = {
        "values": values,
        "errors": errors,
        "institution_groups": _institution_groups(db),
        "themes": list(Theme),
        "municipality_choices": [(name, name) for name in MUNICIPALITY_NAMES],
        "conduct_rules": conduct_rules(),
        "consent_age": settings.mentor_consent_age,
        "min_age": settings.mentor_min_age,
    }
    return render(request, "mentors/signup.html", context, status_code=422 if errors else 200)


@router.get("/mentors/signup")
def signup_form(request: Request, db: SessionDep, settings: SettingsDep) -> Response:
    return _signup_page(request, db, settings, {}, {})


def _read_signup(form: FormFields) -> tuple[dict[str, Any], dict[str, Any]]:
    """What the page shows again (values), and what the schema is given."""
    values: dict[str, Any] = {name: form[name] for name in SIGNUP_FIELDS if name in form}
    values.update({name: form.getlist(name) for name in LISTS})
    values.update({name: name in form for name in CHECKBOXES})
    data = {name: value for name, value in values.items() if value != []}
    values.pop("password", None)  # never sent back to the browser
    return values, data


@router.post("/mentors/signup")
def sign_up(
    request: Request, db: SessionDep, form: PostedForm, now: Now, settings: SettingsDep
) -> Response:
    values, data = _read_signup(form)
    signup, errors = validate(MentorSignupIn, data)
    # Clearer than the schema's generic words for a date or a list that was tampered with.
    if "birth_date" in errors:
        errors["birth_date"] = _("Write your date of birth.")
    if "institution_id" in errors:
        errors["institution_id"] = _(
            "Choose your upper-secondary school, university or college from the list."
        )
    if not values["accepts_code_of_conduct"]:
        errors["accepts_code_of_conduct"] = _("Tick that you will follow the code of conduct.")
    if signup is not None and not errors:
        try:
            profile = mentors.sign_up(
                db, signup, now=now, settings=settings, language=current_language()
            )
        except InvalidInput as error:
            db.rollback()
            errors = form_errors(error)
        else:
            guardian = profile.status == MentorStatus.awaiting_consent
            return redirect(request, f"/mentors/signup/done{'?guardian=1' if guardian else ''}")
    return _signup_page(request, db, settings, values, errors)


@router.get("/mentors/signup/done")
def signed_up(request: Request, settings: SettingsDep, guardian: str | None = None) -> Response:
    """What happens next. `guardian`: the mentor is a minor, and their guardian was asked."""
    return render(
        request,
        "mentors/signup_done.html",
        {"guardian": guardian == "1", "consent_age": settings.mentor_consent_age},
    )


# --- the e-mailed links ------------------------------------------------------------------------


def _link_not_valid(request: Request, error: consent.LinkNotValid, template: str) -> Response:
    return render(request, template, {"invalid": error.message}, status_code=error.status_code)


@router.get("/mentors/verify/{token}")
def verify_email(request: Request, db: SessionDep, token: str, now: Now) -> Response:
    """Opening the e-mailed link is the proof: nothing to fill in."""
    try:
        mentor = consent.verify_email(db, token, now=now)
    except consent.LinkNotValid as error:
        return _link_not_valid(request, error, "mentors/verify.html")
    return render(request, "mentors/verify.html", {"mentor": mentor})


def _consent_page(
    request: Request, db: Session, token: str, now, settings: Settings, values: dict, errors: dict
) -> Response:
    try:
        asked = consent.consent_request(db, token, now=now)
    except consent.LinkNotValid as error:
        return _link_not_valid(request, error, "mentors/consent.html")
    context = {
        "asked": asked,
        "sections": consent_sections(consent_age=settings.mentor_consent_age),
        "conduct_rules": conduct_rules(),
        "version": CONSENT_TEXT_VERSION,
        "values": values,
        "errors": errors,
    }
    return render(request, "mentors/consent.html", context, status_code=422 if errors else 200)


@router.get("/mentors/consent/{token}")
def consent_form(
    request: Request, db: SessionDep, token: str, now: Now, settings: SettingsDep
) -> Response:
    return _consent_page(request, db, token, now, settings, {}, {})


@router.post("/mentors/consent/{token}")
def give_consent(
    request: Request, db: SessionDep, form: PostedForm, token: str, now: Now, settings: SettingsDep
) -> Response:
    values = {"guardian_name": form.get("guardian_name", ""), "consents": "consents" in form}
    errors = {}
    if not values["consents"]:
        errors["consents"] = _("Tick that you consent, or close the page if you do not.")
    try:
        name = consent.check_guardian_name(values["guardian_name"])
    except InvalidInput as error:
        errors = {**form_errors(error), **errors}
    if errors:
        return _consent_page(request, db, token, now, settings, values, errors)
    try:
        consent.give_consent(db, token, guardian_name=name, now=now, settings=settings)
    except consent.LinkNotValid as error:
        return _link_not_valid(request, error, "mentors/consent.html")
    # Not back to the link's page: the link is spent, and the page would say so.
    return redirect(request, "/mentors/consent-given")


@router.get("/mentors/consent-given")
def consent_given(request: Request) -> Response:
    return render(request, "mentors/consent_given.html")


@router.get("/mentors/consent/{token}/withdraw")
def withdrawal_form(request: Request, db: SessionDep, token: str, now: Now) -> Response:
    try:
        asked = consent.withdrawal_request(db, token, now=now)
    except consent.LinkNotValid as error:
        return _link_not_valid(request, error, "mentors/consent_withdraw.html")
    return render(request, "mentors/consent_withdraw.html", {"asked": asked})


@router.post("/mentors/consent/{token}/withdraw")
def withdraw_consent(
    request: Request, db: SessionDep, token: str, now: Now, settings: SettingsDep
) -> Response:
    try:
        consent.withdraw_consent(db, token, now=now, settings=settings)
    except consent.LinkNotValid as error:
        return _link_not_valid(request, error, "mentors/consent_withdraw.html")
    return redirect(request, "/mentors/consent-withdrawn")


@router.get("/mentors/consent-withdrawn")
def consent_withdrawn(request: Request) -> Response:
    return render(request, "mentors/consent_withdrawn.html")
