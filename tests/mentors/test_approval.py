"""Deciding on mentors and their child certificates (issue 14, second part): who may decide, the
decisions and what the mentor is told, the certificate's rules, the API and the pages."""

from datetime import date, timedelta

import pytest
from dateutil.relativedelta import relativedelta
from sqlmodel import col, func, select

from app.accounts.models import Role, User
from app.db import utcnow
from app.deps import get_now
from app.errors import Conflict, Forbidden, InvalidInput, NotFound
from app.i18n import TIMEZONE
from app.mentors import approval, safeguarding, shifts
from app.mentors.models import (
    ChildCertificateCheck,
    MentorProfile,
    MentorStatus,
    Shift,
    ShiftStatus,
)
from app.notifications.models import Notification, OutboxMessage
from tests.factories import (
    api_headers,
    error_summary,
    log_in,
    make_institution,
    make_mentor,
    make_provider,
    make_school,
    make_user,
    mentoring_date,
    post_form,
)

NOW = utcnow().replace(microsecond=0)
TODAY = NOW.astimezone(TIMEZONE).date()


@pytest.fixture
def at_now(app):
    app.dependency_overrides[get_now] = lambda: NOW
    yield
    app.dependency_overrides.pop(get_now, None)


@pytest.fixture
def gymnasium(db):
    return make_institution(db, municipality="Aarhus")


def profile_of(db, mentor: User) -> MentorProfile:
    db.expire_all()
    return db.get(MentorProfile, mentor.id)


def count(db, model, *where) -> int:
    return db.exec(select(func.count()).select_from(model).where(*where)).one()


# --- who may decide -------------------------------------------------------------------------------


def test_the_institutions_own_staff_and_its_coordinators_decide(db, gymnasium):
    university = make_institution(db, higher_education=True, municipality="Herning")
    pupil = make_mentor(db, institution=gymnasium, status="awaiting_approval")
    student = make_mentor(db, institution=university, status="awaiting_approval")
    own_teacher = make_user(db, Role.teacher, organisation=gymnasium)
    other_teacher = make_user(db, Role.teacher, organisation=make_institution(db))
    university_staff = make_user(db, Role.provider, organisation=university)
    aarhus = make_user(db, Role.coordinator, municipality="Aarhus")
    region = make_user(db, Role.coordinator)

    def seen(actor) -> set[int]:
        return {m.profile.user_id for m in approval.list_mentors(db, actor)[0]}

    assert seen(own_teacher) == {pupil.id}
    assert seen(university_staff) == {student.id}
    assert seen(other_teacher) == set()
    assert seen(aarhus) == {pupil.id}
    assert {pupil.id, student.id} <= seen(region)
    # Another's mentor is not found, so nobody learns who exists.
    for actor, mentor in ((other_teacher, pupil), (aarhus, student), (own_teacher, student)):
        with pytest.raises(NotFound):
            approval.get_mentor(db, actor, mentor.id)
        with pytest.raises(NotFound):
            approval.approve_mentor(db, actor, mentor.id, now=NOW)
    approval.approve_mentor(db, own_teacher, pupil.id, now=NOW)
    approval.approve_mentor(db, university_staff, student.id, now=NOW)
    assert profile_of(db, pupil).status == profile_of(db, student).status == MentorStatus.approved
    assert profile_of(db, pupil).decided_by_id == own_teacher.id


def test_others_may_not_decide_at_all(db, gymnasium):
    mentor = make_mentor(db, institution=gymnasium, status="awaiting_approval")
    primary_teacher = make_user(db, Role.teacher, organisation=make_school(db, municipality="Aarhus"))
    company = make_user(db, Role.provider, organisation=make_provider(db, municipality="Aarhus"))
    # A teacher who is no mentor institution's staff; a mentor of the same school, and the mentor.
    mentors = [make_mentor(db, institution=gymnasium), mentor]
    for actor in (primary_teacher, company, *mentors):
        with pytest.raises(Forbidden):
            approval.list_mentors(db, actor)
        with pytest.raises(Forbidden):
            approval.approve_mentor(db, actor, mentor.id, now=NOW)
    assert profile_of(db, mentor).status == MentorStatus.awaiting_approval


