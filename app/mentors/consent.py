"""A new mentor's e-mail verification and a minor mentor's guardian consent: the one-time links
that are mailed, and what following them does. Plain functions on the database session; nothing
here knows of HTTP.

A mentor has at most one guardian_consent link at a time (a new one voids the last): while they
await consent it asks for it; once consent is in force it is the guardian's withdrawal link. So
what a link may do follows from whether consent is in force, with no column to say which it is."""

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta

from sqlalchemy import update
from sqlmodel import Session, col, select

from app.accounts import service as accounts
from app.accounts.models import AccountToken, Organisation, TokenPurpose, User
from app.config import Settings
from app.db import begin_write
from app.errors import InvalidInput, NotFound, TooLong
from app.i18n import TIMEZONE, _, language, local_date, ngettext
from app.mentors.conduct import CONSENT_TEXT_VERSION
from app.mentors.models import GuardianConsent, MentorProfile, MentorStatus
from app.notifications import service as notifications
from app.text import has_control_characters

GUARDIAN_NAME_MAX = 200
# Without a birth date (never so for a minor who signed up), the withdrawal link works this long.
WITHDRAWAL_DEFAULT = timedelta(days=730)


class LinkNotValid(NotFound):
    """A one-time link that is unknown, spent or expired, or that no longer fits the mentor's
    state (consent already given, or no consent to withdraw)."""

    def __init__(self) -> None:
        super().__init__(_("This link has expired or has already been used."))


@dataclass(frozen=True)
class GuardianRequest:
    """What the guardian's pages show: the mentor, their institution, and the consent in force."""

    mentor: User
    profile: MentorProfile
    institution: Organisation
    consent: GuardianConsent | None


# --- the links --------------------------------------------------------------------------------


def _valid_token(db: Session, token: str, purpose: TokenPurpose, *, now: datetime) -> AccountToken:
    try:
        found = accounts.valid_account_token(db, token, now=now)
    except NotFound:
        raise LinkNotValid() from None
    if found.purpose != purpose:
        raise LinkNotValid()
    return found


def _spend(db: Session, found: AccountToken, *, now: datetime) -> None:
    """Use a link once, however often it arrives at the same moment (a double click): only the
    first update still finds it unused; PostgreSQL makes the second wait for the first's commit."""
    spent = db.exec(
        update(AccountToken)
        .where(
            col(AccountToken.token_hash) == found.token_hash, col(AccountToken.used_at).is_(None)
        )
        .values(used_at=now)
    )
    if spent.rowcount != 1:
        db.rollback()
        raise LinkNotValid()


def _validity(days: int) -> str:
    return ngettext("the link works for %(num)d day", "the link works for %(num)d days", days) % {
        "num": days
    }


# --- e-mail verification -------------------------------------------------------------------------


def ask_to_verify_email(db: Session, mentor: User, *, now: datetime, settings: Settings) -> None:
    """Mail the mentor a link that proves their address, in the caller's transaction (which commits)."""
    purpose = TokenPurpose.verify_email
    expires_at = now + accounts.token_lifetime(purpose, settings)
    token = accounts.add_account_token(db, mentor, purpose=purpose, expires_at=expires_at, now=now)
    with language(mentor.language):
        subject = _("Confirm your e-mail address for the STEM portal")
        body = _(
            "Hello %(name)s,\n\nThank you for signing up as a youth-to-youth mentor on the STEM "
            "portal of Central Denmark Region.\n\nConfirm your e-mail address here (%(validity)s):\n"
            "%(link)s\n\nIf you did not sign up, you can ignore this e-mail.\n\n"
            "Kind regards\nThe STEM portal\n"
        ) % {
            "name": mentor.name,
            "validity": _validity(settings.verify_email_days),
            "link": f"{settings.base_url}/mentors/verify/{token}",
        }
    notifications.queue_email(db, to=mentor.email, subject=subject, body=body, now=now)


# A link sent again at most this often: each is an e-mail to someone's inbox.
RESEND_AFTER = timedelta(minutes=10)


def _sent_just_now(db: Session, mentor: User, purpose: TokenPurpose, *, now: datetime) -> None:
    last = db.exec(
        select(AccountToken.created_at).where(AccountToken.user_id == mentor.id, AccountToken.purpose == purpose)
    ).first()
    if last is not None and last > now - RESEND_AFTER:
        raise InvalidInput(_("We sent the link a few minutes ago. Look for the e-mail, also in the spam folder."))


def resend_verification(db: Session, mentor: User, *, now: datetime, settings: Settings) -> None:
    """A new verification link for a mentor whose address is not verified yet (the last one
    stops working)."""
    if needs_email_verification(db, mentor):
        _sent_just_now(db, mentor, TokenPurpose.verify_email, now=now)
        ask_to_verify_email(db, mentor, now=now, settings=settings)
        db.commit()


