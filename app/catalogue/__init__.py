"""Catalogue: offers of every type, their sessions, resources, blackout dates and the shared calendar."""