def test_nobody_decides_on_themselves(db, gymnasium):
    # A mentor never has a deciding role; the query also leaves the actor out, whatever the role.
    mentor = make_mentor(db, institution=gymnasium, status="awaiting_approval")
    mentor.role = Role.coordinator  # as if someone made them one
    mentor.organisation_id = None
    db.add(mentor)
    db.commit()
    with pytest.raises(NotFound):
        approval.approve_mentor(db, mentor, mentor.id, now=NOW)


# --- the decisions --------------------------------------------------------------------------------


def test_no_approval_while_a_guardian_has_not_consented(db, gymnasium):
    teacher = make_user(db, Role.teacher, organisation=gymnasium)
    minor = make_mentor(db, institution=gymnasium, status="awaiting_consent")
    with pytest.raises(Conflict, match="forælder eller værge"):
        approval.approve_mentor(db, teacher, minor.id, now=NOW)
    assert profile_of(db, minor).status == MentorStatus.awaiting_consent
    assert count(db, Notification, Notification.user_id == minor.id) == 0


def test_a_decision_is_told_to_the_mentor_in_their_language(db, gymnasium):
    teacher = make_user(db, Role.teacher, organisation=gymnasium)
    mentor = make_mentor(db, institution=gymnasium, status="awaiting_approval")
    mentor.language = "en"
    db.add(mentor)
    db.commit()
    approval.reject_mentor(db, teacher, mentor.id, reason="  Not a pupil of ours  ", now=NOW)
    profile = profile_of(db, mentor)
    assert (profile.status, profile.status_reason, profile.decided_by_id, profile.decided_at) == (
        MentorStatus.rejected, "Not a pupil of ours", teacher.id, NOW
    )
    message = db.exec(select(Notification).where(Notification.user_id == mentor.id)).one()
    assert message.kind == "mentor_rejected"
    assert message.subject == "Your sign-up as a mentor was not approved"
    assert "Not a pupil of ours" in message.body
    mail = db.exec(select(OutboxMessage).where(OutboxMessage.to_address == mentor.email)).one()
    assert mail.subject == message.subject and "Not a pupil of ours" in mail.body


def test_reject_needs_a_reason_and_saves_nothing_without_one(db, gymnasium):
    teacher = make_user(db, Role.teacher, organisation=gymnasium)
    mentor = make_mentor(db, institution=gymnasium, status="awaiting_approval")
    for reason in ("", "   ", "x" * 501):
        with pytest.raises(InvalidInput) as refused:
            approval.reject_mentor(db, teacher, mentor.id, reason=reason, now=NOW)
        assert refused.value.field == "reason"
    assert profile_of(db, mentor).status == MentorStatus.awaiting_approval
    assert count(db, Notification, Notification.user_id == mentor.id) == 0


def test_pause_drops_future_shifts_and_resume_and_retire(db, gymnasium):
    teacher = make_user(db, Role.teacher, organisation=gymnasium)
    mentor = make_mentor(db, institution=gymnasium)
    date_ = mentoring_date(db, starts_at=NOW + timedelta(days=20))
    shift = shifts.sign_up(db, mentor, date_.id, now=NOW)
    assert shift.status == ShiftStatus.signed_up

    with pytest.raises(Conflict):
        approval.resume_mentor(db, teacher, mentor.id, now=NOW)  # not paused
    approval.pause_mentor(db, teacher, mentor.id, reason="Exams", now=NOW)
    profile = profile_of(db, mentor)
    assert (profile.status, profile.paused_at, profile.status_reason) == (MentorStatus.paused, NOW, "Exams")
    assert db.get(Shift, shift.id).status == ShiftStatus.left
    with pytest.raises(Conflict):
        approval.pause_mentor(db, teacher, mentor.id, now=NOW)  # already paused

    later = NOW + timedelta(days=30)
    approval.resume_mentor(db, teacher, mentor.id, now=later)
    profile = profile_of(db, mentor)
    assert (profile.status, profile.paused_at, profile.decided_at) == (MentorStatus.approved, None, later)
    approval.retire_mentor(db, teacher, mentor.id, now=later)
    assert profile_of(db, mentor).status == MentorStatus.retired
    for decision in (approval.approve_mentor, approval.resume_mentor, approval.retire_mentor):
        with pytest.raises(Conflict):
            decision(db, teacher, mentor.id, now=later)
    kinds = db.exec(
        select(Notification.kind).where(Notification.user_id == mentor.id).order_by(col(Notification.id))
    ).all()
    assert kinds[-3:] == ["mentor_paused", "mentor_approved", "mentor_retired"]


