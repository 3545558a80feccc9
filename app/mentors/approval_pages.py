"""HTML pages for deciding on mentors: the queue ("Mentorer") and a mentor's page with the
decisions and the child-certificate form. Each form posts, then redirects to the mentor's page
with a notice; a refused one shows the page again with the message next to its field."""

from collections.abc import Callable
from datetime import datetime

from fastapi import APIRouter, Request
from fastapi.responses import Response
from sqlalchemy.orm import object_session
from sqlmodel import Session

from app.accounts.models import Role, User
from app.deps import Now, PageNumber, PageUser, PathId, SessionDep
from app.errors import Conflict, InvalidInput
from app.i18n import TIMEZONE, _
from app.mentors import approval, safeguarding
from app.mentors.models import MentorStatus
from app.mentors.schemas import CertificateIn
from app.web.forms import FormFields, PostedForm, form_errors, optional_choice, validate
from app.web.templating import redirect, render, templates

router = APIRouter()
PAGE_SIZE = 50
ALL = "all"  # the queue's filter for every status


def status_label(status: object) -> str:
    value = getattr(status, "value", status)
    return {
        "awaiting_consent": _("Awaiting a guardian's consent"),
        "awaiting_approval": _("Awaiting approval"),
        "approved": _("Approved"),
        "rejected": _("Rejected"),
        "paused": _("Paused"),
        "retired": _("Retired"),
        ALL: _("All"),
    }.get(str(value), str(value))


def _notice(code: str | None) -> str | None:
    return {
        "approved": _("The mentor is approved and has been told."),
        "resumed": _("The mentor can take shifts again and has been told."),
        "rejected": _("The mentor is rejected and has been told why."),
        "paused": _("The mentor is paused and has been told. Their future shifts are cancelled."),
        "retired": _("The mentor has left the programme and has been told. Their future shifts are cancelled."),
        "certificate": _("The assessment of the child certificate is recorded."),
    }.get(code or "")


def decides_on_mentors(user: object) -> bool:
    """Whether the menu shows "Mentors": for coordinators and administrators, and for the teachers
    and provider users of a mentor institution. The latter costs a look-up of their organisation
    by its key in the page's own session (none when it is loaded already); an error page's menu
    (deps.Viewer, no session) shows it to staff only."""
    if getattr(user, "is_staff", False):
        return True
    if not isinstance(user, User) or user.role not in (Role.teacher, Role.provider):
        return False
    db = object_session(user)
    return db is not None and approval.may_decide_on_mentors(db, user)


templates.env.globals["decides_on_mentors"] = decides_on_mentors  # base.html's menu


