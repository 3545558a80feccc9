"""JSON API of the accounts domain (see shared/API.md): tokens, me, organisations, users."""

from typing import Annotated

from fastapi import APIRouter, Depends, HTTPException, Request, Response
from fastapi.responses import JSONResponse
from fastapi.security import OAuth2PasswordRequestForm

from app.accounts import emails, secrets
from app.accounts import service as accounts
from app.accounts.models import OrganisationKind, Role, SessionKind, TokenPurpose
from app.accounts.schemas import (
    OrganisationIn,
    OrganisationPublic,
    Page,
    UserCreate,
    UserCreated,
    UserIn,
    UserPublic,
)
from app.deps import (
    ApiUser,
    Limit,
    Now,
    Offset,
    PathId,
    QueryId,
    SessionDep,
    SettingsDep,
    StaffApiUser,
    client_address,
    oauth2_scheme,
)
from app.errors import InvalidInput

router = APIRouter()


@router.post("/auth/token", tags=["auth"])
def issue_token(
    request: Request,
    form: Annotated[OAuth2PasswordRequestForm, Depends()],
    db: SessionDep,
    now: Now,
    settings: SettingsDep,
) -> dict[str, str]:
    """OAuth2 password flow: `username` is the e-mail address."""
    client = client_address(request)
    try:
        user = accounts.authenticate(
            db,
            email=form.username,
            password=form.password,
            client=client,
            now=now,
            settings=settings,
        )
    except InvalidInput as error:
        raise HTTPException(
            401, detail=error.message, headers={"WWW-Authenticate": "Bearer"}
        ) from None
    token = accounts.start_session(db, user, kind=SessionKind.api, now=now, settings=settings)
    # A token is a secret: no cache may keep the answer that carries it (RFC 6749, 5.1).
    return JSONResponse(
        {"access_token": token, "token_type": "bearer"},
        headers={"Cache-Control": "no-store", "Pragma": "no-cache"},
    )


@router.post("/auth/logout", tags=["auth"], status_code=204)
def log_out(
    user: ApiUser, db: SessionDep, token: Annotated[str | None, Depends(oauth2_scheme)]
) -> Response:
    """End (revoke) the bearer token this request carries; the user's other tokens and browsers
    stay logged in (the profile page lists them, and ends any one of them)."""
    accounts.end_own_session(db, user, secrets.token_hash(token or ""))
    return Response(status_code=204)


@router.get("/me", tags=["auth"])
def me(user: ApiUser) -> UserPublic:
    return UserPublic.model_validate(user)


@router.get("/organisations", tags=["organisations"])
def list_organisations(
    user: StaffApiUser,
    db: SessionDep,
    kind: OrganisationKind | None = None,
    municipality: str | None = None,
    q: str | None = None,
    limit: Limit = 50,
    offset: Offset = 0,
) -> Page[OrganisationPublic]:
    items, total = accounts.list_organisations(
        db, user, kind=kind, municipality=municipality, q=q, limit=limit, offset=offset
    )
    return Page(items=[OrganisationPublic.model_validate(o) for o in items], total=total)


@router.post("/organisations", status_code=201, tags=["organisations"])
def create_organisation(
    user: StaffApiUser, db: SessionDep, data: OrganisationIn
) -> OrganisationPublic:
    return OrganisationPublic.model_validate(accounts.create_organisation(db, user, data))


@router.get("/organisations/{organisation_id}", tags=["organisations"])
def get_organisation(
    user: StaffApiUser, db: SessionDep, organisation_id: PathId
) -> OrganisationPublic:
    return OrganisationPublic.model_validate(accounts.get_organisation(db, user, organisation_id))


@router.put("/organisations/{organisation_id}", tags=["organisations"])
def update_organisation(
    user: StaffApiUser, db: SessionDep, organisation_id: PathId, data: OrganisationIn
) -> OrganisationPublic:
    return OrganisationPublic.model_validate(
        accounts.update_organisation(db, user, organisation_id, data)
    )


@router.get("/users", tags=["users"])
def list_users(
    user: StaffApiUser,
    db: SessionDep,
    role: Role | None = None,
    organisation_id: QueryId | None = None,
    q: str | None = None,
    limit: Limit = 50,
    offset: Offset = 0,
) -> Page[UserPublic]:
    items, total = accounts.list_users(
        db, user, role=role, organisation_id=organisation_id, q=q, limit=limit, offset=offset
    )
    return Page(items=[UserPublic.model_validate(u) for u in items], total=total)


@router.post("/users", status_code=201, tags=["users"])
def create_user(
    user: StaffApiUser, db: SessionDep, data: UserCreate, now: Now, settings: SettingsDep
) -> UserCreated:
    """Without `password` the new user is e-mailed an invitation to choose one;
    `invitation_sent` tells whether the mail server took it."""
    created = accounts.create_user(db, user, data, now=now)
    sent = None
    if data.password is None:
        token = accounts.issue_account_token(
            db, created, purpose=TokenPurpose.invitation, now=now, settings=settings
        )
        sent = emails.send_invitation(settings, created, token, invited_by=user)
    return UserCreated.model_validate(
        {**UserPublic.model_validate(created).model_dump(), "invitation_sent": sent}
    )


@router.get("/users/{user_id}", tags=["users"])
def get_user(user: StaffApiUser, db: SessionDep, user_id: PathId) -> UserPublic:
    return UserPublic.model_validate(accounts.get_user(db, user, user_id))


@router.put("/users/{user_id}", tags=["users"])
def update_user(
    user: StaffApiUser, db: SessionDep, user_id: PathId, data: UserIn, now: Now
) -> UserPublic:
    return UserPublic.model_validate(accounts.update_user(db, user, user_id, data, now=now))
