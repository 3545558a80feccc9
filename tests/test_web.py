"""What every page shares: security headers, cookies, language, error pages, the database check."""

import asyncio
from concurrent.futures import ThreadPoolExecutor

import psycopg
import pytest
from fastapi.testclient import TestClient
from sqlalchemy.exc import OperationalError
from sqlmodel import select
from starlette.requests import Request

from app.catalogue.models import Resource, SavedSearch
from app.config import Settings
from app.errors import InvalidInput
from app.main import create_app
from app.web.csrf import token_for
from app.web.forms import posted_form
from tests.factories import PASSWORD, log_in, make_user, post_form


def run_in_own_loop(coroutine):
    """asyncio.run in a thread of its own: a browser test run earlier in this process (Playwright's
    sync API) leaves an event loop running in the main thread, where asyncio.run refuses to start."""
    with ThreadPoolExecutor(1) as thread:
        return thread.submit(asyncio.run, coroutine).result()


def test_security_headers_on_every_response(client):
    for url in ("/", "/login", "/api/v1/me", "/no-such-page", "/healthz", "/catalogue?q=%00"):
        headers = client.get(url).headers
        csp = headers["content-security-policy"]
        assert "frame-ancestors 'none'" in csp
        assert "script-src 'self'" in csp and "unsafe-inline" not in csp
        assert headers["x-content-type-options"] == "nosniff"
        assert headers["referrer-policy"] == "strict-origin-when-cross-origin"
        assert "strict-transport-security" not in headers  # development and test only


def test_personal_answers_are_not_kept_in_any_cache(client, db, settings):
    from tests.factories import api_headers, log_in

    teacher = make_user(db, "teacher")
    assert "no-store" not in client.get("/catalogue").headers.get("cache-control", "")  # public
    token = api_headers(db, teacher, settings)
    assert client.get("/api/v1/me", headers=token).headers["cache-control"] == "private, no-store"
    log_in(client, db, teacher, settings)
    for url in ("/profile", "/bookings", "/calendar", "/inbox"):
        assert client.get(url).headers["cache-control"] == "private, no-store", url
    assert "no-store" not in client.get("/static/css/app.css").headers.get("cache-control", "")


def test_production_sets_hsts_and_secure_cookies(database_url, db):
    from app.db import get_db

    production = Settings(
        environment="production", database_url=database_url, base_url="https://stem.example",
        secret_key="a-production-secret-of-at-least-32-characters",
    )
    app = create_app(production)
    app.dependency_overrides[get_db] = lambda: db
    user = make_user(db, "teacher")
    with TestClient(app, base_url="https://testserver", follow_redirects=False) as client:
        page = client.get("/login")
        assert "max-age=" in page.headers["strict-transport-security"]
        (nonce,) = page.headers.get_list("set-cookie")
        assert nonce.startswith("__Host-stem_csrf=") and "Secure" in nonce and "Path=/" in nonce
        assert "domain" not in nonce.lower()  # what __Host- demands, so no subdomain can set it
        response = post_form(client, "/login", {"email": user.email, "password": PASSWORD})
        assert response.status_code == 303
        session_cookie = next(
            c for c in response.headers.get_list("set-cookie") if c.startswith("stem_session=")
        )
        assert (
            "Secure" in session_cookie
            and "HttpOnly" in session_cookie
            and "samesite=lax" in session_cookie.lower()
        )


def test_pages_are_danish_by_default_and_english_on_request(client):
    assert "Log ind" in client.get("/login").text
    response = post_form(client, "/language", {"language": "en", "next": "/login"})
    assert response.status_code == 303 and response.headers["location"] == "/login"
    page = client.get("/login").text
    assert '<html lang="en">' in page and "Log in" in page


def test_language_switch_never_leaves_the_site(client):
    response = post_form(client, "/language", {"language": "en", "next": "//evil.example/"})
    assert response.headers["location"] == "/"


def test_unknown_page_is_a_friendly_404_and_api_404_is_json(client):
    page = client.get("/no-such-page")
    assert page.status_code == 404 and "<h1>" in page.text
    api = client.get("/api/v1/no-such-thing")
    assert api.status_code == 404 and api.json() == {"detail": "Not Found"}


def test_bad_path_parameter_is_not_a_500(client, db, settings):
    from tests.factories import log_in

    log_in(client, db, make_user(db, "admin"), settings)
    assert client.get("/admin/organisations/not-a-number").status_code == 422
    for page in ("0", "-1", "x"):  # an edited link shows the first page, not an error
        assert client.get(f"/admin/organisations?page={page}").status_code == 200
    assert client.get("/catalogue?page=-1").status_code == 200


