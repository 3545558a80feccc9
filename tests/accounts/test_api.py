"""The accounts JSON API (shared/API.md): tokens, me, organisations, users, health and OpenAPI.

Every refused change is checked twice: the answer names the field, and the database holds
nothing new.
"""

import os
import re
from datetime import timedelta

import pytest
from fastapi.testclient import TestClient
from sqlmodel import func, select

from app.accounts import service as accounts
from app.accounts.models import (
    AccountToken,
    AuthSession,
    LoginAttempt,
    Organisation,
    SessionKind,
    User,
)
from app.db import utcnow
from app.deps import get_now
from app.errors import NotFound
from app.main import create_app
from tests.conftest import free_port
from tests.factories import PASSWORD, api_headers, make_provider, make_school, make_user, post_form

IS_POSTGRES = (os.environ.get("TEST_DATABASE_URL") or "").startswith("postgresql")
NEW_PASSWORD = "a brand new password"
TOKEN_URL = "/api/v1/auth/token"


# --- helpers ---------------------------------------------------------------------------------


def count(db, model, *where) -> int:
    return db.exec(select(func.count()).select_from(model).where(*where)).one()


def error_fields(response) -> list[str]:
    """The field each 422 error names (the last part of its `loc`)."""
    detail = response.json()["detail"]
    assert isinstance(detail, list), detail
    return [str(error["loc"][-1]) for error in detail]


def get_token(client, email: str, password: str):
    return client.post(TOKEN_URL, data={"username": email, "password": password})


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def user_body(user: User, **changes) -> dict:
    """A PUT body that keeps the user as they are, apart from `changes`."""
    body = {
        "email": user.email,
        "name": user.name,
        "role": user.role.value if hasattr(user.role, "value") else user.role,
        "organisation_id": user.organisation_id,
        "municipality": user.municipality,
        "phone": user.phone,
        "is_active": user.is_active,
    }
    return {**body, **changes}


@pytest.fixture
def quiet_client(app):
    """A client that reports a server error as a 500 answer instead of raising it."""
    with TestClient(
        app, base_url="http://testserver", follow_redirects=False, raise_server_exceptions=False
    ) as test_client:
        yield test_client


@pytest.fixture
def admin(db):
    return make_user(db, "admin")


@pytest.fixture
def admin_headers(db, admin, settings):
    return api_headers(db, admin, settings)


# --- POST /api/v1/auth/token -----------------------------------------------------------------


def test_token_for_the_right_password_opens_the_api(client, db):
    teacher = make_user(db, "teacher")

    response = get_token(client, teacher.email, PASSWORD)

    assert response.status_code == 200, response.text
    body = response.json()
    assert body["token_type"] == "bearer"
    assert response.headers["cache-control"] == "no-store"  # a secret: no cache keeps it
    assert len(body["access_token"]) >= 32
    me = client.get("/api/v1/me", headers=bearer(body["access_token"]))
    assert me.status_code == 200
    assert me.json()["id"] == teacher.id
    # Only a hash of the token is stored.
    assert count(db, AuthSession, AuthSession.token_hash == body["access_token"]) == 0
    assert count(db, AuthSession, AuthSession.user_id == teacher.id) == 1


def test_logging_out_revokes_that_token_only(client, db):
    teacher = make_user(db, "teacher")
    first = bearer(get_token(client, teacher.email, PASSWORD).json()["access_token"])
    second = bearer(get_token(client, teacher.email, PASSWORD).json()["access_token"])

    assert client.post("/api/v1/auth/logout", headers=first).status_code == 204
    assert client.get("/api/v1/me", headers=first).status_code == 401
    assert client.post("/api/v1/auth/logout", headers=first).status_code == 401
    assert client.get("/api/v1/me", headers=second).status_code == 200
    assert client.post("/api/v1/auth/logout").status_code == 401


def test_an_account_is_active_by_true_or_false_only(client, db, admin_headers):
    teacher = make_user(db, "teacher")
    for value in (0, 1, "yes", "false"):
        answer = client.put(f"/api/v1/users/{teacher.id}", headers=admin_headers, json=user_body(teacher, is_active=value))
        assert answer.status_code == 422, value
        assert [(e["loc"], e["type"]) for e in answer.json()["detail"]] == [(["body", "is_active"], "bool_type")]
    db.refresh(teacher)
    assert teacher.is_active is True


def test_token_e_mail_ignores_case_and_spaces(client, db):
    make_user(db, "teacher", email="mixed.case@example.dk")

    response = get_token(client, "  Mixed.CASE@Example.DK ", PASSWORD)

    assert response.status_code == 200, response.text


def test_wrong_password_gives_401_and_is_counted(client, db):
    teacher = make_user(db, "teacher")

    response = get_token(client, teacher.email, "not the password")

    assert response.status_code == 401
    assert response.headers["www-authenticate"] == "Bearer"
    assert "access_token" not in response.json()
    assert count(db, LoginAttempt, LoginAttempt.email == teacher.email) == 1
    assert count(db, AuthSession, AuthSession.user_id == teacher.id) == 0


def test_unknown_e_mail_gets_the_same_answer_as_a_wrong_password(client, db):
    teacher = make_user(db, "teacher")

    wrong_password = get_token(client, teacher.email, "not the password")
    unknown = get_token(client, "nobody@example.dk", "not the password")

    assert unknown.status_code == wrong_password.status_code == 401
    assert unknown.json() == wrong_password.json()