# --- the child certificate ------------------------------------------------------------------------


def test_an_assessment_holds_a_year_at_most(db, gymnasium):
    teacher = make_user(db, Role.teacher, organisation=gymnasium)
    mentor = make_mentor(db, institution=gymnasium)
    assessed = TODAY - timedelta(days=10)
    check = safeguarding.record_assessment(db, teacher, mentor.id, assessed_on=assessed, now=NOW)
    assert (check.valid_until, check.assessed_by_id) == (assessed + relativedelta(years=1), teacher.id)
    holds = lambda day: safeguarding.certificate_holds(db, mentor.id, day)  # noqa: E731
    assert not holds(assessed - timedelta(days=1))
    assert holds(assessed) and holds(check.valid_until)
    assert not holds(check.valid_until + timedelta(days=1))

    before = count(db, ChildCertificateCheck)
    cases = [
        ({"assessed_on": TODAY + timedelta(days=1)}, "assessed_on"),
        ({"assessed_on": assessed, "valid_until": assessed + relativedelta(years=1, days=1)}, "valid_until"),
        ({"assessed_on": assessed, "valid_until": assessed - timedelta(days=1)}, "valid_until"),
    ]
    for change, field in cases:
        with pytest.raises(InvalidInput) as refused:
            safeguarding.record_assessment(db, teacher, mentor.id, now=NOW, **change)
        assert refused.value.field == field
    assert count(db, ChildCertificateCheck) == before
    # Only who may decide on the mentor records one.
    with pytest.raises(NotFound):
        safeguarding.record_assessment(
            db, make_user(db, Role.teacher, organisation=make_institution(db)), mentor.id, assessed_on=assessed, now=NOW
        )


def test_a_pause_of_more_than_six_months_voids_the_assessment(db, gymnasium):
    teacher = make_user(db, Role.teacher, organisation=gymnasium)
    mentor, short = make_mentor(db, institution=gymnasium), make_mentor(db, institution=gymnasium)
    for m in (mentor, short):
        safeguarding.record_assessment(db, teacher, m.id, assessed_on=TODAY, now=NOW)
        approval.pause_mentor(db, teacher, m.id, now=NOW)
    six_months = TODAY + relativedelta(months=6)
    # While paused: it holds until six months into the pause (also in SQL, for many mentors at once).
    assert safeguarding.certificate_holds(db, mentor.id, six_months - timedelta(days=1))
    assert not safeguarding.certificate_holds(db, mentor.id, six_months)
    in_query = lambda day: set(  # noqa: E731
        db.exec(
            select(MentorProfile.user_id).where(
                col(MentorProfile.user_id).in_([mentor.id, short.id]),
                safeguarding.certificate_clause(MentorProfile.user_id, day),
            )
        ).all()
    )
    assert in_query(six_months - timedelta(days=1)) == {mentor.id, short.id}
    assert in_query(six_months) == set()

    # Resumed after seven months: the assessment ended when the pause voided it; after two, it holds.
    approval.resume_mentor(db, teacher, mentor.id, now=NOW + relativedelta(months=7))
    approval.resume_mentor(db, teacher, short.id, now=NOW + relativedelta(months=2))
    check = db.exec(select(ChildCertificateCheck).where(ChildCertificateCheck.mentor_id == mentor.id)).one()
    assert check.valid_until == six_months - timedelta(days=1)
    assert not safeguarding.certificate_holds(db, mentor.id, TODAY + relativedelta(months=8))
    assert safeguarding.certificate_holds(db, short.id, TODAY + relativedelta(months=8))
    assert safeguarding.certificates_valid_until(db, [mentor.id, short.id]) == {
        mentor.id: six_months - timedelta(days=1),
        short.id: TODAY + relativedelta(years=1),
    }
    # A new assessment after the pause holds again.
    later = NOW + relativedelta(months=7)
    safeguarding.record_assessment(db, teacher, mentor.id, assessed_on=later.astimezone(TIMEZONE).date(), now=later)
    assert safeguarding.certificate_holds(db, mentor.id, TODAY + relativedelta(months=8))


