"""The accounts service functions, called directly with an explicit clock and settings."""

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from sqlmodel import col, func, select

from app.accounts import secrets
from app.accounts import service as accounts
from app.accounts.models import (
    AccountToken,
    AuthSession,
    LoginAttempt,
    Role,
    SessionKind,
    TokenPurpose,
    User,
)
from app.accounts.schemas import PasswordChange, UserIn
from app.errors import Conflict, Forbidden, InvalidInput, NotFound, TooManyAttempts
from tests.factories import PASSWORD, make_provider, make_school, make_user

NOW = datetime(2031, 3, 3, 9, 30, tzinfo=UTC)
CLIENT = "192.0.2.10"
NEW_PASSWORD = "a brand new password"


def count(db, model, *where) -> int:
    return db.exec(select(func.count()).select_from(model).where(*where)).one()


def authenticate(db, settings, email, password, *, now=NOW, client=CLIENT):
    return accounts.authenticate(
        db, email=email, password=password, client=client, now=now, settings=settings
    )


def fail(db, settings, email, *, times=1, now=NOW, client=CLIENT):
    for _ in range(times):
        with pytest.raises(InvalidInput):
            authenticate(db, settings, email, "wrong password", now=now, client=client)


def user_in(user: User, **changes) -> UserIn:
    return UserIn(
        **{
            "email": user.email,
            "name": user.name,
            "role": user.role,
            "organisation_id": user.organisation_id,
            "municipality": user.municipality,
            "phone": user.phone,
            "is_active": user.is_active,
            **changes,
        }
    )


# --- authenticate ----------------------------------------------------------------------------


def test_authenticate_returns_the_user(db, settings):
    teacher = make_user(db, "teacher")

    assert authenticate(db, settings, teacher.email, PASSWORD) is teacher


def test_authenticate_ignores_case_and_surrounding_spaces(db, settings):
    teacher = make_user(db, "teacher", email="anne.larsen@example.dk")

    assert authenticate(db, settings, "  Anne.LARSEN@Example.DK\t", PASSWORD).id == teacher.id


def test_wrong_password_is_refused_and_recorded(db, settings):
    teacher = make_user(db, "teacher", email="bo@example.dk")

    with pytest.raises(InvalidInput) as refused:
        authenticate(db, settings, "BO@example.dk", "wrong password")

    assert refused.value.field == "password"
    attempts = db.exec(select(LoginAttempt)).all()
    assert [(a.email, a.client, a.attempted_at) for a in attempts] == [
        ("bo@example.dk", CLIENT, NOW)
    ]
    assert teacher.password_hash is not None


def test_unknown_e_mail_is_refused_like_a_wrong_password(db, settings):
    teacher = make_user(db, "teacher")

    with pytest.raises(InvalidInput) as wrong_password:
        authenticate(db, settings, teacher.email, "wrong password")
    with pytest.raises(InvalidInput) as unknown:
        authenticate(db, settings, "nobody@example.dk", "wrong password")

    assert unknown.value.message == wrong_password.value.message
    assert unknown.value.field == wrong_password.value.field


def test_inactive_user_is_refused_even_with_the_right_password(db, settings):
    teacher = make_user(db, "teacher")
    teacher.is_active = False
    db.add(teacher)
    db.commit()

    with pytest.raises(InvalidInput):
        authenticate(db, settings, teacher.email, PASSWORD)
    assert count(db, LoginAttempt, LoginAttempt.email == teacher.email) == 1


def test_user_without_a_password_cannot_log_in(db, settings):
    invited = make_user(db, "teacher", password=None)

    with pytest.raises(InvalidInput):
        authenticate(db, settings, invited.email, "")
    with pytest.raises(InvalidInput):
        authenticate(db, settings, invited.email, "not a real password")


