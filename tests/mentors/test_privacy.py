"""A mentor's own data (issue 14, privacy): the download holds all of it and no secret; deleting
the account keeps past hours without the person and removes the rest; the worker deletes the
accounts unused for two school years, warned a month ahead, and only mentors'."""

import json
from datetime import UTC, date, datetime, timedelta

import pytest
from sqlmodel import func, select

from app.accounts import secrets
from app.accounts import service as accounts
from app.accounts.models import (
    AccountToken,
    AuthSession,
    LoginAttempt,
    Organisation,
    PasswordResetRequest,
    SchoolLevel,
    SessionKind,
    TokenPurpose,
    User,
)
from app.calendar import service as calendar_service
from app.calendar.models import CalendarFeed
from app.catalogue.models import Offer, OfferSession, OfferStatus, OfferType
from app.deps import SESSION_COOKIE, get_now
from app.errors import Forbidden
from app.i18n import TIMEZONE
from app.mentors import privacy
from app.mentors.models import (
    ChildCertificateCheck,
    GuardianConsent,
    MentorMunicipality,
    MentorProfile,
    MentorStatus,
    MentorTheme,
    Shift,
    ShiftStatus,
)
from app.mentors.shifts import signed_counts
from app.notifications.models import Notification, OutboxMessage
from app.notifications.service import queue_email
from tests.factories import PASSWORD, make_provider, make_school, make_user, post_form

NOW = datetime(2027, 3, 1, 10, tzinfo=UTC)


def gymnasium(db) -> Organisation:
    school = make_school(db, municipality="Aarhus", name="Aarhus Katedralskole")
    school.school_level = SchoolLevel.upper_secondary
    db.add(school)
    db.commit()
    return school


def make_mentor(
    db,
    institution: Organisation,
    *,
    created_at: datetime = NOW - timedelta(days=200),
    last_login_at: datetime | None = None,
    guardian_email: str | None = None,
) -> User:
    user = make_user(db, "mentor", organisation=institution)
    user.name, user.created_at, user.last_login_at = "Mille Marie Jensen", created_at, last_login_at
    db.add(user)
    db.add(
        MentorProfile(
            user_id=user.id,
            institution_id=institution.id,
            birth_date=date(2010, 5, 20),
            study_programme="STX, bioteknologi A",
            finishing_year=2029,
            why_stem="Jeg kan lide at forstå, hvordan kroppen virker.",
            guardian_email=guardian_email,
            status=MentorStatus.approved,
            created_at=created_at,
            updated_at=created_at,
        )
    )
    db.add_all([MentorTheme(user_id=user.id, theme="health"), MentorMunicipality(user_id=user.id, municipality="Skanderborg")])
    db.commit()
    return user


def mentoring_date(db, provider: Organisation, starts_at: datetime, *, title: str) -> OfferSession:
    offer = Offer(
        provider_id=provider.id,
        type=OfferType.mentoring,
        status=OfferStatus.published,
        title=title,
        grade_min=4,
        grade_max=6,
        municipality="Aarhus",
    )
    db.add(offer)
    db.flush()
    session = OfferSession(
        offer_id=offer.id,
        starts_at=starts_at,
        ends_at=starts_at + timedelta(hours=3),
        capacity_pupils=28,
        mentors_min=1,
        mentors_max=2,
    )
    db.add(session)
    db.commit()
    return session


def shift(db, mentor: User, session: OfferSession, status: ShiftStatus, **fields) -> Shift:
    row = Shift(session_id=session.id, mentor_id=mentor.id, status=status, created_at=NOW - timedelta(days=60), updated_at=NOW, **fields)
    db.add(row)
    db.commit()
    return row


