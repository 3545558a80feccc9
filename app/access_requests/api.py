"""JSON API of access requests (see shared/API.md): asking for an account, registering a company."""

from fastapi import APIRouter, Request

from app.access_requests import service as access
from app.access_requests.schemas import (
    AccessRequestReceived,
    AccountRequestIn,
    ProviderRegistrationIn,
)
from app.deps import Now, SessionDep, SettingsDep, client_address
from app.i18n import _, current_language

router = APIRouter(tags=["access requests"])
# Declared by reference, not as a model: app.api_schema adds ApiError itself (and its presence is
# how it knows the schema is described already).
TOO_MANY = {
    429: {
        "description": "Too many requests from this client in an hour: wait.",
        "content": {"application/json": {"schema": {"$ref": "#/components/schemas/ApiError"}}},
    }
}


def _received() -> AccessRequestReceived:
    return AccessRequestReceived(
        detail=_("We have sent an e-mail to the address. Open the link in it to confirm the address.")
    )


@router.post("/access-requests", status_code=202, responses=TOO_MANY)
def request_account(
    data: AccountRequestIn, request: Request, db: SessionDep, now: Now, settings: SettingsDep
) -> AccessRequestReceived:
    """Ask for an account at an organisation: a teacher at a school, a provider user at a provider.
    The answer is the same whether or not the address has an account; the e-mail says which."""
    access.request_account(db, data, client=client_address(request), language=current_language(), now=now, settings=settings)
    return _received()


@router.post("/provider-registrations", status_code=202, responses=TOO_MANY)
def register_provider(
    data: ProviderRegistrationIn, request: Request, db: SessionDep, now: Now, settings: SettingsDep
) -> AccessRequestReceived:
    """Register a company as a new provider; a coordinator checks it once the address is confirmed.
    `cvr` must pass the CVR register's modulus-11 check."""
    access.register_provider(db, data, client=client_address(request), language=current_language(), now=now, settings=settings)
    return _received()
