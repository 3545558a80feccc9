"""HTML pages of the evaluations: the form a link opens (no log-in: the link is the key), the
results for providers and coordinators with their CSV, and the coordinators' question sets."""

from datetime import date
from urllib.parse import urlencode

from fastapi import APIRouter, Request
from fastapi.responses import Response

from app.accounts.models import Role, User
from app.calendar.bounds import day_from_address
from app.catalogue.models import OfferType
from app.db import MAX_ID
from app.deps import MaybeUser, Now, PageUser, PathId, SessionDep, StaffPageUser
from app.errors import DomainError, Forbidden, NotFound
from app.evaluations import service as evaluations
from app.evaluations.models import Question, QuestionKind
from app.evaluations.schemas import QUESTION_TEXT_MAX, QuestionIn, QuestionWording
from app.geography import MUNICIPALITY_NAMES
from app.i18n import _, current_language
from app.web.forms import (
    FORM_ERROR,
    PostedForm,
    form_errors,
    int_or_none,
    optional_choice,
    validate,
)
from app.web.templating import redirect, render

router = APIRouter()


# --- answering ------------------------------------------------------------------------------------


def _closed_page(request: Request, error: evaluations.LinkClosed, *, status_code: int | None = None) -> Response:
    return render(
        request,
        "evaluations/closed.html",
        {"reason": error.reason, "message": error.message},
        status_code=status_code or error.status_code,
    )


def _labels(questions) -> dict[str, str]:
    """Each answer field's name in the error summary: the question as worded in the page's language."""
    danish = current_language() == "da"
    labels = {}
    for question in questions:
        text = question.text_da if danish else question.text_en
        if question.kind == QuestionKind.class_poll:
            girls, boys = _("Girls"), _("Boys")
            labels[evaluations.field_name(question, "girls")] = f"{text} – {girls}"
            labels[evaluations.field_name(question, "boys")] = f"{text} – {boys}"
        else:
            labels[evaluations.field_name(question)] = text
    return labels


def _form_page(request, form: evaluations.EvaluationForm, action: str, *, values=None, errors=None, status_code=200) -> Response:
    return render(
        request,
        "evaluations/answer.html",
        {
            "form": form,
            "action": action,
            "values": values or {},
            "errors": errors or {},
            "labels": _labels(form.questions),
            "field_name": evaluations.field_name,
            "text_max": evaluations.TEXT_MAX,
        },
        status_code=status_code,
    )


@router.get("/evaluations/thanks")
def thanks(request: Request, user: MaybeUser) -> Response:
    return render(request, "evaluations/thanks.html")


# --- results (before /evaluations/{token}: these addresses are not links) --------------------------


def _filters(
    user: User,
    type: str | None,
    provider: str | None,
    municipality: str | None,
    starts_from: str | None,
    starts_before: str | None,
) -> tuple[evaluations.ResultFilters, dict]:
    first_day: date | None = day_from_address(starts_from)
    last_day: date | None = day_from_address(starts_before)
    filters = evaluations.ResultFilters(
        offer_type=optional_choice(OfferType, type),
        provider_id=int_or_none(provider, 1, MAX_ID) if user.is_staff else None,
        municipality=municipality if municipality in MUNICIPALITY_NAMES and user.is_regional_staff else None,
        first_day=first_day,
        last_day=last_day,
    )
    shown = {
        "type": filters.offer_type.value if filters.offer_type else None,
        "provider": filters.provider_id,
        "municipality": filters.municipality,
        "starts_from": first_day.isoformat() if first_day else None,
        "starts_before": last_day.isoformat() if last_day else None,
    }
    return filters, shown


def _sees_results(user: User) -> None:
    if user.role != Role.provider and not user.is_staff:
        raise Forbidden(_("Only providers and coordinators may see evaluations."))


@router.get("/evaluations")
def results_page(
    request: Request,
    db: SessionDep,
    user: PageUser,
    type: str | None = None,
    provider: str | None = None,
    municipality: str | None = None,
    starts_from: str | None = None,
    starts_before: str | None = None,
) -> Response:
    _sees_results(user)
    filters, shown = _filters(user, type, provider, municipality, starts_from, starts_before)
    query = urlencode({k: v for k, v in shown.items() if v})
    return render(
        request,
        "evaluations/results.html",
        {
            "results": evaluations.results(db, user, filters),
            "filters": shown,
            "offer_types": list(OfferType),
            "providers": evaluations.providers_with_evaluations(db) if user.is_staff else [],
            "csv_url": "/evaluations.csv" + (f"?{query}" if query else ""),
            "danish": current_language() == "da",
        },
    )


@router.get("/evaluations.csv")
def results_csv(
    request: Request,
    db: SessionDep,
    user: PageUser,
    now: Now,
    type: str | None = None,
    provider: str | None = None,
    municipality: str | None = None,
    starts_from: str | None = None,
    starts_before: str | None = None,
) -> Response:
    _sees_results(user)
    filters, _shown = _filters(user, type, provider, municipality, starts_from, starts_before)
    content = evaluations.results_csv(db, user, filters)
    return Response(
        content=content.encode("utf-8-sig"),  # the BOM makes Excel read UTF-8 (æ, ø, å)
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="evaluations-{now.date().isoformat()}.csv"'},
    )


# --- the question sets ----------------------------------------------------------------------------


def kind_names() -> dict[str, str]:
    return {
        QuestionKind.scale.value: _("Scale from 1 to 5"),
        QuestionKind.yes_no.value: _("Yes or no"),
        QuestionKind.text.value: _("Free text"),
        QuestionKind.class_poll.value: _("Class poll: girls and boys more curious (counts only)"),
    }


