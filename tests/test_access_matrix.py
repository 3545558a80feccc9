"""Every route of the app × every role: who may reach what. A route that is not in the matrix fails
the test, so a new page or endpoint cannot ship without a decision about who may use it."""

import re
from dataclasses import dataclass
from datetime import date, time, timedelta

import pytest
from fastapi.routing import iter_route_contexts
from sqlmodel import col, select
from starlette.routing import Mount

from app.access_requests.models import AccessRequest, AccessRequestKind, AccessRequestStatus
from app.accounts import secrets
from app.accounts import service as accounts
from app.accounts.models import SchoolLevel, TokenPurpose
from app.barometer.models import CouncilReport
from app.bookings.models import Booking, BookingStatus, CapacityPool, ExpertProposal, SchoolCap
from app.calendar import service as calendar_service
from app.catalogue.models import (
    AvailabilityWindow,
    Offer,
    OfferPicture,
    OfferSession,
    OfferStatus,
    OfferType,
    Resource,
    ResourceKind,
    SavedSearch,
    SchoolHoliday,
)
from app.db import utcnow
from app.evaluations import service as evaluations
from app.evaluations.models import EvaluationRequest, Question, Respondent
from app.main import create_app
from app.mentors.certificate import certificate_code
from app.mentors.models import GuardianConsent, MentorProfile, MentorStatus, Shift, ShiftStatus
from app.notifications.models import Notification
from tests.factories import (
    PASSWORD,
    api_headers,
    csrf,
    log_in,
    make_institution,
    make_mentor,
    make_provider,
    make_school,
    make_user,
)

ROLES = (
    "anonymous",
    "teacher",
    "provider",  # of the probed offer's organisation
    "provider_other",  # of another provider organisation
    "mentor",
    "coordinator",  # the whole region
    "coordinator_aarhus",  # the municipality the probed objects are in
    "coordinator_herning",  # another municipality
    "admin",
)
STAFF = {"coordinator", "coordinator_aarhus", "coordinator_herning", "admin"}


@dataclass(frozen=True)
class Policy:
    name: str
    allowed: frozenset[str]
    # Logged-in roles refused with 404 rather than 403: they must not learn that the object exists.
    hidden: frozenset[str] = frozenset()


PUBLIC = Policy("public", frozenset(ROLES))
LOGGED_IN = Policy("logged in", frozenset(ROLES) - {"anonymous"})
STAFF_ONLY = Policy("staff", frozenset(STAFF))
STAFF_OF_AARHUS = Policy(
    "staff of the object's municipality",
    frozenset(STAFF - {"coordinator_herning"}),
    frozenset({"coordinator_herning"}),
)
# The whole region's people: the secretariat, not a municipality's coordinator.
REGIONAL_STAFF = Policy("the region's coordinators and admins", frozenset({"coordinator", "admin"}))
PROVIDERS = Policy("providers", frozenset({"provider", "provider_other"}))
TEACHERS = Policy("teachers", frozenset({"teacher"}))
# The probed booking is another school's: its teacher is not the acting one.
SEES_BOOKING = Policy(
    "the offer's provider and the school's coordinators",
    frozenset({"provider", "coordinator", "coordinator_aarhus", "admin"}),
    frozenset({"teacher", "provider_other", "coordinator_herning", "mentor"}),
)
WITH_BOOKINGS = Policy("everyone with bookings to see", frozenset(ROLES) - {"anonymous", "mentor"})
APPROVES_BOOKING = Policy(
    "the school's coordinators",
    frozenset({"coordinator", "coordinator_aarhus", "admin"}),
    frozenset({"teacher", "provider_other", "coordinator_herning", "mentor"}),
)
# Only the school's own teachers take an offered place; the probed booking is another school's.
TAKES_PLACE = Policy(
    "the school's teachers",
    frozenset(),
    frozenset({"teacher", "provider_other", "coordinator_herning", "mentor"}),
)
OWN_RESOURCE = Policy(
    "the resource's own provider", frozenset({"provider"}), frozenset({"provider_other"})
)
OWN_POOL = Policy("the pool's own provider", frozenset({"provider"}), frozenset({"provider_other"}))
# Owned by the probed teacher, so every other user must be told it does not exist.
NOBODY_ELSE = Policy("its owner only", frozenset(), frozenset(ROLES) - {"anonymous"})
OWN_OFFER = Policy(
    "the offer's own provider",
    frozenset({"provider"}),
    frozenset(ROLES) - {"anonymous", "provider"},
)
# A session's classes: its provider, and the coordinators (a municipality's sees its own schools' only).
OWN_OFFER_AND_STAFF = Policy(
    "the offer's own provider and the coordinators",
    frozenset({"provider"} | STAFF),
    frozenset({"teacher", "provider_other", "mentor"}),
)
# A proposal for a visit by the probed provider's expert, from another school than the acting teacher's.
ANSWERS_PROPOSAL = Policy(
    "the offer's own provider and the proposing school's teachers",
    frozenset({"provider"}),
    frozenset(ROLES) - {"anonymous", "provider"},
)
WITH_PROPOSALS = Policy("teachers and providers", frozenset({"teacher", "provider", "provider_other"}))
# Allocation rounds: the probed offer is published, so others are refused rather than kept in the dark.
# A municipality's coordinator runs only the rounds of offers in their municipality (the probed one is in Aarhus).
RUNS_ROUNDS = Policy("the offer's own provider, the region's staff and its municipality's", frozenset({"provider"} | STAFF - {"coordinator_herning"}))
PROVIDERS_AND_STAFF = Policy("providers and the coordinators", frozenset({"provider", "provider_other"} | STAFF))
# The probed shift is the probed mentor's: the acting mentor must not learn that it exists.
OWN_SHIFT = Policy("the shift's own mentor", frozenset(), frozenset({"mentor"}))
OWN_MENTORING_DATE = Policy("the date's own provider", frozenset({"provider"}), frozenset({"provider_other"}))
# A mentor's own data (issue 14, privacy): only ever the caller's, so other roles are refused.
MENTOR_SELF = Policy("the mentor themselves", frozenset({"mentor"}))

