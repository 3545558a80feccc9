"""Rules of youth-to-youth mentoring. Plain functions that take the database session; nothing
here knows of HTTP."""

from collections.abc import Iterable
from datetime import date, datetime

from sqlmodel import Session, select

from app.accounts import secrets
from app.accounts.models import (
    Organisation,
    OrganisationKind,
    ProviderKind,
    Role,
    SchoolLevel,
    User,
)
from app.accounts.passwords import check_new_password
from app.catalogue.models import Theme
from app.config import Settings
from app.errors import InvalidInput
from app.i18n import DEFAULT_LANGUAGE, TIMEZONE, _
from app.mentors import consent
from app.mentors.conduct import CONDUCT_VERSION
from app.mentors.models import MentorMunicipality, MentorProfile, MentorStatus, MentorTheme
from app.mentors.schemas import MentorSignupIn


def age_on(birth_date: date, day: date) -> int:
    return day.year - birth_date.year - ((day.month, day.day) < (birth_date.month, birth_date.day))


def is_mentor_institution(organisation: Organisation) -> bool:
    """Upper-secondary pupils mentor primary pupils; students of a university or college mentor
    upper-secondary pupils. Those are the institutions mentors come from."""
    if organisation.kind == OrganisationKind.school:
        return organisation.school_level == SchoolLevel.upper_secondary
    return organisation.provider_kind in (ProviderKind.university, ProviderKind.college)


def sign_up(
    db: Session,
    data: MentorSignupIn,
    *,
    now: datetime,
    settings: Settings,
    language: str = DEFAULT_LANGUAGE,
) -> MentorProfile:
    """A new mentor, waiting for a guardian's consent (under the consent age) or else for their
    institution's approval; mailed a link to verify their address, and their guardian one to
    consent, in `language` (the guardian's too). Refused, naming the field, below the least age,
    without a guardian's address for a minor, or from an institution mentors do not come from."""
    today = now.astimezone(TIMEZONE).date()
    if data.birth_date >= today:
        raise InvalidInput(_("Write your date of birth."), field="birth_date")
    age = age_on(data.birth_date, today)
    if age < settings.mentor_min_age:
        raise InvalidInput(
            _("A mentor must be at least %(age)d years old.") % {"age": settings.mentor_min_age},
            field="birth_date",
        )
    minor = age < settings.mentor_consent_age
    if minor and not data.guardian_email:
        raise InvalidInput(
            _("Under %(age)d, a parent or guardian must agree: write their e-mail address.")
            % {"age": settings.mentor_consent_age},
            field="guardian_email",
        )
    if minor and data.guardian_email == data.email:
        raise InvalidInput(
            _("Write your parent's or guardian's own e-mail address, not yours."), field="guardian_email"
        )
    institution = check_institution(db.get(Organisation, data.institution_id), field="institution_id")
    if db.exec(select(User.id).where(User.email == data.email)).first() is not None:
        raise InvalidInput(_("A user with this e-mail address already exists."), field="email")
    check_new_password(data.password, email=data.email, name=data.name, field="password")

    user = User(
        email=data.email,
        name=data.name,
        role=Role.mentor,
        organisation_id=institution.id,
        password_hash=secrets.hash_password(data.password),
        language=language,
        created_at=now,
    )
    db.add(user)
    db.flush()
    profile = add_profile(
        db,
        user,
        institution,
        MentorProfile(
            birth_date=data.birth_date,
            study_programme=data.study_programme,
            finishing_year=data.finishing_year,
            why_stem=data.why_stem,
            show_why_stem=data.show_why_stem,
            guardian_email=data.guardian_email if minor else None,
            status=MentorStatus.awaiting_consent if minor else MentorStatus.awaiting_approval,
            conduct_version=CONDUCT_VERSION if data.accepts_code_of_conduct else "",
            conduct_accepted_at=now if data.accepts_code_of_conduct else None,
        ),
        themes=data.themes,
        municipalities=data.municipalities,
        now=now,
    )
    consent.ask_to_verify_email(db, user, now=now, settings=settings)
    if minor:
        consent.ask_guardian(db, user, profile, now=now, settings=settings)
    db.commit()
    return profile


def check_institution(organisation: Organisation | None, *, field: str) -> Organisation:
    if organisation is None or not is_mentor_institution(organisation):
        raise InvalidInput(
            _("Choose your upper-secondary school, university or college from the list."), field=field
        )
    return organisation


def add_profile(
    db: Session,
    user: User,
    institution: Organisation,
    profile: MentorProfile,
    *,
    themes: Iterable[Theme],
    municipalities: Iterable[str],
    now: datetime,
) -> MentorProfile:
    """The mentor's profile beside their new account, in the caller's transaction: their themes,
    and the municipalities they can reach (none given: their institution's)."""
    profile.user_id, profile.institution_id = user.id, institution.id
    profile.created_at = profile.updated_at = now
    db.add(profile)
    db.add_all(MentorTheme(user_id=user.id, theme=theme) for theme in set(themes))
    reach = set(municipalities) or {institution.municipality}
    db.add_all(MentorMunicipality(user_id=user.id, municipality=m) for m in reach)
    return profile
