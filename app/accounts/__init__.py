"""Accounts: organisations, users, roles, log-in sessions and one-time links."""