# Deciding on mentors. The probed mentor studies at an upper-secondary school in Aarhus. The matrix's
# "teacher" teaches at another school (a primary one) and "provider" and "provider_other" are companies:
# none is a mentor institution's staff, so they are refused outright (403); the teachers of the mentor's
# own school and of another upper-secondary school are walked in tests/mentors/test_approval.py. A
# municipality's coordinator sees only their institutions' mentors: an empty queue elsewhere.
# Access requests: an organisation's users and the coordinators decide. The probed request asks for
# an account at the probed school in Aarhus, which the matrix's teacher and providers do not belong to.
DECIDES_ON_ACCESS = Policy("everyone who may decide on some access request", frozenset(ROLES) - {"anonymous", "mentor"})
DECIDES_ON_PROBED_ACCESS = Policy(
    "the organisation's users and its coordinators",
    frozenset(STAFF - {"coordinator_herning"}),
    frozenset({"teacher", "provider", "provider_other", "coordinator_herning"}),
)
DECIDES_ON_MENTOR = Policy(
    "the region's coordinators and the mentor's municipality's (and the institution's staff)",
    frozenset(STAFF - {"coordinator_herning"}),
    frozenset({"coordinator_herning"}),
)

MATRIX: dict[tuple[str, str], Policy] = {
    ("GET", "/openapi.json"): PUBLIC,
    ("GET", "/docs"): PUBLIC,
    ("GET", "/healthz"): PUBLIC,
    ("GET", "/"): PUBLIC,
    ("GET", "/privacy"): PUBLIC,
    ("GET", "/cookies"): PUBLIC,
    ("GET", "/accessibility"): PUBLIC,
    ("POST", "/language"): PUBLIC,
    ("GET", "/login"): PUBLIC,
    ("POST", "/login"): PUBLIC,
    ("POST", "/logout"): PUBLIC,
    ("GET", "/password-reset"): PUBLIC,
    ("POST", "/password-reset"): PUBLIC,
    ("GET", "/password-reset/{token}"): PUBLIC,
    ("POST", "/password-reset/{token}"): PUBLIC,
    ("GET", "/invitation/{token}"): PUBLIC,
    ("POST", "/invitation/{token}"): PUBLIC,
    ("GET", "/profile"): LOGGED_IN,
    ("POST", "/profile"): LOGGED_IN,
    ("GET", "/profile/password"): LOGGED_IN,
    ("POST", "/profile/password"): LOGGED_IN,
    ("POST", "/profile/sessions/end"): LOGGED_IN,
    ("GET", "/admin/organisations"): STAFF_ONLY,
    ("GET", "/admin/organisations/new"): STAFF_ONLY,
    ("POST", "/admin/organisations/new"): STAFF_ONLY,
    ("GET", "/admin/organisations/{organisation_id}"): STAFF_OF_AARHUS,
    ("POST", "/admin/organisations/{organisation_id}"): STAFF_OF_AARHUS,
    ("GET", "/admin/outbox"): REGIONAL_STAFF,
    # Development only (404 in production): every e-mail written, as the secretariat may read them.
    ("GET", "/dev/mail"): REGIONAL_STAFF,
    ("POST", "/admin/outbox/retry"): REGIONAL_STAFF,
    ("POST", "/admin/outbox/{message_id}/retry"): REGIONAL_STAFF,
    ("GET", "/admin/users"): STAFF_ONLY,
    ("GET", "/admin/users/new"): STAFF_ONLY,
    ("POST", "/admin/users/new"): STAFF_ONLY,
    ("GET", "/admin/users/{user_id}"): STAFF_OF_AARHUS,
    ("POST", "/admin/users/{user_id}"): STAFF_OF_AARHUS,
    ("POST", "/admin/users/{user_id}/invitation"): STAFF_OF_AARHUS,
    ("POST", "/api/v1/auth/token"): PUBLIC,
    ("POST", "/api/v1/mentors/signup"): PUBLIC,
    # The barometer is open data: the same figures for everyone, no log-in.
    ("GET", "/api/v1/barometer"): PUBLIC,
    ("GET", "/api/v1/barometer.csv"): PUBLIC,
    ("GET", "/api/v1/barometer.xlsx"): PUBLIC,
    ("GET", "/api/v1/barometer/datapackage.json"): PUBLIC,
    ("GET", "/mentors/signup"): PUBLIC,
    ("POST", "/mentors/signup"): PUBLIC,
    ("GET", "/mentors/signup/done"): PUBLIC,
    # The e-mailed links need no log-in: the token is the secret (a guardian has no account).
    ("GET", "/mentors/verify/{token}"): PUBLIC,
    ("GET", "/mentors/consent/{token}"): PUBLIC,
    ("POST", "/mentors/consent/{token}"): PUBLIC,
    ("GET", "/mentors/consent/{token}/withdraw"): PUBLIC,
    ("POST", "/mentors/consent/{token}/withdraw"): PUBLIC,
    ("GET", "/mentors/consent-given"): PUBLIC,
    ("GET", "/mentors/consent-withdrawn"): PUBLIC,
    ("GET", "/api/v1/me"): LOGGED_IN,
    ("POST", "/api/v1/auth/logout"): LOGGED_IN,
    ("GET", "/api/v1/organisations"): STAFF_ONLY,
    ("POST", "/api/v1/organisations"): STAFF_ONLY,
    ("GET", "/api/v1/organisations/{organisation_id}"): STAFF_OF_AARHUS,
    ("PUT", "/api/v1/organisations/{organisation_id}"): STAFF_OF_AARHUS,
    ("GET", "/api/v1/users"): STAFF_ONLY,
    ("POST", "/api/v1/users"): STAFF_ONLY,
    ("GET", "/api/v1/users/{user_id}"): STAFF_OF_AARHUS,
    ("PUT", "/api/v1/users/{user_id}"): STAFF_OF_AARHUS,
    ("GET", "/catalogue"): PUBLIC,
    ("GET", "/offers/{offer_id}"): PUBLIC,
    ("GET", "/offers/{offer_id}/picture/{version}"): PUBLIC,
    ("GET", "/offers/{offer_id}/calendar.ics"): PUBLIC,
    ("GET", "/calendar"): PUBLIC,
    # The feed needs no log-in (calendar programs cannot log in): its token is the secret.
    ("GET", "/calendar/feed/{feed_token}.ics"): PUBLIC,
    ("POST", "/calendar/feed/new"): LOGGED_IN,
    ("POST", "/calendar/feed/revoke"): LOGGED_IN,
    ("GET", "/provider/offers"): PROVIDERS,
    ("GET", "/provider/offers/new"): PROVIDERS,
    ("POST", "/provider/offers/new"): PROVIDERS,
    ("GET", "/provider/offers/{offer_id}/edit"): OWN_OFFER,
    ("POST", "/provider/offers/{offer_id}/edit"): OWN_OFFER,
    ("POST", "/provider/offers/{offer_id}/status"): OWN_OFFER,
    ("POST", "/provider/offers/{offer_id}/duplicate"): OWN_OFFER,
    ("POST", "/provider/offers/{offer_id}/picture"): OWN_OFFER,
    ("GET", "/provider/offers/{offer_id}/sessions"): OWN_OFFER,
    ("POST", "/provider/offers/{offer_id}/sessions"): OWN_OFFER,
    ("POST", "/provider/offers/{offer_id}/sessions/recurring"): OWN_OFFER,
    ("GET", "/provider/sessions/{session_id}/cancel"): OWN_OFFER,
    ("POST", "/provider/sessions/{session_id}/cancel"): OWN_OFFER,
    ("GET", "/provider/sessions/{session_id}/edit"): OWN_OFFER,
    ("POST", "/provider/sessions/{session_id}/edit"): OWN_OFFER,
    ("GET", "/provider/sessions/{session_id}/attendees"): OWN_OFFER_AND_STAFF,
    ("GET", "/provider/sessions/{session_id}/attendees.csv"): OWN_OFFER_AND_STAFF,
    ("GET", "/api/v1/offers"): PUBLIC,
    ("POST", "/api/v1/offers"): PROVIDERS,
    ("GET", "/api/v1/offers/{offer_id}"): PUBLIC,
    ("PUT", "/api/v1/offers/{offer_id}"): OWN_OFFER,
    ("PATCH", "/api/v1/offers/{offer_id}"): OWN_OFFER,
    ("POST", "/api/v1/offers/{offer_id}/sessions"): OWN_OFFER,
    ("GET", "/api/v1/sessions/{session_id}"): PUBLIC,
    ("GET", "/catalogue/saved"): LOGGED_IN,
    ("POST", "/catalogue/saved"): TEACHERS,
    ("POST", "/catalogue/saved/{search_id}/delete"): NOBODY_ELSE,
    ("GET", "/admin/holidays"): STAFF_ONLY,
    ("POST", "/admin/holidays"): STAFF_ONLY,
    ("POST", "/admin/holidays/standard"): STAFF_ONLY,
    ("POST", "/admin/holidays/{holiday_id}/delete"): STAFF_OF_AARHUS,
    ("GET", "/admin/holidays/{holiday_id}/delete"): STAFF_OF_AARHUS,
    ("POST", "/api/v1/bookings"): TEACHERS,
    ("GET", "/api/v1/bookings"): WITH_BOOKINGS,
    ("GET", "/api/v1/bookings/{booking_id}"): SEES_BOOKING,
    ("GET", "/api/v1/bookings/{booking_id}.ics"): SEES_BOOKING,
    ("POST", "/api/v1/bookings/{booking_id}/approve"): APPROVES_BOOKING,
    ("POST", "/api/v1/bookings/{booking_id}/decline"): SEES_BOOKING,
    ("POST", "/api/v1/bookings/{booking_id}/cancel"): SEES_BOOKING,
    ("GET", "/sessions/{session_id}/book"): TEACHERS,
    ("GET", "/sessions/{session_id}/places"): LOGGED_IN,
    ("POST", "/sessions/{session_id}/book"): TEACHERS,
    ("GET", "/bookings"): WITH_BOOKINGS,
    ("GET", "/bookings/{booking_id}"): SEES_BOOKING,
    ("GET", "/bookings/{booking_id}.ics"): SEES_BOOKING,
    ("GET", "/bookings/{booking_id}/allocation"): SEES_BOOKING,
    ("GET", "/rounds"): PROVIDERS_AND_STAFF,
    ("GET", "/offers/{offer_id}/rounds"): RUNS_ROUNDS,
    ("POST", "/offers/{offer_id}/rounds"): RUNS_ROUNDS,
    ("POST", "/offers/{offer_id}/rounds/allocate"): RUNS_ROUNDS,
    ("POST", "/bookings/{booking_id}/accept"): TAKES_PLACE,
    ("POST", "/api/v1/bookings/{booking_id}/accept"): TAKES_PLACE,
    ("GET", "/inbox"): LOGGED_IN,
    ("GET", "/inbox/unread"): LOGGED_IN,
    ("POST", "/inbox/read"): LOGGED_IN,
    ("POST", "/inbox/{notification_id}/open"): NOBODY_ELSE,
    ("GET", "/api/v1/notifications"): LOGGED_IN,
    ("POST", "/api/v1/notifications/{notification_id}/read"): NOBODY_ELSE,
    ("POST", "/bookings/approve"): STAFF_ONLY,
    ("POST", "/bookings/{booking_id}/approve"): APPROVES_BOOKING,
    ("POST", "/bookings/{booking_id}/decline"): SEES_BOOKING,
    ("POST", "/bookings/{booking_id}/cancel"): SEES_BOOKING,
    ("GET", "/bookings/{booking_id}/cancel"): SEES_BOOKING,  # the step before: what goes, who is told
    ("POST", "/bookings/decline"): STAFF_ONLY,  # nothing chosen: back to the queue, nothing declined
    ("GET", "/provider/resources"): PROVIDERS,
    ("POST", "/provider/resources"): PROVIDERS,
    ("POST", "/provider/resources/{resource_id}/delete"): OWN_RESOURCE,
    ("POST", "/provider/sessions/{session_id}/resources"): OWN_OFFER,
    ("POST", "/provider/sessions/{session_id}/resources/{resource_id}/delete"): OWN_OFFER,
    ("POST", "/provider/offers/{offer_id}/availability"): OWN_OFFER,
    ("POST", "/provider/availability/{window_id}/delete"): OWN_OFFER,
    ("POST", "/provider/offers/{offer_id}/travel-areas"): OWN_OFFER,
    ("POST", "/provider/offers/{offer_id}/resources"): OWN_OFFER,
    ("GET", "/provider/pools"): PROVIDERS,
    ("POST", "/provider/pools"): PROVIDERS,
    ("GET", "/provider/pools/{pool_id}"): OWN_POOL,
    ("POST", "/provider/pools/{pool_id}"): OWN_POOL,
    ("POST", "/provider/pools/{pool_id}/sessions"): OWN_POOL,
    ("POST", "/provider/pools/{pool_id}/delete"): OWN_POOL,
    ("GET", "/admin/caps"): STAFF_ONLY,
    ("POST", "/admin/caps"): STAFF_ONLY,
    # The probed cap is Aarhus's: another municipality's coordinator is told it does not exist.
    ("POST", "/admin/caps/{cap_id}/delete"): STAFF_OF_AARHUS,
    ("GET", "/admin/caps/{cap_id}/delete"): STAFF_OF_AARHUS,
    # Book an expert: the probed offer has dates, so a teacher's proposal for it is refused (not hidden).
    ("GET", "/offers/{offer_id}/propose"): TEACHERS,
    ("POST", "/offers/{offer_id}/propose"): TEACHERS,
    ("GET", "/proposals"): TEACHERS,
    ("POST", "/proposals/{proposal_id}/accept"): NOBODY_ELSE,
    ("POST", "/proposals/{proposal_id}/decline"): NOBODY_ELSE,
    ("POST", "/proposals/{proposal_id}/withdraw"): NOBODY_ELSE,
    ("GET", "/provider/proposals"): PROVIDERS,
    ("GET", "/provider/proposals/{proposal_id}"): OWN_OFFER,
    ("POST", "/provider/proposals/{proposal_id}/accept"): OWN_OFFER,
    ("POST", "/provider/proposals/{proposal_id}/decline"): OWN_OFFER,
    ("POST", "/provider/proposals/{proposal_id}/counter"): OWN_OFFER,
    ("POST", "/api/v1/offers/{offer_id}/proposals"): TEACHERS,
    ("GET", "/api/v1/proposals"): WITH_PROPOSALS,
    ("GET", "/api/v1/proposals/{proposal_id}"): ANSWERS_PROPOSAL,
    ("POST", "/api/v1/proposals/{proposal_id}/accept"): ANSWERS_PROPOSAL,
    ("POST", "/api/v1/proposals/{proposal_id}/decline"): ANSWERS_PROPOSAL,
    ("POST", "/api/v1/proposals/{proposal_id}/counter"): OWN_OFFER,
    ("POST", "/api/v1/proposals/{proposal_id}/withdraw"): NOBODY_ELSE,
    ("GET", "/mentor/hours"): MENTOR_SELF,
    ("GET", "/mentor/certificate.pdf"): MENTOR_SELF,
    ("POST", "/mentor/hours/{shift_id}/travel"): OWN_SHIFT,
    # An employer or a university checks a certificate at its printed address (the probed mentor's).
    ("GET", "/mentors/certificates/{code}"): PUBLIC,
    ("GET", "/provider/mentor-travel"): PROVIDERS,
    # The probed shift is on a mentoring date of the probed provider.
    ("POST", "/provider/shifts/{shift_id}/travel/confirm"): OWN_OFFER,
    ("GET", "/api/v1/mentors"): STAFF_ONLY,
    ("POST", "/api/v1/mentors/{mentor_id}/approve"): DECIDES_ON_MENTOR,
    ("POST", "/api/v1/mentors/{mentor_id}/reject"): DECIDES_ON_MENTOR,
    ("POST", "/api/v1/mentors/{mentor_id}/pause"): DECIDES_ON_MENTOR,  # 409: the probe awaits approval
    ("POST", "/api/v1/mentors/{mentor_id}/resume"): DECIDES_ON_MENTOR,
    ("POST", "/api/v1/mentors/{mentor_id}/retire"): DECIDES_ON_MENTOR,
    ("POST", "/api/v1/mentors/{mentor_id}/certificate"): DECIDES_ON_MENTOR,
    ("GET", "/mentors"): STAFF_ONLY,
    ("GET", "/mentors/{mentor_id}"): DECIDES_ON_MENTOR,
    ("POST", "/mentors/{mentor_id}/approve"): DECIDES_ON_MENTOR,
    ("POST", "/mentors/{mentor_id}/reject"): DECIDES_ON_MENTOR,  # without a reason: 422, nothing saved
    ("POST", "/mentors/{mentor_id}/pause"): DECIDES_ON_MENTOR,
    ("POST", "/mentors/{mentor_id}/resume"): DECIDES_ON_MENTOR,
    ("POST", "/mentors/{mentor_id}/retire"): DECIDES_ON_MENTOR,
    ("POST", "/mentors/{mentor_id}/certificate"): DECIDES_ON_MENTOR,
    ("GET", "/mentor/privacy"): MENTOR_SELF,
    ("GET", "/mentor/data.json"): MENTOR_SELF,
    # Without the password and the ticked box the mentor's account stays (422): nothing deleted.
    ("POST", "/mentor/delete"): MENTOR_SELF,
    # After the deletion the person is logged out: the goodbye page is everyone's.
    ("GET", "/mentor/goodbye"): PUBLIC,
    ("GET", "/api/v1/me/data"): MENTOR_SELF,
    # Shifts: the acting mentor is approved, with a child certificate; {session_id} is the probed
    # mentoring date (for grades 7-9, of the probed provider), which they have not taken.
    ("GET", "/api/v1/shifts"): MENTOR_SELF,
    ("POST", "/api/v1/shifts/{session_id}/signup"): MENTOR_SELF,
    ("POST", "/api/v1/shifts/{session_id}/leave"): NOBODY_ELSE,
    ("GET", "/api/v1/me/shifts"): MENTOR_SELF,
    ("GET", "/mentor/shifts"): MENTOR_SELF,
    ("GET", "/mentor/shifts/{session_id}"): MENTOR_SELF,
    ("POST", "/mentor/shifts/{session_id}/signup"): MENTOR_SELF,
    ("POST", "/mentor/shifts/{session_id}/leave"): OWN_SHIFT,
    ("GET", "/provider/sessions/{session_id}/mentors"): OWN_MENTORING_DATE,
    ("POST", "/provider/sessions/{session_id}/mentors"): OWN_MENTORING_DATE,  # no mentor chosen: 422
    ("POST", "/provider/shifts/{shift_id}/remove"): OWN_MENTORING_DATE,
    ("POST", "/mentor/verify/resend"): MENTOR_SELF,
    ("POST", "/mentor/consent/resend"): MENTOR_SELF,  # approved: no guardian to ask, 422
    # The STEM barometer: public; its targets and national statistics are the coordinators' (a
    # municipality's coordinator keeps their own municipality's: tests/barometer/test_page.py).
    ("GET", "/barometer"): PUBLIC,
    ("GET", "/barometer/targets"): STAFF_ONLY,
    ("POST", "/barometer/targets"): STAFF_ONLY,  # nothing chosen: 422, nothing saved
    ("GET", "/barometer/national"): STAFF_ONLY,
    ("POST", "/barometer/national"): STAFF_ONLY,  # no file: 422, nothing imported
    # The council's reports: the region's, written by all the staff (app/barometer/report.py).
    ("GET", "/barometer/reports"): STAFF_ONLY,
    ("GET", "/barometer/reports/new"): STAFF_ONLY,
    ("POST", "/barometer/reports/new"): STAFF_ONLY,  # no title: 422, nothing saved
    ("GET", "/barometer/reports/{report_id}"): STAFF_ONLY,
    ("POST", "/barometer/reports/{report_id}"): STAFF_ONLY,  # no title: 422, nothing changed
    ("GET", "/barometer/reports/{report_id}/delete"): STAFF_ONLY,
    ("POST", "/barometer/reports/{report_id}/delete"): STAFF_ONLY,
    ("GET", "/barometer/reports/{report_id}/print"): STAFF_ONLY,
    ("GET", "/barometer/reports/{report_id}.pdf"): STAFF_ONLY,
    # Evaluations: the e-mailed link is the key (a probe request of the probed teacher's booking);
    # its form without answers is refused field by field (422). The inbox's form is its owner's.
    ("GET", "/evaluations/{token}"): PUBLIC,
    ("POST", "/evaluations/{token}"): PUBLIC,
    ("GET", "/evaluations/thanks"): PUBLIC,
    ("GET", "/evaluations/requests/{request_id}"): NOBODY_ELSE,
    ("POST", "/evaluations/requests/{request_id}"): NOBODY_ELSE,
    # The results: a provider sees their own organisation's, a municipality's coordinator their schools'.
    ("GET", "/evaluations"): PROVIDERS_AND_STAFF,
    ("GET", "/evaluations.csv"): PROVIDERS_AND_STAFF,
    ("GET", "/evaluations/questions"): STAFF_ONLY,
    ("POST", "/evaluations/questions"): STAFF_ONLY,  # nothing chosen: 422
    ("POST", "/evaluations/questions/{question_id}/reword"): STAFF_ONLY,  # no wording: 422
    ("POST", "/evaluations/questions/{question_id}/retire"): STAFF_ONLY,
    ("POST", "/evaluations/questions/{question_id}/move"): STAFF_ONLY,
    ("GET", "/request-account"): PUBLIC,
    ("POST", "/request-account"): PUBLIC,  # nothing filled in: 422
    ("GET", "/request-account/sent"): PUBLIC,
    ("GET", "/request-account/verify/{token}"): PUBLIC,
    ("GET", "/register-company"): PUBLIC,
    ("POST", "/register-company"): PUBLIC,  # nothing filled in: 422
    ("POST", "/api/v1/access-requests"): PUBLIC,  # no body: 422
    ("POST", "/api/v1/provider-registrations"): PUBLIC,  # no body: 422
    ("GET", "/access-requests"): DECIDES_ON_ACCESS,
    ("GET", "/access-requests/{access_request_id}"): DECIDES_ON_PROBED_ACCESS,
    ("POST", "/access-requests/{access_request_id}/approve"): DECIDES_ON_PROBED_ACCESS,
    ("POST", "/access-requests/{access_request_id}/decline"): DECIDES_ON_PROBED_ACCESS,  # no reason: 422
}


