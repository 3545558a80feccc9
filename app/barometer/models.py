"""The STEM barometer's own tables: figures computed from the bookings and kept for the public page
(`as_of` says when), the coordinators' targets, national statistics they import, and the
council's reports."""

from datetime import date, datetime

from sqlalchemy import (
    CheckConstraint,
    Column,
    Date,
    ForeignKey,
    Integer,
    String,
    Text,
    UniqueConstraint,
)
from sqlmodel import Field, SQLModel

from app.db import UTCDateTime


class BarometerFigures(SQLModel, table=True):
    """The figures of one year (or school year) under one choice of filters, as JSON, with when
    they were computed: the public page and the API read these, `refresh-barometer` rewrites them."""

    __tablename__ = "barometer_figures"

    # The period and the filters, as the API's query string puts them in a canonical order.
    key: str = Field(sa_type=String(300), primary_key=True)
    figures: str = Field(sa_type=Text())
    computed_at: datetime = Field(sa_type=UTCDateTime())
    # When a reader last asked for them (noted at most once an hour): the worker keeps figures
    # read lately fresh and drops the others.
    read_at: datetime | None = Field(default=None, sa_type=UTCDateTime())


class Target(SQLModel, table=True):
    """A yearly target for one indicator, region-wide (no municipality) or for one municipality."""

    __tablename__ = "barometer_targets"
    __table_args__ = (UniqueConstraint("indicator", "year", "municipality", name="one_per_indicator"),)

    id: int | None = Field(default=None, primary_key=True)
    indicator: str = Field(sa_type=String(60))
    year: int
    municipality: str | None = Field(default=None, sa_type=String(40))
    value: float
    note: str = Field(default="", sa_type=String(300))
    set_by_id: int | None = Field(
        default=None, sa_column=Column(Integer, ForeignKey("users.id", ondelete="SET NULL"))
    )
    set_at: datetime = Field(sa_type=UTCDateTime())


class NationalFigure(SQLModel, table=True):
    """A yearly figure from national statistics for a municipality (e.g. the share of young people
    starting a STEM education), imported from a CSV by a coordinator."""

    __tablename__ = "barometer_national_figures"
    __table_args__ = (UniqueConstraint("indicator", "year", "municipality", name="one_per_municipality"),)

    id: int | None = Field(default=None, primary_key=True)
    indicator: str = Field(sa_type=String(60))
    year: int
    municipality: str = Field(sa_type=String(40))
    value: float
    source: str = Field(default="", sa_type=String(300))
    imported_at: datetime = Field(sa_type=UTCDateTime())


class CouncilReport(SQLModel, table=True):
    """The council's report for a period: the figures of the period, and the sections the
    coordinators write."""

    __tablename__ = "barometer_reports"
    __table_args__ = (CheckConstraint("period_end >= period_start", name="period"),)

    id: int | None = Field(default=None, primary_key=True)
    title: str = Field(sa_type=String(200))
    period_start: date = Field(sa_column=Column(Date, nullable=False))
    period_end: date = Field(sa_column=Column(Date, nullable=False))
    # Markdown sections, as JSON: [{"heading": ..., "text": ...}].
    sections: str = Field(default="[]", sa_type=Text())
    created_by_id: int | None = Field(
        default=None, sa_column=Column(Integer, ForeignKey("users.id", ondelete="SET NULL"))
    )
    created_at: datetime = Field(sa_type=UTCDateTime())
    updated_at: datetime = Field(sa_type=UTCDateTime())
