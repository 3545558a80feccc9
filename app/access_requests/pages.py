"""Pages of access requests: asking for an account, registering a company, the e-mailed link,
and the approvers' queue. Thin: the rules are app.access_requests.service."""

from typing import Annotated, Any

from fastapi import APIRouter, Query, Request
from fastapi.responses import Response
from sqlmodel import Session

from app.access_requests import service as access
from app.access_requests.models import AccessRequest, AccessRequestKind
from app.access_requests.schemas import AccountRequestIn, ProviderRegistrationIn
from app.accounts.models import Organisation, User
from app.db import MAX_ID
from app.deps import Now, PageUser, PathId, SessionDep, SettingsDep, client_address
from app.errors import InvalidInput, TooManyAttempts
from app.geography import MUNICIPALITY_NAMES
from app.i18n import _, current_language
from app.web.forms import FormFields, PostedForm, form_errors, int_or_none, validate
from app.web.templating import redirect, render

router = APIRouter()

ACCOUNT_FIELDS = ("organisation_id", "name", "email", "message")
COMPANY_FIELDS = ("company_name", "cvr", "address", "municipality", "name", "email", "phone", "message")
SearchText = Annotated[str | None, Query(max_length=100)]
IdText = Annotated[str | None, Query(max_length=20)]


def _in_order(errors: dict[str, str], fields: tuple[str, ...]) -> dict[str, str]:
    order = {name: i for i, name in enumerate(fields)}
    return dict(sorted(errors.items(), key=lambda item: order.get(item[0], -1)))


def _chosen(db: Session, organisation_id: str | None) -> Organisation | None:
    number = int_or_none(organisation_id, 1, MAX_ID)
    return db.get(Organisation, number) if number else None


def _account_page(
    request: Request, db: Session, *, q: str, organisation: Organisation | None, values: dict, errors: dict
) -> Response:
    found, total = access.search_organisations(db, q) if organisation is None else ([], 0)
    context = {
        "q": q,
        "found": found,
        "total": total,
        "organisation": organisation,
        "values": values,
        "errors": _in_order(errors, ACCOUNT_FIELDS),
    }
    return render(
        request, "access_requests/account.html", context, status_code=422 if errors else 200, block="organisation_results"
    )


@router.get("/request-account")
def account_form(
    request: Request, db: SessionDep, q: SearchText = None, organisation_id: IdText = None
) -> Response:
    """Step one finds the organisation (a search that needs no JavaScript), step two asks the rest."""
    return _account_page(request, db, q=q or "", organisation=_chosen(db, organisation_id), values={}, errors={})


@router.post("/request-account")
def request_account(
    request: Request, db: SessionDep, form: PostedForm, now: Now, settings: SettingsDep
) -> Response:
    values = {name: form[name] for name in ACCOUNT_FIELDS if name in form}
    organisation = _chosen(db, form.get("organisation_id"))
    data, errors = validate(AccountRequestIn, values)
    if organisation is None:
        errors["organisation_id"] = _("Search for your school or company, and choose it.")
    status = 422
    if data is not None and not errors:
        try:
            access.request_account(
                db, data, client=client_address(request), language=current_language(), now=now, settings=settings
            )
        except (InvalidInput, TooManyAttempts) as error:
            db.rollback()
            errors, status = form_errors(error), error.status_code
        else:
            return redirect(request, "/request-account/sent")
    response = _account_page(request, db, q="", organisation=organisation, values=values, errors=errors)
    response.status_code = status
    return response


def _company_page(request: Request, values: dict, errors: dict, status: int = 422) -> Response:
    context = {
        "values": values,
        "errors": _in_order(errors, COMPANY_FIELDS),
        "municipality_choices": [(name, name) for name in MUNICIPALITY_NAMES],
    }
    return render(request, "access_requests/company.html", context, status_code=status if errors else 200)


@router.get("/register-company")
def company_form(request: Request) -> Response:
    return _company_page(request, {}, {})


