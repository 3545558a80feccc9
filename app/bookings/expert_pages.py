"""HTML pages of "book an expert": a teacher proposes a time and answers the provider's other time;
the provider accepts, declines with a reason or proposes another time."""

from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import Response

from app.accounts.models import Organisation, Role
from app.bookings import expert
from app.bookings.expert_notices import visit_time
from app.bookings.models import ExpertProposal, ProposalStatus
from app.catalogue import service as catalogue
from app.catalogue.models import GRADE_MAX, GRADE_MIN, Offer
from app.catalogue.resources import availability, offer_resources
from app.deps import Now, PageUser, PathId, ProviderPageUser, SessionDep
from app.errors import Conflict, Forbidden, InvalidInput
from app.i18n import TIMEZONE, _
from app.web.forms import PostedForm, form_errors, validate
from app.web.templating import redirect, render

router = APIRouter()

# The service names times as the API does; the forms ask for a day and two times of day.
FORM_FIELDS = {"starts_at": "date", "ends_at": "ends"}


def status_text(status: ProposalStatus, *, provider: bool) -> str:
    return {
        ProposalStatus.proposed: _("Awaits your answer") if provider else _("Awaits the provider"),
        ProposalStatus.counter_proposed: _("Awaits the school") if provider else _("Another time proposed"),
        ProposalStatus.accepted: _("Accepted: booked"),
        ProposalStatus.declined: _("Declined"),
        ProposalStatus.withdrawn: _("Withdrawn"),
    }[status]


def notice_text(code: str | None) -> str | None:
    return {
        "proposal_sent": _("Your proposal is sent. We e-mail you when the provider answers."),
        "withdrawn": _("The proposal is withdrawn."),
        "counter_declined": _("You declined the other time. The proposal is closed."),
        "booked": _("The visit is booked. It is in the list of bookings with its state."),
        "declined": _("The proposal is declined and the teacher is told why."),
        "counter_sent": _("Your other time is sent to the teacher."),
    }.get(code or "")


def _validate_with_times(schema, form: dict[str, Any]):
    """Validate a form whose day and times of day become the schema's `starts_at` and `ends_at`
    (naive: Danish time), with each error next to the form's own field."""
    missing = {name: _("Fill in this field.") for name in ("date", "starts", "ends") if not form.get(name)}
    day, starts, ends = form.get("date"), form.get("starts"), form.get("ends")
    fields = {k: v for k, v in form.items() if k not in ("date", "starts", "ends")}
    if day and starts:
        fields["starts_at"] = f"{day}T{starts}"
    if day and ends:
        fields["ends_at"] = f"{day}T{ends}"
    data, errors = validate(schema, fields)
    # A time that could not be made is reported as its missing part, not as a second error.
    errors = {FORM_FIELDS.get(k, k): v for k, v in errors.items() if k not in FORM_FIELDS or k in fields}
    return (None if missing else data), {**errors, **missing}


# --- the teacher ---------------------------------------------------------------------------------


def _teacher(user) -> None:
    if user.role != Role.teacher:
        raise Forbidden(_("Only teachers can propose a visit."))


def _propose_page(request, db, user, offer, now, *, values=None, errors=None, status_code=200) -> Response:
    school = db.get(Organisation, user.organisation_id)
    windows, areas = availability(db, offer.id)
    defaults = {
        "grade": offer.grade_min,
        "adults": 1,
        "contact_phone": user.phone,
        "starts": windows[0].starts.strftime("%H:%M") if windows else "",
        "ends": windows[0].ends.strftime("%H:%M") if windows else "",
    }
    proposals = [row for row in expert.school_proposals(db, user) if row[0].offer_id == offer.id]
    return render(
        request,
        "bookings/expert_propose.html",
        {
            "offer": offer,
            "school": school,
            "windows": windows,
            "areas": areas,
            "may_propose": expert.school_may_propose(db, offer, school),
            "earliest": expert.earliest_day(offer, now),
            "experts": offer_resources(db, offer.id),
            "grades": range(max(GRADE_MIN, offer.grade_min), min(GRADE_MAX, offer.grade_max) + 1),
            "proposals": proposals,
            "status_text": status_text,
            "visit_time": visit_time,
            "values": {**defaults, **(values or {})},
            "errors": errors or {},
        },
        status_code=status_code,
    )


@router.get("/offers/{offer_id}/propose")
def propose_form(request: Request, db: SessionDep, user: PageUser, offer_id: PathId, now: Now) -> Response:
    _teacher(user)
    offer = catalogue.visible_offer(db, user, offer_id)
    if not offer.on_request:
        return redirect(request, f"/offers/{offer.id}")  # an offer with dates is booked by date
    return _propose_page(request, db, user, offer, now)


@router.post("/offers/{offer_id}/propose")
def propose(request: Request, db: SessionDep, user: PageUser, form: PostedForm, offer_id: PathId, now: Now) -> Response:
    _teacher(user)
    offer = catalogue.visible_offer(db, user, offer_id)
    if not offer.on_request:
        raise Conflict(_("This activity has fixed dates: book one of them."))
    data, errors = _validate_with_times(expert.ProposalIn, form)
    status_code = 422
    if data is not None:
        try:
            expert.propose(db, user, offer.id, data, now=now)
            return redirect(request, "/proposals?notice=proposal_sent")
        except (InvalidInput, Conflict) as error:
            db.rollback()
            errors = form_errors(error, FORM_FIELDS)
            status_code = error.status_code
    return _propose_page(request, db, user, offer, now, values=form, errors=errors, status_code=status_code)


