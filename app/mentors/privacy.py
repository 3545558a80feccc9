"""A mentor's own data: all of it for download, deleting the account, and the worker's deletion of
accounts unused for two school years. Plain functions that take the database session; nothing
here knows of HTTP.

What deleting keeps: the hours of past completed shifts, without the person (`mentor_id` empty),
for the statistics. Everything else about the mentor goes: the user row and what cascades from it
(profile, themes, reach, guardians' consents, child-certificate checks, log-ins and links, inbox,
calendar feed), the shifts that hold no hours, their failed log-ins and reset requests, and every
e-mail to their address in the outbox, sent or not: an unsent one would reach a person the portal
no longer knows, and a sent one is a copy of a message they already have, kept for no purpose once
the account is gone. E-mail to their guardian's address goes too, unless that address is someone
else's as well (a user, or the guardian of a brother or sister who mentors).

Left behind, knowingly: the inbox messages that told a provider's staff about a shift, which name
the mentor by first name only (they are the provider's own correspondence)."""

import logging
from datetime import date, datetime, timedelta
from enum import Enum
from typing import Any

from sqlalchemy import delete, exists, func, update
from sqlalchemy.orm import aliased
from sqlmodel import Session, col, select

from app.accounts import secrets
from app.accounts.models import (
    AuthSession,
    LoginAttempt,
    Organisation,
    PasswordResetRequest,
    Role,
    User,
)
from app.bookings.models import AllocationRound, BookingEvent, SchoolCap
from app.calendar.models import CalendarFeed
from app.catalogue.models import Offer, OfferSession, SavedSearch
from app.config import Settings, get_settings
from app.db import begin_write
from app.errors import Forbidden
from app.i18n import TIMEZONE, _, language, local_date
from app.mentors.models import (
    ChildCertificateCheck,
    GuardianConsent,
    MentorMunicipality,
    MentorProfile,
    MentorTheme,
    Shift,
    ShiftStatus,
)
from app.mentors.shifts import drop_future_shifts
from app.notifications.models import Notification, OutboxMessage
from app.notifications.service import notify

log = logging.getLogger(__name__)

# The school year begins on 1 August (Danish schools); an account unused for two whole school
# years is deleted, a warning this long before.
SCHOOL_YEAR_START_MONTH = 8
INACTIVE_SCHOOL_YEARS = 2
WARNING_AHEAD = timedelta(days=30)
WARNING_KIND = "account_deletion_warning"


def _plain(value: Any) -> Any:
    """A value as JSON has it: times and days in ISO 8601 (times in UTC), codes as their value."""
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, Enum):
        return value.value
    return value


def _row(obj: Any, fields: tuple[str, ...]) -> dict[str, Any]:
    return {name: _plain(getattr(obj, name)) for name in fields}


