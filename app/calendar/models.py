"""Tables of the calendar domain."""

from datetime import datetime

from sqlalchemy import Column, ForeignKey, Integer, String
from sqlmodel import Field, SQLModel

from app.db import UTCDateTime, utcnow


class CalendarFeed(SQLModel, table=True):
    """A user's subscribable calendar feed. Its address holds a random token; only the token's
    SHA-256 is stored, so a leaked table does not open anybody's calendar. The address is shown
    once, when it is made; a user who has lost it makes a new one, which revokes the old."""

    __tablename__ = "calendar_feeds"

    token_hash: str = Field(sa_type=String(64), primary_key=True)
    # One feed per user: making a new address replaces the old one.
    user_id: int = Field(
        sa_column=Column(
            Integer, ForeignKey("users.id", ondelete="CASCADE"), nullable=False, unique=True
        )
    )
    # The calendar's filters when the feed was made (e.g. "grade=8&theme=ict"), so the feed shows
    # what the calendar showed then.
    query: str = Field(default="", sa_type=String(1000))
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime())
