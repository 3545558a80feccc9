"""HTML pages of shifts: the mentor finds, takes and leaves shifts and reads a visit's details; the
provider's staff see who comes to each mentoring date, put mentors on it and take them off."""

from fastapi import APIRouter, Request
from fastapi.responses import Response
from sqlmodel import Session, col, select

from app.accounts.models import Organisation, User
from app.deps import (
    MentorPageUser,
    Now,
    PageNumber,
    PathId,
    ProviderPageUser,
    SessionDep,
    SettingsDep,
)
from app.errors import Conflict, Forbidden, InvalidInput
from app.i18n import _
from app.mentors import consent, shifts
from app.mentors.conduct import CONDUCT_VERSION, conduct_rules
from app.mentors.models import MentorMunicipality, MentorProfile, MentorStatus
from app.web.forms import PostedForm, form_errors
from app.web.templating import redirect, render

router = APIRouter()
PER_PAGE = 20


def notice_text(code: str | None) -> str | None:
    return {
        "taken": _("You have taken the shift. We remind you a week and a day before."),
        "left": _("You have left the shift. The provider is told."),
        "assigned": _("The mentor is on the date and has been told."),
        "removed": _("The mentor is taken off the date and has been told."),
        "verify_sent": _("We have sent you a new link to confirm your e-mail address."),
        "guardian_asked": _("We have sent your parent or guardian a new link."),
    }.get(code or "")


def status_text(status: MentorStatus) -> str:
    return {
        MentorStatus.awaiting_consent: _("We wait for your parent's or guardian's consent. They have received an e-mail."),
        MentorStatus.awaiting_approval: _("Your institution has not approved you yet. We write to you when it has."),
        MentorStatus.approved: "",
        MentorStatus.rejected: _("Your sign-up was not approved."),
        MentorStatus.paused: _("You are paused and cannot take shifts now."),
        MentorStatus.retired: _("You are no longer a mentor."),
    }[status]


# --- the mentor ------------------------------------------------------------------------------------


@router.get("/mentor/shifts")
def shift_list(
    request: Request, db: SessionDep, user: MentorPageUser, now: Now, page: PageNumber = 1, notice: str | None = None
) -> Response:
    return _shift_list(request, db, user, now, page=page, notice=notice)


