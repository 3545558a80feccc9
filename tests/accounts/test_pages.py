"""The accounts pages as a browser without JavaScript uses them: forms, redirects, e-mails."""

import re

import pytest
from sqlmodel import func, select

from app.accounts import secrets
from app.accounts import service as accounts_service
from app.accounts.models import AuthSession, Organisation, PasswordResetRequest, TokenPurpose, User
from app.db import utcnow
from app.deps import SESSION_COOKIE
from tests.factories import PASSWORD, log_in, make_school, make_user, post_form


def link_in(message, path: str) -> str:
    body = message.get_content()
    match = re.search(rf"http://testserver({path}/[\w-]+)", body)
    assert match, body
    return match.group(1)


def test_log_in_and_out(client, db):
    user = make_user(db, "teacher")
    response = post_form(
        client, "/login", {"email": user.email.upper(), "password": PASSWORD, "next": "/profile"}
    )
    assert response.status_code == 303 and response.headers["location"] == "/profile"
    assert user.name in client.get("/profile").text

    response = post_form(client, "/logout")
    assert response.status_code == 303
    assert client.get("/profile").status_code == 303


def test_log_in_gives_a_new_session_id(client, db):
    user = make_user(db, "teacher")
    client.cookies.set(SESSION_COOKIE, "planted-by-an-attacker", domain="testserver.local")
    post_form(client, "/login", {"email": user.email, "password": PASSWORD})
    assert client.cookies[SESSION_COOKIE] != "planted-by-an-attacker"


def test_wrong_password_is_explained_in_danish_next_to_the_field(client, db):
    user = make_user(db, "teacher")
    response = post_form(client, "/login", {"email": user.email, "password": "wrong password"})
    assert response.status_code == 422
    assert "Forkert" in response.text
    assert 'aria-invalid="true"' in response.text and 'id="password-error"' in response.text
    assert SESSION_COOKIE not in client.cookies


def test_empty_login_form_names_both_fields(client):
    response = post_form(client, "/login", {})
    assert response.status_code == 422
    assert 'id="email-error"' in response.text and 'id="password-error"' in response.text


def test_login_is_rate_limited(client, db, settings):
    user = make_user(db, "teacher")
    for _ in range(settings.login_max_failures):
        assert (
            post_form(client, "/login", {"email": user.email, "password": "nope nope"}).status_code
            == 422
        )
    blocked = post_form(client, "/login", {"email": user.email, "password": PASSWORD})
    assert blocked.status_code == 429
    assert SESSION_COOKIE not in client.cookies


def test_login_only_redirects_within_the_site(client, db):
    user = make_user(db, "teacher")
    response = post_form(
        client,
        "/login",
        {"email": user.email, "password": PASSWORD, "next": "https://evil.example/"},
    )
    assert response.headers["location"] == "/"


@pytest.mark.parametrize("next_page", ["/\t/evil.example/", "/a\nb", "/a\r\nSet-Cookie: x=1", "/\u3002/x", "/a b"])
def test_a_next_address_with_control_or_non_ascii_characters_goes_home(client, db, settings, next_page):
    """htmx asks for the next page in HX-Location, which takes the address as it is: a 500, a
    dropped connection or a TAB a browser drops (to land on //evil.example/) before."""
    user = make_user(db, "teacher")
    answer = post_form(
        client, "/login", {"email": user.email, "password": PASSWORD, "next": next_page}, headers={"HX-Request": "true"}
    )
    assert (answer.status_code, answer.headers["hx-redirect"]) == (200, "/")
    # Already logged in, the log-in page sends them on at once.
    again = client.get("/login", params={"next": next_page}, headers={"HX-Request": "true"})
    assert again.status_code == 200 and again.headers.get("hx-location") in (None, "/")