def test_inactive_user_gets_no_token(client, db):
    teacher = make_user(db, "teacher")
    teacher.is_active = False
    db.add(teacher)
    db.commit()

    response = get_token(client, teacher.email, PASSWORD)

    assert response.status_code == 401
    assert count(db, AuthSession, AuthSession.user_id == teacher.id) == 0


def test_invited_user_without_password_gets_no_token(client, db):
    invited = make_user(db, "teacher", password=None)

    response = get_token(client, invited.email, "any password at all")

    assert response.status_code == 401


def test_too_many_failures_for_one_e_mail_give_429(client, db, settings):
    teacher = make_user(db, "teacher")
    other = make_user(db, "teacher")

    for _ in range(settings.login_max_failures):
        assert get_token(client, teacher.email, "guess").status_code == 401

    # Even the right password is refused now, whatever the case of the e-mail.
    blocked = get_token(client, teacher.email, PASSWORD)
    assert blocked.status_code == 429
    assert isinstance(blocked.json()["detail"], str)
    assert get_token(client, teacher.email.upper(), PASSWORD).status_code == 429
    assert count(db, AuthSession, AuthSession.user_id == teacher.id) == 0
    # The limit is per e-mail address: another user of the same client still gets in.
    assert get_token(client, other.email, PASSWORD).status_code == 200


def test_failures_below_the_limit_are_forgotten_after_a_success(client, db, settings):
    teacher = make_user(db, "teacher")

    for _round in range(2):
        for _ in range(settings.login_max_failures - 1):
            assert get_token(client, teacher.email, "guess").status_code == 401
        assert get_token(client, teacher.email, PASSWORD).status_code == 200


def test_failures_older_than_the_window_no_longer_block(app, client, db, settings):
    teacher = make_user(db, "teacher")
    start = utcnow()
    app.dependency_overrides[get_now] = lambda: start
    for _ in range(settings.login_max_failures):
        assert get_token(client, teacher.email, "guess").status_code == 401
    assert get_token(client, teacher.email, PASSWORD).status_code == 429

    later = start + timedelta(minutes=settings.login_window_minutes, seconds=1)
    app.dependency_overrides[get_now] = lambda: later

    assert get_token(client, teacher.email, PASSWORD).status_code == 200


# --- GET /api/v1/me --------------------------------------------------------------------------


def test_me_answers_who_is_logged_in(client, db, settings):
    school = make_school(db)
    teacher = make_user(db, "teacher", organisation=school)

    response = client.get("/api/v1/me", headers=api_headers(db, teacher, settings))

    assert response.status_code == 200
    body = response.json()
    assert {k: body[k] for k in ("id", "email", "name", "role", "organisation_id")} == {
        "id": teacher.id,
        "email": teacher.email,
        "name": teacher.name,
        "role": "teacher",
        "organisation_id": school.id,
    }
    assert not any("password" in key for key in body)


def test_me_without_a_token_is_401(client):
    response = client.get("/api/v1/me")

    assert response.status_code == 401
    assert response.headers["www-authenticate"] == "Bearer"
    assert response.json() == {"detail": "Not authenticated"}


@pytest.mark.parametrize(
    "authorization", ["Bearer not-a-token", "Bearer ", "Basic dXNlcjpwYXNz", "not-even-a-scheme"]
)
def test_me_with_a_bad_token_is_401(client, db, settings, authorization):
    make_user(db, "teacher")  # a user exists, so a lookup that ignored the token would find one

    response = client.get("/api/v1/me", headers={"Authorization": authorization})

    assert response.status_code == 401


def test_a_browser_session_is_not_an_api_token(client, db, settings):
    teacher = make_user(db, "teacher")
    web_token = accounts.start_session(
        db, teacher, kind=SessionKind.web, now=utcnow(), settings=settings
    )

    assert client.get("/api/v1/me", headers=bearer(web_token)).status_code == 401


def test_an_expired_api_token_is_401(client, db, settings):
    teacher = make_user(db, "teacher")
    long_ago = utcnow() - timedelta(days=settings.api_token_days, minutes=1)
    token = accounts.start_session(
        db, teacher, kind=SessionKind.api, now=long_ago, settings=settings
    )

    assert client.get("/api/v1/me", headers=bearer(token)).status_code == 401


def test_a_deactivated_users_token_stops_working(client, db, settings):
    teacher = make_user(db, "teacher")
    headers = api_headers(db, teacher, settings)
    assert client.get("/api/v1/me", headers=headers).status_code == 200

    teacher.is_active = False
    db.add(teacher)
    db.commit()

    assert client.get("/api/v1/me", headers=headers).status_code == 401


# --- staff only ------------------------------------------------------------------------------


STAFF_ENDPOINTS = [
    ("GET", "/api/v1/organisations"),
    ("POST", "/api/v1/organisations"),
    ("GET", "/api/v1/organisations/{organisation_id}"),
    ("PUT", "/api/v1/organisations/{organisation_id}"),
    ("GET", "/api/v1/users"),
    ("POST", "/api/v1/users"),
    ("GET", "/api/v1/users/{user_id}"),
    ("PUT", "/api/v1/users/{user_id}"),
]


