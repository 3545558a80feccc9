"""Small builders for test data, and ways to act as a user in the browser pages or the API."""

import re
from datetime import UTC, datetime, timedelta
from functools import cache
from itertools import count

from fastapi.testclient import TestClient
from sqlmodel import Session

from app.accounts import secrets
from app.accounts import service as accounts
from app.accounts.models import (
    Organisation,
    OrganisationKind,
    ProviderKind,
    Role,
    SchoolLevel,
    SessionKind,
    User,
)
from app.catalogue.models import Offer, OfferFormat, OfferSession, OfferStatus, OfferType
from app.config import Settings
from app.db import utcnow
from app.deps import SESSION_COOKIE
from app.i18n import TIMEZONE
from app.mentors.conduct import CONDUCT_VERSION
from app.mentors.models import ChildCertificateCheck, MentorMunicipality, MentorProfile, MentorTheme
from app.web.csrf import csrf_cookie, token_for

PASSWORD = "correct horse battery"
_numbers = count(1)


@cache
def _password_hash() -> str:
    return secrets.hash_password(PASSWORD)


def make_school(
    db: Session, *, municipality: str = "Aarhus", name: str | None = None
) -> Organisation:
    school = Organisation(
        name=name or f"Skole {next(_numbers)}",
        kind=OrganisationKind.school,
        municipality=municipality,
        school_level=SchoolLevel.primary,
    )
    db.add(school)
    db.commit()
    return school


def make_provider(
    db: Session, *, municipality: str = "Aarhus", name: str | None = None
) -> Organisation:
    provider = Organisation(
        name=name or f"Virksomhed {next(_numbers)}",
        kind=OrganisationKind.provider,
        municipality=municipality,
        provider_kind=ProviderKind.company,
    )
    db.add(provider)
    db.commit()
    return provider


def make_user(
    db: Session,
    role: Role | str,
    *,
    organisation: Organisation | None = None,
    municipality: str | None = None,
    email: str | None = None,
    password: str | None = PASSWORD,
) -> User:
    role = Role(role)
    if organisation is None and role == Role.teacher:
        organisation = make_school(db)
    if organisation is None and role == Role.provider:
        organisation = make_provider(db)
    user = User(
        email=email or f"{role.value}{next(_numbers)}@example.dk",
        name=f"{role.value.title()} {next(_numbers)}",
        role=role,
        organisation_id=organisation.id if organisation else None,
        municipality=municipality,
        password_hash=_password_hash()
        if password == PASSWORD
        else (secrets.hash_password(password) if password else None),
    )
    db.add(user)
    db.commit()
    return user


def csrf(client: TestClient) -> str:
    """The CSRF token the client's pages carry now (for its cookies: the nonce, fetched with a page
    view if it has none yet, and its session)."""
    name = csrf_cookie(client.app.state.settings.is_production)
    if name not in client.cookies:
        client.get("/")
    nonce, session = client.cookies[name], client.cookies.get(SESSION_COOKIE)
    return token_for(client.app.state.settings.secret_key, nonce, session)


def post_form(client: TestClient, url: str, data: dict | None = None, **kwargs):
    return client.post(url, data={**(data or {}), "csrf_token": csrf(client)}, **kwargs)


def log_in(client: TestClient, db: Session, user: User, settings: Settings) -> None:
    """Act as the user in the pages, without the cost of a password check."""
    token = accounts.start_session(db, user, kind=SessionKind.web, now=utcnow(), settings=settings)
    client.cookies.set(SESSION_COOKIE, token, domain="testserver.local")


def api_headers(db: Session, user: User, settings: Settings) -> dict[str, str]:
    token = accounts.start_session(db, user, kind=SessionKind.api, now=utcnow(), settings=settings)
    return {"Authorization": f"Bearer {token}"}


def published_session(db: Session, capacity: int = 30) -> tuple[Offer, OfferSession]:
    """A published course for grades 4–9 and one date of it, 40 days from now."""
    offer = Offer(
        provider_id=make_provider(db).id,
        type=OfferType.course,
        status=OfferStatus.published,
        title="Vandets kredsløb",
        grade_min=4,
        grade_max=9,
        municipality="Aarhus",
    )
    db.add(offer)
    db.flush()
    starts = utcnow() + timedelta(days=40)
    session = OfferSession(
        offer_id=offer.id, starts_at=starts, ends_at=starts + timedelta(hours=3), capacity_pupils=capacity
    )
    db.add(session)
    db.commit()
    return offer, session


