"""Rules of access requests: who may ask, how the address is proved, who decides, and what
approving makes. Plain functions on the database session; nothing here knows of HTTP.

Asking answers the same whether or not the address has an account or an open request: the
request is counted and an e-mail goes through the outbox either way, and only the mailbox's owner
reads which case it was."""

from collections.abc import Sequence
from datetime import datetime, timedelta

from sqlalchemy import delete, func, or_, update
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, select

from app.access_requests import emails
from app.access_requests.models import (
    OPEN_STATUSES,
    AccessRequest,
    AccessRequestKind,
    AccessRequestStatus,
)
from app.access_requests.schemas import MESSAGE_MAX_LENGTH, AccountRequestIn, ProviderRegistrationIn
from app.accounts import secrets
from app.accounts import service as accounts
from app.accounts.models import (
    Organisation,
    OrganisationKind,
    ProviderKind,
    Role,
    TokenPurpose,
    User,
)
from app.config import Settings
from app.db import begin_write
from app.errors import Conflict, Forbidden, InvalidInput, NotFound, TooLong, TooManyAttempts
from app.i18n import DEFAULT_LANGUAGE, _
from app.notifications import service as notifications
from app.text import has_control_characters

# Requests one client may send in an hour, and e-mails one address is sent in an hour (each
# request mails the address, so more would let anyone flood someone's inbox).
REQUESTS_PER_CLIENT, MAILS_PER_ADDRESS = 10, 3
ROLE_OF_KIND = {OrganisationKind.school: Role.teacher, OrganisationKind.provider: Role.provider}
SEARCH_LIMIT = 20


class LinkNotValid(NotFound):
    def __init__(self) -> None:
        super().__init__(_("This link has expired or has already been used."))


# --- asking -----------------------------------------------------------------------------------


def search_organisations(db: Session, q: str) -> tuple[Sequence[Organisation], int]:
    """Schools and providers whose name holds `q`, for the public form's search (names and
    municipalities are public: the catalogue shows them); at most SEARCH_LIMIT, with the count."""
    q = q.strip()
    if not q:
        return [], 0
    query = select(Organisation).where(col(Organisation.name).ilike(f"%{q}%"))
    total = db.exec(select(func.count()).select_from(query.subquery())).one()
    found = db.exec(query.order_by(col(Organisation.name), col(Organisation.id)).limit(SEARCH_LIMIT)).all()
    return found, total


def request_account(
    db: Session, data: AccountRequestIn, *, client: str, language: str = DEFAULT_LANGUAGE, now: datetime, settings: Settings
) -> None:
    organisation = db.get(Organisation, data.organisation_id)
    if organisation is None:
        raise InvalidInput(_("Search for your school or company, and choose it."), field="organisation_id")
    asked = AccessRequest(
        kind=AccessRequestKind.account,
        status=AccessRequestStatus.unverified,
        name=data.name,
        email=data.email,
        role=ROLE_OF_KIND[organisation.kind],
        organisation_id=organisation.id,
        message=data.message,
    )
    _receive(db, asked, client=client, language=language, now=now, settings=settings)


def register_provider(
    db: Session,
    data: ProviderRegistrationIn,
    *,
    client: str,
    language: str = DEFAULT_LANGUAGE,
    now: datetime,
    settings: Settings,
) -> None:
    registered = db.exec(
        select(AccessRequest.id).where(
            AccessRequest.cvr == data.cvr,
            or_(col(AccessRequest.status).in_(OPEN_STATUSES), AccessRequest.status == AccessRequestStatus.approved),
        )
    ).first()
    if registered is not None:
        raise InvalidInput(
            _("This company is registered already. Ask for an account at it instead."), field="cvr"
        )
    asked = AccessRequest(
        kind=AccessRequestKind.new_provider,
        status=AccessRequestStatus.unverified,
        name=data.name,
        email=data.email,
        phone=data.phone,
        role=Role.provider,
        company_name=data.company_name,
        cvr=data.cvr,
        address=data.address,
        municipality=data.municipality,
        message=data.message,
    )
    _receive(db, asked, client=client, language=language, now=now, settings=settings)