@pytest.mark.parametrize("role", ["teacher", "provider", "mentor"])
@pytest.mark.parametrize(("method", "path"), STAFF_ENDPOINTS)
def test_non_staff_get_403_on_staff_endpoints(client, db, settings, role, method, path):
    school = make_school(db)
    actor = make_user(db, role, organisation=school if role == "teacher" else None)
    target = make_user(db, "teacher", organisation=school)
    url = path.format(organisation_id=school.id, user_id=target.id)
    body = (
        {
            "/api/v1/organisations": {
                "name": "Ny skole",
                "kind": "school",
                "municipality": "Aarhus",
            },
            "/api/v1/organisations/{organisation_id}": {
                "name": "Omdøbt",
                "kind": "school",
                "municipality": "Aarhus",
            },
            "/api/v1/users": {
                "email": "new.teacher@example.dk",
                "name": "New",
                "role": "teacher",
                "organisation_id": school.id,
                "password": NEW_PASSWORD,
            },
            "/api/v1/users/{user_id}": user_body(target, name="Omdøbt"),
        }[path]
        if method != "GET"
        else None
    )
    organisations, users = count(db, Organisation), count(db, User)
    school_name, target_name = school.name, target.name

    response = client.request(method, url, headers=api_headers(db, actor, settings), json=body)

    assert response.status_code == 403, response.text
    assert target.email not in response.text
    db.expire_all()
    assert (count(db, Organisation), count(db, User)) == (organisations, users)
    assert db.get(Organisation, school.id).name == school_name
    assert db.get(User, target.id).name == target_name


@pytest.mark.parametrize(("method", "path"), STAFF_ENDPOINTS)
def test_staff_endpoints_need_a_token(client, db, method, path):
    url = path.format(organisation_id=1, user_id=1)

    response = client.request(method, url, json={} if method != "GET" else None)

    assert response.status_code == 401


# --- organisations ---------------------------------------------------------------------------


def test_create_organisation_with_the_minimal_body(client, db, admin_headers):
    response = client.post(
        "/api/v1/organisations",
        headers=admin_headers,
        json={"name": "Tech A/S", "kind": "provider", "municipality": "Herning"},
    )

    assert response.status_code == 201, response.text
    body = response.json()
    assert body["name"] == "Tech A/S"
    assert body["kind"] == "provider"
    assert body["municipality"] == "Herning"
    stored = db.get(Organisation, body["id"])
    assert stored is not None
    assert (stored.name, stored.kind, stored.municipality) == ("Tech A/S", "provider", "Herning")


def test_a_school_gets_a_default_level(client, db, admin_headers):
    response = client.post(
        "/api/v1/organisations",
        headers=admin_headers,
        json={"name": "  Åby Skole  ", "kind": "school", "municipality": "Aarhus"},
    )

    assert response.status_code == 201, response.text
    body = response.json()
    assert body["name"] == "Åby Skole"
    assert body["school_level"] == "primary"
    assert body["provider_kind"] is None


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"municipality": "København"}, "municipality"),
        ({"municipality": "aarhus"}, "municipality"),
        ({"name": ""}, "name"),
        ({"name": "   "}, "name"),
        ({"name": "x" * 201}, "name"),
        ({"kind": "company"}, "kind"),
        ({"kind": None}, "kind"),
        ({"surprise": 1}, "surprise"),
    ],
)
def test_create_organisation_refuses_bad_input_naming_the_field(
    client, db, admin_headers, changes, field
):
    body = {"name": "Ny skole", "kind": "school", "municipality": "Aarhus", **changes}
    before = count(db, Organisation)

    response = client.post("/api/v1/organisations", headers=admin_headers, json=body)

    assert response.status_code == 422, response.text
    assert field in error_fields(response)
    assert count(db, Organisation) == before


def test_create_organisation_without_a_body_is_422(client, db, admin_headers):
    before = count(db, Organisation)

    response = client.post("/api/v1/organisations", headers=admin_headers)

    assert response.status_code == 422
    assert count(db, Organisation) == before


def test_regional_coordinator_creates_in_any_municipality(client, db, settings):
    coordinator = make_user(db, "coordinator")

    response = client.post(
        "/api/v1/organisations",
        headers=api_headers(db, coordinator, settings),
        json={"name": "Skive Skole", "kind": "school", "municipality": "Skive"},
    )

    assert response.status_code == 201, response.text


def test_municipal_coordinator_cannot_create_in_another_municipality(client, db, settings):
    coordinator = make_user(db, "coordinator", municipality="Aarhus")
    headers = api_headers(db, coordinator, settings)
    before = count(db, Organisation)

    refused = client.post(
        "/api/v1/organisations",
        headers=headers,
        json={"name": "Herning Skole", "kind": "school", "municipality": "Herning"},
    )

    assert refused.status_code == 422
    assert error_fields(refused) == ["municipality"]
    assert count(db, Organisation) == before

    allowed = client.post(
        "/api/v1/organisations",
        headers=headers,
        json={"name": "Aarhus Skole", "kind": "school", "municipality": "Aarhus"},
    )
    assert allowed.status_code == 201
    assert count(db, Organisation) == before + 1