def app_routes() -> list[tuple[str, str]]:
    found = []
    for context in iter_route_contexts(create_app().routes):
        if isinstance(context.original_route, Mount):
            continue  # static files
        for method in sorted((context.methods or set()) - {"HEAD", "OPTIONS"}):
            found.append((method, context.path))
    return found


def test_the_matrix_covers_every_route_and_no_more():
    routes = set(app_routes())
    assert routes - MATRIX.keys() == set(), "routes without an access decision in MATRIX"
    assert MATRIX.keys() - routes == set(), "MATRIX lists routes the app does not have"


# Routes whose {session_id} is a mentoring date.
SHIFT_ROUTE = re.compile(r"^/(api/v1/shifts|mentor/shifts|provider/sessions/\{session_id\}/mentors)")


def expected_denial(policy: Policy, role: str, path: str) -> int | None:
    """None when the role may reach the route; otherwise the status that must refuse it."""
    if role in policy.allowed:
        return None
    if role == "anonymous":
        return 401 if path.startswith("/api/") else 303
    if role in policy.hidden:
        return 404
    return 403


def mentor_link(db, path: str, settings) -> str:
    """The e-mailed link of a 16-year-old mentor that the path takes: to verify their address, to
    consent (their guardian has not yet), or to withdraw the consent (given)."""
    gymnasium = make_school(db, municipality="Aarhus")
    gymnasium.school_level = SchoolLevel.upper_secondary
    mentor = make_user(db, "mentor", organisation=gymnasium)
    now = utcnow()
    profile = MentorProfile(
        user_id=mentor.id, institution_id=gymnasium.id, birth_date=date(now.year - 16, 1, 1),
        guardian_email="guardian@example.dk", status=MentorStatus.awaiting_consent, created_at=now, updated_at=now,
    )
    if path.endswith("/withdraw"):
        profile.status = MentorStatus.awaiting_approval
        db.add(GuardianConsent(mentor_id=mentor.id, guardian_name="Probe", guardian_email="guardian@example.dk",
                               text_version="probe", consented_at=now))
    db.add_all([gymnasium, profile])
    db.commit()
    purpose = TokenPurpose.verify_email if path.startswith("/mentors/verify/") else TokenPurpose.guardian_consent
    return accounts.issue_account_token(db, mentor, purpose=purpose, now=now, settings=settings)


