"""The OpenAPI schema tells what the API does: schemathesis, with all its checks, against a live
server on PostgreSQL, as a teacher, a provider and an administrator, with a fixed seed. A server
error, an answer the schema does not describe (a status, a body, a content type, an Allow header),
schema-valid input refused or schema-invalid input taken fails the test, with schemathesis' report
(each failure with a curl command that reproduces it)."""

import subprocess
import sys
from datetime import time, timedelta
from pathlib import Path
from string import Template

import pytest
from sqlmodel import Session

from app.bookings.models import Booking, BookingStatus, ExpertProposal
from app.catalogue.models import AvailabilityWindow, Offer, OfferSession, OfferStatus, OfferType
from app.db import make_engine, utcnow
from app.main import create_app
from app.notifications.models import Notification
from tests.conftest import TEST_DATABASE_URL, fresh_database, running_portal, worker_database
from tests.factories import (
    PASSWORD,
    make_mentor,
    make_provider,
    make_school,
    make_user,
    mentoring_date,
)

# On PostgreSQL, the database of production, only: the run takes minutes, and once is enough.
on_postgresql = pytest.mark.skipif(not TEST_DATABASE_URL, reason="runs against PostgreSQL")

SEED = 20261207
# Test cases per operation in the fuzzing phase; with the coverage phase's own cases (the bounds and
# wrong types of every field) the three runs take about two minutes in all.
MAX_EXAMPLES = 30
# Each role runs the operations (by tag) it has work in; every operation is run by one at least.
# The administrator comes last, as it changes other users' accounts (an e-mail address, a role).
TAGS = {
    "teacher": ["auth", "bookings", "book an expert", "notifications", "mentors"],
    "provider": ["catalogue", "book an expert", "health", "barometer", "access requests"],
    "admin": ["organisations", "users", "bookings"],
    # An approved mentor, with a mentoring date to take (the teacher runs the mentors' operations
    # as someone who is not one).
    "mentor": ["mentors"],
}

CONFIG = Template("""
[generation]
database = "none"  # the fixed seed alone decides what is sent

# Rules across fields, on stored data or on the caller that JSON Schema cannot express (girls no
# more than pupils, min_pupils no more than max_pupils, a date within the planning period and
# after today, no organisation for a coordinator, no change of kind for an organisation with
# users, a municipality's coordinator's own municipality, a password that is not easy to guess, a
# provider's reason to decline, a mentor's age, guardian and institution, a child certificate's
# dates, an access request's organisation, a CVR number's check digit) refuse some schema-valid
# input with 422 naming the field, as the schema's 422 says. Everywhere else a 422 for schema-valid input is a gap in the schema, and fails.
[[operations]]
include-name = [
    "POST /api/v1/bookings",
    "POST /api/v1/users",
    "PUT /api/v1/users/{user_id}",
    "POST /api/v1/organisations",
    "PUT /api/v1/organisations/{organisation_id}",
    "POST /api/v1/offers",
    "PUT /api/v1/offers/{offer_id}",
    "PATCH /api/v1/offers/{offer_id}",
    "POST /api/v1/offers/{offer_id}/sessions",
    "POST /api/v1/offers/{offer_id}/proposals",
    "POST /api/v1/proposals/{proposal_id}/counter",
    "POST /api/v1/proposals/{proposal_id}/decline",
    "GET /api/v1/offers",
    "POST /api/v1/mentors/signup",
    "POST /api/v1/mentors/{mentor_id}/certificate",
    "POST /api/v1/access-requests",
    "POST /api/v1/provider-registrations",
]
checks.positive_data_acceptance.expected-statuses = [
    "2xx", "3xx", "401", "403", "404", "409", "422", "429", "5xx",
]

# Logged in through the API as the role's user, and again when a token stops working (the run
# also calls POST /api/v1/auth/logout, which ends the token it carries).
[auth.dynamic.openapi.OAuth2PasswordBearer]
path = "/api/v1/auth/token"
payload_content_type = "application/x-www-form-urlencoded"
extract_selector = "/access_token"
payload = { username = "$email", password = "$password" }
""")