def test_too_many_failures_slow_down_that_client_for_that_address_only(db, settings):
    teacher = make_user(db, "teacher")
    other = make_user(db, "teacher")
    fail(db, settings, teacher.email, times=settings.login_max_failures - 1)
    assert (
        authenticate(db, settings, teacher.email, PASSWORD) is teacher
    )  # one below the limit: fine
    fail(db, settings, teacher.email, times=settings.login_max_failures)

    with pytest.raises(TooManyAttempts) as waiting:
        authenticate(db, settings, teacher.email.upper(), PASSWORD)  # whatever its case
    assert "1 minut" in waiting.value.message
    # Failures sent from anywhere cannot lock a chosen user out: the right password from another
    # client gets in, and another address from the same client too.
    assert authenticate(db, settings, teacher.email, PASSWORD, client="198.51.100.7") is teacher
    assert authenticate(db, settings, other.email, PASSWORD) is other
    # A refused attempt while waiting does not count as a new failure.
    failures = (LoginAttempt.email == teacher.email) & (LoginAttempt.client == CLIENT) & ~col(LoginAttempt.succeeded)
    assert count(db, LoginAttempt, failures) == settings.login_max_failures


def test_the_wait_grows_with_each_further_failure_up_to_the_window(db, settings):
    teacher = make_user(db, "teacher")
    fail(db, settings, teacher.email, times=settings.login_max_failures)
    later = NOW
    for minutes in (1, 2, 4, 8, 15, 15):
        with pytest.raises(TooManyAttempts):
            authenticate(db, settings, teacher.email, PASSWORD, now=later + timedelta(minutes=minutes, seconds=-1))
        later += timedelta(minutes=minutes)
        fail(db, settings, teacher.email, now=later)  # tried again as soon as it might: wrong again
    with pytest.raises(TooManyAttempts):
        authenticate(db, settings, teacher.email, PASSWORD, now=later + timedelta(minutes=14))
    assert authenticate(db, settings, teacher.email, PASSWORD, now=later + timedelta(minutes=15)) is teacher


def test_a_completed_password_reset_lifts_the_wait(db, settings):
    teacher = make_user(db, "teacher")
    fail(db, settings, teacher.email, times=settings.login_max_failures)
    with pytest.raises(TooManyAttempts):
        authenticate(db, settings, teacher.email, PASSWORD)

    token = accounts.issue_account_token(db, teacher, purpose=TokenPurpose.password_reset, now=NOW, settings=settings)
    accounts.set_password_with_token(db, token, "a new long password", now=NOW)

    assert authenticate(db, settings, teacher.email, "a new long password") is teacher


def test_an_address_guessed_from_many_clients_waits_except_where_its_owner_logged_in(db, settings):
    """Guessing from a new client address each time gains nothing (review of security probe D1)."""
    teacher = make_user(db, "teacher")
    authenticate(db, settings, teacher.email, PASSWORD, now=NOW - timedelta(days=2), client="192.0.2.1")
    for number in range(settings.login_max_failures * 10):
        fail(db, settings, teacher.email, client=f"198.51.100.{number}")
    with pytest.raises(TooManyAttempts):
        authenticate(db, settings, teacher.email, PASSWORD, client="203.0.113.99")
    assert authenticate(db, settings, teacher.email, PASSWORD, client="192.0.2.1") is teacher


def test_the_limit_follows_the_settings(db, settings):
    strict = settings.model_copy(update={"login_max_failures": 2})
    teacher = make_user(db, "teacher")
    fail(db, strict, teacher.email, times=2)

    with pytest.raises(TooManyAttempts):
        authenticate(db, strict, teacher.email, PASSWORD)


def test_failures_older_than_a_day_do_not_count(db, settings):
    teacher = make_user(db, "teacher")
    old = NOW - accounts.FAILURES_REMEMBERED - timedelta(seconds=1)
    fail(db, settings, teacher.email, times=settings.login_max_failures - 1, now=old)
    fail(db, settings, teacher.email, now=NOW - timedelta(seconds=30))

    assert authenticate(db, settings, teacher.email, PASSWORD, now=NOW) is teacher


def test_failures_inside_a_day_count(db, settings):
    teacher = make_user(db, "teacher")
    earlier = NOW - accounts.FAILURES_REMEMBERED + timedelta(seconds=1)
    fail(db, settings, teacher.email, times=settings.login_max_failures - 1, now=earlier)
    fail(db, settings, teacher.email, now=NOW - timedelta(seconds=30))

    with pytest.raises(TooManyAttempts):
        authenticate(db, settings, teacher.email, PASSWORD, now=NOW)


