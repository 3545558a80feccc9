"""Notifications: e-mail now; in-portal messages and calendar files as the portal grows."""