def _shift_list(request: Request, db: Session, user: User, now, *, page=1, notice=None, errors=None) -> Response:
    profile = db.get(MentorProfile, user.id)
    rows, total, mine = [], 0, []
    if profile is not None and profile.status == MentorStatus.approved:
        rows, total = shifts.open_shifts(db, user, now=now, limit=PER_PAGE, offset=(page - 1) * PER_PAGE)
        mine = shifts.coming_shifts(db, user)
    return render(
        request,
        "mentors/shifts.html",
        {
            "profile": profile,
            "status_text": status_text(profile.status) if profile else _("You have no mentor profile."),
            "rows": rows,
            "mine": mine,
            "unverified": consent.needs_email_verification(db, user),
            "errors": errors or {},
            "page": page,
            "pages": max(1, -(-total // PER_PAGE)),
            "total": total,
            "notice": notice_text(notice),
        },
        status_code=422 if errors else 200,
    )


@router.post("/mentor/verify/resend")
def resend_verification(request: Request, db: SessionDep, user: MentorPageUser, now: Now, settings: SettingsDep) -> Response:
    try:
        consent.resend_verification(db, user, now=now, settings=settings)
    except InvalidInput as error:
        return _shift_list(request, db, user, now, errors={"resend": error.message})
    return redirect(request, "/mentor/shifts?notice=verify_sent")


@router.post("/mentor/consent/resend")
def ask_guardian_again(request: Request, db: SessionDep, user: MentorPageUser, now: Now, settings: SettingsDep) -> Response:
    try:
        consent.ask_guardian_again(db, user, now=now, settings=settings)
    except InvalidInput as error:
        return _shift_list(request, db, user, now, errors={"resend": error.message})
    return redirect(request, "/mentor/shifts?notice=guardian_asked")


def _shift_page(
    request: Request, db: Session, user: User, session_id: int, *, errors=None, values=None, status_code: int = 200, notice=None
) -> Response:
    session, offer, provider, shift, classes = shifts.visit(db, user, session_id)
    profile = db.get(MentorProfile, user.id)
    return render(
        request,
        "mentors/shift.html",
        {
            "session": session,
            "offer": offer,
            "provider": provider,
            "shift": shift,
            "classes": classes,
            "signed": shifts.signed_counts(db, [session.id]).get(session.id, 0),
            "rules": conduct_rules(),
            "must_accept": profile is None or profile.conduct_version != CONDUCT_VERSION,
            "approved": profile is not None and profile.status == MentorStatus.approved,
            "leave_hours": request.app.state.settings.shift_leave_hours,
            "errors": errors or {},
            "values": values or {},
            "notice": notice_text(notice),
        },
        status_code=status_code,
    )


@router.get("/mentor/shifts/{session_id}")
def shift_page(request: Request, db: SessionDep, user: MentorPageUser, session_id: PathId, notice: str | None = None) -> Response:
    return _shift_page(request, db, user, session_id, notice=notice)


@router.post("/mentor/shifts/{session_id}/signup")
def take_shift(request: Request, db: SessionDep, user: MentorPageUser, session_id: PathId, form: PostedForm, now: Now) -> Response:
    try:
        shifts.sign_up(db, user, session_id, now=now, accepts_code_of_conduct=bool(form.get("accepts_code_of_conduct")))
    except (InvalidInput, Conflict, Forbidden) as error:
        db.rollback()
        errors = form_errors(error) if error.field else {"signup": error.message}
        return _shift_page(request, db, user, session_id, errors=errors, status_code=error.status_code)
    return redirect(request, f"/mentor/shifts/{session_id}?notice=taken")


@router.post("/mentor/shifts/{session_id}/leave")
def leave_shift(
    request: Request, db: SessionDep, user: MentorPageUser, session_id: PathId, form: PostedForm, now: Now, settings: SettingsDep
) -> Response:
    reason = str(form.get("reason", ""))
    try:
        shifts.leave(db, user, session_id, reason=reason, now=now, settings=settings)
    except (InvalidInput, Conflict) as error:
        db.rollback()
        errors = form_errors(error) if error.field else {"reason": error.message}
        return _shift_page(request, db, user, session_id, errors=errors, values={"reason": reason}, status_code=error.status_code)
    return redirect(request, "/mentor/shifts?notice=left")


# --- the provider's staff ------------------------------------------------------------------------


def _mentors_page(request: Request, db: Session, user: User, session_id: int, *, errors=None, status_code=200, notice=None) -> Response:
    session, offer = shifts.own_date(db, user, session_id)
    on_date = shifts.mentors_on(db, [session.id]).get(session.id, [])
    level = shifts.levels_of_offer(offer)
    # Approved mentors of a fitting level who reach the date, not on it already: the staff's picker.
    taken = {mentor.id for _shift, mentor, _profile, _institution in on_date}
    candidates = db.exec(
        select(User, MentorProfile, Organisation)
        .join(MentorProfile, MentorProfile.user_id == User.id)
        .join(Organisation, Organisation.id == MentorProfile.institution_id)
        .join(MentorMunicipality, MentorMunicipality.user_id == User.id)
        .where(
            MentorProfile.status == MentorStatus.approved,
            MentorMunicipality.municipality == offer.municipality,
            col(Organisation.kind).in_(level),
            User.is_active,
        )
        .order_by(col(Organisation.name), col(User.name))
        .limit(500)
    ).all()
    return render(
        request,
        "mentors/date_mentors.html",
        {
            "session": session,
            "offer": offer,
            "on_date": on_date,
            "candidates_options": [
                (mentor.id, f"{shifts.first_name(mentor.name)}, {institution.name}, {profile.study_programme}")
                for mentor, profile, institution in candidates
                if mentor.id not in taken
            ],
            "first_name": shifts.first_name,
            "errors": errors or {},
            "notice": notice_text(notice),
        },
        status_code=status_code,
    )


@router.get("/provider/sessions/{session_id}/mentors")
def date_mentors(request: Request, db: SessionDep, user: ProviderPageUser, session_id: PathId, notice: str | None = None) -> Response:
    return _mentors_page(request, db, user, session_id, notice=notice)


@router.post("/provider/sessions/{session_id}/mentors")
def assign_mentor(request: Request, db: SessionDep, user: ProviderPageUser, session_id: PathId, form: PostedForm, now: Now) -> Response:
    mentor_id = str(form.get("mentor_id", ""))
    try:
        if not mentor_id.isdigit() or len(mentor_id) > 10:
            raise InvalidInput(_("Choose an approved mentor."), field="mentor_id")
        shifts.assign(db, user, session_id, int(mentor_id), now=now)
    except (InvalidInput, Conflict) as error:
        db.rollback()
        return _mentors_page(request, db, user, session_id, errors={"mentor_id": error.message}, status_code=error.status_code)
    return redirect(request, f"/provider/sessions/{session_id}/mentors?notice=assigned")


@router.post("/provider/shifts/{shift_id}/remove")
def remove_mentor(request: Request, db: SessionDep, user: ProviderPageUser, shift_id: PathId, form: PostedForm, now: Now) -> Response:
    shift = shifts.remove(db, user, shift_id, reason=str(form.get("reason", "")), now=now)
    return redirect(request, f"/provider/sessions/{shift.session_id}/mentors?notice=removed")