def test_login_page_sends_htmx_on_with_a_whole_new_page(client, db):
    """HX-Redirect, not HX-Location: the CSRF token htmx sends from <body> is new at log-in, and a
    boosted swap would keep the old <body>."""
    user = make_user(db, "teacher")
    response = post_form(
        client,
        "/login",
        {"email": user.email, "password": PASSWORD},
        headers={"HX-Request": "true"},
    )
    assert response.status_code == 200 and response.headers["hx-redirect"] == "/"


def test_profile_update_and_validation(client, db, settings):
    user = make_user(db, "provider")
    log_in(client, db, user, settings)
    assert post_form(client, "/profile", {"name": "", "phone": "1" * 40}).status_code == 422
    db.refresh(user)
    assert user.name != ""
    response = post_form(client, "/profile", {"name": "Ny Navnesen", "phone": "12345678"})
    assert response.headers["location"] == "/profile?notice=saved"
    db.refresh(user)
    assert (user.name, user.phone) == ("Ny Navnesen", "12345678")


def test_change_password_logs_out_other_sessions(client, db, settings):
    user = make_user(db, "teacher")
    log_in(client, db, user, settings)
    other_device = client.cookies[SESSION_COOKIE]
    bad = post_form(
        client,
        "/profile/password",
        {"current_password": "not it", "new_password": "a new password 1"},
    )
    assert bad.status_code == 422 and 'id="current_password-error"' in bad.text
    ok = post_form(
        client,
        "/profile/password",
        {"current_password": PASSWORD, "new_password": "a new password 1"},
    )
    assert ok.status_code == 303
    assert client.cookies[SESSION_COOKIE] != other_device
    remaining = db.exec(
        select(func.count()).select_from(AuthSession).where(AuthSession.user_id == user.id)
    ).one()
    assert remaining == 1


def test_password_reset_by_e_mail_link(client, db, mailbox, send_outbox):
    user = make_user(db, "teacher")
    response = post_form(client, "/password-reset", {"email": user.email})
    assert response.status_code == 200
    send_outbox()  # the worker sends it
    (message,) = mailbox.to(user.email)
    link = link_in(message, "/password-reset")

    assert client.get(link).status_code == 200
    mismatch = post_form(
        client, link, {"password": "brand new secret", "password_repeat": "different one!"}
    )
    assert mismatch.status_code == 422
    done = post_form(
        client, link, {"password": "brand new secret", "password_repeat": "brand new secret"}
    )
    assert done.headers["location"] == "/login?notice=password_set"
    assert (
        post_form(
            client, "/login", {"email": user.email, "password": "brand new secret"}
        ).status_code
        == 303
    )
    # The link works only once.
    assert client.get(link).status_code == 404


def test_an_easy_password_from_a_reset_link_shows_the_form_again(client, db, settings):
    user = make_user(db, "teacher")
    token = accounts_service.issue_account_token(
        db, user, purpose=TokenPurpose.password_reset, now=utcnow(), settings=settings
    )
    weak = post_form(client, f"/password-reset/{token}", {"password": "1234567890", "password_repeat": "1234567890"})
    assert weak.status_code == 422 and 'id="password-error"' in weak.text and "sværere at gætte" in weak.text
    good = post_form(client, f"/password-reset/{token}", {"password": "grøn cykel ved åen", "password_repeat": "grøn cykel ved åen"})
    assert good.headers["location"] == "/login?notice=password_set"


def test_password_reset_does_not_tell_whether_an_address_exists(client, db, mailbox, send_outbox):
    """The same answer and the same work (a request counted, the e-mail left to the worker), so
    neither the page nor its timing tells who has an account (security probe D3)."""
    user = make_user(db, "teacher")
    unknown = post_form(client, "/password-reset", {"email": "nobody@example.dk"})
    known = post_form(client, "/password-reset", {"email": user.email})
    assert unknown.status_code == known.status_code == 200
    assert unknown.text.replace("nobody@example.dk", user.email) == known.text
    requests = db.exec(select(PasswordResetRequest.email).order_by(PasswordResetRequest.id)).all()
    assert requests == ["nobody@example.dk", user.email]
    assert mailbox.messages == []  # neither is sent while the visitor waits
    send_outbox()
    assert [m["To"] for m in mailbox.messages] == [user.email]


