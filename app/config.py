"""Settings read from the environment (and an optional .env file), one object for the whole app."""

from functools import lru_cache
from typing import Literal, Self

from pydantic import Field, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

DEVELOPMENT_SECRET_KEY = "development-only-not-secret"


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_file=".env", extra="ignore")

    environment: Literal["development", "test", "production"] = "development"
    database_url: str = "sqlite:///./stem-portal.db"
    # PostgreSQL connections each process keeps open (all it will use; see db.make_engine).
    database_pool_size: int = Field(default=10, ge=1)
    # Absolute address of the portal, used in links that leave it (e-mails, calendar feeds).
    base_url: str = "http://127.0.0.1:8000"
    # Signs the pages' CSRF tokens (app.web.csrf); the same in every process of one portal.
    secret_key: str = DEVELOPMENT_SECRET_KEY

    # Without an SMTP host, mail is written to the log (development).
    smtp_host: str | None = None
    smtp_port: int = 25
    smtp_username: str | None = None
    smtp_password: str | None = None
    smtp_starttls: bool = False
    mail_from: str = "STEM-portalen <noreply@stem.rm.dk>"
    # Where people write to the portal's secretariat: the footer, privacy and accessibility pages.
    contact_email: str = "stem@rm.dk"

    session_days: int = Field(default=14, ge=1)
    api_token_days: int = Field(default=30, ge=1)
    password_reset_hours: int = Field(default=2, ge=1)
    invitation_days: int = Field(default=14, ge=1)
    # How long a new mentor's link to verify their e-mail address, and the link that asks a
    # minor mentor's guardian for consent, work.
    verify_email_days: int = Field(default=7, ge=1)
    guardian_consent_days: int = Field(default=14, ge=1)
    # Failed log-ins a day per e-mail address and client (ten times that per client) before each
    # further try waits, a minute and doubling, at most login_window_minutes (accounts.service).
    login_max_failures: int = Field(default=5, ge=1)
    login_window_minutes: int = Field(default=15, ge=1)

    # Youth-to-youth mentors: the least age, and the age below which a guardian must consent.
    mentor_min_age: int = Field(default=15, ge=10, le=30)
    mentor_consent_age: int = Field(default=18, ge=10, le=30)
    # A mentor leaves a shift without a reason until this many hours before the date begins.
    shift_leave_hours: int = Field(default=72, ge=0, le=24 * 60)
    # A mentoring date still short of mentors this many days before it begins alerts its
    # provider and the coordinators (the worker).
    mentor_shortage_days: int = Field(default=14, ge=1, le=365)

    # How long the e-mailed link to an evaluation's form works (a reminder goes out after a week).
    evaluation_link_days: int = Field(default=30, ge=8, le=365)

    # How old the barometer's figures of a running year may grow: the worker recounts the figures
    # read lately when they are half this old, and readers are served what is stored
    # (barometer.service).
    barometer_max_age_minutes: int = Field(default=15, ge=0, le=24 * 60)

    # Test only (ignored elsewhere): book without the locks, so the race tests can show that they
    # catch an overbooking when the locks are missing.
    test_without_booking_locks: bool = False

    @model_validator(mode="after")
    def a_real_secret_in_production(self) -> Self:
        if self.environment == "production" and (
            self.secret_key == DEVELOPMENT_SECRET_KEY or len(self.secret_key) < 32
        ):
            raise ValueError(
                "SECRET_KEY must be set in production: at least 32 random characters, e.g. "
                "python -c 'import secrets; print(secrets.token_urlsafe(32))'"
            )
        return self

    @property
    def booking_locks(self) -> bool:
        return not (self.environment == "test" and self.test_without_booking_locks)

    @property
    def is_production(self) -> bool:
        return self.environment == "production"

    @property
    def mail_to_log(self) -> bool:
        return not self.smtp_host


@lru_cache
def get_settings() -> Settings:
    return Settings()