def _receive(db: Session, asked: AccessRequest, *, client: str, language: str, now: datetime, settings: Settings) -> None:
    """Store the request and mail its address: the link that proves it, or, when there is nothing
    to prove (an account, or a request, exists for it), what the owner needs to know."""
    asked.client, asked.language, asked.created_at = client[:64], language, now
    hour_ago = now - timedelta(hours=1)
    from_client = db.exec(
        select(func.count()).where(AccessRequest.client == asked.client, AccessRequest.created_at > hour_ago)
    ).one()
    if from_client >= REQUESTS_PER_CLIENT:
        raise TooManyAttempts(_("Too many requests. Wait an hour and try again."))
    begin_write(db)
    mailed = db.exec(
        select(func.count()).where(AccessRequest.email == asked.email, AccessRequest.created_at > hour_ago)
    ).one()
    has_account = db.exec(select(User.id).where(User.email == asked.email)).first() is not None
    earlier = db.exec(
        select(AccessRequest)
        .where(
            AccessRequest.email == asked.email,
            or_(
                AccessRequest.status == AccessRequestStatus.waiting,
                (col(AccessRequest.status) == AccessRequestStatus.unverified)
                & (col(AccessRequest.verify_expires_at) > now),
            ),
        )
        .order_by(col(AccessRequest.id).desc())
    ).first()
    mail = None
    if has_account:
        asked.status = AccessRequestStatus.void
        mail = emails.already_has_account(settings, asked)
    elif earlier is not None and earlier.status == AccessRequestStatus.waiting:
        asked.status = AccessRequestStatus.void
        mail = emails.already_asked(earlier)
    else:
        if earlier is not None:  # not proved yet: the newer details replace the earlier ones
            earlier.status, earlier.verify_token_hash = AccessRequestStatus.void, None
            db.add(earlier)
            db.flush()
        token = secrets.new_token()
        asked.verify_token_hash = secrets.token_hash(token)
        asked.verify_expires_at = now + accounts.token_lifetime(TokenPurpose.verify_email, settings)
        mail = emails.verify_address(settings, asked, token)
    db.add(asked)
    if mailed < MAILS_PER_ADDRESS:
        subject, body = mail
        notifications.queue_email(db, to=asked.email, subject=subject, body=body, now=now)
    db.commit()


def verify(db: Session, token: str, *, now: datetime, settings: Settings) -> AccessRequest:
    """Follow the e-mailed link: the address is proved, and the request goes to those who decide
    (they are told). Once only."""
    begin_write(db)
    asked = db.exec(
        select(AccessRequest).where(AccessRequest.verify_token_hash == secrets.token_hash(token))
    ).first()
    if (
        asked is None
        or asked.status != AccessRequestStatus.unverified
        or asked.verify_expires_at is None
        or asked.verify_expires_at <= now
    ):
        raise LinkNotValid()
    asked.verify_token_hash, asked.verified_at = None, now
    if db.exec(select(User.id).where(User.email == asked.email)).first() is not None:
        asked.status = AccessRequestStatus.void  # an account was made meanwhile (an invitation)
    else:
        asked.status = AccessRequestStatus.waiting
        organisation = db.get(Organisation, asked.organisation_id) if asked.organisation_id else None
        for approver in approvers(db, asked):
            subject, body = emails.waiting_for_decision(approver, asked, organisation)
            notifications.notify(
                db,
                approver,
                kind="access_request",
                subject=subject,
                body=body,
                now=now,
                link=f"/access-requests/{asked.id}",
                base_url=settings.base_url,
            )
    db.add(asked)
    db.commit()
    return asked


# --- deciding ---------------------------------------------------------------------------------