def test_grades_under_15():
    assert safeguarding.GRADE_UNDER_15_MAX == 8


# --- the API --------------------------------------------------------------------------------------


def test_the_api_lists_what_the_caller_may_see(client, db, settings, gymnasium, at_now):
    waiting = make_mentor(db, institution=gymnasium, status="awaiting_approval")
    minor = make_mentor(db, institution=gymnasium, status="awaiting_consent")
    db.get(MentorProfile, waiting.id).birth_date = date(2009, 5, 20)
    db.commit()
    safeguarding.record_assessment(db, make_user(db, Role.admin), waiting.id, assessed_on=TODAY, now=NOW)
    make_mentor(db, institution=make_institution(db), status="awaiting_approval")  # another school's
    teacher = make_user(db, Role.teacher, organisation=gymnasium)

    answer = client.get("/api/v1/mentors", headers=api_headers(db, teacher, settings))
    assert answer.status_code == 200, answer.text
    body = answer.json()
    assert body["total"] == 2
    assert [i["id"] for i in body["items"]] == [waiting.id, minor.id]  # the longest waiting first
    item = body["items"][0]
    assert item == {
        "id": waiting.id,
        "name": waiting.name,
        "status": "awaiting_approval",
        "institution_id": gymnasium.id,
        "institution_name": gymnasium.name,
        "study_programme": "STX, fysik A",
        "created_at": item["created_at"],
        "certificate_valid_until": (TODAY + relativedelta(years=1)).isoformat(),
        "email": None,
    }
    assert waiting.email not in answer.text and "2009-05-20" not in answer.text

    only = client.get(
        "/api/v1/mentors", params={"status": "awaiting_consent", "limit": 1}, headers=api_headers(db, teacher, settings)
    ).json()
    assert (only["total"], [i["id"] for i in only["items"]]) == (1, [minor.id])
    coordinator = make_user(db, Role.coordinator, municipality="Aarhus")
    seen = client.get("/api/v1/mentors", headers=api_headers(db, coordinator, settings)).json()
    assert waiting.email in {i["email"] for i in seen["items"]}
    assert client.get("/api/v1/mentors", params={"status": "nope"}, headers=api_headers(db, teacher, settings)).status_code == 422


