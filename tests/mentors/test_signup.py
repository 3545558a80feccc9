"""Signing up as a youth-to-youth mentor (issue 14, first part): who may, and what waits next."""

from datetime import UTC, date, datetime

import pytest
from sqlmodel import func, select

from app.accounts.models import OrganisationKind, ProviderKind, Role, SchoolLevel, User
from app.deps import get_now
from app.mentors.models import MentorMunicipality, MentorProfile, MentorStatus, MentorTheme
from tests.factories import make_provider, make_school

NOW = datetime(2027, 3, 1, 10, tzinfo=UTC)


@pytest.fixture
def at_now(app, client):
    app.dependency_overrides[get_now] = lambda: NOW
    client.headers["Accept-Language"] = "da"
    yield
    app.dependency_overrides.pop(get_now, None)


def body(institution_id: int, **changes) -> dict:
    return {
        "email": "mille@elev.dk",
        "name": "Mille Mentor",
        "password": "grøn cykel ved åen",
        "birth_date": "2009-05-20",  # 17 on NOW
        "institution_id": institution_id,
        "study_programme": "STX, bioteknologi A",
        "themes": ["health", "food"],
        "municipalities": ["Aarhus", "Skanderborg"],
        "guardian_email": "forælder@example.dk",
        **changes,
    }


def rows(db, model) -> int:
    return db.exec(select(func.count()).select_from(model)).one()


def test_a_minor_waits_for_a_guardian_and_an_adult_for_approval(client, db, at_now):
    gymnasium = make_school(db, municipality="Aarhus")
    gymnasium.school_level = SchoolLevel.upper_secondary
    db.add(gymnasium)
    db.commit()

    minor = client.post("/api/v1/mentors/signup", json=body(gymnasium.id))
    assert minor.status_code == 201, minor.text
    assert minor.json()["status"] == "awaiting_consent"
    user = db.get(User, minor.json()["id"])
    profile = db.get(MentorProfile, user.id)
    assert (user.role, user.organisation_id, user.email) == (Role.mentor, gymnasium.id, "mille@elev.dk")
    assert (profile.birth_date, profile.guardian_email, profile.status) == (
        date(2009, 5, 20), "forælder@example.dk", MentorStatus.awaiting_consent
    )
    assert set(db.exec(select(MentorTheme.theme).where(MentorTheme.user_id == user.id)).all()) == {"health", "food"}

    university = make_provider(db, municipality="Aarhus")
    university.provider_kind = ProviderKind.university
    db.add(university)
    db.commit()
    adult = client.post(
        "/api/v1/mentors/signup",
        json=body(university.id, email="student@uni.dk", birth_date="2003-01-01", municipalities=[], guardian_email=None),
    )
    assert adult.status_code == 201, adult.text
    assert adult.json()["status"] == "awaiting_approval"
    profile = db.get(MentorProfile, adult.json()["id"])
    assert profile.guardian_email is None
    # No municipality chosen: their institution's.
    reach = db.exec(select(MentorMunicipality.municipality).where(MentorMunicipality.user_id == profile.user_id)).all()
    assert reach == ["Aarhus"]


def test_each_refusal_names_its_field_and_saves_nothing(client, db, at_now):
    gymnasium = make_school(db, municipality="Aarhus")
    gymnasium.school_level = SchoolLevel.upper_secondary
    primary = make_school(db, municipality="Aarhus")
    company = make_provider(db)
    db.add(gymnasium)
    db.commit()
    assert primary.school_level != SchoolLevel.upper_secondary and company.kind == OrganisationKind.provider
    taken = client.post("/api/v1/mentors/signup", json=body(gymnasium.id, email="taken@elev.dk"))
    assert taken.status_code == 201
    before = {model: rows(db, model) for model in (User, MentorProfile, MentorTheme, MentorMunicipality)}

    cases = [
        ({"birth_date": "2012-03-02"}, "birth_date", "mindst 15 år"),  # 14 on NOW, 15 tomorrow
        ({"birth_date": "2027-03-02"}, "birth_date", "fødselsdato"),
        ({"guardian_email": None}, "guardian_email", "forælder"),
        ({"guardian_email": "mille@elev.dk"}, "guardian_email", "forælder"),
        ({"institution_id": primary.id}, "institution_id", "gymnasium"),
        ({"institution_id": company.id}, "institution_id", "gymnasium"),
        ({"institution_id": 2_147_483_647}, "institution_id", "gymnasium"),
        ({"email": "taken@elev.dk"}, "email", "findes allerede"),
        ({"password": "1234567890"}, "password", "sværere at gætte"),
        ({"municipalities": ["Odense"]}, "municipalities", None),
        ({"themes": ["space"]}, "themes", None),
        ({"study_programme": "STX\nX-Header: y"}, "study_programme", None),
    ]
    for change, field, words in cases:
        answer = client.post("/api/v1/mentors/signup", json={**body(gymnasium.id), **change})
        assert answer.status_code == 422, (change, answer.text)
        detail = answer.json()["detail"]
        assert field in {str(part) for error in detail for part in error["loc"]}, (change, detail)
        if words:
            assert words in detail[0]["msg"], (change, detail)
    assert {model: rows(db, model) for model in before} == before


def test_fifteen_on_the_day_is_old_enough(client, db, at_now):
    gymnasium = make_school(db)
    gymnasium.school_level = SchoolLevel.upper_secondary
    db.add(gymnasium)
    db.commit()
    answer = client.post("/api/v1/mentors/signup", json=body(gymnasium.id, birth_date="2012-03-01"))
    assert answer.status_code == 201 and answer.json()["status"] == "awaiting_consent"


def test_a_mentor_a_coordinator_registers_is_approved_at_once(client, db, settings):
    from tests.factories import api_headers, make_user

    headers = api_headers(db, make_user(db, "coordinator"), settings)
    gymnasium = make_school(db, municipality="Herning")
    gymnasium.school_level = SchoolLevel.upper_secondary
    company = make_provider(db)
    db.add(gymnasium)
    db.commit()
    mentor = {"email": "vouched@elev.dk", "name": "Vagn Vejleder", "role": "mentor", "password": "grøn cykel ved åen"}

    for organisation_id in (None, company.id):
        refused = client.post("/api/v1/users", headers=headers, json={**mentor, "organisation_id": organisation_id})
        assert refused.status_code == 422 and refused.json()["detail"][0]["loc"] == ["body", "organisation_id"]
    answer = client.post(
        "/api/v1/users", headers=headers,
        json={**mentor, "organisation_id": gymnasium.id, "study_programme": "HTX", "themes": ["ict"]},
    )
    assert answer.status_code == 201, answer.text
    profile = db.get(MentorProfile, answer.json()["id"])
    assert (profile.status, profile.institution_id, profile.study_programme, profile.birth_date) == (
        MentorStatus.approved, gymnasium.id, "HTX", None
    )
    assert db.exec(select(MentorMunicipality.municipality).where(MentorMunicipality.user_id == profile.user_id)).all() == ["Herning"]
    # A teacher gets no mentor profile.
    teacher = client.post(
        "/api/v1/users", headers=headers,
        json={"email": "t@skole.dk", "name": "T", "role": "teacher", "organisation_id": make_school(db).id},
    )
    assert teacher.status_code == 201 and db.get(MentorProfile, teacher.json()["id"]) is None
