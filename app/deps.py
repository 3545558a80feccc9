"""Dependencies shared by the routers: database session, clock, settings and the acting user."""

from dataclasses import dataclass
from datetime import datetime
from functools import partial
from typing import Annotated

from fastapi import Depends, Path, Query, Request
from fastapi.security import OAuth2PasswordBearer
from sqlmodel import Session

from app.accounts import service as accounts
from app.accounts.models import STAFF_ROLES, Role, SessionKind, User
from app.config import Settings
from app.db import MAX_ID, Transaction, get_db, in_event_loop, in_own_thread, utcnow
from app.errors import Forbidden
from app.i18n import _

SESSION_COOKIE = "stem_session"

SessionDep = Annotated[Session, Depends(get_db)]


async def get_transaction(request: Request) -> Transaction:
    """How a handler that runs its work itself does so: on PostgreSQL in the event loop, else with
    a session of its own in a thread. (Not from `get_db`: a session, and a dependency that must be
    closed after the response, on every booking of a flash crowd. The tests hand their own session.)"""
    engine = request.app.state.async_engine
    if engine is None:
        return partial(in_own_thread, request.app.state.engine)
    return partial(in_event_loop, engine)


TransactionDep = Annotated[Transaction, Depends(get_transaction)]

# Path ids and paging, bounded so that no number from outside overflows a database integer.
PathId = Annotated[int, Path(ge=1, le=MAX_ID)]
# An id in a query's filter: bounded like a path's, so a database's integer never overflows (500).
QueryId = Annotated[int, Query(ge=1, le=MAX_ID)]
Limit = Annotated[int, Query(ge=1, le=500)]
Offset = Annotated[int, Query(ge=0, le=MAX_ID)]
def client_address(request: Request) -> str:
    """Who is asking, for the log-in and reset limits: the client's address, as uvicorn gives it
    (from X-Forwarded-For only when the proxy is in FORWARDED_ALLOW_IPS)."""
    return request.client.host if request.client else "unknown"


def page_number(page: Annotated[str | None, Query(max_length=20)] = None) -> int:
    """The page of a list from the address bar. An edited or outdated link ("page=-1", "page=x")
    still shows a page: the first, or the last one there can be."""
    try:
        return min(max(int(page or 1), 1), 100_000)
    except ValueError:
        return 1


PageNumber = Annotated[int, Depends(page_number)]


def get_settings(request: Request) -> Settings:
    return request.app.state.settings


async def get_now() -> datetime:
    """The clock, as a dependency, so tests can fix time (async: no trip to the thread pool)."""
    return utcnow()


SettingsDep = Annotated[Settings, Depends(get_settings)]
Now = Annotated[datetime, Depends(get_now)]


class LoginRequired(Exception):
    """A page needs a logged-in user; answered with a redirect to the log-in page."""


class NotAuthenticated(Exception):
    """An API call needs a valid bearer token; answered with 401."""


@dataclass(frozen=True)
class Viewer:
    """What the page layout shows of the logged-in user (its menu), kept apart from the ORM object:
    after a rollback the user's attributes are expired, and once the request's session is closed
    they cannot be loaded again, yet an error page still needs the menu."""

    role: Role
    municipality: str | None = None

    @property
    def is_staff(self) -> bool:
        return self.role in STAFF_ROLES

    @property
    def is_regional_staff(self) -> bool:
        return self.role == Role.admin or (self.role == Role.coordinator and self.municipality is None)


def page_user(request: Request, db: SessionDep, now: Now) -> User | None:
    token = request.cookies.get(SESSION_COOKIE)
    user = accounts.user_for_session(db, token, kind=SessionKind.web, now=now) if token else None
    request.state.user = user
    request.state.viewer = Viewer(role=user.role, municipality=user.municipality) if user else None
    return user


def logged_in_page_user(user: Annotated[User | None, Depends(page_user)]) -> User:
    if user is None:
        raise LoginRequired()
    return user


def staff_page_user(user: Annotated[User, Depends(logged_in_page_user)]) -> User:
    if not user.is_staff:
        raise Forbidden(_("Only coordinators and administrators may see this page."))
    return user


def regional_staff_page_user(user: Annotated[User, Depends(logged_in_page_user)]) -> User:
    if not user.is_regional_staff:
        raise Forbidden(_("Only the region's coordinators and administrators may see this page."))
    return user


def provider_page_user(user: Annotated[User, Depends(logged_in_page_user)]) -> User:
    if user.role != Role.provider:
        raise Forbidden(_("Only providers can publish offers."))
    return user


def mentor_page_user(user: Annotated[User, Depends(logged_in_page_user)]) -> User:
    if user.role != Role.mentor:
        raise Forbidden(_("Only youth-to-youth mentors may see this page."))
    return user


MaybeUser = Annotated[User | None, Depends(page_user)]
MentorPageUser = Annotated[User, Depends(mentor_page_user)]
ProviderPageUser = Annotated[User, Depends(provider_page_user)]
PageUser = Annotated[User, Depends(logged_in_page_user)]
StaffPageUser = Annotated[User, Depends(staff_page_user)]
# Pages about the whole region's people (undelivered e-mail): not for a municipality's coordinator.
RegionalStaffPageUser = Annotated[User, Depends(regional_staff_page_user)]

oauth2_scheme = OAuth2PasswordBearer(tokenUrl="/api/v1/auth/token", auto_error=False)


def api_user(
    token: Annotated[str | None, Depends(oauth2_scheme)], db: SessionDep, now: Now
) -> User:
    user = accounts.user_for_session(db, token, kind=SessionKind.api, now=now) if token else None
    if user is None:
        raise NotAuthenticated()
    return user


def maybe_api_user(
    token: Annotated[str | None, Depends(oauth2_scheme)], db: SessionDep, now: Now
) -> User | None:
    """The caller of a public endpoint that shows more to some (a provider's own drafts)."""
    return accounts.user_for_session(db, token, kind=SessionKind.api, now=now) if token else None


def staff_api_user(user: Annotated[User, Depends(api_user)]) -> User:
    if not user.is_staff:
        raise Forbidden(_("Only coordinators and administrators may do this."))
    return user


ApiUser = Annotated[User, Depends(api_user)]
MaybeApiUser = Annotated[User | None, Depends(maybe_api_user)]
StaffApiUser = Annotated[User, Depends(staff_api_user)]