@pytest.fixture
def world(db, settings):
    """A minor mentor with one of everything the portal can hold about a mentor."""
    school = gymnasium(db)
    mentor = make_mentor(db, school, last_login_at=NOW - timedelta(days=3), guardian_email="forælder@example.dk")
    teacher = make_user(db, "teacher", organisation=school)
    teacher.name = "Lærer Lise"
    profile = db.get(MentorProfile, mentor.id)
    profile.decided_by_id, profile.decided_at = teacher.id, NOW - timedelta(days=150)
    db.add_all([teacher, profile])
    provider = make_provider(db, municipality="Aarhus")
    provider_staff = make_user(db, "provider", organisation=provider)
    past = mentoring_date(db, provider, NOW - timedelta(days=30), title="Kroppen i 5.b")
    left_past = mentoring_date(db, provider, NOW - timedelta(days=20), title="Kroppen i 6.a")
    future = mentoring_date(db, provider, NOW + timedelta(days=10), title="Kroppen i 4.c")
    done = shift(db, mentor, past, ShiftStatus.completed, minutes=180, travel_minutes=40, travel_confirmed_at=NOW - timedelta(days=29))
    left = shift(db, mentor, left_past, ShiftStatus.left, leave_reason="Syg")
    coming = shift(db, mentor, future, ShiftStatus.signed_up)
    db.add_all(
        [
            GuardianConsent(
                mentor_id=mentor.id,
                guardian_name="Hanne Jensen",
                guardian_email="forælder@example.dk",
                text_version="2026-1",
                consented_at=NOW - timedelta(days=190),
            ),
            ChildCertificateCheck(
                mentor_id=mentor.id,
                assessed_by_id=teacher.id,
                assessed_on=date(2026, 9, 1),
                valid_until=date(2027, 8, 31),
                created_at=NOW - timedelta(days=180),
            ),
            Notification(user_id=mentor.id, kind="shift_assigned", subject="Ny vagt", body="Du er sat på.", created_at=NOW - timedelta(days=40)),
            AccountToken(
                token_hash=secrets.token_hash(secrets.new_token()),
                user_id=mentor.id,
                purpose=TokenPurpose.password_reset,
                created_at=NOW,
                expires_at=NOW + timedelta(hours=2),
            ),
            LoginAttempt(email=mentor.email, client="10.0.0.7", attempted_at=NOW - timedelta(days=3)),
            PasswordResetRequest(email=mentor.email, client="10.0.0.7", requested_at=NOW - timedelta(days=3)),
        ]
    )
    queue_email(db, to=mentor.email, subject="Ny vagt", body="Du er sat på.", now=NOW - timedelta(days=40))
    queue_email(db, to=mentor.email, subject="Påmindelse", body="I morgen.", now=NOW)  # not sent yet
    queue_email(db, to="forælder@example.dk", subject="Samtykke", body="Giv samtykke.", now=NOW - timedelta(days=200))
    queue_email(db, to="someone@example.dk", subject="Andet", body="Ikke om mentoren.", now=NOW)
    db.commit()
    first = db.exec(select(OutboxMessage).where(OutboxMessage.subject == "Ny vagt")).one()
    first.sent_at = NOW - timedelta(days=40)
    db.add(first)
    db.commit()
    calendar_service.create_feed(db, mentor, query="", now=NOW)
    accounts.start_session(db, mentor, kind=SessionKind.api, now=NOW, settings=settings)
    return {
        "mentor": mentor, "teacher": teacher, "provider_staff": provider_staff, "done": done, "left": left,
        "coming": coming, "future": future,
    }


def count(db, model, *where) -> int:
    return db.exec(select(func.count()).select_from(model).where(*where)).one()


# --- the download ---------------------------------------------------------------------------------