def _municipality(db: Session, asked: AccessRequest) -> str:
    if asked.kind == AccessRequestKind.new_provider:
        return asked.municipality
    organisation = db.get(Organisation, asked.organisation_id)
    return organisation.municipality if organisation else ""


def may_decide(db: Session, actor: User, asked: AccessRequest) -> bool:
    """An organisation's own users decide who joins it (they know their colleagues); the
    coordinators of its municipality and the region's do too, and they alone admit new companies."""
    if not actor.is_active:
        return False
    if actor.role == Role.admin:
        return True
    if actor.role == Role.coordinator:
        return actor.municipality is None or actor.municipality == _municipality(db, asked)
    return (
        asked.kind == AccessRequestKind.account
        and actor.role in (Role.teacher, Role.provider)
        and actor.organisation_id == asked.organisation_id
    )


def approvers(db: Session, asked: AccessRequest) -> list[User]:
    """Who is told that a request waits: the organisation's users, or, when it has none (or for a
    new company), the coordinators who may decide."""
    if asked.kind == AccessRequestKind.account:
        colleagues = db.exec(
            select(User).where(
                User.organisation_id == asked.organisation_id,
                col(User.role).in_([Role.teacher, Role.provider]),
                col(User.is_active).is_(True),
                col(User.password_hash).is_not(None),
            )
        ).all()
        if colleagues:
            return list(colleagues)
    municipality = _municipality(db, asked)
    return list(
        db.exec(
            select(User).where(
                User.role == Role.coordinator,
                col(User.is_active).is_(True),
                or_(col(User.municipality).is_(None), User.municipality == municipality),
            )
        ).all()
    )


def _scope(query, actor: User):
    if actor.role == Role.admin or (actor.role == Role.coordinator and actor.municipality is None):
        return query
    if actor.role == Role.coordinator:
        in_municipality = select(Organisation.id).where(Organisation.municipality == actor.municipality)
        return query.where(
            or_(
                (col(AccessRequest.kind) == AccessRequestKind.new_provider)
                & (col(AccessRequest.municipality) == actor.municipality),
                (col(AccessRequest.kind) == AccessRequestKind.account)
                & col(AccessRequest.organisation_id).in_(in_municipality),
            )
        )
    return query.where(
        AccessRequest.kind == AccessRequestKind.account, AccessRequest.organisation_id == actor.organisation_id
    )


def _require_decider_role(actor: User) -> None:
    if actor.role == Role.mentor:
        raise Forbidden(_("Mentors do not decide on access requests."))


def waiting(db: Session, actor: User) -> Sequence[AccessRequest]:
    """The requests waiting for the actor's decision, oldest first (the longest wait)."""
    _require_decider_role(actor)
    query = select(AccessRequest).where(AccessRequest.status == AccessRequestStatus.waiting)
    return db.exec(_scope(query, actor).order_by(col(AccessRequest.verified_at), col(AccessRequest.id))).all()


def waiting_count(db: Session, actor: User) -> int:
    """For a start page: how many requests wait for the actor (none for a mentor)."""
    if actor.role == Role.mentor:
        return 0
    query = select(func.count()).select_from(AccessRequest).where(AccessRequest.status == AccessRequestStatus.waiting)
    return db.exec(_scope(query, actor)).one()


def get_request(db: Session, actor: User, request_id: int) -> AccessRequest:
    """A request the actor may decide on (or has): others are reported missing, not forbidden."""
    _require_decider_role(actor)
    asked = db.get(AccessRequest, request_id)
    if asked is None or asked.status in (AccessRequestStatus.unverified, AccessRequestStatus.void):
        raise NotFound(_("No such request."))
    if not may_decide(db, actor, asked):
        raise NotFound(_("No such request."))
    return asked


def _open_for_decision(db: Session, actor: User, request_id: int) -> AccessRequest:
    begin_write(db)
    asked = get_request(db, actor, request_id)
    if asked.status != AccessRequestStatus.waiting:
        raise Conflict(_("This request has been decided already."))
    return asked


