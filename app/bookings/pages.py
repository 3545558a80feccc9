"""HTML pages of the booking engine: book a class, see and cancel bookings, approve them."""

import uuid

from fastapi import APIRouter, Request
from fastapi.responses import Response
from sqlmodel import col, select

from app.accounts.models import Organisation, Role
from app.bookings import service as bookings
from app.bookings.models import BookingStatus
from app.bookings.schemas import BookingIn
from app.catalogue import service as catalogue
from app.catalogue.models import GRADE_MAX, GRADE_MIN, Offer, OfferSession
from app.deps import Now, PageUser, PathId, SessionDep
from app.errors import Conflict, DomainError, Forbidden, InvalidInput
from app.i18n import _
from app.web.forms import PostedForm, as_list, optional_choice, validate
from app.web.templating import redirect, render

router = APIRouter()


def _book_page(
    request, db, user, session, now, *, values=None, errors=None, status_code=200
) -> Response:
    offer = catalogue.visible_offer(db, user, session.offer_id)
    held_pupils, held_classes = bookings.held(db, [session.id], now=now).get(session.id, (0, 0))
    free = max(0, session.capacity_pupils - held_pupils)
    full = free == 0 or (
        session.capacity_classes is not None and held_classes >= session.capacity_classes
    )
    defaults = {
        "grade": offer.grade_min,
        "adults": 1,
        "contact_phone": user.phone,
        "idempotency_key": str(uuid.uuid4()),
    }
    return render(
        request,
        "bookings/book.html",
        {
            "offer": offer,
            "session": session,
            "free": free,
            "full": full,
            "waiting": bookings.waiting(db, [session.id]).get(session.id, 0),
            "grades": range(max(GRADE_MIN, offer.grade_min), min(GRADE_MAX, offer.grade_max) + 1),
            "values": {**defaults, **(values or {})},
            "errors": errors or {},
        },
        status_code=status_code,
    )


def _teacher(user) -> None:
    if user.role != Role.teacher:
        raise Forbidden(_("Only teachers can book."))


@router.get("/sessions/{session_id}/book")
def book_form(
    request: Request, db: SessionDep, user: PageUser, session_id: PathId, now: Now
) -> Response:
    _teacher(user)
    session = catalogue.visible_session(db, user, session_id)
    return _book_page(request, db, user, session, now)


@router.post("/sessions/{session_id}/book")
def book(
    request: Request, db: SessionDep, user: PageUser, form: PostedForm, session_id: PathId, now: Now
) -> Response:
    _teacher(user)
    session = catalogue.visible_session(db, user, session_id)
    key = str(form.get("idempotency_key", ""))[:100] or None
    data, errors = validate(
        BookingIn,
        {
            **{k: v for k, v in form.items() if k != "idempotency_key"},
            "session_id": session.id,
            "waitlist": "waitlist" in form,
        },
    )
    if data is not None:
        try:
            booking = bookings.book_session(db, user, data, now=now, idempotency_key=key)
            return redirect(request, f"/bookings?notice=booked_{booking.status.value}")
        except (InvalidInput, Conflict) as error:
            db.rollback()
            errors = {error.field or "pupils": error.message}
            session = catalogue.visible_session(db, user, session_id)
    return _book_page(
        request,
        db,
        user,
        session,
        now,
        values=form,
        errors=errors,
        status_code=422 if errors else 200,
    )


@router.get("/bookings")
def booking_list(
    request: Request,
    db: SessionDep,
    user: PageUser,
    now: Now,
    status: str | None = None,
    notice: str | None = None,
) -> Response:
    chosen = optional_choice(BookingStatus, status)
    if user.is_staff and status is None:
        chosen = BookingStatus.pending  # the approval queue
    items, total = bookings.list_bookings(db, user, status=chosen, limit=200)
    session_ids = {b.session_id for b in items}
    sessions = {
        s.id: s for s in db.exec(select(OfferSession).where(col(OfferSession.id).in_(session_ids)))
    }
    offer_ids = {s.offer_id for s in sessions.values()}
    offers = {o.id: o for o in db.exec(select(Offer).where(col(Offer.id).in_(offer_ids)))}
    school_ids = {b.school_id for b in items}
    schools = {
        o.id: o.name
        for o in db.exec(select(Organisation).where(col(Organisation.id).in_(school_ids)))
    }
    return render(
        request,
        "bookings/list.html",
        {
            "items": items,
            "total": total,
            "sessions": sessions,
            "offers": offers,
            "schools": schools,
            "status": chosen,
            "statuses": list(BookingStatus),
            "notice": notice,
            "now": now,
        },
    )


@router.post("/bookings/{booking_id}/cancel")
def cancel(
    request: Request, db: SessionDep, user: PageUser, form: PostedForm, booking_id: PathId, now: Now
) -> Response:
    bookings.cancel_booking(db, user, booking_id, reason=form.get("reason", ""), now=now)
    return redirect(request, "/bookings?notice=booking_cancelled")


@router.post("/bookings/{booking_id}/approve")
def approve(
    request: Request, db: SessionDep, user: PageUser, booking_id: PathId, now: Now
) -> Response:
    bookings.approve_booking(db, user, booking_id, now=now)
    return redirect(request, "/bookings?notice=booking_approved")


@router.post("/bookings/{booking_id}/decline")
def decline(
    request: Request, db: SessionDep, user: PageUser, form: PostedForm, booking_id: PathId, now: Now
) -> Response:
    bookings.decline_booking(db, user, booking_id, reason=form.get("reason", ""), now=now)
    return redirect(request, "/bookings?notice=booking_declined")


@router.post("/bookings/approve")
def approve_many(
    request: Request, db: SessionDep, user: PageUser, form: PostedForm, now: Now
) -> Response:
    """Bulk approval from the queue; each booking in its own locked transaction."""
    if not user.is_staff:
        raise Forbidden(_("Only coordinators can approve bookings."))
    approved = 0
    for raw in as_list(form.get("booking_ids")):
        try:
            bookings.approve_booking(db, user, int(raw), now=now)
            approved += 1
        except (ValueError, DomainError):
            db.rollback()
    return redirect(request, f"/bookings?notice=bulk_approved&count={approved}")
