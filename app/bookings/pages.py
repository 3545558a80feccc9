"""HTML pages of the booking engine: book a class, see and cancel bookings, approve them."""

import uuid
from datetime import date, datetime, timedelta
from urllib.parse import parse_qsl, urlencode

from fastapi import APIRouter, Request
from fastapi.responses import Response
from sqlmodel import Session, col, select

from app.accounts.models import Organisation, Role, User
from app.bookings import allocation, limits
from app.bookings import service as bookings
from app.bookings.models import BookingStatus
from app.bookings.notices import calendar_file
from app.bookings.schemas import BookingIn
from app.calendar.bounds import day_from_address
from app.catalogue import service as catalogue
from app.catalogue.models import GRADE_MAX, GRADE_MIN, Offer, OfferSession, OfferType
from app.db import MAX_ID
from app.deps import Now, PageUser, PathId, SessionDep
from app.errors import Conflict, DomainError, Forbidden, InvalidInput
from app.geography import MUNICIPALITY_NAMES
from app.i18n import TIMEZONE, _
from app.mentors import shifts
from app.web.forms import PostedForm, form_errors, int_or_none, optional_choice, validate
from app.web.templating import redirect, render

router = APIRouter()


def _places(db, user, session, offer, pupils, now) -> dict:
    """What _places.html says: the date's room, and whether `pupils` (as typed) fits it. What the
    booking would refuse whatever the free places (the offer's pupils per booking, the school's
    cap, a closed date) comes from the booking's own rules, so the two never disagree."""
    count = _pupils(pupils)
    obstacle = bookings.booking_obstacle(db, user, session.id, count, now=now) if count is not None else None
    in_draw = allocation.open_round_of(db, offer.id) is not None
    return {**_room(db, session, now), "pupils": count, "obstacle": obstacle, "in_draw": in_draw, "girls_only": offer.girls_only}


def _pupils(value) -> int | None:
    """A number of pupils as it is being typed; nothing to say about none, zero or a minus."""
    try:
        count = int(value) if value not in (None, "") else None
    except (TypeError, ValueError):
        return None
    return count if count is not None and count > 0 else None


def _room(db, session, now) -> dict:
    """Free places and whether the date is full, for the form (the booking itself is decided
    under the locks): the date's own room, a shared pool's, and the waiting list."""
    held_pupils, held_classes = bookings.held(db, [session.id], now=now).get(session.id, (0, 0))
    free = max(0, session.capacity_pupils - held_pupils)
    # A pool the date shares with others may have less room than the date itself.
    pool_pupils, pool_classes = limits.pool_room(db, session.id, now=now)
    if pool_pupils is not None:
        free = min(free, pool_pupils)
    classes_full = pool_classes == 0 or (session.capacity_classes is not None and held_classes >= session.capacity_classes)
    waiting = bookings.waiting(db, [session.id]).get(session.id, 0)
    return {"free": free, "full": free == 0 or classes_full, "classes_full": classes_full, "waiting": waiting}