def test_the_export_holds_every_kind_of_data_and_no_secret(db, world):
    mentor = world["mentor"]
    data = privacy.export(db, mentor)
    text = json.dumps(data)  # serialisable as it is

    assert data["account"]["email"] == mentor.email
    assert data["account"]["name"] == "Mille Marie Jensen"
    assert data["account"]["institution"] == "Aarhus Katedralskole"
    assert data["account"]["last_login_at"] == (NOW - timedelta(days=3)).isoformat()
    assert {"language", "created_at"} <= data["account"].keys()
    profile = data["profile"]
    assert profile["birth_date"] == "2010-05-20"
    assert profile["why_stem"].startswith("Jeg kan lide")
    assert profile["guardian_email"] == "forælder@example.dk"
    assert (profile["status"], profile["decided_by"]) == ("approved", "Lærer Lise")
    assert data["themes"] == ["health"]
    assert data["municipalities"] == ["Skanderborg"]
    [consent] = data["guardian_consents"]
    assert (consent["guardian_name"], consent["guardian_email"], consent["text_version"]) == (
        "Hanne Jensen", "forælder@example.dk", "2026-1"
    )
    [check] = data["child_certificate_checks"]
    assert (check["assessed_on"], check["valid_until"], check["assessed_by"]) == ("2026-09-01", "2027-08-31", "Lærer Lise")
    shifts = {s["offer"]: s for s in data["shifts"]}
    assert shifts["Kroppen i 5.b"]["status"] == "completed"
    assert (shifts["Kroppen i 5.b"]["minutes"], shifts["Kroppen i 5.b"]["travel_minutes"]) == (180, 40)
    assert shifts["Kroppen i 5.b"]["starts_at"] == (NOW - timedelta(days=30)).isoformat()
    assert shifts["Kroppen i 6.a"]["leave_reason"] == "Syg"
    assert shifts["Kroppen i 4.c"]["status"] == "signed_up"
    assert [n["subject"] for n in data["notifications"]] == ["Ny vagt"]
    assert {m["subject"] for m in data["emails"]} == {"Ny vagt", "Påmindelse"}
    assert [a["client"] for a in data["log_in_attempts"]] == ["10.0.0.7"]
    assert len(data["password_reset_requests"]) == 1
    assert [s["kind"] for s in data["logged_in"]] == ["api"]
    assert data["calendar_feed"] is not None

    secrets_held = [mentor.password_hash]
    secrets_held += db.exec(select(AuthSession.token_hash).where(AuthSession.user_id == mentor.id)).all()
    secrets_held += db.exec(select(AccountToken.token_hash).where(AccountToken.user_id == mentor.id)).all()
    secrets_held += db.exec(select(CalendarFeed.token_hash).where(CalendarFeed.user_id == mentor.id)).all()
    assert len(secrets_held) == 4
    assert not [s for s in secrets_held if s in text]
    assert "hash" not in text


def api_headers_at_now(db, user: User, settings) -> dict[str, str]:
    token = accounts.start_session(db, user, kind=SessionKind.api, now=NOW, settings=settings)
    return {"Authorization": f"Bearer {token}"}


def log_in_at_now(app, client, db, user, settings) -> None:
    app.dependency_overrides[get_now] = lambda: NOW
    token = accounts.start_session(db, user, kind=SessionKind.web, now=NOW, settings=settings)
    client.cookies.set(SESSION_COOKIE, token, domain="testserver.local")


def test_the_download_and_the_api_give_the_same_data_privately(app, client, db, settings, world):
    mentor = world["mentor"]
    log_in_at_now(app, client, db, mentor, settings)
    page = client.get("/mentor/privacy")
    assert page.status_code == 200
    assert 'href="/mentor/data.json"' in page.text

    download = client.get("/mentor/data.json")
    assert download.status_code == 200
    assert download.headers["content-disposition"] == 'attachment; filename="stem-portal-data-2027-03-01.json"'
    assert "no-store" in download.headers["cache-control"]
    assert download.json() == json.loads(json.dumps(privacy.export(db, mentor)))

    answer = client.get("/api/v1/me/data", headers=api_headers_at_now(db, mentor, settings))
    assert answer.status_code == 200
    assert "no-store" in answer.headers["cache-control"]
    assert answer.json()["profile"]["birth_date"] == "2010-05-20"

    teacher = client.get("/api/v1/me/data", headers=api_headers_at_now(db, world["teacher"], settings))
    assert teacher.status_code == 403


# --- deleting the account -----------------------------------------------------------------------------