def export(db: Session, mentor: User) -> dict[str, Any]:
    """Everything the portal holds about the mentor, JSON-serialisable; never a password's or a
    token's hash, nor the address of a calendar feed or the text of an e-mail (both may carry a
    secret link that still works)."""
    email = mentor.email.lower()
    institution = db.get(Organisation, mentor.organisation_id) if mentor.organisation_id else None
    profile = db.get(MentorProfile, mentor.id)
    decided_by = db.get(User, profile.decided_by_id) if profile and profile.decided_by_id else None
    assessor = aliased(User)
    checks = db.exec(
        select(ChildCertificateCheck, assessor.name)
        .outerjoin(assessor, assessor.id == ChildCertificateCheck.assessed_by_id)
        .where(ChildCertificateCheck.mentor_id == mentor.id)
        .order_by(col(ChildCertificateCheck.assessed_on))
    ).all()
    shifts = db.exec(
        select(Shift, OfferSession, Offer, Organisation.name)
        .join(OfferSession, OfferSession.id == Shift.session_id)
        .join(Offer, Offer.id == OfferSession.offer_id)
        .join(Organisation, Organisation.id == Offer.provider_id)
        .where(Shift.mentor_id == mentor.id)
        .order_by(col(OfferSession.starts_at))
    ).all()
    feed = db.exec(select(CalendarFeed).where(CalendarFeed.user_id == mentor.id)).first()
    return {
        "account": {
            **_row(mentor, ("id", "name", "email", "phone", "role", "language", "is_active", "created_at", "last_login_at")),
            "institution": institution.name if institution else None,
        },
        "profile": None
        if profile is None
        else {
            **_row(
                profile,
                (
                    "birth_date",
                    "study_programme",
                    "finishing_year",
                    "why_stem",
                    "show_why_stem",
                    "guardian_email",
                    "status",
                    "status_reason",
                    "decided_at",
                    "email_verified_at",
                    "conduct_version",
                    "conduct_accepted_at",
                    "paused_at",
                    "created_at",
                    "updated_at",
                ),
            ),
            "decided_by": decided_by.name if decided_by else None,
        },
        "themes": sorted(
            _plain(t) for t in db.exec(select(MentorTheme.theme).where(MentorTheme.user_id == mentor.id)).all()
        ),
        "municipalities": sorted(
            db.exec(select(MentorMunicipality.municipality).where(MentorMunicipality.user_id == mentor.id)).all()
        ),
        "guardian_consents": [
            _row(c, ("guardian_name", "guardian_email", "text_version", "consented_at", "withdrawn_at"))
            for c in db.exec(
                select(GuardianConsent)
                .where(GuardianConsent.mentor_id == mentor.id)
                .order_by(col(GuardianConsent.consented_at))
            ).all()
        ],
        "child_certificate_checks": [
            {**_row(check, ("assessed_on", "valid_until", "created_at")), "assessed_by": name}
            for check, name in checks
        ],
        "shifts": [
            {
                "starts_at": _plain(session.starts_at),
                "ends_at": _plain(session.ends_at),
                "offer": offer.title,
                "provider": provider,
                **_row(shift, ("status", "minutes", "travel_minutes", "travel_confirmed_at", "leave_reason", "created_at")),
            }
            for shift, session, offer, provider in shifts
        ],
        "notifications": [
            _row(n, ("kind", "subject", "body", "link", "created_at", "read_at"))
            for n in db.exec(
                select(Notification)
                .where(Notification.user_id == mentor.id)
                .order_by(col(Notification.created_at), col(Notification.id))
            ).all()
        ],
        "emails": [
            _row(m, ("subject", "created_at", "sent_at"))
            for m in db.exec(
                select(OutboxMessage)
                .where(func.lower(OutboxMessage.to_address) == email)
                .order_by(col(OutboxMessage.created_at), col(OutboxMessage.id))
            ).all()
        ],
        "logged_in": [
            _row(s, ("kind", "created_at", "expires_at"))
            for s in db.exec(
                select(AuthSession).where(AuthSession.user_id == mentor.id).order_by(col(AuthSession.created_at))
            ).all()
        ],
        "log_in_attempts": [
            _row(a, ("client", "attempted_at", "succeeded"))
            for a in db.exec(
                select(LoginAttempt).where(LoginAttempt.email == email).order_by(col(LoginAttempt.attempted_at))
            ).all()
        ],
        "password_reset_requests": [
            _row(r, ("client", "requested_at"))
            for r in db.exec(
                select(PasswordResetRequest)
                .where(PasswordResetRequest.email == email)
                .order_by(col(PasswordResetRequest.requested_at))
            ).all()
        ],
        "calendar_feed": None if feed is None else _row(feed, ("query", "created_at")),
        "saved_searches": [
            _row(s, ("name", "query", "created_at"))
            for s in db.exec(select(SavedSearch).where(SavedSearch.user_id == mentor.id)).all()
        ],
    }