def test_password_resets_are_limited_per_address_and_per_client(client, db, settings, mailbox, send_outbox):
    """No mail-bombing, and nobody keeps a user from finishing a reset by voiding their link over
    and over (security probe D4)."""
    user = make_user(db, "teacher")
    for _ in range(accounts_service.RESETS_PER_ADDRESS + 2):
        assert post_form(client, "/password-reset", {"email": user.email}).status_code == 200
    send_outbox()
    assert len(mailbox.to(user.email)) == accounts_service.RESETS_PER_ADDRESS
    for number in range(accounts_service.RESETS_PER_CLIENT - accounts_service.RESETS_PER_ADDRESS - 2):
        post_form(client, "/password-reset", {"email": f"someone{number}@example.dk"})
    refused = post_form(client, "/password-reset", {"email": "one-more@example.dk"})
    assert refused.status_code == 429 and "Vent en time" in refused.text
    # Another client is not held up by this one.
    accounts_service.request_password_reset(db, email="x@example.dk", client="198.51.100.9", now=utcnow(), settings=settings)


def test_coordinator_invites_a_teacher_who_sets_a_password(client, db, settings, mailbox):
    coordinator = make_user(db, "coordinator")
    school = make_school(db)
    log_in(client, db, coordinator, settings)
    response = post_form(
        client,
        "/admin/users/new",
        {
            "email": "Ny.Laerer@Skole.dk",
            "name": "Ny Lærer",
            "role": "teacher",
            "organisation": school.name,  # typed or chosen in the picker
        },
    )
    assert response.status_code == 303
    invited = db.exec(select(User).where(User.email == "ny.laerer@skole.dk")).one()
    assert invited.password_hash is None and invited.organisation_id == school.id

    (message,) = mailbox.to("ny.laerer@skole.dk")
    assert "STEM" in message["Subject"]
    link = link_in(message, "/invitation")
    client.cookies.clear()
    assert "Ny Lærer" in client.get(link).text
    post_form(client, link, {"password": "my own password", "password_repeat": "my own password"})
    assert (
        post_form(
            client, "/login", {"email": "ny.laerer@skole.dk", "password": "my own password"}
        ).status_code
        == 303
    )


def test_invite_form_refuses_bad_input_and_saves_nothing(client, db, settings, mailbox):
    coordinator = make_user(db, "coordinator", municipality="Herning")
    aarhus_school = make_school(db, municipality="Aarhus")
    log_in(client, db, coordinator, settings)
    before = db.exec(select(func.count()).select_from(User)).one()
    cases = [
        ({"email": "not-an-address", "name": "X", "role": "teacher"}, "email"),
        ({"email": "a@b.dk", "name": "", "role": "teacher"}, "name"),
        ({"email": "a@b.dk", "name": "X", "role": "teacher"}, "organisation_id"),
        (
            {
                "email": "a@b.dk",
                "name": "X",
                "role": "teacher",
                "organisation": aarhus_school.name,  # another municipality's: not among the choices
            },
            "organisation_id",
        ),
        ({"email": "a@b.dk", "name": "X", "role": "admin"}, "role"),
        ({"email": "a@b.dk", "name": "X", "role": "boss"}, "role"),
        (
            {
                "email": coordinator.email,
                "name": "X",
                "role": "coordinator",
                "municipality": "Herning",
            },
            "email",
        ),
    ]
    for data, field in cases:
        response = post_form(client, "/admin/users/new", data)
        assert response.status_code == 422, data
        assert f'id="{field}-error"' in response.text, (data, field)
    assert db.exec(select(func.count()).select_from(User)).one() == before
    assert mailbox.messages == []