def test_municipal_coordinator_sees_only_their_municipality(client, db, settings):
    own = [make_school(db, municipality="Aarhus"), make_provider(db, municipality="Aarhus")]
    foreign = make_school(db, municipality="Herning")
    coordinator = make_user(db, "coordinator", municipality="Aarhus")
    headers = api_headers(db, coordinator, settings)

    listed = client.get("/api/v1/organisations", headers=headers)
    assert listed.status_code == 200
    body = listed.json()
    assert body["total"] == 2
    assert sorted(item["id"] for item in body["items"]) == sorted(o.id for o in own)

    # Asking for the other municipality by filter shows nothing either.
    filtered = client.get(
        "/api/v1/organisations", headers=headers, params={"municipality": "Herning"}
    )
    assert filtered.json() == {"items": [], "total": 0}

    assert client.get(f"/api/v1/organisations/{own[0].id}", headers=headers).status_code == 200
    hidden = client.get(f"/api/v1/organisations/{foreign.id}", headers=headers)
    assert hidden.status_code == 404
    assert foreign.name not in hidden.text


def test_admin_lists_every_organisation_and_can_filter(client, db, admin_headers):
    make_school(db, municipality="Aarhus", name="Alfa Skole")
    make_provider(db, municipality="Herning", name="Beta A/S")
    make_school(db, municipality="Skive", name="Gamma Skole")

    everything = client.get("/api/v1/organisations", headers=admin_headers).json()
    assert everything["total"] == 3
    assert [o["name"] for o in everything["items"]] == ["Alfa Skole", "Beta A/S", "Gamma Skole"]

    schools = client.get(
        "/api/v1/organisations", headers=admin_headers, params={"kind": "school"}
    ).json()
    assert {o["name"] for o in schools["items"]} == {"Alfa Skole", "Gamma Skole"}
    searched = client.get(
        "/api/v1/organisations", headers=admin_headers, params={"q": "beta"}
    ).json()
    assert [o["name"] for o in searched["items"]] == ["Beta A/S"]
    assert searched["total"] == 1


def test_organisation_list_honours_limit_and_offset(client, db, admin_headers):
    for letter in "ABCDE":
        make_school(db, name=f"Skole {letter}")

    def page(**params):
        response = client.get("/api/v1/organisations", headers=admin_headers, params=params)
        assert response.status_code == 200, response.text
        body = response.json()
        return [o["name"] for o in body["items"]], body["total"]

    assert page(limit=2) == (["Skole A", "Skole B"], 5)
    assert page(limit=2, offset=2) == (["Skole C", "Skole D"], 5)
    assert page(limit=2, offset=4) == (["Skole E"], 5)
    assert page(limit=2, offset=10) == ([], 5)


@pytest.mark.parametrize(
    ("params", "field"),
    [({"limit": 0}, "limit"), ({"limit": 501}, "limit"), ({"offset": -1}, "offset")],
)
@pytest.mark.parametrize("path", ["/api/v1/organisations", "/api/v1/users"])
def test_lists_refuse_bad_paging(client, admin_headers, path, params, field):
    response = client.get(path, headers=admin_headers, params=params)

    assert response.status_code == 422
    assert error_fields(response) == [field]


def test_get_unknown_organisation_is_404(client, db, admin_headers):
    school = make_school(db)

    assert (
        client.get(f"/api/v1/organisations/{school.id + 1000}", headers=admin_headers).status_code
        == 404
    )


def test_update_organisation(client, db, admin_headers):
    school = make_school(db, municipality="Aarhus")

    response = client.put(
        f"/api/v1/organisations/{school.id}",
        headers=admin_headers,
        json={
            "name": "Renamed Skole",
            "kind": "school",
            "municipality": "Odder",
            "school_level": "upper_secondary",
            "address": "Skolevej 1",
        },
    )

    assert response.status_code == 200, response.text
    assert response.json()["name"] == "Renamed Skole"
    db.expire_all()
    stored = db.get(Organisation, school.id)
    assert (stored.name, stored.municipality, stored.school_level, stored.address) == (
        "Renamed Skole",
        "Odder",
        "upper_secondary",
        "Skolevej 1",
    )
    assert client.get(f"/api/v1/organisations/{school.id}", headers=admin_headers).json()[
        "name"
    ] == ("Renamed Skole")


def test_update_organisation_refuses_bad_input(client, db, admin_headers):
    school = make_school(db, name="Uændret Skole")

    response = client.put(
        f"/api/v1/organisations/{school.id}",
        headers=admin_headers,
        json={"name": "", "kind": "school", "municipality": "Aarhus"},
    )

    assert response.status_code == 422
    assert error_fields(response) == ["name"]
    db.expire_all()
    assert db.get(Organisation, school.id).name == "Uændret Skole"


def test_an_organisation_with_users_cannot_change_kind(client, db, admin_headers):
    school = make_school(db, name="Skole med lærer")
    make_user(db, "teacher", organisation=school)

    response = client.put(
        f"/api/v1/organisations/{school.id}",
        headers=admin_headers,
        json={"name": "Nu en virksomhed", "kind": "provider", "municipality": "Aarhus"},
    )

    assert response.status_code == 422
    assert error_fields(response) == ["kind"]
    db.expire_all()
    stored = db.get(Organisation, school.id)
    assert (stored.kind, stored.name) == ("school", "Skole med lærer")