def deletion_refusals(mentor: User, *, password: str, confirmed: bool) -> dict[str, str]:
    """Why the mentor's request to delete their account is refused, by field (empty: go ahead).
    It needs their password again (a borrowed, logged-in browser is not enough) and a ticked box
    saying they understand."""
    errors = {}
    if not password:
        errors["password"] = _("Fill in your password.")
    elif not secrets.verify_password(mentor.password_hash, password):
        errors["password"] = _("That is not your password.")
    if not confirmed:
        errors["confirm"] = _("Tick the box to confirm that your account and data are to be deleted.")
    return errors


def delete_account(db: Session, mentor: User, *, now: datetime) -> None:
    """Delete the mentor and their data in one transaction, which this commits (see the module's
    docstring for what is kept). Their dates not yet begun are left first, and the providers told,
    so those places free up."""
    if mentor.role != Role.mentor:
        # Others' accounts hold bookings and decisions that must not vanish with them.
        raise Forbidden(_("Only a mentor's account can be deleted this way."))
    mentor_id, email = mentor.id, mentor.email.lower()
    begin_write(db)
    # Under the profile's lock, which a sign-up for a shift takes too: none slips in meanwhile.
    profile = db.exec(
        select(MentorProfile).where(MentorProfile.user_id == mentor_id).with_for_update()
    ).first()
    consents = select(GuardianConsent.guardian_email).where(GuardianConsent.mentor_id == mentor_id)
    guardians = {address.lower() for address in db.exec(consents).all()}
    if profile is not None and profile.guardian_email:
        guardians.add(profile.guardian_email.lower())

    drop_future_shifts(db, mentor_id, now=now, reason=_("The mentor deleted their account."))
    db.flush()
    # Shifts without hours (left, removed) say nothing the statistics need, and carry reasons in
    # the mentor's words. A signed-up shift of a date already begun stays: it is about to become
    # hours (the worker completes it), like the completed ones.
    db.exec(
        delete(Shift).where(
            col(Shift.mentor_id) == mentor_id,
            col(Shift.status).in_((ShiftStatus.left, ShiftStatus.removed)),
        )
    )
    addresses = sorted({email} | _only_theirs(db, mentor_id, guardians))
    db.exec(delete(OutboxMessage).where(func.lower(OutboxMessage.to_address).in_(addresses)))
    db.exec(delete(LoginAttempt).where(col(LoginAttempt.email) == email))
    db.exec(delete(PasswordResetRequest).where(col(PasswordResetRequest.email) == email))
    # Who-did-it columns without ON DELETE: emptied, so that they never block the deletion.
    db.exec(update(BookingEvent).where(col(BookingEvent.actor_id) == mentor_id).values(actor_id=None))
    db.exec(update(SchoolCap).where(col(SchoolCap.created_by) == mentor_id).values(created_by=None))
    db.exec(update(AllocationRound).where(col(AllocationRound.opened_by) == mentor_id).values(opened_by=None))
    # The rest by the foreign keys (SQLite enforces them too, app.db): CASCADE deletes the profile,
    # themes, reach, consents, checks, sessions, links, inbox, feed and searches; SET NULL keeps the
    # shifts with hours, and others' records of what the mentor decided or assessed.
    db.exec(delete(User).where(col(User.id) == mentor_id))
    db.commit()
    log.info("Mentor account %s deleted", mentor_id)


def _only_theirs(db: Session, mentor_id: int, guardians: set[str]) -> set[str]:
    """The guardians' addresses that are nobody else's: no user's, no other mentor's guardian's."""
    if not guardians:
        return set()
    shared = set(db.exec(select(func.lower(User.email)).where(func.lower(User.email).in_(guardians))).all())
    shared |= set(
        db.exec(
            select(func.lower(MentorProfile.guardian_email)).where(
                MentorProfile.user_id != mentor_id, func.lower(MentorProfile.guardian_email).in_(guardians)
            )
        ).all()
    )
    shared |= set(
        db.exec(
            select(func.lower(GuardianConsent.guardian_email)).where(
                GuardianConsent.mentor_id != mentor_id, func.lower(GuardianConsent.guardian_email).in_(guardians)
            )
        ).all()
    )
    return guardians - shared