@router.get("/proposals")
def school_proposals(request: Request, db: SessionDep, user: PageUser, notice: str | None = None) -> Response:
    return render(
        request,
        "bookings/expert_list.html",
        {"rows": expert.school_proposals(db, user), "status_text": status_text,
            "visit_time": visit_time, "notice": notice_text(notice)},
    )


@router.post("/proposals/{proposal_id}/accept")
def accept_counter(request: Request, db: SessionDep, user: PageUser, proposal_id: PathId, now: Now) -> Response:
    expert.accept_counter(db, user, proposal_id, now=now)
    return redirect(request, "/proposals?notice=booked")


@router.post("/proposals/{proposal_id}/decline")
def decline_counter(request: Request, db: SessionDep, user: PageUser, proposal_id: PathId, now: Now) -> Response:
    expert.decline_counter(db, user, proposal_id, now=now)
    return redirect(request, "/proposals?notice=counter_declined")


@router.post("/proposals/{proposal_id}/withdraw")
def withdraw(request: Request, db: SessionDep, user: PageUser, proposal_id: PathId, now: Now) -> Response:
    expert.withdraw(db, user, proposal_id, now=now)
    return redirect(request, "/proposals?notice=withdrawn")


# --- the provider --------------------------------------------------------------------------------


@router.get("/provider/proposals")
def provider_proposals(request: Request, db: SessionDep, user: ProviderPageUser, notice: str | None = None) -> Response:
    return render(
        request,
        "bookings/expert_provider_list.html",
        {"rows": expert.provider_proposals(db, user), "status_text": status_text,
            "visit_time": visit_time, "notice": notice_text(notice)},
    )


def _proposal_page(
    request, db, proposal: ExpertProposal, *, values=None, errors=None, form_name=None, status_code=200
) -> Response:
    offer = db.get(Offer, proposal.offer_id)
    start, end = proposal.starts_at, proposal.ends_at
    defaults = {"date": start.astimezone(TIMEZONE).date().isoformat(),
                "starts": start.astimezone(TIMEZONE).strftime("%H:%M"),
                "ends": end.astimezone(TIMEZONE).strftime("%H:%M")}
    windows, _areas = availability(db, offer.id)
    return render(
        request,
        "bookings/expert_provider_proposal.html",
        {
            "proposal": proposal,
            "offer": offer,
            "school": db.get(Organisation, proposal.school_id),
            "windows": windows,
            "waiting": proposal.status in expert.WAITING,
            "status_text": status_text,
            "visit_time": visit_time,
            "values": {**defaults, **(values or {})},
            "errors": errors or {},
            "form_name": form_name,
        },
        status_code=status_code,
    )


@router.get("/provider/proposals/{proposal_id}")
def provider_proposal(request: Request, db: SessionDep, user: PageUser, proposal_id: PathId) -> Response:
    proposal = expert.proposal_for_provider(db, user, proposal_id)
    return _proposal_page(request, db, proposal)


@router.post("/provider/proposals/{proposal_id}/accept")
def accept(request: Request, db: SessionDep, user: PageUser, proposal_id: PathId, now: Now) -> Response:
    proposal = expert.proposal_for_provider(db, user, proposal_id)
    try:
        expert.accept(db, user, proposal.id, now=now)
    except Conflict as error:
        # A clash or a full week: shown where the provider can propose another time instead.
        db.rollback()
        proposal = expert.proposal_for_provider(db, user, proposal_id)
        return _proposal_page(request, db, proposal, errors={"accept": error.message}, form_name="accept", status_code=409)
    return redirect(request, "/provider/proposals?notice=booked")


@router.post("/provider/proposals/{proposal_id}/decline")
def decline(request: Request, db: SessionDep, user: PageUser, form: PostedForm, proposal_id: PathId, now: Now) -> Response:
    proposal = expert.proposal_for_provider(db, user, proposal_id)
    try:
        expert.decline(db, user, proposal.id, str(form.get("reason", "")), now=now)
    except InvalidInput as error:
        return _proposal_page(
            request, db, proposal, values=form, errors={"reason": error.message}, form_name="decline", status_code=422
        )
    return redirect(request, "/provider/proposals?notice=declined")


@router.post("/provider/proposals/{proposal_id}/counter")
def counter(request: Request, db: SessionDep, user: PageUser, form: PostedForm, proposal_id: PathId, now: Now) -> Response:
    proposal = expert.proposal_for_provider(db, user, proposal_id)
    data, errors = _validate_with_times(expert.CounterIn, {k: v for k, v in form.items() if k in ("date", "starts", "ends", "message")})
    status_code = 422
    if data is not None:
        try:
            expert.counter_propose(db, user, proposal.id, data.starts_at, data.ends_at, data.message, now=now)
            return redirect(request, "/provider/proposals?notice=counter_sent")
        except (InvalidInput, Conflict) as error:
            db.rollback()
            errors = form_errors(error, FORM_FIELDS)
            status_code = error.status_code
            proposal = expert.proposal_for_provider(db, user, proposal_id)
    return _proposal_page(request, db, proposal, values=form, errors=errors, form_name="counter", status_code=status_code)
