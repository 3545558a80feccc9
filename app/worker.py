"""The worker (`python -m app worker`): sends the outbox's e-mail and runs the booking jobs, the
expiry sweep and the reminders. Production runs it as its own process beside the web server; more
than one may run."""

import logging
import time
from collections.abc import Callable
from datetime import datetime

from sqlalchemy import Engine
from sqlmodel import Session

from app.access_requests import service as access_requests
from app.accounts import service as accounts
from app.barometer import service as barometer
from app.bookings import allocation, expert, reminders
from app.bookings.notices import booking_calendar, tell_about_new_bookings
from app.bookings.service import expire_holds
from app.config import Settings
from app.db import utcnow
from app.evaluations import service as evaluations
from app.mentors import privacy as mentor_privacy
from app.mentors import reminders as mentor_reminders
from app.mentors.hours import complete_past_shifts
from app.notifications.service import send_outbox

log = logging.getLogger(__name__)


def run_once(engine: Engine, settings: Settings, *, now: datetime) -> dict[str, int]:
    """One pass of every job; returns what each did. Jobs come before the outbox so what they
    write goes out in the same pass."""
    jobs: dict[str, Callable[[Session], int]] = {
        "told": lambda db: tell_about_new_bookings(db, now=now),
        "allocated": lambda db: allocation.allocate_due_rounds(db, now=now),
        "expired": lambda db: expire_holds(db, now=now),
        "proposals_passed": lambda db: expert.close_passed_proposals(db, now=now),
        "approval_reminders": lambda db: reminders.remind_coordinators(db, now=now),
        "activity_reminders": lambda db: reminders.remind_teachers(db, now=now),
        "completed": lambda db: reminders.complete_and_ask_for_evaluation(db, now=now, settings=settings),
        "evaluation_reminders": lambda db: evaluations.remind_unanswered(db, now=now, settings=settings),
        "forgotten": lambda db: accounts.forget_old_attempts(db, now=now),
        "access_requests_forgotten": lambda db: access_requests.forget_old_requests(db, now=now),
        "shifts_completed": lambda db: complete_past_shifts(db, now=now),
        "shift_reminders": lambda db: mentor_reminders.remind_mentors(db, now=now),
        "mentors_short": lambda db: mentor_reminders.alert_short_dates(db, now=now, settings=settings),
        "mentors_anonymised": lambda db: mentor_privacy.anonymise_inactive(db, now=now, settings=settings),
        "barometer_refreshed": lambda db: barometer.refresh_stale(
            db, now=now, max_age_minutes=settings.barometer_max_age_minutes
        ),
        "sent": lambda db: send_outbox(db, settings, now=now, attachment=booking_calendar),
    }
    done = {}
    for name, job in jobs.items():
        with Session(engine) as db:
            try:
                done[name] = job(db)
            except Exception:  # one failing job must not stop the others or the worker
                log.exception("Worker job %s failed", name)
                done[name] = 0
    return done


def run_forever(engine: Engine, settings: Settings, *, interval: float) -> None:
    log.info("Worker started; a pass every %s seconds", interval)
    while True:
        done = run_once(engine, settings, now=utcnow())
        if any(done.values()):
            log.info("Worker pass: %s", done)
        time.sleep(interval)