def test_deleting_keeps_past_hours_without_the_person_and_removes_the_rest(app, client, db, settings, world):
    mentor, mentor_id, email = world["mentor"], world["mentor"].id, world["mentor"].email
    done_id, left_id, coming_id = world["done"].id, world["left"].id, world["coming"].id
    log_in_at_now(app, client, db, mentor, settings)

    answer = post_form(client, "/mentor/delete", {"password": PASSWORD, "confirm": "1"})
    assert answer.status_code == 303
    assert answer.headers["location"] == "/mentor/goodbye"
    assert SESSION_COOKIE not in client.cookies
    assert client.get("/mentor/goodbye").status_code == 200
    assert client.get("/mentor/privacy").headers["location"].startswith("/login")

    db.expire_all()
    assert db.get(User, mentor_id) is None
    # The past hours stay, without the person; the left shift, which holds no hours, goes.
    done = db.get(Shift, done_id)
    assert (done.mentor_id, done.status, done.minutes, done.travel_minutes) == (None, ShiftStatus.completed, 180, 40)
    assert db.get(Shift, left_id) is None
    # The future date's place is free again, and its provider was told.
    assert db.get(Shift, coming_id) is None
    assert signed_counts(db, [world["future"].id]) == {}
    told = db.exec(select(Notification).where(Notification.user_id == world["provider_staff"].id)).all()
    assert [n.kind for n in told] == ["mentor_left"]
    for model, column in (
        (MentorProfile, MentorProfile.user_id),
        (MentorTheme, MentorTheme.user_id),
        (MentorMunicipality, MentorMunicipality.user_id),
        (GuardianConsent, GuardianConsent.mentor_id),
        (ChildCertificateCheck, ChildCertificateCheck.mentor_id),
        (AuthSession, AuthSession.user_id),
        (AccountToken, AccountToken.user_id),
        (Notification, Notification.user_id),
        (CalendarFeed, CalendarFeed.user_id),
    ):
        assert count(db, model, column == mentor_id) == 0, model.__name__
    assert count(db, LoginAttempt, LoginAttempt.email == email) == 0
    assert count(db, PasswordResetRequest, PasswordResetRequest.email == email) == 0
    # Every e-mail to the mentor, sent or queued, and the guardian's about this mentor; not others'.
    remaining = set(db.exec(select(OutboxMessage.subject)).all())
    assert {"Ny vagt", "Påmindelse", "Samtykke"}.isdisjoint(remaining)
    assert "Andet" in remaining
    # Who assessed and approved: other people, who stay.
    assert db.get(User, world["teacher"].id) is not None


def test_a_guardian_s_e_mail_stays_when_a_brother_or_sister_shares_the_guardian(db, world):
    mentor = world["mentor"]
    brother = make_mentor(db, db.get(Organisation, mentor.organisation_id), guardian_email="forælder@example.dk")
    queue_email(db, to="forælder@example.dk", subject="Samtykke til bror", body="Giv samtykke.", now=NOW)
    db.commit()
    privacy.delete_account(db, mentor, now=NOW)
    db.expire_all()
    # The outbox cannot tell which child an e-mail to the shared address is about: all stay.
    remaining = set(db.exec(select(OutboxMessage.subject)).all())
    assert {"Samtykke", "Samtykke til bror"} <= remaining
    assert "Ny vagt" not in remaining
    assert db.get(MentorProfile, brother.id) is not None


@pytest.mark.parametrize(
    ("form", "fields"),
    [
        ({"password": "not my password", "confirm": "1"}, {"password"}),
        ({"password": PASSWORD}, {"confirm"}),
        ({}, {"password", "confirm"}),
    ],
)
def test_without_the_password_and_the_ticked_box_nothing_is_deleted(app, client, db, settings, world, form, fields):
    mentor = world["mentor"]
    log_in_at_now(app, client, db, mentor, settings)
    answer = post_form(client, "/mentor/delete", form)
    assert answer.status_code == 422
    for field in fields:
        assert f'id="{field}-error"' in answer.text
    db.expire_all()
    assert db.get(User, mentor.id) is not None
    assert db.get(MentorProfile, mentor.id) is not None
    assert db.get(Shift, world["coming"].id).status == ShiftStatus.signed_up
    assert count(db, OutboxMessage, OutboxMessage.to_address == mentor.email) == 2
    assert client.get("/mentor/privacy").status_code == 200  # still logged in


def test_only_a_mentor_s_account_is_deleted_this_way(db, world):
    with pytest.raises(Forbidden):
        privacy.delete_account(db, world["teacher"], now=NOW)
    assert db.get(User, world["teacher"].id) is not None


# --- accounts unused for two school years ------------------------------------------------------------