def test_one_client_guessing_many_addresses_is_slowed_down_but_not_its_known_users(db, settings):
    strict = settings.model_copy(update={"login_max_failures": 1})
    teacher, colleague = make_user(db, "teacher"), make_user(db, "teacher")
    authenticate(db, strict, colleague.email, PASSWORD, now=NOW - timedelta(days=accounts.KNOWN_CLIENT_DAYS - 1))
    # Known for three months only.
    authenticate(db, strict, teacher.email, PASSWORD, now=NOW - timedelta(days=accounts.KNOWN_CLIENT_DAYS + 1))
    for number in range(10):  # ten times the per-address limit, spread over addresses
        fail(db, strict, f"guess{number}@example.dk")

    with pytest.raises(TooManyAttempts):
        authenticate(db, strict, teacher.email, PASSWORD)
    # The same address from another client gets in.
    assert authenticate(db, strict, teacher.email, PASSWORD, client="198.51.100.7") is teacher
    # Behind the same (a school's shared) address, a user who logged in from it before gets in.
    assert authenticate(db, strict, colleague.email, PASSWORD) is colleague


def test_success_clears_the_failures(db, settings):
    teacher = make_user(db, "teacher")
    fail(db, settings, teacher.email, times=settings.login_max_failures - 1)

    authenticate(db, settings, teacher.email, PASSWORD)

    failed = (LoginAttempt.email == teacher.email) & col(LoginAttempt.succeeded).is_(False)
    assert count(db, LoginAttempt, failed) == 0
    fail(db, settings, teacher.email, times=settings.login_max_failures - 1)
    assert authenticate(db, settings, teacher.email, PASSWORD) is teacher


# --- sessions --------------------------------------------------------------------------------


def test_a_session_finds_its_user_and_stores_only_a_hash(db, settings):
    teacher = make_user(db, "teacher")

    token = accounts.start_session(db, teacher, kind=SessionKind.web, now=NOW, settings=settings)

    assert accounts.user_for_session(db, token, kind=SessionKind.web, now=NOW) is teacher
    assert db.get(AuthSession, token) is None
    stored = db.get(AuthSession, secrets.token_hash(token))
    assert (stored.user_id, stored.kind, stored.created_at) == (teacher.id, "web", NOW)


def test_every_session_has_its_own_token(db, settings):
    teacher = make_user(db, "teacher")

    tokens = {
        accounts.start_session(db, teacher, kind=SessionKind.api, now=NOW, settings=settings)
        for _ in range(3)
    }

    assert len(tokens) == 3
    assert count(db, AuthSession, AuthSession.user_id == teacher.id) == 3


@pytest.mark.parametrize(
    ("kind", "days_setting"),
    [(SessionKind.web, "session_days"), (SessionKind.api, "api_token_days")],
)
def test_a_session_expires(db, settings, kind, days_setting):
    teacher = make_user(db, "teacher")
    token = accounts.start_session(db, teacher, kind=kind, now=NOW, settings=settings)
    lifetime = timedelta(days=getattr(settings, days_setting))

    assert (
        accounts.user_for_session(db, token, kind=kind, now=NOW + lifetime - timedelta(seconds=1))
        is teacher
    )
    assert accounts.user_for_session(db, token, kind=kind, now=NOW + lifetime) is None
    assert (
        accounts.user_for_session(db, token, kind=kind, now=NOW + lifetime + timedelta(days=1))
        is None
    )


def test_the_clock_may_be_in_any_time_zone(db, settings):
    teacher = make_user(db, "teacher")
    token = accounts.start_session(db, teacher, kind=SessionKind.api, now=NOW, settings=settings)
    expiry = (NOW + timedelta(days=settings.api_token_days)).astimezone(
        ZoneInfo("Europe/Copenhagen")
    )

    assert (
        accounts.user_for_session(
            db, token, kind=SessionKind.api, now=expiry - timedelta(minutes=1)
        )
        is teacher
    )
    assert accounts.user_for_session(db, token, kind=SessionKind.api, now=expiry) is None


def test_a_session_is_only_good_for_its_kind(db, settings):
    teacher = make_user(db, "teacher")
    web = accounts.start_session(db, teacher, kind=SessionKind.web, now=NOW, settings=settings)

    assert accounts.user_for_session(db, web, kind=SessionKind.api, now=NOW) is None


