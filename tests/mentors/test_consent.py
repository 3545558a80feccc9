"""A minor mentor's guardian consents from the e-mailed link, and may withdraw it (issue 14). The
e-mails go through the outbox, sent by the worker's send_outbox to a real SMTP server the tests
start (tests/conftest.py), and the links in them are followed."""

import html
import re
from datetime import UTC, datetime, timedelta

import pytest
from sqlmodel import select

from app.accounts.models import ProviderKind, SchoolLevel, User
from app.deps import get_now
from app.i18n import translations
from app.mentors.conduct import CONSENT_TEXT_VERSION
from app.mentors.models import GuardianConsent, MentorProfile, MentorStatus, Shift, ShiftStatus
from app.notifications.models import Notification
from tests.factories import error_summary, make_provider, make_school, post_form, published_session

NOW = datetime(2027, 3, 1, 10, tzinfo=UTC)
GUARDIAN = "far@example.dk"


def da(message: str) -> str:
    return translations("da").gettext(message)


@pytest.fixture
def clock(app):
    class Clock:
        now = NOW

    app.dependency_overrides[get_now] = lambda: Clock.now
    yield Clock
    app.dependency_overrides.pop(get_now, None)


@pytest.fixture
def mentor(client, db, clock) -> User:
    """A 16-year-old signed up on the page, whose guardian's e-mail waits in the outbox."""
    gymnasium = make_school(db, municipality="Aarhus", name="Aarhus Katedralskole")
    gymnasium.school_level = SchoolLevel.upper_secondary
    db.add(gymnasium)
    db.commit()
    signed_up = post_form(
        client,
        "/mentors/signup",
        {
            "name": "Mille Mentor",
            "email": "mille@elev.dk",
            "password": "grøn cykel ved åen",
            "birth_date": "2010-06-01",
            "guardian_email": GUARDIAN,
            "institution_id": str(gymnasium.id),
            "study_programme": "STX, bioteknologi A",
            "themes": ["health"],
            "accepts_code_of_conduct": "1",
        },
    )
    assert signed_up.status_code == 303, signed_up.text[:2000]
    return db.exec(select(User).where(User.email == "mille@elev.dk")).one()


def mailed_link(mailbox, path: str) -> str:
    """The path of the one link to `path` in the last e-mail the guardian got."""
    mail = mailbox.to(GUARDIAN)[-1]
    found = re.findall(rf"http://testserver({path})", mail.get_content())
    assert len(found) == 1, mail.get_content()
    return found[0]


def consents(db, mentor: User) -> list[GuardianConsent]:
    return db.exec(select(GuardianConsent).where(GuardianConsent.mentor_id == mentor.id)).all()


def test_the_guardian_consents_from_the_mailed_link_and_can_withdraw(client, db, clock, mailbox, send_outbox, mentor):
    assert send_outbox(NOW) == 2  # the mentor's verification, the guardian's request
    (request,) = mailbox.to(GUARDIAN)
    assert "Mille Mentor" in request["Subject"]
    link = mailed_link(mailbox, r"/mentors/consent/[\w-]+")

    clock.now = NOW + timedelta(days=2)
    page = client.get(link)
    assert page.status_code == 200
    text = html.unescape(page.text)
    # Who the mentor is, what is stored and who sees it, and how to withdraw: in Danish first.
    assert "Mille Mentor" in text and "Aarhus Katedralskole" in text and CONSENT_TEXT_VERSION in text
    for heading in ("What we store, and why", "Who sees what", "How long we keep it", "How to withdraw your consent"):
        assert f"<h2>{da(heading)}</h2>" in text
    assert 'lang="da"' in text

    # Name and tick are required; nothing is recorded without them.
    refused = post_form(client, link, {"guardian_name": ""})
    assert refused.status_code == 422
    assert set(error_summary(refused.text)) == {"guardian_name", "consents"}
    assert consents(db, mentor) == []

    given = post_form(client, link, {"guardian_name": "Frede Forælder", "consents": "1"})
    assert given.status_code == 303 and given.headers["location"] == "/mentors/consent-given"
    assert client.get("/mentors/consent-given").status_code == 200
    (consent,) = consents(db, mentor)
    assert (consent.guardian_name, consent.guardian_email, consent.text_version, consent.consented_at) == (
        "Frede Forælder", GUARDIAN, CONSENT_TEXT_VERSION, clock.now
    )
    assert consent.withdrawn_at is None
    assert db.get(MentorProfile, mentor.id).status == MentorStatus.awaiting_approval
    told = db.exec(select(Notification.kind).where(Notification.user_id == mentor.id)).all()
    assert told == ["mentor_consent_given"]

    # The link is spent: a clear page, not an error.
    again = client.get(link)
    assert again.status_code == 404 and da("The link does not work") in html.unescape(again.text)
    assert post_form(client, link, {"guardian_name": "Frede Forælder", "consents": "1"}).status_code == 404
    assert len(consents(db, mentor)) == 1

    # The receipt carries a link to withdraw, which works later; the consent link's page refuses it.
    send_outbox(clock.now)
    withdraw = mailed_link(mailbox, r"/mentors/consent/[\w-]+/withdraw")
    assert client.get(withdraw.removesuffix("/withdraw")).status_code == 404
    _offer, future = published_session(db)
    _offer, past = published_session(db)
    # On the fixed clock: one date after the withdrawal, one before it.
    for date, starts in ((future, NOW + timedelta(days=60)), (past, NOW - timedelta(days=30))):
        date.starts_at, date.ends_at = starts, starts + timedelta(hours=2)
    db.add_all([future, past])
    shifts = [
        Shift(session_id=s.id, mentor_id=mentor.id, status=status, created_at=NOW, updated_at=NOW)
        for s, status in ((future, ShiftStatus.signed_up), (past, ShiftStatus.completed))
    ]
    db.add_all(shifts)
    profile = db.get(MentorProfile, mentor.id)
    profile.status = MentorStatus.approved
    db.add(profile)
    db.commit()

    clock.now = NOW + timedelta(days=40)
    explained = client.get(withdraw)
    assert explained.status_code == 200 and "Mille Mentor" in explained.text
    withdrawn = post_form(client, withdraw)
    assert withdrawn.status_code == 303 and withdrawn.headers["location"] == "/mentors/consent-withdrawn"
    assert client.get("/mentors/consent-withdrawn").status_code == 200
    db.expire_all()
    assert consents(db, mentor)[0].withdrawn_at == clock.now
    assert db.get(MentorProfile, mentor.id).status == MentorStatus.awaiting_consent
    # Only the dates to come are dropped: past hours stay.
    assert [db.get(Shift, s.id).status for s in shifts] == [ShiftStatus.left, ShiftStatus.completed]
    told = db.exec(select(Notification.kind).where(Notification.user_id == mentor.id)).all()
    assert "mentor_consent_withdrawn" in told
    send_outbox(clock.now)
    assert da("Your parent or guardian has withdrawn their consent") in [m["Subject"] for m in mailbox.to("mille@elev.dk")]

    # Spent too.
    assert client.get(withdraw).status_code == 404
    assert post_form(client, withdraw).status_code == 404


