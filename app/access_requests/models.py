"""Tables of access requests: a teacher or company employee asking for an account at an existing
organisation, or a new company registering itself as a provider."""

from datetime import datetime
from enum import StrEnum

from sqlalchemy import CheckConstraint, Index, String, Text
from sqlmodel import Field, SQLModel

from app.accounts.models import Role
from app.db import StrEnumType, UTCDateTime, one_of


class AccessRequestKind(StrEnum):
    account = "account"  # an account at an organisation the portal knows
    new_provider = "new_provider"  # a company that is not on the portal yet


class AccessRequestStatus(StrEnum):
    unverified = "unverified"  # the e-mailed link has not been followed yet
    waiting = "waiting"  # the address is proved; an approver decides
    approved = "approved"
    declined = "declined"
    # Nothing to decide: the address already had an account or an open request when it was sent.
    # Kept so that the limits count it like any other request.
    void = "void"


OPEN_STATUSES = (AccessRequestStatus.unverified, AccessRequestStatus.waiting)


class AccessRequest(SQLModel, table=True):
    __tablename__ = "access_requests"
    __table_args__ = (
        CheckConstraint(one_of("kind", AccessRequestKind), name="kind"),
        CheckConstraint(one_of("status", AccessRequestStatus), name="status"),
        CheckConstraint("role IN ('teacher', 'provider')", name="role"),
        CheckConstraint(
            "(kind = 'account' AND organisation_id IS NOT NULL) OR (kind = 'new_provider' AND cvr IS NOT NULL)",
            name="kind_details",
        ),
        Index("ix_access_requests_email_created_at", "email", "created_at"),
        Index("ix_access_requests_client_created_at", "client", "created_at"),
        Index("ix_access_requests_status_organisation_id", "status", "organisation_id"),
    )

    id: int | None = Field(default=None, primary_key=True)
    kind: AccessRequestKind = Field(sa_type=StrEnumType(AccessRequestKind, 20))
    status: AccessRequestStatus = Field(sa_type=StrEnumType(AccessRequestStatus, 20))
    # The person asking; lower-cased like users.email.
    name: str = Field(sa_type=String(200))
    email: str = Field(sa_type=String(254))
    phone: str = Field(default="", sa_type=String(30))
    # What the account will be: a teacher at a school, a provider user at a provider.
    role: Role = Field(sa_type=StrEnumType(Role))
    # An account request's organisation; a new provider's once it is approved.
    organisation_id: int | None = Field(default=None, foreign_key="organisations.id", ondelete="CASCADE")
    message: str = Field(default="", sa_type=Text())
    # A new provider's company.
    company_name: str = Field(default="", sa_type=String(200))
    cvr: str | None = Field(default=None, sa_type=String(8), index=True)
    address: str = Field(default="", sa_type=String(300))
    municipality: str = Field(default="", sa_type=String(40))
    # The language of the page it was sent from: every e-mail about it is written in it.
    language: str = Field(default="da", sa_type=String(5))
    # The client address it came from, for the limits (personal data: see `forget_old_requests`).
    client: str = Field(default="", sa_type=String(64))
    # The e-mailed link that proves the address: only its hash is kept.
    verify_token_hash: str | None = Field(default=None, sa_type=String(64), unique=True)
    verify_expires_at: datetime | None = Field(default=None, sa_type=UTCDateTime())
    verified_at: datetime | None = Field(default=None, sa_type=UTCDateTime())
    created_at: datetime = Field(sa_type=UTCDateTime())
    decided_at: datetime | None = Field(default=None, sa_type=UTCDateTime())
    decided_by_id: int | None = Field(default=None, foreign_key="users.id", ondelete="SET NULL")
    decline_reason: str = Field(default="", sa_type=Text())
    # The account made on approval.
    user_id: int | None = Field(default=None, foreign_key="users.id", ondelete="SET NULL")