def test_municipal_coordinator_cannot_update_foreign_or_move_own(client, db, settings):
    own = make_school(db, municipality="Aarhus", name="Egen Skole")
    foreign = make_school(db, municipality="Herning", name="Fremmed Skole")
    coordinator = make_user(db, "coordinator", municipality="Aarhus")
    headers = api_headers(db, coordinator, settings)

    hidden = client.put(
        f"/api/v1/organisations/{foreign.id}",
        headers=headers,
        json={"name": "Overtaget", "kind": "school", "municipality": "Aarhus"},
    )
    moved = client.put(
        f"/api/v1/organisations/{own.id}",
        headers=headers,
        json={"name": "Egen Skole", "kind": "school", "municipality": "Herning"},
    )

    assert hidden.status_code == 404
    assert moved.status_code == 422
    assert error_fields(moved) == ["municipality"]
    db.expire_all()
    assert (
        db.get(Organisation, foreign.id).name,
        db.get(Organisation, foreign.id).municipality,
    ) == ("Fremmed Skole", "Herning")
    assert db.get(Organisation, own.id).municipality == "Aarhus"


# --- users -----------------------------------------------------------------------------------


def test_create_user_with_a_password_who_can_then_log_in(client, db, admin_headers, mailbox):
    school = make_school(db)

    response = client.post(
        "/api/v1/users",
        headers=admin_headers,
        json={
            "email": "New.Teacher@Example.DK",
            "name": "Ny Lærer",
            "role": "teacher",
            "organisation_id": school.id,
            "password": NEW_PASSWORD,
        },
    )

    assert response.status_code == 201, response.text
    body = response.json()
    assert body["email"] == "new.teacher@example.dk"
    assert (body["name"], body["role"], body["organisation_id"]) == (
        "Ny Lærer",
        "teacher",
        school.id,
    )
    assert not any("password" in key for key in body)
    assert db.get(User, body["id"]).email == "new.teacher@example.dk"
    assert mailbox.to("new.teacher@example.dk") == []  # no invitation when a password was given

    token = get_token(client, "new.teacher@example.dk", NEW_PASSWORD)
    assert token.status_code == 200, token.text
    me = client.get("/api/v1/me", headers=bearer(token.json()["access_token"]))
    assert me.json()["id"] == body["id"]


def test_create_user_without_a_password_sends_an_invitation(
    client, db, admin_headers, mailbox, settings
):
    provider = make_provider(db)

    response = client.post(
        "/api/v1/users",
        headers=admin_headers,
        json={
            "email": "invited@example.dk",
            "name": "Inviteret",
            "role": "provider",
            "organisation_id": provider.id,
        },
    )

    assert response.status_code == 201, response.text
    user_id = response.json()["id"]
    assert db.get(User, user_id).password_hash is None
    assert count(db, AccountToken, AccountToken.user_id == user_id) == 1
    messages = mailbox.to("invited@example.dk")
    assert len(messages) == 1
    text = messages[0].get_content()
    match = re.search(re.escape(settings.base_url) + r"(/invitation/([A-Za-z0-9_\-]+))", text)
    assert match, text
    link, token = match.group(1), match.group(2)

    # Cannot log in before choosing a password.
    assert get_token(client, "invited@example.dk", NEW_PASSWORD).status_code == 401
    # The link in the e-mail works: the invitee chooses a password on it, and then gets a token.
    assert client.get(link).status_code == 200
    chosen = post_form(client, link, {"password": NEW_PASSWORD, "password_repeat": NEW_PASSWORD})
    assert chosen.status_code == 303, chosen.text
    assert get_token(client, "invited@example.dk", NEW_PASSWORD).status_code == 200
    # The link works once.
    with pytest.raises(NotFound):
        accounts.set_password_with_token(db, token, "yet another password", now=utcnow())


@pytest.fixture
def world(db):
    """Organisations and a user to refer to in user bodies."""
    return {
        "school": make_school(db, municipality="Aarhus"),
        "provider": make_provider(db, municipality="Aarhus"),
        "taken": make_user(db, "teacher", email="taken@example.dk"),
    }


REFUSED_USERS = [
    pytest.param("admin", {"email": "not-an-email"}, "email", id="bad-email"),
    pytest.param("admin", {"email": ""}, "email", id="empty-email"),
    pytest.param("admin", {"password": "short"}, "password", id="short-password"),
    pytest.param("admin", {"name": "  "}, "name", id="blank-name"),
    pytest.param("admin", {"role": "superuser"}, "role", id="bad-role"),
    pytest.param(
        "admin", {"organisation_id": None}, "organisation_id", id="teacher-without-organisation"
    ),
    pytest.param(
        "admin", {"organisation_id": "provider"}, "organisation_id", id="teacher-at-a-provider"
    ),
    pytest.param(
        "admin",
        {"role": "provider", "organisation_id": "school"},
        "organisation_id",
        id="provider-at-a-school",
    ),
    pytest.param("admin", {"organisation_id": 10**9}, "organisation_id", id="unknown-organisation"),
    pytest.param(
        "admin",
        {"role": "coordinator", "organisation_id": "school"},
        "organisation_id",
        id="coordinator-with-organisation",
    ),
    pytest.param(
        "admin", {"municipality": "Aarhus"}, "municipality", id="teacher-with-municipality"
    ),
    pytest.param(
        "admin",
        {"role": "coordinator", "organisation_id": None, "municipality": "Roskilde"},
        "municipality",
        id="coordinator-unknown-municipality",
    ),
    pytest.param(
        "coordinator",
        {"role": "admin", "organisation_id": None},
        "role",
        id="coordinator-creates-admin",
    ),
    pytest.param("admin", {"email": "taken@example.dk"}, "email", id="duplicate-email"),
    pytest.param("admin", {"email": "TAKEN@Example.dk"}, "email", id="duplicate-email-other-case"),
]


