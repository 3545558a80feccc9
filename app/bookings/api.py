"""JSON API of the booking engine (see shared/API.md)."""

from typing import Annotated

from anyio import CapacityLimiter
from anyio.lowlevel import RunVar
from fastapi import APIRouter, Depends, Header
from fastapi.responses import Response
from sqlmodel import Session

from app.accounts.schemas import Page
from app.bookings import service as bookings
from app.bookings.models import Booking, BookingStatus
from app.bookings.notices import calendar_file
from app.bookings.schemas import BookingIn, BookingPublic, ReasonIn
from app.config import get_settings
from app.deps import (
    ApiUser,
    Limit,
    NotAuthenticated,
    Now,
    Offset,
    PathId,
    SessionDep,
    TransactionDep,
    oauth2_scheme,
)

router = APIRouter(tags=["bookings"])
IdempotencyKey = Annotated[str | None, Header(alias="Idempotency-Key", max_length=100)]
BearerToken = Annotated[str | None, Depends(oauth2_scheme)]


def booking_public(db: Session, booking: Booking) -> BookingPublic:
    public = BookingPublic.model_validate(booking)  # reads attributes, loading them if expired
    public.waitlist_position = bookings.waitlist_position(db, booking)
    return public


# How many bookings one worker process runs at once. A flash crowd's bookings all wait for the
# same session's lock, so more at once only add work that takes the CPU from the one that holds
# the lock; the rest wait here, in the event loop, at no cost.
BOOKING_SLOTS = 2
_slots: RunVar[CapacityLimiter] = RunVar("booking_slots")  # a limiter belongs to one event loop


def _booking_slots() -> CapacityLimiter:
    try:
        return _slots.get()
    except LookupError:
        _slots.set(limiter := CapacityLimiter(BOOKING_SLOTS))
        return limiter


@router.post("/bookings", status_code=201)
async def book(
    transaction: TransactionDep, token: BearerToken, now: Now, data: BookingIn, idempotency_key: IdempotencyKey = None
) -> BookingPublic:
    """Book a class into a session. The same `Idempotency-Key` from the same teacher returns the
    first booking and books nothing more; with another body it is a 409."""
    if not token:
        raise NotAuthenticated()

    def book_in(db: Session) -> BookingPublic:  # the token's look-up too, in the same session
        booking = bookings.book_session_with_token(db, token, data, now=now, idempotency_key=idempotency_key)
        if booking is None:
            raise NotAuthenticated()
        return booking_public(db, booking)

    # Test only: without the booking locks the bookings race side by side, as the control run that
    # must catch an overbooking needs.
    return await transaction(book_in, limiter=_booking_slots() if get_settings().booking_locks else None)


@router.get("/bookings")
def list_bookings(
    db: SessionDep, user: ApiUser, status: BookingStatus | None = None, session_id: PathId | None = None, limit: Limit = 50, offset: Offset = 0
) -> Page[BookingPublic]:
    items, total = bookings.list_bookings(db, user, status=status, session_id=session_id, limit=limit, offset=offset)
    return Page(items=[booking_public(db, b) for b in items], total=total)


class CalendarResponse(Response):
    media_type = "text/calendar"  # RFC 5545


@router.get("/bookings/{booking_id}.ics", response_class=CalendarResponse)
def booking_calendar(db: SessionDep, user: ApiUser, booking_id: PathId, now: Now) -> Response:
    """The booking as an iCalendar file with one VEVENT."""
    booking = bookings.get_booking(db, user, booking_id)
    return CalendarResponse(calendar_file(db, booking, now=now))


@router.get("/bookings/{booking_id}")
def get_booking(db: SessionDep, user: ApiUser, booking_id: PathId) -> BookingPublic:
    return booking_public(db, bookings.get_booking(db, user, booking_id))


@router.post("/bookings/{booking_id}/approve")
def approve(db: SessionDep, user: ApiUser, booking_id: PathId, now: Now) -> BookingPublic:
    return booking_public(db, bookings.approve_booking(db, user, booking_id, now=now))


@router.post("/bookings/{booking_id}/decline")
def decline(db: SessionDep, user: ApiUser, booking_id: PathId, now: Now, data: ReasonIn | None = None) -> BookingPublic:
    return booking_public(db, bookings.decline_booking(db, user, booking_id, reason=(data.reason if data else ""), now=now))


@router.post("/bookings/{booking_id}/cancel")
def cancel(db: SessionDep, user: ApiUser, booking_id: PathId, now: Now, data: ReasonIn | None = None) -> BookingPublic:
    return booking_public(db, bookings.cancel_booking(db, user, booking_id, reason=(data.reason if data else ""), now=now))


@router.post("/bookings/{booking_id}/accept")
def accept(db: SessionDep, user: ApiUser, booking_id: PathId, now: Now) -> BookingPublic:
    """Take the waiting-list place offered to the class (state `offered`, within its hold)."""
    return booking_public(db, bookings.accept_offered_place(db, user, booking_id, now=now))