def test_the_api_decides(client, db, settings, gymnasium, at_now):
    teacher = make_user(db, Role.teacher, organisation=gymnasium)
    headers = api_headers(db, teacher, settings)
    minor = make_mentor(db, institution=gymnasium, status="awaiting_consent")
    mentor = make_mentor(db, institution=gymnasium, status="awaiting_approval")

    refused = client.post(f"/api/v1/mentors/{minor.id}/approve", headers=headers)
    assert refused.status_code == 409 and "guardian" in refused.json()["detail"]
    no_reason = client.post(f"/api/v1/mentors/{minor.id}/reject", headers=headers, json={"reason": " "})
    assert no_reason.status_code == 422 and no_reason.json()["detail"][0]["loc"] == ["body", "reason"]
    rejected = client.post(f"/api/v1/mentors/{minor.id}/reject", headers=headers, json={"reason": "Moved away"})
    assert rejected.json() == {"id": minor.id, "status": "rejected"}

    steps = [("approve", None, "approved"), ("pause", {"reason": "Exams"}, "paused"), ("resume", None, "approved"),
             ("pause", None, "paused"), ("retire", {}, "retired")]
    for action, body, status in steps:
        answer = client.post(f"/api/v1/mentors/{mentor.id}/{action}", headers=headers, json=body)
        assert answer.status_code == 200, (action, answer.text)
        assert answer.json() == {"id": mentor.id, "status": status}
    assert client.post(f"/api/v1/mentors/{mentor.id}/approve", headers=headers).status_code == 409
    other = api_headers(db, make_user(db, Role.teacher, organisation=make_institution(db)), settings)
    assert client.post(f"/api/v1/mentors/{minor.id}/retire", headers=other).status_code == 404
    assert client.post("/api/v1/mentors/2147483648/approve", headers=headers).status_code == 422


def test_the_api_records_an_assessment(client, db, settings, gymnasium, at_now):
    teacher = make_user(db, Role.teacher, organisation=gymnasium)
    headers = api_headers(db, teacher, settings)
    mentor = make_mentor(db, institution=gymnasium)
    url = f"/api/v1/mentors/{mentor.id}/certificate"
    cases = [
        ({}, "assessed_on"),
        ({"assessed_on": (TODAY + timedelta(days=1)).isoformat()}, "assessed_on"),
        ({"assessed_on": TODAY.isoformat(), "valid_until": (TODAY + relativedelta(years=1, days=1)).isoformat()}, "valid_until"),
        ({"assessed_on": "yesterday"}, "assessed_on"),
        ({"assessed_on": TODAY.isoformat(), "cpr": "010203-1234"}, "cpr"),  # nothing unasked is taken
    ]
    for body, field in cases:
        answer = client.post(url, headers=headers, json=body)
        assert answer.status_code == 422, (body, answer.text)
        assert field in {str(p) for e in answer.json()["detail"] for p in e["loc"]}, (body, answer.text)
    assert count(db, ChildCertificateCheck, ChildCertificateCheck.mentor_id == mentor.id) == 0
    answer = client.post(url, headers=headers, json={"assessed_on": TODAY.isoformat()})
    assert answer.status_code == 201, answer.text
    assert answer.json()["valid_until"] == (TODAY + relativedelta(years=1)).isoformat()


# --- the pages ------------------------------------------------------------------------------------


def test_the_queue_and_the_mentors_page(client, db, settings, gymnasium, at_now):
    waiting = make_mentor(db, institution=gymnasium, status="awaiting_approval")
    approved = make_mentor(db, institution=gymnasium, status="approved")
    teacher = make_user(db, Role.teacher, organisation=gymnasium)
    log_in(client, db, teacher, settings)

    queue = client.get("/mentors")
    assert queue.status_code == 200
    assert waiting.name in queue.text and approved.name not in queue.text  # waiting for approval first
    assert 'href="/mentors"' in queue.text  # the menu link
    everyone = client.get("/mentors?status=all")
    assert waiting.name in everyone.text and approved.name in everyone.text
    assert waiting.email not in everyone.text

    page = client.get(f"/mentors/{waiting.id}")
    assert page.status_code == 200
    assert "CPR" in page.text and waiting.email not in page.text
    assert f'action="/mentors/{waiting.id}/approve"' in page.text

    refused = post_form(client, f"/mentors/{waiting.id}/reject", {"reason": ""})
    assert refused.status_code == 422
    assert "reject-reason" in error_summary(refused.text)
    assert profile_of(db, waiting).status == MentorStatus.awaiting_approval

    done = post_form(client, f"/mentors/{waiting.id}/approve")
    assert done.status_code == 303 and done.headers["location"] == f"/mentors/{waiting.id}?notice=approved"
    assert "Mentoren er godkendt" in client.get(done.headers["location"]).text
    again = post_form(client, f"/mentors/{waiting.id}/approve")
    assert again.status_code == 409  # decided meanwhile (another tab): the page says so

    bad = post_form(client, f"/mentors/{waiting.id}/certificate", {"assessed_on": (TODAY + timedelta(days=1)).isoformat()})
    assert bad.status_code == 422 and "assessed_on" in error_summary(bad.text)
    wrong = post_form(client, f"/mentors/{waiting.id}/certificate", {"assessed_on": "31-02-2027"})
    assert wrong.status_code == 422 and "assessed_on" in error_summary(wrong.text)
    assert count(db, ChildCertificateCheck, ChildCertificateCheck.mentor_id == waiting.id) == 0
    saved = post_form(client, f"/mentors/{waiting.id}/certificate", {"assessed_on": TODAY.isoformat()})
    assert saved.status_code == 303
    assert count(db, ChildCertificateCheck, ChildCertificateCheck.mentor_id == waiting.id) == 1

    paused = post_form(client, f"/mentors/{waiting.id}/pause", {"reason": "Exams"})
    assert paused.status_code == 303 and profile_of(db, waiting).status == MentorStatus.paused


