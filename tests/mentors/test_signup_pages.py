"""The public sign-up page of youth-to-youth mentoring, and the e-mailed link that verifies a new
mentor's address (issue 14)."""

import html
import re
from datetime import UTC, date, datetime, timedelta

import pytest
from sqlmodel import func, select

from app.accounts.models import AccountToken, ProviderKind, Role, SchoolLevel, User
from app.deps import get_now
from app.i18n import translations
from app.mentors import consent
from app.mentors.conduct import CONDUCT_VERSION
from app.mentors.models import MentorMunicipality, MentorProfile, MentorStatus, MentorTheme
from app.notifications.models import OutboxMessage
from tests.factories import error_summary, make_provider, make_school, post_form

NOW = datetime(2027, 3, 1, 10, tzinfo=UTC)


def da(message: str) -> str:
    """A message as a Danish visitor reads it (the catalogue's words once it has them)."""
    return translations("da").gettext(message)


@pytest.fixture
def clock(app):
    """The app's clock, fixed at NOW; set `clock.now` to move it."""

    class Clock:
        now = NOW

    app.dependency_overrides[get_now] = lambda: Clock.now
    yield Clock
    app.dependency_overrides.pop(get_now, None)


@pytest.fixture
def gymnasium(db):
    school = make_school(db, municipality="Aarhus", name="Aarhus Katedralskole")
    school.school_level = SchoolLevel.upper_secondary
    db.add(school)
    db.commit()
    return school


@pytest.fixture
def university(db):
    provider = make_provider(db, municipality="Aarhus", name="Aarhus Universitet")
    provider.provider_kind = ProviderKind.university
    db.add(provider)
    db.commit()
    return provider


def form(institution_id: int, **changes) -> dict:
    """The sign-up form as a 16-year-old fills it in (on NOW)."""
    return {
        "name": "Mille Mentor",
        "email": "mille@elev.dk",
        "password": "grøn cykel ved åen",
        "birth_date": "2010-06-01",
        "guardian_email": "far@example.dk",
        "institution_id": str(institution_id),
        "study_programme": "STX, bioteknologi A",
        "finishing_year": "2029",
        "themes": ["health", "food"],
        "municipalities": ["Aarhus", "Skanderborg"],
        "why_stem": "Jeg kan lide at forstå, hvordan kroppen virker.",
        "show_why_stem": "1",
        "accepts_code_of_conduct": "1",
        **changes,
    }


def outbox_to(db, address: str) -> list[OutboxMessage]:
    return db.exec(select(OutboxMessage).where(OutboxMessage.to_address == address)).all()


def link_in(body: str, path: str) -> str:
    found = re.search(rf"http://testserver({path}/[\w-]+)", body)
    assert found, body
    return found.group(1)


def test_the_page_lists_the_institutions_mentors_come_from(client, db, clock, gymnasium, university):
    primary = make_school(db, name="Skjoldhøjskolen")
    company = make_provider(db, name="Grundfos")
    page = client.get("/mentors/signup")
    assert page.status_code == 200
    text = html.unescape(page.text)
    assert text.count("<optgroup") == 2
    assert "Aarhus Katedralskole (Aarhus)" in text and "Aarhus Universitet (Aarhus)" in text
    assert primary.name not in text and company.name not in text
    # The code of conduct, and what schools see (and never see), on the page itself.
    assert da("The class's teacher stays with the class the whole time. A mentor is never alone with pupils.") in text
    assert 'name="accepts_code_of_conduct"' in text and 'name="guardian_email"' in text
    assert len(re.findall(r'name="municipalities"', text)) == 19