def _book_page(
    request, db, user, session, now, *, values=None, errors=None, status_code=200
) -> Response:
    offer = catalogue.visible_offer(db, user, session.offer_id)
    defaults = {
        "grade": offer.grade_min,
        "adults": 1,
        "contact_phone": user.phone,
        "idempotency_key": str(uuid.uuid4()),
    }
    course = bookings.course_dates(db, session, offer, now=now)
    first = next(iter(course), session)  # what the deadlines and the cap go by
    cancel_by = bookings.free_cancellation_deadline(first, offer)
    return render(
        request,
        "bookings/book.html",
        {
            "offer": offer,
            "session": session,
            "course": course,
            "draw": allocation.open_round_of(db, offer.id),
            "cap": limits.cap_notice(db, offer, first, user.organisation_id, now=now) if user.organisation_id else None,
            "cancel_by": cancel_by,
            "cancel_late": cancel_by < now,
            **_places(db, user, session, offer, values.get("pupils") if values else None, now),
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


@router.get("/sessions/{session_id}/places")
def places(request: Request, db: SessionDep, user: PageUser, session_id: PathId, now: Now, pupils: str | None = None) -> Response:
    """The free places as they are now, and whether the class being typed in fits (the offer's
    pupils per booking too); htmx asks for it while the teacher types and every minute."""
    session = catalogue.visible_session(db, user, session_id)
    offer = db.get(Offer, session.offer_id)
    return render(request, "bookings/_places.html", _places(db, user, session, offer, pupils, now))


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
            outcome = "request" if booking.round_id and booking.queue_rank is None else booking.status.value
            return redirect(request, f"/bookings/{booking.id}?notice=booked_{outcome}")
        except (InvalidInput, Conflict) as error:
            db.rollback()
            errors = form_errors(error)
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
    type: str | None = None,
    municipality: str | None = None,
    starts_from: str | None = None,
    starts_before: str | None = None,
    notice: str | None = None,
) -> Response:
    filters = {"status": status, "type": type, "municipality": municipality, "starts_from": starts_from, "starts_before": starts_before}
    return _list_page(request, db, user, now, filters, notice=notice)


def _list_page(
    request: Request,
    db: Session,
    user: User,
    now: datetime,
    filters: dict,
    *,
    notice: str | None = None,
    errors: dict | None = None,
    values: dict | None = None,
    chosen: frozenset[int] = frozenset(),
) -> Response:
    """The bookings list as filtered by `filters` (the address's); for staff without a status, the
    approval queue, most urgent first. `errors`, `values` and `chosen`: a bulk decision refused,
    shown again with what was ticked and typed."""
    status = filters.get("status")
    chosen_status = optional_choice(BookingStatus, status)
    if user.is_staff and status is None:
        chosen_status = BookingStatus.pending  # the approval queue
    offer_type = optional_choice(OfferType, filters.get("type"))
    place = filters.get("municipality") if filters.get("municipality") in MUNICIPALITY_NAMES else None
    first_day, last_day = day_from_address(filters.get("starts_from")), day_from_address(filters.get("starts_before"))
    items, total = bookings.list_bookings(
        db,
        user,
        status=chosen_status,
        offer_type=offer_type,
        municipality=place,
        starts_from=_local_midnight(first_day) if first_day else None,
        starts_before=_local_midnight(last_day + timedelta(days=1)) if last_day else None,
        limit=200,
        course_once=True,
        most_urgent_first=chosen_status == BookingStatus.pending,
    )
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
            "course_lengths": bookings.course_lengths(db, items),
            "mentors_signed": shifts.signed_counts(db, [s.id for s in sessions.values() if s.mentors_max]),
            "status": chosen_status,
            "statuses": list(BookingStatus),
            "filters": {
                "type": offer_type.value if offer_type else "",
                "municipality": place or "",
                "starts_from": first_day.isoformat() if first_day else "",
                "starts_before": last_day.isoformat() if last_day else "",
            },
            "offer_types": list(OfferType),
            "municipalities": MUNICIPALITY_NAMES,
            "notice": notice,
            "errors": errors or {},
            "values": values or {},
            "chosen": chosen,
            "now": now,
        },
        status_code=422 if errors else 200,
    )


@router.get("/bookings/{booking_id}/cancel")
def confirm_cancel(request: Request, db: SessionDep, user: PageUser, booking_id: PathId, now: Now) -> Response:
    """Before a booking is cancelled: exactly what goes, who is told, the reason if one is due."""
    return _cancel_page(request, db, user, booking_id, now)


