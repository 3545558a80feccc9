"""The ASGI application: `create_app()` wires middleware, routers, static files and error pages."""

import logging
from pathlib import Path
from typing import Literal
from urllib.parse import quote, urlsplit

import psycopg
from fastapi import Depends, FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response
from fastapi.routing import iter_route_contexts
from fastapi.staticfiles import StaticFiles
from pydantic import BaseModel
from sqlalchemy import exc, text
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.requests import ClientDisconnect

from app import api_schema
from app.about import pages as about_pages
from app.access_requests import api as access_requests_api
from app.access_requests import pages as access_requests_pages
from app.accounts import api as accounts_api
from app.accounts import pages as accounts_pages
from app.barometer import api as barometer_api
from app.barometer import pages as barometer_pages
from app.barometer import report_pages as barometer_report_pages
from app.bookings import allocation_pages as bookings_allocation_pages
from app.bookings import api as bookings_api
from app.bookings import attendees as bookings_attendees
from app.bookings import expert_api, expert_pages
from app.bookings import limits_pages as bookings_limits_pages
from app.bookings import pages as bookings_pages
from app.calendar import pages as calendar_pages
from app.catalogue import api as catalogue_api
from app.catalogue import pages as catalogue_pages
from app.config import Settings, get_settings
from app.db import make_async_engine, make_engine
from app.deps import LoginRequired, NotAuthenticated
from app.errors import DomainError
from app.evaluations import pages as evaluations_pages
from app.i18n import _
from app.mentors import api as mentors_api
from app.mentors import approval_api as mentors_approval_api
from app.mentors import approval_pages as mentors_approval_pages
from app.mentors import hours_pages as mentors_hours_pages
from app.mentors import privacy_pages as mentors_privacy_pages
from app.mentors import shift_pages as mentors_shift_pages
from app.mentors import shifts_api as mentors_shifts_api
from app.mentors import signup_pages as mentors_signup_pages
from app.notifications import api as notifications_api
from app.notifications import pages as notifications_pages
from app.start import pages as start_pages
from app.web import home
from app.web.csrf import verify_csrf
from app.web.forms import rule_field
from app.web.middleware import LanguageMiddleware, RejectNulMiddleware, SecurityHeadersMiddleware
from app.web.templating import redirect, render, templates

STATIC_DIR = Path(__file__).resolve().parent.parent / "static"


def _is_api(request: Request) -> bool:
    return request.scope["path"].startswith("/api/")  # not request.url: building it costs


def _error_page(request: Request, status_code: int, message: str) -> Response:
    viewer = getattr(request.state, "viewer", None)  # not the ORM user: see deps.Viewer
    context = {"status_code": status_code, "message": message, "user": viewer, "back": _came_from(request)}
    return render(request, "error.html", context, status_code=status_code)


def _location(error: dict) -> list:
    """Where in the request an error is: a rule across fields found on the whole body (girls no
    more than pupils) is placed on the field its check names, so the API names the field."""
    location = list(error["loc"])
    field = rule_field(error)
    return [*location, field] if field and location == ["body"] else location


def _allowed_methods(request: Request) -> str:
    """Every method the address takes, for a 405's Allow: Starlette names only those of the first
    route whose path matched (POST of /api/v1/bookings, not its GET)."""
    methods: set[str] = set()
    for route in iter_route_contexts(request.app.routes):
        if route.methods and route.path_regex.match(request.scope["path"]):
            methods |= route.methods
    return ", ".join(sorted(methods))


def _came_from(request: Request) -> str | None:
    """The portal's page the refused form was sent from (say, the approval queue), so the error
    page can lead back to it; nothing for another site's address or the failing page itself."""
    referer = urlsplit(request.headers.get("referer", ""))
    local = referer.path.startswith("/") and not referer.path.startswith("//")  # "//host" leaves the site
    if referer.netloc != request.url.netloc or not local or referer.path == request.url.path:
        return None
    return f"{referer.path}?{referer.query}" if referer.query else referer.path