def test_htmx_request_gets_only_the_results_block(client, db, settings):
    from tests.factories import log_in, make_school

    make_school(db, name="Blokskolen")
    log_in(client, db, make_user(db, "admin"), settings)
    full = client.get("/admin/organisations?q=Blok")
    part = client.get(
        "/admin/organisations?q=Blok", headers={"HX-Request": "true", "HX-Target": "results"}
    )
    boosted = client.get(
        "/admin/organisations?q=Blok", headers={"HX-Request": "true", "HX-Boosted": "true"}
    )
    assert "<html" in full.text and "Blokskolen" in full.text
    assert "<html" in boosted.text
    assert "<html" not in part.text and "Blokskolen" in part.text and 'id="results"' in part.text
    assert "HX-Request" in part.headers["vary"]


def test_healthz_answers_503_without_a_database(tmp_path):
    broken = Settings(
        environment="test", database_url="postgresql+psycopg://nobody@127.0.0.1:1/none"
    )
    with TestClient(create_app(broken)) as client:
        response = client.get("/healthz")
    assert response.status_code == 503


@pytest.mark.parametrize("language", ["da", "en"])
def test_dates_are_shown_in_copenhagen_time(language):
    from datetime import UTC, datetime

    from app import i18n

    with i18n.language(language):
        # 23:30 UTC on 30 June is 01:30 the next day in Copenhagen (summer time).
        text = i18n.local_datetime(datetime(2026, 6, 30, 23, 30, tzinfo=UTC), "short")
    assert "01.30" in text or "1:30" in text or "01:30" in text
    assert "7" in text  # July


def test_empty_or_unknown_filters_are_ignored(client, db, settings):
    from tests.factories import log_in

    log_in(client, db, make_user(db, "admin"), settings)
    assert client.get("/admin/organisations?q=&kind=&municipality=").status_code == 200
    assert client.get("/admin/organisations?kind=spaceship").status_code == 200
    assert client.get("/admin/users?q=&role=").status_code == 200


def test_every_form_carries_the_visitors_csrf_token(client, db, settings):
    import re

    from tests.factories import csrf, log_in

    log_in(client, db, make_user(db, "admin"), settings)
    csrf(client)
    for url in ("/profile", "/profile/password", "/admin/users/new", "/admin/organisations/new"):
        page = client.get(url).text
        tokens = set(re.findall(r'name="csrf_token" value="([^"]*)"', page))
        assert tokens == {csrf(client)}, url


def test_the_csrf_token_is_bound_to_the_session_and_new_at_each_log_in(client, db, settings):
    """A plain double-submit cookie took any pair an attacker planted (security probe B1)."""
    from app.accounts.models import SessionKind
    from app.accounts.service import start_session
    from app.db import utcnow
    from tests.factories import csrf, log_in, post_form

    victim = make_user(db, "teacher")
    log_in(client, db, victim, settings)
    # An attacker who can plant cookies chooses the nonce, but cannot sign it for the session.
    client.cookies.set("stem_csrf", "attacker-chosen", domain="testserver.local")
    forged = client.post("/profile", data={"name": "pwned", "csrf_token": "attacker-chosen"})
    assert forged.status_code == 403
    # Nor does a token made for another session (the attacker's own) pass for the victim's.
    attacker = start_session(db, make_user(db, "teacher"), kind=SessionKind.web, now=utcnow(), settings=settings)
    theirs = token_for(settings.secret_key, "attacker-chosen", attacker)
    assert client.post("/profile", data={"name": "pwned", "csrf_token": theirs}).status_code == 403
    assert post_form(client, "/profile", {"name": "Rigtigt Navn"}).status_code == 303
    db.refresh(victim)
    assert victim.name == "Rigtigt Navn"

    # Logging in gives a new nonce, and the token of the page before it is no longer taken.
    client.cookies.clear()
    before = csrf(client)
    nonce = client.cookies["stem_csrf"]
    answer = client.post("/login", data={"email": victim.email, "password": PASSWORD, "csrf_token": before})
    assert answer.status_code == 303 and client.cookies["stem_csrf"] != nonce
    assert client.post("/profile", data={"name": "x", "csrf_token": before}).status_code == 403
    assert post_form(client, "/profile", {"name": "Efter log ind"}).status_code == 303


def test_nul_characters_never_reach_the_database(client, db, settings):
    from tests.factories import csrf, log_in, post_form

    assert client.get("/admin/organisations?q=a%00b").status_code == 400
    assert post_form(client, "/password-reset", {"email": "a\x00@b.dk"}).status_code in (200, 422)
    assert (
        post_form(client, "/login", {"email": "a\x00@b.dk", "password": "x\x00"}).status_code == 422
    )
    log_in(client, db, make_user(db, "admin"), settings)
    csrf(client)
    response = post_form(
        client,
        "/admin/organisations/new",
        {"name": "Nul\x00skolen", "kind": "school", "municipality": "Aarhus"},
    )
    # Refused, not silently changed (a password with a NUL once worked only without it).
    assert response.status_code == 422 and "specialtegn" in response.text
    from app.accounts.models import Organisation

    assert not db.exec(select(Organisation).where(Organisation.name.startswith("Nul"))).all()
    assert post_form(client, "/profile/password", {"current_password": PASSWORD, "new_password": "grøn cykel\x00 ved åen"}).status_code == 422