@pytest.mark.parametrize(("actor_role", "changes", "field"), REFUSED_USERS)
def test_create_user_refuses_bad_input_and_saves_nothing(
    client, db, settings, mailbox, world, actor_role, changes, field
):
    actor = make_user(db, actor_role)
    body = {
        "email": "someone.new@example.dk",
        "name": "Ny",
        "role": "teacher",
        "organisation_id": world["school"].id,
        **changes,
    }
    if body["organisation_id"] in ("school", "provider"):
        body["organisation_id"] = world[body["organisation_id"]].id
    users, tokens = count(db, User), count(db, AccountToken)

    # No password (unless the case is about the password): a wrongly accepted user would be invited.
    response = client.post("/api/v1/users", headers=api_headers(db, actor, settings), json=body)

    assert response.status_code == 422, response.text
    assert field in error_fields(response)
    assert (count(db, User), count(db, AccountToken)) == (users, tokens)
    assert mailbox.messages == []


def test_admin_may_create_an_admin(client, db, admin_headers):
    response = client.post(
        "/api/v1/users",
        headers=admin_headers,
        json={
            "email": "admin2@example.dk",
            "name": "Admin To",
            "role": "admin",
            "password": NEW_PASSWORD,
        },
    )

    assert response.status_code == 201, response.text
    assert db.get(User, response.json()["id"]).role == "admin"


def test_municipal_coordinator_creates_users_only_in_their_municipality(
    client, db, settings, mailbox
):
    own_school = make_school(db, municipality="Aarhus")
    foreign_school = make_school(db, municipality="Herning")
    coordinator = make_user(db, "coordinator", municipality="Aarhus")
    headers = api_headers(db, coordinator, settings)
    before = count(db, User)

    foreign_teacher = client.post(
        "/api/v1/users",
        headers=headers,
        json={
            "email": "t1@example.dk",
            "name": "T",
            "role": "teacher",
            "organisation_id": foreign_school.id,
        },
    )
    foreign_coordinator = client.post(
        "/api/v1/users",
        headers=headers,
        json={
            "email": "c1@example.dk",
            "name": "C",
            "role": "coordinator",
            "municipality": "Herning",
        },
    )
    regional_coordinator = client.post(
        "/api/v1/users",
        headers=headers,
        json={"email": "c2@example.dk", "name": "C", "role": "coordinator"},
    )

    assert foreign_teacher.status_code == 422
    assert error_fields(foreign_teacher) == ["organisation_id"]
    assert foreign_coordinator.status_code == 422
    assert error_fields(foreign_coordinator) == ["municipality"]
    assert regional_coordinator.status_code == 422
    assert error_fields(regional_coordinator) == ["municipality"]
    assert count(db, User) == before
    assert mailbox.messages == []

    own = client.post(
        "/api/v1/users",
        headers=headers,
        json={
            "email": "t2@example.dk",
            "name": "T",
            "role": "teacher",
            "organisation_id": own_school.id,
            "password": NEW_PASSWORD,
        },
    )
    assert own.status_code == 201, own.text
    assert client.get(f"/api/v1/users/{own.json()['id']}", headers=headers).status_code == 200


def test_get_user(client, db, admin_headers):
    school = make_school(db)
    teacher = make_user(db, "teacher", organisation=school)

    response = client.get(f"/api/v1/users/{teacher.id}", headers=admin_headers)

    assert response.status_code == 200
    body = response.json()
    assert (body["id"], body["email"], body["role"], body["organisation_id"]) == (
        teacher.id,
        teacher.email,
        "teacher",
        school.id,
    )
    assert not any("password" in key for key in body)
    assert (
        client.get(f"/api/v1/users/{teacher.id + 1000}", headers=admin_headers).status_code == 404
    )


def test_municipal_coordinator_sees_only_their_users(client, db, settings):
    aarhus_teacher = make_user(db, "teacher", organisation=make_school(db, municipality="Aarhus"))
    aarhus_provider = make_user(
        db, "provider", organisation=make_provider(db, municipality="Aarhus")
    )
    herning_teacher = make_user(db, "teacher", organisation=make_school(db, municipality="Herning"))
    admin = make_user(db, "admin")
    regional = make_user(db, "coordinator")
    herning_coordinator = make_user(db, "coordinator", municipality="Herning")
    coordinator = make_user(db, "coordinator", municipality="Aarhus")
    headers = api_headers(db, coordinator, settings)

    listed = client.get("/api/v1/users", headers=headers)

    assert listed.status_code == 200
    body = listed.json()
    assert sorted(u["id"] for u in body["items"]) == sorted(
        [aarhus_teacher.id, aarhus_provider.id, coordinator.id]
    )
    assert body["total"] == 3
    for hidden in (herning_teacher, admin, regional, herning_coordinator):
        assert hidden.email not in listed.text
        assert client.get(f"/api/v1/users/{hidden.id}", headers=headers).status_code == 404
    assert client.get(f"/api/v1/users/{aarhus_teacher.id}", headers=headers).status_code == 200