@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize(("method", "path"), sorted(MATRIX))
def test_access(client, db, settings, method, path, role):
    policy = MATRIX[(method, path)]
    aarhus_school = make_school(db, municipality="Aarhus")
    # Invitations are for accounts without a password only.
    probed_user = make_user(db, "teacher", organisation=aarhus_school, password=None if "invitation" in path else PASSWORD)
    token_purpose = (
        TokenPurpose.invitation if path.startswith("/invitation") else TokenPurpose.password_reset
    )
    token = accounts.issue_account_token(
        db, probed_user, purpose=token_purpose, now=utcnow(), settings=settings
    )
    access_token = secrets.new_token()
    access_request = AccessRequest(
        kind=AccessRequestKind.account, status=AccessRequestStatus.waiting, name="Probe", email="probe-access@example.dk",
        role="teacher", organisation_id=aarhus_school.id, created_at=utcnow(), verified_at=utcnow(),
    )
    unproved_request = AccessRequest(
        kind=AccessRequestKind.account, status=AccessRequestStatus.unverified, name="Probe", email="probe-unproved@example.dk",
        role="teacher", organisation_id=aarhus_school.id, created_at=utcnow(),
        verify_token_hash=secrets.token_hash(access_token), verify_expires_at=utcnow() + timedelta(days=1),
    )
    db.add_all([access_request, unproved_request])
    db.commit()
    if path.startswith("/request-account/verify/"):
        token = access_token
    if path.startswith(("/mentors/verify/", "/mentors/consent/")):
        token = mentor_link(db, path, settings)
    provider = make_provider(db, municipality="Aarhus")
    offer = Offer(
        provider_id=provider.id,
        type=OfferType.course,
        status=OfferStatus.published,
        title="Probe",
        grade_min=0,
        grade_max=10,
        municipality="Aarhus",
        picture_version=1,
    )
    db.add(offer)
    db.flush()
    starts = utcnow() + timedelta(days=40)
    session = OfferSession(
        offer_id=offer.id, starts_at=starts, ends_at=starts + timedelta(hours=3), capacity_pupils=28
    )
    db.add_all(
        [
            session,
            OfferPicture(offer_id=offer.id, content=b"\x89PNG\r\n\x1a\n", content_type="image/png"),
        ]
    )
    saved = SavedSearch(user_id=probed_user.id, name="Probe", query="type=course")
    holiday = SchoolHoliday(
        name="Probe", municipality="Aarhus", starts_on=date(2030, 1, 2), ends_on=date(2030, 1, 3)
    )
    resource = Resource(provider_id=provider.id, name="Lab", kind=ResourceKind.room)
    window = AvailabilityWindow(offer_id=offer.id, weekday=1, starts=time(9), ends=time(12))
    pool = CapacityPool(provider_id=provider.id, name="Probe", capacity_classes=4)
    cap = SchoolCap(offer_type=OfferType.course, school_year=2030, municipality="Aarhus", max_bookings=2)
    db.add_all([saved, holiday, resource, window, pool, cap])
    db.flush()
    booking = Booking(session_id=session.id, school_id=aarhus_school.id, teacher_id=probed_user.id, status=BookingStatus.pending,
                      class_name="7.a", grade=7, pupils=20)
    db.add(booking)
    db.flush()
    expert_offer = Offer(provider_id=provider.id, type=OfferType.expert, status=OfferStatus.published, title="Probe expert",
                         grade_min=0, grade_max=10, municipality="Aarhus")
    db.add(expert_offer)
    db.flush()
    proposal = ExpertProposal(offer_id=expert_offer.id, school_id=aarhus_school.id, teacher_id=probed_user.id, starts_at=starts,
                              ends_at=starts + timedelta(hours=2), class_name="8.a", grade=8, pupils=20)
    db.add(proposal)
    db.flush()
    message = Notification(user_id=probed_user.id, kind="approved", subject="Probe", body="Probe", link="/bookings")
    db.add(message)
    db.commit()
    probed_mentor = make_mentor(db, institution=make_institution(db, municipality="Aarhus"), status="awaiting_approval")
    mentoring_offer = Offer(provider_id=provider.id, type=OfferType.mentoring, status=OfferStatus.published,
                            title="Probe mentoring", grade_min=7, grade_max=9, municipality="Aarhus")
    db.add(mentoring_offer)
    db.flush()
    mentoring_date = OfferSession(offer_id=mentoring_offer.id, starts_at=starts, ends_at=starts + timedelta(hours=2),
                                  capacity_pupils=28, mentors_min=1, mentors_max=2)
    db.add(mentoring_date)
    db.flush()
    probed_shift = Shift(session_id=mentoring_date.id, mentor_id=probed_mentor.id, status=ShiftStatus.signed_up,
                         travel_minutes=30, created_at=utcnow(), updated_at=utcnow())
    db.add(probed_shift)
    db.commit()
    feed_token = calendar_service.create_feed(db, probed_user, query="", now=utcnow())
    evaluation = EvaluationRequest(booking_id=booking.id, user_id=probed_user.id, respondent=Respondent.teacher,
                                   token_hash="probe", expires_at=utcnow() + timedelta(days=30), sent_at=utcnow())
    db.add(evaluation)
    db.flush()
    evaluation.token_hash = secrets.token_hash(evaluations.link_token(settings.secret_key, evaluation))
    db.add(evaluation)
    db.commit()
    if path.startswith("/evaluations/{token}"):
        token = evaluations.link_token(settings.secret_key, evaluation)
    question_id = db.exec(select(Question.id).where(col(Question.retired_at).is_(None))).first()
    council_report = CouncilReport(title="Probe", period_start=date(2026, 1, 1), period_end=date(2026, 6, 30),
                                   created_at=utcnow(), updated_at=utcnow())
    db.add(council_report)
    db.commit()
    url = (
        path.replace("{organisation_id}", str(aarhus_school.id))
        .replace("{user_id}", str(probed_user.id))
        .replace("{token}", token)
        .replace("{feed_token}", feed_token)
        .replace("{offer_id}", str(offer.id))
        .replace("{session_id}", str(mentoring_date.id if SHIFT_ROUTE.match(path) else session.id))
        .replace("{version}", "1")
        .replace("{search_id}", str(saved.id))
        .replace("{holiday_id}", str(holiday.id))
        .replace("{resource_id}", str(resource.id))
        .replace("{window_id}", str(window.id))
        .replace("{booking_id}", str(booking.id))
        .replace("{proposal_id}", str(proposal.id))
        .replace("{pool_id}", str(pool.id))
        .replace("{cap_id}", str(cap.id))
        .replace("{notification_id}", str(message.id))
        .replace("{shift_id}", str(probed_shift.id))
        .replace("{code}", certificate_code(settings.secret_key, probed_mentor.id, utcnow()))
        .replace("{mentor_id}", str(probed_mentor.id))
        .replace("{request_id}", str(evaluation.id))
        .replace("{question_id}", str(question_id))
        .replace("{report_id}", str(council_report.id))
        .replace("{access_request_id}", str(access_request.id))
    )

    headers = {}
    if role != "anonymous":
        municipality = {"coordinator_aarhus": "Aarhus", "coordinator_herning": "Herning"}.get(role)
        organisation = provider if role == "provider" else None
        if role == "mentor":  # approved, so that what an approved mentor may do is probed
            actor = make_mentor(db, certificate_until=starts.date() + timedelta(days=30))
        else:
            actor = make_user(db, role.split("_")[0], municipality=municipality, organisation=organisation)
        if path.startswith("/api/"):
            headers = api_headers(db, actor, settings)
        else:
            log_in(client, db, actor, settings)

    if method == "GET":
        response = client.get(url, headers=headers)
    elif path.startswith("/api/"):
        body = {
            "/api/v1/organisations/{organisation_id}": {
                "name": "Renamed",
                "kind": "school",
                "municipality": "Aarhus",
            },
            "/api/v1/users/{user_id}": {
                "email": probed_user.email,
                "name": "Renamed",
                "role": "teacher",
                "organisation_id": aarhus_school.id,
            },
            "/api/v1/offers": {"type": "course", "title": "Ny"},
            "/api/v1/mentors/{mentor_id}/reject": {"reason": "Probe"},
            "/api/v1/mentors/{mentor_id}/certificate": {"assessed_on": utcnow().date().isoformat()},
            "/api/v1/bookings": {"session_id": session.id, "class_name": "8.b", "grade": 8, "pupils": 5},
            "/api/v1/offers/{offer_id}": {"type": "course", "title": "Ny"},
            "/api/v1/offers/{offer_id}/sessions": {
                "starts_at": (starts + timedelta(days=1)).isoformat(),
                "ends_at": (starts + timedelta(days=1, hours=2)).isoformat(),
                "capacity_pupils": 20,
                "open_on_holiday": True,
            },
        }.get(path, {})
        response = client.request(method, url, headers=headers, json=body)
    else:
        form = {"csrf_token": csrf(client)}
        if path == "/profile/sessions/end" and "stem_session" in client.cookies:
            form["session"] = secrets.token_hash(client.cookies["stem_session"])  # one's own
        response = client.request(method, url, headers=headers, data=form)

    denial = expected_denial(policy, role, path)
    if denial is None:
        assert response.status_code not in (401, 403, 404), response.text[:500]
        assert not response.headers.get("location", "").startswith("/login")
        if response.headers.get("content-type", "").startswith("text/html"):
            # A label or an error link that points at an id used twice reaches the wrong field.
            ids = re.findall(r'\sid="([^"]+)"', response.text)
            assert not [i for i in set(ids) if ids.count(i) > 1], "ids used twice on the page"
    else:
        assert response.status_code == denial, response.text[:500]
        if denial == 303:
            assert response.headers["location"].startswith("/login?next=")
        assert probed_user.email not in response.text


@pytest.mark.parametrize(
    ("method", "path"), sorted(k for k in MATRIX if k[0] != "GET" and not k[1].startswith("/api/"))
)
def test_every_form_post_needs_the_csrf_token(client, db, settings, method, path):
    admin = make_user(db, "admin")
    log_in(client, db, admin, settings)
    url = re.sub(r"\{[a-z_]+\}", "1", path)
    csrf(client)  # the browser has a token cookie; the forged request just cannot repeat it
    response = client.request(method, url, data={"name": "forged"})
    assert response.status_code == 403
    assert (
        "csrf" in response.text.lower()
        or "formularen" in response.text.lower()
        or "form" in response.text.lower()
    )