def test_unknown_token_finds_nobody(db, settings):
    teacher = make_user(db, "teacher")
    accounts.start_session(db, teacher, kind=SessionKind.web, now=NOW, settings=settings)

    assert accounts.user_for_session(db, "made-up", kind=SessionKind.web, now=NOW) is None
    assert accounts.user_for_session(db, "", kind=SessionKind.web, now=NOW) is None


def test_an_inactive_users_session_finds_nobody(db, settings):
    teacher = make_user(db, "teacher")
    token = accounts.start_session(db, teacher, kind=SessionKind.web, now=NOW, settings=settings)
    teacher.is_active = False
    db.add(teacher)
    db.commit()

    assert accounts.user_for_session(db, token, kind=SessionKind.web, now=NOW) is None


def test_starting_a_session_clears_out_expired_ones(db, settings):
    teacher = make_user(db, "teacher")
    old = accounts.start_session(db, teacher, kind=SessionKind.web, now=NOW, settings=settings)
    later = NOW + timedelta(days=settings.session_days, seconds=1)

    accounts.start_session(db, teacher, kind=SessionKind.web, now=later, settings=settings)

    assert db.get(AuthSession, secrets.token_hash(old)) is None
    assert count(db, AuthSession, AuthSession.user_id == teacher.id) == 1


def test_end_session_ends_only_that_session(db, settings):
    teacher = make_user(db, "teacher")
    first = accounts.start_session(db, teacher, kind=SessionKind.web, now=NOW, settings=settings)
    second = accounts.start_session(db, teacher, kind=SessionKind.web, now=NOW, settings=settings)

    accounts.end_session(db, first)

    assert accounts.user_for_session(db, first, kind=SessionKind.web, now=NOW) is None
    assert accounts.user_for_session(db, second, kind=SessionKind.web, now=NOW) is teacher


# --- change_password -------------------------------------------------------------------------


def test_change_password_ends_every_session(db, settings):
    teacher = make_user(db, "teacher")
    bystander = make_user(db, "teacher")
    tokens = [
        accounts.start_session(db, teacher, kind=SessionKind.web, now=NOW, settings=settings),
        accounts.start_session(db, teacher, kind=SessionKind.api, now=NOW, settings=settings),
    ]
    kept = accounts.start_session(db, bystander, kind=SessionKind.web, now=NOW, settings=settings)

    accounts.change_password(
        db, teacher, PasswordChange(current_password=PASSWORD, new_password=NEW_PASSWORD)
    )

    assert accounts.user_for_session(db, tokens[0], kind=SessionKind.web, now=NOW) is None
    assert accounts.user_for_session(db, tokens[1], kind=SessionKind.api, now=NOW) is None
    assert count(db, AuthSession, AuthSession.user_id == teacher.id) == 0
    assert accounts.user_for_session(db, kept, kind=SessionKind.web, now=NOW) is bystander
    assert authenticate(db, settings, teacher.email, NEW_PASSWORD) is teacher
    with pytest.raises(InvalidInput):
        authenticate(db, settings, teacher.email, PASSWORD)


def test_change_password_needs_the_current_password(db, settings):
    teacher = make_user(db, "teacher")
    token = accounts.start_session(db, teacher, kind=SessionKind.web, now=NOW, settings=settings)
    old_hash = teacher.password_hash

    with pytest.raises(InvalidInput) as refused:
        accounts.change_password(
            db,
            teacher,
            PasswordChange(current_password="not my password", new_password=NEW_PASSWORD),
        )

    assert refused.value.field == "current_password"
    assert teacher.password_hash == old_hash
    assert accounts.user_for_session(db, token, kind=SessionKind.web, now=NOW) is teacher


# --- one-time links --------------------------------------------------------------------------


@pytest.mark.parametrize("purpose", list(TokenPurpose))
def test_an_account_token_sets_the_password_once(db, settings, purpose):
    teacher = make_user(
        db, "teacher", password=None if purpose == TokenPurpose.invitation else PASSWORD
    )
    token = accounts.issue_account_token(db, teacher, purpose=purpose, now=NOW, settings=settings)
    assert db.get(AccountToken, token) is None  # stored hashed

    user = accounts.set_password_with_token(db, token, NEW_PASSWORD, now=NOW + timedelta(minutes=5))

    assert user.id == teacher.id
    assert authenticate(db, settings, teacher.email, NEW_PASSWORD) is teacher
    assert db.get(AccountToken, secrets.token_hash(token)).used_at == NOW + timedelta(minutes=5)
    with pytest.raises(NotFound):
        accounts.set_password_with_token(
            db, token, "a third password here", now=NOW + timedelta(minutes=6)
        )
    with pytest.raises(NotFound):
        accounts.valid_account_token(db, token, now=NOW + timedelta(minutes=6))
    assert authenticate(db, settings, teacher.email, NEW_PASSWORD) is teacher


