"""Rules of the accounts domain: who may log in, who may see and change which organisation or user.

Plain functions that take the database session and the acting user; nothing here knows of HTTP.
"""

from collections.abc import Sequence
from datetime import datetime, timedelta

from sqlalchemy import bindparam, delete, func, or_
from sqlmodel import Session, col, select

from app.accounts import emails, secrets
from app.accounts.models import (
    STAFF_ROLES,
    AccountToken,
    AuthSession,
    LoginAttempt,
    Organisation,
    OrganisationKind,
    PasswordResetRequest,
    Role,
    SessionKind,
    TokenPurpose,
    User,
)
from app.accounts.passwords import check_new_password
from app.accounts.schemas import OrganisationIn, PasswordChange, ProfileIn, UserCreate, UserIn
from app.collation import danish_key
from app.config import Settings
from app.db import begin_write
from app.errors import Conflict, Forbidden, InvalidInput, NotFound, TooManyAttempts
from app.i18n import _, ngettext
from app.mentors import service as mentors
from app.mentors.models import MentorProfile, MentorStatus
from app.notifications import service as notifications

# --- log-in and sessions ---------------------------------------------------------------------


# A client that has failed for an address login_max_failures times (in a day) waits before it may
# try that address again: a minute, then twice as long after each further failure, at most
# login_window_minutes. Nobody else waits: the right password from another client still gets in,
# so failures sent from anywhere cannot lock a chosen user out. A client failing for many addresses
# (ten times the limit) waits the same way, except for the addresses that logged in from it in the
# last three months: one pupil's guesses behind a school's shared address do not lock out the
# school's teachers. An address failed for from many clients (ten times the limit) waits the same
# way for every client it has not logged in from: guessing from many addresses gains nothing,
# and the owner's own browsers go on.
FAILURES_REMEMBERED = timedelta(days=1)
KNOWN_CLIENT_DAYS = 90


def _as_stored(email: str) -> str:
    """An address as typed, as the users table and the limits keep it."""
    return email.replace("\x00", "").strip().lower()[:254]