def _questions_page(request, db, user, offer_type: OfferType, *, values=None, errors=None, editing=None, status_code=200) -> Response:
    return render(
        request,
        "evaluations/questions.html",
        {
            "offer_type": offer_type,
            "offer_types": list(OfferType),
            "questions": evaluations.all_questions(db, offer_type),
            "kind_names": kind_names(),
            "kind_choices": list(kind_names().items()),
            "values": values or {"kind": "scale"},
            "errors": errors or {},
            "editing": editing,  # the question whose rewording was refused
            "text_max": QUESTION_TEXT_MAX,
        },
        status_code=status_code,
    )


def _offer_type(value: str | None) -> OfferType:
    return optional_choice(OfferType, value) or OfferType.company_week


@router.get("/evaluations/questions")
def questions_page(request: Request, db: SessionDep, user: StaffPageUser, type: str | None = None) -> Response:
    return _questions_page(request, db, user, _offer_type(type))


@router.post("/evaluations/questions")
def add_question(request: Request, db: SessionDep, user: StaffPageUser, form: PostedForm, now: Now) -> Response:
    data, errors = validate(QuestionIn, dict(form))
    if data is not None:
        evaluations.add_question(db, user, data, now=now)
        return redirect(request, f"/evaluations/questions?type={data.offer_type.value}")
    return _questions_page(request, db, user, _offer_type(form.get("offer_type")), values=form, errors=errors, status_code=422)


def _question_type(db, question_id: int) -> OfferType:
    question = db.get(Question, question_id)
    if question is None:
        raise NotFound(_("We could not find that page."))
    return question.offer_type


@router.post("/evaluations/questions/{question_id}/reword")
def reword_question(request: Request, db: SessionDep, user: StaffPageUser, form: PostedForm, question_id: PathId, now: Now) -> Response:
    offer_type = _question_type(db, question_id)
    data, errors = validate(QuestionWording, {k: v for k, v in form.items() if k in ("text_da", "text_en")})
    if data is not None:
        try:
            evaluations.reword_question(db, user, question_id, data, now=now)
            return redirect(request, f"/evaluations/questions?type={offer_type.value}")
        except DomainError as error:
            db.rollback()
            errors = form_errors(error)
    values = {f"q{question_id}-{k}": v for k, v in form.items()}
    errors = {f"q{question_id}-{k}" if k != FORM_ERROR else k: v for k, v in errors.items()}
    return _questions_page(request, db, user, offer_type, values=values, errors=errors, editing=question_id, status_code=422)


@router.post("/evaluations/questions/{question_id}/retire")
def retire_question(request: Request, db: SessionDep, user: StaffPageUser, question_id: PathId, now: Now) -> Response:
    offer_type = _question_type(db, question_id)
    evaluations.retire_question(db, user, question_id, now=now)
    return redirect(request, f"/evaluations/questions?type={offer_type.value}")


@router.post("/evaluations/questions/{question_id}/move")
def move_question(request: Request, db: SessionDep, user: StaffPageUser, form: PostedForm, question_id: PathId) -> Response:
    offer_type = _question_type(db, question_id)
    evaluations.move_question(db, user, question_id, up=form.get("direction") != "down")
    return redirect(request, f"/evaluations/questions?type={offer_type.value}")


# --- the form, from the inbox (logged in) ----------------------------------------------------------


@router.get("/evaluations/requests/{request_id}")
def own_form(request: Request, db: SessionDep, user: PageUser, request_id: PathId, now: Now) -> Response:
    try:
        evaluation = evaluations.own_request(db, user, request_id, now=now)
    except evaluations.LinkClosed as error:
        return _closed_page(request, error, status_code=200 if error.reason == "answered" else None)
    return _form_page(request, evaluations.form_for(db, evaluation), f"/evaluations/requests/{request_id}")


@router.post("/evaluations/requests/{request_id}")
def answer_own(request: Request, db: SessionDep, user: PageUser, form: PostedForm, request_id: PathId, now: Now) -> Response:
    try:
        evaluations.answer_own(db, user, request_id, form, now=now)
    except evaluations.LinkClosed as error:
        db.rollback()
        return _closed_page(request, error)
    except evaluations.InvalidAnswers as error:
        db.rollback()
        evaluation = evaluations.own_request(db, user, request_id, now=now)
        return _form_page(request, evaluations.form_for(db, evaluation), f"/evaluations/requests/{request_id}",
                          values=form, errors=error.errors, status_code=422)
    return redirect(request, "/evaluations/thanks")


# --- the form, from the e-mailed link (no log-in) ---------------------------------------------------


@router.get("/evaluations/{token}")
def link_form(request: Request, db: SessionDep, user: MaybeUser, token: str, now: Now) -> Response:
    try:
        evaluation = evaluations.request_for_token(db, token, now=now)
    except evaluations.LinkClosed as error:
        return _closed_page(request, error, status_code=200 if error.reason == "answered" else None)
    # The address is the key; the portal's Referrer-Policy (strict-origin-when-cross-origin) never
    # passes a path on to another site.
    return _form_page(request, evaluations.form_for(db, evaluation), evaluations.link_path(token))


@router.post("/evaluations/{token}")
def answer_link(request: Request, db: SessionDep, user: MaybeUser, form: PostedForm, token: str, now: Now) -> Response:
    try:
        evaluations.answer(db, token, form, now=now)
    except evaluations.LinkClosed as error:
        db.rollback()
        return _closed_page(request, error)
    except evaluations.InvalidAnswers as error:
        db.rollback()
        evaluation = evaluations.request_for_token(db, token, now=now)
        return _form_page(request, evaluations.form_for(db, evaluation), evaluations.link_path(token),
                          values=form, errors=error.errors, status_code=422)
    return redirect(request, "/evaluations/thanks")