@pytest.mark.parametrize(
    ("purpose", "lifetime"),
    [
        (TokenPurpose.password_reset, lambda s: timedelta(hours=s.password_reset_hours)),
        (TokenPurpose.invitation, lambda s: timedelta(days=s.invitation_days)),
    ],
)
def test_an_expired_account_token_is_not_found(db, settings, purpose, lifetime):
    teacher = make_user(db, "teacher", password=None if purpose == TokenPurpose.invitation else PASSWORD)
    token = accounts.issue_account_token(db, teacher, purpose=purpose, now=NOW, settings=settings)
    expiry = NOW + lifetime(settings)

    assert (
        accounts.valid_account_token(db, token, now=expiry - timedelta(seconds=1)).user_id
        == teacher.id
    )
    with pytest.raises(NotFound):
        accounts.set_password_with_token(db, token, NEW_PASSWORD, now=expiry)
    with pytest.raises(InvalidInput):
        authenticate(db, settings, teacher.email, NEW_PASSWORD)
    if purpose == TokenPurpose.password_reset:
        assert authenticate(db, settings, teacher.email, PASSWORD) is teacher


def test_an_unknown_account_token_is_not_found(db):
    with pytest.raises(NotFound):
        accounts.set_password_with_token(db, "made-up", NEW_PASSWORD, now=NOW)


def test_a_second_token_replaces_the_first(db, settings):
    teacher = make_user(db, "teacher")
    first = accounts.issue_account_token(
        db, teacher, purpose=TokenPurpose.password_reset, now=NOW, settings=settings
    )
    second = accounts.issue_account_token(
        db,
        teacher,
        purpose=TokenPurpose.password_reset,
        now=NOW + timedelta(minutes=1),
        settings=settings,
    )

    assert first != second
    with pytest.raises(NotFound):
        accounts.set_password_with_token(db, first, NEW_PASSWORD, now=NOW + timedelta(minutes=2))
    assert (
        accounts.set_password_with_token(db, second, NEW_PASSWORD, now=NOW + timedelta(minutes=2))
        is teacher
    )
    assert count(db, AccountToken, AccountToken.user_id == teacher.id) == 1


def test_a_token_of_another_purpose_is_not_replaced(db, settings):
    teacher = make_user(db, "teacher", password=None)
    invitation = accounts.issue_account_token(
        db, teacher, purpose=TokenPurpose.invitation, now=NOW, settings=settings
    )
    accounts.issue_account_token(
        db, teacher, purpose=TokenPurpose.password_reset, now=NOW, settings=settings
    )

    assert accounts.set_password_with_token(db, invitation, NEW_PASSWORD, now=NOW) is teacher


def test_a_token_of_another_user_is_not_replaced(db, settings):
    first = make_user(db, "teacher")
    second = make_user(db, "teacher")
    first_token = accounts.issue_account_token(
        db, first, purpose=TokenPurpose.password_reset, now=NOW, settings=settings
    )
    accounts.issue_account_token(
        db, second, purpose=TokenPurpose.password_reset, now=NOW, settings=settings
    )

    assert accounts.set_password_with_token(db, first_token, NEW_PASSWORD, now=NOW) is first


def test_setting_a_password_with_a_token_ends_earlier_sessions(db, settings):
    teacher = make_user(db, "teacher")
    session = accounts.start_session(db, teacher, kind=SessionKind.web, now=NOW, settings=settings)
    token = accounts.issue_account_token(
        db, teacher, purpose=TokenPurpose.password_reset, now=NOW, settings=settings
    )

    accounts.set_password_with_token(db, token, NEW_PASSWORD, now=NOW)

    assert accounts.user_for_session(db, session, kind=SessionKind.web, now=NOW) is None