def test_an_expired_consent_link_gives_a_clear_page(client, db, clock, mailbox, send_outbox, mentor, settings):
    send_outbox(NOW)
    link = mailed_link(mailbox, r"/mentors/consent/[\w-]+")
    clock.now = NOW + timedelta(days=settings.guardian_consent_days)
    for answer in (client.get(link), post_form(client, link, {"guardian_name": "Frede", "consents": "1"})):
        assert answer.status_code == 404
        text = html.unescape(answer.text)
        assert da("The link does not work") in text and da("This link has expired or has already been used.") in text
    assert consents(db, mentor) == []
    assert db.get(MentorProfile, mentor.id).status == MentorStatus.awaiting_consent
    assert client.get("/mentors/consent/nonsense").status_code == 404
    assert client.get("/mentors/consent/nonsense/withdraw").status_code == 404


def test_the_consent_link_withdraws_nothing(client, db, clock, mailbox, send_outbox, mentor):
    send_outbox(NOW)
    link = mailed_link(mailbox, r"/mentors/consent/[\w-]+")
    assert client.get(f"{link}/withdraw").status_code == 404
    assert post_form(client, f"{link}/withdraw").status_code == 404
    # ... and is still good for consenting.
    assert client.get(link).status_code == 200


def test_a_withdrawal_keeps_a_rejected_mentor_rejected(client, db, clock, mailbox, send_outbox, mentor):
    send_outbox(NOW)
    link = mailed_link(mailbox, r"/mentors/consent/[\w-]+")
    assert post_form(client, link, {"guardian_name": "Frede Forælder", "consents": "1"}).status_code == 303
    profile = db.get(MentorProfile, mentor.id)
    profile.status = MentorStatus.rejected
    db.add(profile)
    db.commit()
    send_outbox(NOW)
    withdraw = mailed_link(mailbox, r"/mentors/consent/[\w-]+/withdraw")
    assert post_form(client, withdraw).status_code == 303
    db.expire_all()
    assert db.get(MentorProfile, mentor.id).status == MentorStatus.rejected
    assert consents(db, mentor)[0].withdrawn_at == NOW


def test_an_adult_mentor_has_no_guardian_to_ask(client, db, clock, mailbox, send_outbox):
    university = make_provider(db, name="VIA University College")
    university.provider_kind = ProviderKind.college
    db.add(university)
    db.commit()
    answer = client.post(
        "/api/v1/mentors/signup",
        json={
            "email": "voksen@via.dk",
            "name": "Voksen",
            "password": "grøn cykel ved åen",
            "birth_date": "2000-01-01",
            "institution_id": university.id,
            "study_programme": "Bygningskonstruktør",
            "guardian_email": GUARDIAN,
        },
    )
    assert answer.status_code == 201
    assert send_outbox(NOW) == 1
    assert mailbox.to(GUARDIAN) == [] and len(mailbox.to("voksen@via.dk")) == 1
