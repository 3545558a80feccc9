"""HTML pages of the accounts domain: log-in, profile, password, and managing organisations and users."""

from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import Response

from app.accounts import emails, secrets
from app.accounts import service as accounts
from app.accounts.models import (
    Organisation,
    OrganisationKind,
    ProviderKind,
    Role,
    SchoolLevel,
    SessionKind,
    TokenPurpose,
    User,
)
from app.accounts.schemas import (
    PASSWORD_MIN_LENGTH,
    OrganisationIn,
    PasswordChange,
    ProfileIn,
    UserCreate,
    UserIn,
)
from app.db import MAX_ID
from app.deps import (
    SESSION_COOKIE,
    MaybeUser,
    Now,
    PageNumber,
    PageUser,
    PathId,
    SessionDep,
    SettingsDep,
    StaffPageUser,
    client_address,
)
from app.errors import DomainError, InvalidInput, TooManyAttempts
from app.i18n import _
from app.web.csrf import rotate_csrf
from app.web.forms import PostedForm, form_errors, int_or_none, optional_choice, validate
from app.web.home import safe_next
from app.web.middleware import LANGUAGE_COOKIE
from app.web.templating import redirect, render

router = APIRouter()
PAGE_SIZE = 50


def _form(
    request: Request, template: str, values: dict[str, Any], errors: dict[str, str], **context: Any
) -> Response:
    """A form page; shown again with its errors (422) when the last submission was refused."""
    status_code = 422 if errors else 200
    return render(
        request, template, {"values": values, "errors": errors, **context}, status_code=status_code
    )


def _field_error(error: DomainError) -> dict[str, str]:
    if error.field is None:
        raise error
    return {error.field: error.message}


# --- log-in and log-out ------------------------------------------------------------------------


@router.get("/login")
def login_form(request: Request, user: MaybeUser, next: str | None = None) -> Response:
    if user is not None:
        return redirect(request, safe_next(next))
    return _form(request, "accounts/login.html", {"next": next}, {})


@router.post("/login")
def login(
    request: Request, form: PostedForm, db: SessionDep, now: Now, settings: SettingsDep
) -> Response:
    email, password = form.get("email", ""), form.get("password", "")
    values = {"email": email, "next": form.get("next")}
    errors = {}
    if not email:
        errors["email"] = _("Fill in your e-mail address.")
    if not password:
        errors["password"] = _("Fill in your password.")
    if errors:
        return _form(request, "accounts/login.html", values, errors)
    client = client_address(request)
    try:
        user = accounts.authenticate(
            db, email=email, password=password, client=client, now=now, settings=settings
        )
    except DomainError as error:
        response = _form(
            request, "accounts/login.html", values, form_errors(error)
        )
        response.status_code = error.status_code
        return response

    old = request.cookies.get(SESSION_COOKIE)
    if old:
        accounts.end_session(db, old)
    token = accounts.start_session(db, user, kind=SessionKind.web, now=now, settings=settings)
    rotate_csrf(request, session=token)
    response = redirect(request, safe_next(form.get("next")), reload=True)
    secure = settings.is_production
    response.set_cookie(
        SESSION_COOKIE,
        token,
        max_age=settings.session_days * 86400,
        httponly=True,
        samesite="lax",
        secure=secure,
    )
    response.set_cookie(
        LANGUAGE_COOKIE, user.language, max_age=365 * 86400, samesite="lax", secure=secure
    )
    return response


@router.post("/logout")
def logout(request: Request, db: SessionDep) -> Response:
    token = request.cookies.get(SESSION_COOKIE)
    if token:
        accounts.end_session(db, token)
    rotate_csrf(request, session=None)
    response = redirect(request, "/?notice=logged_out", reload=True)
    response.delete_cookie(SESSION_COOKIE)
    return response


# --- own profile and password -------------------------------------------------------------------


def _profile(request: Request, db, user: User, values: dict, errors: dict, now, notice=None) -> Response:
    organisation = db.get(Organisation, user.organisation_id) if user.organisation_id else None
    this_browser = request.cookies.get(SESSION_COOKIE)
    return _form(
        request,
        "accounts/profile.html",
        values,
        errors,
        organisation=organisation,
        notice=notice,
        sessions=accounts.active_sessions(db, user, now=now),
        this_session=secrets.token_hash(this_browser) if this_browser else None,
    )


@router.get("/profile")
def profile(
    request: Request, user: PageUser, db: SessionDep, now: Now, notice: str | None = None
) -> Response:
    return _profile(request, db, user, {"name": user.name, "phone": user.phone}, {}, now, notice)