def test_a_deactivated_users_token_is_not_found(db, settings):
    teacher = make_user(db, "teacher")
    token = accounts.issue_account_token(
        db, teacher, purpose=TokenPurpose.password_reset, now=NOW, settings=settings
    )
    teacher.is_active = False
    db.add(teacher)
    db.commit()
    old_hash = teacher.password_hash

    with pytest.raises(NotFound):
        accounts.set_password_with_token(db, token, NEW_PASSWORD, now=NOW)
    assert teacher.password_hash == old_hash


# --- list_users scoping ----------------------------------------------------------------------


@pytest.fixture
def people(db):
    aarhus_school = make_school(db, municipality="Aarhus")
    herning_school = make_school(db, municipality="Herning")
    return {
        "aarhus_teacher": make_user(db, "teacher", organisation=aarhus_school),
        "aarhus_provider": make_user(
            db, "provider", organisation=make_provider(db, municipality="Aarhus")
        ),
        "aarhus_mentor": make_user(db, "mentor", organisation=aarhus_school),
        "herning_teacher": make_user(db, "teacher", organisation=herning_school),
        "herning_provider": make_user(
            db, "provider", organisation=make_provider(db, municipality="Herning")
        ),
        "unattached_mentor": make_user(db, "mentor"),
        "aarhus_coordinator": make_user(db, "coordinator", municipality="Aarhus"),
        "herning_coordinator": make_user(db, "coordinator", municipality="Herning"),
        "regional_coordinator": make_user(db, "coordinator"),
        "admin": make_user(db, "admin"),
    }


def listed(db, actor, **filters) -> set[str]:
    items, total = accounts.list_users(db, actor, **filters)
    assert total == len(items)
    return {user.email for user in items}


def emails(people, *names) -> set[str]:
    return {people[name].email for name in names}


def test_a_municipal_coordinator_lists_only_their_municipality(db, people):
    actor = people["aarhus_coordinator"]

    assert listed(db, actor) == emails(
        people, "aarhus_teacher", "aarhus_provider", "aarhus_mentor", "aarhus_coordinator"
    )
    assert listed(db, actor, role=Role.teacher) == emails(people, "aarhus_teacher")
    herning_school = people["herning_teacher"].organisation_id
    assert listed(db, actor, organisation_id=herning_school) == set()


def test_a_regional_coordinator_lists_everyone_but_admins(db, people):
    assert listed(db, people["regional_coordinator"]) == emails(people, *people) - emails(
        people, "admin"
    )


def test_an_admin_lists_everyone(db, people):
    assert listed(db, people["admin"]) == emails(people, *people)


def test_list_users_pages_with_the_total_before_paging(db, people):
    items, total = accounts.list_users(db, people["admin"], limit=3, offset=0)
    rest, rest_total = accounts.list_users(db, people["admin"], limit=100, offset=3)

    assert total == rest_total == len(people)
    assert len(items) == 3
    assert {u.id for u in items}.isdisjoint({u.id for u in rest})
    assert len(items) + len(rest) == len(people)


@pytest.mark.parametrize("role", ["aarhus_teacher", "aarhus_provider", "aarhus_mentor"])
def test_only_staff_list_users(db, people, role):
    with pytest.raises(Forbidden):
        accounts.list_users(db, people[role])


def test_a_municipal_coordinator_cannot_get_a_foreign_user(db, people):
    actor = people["aarhus_coordinator"]

    assert accounts.get_user(db, actor, people["aarhus_teacher"].id) is people["aarhus_teacher"]
    for name in ("herning_teacher", "herning_coordinator", "regional_coordinator", "admin"):
        with pytest.raises(NotFound):
            accounts.get_user(db, actor, people[name].id)


# --- update_user -----------------------------------------------------------------------------


@pytest.mark.parametrize("role", ["admin", "coordinator"])
def test_update_user_refuses_to_deactivate_yourself(db, settings, role):
    actor = make_user(db, role)
    token = accounts.start_session(db, actor, kind=SessionKind.web, now=NOW, settings=settings)

    with pytest.raises(InvalidInput):
        accounts.update_user(db, actor, actor.id, user_in(actor, is_active=False), now=NOW)

    assert actor.is_active is True
    db.refresh(actor)
    assert actor.is_active is True
    assert accounts.user_for_session(db, token, kind=SessionKind.web, now=NOW) is actor