def _cancel_page(
    request: Request, db: Session, user: User, booking_id: int, now: datetime, *, values=None, errors=None
) -> Response:
    booking = bookings.get_booking(db, user, booking_id)
    if user.role == Role.mentor:
        raise Forbidden(_("You cannot cancel this booking."))
    if booking.status not in bookings.ACTIVE:
        raise Conflict(_("The booking is no longer active."))
    session = db.get(OfferSession, booking.session_id)
    cancel_by = bookings.cancellation_deadline(db, booking)
    return render(
        request,
        "bookings/cancel.html",
        {
            "booking": booking,
            "session": session,
            "offer": db.get(Offer, session.offer_id),
            "school": db.get(Organisation, booking.school_id),
            "course": bookings.booked_course(db, booking),
            "provider_told": bookings.cancellation_tells_provider(user, booking),
            "cancel_by": cancel_by,
            "late": bookings.cancelled_late(user, booking, cancel_by, now=now),
            "values": values or {},
            "errors": errors or {},
        },
        status_code=422 if errors else 200,
    )


@router.post("/bookings/{booking_id}/cancel")
def cancel(
    request: Request, db: SessionDep, user: PageUser, form: PostedForm, booking_id: PathId, now: Now
) -> Response:
    try:
        bookings.cancel_booking(db, user, booking_id, reason=form.get("reason", ""), now=now)
    except InvalidInput as error:  # after the deadline without a reason: the step again, with the field marked
        db.rollback()
        return _cancel_page(request, db, user, booking_id, now, values=form, errors=form_errors(error))
    return redirect(request, f"/bookings/{booking_id}?notice=booking_cancelled")


# The list's filters a decision from the list goes back to (the rest of its address is dropped).
LIST_FILTERS = ("status", "type", "municipality", "starts_from", "starts_before")


def _back_to_list(form: dict, notice: str) -> str:
    """The list as the coordinator had filtered it (the form's `back`: the list's query string),
    with the notice that says what was done."""
    kept = [(k, v) for k, v in parse_qsl(str(form.get("back") or "")) if k in LIST_FILTERS]
    return f"/bookings?{urlencode([*kept, ('notice', notice)])}"


@router.post("/bookings/{booking_id}/approve")
def approve(
    request: Request, db: SessionDep, user: PageUser, form: PostedForm, booking_id: PathId, now: Now
) -> Response:
    bookings.approve_booking(db, user, booking_id, now=now)
    return redirect(request, _back_to_list(form, "booking_approved"))


@router.post("/bookings/{booking_id}/decline")
def decline(
    request: Request, db: SessionDep, user: PageUser, form: PostedForm, booking_id: PathId, now: Now
) -> Response:
    try:
        bookings.decline_booking(db, user, booking_id, reason=form.get("reason", ""), now=now)
    except InvalidInput as error:  # a reason too long: the booking's page, with its decline form marked
        db.rollback()
        return _booking_page(request, db, user, booking_id, now, errors=form_errors(error), form_name="decline")
    return redirect(request, _back_to_list(form, "booking_declined"))


@router.post("/bookings/approve")
def approve_many(
    request: Request, db: SessionDep, user: PageUser, form: PostedForm, now: Now
) -> Response:
    """Bulk approval from the queue; each booking in its own locked transaction."""
    if not user.is_staff:
        raise Forbidden(_("Only coordinators can approve bookings."))
    chosen = form.getlist("booking_ids")
    approved = 0
    for raw in chosen:
        booking_id = int_or_none(raw, 1, MAX_ID)
        if booking_id is None:  # no booking's id (a hand-made post): not approved, like one decided meanwhile
            continue
        try:
            bookings.approve_booking(db, user, booking_id, now=now)
            approved += 1
        except DomainError:
            db.rollback()
    if not chosen:
        notice = "bulk_none_chosen"
    elif approved == len(chosen):
        notice = "bulk_approved"
    else:  # a booking decided meanwhile (by another coordinator, or in another tab)
        notice = "bulk_partly" if approved else "bulk_none"
    return redirect(request, _back_to_list(form, notice))


