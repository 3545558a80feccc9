"""HTML pages for the limits beyond a date's own capacity: providers' capacity pools, and
coordinators' per-school caps per offer type and school year."""

from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import Response

from app.bookings import limits
from app.calendar.bounds import school_year_of
from app.catalogue.models import OfferType
from app.db import MAX_ID
from app.deps import Now, PathId, ProviderPageUser, SessionDep, StaffPageUser
from app.errors import InvalidInput, NotFound
from app.i18n import TIMEZONE, _
from app.web.forms import PostedForm, form_errors, int_or_none, optional_choice
from app.web.templating import redirect, render

router = APIRouter()


def _whole_number(form: dict[str, Any], name: str, *, required: bool = False) -> int | None:
    raw = form.get(name)
    if raw is None:
        if required:
            raise InvalidInput(_("Fill in this field."), field=name)
        return None
    try:
        return int(str(raw).strip())
    except ValueError:
        raise InvalidInput(_("Write a whole number."), field=name) from None


def _pool_fields(form: dict[str, Any]) -> dict[str, Any]:
    return {
        "name": form.get("name", ""),
        "capacity_pupils": _whole_number(form, "capacity_pupils"),
        "capacity_classes": _whole_number(form, "capacity_classes"),
    }


# --- capacity pools (providers) -----------------------------------------------------------------


def _pools_page(request, db, user, now, *, values=None, errors=None, notice=None) -> Response:
    return render(
        request,
        "bookings/pools.html",
        {
            "pools": limits.pool_views(db, user, now=now),
            "values": values or {},
            "errors": errors or {},
            "notice": notice,
        },
        status_code=422 if errors else 200,
    )


@router.get("/provider/pools")
def pools_page(
    request: Request, db: SessionDep, user: ProviderPageUser, now: Now, notice: str | None = None
) -> Response:
    return _pools_page(request, db, user, now, notice=notice)


@router.post("/provider/pools")
def create_pool(
    request: Request, db: SessionDep, user: ProviderPageUser, form: PostedForm, now: Now
) -> Response:
    try:
        pool = limits.create_pool(db, user, **_pool_fields(form))
    except InvalidInput as error:
        return _pools_page(request, db, user, now, values=form, errors=form_errors(error))
    return redirect(request, f"/provider/pools/{pool.id}?notice=created")


def _pool_page(request, db, user, pool_id, now, *, values=None, errors=None, notice=None) -> Response:
    views = limits.pool_views(db, user, now=now, pool_id=pool_id)
    if not views:
        raise NotFound(_("No such pool."))
    view = views[0]
    members = {s.id for s, _offer in view.sessions}
    offers: dict[int, tuple[Any, list]] = {}
    for session, offer in limits.pool_candidates(db, user, now=now):
        offers.setdefault(offer.id, (offer, []))[1].append((session, session.id in members))
    upcoming = {s.id for _offer, sessions in offers.values() for s, _in in sessions}
    pool = view.pool
    return render(
        request,
        "bookings/pool.html",
        {
            "view": view,
            "pool": pool,
            "offers": list(offers.values()),
            "earlier": [(s, o) for s, o in view.sessions if s.id not in upcoming],
            "values": values
            or {"name": pool.name, "capacity_pupils": pool.capacity_pupils, "capacity_classes": pool.capacity_classes},
            "errors": errors or {},
            "notice": notice,
        },
        status_code=422 if errors else 200,
    )


@router.get("/provider/pools/{pool_id}")
def pool_page(
    request: Request, db: SessionDep, user: ProviderPageUser, pool_id: PathId, now: Now, notice: str | None = None
) -> Response:
    return _pool_page(request, db, user, pool_id, now, notice=notice)


@router.post("/provider/pools/{pool_id}")
def update_pool(
    request: Request, db: SessionDep, user: ProviderPageUser, form: PostedForm, pool_id: PathId, now: Now
) -> Response:
    try:
        limits.update_pool(db, user, pool_id, **_pool_fields(form))
    except InvalidInput as error:
        db.rollback()
        return _pool_page(request, db, user, pool_id, now, values=form, errors=form_errors(error))
    return redirect(request, f"/provider/pools/{pool_id}?notice=saved")


@router.post("/provider/pools/{pool_id}/sessions")
def set_pool_sessions(
    request: Request, db: SessionDep, user: ProviderPageUser, form: PostedForm, pool_id: PathId, now: Now
) -> Response:
    limits.own_pool(db, user, pool_id)
    ids = [int_or_none(raw, 1, MAX_ID) for raw in form.getlist("session_ids")]
    if None in ids:
        raise NotFound(_("No such session."))
    limits.set_pool_sessions(db, user, pool_id, ids, now=now)
    return redirect(request, f"/provider/pools/{pool_id}?notice=saved")


@router.post("/provider/pools/{pool_id}/delete")
def delete_pool(request: Request, db: SessionDep, user: ProviderPageUser, pool_id: PathId) -> Response:
    limits.delete_pool(db, user, pool_id)
    return redirect(request, "/provider/pools?notice=deleted")


# --- per-school caps (coordinators) -------------------------------------------------------------


def _caps_page(request, db, user, now, *, values=None, errors=None, notice=None) -> Response:
    year = school_year_of(now.astimezone(TIMEZONE).date())
    return render(
        request,
        "bookings/caps.html",
        {
            "caps": limits.list_caps(db, user, from_year=year - 1),
            "school_years": [(y, limits.school_year_name(y)) for y in range(year, year + 3)],
            "year_name": limits.school_year_name,
            "offer_types": list(OfferType),
            "values": values or {"school_year": year, "municipality": user.municipality or ""},
            "errors": errors or {},
            "notice": notice,
        },
        status_code=422 if errors else 200,
    )


@router.get("/admin/caps")
def caps_page(
    request: Request, db: SessionDep, user: StaffPageUser, now: Now, notice: str | None = None
) -> Response:
    return _caps_page(request, db, user, now, notice=notice)


@router.post("/admin/caps")
def set_cap(request: Request, db: SessionDep, user: StaffPageUser, form: PostedForm, now: Now) -> Response:
    try:
        offer_type = optional_choice(OfferType, form.get("offer_type"))
        if offer_type is None:
            raise InvalidInput(_("Choose one of the options in the list."), field="offer_type")
        school_year = _whole_number(form, "school_year", required=True)
        max_bookings = _whole_number(form, "max_bookings", required=True)
        limits.set_cap(
            db,
            user,
            offer_type=offer_type,
            school_year=school_year,
            municipality=form.get("municipality"),
            max_bookings=max_bookings,
            now=now,
        )
    except InvalidInput as error:
        return _caps_page(request, db, user, now, values=form, errors=form_errors(error))
    return redirect(request, "/admin/caps?notice=saved")


@router.get("/admin/caps/{cap_id}/delete")
def confirm_delete_cap(request: Request, db: SessionDep, user: StaffPageUser, cap_id: PathId) -> Response:
    """Before a limit is deleted: which one, and what it changes."""
    cap = limits.get_cap(db, user, cap_id)
    return render(request, "bookings/cap_delete.html", {"cap": cap, "year_name": limits.school_year_name})


@router.post("/admin/caps/{cap_id}/delete")
def delete_cap(request: Request, db: SessionDep, user: StaffPageUser, cap_id: PathId) -> Response:
    limits.delete_cap(db, user, cap_id)
    return redirect(request, "/admin/caps?notice=deleted")