def verify_email(db: Session, token: str, *, now: datetime) -> User:
    """Follow the verification link: the mentor's address is proved. Once only."""
    begin_write(db)
    found = _valid_token(db, token, TokenPurpose.verify_email, now=now)
    mentor, profile = db.get(User, found.user_id), db.get(MentorProfile, found.user_id)
    if mentor is None or profile is None or not mentor.is_active:
        raise LinkNotValid()
    _spend(db, found, now=now)
    if profile.email_verified_at is None:
        profile.email_verified_at = profile.updated_at = now
        db.add(profile)
    db.commit()
    return mentor


def needs_email_verification(db: Session, user: User) -> bool:
    """Whether a mentor has yet to follow their verification link (their pages may remind them;
    an unverified mentor can still log in)."""
    profile = db.get(MentorProfile, user.id)
    return profile is not None and profile.email_verified_at is None


# --- a guardian's consent --------------------------------------------------------------------------


def ask_guardian(
    db: Session, mentor: User, profile: MentorProfile, *, now: datetime, settings: Settings
) -> None:
    """Mail a minor mentor's guardian a link to the consent page, in the caller's transaction
    (which commits). Written in the mentor's language: the guardian has no account of their own."""
    institution = db.get(Organisation, profile.institution_id)
    purpose = TokenPurpose.guardian_consent
    expires_at = now + accounts.token_lifetime(purpose, settings)
    token = accounts.add_account_token(db, mentor, purpose=purpose, expires_at=expires_at, now=now)
    with language(mentor.language):
        subject = _("%(name)s asks for your consent to be a youth-to-youth mentor") % {
            "name": mentor.name
        }
        body = _(
            "Hello,\n\n%(name)s from %(institution)s has signed up as a youth-to-youth mentor on "
            "the STEM portal of Central Denmark Region and has given your e-mail address as their "
            "parent's or guardian's. Under %(age)d, a mentor can only take part with a guardian's "
            "consent.\n\nRead what it means, what we store and who sees it, and give your consent "
            "here (%(validity)s):\n%(link)s\n\nIf you do not want to consent, you need not do "
            "anything: %(name)s cannot take part without your consent.\n\n"
            "Kind regards\nThe STEM portal\n"
        ) % {
            "name": mentor.name,
            "institution": institution.name,
            "age": settings.mentor_consent_age,
            "validity": _validity(settings.guardian_consent_days),
            "link": f"{settings.base_url}/mentors/consent/{token}",
        }
    notifications.queue_email(db, to=profile.guardian_email, subject=subject, body=body, now=now)


def ask_guardian_again(db: Session, mentor: User, *, now: datetime, settings: Settings) -> None:
    """A new consent link to the guardian (the last one stops working), for a mentor still
    awaiting consent: the link expired, or consent was withdrawn and may be given again."""
    profile = db.get(MentorProfile, mentor.id)
    if (
        profile is None
        or profile.status != MentorStatus.awaiting_consent
        or not profile.guardian_email
    ):
        raise InvalidInput(_("Your sign-up does not wait for a guardian's consent."))
    _sent_just_now(db, mentor, TokenPurpose.guardian_consent, now=now)
    ask_guardian(db, mentor, profile, now=now, settings=settings)
    db.commit()


def _consent_in_force(db: Session, mentor_id: int) -> GuardianConsent | None:
    return db.exec(
        select(GuardianConsent)
        .where(GuardianConsent.mentor_id == mentor_id, col(GuardianConsent.withdrawn_at).is_(None))
        .order_by(col(GuardianConsent.consented_at).desc())
    ).first()


def _guardian_link(
    db: Session, token: str, *, now: datetime
) -> tuple[AccountToken, GuardianRequest]:
    found = _valid_token(db, token, TokenPurpose.guardian_consent, now=now)
    mentor, profile = db.get(User, found.user_id), db.get(MentorProfile, found.user_id)
    if mentor is None or profile is None or not mentor.is_active or not profile.guardian_email:
        raise LinkNotValid()
    institution = db.get(Organisation, profile.institution_id)
    return found, GuardianRequest(mentor, profile, institution, _consent_in_force(db, mentor.id))


def _locked_profile(db: Session, mentor_id: int) -> MentorProfile:
    """The profile, locked until commit (PostgreSQL), as it is now: a decision taken meanwhile
    (a rejection) is not overwritten with what was read before."""
    return db.exec(
        select(MentorProfile)
        .where(MentorProfile.user_id == mentor_id)
        .with_for_update()
        .execution_options(populate_existing=True)
    ).one()


def consent_request(db: Session, token: str, *, now: datetime) -> GuardianRequest:
    """What the consent page shows; refused when the link is spent or consent is not awaited."""
    _found, request = _guardian_link(db, token, now=now)
    if request.consent is not None or request.profile.status != MentorStatus.awaiting_consent:
        raise LinkNotValid()
    return request


def check_guardian_name(name: str) -> str:
    name = name.strip()
    if not name:
        raise InvalidInput(_("Write your full name."), field="guardian_name")
    if len(name) > GUARDIAN_NAME_MAX:
        raise TooLong(GUARDIAN_NAME_MAX, field="guardian_name")
    if has_control_characters(name):
        raise InvalidInput(
            _("Write it on one line, without line breaks or other special characters."),
            field="guardian_name",
        )
    return name