@router.post("/bookings/decline")
def decline_many(
    request: Request, db: SessionDep, user: PageUser, form: PostedForm, now: Now
) -> Response:
    """Bulk decline from the queue, with one reason told to every teacher. Without a reason nothing
    is declined: the queue again, the ticked bookings still ticked, the message at the field."""
    if not user.is_staff:
        raise Forbidden(_("Only coordinators can decline bookings from the queue."))
    ids = [i for i in (int_or_none(raw, 1, MAX_ID) for raw in form.getlist("booking_ids")) if i is not None]
    reason = str(form.get("reason") or "")
    errors = {}
    try:
        bookings.check_decline_reason(reason)
    except InvalidInput as error:
        errors = form_errors(error)
    if errors and form.getlist("booking_ids"):
        filters = {k: v for k, v in parse_qsl(str(form.get("back") or "")) if k in LIST_FILTERS}
        return _list_page(request, db, user, now, filters, errors=errors, values={"reason": reason, "back": str(form.get("back") or "")}, chosen=frozenset(ids))
    declined = 0
    for booking_id in ids if not errors else ():
        try:
            bookings.decline_booking(db, user, booking_id, reason=reason, now=now)
            declined += 1
        except DomainError:  # decided meanwhile, or not theirs: left as it is
            db.rollback()
    if not form.getlist("booking_ids"):
        notice = "bulk_decline_none_chosen"
    elif declined == len(form.getlist("booking_ids")):
        notice = "bulk_declined"
    else:
        notice = "bulk_decline_partly" if declined else "bulk_decline_none"
    return redirect(request, _back_to_list(form, notice))


def _local_midnight(day: date) -> datetime:
    return datetime.combine(day, datetime.min.time(), TIMEZONE)


@router.get("/bookings/{booking_id}.ics")
def booking_calendar_file(db: SessionDep, user: PageUser, booking_id: PathId, now: Now) -> Response:
    booking = bookings.get_booking(db, user, booking_id)
    body = calendar_file(db, booking, now=now)
    return Response(body, media_type="text/calendar; charset=utf-8", headers={"Content-Disposition": f'attachment; filename="booking-{booking.id}.ics"'})


@router.get("/bookings/{booking_id}")
def booking_page(
    request: Request, db: SessionDep, user: PageUser, booking_id: PathId, now: Now, notice: str | None = None
) -> Response:
    return _booking_page(request, db, user, booking_id, now, notice=notice)


def _booking_page(
    request: Request,
    db: Session,
    user: User,
    booking_id: int,
    now: datetime,
    *,
    notice: str | None = None,
    errors: dict | None = None,
    form_name: str = "cancel",
) -> Response:
    """The booking's page; `errors` are those of its form `form_name` (cancel or decline)."""
    booking = bookings.get_booking(db, user, booking_id)
    session = db.get(OfferSession, booking.session_id)
    cancel_by = bookings.cancellation_deadline(db, booking)
    return render(
        request,
        "bookings/detail.html",
        {
            "booking": booking,
            "session": session,
            "offer": db.get(Offer, session.offer_id),
            "school": db.get(Organisation, booking.school_id),
            "teacher": db.get(User, booking.teacher_id),
            "history": bookings.history(db, booking),
            "course": bookings.booked_course(db, booking),
            "position": bookings.waitlist_position(db, booking),
            "mentors": shifts.mentors_on(db, [session.id]).get(session.id, []) if session.mentors_max else [],
            "first_name": shifts.first_name,
            "offer_open": booking.status == BookingStatus.offered and booking.hold_until and booking.hold_until > now,
            "cancel_by": cancel_by,
            "late": bookings.cancelled_late(user, booking, cancel_by, now=now),
            "notice": notice,
            "errors": errors or {},
            "form_name": form_name,
            "now": now,
        },
        status_code=422 if errors else 200,
    )


@router.post("/bookings/{booking_id}/accept")
def accept_place(request: Request, db: SessionDep, user: PageUser, booking_id: PathId, now: Now) -> Response:
    bookings.accept_offered_place(db, user, booking_id, now=now)
    return redirect(request, f"/bookings/{booking_id}?notice=place_accepted")