def _install_error_handlers(app: FastAPI) -> None:
    @app.exception_handler(DomainError)
    async def domain_error(request: Request, error: DomainError) -> Response:
        if _is_api(request):
            if error.field:
                detail = [
                    {"loc": ["body", error.field], "msg": error.message, "type": "value_error"}
                ]
                return JSONResponse({"detail": detail}, status_code=error.status_code)
            return JSONResponse({"detail": error.message}, status_code=error.status_code)
        return _error_page(request, error.status_code, error.message)

    @app.exception_handler(LoginRequired)
    async def login_required(request: Request, _error: LoginRequired) -> Response:
        target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
        return redirect(request, f"/login?next={quote(target, safe='')}")

    @app.exception_handler(NotAuthenticated)
    async def not_authenticated(_request: Request, _error: NotAuthenticated) -> Response:
        return JSONResponse(
            {"detail": "Not authenticated"}, status_code=401, headers={"WWW-Authenticate": "Bearer"}
        )

    @app.exception_handler(RequestValidationError)
    async def invalid_request(request: Request, error: RequestValidationError) -> Response:
        if _is_api(request):
            errors = [{"loc": _location(e), "msg": e["msg"], "type": e["type"]} for e in error.errors()]
            return JSONResponse({"detail": errors}, status_code=422)
        return _error_page(request, 422, _("The address or form was not valid."))

    @app.exception_handler(StarletteHTTPException)
    async def http_error(request: Request, error: StarletteHTTPException) -> Response:
        headers = dict(error.headers or {})
        if error.status_code == 405:
            headers["Allow"] = _allowed_methods(request)
        if _is_api(request):
            return JSONResponse({"detail": error.detail}, status_code=error.status_code, headers=headers)
        messages = {
            404: _("We could not find that page."),
            405: _("That cannot be done on this page."),
        }
        page = _error_page(
            request, error.status_code, messages.get(error.status_code, _("Something went wrong."))
        )
        if "Allow" in headers:
            page.headers["Allow"] = headers["Allow"]
        return page

    def busy(request: Request, why: str) -> Response:
        logging.getLogger("app").warning("%s for %s", why, request.url.path)
        message = _("Many are using the portal right now. Please try again in a moment.")
        if _is_api(request):
            return JSONResponse({"detail": message}, status_code=503, headers={"Retry-After": "5"})
        return _error_page(request, 503, message)

    @app.exception_handler(exc.TimeoutError)
    async def no_connection_free(request: Request, _error: exc.TimeoutError) -> Response:
        # Every database connection of this process stayed in use for the pool's whole timeout: the
        # portal has more visitors than it is sized for (DATABASE_POOL_SIZE, workers), not a bug.
        return busy(request, "No database connection free in time")

    @app.exception_handler(exc.DBAPIError)
    async def database_error(request: Request, error: exc.DBAPIError) -> Response:
        if getattr(error.orig, "sqlite_errorname", "").startswith("SQLITE_BUSY"):
            # SQLite lets one write at a time, and refuses at once a transaction that read and then
            # writes after another wrote in between (the busy timeout does not apply to it): nothing
            # was saved, and trying again works.
            return busy(request, "SQLite was busy")
        if isinstance(error.orig, psycopg.errors.LockNotAvailable | psycopg.errors.DeadlockDetected):
            # PostgreSQL: a row lock not had within the transaction's lock timeout, or two
            # transactions that waited for each other; nothing was saved, and trying again works.
            return busy(request, f"PostgreSQL: {type(error.orig).__name__}")
        if not error.connection_invalidated:
            return await unexpected(request, error)
        # The database dropped the connection (a restart, a failover) and with it the transaction;
        # SQLAlchemy has emptied the pool, so trying again gets a fresh connection. (Lost during the
        # commit itself, a booking may have been made: a retry with its Idempotency-Key tells.)
        logging.getLogger("app").warning("Database connection lost during %s", request.url.path)
        message = _("The portal lost its connection to the database for a moment. Please try again.")
        if _is_api(request):
            return JSONResponse({"detail": message}, status_code=503, headers={"Retry-After": "1"})
        return _error_page(request, 503, message)

    @app.exception_handler(ClientDisconnect)
    async def client_gone(request: Request, error: ClientDisconnect) -> Response:
        # The browser left (a click on another link) before it had sent the whole form: nothing
        # was read, so nothing was saved, and nobody receives an answer. Not an error of ours.
        logging.getLogger("app").info("Client left during %s", request.url.path)
        return Response(status_code=499)  # nginx's code for a request the client closed

    @app.exception_handler(Exception)
    async def unexpected(request: Request, error: Exception) -> Response:
        logging.getLogger("app").exception("Unhandled error on %s", request.url.path)
        if _is_api(request):
            return JSONResponse({"detail": "Internal server error"}, status_code=500)
        return _error_page(
            request, 500, _("Something went wrong on our side. Try again in a moment.")
        )