def test_the_menu_link_is_for_those_who_decide(client, db, settings, gymnasium):
    primary_teacher = make_user(db, Role.teacher, organisation=make_school(db))
    log_in(client, db, primary_teacher, settings)
    page = client.get("/profile")
    assert page.status_code == 200 and 'href="/mentors"' not in page.text
    assert client.get("/mentors").status_code == 403
    university_staff = make_user(db, Role.provider, organisation=make_institution(db, higher_education=True))
    log_in(client, db, university_staff, settings)
    assert 'href="/mentors"' in client.get("/profile").text


# Every route of this module, walked by a teacher of the mentor's own school and by a teacher of
# another upper-secondary school (tests/test_access_matrix.py walks the other roles).
OBJECT_ROUTES = [
    ("GET", "/mentors/{id}"),
    *(("POST", f"/mentors/{{id}}/{action}") for action in ("approve", "reject", "pause", "resume", "retire", "certificate")),
    *(("POST", f"/api/v1/mentors/{{id}}/{action}") for action in ("approve", "reject", "pause", "resume", "retire", "certificate")),
]


@pytest.mark.parametrize(("method", "path"), OBJECT_ROUTES)
@pytest.mark.parametrize("own", [True, False], ids=["own institution", "other institution"])
def test_own_and_other_institution(client, db, settings, gymnasium, at_now, method, path, own):
    mentor = make_mentor(db, institution=gymnasium, status="awaiting_approval")
    teacher = make_user(db, Role.teacher, organisation=gymnasium if own else make_institution(db, municipality="Aarhus"))
    url = path.replace("{id}", str(mentor.id))
    if path.startswith("/api/"):
        body = {"reason": "Probe"} if path.endswith("reject") else {"assessed_on": TODAY.isoformat()} if path.endswith("certificate") else None
        answer = client.request(method, url, headers=api_headers(db, teacher, settings), json=body)
    else:
        log_in(client, db, teacher, settings)
        answer = client.get(url) if method == "GET" else post_form(client, url)
    if own:
        assert answer.status_code not in (401, 403, 404), answer.text[:300]
    else:
        assert answer.status_code == 404
        assert mentor.name not in answer.text


@pytest.mark.parametrize("own", [True, False], ids=["own institution", "other institution"])
def test_own_and_other_institutions_lists(client, db, settings, gymnasium, at_now, own):
    mentor = make_mentor(db, institution=gymnasium, status="awaiting_approval")
    teacher = make_user(db, Role.teacher, organisation=gymnasium if own else make_institution(db, municipality="Aarhus"))
    listed = client.get("/api/v1/mentors", headers=api_headers(db, teacher, settings))
    assert listed.status_code == 200 and listed.json()["total"] == (1 if own else 0)
    log_in(client, db, teacher, settings)
    page = client.get("/mentors")
    assert page.status_code == 200 and (mentor.name in page.text) == own
