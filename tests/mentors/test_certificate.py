"""The mentor's certificate: a PDF listing each visit and the hours, in the mentor's language, with
a printed address where anyone can check it; the check shows the same totals, and only for a code
the portal made."""

import re
from datetime import UTC, datetime, timedelta
from io import BytesIO

import pytest
from pypdf import PdfReader

from app.accounts.models import Role
from app.bookings.models import Booking, BookingStatus
from app.deps import get_now
from app.i18n import language, local_date
from app.mentors import certificate, hours
from tests.factories import (
    log_in,
    make_institution,
    make_mentor,
    make_provider,
    make_school,
    make_user,
)
from tests.mentors.test_hours import local, mentoring_date, shift

NOW = datetime(2026, 3, 2, 12, 0, tzinfo=UTC)
CODE_PATTERN = r"https?://\S+/mentors/certificates/[A-Za-z0-9_-]+"


def pdf_text(content: bytes) -> str:
    reader = PdfReader(BytesIO(content))
    # Words joined by single spaces: the extraction spaces and breaks lines as the layout does.
    return " ".join(" ".join(page.extract_text() for page in reader.pages).split())


@pytest.fixture
def mentor_with_visits(db):
    """A mentor from a gymnasium with three visits over two school years (one with confirmed
    travel, one at a school) and a shift still to come."""
    mentor = make_mentor(db, institution=make_institution(db))
    mentor.name = "Søren Ærø Åberg"
    db.add(mentor)
    db.commit()
    provider = make_provider(db, name="Aarhus Universitet")
    first = mentoring_date(db, local(2025, 5, 6, 9, 0), local(2025, 5, 6, 12, 0), provider=provider, title="Fysik i 9. klasse")
    second = mentoring_date(db, local(2025, 10, 7, 8, 30), local(2025, 10, 7, 11, 0), provider=provider, title="Kemi og klima")
    third = mentoring_date(db, local(2026, 2, 2, 8, 0), local(2026, 2, 4, 14, 0), provider=provider, title="Teknologiuge")
    school = make_school(db, name="Skjoldhøjskolen")
    db.add(Booking(session_id=second.id, school_id=school.id, teacher_id=make_user(db, Role.teacher, organisation=school).id,
                   status=BookingStatus.confirmed, class_name="8.b", grade=8, pupils=24))
    db.commit()
    shift(db, first, mentor)
    shift(db, second, mentor, travel=40, confirmed=True)
    shift(db, third, mentor)
    shift(db, mentoring_date(db, NOW + timedelta(days=9), NOW + timedelta(days=9, hours=2), title="Endnu ikke"), mentor)
    hours.complete_past_shifts(db, now=NOW)
    return mentor


def expected_totals(db, mentor) -> list[str]:
    """The hours the certificate and its check must show: per school year, then all together."""
    years = hours.hours_by_school_year(db, mentor.id)
    assert [(y.label, y.minutes) for y in years] == [("2024/25", 180), ("2025/26", 150 + 40 + 3 * 360)]
    return [certificate.hours_text(y.minutes) for y in years] + [certificate.hours_text(hours.total(years).minutes)]


def test_the_certificate_lists_each_visit_and_the_totals_and_its_check_agrees(client, db, app, settings, mentor_with_visits):
    mentor = mentor_with_visits
    app.dependency_overrides[get_now] = lambda: NOW
    log_in(client, db, mentor, settings)

    answer = client.get("/mentor/certificate.pdf")

    assert answer.status_code == 200
    assert answer.headers["content-type"] == "application/pdf"
    assert "attachment" in answer.headers["content-disposition"]
    text = pdf_text(answer.content)
    institution = certificate.certificate(db, mentor, issued_at=NOW).institution
    assert mentor.name in text and institution in text
    with language(mentor.language):
        for title, day in (("Fysik i 9. klasse", local(2025, 5, 6)), ("Kemi og klima", local(2025, 10, 7)), ("Teknologiuge", local(2026, 2, 2))):
            assert title in text and local_date(day, "medium") in text
        assert "Skjoldhøjskolen" in text
        assert local_date(NOW, "long") in text  # issued
        totals = expected_totals(db, mentor)
    assert "2024/25" in text and "2025/26" in text
    for figure in totals:
        assert figure in text
    assert "Endnu ikke" not in text  # not yet done

    (address,) = re.findall(CODE_PATTERN, text)
    assert address.startswith(f"{settings.base_url}/mentors/certificates/")
    path = address.removeprefix(settings.base_url)
    client.cookies.clear()  # anyone: an employer or a university
    check = client.get(path)
    assert check.status_code == 200
    assert mentor.name in check.text and institution in check.text
    assert "2024/25" in check.text and "2025/26" in check.text
    with language("da"):
        for figure in totals:
            assert f"<td>{figure}</td>" in check.text
    assert mentor.email not in check.text