def test_coordinators_do_not_see_admins(client, db, settings):
    admin = make_user(db, "admin")
    teacher = make_user(db, "teacher")
    coordinator = make_user(db, "coordinator")
    headers = api_headers(db, coordinator, settings)

    listed = client.get("/api/v1/users", headers=headers).json()

    assert {u["id"] for u in listed["items"]} == {teacher.id, coordinator.id}
    assert client.get(f"/api/v1/users/{admin.id}", headers=headers).status_code == 404


def test_user_list_honours_limit_offset_and_filters(client, db, admin, admin_headers):
    school = make_school(db)
    teachers = [make_user(db, "teacher", organisation=school) for _ in range(4)]
    make_user(db, "provider")
    everyone = client.get("/api/v1/users", headers=admin_headers, params={"limit": 500}).json()
    assert everyone["total"] == 6  # the admin, four teachers, one provider
    all_ids = [u["id"] for u in everyone["items"]]
    assert len(all_ids) == 6

    pages = [
        client.get(
            "/api/v1/users", headers=admin_headers, params={"limit": 4, "offset": offset}
        ).json()
        for offset in (0, 4)
    ]

    assert [len(p["items"]) for p in pages] == [4, 2]
    assert all(p["total"] == 6 for p in pages)
    assert [u["id"] for p in pages for u in p["items"]] == all_ids
    by_role = client.get("/api/v1/users", headers=admin_headers, params={"role": "teacher"}).json()
    assert sorted(u["id"] for u in by_role["items"]) == sorted(t.id for t in teachers)
    assert by_role["total"] == 4
    by_organisation = client.get(
        "/api/v1/users", headers=admin_headers, params={"organisation_id": school.id}
    ).json()
    assert by_organisation["total"] == 4
    assert (
        client.get("/api/v1/users", headers=admin_headers, params={"role": "pope"}).status_code
        == 422
    )


def test_update_user(client, db, admin_headers):
    school = make_school(db)
    other_school = make_school(db)
    teacher = make_user(db, "teacher", organisation=school)

    response = client.put(
        f"/api/v1/users/{teacher.id}",
        headers=admin_headers,
        json=user_body(
            teacher,
            name="Nyt Navn",
            email="New.Address@Example.dk",
            organisation_id=other_school.id,
            phone="12345678",
        ),
    )

    assert response.status_code == 200, response.text
    assert response.json()["email"] == "new.address@example.dk"
    db.expire_all()
    stored = db.get(User, teacher.id)
    assert (stored.name, stored.email, stored.organisation_id, stored.phone) == (
        "Nyt Navn",
        "new.address@example.dk",
        other_school.id,
        "12345678",
    )


def test_update_user_refuses_someone_elses_e_mail(client, db, admin_headers):
    first = make_user(db, "teacher", email="first@example.dk")
    make_user(db, "teacher", email="second@example.dk")

    response = client.put(
        f"/api/v1/users/{first.id}",
        headers=admin_headers,
        json=user_body(first, email="SECOND@example.dk"),
    )

    assert response.status_code == 422
    assert error_fields(response) == ["email"]
    db.expire_all()
    assert db.get(User, first.id).email == "first@example.dk"


def test_update_user_keeps_own_e_mail_in_any_case(client, db, admin_headers):
    teacher = make_user(db, "teacher", email="same@example.dk")

    response = client.put(
        f"/api/v1/users/{teacher.id}",
        headers=admin_headers,
        json=user_body(teacher, email="Same@Example.dk"),
    )

    assert response.status_code == 200, response.text


def test_deactivating_a_user_ends_their_api_access(client, db, settings, admin_headers):
    teacher = make_user(db, "teacher")
    their_headers = api_headers(db, teacher, settings)

    response = client.put(
        f"/api/v1/users/{teacher.id}",
        headers=admin_headers,
        json=user_body(teacher, is_active=False),
    )

    assert response.status_code == 200, response.text
    assert response.json()["is_active"] is False
    assert client.get("/api/v1/me", headers=their_headers).status_code == 401
    assert count(db, AuthSession, AuthSession.user_id == teacher.id) == 0
    assert get_token(client, teacher.email, PASSWORD).status_code == 401


@pytest.mark.parametrize("role", ["admin", "coordinator"])
def test_nobody_deactivates_themselves(client, db, settings, role):
    actor = make_user(db, role)
    headers = api_headers(db, actor, settings)

    response = client.put(
        f"/api/v1/users/{actor.id}", headers=headers, json=user_body(actor, is_active=False)
    )

    assert response.status_code == 422
    db.expire_all()
    assert db.get(User, actor.id).is_active is True
    assert client.get("/api/v1/me", headers=headers).status_code == 200


def test_coordinator_cannot_promote_to_admin(client, db, settings):
    teacher = make_user(db, "teacher")
    coordinator = make_user(db, "coordinator")

    response = client.put(
        f"/api/v1/users/{teacher.id}",
        headers=api_headers(db, coordinator, settings),
        json=user_body(teacher, role="admin", organisation_id=None),
    )

    assert response.status_code == 422
    assert error_fields(response) == ["role"]
    db.expire_all()
    assert db.get(User, teacher.id).role == "teacher"


def test_municipal_coordinator_cannot_update_a_foreign_user(client, db, settings):
    herning_teacher = make_user(db, "teacher", organisation=make_school(db, municipality="Herning"))
    name = herning_teacher.name
    coordinator = make_user(db, "coordinator", municipality="Aarhus")

    response = client.put(
        f"/api/v1/users/{herning_teacher.id}",
        headers=api_headers(db, coordinator, settings),
        json=user_body(herning_teacher, name="Overtaget"),
    )

    assert response.status_code == 404
    db.expire_all()
    assert db.get(User, herning_teacher.id).name == name