def seed(engine) -> dict[str, str]:
    """A school with a teacher, a provider with a course (two dates, a class booked) and an
    expert (a proposal waiting), an administrator, an approved mentor and a mentoring date; the
    e-mail address of each role's user."""
    now = utcnow()
    with Session(engine) as db:
        school, provider = make_school(db), make_provider(db)
        users = {
            "teacher": make_user(db, "teacher", organisation=school),
            "provider": make_user(db, "provider", organisation=provider),
            "admin": make_user(db, "admin"),
            "mentor": make_mentor(db),
        }
        mentoring_date(db)
        course = Offer(
            provider_id=provider.id, type=OfferType.course, status=OfferStatus.published,
            title="Vandets kredsløb", grade_min=0, grade_max=10, municipality="Aarhus",
        )
        expert = Offer(
            provider_id=provider.id, type=OfferType.expert, status=OfferStatus.published,
            title="Spørg en ingeniør", grade_min=0, grade_max=10, municipality="Aarhus",
        )
        db.add_all([course, expert])
        db.flush()
        dates = [
            OfferSession(
                offer_id=course.id, starts_at=now + timedelta(days=days),
                ends_at=now + timedelta(days=days, hours=3), capacity_pupils=60,
            )
            for days in (30, 37)
        ]
        db.add_all([*dates, AvailabilityWindow(offer_id=expert.id, weekday=2, starts=time(8), ends=time(15))])
        db.flush()
        db.add_all(
            [
                Booking(
                    session_id=dates[0].id, school_id=school.id, teacher_id=users["teacher"].id,
                    status=BookingStatus.pending, class_name="7.a", grade=7, pupils=20,
                    hold_until=now + timedelta(days=5),
                ),
                ExpertProposal(
                    offer_id=expert.id, school_id=school.id, teacher_id=users["teacher"].id,
                    starts_at=now + timedelta(days=20), ends_at=now + timedelta(days=20, hours=2),
                    class_name="8.a", grade=8, pupils=20,
                ),
                Notification(
                    user_id=users["teacher"].id, kind="approved", subject="Godkendt",
                    body="Jeres booking er godkendt.", link="/bookings",
                ),
            ]
        )
        db.commit()
        return {role: user.email for role, user in users.items()}


def test_every_operation_is_run_by_a_role():
    tags = {tag for role in TAGS.values() for tag in role}
    schema = create_app().openapi()
    operations = [op for path in schema["paths"].values() for op in path.values()]
    assert [op["operationId"] for op in operations if not tags & set(op["tags"])] == []


def schemathesis(base: str, email: str, tags: list[str], folder: Path) -> str | None:
    """Schemathesis' report if it found a failure (or could not run), else None."""
    config = folder / "schemathesis.toml"
    config.write_text(CONFIG.substitute(email=email, password=PASSWORD))
    run = subprocess.run(
        [
            sys.executable, "-m", "schemathesis.cli", "--config-file", str(config), "run",
            f"{base}/openapi.json", "--checks", "all", "--seed", str(SEED),
            "--max-examples", str(MAX_EXAMPLES), *(f"--include-tag={tag}" for tag in tags),
            # One thread: Hypothesis' description of a strategy is not thread-safe ("AST constructor
            # recursion depth mismatch", an error of the run, not of the API).
            "--workers", "1", "--no-color",
        ],
        cwd=folder, capture_output=True, text=True, timeout=600,
    )
    if run.returncode == 0:
        return None
    lines = [line[:500] for line in (run.stdout + run.stderr).splitlines()]  # a long body is one line
    return "\n".join(lines)[-30_000:]


@on_postgresql
def test_the_api_answers_as_its_schema_says(tmp_path):
    url = fresh_database(worker_database(TEST_DATABASE_URL, "schemathesis"))
    engine = make_engine(url)
    try:
        emails = seed(engine)
    finally:
        engine.dispose()
    with running_portal(url, workers=2) as base:
        reports = {role: schemathesis(base, emails[role], tags, tmp_path) for role, tags in TAGS.items()}
    failed = {role: report for role, report in reports.items() if report}
    assert not failed, "\n\n".join(f"=== as the {role}\n{report}" for role, report in failed.items())