def inactive_before(now: datetime) -> datetime:
    """The cut-off: a mentor whose last use is before it has not used the account for two whole
    school years. Danish school years run 1 August to 31 July; the cut-off is the beginning (0:00,
    Danish time) of 1 August of the school year two before the current one. On 1 March 2027 (school
    year 2026/27) it is 1 August 2024: an account last used on 31 July 2024 is unused in 2024/25
    and 2025/26 and is deleted; one used on 1 August 2024 stays until 1 August 2027. So accounts
    go once a year, on 1 August, each after between two and three years without use."""
    today = now.astimezone(TIMEZONE).date()
    current = today.year if today.month >= SCHOOL_YEAR_START_MONTH else today.year - 1
    return datetime(current - INACTIVE_SCHOOL_YEARS, SCHOOL_YEAR_START_MONTH, 1, tzinfo=TIMEZONE)


def _deleted_from(last_use: datetime, now: datetime) -> datetime:
    """When an account last used then is deleted: the 1 August its cut-off passes it, and never
    before the warning has had WARNING_AHEAD to arrive."""
    used = last_use.astimezone(TIMEZONE).date()
    school_year = used.year if used.month >= SCHOOL_YEAR_START_MONTH else used.year - 1
    due = datetime(school_year + INACTIVE_SCHOOL_YEARS + 1, SCHOOL_YEAR_START_MONTH, 1, tzinfo=TIMEZONE)
    return max(due, now + WARNING_AHEAD)


def anonymise_inactive(db: Session, *, now: datetime, settings: Settings | None = None) -> int:
    """The worker's job: delete (as `delete_account`) every mentor whose account is unused since
    before `inactive_before(now)`, by their last log-in, or when they never logged in, by when the
    account was made; only mentors. Each is warned (inbox and e-mail) first, WARNING_AHEAD before
    the cut-off passes them, and is deleted only once that warning, sent after their last use, is
    WARNING_AHEAD old: a worker that was not running in July delays the deletions rather than
    skipping the warning. Logging in again keeps the account. Returns how many were deleted."""
    last_use = func.coalesce(User.last_login_at, User.created_at)
    mentors = (col(User.role) == Role.mentor,)
    warned = exists().where(
        Notification.user_id == User.id, Notification.kind == WARNING_KIND, Notification.created_at >= last_use
    )
    warned_long_enough = exists().where(
        Notification.user_id == User.id,
        Notification.kind == WARNING_KIND,
        Notification.created_at >= last_use,
        Notification.created_at <= now - WARNING_AHEAD,
    )
    due = db.exec(
        select(User).where(*mentors, last_use < inactive_before(now), warned_long_enough).order_by(col(User.id))
    ).all()
    deleted = 0
    for user in due:
        try:
            delete_account(db, user, now=now)
            deleted += 1
        except Exception:  # one that fails must not keep the others
            db.rollback()
            log.exception("Could not delete the inactive mentor %s", user.id)

    to_warn = db.exec(
        select(User).where(*mentors, last_use < inactive_before(now + WARNING_AHEAD), ~warned).order_by(col(User.id))
    ).all()
    base_url = (settings or get_settings()).base_url
    for user in to_warn:
        _warn(db, user, deleted_from=_deleted_from(user.last_login_at or user.created_at, now), now=now, base_url=base_url)
    if to_warn:
        db.commit()
        log.info("Warned %d inactive mentors that their accounts will be deleted", len(to_warn))
    return deleted


def _warn(db: Session, user: User, *, deleted_from: datetime, now: datetime, base_url: str) -> None:
    with language(user.language):
        notify(
            db,
            user,
            kind=WARNING_KIND,
            subject=_("Your mentor account will be deleted"),
            body=_(
                "You have not used your account in the STEM portal for two school years, so we will "
                "delete it and your data on %(date)s. Your past shifts are kept as hours without your "
                "name. If you want to keep your account, just log in before then. You can also "
                "download your data first."
            )
            % {"date": local_date(deleted_from)},
            link="/mentor/privacy",
            now=now,
            base_url=base_url,
        )