# --- health and OpenAPI ----------------------------------------------------------------------


def test_healthz(client):
    response = client.get("/healthz")

    assert response.status_code == 200
    assert response.json() == {"status": "ok"}


def test_healthz_is_503_without_a_database(settings, tmp_path):
    unreachable = settings.model_copy(
        update={"database_url": f"sqlite:///{tmp_path / 'no such folder' / 'x.db'}"}
    )
    with TestClient(create_app(unreachable), raise_server_exceptions=False) as test_client:
        response = test_client.get("/healthz")

    assert response.status_code == 503


def test_openapi_lists_the_contract(client):
    response = client.get("/openapi.json")

    assert response.status_code == 200
    paths = response.json()["paths"]
    expected = {
        "/api/v1/auth/token": {"post"},
        "/api/v1/me": {"get"},
        "/api/v1/organisations": {"get", "post"},
        "/api/v1/organisations/{organisation_id}": {"get", "put"},
        "/api/v1/users": {"get", "post"},
        "/api/v1/users/{user_id}": {"get", "put"},
        "/healthz": {"get"},
    }
    for path, methods in expected.items():
        assert path in paths, path
        assert methods <= set(paths[path]), (path, set(paths[path]))
    # The pages are not part of the API description.
    assert "/login" not in paths


# --- bad input never gives a 500 -------------------------------------------------------------


HUGE = 2**63  # larger than any database integer


@pytest.mark.parametrize(
    ("method", "path", "make_body"),
    [
        ("GET", f"/api/v1/organisations/{HUGE}", None),
        (
            "PUT",
            f"/api/v1/organisations/{HUGE}",
            lambda w: {"name": "X", "kind": "school", "municipality": "Aarhus"},
        ),
        ("GET", f"/api/v1/users/{HUGE}", None),
        ("PUT", f"/api/v1/users/{HUGE}", lambda w: user_body(w["taken"], email="x@example.dk")),
        (
            "POST",
            "/api/v1/users",
            lambda w: {
                "email": "x@example.dk",
                "name": "X",
                "role": "teacher",
                "organisation_id": HUGE,
            },
        ),
        ("GET", f"/api/v1/users?offset={HUGE}", None),
        ("GET", f"/api/v1/organisations?offset={HUGE}", None),
    ],
    ids=[
        "get-organisation",
        "put-organisation",
        "get-user",
        "put-user",
        "user-organisation_id",
        "users-offset",
        "organisations-offset",
    ],
)
def test_out_of_range_integers_are_refused_not_500(
    quiet_client, db, admin_headers, world, method, path, make_body
):
    users = count(db, User)

    response = quiet_client.request(
        method, path, headers=admin_headers, json=make_body(world) if make_body else None
    )

    assert response.status_code in (200, 404, 422), response.text
    if response.status_code == 200:
        assert response.json()["items"] == []
    db.rollback()
    assert count(db, User) == users


@pytest.mark.parametrize("path", ["/api/v1/organisations/2147483648", "/api/v1/users/2147483648"])
def test_ids_just_beyond_32_bits_are_refused(quiet_client, admin_headers, path):
    response = quiet_client.get(path, headers=admin_headers)
    assert response.status_code == 422
    assert response.json()["detail"][0]["loc"][0] == "path"


@pytest.mark.parametrize(
    ("method", "path", "kwargs", "allowed"),
    [
        (
            "POST",
            "/api/v1/organisations",
            {"json": {"name": "Nul\u0000Skole", "kind": "school", "municipality": "Aarhus"}},
            {201, 422},
        ),
        (
            "POST",
            "/api/v1/users",
            {
                "json": {
                    "email": "nul@example.dk",
                    "name": "Nul\u0000",
                    "role": "coordinator",
                    "password": NEW_PASSWORD,
                }
            },
            {201, 422},
        ),
        (
            "POST",
            TOKEN_URL,
            {"data": {"username": "nul\u0000@example.dk", "password": "x"}},
            {401, 422},
        ),
        ("GET", "/api/v1/users", {"params": {"q": "a\u0000b"}}, {200, 400, 422}),
        ("GET", "/api/v1/organisations", {"params": {"q": "a\u0000b"}}, {200, 400, 422}),
    ],
    ids=["organisation-name", "user-name", "token-username", "users-q", "organisations-q"],
)
def test_nul_characters_are_not_a_server_error(
    quiet_client, admin_headers, method, path, kwargs, allowed
):
    response = quiet_client.request(method, path, headers=admin_headers, **kwargs)

    assert response.status_code in allowed, response.text


def test_an_unreachable_mail_server_leaves_no_half_created_user(app, db, settings, admin_headers):
    app.state.settings = settings.model_copy(update={"smtp_port": free_port()})  # nobody listens
    users = count(db, User)

    with TestClient(
        app, base_url="http://testserver", raise_server_exceptions=False
    ) as test_client:
        response = test_client.post(
            "/api/v1/users",
            headers=admin_headers,
            json={"email": "unlucky@example.dk", "name": "Uheldig", "role": "coordinator"},
        )

    if response.status_code != 201:
        # Refused: then nothing may be left behind.
        assert count(db, User) == users, response.status_code
    assert response.status_code != 500