@router.post("/profile")
def update_profile(
    request: Request, user: PageUser, db: SessionDep, form: PostedForm, now: Now
) -> Response:
    data, errors = validate(ProfileIn, form)
    if data is None:
        return _profile(request, db, user, form, errors, now)
    accounts.update_profile(db, user, data)
    return redirect(request, "/profile?notice=saved")


@router.post("/profile/sessions/end")
def end_session(request: Request, user: PageUser, db: SessionDep, form: PostedForm) -> Response:
    """End one of one's own logged-in browsers or API tokens (a lost phone, a leaked token)."""
    session = form.get("session", "")
    accounts.end_own_session(db, user, session)
    this_browser = request.cookies.get(SESSION_COOKIE)
    if this_browser and secrets.token_hash(this_browser) == session:
        rotate_csrf(request, session=None)
        response = redirect(request, "/?notice=logged_out", reload=True)
        response.delete_cookie(SESSION_COOKIE)
        return response
    return redirect(request, "/profile?notice=session_ended")


@router.get("/profile/password")
def password_form(request: Request, user: PageUser) -> Response:
    return _form(request, "accounts/password.html", {}, {})


@router.post("/profile/password")
def change_password(
    request: Request,
    user: PageUser,
    db: SessionDep,
    form: PostedForm,
    now: Now,
    settings: SettingsDep,
) -> Response:
    data, errors = validate(PasswordChange, form)
    if data is not None:
        try:
            accounts.change_password(db, user, data)
        except InvalidInput as error:
            errors = _field_error(error)
    if errors:
        return _form(request, "accounts/password.html", {}, errors)
    # Every session ended with the change; this browser continues in a fresh one.
    token = accounts.start_session(db, user, kind=SessionKind.web, now=now, settings=settings)
    rotate_csrf(request, session=token)
    response = redirect(request, "/profile?notice=password_changed", reload=True)
    response.set_cookie(
        SESSION_COOKIE,
        token,
        max_age=settings.session_days * 86400,
        httponly=True,
        samesite="lax",
        secure=settings.is_production,
    )
    return response


# --- password reset and invitation links ----------------------------------------------------------


@router.get("/password-reset")
def password_reset_form(request: Request) -> Response:
    return _form(request, "accounts/password_reset.html", {}, {})


@router.post("/password-reset")
def request_password_reset(
    request: Request, db: SessionDep, form: PostedForm, now: Now, settings: SettingsDep
) -> Response:
    email = form.get("email", "")
    if "@" not in email:
        return _form(
            request,
            "accounts/password_reset.html",
            form,
            {"email": _("Write a valid e-mail address, e.g. name@school.dk.")},
        )
    client = client_address(request)
    try:
        accounts.request_password_reset(db, email=email, client=client, now=now, settings=settings)
    except TooManyAttempts as error:
        response = _form(request, "accounts/password_reset.html", form, form_errors(error))
        response.status_code = error.status_code
        return response
    return render(request, "accounts/password_reset_sent.html", {"email": email})


def _set_password_page(request: Request, db: SessionDep, token: str, now, purpose: str) -> Response:
    account_token = accounts.valid_account_token(db, token, now=now)
    user = db.get(User, account_token.user_id)
    return _form(request, "accounts/set_password.html", {}, {}, purpose=purpose, invited=user)


def _set_password(
    request: Request, db: SessionDep, form: dict, token: str, now, purpose: str
) -> Response:
    password = form.get("password", "")
    error = None
    if len(password) < PASSWORD_MIN_LENGTH:
        error = _("Use at least %(count)d characters.") % {"count": PASSWORD_MIN_LENGTH}
    elif password != form.get("password_repeat"):
        error = _("The two passwords are not the same.")
    if error is None:
        try:
            accounts.set_password_with_token(db, token, password, now=now)
            return redirect(request, "/login?notice=password_set")
        except InvalidInput as refused:  # easy to guess: the form again, saying why
            db.rollback()
            error = refused.message
    account_token = accounts.valid_account_token(db, token, now=now)
    user = db.get(User, account_token.user_id)
    return _form(
        request, "accounts/set_password.html", {}, {"password": error}, purpose=purpose, invited=user
    )


@router.get("/password-reset/{token}")
def new_password_form(request: Request, db: SessionDep, token: str, now: Now) -> Response:
    return _set_password_page(request, db, token, now, "reset")


@router.post("/password-reset/{token}")
def set_new_password(
    request: Request, db: SessionDep, form: PostedForm, token: str, now: Now
) -> Response:
    return _set_password(request, db, form, token, now, "reset")


