"""The shared calendar: month, week and agenda views of sessions, and per-user calendar feeds."""