@router.get("/mentors")
def queue(
    request: Request,
    db: SessionDep,
    user: PageUser,
    status: str | None = None,
    page: PageNumber = 1,
) -> Response:
    """The mentors the user decides on; those awaiting approval unless another status is chosen."""
    chosen = None if status == ALL else optional_choice(MentorStatus, status) or MentorStatus.awaiting_approval
    mentors, total = approval.list_mentors(
        db, user, status=chosen, limit=PAGE_SIZE, offset=(page - 1) * PAGE_SIZE
    )
    return render(
        request,
        "mentors/queue.html",
        {
            "mentors": mentors,
            "total": total,
            "until": safeguarding.certificates_valid_until(db, (m.profile.user_id for m in mentors)),
            "status": chosen.value if chosen else ALL,
            "statuses": [*(s.value for s in MentorStatus), ALL],
            "status_label": status_label,
            "page": page,
            "pages": max(1, -(-total // PAGE_SIZE)),
        },
    )


def _mentor_page(
    request: Request,
    db: Session,
    user: User,
    mentor_id: int,
    now: datetime,
    *,
    notice: str | None = None,
    errors: dict | None = None,
    form_name: str = "",
    values: dict | None = None,
    status_code: int = 200,
) -> Response:
    """The mentor's page; `errors` and `values` are those of its form `form_name`."""
    mentor = approval.get_mentor(db, user, mentor_id)
    today = now.astimezone(TIMEZONE).date()
    return render(
        request,
        "mentors/mentor.html",
        {
            "mentor": mentor,
            "status_label": status_label,
            "certificate_until": safeguarding.certificates_valid_until(db, [mentor_id]).get(mentor_id),
            "certificate_holds": safeguarding.certificate_holds(db, mentor_id, today),
            "notice": _notice(notice),
            "errors": errors or {},
            "form_name": form_name,
            "values": values or {},
            "today": today,
        },
        status_code=status_code,
    )


@router.get("/mentors/{mentor_id}")
def mentor_page(
    request: Request, db: SessionDep, user: PageUser, mentor_id: PathId, now: Now, notice: str | None = None
) -> Response:
    return _mentor_page(request, db, user, mentor_id, now, notice=notice)


def _decide(
    request: Request,
    db: Session,
    user: User,
    mentor_id: int,
    now: datetime,
    form: FormFields,
    *,
    form_name: str,
    notice: str,
    decision: Callable[[], object],
) -> Response:
    try:
        decision()
    except (InvalidInput, Conflict) as error:  # the page again, the message at the form
        db.rollback()
        return _mentor_page(
            request, db, user, mentor_id, now,
            errors=form_errors(error), form_name=form_name, values=form, status_code=error.status_code,
        )
    return redirect(request, f"/mentors/{mentor_id}?notice={notice}")


@router.post("/mentors/{mentor_id}/approve")
def approve(request: Request, db: SessionDep, user: PageUser, form: PostedForm, mentor_id: PathId, now: Now) -> Response:
    return _decide(
        request, db, user, mentor_id, now, form, form_name="approve", notice="approved",
        decision=lambda: approval.approve_mentor(db, user, mentor_id, now=now),
    )


@router.post("/mentors/{mentor_id}/reject")
def reject(request: Request, db: SessionDep, user: PageUser, form: PostedForm, mentor_id: PathId, now: Now) -> Response:
    return _decide(
        request, db, user, mentor_id, now, form, form_name="reject", notice="rejected",
        decision=lambda: approval.reject_mentor(db, user, mentor_id, reason=form.get("reason", ""), now=now),
    )


@router.post("/mentors/{mentor_id}/pause")
def pause(request: Request, db: SessionDep, user: PageUser, form: PostedForm, mentor_id: PathId, now: Now) -> Response:
    return _decide(
        request, db, user, mentor_id, now, form, form_name="pause", notice="paused",
        decision=lambda: approval.pause_mentor(db, user, mentor_id, reason=form.get("reason", ""), now=now),
    )


@router.post("/mentors/{mentor_id}/resume")
def resume(request: Request, db: SessionDep, user: PageUser, form: PostedForm, mentor_id: PathId, now: Now) -> Response:
    return _decide(
        request, db, user, mentor_id, now, form, form_name="resume", notice="resumed",
        decision=lambda: approval.resume_mentor(db, user, mentor_id, now=now),
    )


@router.post("/mentors/{mentor_id}/retire")
def retire(request: Request, db: SessionDep, user: PageUser, form: PostedForm, mentor_id: PathId, now: Now) -> Response:
    return _decide(
        request, db, user, mentor_id, now, form, form_name="retire", notice="retired",
        decision=lambda: approval.retire_mentor(db, user, mentor_id, reason=form.get("reason", ""), now=now),
    )


@router.post("/mentors/{mentor_id}/certificate")
def record_certificate(
    request: Request, db: SessionDep, user: PageUser, form: PostedForm, mentor_id: PathId, now: Now
) -> Response:
    approval.get_mentor(db, user, mentor_id)  # others are refused before their input is looked at
    data, errors = validate(CertificateIn, dict(form))
    for field in ("assessed_on", "valid_until"):
        if field in errors and field in form:  # given, but no date the form takes
            errors[field] = _("Write a date as year-month-day, e.g. 2027-03-01.")
    if data is None:
        return _mentor_page(
            request, db, user, mentor_id, now, errors=errors, form_name="certificate", values=form, status_code=422
        )
    return _decide(
        request, db, user, mentor_id, now, form, form_name="certificate", notice="certificate",
        decision=lambda: safeguarding.record_assessment(
            db, user, mentor_id, assessed_on=data.assessed_on, valid_until=data.valid_until, now=now
        ),
    )