def _company_errors(form: FormFields, errors: dict[str, str]) -> dict[str, str]:
    """The schema's generic words made specific for the fields with a format."""
    if "cvr" in errors and "cvr" in form:
        digits = form["cvr"].replace(" ", "")
        errors["cvr"] = (
            _("A CVR number is 8 digits, e.g. 12345678.")
            if not (len(digits) == 8 and digits.isascii() and digits.isdigit())
            else _("This is not a valid CVR number. Check the digits.")
        )
    if "phone" in errors and "phone" in form:
        errors["phone"] = _("Write a phone number of at least 8 digits, e.g. 12 34 56 78.")
    return errors


@router.post("/register-company")
def register_company(
    request: Request, db: SessionDep, form: PostedForm, now: Now, settings: SettingsDep
) -> Response:
    values = {name: form[name] for name in COMPANY_FIELDS if name in form}
    data, errors = validate(ProviderRegistrationIn, values)
    errors = _company_errors(form, errors)
    status = 422
    if data is not None:
        try:
            access.register_provider(
                db, data, client=client_address(request), language=current_language(), now=now, settings=settings
            )
        except (InvalidInput, TooManyAttempts) as error:
            db.rollback()
            errors, status = form_errors(error), error.status_code
        else:
            return redirect(request, "/request-account/sent")
    return _company_page(request, values, errors, status)


@router.get("/request-account/sent")
def sent(request: Request) -> Response:
    """The same answer for every request: whether the address has an account is for its owner to read."""
    return render(request, "access_requests/sent.html")


@router.get("/request-account/verify/{token}")
def verify(request: Request, db: SessionDep, token: str, now: Now, settings: SettingsDep) -> Response:
    """Opening the e-mailed link is the proof: nothing to fill in."""
    try:
        asked = access.verify(db, token, now=now, settings=settings)
    except access.LinkNotValid as error:
        return render(request, "access_requests/verified.html", {"invalid": error.message}, status_code=404)
    return render(request, "access_requests/verified.html", {"asked": asked})


# --- the approvers -------------------------------------------------------------------------------


def _organisations(db: Session, requests: list[AccessRequest]) -> dict[int, Organisation]:
    ids = {r.organisation_id for r in requests if r.organisation_id}
    return {o.id: o for o in (db.get(Organisation, i) for i in ids) if o}


@router.get("/access-requests")
def queue(request: Request, user: PageUser, db: SessionDep, notice: IdText = None) -> Response:
    waiting = list(access.waiting(db, user))
    return render(
        request,
        "access_requests/queue.html",
        {"waiting": waiting, "organisations": _organisations(db, waiting), "notice": notice},
    )


def _request_page(
    request: Request, db: Session, user: User, asked: AccessRequest, values: dict, errors: dict, status: int = 200
) -> Response:
    organisation = db.get(Organisation, asked.organisation_id) if asked.organisation_id else None
    decided_by = db.get(User, asked.decided_by_id) if asked.decided_by_id else None
    context: dict[str, Any] = {
        "asked": asked,
        "organisation": organisation,
        "decided_by": decided_by,
        "new_provider": asked.kind == AccessRequestKind.new_provider,
        "values": values,
        "errors": errors,
    }
    return render(request, "access_requests/request.html", context, status_code=status)


@router.get("/access-requests/{access_request_id}")
def request_page(request: Request, user: PageUser, db: SessionDep, access_request_id: PathId) -> Response:
    return _request_page(request, db, user, access.get_request(db, user, access_request_id), {}, {})


@router.post("/access-requests/{access_request_id}/approve")
def approve(
    request: Request, user: PageUser, db: SessionDep, access_request_id: PathId, now: Now, settings: SettingsDep
) -> Response:
    access.approve(db, user, access_request_id, now=now, settings=settings)
    return redirect(request, "/access-requests?notice=approved")


@router.post("/access-requests/{access_request_id}/decline")
def decline(
    request: Request, user: PageUser, db: SessionDep, form: PostedForm, access_request_id: PathId, now: Now
) -> Response:
    try:
        access.decline(db, user, access_request_id, reason=form.get("reason", ""), now=now)
    except InvalidInput as error:
        db.rollback()
        asked = access.get_request(db, user, access_request_id)
        return _request_page(request, db, user, asked, {"reason": form.get("reason", "")}, form_errors(error), 422)
    return redirect(request, "/access-requests?notice=declined")