def test_a_sixteen_year_old_signs_up_and_their_guardian_is_asked(client, db, clock, gymnasium):
    answer = post_form(client, "/mentors/signup", form(gymnasium.id))
    assert answer.status_code == 303, answer.text[:2000]
    assert answer.headers["location"] == "/mentors/signup/done?guardian=1"

    user = db.exec(select(User).where(User.email == "mille@elev.dk")).one()
    profile = db.get(MentorProfile, user.id)
    assert (user.role, user.organisation_id, user.language) == (Role.mentor, gymnasium.id, "da")
    assert (profile.status, profile.birth_date, profile.guardian_email) == (
        MentorStatus.awaiting_consent, date(2010, 6, 1), "far@example.dk"
    )
    assert (profile.finishing_year, profile.show_why_stem, profile.study_programme) == (2029, True, "STX, bioteknologi A")
    assert (profile.conduct_version, profile.conduct_accepted_at) == (CONDUCT_VERSION, NOW)
    assert profile.email_verified_at is None
    themes = db.exec(select(MentorTheme.theme).where(MentorTheme.user_id == user.id)).all()
    reach = db.exec(select(MentorMunicipality.municipality).where(MentorMunicipality.user_id == user.id)).all()
    assert set(themes) == {"health", "food"} and set(reach) == {"Aarhus", "Skanderborg"}

    # Two e-mails wait in the outbox, in Danish: the mentor's link and the guardian's.
    (to_mentor,) = outbox_to(db, "mille@elev.dk")
    (to_guardian,) = outbox_to(db, "far@example.dk")
    assert to_mentor.subject == da("Confirm your e-mail address for the STEM portal")
    link_in(to_mentor.body, "/mentors/verify")
    assert "Mille Mentor" in to_guardian.subject and "Aarhus Katedralskole" in to_guardian.body
    link_in(to_guardian.body, "/mentors/consent")

    done = client.get(answer.headers["location"])
    assert done.status_code == 200
    assert da("Because you are under %(age)d, we have asked your parent or guardian by e-mail to consent. Ask them to look for the e-mail.") % {"age": 18} in html.unescape(done.text)


def test_an_adult_signs_up_and_waits_for_approval(client, db, clock, university):
    answer = post_form(
        client,
        "/mentors/signup",
        form(university.id, email="student@uni.dk", birth_date="2003-01-01", guardian_email="", municipalities=[]),
    )
    assert answer.status_code == 303, answer.text[:2000]
    assert answer.headers["location"] == "/mentors/signup/done"
    user = db.exec(select(User).where(User.email == "student@uni.dk")).one()
    profile = db.get(MentorProfile, user.id)
    assert (profile.status, profile.guardian_email, profile.conduct_version) == (
        MentorStatus.awaiting_approval, None, CONDUCT_VERSION
    )
    assert db.exec(select(MentorMunicipality.municipality).where(MentorMunicipality.user_id == user.id)).all() == ["Aarhus"]
    assert [m.to_address for m in db.exec(select(OutboxMessage)).all()] == ["student@uni.dk"]
    done = client.get("/mentors/signup/done")
    assert "guardian" not in done.text and "forælder" not in done.text


def rows(db, model) -> int:
    return db.exec(select(func.count()).select_from(model)).one()


def test_every_wrong_field_is_named_in_danish_and_nothing_is_saved(client, db, clock, gymnasium):
    primary = make_school(db)
    assert post_form(client, "/mentors/signup", form(gymnasium.id, email="taken@elev.dk", guardian_email="mor@example.dk")).status_code == 303
    models = (User, MentorProfile, MentorTheme, MentorMunicipality, AccountToken, OutboxMessage)
    before = {model: rows(db, model) for model in models}

    # (the change, the field named, Danish words of its message: the catalogue's, or for a message
    # the catalogue does not have yet, whatever it will say)
    institution = "Vælg dit gymnasium"
    cases = [
        ({"name": ""}, "name", "Udfyld dette felt"),
        ({"name": "x" * 201}, "name", "Brug højst 200 tegn"),
        ({"email": ""}, "email", "Udfyld dette felt"),
        ({"email": "mille-at-elev.dk"}, "email", "gyldig e-mailadresse"),
        ({"email": "taken@elev.dk"}, "email", "findes allerede"),
        ({"password": "kort"}, "password", "Brug mindst 10 tegn"),
        ({"password": "1234567890"}, "password", "sværere at gætte"),
        ({"birth_date": ""}, "birth_date", "Skriv din fødselsdato"),
        ({"birth_date": "1. juni 2010"}, "birth_date", "Skriv din fødselsdato"),
        ({"birth_date": "2028-01-01"}, "birth_date", "Skriv din fødselsdato"),
        ({"birth_date": "2012-03-02"}, "birth_date", "mindst 15 år"),  # 15 tomorrow
        ({"guardian_email": ""}, "guardian_email", "forælder"),
        ({"guardian_email": "far(at)example.dk"}, "guardian_email", "gyldig e-mailadresse"),
        ({"guardian_email": "mille@elev.dk"}, "guardian_email", "forælder"),
        ({"institution_id": ""}, "institution_id", institution),
        ({"institution_id": "Aarhus Katedralskole"}, "institution_id", institution),
        ({"institution_id": str(primary.id)}, "institution_id", institution),
        ({"institution_id": "2147483647"}, "institution_id", institution),
        ({"study_programme": ""}, "study_programme", "Udfyld dette felt"),
        ({"finishing_year": "1999"}, "finishing_year", "Skriv et tal på mindst 2000"),
        ({"finishing_year": "snart"}, "finishing_year", "Skriv et helt tal"),
        ({"themes": ["space"]}, "themes", "Vælg en af mulighederne på listen"),
        ({"municipalities": ["Odense"]}, "municipalities", "Vælg en af kommunerne på listen"),
        ({"why_stem": "x" * 1001}, "why_stem", "Brug højst 1000 tegn"),
        ({"accepts_code_of_conduct": ""}, "accepts_code_of_conduct", da("Tick that you will follow the code of conduct.")),
    ]
    for change, field, words in cases:
        answer = post_form(client, "/mentors/signup", {**form(gymnasium.id), **change})
        assert answer.status_code == 422, (change, answer.status_code)
        text = html.unescape(answer.text)
        beside = re.search(rf'<p class="field-error" id="{field}-error">(.*?)</p>', text, re.S)
        assert beside and words in beside.group(1), (change, beside and beside.group(1))
        summary = {name: html.unescape(item) for name, item in error_summary(answer.text).items()}
        assert list(summary) == [field], (change, summary)
        assert words in summary[field], (change, summary)
        # What was typed stays (but never the password).
        assert "grøn cykel ved åen" not in text
        if field != "name":
            assert 'value="Mille Mentor"' in text
    assert {model: rows(db, model) for model in models} == before


