"""Bookings: capacity that never overbooks, approvals, waiting lists and cancellations."""
