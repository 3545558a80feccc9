"""Scheduled messages about shifts, sent by the worker: each mentor is reminded of a shift a week
and a day before (inbox and e-mail with the shift's calendar file), and a mentoring date still
short of mentors `mentor_shortage_days` before it begins alerts its provider and the coordinators.
Each message is claimed before it is written (a reminder's time on the shift, an alert's row), so
it goes out once even when two workers run."""

from datetime import datetime, timedelta

from sqlalchemy import update
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, or_, select

from app.accounts.models import Role, User
from app.calendar.booking_files import session_file
from app.catalogue.models import Offer, OfferSession
from app.config import Settings, get_settings
from app.i18n import _, language, local_datetime
from app.mentors.models import MentorShortageAlert, Shift, ShiftStatus
from app.mentors.shifts import short_of_mentors
from app.notifications.service import notify

WEEK, DAY = timedelta(days=7), timedelta(days=1)


def remind_mentors(db: Session, *, now: datetime) -> int:
    """A week before a shift, and a day before: one reminder each (a shift taken later than a
    week before gets only the day's, when it is due)."""
    settings = get_settings()
    due = db.exec(
        select(Shift, OfferSession, Offer, User)
        .join(OfferSession, OfferSession.id == Shift.session_id)
        .join(Offer, Offer.id == OfferSession.offer_id)
        .join(User, User.id == Shift.mentor_id)
        .where(
            Shift.status == ShiftStatus.signed_up,
            col(OfferSession.cancelled_at).is_(None),
            OfferSession.starts_at > now,
            or_(
                (OfferSession.starts_at <= now + WEEK) & col(Shift.reminded_week_at).is_(None),
                (OfferSession.starts_at <= now + DAY) & col(Shift.reminded_day_at).is_(None),
            ),
        )
        .order_by(col(Shift.id))
    ).all()
    sent = 0
    for shift, session, offer, mentor in due:
        day = session.starts_at <= now + DAY
        # Claimed by the UPDATE that marks it sent: another worker's finds it marked. The day's
        # reminder marks the week's too, so a late sign-up is not reminded twice.
        mark = {"reminded_day_at": now, "reminded_week_at": now} if day else {"reminded_week_at": now}
        unsent = col(Shift.reminded_day_at if day else Shift.reminded_week_at).is_(None)
        if db.exec(update(Shift).where(Shift.id == shift.id, unsent).values(mark)).rowcount != 1:
            continue
        calendar = session_file(db, session, organizer=settings.mail_from, base_url=settings.base_url, now=now)
        with language(mentor.language):
            facts = {"title": offer.title, "when": local_datetime(session.starts_at, "full")}
            notify(
                db,
                mentor,
                kind="shift_reminder",
                subject=(_("Tomorrow: %(title)s") if day else _("In a week: %(title)s")) % facts,
                body=_(
                    "You are a mentor at %(title)s on %(when)s. The shift's page has the school, the address "
                    "and the teacher's phone number. Remember: the teacher stays with the class the whole time."
                )
                % facts,
                link=f"/mentor/shifts/{session.id}",
                now=now,
                base_url=settings.base_url,
                calendar=calendar,
            )
        sent += 1
    db.commit()
    return sent


def alert_short_dates(db: Session, *, now: datetime, settings: Settings) -> int:
    """Tell the provider's staff and the coordinators (the offer's municipality's, or the region's
    where it has none) of each date still short of mentors `mentor_shortage_days` before it."""
    alerted = 0
    coordinators = db.exec(select(User).where(User.role == Role.coordinator, User.is_active)).all()
    for session, offer, signed in short_of_mentors(db, now=now, within=timedelta(days=settings.mentor_shortage_days)):
        try:
            with db.begin_nested():
                db.add(MentorShortageAlert(session_id=session.id, alerted_at=now))
        except IntegrityError:
            continue  # told already
        staff = db.exec(
            select(User).where(User.organisation_id == offer.provider_id, User.role == Role.provider, User.is_active)
        ).all()
        local = [c for c in coordinators if c.municipality == offer.municipality]
        regional = [c for c in coordinators if c.municipality is None]
        for user in [*staff, *(local or regional)]:
            with language(user.language):
                facts = {
                    "title": offer.title,
                    "when": local_datetime(session.starts_at, "medium"),
                    "signed": signed,
                    "needed": session.mentors_min,
                }
                notify(
                    db,
                    user,
                    kind="mentors_short",
                    subject=_("Mentors missing: %(title)s, %(when)s") % facts,
                    body=_("%(title)s on %(when)s has %(signed)d of the %(needed)d mentors it needs.") % facts,
                    link=f"/provider/sessions/{session.id}/mentors" if user.role == Role.provider else "/mentors",
                    now=now,
                    base_url=settings.base_url,
                )
        alerted += 1
    db.commit()
    return alerted
