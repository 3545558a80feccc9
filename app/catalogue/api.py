"""JSON API of the catalogue (see shared/API.md): offers and their sessions."""

from typing import Annotated

from fastapi import APIRouter, Query
from fastapi.exceptions import RequestValidationError
from pydantic import ValidationError
from sqlmodel import Session

from app.accounts.models import Organisation
from app.accounts.schemas import Municipality, Page
from app.bookings import service as bookings
from app.calendar.bounds import QueryDay
from app.catalogue import service as catalogue
from app.catalogue.emails import tell_saved_searches
from app.catalogue.models import (
    Offer,
    OfferFormat,
    OfferSession,
    OfferStatus,
    OfferType,
    Subject,
    Theme,
)
from app.catalogue.schemas import (
    OfferCreate,
    OfferIn,
    OfferPatch,
    OfferPublic,
    SessionIn,
    SessionPublic,
)
from app.deps import ApiUser, Limit, MaybeApiUser, Now, Offset, PathId, SessionDep, SettingsDep
from app.mentors.shifts import signed_counts

router = APIRouter(tags=["catalogue"])


def sessions_public(db: Session, sessions: list[OfferSession], *, now) -> list[SessionPublic]:
    """Sessions with the seats their bookings hold now and the length of their waiting lists."""
    ids = [s.id for s in sessions]
    held, queue = bookings.held(db, ids, now=now), bookings.waiting(db, ids)
    mentors = signed_counts(db, [s.id for s in sessions if s.mentors_max])
    items = []
    for session in sessions:
        held_pupils, held_classes = held.get(session.id, (0, 0))
        items.append(
            SessionPublic.model_validate(
                {
                    **session.model_dump(),
                    "cancelled": session.cancelled_at is not None,
                    "held_pupils": held_pupils,
                    "held_classes": held_classes,
                    "waiting": queue.get(session.id, 0),
                    "free_pupils": max(0, session.capacity_pupils - held_pupils),
                    "mentors_signed": mentors.get(session.id, 0),
                }
            )
        )
    return items


def offer_public(
    db: Session, offer: Offer, *, now, sessions: list[OfferSession] | None = None, distance_km=None
) -> OfferPublic:
    themes, subjects = catalogue.themes_and_subjects(db, [offer.id])
    provider = db.get(Organisation, offer.provider_id)
    if sessions is None:
        sessions = [
            s for s in catalogue.sessions_of(db, offer.id, now=now) if s.cancelled_at is None
        ]
    return OfferPublic.model_validate(
        {
            **offer.model_dump(),
            "provider_name": provider.name if provider else "",
            "themes": themes[offer.id],
            "subjects": subjects[offer.id],
            "sessions": sessions_public(db, list(sessions), now=now),
            "distance_km": distance_km,
        }
    )


@router.get("/offers")
def list_offers(
    db: SessionDep,
    now: Now,
    q: Annotated[str | None, Query(max_length=100)] = None,
    type: OfferType | None = None,
    theme: Theme | None = None,
    subject: Subject | None = None,
    municipality: Municipality | None = None,
    grade: Annotated[int | None, Query(ge=0, le=13)] = None,
    format: OfferFormat | None = None,
    long: bool | None = None,
    girls_only: bool = False,
    free_places: bool = False,
    from_: Annotated[QueryDay | None, Query(alias="from")] = None,
    to: QueryDay | None = None,
    limit: Limit = 20,
    offset: Offset = 0,
) -> Page[OfferPublic]:
    """Published offers, soonest next date first, each with its next three dates."""
    if from_ and to and to < from_:
        raise RequestValidationError(
            [{"type": "value_error", "loc": ("query", "to"), "msg": "must not be before 'from'", "input": to}]
        )
    filters = catalogue.CatalogueFilters(
        q=q,
        type=type,
        theme=theme,
        subject=subject,
        grade=grade,
        municipality=municipality,
        format=format,
        long=long,
        girls_only=girls_only,
        free_places=free_places,
        date_from=from_,
        date_to=to,
    )
    hits, total = catalogue.search_offers(db, filters, now=now, limit=limit, offset=offset)
    return Page(
        items=[offer_public(db, h.offer, now=now, sessions=h.next_sessions) for h in hits],
        total=total,
    )


@router.get("/offers/{offer_id}")
def get_offer(db: SessionDep, now: Now, offer_id: PathId, user: MaybeApiUser) -> OfferPublic:
    """A published offer with its upcoming sessions; drafts only for their own provider."""
    return offer_public(db, catalogue.visible_offer(db, user, offer_id), now=now)


@router.post("/offers", status_code=201)
def create_offer(
    db: SessionDep, user: ApiUser, now: Now, settings: SettingsDep, data: OfferCreate
) -> OfferPublic:
    offer = catalogue.create_offer(db, user, data, now=now)
    if offer.status == OfferStatus.published:
        tell_saved_searches(db, settings, offer, now=now)
    return offer_public(db, offer, now=now)


@router.put("/offers/{offer_id}")
def update_offer(
    db: SessionDep, user: ApiUser, now: Now, offer_id: PathId, data: OfferIn
) -> OfferPublic:
    """Replace the offer's fields: those not sent take their defaults (PATCH keeps them)."""
    return offer_public(db, catalogue.update_offer(db, user, offer_id, data, now=now), now=now)


@router.patch("/offers/{offer_id}")
def patch_offer(
    db: SessionDep, user: ApiUser, now: Now, offer_id: PathId, changes: OfferPatch
) -> OfferPublic:
    """Change only the fields sent (say, the waiting list's `waitlist_offer_hours`); the rest keep
    their value. The result must be a valid offer, as for PUT."""
    try:
        offer = catalogue.patch_offer(db, user, offer_id, changes.model_dump(exclude_unset=True), now=now)
    except ValidationError as error:
        # Reported as FastAPI reports a bad body, the field named under "body".
        raise RequestValidationError(
            [{**e, "loc": ("body", *e["loc"])} for e in error.errors(include_url=False)]
        ) from None
    return offer_public(db, offer, now=now)


@router.post("/offers/{offer_id}/sessions", status_code=201)
def add_session(
    db: SessionDep, user: ApiUser, now: Now, offer_id: PathId, data: SessionIn
) -> SessionPublic:
    return sessions_public(db, [catalogue.add_session(db, user, offer_id, data, now=now)], now=now)[0]


@router.get("/sessions/{session_id}")
def get_session(db: SessionDep, session_id: PathId, user: MaybeApiUser, now: Now) -> SessionPublic:
    return sessions_public(db, [catalogue.visible_session(db, user, session_id)], now=now)[0]