class Health(BaseModel):
    status: Literal["ok", "unavailable"]


def create_app(settings: Settings | None = None) -> FastAPI:
    settings = settings or get_settings()
    logging.basicConfig(level=logging.INFO)
    app = FastAPI(
        title="STEM-portalen",
        summary="Booking portal for STEM activities in Central Denmark Region",
        version="1.0",
        docs_url=None,  # FastAPI's page loads Swagger UI from a CDN and starts it inline: see /docs
        redoc_url=None,
    )
    app.state.settings = settings
    app.state.engine = make_engine(settings.database_url, pool_size=settings.database_pool_size)
    app.state.async_engine = make_async_engine(settings.database_url, pool_size=settings.database_pool_size)

    # Each router straight on the app, the API's first and the bookings' first of those: a request
    # is matched against the routes in order (and each nested router is one more pass), and the
    # API's bookings are the requests that come by the hundred per second when a popular date opens.
    for router in (bookings_api.router, accounts_api.router, catalogue_api.router, expert_api.router, notifications_api.router, mentors_api.router, mentors_shifts_api.router, mentors_approval_api.router, barometer_api.router, access_requests_api.router):
        app.include_router(router, prefix="/api/v1")
    for router in (
        start_pages.router,
        home.router,
        about_pages.router,
        accounts_pages.router,
        catalogue_pages.router,
        bookings_pages.router,
        bookings_allocation_pages.router,
        expert_pages.router,
        bookings_attendees.router,
        bookings_limits_pages.router,
        calendar_pages.router,
        notifications_pages.router,
        mentors_signup_pages.router,
        mentors_hours_pages.router,
        mentors_privacy_pages.router,
        mentors_shift_pages.router,
        # After the sign-up's pages: its /mentors/signup must match before /mentors/{mentor_id}.
        mentors_approval_pages.router,
        evaluations_pages.router,
        barometer_pages.router,
        barometer_report_pages.router,
        access_requests_pages.router,
    ):
        app.include_router(router, dependencies=[Depends(verify_csrf)], include_in_schema=False)

    @app.get(
        "/healthz",
        tags=["health"],
        responses={
            200: {"model": Health},
            503: {"model": Health, "description": "The database cannot be reached."},
        },
    )
    def healthz() -> Response:
        try:
            with app.state.engine.connect() as connection:
                connection.execute(text("SELECT 1"))
        except Exception:
            return JSONResponse({"status": "unavailable"}, status_code=503)
        return JSONResponse({"status": "ok"})

    @app.get("/docs", include_in_schema=False)
    def api_docs(request: Request) -> Response:
        """The OpenAPI schema in Swagger UI, served from here, as the CSP wants it."""
        context = {"title": app.title, "openapi_url": app.openapi_url}
        return templates.TemplateResponse(request, "api_docs.html", context)

    app.mount("/static", StaticFiles(directory=STATIC_DIR), name="static")
    _install_error_handlers(app)
    api_schema.install(app)
    # The last added is the outermost: every answer, a refusal at the door too, gets the headers.
    app.add_middleware(LanguageMiddleware)
    app.add_middleware(RejectNulMiddleware)
    app.add_middleware(SecurityHeadersMiddleware, hsts=settings.is_production)
    return app


app = create_app()