def future_weekday(days: int = 30) -> datetime:
    """9:00 Danish time on the first Wednesday (never a Danish public holiday) `days` from today."""
    day = (datetime.now(UTC) + timedelta(days=days)).astimezone(TIMEZONE).date()
    while day.weekday() != 2:
        day += timedelta(days=1)
    return datetime(day.year, day.month, day.day, 9, 0, tzinfo=TIMEZONE)


def error_summary(html: str) -> dict[str, str]:
    """A page's error summary: the id each item links to, and its text."""
    box = re.search(r'<div class="error-summary".*?</div>', html, re.S)
    assert box, "no error summary"
    return dict(re.findall(r'<li><a href="#([^"]+)">(.*?)</a></li>', box.group(0)))


def make_institution(db: Session, *, higher_education: bool = False, municipality: str = "Aarhus") -> Organisation:
    """An upper-secondary school, or (higher_education) a university: where mentors come from."""
    if higher_education:
        organisation = Organisation(
            name=f"Universitet {next(_numbers)}",
            kind=OrganisationKind.provider,
            provider_kind=ProviderKind.university,
            municipality=municipality,
        )
    else:
        organisation = Organisation(
            name=f"Gymnasium {next(_numbers)}",
            kind=OrganisationKind.school,
            school_level=SchoolLevel.upper_secondary,
            municipality=municipality,
        )
    db.add(organisation)
    db.commit()
    return organisation


def make_mentor(
    db: Session,
    *,
    institution: Organisation | None = None,
    status: str = "approved",
    reach: tuple[str, ...] = ("Aarhus",),
    themes: tuple[str, ...] = (),
    certificate_until=None,
    conduct: bool = True,
) -> User:
    """A mentor with a profile (approved, having accepted the code of conduct, unless told
    otherwise), reaching `reach`, with a child-certificate assessment until `certificate_until`."""
    institution = institution or make_institution(db)
    user = make_user(db, Role.mentor, organisation=institution)
    now = utcnow()
    db.add(
        MentorProfile(
            user_id=user.id,
            institution_id=institution.id,
            study_programme="STX, fysik A",
            status=status,
            conduct_version=CONDUCT_VERSION if conduct else "",
            conduct_accepted_at=now if conduct else None,
            created_at=now,
            updated_at=now,
        )
    )
    db.add_all(MentorMunicipality(user_id=user.id, municipality=m) for m in reach)
    db.add_all(MentorTheme(user_id=user.id, theme=t) for t in themes)
    if certificate_until is not None:
        db.add(
            ChildCertificateCheck(
                mentor_id=user.id,
                assessed_on=certificate_until - timedelta(days=365),
                valid_until=certificate_until,
                created_at=now,
            )
        )
    db.commit()
    return user


def mentoring_date(
    db: Session,
    *,
    starts_at: datetime | None = None,
    hours: int = 2,
    mentors_min: int = 1,
    mentors_max: int = 2,
    grades: tuple[int, int] = (9, 10),
    municipality: str = "Aarhus",
    offer: Offer | None = None,
) -> OfferSession:
    """A date of a published mentoring offer (a new one unless `offer` is given), 30 days ahead
    unless told otherwise."""
    if offer is None:
        offer = Offer(
            provider_id=make_provider(db).id,
            type=OfferType.mentoring,
            status=OfferStatus.published,
            title=f"Ung til ung {next(_numbers)}",
            grade_min=grades[0],
            grade_max=grades[1],
            municipality=municipality,
            format=OfferFormat.at_school,
        )
        db.add(offer)
        db.flush()
    starts_at = starts_at or utcnow().replace(microsecond=0) + timedelta(days=30)
    session = OfferSession(
        offer_id=offer.id,
        starts_at=starts_at,
        ends_at=starts_at + timedelta(hours=hours),
        capacity_pupils=30,
        mentors_min=mentors_min,
        mentors_max=mentors_max,
    )
    db.add(session)
    db.commit()
    return session
