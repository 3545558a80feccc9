"""Tables of the accounts domain."""

from datetime import datetime
from enum import StrEnum

from sqlalchemy import CheckConstraint, Index, String
from sqlmodel import Field, SQLModel

from app.db import StrEnumType, UTCDateTime, one_of, utcnow


class OrganisationKind(StrEnum):
    school = "school"
    provider = "provider"


class SchoolLevel(StrEnum):
    primary = "primary"  # grundskole, grades 0-10
    upper_secondary = "upper_secondary"  # gymnasium and vocational


class ProviderKind(StrEnum):
    company = "company"
    science_centre = "science_centre"
    university = "university"
    college = "college"


class Role(StrEnum):
    teacher = "teacher"
    provider = "provider"
    mentor = "mentor"
    coordinator = "coordinator"
    admin = "admin"


STAFF_ROLES = (Role.coordinator, Role.admin)  # they run the portal


class TokenPurpose(StrEnum):
    password_reset = "password_reset"
    invitation = "invitation"
    verify_email = "verify_email"  # a new mentor proves their address
    guardian_consent = "guardian_consent"  # sent to a minor mentor's parent or guardian


class SessionKind(StrEnum):
    web = "web"
    api = "api"



class Organisation(SQLModel, table=True):
    __tablename__ = "organisations"
    __table_args__ = (
        CheckConstraint(one_of("kind", OrganisationKind), name="kind"),
        CheckConstraint(
            "(kind = 'school' AND school_level IS NOT NULL AND provider_kind IS NULL) OR "
            "(kind = 'provider' AND provider_kind IS NOT NULL AND school_level IS NULL)",
            name="kind_details",
        ),
    )

    id: int | None = Field(default=None, primary_key=True)
    name: str = Field(sa_type=String(200))
    kind: OrganisationKind = Field(sa_type=StrEnumType(OrganisationKind), index=True)
    municipality: str = Field(sa_type=String(40), index=True)
    school_level: SchoolLevel | None = Field(default=None, sa_type=StrEnumType(SchoolLevel))
    provider_kind: ProviderKind | None = Field(default=None, sa_type=StrEnumType(ProviderKind))
    address: str = Field(default="", sa_type=String(300))
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime())


class User(SQLModel, table=True):
    __tablename__ = "users"
    __table_args__ = (
        CheckConstraint(one_of("role", Role), name="role"),
        # Teachers and providers act for exactly one organisation; coordinators and admins for none.
        CheckConstraint(
            "(role IN ('teacher', 'provider') AND organisation_id IS NOT NULL) OR "
            "(role IN ('coordinator', 'admin') AND organisation_id IS NULL) OR role = 'mentor'",
            name="role_organisation",
        ),
        CheckConstraint(
            "municipality IS NULL OR role = 'coordinator'", name="municipality_only_coordinators"
        ),
    )

    id: int | None = Field(default=None, primary_key=True)
    # Stored lower-cased so that log-in and uniqueness ignore case.
    email: str = Field(sa_type=String(254), unique=True)
    name: str = Field(sa_type=String(200))
    phone: str = Field(default="", sa_type=String(30))
    role: Role = Field(sa_type=StrEnumType(Role))
    organisation_id: int | None = Field(default=None, foreign_key="organisations.id", index=True)
    # A coordinator's municipality; none means the whole region.
    municipality: str | None = Field(default=None, sa_type=String(40))
    # None until an invited user has chosen a password.
    password_hash: str | None = Field(default=None, sa_type=String(200))
    is_active: bool = True
    language: str = Field(default="da", sa_type=String(5))
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime())
    # The last log-in: mentors' accounts unused for two school years are anonymised.
    last_login_at: datetime | None = Field(default=None, sa_type=UTCDateTime())

    @property
    def is_staff(self) -> bool:
        """Coordinators and admins run the portal."""
        return self.role in STAFF_ROLES

    @property
    def may_be_invited(self) -> bool:
        """Only an account without a password: an invitation lets its holder choose one."""
        return self.password_hash is None

    @property
    def is_regional_staff(self) -> bool:
        """Admins and the coordinators of the whole region (the secretariat): staff whom no
        municipality bounds."""
        return self.role == Role.admin or (self.role == Role.coordinator and self.municipality is None)


class AuthSession(SQLModel, table=True):
    """A logged-in browser or an API token. Only a hash of the secret is stored."""

    __tablename__ = "auth_sessions"
    __table_args__ = (CheckConstraint(one_of("kind", SessionKind), name="kind"),)

    token_hash: str = Field(sa_type=String(64), primary_key=True)
    user_id: int = Field(foreign_key="users.id", index=True, ondelete="CASCADE")
    kind: SessionKind = Field(sa_type=StrEnumType(SessionKind, 10))
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime())
    expires_at: datetime = Field(sa_type=UTCDateTime())


class AccountToken(SQLModel, table=True):
    """A one-time link sent by e-mail: an invitation or a password reset."""

    __tablename__ = "account_tokens"
    __table_args__ = (CheckConstraint(one_of("purpose", TokenPurpose), name="purpose"),)

    token_hash: str = Field(sa_type=String(64), primary_key=True)
    user_id: int = Field(foreign_key="users.id", index=True, ondelete="CASCADE")
    purpose: TokenPurpose = Field(sa_type=StrEnumType(TokenPurpose))
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime())
    expires_at: datetime = Field(sa_type=UTCDateTime())
    used_at: datetime | None = Field(default=None, sa_type=UTCDateTime())


class LoginAttempt(SQLModel, table=True):
    """Failed log-ins, counted to slow down password guessing across all app processes; and each
    client's last successful log-in per address, which lets a known user in from a client (a
    school's shared address) that others' failures have slowed down."""

    __tablename__ = "login_attempts"
    __table_args__ = (
        Index("ix_login_attempts_email_attempted_at", "email", "attempted_at"),
        Index("ix_login_attempts_client_attempted_at", "client", "attempted_at"),
    )

    id: int | None = Field(default=None, primary_key=True)
    email: str = Field(sa_type=String(254))
    client: str = Field(sa_type=String(64))
    attempted_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime())
    succeeded: bool = False


class PasswordResetRequest(SQLModel, table=True):
    """Every request for a reset link, for a known address or not (so both do the same work and
    take the same time), counted to limit how often one address is mailed and one client asks."""

    __tablename__ = "password_reset_requests"
    __table_args__ = (
        Index("ix_password_reset_requests_email_requested_at", "email", "requested_at"),
        Index("ix_password_reset_requests_client_requested_at", "client", "requested_at"),
    )

    id: int | None = Field(default=None, primary_key=True)
    email: str = Field(sa_type=String(254))
    client: str = Field(sa_type=String(64))
    requested_at: datetime = Field(sa_type=UTCDateTime())