def _throttled(db: Session, condition, *, threshold: int, now: datetime, settings: Settings) -> None:
    since = now - FAILURES_REMEMBERED
    failures, last = db.exec(
        select(func.count(), func.max(LoginAttempt.attempted_at)).where(
            condition, col(LoginAttempt.succeeded).is_(False), LoginAttempt.attempted_at >= since
        )
    ).one()
    if failures < threshold:
        return
    wait = timedelta(minutes=min(2 ** (failures - threshold), settings.login_window_minutes))
    left = last + wait - now
    if left > timedelta(0):
        minutes = max(1, -(-int(left.total_seconds()) // 60))
        raise TooManyAttempts(
            ngettext(
                "Too many failed attempts. Wait %(num)d minute and try again, or reset your password.",
                "Too many failed attempts. Wait %(num)d minutes and try again, or reset your password.",
                minutes,
            )
            % {"num": minutes}
        )


def forget_old_attempts(db: Session, *, now: datetime) -> int:
    """The worker's job: drop what the limits no longer count (client addresses are personal data,
    kept no longer than needed). Returns how many rows went."""
    forgotten = db.exec(
        delete(LoginAttempt).where(
            or_(
                col(LoginAttempt.succeeded).is_(False) & (col(LoginAttempt.attempted_at) < now - FAILURES_REMEMBERED),
                col(LoginAttempt.attempted_at) < now - timedelta(days=KNOWN_CLIENT_DAYS),
            )
        )
    ).rowcount
    forgotten += db.exec(
        delete(PasswordResetRequest).where(col(PasswordResetRequest.requested_at) < now - timedelta(hours=1))
    ).rowcount
    db.commit()
    return forgotten


def authenticate(
    db: Session, *, email: str, password: str, client: str, now: datetime, settings: Settings
) -> User:
    """The active user with this e-mail and password, or an error that does not tell which was wrong."""
    email, client = _as_stored(email), client[:64]
    this_pair = (LoginAttempt.email == email) & (LoginAttempt.client == client)
    _throttled(db, this_pair, threshold=settings.login_max_failures, now=now, settings=settings)
    known_here = db.exec(
        select(LoginAttempt.id).where(
            this_pair,
            col(LoginAttempt.succeeded).is_(True),
            LoginAttempt.attempted_at >= now - timedelta(days=KNOWN_CLIENT_DAYS),
        )
    ).first()
    if known_here is None:
        many = settings.login_max_failures * 10
        # One client guessing many addresses, and one address guessed from many clients.
        _throttled(db, LoginAttempt.client == client, threshold=many, now=now, settings=settings)
        _throttled(db, LoginAttempt.email == email, threshold=many, now=now, settings=settings)

    user = db.exec(select(User).where(User.email == email)).first()
    correct = secrets.verify_password(user.password_hash if user else None, password) and user.is_active
    # Only now the write lock (SQLite): not while the password is checked, and not by writing in
    # the transaction that read, which SQLite refuses at once when another log-in wrote meanwhile.
    begin_write(db)
    if not correct:
        db.add(LoginAttempt(email=email, client=client, attempted_at=now))
        db.commit()
        raise InvalidInput(_("Wrong e-mail address or password."), field="password")

    if secrets.needs_rehash(user.password_hash):
        user.password_hash = secrets.hash_password(password)
    db.exec(delete(LoginAttempt).where(this_pair))
    db.add(LoginAttempt(email=email, client=client, attempted_at=now, succeeded=True))
    user.last_login_at = now
    return user


def start_session(
    db: Session, user: User, *, kind: SessionKind, now: datetime, settings: Settings
) -> str:
    """A new secret for a logged-in browser or an API client; returned once, stored only hashed."""
    days = settings.session_days if kind == SessionKind.web else settings.api_token_days
    token = secrets.new_token()
    db.add(
        AuthSession(
            token_hash=secrets.token_hash(token),
            user_id=user.id,
            kind=kind,
            created_at=now,
            expires_at=now + timedelta(days=days),
        )
    )
    db.exec(delete(AuthSession).where(col(AuthSession.expires_at) < now))
    db.commit()
    return token


def user_for_session_select(*columns):
    """The statement that finds the user of a session token (parameters: `session_params`) and
    reads `columns`: the User, or only some of its columns, and more to read in the same round
    trip. Build it once and keep it: building a SQLAlchemy statement costs more CPU than running
    this one, which is asked on every request that carries a session cookie or a bearer token."""
    return (
        select(*columns)
        .select_from(User)
        .join(AuthSession, col(AuthSession.user_id) == col(User.id))
        .where(
            AuthSession.token_hash == bindparam("token_hash"),
            AuthSession.kind == bindparam("kind"),
            AuthSession.expires_at > bindparam("now"),
            col(User.is_active).is_(True),
        )
    )


def session_params(token: str, *, kind: SessionKind, now: datetime) -> dict:
    return {"token_hash": secrets.token_hash(token), "kind": kind, "now": now}


_USER_FOR_SESSION = user_for_session_select(User)


def user_for_session(db: Session, token: str, *, kind: SessionKind, now: datetime) -> User | None:
    return db.exec(_USER_FOR_SESSION, params=session_params(token, kind=kind, now=now)).first()


def end_session(db: Session, token: str) -> None:
    db.exec(delete(AuthSession).where(col(AuthSession.token_hash) == secrets.token_hash(token)))
    db.commit()


def end_all_sessions(db: Session, user: User) -> None:
    db.exec(delete(AuthSession).where(col(AuthSession.user_id) == user.id))


def active_sessions(db: Session, user: User, *, now: datetime) -> Sequence[AuthSession]:
    """The user's logged-in browsers and API tokens, newest first."""
    return db.exec(
        select(AuthSession)
        .where(AuthSession.user_id == user.id, AuthSession.expires_at > now)
        .order_by(col(AuthSession.created_at).desc())
    ).all()


def end_own_session(db: Session, user: User, token_hash: str) -> None:
    """End one of the user's own sessions or tokens, named by its hash (never by its secret,
    which is shown nowhere after it was issued)."""
    ended = db.exec(
        delete(AuthSession).where(
            col(AuthSession.token_hash) == token_hash, col(AuthSession.user_id) == user.id
        )
    )
    if not ended.rowcount:
        raise NotFound(_("No such log-in."))
    db.commit()


# --- own profile and password ----------------------------------------------------------------


def update_profile(db: Session, user: User, data: ProfileIn) -> User:
    user.name = data.name
    user.phone = data.phone
    db.add(user)
    db.commit()
    return user


def change_password(db: Session, user: User, data: PasswordChange) -> None:
    """Set a new password and log out every session, so a thief's session ends too."""
    if not secrets.verify_password(user.password_hash, data.current_password):
        raise InvalidInput(_("That is not your current password."), field="current_password")
    check_new_password(data.new_password, email=user.email, name=user.name, field="new_password")
    user.password_hash = secrets.hash_password(data.new_password)
    db.add(user)
    end_all_sessions(db, user)
    db.commit()


def set_language(db: Session, user: User, language: str) -> None:
    user.language = language
    db.add(user)
    db.commit()


# --- one-time links: invitation and password reset --------------------------------------------


def token_lifetime(purpose: TokenPurpose, settings: Settings) -> timedelta:
    """How long a one-time link of this purpose works, unless its issuer says otherwise."""
    return {
        TokenPurpose.password_reset: timedelta(hours=settings.password_reset_hours),
        TokenPurpose.invitation: timedelta(days=settings.invitation_days),
        TokenPurpose.verify_email: timedelta(days=settings.verify_email_days),
        TokenPurpose.guardian_consent: timedelta(days=settings.guardian_consent_days),
    }[purpose]


def issue_account_token(
    db: Session, user: User, *, purpose: TokenPurpose, now: datetime, settings: Settings
) -> str:
    """A new one-time link secret; earlier unused links of the same purpose stop working. An
    invitation only for an account without a password: otherwise whoever manages the account
    could take it over by changing its e-mail address and inviting that."""
    if purpose == TokenPurpose.invitation and not user.may_be_invited:
        raise Conflict(
            _("This user has chosen a password already. They can reset it from the log-in page."),
            field="email",
        )
    expires_at = now + token_lifetime(purpose, settings)
    token = add_account_token(db, user, purpose=purpose, expires_at=expires_at, now=now)
    db.commit()
    return token


def add_account_token(
    db: Session, user: User, *, purpose: TokenPurpose, expires_at: datetime, now: datetime
) -> str:
    """A new one-time link secret in the caller's transaction (which commits), working until
    `expires_at`; earlier links of the same purpose stop working."""
    db.exec(
        delete(AccountToken).where(
            col(AccountToken.user_id) == user.id, col(AccountToken.purpose) == purpose
        )
    )
    token = secrets.new_token()
    db.add(
        AccountToken(
            token_hash=secrets.token_hash(token),
            user_id=user.id,
            purpose=purpose,
            created_at=now,
            expires_at=expires_at,
        )
    )
    return token


# Reset links one address is sent in an hour (each makes the one before it void, so more would only
# let someone keep a user from finishing a reset), and requests one client may make in an hour.
RESETS_PER_ADDRESS, RESETS_PER_CLIENT = 3, 20


def request_password_reset(
    db: Session, *, email: str, client: str, now: datetime, settings: Settings
) -> None:
    """Mail a reset link to the address if it has an active account. The same work, and the same
    answer, whether or not it has: the request is counted either way and the e-mail goes through
    the outbox, so neither the page nor its timing tells who has an account. Too many requests from
    one client are refused; one address is mailed RESETS_PER_ADDRESS times an hour at most."""
    email, client = _as_stored(email), client[:64]
    hour_ago = now - timedelta(hours=1)
    from_client = db.exec(
        select(func.count()).where(
            PasswordResetRequest.client == client, PasswordResetRequest.requested_at > hour_ago
        )
    ).one()
    if from_client >= RESETS_PER_CLIENT:
        raise TooManyAttempts(_("Too many requests. Wait an hour and try again."))
    for_address = db.exec(
        select(func.count()).where(
            PasswordResetRequest.email == email, PasswordResetRequest.requested_at > hour_ago
        )
    ).one()
    begin_write(db)
    db.add(PasswordResetRequest(email=email, client=client, requested_at=now))
    user = db.exec(select(User).where(User.email == email)).first()
    if user is not None and user.is_active and for_address < RESETS_PER_ADDRESS:
        token = issue_account_token(db, user, purpose=TokenPurpose.password_reset, now=now, settings=settings)
        subject, body = emails.password_reset(settings, user, token)
        notifications.queue_email(db, to=user.email, subject=subject, body=body, now=now)
    db.commit()


def valid_account_token(db: Session, token: str, *, now: datetime) -> AccountToken:
    found = db.get(AccountToken, secrets.token_hash(token))
    if found is None or found.used_at is not None or found.expires_at <= now:
        raise NotFound(_("This link has expired or has already been used. Ask for a new one."))
    return found


def set_password_with_token(db: Session, token: str, password: str, *, now: datetime) -> User:
    """Use an invitation or reset link: choose a password, and end every earlier session."""
    account_token = valid_account_token(db, token, now=now)
    user = db.get(User, account_token.user_id)
    invited_with_password = account_token.purpose == TokenPurpose.invitation and user and user.password_hash
    if user is None or not user.is_active or invited_with_password:
        raise NotFound(_("This link has expired or has already been used. Ask for a new one."))
    check_new_password(password, email=user.email, name=user.name, field="password")
    user.password_hash = secrets.hash_password(password)
    account_token.used_at = now
    db.add_all([user, account_token])
    end_all_sessions(db, user)
    # Whoever holds the link holds the mailbox: the failures that slowed their log-in are forgiven.
    db.exec(
        delete(LoginAttempt).where(
            col(LoginAttempt.email) == user.email, col(LoginAttempt.succeeded).is_(False)
        )
    )
    db.commit()
    return user


# --- organisations ---------------------------------------------------------------------------


def can_manage_organisation(actor: User, organisation: Organisation) -> bool:
    """Admins and regional coordinators manage all; a municipal coordinator their municipality."""
    if actor.role == Role.admin:
        return True
    if actor.role == Role.coordinator:
        return actor.municipality is None or actor.municipality == organisation.municipality
    return False


def _require_staff(actor: User) -> None:
    if not actor.is_staff:
        raise Forbidden(_("Only coordinators and administrators may do this."))


def list_organisations(
    db: Session,
    actor: User,
    *,
    kind: OrganisationKind | None = None,
    municipality: str | None = None,
    q: str | None = None,
    limit: int = 50,
    offset: int = 0,
) -> tuple[Sequence[Organisation], int]:
    """The organisations the actor manages, optionally filtered; with the total before paging."""
    _require_staff(actor)
    query = select(Organisation)
    if actor.role == Role.coordinator and actor.municipality:
        query = query.where(Organisation.municipality == actor.municipality)
    if kind:
        query = query.where(Organisation.kind == kind)
    if municipality:
        query = query.where(Organisation.municipality == municipality)
    if q:
        query = query.where(col(Organisation.name).ilike(f"%{q.strip()}%"))
    # Sorted here, not by the database: SQLite has no Danish collation, and PostgreSQL's depends on
    # the server's locale. A region's few hundred organisations sort in a moment.
    found = sorted(db.exec(query).all(), key=lambda o: (danish_key(o.name), o.id))
    return found[offset : offset + limit], len(found)


def organisation_label(organisation: Organisation) -> str:
    """How an organisation picker names an organisation: names repeat across municipalities
    (a Vestre Skole in several), the municipality tells them apart."""
    return f"{organisation.name} ({organisation.municipality})"


def organisation_by_label(db: Session, actor: User, text: str) -> int | None:
    """The id of the organisation typed or chosen in a picker (templates/macros/organisation_picker.html),
    among those the actor manages: by its label, or by its name alone when only one has it; case and
    spaces do not matter. None for an empty field. A name that fits none, or several, is refused
    beside the field."""
    typed = " ".join(text.split())
    if not typed:
        return None
    wanted = typed.casefold()
    found, _total = list_organisations(db, actor, limit=100_000)
    matches = [o for o in found if organisation_label(o).casefold() == wanted] or [
        o for o in found if " ".join(o.name.split()).casefold() == wanted
    ]
    if len(matches) > 1:
        raise InvalidInput(
            _("Several organisations are called “%(name)s”: choose the one in the right municipality from the list.") % {"name": typed},
            field="organisation_id",
        )
    if not matches:
        raise InvalidInput(
            _("No organisation is called “%(name)s”. Choose one from the list, or create the organisation first.") % {"name": typed},
            field="organisation_id",
        )
    return matches[0].id


def organisations_by_id(db: Session, ids: set[int]) -> Sequence[Organisation]:
    if not ids:
        return []
    return db.exec(select(Organisation).where(col(Organisation.id).in_(ids))).all()


def get_organisation(db: Session, actor: User, organisation_id: int) -> Organisation:
    """An organisation the actor manages. Others are reported missing, not forbidden, so that
    nobody learns which ids exist in other municipalities."""
    _require_staff(actor)
    organisation = db.get(Organisation, organisation_id)
    if organisation is None or not can_manage_organisation(actor, organisation):
        raise NotFound(_("No such organisation."))
    return organisation


def _check_organisation_scope(actor: User, data: OrganisationIn) -> None:
    if (
        actor.role == Role.coordinator
        and actor.municipality
        and data.municipality != actor.municipality
    ):
        raise InvalidInput(
            _("You can only manage organisations in %(municipality)s.")
            % {"municipality": actor.municipality},
            field="municipality",
        )


def create_organisation(db: Session, actor: User, data: OrganisationIn) -> Organisation:
    _require_staff(actor)
    _check_organisation_scope(actor, data)
    organisation = Organisation.model_validate(data.model_dump())
    db.add(organisation)
    db.commit()
    db.refresh(organisation)
    return organisation


def update_organisation(
    db: Session, actor: User, organisation_id: int, data: OrganisationIn
) -> Organisation:
    organisation = get_organisation(db, actor, organisation_id)
    _check_organisation_scope(actor, data)
    if (
        data.kind != organisation.kind
        and db.exec(select(User.id).where(User.organisation_id == organisation.id)).first()
    ):
        raise InvalidInput(
            _("The organisation has users, so it cannot change between school and provider."),
            field="kind",
        )
    organisation.sqlmodel_update(data.model_dump())
    db.add(organisation)
    db.commit()
    db.refresh(organisation)
    return organisation


# --- users -----------------------------------------------------------------------------------


def can_manage_user(db: Session, actor: User, user: User) -> bool:
    if actor.role == Role.admin:
        return True
    if actor.role != Role.coordinator or user.role == Role.admin:
        return False
    if actor.municipality is None:
        return True
    if user.role == Role.coordinator:
        return user.municipality == actor.municipality
    organisation = db.get(Organisation, user.organisation_id) if user.organisation_id else None
    return organisation is not None and organisation.municipality == actor.municipality


def list_users(
    db: Session,
    actor: User,
    *,
    role: Role | None = None,
    organisation_id: int | None = None,
    q: str | None = None,
    limit: int = 50,
    offset: int = 0,
) -> tuple[Sequence[User], int]:
    _require_staff(actor)
    query = select(User)
    if actor.role == Role.coordinator:
        query = query.where(User.role != Role.admin)
        if actor.municipality:
            in_municipality = select(Organisation.id).where(
                Organisation.municipality == actor.municipality
            )
            query = query.where(
                or_(
                    col(User.organisation_id).in_(in_municipality),
                    (col(User.role) == Role.coordinator)
                    & (col(User.municipality) == actor.municipality),
                )
            )
    if role:
        query = query.where(User.role == role)
    if organisation_id:
        query = query.where(User.organisation_id == organisation_id)
    if q:
        pattern = f"%{q.strip()}%"
        query = query.where(or_(col(User.name).ilike(pattern), col(User.email).ilike(pattern)))
    # By organisation, then name, in Danish order (app.collation); sorted here for the reason
    # list_organisations gives. Users without an organisation (coordinators, admins) come first.
    found = db.exec(query).all()
    names = {o.id: o.name for o in organisations_by_id(db, {u.organisation_id for u in found if u.organisation_id})}
    found = sorted(found, key=lambda u: (danish_key(names.get(u.organisation_id, "")), danish_key(u.name), u.id))
    return found[offset : offset + limit], len(found)


def get_user(db: Session, actor: User, user_id: int) -> User:
    _require_staff(actor)
    user = db.get(User, user_id)
    if user is None or not can_manage_user(db, actor, user):
        raise NotFound(_("No such user."))
    return user


def _check_user(db: Session, actor: User, data: UserIn, *, user_id: int | None = None) -> None:
    """Role, organisation and scope must fit together, and the actor may only hand out what they
    hold: coordinators cannot make admins, municipal coordinators stay in their municipality."""
    if data.role == Role.admin and actor.role != Role.admin:
        raise InvalidInput(_("Only administrators can create administrators."), field="role")
    if (
        data.role == Role.coordinator
        and actor.role == Role.coordinator
        and actor.municipality
        and data.municipality != actor.municipality
    ):
        raise InvalidInput(
            _("You can only create coordinators for %(municipality)s.")
            % {"municipality": actor.municipality},
            field="municipality",
        )
    if data.municipality and data.role != Role.coordinator:
        raise InvalidInput(
            _("Only coordinators have a municipality of their own."), field="municipality"
        )

    needed_kind = {Role.teacher: OrganisationKind.school, Role.provider: OrganisationKind.provider}
    if data.role in STAFF_ROLES:
        if data.organisation_id is not None:
            raise InvalidInput(
                _("Coordinators and administrators do not belong to an organisation."),
                field="organisation_id",
            )
    elif data.organisation_id is None:
        # A municipal coordinator's users must belong somewhere in their municipality, or the
        # coordinator could never see them again.
        if data.role in needed_kind or (actor.role == Role.coordinator and actor.municipality):
            raise InvalidInput(_("Choose the user's organisation."), field="organisation_id")
    else:
        organisation = db.get(Organisation, data.organisation_id)
        if organisation is None or not can_manage_organisation(actor, organisation):
            raise InvalidInput(_("Choose one of your organisations."), field="organisation_id")
        kind = needed_kind.get(data.role)
        if kind and organisation.kind != kind:
            raise InvalidInput(
                _("A teacher belongs to a school.")
                if kind == OrganisationKind.school
                else _("A provider user belongs to a provider organisation."),
                field="organisation_id",
            )

    taken = db.exec(select(User.id).where(User.email == data.email)).first()
    if taken is not None and taken != user_id:
        raise InvalidInput(_("A user with this e-mail address already exists."), field="email")


def create_user(db: Session, actor: User, data: UserCreate, *, now: datetime) -> User:
    """Create a user; without a password the caller sends an invitation (see `issue_account_token`).
    A mentor registered so is approved at once: the coordinator vouches for them."""
    _require_staff(actor)
    _check_user(db, actor, data)
    if data.role == Role.mentor:
        institution = mentors.check_institution(
            db.get(Organisation, data.organisation_id) if data.organisation_id else None,
            field="organisation_id",
        )
    if data.password:
        check_new_password(data.password, email=data.email, name=data.name, field="password")
    user = User.model_validate(
        data.model_dump(include=set(UserIn.model_fields)),
        update={"password_hash": secrets.hash_password(data.password) if data.password else None},
    )
    db.add(user)
    if data.role == Role.mentor:
        db.flush()
        mentors.add_profile(
            db,
            user,
            institution,
            MentorProfile(
                birth_date=data.birth_date, study_programme=data.study_programme, status=MentorStatus.approved
            ),
            themes=data.themes,
            municipalities=data.municipalities,
            now=now,
        )
    db.commit()
    db.refresh(user)
    return user


def update_user(db: Session, actor: User, user_id: int, data: UserIn, *, now: datetime) -> User:
    user = get_user(db, actor, user_id)
    _check_user(db, actor, data, user_id=user.id)
    if user.id == actor.id and (data.role != user.role or not data.is_active):
        raise InvalidInput(
            _("You cannot change your own role or deactivate yourself."), field="role"
        )
    old_email = user.email
    if data.email != old_email and user.password_hash is not None and actor.role != Role.admin:
        # A new address and then "forgot my password" would be the account: only an administrator
        # moves an account that is in use (a coordinator may correct an invitee's address).
        raise InvalidInput(
            _("Only an administrator can change the e-mail address of an account that is in use."),
            field="email",
        )
    user.sqlmodel_update(data.model_dump())
    db.add(user)
    if user.email != old_email:
        # Links sent to the old address stop working; the old address hears of the change (the
        # owner, if it was not them), and the user's inbox keeps who moved the account where and when.
        db.exec(delete(AccountToken).where(col(AccountToken.user_id) == user.id))
        subject, body = emails.email_changed(user, old_email, actor)
        notifications.queue_email(db, to=old_email, subject=subject, body=body, now=now)
        notifications.notify(
            db, user, kind="email_changed", subject=subject, body=body, now=now, base_url="", email=False
        )
    if not user.is_active:
        end_all_sessions(db, user)
    db.commit()
    db.refresh(user)
    return user


def ensure_admin(db: Session, *, email: str, name: str, password: str) -> tuple[User, bool]:
    """The admin with this e-mail, created if missing or given this password (idempotent)."""
    email = email.strip().lower()
    user = db.exec(select(User).where(User.email == email)).first()
    created = user is None
    if user is None:
        user = User(email=email, name=name, role=Role.admin)
    elif user.role != Role.admin:
        raise InvalidInput(_("A user with this e-mail address already exists."), field="email")
    check_new_password(password, email=email, name=name, field="password")
    user.password_hash = secrets.hash_password(password)
    user.is_active = True
    db.add(user)
    db.commit()
    db.refresh(user)
    return user, created
