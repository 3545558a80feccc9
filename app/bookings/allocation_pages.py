"""HTML pages of the fair allocation rounds: providers and coordinators open a round and run it,
and see its requests and its log; a booking's teacher sees why the class got what it got."""

from datetime import date, datetime, time, timedelta
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import Response
from sqlalchemy.orm import object_session
from sqlmodel import select

from app.accounts.schemas import Form
from app.bookings import allocation
from app.bookings import service as bookings
from app.bookings.models import AllocationRound
from app.catalogue.models import Offer, OfferSession
from app.catalogue.schemas import TimeOfDay
from app.deps import Now, PageUser, PathId, SessionDep
from app.errors import Conflict, InvalidInput
from app.i18n import TIMEZONE, _
from app.web.forms import PostedForm, form_errors, validate
from app.web.templating import redirect, render, templates

router = APIRouter()


class RoundIn(Form):
    """The deadline for requests, as a Danish date and time."""

    closes_on: date
    closes_time: TimeOfDay = time(12, 0)

    def closes_at(self) -> datetime:
        return datetime.combine(self.closes_on, self.closes_time, TIMEZONE)


def open_allocation_round(offer: Offer) -> AllocationRound | None:
    """For the offer page (templates/catalogue/offer.html): the offer's open round, if any, read
    through the database session the page loaded the offer with."""
    db = object_session(offer)
    return allocation.open_round_of(db, offer.id) if db is not None and offer.id else None


templates.env.globals["open_allocation_round"] = open_allocation_round


def _notice(code: str | None) -> str | None:
    return {
        "opened": _("The allocation round is open. Bookings are collected as requests until the deadline."),
        "allocated": _("The places are allocated. Each teacher has been told the result and why."),
    }.get(code or "")


def _rounds_page(
    request: Request,
    db,
    user,
    offer_id: int,
    now: datetime,
    *,
    values: dict[str, Any] | None = None,
    errors: dict[str, str] | None = None,
    notice: str | None = None,
    status_code: int = 200,
) -> Response:
    offer, views = allocation.offer_rounds(db, user, offer_id, now=now)
    soon = (now + timedelta(days=7)).astimezone(TIMEZONE)
    defaults = {"closes_on": soon.date().isoformat(), "closes_time": "12:00"}
    return render(
        request,
        "bookings/rounds_offer.html",
        {
            "offer": offer,
            "views": views,
            "open_view": next((v for v in views if v.allocation_round.status == "open"), None),
            "dates": {d.id: d for d in db.exec(select(OfferSession).where(OfferSession.offer_id == offer.id))},
            "values": {**defaults, **(values or {})},
            "errors": errors or {},
            "notice_message": _notice(notice),
            "now": now,
        },
        status_code=status_code,
    )


@router.get("/rounds")
def rounds_overview(request: Request, db: SessionDep, user: PageUser) -> Response:
    return render(request, "bookings/rounds.html", {"rounds": allocation.visible_rounds(db, user)})


@router.get("/offers/{offer_id}/rounds")
def offer_rounds(
    request: Request, db: SessionDep, user: PageUser, offer_id: PathId, now: Now, notice: str | None = None
) -> Response:
    return _rounds_page(request, db, user, offer_id, now, notice=notice)


@router.post("/offers/{offer_id}/rounds")
def open_round(
    request: Request, db: SessionDep, user: PageUser, form: PostedForm, offer_id: PathId, now: Now
) -> Response:
    allocation.managed_offer(db, user, offer_id)
    data, errors = validate(RoundIn, form)
    if data is not None:
        try:
            allocation.open_round(db, user, offer_id, data.closes_at(), now=now)
            return redirect(request, f"/offers/{offer_id}/rounds?notice=opened")
        except (InvalidInput, Conflict) as error:
            db.rollback()
            errors = form_errors(error)
    return _rounds_page(request, db, user, offer_id, now, values=form, errors=errors, status_code=422)


@router.post("/offers/{offer_id}/rounds/allocate")
def allocate_round(request: Request, db: SessionDep, user: PageUser, offer_id: PathId, now: Now) -> Response:
    allocation.allocate_now(db, user, offer_id, now=now)
    return redirect(request, f"/offers/{offer_id}/rounds?notice=allocated")


@router.get("/bookings/{booking_id}/allocation")
def booking_allocation(request: Request, db: SessionDep, user: PageUser, booking_id: PathId, now: Now) -> Response:
    booking = bookings.get_booking(db, user, booking_id)
    explanation = allocation.explain(db, user, booking, now=now)
    return render(
        request,
        "bookings/rounds_booking.html",
        {
            "booking": booking,
            "date": db.get(OfferSession, booking.session_id),
            "offer": explanation.offer or db.get(Offer, db.get(OfferSession, booking.session_id).offer_id),
            "explanation": explanation,
        },
    )