def test_coordinator_creates_and_edits_an_organisation(client, db, settings):
    coordinator = make_user(db, "coordinator", municipality="Skive")
    log_in(client, db, coordinator, settings)
    refused = post_form(
        client,
        "/admin/organisations/new",
        {"name": "Udeskolen", "kind": "school", "municipality": "Aarhus"},
    )
    assert refused.status_code == 422 and 'id="municipality-error"' in refused.text
    unknown = post_form(
        client,
        "/admin/organisations/new",
        {"name": "Udeskolen", "kind": "school", "municipality": "Oslo"},
    )
    assert unknown.status_code == 422 and "kommune" in unknown.text.lower()

    created = post_form(
        client,
        "/admin/organisations/new",
        {
            "name": "Skive Science",
            "kind": "provider",
            "municipality": "Skive",
            "provider_kind": "science_centre",
        },
    )
    assert created.status_code == 303
    organisation = db.exec(select(Organisation).where(Organisation.name == "Skive Science")).one()
    assert organisation.provider_kind == "science_centre" and organisation.school_level is None

    saved = post_form(
        client,
        f"/admin/organisations/{organisation.id}",
        {
            "name": "Skive Science Center",
            "kind": "provider",
            "municipality": "Skive",
            "provider_kind": "science_centre",
        },
    )
    assert saved.headers["location"].endswith("?notice=saved")
    db.refresh(organisation)
    assert organisation.name == "Skive Science Center"
    listing = client.get("/admin/organisations?q=science").text
    assert "Skive Science Center" in listing


def test_deactivated_user_is_logged_out_and_cannot_log_in(client, db, settings):
    admin = make_user(db, "admin")
    teacher = make_user(db, "teacher")
    log_in(client, db, admin, settings)
    response = post_form(
        client,
        f"/admin/users/{teacher.id}",
        {
            "email": teacher.email,
            "name": teacher.name,
            "role": "teacher",
            "organisation": db.get(Organisation, teacher.organisation_id).name,
        },
    )  # the unchecked "active" box is simply absent from the form
    assert response.status_code == 303
    db.refresh(teacher)
    assert teacher.is_active is False
    client.cookies.clear()
    assert (
        post_form(client, "/login", {"email": teacher.email, "password": PASSWORD}).status_code
        == 422
    )


def test_the_profile_lists_where_one_is_logged_in_and_ends_any_of_it(client, db, settings):
    """A lost phone or a leaked API token is ended from the profile page, one at a time
    (security probe A4)."""
    from tests.factories import api_headers

    user, other = make_user(db, "teacher"), make_user(db, "teacher")
    token = api_headers(db, user, settings)
    others_token = api_headers(db, other, settings)
    log_in(client, db, user, settings)
    page = client.get("/profile").text
    hashes = re.findall(r'name="session" value="([0-9a-f]{64})"', page)
    assert len(hashes) == 2 and "API-nøgle" in page and "denne browser" in page
    api_hash = secrets.token_hash(token["Authorization"].split()[1])
    assert api_hash in hashes

    ended = post_form(client, "/profile/sessions/end", {"session": api_hash})
    assert ended.headers["location"] == "/profile?notice=session_ended"
    assert client.get("/api/v1/me", headers=token).status_code == 401
    assert client.get("/profile").status_code == 200  # this browser is still logged in
    # Another user's session cannot be ended from here.
    others_hash = secrets.token_hash(others_token["Authorization"].split()[1])
    assert post_form(client, "/profile/sessions/end", {"session": others_hash}).status_code == 404
    assert client.get("/api/v1/me", headers=others_token).status_code == 200
    # Ending this browser logs it out.
    (this,) = [h for h in hashes if h != api_hash]
    assert post_form(client, "/profile/sessions/end", {"session": this}).headers["location"] == "/?notice=logged_out"
    assert client.get("/profile").status_code == 303