def test_update_user_refuses_to_change_your_own_role(db):
    actor = make_user(db, "admin")

    with pytest.raises(InvalidInput) as refused:
        accounts.update_user(db, actor, actor.id, user_in(actor, role=Role.coordinator), now=NOW)

    assert refused.value.field == "role"
    db.refresh(actor)
    assert actor.role == Role.admin


def test_update_user_may_change_your_own_name(db):
    actor = make_user(db, "admin")

    accounts.update_user(db, actor, actor.id, user_in(actor, name="Nyt Navn"), now=NOW)

    db.refresh(actor)
    assert actor.name == "Nyt Navn"


def test_deactivating_someone_else_ends_their_sessions(db, settings):
    actor = make_user(db, "admin")
    teacher = make_user(db, "teacher")
    token = accounts.start_session(db, teacher, kind=SessionKind.api, now=NOW, settings=settings)

    accounts.update_user(db, actor, teacher.id, user_in(teacher, is_active=False), now=NOW)

    db.refresh(teacher)
    assert teacher.is_active is False
    assert count(db, AuthSession, AuthSession.user_id == teacher.id) == 0
    assert accounts.user_for_session(db, token, kind=SessionKind.api, now=NOW) is None


# --- ensure_admin ----------------------------------------------------------------------------


def test_ensure_admin_is_idempotent(db, settings):
    first, created = accounts.ensure_admin(
        db, email="Root@Example.dk", name="Root", password=PASSWORD
    )
    assert created is True
    assert (first.email, first.role) == ("root@example.dk", Role.admin)

    again, created_again = accounts.ensure_admin(
        db, email=" root@example.DK ", name="Root", password=PASSWORD
    )

    assert created_again is False
    assert again.id == first.id
    assert count(db, User, User.email == "root@example.dk") == 1
    assert count(db, User, User.role == Role.admin) == 1
    assert authenticate(db, settings, "root@example.dk", PASSWORD).id == first.id


def test_ensure_admin_resets_the_password_and_reactivates(db, settings):
    admin, _ = accounts.ensure_admin(db, email="root@example.dk", name="Root", password=PASSWORD)
    admin.is_active = False
    db.add(admin)
    db.commit()

    again, created = accounts.ensure_admin(
        db, email="root@example.dk", name="Root", password=NEW_PASSWORD
    )

    assert created is False
    assert again.is_active is True
    assert authenticate(db, settings, "root@example.dk", NEW_PASSWORD).id == admin.id
    with pytest.raises(InvalidInput):
        authenticate(db, settings, "root@example.dk", PASSWORD)


def test_ensure_admin_does_not_take_over_another_users_address(db, settings):
    teacher = make_user(db, "teacher", email="teacher.root@example.dk")
    old_hash = teacher.password_hash

    with pytest.raises(InvalidInput) as refused:
        accounts.ensure_admin(
            db, email="teacher.root@example.dk", name="Root", password=NEW_PASSWORD
        )

    assert refused.value.field == "email"
    db.refresh(teacher)
    assert (teacher.role, teacher.password_hash) == (Role.teacher, old_hash)
    assert count(db, User, User.role == Role.admin) == 0


# --- taking over an account; weak passwords (security probe A3, D4) ----------------------------


def test_an_account_with_a_password_gets_no_invitation(db, settings):
    """Otherwise whoever manages it could change its e-mail address to their own and invite that."""
    teacher, invited = make_user(db, "teacher"), make_user(db, "teacher", password=None)
    with pytest.raises(Conflict):
        accounts.issue_account_token(db, teacher, purpose=TokenPurpose.invitation, now=NOW, settings=settings)
    # An invitation sent before the invitee chose a password (by a reset) no longer works after.
    token = accounts.issue_account_token(db, invited, purpose=TokenPurpose.invitation, now=NOW, settings=settings)
    reset = accounts.issue_account_token(db, invited, purpose=TokenPurpose.password_reset, now=NOW, settings=settings)
    accounts.set_password_with_token(db, reset, NEW_PASSWORD, now=NOW)
    with pytest.raises(NotFound):
        accounts.set_password_with_token(db, token, "the intruder's choice", now=NOW)
    assert authenticate(db, settings, invited.email, NEW_PASSWORD) is invited