def posted(body: bytes):
    """What posted_form makes of a urlencoded body."""

    async def receive() -> dict:
        return {"type": "http.request", "body": body, "more_body": False}

    headers = [(b"content-type", b"application/x-www-form-urlencoded")]
    return run_in_own_loop(posted_form(Request({"type": "http", "method": "POST", "headers": headers}, receive)))


def test_a_posted_form_gives_each_field_its_last_value_and_every_value_on_request():
    form = posted(
        b"name=Anna&name=Bo&themes=it&themes=&themes=energy&csrf_token=t&place=Aarhus&blank=+"
    )
    with pytest.raises(InvalidInput) as nul:
        posted(b"name=Bo&place=Aar%00hus")
    assert nul.value.field == "place"
    # What schemas validate and handlers read: one string per field, never a list.
    assert form == {"name": "Bo", "themes": "energy", "place": "Aarhus"}
    assert form.get("name") == "Bo" and form["themes"] == "energy"
    # Checkboxes: every value, in the order sent; empty ones count as not given.
    assert form.getlist("themes") == ["it", "energy"]
    assert form.getlist("name") == ["Anna", "Bo"]
    assert form.getlist("weekdays") == [] and form.getlist("csrf_token") == [] and form.getlist("note") == []


def test_a_field_sent_twice_counts_as_its_last_value(client, db, settings):
    """A hand-made or replayed post may repeat a field: no page fails on it with a 500."""
    teacher = make_user(db, "teacher")
    logged_in = post_form(
        client,
        "/login",
        {"email": ["x@y.dk", teacher.email], "password": ["wrong", PASSWORD], "next": ["//evil.example", "/catalogue/saved"]},
    )
    assert logged_in.status_code == 303 and logged_in.headers["location"] == "/catalogue/saved"
    saved = post_form(client, "/catalogue/saved", {"name": ["Første", "Eksperter"], "query": "type=expert"})
    assert saved.status_code == 303
    assert db.exec(select(SavedSearch.name).where(SavedSearch.user_id == teacher.id)).all() == ["Eksperter"]

    provider = make_user(db, "provider")
    log_in(client, db, provider, settings)
    made = post_form(client, "/provider/resources", {"kind": ["room", "person"], "name": ["Lab 2", "Anna"]})
    assert made.status_code == 303
    (resource,) = db.exec(select(Resource).where(Resource.provider_id == provider.organisation_id)).all()
    assert (resource.name, resource.kind) == ("Anna", "person")


def test_a_browser_that_leaves_before_its_form_arrived_is_no_error_of_ours(app, caplog):
    """A click elsewhere while a form is being sent cancels the request: nothing is saved and
    nothing logged as our error (it used to be a 500 with a traceback)."""

    async def left() -> dict:
        return {"type": "http.disconnect"}

    sent: list[dict] = []

    async def send(message: dict) -> None:
        sent.append(message)

    scope = {
        "type": "http", "method": "POST", "path": "/login", "raw_path": b"/login", "query_string": b"",
        "headers": [(b"content-type", b"application/x-www-form-urlencoded"), (b"host", b"testserver")],
        "scheme": "http", "server": ("testserver", 80), "client": ("127.0.0.1", 5000), "root_path": "",
        "http_version": "1.1",
    }  # fmt: skip
    run_in_own_loop(app(scope, left, send))
    assert sent[0]["type"] == "http.response.start" and sent[0]["status"] == 499
    assert not [r for r in caplog.records if r.levelname == "ERROR"]


@pytest.mark.parametrize("refusal", [psycopg.errors.LockNotAvailable, psycopg.errors.DeadlockDetected])
def test_a_row_lock_postgresql_could_not_give_is_busy_try_again(refusal, test_settings):
    """Wherever a lock wait ends (its timeout, or two transactions waiting for each other), nothing
    was saved and trying again works: 503 "busy" for pages and API, not a 500."""
    app = create_app(test_settings)

    @app.get("/api/v1/test-lock")
    @app.get("/test-lock")
    def locked() -> None:
        raise OperationalError("SELECT ... FOR UPDATE", {}, refusal("could not obtain lock"))

    with TestClient(app) as client:
        page, api = client.get("/test-lock"), client.get("/api/v1/test-lock")
    assert page.status_code == 503 and "prøv igen" in page.text.lower()
    assert api.status_code == 503 and api.headers["retry-after"] and "detail" in api.json()