@router.get("/invitation/{token}")
def invitation_form(request: Request, db: SessionDep, token: str, now: Now) -> Response:
    return _set_password_page(request, db, token, now, "invitation")


@router.post("/invitation/{token}")
def accept_invitation(
    request: Request, db: SessionDep, form: PostedForm, token: str, now: Now
) -> Response:
    return _set_password(request, db, form, token, now, "invitation")


# --- organisations (coordinators and admins) --------------------------------------------------------


def _organisation_choices() -> dict[str, Any]:
    return {
        "kinds": list(OrganisationKind),
        "school_levels": list(SchoolLevel),
        "provider_kinds": list(ProviderKind),
    }


@router.get("/admin/organisations")
def organisations(
    request: Request,
    user: StaffPageUser,
    db: SessionDep,
    q: str | None = None,
    kind: str | None = None,
    municipality: str | None = None,
    page: PageNumber = 1,
) -> Response:
    kind = optional_choice(OrganisationKind, kind)
    items, total = accounts.list_organisations(
        db,
        user,
        kind=kind,
        municipality=municipality or None,
        q=q,
        limit=PAGE_SIZE,
        offset=(page - 1) * PAGE_SIZE,
    )
    filters = {"q": q or "", "kind": kind or "", "municipality": municipality or ""}
    return render(
        request,
        "admin/organisations.html",
        {
            "items": items,
            "total": total,
            "page": page,
            "pages": max(1, -(-total // PAGE_SIZE)),
            "filters": filters,
            **_organisation_choices(),
        },
        block="results",
    )


@router.get("/admin/organisations/new")
def new_organisation_form(request: Request, user: StaffPageUser) -> Response:
    values = {"kind": "school", "municipality": user.municipality or ""}
    return _form(
        request,
        "admin/organisation_form.html",
        values,
        {},
        organisation=None,
        **_organisation_choices(),
    )


@router.post("/admin/organisations/new")
def create_organisation(
    request: Request, user: StaffPageUser, db: SessionDep, form: PostedForm
) -> Response:
    data, errors = validate(OrganisationIn, form)
    if data is not None:
        try:
            organisation = accounts.create_organisation(db, user, data)
            return redirect(request, f"/admin/organisations/{organisation.id}?notice=created")
        except InvalidInput as error:
            errors = _field_error(error)
    return _form(
        request,
        "admin/organisation_form.html",
        form,
        errors,
        organisation=None,
        **_organisation_choices(),
    )


@router.get("/admin/organisations/{organisation_id}")
def organisation_form(
    request: Request,
    user: StaffPageUser,
    db: SessionDep,
    organisation_id: PathId,
    notice: str | None = None,
) -> Response:
    organisation = accounts.get_organisation(db, user, organisation_id)
    members, _total = accounts.list_users(db, user, organisation_id=organisation.id, limit=500)
    return _form(
        request,
        "admin/organisation_form.html",
        organisation.model_dump(),
        {},
        organisation=organisation,
        members=members,
        notice=notice,
        **_organisation_choices(),
    )


@router.post("/admin/organisations/{organisation_id}")
def update_organisation(
    request: Request, user: StaffPageUser, db: SessionDep, form: PostedForm, organisation_id: PathId
) -> Response:
    organisation = accounts.get_organisation(db, user, organisation_id)
    data, errors = validate(OrganisationIn, form)
    if data is not None:
        try:
            accounts.update_organisation(db, user, organisation_id, data)
            return redirect(request, f"/admin/organisations/{organisation_id}?notice=saved")
        except InvalidInput as error:
            db.rollback()
            errors = _field_error(error)
    members, _total = accounts.list_users(db, user, organisation_id=organisation.id, limit=500)
    return _form(
        request,
        "admin/organisation_form.html",
        form,
        errors,
        organisation=organisation,
        members=members,
        **_organisation_choices(),
    )


# --- users (coordinators and admins) ----------------------------------------------------------------


def _user_choices(db: SessionDep, actor: User) -> dict[str, Any]:
    organisations, _total = accounts.list_organisations(db, actor, limit=100_000)
    roles = [r for r in Role if r != Role.admin or actor.role == Role.admin]
    return {"roles": roles, "organisation_labels": [accounts.organisation_label(o) for o in organisations]}


def _organisation_shown(db: SessionDep, actor: User, values: dict[str, Any]) -> dict[str, Any]:
    """The form's values with its organisation (an id) as the picker shows it: by its label."""
    organisation_id = int_or_none(str(values.get("organisation_id") or ""), 1, MAX_ID)
    chosen = accounts.organisations_by_id(db, {organisation_id}) if organisation_id else []
    return {**values, "organisation": accounts.organisation_label(chosen[0]) if chosen else ""}


def _user_fields(db: SessionDep, actor: User, form: Any, **extra: Any) -> tuple[dict[str, Any], dict[str, str]]:
    """The user form's fields, its organisation (picked by name) resolved to an id; an unknown
    name is an error beside the picker."""
    fields = {k: v for k, v in form.items() if k not in ("password", "organisation")} | extra
    try:
        fields["organisation_id"] = accounts.organisation_by_label(db, actor, str(form.get("organisation") or ""))
    except InvalidInput as error:
        return fields, _field_error(error)
    return fields, {}


@router.get("/admin/users")
def users(
    request: Request,
    user: StaffPageUser,
    db: SessionDep,
    q: str | None = None,
    role: str | None = None,
    page: PageNumber = 1,
) -> Response:
    role = optional_choice(Role, role)
    items, total = accounts.list_users(
        db, user, role=role, q=q, limit=PAGE_SIZE, offset=(page - 1) * PAGE_SIZE
    )
    organisation_ids = {u.organisation_id for u in items if u.organisation_id}
    names = {o.id: o.name for o in accounts.organisations_by_id(db, organisation_ids)}
    return render(
        request,
        "admin/users.html",
        {
            "items": items,
            "total": total,
            "page": page,
            "pages": max(1, -(-total // PAGE_SIZE)),
            "filters": {"q": q or "", "role": role or ""},
            "roles": list(Role),
            "organisation_names": names,
        },
        block="results",
    )


@router.get("/admin/users/new")
def new_user_form(
    request: Request, user: StaffPageUser, db: SessionDep, organisation_id: str | None = None
) -> Response:
    values = _organisation_shown(db, user, {"role": "teacher", "organisation_id": organisation_id})
    return _form(
        request, "admin/user_form.html", values, {}, edited=None, **_user_choices(db, user)
    )


@router.post("/admin/users/new")
def create_user(
    request: Request,
    user: StaffPageUser,
    db: SessionDep,
    form: PostedForm,
    now: Now,
    settings: SettingsDep,
) -> Response:
    fields, picked = _user_fields(db, user, form)
    data, errors = validate(UserCreate, fields)
    errors |= picked
    if data is not None and not picked:
        try:
            created = accounts.create_user(db, user, data, now=now)
        except InvalidInput as error:
            errors = _field_error(error)
        else:
            token = accounts.issue_account_token(
                db, created, purpose=TokenPurpose.invitation, now=now, settings=settings
            )
            sent = emails.send_invitation(settings, created, token, invited_by=user)
            return redirect(
                request,
                f"/admin/users/{created.id}?notice={'invited' if sent else 'invitation_failed'}",
            )
    return _form(
        request, "admin/user_form.html", form, errors, edited=None, **_user_choices(db, user)
    )


@router.get("/admin/users/{user_id}")
def user_form(
    request: Request,
    user: StaffPageUser,
    db: SessionDep,
    user_id: PathId,
    notice: str | None = None,
) -> Response:
    edited = accounts.get_user(db, user, user_id)
    return _form(
        request,
        "admin/user_form.html",
        _organisation_shown(db, user, edited.model_dump()),
        {},
        edited=edited,
        notice=notice,
        **_user_choices(db, user),
    )


@router.post("/admin/users/{user_id}")
def update_user(
    request: Request, user: StaffPageUser, db: SessionDep, form: PostedForm, user_id: PathId, now: Now
) -> Response:
    edited = accounts.get_user(db, user, user_id)
    fields, picked = _user_fields(db, user, form, is_active="is_active" in form)
    data, errors = validate(UserIn, fields)
    errors |= picked
    if data is not None and not picked:
        try:
            accounts.update_user(db, user, user_id, data, now=now)
            return redirect(request, f"/admin/users/{user_id}?notice=saved")
        except InvalidInput as error:
            db.rollback()
            errors = _field_error(error)
    return _form(
        request, "admin/user_form.html", form, errors, edited=edited, **_user_choices(db, user)
    )


@router.post("/admin/users/{user_id}/invitation")
def resend_invitation(
    request: Request,
    user: StaffPageUser,
    db: SessionDep,
    user_id: PathId,
    now: Now,
    settings: SettingsDep,
) -> Response:
    edited = accounts.get_user(db, user, user_id)
    token = accounts.issue_account_token(
        db, edited, purpose=TokenPurpose.invitation, now=now, settings=settings
    )
    sent = emails.send_invitation(settings, edited, token, invited_by=user)
    return redirect(
        request, f"/admin/users/{user_id}?notice={'invited' if sent else 'invitation_failed'}"
    )
