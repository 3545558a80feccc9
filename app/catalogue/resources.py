"""Resources (people, rooms, equipment) and the availability of on-request offers.

One resource is never in two overlapping sessions: attaching it checks for a clash while holding
the date's lock and then the resource's (the order moving a date to a new time keeps too), so two
providers' staff attaching the same room at once cannot both succeed."""

from collections.abc import Sequence
from datetime import time

from sqlmodel import Session, col, delete, select

from app.accounts.models import Role, User
from app.bookings.service import lock_in_id_order, lock_session
from app.catalogue.models import (
    RESOURCE_NAME_MAX_LENGTH,
    AvailabilityWindow,
    OfferResource,
    OfferTravelArea,
    Resource,
    ResourceKind,
    SessionResource,
)
from app.catalogue.service import (
    own_offer,
    own_session,
    resource_busy,
    resource_clash,
)
from app.errors import Conflict, Forbidden, InvalidInput, NotFound, TooLong
from app.geography import MUNICIPALITIES
from app.i18n import _
from app.text import check_one_line


def _provider_id(actor: User) -> int:
    if actor.role != Role.provider or actor.organisation_id is None:
        raise Forbidden(_("Only providers can publish offers."))
    return actor.organisation_id


def list_resources(db: Session, actor: User) -> Sequence[Resource]:
    return db.exec(
        select(Resource)
        .where(Resource.provider_id == _provider_id(actor))
        .order_by(col(Resource.name))
    ).all()


def create_resource(db: Session, actor: User, *, name: str, kind: ResourceKind) -> Resource:
    name = name.strip()
    if not name:
        raise InvalidInput(_("Fill in this field."), field="name")
    if len(name) > RESOURCE_NAME_MAX_LENGTH:
        raise TooLong(RESOURCE_NAME_MAX_LENGTH, field="name")
    check_one_line(name, field="name")
    resource = Resource(provider_id=_provider_id(actor), name=name, kind=kind)
    db.add(resource)
    db.commit()
    db.refresh(resource)
    return resource


def own_resource(db: Session, actor: User, resource_id: int) -> Resource:
    resource = db.get(Resource, resource_id)
    if resource is None or resource.provider_id != _provider_id(actor):
        raise NotFound(_("No such resource."))
    return resource


def delete_resource(db: Session, actor: User, resource_id: int) -> None:
    db.delete(own_resource(db, actor, resource_id))
    db.commit()


def resources_by_session(db: Session, session_ids: Sequence[int]) -> dict[int, list[Resource]]:
    found: dict[int, list[Resource]] = {}
    if session_ids:
        rows = db.exec(
            select(SessionResource.session_id, Resource)
            .join(Resource, col(Resource.id) == col(SessionResource.resource_id))
            .where(col(SessionResource.session_id).in_(session_ids))
            .order_by(col(Resource.name))
        ).all()
        for session_id, resource in rows:
            found.setdefault(session_id, []).append(resource)
    return found


def attach_resource(db: Session, actor: User, session_id: int, resource_id: int) -> None:
    """Use a resource in a session, unless it is already busy then (the error names the clash)."""
    session, _offer = own_session(db, actor, session_id)
    session = lock_session(db, session.id)  # the date's time stays put while we look
    locked = lock_in_id_order(db, Resource, [resource_id])
    resource = locked[0] if locked else None
    if resource is None or resource.provider_id != _provider_id(actor):
        raise NotFound(_("No such resource."))
    if session.cancelled_at is not None:
        raise Conflict(_("The date is cancelled."))
    if clash := resource_clash(db, [resource.id], session.starts_at, session.ends_at, except_session_id=session.id):
        raise resource_busy(*clash, field="resource_id")
    if db.get(SessionResource, (session.id, resource.id)) is None:
        db.add(SessionResource(session_id=session.id, resource_id=resource.id))
    db.commit()


def detach_resource(db: Session, actor: User, session_id: int, resource_id: int) -> None:
    session, _offer = own_session(db, actor, session_id)
    db.exec(
        delete(SessionResource).where(
            col(SessionResource.session_id) == session.id,
            col(SessionResource.resource_id) == resource_id,
        )
    )
    db.commit()


# --- availability of on-request offers (book an expert) ------------------------------------------


def availability(db: Session, offer_id: int) -> tuple[Sequence[AvailabilityWindow], list[str]]:
    windows = db.exec(
        select(AvailabilityWindow)
        .where(AvailabilityWindow.offer_id == offer_id)
        .order_by(col(AvailabilityWindow.weekday), col(AvailabilityWindow.starts))
    ).all()
    areas = db.exec(
        select(OfferTravelArea.municipality)
        .where(OfferTravelArea.offer_id == offer_id)
        .order_by(col(OfferTravelArea.municipality))
    ).all()
    return windows, list(areas)


def add_window(
    db: Session, actor: User, offer_id: int, *, weekday: int, starts: time, ends: time
) -> AvailabilityWindow:
    offer = own_offer(db, actor, offer_id)
    if not offer.on_request:
        raise InvalidInput(
            _("Only book-an-expert offers have availability windows."), field="weekday"
        )
    if not 0 <= weekday <= 6:
        raise InvalidInput(_("Choose one of the options in the list."), field="weekday")
    if ends <= starts:
        raise InvalidInput(_("The session must end after it starts."), field="ends")
    window = AvailabilityWindow(offer_id=offer.id, weekday=weekday, starts=starts, ends=ends)
    db.add(window)
    db.commit()
    db.refresh(window)
    return window


def delete_window(db: Session, actor: User, window_id: int) -> None:
    window = db.get(AvailabilityWindow, window_id)
    if window is None:
        raise NotFound(_("No such availability window."))
    own_offer(db, actor, window.offer_id)
    db.delete(window)
    db.commit()


def set_travel_areas(db: Session, actor: User, offer_id: int, municipalities: list[str]) -> None:
    offer = own_offer(db, actor, offer_id)
    unknown = [m for m in municipalities if m not in MUNICIPALITIES]
    if unknown:
        raise InvalidInput(
            _("Choose one of the municipalities in the list."), field="municipalities"
        )
    db.exec(delete(OfferTravelArea).where(col(OfferTravelArea.offer_id) == offer.id))
    db.add_all(
        [OfferTravelArea(offer_id=offer.id, municipality=m) for m in sorted(set(municipalities))]
    )
    db.commit()


def offer_resources(db: Session, offer_id: int) -> Sequence[Resource]:
    return db.exec(
        select(Resource)
        .join(OfferResource, col(OfferResource.resource_id) == col(Resource.id))
        .where(OfferResource.offer_id == offer_id)
        .order_by(col(Resource.name))
    ).all()


def set_offer_resources(db: Session, actor: User, offer_id: int, resource_ids: list[int]) -> None:
    """The resources every visit of an on-request offer uses; their clashes are checked when a
    visit is booked."""
    offer = own_offer(db, actor, offer_id)
    if not offer.on_request:
        raise InvalidInput(_("Only book-an-expert offers have resources of their own; add them to the dates."), field="resource_ids")
    own = {r.id for r in list_resources(db, actor)}
    if not set(resource_ids) <= own:
        raise NotFound(_("No such resource."))
    db.exec(delete(OfferResource).where(col(OfferResource.offer_id) == offer.id))
    db.add_all([OfferResource(offer_id=offer.id, resource_id=r) for r in sorted(set(resource_ids))])
    db.commit()