def test_the_check_shows_the_hours_as_issued_even_after_more_visits(client, db, settings, mentor_with_visits):
    mentor = mentor_with_visits
    code = certificate.certificate_code(settings.secret_key, mentor.id, NOW)
    later = mentoring_date(db, NOW + timedelta(days=1), NOW + timedelta(days=1, hours=5), title="Senere besøg")
    shift(db, later, mentor)
    hours.complete_past_shifts(db, now=NOW + timedelta(days=2))

    found = certificate.checked_certificate(db, settings.secret_key, code)

    assert (found.total.visits, found.total.minutes) == (3, 180 + 190 + 1080)
    assert "Senere besøg" not in client.get(f"/mentors/certificates/{code}").text


def test_a_tampered_or_made_up_code_is_not_found(client, db, settings, mentor_with_visits):
    code = certificate.certificate_code(settings.secret_key, mentor_with_visits.id, NOW)
    tampered = code[:5] + ("A" if code[5] != "A" else "B") + code[6:]
    another_key = certificate.certificate_code("another secret key of at least 32 characters", mentor_with_visits.id, NOW)

    for wrong in (tampered, another_key, code[:-1], "x" * len(code), "%C3%A6" * 4):
        answer = client.get(f"/mentors/certificates/{wrong}")
        assert answer.status_code == 404, wrong
        assert mentor_with_visits.name not in answer.text
    assert client.get(f"/mentors/certificates/{'x' * 65}").status_code == 422  # bounded by the route


def test_a_code_names_its_mentor_and_time_and_nothing_can_be_read_from_it(settings):
    codes = {certificate.certificate_code(settings.secret_key, mentor_id, NOW) for mentor_id in range(1, 200)}

    assert len(codes) == 199 and {len(c) for c in codes} == {certificate.CODE_LENGTH}
    assert certificate.read_certificate_code(settings.secret_key, certificate.certificate_code(settings.secret_key, 42, NOW)) == (42, NOW)
    # Neighbouring ids give codes with nothing in common at the same place (no visible counter).
    first, second = (certificate.certificate_code(settings.secret_key, i, NOW) for i in (1000, 1001))
    assert sum(a == b for a, b in zip(first, second, strict=True)) < 8


def test_without_system_fonts_the_built_in_font_still_writes_danish(db, settings, mentor_with_visits):
    mentor = mentor_with_visits
    mentor.name = "Søren Łukasz Åberg"

    content = certificate.certificate_pdf(
        db, mentor, now=NOW, base_url=settings.base_url, secret_key=settings.secret_key, font_dirs=()
    )

    text = pdf_text(content)
    assert "Søren Lukasz Åberg" in text and "Skjoldhøjskolen" in text
    assert re.findall(CODE_PATTERN, text)


def test_the_certificate_is_in_the_mentors_language(db, settings, mentor_with_visits):
    mentor = mentor_with_visits
    for code, day in (("en", "7 Oct 2025"), ("da", "7. okt. 2025")):
        mentor.language = code
        text = pdf_text(certificate.certificate_pdf(db, mentor, now=NOW, base_url=settings.base_url, secret_key=settings.secret_key))
        assert day in text