def test_an_e_mail_change_is_told_to_the_old_address_and_kept(db, settings):
    from app.notifications.models import Notification, OutboxMessage

    coordinator, admin = make_user(db, "coordinator"), make_user(db, "admin")
    teacher = make_user(db, "teacher")
    old = teacher.email
    reset = accounts.issue_account_token(db, teacher, purpose=TokenPurpose.password_reset, now=NOW, settings=settings)
    # A coordinator cannot move an account in use: a new address and "forgot my password" would
    # hand it over. An administrator can, and the links sent to the old address stop working.
    with pytest.raises(InvalidInput) as refused:
        accounts.update_user(db, coordinator, teacher.id, user_in(teacher, email="attacker@evil.example"), now=NOW)
    assert refused.value.field == "email"
    db.rollback()
    db.refresh(teacher)
    assert teacher.email == old
    accounts.update_user(db, admin, teacher.id, user_in(teacher, email="new-address@example.dk"), now=NOW)
    with pytest.raises(NotFound):
        accounts.set_password_with_token(db, reset, NEW_PASSWORD, now=NOW)

    (told,) = db.exec(select(OutboxMessage).where(OutboxMessage.to_address == old)).all()
    assert "new-address@example.dk" in told.body and admin.name in told.body
    (kept,) = db.exec(select(Notification).where(Notification.user_id == teacher.id)).all()
    assert (kept.kind, kept.created_at, kept.body) == ("email_changed", NOW, told.body)
    # A change of the name only tells nobody.
    accounts.update_user(db, coordinator, teacher.id, user_in(teacher, name="Nyt Navn"), now=NOW)
    assert count(db, OutboxMessage, OutboxMessage.to_address == old) == 1
    # An invitee's mistyped address a coordinator may correct.
    invited = make_user(db, "teacher", password=None)
    accounts.update_user(db, coordinator, invited.id, user_in(invited, email="rettet@example.dk"), now=NOW)
    assert invited.email == "rettet@example.dk"


@pytest.mark.parametrize(
    "password", ["aaaaaaaaaa", "1234567890", "qwertyuiop", "{email}", "{name}{name}", "stemportalen2026"]
)
def test_a_new_password_must_not_be_easy_to_guess(db, settings, password):
    teacher = make_user(db, "teacher")
    chosen = password.format(email=teacher.email, name=teacher.name.replace(" ", "").lower())
    with pytest.raises(InvalidInput) as weak:
        accounts.change_password(db, teacher, PasswordChange(current_password=PASSWORD, new_password=chosen))
    assert weak.value.field == "new_password"
    token = accounts.issue_account_token(db, teacher, purpose=TokenPurpose.password_reset, now=NOW, settings=settings)
    with pytest.raises(InvalidInput):
        accounts.set_password_with_token(db, token, chosen, now=NOW)
    assert authenticate(db, settings, teacher.email, PASSWORD) is teacher
    # A few words of one's own are fine.
    accounts.change_password(db, teacher, PasswordChange(current_password=PASSWORD, new_password="grøn cykel ved åen"))
    assert authenticate(db, settings, teacher.email, "grøn cykel ved åen") is teacher


def test_the_worker_forgets_attempts_the_limits_no_longer_count(db, settings):
    from app.accounts.models import PasswordResetRequest

    teacher = make_user(db, "teacher")
    fail(db, settings, teacher.email, now=NOW - accounts.FAILURES_REMEMBERED - timedelta(minutes=1))
    fail(db, settings, teacher.email, now=NOW - timedelta(hours=1))
    authenticate(db, settings, teacher.email, PASSWORD, now=NOW - timedelta(days=accounts.KNOWN_CLIENT_DAYS + 1), client="198.51.100.1")
    authenticate(db, settings, teacher.email, PASSWORD, now=NOW - timedelta(days=3), client="198.51.100.2")
    accounts.request_password_reset(db, email="a@example.dk", client=CLIENT, now=NOW - timedelta(minutes=61), settings=settings)
    accounts.request_password_reset(db, email="b@example.dk", client=CLIENT, now=NOW - timedelta(minutes=59), settings=settings)

    assert accounts.forget_old_attempts(db, now=NOW) == 3
    kept = db.exec(select(LoginAttempt.succeeded, LoginAttempt.client).order_by(LoginAttempt.attempted_at)).all()
    assert kept == [(True, "198.51.100.2"), (False, CLIENT)]
    assert db.exec(select(PasswordResetRequest.email)).all() == ["b@example.dk"]
