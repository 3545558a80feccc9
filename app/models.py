"""Every table of every domain, imported in one place for Alembic and the tests."""

from app.accounts.models import AccountToken, AuthSession, LoginAttempt, Organisation, User

__all__ = ["AccountToken", "AuthSession", "LoginAttempt", "Organisation", "User"]