def give_consent(
    db: Session, token: str, *, guardian_name: str, now: datetime, settings: Settings
) -> GuardianConsent:
    """The guardian consents, in one transaction: the consent is recorded (who, when, which text),
    the mentor moves on to their institution's approval, the guardian gets a receipt with a link
    to withdraw, and the mentor is told."""
    guardian_name = check_guardian_name(guardian_name)
    begin_write(db)
    found, request = _guardian_link(db, token, now=now)
    profile = _locked_profile(db, request.mentor.id)
    if request.consent is not None or profile.status != MentorStatus.awaiting_consent:
        raise LinkNotValid()
    _spend(db, found, now=now)
    consent = GuardianConsent(
        mentor_id=profile.user_id,
        guardian_name=guardian_name,
        guardian_email=profile.guardian_email,
        text_version=CONSENT_TEXT_VERSION,
        consented_at=now,
    )
    profile.status, profile.updated_at = MentorStatus.awaiting_approval, now
    db.add_all([consent, profile])
    withdrawal = accounts.add_account_token(
        db,
        request.mentor,
        purpose=TokenPurpose.guardian_consent,
        expires_at=_withdrawable_until(profile, now=now, settings=settings),
        now=now,
    )
    mentor = request.mentor
    with language(mentor.language):
        subject = _("You have consented: %(name)s can be a youth-to-youth mentor") % {
            "name": mentor.name
        }
        body = _(
            "Hello %(guardian)s,\n\nThank you. On %(date)s you consented to %(name)s taking part "
            "as a youth-to-youth mentor (the text you read: version %(version)s). Now their "
            "institution approves the sign-up.\n\nYou can withdraw your consent at any time here:\n"
            "%(link)s\n\nKind regards\nThe STEM portal\n"
        ) % {
            "guardian": guardian_name,
            "date": local_date(now),
            "name": mentor.name,
            "version": CONSENT_TEXT_VERSION,
            "link": f"{settings.base_url}/mentors/consent/{withdrawal}/withdraw",
        }
        notifications.queue_email(
            db, to=consent.guardian_email, subject=subject, body=body, now=now
        )
        notifications.notify(
            db,
            mentor,
            kind="mentor_consent_given",
            subject=_("Your parent or guardian has consented"),
            body=_(
                "Your parent or guardian has consented to you being a youth-to-youth mentor. Now "
                "your institution approves your sign-up, and we tell you when it has."
            ),
            now=now,
            base_url=settings.base_url,
        )
    db.commit()
    return consent


def _withdrawable_until(profile: MentorProfile, *, now: datetime, settings: Settings) -> datetime:
    """The withdrawal link works as long as the consent matters: until the mentor reaches the
    consent age (at least a day, and two years when their birth date is unknown)."""
    born = profile.birth_date
    if born is None:
        return now + WITHDRAWAL_DEFAULT
    year = born.year + settings.mentor_consent_age
    birthday = date(year, 3, 1) if (born.month, born.day) == (2, 29) else born.replace(year=year)
    return max(
        datetime.combine(birthday, time(), TIMEZONE).astimezone(UTC), now + timedelta(days=1)
    )


def withdrawal_request(db: Session, token: str, *, now: datetime) -> GuardianRequest:
    """What the withdrawal page shows; refused when the link is spent or no consent is in force."""
    _found, request = _guardian_link(db, token, now=now)
    if request.consent is None:
        raise LinkNotValid()
    return request


def withdraw_consent(
    db: Session, token: str, *, now: datetime, settings: Settings
) -> GuardianConsent:
    """The guardian withdraws their consent, in one transaction: the mentor waits for a consent
    again (unless they were rejected, paused or retired), leaves every date not yet begun, and is
    told."""
    begin_write(db)
    found, request = _guardian_link(db, token, now=now)
    consent = request.consent
    if consent is None:
        raise LinkNotValid()
    profile = _locked_profile(db, request.mentor.id)
    _spend(db, found, now=now)
    consent.withdrawn_at = now
    if profile.status in (MentorStatus.approved, MentorStatus.awaiting_approval):
        profile.status, profile.updated_at = MentorStatus.awaiting_consent, now
    db.add_all([consent, profile])
    mentor = request.mentor
    # Imported here: the shifts module needs the bookings service, which needs the accounts
    # service, which is still being imported when the mentors' sign-up brings this module in.
    from app.mentors import shifts

    with language(mentor.language):
        shifts.drop_future_shifts(
            db, mentor.id, now=now, reason=_("A parent or guardian withdrew their consent.")
        )
        notifications.notify(
            db,
            mentor,
            kind="mentor_consent_withdrawn",
            subject=_("Your parent or guardian has withdrawn their consent"),
            body=_(
                "Your parent or guardian has withdrawn their consent to you being a youth-to-youth "
                "mentor. You cannot take shifts until a guardian consents again, and your planned "
                "shifts have been cancelled."
            ),
            now=now,
            base_url=settings.base_url,
        )
    db.commit()
    return consent