def danish(*args) -> datetime:
    return datetime(*args, tzinfo=TIMEZONE)


def test_the_cut_off_is_1_august_two_school_years_back():
    assert privacy.inactive_before(NOW) == danish(2024, 8, 1)
    assert privacy.inactive_before(danish(2027, 7, 31, 23, 59, 59)) == danish(2024, 8, 1)
    assert privacy.inactive_before(danish(2027, 8, 1)) == danish(2025, 8, 1)
    # 1 August begins in Denmark two hours before it does in UTC.
    assert privacy.inactive_before(datetime(2027, 7, 31, 22, tzinfo=UTC)) == danish(2025, 8, 1)


def test_the_worker_deletes_exactly_the_mentors_unused_for_two_school_years(db, settings):
    school = gymnasium(db)
    cut_off = danish(2025, 8, 1)  # for the school year that begins on 1 August 2027
    long_ago = danish(2020, 1, 1)
    just_before = make_mentor(db, school, created_at=long_ago, last_login_at=cut_off - timedelta(seconds=1))
    on_the_dot = make_mentor(db, school, created_at=long_ago, last_login_at=cut_off)
    never_logged_in = make_mentor(db, school, created_at=cut_off - timedelta(hours=1))
    new_never_logged_in = make_mentor(db, school, created_at=cut_off + timedelta(hours=1))
    came_back = make_mentor(db, school, created_at=long_ago, last_login_at=danish(2025, 6, 1))
    teacher = make_user(db, "teacher")
    teacher.created_at = teacher.last_login_at = long_ago
    db.add(teacher)
    db.commit()
    ids = {u.id for u in (just_before, on_the_dot, never_logged_in, new_never_logged_in, came_back, teacher)}

    def run(now: datetime) -> int:
        deleted = privacy.anonymise_inactive(db, now=now, settings=settings)
        db.expire_all()
        return deleted

    def warned() -> set[int]:
        return set(db.exec(select(Notification.user_id).where(Notification.kind == privacy.WARNING_KIND)).all())

    def alive() -> set[int]:
        return set(db.exec(select(User.id).where(User.id.in_(ids))).all())

    # A month before 1 August 2027, the mentors it will pass are warned; nobody is deleted yet.
    assert run(danish(2027, 7, 1, 23, 59)) == 0
    assert warned() == set()
    assert run(danish(2027, 7, 2)) == 0
    assert warned() == {just_before.id, never_logged_in.id, came_back.id}
    assert run(danish(2027, 7, 2, 12)) == 0  # warned once
    assert count(db, Notification, Notification.kind == privacy.WARNING_KIND) == 3
    [mail] = db.exec(select(OutboxMessage).where(OutboxMessage.to_address == just_before.email)).all()
    assert "1. august 2027" in mail.body and "/mentor/privacy" in mail.body

    # One logs in after the warning: that keeps the account.
    came_back.last_login_at = danish(2027, 7, 15)
    db.add(came_back)
    db.commit()
    assert run(danish(2027, 7, 31, 23, 59, 59)) == 0
    assert alive() == ids

    gone = {just_before.id, never_logged_in.id}
    assert run(danish(2027, 8, 1)) == 2
    assert alive() == ids - gone
    assert run(danish(2027, 8, 2)) == 0


def test_a_mentor_not_warned_in_time_is_deleted_a_month_after_the_warning(db, settings):
    school = gymnasium(db)
    mentor = make_mentor(db, school, created_at=danish(2020, 1, 1), last_login_at=danish(2024, 3, 1))
    mentor_id = mentor.id
    # The worker did not run in July: on 1 August the mentor is warned, not deleted.
    assert privacy.anonymise_inactive(db, now=danish(2027, 8, 1), settings=settings) == 0
    [warning] = db.exec(select(Notification).where(Notification.user_id == mentor_id)).all()
    assert "31. august 2027" in warning.body
    assert privacy.anonymise_inactive(db, now=danish(2027, 8, 30, 23), settings=settings) == 0
    assert privacy.anonymise_inactive(db, now=danish(2027, 8, 31, 0), settings=settings) == 1
    db.expire_all()
    assert db.get(User, mentor_id) is None