def approve(db: Session, actor: User, request_id: int, *, now: datetime, settings: Settings) -> User:
    """Make the account (and, for a new company, its organisation) and mail its holder the link
    to choose a password, as an invitation does."""
    asked = _open_for_decision(db, actor, request_id)
    if db.exec(select(User.id).where(User.email == asked.email)).first() is not None:
        raise Conflict(_("This e-mail address has an account already, so there is nothing to approve."))
    if asked.kind == AccessRequestKind.new_provider:
        organisation = Organisation(
            name=asked.company_name,
            kind=OrganisationKind.provider,
            provider_kind=ProviderKind.company,
            municipality=asked.municipality,
            address=asked.address,
            created_at=now,
        )
        db.add(organisation)
        db.flush()
        asked.organisation_id = organisation.id
    user = User(
        email=asked.email,
        name=asked.name,
        phone=asked.phone,
        role=asked.role,
        organisation_id=asked.organisation_id,
        language=asked.language,
        created_at=now,
    )
    db.add(user)
    try:
        db.flush()
    except IntegrityError:  # the same address approved at the same moment from another request
        db.rollback()
        raise Conflict(_("This e-mail address has an account already, so there is nothing to approve.")) from None
    token = accounts.add_account_token(
        db,
        user,
        purpose=TokenPurpose.invitation,
        expires_at=now + accounts.token_lifetime(TokenPurpose.invitation, settings),
        now=now,
    )
    asked.status, asked.decided_at, asked.decided_by_id, asked.user_id = (
        AccessRequestStatus.approved,
        now,
        actor.id,
        user.id,
    )
    db.add(asked)
    subject, body = emails.approved(settings, asked, token)
    notifications.queue_email(db, to=asked.email, subject=subject, body=body, now=now)
    db.commit()
    db.refresh(user)
    return user


def check_reason(reason: str) -> str:
    reason = reason.strip()
    if not reason:
        raise InvalidInput(_("Write the reason: the person who asked is told."), field="reason")
    if len(reason) > MESSAGE_MAX_LENGTH:
        raise TooLong(MESSAGE_MAX_LENGTH, field="reason")
    if has_control_characters(reason, multiline=True):
        raise InvalidInput(_("Remove the special characters (control characters) from the text."), field="reason")
    return reason


def decline(db: Session, actor: User, request_id: int, *, reason: str, now: datetime) -> AccessRequest:
    """Decline with a reason, which the person who asked is sent."""
    asked = _open_for_decision(db, actor, request_id)  # who may, before what they wrote
    reason = check_reason(reason)
    asked.status, asked.decided_at, asked.decided_by_id, asked.decline_reason = (
        AccessRequestStatus.declined,
        now,
        actor.id,
        reason,
    )
    db.add(asked)
    subject, body = emails.declined(asked)
    notifications.queue_email(db, to=asked.email, subject=subject, body=body, now=now)
    db.commit()
    return asked


# --- forgetting ---------------------------------------------------------------------------------

# A request nobody went on with (never confirmed, void, declined) is personal data with no use
# after this long; an approved one stays as the record of who let the account in.
UNUSED_REQUEST_DAYS = 90


def forget_old_requests(db: Session, *, now: datetime) -> int:
    """The worker's job: blank the client address of requests the hourly limits no longer count,
    and delete requests that led to no account after UNUSED_REQUEST_DAYS. Returns how many rows
    changed."""
    blanked = db.exec(
        update(AccessRequest)
        .where(col(AccessRequest.client) != "", col(AccessRequest.created_at) < now - timedelta(hours=1))
        .values(client="")
    ).rowcount
    unused = (AccessRequestStatus.unverified, AccessRequestStatus.void, AccessRequestStatus.declined)
    deleted = db.exec(
        delete(AccessRequest).where(
            col(AccessRequest.status).in_(unused),
            col(AccessRequest.created_at) < now - timedelta(days=UNUSED_REQUEST_DAYS),
        )
    ).rowcount
    db.commit()
    return blanked + deleted
