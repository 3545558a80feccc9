"""Moves the clock of every Python process of a test run to another day, when TEST_TODAY=YYYY-MM-DD
is set (scripts/test does, to prove the suite does not depend on the day it runs): the tests, the
servers they start and their workers all see that day at the present time of day, so they agree on
"now". Imported at start-up because tests/conftest.py puts this folder on PYTHONPATH."""

import os
from datetime import UTC, date, datetime

if today := os.environ.get("TEST_TODAY"):
    import time_machine

    now = datetime.now(UTC)
    shift = date.fromisoformat(today) - now.date()
    time_machine.travel(now + shift, tick=True).start()
    # The travelled clock starts ticking when first read: read it now, not when a slow start-up
    # (uvicorn's imports) first asks, which would leave this process's clock behind the others'.
    datetime.now(UTC)