def test_the_verification_link_works_once_and_then_says_so(client, db, clock, gymnasium, settings):
    assert post_form(client, "/mentors/signup", form(gymnasium.id)).status_code == 303
    mentor = db.exec(select(User).where(User.email == "mille@elev.dk")).one()
    (mail,) = outbox_to(db, mentor.email)
    link = link_in(mail.body, "/mentors/verify")
    assert consent.needs_email_verification(db, mentor)

    # An unverified mentor can log in.
    logged_in = post_form(client, "/login", {"email": mentor.email, "password": "grøn cykel ved åen"})
    assert logged_in.status_code == 303 and logged_in.headers["location"] == "/"

    clock.now = NOW + timedelta(hours=3)
    opened = client.get(link)
    assert opened.status_code == 200
    assert mentor.email in opened.text
    db.refresh(db.get(MentorProfile, mentor.id))
    assert db.get(MentorProfile, mentor.id).email_verified_at == clock.now
    assert not consent.needs_email_verification(db, mentor)

    again = client.get(link)
    assert again.status_code == 404
    assert da("This link has expired or has already been used.") in html.unescape(again.text)
    assert client.get("/mentors/verify/not-a-token").status_code == 404


def test_an_expired_verification_link_says_so_and_a_new_one_works(client, db, clock, gymnasium, settings):
    assert post_form(client, "/mentors/signup", form(gymnasium.id)).status_code == 303
    mentor = db.exec(select(User).where(User.email == "mille@elev.dk")).one()
    old = link_in(outbox_to(db, mentor.email)[0].body, "/mentors/verify")
    clock.now = NOW + timedelta(days=settings.verify_email_days)
    expired = client.get(old)
    assert expired.status_code == 404 and da("The link does not work") in html.unescape(expired.text)

    consent.resend_verification(db, mentor, now=clock.now, settings=settings)
    new = link_in(outbox_to(db, mentor.email)[-1].body, "/mentors/verify")
    assert new != old and client.get(new).status_code == 200


def test_the_api_records_the_code_of_conduct_when_accepted(client, db, clock, university):
    body = {
        "email": "api@uni.dk",
        "name": "Api Mentor",
        "password": "grøn cykel ved åen",
        "birth_date": "2001-01-01",
        "institution_id": university.id,
        "study_programme": "Maskiningeniør",
    }
    without = client.post("/api/v1/mentors/signup", json=body)
    assert without.status_code == 201, without.text
    assert db.get(MentorProfile, without.json()["id"]).conduct_accepted_at is None
    accepted = client.post("/api/v1/mentors/signup", json={**body, "email": "api2@uni.dk", "accepts_code_of_conduct": True})
    assert accepted.status_code == 201, accepted.text
    profile = db.get(MentorProfile, accepted.json()["id"])
    assert (profile.conduct_version, profile.conduct_accepted_at) == (CONDUCT_VERSION, NOW)
    # Its address is verified by link too.
    assert outbox_to(db, "api2@uni.dk")
    refused = client.post("/api/v1/mentors/signup", json={**body, "email": "api3@uni.dk", "accepts_code_of_conduct": "yes"})
    assert refused.status_code == 422
